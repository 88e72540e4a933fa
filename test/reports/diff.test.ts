// The pure comparison of two analyze reports: ratios and deltas, regressions beyond the threshold,
// kernel-model differences, locks in the lock analysis' contract.
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';
import { cmp, DEFAULT_DIFF_OPTIONS, DiffReportSchema, diffReports } from '../../reports/diff.js';
import { type AnalyzeReport, AnalyzeReportSchema } from '../../analyses/report.js';
import { sample } from '../helpers.js';
import { sharedAnalysis } from '../analysis-cache.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REAL_LOCK_ROWS, withLocks } from './rules-lock-rows.js';

const LIFECYCLE = ['real/lifecycle/stage1/ftrace-main.txt.gz', 'real/lifecycle/console.log.gz', 'real/lifecycle/stage2/ftrace-main.txt.gz'].map(sample);

/** The same report with every duration of one phase multiplied. */
function slowerPhase(r: AnalyzeReport, phase: string, factor: number): AnalyzeReport {
  const copy = structuredClone(r);
  for (const s of copy.sessions) for (const p of s.phases) if (p.name === phase && p.durationNs !== null) p.durationNs = Math.round(p.durationNs * factor);
  return copy;
}

describe('cmp', () => {
  it('gives deltas and ratios only when both sides are known', () => {
    expect(cmp(10, 15)).toEqual({ before: 10, after: 15, delta: 5, ratio: 1.5 });
    expect(cmp(0, 3)).toEqual({ before: 0, after: 3, delta: 3, ratio: null });
    expect(cmp(null, 3)).toEqual({ before: null, after: 3, delta: null, ratio: null });
    expect(cmp(undefined, undefined)).toEqual({ before: null, after: null, delta: null, ratio: null });
  });
});

