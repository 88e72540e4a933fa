// Screen 4, Locks: the perf-lock-style table (sortable with `s`), and for the selected lock its
// wait histogram, the slowest waits over time and who held the lock during the longest waits.
// Enter opens a lock; Enter on one of its waits shows the raw line where the wait began. LUO locks
// and locks waited on inside LUO calls are listed; the others are one row whose Enter lists them all.
import { barLines, type Bucket, chartColumns, histogramLines, lineChart, resample } from '../charts.js';
import { isLuoRow, LOCK_SORTS, type LockRow, type LockSummary, lockKey, lockName, lockRows, sortLocks, type WaitRecord, waitFile, waitsOf } from '../locks-view.js';
import { type Col, columns, fmtCount, fmtDuration, fmtSeconds, type Line, seg, wrap } from '../text.js';
import type { Page, Row } from '../views.js';
import { blank, heading, type PageCtx } from './common.js';

const NO_LOCKS =
  'no lock data in this report: the inputs have no lock events (lock:contention_begin/end, ' +
  'lock:lock_acquire/release, or probes on down_read/down_write/up_read/up_write)';

/** perf lock's columns; wait p99 too when there is room. */
function lockColumns(l: LockRow | null, width: number): Col[] {
  const wide = width >= 96;
  const fixed = 8 + 8 + 5 + 8 + 8 + 8 + (wide ? 9 : 0) + (wide ? 7 : 6);
  const nameWidth = Math.max(12, width - fixed);
  // A summary of nothing has total 0: show `-`, not "0 ns" (holds are not observable from contention events alone).
  const d = (v: number | null | undefined, of?: LockSummary) => (l ? (of && !of.count ? '-' : fmtDuration(v)) : '');
  const cols: Col[] = [
    { text: l ? lockName(l) : 'lock', width: nameWidth, style: l ? { bold: true } : {} },
    { text: l ? (l.type ?? l.mode) : 'type', width: 8 },
    { text: l ? (l.acquisitions === undefined ? '-' : fmtCount(l.acquisitions)) : 'acquired', width: 8, align: 'right' },
    { text: l ? (l.contended === undefined ? '-' : fmtCount(l.contended)) : 'cont.', width: 5, align: 'right', style: (l?.contended ?? 0) > 0 ? { color: 'yellow' } : {} },
    { text: l ? d(l.wait?.total, l.wait) : 'wait tot', width: 8, align: 'right' },
    { text: l ? d(l.wait?.max, l.wait) : 'wait max', width: 8, align: 'right' },
  ];
  if (wide) cols.push({ text: l ? d(l.wait?.p99, l.wait) : 'wait p99', width: 8, align: 'right' });
  cols.push({ text: l ? d(l.hold?.total, l.hold) : 'hold tot', width: 8, align: 'right' });
  return cols;
}

/** A duration of a summary, `-` when the summary counts nothing (holds seen only through contention events). */
function sum(of: LockSummary | undefined, v: number | null | undefined): string {
  return of && !of.count ? '-' : fmtDuration(v);
}

function lockLine(l: LockRow, width: number): Line {
  return columns(lockColumns(l, width));
}

function tableHeader(width: number): Line {
  return columns(lockColumns(null, width).map((c) => ({ ...c, style: { color: 'gray' } })));
}

/** Neighbouring buckets merged pairwise until `rows` remain: coarser, but the whole range and every count stay. */
function coarser(buckets: Bucket[], rows: number): Bucket[] {
  let b = buckets;
  while (b.length > Math.max(1, rows)) {
    const next: Bucket[] = [];
    for (let i = 0; i < b.length; i += 2) next.push(i + 1 < b.length ? { low: b[i].low, high: b[i + 1].high, count: b[i].count + b[i + 1].count } : b[i]);
    b = next;
  }
  return b;
}

/** Wait distribution in at most `rows` lines: the log2 histogram when the report has one, else the percentiles. */
function waitDistribution(l: LockRow, width: number, maxRows = 8): Line[] {
  if (l.waitHistogram && l.waitHistogram.length) return histogramLines(coarser(l.waitHistogram, maxRows), width).map((t) => [seg(t, { color: 'cyan' })]);
  const w = l.wait;
  if (!w || !w.count) return [[seg('no complete waits on this lock', { color: 'gray' })]];
  const rows = (['p50', 'p90', 'p99', 'p999', 'max'] as const)
    .map((k) => ({ label: k === 'p999' ? 'p99.9' : k, value: w[k] ?? 0, text: fmtDuration(w[k]) }))
    .filter((r) => r.value > 0);
  return barLines(rows, width)
    .slice(0, Math.max(1, maxRows))
    .map((t) => [seg(t, { color: 'cyan' })]);
}

function task(x: WaitRecord['waiter']): string {
  return x ? `${x.comm ?? '?'}-${x.pid ?? '?'}` : '?';
}

function where(x: WaitRecord['waiter']): string {
  if (!x) return '';
  return [x.session ?? '', x.phase ?? x.func ?? ''].filter(Boolean).join(' ');
}

/** How a task took an rwsem-like lock (`rwsem:W`, owner mode `R`): "writer", "reader"; nothing for a mutex. */
function role(mode: string | undefined): string {
  const m = mode?.includes(':') ? mode.slice(mode.indexOf(':') + 1) : mode;
  return m === 'W' ? 'writer' : m === 'R' ? 'reader' : '';
}

