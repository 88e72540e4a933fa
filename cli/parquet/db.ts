// The Parquet tables in an in-process DuckDB (@duckdb/node-api): created from the published schema
// (reports/parquet/schema.ts), filled with host rows through appenders, written out as one Parquet
// file per table (COPY ... TO, the schema version in the key-value metadata), read back with the
// version and the columns checked, and queried with the SQL files of sql/.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DuckDBAppender, DuckDBConnection, DuckDBInstance, DuckDBType, DuckDBValue } from '@duckdb/node-api';

// DuckDB is loaded on first use: its native binding costs about 0.2 s of CPU at import, which every
// other command (analyze, check, the TUI) would otherwise pay at start-up (issue 17).
type DuckApi = typeof import('@duckdb/node-api');
let duck: DuckApi | null = null;
async function loadDuck(): Promise<DuckApi> {
  duck ??= await import('@duckdb/node-api');
  return duck;
}
/** The API, once TableDb.open has loaded it (every function below runs after open). */
const api = (): DuckApi => {
  if (duck === null) throw new Error('DuckDB used before TableDb.open');
  return duck;
};
import { InputError } from '../../parsers/index.js';
import type { Cell, TableRows } from '../../reports/parquet/rows.js';
import { type ColumnType, KV_SCHEMA_VERSION, KV_TABLE, PARQUET_SCHEMA_VERSION, TABLES, type TableSpec, tableSpec } from '../../reports/parquet/schema.js';

/** An SQL string literal (file names are the only text luotrace puts into SQL). */
export const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** The first line of a DuckDB error, without its "IO Error:"-style prefix kept (it says what kind). */
const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0].trim();

/** The sql/ folder: next to package.json, found from here in the source tree and in dist/ alike. */
export function sqlDir(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(d, 'sql', 'percentiles.sql'))) return join(d, 'sql');
    const up = dirname(d);
    if (up === d) throw new Error('the sql/ folder of luotrace is missing');
    d = up;
  }
}

export function readSql(name: string): string {
  return readFileSync(join(sqlDir(), `${name}.sql`), 'utf8');
}

// Rows go to DuckDB a data chunk (DuckDB's vector size) at a time. Measured on the loaded build
// machine, this was no faster than appending cell by cell (10 000 synthetic hosts: 16-20 s either
// way, most of it in the VARCHAR columns); it is kept for fewer native calls per row.
const CHUNK_ROWS = 2048;
const duckType = (t: ColumnType): DuckDBType => api()[t];

interface Pending {
  appender: DuckDBAppender;
  columns: DuckDBValue[][];
  rows: number;
}

export class TableDb {
  private pending = new Map<string, Pending>();
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly conn: DuckDBConnection,
  ) {}

  /** An in-memory database with every table of the schema, empty. */
  static async open(): Promise<TableDb> {
    const instance = await (await loadDuck()).DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    for (const t of TABLES) await conn.run(`CREATE TABLE ${t.name} (${t.columns.map((c) => `${c.name} ${c.type}`).join(', ')})`);
    return new TableDb(instance, conn);
  }

  private async pendingOf(t: TableSpec): Promise<Pending> {
    let p = this.pending.get(t.name);
    if (!p) this.pending.set(t.name, (p = { appender: await this.conn.createAppender(t.name), columns: t.columns.map(() => []), rows: 0 }));
    return p;
  }

  /** Append rows (in schema column order) to the tables. */
  async append(rows: TableRows): Promise<void> {
    for (const t of TABLES) {
      const list = rows[t.name];
      if (!list?.length) continue;
      const p = await this.pendingOf(t);
      for (const row of list) {
        if (row.length !== t.columns.length) throw new Error(`${t.name}: a row of ${row.length} cells for ${t.columns.length} columns`);
        t.columns.forEach((c, i) => p.columns[i].push(duckValue(c.type, row[i])));
        if (++p.rows === CHUNK_ROWS) appendChunk(t, p);
      }
    }
  }

  /** Make appended rows visible to queries. */
  flush(): void {
    for (const [name, p] of this.pending) {
      if (p.rows) appendChunk(tableSpec(name), p);
      p.appender.closeSync();
    }
    this.pending.clear();
  }

  /** One Parquet file per table into DIR (which exists): DIR/TABLE.parquet. Returns the paths. */
  async writeParquet(dir: string): Promise<string[]> {
    this.flush();
    const out: string[] = [];
    for (const t of TABLES) {
      const file = join(dir, `${t.name}.parquet`);
      const kv = `{${KV_SCHEMA_VERSION}: ${sqlString(String(PARQUET_SCHEMA_VERSION))}, ${KV_TABLE}: ${sqlString(t.name)}}`;
      try {
        await this.conn.run(`COPY ${t.name} TO ${sqlString(file)} (FORMAT parquet, COMPRESSION zstd, KV_METADATA ${kv})`);
      } catch (e) {
        throw new InputError(file, `cannot write: ${firstLine(e)}`);
      }
      out.push(file);
    }
    return out;
  }

  /** Add the tables of a Parquet folder (as writeParquet makes it), checked against the schema. */
  async loadParquet(dir: string): Promise<void> {
    this.flush();
    for (const t of TABLES) {
      const file = join(dir, `${t.name}.parquet`);
      await checkParquetFile(this.conn, file, t);
      try {
        await this.conn.run(`INSERT INTO ${t.name} SELECT ${t.columns.map((c) => c.name).join(', ')} FROM read_parquet(${sqlString(file)})`);
      } catch (e) {
        throw new InputError(file, `unreadable Parquet: ${firstLine(e)}`);
      }
    }
  }

  async query(sql: string): Promise<Array<Record<string, unknown>>> {
    this.flush();
    return (await this.conn.runAndReadAll(sql)).getRowObjectsJS() as Array<Record<string, unknown>>;
  }

  /** Run sql/NAME.sql. */
  async querySql(name: string): Promise<Array<Record<string, unknown>>> {
    return this.query(readSql(name));
  }

  close(): void {
    this.flush();
    this.conn.closeSync();
    this.instance.closeSync();
  }
}

