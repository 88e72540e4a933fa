// The shape of every analysis: a small pure reducer over the normalized event stream.
//
// `push` sees every event once (in stream order, see order.ts); `finish` returns the section of the
// report this analysis owns. Reducers do no I/O and keep memory proportional to what they report
// (open intervals, per-key statistics), not to the number of events.
import type { TraceEvent, SourceInfo } from '../../parsers/event.js';
import type { DataQuality } from '../../parsers/quality.js';
import type { LuoCallTracker } from './luo-calls.js';

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

/** Anything fed the ordered stream: the call tracker, a reducer, an observer. */
export interface StreamReader {
  push(ev: TraceEvent): unknown;
}

/**
 * Feed the ordered stream to readers that read one another's state, in one declared order: the call
 * tracker first (the LUO and lock reducers ask it, at this event, which LUO call a task is in), then
 * each reader in the order given, every one seeing the event after those before it.
 */
export function feedInOrder(calls: LuoCallTracker, readers: readonly StreamReader[]): (ev: TraceEvent) => void {
  // One closure per reader count, each call site calling one reader (monomorphic in V8): the loop
  // over a list of mixed readers ran for every event (issue 17).
  const [a, b, c] = readers;
  switch (readers.length) {
    case 0:
      return (ev) => {
        calls.push(ev);
      };
    case 1:
      return (ev) => {
        calls.push(ev);
        a.push(ev);
      };
    case 2:
      return (ev) => {
        calls.push(ev);
        a.push(ev);
        b.push(ev);
      };
    case 3:
      return (ev) => {
        calls.push(ev);
        a.push(ev);
        b.push(ev);
        c.push(ev);
      };
    default: {
      const list = [...readers];
      return (ev) => {
        calls.push(ev);
        for (let i = 0; i < list.length; i++) list[i].push(ev);
      };
    }
  }
}
