// Screen 3, Modules: per module and boot, refcounts, gets/puts and open LUO pins; the selected
// module's refcount over time (asciichart) and its pin windows on a time axis. Enter opens a module
// (every pin window as a bar; Enter on one opens the pin window); the pin window view shows the raw
// module_get / module_put lines that open and close it.
import { isPutMaybeLost, openReasonOf, PUT_MAYBE_LOST, pinOwner } from '../../../analyses/luo/pin-kinds.js';
import { missingFromTrace } from '../../../analyses/luo/verdicts/evidence.js';
import type { ModuleJson, PinWindowJson } from '../../../analyses/luo/schema.js';
import { modulePoints, type RefcntPoint } from '../../../analyses/luo/refcount-series.js';
import { extent, refcountPlot, windowBar } from '../charts.js';
import { findModule, findPin, isLuoPin, moduleKey, pinKey, pinOrder } from '../relations.js';
import { columns, fmtDuration, fmtSeconds, type Line, seg, shortFile, wrap } from '../text.js';
import { lazyRows, type Page, type Row } from '../views.js';
import { blank, contextBlock, heading, memo, type PageCtx, proofBlock } from './common.js';
import { pinState, proofOf } from './overview.js';

export const MODULE_SORTS = ['boot', 'open pins', 'gets'];
export const WINDOW_SORTS = ['open first', 'get line', 'held longest'];

function refcntPoints(ctx: PageCtx, m: ModuleJson): RefcntPoint[] {
  return modulePoints(ctx.model.series, ctx.report, m);
}

function timeRange(points: { time: number }[], windows: PinWindowJson[]): [number, number] | null {
  function* times() {
    for (const p of points) yield p.time;
    for (const w of windows) {
      if (w.getTime !== null) yield w.getTime;
      if (w.putTime !== null) yield w.putTime;
    }
  }
  return extent(times());
}

/** Refcount over time, with the time axis under it (charts.ts refcountPlot). */
export function refcountChart(ctx: PageCtx, m: ModuleJson, width: number, height: number): Line[] {
  const pts = refcntPoints(ctx, m);
  if (pts.length === 0) return [[seg('refcnt over time: no module_get/module_put with refcnt= for this module', { color: 'gray' })]];
  const { rows, axis, band } = refcountPlot(pts, width, Math.max(1, height - 2));
  return [
    heading(`refcnt over time (raw, 1 = idle)`, `${pts.length} values${band ? ' · highest and lowest per column' : ''}`),
    ...rows.map((l) => [seg(l, { color: 'cyan' })]),
    [seg(axis, { color: 'gray' })],
  ];
}

function moduleLine(m: ModuleJson): Line {
  return columns([
    { text: m.name, width: 16, style: { bold: true } },
    { text: `boot ${m.boot}`, width: 7 },
    { text: `refcnt ${m.firstRefcnt ?? '?'}→${m.finalRefcnt ?? '?'}`, width: 13 },
    { text: `max ${m.maxRefcnt ?? '?'}`, width: 7 },
    { text: `gets ${m.gets}`, width: 9 },
    { text: `puts ${m.puts}`, width: 9 },
    { text: `open pins ${m.openPins}`, width: 12, style: m.openPins > 0 ? { color: 'yellow' } : {} },
  ]);
}

export function modulesPage(ctx: PageCtx): Page {
  const r = ctx.report;
  const list = [...r.modules];
  if (MODULE_SORTS[ctx.frame.sort] === 'open pins') list.sort((a, b) => b.openPins - a.openPins);
  if (MODULE_SORTS[ctx.frame.sort] === 'gets') list.sort((a, b) => b.gets - a.gets);
  const rows: Row[] = list.map((m) => ({ key: `module ${moduleKey(m)}`, line: moduleLine(m), open: { kind: 'module', key: moduleKey(m) } }));
  return {
    title: 'Modules',
    top: [heading('MODULES', `${r.modules.length} (module × boot) · sorted by ${MODULE_SORTS[ctx.frame.sort]} (s) · Enter: pin windows`)],
    rows,
    sorts: MODULE_SORTS,
    listMax: Math.min(rows.length, 6),
    empty: 'no module_get/module_put events (built-in handlers such as memfd take no module references)',
    bottomWants: 16,
    bottom: (sel, budget) => {
      const m = sel ? findModule(r, sel.key.slice('module '.length)) : null;
      if (!m || budget < 4) return [];
      const chartRows = Math.min(9, Math.max(3, budget - 6));
      const out: Line[] = [blank(), ...refcountChart(ctx, m, ctx.width, chartRows)];
      const windows = memo(r, `windows ${moduleKey(m)} open first`, () => [...m.pinWindows].sort(pinOrder));
      const left = budget - out.length - 1;
      if (left >= 2 && windows.length) {
        out.push(heading('pin windows', `${windows.filter(isLuoPin).length} LUO pins, ${windows.filter((w) => w.class === 'vfs').length} VFS references · Enter to list them all`));
        const range = moduleRange(ctx, m);
        out.push(...windows.slice(0, left - 1).map((w) => windowLine(range, w, ctx.width)));
      }
      return out.slice(0, budget);
    },
  };
}

