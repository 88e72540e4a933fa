// Lock analyses (issue #4): what `perf lock`, klockstat and /proc/lock_stat measure, from recorded
// traces and without needing lockdep, tied to LUO sessions and phases.
//
// Pipeline: lock-intervals.ts pairs the events into holds and waits (identity, O7 mutex
// re-begins, lost-event gaps, trace edges); this reducer folds them into statistics per lock x
// mode (`rwsem:R`, `rwsem:W`, `mutex`...), per caller, per session and per LUO phase; keeps the
// slowest waits with who held the lock (owner attribution) and, per session, the slowest LUO
// phases with the waits inside them (the stall view). Statistics are kept per lockdep class (or
// per lock instance while unnamed) and merged into rows at the end, so that names learned late (a
// hashed pointer named by a later event, a file_set bound to a session by a later RETRIEVE) still
// land in the right row. Memory grows with the number of locks, not of events or sessions:
// per-session figures are counts and sums, kept for the first 1000 sessions; the stall view keeps
// the slowest sessions only. Sessions are derived here (lock-sessions.ts); every finished interval
// is also handed to `onInterval` for joins with the LUO session analysis.
import { z } from 'zod';
import type { TraceEvent } from '../../parsers/event.js';
import type { SymbolTable } from '../../parsers/kallsyms.js';
import { LUO_LOCKS } from '../kernel/kernel-models.js';
import { type HoldInterval, type IncompleteReason, type LockInstance, LockIntervalTracker, type OwnerInfo, type TaskContext, type WaitInterval } from './lock-intervals.js';
import type { LockType } from '../kernel/lock-model.js';
import { SessionTracker, type SessionRef, sessionRefKey } from '../stream/task-session.js';
import type { LuoCallTracker, OpenCall } from '../stream/luo-calls.js';
import { Distribution, DistributionSummarySchema, HistogramBucketSchema, QUANTILE_METHOD, QUANTILE_RELATIVE_ACCURACY, EXACT_LIMIT } from './quantiles.js';
import type { FinishContext, Reducer } from '../stream/reducer.js';

// ---- JSON contract -------------------------------------------------------------------------------

const IncompleteCountsSchema = z.object({
  'trace-start': z.number().int(),
  'trace-end': z.number().int(),
  'lost-events': z.number().int(),
  /** Ended before it began: events out of time order (clock skew between CPUs). */
  'out-of-order': z.number().int(),
});

const SubStatsSchema = z.object({
  /** Caller, session name or phase; null = none (outside LUO calls / no session). */
  key: z.string().nullable(),
  acquisitions: z.number().int(),
  contended: z.number().int(),
  wait: DistributionSummarySchema,
  hold: DistributionSummarySchema,
});

const SessionFiguresSchema = z.object({
  /** Session name; null = outside any session; "(other sessions)" once too many sessions were seen. */
  key: z.string().nullable(),
  acquisitions: z.number().int(),
  contended: z.number().int(),
  wait: z.object({ count: z.number().int(), total: z.number(), max: z.number().nullable() }),
  hold: z.object({ count: z.number().int(), total: z.number(), max: z.number().nullable() }),
});

const ContextSchema = z.object({
  pid: z.number().int().nullable(),
  comm: z.string().nullable(),
  session: z.string().nullable(),
  /** Innermost LUO function the task was in, and the phase of its outermost one. */
  func: z.string().nullable(),
  phase: z.string().nullable(),
  /** Outside LUO calls: the LUO call it had returned from last in the same syscall (the session close path has no probed function of its own). */
  after: z.string().nullable(),
});

export const LockRowSchema = z.object({
  /** lockdep class name, else the symbol of the raw address (kallsyms / the trace's own `sym=`); null when unknown. */
  name: z.string().nullable(),
  /** The lock address as printed: raw `0xffff…`, else the hashed tracefs pointer; null when only lockdep saw it. */
  address: z.string().nullable(),
  /** `R`, `W` (rwsem, rwlock, percpu-rwsem, or an exclusive lock of unknown type), `mutex`, `spin`. */
  mode: z.string(),
  /** perf lock's type column: `rwsem:R`, `rwsem:W`, `mutex`, `spinlock`, `rwlock:W`... (`lock:W` when unknown). */
  type: z.string(),
  lockType: z.string(),
  symbol: z.string().nullable(),
  /** A known LUO lock (luo-model.md §3) and its role. */
  luo: z.object({ role: z.string() }).nullable(),
  /** Lock instances merged into this row (one per address; lockdep classes such as `&session->mutex` have many). */
  instances: z.number().int(),
  /** Source indexes this row has events from. */
  sources: z.array(z.number().int()),
  /** Which event families saw it: lockdep, probe (lock-function kprobes/fentry), contention. */
  evidence: z.array(z.string()),
  acquisitions: z.number().int(),
  contended: z.number().int(),
  /** Contended acquisitions that slept (a begin without SPIN); the others only spun or trylocked in the slow path. */
  slept: z.number().int(),
  /** Attempts that did not get the lock: trylock returned 0, or contention_end ret != 0. */
  failed: z.number().int(),
  trylockFailed: z.number().int(),
  /** Durations in nanoseconds (ticks for sources with timeUnit "tick"). */
  wait: DistributionSummarySchema,
  hold: DistributionSummarySchema,
  waitHistogram: z.array(HistogramBucketSchema),
  holdHistogram: z.array(HistogramBucketSchema),
  /** Intervals cut by the trace edges or by lost events: counted here, never in the statistics. */
  incomplete: z.object({ waits: IncompleteCountsSchema, holds: IncompleteCountsSchema }),
  /** Acquisitions seen only through contention events, with no release event that could name the lock. */
  holdsNotObservable: z.number().int(),
  /** Contention episodes whose hashed pointer was named by the same task's probe/lockdep event. */
  namedByAdjacency: z.number().int(),
  callers: z.array(SubStatsSchema),
  /** The sessions with the most waiting (then holding) on this lock, at most 20; null key = outside any session. */
  sessions: z.array(SessionFiguresSchema),
  sessionsTotal: z.number().int(),
  phases: z.array(SubStatsSchema),
});
export type LockRow = z.infer<typeof LockRowSchema>;

const OwnerSchema = ContextSchema.extend({
  mode: z.string(),
  /** How long the owner had held the lock when the wait began (ns); null if acquired before the trace. */
  heldFor: z.number().nullable(),
});

