// Charts for the text report: a module's raw refcnt over time, the same plot as the TUI's
// Modules screen (cli/tui/charts.ts refcountPlot).
import { modulePoints, type RefcountSeries } from '../analyses/luo/refcount-series.js';
import type { AnalyzeReport } from '../analyses/report.js';
import { refcountPlot } from './tui/charts.js';

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
  const { rows, axis, band } = refcountPlot(pts, size.width, size.height);
  return [`refcnt over time (${pts.length} module_get/put values${band ? '; highest and lowest per column' : ''}):`, ...rows.map((l) => l.trimEnd()), axis];
}
