// The comparison behind ftrace-bytes.test.ts (fast set) and ftrace-bytes.slow.test.ts (the
// 100 000-line contention capture): each input is read twice, once with the byte path offered and
// cut into chunks at arbitrary places, once with the string path alone; events, the data-quality
// ledger and the clock must be equal.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { SourceClock } from '../../parsers/clock.js';
import type { TraceEvent } from '../../parsers/event.js';
import { FtraceParser } from '../../parsers/ftrace.js';
import { LineSplitter } from '../../parsers/input.js';
import { ParserEnv } from '../../parsers/parser.js';
import { QualityLedger } from '../../parsers/quality.js';
import { sample, seededRandom } from '../helpers.js';

function read(text: Buffer, fast: boolean, seed = 1): { events: TraceEvent[]; quality: unknown; timeBase: string; offered: number; taken: number } {
  const ledger = new QualityLedger();
  const events: TraceEvent[] = [];
  const clock = new SourceClock();
  const env = new ParserEnv(0, 'trace', ledger, clock, (e) => events.push(e));
  const parser = new FtraceParser(env, 'events');
  let offered = 0;
  let taken = 0;
  const onBytes = (buf: Buffer, start: number, end: number, lineNo: number): boolean => {
    offered++;
    const ok = parser.bytes(buf, start, end, lineNo);
    if (ok) taken++;
    return ok;
  };
  const splitter = new LineSplitter((t, n, u) => parser.line(t, n, u), ledger, 'trace', fast ? onBytes : undefined);
  if (fast) {
    // Chunks of random sizes, so lines are cut across pushes (the carried partial line).
    const rnd = seededRandom(seed);
    for (let at = 0; at < text.length; ) {
      const n = 1 + Math.floor(rnd() * 9000);
      splitter.push(text.subarray(at, at + n));
      at += n;
    }
  } else splitter.push(text);
  splitter.end();
  parser.finish();
  return { events, quality: ledger.snapshot(), timeBase: clock.timeBase, offered, taken };
}

export function sameBothWays(text: Buffer, seed = 1): { offered: number; taken: number; events: number } {
  const slow = read(text, false);
  const fast = read(text, true, seed);
  expect(fast.events).toEqual(slow.events);
  expect(fast.quality).toEqual(slow.quality);
  expect(fast.timeBase).toBe(slow.timeBase);
  return { offered: fast.offered, taken: fast.taken, events: fast.events.length };
}

export const gz = (rel: string): Buffer => {
  const raw = readFileSync(sample(rel));
  return raw[0] === 0x1f ? gunzipSync(raw) : raw;
};

/** A sample read both ways gives the same; a plain ftrace capture takes the fast path for nearly every line. */
export function expectSameBothWays(rel: string): void {
  const r = sameBothWays(gz(rel));
  expect(r.events).toBeGreaterThan(0);
  // The plain ftrace captures, with or without the `(tgid)` column, and trace-cmd's single-file
  // reports: nearly every line takes the fast path.
  if (/\/(ftrace-main|ftrace-tgid|trace-cmd-report)[.a-z]*\.txt\.gz$/.test(rel)) expect(r.taken / r.offered).toBeGreaterThan(0.98);
}
