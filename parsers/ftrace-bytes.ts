// The fast path of ftrace text (issue 17): the common event line read straight from the bytes of
// the input chunk, with no string made for the line. It handles one shape only, the one nearly
// every line of a `trace`, `trace_pipe` or `trace-cmd report` file has:
//   comm-pid [(tgid)] [cpu] [flags] seconds.micros: name: payload
// (docs/trace-formats.md §1.3; kernel/trace/trace_output.c trace_print_context; the `(tgid)` column
// with options/record-tgid). Anything else (an integer clock, flags glued to the timestamp, a comm
// with trace-cmd's file prefix, a line that is not ASCII) returns false and the line takes the string path
// (ftrace-line.ts tokenizeFtraceLine, ftrace.ts), which gives it its full treatment. The checks
// below are those of tokenizeFtraceLine at the line's first `[`, so a line this path accepts is cut
// exactly as the string path would cut it.
import type { EventKind, TraceEvent } from './event.js';
import { internedBytes } from './intern.js';
import { eventPairId } from './quality.js';
import { type EventContext, decodeNamedEvent, decodeRest, makeEvent } from './payloads.js';

const SPACE = 32;
const LBRACKET = 91;
const RBRACKET = 93;
const LPAREN = 40;
const RPAREN = 41;
const DASH = 45;
const COLON = 58;
const DOT = 46;

/** The fields of one line, in byte offsets of its chunk; refilled per line. */
export interface ByteTokens {
  comm: string;
  pid: number;
  /** The `(tgid)` column's number; null when there is none or it is printed as dashes. */
  tgid: number | null;
  cpu: number;
  /** The timestamp: whole seconds, and the fraction in ns (digits past the ninth ignored, as SourceClock.decimal does). */
  sec: number;
  ns: number;
  /** First byte after `": "`. */
  restStart: number;
}

export function newByteTokens(): ByteTokens {
  return { comm: '', pid: 0, tgid: null, cpu: 0, sec: 0, ns: 0, restStart: 0 };
}

/** The comm last seen with each pid (by pid modulo COMM_SLOTS): a task keeps its comm for many lines. */
const COMM_SLOTS = 1024;
const commByPid: string[] = new Array<string>(COMM_SLOTS).fill('');

/** The comm in buf[start, end) of the task `pid`: the string of its last line when the bytes are the same. */
function commOf(pid: number, buf: Buffer, start: number, end: number): string {
  const slot = pid & (COMM_SLOTS - 1);
  const last = commByPid[slot];
  const n = end - start;
  if (last.length === n && n > 0) {
    let i = 0;
    while (i < n && last.charCodeAt(i) === buf[start + i]) i++;
    if (i === n) return last;
  }
  const comm = internedBytes.get(buf, start, end);
  commByPid[slot] = comm;
  return comm;
}

const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000];

