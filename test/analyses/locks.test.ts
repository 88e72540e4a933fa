// Lock analyses on small traces written in the real kernel's exact line format (synthetic: each
// scenario says which real sequence it reproduces; payloads as in samples/real/*/ftrace-main.txt).
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../parsers/event.js';
import { makeEvent } from '../../parsers/payloads.js';
import { LocksSectionSchema } from '../../analyses/locks/locks.js';
import { ADDR, P, READER_BLOCKED_BY_WRITER, analyzeEvents, analyzeLines, ftraceLine as L, row, symbolsFromText } from './locks-harness.js';

const KALLSYMS = `ffffffff81302260 T liveupdate_register_file_handler
ffffffff813024a0 T luo_preserve_file
ffffffff81ed2300 t luo_dev
ffffffff81ed2360 T luo_register_rwlock
ffffffff81ed2400 t luo_preserved_files
ffffffff81ed2540 t luo_session_global
ffffffff81ed2740 t luo_session_serialize_rwsem
`;

describe('rwsem write contention: probe + lockdep + contention merged (real lines 682-691 of contention-no-writer)', () => {
  const lines = [
    L('luo_ctl', 321, 2, 76.85, P.downWrite(ADDR.outgoing)),
    L('luo_ctl', 321, 2, 76.850006, P.acquire('00000000be1eb73f', 'luo_session_global.outgoing.rwsem')),
    L('luo_ctl', 320, 1, 76.856168, P.downWrite(ADDR.outgoing)),
    L('luo_ctl', 320, 1, 76.856174, P.acquire('00000000be1eb73f', 'luo_session_global.outgoing.rwsem')),
    L('luo_ctl', 320, 1, 76.856288, P.acquire('00000000c14ca10d', 'luo_session_global.outgoing.rwsem.wait_lock'), 'd..2.'),
    L('luo_ctl', 320, 1, 76.856448, P.begin('00000000e743fd1d', 'WRITE'), 'd..2.'),
    L('luo_ctl', 320, 1, 76.856534, P.release('00000000c14ca10d', 'luo_session_global.outgoing.rwsem.wait_lock'), 'd..2.'),
    L('luo_ctl', 321, 2, 76.858, P.upWrite(ADDR.outgoing)),
    L('luo_ctl', 321, 2, 76.858005, P.release('00000000be1eb73f', 'luo_session_global.outgoing.rwsem')),
    L('luo_ctl', 320, 1, 76.85865, P.end('00000000e743fd1d'), '...1.'),
    L('luo_ctl', 320, 1, 76.880292, P.upWrite(ADDR.outgoing)),
    L('luo_ctl', 320, 1, 76.880308, P.release('00000000be1eb73f', 'luo_session_global.outgoing.rwsem')),
  ];

  it('counts one contended acquisition of two, with hand-computed wait and holds', async () => {
    const { section } = await analyzeLines(lines);
    const r = row(section, 'luo_session_global.outgoing.rwsem', 'rwsem:W');
    expect(r).toBeDefined();
    expect(r).toMatchObject({ mode: 'W', address: ADDR.outgoing, acquisitions: 2, contended: 1, slept: 1, instances: 1 });
    expect(r?.luo?.role).toMatch(/outgoing session list/);
    // wait: 76.858650 - 76.856448; holds: 76.858000 - 76.850000 and 76.880292 - 76.858650 (granted at contention_end)
    expect(r?.wait).toMatchObject({ count: 1, total: 2_202_000, min: 2_202_000, max: 2_202_000, p50: 2_202_000, quantiles: 'exact' });
    expect(r?.hold).toMatchObject({ count: 2, total: 8_000_000 + 21_642_000, min: 8_000_000, max: 21_642_000 });
    expect(r?.evidence.sort()).toEqual(['contention', 'lockdep', 'probe']);
    expect(section.totals).toMatchObject({ contentionBegins: 1, contentionEnds: 1, contendedAcquisitions: 1, boundToNamedAcquisition: 1 });
    expect(() => LocksSectionSchema.parse(section)).not.toThrow();
  });

  it('names the hashed contention pointer after the same task\'s probe and lockdep event', async () => {
    const { section } = await analyzeLines(lines);
    const id = section.identities.find((i) => i.name === 'luo_session_global.outgoing.rwsem');
    expect(id).toMatchObject({ addresses: [ADDR.outgoing], hashedPointers: ['00000000e743fd1d'], lockdepMaps: ['00000000be1eb73f'] });
    expect(id?.namedBy).toContain('same-task adjacency');
    // no row is left under the bare hash
    expect(section.locks.some((l) => l.address === '00000000e743fd1d' && l.name === null)).toBe(false);
  });

  it('attributes the wait to the writer that held the lock', async () => {
    const { section } = await analyzeLines(lines);
    const w = section.slowestWaits[0];
    expect(w.owners).toEqual([expect.objectContaining({ pid: 321, comm: 'luo_ctl', mode: 'W', heldFor: 6_448_000 })]);
    expect(w.wokenBy).toMatchObject({ pid: 321, at: 76_858_000_000 });
    expect(w.explanation).toContain('waited 2.20 ms on luo_session_global.outgoing.rwsem:W held by writer luo_ctl[321]');
  });

  it('keeps the rwsem wait_lock as its own spinlock without stealing the contention', async () => {
    const { section } = await analyzeLines(lines);
    expect(row(section, 'luo_session_global.outgoing.rwsem.wait_lock', 'spinlock')).toMatchObject({ acquisitions: 1, contended: 0, hold: { count: 1, total: 246_000 } });
  });
});

