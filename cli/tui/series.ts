// Refcount over time for the Modules chart: the raw `refcnt=` each module_get/module_put printed
// (MODULE_REF_BASE included, real README O11), per source and module. Memory is bounded: past
// MAX_POINTS a series is halved, keeping the higher value of each pair so peaks stay visible.
import type { TraceEvent } from '../../parsers/event.js';

const MAX_POINTS = 2048;

export interface RefcntPoint {
  time: number;
  refcnt: number;
}

export class RefcountSeries {
  private readonly series = new Map<string, { t: number[]; v: number[] }>();

  push(ev: TraceEvent): void {
    if ((ev.kind !== 'module_get' && ev.kind !== 'module_put') || ev.time === null) return;
    const key = `${ev.src}\n${ev.fields.module}`;
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { t: [], v: [] }));
    s.t.push(ev.time);
    s.v.push(ev.fields.refcnt);
    if (s.t.length >= MAX_POINTS) halve(s);
  }

  /** Points of `module` in source `src`, in time order. */
  points(src: number, module: string): RefcntPoint[] {
    const s = this.series.get(`${src}\n${module}`);
    if (!s) return [];
    const out = s.t.map((time, i) => ({ time, refcnt: s.v[i] }));
    // Sources are read in file order; CPUs interleave a little (order.ts), so sort for the chart.
    return out.sort((a, b) => a.time - b.time);
  }
}

function halve(s: { t: number[]; v: number[] }): void {
  const t: number[] = [];
  const v: number[] = [];
  for (let i = 0; i < s.t.length; i += 2) {
    const j = i + 1 < s.t.length && s.v[i + 1] > s.v[i] ? i + 1 : i;
    t.push(s.t[j]);
    v.push(s.v[j]);
  }
  s.t = t;
  s.v = v;
}