function isFlagByte(c: number): boolean {
  return c === DOT || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * Cut buf[start, end) into `out`. True when the line has the common shape at its first `[` (see
 * the top of the file); false sends it to the string path, whatever the reason. It runs once per
 * line, so each byte of the prefix is read once where it can be: plain loops (no native indexOf,
 * whose call costs more than the scan), the leading spaces skipped on the way to `[`, the flags
 * checked while they are scanned, the timestamp checked and converted in one pass.
 */
export function tokenizeBytes(buf: Buffer, start: number, end: number, out: ByteTokens): boolean {
  let commStart = start;
  while (commStart < end && buf[commStart] === SPACE) commStart++;
  let b = commStart;
  while (b < end && buf[b] !== LBRACKET) b++;
  if (b === start || b >= end) return false;
  // [cpu]
  let j = b + 1;
  let cpu = 0;
  let c = 0;
  while (j < end && (c = buf[j] - 48) >= 0 && c <= 9) {
    cpu = cpu * 10 + c;
    j++;
  }
  if (j === b + 1 || j >= end || buf[j] !== RBRACKET) return false;
  // Left of [cpu]: an optional (tgid), -pid, then the comm.
  let k = b - 1;
  while (k >= start && buf[k] === SPACE) k--;
  if (k < start) return false;
  let tgid: number | null = null;
  if (buf[k] === RPAREN) {
    const t = tgidBefore(buf, start, k);
    if (t === TGID_BAD) return false;
    tgid = t === TGID_DASHES ? null : t;
    k = tgidOpen - 1;
    while (k >= start && buf[k] === SPACE) k--;
    if (k < start) return false;
  }
  const pidEnd = k;
  while (k >= start && (c = buf[k]) >= 48 && c <= 57) k--;
  if (k === pidEnd || k < start || buf[k] !== DASH || pidEnd - k > 15) return false;
  let pid = 0;
  for (let i = k + 1; i <= pidEnd; i++) pid = pid * 10 + (buf[i] - 48);
  // commStart <= k: buf[k] is the dash. A comm is at most 15 characters; a longer one carries
  // trace-cmd's file prefix (ftrace.ts withoutFilePrefix), cut here the same way; anything else
  // takes the string path.
  if (k - commStart > 16) {
    commStart = afterFilePrefix(buf, commStart, k);
    if (commStart < 0 || k - commStart > 16) return false;
  }
  // Right of [cpu]: [flags] timestamp ":"
  let p = j + 1;
  while (p < end && buf[p] === SPACE) p++;
  let tokStart = p;
  let flagBytes = true;
  while (p < end && (c = buf[p]) !== SPACE && c !== COLON) {
    if (!isFlagByte(c)) flagBytes = false;
    p++;
  }
  if (p < end && c === SPACE) {
    const n = p - tokStart;
    if (n < 3 || n > 8 || !flagBytes) return false;
    while (p < end && buf[p] === SPACE) p++;
    tokStart = p;
  }
  // From tokStart: seconds.micros then ":", 1 to 15 digits of seconds (as tokenizeFtraceLine and
  // SourceClock.decimal read them).
  p = tokStart;
  let sec = 0;
  while (p < end && (c = buf[p] - 48) >= 0 && c <= 9) {
    sec = sec * 10 + c;
    p++;
  }
  const dot = p;
  if (dot === tokStart || dot - tokStart > 15 || dot >= end || buf[dot] !== DOT) return false;
  p++;
  let frac = 0;
  while (p < end && (c = buf[p] - 48) >= 0 && c <= 9) {
    if (p - dot <= 9) frac = frac * 10 + c;
    p++;
  }
  const digits = p - dot - 1;
  if (digits === 0 || p >= end || buf[p] !== COLON) return false;
  if (p + 2 >= end || buf[p + 1] !== SPACE) return false;
  out.comm = commOf(pid, buf, commStart, k);
  out.pid = pid;
  out.tgid = tgid;
  out.cpu = cpu;
  out.sec = sec;
  out.ns = digits >= 9 ? frac : frac * POW10[9 - digits];
  out.restStart = p + 2;
  return true;
}

const TGID_BAD = -1;
const TGID_DASHES = -2;
/** Where the last `(tgid)` read by tgidBefore opens. */
let tgidOpen = 0;

/**
 * Where the comm starts after `trace-cmd report -i a.dat -i b.dat`'s `"%*s: "` file prefix in
 * buf[start, end) (tracecmd/trace-read.c print_handle_file): the bytes after `name: ` and its
 * padding, as withoutFilePrefix's `^\S+: +(\S.*)$` reads the comm string; -1 when that pattern
 * does not hold on plain printable bytes (the string path then decides).
 */
function afterFilePrefix(buf: Buffer, start: number, end: number): number {
  let s = start;
  while (s < end && buf[s] > SPACE) s++;
  if (s >= end || buf[s] !== SPACE || s - start < 2 || buf[s - 1] !== COLON) return -1;
  let q = s + 1;
  while (q < end && buf[q] === SPACE) q++;
  return q < end && buf[q] > SPACE ? q : -1;
}

/**
 * The `(tgid)` column that closes at buf[close]: `(` spaces digits `)` gives the number, `(` spaces
 * dashes `)` TGID_DASHES (unknown), anything else TGID_BAD: the shapes tokenizeFtraceLine accepts
 * from the nearest `(` before it. Sets tgidOpen.
 */
function tgidBefore(buf: Buffer, start: number, close: number): number {
  let t = close - 1;
  let c = buf[t];
  let dashes = false;
  if (c >= 48 && c <= 57) {
    while (t >= start && (c = buf[t]) >= 48 && c <= 57) t--;
    if (close - 1 - t > 15) return TGID_BAD;
  } else if (c === DASH) {
    while (t >= start && buf[t] === DASH) t--;
    dashes = true;
  } else {
    return TGID_BAD;
  }
  const firstDigit = t + 1;
  while (t >= start && buf[t] === SPACE) t--;
  if (t < start || buf[t] !== LPAREN) return TGID_BAD;
  tgidOpen = t;
  if (dashes) return TGID_DASHES;
  let v = 0;
  for (let i = firstDigit; i < close; i++) v = v * 10 + (buf[i] - 48);
  return v;
}

/** Length of the event-name identifier at buf[start] (letters, digits, `_`, `.`), as identLength. */
export function identLengthBytes(buf: Buffer, start: number, end: number): number {
  let i = start;
  for (; i < end; i++) {
    const c = buf[i];
    if (!(c === 95 || c === 46 || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122))) break;
  }
  return i - start;
}

