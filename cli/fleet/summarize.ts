// One host's analysis, as a worker thread (cli/fleet/worker.ts) or the main thread (`--jobs 0`)
// runs it: the same runAnalysis as `luotrace analyze`, reduced to the host summary.
import { getHeapStatistics } from 'node:v8';
import { type CsvTable, reportTables } from '../../reports/csv.js';
import { buildHostSummary, type HostSummary, unusableHost } from '../../reports/fleet.js';
import { InputError } from '../../parsers/index.js';
import { type AnalysisOptions, runAnalysisWithDistributions } from '../../analyses/pipeline.js';
import { TOOL_VERSION } from '../../analyses/version.js';
import type { HostTask } from './hosts.js';

/** The analyze options a fleet run passes on to every host. */
export type FleetAnalyzeOptions = Pick<AnalysisOptions, 'format' | 'kernelModel'> & {
  /** Also return the analysis' CSV tables (for the Parquet tables of `fleet --out-format parquet`). */
  tables?: boolean;
};

export interface HostResult {
  summary: HostSummary;
  /** A bug, not bad input: the command exits 3 after reporting the other hosts. */
  internal: boolean;
  elapsedMs: number;
  /** Largest V8 heap in use seen while analyzing (sampled every 20 ms), in bytes. */
  peakHeapBytes: number;
  /** The CSV tables of the analysis, when asked for (options.tables) and the host could be analyzed. */
  tables?: CsvTable[];
}

const TOOL = { name: 'luotrace', version: TOOL_VERSION } as const;

export async function summarizeHost(task: HostTask, opts: FleetAnalyzeOptions): Promise<HostResult> {
  const t0 = performance.now();
  let peak = getHeapStatistics().used_heap_size;
  // The analysis streams (awaits between chunks), so a timer gets to sample the heap during it.
  const sampler = setInterval(() => {
    peak = Math.max(peak, getHeapStatistics().used_heap_size);
  }, 20);
  sampler.unref();
  const done = (summary: HostSummary, internal = false, tables?: CsvTable[]): HostResult => {
    clearInterval(sampler);
    peak = Math.max(peak, getHeapStatistics().used_heap_size);
    return { summary, internal, elapsedMs: performance.now() - t0, peakHeapBytes: peak, ...(tables ? { tables } : {}) };
  };
  if (task.error !== null) return done(unusableHost(task.host, task.inputs, task.error, TOOL));
  try {
    const result = await runAnalysisWithDistributions(task.inputs, { format: opts.format, kernelModel: opts.kernelModel });
    return done(buildHostSummary(task.host, task.inputs, result), false, opts.tables ? reportTables(result.report) : undefined);
  } catch (e) {
    if (e instanceof InputError) return done(unusableHost(task.host, task.inputs, e.oneLine, TOOL));
    return done(unusableHost(task.host, task.inputs, `internal error: ${e instanceof Error ? e.message : String(e)}`, TOOL), true);
  }
}
