// Lock analyses (issue #4): what `perf lock`, klockstat and /proc/lock_stat measure, from recorded
// traces and without needing lockdep, tied to LUO sessions and phases.
//
// Pipeline: interval-tracker.ts pairs the events into holds and waits (identity, O7 mutex
// re-begins, lost-event gaps, trace edges); this reducer folds them into statistics per lock x
// mode (`rwsem:R`, `rwsem:W`, `mutex`...), per caller, per session and per LUO phase; keeps the
// slowest waits with who held the lock (owner attribution) and, per session, the slowest LUO
// phases with the waits inside them (the stall view). Statistics are kept per lockdep class (or
// per lock instance while unnamed) and merged into rows at the end, so that names learned late (a
// hashed pointer named by a later event, a file_set bound to a session by a later RETRIEVE) still
// land in the right row. Memory grows with the number of locks, not of events or sessions:
// per-session figures are counts and sums, kept for the first 1000 sessions; the stall view keeps
// the slowest sessions only. Sessions are derived here (stream/task-session.ts); every finished interval
// is also handed to `onInterval` for joins with the LUO session analysis.
//
// The parts, one file each: schema.ts (the JSON contract), task-context.ts (what a task is doing:
// LUO call, phase, session, syscall), interval-tracker.ts with lock-intervals.ts, lock-aliases.ts
// and lock-tasks.ts (holds and waits from the events: the state machine, its data, lock identity,
// per-task state), statistics.ts (per-lock statistics, per-session figures, nesting), stalls.ts
// (slowest waits, per-task phases, the stall view), section.ts (the report section at the end).
// This file wires them into the reducer, and is what other rooms import.
import type { TraceEvent } from '../../parsers/event.js';
import type { SymbolTable } from '../../parsers/kallsyms.js';
import type { LuoCallTracker } from '../stream/luo-calls.js';
import type { FinishContext, Reducer } from '../stream/reducer.js';
import type { TableLimits } from '../../parsers/name-table.js';
import { LockIntervalTracker } from './interval-tracker.js';
import type { Acquisition, HoldInterval, LockInstance, WaitInterval } from './lock-intervals.js';
import type { LockFilters, LockSortKey, LocksSection } from './schema.js';
import { buildSection, HELD_AT_END_SHOWN, holdsNow, type SectionResult, untrackedNote } from './section.js';
import { LockStatistics } from './statistics.js';
import { type ScopeTest, StallView } from './stalls.js';
import { TaskContexts } from './task-context.js';

export { LOCK_SORT_KEYS, LockRowSchema, LocksSectionSchema, WaitRecordSchema } from './schema.js';
export type { LockFilters, LockRow, LockRowDistributions, LockSortKey, LocksSection, WaitRecord } from './schema.js';
export { explainWait, modeLabel, sortLockRows } from './section.js';

export interface LockOptions {
  symbols?: SymbolTable | null;
  /** Shared call tracker (fed by the analyze pipeline before this reducer sees each event). */
  calls?: LuoCallTracker;
  sort?: LockSortKey;
  filters?: LockFilters;
  /** Every finished interval, for joins with other analyses (e.g. sessions) and for tests. */
  onInterval?: (iv: { wait: WaitInterval } | { hold: HoldInterval }) => void;
  /** Caps of the lock table (tests use small ones; lock-aliases.ts LOCK_LIMITS by default). */
  limits?: TableLimits;
  /** Tasks tracked at once with a hold or a wait open (tests use a small cap; lock-tasks.ts TASKS_OPEN_MAX by default). */
  maxOpenTasks?: number;
}

/** Data-quality notes of the lock tables' bounds (issue #15), added once. */
function addBoundNotes(ctx: FinishContext, tracker: LockIntervalTracker, stats: LockStatistics): void {
  const notes = [tracker.lockBudget.note('locks'), untrackedNote(tracker.untrackedTasks)];
  if (stats.nestingFolded) notes.push(`lock nesting: more than 10000 distinct outer x inner pairs; ${stats.nestingFolded} later nestings were not counted (memory bound)`);
  const into = ctx.quality?.notes; // absent when a test finishes the reducer alone
  for (const n of notes) if (n !== null && into && !into.includes(n)) into.push(n);
}

/**
 * A report of a stream still being read closes nothing (closing would end the holds and waits open
 * now at this moment, for good: their later release would be an orphan): it says so.
 */
function snapshotNote(ctx: FinishContext, held: number, waiting: number): void {
  ctx.quality?.notes.push(
    `locks so far (the input is still being read): the figures count the holds and waits that ended; ${held} holds and ${waiting} waits open now are not in them yet (the first ${HELD_AT_END_SHOWN} holds are listed as held at the end)`,
  );
}

