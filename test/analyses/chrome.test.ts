// Chrome trace-event conversion: real lifecycle capture (two kernels + console) and lock slices in
// the lock analysis' contract, checked against the trace-event format (shape + pairing + nesting).
import { describe, expect, it } from 'vitest';
import { type ChromeTrace, type ChromeTraceEvent, ChromeTraceSchema, lockSlicesFromReport, NO_TASK_TID, toChromeTrace, traceEventProblems } from '../../analyses/chrome-trace.js';
import { chromeTraceOf } from '../../cli/export.js';
import { sample } from '../helpers.js';
import { withLocks } from './rules-lock-rows.js';

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
      .map((e) => [e.pid, e.tid, e.args.name]);
    expect(threads).toEqual([
      [1, 317, 'luo_ctl-317'],
      [1, NO_TASK_TID, 'no task (console log lines)'],
      [2, 342, 'luo_ctl-342'],
    ]);
  });

  it('LUO phases are complete slices on the task that ran them, in µs of the trace clock', () => {
    const phases = of(trace, 'X');
    expect(phases).toHaveLength(31);
    const create = phases.find((e) => e.name === 'create' && e.pid === 1)!;
    expect(create).toMatchObject({ tid: 317, cat: 'luo.phase', ts: 86721686, dur: 15837, args: { session: 'lifecycle-s1', func: 'luo_session_create', result: 0 } });
    const freeze = phases.filter((e) => e.name === 'freeze');
    expect(freeze.map((e) => [e.pid, e.tid])).toEqual([
      [1, NO_TASK_TID],
      [1, NO_TASK_TID],
    ]);
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

describe('lock slices (lock analysis contract)', async () => {
  const { report } = await chromeTraceOf([sample('real/lifecycle/stage2/ftrace-main.txt.gz')], {});
  // A wait of luo_ctl-342 inside its `finish` of session lifecycle-s1 (112.600191 s + 319 ms), on a
  // lock held by a task that released it when the wait ended.
  const wait = {
    lock: '&luo_file->mutex', address: '00000000aabbccdd', type: 'mutex',
    waiter: { pid: 342, comm: 'luo_ctl', session: 'lifecycle-s1', func: 'luo_file_finish', phase: 'finish' },
    caller: null, begin: 112_700_000_000, end: 112_702_000_000, duration: 2_000_000, slept: true, begins: 1, ret: 0,
    owners: [{ pid: 343, comm: 'kworker', session: null, func: null, phase: null, mode: 'mutex', heldFor: 1_000_000 }], ownersTotal: 1,
    wokenBy: { pid: 343, comm: 'kworker', session: null, func: null, phase: null, at: 112_702_000_000 },
    explanation: 'finish waited 2 ms', file: 0, line: 500,
  };
  // A second wait that starts inside `finish` and ends after it: cannot nest, becomes async.
  const straddling = { ...wait, begin: 112_919_000_000, end: 112_921_000_000, owners: [], wokenBy: null, line: 600 };

  it('waits land on the waiter, nested in its phase; the owner gets its hold', () => {
    const r = withLocks(report, [], [wait, straddling]);
    const slices = lockSlicesFromReport(r);
    expect(slices.map((s) => [s.kind, s.pid, s.start, s.end])).toEqual([
      ['wait', 342, 112_700_000_000, 112_702_000_000],
      ['hold', 343, 112_699_000_000, 112_702_000_000],
      ['wait', 342, 112_919_000_000, 112_921_000_000],
    ]);
    const t = toChromeTrace({ report: r, refcounts: [], tasks: [], lockSlices: slices });
    expect(traceEventProblems(t)).toEqual([]);
    const x = of(t, 'X').filter((e) => e.cat.startsWith('lock'));
    expect(x.map((e) => [e.name, e.pid, e.tid])).toEqual([
      ['wait &luo_file->mutex mutex', 1, 342],
      ['hold &luo_file->mutex mutex', 1, 343],
    ]);
    expect(t.otherData.counts).toMatchObject({ lockSlices: 3, movedToAsync: 1 });
    expect(of(t, 'b').filter((e) => e.cat === 'lock.wait.overlapping')).toHaveLength(1);
  });

  it('no lock details: no slices, and the document says so', () => {
    expect(lockSlicesFromReport(report)).toEqual([]);
    const t = toChromeTrace({ report, refcounts: [], tasks: [], lockSlices: [] });
    expect(t.otherData.notes.join(' ')).toMatch(/no lock waits or holds/);
  });
});

describe('the trace-event checks catch what a viewer would mis-draw', () => {
  const base = { displayTimeUnit: 'ns' as const, otherData: { tool: 't', files: [], kernelModel: null, processes: {}, counts: { phases: 0, pinWindows: 0, lockSlices: 0, refcountSamples: 0, movedToAsync: 0, skippedUntimed: 0 }, notes: [] } };
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
