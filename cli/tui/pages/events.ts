// Screen 5, Events: the raw lines of one input file, as a virtual list (only the rows on screen are
// read, see lines.ts), with `/` search, `:` jump to a line, `[` `]` to change file, ←→ to scroll
// long lines. The selected line is shown in full below the list, with what the report says about
// it; Enter opens that object (a pin window, a session, a verdict).
import { lineRefsAt } from '../relations.js';
import { fmtCount, type Line, sanitize, seg, shortFile, wrap } from '../text.js';
import type { Page, Row, View, VirtualRows } from '../views.js';
import { blank, type PageCtx, rawText } from './common.js';

/** Needs no report: while the inputs load, it shows the lines read so far (no line is cited yet). */
export function eventsPage(ctx: Omit<PageCtx, 'report'>, view: Extract<View, { kind: 'events' }>): Page {
  const files = ctx.model.files;
  const file = view.file ?? files[0];
  const store = ctx.lines;
  const why = store.unavailable(file);
  const fileNo = Math.max(0, files.indexOf(file)) + 1;
  const first = store.firstLine(file);
  const last = store.lastLine(file);
  const filter = ctx.frame.filter;
  const refs = ctx.model.refs();
  const numWidth = Math.max(4, String(last ?? 0).length);
  const hscroll = ctx.frame.hscroll;

  const lineRow = (n: number, filtered: boolean): Row => {
    const t = store.get(file, n);
    const text = t === undefined ? '…' : t === null ? '' : sanitize(t).slice(hscroll);
    const marked = view.mark === n;
    const here = lineRefsAt(refs, file, n);
    const open: View | null = filtered ? { kind: 'events', file, line: n, mark: n } : (here[0]?.view ?? null);
    return {
      key: `line ${file}:${n}`,
      lineNo: n,
      line: [
        seg(String(n).padStart(numWidth), { color: marked ? 'yellow' : 'gray', bold: marked }),
        seg(here.length ? '◆' : '│', { color: here.length ? 'magenta' : 'gray' }),
        seg(text, marked ? { color: 'yellow', bold: true } : t === undefined ? { dim: true } : {}),
      ],
      open,
    };
  };

  const where = `file ${fileNo}/${files.length} ${shortFile(file)}`;
  const top: Line[] = [];
  let rows: VirtualRows;
  let searchNote = '';
  if (!filter) {
    const count = last === null ? 0 : Math.max(0, last - first + 1);
    rows = { count, get: (i) => lineRow(first + i, false) };
    if (count > 0) store.request(file, first, first + 1);
  } else {
    const found = ctx.model.search(file, filter);
    const matches = found.matches;
    rows = { count: matches.length, get: (i) => lineRow(matches[i], true) };
    searchNote = `/${filter}: ${fmtCount(matches.length)} match${matches.length === 1 ? '' : 'es'}${found.capped ? ' (first ones only)' : ''}${found.done ? '' : ', searching…'} · Enter shows a match in context · Esc clears`;
  }
  const lineInfo = last === null ? 'line count not known yet' : store.live ? `lines ${fmtCount(first)}–${fmtCount(last)}${first > 1 ? ` (${fmtCount(first - 1)} older dropped)` : ''}` : `${fmtCount(last)} lines`;
  top.push([seg(where, { bold: true }), seg(`  ${lineInfo}`, { color: 'gray' })]);
  if (why) top.push([seg(`raw lines cannot be shown: ${why}`, { color: 'red' })]);
  top.push([seg(searchNote || `${files.length > 1 ? '[ ] other file · ' : ''}: go to line · / search · ←→ scroll · ◆ = the report cites this line (Enter)`, { color: 'gray' })]);

  const initialCursor = !filter && view.line !== undefined ? Math.max(0, Math.min(rows.count - 1, view.line - first)) : undefined;
  return {
    title: `${shortFile(file)}${view.mark !== undefined ? `:${view.mark}` : ''}`,
    top,
    rows,
    ownFilter: true,
    filterOnSubmit: true,
    initialCursor,
    firstLine: filter ? undefined : first,
    empty: filter ? 'no matching lines' : why ? 'no lines to show' : store.live ? 'waiting for lines…' : 'reading…',
    bottomWants: 5,
    bottom: (sel, budget) => {
      if (!sel || sel.lineNo === undefined || budget < 3) return [];
      const n = sel.lineNo;
      const raw = rawText(store, file, n);
      const here = lineRefsAt(refs, file, n);
      const out: Line[] = [blank()];
      const textRows = Math.max(1, Math.min(3, budget - 1 - Math.min(here.length, 2)));
      for (const w of wrap(`${n}: ${raw.text}`, ctx.width, textRows)) out.push([seg(w, raw.ok ? {} : { dim: true })]);
      for (const r of here.slice(0, Math.max(0, budget - out.length))) out.push([seg('◆ ', { color: 'magenta' }), seg(r.label, { color: 'magenta' })]);
      return out.slice(0, budget);
    },
  };
}