/**
 * Kinds whose decoding is a function of `name: payload` alone and whose fields nobody changes after
 * decoding (the parsers extend only markers, generic events and stacks, ftrace.ts notAnEvent), so
 * one fields object can serve every event with the same text.
 */
export const MEMO_KINDS: ReadonlySet<EventKind> = new Set<EventKind>([
  'module_get',
  'module_put',
  'contention_begin',
  'contention_end',
  'lock_acquire',
  'lock_release',
  'lock_contended',
  'lock_acquired',
  'contended_release',
  'kprobe',
  'kretprobe',
  'fentry',
  'fexit',
]);
/** Table slots (a power of 2), entries before the memo starts over, longest text kept, key bytes. */
const MEMO_SLOTS = 1 << 13;
const MEMO_MAX = MEMO_SLOTS >> 1;
const MEMO_KEY_MAX = 192;
const MEMO_POOL_BYTES = 1 << 19;

/**
 * The memory of `buf` as 32-bit words (see DecodedMemo.find) and buf's offset in it; the view of the
 * last buffer is kept (the lines of a chunk come one after the other).
 */
let wordsFor: Buffer | null = null;
let words: Int32Array<ArrayBufferLike> = new Int32Array(0);
let wordsByteOffset = 0;
function wordView(buf: Buffer): Int32Array<ArrayBufferLike> {
  if (buf !== wordsFor) {
    const ab = buf.buffer;
    words = new Int32Array(ab, 0, ab.byteLength >> 2);
    wordsByteOffset = buf.byteOffset;
    wordsFor = buf;
  }
  return words;
}

/** Does this machine store the low byte of a word first? (How the bytes of a text make its words.) */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const FNV_PRIME = 0x01000193;

/**
 * The decoded form of each `name: payload` text seen (issue 17): a real trace repeats a few hundred
 * texts millions of times (the same lock, rwsem and probe lines), so after the first the event is
 * its kind, name and fields found by a hash of the bytes and an exact compare, with no string, no
 * decoding and no new fields object. Bounded: it starts over when full.
 *
 * The text is read four bytes at a time (a byte at a time cost most of the parser's work per line):
 * its words are made from the aligned 32-bit words of the memory that holds it (two loads and two
 * shifts when the text does not start on a word boundary), hashed, and compared with the words of
 * the kept copy, which starts on a word boundary of the pool.
 */
