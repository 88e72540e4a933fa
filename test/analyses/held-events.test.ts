// The reorder buffer keeps held events in columns (analyses/stream/held-events.ts CompactEvents) and
// rebuilds them on the way out. It must give back the same events (every key, in the same order,
// with the same values), in the same order, with the same late counts, as holding the objects
// themselves (PlainEvents): on the real bpftrace captures, and on a synthetic stream with ties, printk,
// events without a time and values the columns cannot hold.
import { describe, expect, it } from 'vitest';
import { CompactEvents, PAGE_SLOTS, PlainEvents, type HeldEvents } from '../../analyses/stream/held-events.js';
import { ReorderBuffer } from '../../analyses/stream/order.js';
import type { TraceEvent } from '../../parsers/event.js';
import { parseFiles, sample } from '../helpers.js';

interface Run {
  /** JSON of each event as it came out: key order and values. */
  out: string[];
  late: number;
  maxLag: number;
}

/** Feed `events` through a buffer; a window per source (0 for the second one exercises pass-through). */
function run(events: TraceEvent[], held: HeldEvents, windowNs: number, maxHeld: number): Run {
  const out: string[] = [];
  const buf = new ReorderBuffer((e) => out.push(JSON.stringify(e)), windowNs, maxHeld, held);
  for (const e of events) buf.push(e);
  buf.flush();
  return { out, late: buf.lateEvents, maxLag: buf.maxLagNs };
}

/** Both stores agree, and nothing was lost or duplicated. */
function same(events: TraceEvent[], windowNs: number, maxHeld: number): Run {
  const plain = run(events, new PlainEvents(), windowNs, maxHeld);
  const compact = run(events, new CompactEvents(), windowNs, maxHeld);
  expect(compact.out.length).toBe(events.length);
  expect(compact).toEqual(plain);
  expect([...compact.out].sort()).toEqual(events.map((e) => JSON.stringify(e)).sort());
  return compact;
}

describe('compact held events: the same stream as held objects', () => {
  const captures = ['lifecycle/stage1', 'abort/stage1', 'contention-no-writer/stage1']
    .flatMap((s) => [`real/${s}/bpftrace-events.txt.gz`, `real/${s}/bpftrace-events.json.gz`])
    .concat('real/lossy-bpftrace/stage1/bpftrace-events.txt.gz');
  for (const capture of captures) {
    it(`${capture}: sorted whole, in a 1 ms window, and with 100 held at most`, async () => {
      const { events } = await parseFiles([sample(capture)]);
      const ordered = events.filter((e) => e.kind !== 'bpftrace_map');
      expect(ordered.length).toBeGreaterThan(500);
      const whole = same(ordered, Number.POSITIVE_INFINITY, 1_000_000);
      expect(whole.late).toBe(0);
      same(ordered, 1_000_000, 1_000_000);
      const capped = same(ordered, Number.POSITIVE_INFINITY, 100);
      // The buffer gathers and sorts once when the window is infinite, and becomes a heap past its
      // cap: both give the order the definition gives.
      expect(whole.out).toEqual(byDefinition(ordered, 1_000_000).out);
      expect(capped).toEqual(byDefinition(ordered, 100));
      if (capture.includes('contention')) {
        // This capture lags by seconds (per-CPU buffers drained in turn): the buffer reorders it,
        // and 100 held events are too few.
        expect(whole.out).not.toEqual(ordered.map((e) => JSON.stringify(e)));
        expect(capped.late).toBeGreaterThan(0);
      }
    });
  }

  it('synthetic (shuffled, with ties, printk, no time, boots, a second source, odd values): same stream, and the order a stable sort gives', () => {
    const events = syntheticStream(3 * PAGE_SLOTS);
    same(events, Number.POSITIVE_INFINITY, 1_000_000);
    same(events, 5_000, 1_000_000);
    same(events, 0, 1_000_000);
    expect(same(events, Number.POSITIVE_INFINITY, 100)).toEqual(byDefinition(events, 100));
    // Infinite window: each run between a source change or a boot comes out stably sorted by its key
    // (an event without a time takes the time before it).
    const expected: string[] = [];
    let segment: { key: number; i: number; e: TraceEvent }[] = [];
    const close = () => {
      segment.sort((a, b) => a.key - b.key || a.i - b.i);
      expected.push(...segment.map((s) => JSON.stringify(s.e)));
      segment = [];
    };
    let lastKey = -Infinity;
    events.forEach((e, i) => {
      if (i > 0 && (e.src !== events[i - 1].src || e.kind === 'boot')) {
        close();
        lastKey = -Infinity;
      }
      if (e.time !== null) lastKey = e.time;
      segment.push({ key: lastKey, i, e });
    });
    close();
    expect(run(events, new CompactEvents(), Number.POSITIVE_INFINITY, 1_000_000).out).toEqual(expected);
  });
});

