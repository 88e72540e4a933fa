// `luotrace export --format chrome-json|csv`, `analyze --csv DIR`, and `luotrace schema` for the new
// outputs: real captures, validated against the published JSON Schema and read back with csv-parse.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { traceEventProblems } from '../../reports/chrome-trace.js';
import { runAnalysis } from '../../analyses/pipeline.js';
import { reportTables, tableToCsv } from '../../reports/csv.js';
import { REAL_LOCK_ROWS, REAL_SLOWEST_WAIT, withLocks } from '../reports/rules-lock-rows.js';
import { sample } from '../helpers.js';
import { schemaErrors } from './check-jsonschema.js';
import { runCli } from './run.js';

const tmp = mkdtempSync(join(tmpdir(), 'luotrace-export-'));
const LIFECYCLE = ['real/lifecycle/stage1/ftrace-main.txt.gz', 'real/lifecycle/console.log.gz', 'real/lifecycle/stage2/ftrace-main.txt.gz'].map(sample);
const TABLES = ['lock_stats.csv', 'module_refs_by_site.csv', 'phases.csv', 'pin_windows.csv', 'refcounts.csv', 'sessions.csv', 'waits.csv'];
const readCsv = (dir: string, name: string): Array<Record<string, string>> => parse(readFileSync(join(dir, name), 'utf8'), { columns: true });

