// The Parquet outputs and the SQL engine from the command line (issue #18), the slower part (DuckDB
// per run): fleet --engine sql / --out-format parquet; bad input gives one line and exit 2; names
// from the traced machine stay text (neither a file name outside the output folder nor terminal
// control). The schema and export / host-summary / merge by SQL: parquet.test.ts (fast set).
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FleetSummarySchema } from '../../reports/fleet.js';
import { TABLES } from '../../reports/parquet/schema.js';
import { sample } from '../helpers.js';
import { expectSameFleet } from '../reports/parquet-compare.js';
import { runCli } from './run.js';

const tmp = mkdtempSync(join(tmpdir(), 'luotrace-parquet-cli-'));
const ABORT = sample('real/abort/stage1/ftrace-main.txt.gz');
const TGID = sample('real/abort/stage1/ftrace-tgid.txt.gz');
const TABLE_FILES = TABLES.map((t) => `${t.name}.parquet`).sort();

describe('Parquet from the CLI', () => {
  it('fleet --engine sql prints the fleet summary of fleet, and --out-format parquet writes the tables', async () => {
    const fleet = join(tmp, 'fleet');
    mkdirSync(fleet);
    copyFileSync(ABORT, join(fleet, 'h1.txt.gz'));
    copyFileSync(TGID, join(fleet, 'h2.txt.gz'));
    const out = join(tmp, 'fleet-out');
    const merge = await runCli(['fleet', '-j', '0', '--json', fleet]);
    const sql = await runCli(['fleet', '-j', '0', '--json', '--engine', 'sql', '--out-dir', out, '--out-format', 'parquet', fleet]);
    expect([sql.code, sql.stderr]).toEqual([0, '']);
    expectSameFleet(FleetSummarySchema.parse(JSON.parse(sql.stdout)), FleetSummarySchema.parse(JSON.parse(merge.stdout)));
    expect(readdirSync(out).sort()).toEqual(TABLE_FILES);
    const again = await runCli(['merge', '--engine', 'sql', '--json', out]);
    expect(JSON.parse(again.stdout).fleet).toEqual(JSON.parse(sql.stdout).fleet);
  });

  it('bad input: a tampered file, a host twice, a fleet summary, no -o: one line, exit 2', async () => {
    const dir = join(tmp, 'bad');
    await runCli(['export', '--format', 'parquet', '-o', dir, '--host', 'h', ABORT]);
    const twice = await runCli(['merge', '--engine', 'sql', dir, dir]);
    expect([twice.code, twice.stdout, twice.stderr]).toEqual([2, '', `luotrace: ${dir}: host h appears twice; merging it twice would count it twice\n`]);
    const f = join(dir, 'verdicts.parquet');
    const buf = readFileSync(f);
    buf.write('PAR2', buf.length - 4);
    writeFileSync(f, buf);
    const tampered = await runCli(['merge', '--engine', 'sql', dir]);
    expect(tampered.code).toBe(2);
    expect(tampered.stderr).toMatch(new RegExp(`^luotrace: ${f}: not a readable Parquet file: [^\\n]+\\n$`));
    const hostJson = join(tmp, 'host-a.json');
    writeFileSync(hostJson, (await runCli(['host-summary', '--host', 'host-a', ABORT])).stdout);
    const fleetJson = join(tmp, 'fleet.json');
    writeFileSync(fleetJson, (await runCli(['merge', '--json', hostJson])).stdout);
    const fleetDoc = await runCli(['merge', '--engine', 'sql', fleetJson]);
    expect([fleetDoc.code, fleetDoc.stderr]).toEqual([2, `luotrace: ${fleetJson}: a fleet summary cannot be merged by SQL (its hosts are merged already): give the host summaries or Parquet tables, or use --engine merge\n`]);
    const noDir = await runCli(['export', '--format', 'parquet', ABORT]);
    expect([noDir.code, noDir.stderr]).toEqual([2, 'luotrace: export: --format parquet needs -o DIR (one file per table)\n']);
  });

  it('host names from the traced machine: no terminal control in the text, no file outside the output folder', async () => {
    const fleet = join(tmp, 'hostile');
    mkdirSync(fleet);
    const evil = 'x\x1b]0;owned\x07=HYPERLINK("..")';
    copyFileSync(ABORT, join(fleet, evil));
    const out = join(tmp, 'hostile-out');
    const r = await runCli(['fleet', '-j', '0', '--engine', 'sql', '--out-dir', out, '--out-format', 'parquet', fleet]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/\x1b|\x07/);
    expect(r.stdout).toContain('x\\e]0;owned\\a=HYPERLINK("..")');
    expect(readdirSync(out).sort()).toEqual(TABLE_FILES);
    expect(readdirSync(tmp).filter((n) => n.includes('owned'))).toEqual([]);
  });
});
