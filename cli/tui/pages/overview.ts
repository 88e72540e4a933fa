// Screen 1, Overview: the verdicts (Enter drills into one), and a timeline of sessions and phases
// across boots. Also the verdict detail view: what the verdict is about and the raw lines proving it.
import { isPutMaybeLost, type OpenReason, openReasonOf, PUT_MAYBE_LOST, pinOwner } from '../../../analyses/luo/pin-kinds.js';
import { type PinWindowJson, type SessionJson, sessionTotals } from '../../../analyses/luo/schema.js';
import type { AnalyzeReport } from '../../../analyses/report.js';
import { extent, sparkline } from '../charts.js';
import { findPin, pinKey, relationsOf } from '../relations.js';
import { type Color, columns, fit, fmtDuration, type Line, padEnd, seg, shortFile, wrap } from '../text.js';
import { lazyRows, type Page, type Row } from '../views.js';
import { blank, memo, type PageCtx, proofBlock, verdictMark, verdictsInOrder } from './common.js';

export function overviewPage(ctx: PageCtx): Page {
  const r = ctx.report;
  const verdicts = verdictsInOrder(r);
  const idWidth = Math.min(30, Math.max(...verdicts.map((v) => v.id.length), 8));
  const rows: Row[] = verdicts.map((v) => ({
    key: v.id,
    line: [verdictMark(v), seg(' '), seg(padEnd(v.id, idWidth), { bold: !v.ok }), seg(' '), seg(v.message, v.ok ? {} : { color: 'red' })],
    search: `${v.id} ${v.message}`,
    open: { kind: 'verdict', id: v.id },
  }));
  const failed = r.verdicts.filter((v) => !v.ok).length;
  const summary: Line = [
    seg(`VERDICTS`, { bold: true }),
    seg(`  ${failed ? `${failed} failed · ` : ''}kernel model ${r.kernelModel.id ?? 'unknown'} · ${r.boots.length} boot${r.boots.length === 1 ? '' : 's'} · ${sessionTotals(r).total} session${sessionTotals(r).total === 1 ? '' : 's'} · ${r.modules.length} module entr${r.modules.length === 1 ? 'y' : 'ies'}`, { color: 'gray' }),
  ];
  return {
    title: 'Overview',
    top: [summary],
    rows,
    listMax: rows.length,
    empty: 'no verdicts',
    bottom: (_sel, budget) => (budget >= 4 ? [blank(), ...memo(r, `timeline ${ctx.width} ${budget}`, () => timeline(r, ctx.width, budget - 1))] : []),
    bottomWants: 14,
  };
}

const PHASE_LETTER: Record<string, string> = {
  create: 'c',
  preserve: 'p',
  unpreserve: 'u',
  freeze: 'z',
  deserialize: 'd',
  'retrieve-session': 's',
  retrieve: 'r',
  finish: 'f',
};
const LEGEND = 'c create  p preserve  z freeze  u unpreserve  d deserialize  s retrieve-session  r retrieve  f finish  K kexec  red: error';

interface Cell {
  ch: string;
  color?: Color;
  bold?: boolean;
}

interface BootAxis {
  id: number;
  title: string;
  t0: number;
  t1: number;
  width: number;
}

function cellsToLine(cells: Cell[]): Line {
  const out: Line = [];
  for (const c of cells) {
    const last = out[out.length - 1];
    if (last && last.color === c.color && last.bold === c.bold) last.text += c.ch;
    else out.push({ text: c.ch, color: c.color, bold: c.bold });
  }
  return out;
}

/**
 * Sessions and phases on one time axis per boot, boots side by side (each kernel has its own
 * clock), a session and its continuation after kexec on the same row.
 */
