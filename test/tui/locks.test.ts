// The Locks screen against issue #4's JSON contract with a synthetic report section (every field the
// screen can show, including owners), and with an empty one. The real lock section is exercised on
// the real capture in screens.test.ts.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lockRows, WaitView, waitsOf } from '../../cli/tui/locks-view.js';
import { TuiModel } from '../../cli/tui/model.js';
import type { AnalyzeReport } from '../../analyses/report.js';
import { CAPTURES, KEY, loaded, type Screen, screen } from './helpers.js';
import { SYNTHETIC_LOCKS } from './locks-fixture.synthetic.js';
import { analyzeLines, READER_BLOCKED_BY_WRITER } from '../analyses/locks-harness.js';
import { sharedAnalysis } from '../analysis-cache.js';

let report: AnalyzeReport;
let s: Screen;
beforeAll(async () => {
  report = (await loaded(CAPTURES.lifecycle)).report!;
});
afterEach(() => s?.quit());

function withLocks(): TuiModel {
  return TuiModel.ready({ ...report, locks: SYNTHETIC_LOCKS.locks, lockDetails: { ...report.lockDetails, ...SYNTHETIC_LOCKS.lockDetails } } as unknown as AnalyzeReport);
}

describe('Locks screen', () => {
  it('reads every lock row and kept wait of the real lock analyses (the contract it is built on)', async () => {
    // The lock analysis' report as the pipeline makes it (sharedAnalysis: once per worker, frozen).
    for (const files of [CAPTURES.lifecycle, CAPTURES.contention]) {
      const r = await sharedAnalysis(files);
      const { rows, unreadable } = lockRows(r);
      expect(unreadable).toBe(0);
      expect(rows.length).toBeGreaterThan(10);
      const waits = (r.lockDetails as { slowestWaits: unknown[] }).slowestWaits;
      expect(waits.length).toBeGreaterThan(0);
      for (const w of waits) expect(WaitView.safeParse(w).success).toBe(true);
      // Each lock keeps its own longest waits (at most 5, never more than its timed waits), with their holders.
      for (const l of rows) {
        const kept = waitsOf(r, l);
        // its own 5 at least (fewer when it has fewer), more when the run's slowest waits hold more of it; each once
        expect(kept.length).toBeGreaterThanOrEqual(Math.min(5, l.wait?.count ?? 0));
        expect(kept.length).toBeLessThanOrEqual(l.wait?.count ?? 0);
        expect(new Set(kept.map((w) => `${w.file}:${w.line}`)).size).toBe(kept.length);
        for (const w of kept) expect(WaitView.safeParse(w).success).toBe(true);
      }
    }
  });

  it('perf-lock-style table, sorted by total wait; s cycles the order', async () => {
    s = screen(withLocks());
    await s.press('4');
    let f = await s.waitFor('LOCKS  3 · sorted by wait total');
    expect(f).toMatch(/lock +type +acquired +cont\. +wait tot +wait max +hold tot/);
    expect(f).toMatch(/▸ luo_register_rwlock +rwsem:W +22 +3 +9\.00 ms +6\.00 ms +44\.0 ms/);
    expect(f).toMatch(/luo_session_serialize_rwsem +rwsem:R +10 +0 +- +- +1\.0\d ms/);
    const order = (frame: string) => ['luo_register_rwlock ', '&session->mutex', 'luo_session_serialize_rwsem'].map((n) => frame.indexOf(n));
    let [a, b, c] = order(f);
    expect(a).toBeLessThan(b);
    expect(b).toBeLessThan(c);
    await s.press('s', 's');
    f = await s.waitFor('sorted by contended');
    [a, b, c] = order(f);
    expect(b).toBeLessThan(a);
    await s.press('s', 's', 's');
    f = await s.waitFor('sorted by name');
    expect(f.indexOf('&session->mutex')).toBeLessThan(f.indexOf('luo_register_rwlock '));
  });

  it('selected lock: histogram, longest waits with owners; Enter, then Enter on a wait shows its raw line', async () => {
    s = screen(withLocks(), 120, 30);
    await s.press('4');
    let f = await s.waitFor('longest waits');
    expect(f).toMatch(/\[1\.0\d ms, 2\.1\d ms\) +█+ +2/);
    expect(f).toMatch(/6\.00 ms +insmod-315 \(liveupdate_register_file_handler\) waited as writer; held by reader luo_ctl-317 \(lifecycle-s1 pre/);
    await s.press(KEY.enter);
    f = await s.waitFor('longest waits and who held the lock');
    expect(f).toContain('wait over time (µs)');
    expect(f).toMatch(/▸ +6\.00 ms +insmod-315/);
    await s.press(KEY.enter);
    f = await s.waitFor(/▸ +16│ +insmod-315 .*contention_begin/);
    expect(f).toContain('file 1/3 stage1/ftrace-main.txt.gz');
  });

  it('drill-down of a contended real lock: its own longest waits with holders, beside its true counts (contention-no-writer)', async () => {
    // The screen on the pipeline's report (loading as `luotrace tui` does: screens.test.ts, model.test.ts).
    s = screen(TuiModel.ready(await sharedAnalysis(CAPTURES.contention)), 120, 40);
    await s.press('4');
    await s.waitFor(/LOCKS {2}\d+ LUO-related, \d+ other in one row/);
    await s.press('/', ...'outgoing.rwsem', KEY.enter);
    await s.waitFor(/▸ luo_session_global\.outgoing\.rwsem +rwsem:W +1,084 +88 /);
    await s.press(KEY.enter);
    const f = await s.waitFor('longest waits and who held the lock');
    expect(f).toContain('acquired 1,084 · contended 88');
    expect(f).toContain('5 of 88 timed waits');
    expect(f).toMatch(/▸ +114 ms +luo_ctl-324 \(stress-324-7\) waited as writer; released last by luo_ctl-321/);
    expect(f).toMatch(/100 ms +luo_ctl-325 \(stress-325-8\) waited as writer; held by writer luo_ctl-321 \(stress-321-4\)/);
  });

  it('a reader blocked by a writer is listed in the read row\'s drill-down (synthetic lines, as in locks.test.ts)', async () => {
    const { section } = await analyzeLines(READER_BLOCKED_BY_WRITER);
    const { locks, ...details } = section;
    s = screen(TuiModel.ready({ ...report, locks, lockDetails: details } as unknown as AnalyzeReport), 120, 40);
    await s.press('4');
    await s.press('/', ...'rwsem:R', KEY.enter);
    await s.waitFor(/▸ luo_register_rwlock +rwsem:R +1 +1 /);
    await s.press(KEY.enter);
    const f = await s.waitFor('longest waits and who held the lock');
    expect(f).toContain('1 of 1 timed waits');
    expect(f).toMatch(/▸ +48\.0 ms +luo_ctl-320 \(session-A preserve\) waited as reader; held by writer insmod-317 \(register\)/);
  });

  it('has room for wait p99 from 96 columns on', async () => {
    s = screen(withLocks(), 100, 30);
    await s.press('4');
    const f = await s.waitFor('LOCKS  3');
    expect(f).toMatch(/lock +type +acquired +cont\. +wait tot +wait max +wait p99 +hold tot/);
  });

  it('a lock without a histogram shows its percentiles instead', async () => {
    s = screen(withLocks());
    await s.press('4', 'j');
    const f = await s.waitFor('▸ &session->mutex');
    expect(f).toMatch(/p50 +█+ +300 µs/);
    expect(f).toMatch(/max +█+ +1\.2\d ms/);
  });

  it('a report without locks (no lock events in the inputs): "no lock data", no table', async () => {
    s = screen(TuiModel.ready({ ...report, locks: [] }));
    await s.press('4');
    const f = await s.waitFor('no lock data in this report');
    expect(f).not.toContain('wait tot');
  });
});
