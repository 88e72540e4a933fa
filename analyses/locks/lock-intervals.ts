// What the lock interval tracker (interval-tracker.ts) works with and hands out: a lock instance
// with every alias it was seen under, one acquisition attempt by one task, one wait episode, the
// per-task state, and the finished wait and hold intervals (complete or not) it emits.
import type { LockType } from '../kernel/lock-model.js';
import { isLockingFrame, LCB } from '../kernel/lock-model.js';

/**
 * Why an interval is not in the statistics: cut by the start or the end of the trace, open across
 * lost events, or ending before it began (events out of time order: clock skew between CPUs,
 * events later than the reorder window).
 */
export type IncompleteReason = 'trace-start' | 'trace-end' | 'lost-events' | 'out-of-order';

/** What a task was doing, supplied by the caller (LUO function, phase, session). */
export interface TaskContext {
  func: string | null;
  phase: string | null;
  session: import('../stream/task-session.js').SessionRef;
  /** A syscall the task is in, when traced (fallback caller). */
  syscall: string | null;
  /** Outside any LUO call: the LUO call it returned from last, within the same syscall. */
  after: string | null;
  /**
   * A dense number for `session` (task-context.ts sessionId: 0 = none, one per name for the first
   * SESSION_IDS names), what the statistics index per-session figures by; absent or -1: none.
   */
  sid?: number;
}

/** Which event families saw a lock (LockInstance.evidence, Acquisition.via). */
export const EV_PROBE = 1;
export const EV_LOCKDEP = 2;
export const EV_CONTENTION = 4;

/** One lock (instance): all the keys it was seen under, merged as evidence comes in. */
export class LockInstance {
  addr: string | null = null;
  /** Hashed lock pointer (tracefs %p) as printed. */
  ptr: string | null = null;
  /** lockdep map pointer as printed (differs from the lock pointer). */
  dep: string | null = null;
  name: string | null = null;
  /** Symbol printed by the trace itself (bpftrace `sym=`). */
  sym: string | null = null;
  type: LockType | null = null;
  parent: LockInstance | null = null;
  evidence = 0;
  readonly holders: Acquisition[] = [];
  /** The last release (one record per lock, updated in place: a wait woken by it copies it). */
  lastRelease: { pid: number | null; comm: string | null; time: number; ctx: TaskContext } | null = null;
  /** Contention episodes bound to this lock by adjacency (hashed pointer named by a probe/lockdep event). */
  namedBindings = 0;
  /** The fold row of its source: every lock past the lock table's cap (lock-aliases.ts), no alias of its own. */
  folded = false;
  /** The lock statistics' slot of this lock (statistics.ts LockSlot), cached on the root: no key string per interval. */
  statsSlot: unknown = null;
  /** The stall view's longest waits of this lock (stalls.ts LockWaits), while its byLock map keeps them: no map lookup per wait. */
  stallWaits: unknown = null;
  constructor(
    readonly id: number,
    readonly src: number,
  ) {}

  root(): LockInstance {
    let r: LockInstance = this;
    while (r.parent) r = r.parent;
    let x: LockInstance = this;
    while (x.parent && x.parent !== r) {
      const next: LockInstance = x.parent;
      x.parent = r;
      x = next;
    }
    return r;
  }

  get hasProbeOrLockdep(): boolean {
    return (this.evidence & (EV_PROBE | EV_LOCKDEP)) !== 0;
  }

  get evidenceNames(): string[] {
    const out: string[] = [];
    if (this.evidence & EV_LOCKDEP) out.push('lockdep');
    if (this.evidence & EV_PROBE) out.push('probe');
    if (this.evidence & EV_CONTENTION) out.push('contention');
    return out;
  }
}

export interface OwnerInfo {
  pid: number | null;
  comm: string | null;
  shared: boolean;
  /** When the owner got the lock (null: before the trace or unknown). */
  since: number | null;
  ctx: TaskContext;
}

/** The owners of a wait that has none: one frozen array (adding to it would throw; addOwner replaces it first). */
export const NO_OWNERS = Object.freeze([]) as unknown as OwnerInfo[];

/** One acquisition attempt of one lock by one task. */
export class Acquisition {
  attempt: number | null;
  acquired: number | null;
  released: number | null = null;
  wait: WaitEpisode | null = null;
  failed = false;
  trylockFailed = false;
  /** Hold not observable: a contention-only acquisition of a lock no release event can name. */
  unobservable = false;
  /** A trylock whose result is not known yet. */
  pendingResult = false;
  gapCrossed = false;
  via = 0;
  caller: string | null = null;
  lockFn: string | null = null;
  depth = 0;
  outer: Acquisition | null = null;
  holding = false;
  /** Granted by a contention_end whose begin (and mode) came before the trace: the release may tell the mode. */
  modeUnknown = false;
  constructor(
    public inst: LockInstance,
    public shared: boolean,
    readonly task: TaskState,
    time: number | null,
    readonly trylock: boolean,
    readonly ctx: TaskContext,
  ) {
    this.attempt = time;
    this.acquired = time;
  }
}

