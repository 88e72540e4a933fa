// Lock intervals from a time-ordered event stream: per task, acquire -> release holds and
// contention begin -> end waits, with the lock's identity pieced together from whichever events
// name it. Pure state machine: it emits finished intervals to callbacks and keeps only open ones.
//
// One acquisition can be reported by up to three event families at once (the real captures have
// all three, real README §2): an entry probe on the lock function (`down_write sem=0xffff…`, raw
// address), the lockdep tracepoint right after it (`lock_acquire: <hash of the lockdep map>
// luo_session_global.outgoing.rwsem`), and, when the slow path runs, `contention_begin: <hash of
// the lock> (flags=WRITE)`. They are merged into one acquisition by adjacency on the same task:
// the kernel emits them back to back from inside the lock function (kernel/locking/rwsem.c:
// down_write -> rwsem_acquire -> rwsem_down_write_slowpath -> trace_contention_begin; mutex.c:
// mutex_acquire_nest -> trace_contention_begin), with only the lock's own `.wait_lock` in between
// (real README O10). Each merge also ties the aliases together (raw address, lockdep map pointer,
// hashed lock pointer), so a hashed pointer gets the name the same task's probe or lockdep event
// gave the lock "at the same moment". A contention is only bound to the pending acquisition when
// its flags fit the lock's type (docs/luo-model.md §5): in the real trace a mutex taken inside
// luo_session_insert (`contention_begin … (flags=SPIN|MUTEX)`) follows `lock_acquire
// luo_session_global.outgoing.rwsem` directly and must not be mistaken for it.
//
// Real kernel behaviour encoded here:
// - O7: the mutex slow path emits `contention_begin (SPIN|MUTEX)` for the optimistic spin, then
//   `(MUTEX)` if it sleeps, and after each wake-up of the first waiter again `(SPIN|MUTEX)` and
//   `(MUTEX)`, but only one `contention_end`: every begin on the same lock and task before the end
//   is one contended acquisition (the real contention capture has 865 such sleeps and 36 re-spins).
// - contention_end ret != 0 (killable/interruptible waits): the acquisition failed, no hold.
// - lockdep only reports successful trylocks; failures are seen by return probes (ret=0).
// - Lost events (`lost` pseudo-events): every interval of a task that was open while events were
//   lost on the CPU it ran on (or on any CPU, when the marker does not say which) is incomplete,
//   and so is every interval cut by the start or end of the trace. Incomplete intervals are
//   counted, never folded into the statistics. So are waits whose first begin is `(MUTEX)` alone
//   (the `(SPIN|MUTEX)` that always starts the slow path is missing), waits the task abandoned by
//   calling the same lock again (their end was lost), and intervals that end before they begin
//   (events out of time order).
// - Merging by adjacency assumes that lockdep, when traced at all, covers the probed locks (the
//   lab's name filter covers every LUO lock, real README §2); names, lockdep maps and addresses
//   already known for a lock veto a merge that would contradict them.
import type { TraceEvent } from '../../parsers/event.js';
import { isLuoFunction, probedFunction } from '../kernel/kernel-models.js';
import { LCB, LOCK_FUNCTIONS, MAX_LOCK_DEPTH, type LockFunction, type LockOp, type LockType, contentionKind, isInternalLockName, isLuoLockName, leavesLockFunction, lockOpOf, pointerArg, typeFromName } from '../kernel/lock-model.js';
import { LOCK_LIMITS, LockAliases } from './lock-aliases.js';
import type { TableLimits } from '../../parsers/name-table.js';
import {
  Acquisition,
  appendTo,
  type ContentionCounts,
  EV_CONTENTION,
  EV_LOCKDEP,
  EV_PROBE,
  type IntervalSink,
  LockInstance,
  hasType,
  isOwnerCandidate,
  leave,
  newWait,
  NO_OWNERS,
  noteRelease,
  removeAt,
  removeLast,
  type TaskContext,
  stackCaller,
  type TaskState,
  WaitEpisode,
} from './lock-intervals.js';
import { IntervalEmitter } from './interval-emit.js';
import { TASKS_OPEN_MAX, TaskTable } from './lock-tasks.js';
import type { UntrackedTasks } from './schema.js';

