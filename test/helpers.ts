// Shared test helpers: paths of bundled samples, reading events from strings and files.
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { InputFormat, TraceEvent } from '../parsers/event.js';
import { readTraces, type ReadResult } from '../parsers/index.js';
import { LuoAnalysis, type LuoOptions } from '../analyses/luo/luo.js';
import type { LuoSectionBody } from '../analyses/luo/schema.js';
import { LuoCallTracker } from '../analyses/stream/luo-calls.js';
import { feedInOrder } from '../analyses/stream/reducer.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const sample = (rel: string): string => `${ROOT}samples/${rel}`;

/**
 * The real captures of more than 10 MB of text (31, 24 and 11 MB; samples/real/README.md). Each read
 * costs about a second of CPU, so the sweeps over every capture check these in the slow set
 * (`*.slow.test.ts`), and the fast set reads them only where a test needs their contents.
 */
export const LARGE_CAPTURES = [
  'real/contention/stage1/ftrace-main.txt.gz',
  'real/contention-unfiltered/stage1/ftrace-main.txt.gz',
  'real/contention-no-writer/stage1/ftrace-main.txt.gz',
] as const;

/** Parse text as if it were a file given on stdin. */
export async function parseText(text: string | Buffer, format?: InputFormat): Promise<ReadResult & { events: TraceEvent[] }> {
  const events: TraceEvent[] = [];
  const stdin = Readable.from([typeof text === 'string' ? Buffer.from(text) : text]);
  const r = await readTraces(['-'], (e) => events.push(e), { stdin, format });
  return { ...r, events };
}

export async function parseFiles(files: string[], format?: InputFormat): Promise<ReadResult & { events: TraceEvent[] }> {
  const events: TraceEvent[] = [];
  const r = await readTraces(files, (e) => events.push(e), { format });
  return { ...r, events };
}

/** The LUO section of `read` under each of `options` (caps the tests set small), all fed from one stream. */
export function luoSections(read: ReadResult & { events: TraceEvent[] }, options: Array<Omit<LuoOptions, 'calls'>>): LuoSectionBody[] {
  const calls = new LuoCallTracker();
  const luos = options.map((o) => new LuoAnalysis({ ...o, calls }));
  const feed = feedInOrder(calls, luos);
  for (const ev of read.events) feed(ev);
  return luos.map((l) => l.finish({ sources: read.sources, quality: { ...read.quality, notes: [...read.quality.notes] } }));
}

/** Only real events (not the `lost` gap markers). */
export const realEvents = (evs: TraceEvent[]): TraceEvent[] => evs.filter((e) => e.kind !== 'lost');

/** mulberry32: a small seeded PRNG for property tests, so a failure can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