export const WaitRecordSchema = z.object({
  lock: z.string().nullable(),
  address: z.string().nullable(),
  type: z.string(),
  waiter: ContextSchema,
  caller: z.string().nullable(),
  begin: z.number(),
  end: z.number(),
  duration: z.number(),
  slept: z.boolean(),
  /** contention_begin events in this one wait (O7: spin, sleep, spin again after a wake-up...). */
  begins: z.number().int(),
  ret: z.number().int().nullable(),
  owners: z.array(OwnerSchema),
  ownersTotal: z.number().int(),
  /** Other tasks inside the lock function but not holding yet (a writer spinning before its contention_begin). */
  acquiring: z.number().int(),
  /** The other task whose release of the lock came last before this wait ended. */
  wokenBy: ContextSchema.extend({ at: z.number() }).nullable(),
  /** One sentence: who waited on what, held by whom, doing what. */
  explanation: z.string(),
  file: z.number().int(),
  line: z.number().int(),
});
export type WaitRecord = z.infer<typeof WaitRecordSchema>;

const PhaseInstanceSchema = z.object({
  func: z.string(),
  phase: z.string().nullable(),
  pid: z.number().int().nullable(),
  comm: z.string().nullable(),
  start: z.number().nullable(),
  end: z.number().nullable(),
  duration: z.number().nullable(),
  /** The trace ended (or the entry was before it) inside this call: duration is a lower bound or unknown. */
  incomplete: z.boolean(),
  waitCount: z.number().int(),
  waitTotal: z.number(),
  /** The slowest waits inside this call (at most 5). */
  waits: z.array(WaitRecordSchema),
  file: z.number().int(),
});

const NameIdentitySchema = z.object({
  name: z.string(),
  /** Pointers the trace printed for it: raw addresses, hashed lock pointers, lockdep map pointers. */
  addresses: z.array(z.string()),
  hashedPointers: z.array(z.string()),
  lockdepMaps: z.array(z.string()),
  namedBy: z.array(z.string()),
});

export const LocksSectionSchema = z.object({
  locks: z.array(LockRowSchema),
  sortKey: z.string(),
  filters: z.object({
    lock: z.string().nullable(),
    type: z.string().nullable(),
    session: z.string().nullable(),
    pids: z.array(z.number().int()),
    since: z.number().nullable(),
    until: z.number().nullable(),
  }),
  quantileMethod: z.object({ description: z.string(), exactUpTo: z.number().int(), sketchRelativeError: z.number() }),
  totals: z.object({
    contentionBegins: z.number().int(),
    contentionEnds: z.number().int(),
    /** Extra contention_begin of a wait already open on the same task and lock (real README O7). */
    reBegins: z.number().int(),
    /** begins - reBegins: one per contended acquisition. */
    contendedAcquisitions: z.number().int(),
    /** Contended acquisitions bound to the acquisition named by the task's own probe/lockdep event. */
    boundToNamedAcquisition: z.number().int(),
    orphanEnds: z.number().int(),
    openAtEnd: z.number().int(),
    failedWaits: z.number().int(),
    untimedLockEvents: z.number().int(),
    unidentifiedProbes: z.number().int(),
    pointerRebinds: z.number().int(),
  }),
  /** The slowest complete waits, with their owners (the chain that explains a stall). */
  slowestWaits: z.array(WaitRecordSchema),
  /** Per session (null = work outside any session: registration, module load...), its slowest LUO calls and the waits inside them. */
  stalls: z.array(z.object({ session: z.string().nullable(), slowest: z.array(PhaseInstanceSchema) })),
  stallSessionsTotal: z.number().int(),
  /** Locks still held when their trace ended. */
  heldAtEnd: z.array(
    ContextSchema.extend({ lock: z.string().nullable(), address: z.string().nullable(), type: z.string(), since: z.number().nullable(), file: z.number().int() }),
  ),
  /** Lock nesting observed (outer held while inner taken), with counts. */
  nesting: z.array(z.object({ outer: z.string(), inner: z.string(), count: z.number().int() })),
  /** How each named lock was recognised, and under which pointers. */
  identities: z.array(NameIdentitySchema),
  notes: z.array(z.string()),
});
export type LocksSection = z.infer<typeof LocksSectionSchema>;

/**
 * The wait and hold distributions behind each row's figures (not part of the JSON row): per-host
 * summaries serialize them so fleets merge percentiles exactly as in memory (reports/fleet.ts).
 */
const rowDistributions = new WeakMap<LockRow, { wait: Distribution; hold: Distribution }>();
export function lockRowDistributions(row: LockRow): { wait: Distribution; hold: Distribution } | undefined {
  return rowDistributions.get(row);
}

export const LOCK_SORT_KEYS = ['wait_total', 'wait_max', 'wait_min', 'avg_wait', 'contended', 'acquired', 'hold_total', 'hold_max', 'avg_hold', 'name'] as const;
export type LockSortKey = (typeof LOCK_SORT_KEYS)[number];

export interface LockFilters {
  /** Lock name (exact or substring) or address. */
  lock?: string | null;
  /** `rwsem:R`, `rwsem:W`, `rwsem`, `mutex`, `spinlock`, `R`, `W`... */
  type?: string | null;
  session?: string | null;
  pids?: number[];
  /** Only intervals overlapping this window (ns on the trace clock), as `analyze --since/--until`. */
  since?: number | null;
  until?: number | null;
}

export interface LockOptions {
  symbols?: SymbolTable | null;
  /** Shared call tracker (fed by the analyze pipeline before this reducer sees each event). */
  calls?: LuoCallTracker;
  sort?: LockSortKey;
  filters?: LockFilters;
  /** Every finished interval, for joins with other analyses (e.g. sessions) and for tests. */
  onInterval?: (iv: { wait: WaitInterval } | { hold: HoldInterval }) => void;
}

// ---- accumulation ----------------------------------------------------------------------------------

class SubStats {
  acquisitions = 0;
  contended = 0;
  readonly wait = new Distribution();
  readonly hold = new Distribution();
  merge(o: SubStats): void {
    this.acquisitions += o.acquisitions;
    this.contended += o.contended;
    this.wait.merge(o.wait);
    this.hold.merge(o.hold);
  }
}

const zeroIncomplete = (): Record<IncompleteReason, number> => ({ 'trace-start': 0, 'trace-end': 0, 'lost-events': 0, 'out-of-order': 0 });

class LockStats extends SubStats {
  slept = 0;
  failed = 0;
  trylockFailed = 0;
  holdsNotObservable = 0;
  readonly incompleteWaits = zeroIncomplete();
  readonly incompleteHolds = zeroIncomplete();
  readonly callers = new Map<string, SubStats>();
  readonly phases = new Map<string, SubStats>();

