// Property tests (fast-check) of the lock interval arithmetic: random tasks take random nested
// locks (rwsem R/W, mutex), contended or not, seen through lockdep, lock-function probes or both,
// with hashed (ftrace) or raw (trace-cmd) pointers, the mutex slow path's repeated begins (real
// README O7) and the rwsem wait_lock in between; the trace is then cut at random edges and loses
// random per-CPU windows of events. The analysis must report exactly the true intervals it can see
// whole, never a wrong one, never a negative one, and never one that crossed a lost-event gap.
//
// Every lock operation is a cluster of events a few microseconds wide, starting on a 10 us grid;
// cuts and gaps fall between clusters (5 us off the grid), as one lock call's events are emitted back
// to back by the kernel.
//
// Shared by locks-property.test.ts (fast set: a quarter of the runs) and locks-property.slow.test.ts
// (all of them).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../parsers/event.js';
import { makeEvent } from '../../parsers/payloads.js';
import type { HoldInterval, LockInstance, WaitInterval } from '../../analyses/locks/lock-intervals.js';
import { analyzeEvents } from './locks-harness.js';

const US = 1000;
const GRID = 10 * US;

interface LockDef {
  kind: 'rwsem' | 'mutex';
  addr: string;
  name: string;
  dep: string;
  ptr: string;
  waitLock: string;
  sources: 'lockdep' | 'probe' | 'both';
}

interface Op {
  lock: number;
  shared: boolean;
  contended: boolean;
  /** Extra contention_begin events of the mutex slow path (O7). */
  rebegins: number;
  waitSteps: number;
  holdSteps: number;
  noise: boolean;
  inner: Op | null;
}

interface Truth {
  pid: number;
  lock: number;
  shared: boolean;
  start: number;
  end: number;
  /** When the acquisition began (the lock call): a gap after it can make the whole acquisition incomplete. */
  attempt: number;
  kind: 'hold' | 'wait';
}

const opArb: fc.Arbitrary<Op> = fc.letrec<{ op: Op }>((tie) => ({
  op: fc.record({
    lock: fc.integer({ min: 0, max: 3 }),
    shared: fc.boolean(),
    contended: fc.boolean(),
    rebegins: fc.integer({ min: 0, max: 3 }),
    waitSteps: fc.integer({ min: 1, max: 30 }),
    holdSteps: fc.integer({ min: 1, max: 30 }),
    noise: fc.boolean(),
    inner: fc.option(tie('op'), { maxDepth: 2, nil: null }),
  }),
})).op;

const scenarioArb = fc.record({
  tasks: fc.array(fc.record({ startSteps: fc.integer({ min: 0, max: 50 }), ops: fc.array(fc.tuple(opArb, fc.integer({ min: 0, max: 20 })), { minLength: 1, maxLength: 5 }) }), { minLength: 1, maxLength: 5 }),
  cpus: fc.integer({ min: 1, max: 4 }),
  // lockdep, when traced, covers every lock (as the lab's name filter covers the probed LUO locks);
  // lock-function probes cover some of them.
  lockdep: fc.boolean(),
  probed: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  rawPointers: fc.boolean(),
  lockdepMutexSpin: fc.boolean(),
  cut: fc.option(fc.tuple(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 400 })), { nil: null }),
  gaps: fc.array(fc.record({ cpu: fc.integer({ min: 0, max: 3 }), at: fc.integer({ min: 0, max: 600 }), len: fc.integer({ min: 1, max: 60 }) }), { maxLength: 3 }),
});
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

function locksFor(sc: Scenario): LockDef[] {
  const base = [0xffffffff81ed2360n, 0xffffffff81ed2650n, 0xffff888012340000n, 0xffff888012345000n];
  return base.map((a, i) => {
    const addr = `0x${a.toString(16)}`;
    const kind = i < 2 ? 'rwsem' : 'mutex';
    return {
      kind,
      addr,
      name: kind === 'rwsem' ? `lock${i}_rwsem` : `&obj${i}->mutex`,
      dep: sc.rawPointers ? `0x${(a + 0x68n).toString(16)}` : `00000000aaaa000${i}`,
      ptr: sc.rawPointers ? addr : `00000000bbbb000${i}`,
      waitLock: sc.rawPointers ? `0x${(a + 0x20n).toString(16)}` : `00000000cccc000${i}`,
      sources: !sc.lockdep ? 'probe' : sc.probed[i] ? 'both' : 'lockdep',
    };
  });
}

