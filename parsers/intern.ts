// Interning of the short strings that repeat across millions of trace lines: event names, lock
// pointers and names, module names, call sites, probe argument names and values.
//
// Why: cutting `text.slice(a, b)` allocates a fresh string per line, and every Map lookup on a
// fresh string hashes it again (V8 caches the hash on the string object). Reading the characters
// in place and returning the string already made for the same characters allocates nothing for a
// repeat, and hands the analyses strings whose hashes are already computed. The cache is
// direct-mapped (one slot per hash value, a newer string evicts the older one), so its memory is
// fixed whatever the input, and a miss costs only the slice the code did before.

const SLOTS = 4096;
/** Longer strings (paths, free text) are rarely repeated: sliced as before. */
const MAX_INTERNED = 64;

export class SliceInterner {
  private readonly slots: Array<string | undefined> = new Array(SLOTS);

  /** text.slice(start, end), or the equal string returned before. */
  slice(text: string, start: number, end: number): string {
    const n = end - start;
    if (n <= 0) return '';
    if (n > MAX_INTERNED) return text.slice(start, end);
    // A hash of the length and five sampled characters, not of all of them: hashing every
    // character in JavaScript cost more than the slice it saves. The samples are where repeated
    // strings differ (the low digits of pointers, the ends of names); a collision only costs a slice.
    let h = Math.imul(n, 0x9e3779b1);
    h = Math.imul(h ^ text.charCodeAt(end - 1), 0x85ebca6b);
    h = Math.imul(h ^ text.charCodeAt(start + (n >> 1)), 0xc2b2ae35);
    if (n > 2) {
      h = Math.imul(h ^ text.charCodeAt(end - 2), 0x27d4eb2f);
      h = Math.imul(h ^ text.charCodeAt(end - 3), 0x165667b1);
      h = Math.imul(h ^ text.charCodeAt(start), 0x85ebca6b);
    }
    const slot = (h ^ (h >>> 15)) & (SLOTS - 1);
    const prev = this.slots[slot];
    if (prev !== undefined && prev.length === n && sameChars(prev, text, start)) return prev;
    const s = text.slice(start, end);
    this.slots[slot] = s;
    return s;
  }
}

/** Does text hold `s` at `start`? (A loop: cheaper than a native startsWith call for short strings.) */
function sameChars(s: string, text: string, start: number): boolean {
  for (let i = s.length - 1; i >= 0; i--) if (s.charCodeAt(i) !== text.charCodeAt(start + i)) return false;
  return true;
}

/** One interner for the whole process: the same names recur in every file of a run. */
export const interned = new SliceInterner();

/** Strings the byte interner holds before it starts over (memory stays bounded on hostile input). */
const BYTE_INTERN_MAX = 1 << 15;
const BYTE_TABLE_SLOTS = BYTE_INTERN_MAX * 2;

/**
 * Interning straight from the bytes of a line (parsers/ftrace-bytes.ts): an FNV-1a hash over all
 * the bytes into an open-addressing table, with an exact byte compare, so a repeated name, comm or
 * pointer costs a hash and a compare and no string at all. Only for ASCII (latin1) bytes: the
 * string is their latin1 decoding, which is what the line string would have held.
 */
export class ByteInterner {
  private table = new Int32Array(BYTE_TABLE_SLOTS).fill(-1);
  private strings: string[] = [];
  private hashes: number[] = [];

  get(buf: Buffer, start: number, end: number): string {
    const n = end - start;
    if (n <= 0) return '';
    if (n > MAX_INTERNED) return buf.toString('latin1', start, end);
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], 0x01000193);
    const mask = BYTE_TABLE_SLOTS - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const id = this.table[slot];
      if (id < 0) return this.add(slot, h, buf, start, end);
      if (this.hashes[id] === h && sameBytes(this.strings[id], buf, start, n)) return this.strings[id];
    }
  }

  private add(slot: number, h: number, buf: Buffer, start: number, end: number): string {
    const s = buf.toString('latin1', start, end);
    if (this.strings.length >= BYTE_INTERN_MAX) {
      // Full (a trace with more distinct short strings than any real one): start over.
      this.table.fill(-1);
      this.strings = [];
      this.hashes = [];
      return s;
    }
    this.table[slot] = this.strings.length;
    this.strings.push(s);
    this.hashes.push(h);
    return s;
  }
}

function sameBytes(s: string, buf: Buffer, start: number, n: number): boolean {
  if (s.length !== n) return false;
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) !== buf[start + i]) return false;
  return true;
}

/** The byte interner of the process (names and comms recur in every file of a run). */
export const internedBytes = new ByteInterner();
