// Charts for the text report: a module's raw refcnt over time (asciichart, the same drawing as
// the TUI's Modules screen). Where one column stands for several values, the highest and the
// lowest are both drawn, so a drop back to idle between two peaks still shows.
import { modulePoints, type RefcountSeries } from '../analyses/refcount-series.js';
import type { AnalyzeReport } from '../analyses/report.js';
import { chartColumns, extent, lineChart, resample } from './tui/charts.js';

export interface ChartSize {
  width: number;
  height: number;
}

/** Lines of the refcnt chart of one module entry, with its time axis; [] when it has no refcnt= values. */
export function refcountChartLines(
  series: RefcountSeries,
  report: Pick<AnalyzeReport, 'sources' | 'boots'>,
  module: { name: string; boot: number },
  size: ChartSize = { width: 72, height: 8 },
): string[] {
  const pts = modulePoints(series, report, module);
  if (pts.length < 2) return [];
  const range = extent(pts.map((p) => p.time)) ?? [0, 1];
  const max = extent(pts.map((p) => p.max))?.[1] ?? 0;
  const n = chartColumns(size.width, max);
  const hi = resample(pts.map((p) => ({ time: p.time, value: p.max })), range[0], range[1], n, 'max');
  const lo = resample(pts.map((p) => ({ time: p.time, value: p.min })), range[0], range[1], n, 'min');
  const band = hi.some((v, i) => v !== lo[i]);
  const chart = lineChart(band ? [hi, lo] : [hi], size.width, size.height).map((l) => l.trimEnd());
  const left = `${(range[0] / 1e9).toFixed(6)} s`;
  const right = `${(range[1] / 1e9).toFixed(6)} s`;
  const pad = ' '.repeat(size.width - n);
  const axis = pad + (n >= left.length + right.length + 1 ? left + ' '.repeat(n - left.length - right.length) + right : left);
  return [`refcnt over time (${pts.length} module_get/put values${band ? '; highest and lowest per column' : ''}):`, ...chart, axis];
}
