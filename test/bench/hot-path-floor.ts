// Two calibration readers for `npm run bench` (issue 17): what the design reaches in plain
// Node on this machine, timed in the same run as awk, so the targets can be read against it.
//
//   node dist/test/bench/hot-path-floor.js awk-job FILE   the awk baseline's own job
//       (test/bench/baseline.awk: module_get/put per module, contention_begin/end paired per task and
//       lock), done on bytes: prints what the awk script prints
//   node dist/test/bench/hot-path-floor.js hot-path FILE  the "whole hot path" prototype: the
//       awk job plus lockdep holds on per-task typed-array stacks, per-lock wait and hold statistics
//       with a log-linear histogram each, probe calls and returns on per-task stacks, module refcnt
//
// Both read as the issue describes: readSync into one 8 MiB Buffer (the partial last line carried),
// lines found with Buffer.indexOf(10), the prefix `comm-pid [cpu] flags ss.uuuuuu: name: ` read once
// on bytes (docs/trace-formats.md §1.3), event names, tasks and keys interned by an FNV-1a hash over
// the bytes into an open-addressing table with an exact compare; strings are made only to print.
// They are floors, not parsers: no validation, no ordering, no lost-data accounting, none of the
// report. A line without the shape is skipped.
import { closeSync, openSync, readSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** Bytes → dense integer ids: FNV-1a, linear probing, exact compare against an arena of the bytes. */
class ByteIds {
  private readonly mask: number;
  private readonly table: Int32Array;
  private readonly hashes: Int32Array;
  private readonly starts: Int32Array;
  private readonly lens: Int32Array;
  private arena = Buffer.allocUnsafe(1 << 20);
  private used = 0;
  count = 0;

  constructor(readonly capacity: number) {
    this.mask = 2 * capacity - 1;
    this.table = new Int32Array(2 * capacity).fill(-1);
    this.hashes = new Int32Array(capacity);
    this.starts = new Int32Array(capacity);
    this.lens = new Int32Array(capacity);
  }

  id(buf: Buffer, s: number, e: number): number {
    let h = 0x811c9dc5 | 0;
    for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i], 16777619);
    const len = e - s;
    for (let slot = h & this.mask; ; slot = (slot + 1) & this.mask) {
      const id = this.table[slot];
      if (id < 0) return this.add(slot, h, buf, s, e);
      if (this.hashes[id] === h && this.lens[id] === len && this.same(this.starts[id], buf, s, len)) return id;
    }
  }

  str(id: number): string {
    return this.arena.toString('latin1', this.starts[id], this.starts[id] + this.lens[id]);
  }

  private same(a: number, buf: Buffer, s: number, len: number): boolean {
    for (let i = 0; i < len; i++) if (this.arena[a + i] !== buf[s + i]) return false;
    return true;
  }

  private add(slot: number, h: number, buf: Buffer, s: number, e: number): number {
    if (this.count === this.capacity) throw new Error(`more than ${this.capacity} distinct keys: a floor, not a parser`);
    if (this.used + (e - s) > this.arena.length) {
      const bigger = Buffer.allocUnsafe(2 * this.arena.length + (e - s));
      this.arena.copy(bigger, 0, 0, this.used);
      this.arena = bigger;
    }
    const id = this.count++;
    this.table[slot] = id;
    this.hashes[id] = h;
    this.lens[id] = e - s;
    this.starts[id] = this.used;
    buf.copy(this.arena, this.used, s, e);
    this.used += e - s;
    return id;
  }
}

const enum K {
  Unknown = -1,
  Get,
  Put,
  Begin,
  End,
  Acquire,
  Release,
  Probe,
  Return,
  Other,
}

const SPACE = 32;
const NL = 10;
const MAX_IDS = 1 << 16;
const DEPTH = 16;
/** Log-linear histogram: 16 sub-buckets for each power of two of ns. */
const BUCKETS = 64 * 16;

function bucket(ns: number): number {
  if (ns < 16) return ns < 0 ? 0 : ns | 0;
  const e = Math.floor(Math.log2(ns));
  return e * 16 + (Math.floor(ns / 2 ** (e - 4)) & 15);
}

