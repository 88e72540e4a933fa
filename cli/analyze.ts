// `luotrace analyze FILE...`: verdicts first, then sessions, pin windows, refcounts, locks and data
// quality; `--json` prints the whole report as one document (analyses/report.ts).
import type { Command } from 'commander';
import type { SourceInfo, TraceEvent } from '../parsers/event.js';
import type { DataQuality } from '../parsers/quality.js';
import { InputError, type ReadOptions, readTraces } from '../parsers/index.js';
import { loadSymbolFile } from '../parsers/kallsyms.js';
import type { SymbolTable } from '../parsers/kallsyms.js';
import { createLockAnalysis } from '../analyses/locks.js';
import { LuoCallTracker } from '../analyses/luo-calls.js';
import { LuoAnalysis } from '../analyses/luo.js';
import { KERNEL_MODELS, type KernelModelId } from '../analyses/kernel-models.js';
import { ReorderBuffer } from '../analyses/order.js';
import type { AnalyzeReport } from '../analyses/report.js';
import { filterLuoSection, type ReportFilters } from '../analyses/filters.js';
import { BufferedWriter } from './output.js';
import { formatOption, parseFormat } from './options.js';
import { renderReportText } from './render-report.js';
import { TOOL_VERSION } from './version.js';

export interface AnalyzeOptions {
  format?: string;
  json?: boolean;
  kallsyms?: string;
  kernelModel?: string;
  limit?: string;
  module?: string;
  session?: string;
  pid?: string;
  since?: string;
  until?: string;
}

/** `--since 86.7` (seconds, as the trace prints them) -> ns. */
function seconds(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InputError(flag, `not a number of seconds: ${v}`);
  return Math.round(n * 1e9);
}

export function reportFilters(opts: AnalyzeOptions): ReportFilters {
  const pid = opts.pid === undefined ? undefined : Number(opts.pid);
  if (pid !== undefined && !Number.isInteger(pid)) throw new InputError('--pid', `not a pid: ${opts.pid}`);
  return { module: opts.module, session: opts.session, pid, since: seconds('--since', opts.since), until: seconds('--until', opts.until) };
}

/** The analyses of one run, fed event by event; `report` can be called again after more events (the TUI's --follow). */
export interface AnalysisPipeline {
  push(ev: TraceEvent): void;
  /** Pass on the events the reorder window still holds (end of input, or an idle live stream). */
  flush(): void;
  report(read: { sources: SourceInfo[]; quality: DataQuality }): AnalyzeReport;
}

export async function createAnalysis(opts: AnalyzeOptions): Promise<AnalysisPipeline> {
  let symbols: SymbolTable | null = null;
  if (opts.kallsyms) symbols = await loadSymbolFile(opts.kallsyms);
  const calls = new LuoCallTracker();
  if (opts.kernelModel && !(opts.kernelModel in KERNEL_MODELS)) {
    throw new InputError('--kernel-model', `unknown model ${opts.kernelModel}; one of: ${Object.keys(KERNEL_MODELS).join(', ')}`);
  }
  const filters = reportFilters(opts);
  const luo = new LuoAnalysis({ kernelModel: opts.kernelModel as KernelModelId | undefined, calls });
  const locks = createLockAnalysis({ symbols, calls });
  const ordered = new ReorderBuffer((ev: TraceEvent) => {
    calls.push(ev);
    luo.push(ev);
    locks.push(ev);
  });
  return {
    push: (ev) => ordered.push(ev),
    flush: () => ordered.flush(),
    report(read) {
      const ctx = { sources: read.sources, quality: read.quality };
      const luoSection = filterLuoSection(luo.finish(ctx), filters, read.quality);
      const lockSection = locks.finish(ctx);
      const { locks: lockRows, ...lockDetails } = lockSection;
      return {
        tool: { name: 'luotrace', version: TOOL_VERSION },
        sources: read.sources,
        ...luoSection,
        locks: lockRows,
        lockDetails,
        dataQuality: read.quality,
      };
    },
  };
}

/** Read the inputs and run every analysis over one ordered event stream. */
export async function runAnalysis(files: string[], opts: AnalyzeOptions, read: Pick<ReadOptions, 'onProgress'> = {}): Promise<AnalyzeReport> {
  const pipeline = await createAnalysis(opts);
  const result = await readTraces(files, pipeline.push, { format: parseFormat(opts.format), onProgress: read.onProgress });
  pipeline.flush();
  return pipeline.report(result);
}

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('what happened in each live update: verdicts, sessions, module pins, refcounts, locks')
    .argument('<files...>', 'trace files of one run (several files = several boots or renderings), or - for stdin')
    .option('--json', 'print the report as one JSON document (see `luotrace schema analyze`)')
    .option('--kallsyms <file>', 'a copy of /proc/kallsyms or System.map to name raw addresses')
    .option('--kernel-model <model>', 'force the LUO code version: pre-series, v1, merged, later')
    .option('--limit <n>', 'rows shown per list in the text report', '20')
    .option('--module <name>', 'only this module (pins, refcounts, rmmod)')
    .option('--session <name>', 'only this session (its phases, pins and lock waits)')
    .option('--pid <pid>', 'only what this task did')
    .option('--since <seconds>', 'only what happened at or after this trace time (seconds, as printed)')
    .option('--until <seconds>', 'only what happened at or before this trace time (seconds)')
    .addOption(formatOption())
    .action(runAnalyze);
}

/** The `analyze` command's work: also what `luotrace FILE...` does when stdout is not a terminal. */
export async function runAnalyze(files: string[], opts: AnalyzeOptions): Promise<void> {
  const report = await runAnalysis(files, opts);
  const out = new BufferedWriter();
  out.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : renderReportText(report, { limit: Math.max(1, Number(opts.limit) || 20) }));
  await out.flush();
}
