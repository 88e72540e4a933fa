// The shared facts of the event stream (analyses/stream/): the task key, the --since/--until window,
// the kind numbers the stream is routed on and the answers kept for recent strings. Synthetic values,
// chosen at the edges each rule is about.
import { describe, expect, it } from 'vitest';
import { taskKey } from '../../analyses/stream/task-key.js';
import { inWindow, overlapsWindow } from '../../analyses/stream/time-window.js';
import { KIND_SLOTS, OTHER_KIND, kindId, kindsInTable } from '../../analyses/stream/kinds.js';
import { RecentPairs, pairSlot, recentSlot } from '../../analyses/stream/recent.js';
import { feedInOrder } from '../../analyses/stream/reducer.js';
import { LuoCallTracker, RETURN_LOST_FUNCTIONS } from '../../analyses/stream/luo-calls.js';
import * as F from '../../analyses/stream/luo-calls.js';
import { LUO_PHASES, PHASE_OF_FUNCTION } from '../../analyses/kernel/phases.js';
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

  it('finds every kind in its table, also a kind string built at run time, and no other string there', () => {
    expect(kindsInTable()).toBe(KINDS.length);
    for (const k of KINDS) {
      // A string made at run time is not the literal's object: the identity test must still match it.
      const built = [...k].join('');
      expect(kindId(built)).toBe(kindId(k));
      // Same length and the same characters the slot reads, another string: not that kind.
      const other = `${k.slice(0, 1)}#${k.slice(2)}`;
      if (other !== k) expect(kindId(other)).toBe(OTHER_KIND);
    }
    expect(kindId('x')).toBe(OTHER_KIND);
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
    expect(pairSlot(other, 'p1')).toBe(pairSlot('luo_preserve_file', 'p1'));
    r.keep(other, 'p1', 2);
    expect(r.find('luo_preserve_file', 'p1')).toBe(-1);
    expect(r.at(r.find(other, 'p1'))).toBe(2);
  });

  it("keeps a probe's entry and return names apart: both answers stay (they alternate on every call)", () => {
    const r = new RecentPairs<number>();
    const pairs = [
      ['liveupdate_flb_put_outgoing', 'liveupdate_flb_put_outgoing'],
      ['liveupdate_flb_put_outgoing', 'liveupdate_flb_put_outgoing__return'],
      ['luo_preserve_file', 'luo_preserve_file'],
      ['luo_preserve_file', 'luo_preserve_file__return'],
    ] as const;
    pairs.forEach(([a, b], i) => r.keep(a, b, i));
    pairs.forEach(([a, b], i) => expect(r.at(r.find(a, b))).toBe(i));
  });

  it('keeps a segment\'s hashed pointers exact whatever the cache holds: every distinct one once, up to the cap', () => {
    const id = newIdentity();
    const ptrs = Array.from({ length: 300 }, (_, i) => i.toString(16).padStart(16, '0'));
    for (const p of [...ptrs, ...ptrs.slice(0, 50).reverse()]) noteIdentity(id, ev('contention_end', { lock: p, hashed: true, ret: 0 }));
    noteIdentity(id, ev('contention_end', { lock: 'ffff888100000000', hashed: false, ret: 0 }));
    expect([...id.hashed]).toEqual(ptrs.slice(0, 256));
  });
});

describe('LUO function numbers (stream/luo-calls.ts FunctionIds, OpenCall.fid)', () => {
  it('gives the functions the readers switch on their fixed numbers, and each its phase and loss rule', () => {
    const fixed = [
      [F.FN_SESSION_CREATE, 'luo_session_create'],
      [F.FN_SESSION_RETRIEVE, 'luo_session_retrieve'],
      [F.FN_PRESERVE_FILE, 'luo_preserve_file'],
      [F.FN_FILE_UNPRESERVE_FILES, 'luo_file_unpreserve_files'],
      [F.FN_RETRIEVE_FILE, 'luo_retrieve_file'],
      [F.FN_FILE_FINISH, 'luo_file_finish'],
      [F.FN_FILE_FREEZE, 'luo_file_freeze'],
      [F.FN_FILE_UNFREEZE, 'luo_file_unfreeze'],
      [F.FN_FILE_DESERIALIZE, 'luo_file_deserialize'],
      [F.FN_REBOOT, 'liveupdate_reboot'],
      [F.FN_SESSION_SERIALIZE, 'luo_session_serialize'],
      [F.FN_FLB_SERIALIZE, 'luo_flb_serialize'],
      [F.FN_SESSION_DESERIALIZE, 'luo_session_deserialize'],
      [F.FN_FLB_FILE_PRESERVE, 'luo_flb_file_preserve'],
    ] as const;
    const ids = new F.FunctionIds(new Set(['luo_session_ioctl']));
    for (const [id, name] of fixed) {
      expect(F.fixedFunctionId(name)).toBe(id);
      expect(ids.of(name)).toBe(id);
    }
    for (const name of [...Object.keys(LUO_PHASES), 'luo_session_ioctl', 'liveupdate_flb_put_outgoing', 'toString', '__proto__']) {
      const id = ids.of(name);
      expect(ids.of(name)).toBe(id);
      expect(ids.names[id]).toBe(name);
      expect(ids.phase[id]).toBe(Object.hasOwn(PHASE_OF_FUNCTION, name) ? PHASE_OF_FUNCTION[name] : null);
      expect(ids.isReturnLost(id)).toBe(RETURN_LOST_FUNCTIONS.has(name));
      expect(ids.isEnclosing(id)).toBe(name === 'luo_session_ioctl');
    }
    // Numbers past the first table size keep their facts (the tables grow).
    for (let i = 0; i < 200; i++) ids.of(`luo_synthetic_${i}`);
    const late = ids.of('luo_session_ioctl_late');
    expect(late).toBeGreaterThan(64);
    expect(ids.isReturnLost(late)).toBe(false);
    expect(ids.phase[late]).toBeNull();
  });

  it('numbers a call by its function in the tracker, the same function the same number (SYNTHETIC events)', () => {
    const calls = new LuoCallTracker();
    const feed = feedInOrder(calls, []);
    const probe = (func: string) => ev('kprobe', { func, offset: 0, address: null, args: {} });
    feed(probe('luo_session_create'));
    const create = calls.lastEdge?.call;
    feed(probe('liveupdate_flb_put_outgoing'));
    const other = calls.lastEdge?.call;
    feed(probe('liveupdate_flb_put_outgoing'));
    const again = calls.lastEdge?.call;
    expect(create?.fid).toBe(F.FN_SESSION_CREATE);
    expect(create?.phase).toBe('create');
    expect(other?.fid).toBeGreaterThanOrEqual(F.FN_FLB_FILE_PRESERVE + 1);
    expect(again?.fid).toBe(other?.fid);
    expect(calls.functions.names[other?.fid ?? -1]).toBe('liveupdate_flb_put_outgoing');
    // A return finds its call by number: the innermost flb call returns, the create stays open.
    feed(ev('kretprobe', { func: 'liveupdate_flb_put_outgoing', ret: 0 }));
    expect(calls.lastEdge?.call).toBe(again);
    expect(calls.openCalls(0, 7).map((c) => c.func)).toEqual(['luo_session_create', 'liveupdate_flb_put_outgoing']);
  });
});

/** A SYNTHETIC event of one kind (only what the readers under test look at). */
function ev(kind: string, fields: object): TraceEvent {
  return { kind, name: kind, time: 1000, cpu: 0, pid: 7, tgid: null, comm: 't', src: 0, line: 1, fields } as TraceEvent;
}
