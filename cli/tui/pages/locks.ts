// Screen 4, Locks: the perf-lock-style table (sortable with `s`), and for the selected lock its
// wait histogram, the slowest waits over time and who held the lock during the longest waits.
// Enter opens a lock; Enter on one of its waits shows the raw line where the wait began.
import { barLines, chartColumns, histogramLines, lineChart, resample } from '../charts.js';
import { LOCK_SORTS, type LockRow, lockKey, lockName, lockRows, sortLocks, type WaitRecord, waitFile, waitsOf } from '../locks-view.js';
import { type Col, columns, fmtCount, fmtDuration, fmtSeconds, type Line, seg, wrap } from '../text.js';
import type { Page, Row } from '../views.js';
import { blank, heading, type PageCtx } from './common.js';

const NO_LOCKS =
  'no lock data in this report: either the lock analyses are not part of this build yet, or the inputs have no lock events ' +
  '(lock:contention_begin/end, lock:lock_acquire/release, or probes on down_read/down_write/up_read/up_write)';

function lockLine(l: LockRow, width: number): Line {
  const nameWidth = Math.max(12, width - 7 - 7 - 6 - 9 * 4 - 8);
  return columns([
    { text: lockName(l), width: nameWidth, style: { bold: true } },
    { text: l.type ?? l.mode, width: 7 },
    { text: l.acquisitions === undefined ? '-' : fmtCount(l.acquisitions), width: 7, align: 'right' },
    { text: l.contended === undefined ? '-' : fmtCount(l.contended), width: 6, align: 'right', style: (l.contended ?? 0) > 0 ? { color: 'yellow' } : {} },
    { text: fmtDuration(l.wait?.total), width: 9, align: 'right' },
    { text: fmtDuration(l.wait?.max), width: 9, align: 'right' },
    { text: fmtDuration(l.wait?.p99), width: 9, align: 'right' },
    { text: fmtDuration(l.hold?.total), width: 9, align: 'right' },
  ]);
}

function tableHeader(width: number): Line {
  const nameWidth = Math.max(12, width - 7 - 7 - 6 - 9 * 4 - 8);
  const cols: Col[] = [
      { text: 'lock', width: nameWidth },
      { text: 'type', width: 7 },
      { text: 'acquired', width: 7, align: 'right' },
      { text: 'cont.', width: 6, align: 'right' },
      { text: 'wait tot', width: 9, align: 'right' },
      { text: 'wait max', width: 9, align: 'right' },
      { text: 'wait p99', width: 9, align: 'right' },
      { text: 'hold tot', width: 9, align: 'right' },
  ];
  return columns(cols.map((c) => ({ ...c, style: { color: 'gray' } })));
}

/** Wait distribution: the log2 histogram when the report has one, else the percentiles. */
function waitDistribution(l: LockRow, width: number): Line[] {
  if (l.waitHistogram && l.waitHistogram.length) return histogramLines(l.waitHistogram, width).map((t) => [seg(t, { color: 'cyan' })]);
  const w = l.wait;
  if (!w || !w.count) return [[seg('no complete waits on this lock', { color: 'gray' })]];
  const rows = (['p50', 'p90', 'p99', 'p999', 'max'] as const)
    .map((k) => ({ label: k === 'p999' ? 'p99.9' : k, value: w[k] ?? 0, text: fmtDuration(w[k]) }))
    .filter((r) => r.value > 0);
  return barLines(rows, width).map((t) => [seg(t, { color: 'cyan' })]);
}

function who(x: WaitRecord['waiter']): string {
  if (!x) return '?';
  const task = `${x.comm ?? '?'}-${x.pid ?? '?'}`;
  const where = [x.session ? `session ${x.session}` : '', x.phase ?? x.func ?? ''].filter(Boolean).join(', ');
  return where ? `${task} (${where})` : task;
}

function waitLine(w: WaitRecord): Line {
  const owner = w.owners?.[0];
  return [
    seg(fmtDuration(w.duration).padStart(9), { color: 'yellow', bold: true }),
    seg(`  ${who(w.waiter)} waited`),
    seg(owner ? `; held by ${who(owner)}${owner.mode ? ` (${owner.mode})` : ''}` : '; owner not seen', { color: 'gray' }),
  ];
}