/** The module's time axis: its refcnt values and its pin windows. */
function moduleRange(ctx: PageCtx, m: ModuleJson): [number, number] {
  return memo(ctx.report, `range ${moduleKey(m)}`, () => timeRange(refcntPoints(ctx, m), m.pinWindows) ?? [0, 1]);
}

/** A pin window as a row: get line, call site, session, a bar on the module's time axis, state. */
function windowLine(range: [number, number], w: PinWindowJson, width: number): Line {
  const st = pinState(w);
  const code = openReasonOf(w);
  const stateText = code === null ? fmtDuration(w.durationNs) : code === 'leak' ? (isPutMaybeLost(w) ? PUT_MAYBE_LOST.short : 'LEAK') : code === 'held-across-kexec' ? 'kexec' : 'open';
  const barWidth = Math.max(6, width - 6 - 22 - 14 - 10 - 6);
  return columns([
    { text: String(w.getLine), width: 6, align: 'right', style: { color: 'cyan' } },
    { text: w.getCallSite, width: 22 },
    { text: pinOwner(w), width: 14, style: { color: 'gray' } },
    { text: `│${windowBar(barWidth, range[0], range[1], w.getTime, w.putTime)}│`, width: barWidth + 2, style: { color: isLuoPin(w) ? 'yellow' : 'gray' } },
    { text: stateText, width: 10, style: { color: st.color } },
  ]);
}