/** Events and true intervals of one scenario (before cuts and gaps). */
function generate(sc: Scenario): { events: TraceEvent[]; truth: Truth[]; locks: LockDef[] } {
  const locks = locksFor(sc);
  const events: TraceEvent[] = [];
  const truth: Truth[] = [];
  sc.tasks.forEach((task, ti) => {
    const pid = 100 + ti;
    const cpu = ti % sc.cpus;
    const ev = (kind: TraceEvent['kind'], name: string, t: number, fields: object) =>
      events.push(makeEvent(kind, name, { time: t, cpu, pid, tgid: pid, comm: `t${ti}`, src: 0, line: 0 }, fields));
    const emit = (op: Op, t0: number, held: Set<number>): number => {
      // one task never takes a lock it already holds (no recursion in this model)
      if (held.has(op.lock)) return t0;
      const L = locks[op.lock];
      const shared = L.kind === 'rwsem' ? op.shared : false;
      const probe = L.sources !== 'lockdep';
      const lockdep = L.sources !== 'probe';
      const mutexAlwaysSlow = L.kind === 'mutex' && lockdep && sc.lockdepMutexSpin;
      const contended = op.contended || mutexAlwaysSlow;
      const fn = L.kind === 'mutex' ? 'mutex_lock' : shared ? 'down_read' : 'down_write';
      if (probe) ev('kprobe', fn, t0, { func: fn, offset: 4, address: null, args: L.kind === 'mutex' ? { lock: L.addr } : { sem: L.addr } });
      if (lockdep) ev('lock_acquire', 'lock_acquire', t0 + US, { lock: L.dep, hashed: !sc.rawPointers, lockName: L.name, read: shared, try: false });
      let acquired = probe ? t0 : t0 + US;
      if (contended) {
        const spinOnly = !op.contended; // lockdep kernel: slow path entered, trylock succeeded at once
        const begin = t0 + 3 * US;
        const flags = L.kind === 'mutex' ? 33 : shared ? 2 : 4;
        if (L.kind === 'rwsem' && lockdep) ev('lock_acquire', 'lock_acquire', t0 + 2 * US, { lock: L.waitLock, hashed: !sc.rawPointers, lockName: `${L.name}.wait_lock`, read: false, try: false });
        ev('contention_begin', 'contention_begin', begin, { lock: L.ptr, hashed: !sc.rawPointers, flags, flagNames: '' });
        if (L.kind === 'rwsem' && lockdep) ev('lock_release', 'lock_release', t0 + 4 * US, { lock: L.waitLock, hashed: !sc.rawPointers, lockName: `${L.name}.wait_lock` });
        if (L.kind === 'mutex' && !spinOnly) {
          for (let i = 0; i < op.rebegins; i++) ev('contention_begin', 'contention_begin', t0 + (5 + i) * US, { lock: L.ptr, hashed: !sc.rawPointers, flags: i % 2 ? 33 : 32, flagNames: '' });
        }
        const end = t0 + (spinOnly ? 1 : op.waitSteps) * GRID;
        ev('contention_end', 'contention_end', end, { lock: L.ptr, hashed: !sc.rawPointers, ret: 0 });
        truth.push({ pid, lock: op.lock, shared, start: begin, end, attempt: t0, kind: 'wait' });
        acquired = end;
      }
      let t = Math.ceil((acquired + US) / GRID) * GRID;
      if (op.noise) {
        ev('kprobe', 'luo_flb_file_preserve', t, { func: 'luo_flb_file_preserve', offset: 4, address: null, args: {} });
        t += GRID;
      }
      if (op.inner) {
        held.add(op.lock);
        t = emit(op.inner, t, held);
        held.delete(op.lock);
        t = Math.ceil(t / GRID) * GRID;
      }
      const r = t + op.holdSteps * GRID;
      const rel = L.kind === 'mutex' ? 'mutex_unlock' : shared ? 'up_read' : 'up_write';
      if (probe) ev('kprobe', rel, r, { func: rel, offset: 4, address: null, args: L.kind === 'mutex' ? { lock: L.addr } : { sem: L.addr } });
      if (lockdep) ev('lock_release', 'lock_release', r + US, { lock: L.dep, hashed: !sc.rawPointers, lockName: L.name });
      truth.push({ pid, lock: op.lock, shared, start: acquired, end: probe ? r : r + US, attempt: t0, kind: 'hold' });
      return r + 2 * US;
    };
    let t = task.startSteps * GRID;
    for (const [op, pause] of task.ops) {
      t = Math.ceil(emit(op, t, new Set()) / GRID) * GRID + pause * GRID;
    }
  });
  // One merged stream in time order (ties: by task, then emission order), as the reorder buffer gives.
  const order = new Map(events.map((e, i) => [e, i]));
  events.sort((a, b) => (a.time as number) - (b.time as number) || (a.pid as number) - (b.pid as number) || (order.get(a) as number) - (order.get(b) as number));
  return { events, truth, locks };
}

