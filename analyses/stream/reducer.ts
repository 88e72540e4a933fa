// The shape of every analysis: a small pure reducer over the normalized event stream.
//
// `push` sees every event once (in stream order, see order.ts); `finish` returns the section of the
// report this analysis owns. Reducers do no I/O and keep memory proportional to what they report
// (open intervals, per-key statistics), not to the number of events.
import type { EventKind, TraceEvent, SourceInfo } from '../../parsers/event.js';
import type { DataQuality } from '../../parsers/quality.js';
import { LuoCallTracker } from './luo-calls.js';
import { KIND_SLOTS, kindId, kindMask } from './kinds.js';

export interface Reducer<R> {
  push(ev: TraceEvent): void;
  finish(ctx: FinishContext): R;
}

/** What is known once all inputs were read. */
export interface FinishContext {
  sources: SourceInfo[];
  quality: DataQuality;
  /**
   * The input goes on (a live stream's report so far, TUI --follow): what is still open stays open
   * for the events to come, and the report says what it leaves out.
   */
  snapshot?: boolean;
}

/** Anything fed the ordered stream: a reducer, an observer. */
export interface StreamReader {
  /** `kind`: the event's kind number (kinds.ts kindId), looked up once for every reader. */
  push(ev: TraceEvent, kind: number): unknown;
  /** The kinds it reads: it is given no other event. Absent: every event (an observer, the lock analysis). */
  readonly kinds?: readonly EventKind[];
}

/**
 * Feed the ordered stream to readers that read one another's state, in one declared order: the call
 * tracker first (the LUO and lock reducers ask it, at this event, which LUO call a task is in), then
 * each reader in the order given, every one seeing the event after those before it. The kind is
 * looked up once per event, and each reader gets only the kinds it declared (issue 17).
 */
export function feedInOrder(calls: LuoCallTracker, readers: readonly StreamReader[]): (ev: TraceEvent) => void {
  const tracks = kindMask(LuoCallTracker.kinds);
  // Every other event is no call edge: the tracker's answer for it is known without asking it.
  const track = (ev: TraceEvent, k: number) => {
    if (tracks[k] === 1) calls.push(ev, k);
    else calls.noEdge();
  };
  const masks = readers.map((r) => (r.kinds ? kindMask(r.kinds) : new Uint8Array(KIND_SLOTS).fill(1)));
  // One closure per reader count, each call site calling one reader (monomorphic in V8): the loop
  // over a list of mixed readers ran for every event (issue 17).
  const [a, b, c] = readers;
  const [ma, mb, mc] = masks;
  switch (readers.length) {
    case 0:
      return (ev) => track(ev, kindId(ev.kind));
    case 1:
      return (ev) => {
        const k = kindId(ev.kind);
        track(ev, k);
        if (ma[k] === 1) a.push(ev, k);
      };
    case 2:
      return (ev) => {
        const k = kindId(ev.kind);
        track(ev, k);
        if (ma[k] === 1) a.push(ev, k);
        if (mb[k] === 1) b.push(ev, k);
      };
    case 3:
      return (ev) => {
        const k = kindId(ev.kind);
        track(ev, k);
        if (ma[k] === 1) a.push(ev, k);
        if (mb[k] === 1) b.push(ev, k);
        if (mc[k] === 1) c.push(ev, k);
      };
    default: {
      const list = [...readers];
      return (ev) => {
        const k = kindId(ev.kind);
        track(ev, k);
        for (let i = 0; i < list.length; i++) if (masks[i][k] === 1) list[i].push(ev, k);
      };
    }
  }
}