describe('mutex slow path (real README O7)', () => {
  it('counts SPIN|MUTEX, MUTEX, SPIN|MUTEX, MUTEX then one end as one contended, slept acquisition', async () => {
    // real lines 1590-1628 of contention-no-writer: luo_ctl-326 on &private->outgoing.lock
    const { section } = await analyzeLines([
      L('luo_ctl', 326, 3, 77.25541, P.acquire('000000009524f9db', '&private->outgoing.lock'), '...1.'),
      L('luo_ctl', 326, 3, 77.255433, P.begin('000000005cadf180', 'SPIN|MUTEX'), '...1.'),
      L('luo_ctl', 326, 3, 77.263382, P.begin('000000005cadf180', 'MUTEX'), 'd..3.'),
      L('luo_ctl', 326, 3, 77.269907, P.begin('000000005cadf180', 'SPIN|MUTEX'), '...1.'),
      L('luo_ctl', 326, 3, 77.270089, P.begin('000000005cadf180', 'MUTEX'), 'd..3.'),
      L('luo_ctl', 326, 3, 77.3, P.end('000000005cadf180'), '...1.'),
      L('luo_ctl', 326, 3, 77.301, P.release('000000009524f9db', '&private->outgoing.lock')),
    ]);
    expect(section.totals).toMatchObject({ contentionBegins: 4, contentionEnds: 1, reBegins: 3, contendedAcquisitions: 1 });
    const r = row(section, '&private->outgoing.lock', 'mutex');
    expect(r).toMatchObject({ acquisitions: 1, contended: 1, slept: 1, wait: { count: 1, total: 44_567_000 }, hold: { count: 1, total: 1_000_000 } });
    expect(section.slowestWaits[0]).toMatchObject({ begins: 4, slept: true, duration: 44_567_000 });
  });

  it('a spin-only slow path (trylock at once, lockdep kernels) is contended but did not sleep', async () => {
    const { section } = await analyzeLines([
      L('luo_ctl', 320, 1, 76.548980, P.acquire('0000000085d51f11', '&session->mutex'), '.l.1.'),
      L('luo_ctl', 320, 1, 76.549045, P.begin('00000000141b03ed', 'SPIN|MUTEX'), '.l.1.'),
      L('luo_ctl', 320, 1, 76.549166, P.end('00000000141b03ed'), '.l.1.'),
      L('luo_ctl', 320, 1, 76.549614, P.release('0000000085d51f11', '&session->mutex'), '.l...'),
    ]);
    expect(row(section, '&session->mutex', 'mutex')).toMatchObject({ acquisitions: 1, contended: 1, slept: 0, wait: { total: 121_000 }, hold: { total: 448_000 } });
    expect(section.slowestWaits[0].explanation).toContain('no holder seen (the slow path spun or retried and got it)');
  });

  it('contention_end ret != 0 is a failed acquisition: a wait, no hold', async () => {
    const { section } = await analyzeLines([
      L('luo_ctl', 320, 1, 1.0, P.acquire('0000000085d51f11', '&session->mutex')),
      L('luo_ctl', 320, 1, 1.000010, P.begin('00000000141b03ed', 'SPIN|MUTEX')),
      L('luo_ctl', 320, 1, 1.000020, P.begin('00000000141b03ed', 'MUTEX')),
      L('luo_ctl', 320, 1, 1.5, P.end('00000000141b03ed', -4)),
    ]);
    const r = row(section, '&session->mutex', 'mutex');
    expect(r).toMatchObject({ acquisitions: 0, failed: 1, contended: 1, wait: { count: 1, total: 499_990_000 }, hold: { count: 0 } });
    expect(r?.incomplete.holds).toEqual({ 'trace-start': 0, 'trace-end': 0, 'lost-events': 0, 'out-of-order': 0 });
    expect(section.totals.failedWaits).toBe(1);
  });
});

describe('binding contention to the pending acquisition only when the lock type fits', () => {
  // real lines 222-230: luo_session_insert takes a mutex while holding the outgoing rwsem for write
  const lines = [
    L('luo_ctl', 320, 1, 76.540525, P.downWrite(ADDR.outgoing), '.B...'),
    L('luo_ctl', 320, 1, 76.546617, P.acquire('00000000be1eb73f', 'luo_session_global.outgoing.rwsem')),
    L('luo_ctl', 320, 1, 76.547369, P.begin('00000000db70f8e9', 'SPIN|MUTEX'), '...1.'),
    L('luo_ctl', 320, 1, 76.547519, P.end('00000000db70f8e9'), '...1.'),
    L('luo_ctl', 320, 1, 76.548841, P.upWrite(ADDR.outgoing), '.l...'),
    L('luo_ctl', 320, 1, 76.548848, P.release('00000000be1eb73f', 'luo_session_global.outgoing.rwsem'), '.l...'),
  ];
  it('a MUTEX contention after an rwsem acquire is another lock', async () => {
    const { section } = await analyzeLines(lines);
    expect(row(section, 'luo_session_global.outgoing.rwsem', 'rwsem:W')).toMatchObject({ acquisitions: 1, contended: 0, hold: { total: 8_316_000 } });
    const m = row(section, '00000000db70f8e9', 'mutex');
    expect(m).toMatchObject({ name: null, acquisitions: 1, contended: 1, holdsNotObservable: 1, wait: { total: 150_000 } });
    expect(section.nesting).toContainEqual({ outer: 'luo_session_global.outgoing.rwsem:W', inner: '00000000db70f8e9:mutex', count: 1 });
  });

  it('without a type hint (lockdep only, unknown class) the flags decide and teach the type', async () => {
    const { section } = await analyzeLines([
      L('kworker', 50, 0, 2.0, P.acquire('00000000aaaa0001', '&dev->lock')),
      L('kworker', 50, 0, 2.000010, P.begin('00000000bbbb0002', 'SPIN|MUTEX')),
      L('kworker', 50, 0, 2.000110, P.end('00000000bbbb0002')),
      L('kworker', 50, 0, 2.001, P.release('00000000aaaa0001', '&dev->lock')),
    ]);
    expect(row(section, '&dev->lock', 'mutex')).toMatchObject({ lockType: 'mutex', acquisitions: 1, contended: 1 });
  });

  it('a READ contention never binds to an exclusive attempt', async () => {
    const { section } = await analyzeLines([
      L('luo_ctl', 320, 1, 3.0, P.downWrite(ADDR.register)),
      L('luo_ctl', 320, 1, 3.000005, P.acquire('0000000087631697', 'luo_register_rwlock')),
      L('luo_ctl', 320, 1, 3.00001, P.begin('00000000cccc0003', 'READ')),
      L('luo_ctl', 320, 1, 3.0001, P.end('00000000cccc0003')),
      L('luo_ctl', 320, 1, 3.001, P.upWrite(ADDR.register)),
    ]);
    expect(row(section, 'luo_register_rwlock', 'rwsem:W')).toMatchObject({ contended: 0 });
    expect(row(section, '00000000cccc0003', 'rwsem:R')).toMatchObject({ contended: 1 });
  });
});