  mergeAll(o: LockStats): void {
    this.merge(o);
    this.slept += o.slept;
    this.failed += o.failed;
    this.trylockFailed += o.trylockFailed;
    this.holdsNotObservable += o.holdsNotObservable;
    for (const k of Object.keys(this.incompleteWaits) as IncompleteReason[]) {
      this.incompleteWaits[k] += o.incompleteWaits[k];
      this.incompleteHolds[k] += o.incompleteHolds[k];
    }
    mergeMap(this.callers, o.callers);
    mergeMap(this.phases, o.phases);
  }
}

function mergeMap(into: Map<string, SubStats>, from: Map<string, SubStats>): void {
  for (const [k, v] of from) {
    let s = into.get(k);
    if (!s) into.set(k, (s = new SubStats()));
    s.merge(v);
  }
}

/** Per-session figures of one lock x mode: counts, sums and maxima only (sessions can be many). */
class SessionFigures {
  acquisitions = 0;
  contended = 0;
  waitCount = 0;
  waitTotal = 0;
  waitMax = -1;
  holdCount = 0;
  holdTotal = 0;
  holdMax = -1;
  merge(o: SessionFigures): void {
    this.acquisitions += o.acquisitions;
    this.contended += o.contended;
    this.waitCount += o.waitCount;
    this.waitTotal += o.waitTotal;
    this.waitMax = Math.max(this.waitMax, o.waitMax);
    this.holdCount += o.holdCount;
    this.holdTotal += o.holdTotal;
    this.holdMax = Math.max(this.holdMax, o.holdMax);
  }
}

function sub(map: Map<string, SubStats>, key: string): SubStats {
  let s = map.get(key);
  if (!s) map.set(key, (s = new SubStats()));
  return s;
}

interface PendingWait {
  iv: WaitInterval;
  duration: number;
}

