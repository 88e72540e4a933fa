// The pipeline every command runs: build the analyses from the options (LUO, locks, bpftrace maps
// over one re-ordered event stream), feed them the events of the inputs, and return the report
// (analyses/report.ts). analyze, check, diff, export, fleet and the TUI all get their report here.
import { InvalidArgumentError } from 'commander';
import { INPUT_FORMATS, type InputFormat, type SourceInfo, type TraceEvent } from '../parsers/event.js';
import { InputError, type ReadOptions } from '../parsers/index.js';
import type { DataQuality } from '../parsers/quality.js';
import { loadSymbolFile } from '../parsers/kallsyms.js';
import type { SymbolTable } from '../parsers/kallsyms.js';
import { readTracesOn, resolveThreads } from '../parsers/threaded.js';
import { type LockOptions, type LockSortKey, createLockAnalysis } from './locks/locks.js';
import { LuoCallTracker } from './stream/luo-calls.js';
import { LuoAnalysis, type LuoOptions } from './luo/luo.js';
import { KERNEL_MODELS, type KernelModelId } from './kernel/kernel-models.js';
import { ReorderBuffer } from './stream/order.js';
import { feedInOrder } from './stream/reducer.js';
import type { AnalysisResult, AnalyzeReport } from './report.js';
import { filterLuoSection, type ReportFilters } from './luo/filters.js';
import { evaluateVerdicts } from './luo/verdicts/registry.js';
import { TOOL_VERSION } from './version.js';
import { createBpftraceMapsAnalysis } from './bpftrace-maps.js';
import { RenderingMatcher } from './stream/renderings.js';

/** Formats whose events arrive merged by timestamp already (docs/trace-formats.md §1.1, §2). */
export const ORDERED_FORMATS = new Set<string>(['ftrace', 'trace-pipe', 'trace-cmd', 'function-graph', 'latency', 'console']);

/** What the analyses take from the command line (the commands add their own output options). */
export interface AnalysisOptions {
  format?: string;
  kallsyms?: string;
  kernelModel?: string;
  module?: string;
  session?: string;
  pid?: string;
  since?: string;
  until?: string;
  /** Locks section: sort key and filters (perf lock's -k, -L, -Y). */
  sort?: LockSortKey;
  lock?: string;
  type?: string;
  /** `--threads` (resolveThreads, parsers/threaded.ts): auto, 1 or 2; unset = 1 (library callers, fleet workers). */
  threads?: string;
}

/** `--since 86.7` (seconds, as the trace prints them) -> ns. */
function seconds(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InputError(flag, `not a number of seconds: ${v}`);
  return Math.round(n * 1e9);
}

export function reportFilters(opts: AnalysisOptions): ReportFilters {
  const pid = opts.pid === undefined ? undefined : Number(opts.pid);
  if (pid !== undefined && !Number.isInteger(pid)) throw new InputError('--pid', `not a pid: ${opts.pid}`);
  return { module: opts.module, session: opts.session, pid, since: seconds('--since', opts.since), until: seconds('--until', opts.until) };
}

/** What callers can observe while the analyses run (beyond the report). */
export interface AnalysisHooks {
  /** Every finished lock hold and wait (LockOptions.onInterval), e.g. for the Chrome export's timeline. */
  onLockInterval?: LockOptions['onInterval'];
  /** Each ended session past the report's listing cap, with its phases, before only its counts are kept. */
  onOmittedSession?: LuoOptions['onOmittedSession'];
  /** Every event of the ordered stream, after the analyses saw it (e.g. the text report's refcnt chart). */
  onEvent?: (ev: TraceEvent) => void;
}

/**
 * The analyses of one run, fed event by event. A `snapshot` report can be taken at any point and
 * more events fed after it (the TUI's --follow): it closes nothing. The final report (the default)
 * ends what is still open with the trace; it can be taken again, but no events may follow it.
 */
export interface AnalysisPipeline {
  push(ev: TraceEvent): void;
  /** A source starts: its format decides whether its events need re-ordering (readTraces' onSourceStart). */
  sourceFormat(format: string): void;
  /** Pass on the events the reorder window still holds (end of input, or an idle live stream). */
  flush(): void;
  report(read: { sources: SourceInfo[]; quality: DataQuality }, mode?: { snapshot?: boolean }): AnalyzeReport;
  /** The report with the lock rows' distributions (what fleet summaries need). */
  result(read: { sources: SourceInfo[]; quality: DataQuality }): AnalysisResult;
}