export class WaitEpisode {
  end: number | null = null;
  ret: number | null = null;
  begins = 1;
  /** A begin without SPIN was seen: the waiter slept (O7), or the lock type always sleeps (rwsem). */
  slept: boolean;
  gapCrossed = false;
  /** Its first begin is missing (see contentionBegin): the wait's start is unknown. */
  truncated = false;
  /** NO_OWNERS until one is added (most waits have none): no array per wait. */
  owners: OwnerInfo[] = NO_OWNERS;
  ownersTotal = 0;
  /** Other tasks that had called the lock function but could not be holding it yet. */
  acquiring = 0;
  constructor(
    readonly acq: Acquisition,
    /** The lock as the wait's events name it: alias namespace and key (see instanceOf). */
    public ns: 'a' | 'p' | 'd',
    public key: string,
    readonly begin: number,
    flags: number,
    public source: 'contention' | 'lockdep',
    readonly ctx: TaskContext,
  ) {
    this.slept = !(flags & LCB.SPIN);
  }
}

/** A finished wait, complete or not. */
export interface WaitInterval {
  lock: LockInstance;
  shared: boolean;
  src: number;
  pid: number | null;
  comm: string | null;
  begin: number | null;
  end: number | null;
  incomplete: IncompleteReason | null;
  /** contention_end ret (0 = acquired). */
  ret: number | null;
  begins: number;
  slept: boolean;
  ctx: TaskContext;
  caller: string | null;
  owners: OwnerInfo[];
  ownersTotal: number;
  acquiring: number;
  /** The other task that released the lock last during the wait (the one that let us in). */
  wokenBy: { pid: number | null; comm: string | null; time: number; ctx: TaskContext } | null;
  /** Bound to a lock named by the task's own probe/lockdep event, not only by its pointer. */
  bound: boolean;
  line: number;
}

/** A finished acquisition: its hold (complete or not), or its failure. */
export interface HoldInterval {
  lock: LockInstance;
  /** null when only a release was seen and it does not say the mode (lockdep). */
  shared: boolean | null;
  src: number;
  pid: number | null;
  comm: string | null;
  start: number | null;
  end: number | null;
  incomplete: IncompleteReason | null;
  /** Hold not observable (contention-only lock with no release events). */
  unobservable: boolean;
  contended: boolean;
  failed: boolean;
  trylock: boolean;
  trylockFailed: boolean;
  ctx: TaskContext;
  caller: string | null;
  depth: number;
  outer: { lock: LockInstance; shared: boolean } | null;
  line: number;
}

export interface IntervalSink {
  /** A finished wait; with `waitsOnce`, read during the call only (the tracker fills the same object every time). */
  wait(w: WaitInterval): void;
  /** A finished acquisition; with `holdsOnce`, read during the call only (the tracker fills the same object every time). */
  hold(h: HoldInterval): void;
  /** The sink keeps nothing of a HoldInterval past the call: one object serves every hold (no allocation per hold). */
  readonly holdsOnce?: boolean;
  /** The sink keeps nothing of a WaitInterval past the call (it copies what it keeps): one object serves every wait. */
  readonly waitsOnce?: boolean;
}

export interface TaskState {
  src: number;
  pid: number | null;
  comm: string | null;
  cpu: number | null;
  held: Acquisition[];
  waits: WaitEpisode[];
  fresh: Acquisition | null;
  pendingCall: Acquisition | null;
  /** The lock of the task's last unlock call, for the lockdep release that may follow it (its twin). */
  pendingUnlock: LockInstance | null;
  /** Last lock record opened, for a `<stack trace>` that follows it. */
  lastOpened: Acquisition | null;
  lastGapSeq: number;
  /** The task's context as asked last (interval-tracker.ts contextOf), valid while ctxEpoch is the tracker's epoch. */
  ctx: TaskContext | null;
  ctxEpoch: number;
  /** An event of the task's own came since `ctx` was asked (interval-tracker.ts contextOf). */
  ctxDirty: boolean;
  /** It held, waited for or was in the middle of something after its last event (lock-tasks.ts settle): the table counts these. */
  busy: boolean;
}

/** Counters that explain how contention events became contended acquisitions (O7). */
export interface ContentionCounts {
  begins: number;
  ends: number;
  /** Extra begins of an episode already open on the same task and lock (O7). */
  rebegins: number;
  episodes: number;
  /** Episodes bound to an acquisition named by the task's own probe/lockdep event. */
  bound: number;
  /** contention_end without a begin (the wait began before the trace, or the begin was lost). */
  orphanEnds: number;
  /** Episodes still open at the end of their source. */
  openAtEnd: number;
  failed: number;
}