export function timeline(r: AnalyzeReport, width: number, budget: number): Line[] {
  const labelWidth = 14;
  const spans = new Map<number, number[]>();
  const note = (boot: number, t: number | null) => {
    if (t === null) return;
    const list = spans.get(boot) ?? [];
    list.push(t);
    spans.set(boot, list);
  };
  for (const s of r.sessions) {
    for (const p of s.phases) {
      note(s.boot, p.start);
      note(s.boot, p.end);
    }
  }
  // The listed liveupdate_reboot calls bound the span: a file's first ones and its last are listed
  // whatever the report's cap; those it only counts (globalPhasesOmitted) came between them.
  for (const b of r.boots) {
    for (const p of b.globalPhases) {
      if (p.func !== 'liveupdate_reboot') continue;
      note(b.id, p.start);
      note(b.id, p.end);
    }
  }
  const shown = r.boots.filter((b) => spans.has(b.id)).slice(0, 3);
  const out: Line[] = [];
  if (shown.length === 0) {
    out.push([seg('TIMELINE', { bold: true }), seg('  no session phases with timestamps in these inputs', { color: 'gray' })]);
    return out;
  }
  const area = width - labelWidth;
  const bw = Math.max(8, Math.floor((area - 3 * (shown.length - 1)) / shown.length));
  const axes: BootAxis[] = shown.map((b) => {
    const [t0, t1] = extent(spans.get(b.id) ?? []) ?? [0, 1];
    return { id: b.id, title: `boot ${b.id} ${b.role}`, t0, t1, width: bw };
  });
  const col = (a: BootAxis, t: number) => Math.max(0, Math.min(a.width - 1, Math.floor(((t - a.t0) / Math.max(1, a.t1 - a.t0)) * (a.width - 1))));
  const row = (label: string, cells: Cell[][], labelStyle: { color?: Color; bold?: boolean } = {}): Line => {
    const line: Line = [seg(padEnd(label, labelWidth - 1), labelStyle), seg(' ')];
    cells.forEach((c, i) => {
      if (i > 0) line.push(seg(' ║ ', { color: 'gray' }));
      line.push(...cellsToLine(c));
    });
    return fit(line, width);
  };
  const empty = (): Cell[][] => axes.map((a) => Array.from({ length: a.width }, () => ({ ch: ' ' })));

  out.push(
    row(
      'TIMELINE',
      axes.map((a) => [...padEnd(a.title, a.width)].map((ch) => ({ ch, bold: true }))),
      { bold: true },
    ),
  );
  out.push(
    row(
      '',
      axes.map((a) => {
        const left = `${(a.t0 / 1e9).toFixed(3)} s`;
        const right = `${(a.t1 / 1e9).toFixed(3)} s`;
        const text = a.width >= left.length + right.length + 1 ? left + ' '.repeat(a.width - left.length - right.length) + right : padEnd(left, a.width);
        return [...text].map((ch) => ({ ch, color: 'gray' as Color }));
      }),
    ),
  );

  const kexec = empty();
  let anyKexec = false;
  axes.forEach((a, i) => {
    const b = r.boots.find((x) => x.id === a.id);
    const reboot = b?.globalPhases.find((p) => p.func === 'liveupdate_reboot');
    if (reboot?.start != null) {
      kexec[i][col(a, reboot.start)] = { ch: 'K', color: reboot.result !== null && reboot.result < 0 ? 'red' : 'magenta', bold: true };
      anyKexec = true;
    }
  });
  if (anyKexec) out.push(row('kexec', kexec, { color: 'gray' }));

  // One row per session; a session and its peer across kexec share a row.
  const groups: SessionJson[][] = [];
  const placed = new Set<number>();
  for (const s of r.sessions) {
    if (placed.has(s.id)) continue;
    const group = [s];
    placed.add(s.id);
    if (s.peer) {
      const p = r.sessions.find((x) => x.id === s.peer?.id);
      if (p && !placed.has(p.id)) {
        group.push(p);
        placed.add(p.id);
      }
    }
    groups.push(group);
  }
  const draw = (cells: Cell[][], s: SessionJson) => {
    const i = axes.findIndex((a) => a.id === s.boot);
    if (i < 0) return;
    const a = axes[i];
    const starts = s.phases.map((p) => p.start).filter((t): t is number => t !== null);
    const ends = s.phases.map((p) => p.end ?? p.start).filter((t): t is number => t !== null);
    if (starts.length === 0) return;
    const from = col(a, Math.min(...starts));
    const to = col(a, Math.max(...ends));
    for (let c = from; c <= to; c++) cells[i][c] = { ch: '─', color: 'gray' };
    const phases = [...s.phases].sort((x, y) => Number((x.result ?? 0) < 0) - Number((y.result ?? 0) < 0));
    for (const p of phases) {
      if (p.start === null) continue;
      const failed = p.result !== null && p.result < 0;
      cells[i][col(a, p.start)] = { ch: PHASE_LETTER[p.name] ?? '•', color: failed ? 'red' : 'cyan', bold: failed };
    }
  };
  const legendRows = 1;
  const room = Math.max(0, budget - out.length - legendRows);
  const fits = groups.length <= room;
  const sessionRows = fits ? groups.length : Math.max(0, room - 2);
  for (const g of groups.slice(0, sessionRows)) {
    const cells = empty();
    for (const s of g) draw(cells, s);
    out.push(row(g[0].name ?? `#${g[0].id}`, cells));
  }
  if (!fits && room >= 2) {
    // Too many sessions for one row each: how many were open in each column.
    const active = axes.map((a) => {
      const counts = new Array<number>(a.width).fill(0);
      for (const s of r.sessions.filter((x) => x.boot === a.id)) {
        const ts = s.phases.flatMap((p) => [p.start, p.end]).filter((t): t is number => t !== null);
        if (ts.length === 0) continue;
        for (let c = col(a, Math.min(...ts)); c <= col(a, Math.max(...ts)); c++) counts[c]++;
      }
      return [...sparkline(counts)].map((ch) => ({ ch, color: 'cyan' as Color }));
    });
    out.push(row('open sessions', active, { color: 'gray' }));
    out.push([seg(`… ${groups.length - sessionRows} more session rows: screen 2 lists every session`, { color: 'gray' })]);
  }
  out.push(fit([seg(LEGEND, { color: 'gray' })], width));
  return out.slice(0, budget);
}

