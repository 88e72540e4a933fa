// The lock tracker's tasks past their cap (analyses/locks/lock-tasks.ts TASKS_OPEN_MAX,
// docs/luo-model.md "Lock tracking on hostile input"): a trace can name any number of tasks, each
// left holding or waiting (10^6 of them once took 1 GB). A task with nothing open is dropped; while
// `cap` tasks have something open, the lock events of every other task are not tracked: counted
// exactly, reported as lost data (`lockDetails.untracked`, a note), and the lock rules that would pass
// say inconclusive. Synthetic traces in the kernel's trace_pipe layout (test/bench/hostile.ts and
// locks-harness.ts), and a real capture, whose report the default cap leaves as it was.
import { describe, expect, it } from 'vitest';
import { LocksSectionSchema } from '../../analyses/locks/locks.js';
import { TaskTable } from '../../analyses/locks/lock-tasks.js';
import type { TaskState } from '../../analyses/locks/lock-intervals.js';
import type { AnalyzeReport } from '../../analyses/report.js';
import type { TraceEvent } from '../../parsers/event.js';
import { effectiveRules, evaluateRules, parseRulesFile } from '../../reports/rules.js';
import { sharedAnalysis } from '../analysis-cache.js';
import { hostileLines } from '../bench/hostile.js';
import { parseFiles, sample } from '../helpers.js';
import { analyzeEvents, analyzeLines, ftraceLine as L, P } from './locks-harness.js';

const NOTE = /^lock tasks: more than (\d+) tasks had a hold or a wait open at once; (\d+) lock events of about (\d+) other tasks were not tracked \(memory bound\)/;

describe('10 tasks each left waiting, with room for 4 (hostile `tasks` lines)', async () => {
  const lines = [...hostileLines('tasks', 10)];
  const capped = await analyzeLines(lines, { maxOpenTasks: 4 });
  const full = await analyzeLines(lines);

  it('tracks the first 4 tasks and counts the 6 others exactly, as lost data', () => {
    expect(lines[0]).toMatch(/^# synthetic: hostile tasks trace/);
    expect(capped.section.totals).toMatchObject({ contentionBegins: 4, openAtEnd: 4 });
    expect(capped.section.untracked).toEqual({ cap: 4, tasks: 6, events: 6 });
    expect(capped.waits.map((w) => [w.pid, w.incomplete])).toEqual([1000, 1001, 1002, 1003].map((pid) => [pid, 'trace-end']));
    expect(capped.section.notes.find((n) => NOTE.test(n))?.match(NOTE)?.slice(1)).toEqual(['4', '6', '6']);
    LocksSectionSchema.parse(JSON.parse(JSON.stringify(capped.section)));
  });

  it('with the default cap tracks all 10, and says nothing of it', () => {
    expect(full.section.totals).toMatchObject({ contentionBegins: 10, openAtEnd: 10 });
    expect(full.section.untracked).toBeUndefined();
    expect(full.section.notes.some((n) => NOTE.test(n))).toBe(false);
  });
});

describe('tasks with nothing open are not kept', () => {
  it('3000 tasks each waiting once, start to end, all tracked with room for 2 (synthetic lines)', async () => {
    // Past 1024 tasks the table drops the idle ones: never the new task whose first event it is
    // making (its wait would be lost and its end counted without a begin).
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const ptr = `00000003${(i * 64).toString(16).padStart(8, '0')}`;
      lines.push(L('pair', 2000 + i, i % 2, 1 + i * 1e-4, P.begin(ptr, 'WRITE')), L('pair', 2000 + i, i % 2, 1 + i * 1e-4 + 2e-6, P.end(ptr)));
    }
    const { section, waits } = await analyzeLines(lines, { maxOpenTasks: 2 });
    expect(section.untracked).toBeUndefined();
    expect(section.totals).toMatchObject({ contentionBegins: 3000, contentionEnds: 3000, orphanEnds: 0, openAtEnd: 0 });
    expect(waits.filter((w) => w.incomplete === null)).toHaveLength(3000);
    expect(section.locks.reduce((n, r) => n + r.wait.count, 0)).toBe(3000);
  });

  it('the table drops an idle task refused while full, and makes it anew once there is room', () => {
    const tasks = new TaskTable(1024, 1);
    const ev = (pid: number) => ({ src: 0, pid, cpu: 0, comm: `t${pid}` }) as unknown as TraceEvent;
    const busy = (t: TaskState) => {
      t.waits.push({} as never);
      tasks.settle(t);
    };
    const idle = tasks.task(ev(2))!;
    const a = tasks.task(ev(1))!;
    busy(a);
    expect([tasks.openTasks, tasks.count]).toEqual([1, 2]);
    expect(tasks.task(ev(2))).toBeNull(); // full: the idle task is not tracked, and not kept
    expect(tasks.task(ev(3))).toBeNull();
    expect(tasks.count).toBe(1);
    a.waits.length = 0;
    tasks.settle(a);
    const again = tasks.task(ev(2))!;
    expect(again).not.toBe(idle);
    expect([tasks.openTasks, tasks.count]).toEqual([0, 2]);
  });
});