/** What pushOther needs of a probe event: see probeOf. */
interface ProbeInfo {
  /** The probe location it was found for (TraceEvent fields.func). */
  func: string | null;
  name: string | null;
  fn: LockFunction | undefined;
  luo: boolean;
}
/** Probe names whose answers probeOf keeps. */
const PROBES_KEPT = 4096;

export class LockIntervalTracker {
  private readonly tasks: TaskTable;
  private readonly locks: LockAliases;
  private readonly emptyCtx: TaskContext = { func: null, phase: null, session: null, syscall: null, after: null, sid: 0 };
  readonly counts: ContentionCounts = { begins: 0, ends: 0, rebegins: 0, episodes: 0, bound: 0, orphanEnds: 0, openAtEnd: 0, failed: 0 };
  /** Lock events that carry no time (cannot be paired). */
  untimed = 0;
  /** Lock-function probes without a pointer argument (cannot be identified). */
  unidentified = 0;
  /**
   * Counts the events that can change what `context` answers (every event but the lock tracepoints
   * and lost markers: LUO calls, sessions and syscalls come from probes and syscall events). Most
   * contexts change only with their own task's events (TaskState.ctxDirty); the few that another
   * task's event can change are asked again in each epoch (contextOf).
   */
  private epoch = 0;
  private readonly scratchCall: { op: 'call'; func: string; fn: LockFunction; addr: string | null; sym: null; caller: null } = { op: 'call', func: '', fn: LOCK_FUNCTIONS.mutex_lock, addr: null, sym: null, caller: null };

  private readonly emit: IntervalEmitter;
  /** probeOf's answers, by event name (with the location they were found for). */
  private readonly probes = new Map<string, ProbeInfo>();

  constructor(
    private readonly sink: IntervalSink,
    /** The context of a task now; may answer `prev` (its previous one) when nothing changed. */
    private readonly context: (src: number, pid: number | null, prev: TaskContext | null) => TaskContext = () => this.emptyCtx,
    lim: TableLimits = LOCK_LIMITS,
    /** The kallsyms symbol of a raw address (--kallsyms), asked only past the lock cap. */
    symbolOf: (addr: string) => string | null = () => null,
    /** Tasks tracked at once with something open (lock-tasks.ts TASKS_OPEN_MAX; tests use a small one). */
    maxOpenTasks = TASKS_OPEN_MAX,
  ) {
    this.tasks = new TaskTable(undefined, maxOpenTasks);
    this.emit = new IntervalEmitter(sink);
    // Past the lock cap, the locks the verdicts need still get their own rows: LUO locks by name
    // or symbol, and whatever a task takes inside a LUO call.
    this.locks = new LockAliases(lim, (src, pid, name, ns, key) => {
      if (name !== null && isLuoLockName(name)) return true;
      const sym = ns === 'a' ? symbolOf(key) : null;
      return (sym !== null && isLuoLockName(sym)) || this.context(src, pid, null).func !== null;
    });
  }

  /** The lock table's admission: its caps and what it folded. */
  get lockBudget(): LockAliases['budget'] {
    return this.locks.budget;
  }

  /** The task table's bound and the lock events of the tasks it did not track (events exact, tasks estimated), or null when none. */
  get untrackedTasks(): UntrackedTasks | null {
    const u = this.tasks.untracked;
    return u.events === 0 ? null : { cap: this.tasks.maxOpen, tasks: u.names, events: u.events };
  }

  /** Every lock instance seen (merged ones have a parent). */
  get instances(): LockInstance[] {
    return this.locks.instances;
  }

  /** Aliases re-bound to another lock with a different name (memory reused by another lock). */
  get rebinds(): number {
    return this.locks.rebinds;
  }

  // ---- the stream -----------------------------------------------------------------------------

  push(ev: TraceEvent): void {
    if (!this.pushLock(ev)) this.pushNonLock(ev, true);
  }

