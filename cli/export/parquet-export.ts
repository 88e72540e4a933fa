// `luotrace export --format parquet -o DIR TRACE...` and `host-summary --parquet DIR`: one host's
// analysis as the Parquet tables (cli/export/parquet.ts).
import { type AnalysisOptions, assertUsable, runAnalysisWithDistributions } from '../../analyses/pipeline.js';
import type { AnalysisResult } from '../../analyses/report.js';
import { reportTables } from '../../reports/csv.js';
import { buildHostSummary } from '../../reports/fleet.js';
import { HostTables } from './parquet.js';

/** Write the tables of one analyzed host into DIR; returns the paths written. */
export async function writeHostParquet(host: string, inputs: string[], result: AnalysisResult, runId: string, dir: string): Promise<string[]> {
  const tables = await HostTables.open(runId);
  try {
    await tables.add(buildHostSummary(host, inputs, result), reportTables(result.report));
    return await tables.write(dir);
  } finally {
    tables.close();
  }
}

export async function exportParquet(files: string[], opts: Pick<AnalysisOptions, 'format' | 'kernelModel' | 'kallsyms'>, out: { host: string; runId: string; dir: string }): Promise<string[]> {
  const result = await runAnalysisWithDistributions(files, opts);
  assertUsable(result.report);
  return writeHostParquet(out.host, files, result, out.runId, out.dir);
}
