// Answers for the strings seen lately, in a small table indexed by a cheap hash of each string's
// length and last characters: a hit costs a few character reads and comparisons, where a Map or Set
// lookup costs a hash of the string and a probe (issue 17: questions asked on every event whose
// answer depends only on a few names: a probe's function, a lock's hashed pointer). A miss asks the
// slow way and replaces the slot; the answers stay exact, the table only saves asking.

/** Slots of a table (a power of two). */
export const RECENT_SLOTS = 64;

/** The slot of a string: names and pointers differ most in their length and last characters. */
export function recentSlot(s: string): number {
  const n = s.length;
  if (n < 2) return n;
  return (n * 7 + s.charCodeAt(n - 1) * 31 + s.charCodeAt(n - 2)) & (RECENT_SLOTS - 1);
}

/** Slots of a RecentPairs table (a power of two). */
export const PAIR_SLOTS = 256;

/**
 * The slot of a pair: the first string's, moved by the second's length. A probe's entry and return
 * events print the same function under two names (`f`, `f__return`): slotted by the function alone
 * they took one slot in turn, and every edge missed (issue 17).
 */
export function pairSlot(a: string, b: string): number {
  const n = a.length;
  const first = n < 2 ? n : n * 7 + a.charCodeAt(n - 1) * 31 + a.charCodeAt(n - 2);
  return (first + b.length * 37) & (PAIR_SLOTS - 1);
}

/** The answer of a question about a pair of strings (the second often the same for every pair). */
export class RecentPairs<V> {
  private readonly firsts: Array<string | null> = new Array<string | null>(PAIR_SLOTS).fill(null);
  private readonly seconds: string[] = new Array<string>(PAIR_SLOTS).fill('');
  private readonly answers: Array<V | null> = new Array<V | null>(PAIR_SLOTS).fill(null);

  /** The slot holding the answer for (a, b), or -1 when it is not kept (ask, then keep). */
  find(a: string, b: string): number {
    const slot = pairSlot(a, b);
    return this.firsts[slot] === a && this.seconds[slot] === b ? slot : -1;
  }

  /** The answer in a slot `find` returned. */
  at(slot: number): V {
    return this.answers[slot] as V;
  }

  keep(a: string, b: string, v: V): void {
    const slot = pairSlot(a, b);
    this.firsts[slot] = a;
    this.seconds[slot] = b;
    this.answers[slot] = v;
  }
}