  /**
   * A lock tracepoint or lost marker (most of a lock trace), straight to its handler with the
   * event's own fields (no LockOp object per event); false for any other event (pushNonLock's).
   */
  pushLock(ev: TraceEvent): boolean {
    switch (ev.kind) {
      case 'lock_acquire': case 'lock_release': case 'contention_begin': case 'contention_end': case 'lock_contended': case 'lock_acquired':
        break;
      case 'lost':
        this.tasks.lost(ev);
        return true;
      default:
        return false;
    }
    const t = this.timedTask(ev);
    if (t === null) return true;
    const time = ev.time as number;
    switch (ev.kind) {
      case 'lock_acquire': this.lockdepAcquire(t, ev.fields.lock, ev.fields.lockName, ev.fields.read, ev.fields.try, time); break;
      case 'lock_release': this.lockdepRelease(t, ev.fields.lock, ev.fields.lockName, time, ev.line); break;
      case 'contention_begin': this.contentionBegin(t, ev.fields.lock, ev.fields.hashed, ev.fields.flags, null, time); break;
      case 'contention_end': this.contentionEnd(t, ev.fields.lock, ev.fields.hashed, ev.fields.ret, time, ev.line); break;
      case 'lock_contended': this.lockdepContended(t, ev.fields.lock, time); break;
      case 'lock_acquired': this.lockdepAcquired(t, ev.fields.lock, time, ev.line); break;
    }
    this.tasks.settle(t);
    return true;
  }

  /**
   * Any event pushLock declines: lock-function probes, or what a task does besides locking.
   * ownContext: the event can change its task's context (a LUO call edge, a syscall boundary, a
   * session event; see contextOf), so that the context is asked again; true when unsure.
   */
  pushNonLock(ev: TraceEvent, ownContext: boolean): void {
    this.epoch++;
    this.pushOther(ev, ownContext);
  }

  /**
   * The context of a task now (an object shared by the intervals opened meanwhile): asked again
   * from `context` only after an event of the task's own that can change it (pushOther marks it:
   * its LUO calls, session and syscall change with nothing else), or, for what other tasks' events can change,
   * after any other event (epoch): the idle tasks of every CPU share pid 0's context, and a session
   * not named yet reads the file_set's bindings, which any task's event can move on.
   */
  private contextOf(t: TaskState): TaskContext {
    const c = t.ctx;
    if (c !== null && !t.ctxDirty && (t.ctxEpoch === this.epoch || (t.pid !== 0 && (c.session === null || typeof c.session !== 'object')))) return c;
    const now = this.context(t.src, t.pid, c);
    t.ctx = now;
    t.ctxDirty = false;
    t.ctxEpoch = this.epoch;
    return now;
  }

  /** The task of a lock event, or null when it has no pid (ignored), is not tracked or has no time (counted, cannot be paired). */
  private timedTask(ev: TraceEvent): TaskState | null {
    if (ev.pid === null) return null;
    const t = this.tasks.task(ev);
    if (t === null) {
      this.tasks.untrack(ev);
      return null;
    }
    if (ev.time === null) {
      this.untimed++;
      return null;
    }
    return t;
  }

  /** Every other event: lock-function probes and bpftrace lines (by lockOpOf), or what a task does besides locking. */
  private pushOther(ev: TraceEvent, ownContext: boolean): void {
    if (ev.pid === null) return;
    const t = this.tasks.task(ev);
    if (t === null) {
      // Not tracked: counted when it is a lock operation (the task's other events change nothing kept).
      if (this.isLockOp(ev)) this.tasks.untrack(ev);
      return;
    }
    // What the task's context is made of (its LUO calls, session, syscall) changes only with such
    // events of its own (see contextOf).
    if (ownContext) t.ctxDirty = true;
    this.otherOf(t, ev);
    this.tasks.settle(t);
  }

  /** Is this event (one pushOther takes) a lock operation: a lock function's entry or return, or a lock line of bpftrace? */
  private isLockOp(ev: TraceEvent): boolean {
    if (ev.kind === 'kprobe' || ev.kind === 'fentry') {
      const p = this.probeOf(ev);
      return p.name !== null && p.fn !== undefined;
    }
    return lockOpOf(ev) !== null;
  }

