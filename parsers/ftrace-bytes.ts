// The fast path of ftrace text (issue 17): the common event line read straight from the bytes of
// the input chunk, with no string made for the line. It handles one shape only, the one nearly
// every line of a `trace`, `trace_pipe` or `trace-cmd report` file has:
//   comm-pid [cpu] [flags] seconds.micros: name: payload
// (docs/trace-formats.md §1.3; kernel/trace/trace_output.c trace_print_context). Anything else
// (a `(tgid)` column, an integer clock, flags glued to the timestamp, a comm with trace-cmd's
// file prefix, a line that is not ASCII) returns false and the line takes the string path
// (ftrace-line.ts tokenizeFtraceLine, ftrace.ts), which gives it its full treatment. The checks
// below are those of tokenizeFtraceLine at the line's first `[`, so a line this path accepts is cut
// exactly as the string path would cut it.
import type { EventKind, TraceEvent } from './event.js';
import { internedBytes } from './intern.js';
import { type EventContext, decodeNamedEvent, decodeRest, makeEvent } from './payloads.js';

const SPACE = 32;
const LBRACKET = 91;
const RBRACKET = 93;
const RPAREN = 41;
const DASH = 45;
const COLON = 58;
const DOT = 46;

/** The fields of one line, in byte offsets of its chunk; refilled per line. */
export interface ByteTokens {
  comm: string;
  pid: number;
  cpu: number;
  tsStart: number;
  tsDot: number;
  tsEnd: number;
  /** First byte after `": "`. */
  restStart: number;
}

