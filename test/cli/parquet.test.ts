// The Parquet outputs and the SQL engine from the command line (issue #18): export --format parquet,
// host-summary --parquet, fleet --engine sql / --out-format parquet, merge --engine sql, schema
// parquet. Here the schema and the main path (export, host-summary, merge by SQL); fleet by SQL, bad
// input (one line, exit 2) and names from the traced machine (neither a file name outside the output
// folder nor terminal control) are in parquet.slow.test.ts. Figures: test/reports/parquet.slow.test.ts.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FleetSummarySchema } from '../../reports/fleet.js';
import { PARQUET_SCHEMA_VERSION, TABLES } from '../../reports/parquet/schema.js';
import { sample } from '../helpers.js';
import { expectSameFleet } from '../reports/parquet-compare.js';
import { runCli } from './run.js';

const tmp = mkdtempSync(join(tmpdir(), 'luotrace-parquet-cli-'));
const ABORT = sample('real/abort/stage1/ftrace-main.txt.gz');
const TGID = sample('real/abort/stage1/ftrace-tgid.txt.gz');
const TABLE_FILES = TABLES.map((t) => `${t.name}.parquet`).sort();

describe('Parquet from the CLI', () => {
  it('schema parquet publishes the tables, their columns and the version', async () => {
    const r = await runCli(['schema', 'parquet']);
    const doc = JSON.parse(r.stdout);
    expect(doc.schemaVersion).toBe(PARQUET_SCHEMA_VERSION);
    expect(doc.tables.map((t: { name: string }) => t.name)).toEqual(['hosts', 'verdicts', 'counts', 'phase_stats', 'sessions', 'phases', 'pin_windows', 'module_refs', 'module_refs_by_site', 'lock_stats', 'waits', 'distribution_totals', 'distributions']);
    for (const t of doc.tables) expect(t.columns.slice(0, 3).map((c: { name: string }) => c.name)).toEqual(['host', 'run_id', 'kernel_model']);
    expect((await runCli(['schema'])).stdout).toMatch(/^parquet +the Parquet tables/m);
  });

  it('export --format parquet, host-summary --parquet and merge --engine sql agree with merge of the JSON summaries', async () => {
    const a = join(tmp, 'a');
    const exp = await runCli(['export', '--format', 'parquet', '-o', a, '--host', 'host-a', '--run-id', 'r1', ABORT]);
    expect([exp.code, exp.stderr]).toEqual([0, `luotrace: wrote ${TABLES.length} Parquet tables to ${a}\n`]);
    expect(readdirSync(a).sort()).toEqual(TABLE_FILES);
    const b = join(tmp, 'b');
    const hs = await runCli(['host-summary', '--host', 'host-b', '--parquet', b, '--run-id', 'r1', TGID]);
    expect([hs.code, hs.stdout]).toEqual([0, '']);
    const jsonA = join(tmp, 'host-a.json');
    const jsonB = join(tmp, 'host-b.json');
    writeFileSync(jsonA, (await runCli(['host-summary', '--host', 'host-a', ABORT])).stdout);
    writeFileSync(jsonB, (await runCli(['host-summary', '--host', 'host-b', TGID])).stdout);
    const merged = await runCli(['merge', '--json', jsonA, jsonB]);
    const bySql = await runCli(['merge', '--engine', 'sql', '--json', a, b]);
    const mixed = await runCli(['merge', '--engine', 'sql', '--json', a, jsonB]);
    expect([bySql.code, bySql.stderr, mixed.code]).toEqual([0, '', 0]);
    const m = FleetSummarySchema.parse(JSON.parse(merged.stdout));
    expectSameFleet(FleetSummarySchema.parse(JSON.parse(bySql.stdout)), m);
    expectSameFleet(FleetSummarySchema.parse(JSON.parse(mixed.stdout)), m);
    const text = await runCli(['merge', '--engine', 'sql', a, b]);
    expect(text.stdout).toMatch(/^luotrace \S+ fleet: 2 hosts, 2 analyzed/);
  });
});