  /** pushOther's work on a tracked task. */
  private otherOf(t: TaskState, ev: TraceEvent): void {
    const kind = ev.kind;
    if (kind === 'kretprobe' || kind === 'fexit') {
      // Function returns (LUO kretprobes, most of them): what lockOpOf and leavesLockFunction would
      // find, from the probe's own answer (lockOpOf names the same function: a lock function's
      // name as location is its own probedFunction).
      const p = this.probeOf(ev);
      if (p.fn === undefined) {
        if (p.luo) leave(t);
        return;
      }
    } else if (kind === 'kprobe' || kind === 'fentry') {
      // Function entries (LUO kprobes, most of them): the probed function is found once, here.
      const p = this.probeOf(ev);
      const name = p.name;
      const fn = p.fn;
      if (name === null || fn === undefined) {
        if (p.luo) leave(t);
        return;
      }
      // A lock function's entry (lockOpOf's 'call', written into one reused op: the handlers keep none of it).
      if (ev.time === null) {
        this.untimed++;
        return;
      }
      const op = this.scratchCall;
      op.func = name;
      op.fn = fn;
      op.addr = pointerArg(ev.fields.args);
      this.apply(t, op, ev.time, ev.line);
      return;
    }
    const op = lockOpOf(ev);
    if (!op) {
      if (ev.kind === 'stack') {
        stackCaller(t, ev.fields.frames);
        return;
      }
      if (leavesLockFunction(ev)) leave(t);
      return;
    }
    if (ev.time === null) {
      this.untimed++;
      return;
    }
    this.apply(t, op, ev.time, ev.line);
  }

  /**
   * A probe event's function (probedFunction), its lock function and whether it is a LUO function,
   * found once per event name and probe location instead of per event (memo lookups, two tables).
   */
  private probeOf(ev: TraceEvent): ProbeInfo {
    const func = (ev.fields as { func?: string | null }).func ?? null;
    const known = this.probes.get(ev.name);
    if (known !== undefined && known.func === func) return known;
    const name = probedFunction(ev);
    const info: ProbeInfo = { func, name, fn: name ? LOCK_FUNCTIONS[name] : undefined, luo: name !== null && isLuoFunction(name) };
    // Bounded: a trace can name any number of probes (the last ones asked are kept).
    if (known === undefined && this.probes.size >= PROBES_KEPT) this.probes.clear();
    this.probes.set(ev.name, info);
    return info;
  }

  private apply(t: TaskState, op: LockOp, time: number, line: number): void {
    switch (op.op) {
      case 'call':
        if (op.fn.action === 'acquire') this.callAcquire(t, op, time);
        else if (op.fn.action === 'release') this.callRelease(t, op, time, line);
        else this.downgrade(t, op, time, line);
        return;
      case 'return':
        this.lockReturn(t, op, time, line);
        return;
      case 'acquire':
        this.lockdepAcquire(t, op.key, op.name, op.read, op.try, time);
        return;
      case 'release':
        this.lockdepRelease(t, op.key, op.name, time, line);
        return;
      case 'begin':
        this.contentionBegin(t, op.key, op.hashed, op.flags, op.sym, time);
        return;
      case 'end':
        this.contentionEnd(t, op.key, op.hashed, op.ret, time, line);
        return;
      case 'lockdep_contended':
        this.lockdepContended(t, op.key, time);
        return;
      case 'lockdep_acquired':
        this.lockdepAcquired(t, op.key, time, line);
        return;
    }
  }

  private open(t: TaskState, inst: LockInstance, shared: boolean, time: number, trylock: boolean, via: number): Acquisition {
    this.dropStaleWaits(t, inst);
    const a = new Acquisition(inst, shared, t, time, trylock, this.contextOf(t));
    a.via = via;
    inst.evidence |= via;
    this.nest(t, a);
    a.holding = true;
    t.held = appendTo(t.held, a);
    inst.holders.push(a);
    t.lastOpened = a;
    if (t.held.length > MAX_LOCK_DEPTH) this.evictOldestHold(t);
    return a;
  }

  /** Past MAX_LOCK_DEPTH holds a release was lost: the oldest closes now, incomplete (kept, a lossy bpftrace run went quadratic). */
  private evictOldestHold(t: TaskState): void {
    const a = t.held[0];
    a.gapCrossed = true;
    this.dropHolder(a);
    this.closeLostWait(a, 0);
    if (t.fresh === a) t.fresh = null;
    this.emit.hold(a, 0);
  }

  /**
   * A task cannot call a lock function for a lock it is still waiting for: such a wait lost its
   * contention_end (in a gap) and is closed as incomplete, with its acquisition.
   */
  private dropStaleWaits(t: TaskState, inst: LockInstance): void {
    if (t.waits.length === 0) return;
    const root = inst.root();
    for (let i = t.waits.length - 1; i >= 0; i--) {
      const w = t.waits[i];
      if (w.acq.inst.root() !== root) continue;
      t.waits.splice(i, 1);
      w.gapCrossed = true;
      w.acq.gapCrossed = true;
      this.emit.wait(w, root, 0, null);
      if (w.acq.holding) this.dropHolder(w.acq);
      this.emit.hold(w.acq, 0);
    }
  }

