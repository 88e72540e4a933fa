// The stall view of the lock analysis: the slowest complete waits overall and, per task, the LUO
// call it is in (its outermost one, the phase), so that each session keeps its slowest LUO phases
// with the waits inside them. Bounded: the slowest TOP_WAITS waits, TOP_PHASES_PER_SESSION phases
// per session, and the slowest STALL_SESSIONS_KEPT sessions (pruned when twice as many).
import type { TraceEvent } from '../../parsers/event.js';
import type { LuoCallTracker, OpenCall } from '../stream/luo-calls.js';
import type { WaitInterval } from './lock-intervals.js';
import { type SessionRef, sessionRefKey } from '../stream/task-session.js';
import type { TaskContexts } from './task-context.js';
import { type TaskKey, taskKey } from '../stream/task-key.js';

/** A complete wait with its duration, kept for the report. */
export interface PendingWait {
  iv: WaitInterval;
  duration: number;
}

/** One call of an outermost LUO function with a phase, by one task. */
export interface PhaseInstance {
  call: OpenCall;
  src: number;
  pid: number | null;
  comm: string | null;
  start: number | null;
  end: number | null;
  session: SessionRef;
  waitCount: number;
  waitTotal: number;
  waits: PendingWait[];
  incomplete: boolean;
}

export interface SessionStalls {
  session: SessionRef;
  top: PhaseInstance[];
}

const TOP_WAITS = 20;
const TOP_PHASE_WAITS = 5;
export const TOP_PHASES_PER_SESSION = 3;
/** Sessions whose slowest calls are kept for the stall view (pruned to this when twice as many). */
const STALL_SESSIONS_KEPT = 200;

/** Keep the `limit` largest items by `size` (small arrays, rare inserts once full). */
export function keepTop<T>(list: T[], item: T, size: (x: T) => number, limit: number): void {
  if (list.length >= limit && size(item) <= size(list[list.length - 1])) return;
  let i = list.length;
  while (i > 0 && size(list[i - 1]) < size(item)) i--;
  list.splice(i, 0, item);
  if (list.length > limit) list.pop();
}

export function phaseDuration(p: PhaseInstance): number {
  if (p.start === null) return -1;
  return (p.end ?? p.start) - p.start;
}

/** Is an interval of this task, from start to end (either may be unknown), within the report's pid and time filters? */
export type ScopeTest = (pid: number | null, start: number | null, end: number | null) => boolean;

export class StallView {
  /** The slowest complete waits, slowest first. */
  readonly slowest: PendingWait[] = [];
  /** Per task (taskKey): its outermost LUO call, and the phase instance open for it. */
  private readonly phaseTasks = new Map<TaskKey, { call: OpenCall | null; open: PhaseInstance | null }>();
  readonly bySession = new Map<string, SessionStalls>();
  /** Every session that had a phase, also those pruned from bySession. */
  private readonly sessionKeys = new Set<string>();

  constructor(
    private readonly calls: LuoCallTracker | null,
    private readonly contexts: TaskContexts,
    private readonly inScope: ScopeTest,
  ) {}

  get sessionsTotal(): number {
    return this.sessionKeys.size;
  }

  /** A complete wait of `duration`, already counted in the statistics. */
  addWait(iv: WaitInterval, duration: number): void {
    const pw: PendingWait = { iv, duration };
    keepTop(this.slowest, pw, (x) => x.duration, TOP_WAITS);
    const ph = this.phaseTasks.get(taskKey(iv.src, iv.pid))?.open;
    if (ph && (ph.start === null || (iv.begin as number) >= ph.start)) {
      ph.waitCount++;
      ph.waitTotal += duration;
      keepTop(ph.waits, pw, (x) => x.duration, TOP_PHASE_WAITS);
    }
  }

  /** Follow the task's outermost LUO call (call the tracker's push first): a change closes its phase instance. */
  trackPhase(ev: TraceEvent): void {
    if (!this.calls) return;
    const stack = this.calls.openCalls(ev.src, ev.pid);
    const outer = stack.length ? stack[0] : null;
    const key = taskKey(ev.src, ev.pid);
    let st = this.phaseTasks.get(key);
    if (!st) {
      if (outer === null) return;
      this.phaseTasks.set(key, (st = { call: null, open: null }));
    }
    if (st.call === outer) return;
    if (st.call !== null) this.contexts.returnedFrom(key, st.call.func);
    if (st.open) this.closePhase(st.open, ev.time, false);
    st.call = outer;
    st.open =
      outer && outer.phase !== null
        ? {
            call: outer,
            src: ev.src,
            pid: ev.pid,
            comm: ev.comm,
            start: outer.start,
            end: null,
            session: this.contexts.sessions.current(ev.src, ev.pid),
            waitCount: 0,
            waitTotal: 0,
            waits: [],
            incomplete: false,
          }
        : null;
  }

  /** The trace ended: close the phases still open (incomplete). */
  finish(): void {
    for (const st of this.phaseTasks.values()) if (st.open) this.closePhase(st.open, null, true);
  }

  private closePhase(ph: PhaseInstance, end: number | null, incomplete: boolean): void {
    ph.end = end;
    if (!this.inScope(ph.pid, ph.start, end)) return;
    ph.incomplete ||= incomplete || end === null || ph.start === null;
    if (ph.session === null) ph.session = this.contexts.sessions.current(ph.src, ph.pid);
    const key = sessionRefKey(ph.session);
    this.sessionKeys.add(key);
    let entry = this.bySession.get(key);
    if (!entry) this.bySession.set(key, (entry = { session: ph.session, top: [] }));
    keepTop(entry.top, ph, phaseDuration, TOP_PHASES_PER_SESSION);
    if (this.bySession.size > 2 * STALL_SESSIONS_KEPT) {
      const keep = [...this.bySession.entries()].sort((x, y) => phaseDuration(y[1].top[0]) - phaseDuration(x[1].top[0])).slice(0, STALL_SESSIONS_KEPT);
      this.bySession.clear();
      for (const [k, v] of keep) this.bySession.set(k, v);
    }
  }
}
