// `luotrace export --format chrome-json|csv FILE...` (input format: --input-format): the analysis in formats other tools read.
//
// chrome-json: Chrome trace-event JSON for the Perfetto UI (ui.perfetto.dev, "Open trace file") and
// chrome://tracing (reports/chrome-trace.ts). The report comes from runAnalysis; the refcount
// samples and task names it does not keep come from a second streaming pass over the same files
// (so stdin cannot be used for this format). csv: one CSV file per table (reports/csv.ts), the
// same tables `analyze --csv DIR` writes.
import { hostname } from 'node:os';
import { type Command, Option } from 'commander';
import { INPUT_FORMATS, type TraceEvent } from '../parsers/event.js';
import { InputError, readTraces } from '../parsers/index.js';
import { ReorderBuffer } from '../analyses/stream/order.js';
import type { AnalyzeReport } from '../analyses/report.js';
import { OmittedPhaseCollector } from '../reports/chrome-phases.js';
import { type ChromeTrace, LOCK_INTERVAL_CAP, LockIntervalCollector, TimelineCollector, toChromeTrace } from '../reports/chrome-trace.js';
import { assertUsable, ORDERED_FORMATS, parseFormat, runAnalysis } from '../analyses/pipeline.js';
import type { AnalyzeOptions } from './analyze.js';
import { writeCsvTables } from './export/csv.js';
import { exportParquet } from './export/parquet-export.js';
import { BufferedWriter, writeOutputFile } from './output.js';
import { defaultRunId, RUN_ID_HELP } from './export/parquet.js';

export const EXPORT_FORMATS = ['chrome-json', 'csv', 'parquet'] as const;

/**
 * The document one event per line, never as one string: a long run's trace has hundreds of
 * thousands of events (85 MB of JSON for a 200 MB capture), and one string of it would double the
 * peak memory. Same JSON as JSON.stringify(trace), with a newline after each event.
 */
export function writeChromeTrace(out: { write(s: string): void }, trace: ChromeTrace): void {
  const { traceEvents, ...rest } = trace;
  out.write('{"traceEvents":[');
  for (let i = 0; i < traceEvents.length; i++) out.write(`${i ? ',' : ''}\n${JSON.stringify(traceEvents[i])}`);
  out.write(`\n],${JSON.stringify(rest).slice(1)}\n`);
}

interface ExportOptions {
  /** Output format (the issue's `export --format chrome-json`); the input format is --input-format here. */
  format?: (typeof EXPORT_FORMATS)[number];
  inputFormat?: string;
  output?: string;
  kallsyms?: string;
  kernelModel?: string;
  maxLockSlices?: string;
  host: string;
  runId?: string;
}

/** The analyze options of an export: its input format is --input-format (--format names the output). */
function analyzeOptions(opts: ExportOptions): AnalyzeOptions {
  return { format: opts.inputFormat, kallsyms: opts.kallsyms, kernelModel: opts.kernelModel };
}

/**
 * Report + the per-event facts the Chrome trace needs, as one trace-event document. Lock holds and
 * waits come from the lock analysis itself (its onInterval hook), at most `maxLockSlices` of them.
 */