  /** Record the locks the task already holds (granted, not still waiting) around a new acquisition. */
  private nest(t: TaskState, a: Acquisition): void {
    for (let i = t.held.length - 1; i >= 0; i--) {
      const h = t.held[i];
      if (h.wait === null || h.wait.end !== null) {
        if (a.outer === null) a.outer = h;
        a.depth++;
      }
    }
  }

  private dropHolder(a: Acquisition): void {
    a.holding = false;
    removeLast(a.task.held, a);
    removeLast(a.inst.root().holders, a);
  }

  /** The task's latest held acquisition of a lock (optionally of one mode). */
  private findHeld(t: TaskState, inst: LockInstance, shared: boolean | null): Acquisition | null {
    const root = inst.root();
    let fallback: Acquisition | null = null;
    for (let i = t.held.length - 1; i >= 0; i--) {
      const a = t.held[i];
      if (a.inst.root() !== root) continue;
      if (shared === null || a.shared === shared || a.modeUnknown) return a;
      fallback ??= a;
    }
    return fallback;
  }

  private callAcquire(t: TaskState, op: Extract<LockOp, { op: 'call' }>, time: number): void {
    if (op.addr === null) {
      this.unidentified++;
      return;
    }
    const inst = this.locks.instanceOf(t.src, 'a', op.addr, t.pid, op.sym);
    // mutex_lock and mutex_lock_nested probed together: one call seen twice.
    if (t.pendingCall && t.pendingCall.inst.root() === inst && t.pendingCall.lockFn !== op.func) return;
    this.locks.learnType(inst, op.fn.type);
    if (op.sym) inst.sym ??= op.sym;
    const a = this.open(t, inst, op.fn.shared, time, op.fn.trylock, EV_PROBE);
    a.lockFn = op.func;
    a.caller = op.caller;
    a.pendingResult = op.fn.trylock;
    t.fresh = op.fn.trylock ? null : a;
    t.pendingCall = a;
    t.pendingUnlock = null;
  }

  private callRelease(t: TaskState, op: Extract<LockOp, { op: 'call' }>, time: number, line: number): void {
    t.fresh = null;
    t.pendingCall = null;
    t.lastOpened = null;
    if (op.addr === null) {
      this.unidentified++;
      t.pendingUnlock = null;
      return;
    }
    const inst = this.locks.instanceOf(t.src, 'a', op.addr, t.pid, op.sym);
    this.locks.learnType(inst, op.fn.type);
    inst.evidence |= EV_PROBE;
    const a = this.findHeld(t, inst, op.fn.type === 'rwsem' ? op.fn.shared : null);
    if (a?.modeUnknown) {
      a.shared = op.fn.shared;
      a.modeUnknown = false;
    }
    if (a) this.release(a, time, line);
    else this.orphanRelease(t, inst, op.fn.type === 'rwsem' ? op.fn.shared : false, time, line);
    t.pendingUnlock = inst;
  }

  private downgrade(t: TaskState, op: Extract<LockOp, { op: 'call' }>, time: number, line: number): void {
    t.fresh = null;
    t.pendingCall = null;
    if (op.addr === null) return;
    const inst = this.locks.instanceOf(t.src, 'a', op.addr, t.pid, op.sym);
    const w = this.findHeld(t, inst, false);
    if (w) this.release(w, time, line);
    const r = this.open(t, inst, true, time, false, EV_PROBE);
    r.lockFn = 'downgrade_write';
  }

  private lockReturn(t: TaskState, op: Extract<LockOp, { op: 'return' }>, time: number, line: number): void {
    let a: Acquisition | null = null;
    for (let i = t.held.length - 1; i >= 0; i--) {
      if (t.held[i].lockFn === op.func && t.held[i].released === null) {
        a = t.held[i];
        break;
      }
    }
    t.fresh = null;
    t.pendingCall = null;
    if (!a) return;
    if (op.caller) a.caller = op.caller;
    const failed = op.ret !== null && ((op.fn.trylock && op.ret === 0) || (op.fn.interruptible && op.ret !== 0));
    a.pendingResult = false;
    if (failed) {
      a.failed = true;
      a.trylockFailed = op.fn.trylock;
      this.dropHolder(a);
      this.emit.hold(a, line);
      return;
    }
    // Granted when the lock function returns (unless a contention_end already said when).
    if (a.wait === null && a.acquired !== null && time >= a.acquired) a.acquired = time;
  }