class DecodedMemo {
  private readonly table = new Int32Array(MEMO_SLOTS).fill(-1);
  private readonly pool = new Uint8Array(MEMO_POOL_BYTES);
  private readonly pool32 = new Int32Array(this.pool.buffer);
  private poolUsed = 0;
  /** Per entry: its hash, length and pool offset, side by side (one cache line for a lookup). */
  private readonly meta = new Int32Array(3 * MEMO_MAX);
  private decoded: TraceEvent[] = [];
  /** Per entry: its event's (name, kind) number (quality.ts eventPairId). */
  private readonly pairs = new Int32Array(MEMO_MAX);
  /** The pair number of the entry the last find() returned. */
  hitPair = -1;
  /** The words of the text being looked up (MEMO_KEY_MAX bytes at most). */
  private readonly key = new Int32Array(MEMO_KEY_MAX >> 2);
  /** Slot of the last miss, for store(). */
  private slot = 0;
  private hash = 0;

  /** The decoded event for buf[start, end), or null (then `store` may keep the decoding). */
  find(buf: Buffer, start: number, end: number): TraceEvent | null {
    const w = wordView(buf);
    const s = wordsByteOffset + start;
    const n = end - start;
    const nw = n >> 2;
    const key = this.key;
    const i = s >> 2;
    const shift = 8 * (s & 3);
    // Two hashes, of the even and of the odd words: each multiply waits only for its own lane's.
    let h = Math.imul(0x811c9dc5 ^ n, FNV_PRIME);
    let g = 0x2545f491;
    let k = 0;
    if (shift === 0) {
      for (; k + 1 < nw; k += 2) {
        h = Math.imul(h ^ (key[k] = w[i + k]), FNV_PRIME);
        g = Math.imul(g ^ (key[k + 1] = w[i + k + 1]), FNV_PRIME);
      }
      if (k < nw) h = Math.imul(h ^ (key[k] = w[i + k]), FNV_PRIME);
    } else {
      // Word k of the text straddles aligned words i+k and i+k+1 (both inside the text's bytes).
      const back = 32 - shift;
      let cur = w[i];
      for (; k + 1 < nw; k += 2) {
        const n1 = w[i + k + 1];
        const n2 = w[i + k + 2];
        h = Math.imul(h ^ (key[k] = LITTLE_ENDIAN ? (cur >>> shift) | (n1 << back) : (cur << shift) | (n1 >>> back)), FNV_PRIME);
        g = Math.imul(g ^ (key[k + 1] = LITTLE_ENDIAN ? (n1 >>> shift) | (n2 << back) : (n1 << shift) | (n2 >>> back)), FNV_PRIME);
        cur = n2;
      }
      if (k < nw) {
        const n1 = w[i + k + 1];
        h = Math.imul(h ^ (key[k] = LITTLE_ENDIAN ? (cur >>> shift) | (n1 << back) : (cur << shift) | (n1 >>> back)), FNV_PRIME);
      }
    }
    h = Math.imul(h ^ g, FNV_PRIME);
    for (let j = start + 4 * nw; j < end; j++) h = Math.imul(h ^ buf[j], FNV_PRIME);
    h ^= h >>> 15;
    const mask = MEMO_SLOTS - 1;
    const meta = this.meta;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const id = this.table[slot];
      if (id < 0) {
        this.slot = slot;
        this.hash = h;
        return null;
      }
      if (meta[3 * id] === h && meta[3 * id + 1] === n && this.same(meta[3 * id + 2], nw, buf, start + 4 * nw, end)) {
        this.hitPair = this.pairs[id];
        return this.decoded[id];
      }
    }
  }

  /** The kept text at pool[off...] equals the key's nw words and then buf[from, end)? */
  private same(off: number, nw: number, buf: Buffer, from: number, end: number): boolean {
    const pool32 = this.pool32;
    const key = this.key;
    const o = off >> 2;
    for (let k = 0; k < nw; k++) if (pool32[o + k] !== key[k]) return false;
    const pool = this.pool;
    const tail = off + 4 * nw - from;
    for (let j = from; j < end; j++) if (pool[tail + j] !== buf[j]) return false;
    return true;
  }

  /** Keep `ev`, decoded from buf[start, end), the text of the last find() that missed. */
  store(buf: Buffer, start: number, end: number, ev: TraceEvent): void {
    const n = end - start;
    const off = (this.poolUsed + 3) & ~3;
    const id = this.decoded.length;
    if (id >= MEMO_MAX || off + n > MEMO_POOL_BYTES) {
      this.table.fill(-1);
      this.poolUsed = 0;
      this.decoded = [];
      return; // the slot found by find() is stale now; the next occurrence stores it
    }
    this.table[this.slot] = id;
    this.pool.set(buf.subarray(start, end), off);
    this.meta[3 * id] = this.hash;
    this.meta[3 * id + 1] = n;
    this.meta[3 * id + 2] = off;
    this.decoded.push(ev);
    this.pairs[id] = eventPairId(ev.name, ev.kind);
    this.poolUsed = off + n;
    sharedFields.add(ev.fields);
  }
}