interface PhaseInstance {
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

const NONE = '\u0000';
const TOP_WAITS = 20;
const TOP_PHASE_WAITS = 5;
const TOP_PHASES_PER_SESSION = 3;
const STALL_SESSIONS_SHOWN = 20;
/** Sessions whose slowest calls are kept for the stall view (pruned to this when twice as many). */
const STALL_SESSIONS_KEPT = 200;
const SESSIONS_PER_ROW = 20;
/** Distinct sessions with their own per-lock figures; later ones are summed as "(other sessions)". */
const SESSION_FIGURES_CAP = 1000;
const OTHER_SESSIONS = '(other sessions)';

/** Keep the `limit` largest items by `size` (small arrays, rare inserts once full). */
function keepTop<T>(list: T[], item: T, size: (x: T) => number, limit: number): void {
  if (list.length >= limit && size(item) <= size(list[list.length - 1])) return;
  let i = list.length;
  while (i > 0 && size(list[i - 1]) < size(item)) i--;
  list.splice(i, 0, item);
  if (list.length > limit) list.pop();
}

/** A lock as the statistics key it: its lockdep class name once named (names never change), else its instance id. */
function lockIdentity(inst: LockInstance): string | number {
  const r = inst.root();
  return r.name ?? r.id;
}

/**
 * A front index for the string-keyed statistics maps of createLockAnalysis, keyed by values
 * instead of a string built for every interval: lock identity (a name and an id never collide:
 * string vs number keys), mode, session name (null = none). Entries are still created in the
 * string-keyed maps, so the report iterates them in the same order.
 */
class IntervalIndex<E> {
  private readonly byLock = new Map<string | number, [Map<string | null, E>, Map<string | null, E>]>();
  get(lock: string | number, shared: boolean, session: string | null): E | undefined {
    return this.byLock.get(lock)?.[shared ? 1 : 0].get(session);
  }
  set(lock: string | number, shared: boolean, session: string | null, entry: E): void {
    let modes = this.byLock.get(lock);
    if (!modes) this.byLock.set(lock, (modes = [new Map(), new Map()]));
    modes[shared ? 1 : 0].set(session, entry);
  }
}

/** A task within a source as one number (no string per event): pids are below 2^23. */
function taskKey(src: number, pid: number | null): number {
  return src * 8_388_608 + (pid ?? 8_388_607);
}

export function createLockAnalysis(opts: LockOptions = {}): Reducer<LocksSection> {
  const calls = opts.calls ?? null;
  const sessions = new SessionTracker();
  const syscalls = new Map<number, string>();
  const filters = opts.filters ?? {};
  const pidFilter = filters.pids && filters.pids.length ? new Set(filters.pids) : null;

  /** Per task: the outermost LUO call it returned from last (until its next syscall boundary). */
  const lastCall = new Map<number, string>();
  const context = (src: number, pid: number | null): TaskContext => {
    const c = calls ? calls.innermost(src, pid) : null;
    return {
      func: c?.func ?? null,
      phase: c?.phase ?? null,
      session: sessions.current(src, pid),
      syscall: syscalls.size ? (syscalls.get(taskKey(src, pid)) ?? null) : null,
      after: c === null && lastCall.size ? (lastCall.get(taskKey(src, pid)) ?? null) : null,
    };
  };

  /**
   * Statistics per lock x mode. A lock is its lockdep class once named (names never change), else
   * its instance (resolved to its final identity at the end). With --session, intervals whose
   * session is only known later (a file_set bound by a later RETRIEVE) wait apart until the end.
   */
  const stats = new Map<string, { inst: LockInstance; shared: boolean; pending: SessionRef; s: LockStats }>();
  const lockKey = (inst: LockInstance): string => {
    const id = lockIdentity(inst);
    return typeof id === 'string' ? `n:${id}` : `i:${id}`;
  };
  const statsEntry = (inst: LockInstance, shared: boolean, pending: SessionRef) => {
    const k = `${lockKey(inst)}|${shared ? 1 : 0}|${sessionRefKey(pending)}`;
    let e = stats.get(k);
    if (!e) stats.set(k, (e = { inst, shared, pending, s: new LockStats() }));
    return e;
  };
  const statsIndex = new IntervalIndex<{ s: LockStats }>();
  const statsFor = (inst: LockInstance, shared: boolean, session: SessionRef): LockStats | null => {
    if (filters.session) {
      if (session === null || typeof session === 'string') {
        if (session !== filters.session) return null;
      } else return statsEntry(inst, shared, session).s;
    }
    const id = lockIdentity(inst);
    let e = statsIndex.get(id, shared, null);
    if (!e) statsIndex.set(id, shared, null, (e = statsEntry(inst, shared, null)));
    return e.s;
  };
  /** Per lock x mode x session figures; bounded by SESSION_FIGURES_CAP distinct sessions. */
  const sessionFigures = new Map<string, { inst: LockInstance; shared: boolean; session: SessionRef | typeof OTHER_SESSIONS; f: SessionFigures }>();
  const sessionsSeen = new Set<string>();
  /** The names (and null) among sessionsSeen, as they are: tells a session beyond the cap without a key string. */
  const namesSeen = new Set<string | null>();
  const figuresEntry = (inst: LockInstance, shared: boolean, session: SessionRef) => {
    let sk = sessionRefKey(session);
    let ref: SessionRef | typeof OTHER_SESSIONS = session;
    if (!sessionsSeen.has(sk)) {
      if (sessionsSeen.size < SESSION_FIGURES_CAP) {
        sessionsSeen.add(sk);
        if (session === null || typeof session === 'string') namesSeen.add(session);
      } else {
        sk = OTHER_SESSIONS;
        ref = OTHER_SESSIONS;
      }
    }
    const k = `${lockKey(inst)}|${shared ? 1 : 0}|${sk}`;
    let e = sessionFigures.get(k);
    if (!e) sessionFigures.set(k, (e = { inst, shared, session: ref, f: new SessionFigures() }));
    return e;
  };
  // Only sessions within the cap are indexed (so the index stays as bounded as sessionsSeen); a
  // session's place never changes once it has one.
  const figuresIndex = new IntervalIndex<{ f: SessionFigures; session: SessionRef | typeof OTHER_SESSIONS }>();
  /** lock x mode -> its "(other sessions)" figures. */
  const othersIndex = new IntervalIndex<{ f: SessionFigures; session: SessionRef | typeof OTHER_SESSIONS }>();
  const figuresFor = (inst: LockInstance, shared: boolean, session: SessionRef): SessionFigures => {
    if (session !== null && typeof session !== 'string') return figuresEntry(inst, shared, session).f;
    const id = lockIdentity(inst);
    let e = figuresIndex.get(id, shared, session);
    if (!e && sessionsSeen.size >= SESSION_FIGURES_CAP && !namesSeen.has(session)) {
      // A session beyond the cap: it can only ever count in "(other sessions)".
      e = othersIndex.get(id, shared, null);
      if (!e) othersIndex.set(id, shared, null, (e = figuresEntry(inst, shared, session)));
    } else if (!e) {
      e = figuresEntry(inst, shared, session);
      if (e.session !== OTHER_SESSIONS) figuresIndex.set(id, shared, session, e);
    }
    return e.f;
  };
  const nesting = new Map<string, { outer: LockInstance; outerShared: boolean; inner: LockInstance; shared: boolean; count: number }>();
  const slowest: PendingWait[] = [];
  const phaseTasks = new Map<number, { call: OpenCall | null; open: PhaseInstance | null }>();
  const stallsBySession = new Map<string, { session: SessionRef; top: PhaseInstance[] }>();
  const stallSessionKeys = new Set<string>();
  const timeUnits = new Set<number>();

  const callerOf = (caller: string | null, ctx: TaskContext): string => caller ?? ctx.func ?? (ctx.syscall ? `sys_${ctx.syscall}` : NONE);
  const passesPid = (pid: number | null): boolean => pidFilter === null || (pid !== null && pidFilter.has(pid));
  const since = filters.since ?? null;
  const until = filters.until ?? null;
  /** Does [start, end] (either may be unknown) overlap the --since/--until window? */
  const inWindow = (start: number | null, end: number | null): boolean => {
    if (since === null && until === null) return true;
    const a = start ?? end;
    const b = end ?? start;
    if (a === null || b === null) return false;
    return (until === null || a <= until) && (since === null || b >= since);
  };

  const sink = {
    wait(iv: WaitInterval): void {
      opts.onInterval?.({ wait: iv });
      if (!passesPid(iv.pid) || !inWindow(iv.begin, iv.end)) return;
      const session = iv.ctx.session as SessionRef;
      const s = statsFor(iv.lock, iv.shared, session);
      if (!s) return;
      if (iv.incomplete !== null || iv.begin === null || iv.end === null) {
        s.incompleteWaits[iv.incomplete ?? 'trace-start']++;
        return;
      }
      const d = iv.end - iv.begin;
      s.wait.add(d);
      if (iv.slept) s.slept++;
      const f = figuresFor(iv.lock, iv.shared, session);
      f.waitCount++;
      f.waitTotal += d;
      if (d > f.waitMax) f.waitMax = d;
      const caller = callerOf(iv.caller, iv.ctx);
      sub(s.callers, caller).wait.add(d);
      sub(s.phases, iv.ctx.phase ?? NONE).wait.add(d);
      const pw: PendingWait = { iv, duration: d };
      keepTop(slowest, pw, (x) => x.duration, TOP_WAITS);
      const ph = phaseTasks.get(taskKey(iv.src, iv.pid))?.open;
      if (ph && (ph.start === null || iv.begin >= ph.start)) {
        ph.waitCount++;
        ph.waitTotal += d;
        keepTop(ph.waits, pw, (x) => x.duration, TOP_PHASE_WAITS);
      }
    },
    hold(iv: HoldInterval): void {
      opts.onInterval?.({ hold: iv });
      if (!passesPid(iv.pid) || !inWindow(iv.start, iv.end)) return;
      const shared = iv.shared ?? false;
      const session = iv.ctx.session as SessionRef;
      const s = statsFor(iv.lock, shared, session);
      if (!s) return;
      const caller = callerOf(iv.caller, iv.ctx);
      const phase = iv.ctx.phase ?? NONE;
      if (iv.failed) {
        s.failed++;
        if (iv.trylockFailed) s.trylockFailed++;
        if (iv.contended) {
          s.contended++;
          sub(s.callers, caller).contended++;
          sub(s.phases, phase).contended++;
          figuresFor(iv.lock, shared, session).contended++;
        }
        return;
      }
      if (iv.start === null && iv.incomplete === 'trace-start') {
        // Only a release was seen: the acquisition happened before the trace began.
        s.incompleteHolds['trace-start']++;
        return;
      }
      s.acquisitions++;
      const c = sub(s.callers, caller);
      const p = sub(s.phases, phase);
      const f = figuresFor(iv.lock, shared, session);
      c.acquisitions++;
      p.acquisitions++;
      f.acquisitions++;
      if (iv.contended) {
        s.contended++;
        c.contended++;
        p.contended++;
        f.contended++;
      }
      if (iv.outer) {
        const k = `${lockKey(iv.outer.lock)}|${iv.outer.shared ? 1 : 0}|${lockKey(iv.lock)}|${shared ? 1 : 0}`;
        const n = nesting.get(k);
        if (n) n.count++;
        else nesting.set(k, { outer: iv.outer.lock, outerShared: iv.outer.shared, inner: iv.lock, shared, count: 1 });
      }
      if (iv.unobservable) {
        s.holdsNotObservable++;
        return;
      }
      if (iv.incomplete !== null || iv.start === null || iv.end === null) {
        s.incompleteHolds[iv.incomplete ?? 'trace-end']++;
        return;
      }
      const d = iv.end - iv.start;
      s.hold.add(d);
      c.hold.add(d);
      p.hold.add(d);
      f.holdCount++;
      f.holdTotal += d;
      if (d > f.holdMax) f.holdMax = d;
    },
  };
  const tracker = new LockIntervalTracker(sink, context);

  const closePhase = (ph: PhaseInstance, end: number | null, incomplete: boolean): void => {
    ph.end = end;
    if (!passesPid(ph.pid) || !inWindow(ph.start, end)) return;
    ph.incomplete ||= incomplete || end === null || ph.start === null;
    if (ph.session === null) ph.session = sessions.current(ph.src, ph.pid);
    const key = sessionRefKey(ph.session);
    stallSessionKeys.add(key);
    let entry = stallsBySession.get(key);
    if (!entry) stallsBySession.set(key, (entry = { session: ph.session, top: [] }));
    keepTop(entry.top, ph, phaseDuration, TOP_PHASES_PER_SESSION);
    if (stallsBySession.size > 2 * STALL_SESSIONS_KEPT) {
      const keep = [...stallsBySession.entries()].sort((x, y) => phaseDuration(y[1].top[0]) - phaseDuration(x[1].top[0])).slice(0, STALL_SESSIONS_KEPT);
      stallsBySession.clear();
      for (const [k, v] of keep) stallsBySession.set(k, v);
    }
  };

  const trackPhase = (ev: TraceEvent): void => {
    if (!calls) return;
    const stack = calls.openCalls(ev.src, ev.pid);
    const outer = stack.length ? stack[0] : null;
    const key = taskKey(ev.src, ev.pid);
    let st = phaseTasks.get(key);
    if (!st) {
      if (outer === null) return;
      phaseTasks.set(key, (st = { call: null, open: null }));
    }
    if (st.call === outer) return;
    if (st.call !== null) lastCall.set(key, st.call.func);
    if (st.open) closePhase(st.open, ev.time, false);
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
            session: sessions.current(ev.src, ev.pid),
            waitCount: 0,
            waitTotal: 0,
            waits: [],
            incomplete: false,
          }
        : null;
  };

