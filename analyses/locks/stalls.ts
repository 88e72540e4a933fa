// The stall view of the lock analysis: the slowest complete waits overall (LUO-related ones and the
// others kept apart, so that thousands of unrelated waits cannot push the LUO ones out), the longest
// waits of each lock (the drill-down of one lock), and, per task, the LUO call it is in (its
// outermost one, the phase), so that each session keeps its slowest LUO phases with the waits inside
// them. Bounded: the slowest TOP_WAITS waits of each kind, TOP_WAITS_PER_LOCK per lock x mode for at
// most LOCKS_WITH_WAITS locks, TOP_PHASES_PER_SESSION phases per session, and the slowest
// STALL_SESSIONS_KEPT sessions (pruned when twice as many).
import type { TraceEvent } from '../../parsers/event.js';
import { LUO_LOCKS } from '../kernel/kernel-models.js';
import type { LuoCallTracker, OpenCall } from '../stream/luo-calls.js';
import type { LockInstance, TaskContext, WaitInterval } from './lock-intervals.js';
import { type SessionRef, sessionRefKey } from '../stream/task-session.js';
import { memoByName } from '../../parsers/name-table.js';
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
/** Longest waits kept per lock x mode (the lock drill-down); its true counts are in the lock's row. */
export const TOP_WAITS_PER_LOCK = 5;
/** Locks whose longest waits are kept; past twice this, the locks with the shortest longest wait (LUO ones last) are dropped. */
const LOCKS_WITH_WAITS = 1000;
const TOP_PHASE_WAITS = 5;
export const TOP_PHASES_PER_SESSION = 3;
/** Sessions whose slowest calls are kept for the stall view (pruned to this when twice as many). */
const STALL_SESSIONS_KEPT = 200;

/** Keep the `limit` largest items by `size` (small arrays, rare inserts once full). */
export function keepTop<T>(list: T[], item: T, size: (x: T) => number, limit: number): void {
  if (list.length >= limit && size(item) <= size(list[list.length - 1])) return;
  // Insert by shifting (splice would allocate its result array on every insert).
  const s = size(item);
  let i = list.length;
  list.push(item);
  while (i > 0 && size(list[i - 1]) < s) {
    list[i] = list[i - 1];
    i--;
  }
  list[i] = item;
  if (list.length > limit) list.pop();
}

const waitDuration = (w: PendingWait): number => w.duration;

/** sessionRefKey of a session name, made once per name (a phase closes for every LUO call; bounded: memoByName). */
const nameKey = memoByName((name) => sessionRefKey(name));

/** Would keepTop(list, a wait of `duration`, waitDuration, limit) keep it? (Asked first, so that a wait no list keeps is never copied.) */
function entersTop(list: PendingWait[], duration: number, limit: number): boolean {
  return list.length < limit || duration > list[list.length - 1].duration;
}

export function phaseDuration(p: PhaseInstance): number {
  if (p.start === null) return -1;
  return (p.end ?? p.start) - p.start;
}

/** Is an interval of this task, from start to end (either may be unknown), within the report's pid and time filters? */
export type ScopeTest = (pid: number | null, start: number | null, end: number | null) => boolean;

const inLuoCall = (ctx: TaskContext): boolean => ctx.func !== null;

/** Is this a known LUO lock by the name or symbol it has now (analyses/kernel LUO_LOCKS)? */
export function isLuoLockNow(inst: LockInstance): boolean {
  const r = inst.root();
  // (section.ts identify() also knows symbols inside luo_session_global; they are checked again there, at the end.)
  return (r.name !== null && LUO_LOCKS[r.name] !== undefined) || (r.sym !== null && LUO_LOCKS[r.sym] !== undefined);
}

/**
 * A LUO-related wait: the waiter or a holder was inside a LUO call, or the lock is a known LUO
 * lock. Decided when the wait ends
 * (a name learned later is checked again when the section is built).
 */
export function isLuoWait(iv: WaitInterval): boolean {
  if (inLuoCall(iv.ctx)) return true;
  const owners = iv.owners;
  for (let i = 0; i < owners.length; i++) if (inLuoCall(owners[i].ctx)) return true;
  return isLuoLockNow(iv.lock);
}