describe('what is not tracked, counted by kind of lock event (room for 2 tasks)', async () => {
  const sem = '0xffff888012345678';
  let t = 5;
  const at = () => (t += 0.001);
  const lines = [
    L('a', 10, 0, at(), P.begin('00000000aaaa0001', 'WRITE')), // a waits
    L('b', 11, 1, at(), P.acquire('00000000bbbb0001', 'hostile_lock_b')), // b holds: 2 tasks busy
    L('c', 12, 0, at(), P.begin('00000000cccc0001', 'WRITE')), // not tracked (1)
    L('c', 12, 0, at(), P.end('00000000cccc0001')), // (2)
    L('c', 12, 0, at(), P.downWrite(sem)), // a lock function's entry (3)
    L('c', 12, 0, at(), P.enter('luo_session_create', '0x130', 'name="s"')), // no lock event: not counted
    L('c', 12, 0, at(), P.exit('luo_session_create', 0)),
    L('a', 10, 0, at(), P.end('00000000aaaa0001')), // a is idle again: room for one
    L('c', 12, 0, at(), P.begin('00000000cccc0001', 'WRITE')), // tracked: c waits
    L('c', 12, 0, at(), P.end('00000000cccc0001')),
    L('d', 13, 1, at(), P.begin('00000000dddd0001', 'WRITE')), // tracked: d waits, 2 busy
    L('e', 14, 0, at(), P.release('00000000eeee0001', 'hostile_lock_e')), // (4)
  ];
  const { section, waits, holds } = await analyzeLines(lines, { maxOpenTasks: 2 });

  it('counts 4 lock events of 2 tasks, none of them in the figures', () => {
    expect(section.untracked).toEqual({ cap: 2, tasks: 2, events: 4 });
    expect(section.totals).toMatchObject({ contentionBegins: 3, contentionEnds: 2, orphanEnds: 0, openAtEnd: 1 });
    expect(waits.filter((w) => w.incomplete === null).map((w) => w.pid)).toEqual([10, 12]);
    expect(holds.filter((h) => !h.unobservable).map((h) => [h.pid, h.incomplete])).toEqual([[11, 'trace-end']]);
    expect(section.heldAtEnd.map((h) => h.pid)).toEqual([11]);
  });
});

describe('lost events are marked on the tasks when they next show, or at the end (a marker walks no task table)', () => {
  it('cuts the waits open on that CPU, whether their task has an event after it or not', async () => {
    const lines = [
      L('a', 20, 0, 1.0, P.begin('00000000aaaa0002', 'WRITE')),
      L('b', 21, 1, 1.1, P.begin('00000000bbbb0002', 'WRITE')),
      L('c', 22, 0, 1.2, P.begin('00000000cccc0002', 'WRITE')),
      'CPU:0 [LOST 3 EVENTS]',
      L('a', 20, 0, 1.4, P.end('00000000aaaa0002')),
      L('b', 21, 1, 1.5, P.end('00000000bbbb0002')),
    ];
    const { waits } = await analyzeLines(lines);
    expect(waits.map((w) => [w.pid, w.incomplete])).toEqual([
      [20, 'lost-events'],
      [21, null],
      [22, 'lost-events'], // open at the end, across the loss on its CPU
    ]);
  });
});

describe('a real capture (contention-no-writer, ftrace, at most 7 tasks with a hold or a wait open at once)', async () => {
  const file = sample('real/contention-no-writer/stage1/ftrace-main.txt.gz');
  const { events } = await parseFiles([file]);
  const byDefault = analyzeEvents(events);
  const unbounded = analyzeEvents(events, { maxOpenTasks: Number.MAX_SAFE_INTEGER });
  const capped = analyzeEvents(events, { maxOpenTasks: 3 });
  const report = await sharedAnalysis([file]);
  const { locks, ...lockDetails } = capped.section;
  const cappedReport = { ...report, locks, lockDetails } as AnalyzeReport;

  it('with the default cap the lock report is the same as with none', () => {
    expect(byDefault.section).toEqual(unbounded.section);
    expect(byDefault.section.untracked).toBeUndefined();
    expect(report.lockDetails.untracked).toBeUndefined();
    expect(report.dataQuality.notes.some((n) => NOTE.test(n))).toBe(false);
  });

  it('with room for 3 tasks, what was not tracked is reported and the lock rules that passed are inconclusive', () => {
    const u = capped.section.untracked!;
    expect(u.cap).toBe(3);
    expect(u.events).toBeGreaterThan(0);
    const lockEvents = events.filter((e) => /^(contention_|lock_)/.test(e.kind)).length;
    expect(capped.section.totals.contentionBegins + u.events).toBeLessThanOrEqual(lockEvents);
    const rules = effectiveRules(null);
    const before = evaluateRules(report, rules).rules.filter((r) => r.kind === 'lock');
    const after = evaluateRules(cappedReport, rules).rules.filter((r) => r.kind === 'lock');
    expect(before.map((r) => [r.id, r.status])).toEqual([['max-hold', 'pass'], ['max-wait', 'pass'], ['p99-wait', 'pass']]);
    expect(after.map((r) => [r.id, r.status])).toEqual([['max-hold', 'inconclusive'], ['max-wait', 'inconclusive'], ['p99-wait', 'inconclusive']]);
    expect(after[0].message).toMatch(new RegExp(`; ${u.events} lock events of about ${u.tasks} tasks were not tracked \\(more than 3 tasks had a hold or a wait open at once, memory bound\\)`));
  });

  it('a limit a tracked wait is over still fails: that wait was measured whole', () => {
    const rules = effectiveRules(parseRulesFile({ rules: { 'max-wait': { limits: [{ lock: '*', mode: '*', limit: '1ns' }] } } }));
    expect(evaluateRules(cappedReport, rules).rules.find((r) => r.id === 'max-wait')!.status).toBe('fail');
  });
});