export function modulePage(ctx: PageCtx, key: string): Page {
  const r = ctx.report;
  const m = findModule(r, key);
  if (!m) return { title: key, top: [[seg(`module ${key} is not in this report`)]], rows: [] };
  const sites = (rec: Record<string, number>) =>
    Object.entries(rec)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ×${n}`)
      .join(', ');
  const top: Line[] = [
    [seg(`${m.name} (boot ${m.boot})`, { bold: true }), seg(`  refcnt ${m.firstRefcnt ?? '?'} → ${m.finalRefcnt ?? '?'} (raw, 1 = idle), max ${m.maxRefcnt ?? '?'} · LUO pins open at the end: ${m.openPins}`)],
    ...wrap(`gets ${m.gets}: ${sites(m.getsBySite) || '-'} · puts ${m.puts}: ${sites(m.putsBySite) || '-'}`, ctx.width, 2).map((l) => [seg(l, { color: 'gray' })]),
  ];
  for (const mm of m.refcntMismatches.slice(0, 2)) {
    for (const l of wrap(`refcnt disagrees at ${shortFile(mm.file)}:${mm.line}: ${missingFromTrace({ ...mm, file: shortFile(mm.file) }).text}`, ctx.width, 2)) top.push([seg(l, { color: 'red' })]);
  }
  const chartRows = Math.max(3, Math.min(8, ctx.height - top.length - 8));
  top.push(...refcountChart(ctx, m, ctx.width, chartRows));
  const sort = WINDOW_SORTS[ctx.frame.sort];
  const windows = memo(r, `windows ${key} ${sort}`, () => {
    const list = [...m.pinWindows];
    if (sort === 'open first') list.sort(pinOrder);
    if (sort === 'get line') list.sort((a, b) => a.getLine - b.getLine);
    if (sort === 'held longest') list.sort((a, b) => (b.durationNs ?? Infinity) - (a.durationNs ?? Infinity));
    return list;
  });
  top.push(heading('pin windows', `${windows.length} · sorted by ${sort} (s) · / filters · Enter opens one`));
  const range = moduleRange(ctx, m);
  const rows = lazyRows(
    windows.length,
    (i) => ({ key: `pin ${pinKey(windows[i])}`, line: windowLine(range, windows[i], ctx.width - 2), open: { kind: 'pin', key: pinKey(windows[i]) } }),
    (i) => {
      const w = windows[i];
      return `${w.getLine} ${w.getCallSite} ${w.putCallSite ?? ''} ${w.session ?? ''} ${w.class} ${pinState(w).text}`;
    },
    ctx.frame.filter,
  );
  return {
    title: `module ${m.name}@${m.boot}`,
    top,
    rows,
    ownFilter: true,
    sorts: WINDOW_SORTS,
    empty: 'no pin windows',
    bottomWants: 4,
    bottom: (sel, budget) => proofOf(ctx, sel, budget),
  };
}

export function pinPage(ctx: PageCtx, key: string): Page {
  const r = ctx.report;
  const found = findPin(r, key);
  if (!found) return { title: key, top: [[seg(`pin window ${key} is not in this report`)]], rows: [] };
  const { module: m, window: w } = found;
  const st = pinState(w);
  const who = (pid: number | null, comm: string | null) => (pid !== null || comm ? `${comm ?? '?'}-${pid ?? '?'}` : '');
  const top: Line[] = [
    [seg(`pin window of ${m.name} (boot ${m.boot})`, { bold: true }), seg(`  ${w.class}${w.flow ? ` · ${w.flow}` : ''}${w.luoFunction ? ` · in ${w.luoFunction}` : ''}`, { color: 'gray' })],
    [seg(w.class === 'luo-flb' ? `${pinOwner(w)} · no session: an FLB pin is the FLB's` : `session ${w.session ?? (w.sessionId !== null ? `#${w.sessionId}` : '(none)')}${w.token ? ` · token ${w.token}` : ''}`)],
    [seg(`taken     ${fmtSeconds(w.getTime)} s  call_site=${w.getCallSite}  ${who(w.getPid, w.getComm)}`)],
    [seg(w.putLine === null ? 'released  never, in this trace' : `released  ${fmtSeconds(w.putTime)} s  call_site=${w.putCallSite}  held ${fmtDuration(w.durationNs)}`)],
    ...wrap(`state: ${w.putLine === null ? (w.expectedOpen ?? (isPutMaybeLost(w) ? PUT_MAYBE_LOST.text : 'never released: a leak')) : st.text}`, ctx.width, 2).map((l) => [seg(l, { color: st.color })]),
    blank(),
    ...proofBlock(ctx, 'module_get that took the pin', w.file, w.getLine, 3),
    ...(w.putLine !== null ? proofBlock(ctx, 'module_put that released it', w.file, w.putLine, 3, 'green') : []),
    blank(),
  ];
  const rows: Row[] = [
    { key: `line ${w.file}:${w.getLine}`, line: [seg('open the module_get line in Events  ', { bold: true }), seg(`${shortFile(w.file)}:${w.getLine}`, { color: 'cyan' })], open: { kind: 'events', file: w.file, line: w.getLine, mark: w.getLine } },
  ];
  if (w.putLine !== null) {
    rows.push({ key: `line ${w.file}:${w.putLine}`, line: [seg('open the module_put line in Events  ', { bold: true }), seg(`${shortFile(w.file)}:${w.putLine}`, { color: 'cyan' })], open: { kind: 'events', file: w.file, line: w.putLine, mark: w.putLine } });
  }
  const s = w.sessionId !== null ? r.sessions.find((x) => x.id === w.sessionId) : undefined;
  if (s) rows.push({ key: `session ${s.id}`, line: [seg('session ', { color: 'gray' }), seg(`#${s.id} ${s.name ?? ''}`, { bold: true }), seg(`  ${s.outcome}`)], open: { kind: 'session', id: s.id } });
  rows.push({ key: `module ${moduleKey(m)}`, line: [seg('module ', { color: 'gray' }), seg(`${m.name} (boot ${m.boot})`, { bold: true }), seg(`  ${m.pinWindows.length} windows`)], open: { kind: 'module', key: moduleKey(m) } });
  return {
    title: `pin ${m.name}@b${m.boot}:${w.getLine}`,
    top,
    rows,
    bottomWants: 6,
    bottom: (_sel, budget) => (budget >= 3 ? [blank(), heading('around the module_get'), ...contextBlock(ctx, w.file, w.getLine, 2, 2)].slice(0, budget) : []),
  };
}