describe('owner attribution, sessions, phases and the stall view', () => {
  // The chain of the issue: a preserve waits for luo_register_rwlock while insmod registers a handler.
  const lines = READER_BLOCKED_BY_WRITER;

  it('explains the stall: preserve in session A waited 48 ms on luo_register_rwlock:R (its own mode) held by writer insmod (liveupdate_register_file_handler)', async () => {
    const { section } = await analyzeLines(lines);
    const w = section.slowestWaits[0];
    expect(w.waiter).toEqual({ pid: 320, comm: 'luo_ctl', session: 'session-A', func: 'luo_preserve_file', phase: 'preserve', after: null });
    expect(w.owners).toEqual([{ pid: 317, comm: 'insmod', session: null, func: 'liveupdate_register_file_handler', phase: 'register', after: null, mode: 'W', heldFor: 2_100_000 }]);
    expect(w.explanation).toBe('preserve in session session-A (luo_ctl[320] in luo_preserve_file) waited 48.0 ms on luo_register_rwlock:R held by writer insmod[317] (liveupdate_register_file_handler)');
    expect(w.duration).toBe(48_000_000);
  });

  it('splits statistics by caller, session and phase', async () => {
    const { section } = await analyzeLines(lines);
    const r = row(section, 'luo_register_rwlock', 'rwsem:R');
    expect(r?.sessions).toEqual([expect.objectContaining({ key: 'session-A', acquisitions: 1, contended: 1 })]);
    expect(r?.phases).toEqual([expect.objectContaining({ key: 'preserve', acquisitions: 1 })]);
    expect(r?.callers[0]).toMatchObject({ key: 'luo_preserve_file', wait: { total: 48_000_000 } });
    const wr = row(section, 'luo_register_rwlock', 'rwsem:W');
    expect(wr?.phases[0]).toMatchObject({ key: 'register', hold: { total: 49_900_000 } });
    expect(wr?.sessions[0].key).toBeNull();
  });

  it('shows the slowest LUO call of the session with the wait inside it', async () => {
    const { section } = await analyzeLines(lines);
    const s = section.stalls.find((x) => x.session === 'session-A');
    expect(s?.slowest[0]).toMatchObject({ func: 'luo_preserve_file', phase: 'preserve', pid: 320, duration: 58_000_000, waitCount: 1, waitTotal: 48_000_000, incomplete: false });
    expect(s?.slowest[0].waits[0].owners[0].func).toBe('liveupdate_register_file_handler');
    const none = section.stalls.find((x) => x.session === null);
    expect(none?.slowest[0]).toMatchObject({ func: 'liveupdate_register_file_handler', duration: 51_000_000 });
  });

  it('names only the earliest writer as owner: a later one is still spinning in down_write', async () => {
    // real lines 9287-9324 of contention-no-writer: 321 holds; 320's lock_acquire comes before its
    // optimistic spin ends, so it looks like a second writer when 325 starts waiting
    const { section } = await analyzeLines([
      L('luo_ctl', 321, 1, 80.1238, P.downWrite(ADDR.outgoing)),
      L('luo_ctl', 320, 2, 80.139502, P.downWrite(ADDR.outgoing), '.B...'),
      L('luo_ctl', 325, 2, 80.143268, P.downWrite(ADDR.outgoing)),
      L('luo_ctl', 325, 2, 80.143270, P.begin(ADDR.outgoing, 'WRITE'), 'd..2.'),
      L('luo_ctl', 321, 1, 80.147568, P.upWrite(ADDR.outgoing)),
      L('luo_ctl', 320, 2, 80.160525, P.upWrite(ADDR.outgoing)),
      L('luo_ctl', 325, 2, 80.168520, P.end(ADDR.outgoing), '...1.'),
      L('luo_ctl', 325, 2, 80.168827, P.upWrite(ADDR.outgoing)),
    ]);
    const w = section.slowestWaits[0];
    expect(w.owners.map((o) => o.pid)).toEqual([321]);
    expect(w).toMatchObject({ ownersTotal: 1, acquiring: 1, wokenBy: { pid: 320 } });
  });

  it('says which LUO call a task had just returned from when it waits outside any (session close path)', async () => {
    const { section } = await analyzeLines([
      L('luo_ctl', 321, 0, 77.70, P.enter('luo_session_create', '0x130', 'name="stress-321-7"')),
      L('luo_ctl', 321, 0, 77.701, P.exit('luo_session_create', 0)),
      L('luo_ctl', 321, 0, 77.71, P.enter('luo_file_unpreserve_files', '0x170', 'file_set=0xff1100002093b858')),
      L('luo_ctl', 321, 0, 77.74, P.exit('luo_file_unpreserve_files')),
      L('luo_ctl', 321, 0, 77.742800, P.downWrite(ADDR.outgoing)),
      L('luo_ctl', 321, 0, 77.742885, P.begin(ADDR.outgoing, 'WRITE'), 'dB.2.'),
      L('luo_ctl', 321, 0, 77.75, P.end(ADDR.outgoing)),
      L('luo_ctl', 321, 0, 77.751, P.upWrite(ADDR.outgoing)),
    ]);
    expect(section.slowestWaits[0].waiter).toMatchObject({ session: 'stress-321-7', phase: null, after: 'luo_file_unpreserve_files' });
    expect(section.slowestWaits[0].explanation).toMatch(/^work after luo_file_unpreserve_files in session stress-321-7 \(luo_ctl\[321\]\) waited 7\.\d\d ms/);
  });

  it('lists every reader as an owner when a writer waits', async () => {
    const { section } = await analyzeLines([
      L('luo_ctl', 320, 1, 5.0, P.downRead(ADDR.register)),
      L('luo_ctl', 321, 2, 5.001, P.downRead(ADDR.register)),
      L('insmod', 317, 0, 5.002, P.downWrite(ADDR.register)),
      L('insmod', 317, 0, 5.0021, P.begin(ADDR.register, 'WRITE')),
      L('luo_ctl', 320, 1, 5.01, P.upRead(ADDR.register)),
      L('luo_ctl', 321, 2, 5.02, P.upRead(ADDR.register)),
      L('insmod', 317, 0, 5.0201, P.end(ADDR.register)),
      L('insmod', 317, 0, 5.03, P.upWrite(ADDR.register)),
    ], { symbols: symbolsFromText(KALLSYMS) });
    const w = section.slowestWaits[0];
    expect(w.owners.map((o) => [o.pid, o.mode])).toEqual([[320, 'R'], [321, 'R']]);
    expect(w.wokenBy?.pid).toBe(321);
    // The writer's wait is labelled with its own mode (contention_begin WRITE), its holders with theirs.
    expect(w.type).toBe('rwsem:W');
    expect(w.explanation).toBe('work outside LUO calls (insmod[317]) waited 18.0 ms on luo_register_rwlock:W held by readers luo_ctl[320], luo_ctl[321]');
    // ...and kept with the lock's own row (the drill-down), not only among the slowest waits overall
    expect(row(section, 'luo_register_rwlock', 'rwsem:W')?.longestWaits.map((x) => x.explanation)).toEqual([w.explanation]);
    expect(row(section, 'luo_register_rwlock', 'rwsem:R')?.longestWaits).toEqual([]);
    const r = row(section, 'luo_register_rwlock', 'rwsem:R');
    // read holds overlap across tasks: 10 ms and 19 ms
    expect(r?.hold).toMatchObject({ count: 2, total: 29_000_000 });
    expect(row(section, 'luo_register_rwlock', 'rwsem:W')).toMatchObject({ contended: 1, wait: { total: 18_000_000 }, hold: { total: 9_900_000 } });
  });
});