class Floor {
  readonly names = new ByteIds(4096);
  readonly tasks = new ByteIds(MAX_IDS);
  readonly keys = new ByteIds(MAX_IDS);
  private readonly kinds = new Int8Array(4096).fill(K.Unknown);
  readonly gets = new Int32Array(MAX_IDS);
  readonly puts = new Int32Array(MAX_IDS);
  readonly refcnt = new Int32Array(MAX_IDS);
  /** awk's start[task, lock]: open waits by (task, lock). */
  private readonly waitStart = new Map<number, number>();
  waits = 0;
  waitNs = 0;
  readonly lockStats = new Float64Array(MAX_IDS * 6); // wait n, sum, max; hold n, sum, max
  private readonly hists = new Map<number, Uint32Array>();
  private readonly holdDepth = new Int32Array(MAX_IDS);
  private readonly holdLock = new Int32Array(MAX_IDS * DEPTH);
  private readonly holdStart = new Float64Array(MAX_IDS * DEPTH);
  private readonly callDepth = new Int32Array(MAX_IDS);
  private readonly callFn = new Int32Array(MAX_IDS * DEPTH);
  private readonly callStart = new Float64Array(MAX_IDS * DEPTH);
  readonly fnStats = new Float64Array(4096 * 2);
  holds = 0;
  calls = 0;
  events = 0;

  constructor(private readonly hot: boolean) {}

  line(buf: Buffer, s: number, e: number): void {
    while (s < e && buf[s] === SPACE) s++;
    const taskStart = s;
    const taskEnd = skipWord(buf, s, e); // awk's $1: comm-pid
    while (s < e && buf[s] !== 93) s++; // the ']' of [cpu]
    s = skipSpaces(buf, s + 1, e);
    // The flags column (its first character is never a digit), absent in some trace-cmd reports.
    if (s < e && (buf[s] < 48 || buf[s] > 57)) s = skipSpaces(buf, skipWord(buf, s, e), e);
    let sec = 0;
    let c = 0;
    while (s < e && (c = buf[s]) >= 48 && c <= 57) (sec = sec * 10 + c - 48), s++;
    if (c !== 46) return;
    let frac = 0;
    let digits = 0;
    while (++s < e && (c = buf[s]) >= 48 && c <= 57) (frac = frac * 10 + c - 48), digits++;
    if (c !== 58 || s + 2 >= e) return;
    const t = sec * 1e9 + frac * 10 ** (9 - digits);
    const nameStart = s + 2;
    let ne = nameStart;
    while (ne < e && (c = buf[ne]) !== 58 && c !== 40 && c !== SPACE) ne++;
    const name = this.names.id(buf, nameStart, ne);
    const kind = this.kinds[name] === K.Unknown ? this.kindOf(name) : (this.kinds[name] as K);
    this.events++;
    // trace-cmd pads the name's column with spaces.
    this.payload(kind, this.tasks.id(buf, taskStart, taskEnd), name, t, buf, skipSpaces(buf, Math.min(ne + 1, e), e), e);
  }

  private payload(kind: K, task: number, name: number, t: number, buf: Buffer, s: number, e: number): void {
    if (kind === K.Get || kind === K.Put) this.moduleRef(kind, buf, s, e);
    else if (kind === K.Begin || kind === K.End) this.contention(kind, task, t, this.keys.id(buf, s, skipWord(buf, s, e)));
    else if (kind === K.Acquire) this.acquire(task, t, this.keys.id(buf, s, skipWord(buf, s, e)));
    else if (kind === K.Release) this.release(task, t, this.keys.id(buf, s, skipWord(buf, s, e)));
    else if (kind === K.Probe) this.probe(task, name, t, buf, s, e);
    else if (kind === K.Return) this.probeReturn(task, t, buf, s, e);
  }

  private kindOf(name: number): K {
    const n = this.names.str(name);
    const base: Record<string, K> = { module_get: K.Get, module_put: K.Put, contention_begin: K.Begin, contention_end: K.End };
    const hot: Record<string, K> = { lock_acquire: K.Acquire, lock_release: K.Release };
    let k = base[n] ?? K.Other;
    if (this.hot && k === K.Other) k = hot[n] ?? (n.endsWith('__return') ? K.Return : n.startsWith('sys_') ? K.Other : K.Probe);
    this.kinds[name] = k;
    return k;
  }

  private moduleRef(kind: K, buf: Buffer, s: number, e: number): void {
    const m = this.keys.id(buf, s, skipWord(buf, s, e));
    if (kind === K.Get) this.gets[m]++;
    else this.puts[m]++;
    if (!this.hot) return;
    let v = 0;
    for (let q = buf.lastIndexOf(61, e) + 1; q > 0 && q < e; q++) v = v * 10 + buf[q] - 48; // after the last '='
    this.refcnt[m] = v;
  }

  private contention(kind: K, task: number, t: number, lock: number): void {
    const key = task * MAX_IDS + lock;
    const start = this.waitStart.get(key);
    if (kind === K.Begin) {
      if (start === undefined) this.waitStart.set(key, t);
      return;
    }
    if (start === undefined) return;
    this.waitStart.delete(key);
    this.waits++;
    this.waitNs += t - start;
    if (this.hot) this.record(lock, 0, t - start);
  }