function appendChunk(t: TableSpec, p: Pending): void {
  const chunk = api().DuckDBDataChunk.create(t.columns.map((c) => duckType(c.type)), p.rows);
  chunk.setColumns(p.columns);
  p.appender.appendDataChunk(chunk);
  p.columns = t.columns.map(() => []);
  p.rows = 0;
}

/** A cell as the value of its column's type; a count that is not a finite number is unknown (null), not 0. */
function duckValue(type: ColumnType, v: Cell): DuckDBValue {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'VARCHAR':
      return String(v);
    case 'BOOLEAN':
      return v === true;
    case 'DOUBLE':
      return Number(v);
    case 'INTEGER':
    case 'BIGINT': {
      const n = typeof v === 'number' ? v : Number(v);
      if (!Number.isFinite(n)) return null;
      return type === 'INTEGER' ? Math.round(n) : BigInt(Math.round(n));
    }
  }
}

// DuckDB reads a glob pattern in a file name as a pattern: a folder named `run[1]` would read the
// wrong files or none. Such names are refused rather than escaped (DuckDB has no escape for them).
const GLOB = /[*?[\]{}]/;

/** Refuse a file of another schema version, another table, other columns, or one that is not Parquet. */
async function checkParquetFile(conn: DuckDBConnection, file: string, t: TableSpec): Promise<void> {
  if (GLOB.test(file)) throw new InputError(file, 'a Parquet path with * ? [ ] { } in it is not read (DuckDB would take it as a pattern)');
  if (!existsSync(file)) throw new InputError(file, `missing: a luotrace Parquet folder holds ${TABLES.map((x) => `${x.name}.parquet`).join(', ')}`);
  let kv: Record<string, string>;
  try {
    const rows = (await conn.runAndReadAll(`SELECT key, value FROM parquet_kv_metadata(${sqlString(file)})`)).getRowObjectsJS();
    kv = Object.fromEntries(rows.map((r) => [Buffer.from(r.key as Uint8Array).toString('utf8'), Buffer.from(r.value as Uint8Array).toString('utf8')]));
  } catch (e) {
    throw new InputError(file, `not a readable Parquet file: ${firstLine(e)}`);
  }
  const version = kv[KV_SCHEMA_VERSION];
  if (version === undefined) throw new InputError(file, `no ${KV_SCHEMA_VERSION} in its metadata: not written by luotrace`);
  if (version !== String(PARQUET_SCHEMA_VERSION)) throw new InputError(file, `luotrace Parquet schema version ${version}; this luotrace reads version ${PARQUET_SCHEMA_VERSION}`);
  if (kv[KV_TABLE] !== t.name) throw new InputError(file, `holds table ${kv[KV_TABLE] ?? '(none)'}, not ${t.name}`);
  let cols: Array<Record<string, unknown>>;
  try {
    cols = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlString(file)})`)).getRowObjectsJS();
  } catch (e) {
    throw new InputError(file, `not a readable Parquet file: ${firstLine(e)}`);
  }
  const got = cols.map((c) => `${String(c.column_name)} ${String(c.column_type)}`).join(', ');
  const want = t.columns.map((c) => `${c.name} ${c.type}`).join(', ');
  if (got !== want) throw new InputError(file, `columns differ from schema version ${PARQUET_SCHEMA_VERSION} of table ${t.name} (see \`luotrace schema parquet\`)`);
}
