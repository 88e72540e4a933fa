// Parquet output (issue #18): `export --format parquet`, `host-summary --parquet DIR`, `fleet
// --out-dir DIR --out-format parquet`. Hosts are added one at a time to an in-process DuckDB
// (cli/parquet/db.ts) and written as one Parquet file per table (reports/parquet/schema.ts) at
// the end; the files are named after the tables, never after a host, so nothing a trace says can
// place a file outside DIR.
import { mkdirSync } from 'node:fs';
import type { CsvTable } from '../../reports/csv.js';
import type { HostSummary } from '../../reports/fleet.js';
import { appendHostRows, emptyTables } from '../../reports/parquet/rows.js';
import { InputError } from '../../parsers/index.js';
import { TableDb } from '../parquet/db.js';

/** The run id when none is given: the UTC time the command started, to the second. */
export function defaultRunId(now = new Date()): string {
  return `${now.toISOString().slice(0, 19)}Z`;
}

export const RUN_ID_HELP = 'run id recorded in every Parquet row (a rollout, a build); default: the UTC start time';

export function makeOutDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new InputError(dir, `cannot create the output folder: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Host rows gathered in DuckDB, then written as Parquet (or queried by the SQL fleet path). */
export class HostTables {
  private constructor(
    readonly db: TableDb,
    readonly runId: string,
  ) {}

  static async open(runId: string): Promise<HostTables> {
    return new HostTables(await TableDb.open(), runId);
  }

  /** One host: its summary, and the analysis' CSV tables when known (else the report tables stay empty for it). */
  async add(summary: HostSummary, csv: CsvTable[] | null): Promise<void> {
    const rows = emptyTables();
    appendHostRows(rows, summary, this.runId, csv);
    await this.db.append(rows);
  }

  async write(dir: string): Promise<string[]> {
    makeOutDir(dir);
    return this.db.writeParquet(dir);
  }

  close(): void {
    this.db.close();
  }
}