/** The longest waits of one lock instance, per mode (0 = exclusive, 1 = shared). */
export interface LockWaits {
  inst: LockInstance;
  byMode: [PendingWait[], PendingWait[]];
  luo: boolean;
}

/** What the stall view follows of one task: its outermost LUO call, and the phase instance open for it. */
interface PhaseTask {
  call: OpenCall | null;
  open: PhaseInstance | null;
}

/** The answer for a task phaseTasks does not have (never changed: a task gets its own entry). */
const NO_PHASE_TASK: PhaseTask = Object.freeze({ call: null, open: null }) as PhaseTask;
/** Slots of the stall view's recent-task cache (a power of two). */
const RECENT_TASKS = 64;

export class StallView {
  /** The slowest complete LUO-related waits (isLuoWait), slowest first. */
  readonly slowest: PendingWait[] = [];
  /** The slowest complete waits of every other kind, slowest first. */
  readonly slowestOther: PendingWait[] = [];
  /** Per lock instance (as it was when the wait ended; rows group them by their final identity), its longest waits. */
  readonly byLock = new Map<LockInstance, LockWaits>();
  /** Per task (taskKey): its outermost LUO call, and the phase instance open for it. */
  private readonly phaseTasks = new Map<TaskKey, PhaseTask>();
  /** phaseTasks' answers for the tasks asked last, by taskKey modulo RECENT_TASKS (NO_PHASE_TASK: none yet). */
  private readonly recentKeys: TaskKey[] = new Array<TaskKey>(RECENT_TASKS).fill(-1);
  private readonly recentTasks: PhaseTask[] = new Array<PhaseTask>(RECENT_TASKS).fill(NO_PHASE_TASK);
  readonly bySession = new Map<string, SessionStalls>();
  /**
   * Every session that had a phase, also those pruned from bySession, for their exact count: names
   * as they are (a key string kept per name doubled what each one costs), the rest by sessionRefKey.
   */
  private readonly sessionNames = new Set<string>();
  private readonly sessionRefs = new Set<string>();

  constructor(
    private readonly calls: LuoCallTracker | null,
    private readonly contexts: TaskContexts,
    private readonly inScope: ScopeTest,
  ) {}

  /** Tasks followed now: those inside a LUO call (a task leaves the table when it leaves its calls). */
  get tasksFollowed(): number {
    return this.phaseTasks.size;
  }

  get sessionsTotal(): number {
    return this.sessionNames.size + this.sessionRefs.size;
  }

  /**
   * A complete wait of `duration`, already counted in the statistics. `iv` may be the tracker's
   * reused object (IntervalSink.waitsOnce): it is copied, once, only when one of the lists keeps it.
   */
  addWait(iv: WaitInterval, duration: number): void {
    let pw: PendingWait | null = null;
    const luo = isLuoWait(iv);
    const top = luo ? this.slowest : this.slowestOther;
    if (entersTop(top, duration, TOP_WAITS)) keepTop(top, (pw = { iv: { ...iv }, duration }), waitDuration, TOP_WAITS);
    pw = this.addLockWait(iv, duration, luo, pw);
    const ph = this.phaseTask(taskKey(iv.src, iv.pid)).open;
    if (ph && (ph.start === null || (iv.begin as number) >= ph.start)) {
      ph.waitCount++;
      ph.waitTotal += duration;
      if (entersTop(ph.waits, duration, TOP_PHASE_WAITS)) keepTop(ph.waits, pw ?? { iv: { ...iv }, duration }, waitDuration, TOP_PHASE_WAITS);
    }
  }

  /** The lock's entry (made for every wait), and its longest waits; returns the kept copy (pw, or the one made here). */
  private addLockWait(iv: WaitInterval, duration: number, luo: boolean, pw: PendingWait | null): PendingWait | null {
    // Cached on the instance (one stall view per tracker, so per instance); pruneLocks clears the dropped ones'.
    let e = iv.lock.stallWaits as LockWaits | null;
    if (e === null) {
      this.byLock.set(iv.lock, (e = { inst: iv.lock, byMode: [[], []], luo }));
      iv.lock.stallWaits = e;
    }
    e.luo ||= luo;
    const list = e.byMode[iv.shared ? 1 : 0];
    if (entersTop(list, duration, TOP_WAITS_PER_LOCK)) keepTop(list, (pw ??= { iv: { ...iv }, duration }), waitDuration, TOP_WAITS_PER_LOCK);
    if (this.byLock.size > 2 * LOCKS_WITH_WAITS) this.pruneLocks();
    return pw;
  }

