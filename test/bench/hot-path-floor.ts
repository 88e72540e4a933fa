// Calibration readers for `npm run bench` (issue 17): what the design reaches in plain Node
// on this machine, timed in the same run as awk, so the targets can be read against it.
//
//   node dist/test/bench/hot-path-floor.js awk-job FILE   the awk baseline's own job
//       (test/bench/baseline.awk: module_get/put per module, contention_begin/end paired per task and
//       lock), done on bytes: prints what the awk script prints
//   node dist/test/bench/hot-path-floor.js hot-path FILE  the "whole hot path" prototype: the
//       awk job plus lockdep holds on per-task typed-array stacks, per-lock wait and hold statistics
//       with a log-linear histogram each, probe calls and returns on per-task stacks, module refcnt
//   node dist/test/bench/hot-path-floor.js hot-path2 FILE the same prototype on two threads, as the
//       issue designs them: the file split at a newline in its middle, the second part read on a
//       worker thread (this file) while the main thread reads the first, then merged by key bytes,
//       what needs the state open at the split replayed against it (readFloor says what differs)
//
// All read as the issue describes: readSync into one 8 MiB Buffer (the partial last line carried),
// lines found with Buffer.indexOf(10), the prefix `comm-pid [cpu] flags ss.uuuuuu: name: ` read once
// on bytes (docs/trace-formats.md §1.3), event names, tasks and keys interned by an FNV-1a hash over
// the bytes into an open-addressing table with an exact compare; strings are made only to print.
// They are floors, not parsers: no validation, no ordering, no lost-data accounting, none of the
// report. A line without the shape is skipped.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { workerScript } from '../../parsers/worker-script.js';

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

  /** Every key's bytes as a string, by id (latin1: each byte one character, so `ofStr` gives back the bytes). */
  strs(): string[] {
    return Array.from({ length: this.count }, (_, id) => this.str(id));
  }

  /** The id of a string `strs` gave (of another table, when two parts' ids are merged). */
  ofStr(s: string): number {
    const buf = Buffer.from(s, 'latin1');
    return this.id(buf, 0, buf.length);
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

/**
 * What a Floor hands over to be merged (hot-path2: the worker's part, posted as plain arrays): its
 * tables' keys as strings, by its own ids, and its counts and statistics by those ids. Read in tail
 * mode, also the events whose outcome needs the state open where the part starts, in their order:
 * - `ends`: each (task, lock)'s first contention_end (task, lock, t, the part's own first begin
 *   before it or NaN), closed by `merge` against the wait open at the split, if any;
 * - `releases`: each lock_release matching none of the part's own holds (task, lock, t);
 * - `returns`: each probe return with none of the part's own calls open (task, t).
 */
export interface Part {
  names: string[];
  tasks: string[];
  keys: string[];
  gets: Int32Array;
  puts: Int32Array;
  refcnt: Int32Array;
  lockStats: Float64Array;
  hists: [number, Uint32Array][];
  fnStats: Float64Array;
  /** waits, waitNs, holds, calls, events */
  totals: number[];
  ends: number[];
  releases: number[];
  returns: number[];
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
  /** Tail mode: the (task, lock)s whose first contention_end this part has read. */
  private readonly ended = new Set<number>();
  /** Tail mode: what `Part` says (ends, releases, returns). */
  private readonly ends: number[] = [];
  private readonly looseReleases: number[] = [];
  private readonly looseReturns: number[] = [];

  /**
   * `tail`: the part of a file after a split (hot-path2's worker), read without the state open where
   * it starts: what needs that state is kept for `merge` instead of dropped (see `Part`).
   */
  constructor(
    private readonly hot: boolean,
    private readonly tail = false,
  ) {}

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
    if (this.tail && !this.ended.has(key)) return this.firstEnd(key, task, lock, t, start);
    if (start === undefined) return;
    this.waitStart.delete(key);
    this.closeWait(lock, t - start);
  }

  private closeWait(lock: number, ns: number): void {
    this.waits++;
    this.waitNs += ns;
    if (this.hot) this.record(lock, 0, ns);
  }

  /**
   * Tail mode: a (task, lock)'s first contention_end closes the wait open where the part starts, if
   * one is (awk keeps the first begin: this part's begins before it are then no-ops), else this
   * part's own first begin, if any. Kept for `merge` to decide; after it the pair is closed either way.
   */
  private firstEnd(key: number, task: number, lock: number, t: number, start: number | undefined): void {
    this.ended.add(key);
    this.waitStart.delete(key);
    this.ends.push(task, lock, t, start ?? NaN);
  }

  private record(lock: number, at: number, ns: number): void {
    const st = this.lockStats;
    const o = lock * 6 + at;
    st[o]++;
    st[o + 1] += ns;
    if (ns > st[o + 2]) st[o + 2] = ns;
    this.hist(lock * 2 + (at === 0 ? 0 : 1))[bucket(ns)]++;
  }

  private hist(key: number): Uint32Array {
    let h = this.hists.get(key);
    if (h === undefined) this.hists.set(key, (h = new Uint32Array(BUCKETS)));
    return h;
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
    if (this.tail) this.looseReleases.push(task, lock, t);
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
    if (this.callDepth[task] > 0) this.popCall(task, t);
    else if (this.tail) this.looseReturns.push(task, t);
    const eq = buf.lastIndexOf(61, e);
    if (eq >= s) this.keys.id(buf, eq + 1, e);
  }

  private popCall(task: number, t: number): void {
    const d = this.callDepth[task] - 1;
    const f = this.callFn[task * DEPTH + d];
    this.fnStats[2 * f]++;
    this.fnStats[2 * f + 1] += t - this.callStart[task * DEPTH + d];
    this.callDepth[task] = d;
    this.calls++;
  }

  /** This part's tables, counts and statistics (and in tail mode what `merge` replays) as plain arrays. */
  part(): Part {
    const k = this.keys.count;
    return {
      names: this.names.strs(),
      tasks: this.tasks.strs(),
      keys: this.keys.strs(),
      gets: this.gets.slice(0, k),
      puts: this.puts.slice(0, k),
      refcnt: this.refcnt.slice(0, k),
      lockStats: this.lockStats.slice(0, 6 * k),
      hists: [...this.hists].sort((a, b) => a[0] - b[0]),
      fnStats: this.fnStats.slice(0, 2 * this.names.count),
      totals: [this.waits, this.waitNs, this.holds, this.calls, this.events],
      ends: this.ends,
      releases: this.looseReleases,
      returns: this.looseReturns,
    };
  }

  /**
   * hot-path2: add `p`, the part read in tail mode after this one, its ids mapped to this part's by
   * their bytes (interned here in `p`'s order, which is their first appearance in the whole file),
   * then replay what it kept against the state this part left open. That state is left as the
   * replay leaves it, not as the whole file would (nothing reads it after).
   */
  merge(p: Part): void {
    const names = p.names.map((x) => this.names.ofStr(x));
    const tasks = p.tasks.map((x) => this.tasks.ofStr(x));
    const keys = p.keys.map((x) => this.keys.ofStr(x));
    keys.forEach((m, k) => {
      this.gets[m] += p.gets[k];
      this.puts[m] += p.puts[k];
      if (p.gets[k] + p.puts[k] > 0) this.refcnt[m] = p.refcnt[k]; // the part's last value
    });
    this.addStats(p, keys, names);
    this.replay(p, tasks, keys);
  }

  private addStats(p: Part, keys: number[], names: number[]): void {
    const st = this.lockStats;
    keys.forEach((lock, k) => {
      for (const at of [0, 3]) {
        const [o, q] = [lock * 6 + at, k * 6 + at];
        st[o] += p.lockStats[q];
        st[o + 1] += p.lockStats[q + 1];
        st[o + 2] = Math.max(st[o + 2], p.lockStats[q + 2]);
      }
    });
    for (const [key, h] of p.hists) {
      const mine = this.hist(keys[key >> 1] * 2 + (key & 1));
      for (let b = 0; b < BUCKETS; b++) mine[b] += h[b];
    }
    names.forEach((f, n) => {
      this.fnStats[2 * f] += p.fnStats[2 * n];
      this.fnStats[2 * f + 1] += p.fnStats[2 * n + 1];
    });
    const [waits, waitNs, holds, calls, events] = p.totals;
    this.waits += waits;
    this.waitNs += waitNs;
    this.holds += holds;
    this.calls += calls;
    this.events += events;
  }

  private replay(p: Part, tasks: number[], keys: number[]): void {
    const e = p.ends;
    for (let i = 0; i < e.length; i += 4) {
      const key = tasks[e[i]] * MAX_IDS + keys[e[i + 1]];
      const start = this.waitStart.get(key) ?? e[i + 3];
      this.waitStart.delete(key);
      if (!Number.isNaN(start)) this.closeWait(keys[e[i + 1]], e[i + 2] - start);
    }
    const r = p.releases;
    for (let i = 0; i < r.length; i += 3) this.release(tasks[r[i]], r[i + 2], keys[r[i + 1]]);
    const c = p.returns;
    for (let i = 0; i < c.length; i += 2) if (this.callDepth[tasks[c[i]]] > 0) this.popCall(tasks[c[i]], c[i + 1]);
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

/** Every line of `file` from byte `from` (a line's start) to byte `to` to `floor`, comment lines (`#`) skipped. */
function readLines(file: string, floor: Floor, from = 0, to = Infinity): void {
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(8 << 20);
  let carry = 0;
  for (let at = from; ; ) {
    const n = readSync(fd, buf, carry, Math.min(buf.length - carry, to - at), at);
    at += n;
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

/** hot-path2's split: the start of the first line at or after the middle of `file` (its size if none). */
function splitAt(file: string): number {
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 16);
  try {
    const size = fstatSync(fd).size;
    for (let at = Math.max(0, Math.floor(size / 2) - 1), n = 0; (n = readSync(fd, buf, 0, buf.length, at)) > 0; at += n) {
      const nl = buf.indexOf(NL);
      if (nl >= 0 && nl < n) return at + nl + 1;
    }
    return size;
  } finally {
    closeSync(fd);
  }
}

interface TailJob {
  hotPathTail: { file: string; from: number };
}

/** The part of `file` from byte `from`, read in tail mode on a worker thread (this file, built). */
function readTail(file: string, from: number): Promise<Part> {
  const script = workerScript(new URL('./hot-path-floor.js', import.meta.url), new URL('../../dist/test/bench/hot-path-floor.js', import.meta.url), 'hot-path-floor');
  const job: TailJob = { hotPathTail: { file, from } };
  const worker = new Worker(script, { workerData: job });
  return new Promise<Part>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the worker exited (${code}) without its part`)));
  });
}

/** The worker's side of readTail: its part posted back. */
function tailWorker({ file, from }: TailJob['hotPathTail']): void {
  const floor = new Floor(true, true);
  readLines(file, floor, from);
  parentPort?.postMessage(floor.part());
}

export type FloorMode = 'awk-job' | 'hot-path' | 'hot-path2';

/**
 * `file` read by the floor of `mode`. hot-path2 is hot-path on two threads, as the issue designs
 * it: the file split at the first newline from its middle, the second part read on a worker while
 * this thread reads the first, then merged (Floor.merge). It reaches what hot-path reaches (counts,
 * module gets, puts and last refcnt, wait and hold statistics and histograms, calls per function)
 * but for one thing it skips: the depth cap (DEPTH) of the per-task hold and call stacks counts the
 * second part's own entries only, not those still open from the first. Where a task's stack is full
 * at the split (on the real capture: the tasks taking rwsems, whose down_read, up_read, ... probes
 * never return), the second part keeps pushes hot-path drops, and some releases and returns after
 * then pair with another entry than in hot-path. On the real capture repeated (the tests, and the
 * 1 GB bench trace) everything else is the same, the count of calls too; a few calls (20 of 24,420
 * in three copies) are counted to another function, with another start.
 */
async function readFloor(mode: FloorMode, file: string): Promise<Floor> {
  if (mode === 'hot-path2') {
    const mid = splitAt(file);
    const tail = readTail(file, mid);
    const floor = new Floor(true);
    readLines(file, floor, 0, mid);
    floor.merge(await tail);
    return floor;
  }
  const floor = new Floor(mode === 'hot-path');
  readLines(file, floor);
  return floor;
}

/** The floor's tables, counts and statistics after reading `file` (hot-path2: merged). */
export async function floorPart(mode: FloorMode, file: string): Promise<Part> {
  return (await readFloor(mode, file)).part();
}

/** What the floor prints for `file`: baseline.awk's lines (awk-job), and a count line (hot-path, hot-path2). */
export async function floorReport(mode: FloorMode, file: string): Promise<string> {
  const floor = await readFloor(mode, file);
  let out = '';
  // As baseline.awk's END: every module with a get, then the contended waits.
  for (let m = 0; m < floor.keys.count; m++) if (floor.gets[m] > 0) out += `${floor.keys.str(m)} gets=${floor.gets[m]} puts=${floor.puts[m]}\n`;
  out += `contended=${floor.waits} total_wait_s=${(floor.waitNs / 1e9).toFixed(6)}\n`;
  if (mode !== 'awk-job') out += `events=${floor.events} holds=${floor.holds} calls=${floor.calls} tasks=${floor.tasks.count} keys=${floor.keys.count}\n`;
  return out;
}

async function main(): Promise<void> {
  const [mode, file] = process.argv.slice(2);
  if (!file || (mode !== 'awk-job' && mode !== 'hot-path' && mode !== 'hot-path2')) throw new Error('usage: hot-path-floor.js awk-job|hot-path|hot-path2 FILE');
  process.stdout.write(await floorReport(mode, file));
}

const job = isMainThread ? undefined : (workerData as Partial<TailJob> | null)?.hotPathTail;
if (job) tailWorker(job);
else if (isMainThread && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`hot-path-floor: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
