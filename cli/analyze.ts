// `luotrace analyze FILE...`: verdicts first, then sessions, pin windows, refcounts, locks and data
// quality; `--json` prints the whole report as one document (analyses/report.ts).
import { type Command, Option } from 'commander';
import type { SourceInfo, TraceEvent } from '../parsers/event.js';
import { InputError, type ReadOptions } from '../parsers/index.js';
import type { DataQuality } from '../parsers/quality.js';
import { loadSymbolFile } from '../parsers/kallsyms.js';
import type { SymbolTable } from '../parsers/kallsyms.js';
import { LOCK_SORT_KEYS, type LockOptions, type LockSortKey, createLockAnalysis } from '../analyses/locks.js';
import { LuoCallTracker } from '../analyses/luo-calls.js';
import { LuoAnalysis } from '../analyses/luo.js';
import { KERNEL_MODELS, type KernelModelId } from '../analyses/kernel-models.js';
import { ReorderBuffer } from '../analyses/order.js';
import type { AnalyzeReport } from '../analyses/report.js';
import { filterLuoSection, type ReportFilters } from '../analyses/filters.js';
import { writeCsvTables } from './export/csv.js';
import { writeJson } from './json-out.js';
import { BufferedWriter } from './output.js';
import { formatOption, parseFormat, resolveThreads, threadsOption } from './options.js';
import { readTracesOn } from '../parsers/threaded.js';
import { renderReportText } from './render-report.js';
import { refcountChartLines } from './render-charts.js';
import { progressLine } from './progress.js';
import { RefcountSeries } from '../analyses/refcount-series.js';
import { TOOL_VERSION } from './version.js';
import { createBpftraceMapsAnalysis } from '../analyses/bpftrace-maps.js';
import { renderBpftraceMapsText } from './render-bpftrace-maps.js';
import { visibleText } from './visible.js';

/** Formats whose events arrive merged by timestamp already (trace-formats.md §1.1, §2). */
export const ORDERED_FORMATS = new Set<string>(['ftrace', 'trace-pipe', 'trace-cmd', 'function-graph', 'latency', 'console']);