describe('trylock and killable failures (return probes)', () => {
  it('counts a failed down_read_trylock and takes the caller from the return probe', async () => {
    const { section } = await analyzeLines([
      L('luo_ctl', 320, 1, 1.0, `down_read_trylock: (down_read_trylock+0x4/0x50) sem=${ADDR.register}`),
      L('luo_ctl', 320, 1, 1.00001, 'down_read_trylock__return: (luo_flb_file_finish+0x1e/0x60 <- down_read_trylock) ret=0'),
      L('luo_ctl', 320, 1, 1.1, `down_read_trylock: (down_read_trylock+0x4/0x50) sem=${ADDR.register}`),
      L('luo_ctl', 320, 1, 1.10001, 'down_read_trylock__return: (luo_flb_file_finish+0x1e/0x60 <- down_read_trylock) ret=1'),
      L('luo_ctl', 320, 1, 1.2, P.upRead(ADDR.register)),
    ]);
    const r = row(section, ADDR.register, 'rwsem:R');
    expect(r).toMatchObject({ acquisitions: 1, failed: 1, trylockFailed: 1, hold: { count: 1, total: 99_990_000 } });
    expect(r?.callers[0].key).toBe('luo_flb_file_finish');
  });

  it('counts an interrupted down_write_killable as failed', async () => {
    const { section } = await analyzeLines([
      L('rmmod', 345, 3, 2.0, `down_write_killable: (down_write_killable+0x4/0x60) sem=${ADDR.register}`),
      L('rmmod', 345, 3, 2.5, 'down_write_killable__return: (liveupdate_unregister_file_handler+0x1e/0x60 <- down_write_killable) ret=-4'),
    ]);
    expect(row(section, ADDR.register, 'rwsem:W')).toMatchObject({ acquisitions: 0, failed: 1, trylockFailed: 0 });
    expect(section.heldAtEnd).toEqual([]);
  });
});