/** The short state of a window open at the end, by its reason code (analyses/luo/pin-kinds.ts). */
const OPEN_SHORT: Record<Exclude<OpenReason, 'leak'>, string> = {
  'held-across-kexec': 'open across kexec',
  'vfs-file-open': 'open (file open)',
  'session-open': 'open (session open)',
  'session-not-finished': 'open (not finished)',
  'flb-in-use': 'open (FLB in use)',
  'not-luo': 'open (not LUO)',
  'put-missing': 'put missing (trace)',
};

export function pinState(w: PinWindowJson): { text: string; short: string; color?: Color } {
  if (w.putLine !== null) {
    const text = `released after ${fmtDuration(w.durationNs)}${w.incomplete ? ' (gap: incomplete)' : ''}`;
    return { text, short: `put after ${fmtDuration(w.durationNs)}`, color: w.incomplete ? 'yellow' : undefined };
  }
  const code = openReasonOf(w);
  if (isPutMaybeLost(w)) return { ...PUT_MAYBE_LOST, color: 'yellow' };
  if (code === null || code === 'leak' || w.expectedOpen === null) return { text: 'OPEN: never released (leak)', short: 'LEAK: never put', color: 'red' };
  return { text: `open: ${w.expectedOpen.split(':')[0]}`, short: OPEN_SHORT[code], color: 'yellow' };
}

/** One pin window as a list row: module and boot, get line and call site, put line, session, state. */
export function pinRowLine(w: PinWindowJson): Line {
  const st = pinState(w);
  return columns([
    { text: `${w.module} b${w.boot}`, width: Math.max(11, w.module.length + 3) },
    { text: String(w.getLine), width: 5, align: 'right', style: { color: 'cyan' } },
    { text: w.getCallSite, width: 21, style: { color: 'cyan' } },
    { text: `→ ${w.putLine ?? '-'}`, width: 7 },
    { text: pinOwner(w) === '-' ? 'no session' : pinOwner(w), width: 12 },
    { text: st.short, width: 20, style: { color: st.color } },
  ]);
}