describe('diffReports on the real lifecycle capture', async () => {
  const real = await runAnalysis(LIFECYCLE, {});

  it('a run against itself: no regression, every ratio 1, same model', () => {
    const d = diffReports(real, real);
    DiffReportSchema.parse(JSON.parse(JSON.stringify(d)));
    expect(d.sameKernelModel).toBe(true);
    expect(d.regressions).toEqual([]);
    expect(d.headline).toEqual(['no regression beyond +20% (increases under 1.00 ms ignored)']);
    expect(d.phases.every((p) => p.avgNs.ratio === null || p.avgNs.ratio === 1)).toBe(true);
    expect(d.sessions.map((s) => [s.key, s.matchedBy])).toEqual([
      ['boot 0 outgoing lifecycle-s1', 'name'],
      ['boot 0 outgoing lifecycle-s2', 'name'],
      ['boot 1 incoming lifecycle-s1', 'name'],
      ['boot 1 incoming lifecycle-s2', 'name'],
    ]);
    expect(d.moduleRefs[0].moved).toBeNull();
    expect(d.moduleRefs[0].roles.map((r) => [r.role, r.gets.before, r.gets.after])).toEqual([
      ['per-file', 12, 12],
      ['per-flb', 2, 2],
      ['vfs', 12, 12],
      ['module-loader', 0, 0],
    ]);
  });

  it('a phase 1.5× slower is a regression at +20%, not at +60%; tiny increases are ignored', () => {
    const slower = slowerPhase(real, 'preserve', 1.5);
    const d = diffReports(real, slower);
    expect(d.regressions.map((r) => [r.area, r.subject, r.metric])).toEqual([
      ['phase', 'outgoing/preserve', 'avg duration'],
      ['phase', 'outgoing/preserve', 'max duration'],
    ]);
    const avg = d.regressions[0];
    expect(avg.before).toBe(24_794_750);
    expect(avg.ratio).toBeCloseTo(1.5, 2);
    expect(avg.message).toMatch(/^preserve \(outgoing\) avg 24\.8 ms → 37\.2 ms \(\+50%\)$/);
    expect(diffReports(real, slower, { ...DEFAULT_DIFF_OPTIONS, threshold: 0.6 }).regressions).toEqual([]);
    // freeze phases are < 1 ms: doubling them stays under the 1 ms floor
    expect(diffReports(real, slowerPhase(real, 'freeze', 2)).regressions).toEqual([]);
    expect(diffReports(real, slowerPhase(real, 'freeze', 2), { threshold: 0.2, minDeltaNs: 0 }).regressions.map((r) => r.subject)).toEqual(['outgoing/freeze', 'outgoing/freeze']);
    // faster is never a regression
    expect(diffReports(slower, real).regressions).toEqual([]);
  });

  it('when a report lists only part of its sessions, phases are compared from its phase statistics', () => {
    const capped = slowerPhase(real, 'retrieve', 1); // a copy
    capped.sessions = capped.sessions.filter((s) => s.side !== 'incoming' || s.name !== 'lifecycle-s2');
    capped.sessionsOmitted = { finished: 1 };
    const stat = capped.phaseStats.find((p) => p.phase === 'retrieve')!;
    Object.assign(stat, { maxNs: stat.maxNs! * 2, avgNs: stat.avgNs! * 2, totalNs: stat.totalNs * 2 });
    const d = diffReports(real, capped);
    expect(d.notComparable.filter((n) => /^sessions: 0 before and 1 after are counted but not listed/.test(n))).toHaveLength(1);
    const retrieve = d.phases.find((p) => p.phase === 'retrieve')!;
    expect([retrieve.side, retrieve.count.before, retrieve.count.after, retrieve.maxNs.ratio]).toEqual(['incoming', 8, 8, 2]);
    expect(d.regressions.map((r) => r.subject)).toEqual(['incoming/retrieve', 'incoming/retrieve']);
    expect(d.sessions.filter((s) => s.matchedBy === 'none').map((s) => s.key)).toEqual(['boot 1 incoming lifecycle-s2']);
  });

  it('a verdict that passed before and fails after is a regression', () => {
    const broken = structuredClone(real);
    const v = broken.verdicts.find((x) => x.id === 'modules-unpinned-after-finish')!;
    Object.assign(v, { ok: false, severity: 'error', message: '1 module pin left after finish/abort: luo_demo (…)' });
    const d = diffReports(real, broken);
    expect(d.regressions.map((r) => [r.area, r.subject])).toEqual([['verdict', 'modules-unpinned-after-finish']]);
    expect(d.headline[0]).toBe('modules-unpinned-after-finish: pass → FAIL');
  });

  it('rmmod results per module and boot, repeated results counted', () => {
    const retried = structuredClone(real);
    const refused = retried.boots[0].rmmod[0];
    retried.boots[0].rmmod = [refused, { ...refused, line: 700 }, { ...refused, line: 710 }, { ...refused, line: 720, result: 0, error: null }];
    const d = diffReports(real, retried);
    expect(d.headline).toContain('rmmod luo_demo (boot 0): refused -11 EAGAIN → refused -11 EAGAIN ×3, ok');
    expect(d.modules[0].rmmod).toEqual({ before: 'refused -11 EAGAIN', after: 'refused -11 EAGAIN ×3, ok' });
  });

  it('the other direction (merged -> pre-series) says the refs moved back to registration', async () => {
    const pre = await runAnalysis(
      [sample('synthetic/check-preseries-lifecycle-stage1.synthetic.txt.gz'), sample('real/lifecycle/console.log.gz'), sample('synthetic/check-preseries-lifecycle-stage2.synthetic.txt.gz')],
      {},
    );
    const d = diffReports(real, pre);
    expect(d.headline[0]).toBe(
      'luo_demo: module refs moved from per preserved file (luo_preserve_file ×6, luo_file_deserialize ×6, luo_flb_file_preserve ×1, luo_flb_retrieve_one ×1) to registration (liveupdate_register_file_handler ×2, liveupdate_register_flb ×2)',
    );
    // the pre-series run fails a verdict the merged run passes: a regression in this direction
    expect(d.regressions.map((r) => r.subject)).toEqual(['no-pins-outside-sessions']);
  });

  describe('locks (lock analysis contract)', () => {
    const before = withLocks(real);

    it('named rows are compared by name and mode; locks known only by a pointer are listed per side, never compared', () => {
      const d = diffReports(before, before);
      expect(d.locks.map((l) => [l.lock, l.mode, l.aggregate])).toEqual([
        ['&private->outgoing.lock', 'mutex', false],
        ['&session->mutex', 'mutex', false],
        ['luo_preserved_files.xa_lock', 'spinlock', false],
        ['luo_session_global.outgoing.rwsem', 'rwsem:W', false],
      ]);
      // REAL_LOCK_ROWS[4]: the contended mutex 00000000db70f8e9 that nothing named
      expect(d.unnamedLocks.before).toEqual([{ mode: 'mutex', locks: 1, hashed: 1, acquisitions: 2170, contended: 2170, waitCount: 2170, waitTotalNs: 6418640000, waitMaxNs: 119306000 }]);
      expect(d.unnamedLocks.after).toEqual(d.unnamedLocks.before);
      expect(d.notComparable).toContain('locks without a name (1 before, 1 after): a hashed pointer is keyed per boot and a raw address changes with the run, so they cannot be matched across runs; listed per side, not compared');
      expect(d.regressions).toEqual([]);
    });

    it('an unnamed lock that waits longer is not a regression: it may not be the same lock', () => {
      const rows = structuredClone(REAL_LOCK_ROWS);
      rows[4].wait.max *= 10;
      rows[4].contended *= 3;
      const d = diffReports(before, withLocks(real, rows));
      expect(d.unnamedLocks.after[0]).toMatchObject({ waitMaxNs: 1193060000, contended: 6510 });
      expect(d.regressions).toEqual([]);
    });

    it('longer waits and more contention are regressions; a lock seen on one side is not comparable', () => {
      const rows = structuredClone(REAL_LOCK_ROWS);
      const rw = rows.find((r) => r.name === 'luo_session_global.outgoing.rwsem')!;
      rw.wait.max *= 2;
      rw.contended = 200;
      const after = withLocks(real, [...rows, { ...structuredClone(REAL_LOCK_ROWS[2]), name: 'luo_register_rwlock', mode: 'W', type: 'rwsem:W' }]);
      const d = diffReports(before, after);
      expect(d.regressions.map((r) => r.message)).toEqual(['luo_session_global.outgoing.rwsem rwsem:W max wait 114 ms → 229 ms (+100%)', 'luo_session_global.outgoing.rwsem rwsem:W contended 88 → 200 (+127%)']);
      // same kernel model on both sides: no model is blamed, and the before run has no unnamed rwsem:W that could be it
      expect(d.notComparable).toContain('lock luo_register_rwlock rwsem:W: seen after only');
    });

    it('one side without lock statistics is said, not guessed', () => {
      const none = { ...structuredClone(real), locks: [] };
      const d = diffReports(none, real);
      expect(d.notComparable).toContain('locks: the before report has no lock statistics');
      expect(d.locks.every((l) => l.acquisitions.before === null)).toBe(true);
      expect(d.regressions).toEqual([]);
    });

    it('the real lifecycle run against itself: its 12 named lock x mode rows compare equal, its 68 unnamed locks are not compared', () => {
      const d = diffReports(real, real);
      expect(d.locks).toHaveLength(12);
      expect(d.locks.every((l) => l.acquisitions.ratio === 1 && (l.hold.max.ratio === null || l.hold.max.ratio === 1))).toBe(true);
      // 66 mutexes and 2 write-mode rwsems that only contention_begin/end (hashed pointers) show
      expect(d.unnamedLocks.after.map((u) => [u.mode, u.locks, u.hashed, u.acquisitions])).toEqual([
        ['mutex', 66, 66, 265],
        ['rwsem:W', 2, 2, 2],
      ]);
      expect(d.regressions).toEqual([]);
    });
  });
});

