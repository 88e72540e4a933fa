// The tasks of the interval tracker, per source: what each holds, waits for and is in the middle
// of, and the lost-event gaps that make a task's open intervals incomplete.
import type { TraceEvent } from '../../parsers/event.js';
import type { Acquisition, TaskState } from './lock-intervals.js';

/**
 * Tasks kept before idle ones are dropped (a trace can name any number of pids: a long one sees
 * every process started meanwhile). An idle task still keeps its arrays and last acquisition, about
 * 0.6 KB: 1024 of them are ~0.6 MB, where 65 536 were ~40 MB; a capture's busy tasks are far fewer.
 */
const TASKS_BEFORE_SWEEP = 1024;
/** Slots of the recent-task cache (a power of two). */
const RECENT_TASKS = 64;

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
  /**
   * The tasks seen last, by pid (their table key) modulo RECENT_TASKS: a trace's busy tasks are
   * few, so most events find theirs here, without a map lookup.
   */
  private readonly recent: Array<TaskState | null> = new Array<TaskState | null>(RECENT_TASKS).fill(null);
  private readonly recentKeys: number[] = new Array<number>(RECENT_TASKS).fill(0);
  /** The tasks of the previous lookup's source (most traces have one source): no map lookup for it. */
  private lastSrc = 0;
  private lastSrcTasks: Map<number, TaskState> | null = null;

  /** sweepFrom: tasks kept before idle ones are dropped (tests use a small one). */
  constructor(private readonly sweepFrom = TASKS_BEFORE_SWEEP) {
    this.sweepAt = sweepFrom;
  }

  /** Tasks in the table now. */
  get count(): number {
    return this.size;
  }

  /** The task of an event, created on first sight; marks its open intervals when events were lost since its last one. */
  task(ev: TraceEvent): TaskState {
    // Every CPU's idle task is pid 0 (`<idle>-0`): one task per CPU.
    const pid = ev.pid === 0 ? -1 - (ev.cpu ?? 0) : (ev.pid ?? -1);
    const slot = pid & (RECENT_TASKS - 1);
    const hit = this.recent[slot];
    const t = hit !== null && this.recentKeys[slot] === pid && hit.src === ev.src ? hit : this.lookup(ev, pid);
    if (t.lastGapSeq !== this.gapSeq) {
      // Events were lost somewhere since this task's previous event: if on the CPU it was on or is
      // on now (or on an unknown CPU), whatever it did in between may be missing.
      const g = this.newestGap.get(ev.src);
      const since = t.lastGapSeq;
      if (g !== undefined && ((g.get(null) ?? 0) > since || (g.get(t.cpu) ?? 0) > since || (g.get(ev.cpu) ?? 0) > since)) this.markGap(t);
      t.lastGapSeq = this.gapSeq;
    }
    if (ev.comm !== null) t.comm = ev.comm;
    if (ev.cpu !== null) t.cpu = ev.cpu;
    return t;
  }

  /** The task in the table (made when new); it becomes `last` unless a sweep dropped it right away. */
  private lookup(ev: TraceEvent, pid: number): TaskState {
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
    };
    bySrc.set(pid, t);
    this.recent[slot] = t;
    this.recentKeys[slot] = pid;
    if (++this.size >= this.sweepAt) this.sweep();
    return t;
  }

  /**
   * Drop the tasks that hold, wait for and are in the middle of nothing: such a task is made again,
   * the same, by its next event (its comm and CPU come with every event; no gap can matter to it).
   * The next sweep comes when the table has doubled, so the cost stays linear in the events.
   */
  private sweep(): void {
    for (const bySrc of this.tasks.values()) {
      for (const [pid, t] of bySrc) {
        if (t.held.length === 0 && t.waits.length === 0 && t.fresh === null && t.pendingCall === null && t.pendingUnlock === null) {
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

  /** A lost-events marker: every task on that CPU (or on any, when unknown) may have missed events. */
  lost(ev: TraceEvent): void {
    this.gapSeq++;
    let newest = this.newestGap.get(ev.src);
    if (newest === undefined) this.newestGap.set(ev.src, (newest = new Map()));
    newest.set(ev.cpu, this.gapSeq);
    const bySrc = this.tasks.get(ev.src);
    if (!bySrc) return;
    for (const t of bySrc.values()) {
      if (ev.cpu === null || t.cpu === ev.cpu) {
        this.markGap(t);
        t.lastGapSeq = this.gapSeq;
      }
    }
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
