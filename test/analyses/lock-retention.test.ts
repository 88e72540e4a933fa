// What the lock analysis keeps while a long trace streams through it must follow what is open now,
// not everything seen: a capture that lost its releases, a trace that names ever new pids, tasks that
// made a LUO call once. Each test counts what stays reachable after many events (synthetic streams
// in the kernel's trace_pipe layout, or events as the parser makes them), and that the counts the
// report shows stay true.
import { describe, expect, it } from 'vitest';
import { MAX_LOCK_DEPTH } from '../../analyses/kernel/lock-model.js';
import { LockIntervalTracker } from '../../analyses/locks/interval-tracker.js';
import type { Acquisition } from '../../analyses/locks/lock-intervals.js';
import { TaskTable } from '../../analyses/locks/lock-tasks.js';
import { StallView } from '../../analyses/locks/stalls.js';
import { TaskContexts } from '../../analyses/locks/task-context.js';
import { LuoCallTracker } from '../../analyses/stream/luo-calls.js';
import type { TraceEvent } from '../../parsers/event.js';
import { makeEvent } from '../../parsers/payloads.js';
import { parseText } from '../helpers.js';
import { ftraceLine as L, P } from './locks-harness.js';

/** Acquisitions reachable from `roots` through their `outer` links (what a closed one would keep alive). */
function reachableByOuter(roots: Acquisition[]): number {
  const seen = new Set<Acquisition>();
  for (const r of roots) for (let a: Acquisition | null = r; a !== null && !seen.has(a); a = a.outer) seen.add(a);
  return seen.size;
}

describe('a task whose releases were lost (down_read without up_read, as a lossy bpftrace capture)', () => {
  it('keeps its open holds only, not a chain of every acquisition it made (synthetic)', () => {
    let holds = 0;
    const tracker = new LockIntervalTracker({ wait: () => {}, hold: () => void holds++, holdsOnce: true, waitsOnce: true });
    const n = 5000;
    for (let i = 0; i < n; i++) {
      // 200 rwsems in turn: each down_read nests inside the task's newest open hold.
      const sem = `0xffff8880${(0x1000 + (i % 200) * 0x40).toString(16).padStart(8, '0')}`;
      tracker.push(makeEvent('kprobe', 'down_read', { time: 1e9 + i * 1000, cpu: 0, pid: 9, tgid: 9, comm: 'x', src: 0, line: i + 1 }, { func: 'down_read', offset: 4, address: null, args: { sem } }));
    }
    const open = tracker.openNow.openHolds();
    expect(open).toHaveLength(MAX_LOCK_DEPTH);
    expect(holds).toBe(n - MAX_LOCK_DEPTH); // every evicted hold was still counted
    // The oldest open hold's outer was evicted (closed): it is the one closed acquisition kept.
    expect(reachableByOuter(open)).toBeLessThanOrEqual(MAX_LOCK_DEPTH + 1);
  });
});

describe('the lock tracker task table with its default size', () => {
  it('drops idle tasks of a trace that names ever new pids, keeps the busy one', () => {
    const tasks = new TaskTable();
    const ev = (pid: number) => ({ src: 0, pid, cpu: 0, comm: `t${pid}` }) as unknown as TraceEvent;
    const holder = tasks.task(ev(1))!;
    holder.held.push({} as never);
    for (let pid = 2; pid < 20_000; pid++) tasks.task(ev(pid));
    expect(tasks.count).toBeLessThanOrEqual(2048);
    expect(tasks.task(ev(1))).toBe(holder);
  });
});

describe('the stall view follows the tasks inside a LUO call, not every task that made one', () => {
  it('forgets a task once it returns, and still counts every session (synthetic trace_pipe lines)', async () => {
    const lines: string[] = [];
    const tasks = 3000;
    for (let i = 0; i < tasks; i++) {
      const t = 1 + i * 0.001;
      // one short-lived process per session, as a test harness creating sessions would be
      lines.push(L('luo_ctl', 1000 + i, 0, t, P.enter('luo_session_create', '0x130', `name="s${i}"`)), L('luo_ctl', 1000 + i, 0, t + 0.0001, P.exit('luo_session_create', 0)));
    }
    // the last task stays inside its call
    lines.push(L('luo_ctl', 99, 1, 10, P.enter('luo_session_create', '0x130', 'name="open"')));
    const { events } = await parseText(`${lines.join('\n')}\n`, 'ftrace');
    const calls = new LuoCallTracker();
    const contexts = new TaskContexts(calls);
    const view = new StallView(calls, contexts, () => true);
    for (const ev of events) {
      calls.push(ev);
      contexts.push(ev);
      view.trackPhase(ev);
    }
    expect(view.tasksFollowed).toBe(1);
    expect(calls.tasksInCalls).toBe(1);
    view.finish();
    expect(view.sessionsTotal).toBe(tasks + 1);
  });
});
