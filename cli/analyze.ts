// `luotrace analyze FILE...`: verdicts first, then sessions, pin windows, refcounts, locks and data
// quality; `--json` prints the whole report as one document (analyses/report.ts).
import { type Command, Option } from 'commander';
import { LOCK_SORT_KEYS } from '../analyses/locks/locks.js';
import { type AnalysisOptions, assertUsable, runAnalysis } from '../analyses/pipeline.js';
import type { AnalyzeReport } from '../analyses/report.js';
import { RefcountSeries } from '../analyses/luo/refcount-series.js';
import { writeCsvTables } from './export/csv.js';
import { writeJson } from './json-out.js';
import { BufferedWriter } from './output.js';
import { formatOption, threadsOption } from './options.js';
import { renderReportText } from './render-report.js';
import { refcountChartLines } from './render-charts.js';
import { progressLine } from './progress.js';
import { renderBpftraceMapsText } from './render-bpftrace-maps.js';
import { visibleText } from './visible.js';

/** The analyze command's options: the pipeline's (analyses/pipeline.ts) and how to print the report. */
export interface AnalyzeOptions extends AnalysisOptions {
  /** Also write the report's tables as CSV files into this directory (cli/export/csv.ts). */
  csv?: string;
  json?: boolean;
  limit?: string;
  /** `--all-locks`: list the locks that are not LUO-related too (else one line of totals). */
  allLocks?: boolean;
  /** `--no-charts` sets it false: no refcnt charts in the text report. */
  charts?: boolean;
  /** `--progress` / `--no-progress` (cli/progress.ts); unset: when stderr is a terminal. */
  progress?: boolean;
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
    .option('--all-locks', 'locks: list every lock and wait; by default the locks unrelated to LUO are one line of totals')
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
  assertUsable(report, 'nothing to analyze (`luotrace events --summary` says how each line was read)');
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
          allLocks: opts.allLocks === true,
          refcountChart: series ? (m) => refcountChartLines(series, report, m) : undefined,
        }),
      ),
    );
    if (report.bpftraceMaps.length > 0) out.write(visibleText(`\n${renderBpftraceMapsText(report)}`));
  }
  await out.flush();
}