  /**
   * Is this lockdep event the twin of the lock-function probe just before it on the same task?
   * Adjacency is the evidence (see the file comment); it is refused when the names, the lockdep map
   * or the address already known for either side say they are two different locks, or when the
   * class name implies another lock type than the probed function. Adjacency assumes lockdep, when
   * traced, covers the probed locks (the lab filters lockdep to every LUO lock, real README §2).
   */
  private isTwin(inst: LockInstance, key: string, name: string, t: TaskState): boolean {
    const r = inst.root();
    if (r.dep !== null) return r.dep === key;
    if (r.name !== null && r.name !== name) return false;
    const known = this.locks.lookup(t.src, 'd', key);
    if (known && known !== r && ((known.addr !== null && r.addr !== null && known.addr !== r.addr) || (known.name !== null && known.name !== name))) return false;
    if (r.type === null || r.type === 'unknown') return true;
    const nameType = typeFromName(name);
    return nameType === null || r.type === nameType;
  }

  private lockdepAcquire(t: TaskState, key: string, name: string, read: boolean, isTry: boolean, time: number): void {
    const internal = isInternalLockName(name);
    const p = t.pendingCall;
    if (!internal && p && p.shared === read && !(p.via & EV_LOCKDEP) && this.isTwin(p.inst, key, name, t)) {
      const pr = p.inst.root();
      pr.name ??= name;
      p.inst = this.locks.bindAlias(pr, 'd', key);
      p.via |= EV_LOCKDEP;
      p.inst.evidence |= EV_LOCKDEP;
      if (!hasType(p.inst)) this.locks.learnType(p.inst, typeFromName(name));
      if (isTry) p.pendingResult = false;
      t.pendingCall = null;
      return;
    }
    const inst = this.locks.instanceOf(t.src, 'd', key, t.pid, name);
    inst.name ??= name;
    if (!hasType(inst)) this.locks.learnType(inst, typeFromName(name));
    const a = this.open(t, inst, read, time, isTry, EV_LOCKDEP);
    if (internal) return; // the lock's own wait_lock: taken inside the lock function, between its events
    t.fresh = isTry ? null : a;
    t.pendingCall = null;
    t.pendingUnlock = null;
  }

  private lockdepRelease(t: TaskState, key: string, name: string, time: number, line: number): void {
    const internal = isInternalLockName(name);
    const u = t.pendingUnlock;
    if (!internal && u && this.isTwin(u, key, name, t)) {
      const ur = u.root();
      ur.name ??= name;
      this.locks.bindAlias(ur, 'd', key);
      ur.evidence |= EV_LOCKDEP;
      t.pendingUnlock = null;
      return;
    }
    const inst = this.locks.instanceOf(t.src, 'd', key, t.pid, name);
    inst.name ??= name;
    inst.evidence |= EV_LOCKDEP;
    const a = this.findHeld(t, inst, null);
    if (a) this.release(a, time, line);
    else this.orphanRelease(t, inst, null, time, line);
    if (!internal) {
      t.fresh = null;
      t.pendingCall = null;
      t.pendingUnlock = null;
    }
  }

  private compatible(a: Acquisition, type: LockType, shared: boolean): boolean {
    if (a.shared !== shared || a.failed || a.wait !== null) return false;
    const known = a.inst.root().type;
    return known === null || known === 'unknown' || type === 'unknown' || known === type;
  }