const memo = new DecodedMemo();

/** The fields objects the memo hands to many events: the event codec sends each once (event-codec.ts). */
export const sharedFields = new WeakSet<object>();

/**
 * The (name, kind) number (quality.ts eventPairId) of the event the last decodeRestBytes took from
 * the memo, -1 when it decoded the text: such an event is of a memo kind (never held back by the
 * parser, ftrace.ts accept) and its counter in the ledger is found by this number.
 */
export let decodedPair = -1;

/**
 * decodeRest (payloads.ts) on buf[start, end): a text decoded before is taken from the memo;
 * otherwise `name: payload` with the name interned from its bytes and the payload the only string
 * made, every other form through decodeRest itself.
 */
export function decodeRestBytes(buf: Buffer, start: number, end: number, ctx: EventContext): TraceEvent {
  const memoable = end - start <= MEMO_KEY_MAX;
  if (memoable) {
    const hit = memo.find(buf, start, end);
    if (hit) {
      decodedPair = memo.hitPair;
      return makeEvent(hit.kind, hit.name, ctx, hit.fields);
    }
  }
  decodedPair = -1;
  const n = identLengthBytes(buf, start, end);
  const after = start + n;
  if (n > 0 && after < end && buf[after] === COLON && (after + 1 === end || buf[after + 1] === SPACE)) {
    const name = internedBytes.get(buf, start, after);
    let p = after + 2;
    // trace-cmd pads the event name to 20 columns; the payload starts after the padding.
    while (p < end && buf[p] === SPACE) p++;
    const ev = decodeNamedEvent(name, p >= end ? '' : buf.toString('latin1', p, end), ctx);
    if (memoable && (MEMO_KINDS.has(ev.kind) || isSyscall(ev.kind))) memo.store(buf, start, end, ev);
    return ev;
  }
  const ev = decodeRest(buf.toString('latin1', start, end), ctx);
  if (memoable && isSyscall(ev.kind)) memo.store(buf, start, end, ev);
  return ev;
}

/**
 * Syscall events, as tracefs prints them (`sys_ioctl(fd: 3, ...)`, `sys_ioctl -> 0x0`) or trace-cmd
 * (`sys_enter_ioctl: fd: ...`): decoded from the text alone (payloads.ts decodeTracefsSyscall,
 * decodeNamedEvent) and never changed after, so the memo keeps them too (not in MEMO_KINDS, which
 * the bpftrace text memo also follows).
 */
function isSyscall(kind: EventKind): boolean {
  return kind === 'syscall_enter' || kind === 'syscall_exit';
}
