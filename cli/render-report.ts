// Text rendering of the analyze report: verdicts first, then the sections in the order a user
// reads them when diagnosing a live update.
import type { AnalyzeReport } from '../analyses/report.js';
import { renderQualityText, span } from './summary.js';

export function renderReportText(r: AnalyzeReport): string {
  const out: string[] = [];
  out.push(`luotrace ${r.tool.version}: ${r.sources.map((s) => `${s.file} (${s.format}, ${s.events} events, ${span(s.firstTime, s.lastTime, s.timeUnit)})`).join('; ')}`);
  out.push('');
  out.push(renderQualityText(r.dataQuality));
  return `${out.join('\n')}\n`;
}
