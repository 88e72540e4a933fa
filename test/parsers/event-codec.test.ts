// parsers/event-codec.ts, the form in which events cross from the parse worker (analyze
// --threads 2): every event of the real captures comes back as the same JSON text, key order
// included, across batches of any size; long strings, full tables and odd values take their
// fallbacks and still come back equal.
import { describe, expect, it } from 'vitest';
import { EventDecoder, EventEncoder } from '../../parsers/event-codec.js';
import type { TraceEvent } from '../../parsers/event.js';
import { parseFiles, parseText, sample } from '../helpers.js';
import { expectCaptureRoundTrip, roundTrip } from './event-codec-roundtrip.js';

const REAL = [
  'real/lifecycle/stage1/ftrace-main.txt.gz',
  'real/lifecycle/console.log.gz',
  'real/lifecycle/stage2/bpftrace-events.txt.gz',
  'real/abort/stage1/bpftrace-events.json.gz',
  'recorded/luotrace-bpftrace.txt.gz',
];
// real/contention-no-writer/stage1/ftrace-main.txt.gz (100 000 events): event-codec.slow.test.ts.

describe('event codec', () => {
  it.each(REAL)('gives back every event of %s as the same JSON', (file) => expectCaptureRoundTrip(sample(file)));

  it('keeps undefined fields, NaN, -0, nested arrays and objects, integer-like keys and long strings', () => {
    const long = 'x'.repeat(5000);
    const ev = {
      kind: 'bpftrace_map',
      name: '@m',
      time: null,
      cpu: null,
      pid: 0,
      tgid: null,
      comm: null,
      src: 3,
      line: 99,
      fields: { map: '@m', entries: [{ key: null, value: { type: 'hist', buckets: [{ min: -0, max: NaN, count: 1e300 }] } }, { key: long, value: { type: 'text', value: '' } }], truncated: 0, sym: undefined, args: { b: '1', 2: 'two', a: long } },
    } as unknown as TraceEvent;
    const [back] = roundTrip([ev, ev], 1).events;
    expect(back).toEqual(ev);
    expect(Object.keys(back.fields)).toEqual(Object.keys(ev.fields));
    expect(Object.keys((back.fields as unknown as { args: object }).args)).toEqual(['2', 'b', 'a']);
    expect(Object.is(((back.fields as unknown as { entries: Array<{ value: { buckets: Array<{ min: number }> } }> }).entries[0].value.buckets[0].min), -0)).toBe(true);
    expect('sym' in back.fields).toBe(true);
  });

  it('falls back to per-batch literals and inline keys when its tables are full', async () => {
    const { events } = await parseFiles([sample('real/lifecycle/stage1/ftrace-main.txt.gz')]);
    // Room for 10 strings and 2 shapes only: nearly everything takes the fallback paths.
    const back = roundTrip(events, 500, new EventEncoder(10, 2));
    expect(back.events.map((e) => JSON.stringify(e))).toEqual(events.map((e) => JSON.stringify(e)));
  });

  it('bounds its shape trie: objects with ever new keys still come back equal', () => {
    const many = (tag: string, n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${tag}${i}`, String(i)]));
    const base = { kind: 'kprobe', name: 'p', time: 1, cpu: 0, pid: 1, tgid: null, comm: 'c', src: 0, line: 1 };
    // 70 000 keys in one object: more trie nodes than the encoder keeps (65 536).
    const events = [
      { ...base, fields: { func: 'f', offset: null, address: null, args: many('a', 70_000) } },
      { ...base, line: 2, fields: { func: 'f', offset: null, address: null, args: many('b', 3) } },
      { ...base, line: 3, fields: { func: 'f', offset: null, address: null, args: many('a', 2) } },
    ] as unknown as TraceEvent[];
    const back = roundTrip(events, 1).events;
    expect(back.map((e) => JSON.stringify(e))).toEqual(events.map((e) => JSON.stringify(e)));
  });

  it('sends a repeated string once: later batches carry ids only', () => {
    const encoder = new EventEncoder();
    const ev = { kind: 'generic', name: 'some_event', time: 1000, cpu: 0, pid: 1, tgid: null, comm: 'task', src: 0, line: 1, fields: { payload: 'p' } } as TraceEvent;
    encoder.event(ev);
    const first = encoder.take().batch;
    encoder.event({ ...ev, line: 2 });
    const second = encoder.take().batch;
    expect(first.strings).toEqual(['generic', 'some_event', 'task', 'p']);
    expect(first.shapes).toEqual([['payload']]);
    expect(second.strings).toEqual([]);
    expect(second.shapes).toEqual([]);
    expect(second.records).toBe(1);
  });
  it('sends a fields object the parser shares (parsers/ftrace-bytes.ts memo) once, then by id', async () => {
    // Synthetic: the same lockdep text on three lines; the fast path gives the three events one fields object.
    const line = (t: string) => `          insmod-317     [001] .....    75.${t}: lock_acquire: 0000000087631697 read luo_register_rwlock`;
    const { events } = await parseText(`# tracer: nop\n${line('000001')}\n${line('000002')}\n${line('000003')}\n`);
    expect(events.map((e) => e.kind)).toEqual(['lock_acquire', 'lock_acquire', 'lock_acquire']);
    expect(events[1].fields).toBe(events[2].fields);
    // The second event's cost, with its fields shared and with an equal copy of them (sent whole).
    const second = (copy: boolean): number => {
      const encoder = new EventEncoder();
      encoder.event(events[1]);
      const before = encoder.size;
      encoder.event(copy ? ({ ...events[2], fields: { ...events[2].fields } } as TraceEvent) : events[2]);
      return encoder.size - before;
    };
    expect(second(false)).toBeLessThan(second(true) - 10);
    const back = roundTrip(events, 2).events;
    expect(back.map((e) => JSON.stringify(e))).toEqual(events.map((e) => JSON.stringify(e)));
    expect(back[1].fields).toBe(back[2].fields);
  });

  it('starts its string table and its shared fields ids over when full: the tables stay bounded, the events equal', async () => {
    const { events } = await parseFiles([sample('real/lifecycle/stage1/ftrace-main.txt.gz')]);
    // Restart the string table past 50 strings (at the next batch), the fields ids past 8.
    const encoder = new EventEncoder(65_536, 4096, 50, 8);
    const decoder = new EventDecoder();
    const back: TraceEvent[] = [];
    let restarts = 0;
    let table = 0;
    let widest = 0;
    events.forEach((ev, i) => {
      encoder.event(ev);
      if (encoder.records < 200 && i < events.length - 1) return;
      const { batch, transfer } = encoder.take();
      if (batch.restart) {
        restarts++;
        table = 0;
      }
      table += batch.strings.length;
      widest = Math.max(widest, table);
      decoder.decode(structuredClone(batch, { transfer }), (e) => back.push(e), () => {});
    });
    expect(restarts).toBeGreaterThan(2);
    // At most the restart size plus what one batch of 200 events adds.
    expect(widest).toBeLessThan(50 + 200 * 10);
    expect(back.map((e) => JSON.stringify(e))).toEqual(events.map((e) => JSON.stringify(e)));
  });

  it('writes the next batch into arrays given back by the decoding thread (recycle), and drops ones of another size', () => {
    const ev = { kind: 'generic', name: 'e', time: 1, cpu: 0, pid: 1, tgid: null, comm: 'c', src: 0, line: 1, fields: { payload: 'p'.repeat(40) } } as TraceEvent;
    const encoder = new EventEncoder();
    // Enough records (~12 tags each) that take() hands its arrays over instead of copying them out, too few to grow them.
    const fill = () => {
      for (let i = 0; i < 6000; i++) encoder.event({ ...ev, line: i });
    };
    fill();
    const first = encoder.take().batch;
    fill();
    const second = encoder.take().batch;
    expect(first.tags.length).toBe(1 << 18);
    expect(second.tags.buffer).not.toBe(first.tags.buffer);
    encoder.recycle(first);
    encoder.recycle({ tags: new Uint8Array(16), ints: new Int32Array(16), nums: new Float64Array(16) });
    fill();
    const third = encoder.take().batch;
    // third was written into the arrays the encoder held; the next one goes into first's.
    fill();
    const fourth = encoder.take().batch;
    expect(fourth.tags.buffer).toBe(first.tags.buffer);
    expect(fourth.ints.buffer).toBe(first.ints.buffer);
    expect(third.tags.buffer).not.toBe(first.tags.buffer);
    const back = roundTrip([ev, { ...ev, line: 2 }], 1).events;
    expect(back.map((e) => e.line)).toEqual([1, 2]);
  });
});