export function newByteTokens(): ByteTokens {
  return { comm: '', pid: 0, cpu: 0, tsStart: 0, tsDot: 0, tsEnd: 0, restStart: 0 };
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isFlagByte(c: number): boolean {
  return c === DOT || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Index of the first byte in [from, end) that is a space or a colon; `end` if none. */
function tokenEnd(buf: Buffer, from: number, end: number): number {
  let p = from;
  while (p < end) {
    const c = buf[p];
    if (c === SPACE || c === COLON) break;
    p++;
  }
  return p;
}

/**
 * Cut buf[start, end) into `out`. True when the line has the common shape at its first `[` (see
 * the top of the file); false sends it to the string path, whatever the reason.
 */
export function tokenizeBytes(buf: Buffer, start: number, end: number, out: ByteTokens): boolean {
  const b = buf.indexOf(LBRACKET, start);
  if (b <= start || b >= end) return false;
  // [cpu]
  let j = b + 1;
  let cpu = 0;
  while (j < end && isDigit(buf[j])) cpu = cpu * 10 + (buf[j++] - 48);
  if (j === b + 1 || j >= end || buf[j] !== RBRACKET) return false;
  // Left of [cpu]: -pid, then the comm (no `(tgid)` column here).
  let k = b - 1;
  while (k >= start && buf[k] === SPACE) k--;
  if (k < start || buf[k] === RPAREN) return false;
  const pidEnd = k;
  while (k >= start && isDigit(buf[k])) k--;
  if (k === pidEnd || k < start || buf[k] !== DASH || pidEnd - k > 15) return false;
  let pid = 0;
  for (let i = k + 1; i <= pidEnd; i++) pid = pid * 10 + (buf[i] - 48);
  let commStart = start;
  while (commStart < k && buf[commStart] === SPACE) commStart++;
  // A comm is at most 15 characters; a longer one carries trace-cmd's file prefix (string path).
  if (k - commStart > 16) return false;
  // Right of [cpu]: [flags] timestamp ":"
  let p = j + 1;
  while (p < end && buf[p] === SPACE) p++;
  let tokStart = p;
  p = tokenEnd(buf, p, end);
  if (p < end && buf[p] === SPACE) {
    const n = p - tokStart;
    if (n < 3 || n > 8) return false;
    for (let i = tokStart; i < p; i++) if (!isFlagByte(buf[i])) return false;
    while (p < end && buf[p] === SPACE) p++;
    tokStart = p;
    p = tokenEnd(buf, p, end);
  }
  if (p >= end || buf[p] !== COLON) return false;
  // [tokStart, p): seconds.micros, 1 to 15 digits of seconds.
  let dot = -1;
  for (let i = tokStart; i < p; i++) {
    const d = buf[i];
    if (d === DOT && dot < 0) dot = i;
    else if (!isDigit(d)) return false;
  }
  if (dot <= tokStart || dot === p - 1 || dot - tokStart > 15) return false;
  if (p + 2 >= end || buf[p + 1] !== SPACE) return false;
  out.comm = internedBytes.get(buf, commStart, k);
  out.pid = pid;
  out.cpu = cpu;
  out.tsStart = tokStart;
  out.tsDot = dot;
  out.tsEnd = p;
  out.restStart = p + 2;
  return true;
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
const MEMO_KINDS: ReadonlySet<EventKind> = new Set<EventKind>([
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
 * The decoded form of each `name: payload` text seen (issue 17): a real trace repeats a few hundred
 * texts millions of times (the same lock, rwsem and probe lines), so after the first the event is
 * its kind, name and fields found by an FNV-1a hash of the bytes and an exact byte compare, with no
 * string, no decoding and no new fields object. Bounded: it starts over when full.
 */
class DecodedMemo {
  private readonly table = new Int32Array(MEMO_SLOTS).fill(-1);
  private readonly pool = new Uint8Array(MEMO_POOL_BYTES);
  private poolUsed = 0;
  private hashes: number[] = [];
  private offsets: number[] = [];
  private lengths: number[] = [];
  private decoded: TraceEvent[] = [];
  /** Slot of the last miss, for store(). */
  private slot = 0;
  private hash = 0;

  /** The decoded event for buf[start, end), or null (then `store` may keep the decoding). */
  find(buf: Buffer, start: number, end: number): TraceEvent | null {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], 0x01000193);
    const mask = MEMO_SLOTS - 1;
    const n = end - start;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const id = this.table[slot];
      if (id < 0) {
        this.slot = slot;
        this.hash = h;
        return null;
      }
      if (this.hashes[id] === h && this.lengths[id] === n && this.same(this.offsets[id], buf, start, n)) return this.decoded[id];
    }
  }

  private same(off: number, buf: Buffer, start: number, n: number): boolean {
    const pool = this.pool;
    for (let i = 0; i < n; i++) if (pool[off + i] !== buf[start + i]) return false;
    return true;
  }

  /** Keep `ev`, decoded from buf[start, end), the text of the last find() that missed. */
  store(buf: Buffer, start: number, end: number, ev: TraceEvent): void {
    const n = end - start;
    if (this.decoded.length >= MEMO_MAX || this.poolUsed + n > MEMO_POOL_BYTES) {
      this.table.fill(-1);
      this.poolUsed = 0;
      this.hashes = [];
      this.offsets = [];
      this.lengths = [];
      this.decoded = [];
      return; // the slot found by find() is stale now; the next occurrence stores it
    }
    this.table[this.slot] = this.decoded.length;
    this.pool.set(buf.subarray(start, end), this.poolUsed);
    this.hashes.push(this.hash);
    this.offsets.push(this.poolUsed);
    this.lengths.push(n);
    this.decoded.push(ev);
    this.poolUsed += n;
    sharedFields.add(ev.fields);
  }
}

const memo = new DecodedMemo();

/** The fields objects the memo hands to many events: the event codec sends each once (event-codec.ts). */
export const sharedFields = new WeakSet<object>();

/**
 * decodeRest (payloads.ts) on buf[start, end): a text decoded before is taken from the memo;
 * otherwise `name: payload` with the name interned from its bytes and the payload the only string
 * made, every other form through decodeRest itself.
 */
export function decodeRestBytes(buf: Buffer, start: number, end: number, ctx: EventContext): TraceEvent {
  const memoable = end - start <= MEMO_KEY_MAX;
  if (memoable) {
    const hit = memo.find(buf, start, end);
    if (hit) return makeEvent(hit.kind, hit.name, ctx, hit.fields);
  }
  const n = identLengthBytes(buf, start, end);
  const after = start + n;
  if (n > 0 && after < end && buf[after] === COLON && (after + 1 === end || buf[after + 1] === SPACE)) {
    const name = internedBytes.get(buf, start, after);
    let p = after + 2;
    // trace-cmd pads the event name to 20 columns; the payload starts after the padding.
    while (p < end && buf[p] === SPACE) p++;
    const ev = decodeNamedEvent(name, p >= end ? '' : buf.toString('latin1', p, end), ctx);
    if (memoable && MEMO_KINDS.has(ev.kind)) memo.store(buf, start, end, ev);
    return ev;
  }
  return decodeRest(buf.toString('latin1', start, end), ctx);
}
