// `luotrace merge --engine sql INPUT...`: Parquet folders (`export --format parquet`, `host-summary
// --parquet`, `fleet --out-format parquet`) and host summaries (JSON) loaded into one set of tables
// and summarized by the SQL files of sql/. A host may appear once across all inputs, as for merge.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../parsers/index.js';
import type { FleetSummary } from '../../reports/fleet.js';
import { TOOL_VERSION } from '../../analyses/version.js';
import { HostTables } from '../export/parquet.js';
import { checkTables, sqlFleetSummary } from './fleet-sql.js';

/** A folder holding hosts.parquet is a Parquet folder; anything else is read as JSON summaries. */
export function isParquetDir(path: string): boolean {
  try {
    return statSync(path).isDirectory() && existsSync(join(path, 'hosts.parquet'));
  } catch {
    return false;
  }
}

export async function mergeBySql(
  args: string[],
  runId: string,
  readJson: (args: string[]) => Array<{ from: string; doc: { kind: string } }>,
): Promise<FleetSummary> {
  const tables = await HostTables.open(runId);
  try {
    for (const a of args) {
      if (isParquetDir(a)) {
        await tables.db.loadParquet(a);
        await checkTables(tables.db, a);
        continue;
      }
      for (const { from, doc } of readJson([a])) {
        if (doc.kind !== 'luotrace-host-summary') throw new InputError(from, 'a fleet summary cannot be merged by SQL (its hosts are merged already): give the host summaries or Parquet tables, or use --engine merge');
        await tables.add(doc as Parameters<HostTables['add']>[0], null);
        await checkTables(tables.db, from);
      }
    }
    return await sqlFleetSummary(tables.db, { name: 'luotrace', version: TOOL_VERSION });
  } finally {
    tables.close();
  }
}