interface Window {
  lo: number;
  hi: number;
}

/** Cut the trace and drop per-CPU windows, inserting `lost` markers where the parser would. */
function degrade(sc: Scenario, events: TraceEvent[]): { events: TraceEvent[]; cut: Window | null; gaps: Array<Window & { cpu: number }> } {
  let cut: Window | null = null;
  if (sc.cut) {
    const [a, b] = sc.cut;
    cut = { lo: Math.min(a, b) * GRID + GRID / 2, hi: (Math.max(a, b) + 40) * GRID + GRID / 2 };
  }
  const gaps = sc.gaps.filter((g) => g.cpu < sc.cpus).map((g) => ({ cpu: g.cpu, lo: g.at * GRID + GRID / 2, hi: (g.at + g.len) * GRID + GRID / 2 }));
  const kept = events.filter((e) => {
    const t = e.time as number;
    if (cut && (t < cut.lo || t > cut.hi)) return false;
    return !gaps.some((g) => e.cpu === g.cpu && t > g.lo && t < g.hi);
  });
  const out: TraceEvent[] = [];
  const pending = [...gaps].sort((x, y) => x.lo - y.lo);
  const lastOnCpu = new Map<number, number>();
  const flushGaps = (before: number) => {
    while (pending.length && pending[0].lo < before) {
      const g = pending.shift() as (typeof gaps)[number];
      out.push(makeEvent('lost', 'lost', { time: lastOnCpu.get(g.cpu) ?? null, cpu: g.cpu, pid: null, tgid: null, comm: null, src: 0, line: 0 }, { count: null, marker: 'lost-events' }));
    }
  };
  for (const e of kept) {
    flushGaps(e.time as number);
    out.push(e);
    lastOnCpu.set(e.cpu as number, e.time as number);
  }
  flushGaps(Infinity);
  out.forEach((e, i) => {
    e.line = i + 1;
  });
  return { events: out, cut, gaps };
}

const overlaps = (a: Window, lo: number, hi: number) => a.lo < hi && a.hi > lo;