/** The lock's type is known (learnType would keep it): the name need not be asked. */
export function hasType(inst: LockInstance): boolean {
  return inst.type !== null && inst.type !== 'unknown';
}

/** A `<stack trace>` after a task's lock record: its first frame outside the locking code is the record's caller. */
export function stackCaller(t: TaskState, frames: string[]): void {
  const a = t.lastOpened;
  if (!a || a.caller !== null) return;
  for (const f of frames) {
    const sym = f.trim().replace(/\+0x[0-9a-f]+(\/0x[0-9a-f]+)?.*$/i, '').replace(/^=>\s*/, '');
    if (!sym || /^(0x)?[0-9a-f]+$/i.test(sym) || isLockingFrame(sym)) continue;
    a.caller = sym;
    return;
  }
}

/** A task released the lock (in its context `ctx`): the lock's one lastRelease record, updated in place. */
export function noteRelease(inst: LockInstance, t: TaskState, time: number, ctx: TaskContext): void {
  const lr = inst.lastRelease;
  if (lr === null) {
    inst.lastRelease = { pid: t.pid, comm: t.comm, time, ctx };
    return;
  }
  lr.pid = t.pid;
  lr.comm = t.comm;
  lr.time = time;
  lr.ctx = ctx;
}

/**
 * `list` with `x` at its end: a first item gets an array of its own size (an empty array pushed to
 * reserves 17 slots, ~180 B more for each task with one hold or wait open).
 */
export function appendTo<T>(list: T[], x: T): T[] {
  if (list.length === 0) return [x];
  list.push(x);
  return list;
}

/** The task runs other code (leavesLockFunction): the lock function it was in has returned. */
export function leave(t: TaskState): void {
  t.fresh = null;
  t.pendingCall = null;
  t.pendingUnlock = null;
  t.lastOpened = null;
}

/** A HoldInterval to fill (the tracker sets every field before handing it out). */
export function newHold(lock: LockInstance): HoldInterval {
  return {
    lock,
    shared: null,
    src: 0,
    pid: null,
    comm: null,
    start: null,
    end: null,
    incomplete: null,
    unobservable: false,
    contended: false,
    failed: false,
    trylock: false,
    trylockFailed: false,
    ctx: { func: null, phase: null, session: null, syscall: null, after: null, sid: 0 },
    caller: null,
    depth: 0,
    outer: null,
    line: 0,
  };
}

/** Write into `h` what every hold says; an acquisition's own facts go back to their defaults (the tracker's emitHold sets them). */
export function fillHold(h: HoldInterval, lock: LockInstance, shared: boolean | null, t: TaskState, start: number | null, end: number | null, incomplete: IncompleteReason | null, ctx: TaskContext, line: number): HoldInterval {
  h.lock = lock;
  h.shared = shared;
  h.src = t.src;
  h.pid = t.pid;
  h.comm = t.comm;
  h.start = start;
  h.end = end;
  h.incomplete = incomplete;
  h.unobservable = false;
  h.contended = false;
  h.failed = false;
  h.trylock = false;
  h.trylockFailed = false;
  h.ctx = ctx;
  h.caller = null;
  h.depth = 0;
  h.outer = null;
  h.line = line;
  return h;
}

/** A WaitInterval to be filled in (the tracker's reused one, and a wait whose begin is before the trace). */
export function newWait(lock: LockInstance): WaitInterval {
  return {
    lock,
    shared: false,
    src: 0,
    pid: null,
    comm: null,
    begin: null,
    end: null,
    incomplete: null,
    ret: null,
    begins: 0,
    slept: false,
    ctx: { func: null, phase: null, session: null, syscall: null, after: null, sid: 0 },
    caller: null,
    owners: [],
    ownersTotal: 0,
    acquiring: 0,
    wokenBy: null,
    bound: false,
    line: 0,
  };
}

/** A holder of the lock another task (t) waits for: granted (not waiting itself), not failed. */
export function isOwnerCandidate(h: Acquisition, t: TaskState): boolean {
  return h.task !== t && !h.failed && !(h.wait !== null && h.wait.end === null);
}

/** Remove item i of a list (mostly the last one). */
export function removeAt<T>(list: T[], i: number): void {
  if (i === list.length - 1) list.pop();
  else list.splice(i, 1);
}

/** Remove the last occurrence of `a` from a list (mostly its last item: locks are released in reverse order). */
export function removeLast(list: Acquisition[], a: Acquisition): void {
  const n = list.length;
  if (n > 0 && list[n - 1] === a) {
    list.pop();
    return;
  }
  const i = list.lastIndexOf(a);
  if (i >= 0) list.splice(i, 1);
}