  /** Keep LOCKS_WITH_WAITS locks: the LUO-related ones first, then those with the longest waits. */
  private pruneLocks(): void {
    const longest = (e: LockWaits) => Math.max(e.byMode[0][0]?.duration ?? -1, e.byMode[1][0]?.duration ?? -1);
    const keep = [...this.byLock.values()].sort((x, y) => Number(y.luo) - Number(x.luo) || longest(y) - longest(x)).slice(0, LOCKS_WITH_WAITS);
    for (const e of this.byLock.values()) e.inst.stallWaits = null;
    this.byLock.clear();
    for (const e of keep) {
      this.byLock.set(e.inst, e);
      e.inst.stallWaits = e;
    }
  }

  /** Follow the task's outermost LUO call (call the tracker's push first): a change closes its phase instance. */
  trackPhase(ev: TraceEvent): void {
    if (!this.calls) return;
    const stack = this.calls.openCalls(ev.src, ev.pid);
    const outer = stack.length ? stack[0] : null;
    const key = taskKey(ev.src, ev.pid);
    let st = this.phaseTask(key);
    if (st === NO_PHASE_TASK) {
      if (outer === null) return;
      this.phaseTasks.set(key, (st = { call: null, open: null }));
      if (typeof key === 'number') this.recentTasks[key & (RECENT_TASKS - 1)] = st; // its key is there already (phaseTask)
    }
    if (st.call === outer) return;
    if (st.call !== null) this.contexts.returnedFrom(key, st.call.func);
    if (st.open) this.closePhase(st.open, ev.time, false);
    if (outer === null) {
      // Out of its LUO calls: the entry would say what NO_PHASE_TASK says. Dropped, so that the
      // table holds the tasks inside a LUO call, not every task that ever made one.
      this.forget(key);
      return;
    }
    st.call = outer;
    st.open =
      outer.phase !== null
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

  /** Drop a task's entry (and its cached answer: a stale entry must not be changed in place). */
  private forget(key: TaskKey): void {
    this.phaseTasks.delete(key);
    if (typeof key !== 'number') return;
    const i = key & (RECENT_TASKS - 1);
    if (this.recentKeys[i] === key) this.recentTasks[i] = NO_PHASE_TASK;
  }

  /** A task's entry in phaseTasks, or NO_PHASE_TASK; asked for every wait and call edge, so the tasks asked last are remembered. */
  private phaseTask(key: TaskKey): PhaseTask {
    if (typeof key !== 'number') return this.phaseTasks.get(key) ?? NO_PHASE_TASK;
    const i = key & (RECENT_TASKS - 1);
    if (this.recentKeys[i] === key) return this.recentTasks[i];
    const st = this.phaseTasks.get(key) ?? NO_PHASE_TASK;
    this.recentKeys[i] = key;
    this.recentTasks[i] = st;
    return st;
  }

  /** The trace ended: close the phases still open (incomplete), once (a report taken again finds them closed). */
  finish(): void {
    for (const st of this.phaseTasks.values()) {
      if (st.open) this.closePhase(st.open, null, true);
      st.open = null;
    }
  }

  private closePhase(ph: PhaseInstance, end: number | null, incomplete: boolean): void {
    ph.end = end;
    if (!this.inScope(ph.pid, ph.start, end)) return;
    ph.incomplete ||= incomplete || end === null || ph.start === null;
    if (ph.session === null) ph.session = this.contexts.sessions.current(ph.src, ph.pid);
    let key: string;
    if (typeof ph.session === 'string') {
      this.sessionNames.add(ph.session);
      key = nameKey(ph.session);
    } else this.sessionRefs.add((key = sessionRefKey(ph.session)));
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