function check(sc: Scenario): void {
  const { events: all, truth, locks } = generate(sc);
  const { events, cut, gaps } = degrade(sc, all);
  const { section, holds, waits } = analyzeEvents(events);

  const idx = (inst: LockInstance): number => locks.findIndex((l) => l.name === inst.name || l.addr === inst.addr || (inst.ptr !== null && l.ptr === inst.ptr));
  const cpuOf = (pid: number) => (pid - 100) % sc.cpus;
  const key = (pid: number | null, lock: number, shared: boolean | null, s: number | null, e: number | null, kind: string) => `${kind}|${pid}|${lock}|${shared}|${s}|${e}`;

  const truthByKey = new Map<string, Truth[]>();
  for (const t of truth) {
    const k = key(t.pid, t.lock, t.shared, t.start, t.end, t.kind);
    truthByKey.set(k, [...(truthByKey.get(k) ?? []), t]);
  }
  const reported: Array<{ kind: 'hold' | 'wait'; iv: HoldInterval | WaitInterval; s: number; e: number; lock: number }> = [];
  const internal = (inst: LockInstance) => inst.name?.endsWith('.wait_lock') === true;
  for (const h of holds) {
    if (h.incomplete !== null || h.failed || h.unobservable || internal(h.lock)) continue;
    reported.push({ kind: 'hold', iv: h, s: h.start as number, e: h.end as number, lock: idx(h.lock) });
  }
  for (const w of waits) {
    if (w.incomplete !== null) continue;
    reported.push({ kind: 'wait', iv: w, s: w.begin as number, e: w.end as number, lock: idx(w.lock) });
  }

  // 1. every complete interval reported is a true one (exact times), each true one used once,
  //    none negative, none crossing a lost-event gap on its task's CPU.
  const used = new Map<string, number>();
  for (const r of reported) {
    expect(r.e - r.s).toBeGreaterThanOrEqual(0);
    const k = key(r.iv.pid, r.lock, r.iv.shared, r.s, r.e, r.kind);
    const n = (used.get(k) ?? 0) + 1;
    used.set(k, n);
    expect(truthByKey.get(k)?.length ?? 0, `reported ${k} is not a true interval`).toBeGreaterThanOrEqual(n);
    for (const g of gaps) if (g.cpu === cpuOf(r.iv.pid as number)) expect(overlaps(g, r.s, r.e), `${k} crosses a gap unmarked`).toBe(false);
  }

  // 2. every true interval seen whole, with no gap on its CPU during its acquisition, is reported complete.
  for (const t of truth) {
    const from = t.kind === 'hold' ? t.attempt : t.start;
    if (cut && (from < cut.lo || t.end + 2 * US > cut.hi)) continue;
    if (gaps.some((g) => g.cpu === cpuOf(t.pid) && overlaps(g, from, t.end + 2 * US))) continue;
    const k = key(t.pid, t.lock, t.shared, t.start, t.end, t.kind);
    expect(used.get(k) ?? 0, `true ${k} not reported complete`).toBeGreaterThanOrEqual(1);
  }

  // 3. the statistics are the sum of the complete intervals, per lock x mode (a lock can have
  //    several rows: a hashed pointer whose every contention was cut is never tied to its lock).
  const rowSums = new Map<string, { hold: number; wait: number }>();
  for (const l of section.locks) {
    if (l.name?.endsWith('.wait_lock')) continue;
    const lock = locks.findIndex((d) => d.name === l.name || d.addr === l.address || d.ptr === l.address);
    expect(lock, `row ${l.name ?? l.address} of no lock`).toBeGreaterThanOrEqual(0);
    const k = `${lock}|${l.mode === 'R'}`;
    const e = rowSums.get(k) ?? { hold: 0, wait: 0 };
    e.hold += l.hold.total;
    e.wait += l.wait.total;
    rowSums.set(k, e);
  }
  for (const [k, e] of rowSums) {
    const [lock, shared] = [Number(k.split('|')[0]), k.endsWith('true')];
    const sum = (kind: string) => reported.filter((r) => r.kind === kind && r.lock === lock && r.iv.shared === shared).reduce((n, r) => n + (r.e - r.s), 0);
    expect(e.hold).toBe(sum('hold'));
    expect(e.wait).toBe(sum('wait'));
  }

  // 4. on an intact trace, the figures are exactly the truth.
  if (!cut && gaps.length === 0) {
    for (const [i, d] of locks.entries()) {
      for (const shared of [false, true]) {
        const mine = truth.filter((t) => t.lock === i && t.shared === shared);
        const holdsT = mine.filter((t) => t.kind === 'hold');
        if (!holdsT.length) continue;
        const row = section.locks.find((l) => (l.name === d.name || l.address === d.addr) && (l.mode === 'R') === shared);
        expect(row, `${d.name} ${shared}`).toBeDefined();
        expect(row?.acquisitions).toBe(holdsT.length);
        expect(row?.contended).toBe(mine.filter((t) => t.kind === 'wait').length);
        expect(row?.hold.total).toBe(holdsT.reduce((n, t) => n + t.end - t.start, 0));
        expect(row?.wait.total).toBe(mine.filter((t) => t.kind === 'wait').reduce((n, t) => n + t.end - t.start, 0));
        expect(Object.values(row?.incomplete.holds ?? {}).reduce((a, b) => a + b, 0)).toBe(0);
      }
    }
  }
}

/** The two properties, with `scale` times the number of runs the slow set gives them (200 and 300). */
export function lockPropertyTests(scale: number): void {
  describe('lock interval arithmetic (fast-check)', () => {
    it('intact traces: hold and wait sums equal the true intervals', () => {
      fc.assert(fc.property(scenarioArb.map((s) => ({ ...s, cut: null, gaps: [] })), check), { numRuns: Math.round(200 * scale) });
    });
    it('cut and lossy traces: only true, whole, gap-free intervals are counted', () => {
      fc.assert(fc.property(scenarioArb, check), { numRuns: Math.round(300 * scale) });
    });
  });
}
