// Chrome trace-event conversion: real lifecycle capture (two kernels + console) with every complete
// lock hold and wait of the lock analysis (its onInterval hook), checked against the trace-event
// format (shape + pairing + nesting) and against the report's own lock statistics.
import { describe, expect, it } from 'vitest';
import { type ChromeTrace, type ChromeTraceEvent, ChromeTraceSchema, type LockSlice, LockIntervalCollector, NO_TASK_TID, toChromeTrace, traceEventProblems } from '../../reports/chrome-trace.js';
import { runAnalysis } from '../../analyses/pipeline.js';
import { chromeTraceOf } from '../../cli/export.js';
import { sample } from '../helpers.js';

const LIFECYCLE = ['real/lifecycle/stage1/ftrace-main.txt.gz', 'real/lifecycle/console.log.gz', 'real/lifecycle/stage2/ftrace-main.txt.gz'].map(sample);

const of = <P extends ChromeTraceEvent['ph']>(t: ChromeTrace, ph: P) => t.traceEvents.filter((e): e is Extract<ChromeTraceEvent, { ph: P }> => e.ph === ph);

describe('Chrome trace of the real lifecycle capture', async () => {
  const { report, trace } = await chromeTraceOf(LIFECYCLE, {});

  it('is a valid trace-event document: shape, async pairs, strict nesting', () => {
    ChromeTraceSchema.parse(JSON.parse(JSON.stringify(trace)));
    expect(traceEventProblems(trace)).toEqual([]);
    expect(trace.displayTimeUnit).toBe('ns');
  });

  it('one process per boot, one track per task (the freeze phase from the console has no task)', () => {
    expect(trace.otherData.processes).toEqual({ 1: 'boot 0: old kernel (outgoing)', 2: 'boot 1: new kernel (incoming), liveupdate #1' });
    const threads = of(trace, 'M')
      .filter((e) => e.name === 'thread_name')
      .map((e) => [e.pid, e.tid, e.args.name])
      .sort((a, b) => Number(a[0]) - Number(b[0]) || Number(a[1]) - Number(b[1]));
    // luo_ctl runs the LUO phases; insmod, sh, rmmod and kexec have lock holds and waits of their own
    // (registration, module unload, the kexec load), each on its boot.
    expect(threads).toEqual([
      [1, 315, 'insmod-315'],
      [1, 317, 'luo_ctl-317'],
      [1, 319, 'sh-319'],
      [1, 321, 'rmmod-321'],
      [1, 324, 'kexec-324'],
      [1, NO_TASK_TID, 'no task (console log lines)'],
      [2, 341, 'insmod-341'],
      [2, 342, 'luo_ctl-342'],
      [2, 344, 'rmmod-344'],
    ]);
  });

  it('LUO phases are complete slices on the task that ran them, in µs of the trace clock', () => {
    const phases = of(trace, 'X').filter((e) => e.cat === 'luo.phase');
    expect(phases).toHaveLength(31);
    const create = phases.find((e) => e.name === 'create' && e.pid === 1)!;
    expect(create).toMatchObject({ tid: 317, cat: 'luo.phase', ts: 86721686, dur: 15837, args: { session: 'lifecycle-s1', func: 'luo_session_create', result: 0 } });
    // The freeze phase (kernel/liveupdate/luo_core.c liveupdate_reboot: serialize, then freeze each
    // file) is seen only in the console log: no task. Its boot-wide steps and the per-session file
    // freezes share the phase name; the function tells them apart.
    const freeze = phases.filter((e) => e.name === 'freeze');
    expect(freeze.every((e) => e.pid === 1 && e.tid === NO_TASK_TID)).toBe(true);
    expect(freeze.filter((e) => e.args.session !== undefined && e.args.session !== null)).toHaveLength(2);
    expect(freeze.map((e) => e.args.func)).toContain('liveupdate_reboot');
  });

  it('pin windows are async slices; the ones held across kexec end with their boot, marked open', () => {
    const begins = of(trace, 'b').filter((e) => e.cat === 'module.pin');
    expect(begins).toHaveLength(report.modules.reduce((a, m) => a + m.pinWindows.length, 0));
    const luoOpen = begins.filter((e) => e.args.open === true && e.name.startsWith('pin '));
    expect(luoOpen).toHaveLength(7);
    expect(luoOpen.every((e) => e.pid === 1 && String(e.args.expectedOpen).startsWith('held across kexec'))).toBe(true);
    const ends = new Map(of(trace, 'e').map((e) => [e.id, e.ts]));
    expect(luoOpen.every((e) => ends.get(e.id) === report.boots[0].end! / 1000)).toBe(true);
  });

  it('module refcount is a counter track with the values the kernel printed', () => {
    const c = of(trace, 'C');
    expect(c).toHaveLength(41); // 14 module events in stage 1, 27 in stage 2
    const boot0 = c.filter((e) => e.pid === 1).map((e) => e.args.refcnt);
    const boot1 = c.filter((e) => e.pid === 2).map((e) => e.args.refcnt);
    expect(boot0).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    expect([boot1[0], Math.max(...boot1), boot1[boot1.length - 1]]).toEqual([1, 11, 1]);
  });
});

