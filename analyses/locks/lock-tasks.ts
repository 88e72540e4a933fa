// The tasks of the interval tracker, per source: what each holds, waits for and is in the middle
// of, and the lost-event gaps that make a task's open intervals incomplete.
import type { TraceEvent } from '../../parsers/event.js';
import { FoldTally } from '../../parsers/name-table.js';
import { taskKey } from '../stream/task-key.js';
import type { Acquisition, TaskState } from './lock-intervals.js';

/**
 * Tasks kept before idle ones are dropped (a trace can name any number of pids: a long one sees
 * every process started meanwhile). An idle task still keeps its arrays and last acquisition, about
 * 0.6 KB: 1024 of them are ~0.6 MB, where 65 536 were ~40 MB; a capture's busy tasks are far fewer.
 */
const TASKS_BEFORE_SWEEP = 1024;
/** Slots of the recent-task cache (a power of two). */
const RECENT_TASKS = 64;
/**
 * Tasks tracked at once with something open (a hold, a wait, an acquisition between its events).
 * 2^15 is PID_MAX_DEFAULT (0x8000, include/linux/threads.h): the pid_max of a machine of up to 32
 * CPUs (kernel/pid.c raises it to 1024 per possible CPU), so every task such a machine can have at
 * once; far more than a real trace has inside lock code at one moment (PID_MAX_LIMIT, the ceiling
 * of pid_max, is 4·1024·1024: a bound on tasks is no bound on memory). At ~0.5 KB each (a task, its
 * acquisition and wait) they take ~16 MB; 10^6 tasks each left waiting once took 1 GB.
 */
export const TASKS_OPEN_MAX = 1 << 15;

/** Does the task hold, wait for or stand in the middle of anything (what the table must keep)? */
const isBusy = (t: TaskState): boolean => t.held.length !== 0 || t.waits.length !== 0 || t.fresh !== null || t.pendingCall !== null || t.pendingUnlock !== null;

export class TaskTable {
  private readonly tasks = new Map<number, Map<number, TaskState>>();
  private gapSeq = 0;
  /**
   * Per source, the number of the newest lost-events gap on each CPU (null: a marker that names no
   * CPU): all task() needs to know whether one came since a task's last event, in memory that does
   * not grow with the markers (a lossy bpftrace capture prints one every few lines).
   */
  private readonly newestGap = new Map<number, Map<number | null, number>>();
  private size = 0;
  private sweepAt: number;
  /** Tasks with something open (TaskState.busy), as of their last event (settle). */
  private open = 0;
  /** The lock events of the tasks not tracked while `maxOpen` tasks had something open: events exact, tasks estimated. */
  readonly untracked = new FoldTally();
  /**
   * The tasks seen last, by pid (their table key) modulo RECENT_TASKS: a trace's busy tasks are
   * few, so most events find theirs here, without a map lookup.
   */
  private readonly recent: Array<TaskState | null> = new Array<TaskState | null>(RECENT_TASKS).fill(null);
  private readonly recentKeys: number[] = new Array<number>(RECENT_TASKS).fill(0);
  /** The tasks of the previous lookup's source (most traces have one source): no map lookup for it. */
  private lastSrc = 0;
  private lastSrcTasks: Map<number, TaskState> | null = null;

  /**
   * sweepFrom: tasks kept before idle ones are dropped; maxOpen: tasks tracked with something open
   * (tests use small ones).
   */
  constructor(
    private readonly sweepFrom = TASKS_BEFORE_SWEEP,
    readonly maxOpen = TASKS_OPEN_MAX,
  ) {
    this.sweepAt = sweepFrom;
  }

  /** Tasks in the table now. */
  get count(): number {
    return this.size;
  }

  /**
   * The task of an event, created on first sight; marks its open intervals when events were lost
   * since its last one. Null while `maxOpen` tasks have something open and this one has nothing:
   * its events are not tracked (the caller counts those that are lock events: `untrack`).
   */
  task(ev: TraceEvent): TaskState | null {
    // Every CPU's idle task is pid 0 (`<idle>-0`): one task per CPU.
    const pid = ev.pid === 0 ? -1 - (ev.cpu ?? 0) : (ev.pid ?? -1);
    const slot = pid & (RECENT_TASKS - 1);
    const hit = this.recent[slot];
    const t = hit !== null && this.recentKeys[slot] === pid && hit.src === ev.src ? hit : this.lookup(ev, pid);
    if (t === null) return null;
    if (this.open >= this.maxOpen && !t.busy) {
      // Idle, so dropped (its next event makes it again, the same): nothing of it is kept while untracked.
      this.drop(t, pid);
      return null;
    }
    if (t.lastGapSeq !== this.gapSeq) this.catchUp(t, ev.cpu);
    if (ev.comm !== null) t.comm = ev.comm;
    if (ev.cpu !== null) t.cpu = ev.cpu;
    return t;
  }

  /**
   * Count a lock event of a task `task` answered null for: not tracked. What it would have paired
   * with is missing (the holds and waits of such tasks are not in the figures): the report says so.
   */
  untrack(ev: TraceEvent): void {
    this.untracked.add(taskKey(ev.src, ev.pid));
  }