  return {
    push(ev: TraceEvent): void {
      switch (ev.kind) {
        case 'kprobe':
        case 'fentry':
        case 'bpftrace':
          sessions.push(ev);
          trackPhase(ev);
          break;
        case 'kretprobe':
        case 'fexit':
        case 'funcgraph_entry':
        case 'funcgraph_exit':
        case 'funcgraph_leaf':
          trackPhase(ev);
          break;
        case 'syscall_enter':
          syscalls.set(taskKey(ev.src, ev.pid), ev.fields.syscall);
          lastCall.delete(taskKey(ev.src, ev.pid));
          break;
        case 'syscall_exit':
          syscalls.delete(taskKey(ev.src, ev.pid));
          lastCall.delete(taskKey(ev.src, ev.pid));
          break;
        default:
          break;
      }
      tracker.push(ev);
    },

    finish(ctx: FinishContext): LocksSection {
      for (const [i, s] of ctx.sources.entries()) if (s.timeUnit === 'tick') timeUnits.add(i);
      const heldAtEndRaw = tracker.openHolds().map((a) => ({ a, inst: a.inst.root() }));
      tracker.finish();
      for (const st of phaseTasks.values()) if (st.open) closePhase(st.open, null, true);
      return buildSection({
        stats,
        sessionFigures,
        nesting,
        slowest,
        stallsBySession,
        stallSessionsTotal: stallSessionKeys.size,
        heldAtEndRaw,
        tracker,
        sessions,
        symbols: opts.symbols ?? null,
        sort: opts.sort ?? 'wait_total',
        filters,
        tickSources: [...timeUnits].map((i) => ctx.sources[i]?.file ?? String(i)),
      });
    },
  };
}

function phaseDuration(p: PhaseInstance): number {
  if (p.start === null) return -1;
  return (p.end ?? p.start) - p.start;
}

// ---- the report ------------------------------------------------------------------------------------

interface LockIdentity {
  name: string | null;
  address: string | null;
  symbol: string | null;
  type: LockType;
  namedBy: string | null;
  luo: { role: string } | null;
  /** The name identifies the lock itself (lockdep class, exact kallsyms symbol), not only a containing object. */
  classKey: boolean;
}

// Data symbols of interest are small (luo_session_global is 0x200 bytes) and a capture's
// kallsyms-luo.txt lists only LUO symbols: a far "nearest symbol" would name an unrelated lock.
const MAX_SYMBOL_OFFSET = 0x1000;

function identify(inst: LockInstance, symbols: SymbolTable | null): LockIdentity {
  let symbol: string | null = null;
  if (inst.addr && symbols) symbol = symbols.describe(inst.addr, MAX_SYMBOL_OFFSET);
  symbol ??= inst.sym;
  const name = inst.name ?? symbol;
  const namedBy = inst.name ? 'lockdep' : symbol ? (inst.sym === symbol ? 'trace symbol' : 'kallsyms') : null;
  let luo: { role: string } | null = null;
  const known = (name && LUO_LOCKS[name]) || (symbol && LUO_LOCKS[symbol]);
  if (known) luo = { role: known.role };
  else if (symbol && /^luo_session_global(\+0x[0-9a-f]+)?$/.test(symbol)) luo = { role: 'a session list rwsem inside luo_session_global (incoming or outgoing header)' };
  // bpftrace's ksym() prints the containing symbol without offset (`sym=luo_session_global` for the
  // outgoing rwsem at +0x110), so only lockdep names and exact kallsyms hits identify a lock by name.
  const classKey = inst.name !== null || (symbol !== null && namedBy === 'kallsyms' && !symbol.includes('+'));
  return { name, address: inst.addr ?? inst.ptr, symbol, type: inst.type ?? 'unknown', namedBy, luo, classKey };
}

export function modeLabel(type: LockType, shared: boolean): { mode: string; type: string } {
  if (shared) {
    const t = type === 'rwsem' || type === 'rwlock' || type === 'percpu-rwsem' ? type : type === 'rcu' ? 'rcu' : 'lock';
    return { mode: 'R', type: `${t}:R` };
  }
  switch (type) {
    case 'mutex':
      return { mode: 'mutex', type: 'mutex' };
    case 'rtmutex':
      return { mode: 'mutex', type: 'rtmutex' };
    case 'spinlock':
      return { mode: 'spin', type: 'spinlock' };
    case 'rwsem':
    case 'rwlock':
    case 'percpu-rwsem':
      return { mode: 'W', type: `${type}:W` };
    default:
      return { mode: 'W', type: 'lock:W' };
  }
}

