// Shared pieces of the screens: the page context, verdict marks, and raw-line blocks.
import type { AnalyzeReport } from '../../../analyses/report.js';
import type { Frame } from '../keys.js';
import type { LineStore } from '../lines.js';
import type { TuiModel } from '../model.js';
import type { Verdict } from '../relations.js';
import { type Color, type Line, type Seg, sanitize, seg, shortFile, wrap } from '../text.js';

export interface PageCtx {
  report: AnalyzeReport;
  model: TuiModel;
  lines: LineStore;
  width: number;
  /** Rows available between the tab bar and the status line. */
  height: number;
  frame: Frame;
}

/** The marks of the analyze text report (cli/render-luo.ts), so both read the same. */
const memos = new WeakMap<object, Map<string, unknown>>();

/** A value computed once per report (screens are rebuilt on every key; a report can be large). */
export function memo<T>(report: AnalyzeReport, key: string, fn: () => T): T {
  let m = memos.get(report);
  if (!m) memos.set(report, (m = new Map()));
  if (!m.has(key)) m.set(key, fn());
  return m.get(key) as T;
}

export function verdictMark(v: Verdict): Seg {
  if (v.status === 'inconclusive') return seg('?', { color: 'yellow', bold: true });
  if (v.status === 'n/a') return seg('–', { color: 'gray' });
  if (!v.ok) return seg('✘', { color: 'red', bold: true });
  if (v.severity === 'warning') return seg('!', { color: 'yellow', bold: true });
  if (v.severity === 'info' && v.id !== 'modules-unpinned-after-finish' && v.id !== 'refcounts-balanced') return seg('·', { color: 'gray' });
  return seg('✔', { color: 'green' });
}

/** Failures first, then warnings; otherwise the report's own order. */
export function verdictsInOrder(r: AnalyzeReport): Verdict[] {
  const rank = (v: Verdict) => (!v.ok ? 0 : v.severity === 'warning' ? 1 : 2);
  return r.verdicts.map((v, i) => ({ v, i })).sort((a, b) => rank(a.v) - rank(b.v) || a.i - b.i).map((x) => x.v);
}

/** The raw text of a line, or what stands in for it. */
export function rawText(lines: LineStore, file: string, line: number): { text: string; ok: boolean } {
  const t = lines.get(file, line);
  if (t === undefined) return { text: '… reading', ok: false };
  if (t === null) {
    const why = lines.unavailable(file);
    if (why) return { text: `(raw line not available: ${why})`, ok: false };
    const first = lines.firstLine(file);
    return { text: line < first ? `(dropped: only lines ${first}.. are kept)` : '(no such line)', ok: false };
  }
  return { text: sanitize(t), ok: true };
}

/** `label file:line` and the raw line itself, wrapped, exactly as it is in the file. */
export function proofBlock(ctx: PageCtx, label: string, file: string, line: number, maxLines: number, color: Color = 'cyan'): Line[] {
  if (maxLines <= 0) return [];
  const out: Line[] = [[seg(label, { bold: true }), seg(`  ${shortFile(file)}:${line}`, { color: 'gray' })]];
  const raw = rawText(ctx.lines, file, line);
  for (const w of wrap(raw.text, ctx.width - 2, Math.max(1, maxLines - 1))) out.push([seg('  '), seg(w, raw.ok ? { color } : { dim: true })]);
  return out.slice(0, maxLines);
}

/** Raw lines around `line` with the line itself marked: the context a reader checks a claim in. */
export function contextBlock(ctx: PageCtx, file: string, line: number, before: number, after: number): Line[] {
  const out: Line[] = [];
  const from = Math.max(ctx.lines.firstLine(file), line - before);
  ctx.lines.request(file, from, line + after);
  const w = String(line + after).length;
  for (let n = from; n <= line + after; n++) {
    const t = ctx.lines.get(file, n);
    if (t === null && n > line) break;
    const text = t === undefined ? '…' : t === null ? '' : sanitize(t);
    const mark = n === line;
    out.push([seg(mark ? '▶' : ' ', { color: 'yellow', bold: true }), seg(`${String(n).padStart(w)}│`, { color: 'gray' }), seg(text, mark ? { bold: true } : { dim: true })]);
  }
  return out;
}

export function blank(): Line {
  return [seg('')];
}

export function heading(text: string, extra = ''): Line {
  return [seg(text, { bold: true }), seg(extra ? `  ${extra}` : '', { color: 'gray' })];
}