/**
 * The re-ordering with an infinite window, written from its definition with no heap and no
 * gathering (ReorderBuffer): events wait in arrival order; the least by (key, arrival) is passed on
 * when more than `maxHeld` wait or its key is -Infinity (no time yet), all of them at a new source or
 * time axis and at the end; an event that sorts before the last one passed on goes out at once, late
 * (printk lines are never counted late).
 */
function byDefinition(events: TraceEvent[], maxHeld: number): Run {
  const out: string[] = [];
  let waiting: { key: number; seq: number; e: TraceEvent }[] = [];
  let last = null as { key: number; seq: number } | null;
  let late = 0;
  let maxLag = 0;
  let src = -1;
  let lastKey = -Infinity;
  let seq = 0;
  const less = (a: { key: number; seq: number }, b: { key: number; seq: number }) => a.key < b.key || (a.key === b.key && a.seq < b.seq);
  const passLeast = () => {
    let m = 0;
    for (let i = 1; i < waiting.length; i++) if (less(waiting[i], waiting[m])) m = i;
    const [w] = waiting.splice(m, 1);
    last = w;
    out.push(JSON.stringify(w.e));
  };
  const passAll = () => {
    while (waiting.length > 0) passLeast();
    last = null;
  };
  for (const e of events) {
    if (e.src !== src || e.kind === 'boot' || (e.kind === 'lost' && e.fields.marker === 'clock-reset')) {
      passAll();
      src = e.src;
      lastKey = -Infinity;
    }
    const key = e.time ?? lastKey;
    if (e.time !== null) lastKey = e.time;
    const w = { key, seq: seq++, e };
    if (last !== null && less(w, last)) {
      if (e.kind !== 'printk') {
        late++;
        maxLag = Math.max(maxLag, last.key - key);
      }
      out.push(JSON.stringify(e));
      continue;
    }
    waiting.push(w);
    while (waiting.length > 0 && (waiting.length > maxHeld || waiting.some((x) => x.key === -Infinity))) passLeast();
  }
  passAll();
  waiting = [];
  return { out, late, maxLag };
}

/** Synthetic: events on 4 CPUs drained in turn (out of order), times from a small set (ties). */
function syntheticStream(n: number): TraceEvent[] {
  let seed = 17;
  const rnd = (k: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % k;
  };
  const comms = ['bash', 'luo-test', null, 'kworker/0:1'];
  const events: TraceEvent[] = [];
  for (let i = 0; i < n; i++) {
    const src = i < n - 200 ? 0 : 1;
    const r = rnd(20);
    const time = r === 0 ? null : 1_000_000 + rnd(400) * 1000;
    const common = { time, cpu: rnd(4), pid: 100 + rnd(5), tgid: r === 2 ? 100 : null, comm: comms[rnd(4)], src, line: i + 1 };
    if (r === 3) events.push({ kind: 'printk', name: 'printk', ...common, fields: { text: `msg ${i}` } } as TraceEvent);
    else if (i === n >> 1) events.push({ kind: 'boot', name: 'boot', ...common, fields: { text: 'Linux version 6.12' } } as TraceEvent);
    else if (r === 4) {
      // Values the integer columns cannot hold: kept whole.
      events.push({ kind: 'module_get', name: 'module_get', ...common, cpu: 70_000, pid: 2 ** 33, fields: { module: 'm', callSite: 'c', refcnt: 2 } } as TraceEvent);
    } else if (r === 5) events.push({ kind: 'module_put', name: 'module_put', ...common, cpu: null, pid: null, fields: { module: 'm', callSite: 'c', refcnt: 1 } } as TraceEvent);
    else events.push({ kind: 'module_get', name: 'module_get', ...common, fields: { module: 'm', callSite: 'c', refcnt: 2 } } as TraceEvent);
  }
  return events;
}