/** `6.0 ms  insmod-315 (register) waited as writer; held by reader luo_ctl-317 (lifecycle-s1 preserve) +2` */
function waitLine(w: WaitRecord): Line {
  const owner = w.owners?.[0];
  const more = (w.owners?.length ?? 0) > 1 ? ` +${(w.owners?.length ?? 1) - 1}` : '';
  const mine = role(w.type);
  const theirs = owner ? role(owner.mode) : '';
  return [
    seg(fmtDuration(w.duration).padStart(9), { color: 'yellow', bold: true }),
    seg(`  ${task(w.waiter)}${where(w.waiter) ? ` (${where(w.waiter)})` : ''} waited${mine ? ` as ${mine}` : ''}`),
    seg(owner ? `; held by ${theirs ? `${theirs} ` : ''}${task(owner)}${where(owner) ? ` (${where(owner)})` : ''}${more}` : w.wokenBy ? `; released last by ${task(w.wokenBy)}` : '; owner not seen', { color: 'gray' }),
  ];
}

/** The locks unrelated to LUO, as one row: how many, their contention and waiting. */
function otherLocksLine(other: LockRow[]): Line {
  const contended = other.reduce((n, l) => n + (l.contended ?? 0), 0);
  const total = other.reduce((n, l) => n + (l.wait?.total ?? 0), 0);
  const max = Math.max(0, ...other.map((l) => l.wait?.max ?? 0));
  return [seg(`${fmtCount(other.length)} other locks · ${fmtCount(contended)} contended · wait ${fmtDuration(total)}, max ${fmtDuration(max)} · Enter: list`, { color: 'gray' })];
}

/** `showAll`: the other locks listed too (the view the "other locks" row opens). */
export function locksPage(ctx: PageCtx, showAll = false): Page {
  const r = ctx.report;
  const { rows: all, unreadable } = lockRows(r);
  const sort = LOCK_SORTS[ctx.frame.sort % LOCK_SORTS.length];
  const luo = all.filter(isLuoRow);
  const other = all.filter((l) => !isLuoRow(l));
  const listOther = showAll || luo.length === 0;
  const sorted = [...sortLocks(luo, sort), ...(listOther ? sortLocks(other, sort) : [])];
  const rows: Row[] = sorted.map((l) => ({ key: `lock ${lockKey(l)}`, line: lockLine(l, ctx.width - 2), search: `${lockName(l)} ${l.address ?? ''} ${l.type ?? l.mode}`, open: { kind: 'lock', key: lockKey(l) } }));
  if (!listOther && other.length) rows.push({ key: 'other locks', line: otherLocksLine(other), search: 'other locks', open: { kind: 'locks', all: true } });
  const count = other.length === 0 ? `${all.length}` : `${luo.length} LUO-related, ${other.length} other${listOther ? '' : ' in one row'}`;
  const top: Line[] = [heading('LOCKS', all.length ? `${count} · sorted by ${sort} (s) · Enter: waits and owners` : '')];
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
      const out: Line[] = [blank(), heading(`${lockName(l)} ${l.type ?? l.mode}`, `wait: ${l.wait?.count ?? 0} timed, avg ${sum(l.wait, l.wait?.avg)} · hold: avg ${sum(l.hold, l.hold?.avg)}, max ${sum(l.hold, l.hold?.max)}`)];
      out.push(...waitDistribution(l, ctx.width, Math.max(1, budget - 6)));
      const waits = waitsOf(r, l);
      if (waits.length) out.push(heading('longest waits'), ...waits.slice(0, 3).map(waitLine));
      return out.slice(0, budget);
    },
  };
}

/** What the list of longest waits holds, beside the lock's true counts. */
function keptWaits(l: LockRow, kept: number): string {
  const timed = l.wait?.count ?? 0;
  if (kept) return `${kept} of ${fmtCount(timed)} timed waits · Enter: its raw lines`;
  if (l.longestWaits === undefined) return 'none kept in this report';
  if (l.contended) return `no complete wait: its ${fmtCount(l.contended)} contended acquisitions have no timed wait (cut by the trace edges or lost events)`;
  return 'no contention on this lock';
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
        `acquired ${l.acquisitions === undefined ? '-' : fmtCount(l.acquisitions)} · contended ${l.contended === undefined ? '-' : fmtCount(l.contended)} · wait total ${sum(l.wait, l.wait?.total)}, max ${sum(l.wait, l.wait?.max)} · hold total ${sum(l.hold, l.hold?.total)}, max ${sum(l.hold, l.hold?.max)}`,
      ),
    ],
    blank(),
  ];
  // Room for the list of waits below: the distribution and the chart share what is left.
  const tall = ctx.height >= 30;
  const distRows = Math.max(3, tall ? 12 : Math.floor((ctx.height - 12) / 2));
  const merged = (l.waitHistogram?.length ?? 0) > distRows;
  top.push(heading('wait distribution', l.waitHistogram?.length ? (merged ? 'log2 buckets, neighbours merged to fit' : 'log2 buckets') : 'percentiles'));
  top.push(...waitDistribution(l, ctx.width, distRows));
  const timed = waits.filter((w) => w.begin !== undefined);
  if (timed.length >= 2) {
    const ms = timed.some((w) => w.duration >= 10_000_000);
    const pts = timed.map((w) => ({ time: w.begin as number, value: w.duration / (ms ? 1e6 : 1e3) })).sort((a, b) => a.time - b.time);
    const max = Math.max(...pts.map((p) => p.value));
    const values = resample(pts, pts[0].time, pts[pts.length - 1].time, chartColumns(ctx.width, max));
    top.push(blank(), heading(`wait over time (${ms ? 'ms' : 'µs'})`, `the ${timed.length} slowest waits kept, ${fmtSeconds(pts[0].time)}..${fmtSeconds(pts[pts.length - 1].time)} s`));
    top.push(...lineChart(values, ctx.width, tall ? 5 : 2).map((t) => [seg(t, { color: 'cyan' })]));
  }
  top.push(blank(), heading('longest waits and who held the lock', keptWaits(l, waits.length)));
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