function subRows(map: Map<string, SubStats>): Array<z.infer<typeof SubStatsSchema>> {
  return [...map.entries()]
    .map(([k, v]) => ({ key: k === NONE ? null : k, acquisitions: v.acquisitions, contended: v.contended, wait: v.wait.summary(), hold: v.hold.summary() }))
    .sort((a, b) => b.wait.total - a.wait.total || b.hold.total - a.hold.total || b.acquisitions - a.acquisitions);
}

function sessionRows(map: Map<string, SessionFigures>): Array<z.infer<typeof SessionFiguresSchema>> {
  return [...map.entries()]
    .map(([k, f]) => ({
      key: k === NONE ? null : k,
      acquisitions: f.acquisitions,
      contended: f.contended,
      wait: { count: f.waitCount, total: f.waitTotal, max: f.waitMax < 0 ? null : f.waitMax },
      hold: { count: f.holdCount, total: f.holdTotal, max: f.holdMax < 0 ? null : f.holdMax },
    }))
    .sort((a, b) => b.wait.total - a.wait.total || b.hold.total - a.hold.total || b.acquisitions - a.acquisitions);
}

function matchesLockFilter(row: { name: string | null; address: string | null; symbol: string | null }, f: string): boolean {
  const needle = f.toLowerCase();
  return [row.name, row.address, row.symbol].some((v) => v !== null && (v.toLowerCase() === needle || v.toLowerCase().includes(needle)));
}

function matchesTypeFilter(row: { mode: string; type: string; lockType: string }, f: string): boolean {
  const want = f.toLowerCase();
  if (row.type.toLowerCase() === want || row.lockType === want || row.mode.toLowerCase() === want) return true;
  return false;
}

function sortValue(r: LockRow, key: LockSortKey): number {
  switch (key) {
    case 'wait_total':
      return r.wait.total;
    case 'wait_max':
      return r.wait.max ?? -1;
    case 'wait_min':
      return r.wait.min ?? -1;
    case 'avg_wait':
      return r.wait.avg ?? -1;
    case 'contended':
      return r.contended;
    case 'acquired':
      return r.acquisitions;
    case 'hold_total':
      return r.hold.total;
    case 'hold_max':
      return r.hold.max ?? -1;
    case 'avg_hold':
      return r.hold.avg ?? -1;
    case 'name':
      return 0;
  }
}

export function sortLockRows(rows: LockRow[], key: LockSortKey): LockRow[] {
  const byName = (a: LockRow, b: LockRow) => (a.name ?? a.address ?? '').localeCompare(b.name ?? b.address ?? '') || a.type.localeCompare(b.type);
  if (key === 'name') return rows.sort(byName);
  return rows.sort((a, b) => sortValue(b, key) - sortValue(a, key) || b.contended - a.contended || b.acquisitions - a.acquisitions || byName(a, b));
}

