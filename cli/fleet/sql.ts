// `luotrace fleet --engine sql` and `--out-format parquet`: the hosts' rows go into the Parquet
// tables (an in-process DuckDB, cli/export/parquet.ts) as the hosts finish; the fleet summary is
// then computed by the SQL files of sql/ (cli/parquet/fleet-sql.ts) instead of the in-memory merge,
// and/or the tables are written to --out-dir.
import { Option } from 'commander';
import type { FleetSummary } from '../../reports/fleet.js';
import { TOOL_VERSION } from '../../analyses/version.js';
import { HostTables } from '../export/parquet.js';
import { checkTables, sqlFleetSummary } from '../parquet/fleet-sql.js';

export const ENGINES = ['merge', 'sql'] as const;
export const OUT_FORMATS = ['json', 'parquet'] as const;

export interface FleetTableOptions {
  engine: (typeof ENGINES)[number];
  outDir?: string;
  outFormat: (typeof OUT_FORMATS)[number];
  runId: string;
}

export const engineOption = (): Option =>
  new Option('--engine <engine>', 'merge: the in-memory merge (exact, small); sql: SQL over the Parquet tables in an embedded DuckDB (sql/*.sql)').choices([...ENGINES]).default('merge');

/** Tables are gathered when the SQL engine needs them or --out-dir wants Parquet. */
export async function openFleetTables(o: FleetTableOptions): Promise<HostTables | null> {
  const parquetOut = o.outDir !== undefined && o.outFormat === 'parquet';
  return o.engine === 'sql' || parquetOut ? HostTables.open(o.runId) : null;
}

/** Write the Parquet tables (if asked) and compute the SQL summary (if asked); closes the tables. */
export async function finishFleetTables(tables: HostTables, o: FleetTableOptions): Promise<FleetSummary | null> {
  try {
    if (o.outDir !== undefined && o.outFormat === 'parquet') await tables.write(o.outDir);
    if (o.engine !== 'sql') return null;
    await checkTables(tables.db, 'fleet');
    return await sqlFleetSummary(tables.db, { name: 'luotrace', version: TOOL_VERSION });
  } finally {
    tables.close();
  }
}
