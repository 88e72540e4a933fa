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
    // FNV-1a over the UTF-16 code units.
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    const slot = (h >>> 0) & (SLOTS - 1);
    const prev = this.slots[slot];
    if (prev !== undefined && prev.length === n && text.startsWith(prev, start)) return prev;
    const s = text.slice(start, end);
    this.slots[slot] = s;
    return s;
  }
}

/** One interner for the whole process: the same names recur in every file of a run. */
export const interned = new SliceInterner();