describe('trace edges and lost events give incomplete intervals, never wrong ones', () => {
  it('a release without acquire, a hold open at the end, a wait cut by the end', async () => {
    const { section, holds } = await analyzeLines([
      L('luo_ctl', 320, 1, 1.0, P.upRead(ADDR.register)),
      L('luo_ctl', 321, 2, 1.1, P.downWrite(ADDR.serialize)),
      L('luo_ctl', 322, 3, 1.2, P.downRead(ADDR.serialize)),
      L('luo_ctl', 322, 3, 1.21, P.begin(ADDR.serialize, 'READ')),
    ]);
    expect(row(section, ADDR.register, 'rwsem:R')?.incomplete.holds).toEqual({ 'trace-start': 1, 'trace-end': 0, 'lost-events': 0, 'out-of-order': 0 });
    const w = row(section, ADDR.serialize, 'rwsem:W');
    expect(w).toMatchObject({ acquisitions: 1, hold: { count: 0 }, incomplete: { holds: { 'trace-end': 1 } } });
    const r = row(section, ADDR.serialize, 'rwsem:R');
    expect(r).toMatchObject({ contended: 1, wait: { count: 0 }, incomplete: { waits: { 'trace-end': 1 }, holds: { 'trace-end': 1 } } });
    expect(section.heldAtEnd).toEqual([expect.objectContaining({ pid: 321, type: 'rwsem:W', since: 1_100_000_000 })]);
    expect(section.totals.openAtEnd).toBe(1);
    expect(holds.every((h) => h.incomplete !== null)).toBe(true);
  });

  it('marks what was open across a lost-events gap on the task\'s CPU, and only that', async () => {
    const { section, holds } = await analyzeLines([
      L('luo_ctl', 320, 1, 1.0, P.downRead(ADDR.register)),
      L('luo_ctl', 321, 2, 1.0, P.downRead(ADDR.serialize)),
      L('luo_ctl', 322, 3, 1.0, P.downWrite(ADDR.outgoing)),
      'CPU:1 [LOST 12 EVENTS]',
      'CPU:0 [LOST 3 EVENTS]',
      L('luo_ctl', 320, 1, 1.1, P.upRead(ADDR.register)),
      L('luo_ctl', 321, 2, 1.1, P.upRead(ADDR.serialize)),
      // 322 migrated to CPU 0, where events were lost while it was away from the trace
      L('luo_ctl', 322, 0, 1.1, P.upWrite(ADDR.outgoing)),
      L('luo_ctl', 320, 1, 1.2, P.downRead(ADDR.register)),
      L('luo_ctl', 320, 1, 1.3, P.upRead(ADDR.register)),
    ]);
    const reg = row(section, ADDR.register, 'rwsem:R');
    expect(reg).toMatchObject({ hold: { count: 1, total: 100_000_000 }, incomplete: { holds: { 'lost-events': 1 } } });
    expect(row(section, ADDR.serialize, 'rwsem:R')).toMatchObject({ hold: { count: 1, total: 100_000_000 } });
    expect(row(section, ADDR.outgoing, 'rwsem:W')).toMatchObject({ hold: { count: 0 }, incomplete: { holds: { 'lost-events': 1 } } });
    for (const h of holds) if (h.incomplete === null) expect((h.end as number) - (h.start as number)).toBeGreaterThanOrEqual(0);
  });

  it('an interval that ends before it begins (events later than the reorder window) is out of order, not negative', () => {
    const ev = (t: number, name: 'down_write' | 'up_write', line: number): TraceEvent =>
      makeEvent('kprobe', name, { time: t, cpu: 0, pid: 9, tgid: 9, comm: 'x', src: 0, line }, { func: name, offset: 4, address: null, args: { sem: ADDR.register } });
    const other = makeEvent('syscall_enter', 'sys_enter_ioctl', { time: 7e9, cpu: 1, pid: 10, tgid: 10, comm: 'y', src: 0, line: 2 }, { syscall: 'ioctl', args: {} });
    // the release, printed 2 s before the acquire, arrives after the 1 s reorder window has passed it
    const { section } = analyzeEvents([ev(5e9, 'down_write', 1), other, ev(4e9, 'up_write', 3)]);
    expect(row(section, ADDR.register, 'rwsem:W')).toMatchObject({ acquisitions: 1, hold: { count: 0 }, incomplete: { holds: { 'out-of-order': 1 } } });
  });

  it('a lost marker without a CPU cuts every open interval', async () => {
    const ev = (pid: number, cpu: number, t: number, kind: 'down' | 'up'): TraceEvent =>
      makeEvent('kprobe', kind === 'down' ? 'down_read' : 'up_read', { time: t, cpu, pid, tgid: null, comm: 'x', src: 0, line: t }, {
        func: kind === 'down' ? 'down_read' : 'up_read',
        offset: 4,
        address: null,
        args: { sem: ADDR.register },
      });
    const lost = makeEvent('lost', 'lost', { time: 15, cpu: null, pid: null, tgid: null, comm: null, src: 0, line: 15 }, { count: 33, marker: 'lost-events' });
    const { section } = analyzeEvents([ev(1, 0, 10, 'down'), ev(2, 1, 12, 'down'), lost, ev(1, 0, 20, 'up'), ev(2, 1, 22, 'up'), ev(1, 0, 30, 'down'), ev(1, 0, 35, 'up')]);
    expect(row(section, ADDR.register, 'rwsem:R')).toMatchObject({ hold: { count: 1, total: 5 }, incomplete: { holds: { 'lost-events': 2 } } });
  });
});

describe('a task seen holding more than lockdep allows (MAX_LOCK_DEPTH)', () => {
  it('closes its oldest holds as incomplete (lost events), keeps the count true and the newest open (synthetic)', () => {
    // 60 down_read of distinct rwsems without their up_read, as a capture that lost the releases
    // leaves them: lockdep itself cannot hold more than 48 locks per task (include/linux/sched.h).
    const events: TraceEvent[] = [];
    for (let i = 0; i < 60; i++) {
      const sem = `0xffff8880${(0x1000 + i * 0x40).toString(16).padStart(8, '0')}`;
      events.push(makeEvent('kprobe', 'down_read', { time: 1e9 + i * 1000, cpu: 0, pid: 9, tgid: 9, comm: 'x', src: 0, line: i + 1 }, { func: 'down_read', offset: 4, address: null, args: { sem } }));
    }
    const { section, holds } = analyzeEvents(events);
    const early = holds.filter((h) => h.incomplete === 'lost-events');
    expect(early.map((h) => h.start)).toEqual(Array.from({ length: 12 }, (_, i) => 1e9 + i * 1000));
    expect(holds.filter((h) => h.incomplete === 'trace-end')).toHaveLength(48);
    expect(row(section, '0xffff888000001000', 'rwsem:R')?.acquisitions).toBe(1);
    expect(section.otherLocks).toMatchObject({ rows: 60, acquisitions: 60 });
    expect(section.heldAtEnd.length).toBe(20);
    expect(section.heldAtEnd[0].since).toBe(1e9 + 12 * 1000);
  });
});