  /**
   * Events were lost somewhere since the task's previous event: if on the CPU it was on or is on now
   * (`cpu`; or on an unknown CPU), whatever it did in between may be missing, and its open intervals
   * are marked. Asked at its next event and at the end of the trace, never by the marker itself:
   * a marker costs no walk over the tasks (a lossy capture prints one every few lines).
   */
  catchUp(t: TaskState, cpu: number | null = t.cpu): void {
    if (t.lastGapSeq === this.gapSeq) return;
    const g = this.newestGap.get(t.src);
    const since = t.lastGapSeq;
    if (g !== undefined && ((g.get(null) ?? 0) > since || (g.get(t.cpu) ?? 0) > since || (g.get(cpu) ?? 0) > since)) {
      this.markGap(t);
      this.settle(t);
    }
    t.lastGapSeq = this.gapSeq;
  }

  /** After an event of the task: is it busy now (the table counts the busy ones)? */
  settle(t: TaskState): void {
    const busy = isBusy(t);
    if (busy === t.busy) return;
    t.busy = busy;
    this.open += busy ? 1 : -1;
  }

  /** Tasks with something open now. */
  get openTasks(): number {
    return this.open;
  }

  /** The task in the table, or a new one (null when `maxOpen` tasks have something open); it becomes `recent`. */
  private lookup(ev: TraceEvent, pid: number): TaskState | null {
    let bySrc = this.lastSrcTasks !== null && this.lastSrc === ev.src ? this.lastSrcTasks : this.tasks.get(ev.src);
    if (!bySrc) this.tasks.set(ev.src, (bySrc = new Map()));
    this.lastSrc = ev.src;
    this.lastSrcTasks = bySrc;
    let t = bySrc.get(pid);
    const slot = pid & (RECENT_TASKS - 1);
    if (t) {
      this.recent[slot] = t;
      this.recentKeys[slot] = pid;
      return t;
    }
    if (this.open >= this.maxOpen) return null;
    // Swept before the new task is in: a sweep would drop it (idle) while its event opens something.
    if (this.size + 1 >= this.sweepAt) this.sweep();
    t = {
      src: ev.src,
      pid: ev.pid,
      comm: ev.comm,
      cpu: ev.cpu,
      held: [],
      waits: [],
      fresh: null,
      pendingCall: null,
      pendingUnlock: null,
      lastOpened: null,
      lastGapSeq: this.gapSeq,
      ctx: null,
      ctxEpoch: -1,
      ctxDirty: true,
      busy: false,
    };
    bySrc.set(pid, t);
    this.size++;
    this.recent[slot] = t;
    this.recentKeys[slot] = pid;
    return t;
  }

  /** Take an idle task out of the table (and of the recent cache). */
  private drop(t: TaskState, pid: number): void {
    this.tasks.get(t.src)?.delete(pid);
    this.size--;
    const slot = pid & (RECENT_TASKS - 1);
    if (this.recent[slot] === t) this.recent[slot] = null;
  }

  /**
   * Drop the tasks that hold, wait for and are in the middle of nothing: such a task is made again,
   * the same, by its next event (its comm and CPU come with every event; no gap can matter to it).
   * The next sweep comes when the table has doubled, so the cost stays linear in the events.
   */
  private sweep(): void {
    for (const bySrc of this.tasks.values()) {
      for (const [pid, t] of bySrc) {
        this.settle(t);
        if (!t.busy) {
          bySrc.delete(pid);
          this.size--;
        }
      }
    }
    this.sweepAt = Math.max(this.sweepFrom, this.size * 2);
    this.recent.fill(null); // they may have been dropped (a task's next event makes it again)
  }

  private markGap(t: TaskState): void {
    for (const a of t.held) a.gapCrossed = true;
    for (const w of t.waits) {
      w.gapCrossed = true;
      w.acq.gapCrossed = true;
    }
    t.fresh = null;
    t.pendingCall = null;
    t.pendingUnlock = null;
  }

  /** A lost-events marker: every task on that CPU (or on any, when unknown) may have missed events (catchUp marks them). */
  lost(ev: TraceEvent): void {
    this.gapSeq++;
    let newest = this.newestGap.get(ev.src);
    if (newest === undefined) this.newestGap.set(ev.src, (newest = new Map()));
    newest.set(ev.cpu, this.gapSeq);
  }

  /** Every task, every source. */
  *all(): IterableIterator<TaskState> {
    for (const bySrc of this.tasks.values()) yield* bySrc.values();
  }

  /** Waits still open right now (a snapshot report leaves them open). */
  openWaits(): number {
    let n = 0;
    for (const t of this.all()) n += t.waits.length;
    return n;
  }

  /** Acquisitions still held right now (for "held at end of trace" before the tracker's finish()). */
  openHolds(): Acquisition[] {
    const out: Acquisition[] = [];
    for (const t of this.all()) for (const a of t.held) out.push(a);
    return out;
  }
}