function fmtDuration(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(ns >= 1e7 ? 0 : 1)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(ns >= 1e4 ? 0 : 1)} µs`;
  return `${ns} ns`;
}

interface BuildInput {
  stats: Map<string, { inst: LockInstance; shared: boolean; pending: SessionRef; s: LockStats }>;
  sessionFigures: Map<string, { inst: LockInstance; shared: boolean; session: SessionRef | typeof OTHER_SESSIONS; f: SessionFigures }>;
  stallSessionsTotal: number;
  nesting: Map<string, { outer: LockInstance; outerShared: boolean; inner: LockInstance; shared: boolean; count: number }>;
  slowest: PendingWait[];
  stallsBySession: Map<string, { session: SessionRef; top: PhaseInstance[] }>;
  heldAtEndRaw: Array<{ a: import('./lock-intervals.js').Acquisition; inst: LockInstance }>;
  tracker: LockIntervalTracker;
  sessions: SessionTracker;
  symbols: SymbolTable | null;
  sort: LockSortKey;
  filters: LockFilters;
  tickSources: string[];
}

function buildSection(b: BuildInput): LocksSection {
  const { symbols, filters, sessions } = b;
  const idCache = new Map<LockInstance, LockIdentity>();
  const ident = (inst: LockInstance): LockIdentity => {
    const r = inst.root();
    let id = idCache.get(r);
    if (!id) idCache.set(r, (id = identify(r, symbols)));
    return id;
  };
  const rowKeyOf = (inst: LockInstance, shared: boolean): string => {
    const id = ident(inst);
    return `${id.classKey ? `n:${id.name}` : `a:${inst.root().src}:${id.address ?? `#${inst.root().id}`}`}|${shared ? 'R' : 'X'}`;
  };
  const sessionName = (ref: SessionRef): string | null => sessions.resolve(ref);
  const labelOf = (inst: LockInstance, shared: boolean): string => {
    const id = ident(inst);
    return `${id.name ?? id.address ?? '?'}:${modeLabel(id.type, shared).mode}`;
  };

  // Rows: merge the per-class / per-instance statistics into lock x mode rows.
  interface RowAcc {
    insts: Set<LockInstance>;
    shared: boolean;
    total: LockStats;
    bySession: Map<string, SessionFigures>;
  }
  const rows = new Map<string, RowAcc>();
  const rowAcc = (inst: LockInstance, shared: boolean): RowAcc => {
    const key = rowKeyOf(inst, shared);
    let acc = rows.get(key);
    if (!acc) rows.set(key, (acc = { insts: new Set(), shared, total: new LockStats(), bySession: new Map() }));
    return acc;
  };
  for (const e of b.stats.values()) {
    if (e.pending !== null && sessionName(e.pending) !== filters.session) continue;
    rowAcc(e.inst, e.shared).total.mergeAll(e.s);
  }
  for (const e of b.sessionFigures.values()) {
    const name = e.session === OTHER_SESSIONS ? OTHER_SESSIONS : sessionName(e.session);
    if (filters.session && name !== filters.session) continue;
    const acc = rows.get(rowKeyOf(e.inst, e.shared));
    if (!acc) continue;
    const k = name ?? NONE;
    let f = acc.bySession.get(k);
    if (!f) acc.bySession.set(k, (f = new SessionFigures()));
    f.merge(e.f);
  }
  // Every instance of a row's lock (a lockdep class can have many: one &session->mutex per session).
  for (const inst of b.tracker.instances) {
    if (inst.parent) continue;
    for (const shared of [false, true]) rows.get(rowKeyOf(inst, shared))?.insts.add(inst);
  }
  let entries: Array<{ key: string; row: LockRow }> = [];
  for (const [rowKey, acc] of rows) {
    const first = [...acc.insts][0];
    const id = ident(first);
    // A class merged from several instances keeps one type: the most specific one any of them had.
    let type: LockType = id.type;
    for (const i of acc.insts) if (type === 'unknown' && i.type && i.type !== 'unknown') type = i.type;
    const ml = modeLabel(type, acc.shared);
    const addresses = new Set([...acc.insts].map((i) => i.addr ?? i.ptr).filter((x): x is string => x !== null));
    const evidence = new Set<string>();
    let namedByAdjacency = 0;
    for (const i of acc.insts) {
      for (const e of i.evidenceNames) evidence.add(e);
      namedByAdjacency += i.namedBindings;
    }
    const t = acc.total;
    const row: LockRow = {
      name: id.name,
      address: addresses.size === 1 ? [...addresses][0] : null,
      mode: ml.mode,
      type: ml.type,
      lockType: type,
      symbol: id.symbol,
      luo: id.luo,
      instances: acc.insts.size,
      sources: [...new Set([...acc.insts].map((i) => i.src))].sort((x, y) => x - y),
      evidence: [...evidence],
      acquisitions: t.acquisitions,
      contended: t.contended,
      slept: t.slept,
      failed: t.failed,
      trylockFailed: t.trylockFailed,
      wait: t.wait.summary(),
      hold: t.hold.summary(),
      waitHistogram: t.wait.histogram(),
      holdHistogram: t.hold.histogram(),
      incomplete: { waits: { ...t.incompleteWaits }, holds: { ...t.incompleteHolds } },
      holdsNotObservable: t.holdsNotObservable,
      namedByAdjacency,
      callers: subRows(t.callers),
      sessions: sessionRows(acc.bySession).slice(0, SESSIONS_PER_ROW),
      sessionsTotal: acc.bySession.size,
      phases: subRows(t.phases),
    };
    rowDistributions.set(row, { wait: t.wait, hold: t.hold });
    entries.push({ key: rowKey, row });
  }
  if (filters.lock) entries = entries.filter((e) => matchesLockFilter(e.row, filters.lock as string));
  if (filters.type) entries = entries.filter((e) => matchesTypeFilter(e.row, filters.type as string));
  const lockRows = sortLockRows(entries.map((e) => e.row), b.sort);
  const shownKeys = new Set(entries.map((e) => e.key));
  const rowShown = (inst: LockInstance, shared: boolean): boolean => (!filters.lock && !filters.type) || shownKeys.has(rowKeyOf(inst, shared));

  const ctxJson = (pid: number | null, comm: string | null, ctx: TaskContext) => ({
    pid,
    comm,
    session: sessionName(ctx.session as SessionRef),
    func: ctx.func,
    phase: ctx.phase,
    after: ctx.after,
  });
  const waitJson = (pw: PendingWait): WaitRecord => {
    const iv = pw.iv;
    const id = ident(iv.lock);
    const ml = modeLabel(id.type, iv.shared);
    const waiter = ctxJson(iv.pid, iv.comm, iv.ctx);
    const owners = iv.owners.map((o: OwnerInfo) => ({
      ...ctxJson(o.pid, o.comm, o.ctx),
      mode: modeLabel(id.type, o.shared).mode,
      heldFor: o.since === null || iv.begin === null ? null : (iv.begin as number) - o.since,
    }));
    const wokenBy = iv.wokenBy ? { ...ctxJson(iv.wokenBy.pid, iv.wokenBy.comm, iv.wokenBy.ctx), at: iv.wokenBy.time } : null;
    return {
      lock: id.name,
      address: id.address,
      type: ml.type,
      waiter,
      caller: iv.caller,
      begin: iv.begin as number,
      end: iv.end as number,
      duration: pw.duration,
      slept: iv.slept,
      begins: iv.begins,
      ret: iv.ret,
      owners,
      ownersTotal: iv.ownersTotal,
      acquiring: iv.acquiring,
      wokenBy,
      explanation: explainWait(waiter, { name: id.name ?? id.address ?? 'an unnamed lock', waiterMode: ml.mode }, pw.duration, iv.slept, owners, iv.ownersTotal, wokenBy),
      file: iv.src,
      line: iv.line,
    };
  };

  const slowestWaits = b.slowest.filter((w) => rowShown(w.iv.lock, w.iv.shared) && (!filters.session || sessionName(w.iv.ctx.session as SessionRef) === filters.session)).map(waitJson);

  const stallEntries = [...b.stallsBySession.values()]
    .map((e) => ({ session: sessionName(e.session), top: e.top }))
    .filter((e) => !filters.session || e.session === filters.session);
  // Sessions whose deferred reference resolved to the same name are one session.
  const mergedStalls = new Map<string, { session: string | null; top: PhaseInstance[] }>();
  for (const e of stallEntries) {
    const k = e.session ?? NONE;
    const m = mergedStalls.get(k);
    if (!m) mergedStalls.set(k, { session: e.session, top: [...e.top] });
    else for (const p of e.top) keepTop(m.top, p, phaseDuration, TOP_PHASES_PER_SESSION);
  }
  const stalls = [...mergedStalls.values()]
    .sort((x, y) => phaseDuration(y.top[0]) - phaseDuration(x.top[0]))
    .slice(0, STALL_SESSIONS_SHOWN)
    .map((e) => ({
      session: e.session,
      slowest: e.top.map((p) => ({
        func: p.call.func,
        phase: p.call.phase,
        pid: p.pid,
        comm: p.comm,
        start: p.start,
        end: p.end,
        duration: p.start !== null && p.end !== null ? p.end - p.start : null,
        incomplete: p.incomplete,
        waitCount: p.waitCount,
        waitTotal: p.waitTotal,
        waits: p.waits.filter((w) => rowShown(w.iv.lock, w.iv.shared)).map(waitJson),
        file: p.src,
      })),
    }));

  const heldAtEnd = b.heldAtEndRaw
    .filter(({ a }) => !a.failed && (a.wait === null || a.wait.end !== null))
    .filter(({ a, inst }) => rowShown(inst, a.shared))
    .filter(({ a }) => (!filters.pids?.length || (a.task.pid !== null && filters.pids.includes(a.task.pid))) && (!filters.session || sessionName(a.ctx.session as SessionRef) === filters.session))
    .filter(({ a }) => filters.until === undefined || filters.until === null || a.acquired === null || a.acquired <= filters.until)
    .sort((x, y) => (x.a.acquired ?? -Infinity) - (y.a.acquired ?? -Infinity))
    .slice(0, 20)
    .map(({ a, inst }) => {
      const id = ident(inst);
      return {
        ...ctxJson(a.task.pid, a.task.comm, a.ctx),
        lock: id.name,
        address: id.address,
        type: modeLabel(id.type, a.shared).type,
        since: a.acquired,
        file: inst.src,
      };
    });

  const nestingAgg = new Map<string, { outer: string; inner: string; count: number }>();
  for (const n of b.nesting.values()) {
    const outer = labelOf(n.outer, n.outerShared);
    const inner = labelOf(n.inner, n.shared);
    const k = `${outer} -> ${inner}`;
    const e = nestingAgg.get(k);
    if (e) e.count += n.count;
    else nestingAgg.set(k, { outer, inner, count: n.count });
  }
  const nesting = [...nestingAgg.values()].sort((x, y) => y.count - x.count).slice(0, 50);

  const identities = new Map<string, z.infer<typeof NameIdentitySchema>>();
  for (const inst of b.tracker.instances) {
    if (inst.parent) continue;
    const id = ident(inst);
    if (id.name === null) continue;
    let e = identities.get(id.name);
    if (!e) identities.set(id.name, (e = { name: id.name, addresses: [], hashedPointers: [], lockdepMaps: [], namedBy: [] }));
    const push = (list: string[], v: string | null) => {
      if (v !== null && !list.includes(v) && list.length < 16) list.push(v);
    };
    push(e.addresses, inst.addr);
    push(e.hashedPointers, inst.ptr);
    push(e.lockdepMaps, inst.dep);
    push(e.namedBy, id.namedBy);
    if (inst.ptr !== null && inst.namedBindings > 0) push(e.namedBy, 'same-task adjacency');
  }

  const c = b.tracker.counts;
  const notes: string[] = [];
  if (b.tickSources.length) notes.push(`durations of ${b.tickSources.join(', ')} are in clock ticks, not nanoseconds (trace clock counter/uptime/x86-tsc)`);
  const mutexRows = lockRows.filter((r) => r.lockType === 'mutex' && r.evidence.includes('lockdep') && r.acquisitions > 0);
  if (mutexRows.length && mutexRows.every((r) => r.contended >= r.acquisitions * 0.9)) {
    notes.push(
      'lockdep kernels (DEBUG_LOCK_ALLOC) send every mutex_lock through the slow path, which emits contention_begin(SPIN|MUTEX) even when the trylock succeeds at once: ' +
        'nearly every mutex acquisition counts as contended; `slept` counts those that really slept',
    );
  }
  if (lockRows.some((r) => r.lockType === 'rwsem' && r.hold.count > 0)) {
    notes.push(
      'rwsem holds start at the lock call (down_* probe or lock_acquire) unless a contention_end or a return probe says when the lock was granted; ' +
        "a writer's optimistic spinning runs before contention_begin (rwsem_down_write_slowpath), so it is counted as hold, not wait",
    );
  }
  if (c.rebegins) notes.push(`${c.rebegins} contention_begin events continued a wait already open on the same task and lock (mutex sleep after spin, or spin again after a wake-up; real README O7): counted once`);
  if (c.orphanEnds) notes.push(`${c.orphanEnds} contention_end without a begin (the wait began before the trace or its begin was lost): counted as incomplete waits`);
  if (b.tracker.rebinds) notes.push(`${b.tracker.rebinds} pointers were re-used by a lock of another name (freed memory): identities follow the latest`);
  if (!symbols && lockRows.some((r) => r.address?.startsWith('0x') && r.name === null)) notes.push('raw lock addresses are unnamed: give --kallsyms FILE (each capture folder has kallsyms-luo.txt) to name them');

  return {
    locks: lockRows,
    sortKey: b.sort,
    filters: { lock: filters.lock ?? null, type: filters.type ?? null, session: filters.session ?? null, pids: filters.pids ?? [], since: filters.since ?? null, until: filters.until ?? null },
    quantileMethod: { description: QUANTILE_METHOD, exactUpTo: EXACT_LIMIT, sketchRelativeError: QUANTILE_RELATIVE_ACCURACY },
    totals: {
      contentionBegins: c.begins,
      contentionEnds: c.ends,
      reBegins: c.rebegins,
      contendedAcquisitions: c.begins - c.rebegins,
      boundToNamedAcquisition: c.bound,
      orphanEnds: c.orphanEnds,
      openAtEnd: c.openAtEnd,
      failedWaits: c.failed,
      untimedLockEvents: b.tracker.untimed,
      unidentifiedProbes: b.tracker.unidentified,
      pointerRebinds: b.tracker.rebinds,
    },
    slowestWaits,
    stalls,
    stallSessionsTotal: Math.max(b.stallSessionsTotal, mergedStalls.size),
    heldAtEnd,
    nesting,
    identities: [...identities.values()].sort((x, y) => x.name.localeCompare(y.name)),
    notes,
  };
}