describe('lock slices: every complete hold and wait of the lock analysis', async () => {
  const { report, trace } = await chromeTraceOf(LIFECYCLE, {});
  const lockX = of(trace, 'X').filter((e) => e.cat.startsWith('lock.'));
  const sum = (f: (l: (typeof report.locks)[number]) => number) => report.locks.reduce((a, l) => a + f(l), 0);

  it('one slice per complete interval the report counts, on the task that held or waited', () => {
    // The report's rows count the same intervals: 378 complete waits, 214 complete holds; the 267
    // acquisitions seen only through contention events (no release event can end their hold) are not drawn.
    expect([sum((l) => l.wait.count), sum((l) => l.hold.count), sum((l) => l.holdsNotObservable)]).toEqual([378, 214, 267]);
    expect(lockX.filter((e) => e.cat === 'lock.wait')).toHaveLength(378);
    expect(lockX.filter((e) => e.cat === 'lock.hold')).toHaveLength(214);
    expect(trace.otherData.lockIntervals).toEqual({ complete: 592, kept: 592, overCap: 0, notDrawn: 267, cap: 200_000, capped: false });
    expect(trace.otherData.counts).toMatchObject({ lockSlices: 592, movedToAsync: 0 });
    expect(trace.otherData.notes).toContain('267 lock intervals are not drawn: cut by the trace edges or lost events, failed attempts, or holds no release event shows');
    // every lock slice nests in the LUO phase slices of its task (no overlap problem)
    expect(traceEventProblems(trace)).toEqual([]);
  });

  it('the longest hold: luo_ctl-342 holds luo_session_serialize_rwsem (R) across its finish of lifecycle-s1', () => {
    const longest = [...lockX].sort((a, b) => b.dur - a.dur)[0];
    expect(longest).toMatchObject({ name: 'hold luo_session_serialize_rwsem rwsem:R', cat: 'lock.hold', pid: 2, tid: 342, ts: 112565128, dur: 356268 });
    expect(longest.args).toMatchObject({ address: '0xffffffff81ed2740', session: 'lifecycle-s1', contended: false, line: 569 });
    // the same figure the report gives as this lock's longest hold
    expect(report.locks.find((l) => l.name === 'luo_session_serialize_rwsem')!.hold.max).toBe(356_268_000);
    const finish = of(trace, 'X').find((e) => e.cat === 'luo.phase' && e.name === 'finish' && e.pid === 2 && e.args.session === 'lifecycle-s1')!;
    expect(finish.ts >= longest.ts && finish.ts + finish.dur <= longest.ts + longest.dur).toBe(true);
  });

  it('the waits the report explains carry its explanation: the rmmod\'s 95 ms wait on an unnamed rwsem', () => {
    // the slowest wait on the other locks (not LUO-related), listed after the LUO-related ones
    const slowest = report.lockDetails.slowestWaits.find((x) => !x.luoRelated)!;
    expect([slowest.duration, slowest.line]).toEqual([94_786_000, 940]);
    const w = lockX.find((e) => e.args.explanation === slowest.explanation)!;
    expect(w).toMatchObject({ name: 'wait 00000000f7c18e79 rwsem:W', pid: 2, tid: 344, ts: 116143867, dur: 94786 });
    // 40 kept waits (the 20 slowest LUO-related, the 20 slowest others) + 19 waits inside the stall view, 11 of them in both
    const kept = new Set(report.lockDetails.slowestWaits.map((x) => `${x.file}:${x.line}`));
    const inStalls = report.lockDetails.stalls.flatMap((st) => st.slowest.flatMap((p) => p.waits.map((x) => `${x.file}:${x.line}`)));
    expect([kept.size, inStalls.length, inStalls.filter((k) => kept.has(k)).length]).toEqual([40, 19, 11]);
    expect(lockX.filter((e) => e.args.explanation !== undefined)).toHaveLength(48);
  });

  it('raw addresses get the names the report gives them: the mono instance with --kallsyms draws the same rwsem holds', async () => {
    const mono = ['real/lifecycle/stage1/ftrace-mono.txt.gz', 'real/lifecycle/console.log.gz', 'real/lifecycle/stage2/ftrace-mono.txt.gz'].map(sample);
    const { trace: t } = await chromeTraceOf(mono, { kallsyms: sample('real/lifecycle/stage1/kallsyms-luo.txt') });
    const holds = (tr: ChromeTrace, name: string) => of(tr, 'X').filter((e) => e.name === name).length;
    // no lockdep events in this instance: only the luorw probes show these rwsems, by raw address
    for (const name of ['hold luo_register_rwlock rwsem:R', 'hold luo_register_rwlock rwsem:W', 'hold luo_session_serialize_rwsem rwsem:R']) {
      expect([name, holds(t, name)]).toEqual([name, holds(trace, name)]);
    }
    expect([holds(trace, 'hold luo_register_rwlock rwsem:R'), holds(trace, 'hold luo_register_rwlock rwsem:W'), holds(trace, 'hold luo_session_serialize_rwsem rwsem:R')]).toEqual([32, 14, 23]);
    // the session rwsems are named by symbol + offset (kallsyms has luo_session_global, not its members)
    expect(holds(t, 'hold luo_session_global+0x110 rwsem:W')).toBe(holds(trace, 'hold luo_session_global.outgoing.rwsem rwsem:W'));
  });

  it('bounded: beyond the cap only the longest intervals are kept, and the document says so', async () => {
    const all = lockX.map((e) => e.dur).sort((a, b) => b - a);
    const collector = new LockIntervalCollector(10);
    const r = await runAnalysis(LIFECYCLE, {}, { onLockInterval: collector.push });
    const slices = collector.slices(r);
    expect(slices.map((x) => (x.end - x.start) / 1000).sort((a, b) => b - a)).toEqual(all.slice(0, 10));
    const t = toChromeTrace({ report: r, refcounts: [], tasks: [], lockSlices: slices, lockIntervals: collector.counts });
    expect(t.otherData.lockIntervals).toEqual({ complete: 592, kept: 10, overCap: 582, notDrawn: 267, cap: 10, capped: true });
    expect(t.otherData.notes).toContain('lock slices capped at 10: the 10 longest of 592 complete holds and waits are drawn, 582 shorter ones are left out (--max-lock-slices)');
    expect(traceEventProblems(t)).toEqual([]);
  });
});

