// The Parquet tables and the SQL fleet path (issue #18) on the real captures: the SQL fleet summary
// equals merge's (counts and totals exactly, percentiles within the sketch's error), through
// DuckDB in memory and through Parquet files and back; the SQL files run unchanged on DuckDB; bad
// Parquet input (another schema version, a tampered file, bins that do not add up, a host twice)
// is refused with one line. The CLI side is test/cli/parquet.test.ts. In the slow set (DuckDB on
// three whole real hosts, one of 11 MB: about 5 s of CPU); the schema check is parquet.test.ts.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runAnalysisWithDistributions } from '../../analyses/pipeline.js';
import { HostTables } from '../../cli/export/parquet.js';
import { hostInputs } from '../../cli/fleet/hosts.js';
import { sqlString, TableDb } from '../../cli/parquet/db.js';
import { checkTables, sqlFleetSummary } from '../../cli/parquet/fleet-sql.js';
import { reportTables } from '../../reports/csv.js';
import { buildHostSummary, type HostSummary, mergeSummaries } from '../../reports/fleet.js';
import { appendHostRows, emptyTables } from '../../reports/parquet/rows.js';
import { PARQUET_SCHEMA_VERSION, TABLES } from '../../reports/parquet/schema.js';
import { InputError } from '../../parsers/index.js';
import { sample } from '../helpers.js';
import { expectSameFleet } from './parquet-compare.js';

const TOOL = { name: 'luotrace', version: 'test' } as const;
const HOSTS = ['lifecycle', 'abort', 'contention-no-writer'];
const tmp = mkdtempSync(join(tmpdir(), 'luotrace-parquet-'));

let summaries: HostSummary[] = [];
let parquetDir = '';

beforeAll(async () => {
  const tables = await HostTables.open('run-1');
  for (const h of HOSTS) {
    const { inputs } = hostInputs(sample(`real/${h}`));
    const result = await runAnalysisWithDistributions(inputs, {});
    const s = buildHostSummary(h, inputs, result);
    summaries.push(s);
    await tables.add(s, reportTables(result.report));
  }
  parquetDir = join(tmp, 'real');
  await tables.write(parquetDir);
  tables.close();
}, 120_000);

async function sqlOf(load: (db: TableDb) => Promise<void>) {
  const db = await TableDb.open();
  try {
    await load(db);
    await checkTables(db, 'test');
    return await sqlFleetSummary(db, TOOL);
  } finally {
    db.close();
  }
}

