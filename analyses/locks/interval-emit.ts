// How the lock tracker (interval-tracker.ts) hands its finished intervals to the sink: what makes an
// interval incomplete is decided here, once for every path that closes one (a release, a wait's
// end, a lost end, the end of the trace), and the interval is written into one scratch object for a
// sink that reads it during the call only (IntervalSink.holdsOnce / waitsOnce: the statistics), or
// into a new one for a sink that keeps it (the Chrome export's timeline, tests).
import {
  type Acquisition,
  EV_LOCKDEP,
  EV_PROBE,
  fillHold,
  type HoldInterval,
  type IncompleteReason,
  type IntervalSink,
  LockInstance,
  newHold,
  newWait,
  type TaskContext,
  type TaskState,
  type WaitEpisode,
  type WaitInterval,
} from './lock-intervals.js';

export class IntervalEmitter {
  /** The one HoldInterval (and its `outer`) handed to a sink that reads holds during the call only. */
  private readonly scratchHold: HoldInterval = newHold(new LockInstance(-1, -1));
  private readonly scratchOuter: { lock: LockInstance; shared: boolean } = { lock: this.scratchHold.lock, shared: false };
  /** The one WaitInterval handed to a sink that reads waits during the call only. */
  private readonly scratchWait: WaitInterval = newWait(this.scratchHold.lock);

  constructor(private readonly sink: IntervalSink) {}

  /** A hold written into the sink's object (fillHold: what every hold says; hold() adds an acquisition's own facts). */
  private holdOf(lock: LockInstance, shared: boolean | null, t: TaskState, start: number | null, end: number | null, incomplete: IncompleteReason | null, ctx: TaskContext, line: number): HoldInterval {
    const h = this.sink.holdsOnce ? this.scratchHold : newHold(this.scratchHold.lock);
    return fillHold(h, lock, shared, t, start, end, incomplete, ctx, line);
  }

  /** A release whose acquisition is before the trace. */
  orphanHold(t: TaskState, inst: LockInstance, shared: boolean | null, time: number, ctx: TaskContext, line: number): void {
    this.sink.hold(this.holdOf(inst, shared, t, null, time, 'trace-start', ctx, line));
  }

  wait(w: WaitEpisode, inst: LockInstance, line: number, wokenBy: WaitInterval['wokenBy']): void {
    const a = w.acq;
    let incomplete: IncompleteReason | null = w.gapCrossed ? 'lost-events' : w.end === null ? 'trace-end' : w.truncated ? 'trace-start' : null;
    if (incomplete === null && (w.end as number) < w.begin) incomplete = 'out-of-order';
    const iv = this.sink.waitsOnce ? this.scratchWait : newWait(inst);
    iv.lock = inst;
    iv.shared = a.shared;
    iv.src = a.task.src;
    iv.pid = a.task.pid;
    iv.comm = a.task.comm;
    iv.begin = w.begin;
    iv.end = w.end;
    iv.incomplete = incomplete;
    iv.ret = w.ret;
    iv.begins = w.begins;
    iv.slept = w.slept;
    iv.ctx = w.ctx;
    iv.caller = a.caller;
    iv.owners = w.owners;
    iv.ownersTotal = w.ownersTotal;
    iv.acquiring = w.acquiring;
    iv.wokenBy = wokenBy;
    iv.bound = (a.via & (EV_PROBE | EV_LOCKDEP)) !== 0;
    iv.line = line;
    this.sink.wait(iv);
  }

  hold(a: Acquisition, line: number): void {
    const start = a.acquired;
    const end = a.released;
    let incomplete: IncompleteReason | null = null;
    if (!a.failed && !a.unobservable) {
      if (a.gapCrossed) incomplete = 'lost-events';
      else if (end === null) incomplete = 'trace-end';
      else if (start === null || a.modeUnknown) incomplete = 'trace-start';
      else if (end < start) incomplete = 'out-of-order';
    }
    const h = this.holdOf(a.inst.root(), a.shared, a.task, start, end, incomplete, a.ctx, line);
    h.unobservable = a.unobservable;
    h.contended = a.wait !== null;
    h.failed = a.failed;
    h.trylock = a.trylock;
    h.trylockFailed = a.trylockFailed;
    h.caller = a.caller;
    h.depth = a.depth;
    if (a.outer !== null) {
      const o = this.sink.holdsOnce ? this.scratchOuter : { lock: a.outer.inst, shared: false };
      o.lock = a.outer.inst.root();
      o.shared = a.outer.shared;
      h.outer = o;
    }
    this.sink.hold(h);
    // Closed: only open (held) acquisitions become another's outer (nest), and this one's own outer
    // is never read again. Unlinked, so that what stays reachable is what is open: a task that never
    // drops to zero holds (its releases lost) otherwise chained every acquisition it ever made.
    a.outer = null;
  }
}