  private contentionBegin(t: TaskState, key: string, hashed: boolean, flags: number, sym: string | null, time: number): void {
    this.counts.begins++;
    const ns = hashed ? 'p' : 'a';
    for (let i = t.waits.length - 1; i >= 0; i--) {
      const w = t.waits[i];
      if (w.key === key && w.ns === ns) {
        // O7: the same slow path again (sleep after spinning, or spinning again after a wake-up).
        this.counts.rebegins++;
        w.begins++;
        if (!(flags & LCB.SPIN)) w.slept = true;
        return;
      }
    }
    const kind = contentionKind(flags);
    let a: Acquisition | null = null;
    let bound = false;
    const f = t.fresh;
    if (f && f.wait !== null && f.wait.source === 'lockdep' && f.wait.end === null && f.shared === kind.shared) {
      // lock_contended (LOCK_STAT) came first; the contention tracepoint continues the same wait.
      f.wait.ns = ns;
      f.wait.key = key;
      f.wait.source = 'contention';
      f.wait.slept ||= !(flags & LCB.SPIN);
      this.locks.bindAlias(f.inst, ns, key);
      this.counts.episodes++;
      this.counts.bound++;
      return;
    }
    if (f && this.compatible(f, kind.type, kind.shared)) {
      f.inst = this.locks.bindAlias(f.inst, ns, key);
      this.locks.learnType(f.inst, kind.type);
      f.inst.namedBindings++;
      a = f;
      bound = true;
    } else {
      const inst = this.locks.instanceOf(t.src, ns, key, t.pid, sym);
      this.locks.learnType(inst, kind.type);
      if (sym) inst.sym ??= sym;
      if (inst.hasProbeOrLockdep) {
        a = this.open(t, inst, kind.shared, time, false, EV_CONTENTION);
      } else {
        a = new Acquisition(inst, kind.shared, t, time, false, this.contextOf(t));
        a.via = EV_CONTENTION;
        a.unobservable = true;
        inst.evidence |= EV_CONTENTION;
        this.nest(t, a);
        t.lastOpened = a;
      }
    }
    a.inst.evidence |= EV_CONTENTION;
    a.acquired = null;
    const w = new WaitEpisode(a, ns, key, time, flags, 'contention', bound ? a.ctx : this.contextOf(t));
    if (!bound) w.slept = !(flags & LCB.SPIN);
    // The mutex slow path always begins with (SPIN|MUTEX) (kernel/locking/mutex.c): a first begin of
    // (MUTEX) alone means the wait started before the trace (or before lost events).
    if (flags & LCB.MUTEX && !(flags & LCB.SPIN)) w.truncated = true;
    a.wait = w;
    this.snapshotOwners(w, t);
    t.waits = appendTo(t.waits, w);
    this.counts.episodes++;
    if (bound) this.counts.bound++;
  }

  /**
   * Who holds the lock when a wait begins. lock_acquire and the down_* probe fire at the call, before
   * a writer's optimistic spinning (rwsem.c), so an exclusive "holder" may still be acquiring: with
   * exclusive holders, only the earliest one holds the lock; the others are counted as acquiring.
   */
  private snapshotOwners(w: WaitEpisode, t: TaskState): void {
    const holders = w.acq.inst.root().holders;
    let candidates = 0;
    let first: Acquisition | null = null;
    // Indexed loops: no iterator per wait.
    for (let i = 0; i < holders.length; i++) {
      const h = holders[i];
      if (!isOwnerCandidate(h, t)) continue;
      candidates++;
      if (!h.shared && (first === null || (h.acquired ?? -Infinity) < (first.acquired ?? -Infinity))) first = h;
    }
    if (first !== null) {
      w.acquiring = candidates - 1;
      this.addOwner(w, first);
      return;
    }
    w.acquiring = 0;
    for (let i = 0; i < holders.length; i++) if (isOwnerCandidate(holders[i], t)) this.addOwner(w, holders[i]);
  }

  private addOwner(w: WaitEpisode, h: Acquisition): void {
    w.ownersTotal++;
    if (w.owners.length < 8) {
      if (w.owners === NO_OWNERS) w.owners = [];
      w.owners.push({ pid: h.task.pid, comm: h.task.comm, shared: h.shared, since: h.acquired, ctx: this.contextOf(h.task) });
    }
  }

  private contentionEnd(t: TaskState, key: string, hashed: boolean, ret: number, time: number, line: number): void {
    this.counts.ends++;
    const ns = hashed ? 'p' : 'a';
    let w: WaitEpisode | null = null;
    for (let i = t.waits.length - 1; i >= 0; i--) {
      if (t.waits[i].key === key && t.waits[i].ns === ns) {
        w = t.waits[i];
        removeAt(t.waits, i);
        break;
      }
    }
    if (!w) {
      this.counts.orphanEnds++;
      const inst = this.locks.instanceOf(t.src, ns, key, t.pid, null);
      inst.evidence |= EV_CONTENTION;
      // A wait whose begin is before the trace: newWait's defaults, and what the end tells.
      const iv = newWait(inst);
      iv.src = t.src;
      iv.pid = t.pid;
      iv.comm = t.comm;
      iv.end = time;
      iv.incomplete = 'trace-start';
      iv.ret = ret;
      iv.ctx = this.contextOf(t);
      iv.line = line;
      this.sink.wait(iv);
      if (ret === 0 && inst.hasProbeOrLockdep) {
        // Granted now: a later release gives a complete hold.
        const a = this.open(t, inst, false, time, false, EV_CONTENTION);
        a.attempt = null;
        a.modeUnknown = true;
      }
      t.fresh = null;
      return;
    }
    this.finishWait(t, w, time, ret, line);
  }