describe('identities', () => {
  it('names raw probe addresses with --kallsyms and labels known LUO locks', async () => {
    const { section } = await analyzeLines(
      [
        L('luo_ctl', 320, 1, 1.0, P.downWrite(ADDR.outgoing)),
        L('luo_ctl', 320, 1, 1.001, P.upWrite(ADDR.outgoing)),
        L('luo_ctl', 320, 1, 1.002, P.downRead(ADDR.register)),
        L('luo_ctl', 320, 1, 1.003, P.upRead(ADDR.register)),
        L('luo_ctl', 320, 1, 1.004, P.downRead('0xffffffff82000000')),
        L('luo_ctl', 320, 1, 1.005, P.upRead('0xffffffff82000000')),
      ],
      { symbols: symbolsFromText(KALLSYMS) },
    );
    expect(row(section, 'luo_register_rwlock', 'rwsem:R')).toMatchObject({ symbol: 'luo_register_rwlock', luo: { role: expect.stringMatching(/registration/) } });
    const out = row(section, 'luo_session_global+0x110', 'rwsem:W');
    expect(out).toMatchObject({ address: ADDR.outgoing, luo: { role: expect.stringMatching(/session list rwsem/) } });
    // far from any symbol of a partial kallsyms: not named after the nearest one
    expect(row(section, '0xffffffff82000000', 'rwsem:R')?.name).toBeNull();
  });

  it('trace-cmd raw contention pointers are the lock address: bound without lockdep', async () => {
    const { section } = await analyzeLines([
      L('luo_ctl', 320, 1, 1.0, P.downRead(ADDR.register)),
      L('luo_ctl', 320, 1, 1.00001, P.begin(ADDR.register, 'READ')),
      L('luo_ctl', 320, 1, 1.00101, P.end(ADDR.register)),
      L('luo_ctl', 320, 1, 1.002, P.upRead(ADDR.register)),
    ]);
    expect(row(section, ADDR.register, 'rwsem:R')).toMatchObject({ instances: 1, acquisitions: 1, contended: 1, wait: { total: 1_000_000 }, hold: { total: 990_000 } });
  });

  it('merges lock instances of one lockdep class into one row (lock_stat style)', async () => {
    const lines: string[] = [];
    const maps = ['00000000fdb2de97', '000000009524f9db'];
    const ptrs = ['000000007423f9d9', '000000005cadf180'];
    for (let i = 0; i < 2; i++) {
      const t = 1 + i * 0.01;
      lines.push(L('luo_ctl', 320, 1, t, P.acquire(maps[i], '&private->outgoing.lock')));
      lines.push(L('luo_ctl', 320, 1, t + 0.00001, P.begin(ptrs[i], 'SPIN|MUTEX')));
      lines.push(L('luo_ctl', 320, 1, t + 0.00002, P.end(ptrs[i])));
      lines.push(L('luo_ctl', 320, 1, t + 0.001, P.release(maps[i], '&private->outgoing.lock')));
    }
    const { section } = await analyzeLines(lines);
    expect(section.locks).toHaveLength(1);
    expect(section.locks[0]).toMatchObject({ name: '&private->outgoing.lock', instances: 2, address: null, acquisitions: 2, contended: 2 });
  });
});

describe('bpftrace events (the lab\'s luo_events.bt lines, real README §2)', () => {
  const bt = (t: number, pid: number, comm: string, probe: string, args: Record<string, string>, line: number): TraceEvent =>
    makeEvent('bpftrace', probe, { time: t, cpu: 1, pid, tgid: pid, comm, src: 0, line }, { probe, args });
  it('pairs kprobe:down_write / lock_acquire / contention / up_write and keeps the caller', () => {
    const { section } = analyzeEvents([
      bt(75694041024, 317, 'insmod', 'kprobe:down_write', { sem: ADDR.register, sym: 'luo_register_rwlock', caller: 'liveupdate_register_file_handler' }, 1),
      bt(75694407219, 317, 'insmod', 'tracepoint:lock:lock_acquire', { lockdep_addr: '0xffffffff81ed23c8', name: 'luo_register_rwlock', flags: '0' }, 2),
      bt(75699186565, 317, 'insmod', 'kprobe:up_write', { sem: ADDR.register, sym: 'luo_register_rwlock', caller: 'liveupdate_register_file_handler' }, 3),
      bt(75699628843, 317, 'insmod', 'tracepoint:lock:lock_release', { lockdep_addr: '0xffffffff81ed23c8', name: 'luo_register_rwlock' }, 4),
      bt(76816638135, 320, 'luo_ctl', 'tracepoint:lock:contention_begin', { lock: ADDR.outgoing, sym: 'luo_session_global', flags: '0x4' }, 5),
      bt(76817638135, 320, 'luo_ctl', 'tracepoint:lock:contention_end', { lock: ADDR.outgoing, sym: 'luo_session_global', ret: '0' }, 6),
    ]);
    expect(row(section, 'luo_register_rwlock', 'rwsem:W')).toMatchObject({ acquisitions: 1, hold: { total: 75699186565 - 75694041024 }, callers: [expect.objectContaining({ key: 'liveupdate_register_file_handler' })] });
    // ksym() names the containing object only: the row stays keyed by address
    expect(row(section, ADDR.outgoing, 'rwsem:W')).toMatchObject({ name: 'luo_session_global', contended: 1, wait: { total: 1_000_000 }, luo: expect.anything() });
  });
});

