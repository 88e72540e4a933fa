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