  private record(lock: number, at: number, ns: number): void {
    const st = this.lockStats;
    const o = lock * 6 + at;
    st[o]++;
    st[o + 1] += ns;
    if (ns > st[o + 2]) st[o + 2] = ns;
    const key = lock * 2 + (at === 0 ? 0 : 1);
    let h = this.hists.get(key);
    if (h === undefined) this.hists.set(key, (h = new Uint32Array(BUCKETS)));
    h[bucket(ns)]++;
  }

  private acquire(task: number, t: number, lock: number): void {
    const d = this.holdDepth[task];
    if (d === DEPTH) return;
    this.holdLock[task * DEPTH + d] = lock;
    this.holdStart[task * DEPTH + d] = t;
    this.holdDepth[task] = d + 1;
  }

  private release(task: number, t: number, lock: number): void {
    const base = task * DEPTH;
    const top = this.holdDepth[task] - 1;
    for (let d = top; d >= 0; d--) {
      if (this.holdLock[base + d] !== lock) continue;
      this.record(lock, 3, t - this.holdStart[base + d]);
      this.holds++;
      this.holdLock.copyWithin(base + d, base + d + 1, base + top + 1);
      this.holdStart.copyWithin(base + d, base + d + 1, base + top + 1);
      this.holdDepth[task] = top;
      return;
    }
  }

  private probe(task: number, name: number, t: number, buf: Buffer, s: number, e: number): void {
    const eq = buf.indexOf(61, s); // the first argument's value, interned as a key
    if (eq > 0 && eq < e) this.keys.id(buf, eq + 1, skipWord(buf, eq + 1, e));
    const d = this.callDepth[task];
    if (d === DEPTH) return;
    this.callFn[task * DEPTH + d] = name;
    this.callStart[task * DEPTH + d] = t;
    this.callDepth[task] = d + 1;
  }

  private probeReturn(task: number, t: number, buf: Buffer, s: number, e: number): void {
    const d = this.callDepth[task] - 1;
    if (d >= 0) {
      const f = this.callFn[task * DEPTH + d];
      this.fnStats[2 * f]++;
      this.fnStats[2 * f + 1] += t - this.callStart[task * DEPTH + d];
      this.callDepth[task] = d;
      this.calls++;
    }
    const eq = buf.lastIndexOf(61, e);
    if (eq >= s) this.keys.id(buf, eq + 1, e);
  }
}

function skipSpaces(buf: Buffer, s: number, e: number): number {
  while (s < e && buf[s] === SPACE) s++;
  return s;
}

function skipWord(buf: Buffer, s: number, e: number): number {
  while (s < e && buf[s] !== SPACE) s++;
  return s;
}

/** Every line of `file` to `floor`, comment lines (`#`) skipped. */
function readLines(file: string, floor: Floor): void {
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(8 << 20);
  let carry = 0;
  for (;;) {
    const n = readSync(fd, buf, carry, buf.length - carry, null);
    const end = carry + n;
    let s = 0;
    for (let nl = buf.indexOf(NL, 0); nl >= 0 && nl < end; nl = buf.indexOf(NL, s)) {
      if (buf[s] !== 35) floor.line(buf, s, nl);
      s = nl + 1;
    }
    if (n === 0) {
      if (s < end && buf[s] !== 35) floor.line(buf, s, end);
      break;
    }
    if (s === 0 && end === buf.length) throw new Error('a line longer than 8 MiB');
    carry = end - s;
    buf.copy(buf, 0, s, end);
  }
  closeSync(fd);
}

export type FloorMode = 'awk-job' | 'hot-path';

/** What the floor prints for `file`: baseline.awk's lines (awk-job), and a count line (hot-path). */
export function floorReport(mode: FloorMode, file: string): string {
  const floor = new Floor(mode === 'hot-path');
  readLines(file, floor);
  let out = '';
  // As baseline.awk's END: every module with a get, then the contended waits.
  for (let m = 0; m < floor.keys.count; m++) if (floor.gets[m] > 0) out += `${floor.keys.str(m)} gets=${floor.gets[m]} puts=${floor.puts[m]}\n`;
  out += `contended=${floor.waits} total_wait_s=${(floor.waitNs / 1e9).toFixed(6)}\n`;
  if (mode === 'hot-path') out += `events=${floor.events} holds=${floor.holds} calls=${floor.calls} tasks=${floor.tasks.count} keys=${floor.keys.count}\n`;
  return out;
}

function main(): void {
  const [mode, file] = process.argv.slice(2);
  if (!file || (mode !== 'awk-job' && mode !== 'hot-path')) throw new Error('usage: hot-path-floor.js awk-job|hot-path FILE');
  process.stdout.write(floorReport(mode, file));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (e) {
    process.stderr.write(`hot-path-floor: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
