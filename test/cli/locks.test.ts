// `luotrace analyze` locks section from the command line: text (perf lock vocabulary, histograms,
// owners, stall view) and --json (validated against the published schema), options and errors.
import { describe, expect, it } from 'vitest';
import { AnalyzeReportSchema } from '../../analyses/report.js';
import { sample } from '../helpers.js';
import { analyzeLuoFirst } from './locks-luo-first.js';
import { runCli } from './run.js';

const DIR = 'real/contention-no-writer/stage1';
const TRACE = sample(`${DIR}/trace-cmd-report.trimmed.txt.gz`);
const KALLSYMS = sample(`${DIR}/kallsyms-luo.txt`);

const luotrace = (...args: string[]) => runCli(args);

describe('luotrace analyze: locks section', () => {
  it('prints the perf-lock-style table, percentiles, histograms, owners and stalls before data quality', async () => {
    const r = await luotrace('analyze', TRACE, '--kallsyms', KALLSYMS);
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/^LOCKS \(\d+; sorted by wait_total/m);
    expect(out).toMatch(/acquired\s+contended\s+slept\s+avg wait\s+total wait\s+max wait\s+avg hold\s+max hold\s+type\s+caller\s+name/);
    expect(out).toMatch(/rwsem:W\s+\S+\s+luo_session_global\.outgoing\.rwsem \[LUO\]/);
    expect(out).toMatch(/\[64K, 128K\)\s+\d+ \|@+\s*\|/);
    expect(out).toMatch(/wait: n=\d+ min .* p50 .* p90 .* p99 .* p99\.9 .* max/);
    expect(out).toMatch(/percentiles: pXX = .* exact while a distribution has at most 2048 values, above that a DDSketch/);
    expect(out).toMatch(/^  Slowest waits related to LUO, and who held the lock:$/m);
    expect(out).toMatch(/^  Stalls: the slowest LUO calls of each session/m);
    expect(out.indexOf('LOCKS (')).toBeGreaterThan(out.indexOf('VERDICTS'));
    expect(out.indexOf('LOCKS (')).toBeLessThan(out.indexOf('Data quality'));
  });

  it('--json carries locks[] with the contract fields, and the rest under lockDetails', async () => {
    const r = await luotrace('analyze', TRACE, '--kallsyms', KALLSYMS, '--json');
    expect(r.code).toBe(0);
    const report = AnalyzeReportSchema.parse(JSON.parse(r.stdout));
    const row = report.locks.find((l) => l.name === 'luo_session_global.outgoing.rwsem' && l.mode === 'W');
    expect(row).toMatchObject({ address: '0xffffffff81ed2650', symbol: 'luo_session_global+0x110' });
    for (const l of report.locks) {
      expect(Object.keys(l)).toEqual(expect.arrayContaining(['name', 'address', 'mode', 'acquisitions', 'contended', 'wait', 'hold']));
      expect(Object.keys(l.wait)).toEqual(expect.arrayContaining(['count', 'total', 'min', 'max', 'avg', 'p50', 'p90', 'p99', 'p999']));
    }
    expect(report.lockDetails.totals.contendedAcquisitions).toBe(report.locks.reduce((n, l) => n + l.contended, 0));
    expect(report.lockDetails.quantileMethod.sketchRelativeError).toBe(0.01);
    expect(report.lockDetails.slowestWaits[0].explanation).toMatch(/waited [\d.]+ (ms|µs) on /);
  });

  it('filters and sorts like perf lock (-k, --lock, --type) and narrows to tasks and sessions', async () => {
    // abort scenario (real README §3.2): insmod registers, luo_ctl[346] works in session abort-s1, rmmod unregisters
    const A = 'real/abort/stage1';
    const json = async (...a: string[]) => AnalyzeReportSchema.parse(JSON.parse((await luotrace('analyze', sample(`${A}/ftrace-main.txt.gz`), '--kallsyms', sample(`${A}/kallsyms-luo.txt`), '--json', ...a)).stdout));
    const all = await json();
    const rw = (rep: Awaited<ReturnType<typeof json>>, mode: string) => rep.locks.find((l) => l.name === 'luo_register_rwlock' && l.mode === mode);
    expect(rw(all, 'W')?.acquisitions).toBe(8); // README §3.2: luo_register_rwlock 24 lock_acquire = 16 R + 8 W
    expect(rw(all, 'R')?.acquisitions).toBe(16);
    const byType = await json('--type', 'rwsem:R', '--pid', '346');
    expect(byType.locks.map((l) => l.type)).toEqual(['rwsem:R', 'rwsem:R']);
    expect(rw(byType, 'R')?.acquisitions).toBe(16);
    // --since/--until keep the intervals that overlap the window: here only rmmod's two, at 117.55 s
    const late = await json('--since', '117.0', '--lock', 'luo_register_rwlock');
    expect(late.locks.map((l) => [l.mode, l.acquisitions])).toEqual([['W', 2]]);
    const rmmod = await json('--pid', '348', '--lock', 'luo_register');
    expect(rmmod.locks.map((l) => [l.mode, l.acquisitions])).toEqual([['W', 2]]); // rows only for locks the selected tasks touched
    const session = await json('--session', 'abort-s1', '-k', 'acquired');
    expect(rw(session, 'W')).toBeUndefined(); // registration happens outside any session
    expect(session.locks.find((l) => l.name === 'luo_session_global.outgoing.rwsem')?.acquisitions).toBe(2); // insert at create, remove at close
    // LUO-related rows first, each group in the sort key's order
    const related = session.locks.map((l) => l.luoRelated);
    expect(related).toEqual([...related].sort((a, b) => Number(b) - Number(a)));
    for (const group of [true, false]) {
      const acquired = session.locks.filter((l) => l.luoRelated === group).map((l) => l.acquisitions);
      expect(acquired).toEqual([...acquired].sort((a, b) => b - a));
    }
  });

  it('LUO first: LUO locks and locks waited on inside LUO calls are listed, the others are one line (--all-locks lists them); JSON keeps every row', async () => {
    // The trimmed capture (25 other locks); the whole one, with its figures: locks.slow.test.ts.
    await analyzeLuoFirst([TRACE, '--kallsyms', KALLSYMS]);
  });

  it('rejects an unknown sort key and a bad pid with exit code 2', async () => {
    const bad = await luotrace('analyze', TRACE, '-k', 'fastest');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/fastest/);
    const pid = await luotrace('analyze', TRACE, '--pid', 'x1');
    expect(pid.code).toBe(2);
    expect(pid.stderr).toMatch(/not a pid/);
  });
});