export async function chromeTraceOf(files: string[], opts: AnalyzeOptions, maxLockSlices = LOCK_INTERVAL_CAP): Promise<{ report: AnalyzeReport; trace: ChromeTrace }> {
  if (files.includes('-')) throw new InputError('-', 'chrome-json export reads its inputs twice: give files, not stdin');
  const intervals = new LockIntervalCollector(maxLockSlices);
  const omitted = new OmittedPhaseCollector();
  const report = await runAnalysis(files, opts, { onLockInterval: intervals.push, onOmittedSession: omitted.push });
  assertUsable(report);
  const timeline = new TimelineCollector();
  const ordered = new ReorderBuffer((ev: TraceEvent) => timeline.push(ev));
  // The same ordering as runAnalysis, so that segments and boots come out the same.
  await readTraces(files, (ev) => ordered.push(ev), {
    format: parseFormat(opts.format),
    onSourceStart: (_src, _file, _clock, format) => ordered.setWindow(ORDERED_FORMATS.has(format) ? 0 : 1_000_000_000),
  });
  ordered.flush();
  const { refcounts, tasks } = timeline.finish();
  const lockSlices = intervals.slices(report);
  const omittedPhases = { phases: omitted.phases(), seen: omitted.seen, stride: omitted.stride, failedDropped: omitted.failedDropped };
  return { report, trace: toChromeTrace({ report, refcounts, tasks, lockSlices, lockIntervals: intervals.counts, omittedPhases }) };
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write the analysis for other tools: Chrome trace JSON (Perfetto UI, chrome://tracing) or CSV tables')
    .argument('<files...>', 'trace files of one run (as for analyze)')
    .addOption(new Option('--format <format>', 'output format: chrome-json (one JSON document), csv or parquet (one file per table)').choices([...EXPORT_FORMATS]).makeOptionMandatory())
    .option('-o, --output <path>', 'chrome-json: output file (default stdout); csv, parquet: output directory (required)')
    .option('--host <name>', 'parquet: host name recorded in every row', hostname())
    .option('--run-id <id>', `parquet: ${RUN_ID_HELP}`)
    .option('--kallsyms <file>', 'a copy of /proc/kallsyms or System.map to name raw addresses')
    .option('--kernel-model <model>', 'force the LUO code version: pre-series, v1, merged, later')
    .option('--max-lock-slices <n>', `chrome-json: draw at most this many lock holds/waits, the longest ones (memory bound; the document says when it capped)`, String(LOCK_INTERVAL_CAP))
    .addOption(new Option('--input-format <format>', 'input format instead of sniffing it (what -f/--format is for the other commands)').choices([...INPUT_FORMATS]))
    .addHelpText(
      'after',
      '\nchrome-json: open the file in https://ui.perfetto.dev ("Open trace file") or chrome://tracing. One process per\n' +
        'boot, one track per task: LUO phases and every complete lock wait/hold as slices (at most --max-lock-slices,\n' +
        'the longest), module pin windows as async slices,\n' +
        'module refcount as a counter track. Schema: `luotrace schema chrome-json`.\n' +
        'csv: sessions, phases, pin_windows, refcounts, module_refs_by_site, lock_stats, waits (.csv in the directory).\n' +
        'parquet: the tables of `luotrace schema parquet` (.parquet in the directory), for DuckDB, ClickHouse, Spark, Trino.',
    )
    .action(async (files: string[], opts: ExportOptions) => {
      if (opts.format === 'csv') {
        if (!opts.output) throw new InputError('export', '--format csv needs -o DIR (one file per table)');
        const report = await runAnalysis(files, analyzeOptions(opts));
        assertUsable(report);
        const written = await writeCsvTables(report, opts.output);
        process.stderr.write(`luotrace: wrote ${written.length} CSV tables to ${opts.output}\n`);
        return;
      }
      if (opts.format === 'parquet') {
        if (!opts.output) throw new InputError('export', '--format parquet needs -o DIR (one file per table)');
        const written = await exportParquet(files, analyzeOptions(opts), { host: opts.host, runId: opts.runId ?? defaultRunId(), dir: opts.output });
        process.stderr.write(`luotrace: wrote ${written.length} Parquet tables to ${opts.output}\n`);
        return;
      }
      const cap = Number(opts.maxLockSlices ?? LOCK_INTERVAL_CAP);
      if (!Number.isInteger(cap) || cap < 0) throw new InputError('--max-lock-slices', `not a count: ${opts.maxLockSlices}`);
      const { trace } = await chromeTraceOf(files, analyzeOptions(opts), cap);
      if (opts.output) {
        writeOutputFile(opts.output, (file) => writeChromeTrace(file, trace));
        process.stderr.write(`luotrace: wrote ${trace.traceEvents.length} trace events to ${opts.output}\n`);
        return;
      }
      const out = new BufferedWriter();
      writeChromeTrace(out, trace);
      await out.flush();
    });
}
