// `luotrace analyze FILE...`: verdicts first, then sessions, pin windows, refcounts, locks and data
// quality; `--json` prints the whole report as one document (analyses/report.ts).
import type { Command } from 'commander';
import type { TraceEvent } from '../parsers/event.js';
import { readTraces } from '../parsers/index.js';
import { loadSymbolFile } from '../parsers/kallsyms.js';
import type { SymbolTable } from '../parsers/kallsyms.js';
import { createLockAnalysis } from '../analyses/locks.js';
import { LuoCallTracker } from '../analyses/luo-calls.js';
import { createLuoAnalysis } from '../analyses/luo.js';
import { ReorderBuffer } from '../analyses/order.js';
import type { AnalyzeReport } from '../analyses/report.js';
import { BufferedWriter } from './output.js';
import { formatOption, parseFormat } from './options.js';
import { renderReportText } from './render-report.js';
import { TOOL_VERSION } from './version.js';
import { createBpftraceMapsAnalysis } from '../analyses/bpftrace-maps.js';
import { renderBpftraceMapsText } from './render-bpftrace-maps.js';

export interface AnalyzeOptions {
  format?: string;
  json?: boolean;
  kallsyms?: string;
  kernelModel?: string;
}

/** Read the inputs and run every analysis over one ordered event stream. */
export async function runAnalysis(files: string[], opts: AnalyzeOptions): Promise<AnalyzeReport> {
  let symbols: SymbolTable | null = null;
  if (opts.kallsyms) symbols = await loadSymbolFile(opts.kallsyms);
  const calls = new LuoCallTracker();
  const luo = createLuoAnalysis({ kernelModel: opts.kernelModel });
  const locks = createLockAnalysis({ symbols, calls });
  const ordered = new ReorderBuffer((ev: TraceEvent) => {
    calls.push(ev);
    luo.push(ev);
    locks.push(ev);
  });
  // bpftrace maps are not points in time: collected as read, outside the ordered stream (issue #5).
  const bpftraceMaps = createBpftraceMapsAnalysis();
  const read = await readTraces(
    files,
    (ev) => {
      if (ev.kind === 'bpftrace_map') bpftraceMaps.push(ev);
      else ordered.push(ev);
    },
    { format: parseFormat(opts.format) },
  );
  ordered.flush();
  const ctx = { sources: read.sources, quality: read.quality };
  const luoSection = luo.finish(ctx);
  const lockSection = locks.finish(ctx);
  const { locks: lockRows, ...lockDetails } = lockSection;
  return {
    tool: { name: 'luotrace', version: TOOL_VERSION },
    sources: read.sources,
    ...luoSection,
    locks: lockRows,
    lockDetails,
    dataQuality: read.quality,
    ...bpftraceMaps.finish(ctx),
  };
}

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('what happened in each live update: verdicts, sessions, module pins, refcounts, locks')
    .argument('<files...>', 'trace files of one run (several files = several boots or renderings), or - for stdin')
    .option('--json', 'print the report as one JSON document (see `luotrace schema analyze`)')
    .option('--kallsyms <file>', 'a copy of /proc/kallsyms or System.map to name raw addresses')
    .option('--kernel-model <model>', 'force the LUO code version: pre-series, v1, merged, later')
    .addOption(formatOption())
    .action(async (files: string[], opts: AnalyzeOptions) => {
      const report = await runAnalysis(files, opts);
      const out = new BufferedWriter();
      out.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : renderReportText(report));
      if (!opts.json && report.bpftraceMaps.length > 0) out.write(`\n${renderBpftraceMapsText(report)}`);
      await out.flush();
    });
}
