// The shared facts of the event stream (analyses/stream/): the task key, the --since/--until window,
// the kind numbers the stream is routed on and the answers kept for recent strings. Synthetic values,
// chosen at the edges each rule is about.
import { describe, expect, it } from 'vitest';
import { taskKey } from '../../analyses/stream/task-key.js';
import { inWindow, overlapsWindow } from '../../analyses/stream/time-window.js';
import { KIND_SLOTS, OTHER_KIND, kindId } from '../../analyses/stream/kinds.js';
import { RecentPairs, recentSlot } from '../../analyses/stream/recent.js';
import { feedInOrder } from '../../analyses/stream/reducer.js';
import { LuoCallTracker } from '../../analyses/stream/luo-calls.js';
import { newIdentity, noteIdentity } from '../../analyses/stream/continuity.js';
import { type TraceEvent, TraceEventSchema } from '../../parsers/event.js';

describe('taskKey', () => {
  it('tells tasks apart by source and pid, and a missing pid from pid 0', () => {
    expect(taskKey(0, 42)).toBe(taskKey(0, 42));
    expect(taskKey(0, 42)).not.toBe(taskKey(1, 42));
    expect(taskKey(0, null)).not.toBe(taskKey(0, 0));
    expect(typeof taskKey(3, 4_194_304)).toBe('number');
  });

  it('keeps a pid no kernel prints apart from the pids of the next source', () => {
    const big = 8_388_608 + 5;
    expect(taskKey(0, big)).not.toBe(taskKey(1, 5));
    expect(taskKey(0, -1)).not.toBe(taskKey(0, null));
    expect(taskKey(0, 1.5)).not.toBe(taskKey(0, 1));
  });
});

describe('the --since/--until window', () => {
  it('keeps a point inside the bounds, both inclusive, and an unknown time only without bounds', () => {
    expect(inWindow(5, 5, 10)).toBe(true);
    expect(inWindow(10, 5, 10)).toBe(true);
    expect(inWindow(11, 5, 10)).toBe(false);
    expect(inWindow(4, 5, undefined)).toBe(false);
    expect(inWindow(null, undefined, undefined)).toBe(true);
    expect(inWindow(null, 5, null)).toBe(false);
  });

  it('keeps an interval that overlaps the window, using the known end for an unknown one', () => {
    expect(overlapsWindow(1, 5, 5, 10)).toBe(true);
    expect(overlapsWindow(1, 4, 5, 10)).toBe(false);
    expect(overlapsWindow(null, 7, 5, 10)).toBe(true);
    expect(overlapsWindow(12, null, 5, 10)).toBe(false);
    expect(overlapsWindow(null, null, 5, null)).toBe(false);
    expect(overlapsWindow(null, null, null, undefined)).toBe(true);
  });
});

describe('kind numbers and the routing on them (stream/kinds.ts, reducer.ts feedInOrder)', () => {
  const KINDS = TraceEventSchema.options.flatMap((o) => {
    const k = o.shape.kind;
    return 'options' in k ? [...k.options] : [k.value];
  });

  it('gives every kind of the event schema its own number, and a string no kind has the one left over', () => {
    const numbers = KINDS.map((k) => kindId(k));
    expect(new Set(numbers).size).toBe(KINDS.length);
    for (const n of numbers) expect(n).toBeLessThan(OTHER_KIND);
    expect(OTHER_KIND).toBe(KIND_SLOTS - 1);
    expect(kindId('toString')).toBe(OTHER_KIND);
    expect(kindId('')).toBe(OTHER_KIND);
  });

  it('gives a reader only the kinds it declares, a reader without a list every event, in the order given (SYNTHETIC events)', () => {
    const calls = new LuoCallTracker();
    const seen: string[] = [];
    const feed = feedInOrder(calls, [
      { kinds: ['kprobe'], push: (ev) => seen.push(`a:${ev.kind}`) },
      { push: (ev, k) => seen.push(`b:${ev.kind}:${k === kindId(ev.kind)}`) },
    ]);
    const probe = ev('kprobe', { func: 'luo_session_create', offset: 0, address: null, args: {} });
    feed(probe);
    expect(calls.lastEdge?.type).toBe('enter');
    feed(ev('lock_release', { lock: '0000000012345678', hashed: true, lockName: 'x' }));
    // A kind the tracker does not read leaves no edge of the event before it.
    expect(calls.lastEdge).toBeNull();
    expect(seen).toEqual(['a:kprobe', 'b:kprobe:true', 'b:lock_release:true']);
  });
});

describe('answers kept for recent strings (stream/recent.ts)', () => {
  it('answers only the pair it was given, also when another pair took its slot', () => {
    const r = new RecentPairs<number>();
    r.keep('luo_preserve_file', 'p1', 1);
    expect(r.find('luo_preserve_file', 'p2')).toBe(-1);
    expect(r.at(r.find('luo_preserve_file', 'p1'))).toBe(1);
    // Strings of one length ending alike share a slot: the later one replaces the earlier.
    const other = 'xx' + 'luo_preserve_file'.slice(2);
    expect(recentSlot(other)).toBe(recentSlot('luo_preserve_file'));
    r.keep(other, 'p1', 2);
    expect(r.find('luo_preserve_file', 'p1')).toBe(-1);
    expect(r.at(r.find(other, 'p1'))).toBe(2);
  });

  it('keeps a segment\'s hashed pointers exact whatever the cache holds: every distinct one once, up to the cap', () => {
    const id = newIdentity();
    const ptrs = Array.from({ length: 300 }, (_, i) => i.toString(16).padStart(16, '0'));
    for (const p of [...ptrs, ...ptrs.slice(0, 50).reverse()]) noteIdentity(id, ev('contention_end', { lock: p, hashed: true, ret: 0 }));
    noteIdentity(id, ev('contention_end', { lock: 'ffff888100000000', hashed: false, ret: 0 }));
    expect([...id.hashed]).toEqual(ptrs.slice(0, 256));
  });
});

/** A SYNTHETIC event of one kind (only what the readers under test look at). */
function ev(kind: string, fields: object): TraceEvent {
  return { kind, name: kind, time: 1000, cpu: 0, pid: 7, tgid: null, comm: 't', src: 0, line: 1, fields } as TraceEvent;
}