export async function createAnalysis(opts: AnalysisOptions, hooks: AnalysisHooks = {}): Promise<AnalysisPipeline> {
  let symbols: SymbolTable | null = null;
  if (opts.kallsyms) symbols = await loadSymbolFile(opts.kallsyms);
  const calls = new LuoCallTracker();
  if (opts.kernelModel && !Object.hasOwn(KERNEL_MODELS, opts.kernelModel)) {
    throw new InputError('--kernel-model', `unknown model ${opts.kernelModel}; one of: ${Object.keys(KERNEL_MODELS).join(', ')}`);
  }
  const luo = new LuoAnalysis({ kernelModel: opts.kernelModel as KernelModelId | undefined, calls, onOmittedSession: hooks.onOmittedSession });
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
  const onEvent = hooks.onEvent;
  const ordered = new ReorderBuffer(feedInOrder(calls, onEvent ? [luo, locks, { push: (ev) => onEvent(ev) }] : [luo, locks]));
  // bpftrace maps are not points in time: collected as read, outside the ordered stream (issue #5).
  const bpftraceMaps = createBpftraceMapsAnalysis();
  const renderings = new RenderingMatcher();
  const pipeline: AnalysisPipeline = {
    report: (read, mode) => assemble(read, false, mode?.snapshot === true).report,
    result: (read) => assemble(read, true),
    push(ev) {
      if (ev.kind === 'bpftrace_map') bpftraceMaps.push(ev);
      else {
        renderings.push(ev);
        ordered.push(ev);
      }
    },
    // bpftrace drains per-CPU buffers in turn: the real captures lag by up to 35 s (contention
    // run), so unordered sources are sorted whole, up to the buffer's cap (stream/order.ts).
    sourceFormat: (format) => ordered.setWindow(ORDERED_FORMATS.has(format) ? 0 : Number.POSITIVE_INFINITY),
    flush: () => ordered.flush(),
  };
  return pipeline;

  /** The report; the lock rows' distributions only when asked for (serializing them is wasted on most commands). */
  function assemble(read: { sources: SourceInfo[]; quality: DataQuality }, withDistributions: boolean, snapshot = false): AnalysisResult {
    refuseRenderings(renderings, read.sources);
    const quality = { ...read.quality, notes: [...read.quality.notes] };
    if (ordered.lateEvents > 0) {
      quality.notes.push(
        `${ordered.lateEvents} events arrived out of time order by up to ${(ordered.maxLagNs / 1e9).toFixed(3)} s beyond what could be re-ordered; pairing around them may be off`,
      );
    }
    const ctx = snapshot ? { sources: read.sources, quality, snapshot } : { sources: read.sources, quality };
    // Verdicts are evaluated once, on what the report filters keep.
    const luoBody = filterLuoSection(luo.finish(ctx), filters);
    const luoSection = { ...luoBody, verdicts: evaluateVerdicts(luoBody, quality) };
    const lockResult = withDistributions ? locks.result(ctx) : { section: locks.finish(ctx), distributions: [] };
    const { locks: lockRows, ...lockDetails } = lockResult.section;
    const report: AnalyzeReport = {
      tool: { name: 'luotrace', version: TOOL_VERSION },
      sources: read.sources,
      ...luoSection,
      locks: lockRows,
      lockDetails,
      dataQuality: quality,
      ...bpftraceMaps.finish(ctx),
    };
    return { report, lockDistributions: lockResult.distributions };
  }
}

/**
 * The same run given twice (two renderings of one capture, stream/renderings.ts) is refused with one
 * line, exit 2: every count would be doubled (README "Several inputs").
 */
function refuseRenderings(renderings: RenderingMatcher, sources: SourceInfo[]): void {
  const d = renderings.duplicates()[0];
  if (!d) return;
  const file = (src: number) => sources[src]?.file ?? `input ${src + 1}`;
  throw new InputError(
    file(d.src),
    `the same run as ${file(d.of)}, in another rendering: ${d.matched} of its first ${d.sampled} identifying events are in both at the same times; reading both would count every event twice, give only one of them`,
  );
}

/**
 * An analysis of nothing proves nothing: inputs without a single event (a header-only trace, CR-only
 * line ends, one overlong line) are unusable, exit 2, in every command (README "Bad input").
 */
export function assertUsable(read: { sources: SourceInfo[] }, why = 'nothing to check'): void {
  const events = read.sources.reduce((a, s) => a + s.events, 0);
  if (events === 0) {
    throw new InputError(read.sources.map((s) => s.file).join(', ') || '(no input)', `no trace events in these inputs: ${why}`);
  }
}

/** Read the inputs and run every analysis over one ordered event stream. */
export async function runAnalysis(files: string[], opts: AnalysisOptions, hooks: AnalysisHooks & Pick<ReadOptions, 'onProgress'> = {}): Promise<AnalyzeReport> {
  const { pipeline, read } = await feed(files, opts, hooks);
  return pipeline.report(read);
}

/** runAnalysis, with the distributions behind the lock rows beside the report (what fleet summaries need). */
export async function runAnalysisWithDistributions(files: string[], opts: AnalysisOptions, hooks: AnalysisHooks & Pick<ReadOptions, 'onProgress'> = {}): Promise<AnalysisResult> {
  const { pipeline, read } = await feed(files, opts, hooks);
  return pipeline.result(read);
}

async function feed(files: string[], opts: AnalysisOptions, hooks: AnalysisHooks & Pick<ReadOptions, 'onProgress'>) {
  const pipeline = await createAnalysis(opts, hooks);
  const read = await readTracesOn(resolveThreads(opts.threads, files), files, pipeline.push, {
    format: parseFormat(opts.format),
    onSourceStart: (_src, _file, format) => pipeline.sourceFormat(format),
    onProgress: hooks.onProgress,
  });
  pipeline.flush();
  return { pipeline, read };
}

/** `--format NAME` -> the input format (commander's error type, so the CLI reports it as before). */
export function parseFormat(value: string | undefined): InputFormat | undefined {
  if (value === undefined) return undefined;
  if (!(INPUT_FORMATS as readonly string[]).includes(value)) throw new InvalidArgumentError(`unknown format ${value}`);
  return value as InputFormat;
}