export interface AnalyzeOptions {
  /** Also write the report's tables as CSV files into this directory (cli/export/csv.ts). */
  csv?: string;
  format?: string;
  json?: boolean;
  kallsyms?: string;
  kernelModel?: string;
  limit?: string;
  /** `--no-charts` sets it false: no refcnt charts in the text report. */
  charts?: boolean;
  /** `--progress` / `--no-progress` (cli/progress.ts); unset: when stderr is a terminal. */
  progress?: boolean;
  module?: string;
  session?: string;
  pid?: string;
  since?: string;
  until?: string;
  /** Locks section: sort key and filters (perf lock's -k, -L, -Y). */
  sort?: LockSortKey;
  lock?: string;
  type?: string;
  /** `--threads` (cli/options.ts): auto, 1 or 2; unset = 1 (library callers, fleet workers). */
  threads?: string;
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

/** What callers can observe while the analyses run (beyond the report). */
export interface AnalysisHooks {
  /** Every finished lock hold and wait (LockOptions.onInterval), e.g. for the Chrome export's timeline. */
  onLockInterval?: LockOptions['onInterval'];
  /** Every event of the ordered stream, after the analyses saw it (e.g. the text report's refcnt chart). */
  onEvent?: (ev: TraceEvent) => void;
}

/** The analyses of one run, fed event by event; `report` can be called again after more events (the TUI's --follow). */
export interface AnalysisPipeline {
  push(ev: TraceEvent): void;
  /** A source starts: its format decides whether its events need re-ordering (readTraces' onSourceStart). */
  sourceFormat(format: string): void;
  /** Pass on the events the reorder window still holds (end of input, or an idle live stream). */
  flush(): void;
  report(read: { sources: SourceInfo[]; quality: DataQuality }): AnalyzeReport;
}

export async function createAnalysis(opts: AnalyzeOptions, hooks: AnalysisHooks = {}): Promise<AnalysisPipeline> {
  let symbols: SymbolTable | null = null;
  if (opts.kallsyms) symbols = await loadSymbolFile(opts.kallsyms);
  const calls = new LuoCallTracker();
  if (opts.kernelModel && !Object.hasOwn(KERNEL_MODELS, opts.kernelModel)) {
    throw new InputError('--kernel-model', `unknown model ${opts.kernelModel}; one of: ${Object.keys(KERNEL_MODELS).join(', ')}`);
  }
  const luo = new LuoAnalysis({ kernelModel: opts.kernelModel as KernelModelId | undefined, calls });
  const filters = reportFilters(opts);
  const locks = createLockAnalysis({
    symbols,
    calls,
    sort: opts.sort,
    filters: {
      lock: opts.lock ?? null,
      type: opts.type ?? null,
      session: filters.session ?? null,
      pids: filters.pid === undefined ? [] : [filters.pid],
      since: filters.since ?? null,
      until: filters.until ?? null,
    },
    onInterval: hooks.onLockInterval,
  });
  const ordered = new ReorderBuffer((ev: TraceEvent) => {
    calls.push(ev);
    luo.push(ev);
    locks.push(ev);
    hooks.onEvent?.(ev);
  });
  // bpftrace maps are not points in time: collected as read, outside the ordered stream (issue #5).
  const bpftraceMaps = createBpftraceMapsAnalysis();
  return {
    push(ev) {
      if (ev.kind === 'bpftrace_map') bpftraceMaps.push(ev);
      else ordered.push(ev);
    },
    // bpftrace drains per-CPU buffers in turn: the real captures lag by up to 35 s (contention
    // run), so unordered sources are sorted whole, up to the buffer's cap (order.ts).
    sourceFormat: (format) => ordered.setWindow(ORDERED_FORMATS.has(format) ? 0 : Number.POSITIVE_INFINITY),
    flush: () => ordered.flush(),
    report(read) {
      const quality = { ...read.quality, notes: [...read.quality.notes] };
      if (ordered.lateEvents > 0) {
        quality.notes.push(
          `${ordered.lateEvents} events arrived out of time order by up to ${(ordered.maxLagNs / 1e9).toFixed(3)} s beyond what could be re-ordered; pairing around them may be off`,
        );
      }
      const ctx = { sources: read.sources, quality };
      const luoSection = filterLuoSection(luo.finish(ctx), filters, quality);
      const lockSection = locks.finish(ctx);
      const { locks: lockRows, ...lockDetails } = lockSection;
      return {
        tool: { name: 'luotrace', version: TOOL_VERSION },
        sources: read.sources,
        ...luoSection,
        locks: lockRows,
        lockDetails,
        dataQuality: quality,
        ...bpftraceMaps.finish(ctx),
      };
    },
  };
}

/** Read the inputs and run every analysis over one ordered event stream. */
export async function runAnalysis(files: string[], opts: AnalyzeOptions, hooks: AnalysisHooks & Pick<ReadOptions, 'onProgress'> = {}): Promise<AnalyzeReport> {
  const pipeline = await createAnalysis(opts, hooks);
  const read = await readTracesOn(resolveThreads(opts.threads, files), files, pipeline.push, {
    format: parseFormat(opts.format),
    onSourceStart: (_src, _file, format) => pipeline.sourceFormat(format),
    onProgress: hooks.onProgress,
  });
  pipeline.flush();
  return pipeline.report(read);
}

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('what happened in each live update: verdicts, sessions, module pins, refcounts, locks')
    .argument('<files...>', 'trace files of one run (several files = several boots or renderings), or - for stdin')
    .option('--json', 'print the report as one JSON document (see `luotrace schema analyze`)')
    .option('--csv <dir>', 'also write the tables (sessions, phases, pin windows, refcounts, lock stats, waits) as CSV files into DIR')
    .option('--kallsyms <file>', 'a copy of /proc/kallsyms or System.map to name raw addresses')
    .option('--kernel-model <model>', 'force the LUO code version: pre-series, v1, merged, later')
    .option('--limit <n>', 'rows shown per list in the text report', '20')
    .option('--no-charts', 'text report: leave out the refcnt-over-time charts')
    .option('--progress', 'show reading progress on stderr even when it is not a terminal (one line per update)')
    .option('--no-progress', 'no reading progress (by default shown on a terminal when reading takes over a second)')
    .option('--module <name>', 'only this module (pins, refcounts, rmmod)')
    .option('--session <name>', 'only this session (its phases, pins and lock waits)')
    .option('--pid <pid>', 'only what this task did')
    .option('--since <seconds>', 'only what happened at or after this trace time (seconds, as printed)')
    .option('--until <seconds>', 'only what happened at or before this trace time (seconds)')
    .addOption(new Option('-k, --sort <key>', 'locks: sort rows by this perf lock key').choices([...LOCK_SORT_KEYS]).default('wait_total'))
    .option('--lock <name>', 'locks: only locks whose name, symbol or address contains this')
    .option('--type <type>', 'locks: only this type or mode (rwsem:R, rwsem:W, rwsem, mutex, spinlock, R, W)')
    .addOption(formatOption())
    .addOption(threadsOption())
    .action(runAnalyze);
}

/** The `analyze` command's work: also what `luotrace FILE...` does when stdout is not a terminal. */
export async function runAnalyze(files: string[], opts: AnalyzeOptions): Promise<void> {
  // The charts need every refcnt= value, which the report does not keep: collected while reading.
  const series = !opts.json && opts.charts !== false ? new RefcountSeries() : null;
  const progress = progressLine(opts, files.length);
  let report: AnalyzeReport;
  try {
    report = await runAnalysis(files, opts, { onEvent: series ? (ev) => series.push(ev) : undefined, onProgress: progress.onProgress });
  } finally {
    progress.done();
  }
  if (opts.csv) await writeCsvTables(report, opts.csv);
  const out = new BufferedWriter();
  if (opts.json) {
    writeJson(out, report);
    out.write('\n');
  } else {
    out.write(
      visibleText(
        renderReportText(report, {
          limit: Math.max(1, Number(opts.limit) || 20),
          refcountChart: series ? (m) => refcountChartLines(series, report, m) : undefined,
        }),
      ),
    );
    if (report.bpftraceMaps.length > 0) out.write(visibleText(`\n${renderBpftraceMapsText(report)}`));
  }
  await out.flush();
}
