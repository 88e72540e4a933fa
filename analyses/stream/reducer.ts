// The shape of every analysis: a small pure reducer over the normalized event stream.
//
// `push` sees every event once (in stream order, see order.ts); `finish` returns the section of the
// report this analysis owns. Reducers do no I/O and keep memory proportional to what they report
// (open intervals, per-key statistics), not to the number of events.
import type { TraceEvent, SourceInfo } from '../../parsers/event.js';
import type { DataQuality } from '../../parsers/quality.js';

export interface Reducer<R> {
  push(ev: TraceEvent): void;
  finish(ctx: FinishContext): R;
}

/** What is known once all inputs were read. */
export interface FinishContext {
  sources: SourceInfo[];
  quality: DataQuality;
}

/** Feed one stream to several reducers. */
export function fanOut(reducers: Array<Reducer<unknown>>): (ev: TraceEvent) => void {
  if (reducers.length === 1) {
    const r = reducers[0];
    return (ev) => r.push(ev);
  }
  return (ev) => {
    for (const r of reducers) r.push(ev);
  };
}