export function verdictPage(ctx: PageCtx, id: string): Page {
  const r = ctx.report;
  const v = r.verdicts.find((x) => x.id === id);
  if (!v) return { title: id, top: [[seg(`verdict ${id} is not in this report`)]], rows: [] };
  const rel = relationsOf(r, v);
  const top: Line[] = [
    [verdictMark(v), seg(' '), seg(v.id, { bold: true }), seg(v.ok ? `  ${v.severity}` : `  FAILED (${v.severity})`, { color: v.ok ? 'gray' : 'red', bold: !v.ok })],
    ...wrap(v.message, ctx.width - 2, 4).map((l) => [seg(`  ${l}`)]),
    [
      seg(
        `what it is about: ${rel.pins.length} pin window${rel.pins.length === 1 ? '' : 's'} · ${rel.phases.length ? `${rel.phases.length} phase${rel.phases.length === 1 ? '' : 's'} · ` : ''}${rel.sessions.length} session${rel.sessions.length === 1 ? '' : 's'} · ${rel.modules.length} module entr${rel.modules.length === 1 ? 'y' : 'ies'} · ${rel.lines.length} evidence line${rel.lines.length === 1 ? '' : 's'}`,
        { color: 'gray' },
      ),
    ],
  ];
  // Items first (cheap), rows only for what is on screen: a verdict can cover every pin of a long run.
  type Item = { kind: 'pin'; i: number } | { kind: 'phase'; i: number } | { kind: 'session'; i: number } | { kind: 'module'; i: number } | { kind: 'line'; i: number };
  const items = memo(r, `verdict items ${v.id}`, () => {
    const shownAt = new Set(rel.phases.map((x) => `${x.at.file}:${x.at.line}`));
    const lineIdx = rel.lines.map((a, i) => ({ a, i })).filter(({ a }) => !shownAt.has(`${a.file}:${a.line}`));
    return [
      ...rel.pins.map((_, i) => ({ kind: 'pin', i }) as Item),
      ...rel.phases.map((_, i) => ({ kind: 'phase', i }) as Item),
      ...rel.sessions.map((_, i) => ({ kind: 'session', i }) as Item),
      ...rel.modules.map((_, i) => ({ kind: 'module', i }) as Item),
      ...lineIdx.map(({ i }) => ({ kind: 'line', i }) as Item),
    ];
  });
  const search = (it: Item): string => {
    switch (it.kind) {
      case 'pin': {
        const w = rel.pins[it.i].window;
        return `${w.module} b${w.boot} ${w.getLine} ${w.getCallSite} ${w.putLine ?? ''} ${w.putCallSite ?? ''} ${w.session ?? ''} ${pinState(w).short} ${rel.why.get(pinKey(w)) ?? ''}`;
      }
      case 'phase': {
        const { session: x, phase: p } = rel.phases[it.i];
        return `phase ${p.name} ${p.token ?? ''} ${p.error ?? ''} ${x.name ?? ''}`;
      }
      case 'session': {
        const x = rel.sessions[it.i];
        return `session #${x.id} ${x.name ?? ''} ${x.outcome}`;
      }
      case 'module': {
        const m = rel.modules[it.i];
        return `module ${m.name} boot ${m.boot}`;
      }
      case 'line': {
        const a = rel.lines[it.i];
        return `line ${a.file}:${a.line}`;
      }
    }
  };
  const make = (it: Item): Row => {
    switch (it.kind) {
      case 'pin': {
        const p = rel.pins[it.i];
        return { key: `pin ${pinKey(p.window)}`, line: pinRowLine(p.window), open: { kind: 'pin', key: pinKey(p.window) } };
      }
      case 'phase': {
        const { session: x, phase: p, at } = rel.phases[it.i];
        const failed = p.result !== null && p.result < 0;
        return {
          key: `phase ${at.file}:${at.line}`,
          line: [
            seg('phase ', { color: 'gray' }),
            seg(`${p.name}${p.token ? ` ${p.token}` : ''}`, { bold: true }),
            seg(`  ${p.result === null ? 'done' : `${p.result}${p.error ? ` ${p.error}` : ''}`}`, failed ? { color: 'red', bold: true } : {}),
            seg(`  session #${x.id} ${x.name ?? ''}  line ${at.line}`, { color: 'gray' }),
          ],
          open: { kind: 'events', file: at.file, line: at.line, mark: at.line },
        };
      }
      case 'session': {
        const x = rel.sessions[it.i];
        return {
          key: `session ${x.id}`,
          line: [seg('session ', { color: 'gray' }), seg(`#${x.id} ${x.name ?? '(unnamed)'}`, { bold: true }), seg(`  ${x.side}, boot ${x.boot}: ${x.outcome}`)],
          open: { kind: 'session', id: x.id },
        };
      }
      case 'module': {
        const m = rel.modules[it.i];
        return {
          key: `module ${m.name}@${m.boot}`,
          line: [seg('module ', { color: 'gray' }), seg(`${m.name} (boot ${m.boot})`, { bold: true }), seg(`  refcnt ${m.firstRefcnt ?? '?'}→${m.finalRefcnt ?? '?'}, LUO pins open at the end: ${m.openPins}`)],
          open: { kind: 'module', key: `${m.name}@${m.boot}` },
        };
      }
      case 'line': {
        const a = rel.lines[it.i];
        return {
          key: `line ${a.file}:${a.line}`,
          line: [seg('line ', { color: 'gray' }), seg(`${shortFile(a.file)}:${a.line}`, { color: 'cyan' })],
          open: { kind: 'events', file: a.file, line: a.line, mark: a.line },
        };
      }
    }
  };
  const rows = lazyRows(items.length, (i) => make(items[i]), (i) => search(items[i]), ctx.frame.filter);
  return {
    title: v.id,
    top,
    rows,
    ownFilter: true,
    empty: 'this verdict names no pin windows, sessions, modules or lines',
    bottomWants: 8,
    bottom: (sel, budget) => {
      const reason = sel?.key.startsWith('pin ') ? rel.why.get(sel.key.slice(4)) : undefined;
      if (!reason || budget < 3) return proofOf(ctx, sel, budget);
      const why = wrap(`listed because: ${reason}`, ctx.width, 2).map((t) => [seg(t, { color: 'gray' })]);
      return [blank(), ...why, ...proofOf(ctx, sel, budget - 1 - why.length).slice(1)];
    },
  };
}