function who(c: { pid: number | null; comm: string | null }): string {
  return `${c.comm ?? '?'}[${c.pid ?? '?'}]`;
}

function doing(c: { func: string | null; session: string | null; after?: string | null }): string {
  const parts: string[] = [];
  if (c.func) parts.push(c.func);
  else if (c.after) parts.push(`after ${c.after}`);
  if (c.session) parts.push(`session ${c.session}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/**
 * "preserve in session A (luo_ctl[320] in luo_preserve_file) waited 48 ms on luo_register_rwlock:W
 * held by insmod[317] (liveupdate_register_file_handler)": the lock is labelled with the owners' mode
 * when they are known (what blocked the waiter), with the waiter's mode otherwise.
 */
export function explainWait(
  waiter: { pid: number | null; comm: string | null; session: string | null; func: string | null; phase: string | null; after: string | null },
  lock: { name: string; waiterMode: string },
  duration: number,
  slept: boolean,
  owners: Array<{ pid: number | null; comm: string | null; session: string | null; func: string | null; after: string | null; mode: string }>,
  ownersTotal: number,
  wokenBy: { pid: number | null; comm: string | null; session: string | null; func: string | null; after: string | null } | null,
): string {
  const subject = `${waiter.phase ?? (waiter.after ? `work after ${waiter.after}` : 'work outside LUO calls')}${waiter.session ? ` in session ${waiter.session}` : ''} (${who(waiter)}${waiter.func ? ` in ${waiter.func}` : ''})`;
  const modes = new Set(owners.map((o) => o.mode));
  const label = `${lock.name}:${modes.size === 1 ? [...modes][0] : lock.waiterMode}`;
  let held: string;
  if (owners.length) {
    held = ` held by ${owners.map((o) => `${who(o)}${doing(o)}`).join(', ')}${ownersTotal > owners.length ? ` and ${ownersTotal - owners.length} more` : ''}`;
  } else if (wokenBy) {
    held = `; no holder seen when the wait began, released last by ${who(wokenBy)}${doing(wokenBy)}`;
  } else if (!slept) {
    held = '; no holder seen (the slow path spun or retried and got it)';
  } else held = '; the holder is not in the trace';
  return `${subject} waited ${fmtDuration(duration)} on ${label}${held}`;
}