describe('other event sources', () => {
  it('LOCK_STAT lock_contended / lock_acquired give the wait when there are no contention tracepoints', () => {
    const ctx = (t: number) => ({ time: t, cpu: 0, pid: 7, tgid: 7, comm: 'k', src: 0, line: t });
    const { section } = analyzeEvents([
      makeEvent('lock_acquire', 'lock_acquire', ctx(100), { lock: 'aaaa0000', hashed: true, lockName: '&m->lock', read: false, try: false }),
      makeEvent('lock_contended', 'lock_contended', ctx(110), { lock: 'aaaa0000', hashed: true, lockName: '&m->lock' }),
      makeEvent('lock_acquired', 'lock_acquired', ctx(300), { lock: 'aaaa0000', hashed: true, lockName: '&m->lock' }),
      makeEvent('lock_release', 'lock_release', ctx(1300), { lock: 'aaaa0000', hashed: true, lockName: '&m->lock' }),
    ]);
    expect(row(section, '&m->lock', 'lock:W')).toMatchObject({ contended: 1, wait: { total: 190 }, hold: { total: 1000 } });
  });

  it('takes the caller from a <stack trace> after the contention, skipping locking frames', async () => {
    const { section } = await analyzeLines([
      L('luo_ctl', 320, 1, 1.0, P.acquire('0000000085d51f11', '&session->mutex')),
      L('luo_ctl', 320, 1, 1.00001, P.begin('00000000141b03ed', 'SPIN|MUTEX')),
      L('luo_ctl', 320, 1, 1.00001, '<stack trace>'),
      ' => __traceiter_contention_begin+0x44/0x60',
      ' => __mutex_lock+0x1b4/0xa70',
      ' => mutex_lock_nested+0x1b/0x30',
      ' => luo_session_preserve_fd+0x2f/0x90',
      ' => luo_session_ioctl+0x9c/0x160',
      L('luo_ctl', 320, 1, 1.00002, P.end('00000000141b03ed')),
      L('luo_ctl', 320, 1, 1.001, P.release('0000000085d51f11', '&session->mutex')),
    ]);
    expect(row(section, '&session->mutex', 'mutex')?.callers[0].key).toBe('luo_session_preserve_fd');
  });
});

describe('filters and sort keys', () => {
  const lines = [
    L('a', 1, 0, 1.0, P.downRead(ADDR.register)),
    L('a', 1, 0, 1.1, P.upRead(ADDR.register)),
    L('b', 2, 1, 1.0, P.downWrite(ADDR.outgoing)),
    L('b', 2, 1, 1.00001, P.begin(ADDR.outgoing, 'WRITE')),
    L('b', 2, 1, 1.00002, P.end(ADDR.outgoing)),
    L('b', 2, 1, 1.01, P.upWrite(ADDR.outgoing)),
    L('c', 3, 2, 1.0, P.downWrite(ADDR.serialize)),
    L('c', 3, 2, 1.5, P.upWrite(ADDR.serialize)),
  ];
  it('--pid keeps only that task\'s intervals', async () => {
    const { section } = await analyzeLines(lines, { filters: { pids: [2] } });
    expect(section.locks.filter((l) => l.acquisitions > 0).map((l) => l.address)).toEqual([ADDR.outgoing]);
  });
  it('--type and --lock select rows', async () => {
    expect((await analyzeLines(lines, { filters: { type: 'rwsem:R' } })).section.locks.map((l) => l.address)).toEqual([ADDR.register]);
    expect((await analyzeLines(lines, { filters: { type: 'W' } })).section.locks.map((l) => l.address).sort()).toEqual([ADDR.outgoing, ADDR.serialize]);
    expect((await analyzeLines(lines, { filters: { lock: '81ed2740' } })).section.locks.map((l) => l.address)).toEqual([ADDR.serialize]);
  });
  it('-k orders rows like perf lock', async () => {
    expect((await analyzeLines(lines, { sort: 'hold_max' })).section.locks.map((l) => l.address)).toEqual([ADDR.serialize, ADDR.register, ADDR.outgoing]);
    expect((await analyzeLines(lines, { sort: 'contended' })).section.locks[0].address).toBe(ADDR.outgoing);
    expect((await analyzeLines(lines)).section.sortKey).toBe('wait_total');
  });
});

describe('what ends the adjacency between a lock call and its contention', () => {
  it('a preemption (sched_switch) between lock_acquire and contention_begin keeps the binding; a LUO call ends it', async () => {
    const { section } = await analyzeLines([
      L('luo_ctl', 325, 2, 78.354498, P.downWrite(ADDR.outgoing)),
      L('luo_ctl', 325, 2, 78.354507, P.acquire('00000000be1eb73f', 'luo_session_global.outgoing.rwsem')),
      L('luo_ctl', 325, 2, 78.35451, 'sched_switch: prev_comm=luo_ctl prev_pid=325 prev_prio=120 prev_state=R+ ==> next_comm=luo_ctl next_pid=320 next_prio=120', 'd..2.'),
      L('luo_ctl', 325, 2, 78.354647, P.begin('00000000e743fd1d', 'WRITE'), 'd..2.'),
      L('luo_ctl', 325, 2, 78.36, P.end('00000000e743fd1d'), '...1.'),
      L('luo_ctl', 325, 2, 78.37, P.upWrite(ADDR.outgoing)),
      L('luo_ctl', 325, 2, 78.38, P.downWrite(ADDR.outgoing)),
      L('luo_ctl', 325, 2, 78.381, P.enter('luo_flb_file_preserve', '0x190', 'handler="memfd-v2"')),
      L('luo_ctl', 325, 2, 78.382, P.begin('00000000e743fd1d', 'WRITE'), 'd..2.'),
      L('luo_ctl', 325, 2, 78.383, P.end('00000000e743fd1d'), '...1.'),
    ]);
    const r = row(section, 'luo_session_global.outgoing.rwsem', 'rwsem:W');
    expect(section.totals.boundToNamedAcquisition).toBe(1);
    // after the LUO call the second contention is not that down_write's: it is a contended
    // acquisition of its own, known by its (now named) pointer; neither is ever released
    expect(r).toMatchObject({ acquisitions: 3, contended: 2, wait: { count: 2 }, hold: { count: 1 }, incomplete: { holds: { 'trace-end': 2 } } });
  });

  it('keeps the idle tasks of different CPUs apart (all are pid 0)', async () => {
    const { section } = await analyzeLines([
      L('<idle>', 0, 0, 1.0, P.begin('00000000dddd0001', 'SPIN'), 'dNh2.'),
      L('<idle>', 0, 1, 1.000001, P.begin('00000000dddd0001', 'SPIN'), 'dNh2.'),
      L('<idle>', 0, 0, 1.000010, P.end('00000000dddd0001'), 'dNh2.'),
      L('<idle>', 0, 1, 1.000020, P.end('00000000dddd0001'), 'dNh2.'),
    ]);
    expect(section.totals).toMatchObject({ contendedAcquisitions: 2, reBegins: 0 });
    expect(row(section, '00000000dddd0001', 'spinlock')?.wait).toMatchObject({ count: 2, total: 10_000 + 19_000 });
  });
});

