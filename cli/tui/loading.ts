// The screen's frame (tab bar, status line) and the loading page. Kept apart from layout.ts, which
// loads every page: the TUI draws its first frame from here (splash.ts) before Ink, React and the
// pages have loaded, which takes a second or more on a busy machine.
import type { ReadProgress } from '../../parsers/index.js';
import type { KindTally, ModuleRefTally, ReadSoFar } from './load.js';
import { progressBar } from './charts.js';
import { type NavState, topFrame } from './keys.js';
import { fit, fmtBytes, fmtCount, type Line, padEnd, seg, shortFile } from './text.js';
import { SCREEN_TITLES, SCREENS } from './views.js';

/** What the frame and the loading page read from the model (TuiModel has it). */
export interface LoadingState {
  phase: string;
  files: string[];
  progress: ReadProgress[];
  live: { ended: boolean; streaming: boolean } | null;
  /** Events by kind and module references so far (counts of the lines read, not the report). */
  soFar?: ReadSoFar;
}

export function tabBar(nav: NavState, model: LoadingState, width: number): Line {
  const out: Line = [];
  SCREENS.forEach((s, i) => {
    const on = s === nav.screen;
    out.push(seg(` ${i + 1} ${SCREEN_TITLES[s]} `, on ? { inverse: true, bold: true } : { color: 'gray' }));
  });
  const used = out.reduce((n, s) => n + s.text.length, 0);
  let status: string;
  if (model.phase === 'loading') status = 'loading';
  else if (model.phase === 'error') status = 'error';
  else if (model.live) status = model.live.ended ? 'live: ended' : model.live.streaming ? 'live ●' : 'live: idle';
  else status = `${model.files.length} file${model.files.length === 1 ? '' : 's'}`;
  const room = width - used;
  if (room > status.length + 1) out.push(seg(' '.repeat(room - status.length)), seg(status, { color: model.live?.streaming ? 'green' : 'gray' }));
  return fit(out, width);
}

export function statusLine(nav: NavState, titles: string[], info: { count: number; cursor: number } | null, width: number): Line {
  if (nav.mode === 'filter') return fit([seg('/', { bold: true }), seg(nav.input), seg('▏'), seg('   Enter keeps the filter · Esc cancels', { color: 'gray' })], width);
  if (nav.mode === 'jump') return fit([seg(': go to line ', { bold: true }), seg(nav.input), seg('▏'), seg('   Enter goes · Esc cancels', { color: 'gray' })], width);
  const f = topFrame(nav);
  const pos = info && info.count > 0 ? `${fmtCount(info.cursor + 1)}/${fmtCount(info.count)}` : '';
  const right = `${f.filter ? `/${f.filter} · ` : ''}${pos ? `${pos} · ` : ''}? help`;
  let crumbs = titles.join(' › ');
  const room = width - right.length - 2;
  if (crumbs.length > room) crumbs = `…${crumbs.slice(crumbs.length - room + 1)}`;
  return fit([seg(padEnd(crumbs, Math.max(0, room)), { bold: true }), seg('  '), seg(right, { color: 'gray' })], width);
}

/** Rows the events-by-kind panel takes at most when module references are shown below it. */
const KIND_ROWS = 8;

/** The events so far by kind, as many rows as fit: the part of the analysis that fills in while reading. */
function tallyLines(tally: KindTally | undefined, rows: number): Line[] {
  if (!tally || tally.counts.size === 0 || rows < 3) return [];
  const top = tally.top(rows - 2);
  const most = top[0][1];
  const out: Line[] = [[seg('')], [seg('EVENTS BY KIND SO FAR', { bold: true })]];
  for (const [kind, n] of top) {
    out.push([seg(`  ${padEnd(kind, 24)} ${fmtCount(n).padStart(11)}  `), seg(progressBar(20, n / most).replace(/░/g, ' '), { color: 'cyan' })]);
  }
  return out;
}

/** module_get/module_put lines so far per module: what the lines say, before the report pairs them into pins. */
function refLines(refs: ModuleRefTally | undefined, files: string[], rows: number): Line[] {
  if (!refs || refs.rows.size === 0 || rows < 4) return [];
  const several = files.length > 1;
  const out: Line[] = [[seg('')], [seg(`${padEnd('MODULE REFERENCES SO FAR', 26)} ${'gets'.padStart(9)}  ${'puts'.padStart(9)}  refcnt= now (line)`, { bold: true })]];
  for (const r of refs.top(rows - 2)) {
    const name = several ? `${r.module} (file ${r.src + 1})` : r.module;
    out.push([seg(`  ${padEnd(name, 24)} ${fmtCount(r.gets).padStart(9)}  ${fmtCount(r.puts).padStart(9)}  ${String(r.refcnt).padStart(7)} (${fmtCount(r.line)})`)]);
  }
  return out;
}

export function loadingLines(model: LoadingState, width: number, height: number): Line[] {
  const out: Line[] = [[seg(`Reading ${model.files.length} file${model.files.length === 1 ? '' : 's'}`, { bold: true }), seg('  q quits', { color: 'gray' })], [seg('')]];
  let events = 0;
  model.files.forEach((f, i) => {
    const p = model.progress[i];
    events += p?.events ?? 0;
    const frac = p ? (p.done ? 1 : p.size ? p.bytesRead / p.size : null) : 0;
    const pct = frac === null ? '   ?' : `${Math.floor(frac * 100)}%`.padStart(4);
    const detail = p ? `${fmtBytes(p.bytesRead)}${p.size ? ` of ${fmtBytes(p.size)}` : ''} · ${fmtCount(p.lines)} lines · ${fmtCount(p.events)} events${p.done ? ' · done' : ''}` : 'waiting';
    out.push([seg(padEnd(shortFile(f), 30), { bold: true }), seg(` ${progressBar(20, frac)} `, { color: 'cyan' }), seg(pct)]);
    out.push([seg(`  ${detail}`, { color: 'gray' })]);
  });
  out.push(
    [seg('')],
    [seg(`${fmtCount(events)} events so far (bytes are counted as stored: compressed for .gz)`, { color: 'gray' })],
    [seg('5 Events shows the raw lines now; the other screens open when the analysis is done', { color: 'gray' })],
  );
  const left = height - out.length;
  const withRefs = (model.soFar?.refs.rows.size ?? 0) > 0;
  out.push(...tallyLines(model.soFar?.tally, withRefs ? Math.min(left - 4, KIND_ROWS + 2) : left));
  out.push(...refLines(model.soFar?.refs, model.files, height - out.length));
  while (out.length < height) out.push([seg('')]);
  return out.slice(0, height).map((l) => fit(l, width));
}