/** The lock reducer: `finish` gives the section, `result` also the distributions behind its rows (as data). */
export interface LockAnalysis extends Reducer<LocksSection> {
  result(ctx: FinishContext): SectionResult;
}

/** Does [start, end] (either may be unknown) overlap the --since/--until window, for a pid the filters keep? */
function scopeOf(filters: LockFilters): ScopeTest {
  const pidFilter = filters.pids && filters.pids.length ? new Set(filters.pids) : null;
  const since = filters.since ?? null;
  const until = filters.until ?? null;
  return (pid, start, end) => {
    if (pidFilter !== null && (pid === null || !pidFilter.has(pid))) return false;
    if (since === null && until === null) return true;
    const a = start ?? end;
    const b = end ?? start;
    if (a === null || b === null) return false;
    return (until === null || a <= until) && (since === null || b >= since);
  };
}

export function createLockAnalysis(opts: LockOptions = {}): LockAnalysis {
  const calls = opts.calls ?? null;
  const filters = opts.filters ?? {};
  const inScope = scopeOf(filters);
  const contexts = new TaskContexts(calls);
  const stats = new LockStatistics(filters.session ?? null);
  const stalls = new StallView(calls, contexts, inScope);
  const tracker = new LockIntervalTracker(
    {
      wait(iv: WaitInterval): void {
        opts.onInterval?.({ wait: iv });
        if (!inScope(iv.pid, iv.begin, iv.end)) return;
        const d = stats.addWait(iv);
        if (d >= 0) stalls.addWait(iv, d);
      },
      hold(iv: HoldInterval): void {
        opts.onInterval?.({ hold: iv });
        if (inScope(iv.pid, iv.start, iv.end)) stats.addHold(iv);
      },
      // The statistics keep nothing of a hold, the stall view copies the waits it keeps; a listener may keep them.
      holdsOnce: opts.onInterval === undefined,
      waitsOnce: opts.onInterval === undefined,
    },
    contexts.context,
    opts.limits,
    (addr) => opts.symbols?.describe(addr, 0x1000) ?? null,
    opts.maxOpenTasks,
  );

  /** What was held when the input ended (the first final report closed it: a report taken again lists the same). */
  let heldAtInputEnd: Array<{ a: Acquisition; inst: LockInstance }> | null = null;
  const finish = (ctx: FinishContext, withDistributions: boolean): SectionResult => {
    const tickSources: string[] = [];
    for (const [i, s] of ctx.sources.entries()) if (s.timeUnit === 'tick') tickSources.push(s.file ?? String(i));
    const heldAtEnd = heldAtInputEnd ?? tracker.openNow.openHolds().map((a) => ({ a, inst: a.inst.root() }));
    if (ctx.snapshot) snapshotNote(ctx, heldAtEnd.filter(({ a }) => holdsNow(a)).length, tracker.openNow.openWaits());
    else {
      // The end of the input: what is still open ended with the trace (incomplete, openAtEnd).
      heldAtInputEnd = heldAtEnd;
      tracker.finish();
      stalls.finish();
    }
    addBoundNotes(ctx, tracker, stats);
    return buildSection({
      stats,
      stalls,
      tracker,
      sessions: contexts.sessions,
      heldAtEnd,
      symbols: opts.symbols ?? null,
      sort: opts.sort ?? 'wait_total',
      filters,
      tickSources,
      withDistributions,
    });
  };

  return {
    push(ev: TraceEvent): void {
      // Lock tracepoints first, with one switch on the kind: they change no task context or phase.
      if (tracker.pushLock(ev)) return;
      // Whether the event can change its task's context (what the tracker asks when an interval opens).
      let ownContext = contexts.push(ev);
      switch (ev.kind) {
        case 'kprobe':
        case 'fentry':
        case 'bpftrace':
        case 'kretprobe':
        case 'fexit':
        case 'funcgraph_entry':
        case 'funcgraph_exit':
        case 'funcgraph_leaf':
          // A task's open calls change only with a call edge of its own (LuoCallTracker.push, fed
          // this event first): without one, its outermost call is the one trackPhase saw last.
          if (calls !== null && calls.lastEdge !== null) {
            stalls.trackPhase(ev);
            ownContext = true;
          }
          break;
        default:
          break;
      }
      tracker.pushNonLock(ev, ownContext);
    },
    finish: (ctx) => finish(ctx, false).section,
    result: (ctx) => finish(ctx, true),
  };
}