describe('bounded memory with many sessions', () => {
  it('keeps per-session figures for the first 1000 sessions and sums the rest; the stall view keeps the slowest', () => {
    const events: TraceEvent[] = [];
    let line = 0;
    const ev = (t: number, kind: TraceEvent['kind'], name: string, fields: object) =>
      events.push(makeEvent(kind, name, { time: t, cpu: 0, pid: 500, tgid: 500, comm: 'luo_ctl', src: 0, line: ++line }, fields));
    for (let i = 0; i < 1005; i++) {
      const t = i * 1_000_000;
      ev(t, 'kprobe', 'luo_session_create', { func: 'luo_session_create', offset: 4, address: null, args: { name: `s${i}` } });
      ev(t + 1000, 'kprobe', 'down_write', { func: 'down_write', offset: 4, address: null, args: { sem: ADDR.outgoing } });
      // the last sessions hold the lock longer: their create call is the slowest
      ev(t + 2000 + i * 100, 'kprobe', 'up_write', { func: 'up_write', offset: 4, address: null, args: { sem: ADDR.outgoing } });
      ev(t + 3000 + i * 100, 'kretprobe', 'luo_session_create__return', { func: 'luo_session_create', caller: null, args: {}, ret: 0 });
    }
    const { section } = analyzeEvents(events);
    const r = row(section, ADDR.outgoing, 'rwsem:W');
    expect(r).toMatchObject({ acquisitions: 1005, sessionsTotal: 1001, hold: { count: 1005 } });
    const other = r?.sessions.find((x) => x.key === '(other sessions)');
    expect(other).toMatchObject({ acquisitions: 5, hold: { count: 5 } });
    expect(r?.sessions).toHaveLength(20);
    expect(section.stallSessionsTotal).toBe(1005);
    expect(section.stalls).toHaveLength(20);
    expect(section.stalls[0]).toMatchObject({ session: 's1004', slowest: [expect.objectContaining({ func: 'luo_session_create', duration: 3000 + 1004 * 100 })] });
  });
});

describe('bounded memory with many contended locks (synthetic: unfiltered contention, as the lab saw ~45k events per run)', () => {
  it('keeps the longest waits of at most 2000 locks (the LUO one always, then the slowest); every row keeps its true counts', async () => {
    const lines: string[] = [];
    // 2500 unrelated spinlocks (an init task), one wait each, lock i waiting i µs
    for (let i = 1; i <= 2500; i++) {
      const ptr = `00000000${(0x10000000 + i).toString(16)}`;
      lines.push(L('init', 1, 0, i * 0.01, P.begin(ptr, 'SPIN')), L('init', 1, 0, i * 0.01 + i * 1e-6, P.end(ptr)));
    }
    // one short LUO wait, first: a reader of luo_register_rwlock (named by its own lockdep event)
    lines.unshift(
      L('luo_ctl', 320, 1, 0.001, P.downRead(ADDR.register)),
      L('luo_ctl', 320, 1, 0.001005, P.acquire('0000000087631697', 'luo_register_rwlock', true)),
      L('luo_ctl', 320, 1, 0.0011, P.begin('00000000a1b2c3d4', 'READ')),
      L('luo_ctl', 320, 1, 0.001101, P.end('00000000a1b2c3d4')),
      L('luo_ctl', 320, 1, 0.0012, P.upRead(ADDR.register)),
      L('luo_ctl', 320, 1, 0.001205, P.release('0000000087631697', 'luo_register_rwlock')),
    );
    const { section } = await analyzeLines(lines);
    const all = section.locks.filter((l) => l.type === 'spinlock');
    // the lock table's own bound (2048 locks, analyses/locks) folds the last ones into one row, with their true counts
    const fold = all.filter((l) => l.folded);
    const spins = all.filter((l) => !l.folded);
    expect(fold).toHaveLength(1);
    expect(spins.length + fold[0].contended).toBe(2500);
    expect(spins.every((l) => l.contended === 1 && l.wait.count === 1 && !l.luoRelated)).toBe(true);
    const kept = spins.filter((l) => l.longestWaits.length === 1);
    expect(kept.length).toBeGreaterThanOrEqual(1000);
    expect(kept.length).toBeLessThanOrEqual(2000);
    // the ones dropped are the shortest waits
    const shortestKept = Math.min(...kept.map((l) => l.wait.max as number));
    expect(spins.filter((l) => l.longestWaits.length === 0).every((l) => (l.wait.max as number) < shortestKept)).toBe(true);
    const reg = row(section, 'luo_register_rwlock', 'rwsem:R');
    expect(reg).toMatchObject({ luoRelated: true, contended: 1, wait: { count: 1, total: 1000 } });
    expect(reg?.longestWaits).toHaveLength(1);
    // LUO-related rows first, and the LUO wait first among the slowest waits although 2500 others are slower
    expect(section.locks[0]).toBe(reg);
    expect(section.slowestWaits[0]).toMatchObject({ lock: 'luo_register_rwlock', luoRelated: true, duration: 1000 });
    expect(section.slowestWaits.slice(1).map((w) => w.duration)).toEqual(Array.from({ length: 20 }, (_, k) => (2500 - k) * 1000));
    expect(section.otherLocks).toMatchObject({ contended: 2500, waitCount: 2500, waitMax: 2_500_000 });
    // the lock count past the bound is estimated (names are not kept): within 2% of the 2500 locks
    expect(Math.abs(section.otherLocks.rows - 2500)).toBeLessThanOrEqual(50);
    expect(section.otherLocks.foldedNames).toBeGreaterThan(0);
  });
});