describe('export --format chrome-json', () => {
  it('prints a trace-event document that validates against `luotrace schema chrome-json`', async () => {
    const r = await runCli(['export', '--format', 'chrome-json', ...LIFECYCLE]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const t = JSON.parse(r.stdout);
    expect(schemaErrors('chrome-json', t)).toEqual([]);
    expect(traceEventProblems(t)).toEqual([]);
    expect(t.otherData.counts).toMatchObject({ phases: 31, refcountSamples: 41, skippedUntimed: 0, lockSlices: 592 });
    // a document with a broken event is rejected by the same published schema
    expect(schemaErrors('chrome-json', { ...t, traceEvents: [{ ph: 'X', name: 'x' }] }).length).toBeGreaterThan(0);
  });

  it('--max-lock-slices bounds the lock slices (the longest are kept) and the document says it capped', async () => {
    const r = await runCli(['export', '--format', 'chrome-json', '--max-lock-slices', '25', ...LIFECYCLE]);
    expect(r.code).toBe(0);
    const t = JSON.parse(r.stdout);
    expect(schemaErrors('chrome-json', t)).toEqual([]);
    expect(t.otherData.lockIntervals).toEqual({ complete: 592, kept: 25, overCap: 567, notDrawn: 267, cap: 25, capped: true });
    expect(t.traceEvents.filter((e: { ph: string; cat?: string }) => e.ph === 'X' && e.cat?.startsWith('lock.'))).toHaveLength(25);
    expect(t.otherData.notes).toContain('lock slices capped at 25: the 25 longest of 592 complete holds and waits are drawn, 567 shorter ones are left out (--max-lock-slices)');
    const bad = await runCli(['export', '--format', 'chrome-json', '--max-lock-slices', 'many', ...LIFECYCLE]);
    expect([bad.code, bad.stderr]).toEqual([2, 'luotrace: --max-lock-slices: not a count: many\n']);
  });

  it('-o FILE writes the same document', async () => {
    const out = join(tmp, 'trace.json');
    const r = await runCli(['export', '--format', 'chrome-json', '-o', out, sample('real/abort/stage1/ftrace-main.txt.gz')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^luotrace: wrote \d+ trace events to .*trace\.json\n$/);
    const t = JSON.parse(readFileSync(out, 'utf8'));
    expect(t.otherData.files).toEqual([sample('real/abort/stage1/ftrace-main.txt.gz')]);
    expect(traceEventProblems(t)).toEqual([]);
  });

  it('--input-format is the input format; stdin and a missing --format are refused with exit 2', async () => {
    const ok = await runCli(['export', '--format', 'chrome-json', '--input-format', 'trace-cmd', sample('real/abort/stage1/trace-cmd-report.txt.gz')]);
    expect(ok.code).toBe(0);
    const stdin = await runCli(['export', '--format', 'chrome-json', '-'], { stdin: readFileSync(sample('real/abort/stage1/ftrace-fgraph.txt')) });
    expect([stdin.code, stdin.stderr]).toEqual([2, 'luotrace: -: chrome-json export reads its inputs twice: give files, not stdin\n']);
    const noFormat = await runCli(['export', sample('real/abort/stage1/ftrace-fgraph.txt')]);
    expect(noFormat.code).toBe(2);
    expect(noFormat.stderr).toMatch(/required option '--format <format>' not specified/);
  });
});

describe('CSV tables', () => {
  it('analyze --csv DIR writes one file per table and still prints the report', async () => {
    const dir = join(tmp, 'analyze-csv');
    const r = await runCli(['analyze', '--csv', dir, ...LIFECYCLE]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^luotrace 0\.1\.0/);
    expect(readdirSync(dir).sort()).toEqual(TABLES);
    const report = await runAnalysis(LIFECYCLE, {});
    const sessions = readCsv(dir, 'sessions.csv');
    expect(sessions).toHaveLength(4);
    expect(sessions[0]).toMatchObject({ session_id: '0', boot: '0', side: 'outgoing', name: 'lifecycle-s1', state: 'frozen', pins_taken: '3', pins_open: '3', peer_boot: '1' });
    // The FLB's pin is listed with its FLB, not with lifecycle-s1 (docs/luo-model.md §4 "Whose reference it is").
    expect(readCsv(dir, 'sessions.csv').map((s) => s.outcome)).toEqual(report.sessions.map((s) => s.outcome));
    const phases = readCsv(dir, 'phases.csv');
    expect(phases).toHaveLength(31);
    expect(phases.find((p) => p.phase === 'finish' && p.session === 'lifecycle-s1')).toMatchObject({ duration_ns: '319472000', via: 'ioctl', result: '0', line: '406' });
    const pins = readCsv(dir, 'pin_windows.csv');
    expect(pins).toHaveLength(26);
    expect(pins.filter((p) => p.class === 'luo-flb').map((p) => [p.get_line, p.session, p.flb])).toEqual([['276', '', 'luo-demo-flb-v1'], ['309', '', 'luo-demo-flb-v1']]);
    expect(pins.filter((p) => p.open === 'true' && p.class.startsWith('luo')).every((p) => p.expected_open.startsWith('held across kexec') && p.put_time_ns === '')).toBe(true);
    expect(readCsv(dir, 'refcounts.csv').map((m) => [m.boot, m.gets, m.puts, m.final_refcnt, m.open_luo_pins])).toEqual([
      ['0', '13', '1', '14', '7'],
      ['1', '13', '14', '1', '0'],
    ]);
    expect(readCsv(dir, 'module_refs_by_site.csv').find((s) => s.call_site === 'luo_preserve_file')).toEqual({ module: 'luo_demo', boot: '0', direction: 'get', call_site: 'luo_preserve_file', role: 'luo-file', count: '6' });
    // one row per lock x mode of the report: 12 named (lockdep) rows and 68 locks only a hashed pointer shows
    expect(readFileSync(join(dir, 'lock_stats.csv'), 'utf8').split('\n')[0]).toMatch(/^lock,address,mode,type,acquisitions,contended,wait_count,wait_total_ns,/);
    const stats = readCsv(dir, 'lock_stats.csv');
    expect([stats.length, stats.filter((x) => x.lock !== '').length]).toEqual([80, 12]);
    expect(stats.map((x) => [x.lock || x.address, x.type])).toEqual(report.locks.map((l) => [l.name ?? l.address, l.type]));
    expect(stats.find((x) => x.lock === 'luo_session_serialize_rwsem')).toMatchObject({ address: '0xffffffff81ed2740', mode: 'R', acquisitions: '23', contended: '0', hold_count: '23', hold_max_ns: '356268000', wait_count: '0', wait_max_ns: '' });
    expect(stats.filter((x) => x.luo_related === 'true')).toHaveLength(report.locks.filter((l) => l.luoRelated).length);
    // the waits the report keeps: the 20 slowest LUO-related ones, then the 20 slowest others (rmmod-344's
    // 95 ms wait on an rwsem nothing names, after liveupdate_unregister_file_handler: not inside a LUO call)
    const waits = readCsv(dir, 'waits.csv');
    expect(waits).toHaveLength(40);
    expect(waits.map((w) => w.luo_related)).toEqual([...Array(20).fill('true'), ...Array(20).fill('false')]);
    expect(waits[0]).toMatchObject({ lock: '&session->mutex', type: 'mutex', waiter_pid: '342', waiter_comm: 'luo_ctl', wait_ns: '4530000', line: '385' });
    expect(waits[20]).toMatchObject({ lock: '', address: '00000000f7c18e79', type: 'rwsem:W', waiter_pid: '344', waiter_comm: 'rmmod', wait_ns: '94786000', line: '940' });
  });

  it('export --format csv -o DIR writes the same tables', async () => {
    const dir = join(tmp, 'export-csv');
    const r = await runCli(['export', '--format', 'csv', '-o', dir, sample('real/abort/stage1/ftrace-main.txt.gz')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/wrote 7 CSV tables/);
    expect(readdirSync(dir).sort()).toEqual(TABLES);
    expect(readCsv(dir, 'phases.csv').filter((p) => p.error !== '').map((p) => [p.phase, p.token, p.error])).toEqual([
      ['preserve', '0x1ee', 'EIO'],
      ['preserve', '0x1ff', 'ENOENT'],
    ]);
    // a field with a comma is quoted and survives the round trip
    expect(readFileSync(join(dir, 'sessions.csv'), 'utf8')).toContain(',"aborted: session fd closed, files unpreserved (no kexec in these inputs)",');
    expect(readCsv(dir, 'sessions.csv').map((x) => [x.name, x.outcome])).toEqual([['abort-s1', 'aborted: session fd closed, files unpreserved (no kexec in these inputs)']]);
    const noDir = await runCli(['export', '--format', 'csv', sample('real/abort/stage1/ftrace-main.txt.gz')]);
    expect([noDir.code, noDir.stderr]).toEqual([2, expect.stringMatching(/--format csv needs -o DIR/)]);
  });

  it('lock tables follow the lock analysis contract', async () => {
    const report = withLocks(await runAnalysis([sample('real/abort/stage1/ftrace-main.txt.gz')], {}));
    const tables = Object.fromEntries(reportTables(report).map((t) => [t.name, t]));
    const stats = parse(tableToCsv(tables.lock_stats), { columns: true }) as Array<Record<string, string>>;
    expect(stats).toHaveLength(REAL_LOCK_ROWS.length);
    expect(stats[1]).toMatchObject({ lock: 'luo_session_global.outgoing.rwsem', mode: 'W', type: 'rwsem:W', contended: '88', wait_max_ns: '114385000', wait_p99_ns: '114385000', hold_count: '1084' });
    expect(stats[4]).toMatchObject({ lock: '', address: '00000000db70f8e9', hold_count: '0', hold_max_ns: '' });
    const waits = parse(tableToCsv(tables.waits), { columns: true }) as Array<Record<string, string>>;
    expect(waits).toEqual([
      expect.objectContaining({ lock: '&private->outgoing.lock', waiter_pid: '326', session: 'stress-326-68', wait_ns: '187999000', slept: 'true', owner_pid: '322', owner_held_for_ns: '55347000', explanation: REAL_SLOWEST_WAIT.explanation, line: '75024' }),
    ]);
  });
});

describe('luotrace schema', () => {
  it('lists the new outputs and prints their JSON Schemas', async () => {
    const list = await runCli(['schema']);
    expect(list.stdout).toMatch(/^check +`luotrace check --json`$/m);
    expect(list.stdout).toMatch(/^diff +`luotrace diff --json`$/m);
    expect(list.stdout).toMatch(/^chrome-json +`luotrace export --format chrome-json`/m);
    expect(list.stdout).toMatch(/^rules +the rules file of `luotrace check --rules FILE` \(input\)$/m);
    const rules = JSON.parse((await runCli(['schema', 'rules'])).stdout);
    expect(rules.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schemaErrors('rules', { rules: { 'max-wait': { limits: [{ lock: 'luo_register_rwlock', limit: '5ms' }] } } })).toEqual([]);
    expect(schemaErrors('rules', { rules: { 'max-wiat': 'error' } }).length).toBeGreaterThan(0);
  });

  it('the analyze report of a real run validates against its published schema too', async () => {
    const r = await runCli(['analyze', '--json', ...LIFECYCLE]);
    expect(schemaErrors('analyze', JSON.parse(r.stdout))).toEqual([]);
  });

  it('the events outputs of a real capture validate against their published schemas', async () => {
    const file = sample('real/abort/stage1/ftrace-main.txt.gz');
    const summary = await runCli(['events', '--summary', '--json', file]);
    expect(schemaErrors('events-summary', JSON.parse(summary.stdout))).toEqual([]);
    const lines = (await runCli(['events', file])).stdout.trim().split('\n');
    expect(lines).toHaveLength(792);
    expect(lines.flatMap((l) => schemaErrors('event', JSON.parse(l)))).toEqual([]);
  });

  it('an unknown kind is a usage error (exit 2)', async () => {
    const r = await runCli(['schema', 'nope']);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/^luotrace: schema: unknown schema nope; one of: analyze, check, diff, chrome-json, rules/)]);
  });
});