describe('SQL fleet path on the real captures', () => {
  it('gives merge figures from host summaries in DuckDB (counts and totals exactly, percentiles within the sketch error)', async () => {
    const merged = mergeSummaries(summaries.map((doc) => ({ from: doc.host, doc })), TOOL);
    const sql = await sqlOf(async (db) => {
      for (const s of summaries) {
        const rows = emptyTables();
        appendHostRows(rows, s, 'run-1', null);
        await db.append(rows);
      }
    });
    expect(merged.fleet.hosts).toBe(3);
    expect(merged.fleet.locks.length).toBeGreaterThan(5);
    expectSameFleet(sql, merged);
  });

  it('round-trips through the Parquet files: the same summary read back from disk', async () => {
    const merged = mergeSummaries(summaries.map((doc) => ({ from: doc.host, doc })), TOOL);
    expect(readdirSync(parquetDir).sort()).toEqual(TABLES.map((t) => `${t.name}.parquet`).sort());
    const sql = await sqlOf((db) => db.loadParquet(parquetDir));
    expectSameFleet(sql, merged);
    // The report tables came along (export, host-summary and fleet --out-format parquet write them).
    const db = await TableDb.open();
    await db.loadParquet(parquetDir);
    const [pins] = await db.query('SELECT COUNT(*) AS n, SUM(CASE WHEN leaked THEN 1 ELSE 0 END) AS leaked FROM pin_windows');
    // The phase durations behind the distributions are the timed phases of the sessions, row by row.
    const [phases] = await db.query('SELECT COUNT(*) AS n FROM phases WHERE session_id IS NOT NULL AND duration_ns >= 0');
    const version = await db.query("SELECT DISTINCT schema_version FROM hosts");
    db.close();
    expect(Number(pins.n)).toBeGreaterThan(100);
    expect(Number(pins.leaked)).toBe(summaries.flatMap((s) => s.modules).reduce((a, m) => a + m.leakedPins, 0));
    expect(Number(phases.n)).toBe(summaries.flatMap((s) => Object.values(s.distributions.phases)).reduce((a, d) => a + d.count, 0));
    expect(Number(phases.n)).toBeGreaterThan(1000);
    expect(version).toEqual([{ schema_version: PARQUET_SCHEMA_VERSION }]);
  });

  it('runs every file of sql/ unchanged, including the leaked pins and the two-run comparison', async () => {
    const db = await TableDb.open();
    await db.loadParquet(parquetDir);
    const files = readdirSync(join(import.meta.dirname, '../../sql')).filter((f) => f.endsWith('.sql'));
    expect(files.length).toBeGreaterThanOrEqual(15);
    for (const f of files) {
      const text = readFileSync(join(import.meta.dirname, '../../sql', f), 'utf8');
      expect(text.split('\n')[0], f).toMatch(/^-- \S.{20,}/);
      // The shared subset: no QUALIFY, no engine quantile functions, no DuckDB casts, lists or structs.
      expect(text, f).not.toMatch(/\bQUALIFY\b|\b(quantile\w*|percentile\w*|approx\w*|median|list|struct_pack)\s*\(|::/i);
      await db.querySql(f.replace(/\.sql$/, ''));
    }
    // A second run of the same hosts, with the abort host's freeze twice as long: compare_runs flags it.
    await db.query("UPDATE hosts SET run_id = 'run-0'");
    for (const t of TABLES) await db.query(`UPDATE ${t.name} SET run_id = 'run-0'`);
    await db.loadParquet(parquetDir);
    await db.query("UPDATE distributions SET bin_value_ns = bin_value_ns * 3 WHERE run_id = 'run-1' AND metric = 'phase' AND metric_key = 'preserve'");
    const cmp = await db.querySql('compare_runs');
    const preserve = cmp.find((r) => r.metric === 'phase' && r.metric_key === 'preserve');
    expect(preserve).toMatchObject({ p99_regressed: 1, before_count: preserve?.after_count });
    expect(cmp.filter((r) => r.p99_regressed === 1).map((r) => r.metric_key)).toEqual(['preserve']);
    const leaks = await db.querySql('leaked_pins');
    db.close();
    const leaked = summaries.flatMap((s) => s.modules).reduce((a, m) => a + m.leakedPins, 0);
    expect(leaks.reduce((a, r) => a + Number(r.leaked), 0)).toBe(2 * leaked);
  });
});

describe('bad Parquet input', () => {
  const copyOf = (name: string): string => {
    const d = join(tmp, name);
    mkdirSync(d, { recursive: true });
    for (const f of readdirSync(parquetDir)) copyFileSync(join(parquetDir, f), join(d, f));
    return d;
  };
  const loadError = async (dirs: string[]): Promise<string> => {
    const db = await TableDb.open();
    try {
      for (const d of dirs) {
        await db.loadParquet(d);
        await checkTables(db, d);
      }
      return 'loaded';
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      return (e as InputError).oneLine;
    } finally {
      db.close();
    }
  };
  /** Rewrite one table of DIR with SQL over itself, keeping or replacing the metadata. */
  const rewrite = async (dir: string, table: string, select: string, kv: string): Promise<void> => {
    const db = await TableDb.open();
    const file = join(dir, `${table}.parquet`);
    await db.query(`COPY (${select.replace('$T', `read_parquet(${sqlString(file)})`)}) TO ${sqlString(`${file}.new`)} (FORMAT parquet, KV_METADATA ${kv})`);
    db.close();
    copyFileSync(`${file}.new`, file);
  };

  it('refuses another schema version, naming the file and both versions', async () => {
    const d = copyOf('v99');
    await rewrite(d, 'waits', 'SELECT * FROM $T', "{luotrace_schema_version: '99', luotrace_table: 'waits'}");
    expect(await loadError([d])).toBe(`${join(d, 'waits.parquet')}: luotrace Parquet schema version 99; this luotrace reads version ${PARQUET_SCHEMA_VERSION}`);
  });

  it('refuses a tampered file: bytes overwritten, cut short, a column dropped, bins that no longer add up', async () => {
    const bytes = copyOf('bytes');
    const f = join(bytes, 'distributions.parquet');
    const buf = readFileSync(f);
    buf.fill(0x55, buf.length - 200, buf.length - 8);
    writeFileSync(f, buf);
    expect(await loadError([bytes])).toMatch(/^\S+distributions\.parquet: not a readable Parquet file: /);
    const cut = copyOf('cut');
    writeFileSync(join(cut, 'hosts.parquet'), readFileSync(join(cut, 'hosts.parquet')).subarray(0, 300));
    expect(await loadError([cut])).toMatch(/^\S+hosts\.parquet: not a readable Parquet file: /);
    const cols = copyOf('cols');
    await rewrite(cols, 'lock_stats', 'SELECT * EXCLUDE (sleeps) FROM $T', "{luotrace_schema_version: '1', luotrace_table: 'lock_stats'}");
    expect(await loadError([cols])).toBe(`${join(cols, 'lock_stats.parquet')}: columns differ from schema version 1 of table lock_stats (see \`luotrace schema parquet\`)`);
    const bins = copyOf('bins');
    await rewrite(bins, 'distributions', "SELECT * REPLACE (CASE WHEN metric = 'phase' AND scheme = 'ddsketch' THEN count + 1 ELSE count END AS count) FROM $T", "{luotrace_schema_version: '1', luotrace_table: 'distributions'}");
    expect(await loadError([bins])).toMatch(new RegExp(`^${bins}: host \\S+: phase \\S+ has \\d+ values in its ddsketch bins, its total says \\d+: the tables were altered or cut$`));
  });

  it('refuses a host that appears twice, as merge does', async () => {
    expect(await loadError([parquetDir, copyOf('again')])).toBe(`${join(tmp, 'again')}: host abort appears twice; merging it twice would count it twice`);
  });
});
