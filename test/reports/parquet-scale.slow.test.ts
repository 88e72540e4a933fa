// 10 000 synthetic hosts (test/bench/synthetic-hosts.ts, labelled synthetic) through the SQL fleet
// path: host summaries -> Parquet files -> DuckDB -> sql/*.sql, against merge of the same summaries.
// Slow (about a minute on a loaded 2-core box): most of it is putting a million bin rows into DuckDB.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { HostTables } from '../../cli/export/parquet.js';
import { TableDb } from '../../cli/parquet/db.js';
import { checkTables, sqlFleetSummary } from '../../cli/parquet/fleet-sql.js';
import { mergeSummaries } from '../../reports/fleet.js';
import { syntheticHost } from '../bench/synthetic-hosts.js';
import { expectSameFleet } from './parquet-compare.js';

const TOOL = { name: 'luotrace', version: 'test' } as const;
const N = 10_000;

it(`${N} synthetic hosts: host summaries -> Parquet -> SQL give merge's fleet summary`, async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'luotrace-parquet-scale-')), 'tables');
  const tables = await HostTables.open('synthetic-run');
  const docs = [];
  for (let i = 0; i < N; i++) {
    const h = syntheticHost(i);
    docs.push({ from: h.host, doc: h });
    await tables.add(h, null);
  }
  await tables.write(dir);
  tables.close();
  expect(readdirSync(dir)).toContain('distributions.parquet');
  const merged = mergeSummaries(docs, TOOL);
  const db = await TableDb.open();
  await db.loadParquet(dir);
  await checkTables(db, dir);
  const sql = await sqlFleetSummary(db, TOOL);
  db.close();
  expect(merged.fleet.hosts).toBe(N);
  expect(merged.fleet.unusable.length).toBeGreaterThan(50);
  // Past EXACT_LIMIT values merge answers from its sketch too: the same bins, so the same percentiles.
  expect(merged.fleet.phases.every((p) => p.durations.quantiles === 'sketch')).toBe(true);
  expect(sql.fleet.phases.map((p) => p.durations)).toEqual(merged.fleet.phases.map((p) => ({ ...p.durations })));
  expectSameFleet(sql, merged);
}, 600_000);
