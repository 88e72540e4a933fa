// The round trip of parsers/event-codec.ts used by event-codec.test.ts (fast set) and
// event-codec.slow.test.ts (the real captures of more than 10 MB of text).
import { expect } from 'vitest';
import { EventDecoder, EventEncoder } from '../../parsers/event-codec.js';
import type { TraceEvent } from '../../parsers/event.js';
import { parseFiles } from '../helpers.js';

/** Encode the events in batches of `every` records (with a control record now and then), decode them all. */
export function roundTrip(events: TraceEvent[], every: number, encoder = new EventEncoder()): { events: TraceEvent[]; controls: unknown[] } {
  const decoder = new EventDecoder();
  const out: TraceEvent[] = [];
  const controls: unknown[] = [];
  const flush = () => {
    const { batch, transfer } = encoder.take();
    // What postMessage does with the transfer list: the encoder must not touch these buffers again.
    const moved = structuredClone(batch, { transfer });
    decoder.decode(moved, (ev) => out.push(ev), (c) => controls.push(c));
  };
  events.forEach((ev, i) => {
    encoder.event(ev);
    if (i % 1000 === 0) encoder.control({ type: 'progress', at: i, done: false });
    if (encoder.records >= every) flush();
  });
  flush();
  return { events: out, controls };
}

/** Every event of a capture (a path) comes back as the same JSON text, in batches of 1, 7 and 4096. */
export async function expectCaptureRoundTrip(file: string): Promise<void> {
  const { events } = await parseFiles([file]);
  expect(events.length).toBeGreaterThan(100);
  const json = events.map((e) => JSON.stringify(e));
  for (const every of [1, 7, 4096]) {
    // A turn of the event loop between the long synchronous round trips: a vitest worker that
    // cannot read vitest's replies for 60 s fails the run with an RPC timeout (a shared, loaded box).
    await new Promise((r) => setImmediate(r));
    const back = roundTrip(events, every);
    expect(back.events.length).toBe(events.length);
    expect(back.events.map((e) => JSON.stringify(e))).toEqual(json);
    expect(back.controls).toEqual(events.filter((_, i) => i % 1000 === 0).map((_, k) => ({ type: 'progress', at: k * 1000, done: false })));
  }
}