describe('runs of different length and of different renderings (real captures)', async () => {
  const STRESS = sample('real/contention-no-writer/stage1/ftrace-main.txt.gz');
  // A labelled cut of the real stress capture: its first 10 000 lines (54 of its 542 sessions).
  const cut = join(mkdtempSync(join(tmpdir(), 'luotrace-diff-cut-')), 'contention-no-writer.first-10000-lines.cut.txt');
  writeFileSync(cut, gunzipSync(readFileSync(STRESS)).toString('utf8').split('\n').slice(0, 10_000).join('\n'));
  const short = await runAnalysis([cut], {});
  const long = await sharedAnalysis([STRESS]);

  it('more contention in a longer run is not a regression when contention per acquisition fell: decided on the rate, both shown', () => {
    const d = diffReports(short, long);
    DiffReportSchema.parse(JSON.parse(JSON.stringify(d)));
    expect(d.run).toMatchObject({ lengthsDiffer: true, sessions: { before: 54, after: 542 } });
    const rw = d.locks.find((l) => l.lock === 'luo_session_global.outgoing.rwsem' && l.mode === 'rwsem:W')!;
    expect([rw.contended.before, rw.contended.after, rw.acquisitions.before, rw.acquisitions.after]).toEqual([10, 88, 102, 1084]);
    expect(rw.contendedPerAcquisition.before).toBeCloseTo(10 / 102, 6);
    expect(rw.contendedPerAcquisition.after).toBeCloseTo(88 / 1084, 6);
    expect(d.regressions.filter((r) => r.subject === 'luo_session_global.outgoing.rwsem rwsem:W' && /contended|wait per acquisition|total wait/.test(r.metric))).toEqual([]);
    expect(d.rateNotes).toContain('luo_session_global.outgoing.rwsem rwsem:W: contended 10 → 88 (+780%), but contended per acquisition 9.80% → 8.12%: not a regression, the rate decides when the runs differ in length');
    expect(d.headline).toContain('the runs differ in length (2055 → 20990 LUO lock acquisitions, 54 → 542 sessions): lock contention and total wait are decided per acquisition, totals shown beside them');
  });

  it('the other way round, the rate rose: a regression, with the totals beside it', () => {
    const d = diffReports(long, short);
    expect(d.regressions.find((r) => r.subject === 'luo_session_global.outgoing.rwsem rwsem:W' && r.metric === 'contended per acquisition')?.message).toBe(
      'luo_session_global.outgoing.rwsem rwsem:W contended per acquisition 8.12% → 9.80% (+21%) (total 88 → 10)',
    );
  });

  it('sessions of unrelated runs are never matched by order', async () => {
    const abort = await runAnalysis([sample('real/abort/stage1/ftrace-main.txt.gz')], {});
    const d = diffReports(abort, long);
    expect(d.sessions.filter((x) => x.matchedBy !== 'none')).toEqual([]);
    expect(d.sessions.find((x) => x.name === 'abort-s1')).toMatchObject({ state: { before: 'aborted', after: null } });
    expect(d.notComparable.find((n) => n.startsWith('543 session(s) seen on one side only (1 before, 542 after;'))).toBeDefined();
    // the runs are compared as a whole instead: LUO lock waits per session
    expect(d.run.waitsPerSession.before).toBe(d.run.waits.before);
    expect(d.run.waitsPerSession.after).toBeCloseTo((d.run.waits.after ?? 0) / 542, 6);
  });

  it('a lock named in one run and known only by its raw address in the other is matched by that address, and said', async () => {
    // the same run: ftrace-main has lockdep names, the irq-info=0 instance has no lockdep events (real README §2)
    const named = await runAnalysis([sample('real/abort/stage1/ftrace-main.txt.gz')], {});
    const raw = await runAnalysis([sample('real/abort/stage1/ftrace-noirq.txt.gz')], {});
    const d = diffReports(named, raw);
    const reg = d.locks.find((l) => l.lock === 'luo_register_rwlock' && l.mode === 'rwsem:R')!;
    expect(reg).toMatchObject({ matchedBy: 'address', acquisitions: { before: 16, after: 16 } });
    expect(d.notComparable).toContain(
      'lock luo_register_rwlock rwsem:R: named before, known only by its raw address 0xffffffff81ed2360 after: matched by that address (a static lock keeps it across boots of one kernel build without KASLR); --kallsyms names it',
    );
    // a lockdep-only name (no raw address anywhere) is not guessed, and no kernel model is blamed
    expect(d.notComparable).toContain(
      "lock &session->mutex mutex: seen before only (the after run has 35 mutex locks known only by a hashed pointer, which no other run can match; one may be it: trace lockdep's lock_acquire to name them)",
    );
    expect(d.notComparable.some((n) => /registration lock of/.test(n))).toBe(false);
  });
});

describe('reports saved before the LUO-first fields (a CI baseline)', async () => {
  const real = await runAnalysis(LIFECYCLE, {});
  it('still parse, every row counted as related: the run rates cover all their rows', () => {
    const old = JSON.parse(JSON.stringify(real));
    for (const l of old.locks) {
      delete l.luoRelated;
      delete l.inLuoCalls;
      delete l.longestWaits;
    }
    delete old.lockDetails.otherLocks;
    for (const w of old.lockDetails.slowestWaits) delete w.luoRelated;
    const parsed = AnalyzeReportSchema.parse(old);
    expect(parsed.locks.every((l) => l.luoRelated && l.longestWaits.length === 0)).toBe(true);
    const d = diffReports(parsed, real);
    const all = real.locks.reduce((n, l) => n + l.acquisitions, 0);
    const related = real.locks.filter((l) => l.luoRelated).reduce((n, l) => n + l.acquisitions, 0);
    expect(related).toBeLessThan(all);
    expect([d.run.lockAcquisitions.before, d.run.lockAcquisitions.after]).toEqual([all, related]);
  });
});