export function locksPage(ctx: PageCtx): Page {
  const r = ctx.report;
  const { rows: all, unreadable } = lockRows(r);
  const sort = LOCK_SORTS[ctx.frame.sort % LOCK_SORTS.length];
  const sorted = sortLocks(all, sort);
  const rows: Row[] = sorted.map((l) => ({ key: `lock ${lockKey(l)}`, line: lockLine(l, ctx.width - 2), search: `${lockName(l)} ${l.address ?? ''} ${l.type ?? l.mode}`, open: { kind: 'lock', key: lockKey(l) } }));
  const top: Line[] = [heading('LOCKS', all.length ? `${all.length} · sorted by ${sort} (s) · Enter: waits and owners` : '')];
  if (unreadable) top.push([seg(`${unreadable} lock rows do not have the expected fields and are not shown`, { color: 'red' })]);
  if (all.length === 0) {
    top.push(...wrap(NO_LOCKS, ctx.width).map((t) => [seg(t, { color: 'gray' })]));
    return { title: 'Locks', top, rows: [], empty: 'no lock data' };
  }
  top.push([seg('  '), ...tableHeader(ctx.width - 2)]);
  return {
    title: 'Locks',
    top,
    rows,
    sorts: [...LOCK_SORTS],
    listMax: Math.min(rows.length, 8),
    bottomWants: 10,
    bottom: (sel, budget) => {
      const l = sel ? sorted.find((x) => `lock ${lockKey(x)}` === sel.key) : undefined;
      if (!l || budget < 3) return [];
      const out: Line[] = [blank(), heading(`${lockName(l)} ${l.type ?? l.mode}`, `wait: ${l.wait?.count ?? 0} timed, avg ${fmtDuration(l.wait?.avg)} · hold: avg ${fmtDuration(l.hold?.avg)}, max ${fmtDuration(l.hold?.max)}`)];
      out.push(...waitDistribution(l, ctx.width).slice(0, Math.max(1, budget - 5)));
      const waits = waitsOf(r, l);
      if (waits.length) out.push(heading('longest waits'), ...waits.slice(0, 3).map(waitLine));
      return out.slice(0, budget);
    },
  };
}

export function lockPage(ctx: PageCtx, key: string): Page {
  const r = ctx.report;
  const l = lockRows(r).rows.find((x) => lockKey(x) === key);
  if (!l) return { title: key, top: [[seg('this lock is not in the report')]], rows: [] };
  const waits = waitsOf(r, l);
  const top: Line[] = [
    [seg(lockName(l), { bold: true }), seg(`  ${l.type ?? l.mode}${l.address ? ` · ${l.address}` : ''}`, { color: 'gray' })],
    [
      seg(
        `acquired ${l.acquisitions ?? '-'} · contended ${l.contended ?? '-'} · wait total ${fmtDuration(l.wait?.total)}, max ${fmtDuration(l.wait?.max)} · hold total ${fmtDuration(l.hold?.total)}, max ${fmtDuration(l.hold?.max)}`,
      ),
    ],
    blank(),
    heading('wait distribution', l.waitHistogram?.length ? 'log2 buckets' : 'percentiles'),
    ...waitDistribution(l, ctx.width).slice(0, 8),
  ];
  const timed = waits.filter((w) => w.begin !== undefined);
  if (timed.length >= 2) {
    const pts = timed.map((w) => ({ time: w.begin as number, value: w.duration / 1e3 })).sort((a, b) => a.time - b.time);
    const max = Math.max(...pts.map((p) => p.value));
    const values = resample(pts, pts[0].time, pts[pts.length - 1].time, chartColumns(ctx.width, max));
    top.push(blank(), heading('wait over time (µs)', `the ${timed.length} slowest waits the report kept, ${fmtSeconds(pts[0].time)}..${fmtSeconds(pts[pts.length - 1].time)} s`));
    top.push(...lineChart(values, ctx.width, 4).map((t) => [seg(t, { color: 'cyan' })]));
  }
  top.push(blank(), heading('longest waits and who held the lock', waits.length ? 'Enter: the raw line where the wait began' : 'none kept in this report'));
  const rows: Row[] = waits.map((w, i) => {
    const file = waitFile(r, w);
    return {
      key: `wait ${i}`,
      line: waitLine(w),
      search: w.explanation,
      open: file && w.line !== undefined ? { kind: 'events', file, line: w.line, mark: w.line } : null,
    };
  });
  return {
    title: lockName(l),
    top,
    rows,
    bottomWants: 4,
    bottom: (sel, budget) => {
      const w = sel ? waits[Number(sel.key.slice(5))] : undefined;
      if (!w?.explanation || budget < 2) return [];
      return [blank(), ...wrap(w.explanation, ctx.width, budget - 1).map((t) => [seg(t, { color: 'gray' })])];
    },
  };
}
