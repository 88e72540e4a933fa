// Text charts for the TUI: asciichart line charts over time, horizontal bars, pin-window bars,
// sparklines and progress bars. All return plain strings of a known width.
import asciichart from 'asciichart';
import type { RefcntPoint } from '../../analyses/luo/refcount-series.js';
import { fmtDuration, fmtSeconds, padEnd, padStart } from './text.js';

/** Lowest and highest of many values (Math.min(...xs) overflows the stack past ~10^5 values). */
export function extent(values: Iterable<number>): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : null;
}

export interface TimePoint {
  time: number;
  value: number;
}

/**
 * A step function sampled into `n` columns between t0 and t1: each column shows the highest
 * (`pick` max) or lowest (`pick` min) value seen in it, or the value carried from the left when
 * nothing happened there.
 */
export function resample(points: TimePoint[], t0: number, t1: number, n: number, pick: 'max' | 'min' = 'max'): number[] {
  const out: number[] = new Array(n);
  if (points.length === 0 || n <= 0) return [];
  const span = Math.max(1, t1 - t0);
  let carry = points[0].value;
  let i = 0;
  for (let c = 0; c < n; c++) {
    const end = t0 + ((c + 1) * span) / n;
    let best: number | null = null;
    while (i < points.length && (points[i].time < end || c === n - 1)) {
      const v = points[i].value;
      best = best === null ? v : pick === 'max' ? Math.max(best, v) : Math.min(best, v);
      carry = points[i].value;
      i++;
    }
    out[c] = best ?? carry;
  }
  return out;
}

/** Width of the value labels left of a chart whose values reach `max`. */
export function chartLabelWidth(max: number): number {
  return Math.max(3, String(Math.round(max)).length);
}

/** Data columns of a `width`-column chart (the labels and the axis take the rest). */
export function chartColumns(width: number, max: number): number {
  return Math.max(2, width - chartLabelWidth(max) - 2);
}

/**
 * An asciichart line chart `width` columns wide and at most `height` + 1 rows high. Give it
 * chartColumns(width, max) values (others are stretched to fit).
 */
export function lineChart(values: number[] | number[][], width: number, height: number): string[] {
  const series = (typeof values[0] === 'number' ? [values as number[]] : (values as number[][])).filter((v) => v.length > 0);
  if (series.length === 0) return [];
  const all = series.flat();
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const labelWidth = chartLabelWidth(Math.max(Math.abs(lo), Math.abs(hi)));
  const n = Math.max(2, width - labelWidth - 2);
  const fitted = series.map((v) => (v.length === n ? v : stretch(v, n)));
  const text = asciichart.plot(fitted, {
    height: Math.max(1, Math.min(height, hi - lo || 1)),
    format: (x: number) => padStart(String(Math.round(x)), labelWidth),
    min: lo,
    max: hi === lo ? lo + 1 : hi,
  });
  return text.split('\n').map((l) => padEnd(l, width));
}

/**
 * A module's raw refcnt over time (Modules screen and the text report): `rows` of the line chart
 * and the time axis under it, `width` columns each. Where a column stands for several values the
 * highest and the lowest are both drawn (`band`), so a drop to idle between two peaks still shows.
 */
export function refcountPlot(pts: RefcntPoint[], width: number, height: number): { rows: string[]; axis: string; band: boolean } {
  const range = extent(pts.map((p) => p.time)) ?? [0, 1];
  const max = extent(pts.map((p) => p.max))?.[1] ?? 0;
  const n = chartColumns(width, max);
  const hi = resample(pts.map((p) => ({ time: p.time, value: p.max })), range[0], range[1], n, 'max');
  const lo = resample(pts.map((p) => ({ time: p.time, value: p.min })), range[0], range[1], n, 'min');
  const band = hi.some((v, i) => v !== lo[i]);
  const rows = lineChart(band ? [hi, lo] : [hi], width, height);
  const left = `${fmtSeconds(range[0])} s`;
  const right = `${fmtSeconds(range[1])} s`;
  const axis = ' '.repeat(width - n) + (n >= left.length + right.length + 1 ? left + ' '.repeat(n - left.length - right.length) + right : left);
  return { rows, axis, band };
}

function stretch(values: number[], n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(values[Math.min(values.length - 1, Math.floor((i * values.length) / n))]);
  return out;
}

/**
 * One pin window on a shared time axis: `█` while held, `▶` at the right edge when it was never
 * released inside the trace.
 */
export function windowBar(width: number, t0: number, t1: number, start: number | null, end: number | null): string {
  if (width <= 0) return '';
  const span = Math.max(1, t1 - t0);
  const col = (t: number) => Math.max(0, Math.min(width - 1, Math.floor(((t - t0) / span) * width)));
  const cells = new Array<string>(width).fill(' ');
  if (start === null) return cells.join('');
  const a = col(start);
  const b = end === null ? width - 1 : col(end);
  for (let c = a; c <= b; c++) cells[c] = '█';
  if (end === null) cells[width - 1] = '▶';
  return cells.join('');
}

const SPARK = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

export function sparkline(values: number[]): string {
  const hi = Math.max(0, ...values);
  return values.map((v) => (v <= 0 ? ' ' : SPARK[Math.min(SPARK.length - 1, Math.floor((v / hi) * (SPARK.length - 1)))])).join('');
}

export function progressBar(width: number, fraction: number | null): string {
  if (fraction === null) return '·'.repeat(width);
  const full = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

export interface Bucket {
  low: number;
  high: number;
  count: number;
}

/** A log2 histogram as bpftrace prints it: `[1µs, 2µs)  ███  12`. */
export function histogramLines(buckets: Bucket[], width: number): string[] {
  if (buckets.length === 0) return [];
  const max = Math.max(...buckets.map((b) => b.count));
  const labels = buckets.map((b) => `[${fmtDuration(b.low)}, ${fmtDuration(b.high)})`);
  const lw = Math.max(...labels.map((l) => l.length));
  const cw = Math.max(...buckets.map((b) => String(b.count).length));
  const barWidth = Math.max(1, width - lw - cw - 4);
  return buckets.map((b, i) => `${padEnd(labels[i], lw)}  ${padEnd('█'.repeat(Math.max(1, Math.round((b.count / max) * barWidth))), barWidth)}  ${padStart(String(b.count), cw)}`);
}

/** Labelled horizontal bars (percentiles when no histogram is available). */
export function barLines(rows: Array<{ label: string; value: number; text: string }>, width: number): string[] {
  if (rows.length === 0) return [];
  const max = Math.max(...rows.map((r) => r.value), 1);
  const lw = Math.max(...rows.map((r) => r.label.length));
  const tw = Math.max(...rows.map((r) => r.text.length));
  const barWidth = Math.max(1, width - lw - tw - 4);
  return rows.map((r) => `${padEnd(r.label, lw)}  ${padEnd('█'.repeat(Math.max(r.value > 0 ? 1 : 0, Math.round((r.value / max) * barWidth))), barWidth)}  ${padStart(r.text, tw)}`);
}