  private finishWait(t: TaskState, w: WaitEpisode, time: number, ret: number, line: number): void {
    w.end = time;
    w.ret = ret;
    const a = w.acq;
    const inst = a.inst.root();
    const lr = inst.lastRelease;
    const wokenBy = lr && lr.pid !== t.pid && lr.time >= w.begin && lr.time <= time ? { pid: lr.pid, comm: lr.comm, time: lr.time, ctx: lr.ctx } : null;
    this.emit.wait(w, inst, line, wokenBy);
    if (t.fresh === a) t.fresh = null;
    if (ret !== 0) {
      this.counts.failed++;
      a.failed = true;
      if (a.holding) this.dropHolder(a);
      this.emit.hold(a, line);
      return;
    }
    a.acquired = time;
    if (a.unobservable) this.emit.hold(a, line);
  }

  private lockdepContended(t: TaskState, key: string, time: number): void {
    const inst = this.locks.lookup(t.src, 'd', key);
    if (!inst) return;
    const a = this.findHeld(t, inst, null);
    if (!a || a.wait !== null) return;
    a.acquired = null;
    const w = new WaitEpisode(a, 'd', key, time, 0, 'lockdep', a.ctx);
    w.slept = false;
    a.wait = w;
    this.snapshotOwners(w, t);
    t.waits = appendTo(t.waits, w);
  }

  private lockdepAcquired(t: TaskState, key: string, time: number, line: number): void {
    for (let i = t.waits.length - 1; i >= 0; i--) {
      const w = t.waits[i];
      if (w.key === key && w.ns === 'd' && w.source === 'lockdep') {
        removeAt(t.waits, i);
        this.counts.episodes++;
        this.counts.bound++;
        this.finishWait(t, w, time, 0, line);
        return;
      }
    }
  }

  private release(a: Acquisition, time: number, line: number): void {
    const t = a.task;
    this.dropHolder(a);
    a.released = time;
    const inst = a.inst.root();
    noteRelease(inst, t, time, this.contextOf(t));
    // A release before the grant: the wait's end was lost (or never printed).
    this.closeLostWait(a, line);
    this.emit.hold(a, line);
  }

  /** The acquisition's wait, still open, lost its end: closed as incomplete with the acquisition marked. */
  private closeLostWait(a: Acquisition, line: number): void {
    const w = a.wait;
    if (w === null || w.end !== null) return;
    const i = a.task.waits.indexOf(w);
    if (i >= 0) removeAt(a.task.waits, i);
    w.gapCrossed = a.gapCrossed = true;
    this.emit.wait(w, a.inst.root(), line, null);
  }

  private orphanRelease(t: TaskState, inst: LockInstance, shared: boolean | null, time: number, line: number): void {
    noteRelease(inst, t, time, this.contextOf(t));
    this.emit.orphanHold(t, inst, shared, time, this.contextOf(t), line);
  }

  /** Close everything still open: the trace ended inside these intervals. */
  finish(): void {
    for (const t of this.tasks.all()) {
      this.tasks.catchUp(t);
      for (const w of t.waits) {
        this.counts.openAtEnd++;
        this.emit.wait(w, w.acq.inst.root(), 0, null);
        if (w.acq.unobservable) this.emit.hold(w.acq, 0);
      }
      for (const a of t.held) {
        a.holding = false;
        this.emit.hold(a, 0);
      }
      t.waits.length = 0;
      t.held.length = 0;
      this.tasks.settle(t);
    }
    // Every hold closed: each lock's holders at once (one at a time was quadratic in the holders of one lock).
    for (const inst of this.locks.instances) inst.holders.length = 0;
  }

  /** What is open right now, per task (TaskTable.openHolds, openWaits): before finish(), or in a snapshot report. */
  get openNow(): Pick<TaskTable, 'openHolds' | 'openWaits'> {
    return this.tasks;
  }
}
