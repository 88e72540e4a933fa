// The JSON contract of the lock analysis (the `locks` rows and `lockDetails` of the analyze report),
// the sort keys and filters it takes, and the distributions that travel beside the rows.
import { z } from 'zod';
import { DistributionSummarySchema, HistogramBucketSchema, type SerializedDistribution } from './quantiles.js';

const IncompleteCountsSchema = z.object({
  'trace-start': z.number().int(),
  'trace-end': z.number().int(),
  'lost-events': z.number().int(),
  /** Ended before it began: events out of time order (clock skew between CPUs). */
  'out-of-order': z.number().int(),
});

export const SubStatsSchema = z.object({
  /** Caller, session name or phase; null = none (outside LUO calls / no session). */
  key: z.string().nullable(),
  acquisitions: z.number().int(),
  contended: z.number().int(),
  wait: DistributionSummarySchema,
  hold: DistributionSummarySchema,
});

export const SessionFiguresSchema = z.object({
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
  /** The waiter or a holder was inside a LUO call, or the lock is a known LUO lock (default: reports saved before the field). */
  luoRelated: z.boolean().default(true),
  file: z.number().int(),
  line: z.number().int(),
});
export type WaitRecord = z.infer<typeof WaitRecordSchema>;

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
  /** A known LUO lock (docs/luo-model.md §3) and its role. */
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
  /**
   * A known LUO lock (luo above), or a lock waited on or taken inside LUO calls (inLuoCalls > 0):
   * listed first; the other locks are summed in lockDetails.otherLocks by the text report.
   */
  // The defaults read reports saved before these fields existed (a CI baseline for `diff`): every row related, nothing kept.
  luoRelated: z.boolean().default(true),
  /** Waits and acquisitions by a task inside a LUO call. */
  inLuoCalls: z.number().int().default(0),
  /** The longest complete waits on this lock x mode, with their holders (at most 5; wait.count is the true count). */
  longestWaits: z.array(WaitRecordSchema).default([]),
  /** Only on a fold row: the locks past the lock table's cap, counted together (names estimated, events exact). */
  folded: z.object({ names: z.number().int(), events: z.number().int() }).optional(),
});
export type LockRow = z.infer<typeof LockRowSchema>;

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

export const NameIdentitySchema = z.object({
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
  /**
   * Only when the task table was full (memory bound, docs/luo-model.md "Lock tracking on hostile
   * input"): while `cap` tasks had a hold or a wait open, the lock events of every other task were not
   * tracked: `events` of them (exact) from about `tasks` tasks (estimated, as folded lock names). They
   * are in no figure or total, so the lock rules say inconclusive where they would pass.
   */
  untracked: z.object({ cap: z.number().int(), tasks: z.number().int(), events: z.number().int() }).optional(),
  /** The slowest complete waits, with their owners (the chain that explains a stall): the LUO-related ones (at most 20), then the others (at most 20). */
  slowestWaits: z.array(WaitRecordSchema),
  /** The rows that are not LUO-related (luoRelated false), summed: the text report's one line for them. */
  otherLocks: z.object({
    rows: z.number().int(),
    /** How many of `rows` are past the lock table's bound, folded into one row (an estimate: names are not kept). */
    foldedNames: z.number().int().optional(),
    acquisitions: z.number().int(),
    contended: z.number().int(),
    waitCount: z.number().int(),
    waitTotal: z.number(),
    waitMax: z.number().nullable(),
  })
    // reports saved before the field: no row was set apart
    .default({ rows: 0, acquisitions: 0, contended: 0, waitCount: 0, waitTotal: 0, waitMax: null }),
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
export type UntrackedTasks = NonNullable<LocksSection['untracked']>;

/**
 * The wait and hold distributions behind one row's figures, as data (quantiles.ts serialize()): not
 * part of the JSON row, but returned with the report (analyses/report.ts AnalysisResult), so that
 * per-host summaries merge percentiles exactly as in memory (reports/fleet.ts), also from a result
 * read back from JSON.
 */
export interface LockRowDistributions {
  wait: SerializedDistribution;
  hold: SerializedDistribution;
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
