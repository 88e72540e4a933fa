// Refcount over time for the Modules chart: the raw `refcnt=` each module_get/module_put printed
// (MODULE_REF_BASE included, real README O11), per source and module. Memory is bounded: past
// MAX_POINTS a series is halved, each kept point carrying the lowest and highest value of the pair
// it replaces, so neither peaks nor drops disappear.
import type { TraceEvent } from '../../parsers/event.js';

const MAX_POINTS = 2048;

export interface RefcntPoint {
  time: number;
  /** Highest and lowest refcnt this point stands for (equal unless the series was compacted). */
  max: number;
  min: number;
}

export class RefcountSeries {
  private readonly series = new Map<string, Series>();

  push(ev: TraceEvent): void {
    if ((ev.kind !== 'module_get' && ev.kind !== 'module_put') || ev.time === null) return;
    const key = `${ev.src}\n${ev.fields.module}`;
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { t: [], hi: [], lo: [], sorted: null }));
    s.sorted = null;
    s.t.push(ev.time);
    s.hi.push(ev.fields.refcnt);
    s.lo.push(ev.fields.refcnt);
    if (s.t.length >= MAX_POINTS) halve(s);
  }

  /** Points of `module` in source `src`, in time order (kept until the next event of that series). */
  points(src: number, module: string): RefcntPoint[] {
    const s = this.series.get(`${src}\n${module}`);
    if (!s) return [];
    if (!s.sorted) {
      // Sources are read in file order; CPUs interleave a little (analyses/stream/order.ts), so sort for the chart.
      s.sorted = s.t.map((time, i) => ({ time, max: s.hi[i], min: s.lo[i] })).sort((a, b) => a.time - b.time);
    }
    return s.sorted;
  }
}

interface Series {
  t: number[];
  hi: number[];
  lo: number[];
  sorted: RefcntPoint[] | null;
}

function halve(s: Series): void {
  const t: number[] = [];
  const hi: number[] = [];
  const lo: number[] = [];
  for (let i = 0; i < s.t.length; i += 2) {
    const j = Math.min(i + 1, s.t.length - 1);
    t.push(s.t[i]);
    hi.push(Math.max(s.hi[i], s.hi[j]));
    lo.push(Math.min(s.lo[i], s.lo[j]));
  }
  s.t = t;
  s.hi = hi;
  s.lo = lo;
}

/**
 * The refcnt= values behind one module entry of the report (a module in a boot): of the sources
 * that make up its boot, the one with the most values (several files of a boot are usually
 * renderings of the same run, so they are not added together).
 */
export function modulePoints(
  series: RefcountSeries,
  report: { sources: Array<{ file: string }>; boots: Array<{ id: number; files: string[] }> },
  module: { name: string; boot: number },
): RefcntPoint[] {
  const boot = report.boots.find((b) => b.id === module.boot);
  let best: RefcntPoint[] = [];
  report.sources.forEach((s, i) => {
    if (boot && !boot.files.includes(s.file)) return;
    const pts = series.points(i, module.name);
    if (pts.length > best.length) best = pts;
  });
  return best;
}
