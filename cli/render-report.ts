// Text rendering of the analyze report: verdicts first, then the sections in the order a user
// reads them when diagnosing a live update.
import type { AnalyzeReport } from '../analyses/report.js';
import { renderLocksText } from './render-locks.js';
import { type RenderOptions, renderLuoText } from './render-luo.js';
import { renderQualityText, span } from './summary.js';

export type ReportTextOptions = RenderOptions;

export function renderReportText(r: AnalyzeReport, opts: ReportTextOptions = { limit: 20 }): string {
  const out: string[] = [];
  out.push(`luotrace ${r.tool.version}`);
  for (const s of r.sources) out.push(`  ${s.file}: ${s.format}, ${s.events} events, ${span(s.firstTime, s.lastTime, s.timeUnit)}`);
  out.push('');
  for (const section of renderLuoText(r, opts)) {
    out.push(section, '');
  }
  out.push(renderLocksText(r, opts));
  out.push(renderQualityText(r.dataQuality));
  return `${out.join('\n')}\n`;
}