describe('lock slices that cannot nest', async () => {
  const report = await runAnalysis([sample('real/lifecycle/stage2/ftrace-main.txt.gz')], {});
  // A wait of luo_ctl-342 inside its `finish` of session lifecycle-s1 (112.600191 s + 319 ms), and a
  // second one that starts inside `finish` and ends after it: it cannot nest and becomes async.
  const slice = (start: number, end: number): LockSlice => ({ kind: 'wait', boot: 0, pid: 342, comm: 'luo_ctl', lock: '&luo_file->mutex', mode: 'mutex', start, end, args: {} });

  it('a slice overlapping its parent without nesting becomes an async slice, counted', () => {
    const t = toChromeTrace({ report, refcounts: [], tasks: [], lockSlices: [slice(112_700_000_000, 112_702_000_000), slice(112_919_000_000, 112_921_000_000)] });
    expect(traceEventProblems(t)).toEqual([]);
    expect(of(t, 'X').filter((e) => e.cat === 'lock.wait').map((e) => [e.name, e.pid, e.tid, e.ts])).toEqual([['wait &luo_file->mutex mutex', 1, 342, 112_700_000]]);
    expect(t.otherData.counts).toMatchObject({ lockSlices: 2, movedToAsync: 1 });
    expect(of(t, 'b').filter((e) => e.cat === 'lock.wait.overlapping').map((e) => e.ts)).toEqual([112_919_000]);
  });

  it('no lock slices: the document says so', () => {
    const t = toChromeTrace({ report, refcounts: [], tasks: [], lockSlices: [] });
    expect(t.otherData.notes.join(' ')).toMatch(/no lock waits or holds/);
    expect(t.otherData.lockIntervals).toBeNull();
  });
});

describe('the trace-event checks catch what a viewer would mis-draw', () => {
  const base = { displayTimeUnit: 'ns' as const, otherData: { tool: 't', files: [], kernelModel: null, processes: {}, counts: { phases: 0, pinWindows: 0, lockSlices: 0, refcountSamples: 0, movedToAsync: 0, skippedUntimed: 0 }, lockIntervals: null, notes: [] } };
  it('unpaired and reversed async slices, overlapping complete slices', () => {
    const t: ChromeTrace = {
      ...base,
      traceEvents: [
        { ph: 'b', name: 'a', cat: 'c', id: '1', pid: 1, tid: 1, ts: 10, args: {} },
        { ph: 'b', name: 'b', cat: 'c', id: '2', pid: 1, tid: 1, ts: 10, args: {} },
        { ph: 'e', name: 'b', cat: 'c', id: '2', pid: 1, tid: 1, ts: 5 },
        { ph: 'e', name: 'x', cat: 'c', id: '3', pid: 1, tid: 1, ts: 5 },
        { ph: 'X', name: 'outer', cat: 'c', pid: 1, tid: 1, ts: 0, dur: 10, args: {} },
        { ph: 'X', name: 'inner', cat: 'c', pid: 1, tid: 1, ts: 5, dur: 10, args: {} },
      ],
    };
    expect(traceEventProblems(t)).toEqual([
      'async 1/c/2 ends before it begins',
      'async end 1/c/3 without a begin',
      'async 1/c/1 never ends',
      'thread 1/1: "inner" overlaps "outer" without nesting',
    ]);
    expect(ChromeTraceSchema.safeParse({ ...base, traceEvents: [{ ph: 'X', name: 'n', cat: 'c', pid: 0, tid: 1, ts: -1, dur: 1, args: {} }] }).success).toBe(false);
  });
});