/** The raw lines behind the selected row of a detail view. */
export function proofOf(ctx: PageCtx, sel: Row | undefined, budget: number): Line[] {
  if (!sel || budget < 2) return [];
  const r = ctx.report;
  const out: Line[] = [blank()];
  const [kind, ...rest] = sel.key.split(' ');
  const ref = rest.join(' ');
  if (kind === 'pin') {
    const w = findPin(r, ref)?.window;
    if (!w) return [];
    // The module_get first (what took the pin), with at least 3 rows when there is room.
    const half = w.putLine === null ? budget - 1 : Math.max(Math.min(3, budget - 1), Math.ceil((budget - 1) / 2));
    out.push(...proofBlock(ctx, 'module_get', w.file, w.getLine, half));
    if (w.putLine !== null) out.push(...proofBlock(ctx, 'module_put', w.file, w.putLine, budget - 1 - half, 'green'));
  } else if (kind === 'line') {
    const i = ref.lastIndexOf(':');
    out.push(...proofBlock(ctx, 'raw line', ref.slice(0, i), Number(ref.slice(i + 1)), budget - 1));
  } else if (kind === 'session') {
    const s = r.sessions.find((x) => x.id === Number(ref));
    const p = s?.phases[0];
    if (p) out.push(...proofBlock(ctx, `${p.name} starts`, p.file, p.line, budget - 1));
  } else if (kind === 'phase') {
    const [file, line] = [ref.slice(0, ref.lastIndexOf(':')), Number(ref.slice(ref.lastIndexOf(':') + 1))];
    out.push(...proofBlock(ctx, 'raw line', file, line, budget - 1));
  } else {
    return [];
  }
  return out.slice(0, budget);
}
