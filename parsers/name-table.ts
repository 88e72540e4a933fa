// Objects keyed by names that come from a trace (modules, call sites, functions, locks, sessions) or
// from a file a user hands over (saved reports, host summaries). A plain `{}` answers `constructor`,
// `toString` or `hasOwnProperty` from Object.prototype and swallows a `__proto__` key, so a module
// named `constructor` once counted `Object + 1`. Such tables are Maps, or objects made here: with a
// null prototype, every key is the trace's own.

/** An empty table, or a null-prototype copy of `init` (own keys only). */
export function nameTable<V>(init?: Readonly<Record<string, V>>): Record<string, V> {
  const t = Object.create(null) as Record<string, V>;
  if (init) for (const k of Object.keys(init)) t[k] = init[k];
  return t;
}

/** A constant lookup table (function names, lock names...) that trace names are looked up in. */
export function lookupTable<T extends object>(entries: T): T {
  return Object.freeze(nameTable(entries as Record<string, unknown>)) as T;
}

/** `rec[key] += n`, safe for any key. */
export function addCount(rec: Record<string, number>, key: string, n = 1): void {
  rec[key] = (Object.hasOwn(rec, key) ? rec[key] : 0) + n;
}

/** `rec[key]` when it is the record's own entry (a parsed JSON record has Object.prototype). */
export function own<V>(rec: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(rec, key) ? rec[key] : undefined;
}

// ---- bounded tables ---------------------------------------------------------------------------
// A trace chooses its own names (a process picks its comm, userspace its session names, a broken
// kernel prints anything), so a table keyed by them would grow with the input: 10^6 distinct lock
// addresses once took gigabytes. Every such table has a cap. Names the verdicts need (LUO locks and
// modules, names seen inside LUO calls) are "protected" and admitted up to a larger hard cap; the
// others past the cap are folded into one "(other N)" row whose counts stay true totals. Nothing
// is kept per folded name: how many distinct names were folded is estimated (linear counting on a
// fixed bitmap), the folded events are counted exactly.

/** Caps of one bounded table. */
export interface TableLimits {
  /** Names admitted in full, first come first kept. */
  cap: number;
  /** Protected names (the verdicts need them) are admitted up to this many in all. */
  hardCap: number;
}

export const limits = (cap: number, hardCap = cap * 4): TableLimits => ({ cap, hardCap: Math.max(cap, hardCap) });

/** The label of a fold row: `(other N)`, N = distinct names folded into it (an estimate past a few). */
export const foldLabel = (names: number): string => `(other ${names})`;

const FOLD_BITS = 1 << 20;

/** What a bounded table folded: events exactly, distinct names estimated in fixed memory (128 KiB, allocated on the first fold). */
export class FoldTally {
  events = 0;
  private bits: Uint32Array | null = null;
  private set = 0;

  add(name: string | number): void {
    this.events++;
    const bits = (this.bits ??= new Uint32Array(FOLD_BITS >>> 5));
    const h = hashName(name) & (FOLD_BITS - 1);
    const w = h >>> 5;
    const b = 1 << (h & 31);
    if ((bits[w] & b) === 0) {
      bits[w] |= b;
      this.set++;
    }
  }

  /** Distinct names folded: exact while collisions are rare, a linear-counting estimate beyond. */
  get names(): number {
    if (this.set === 0) return 0;
    const zero = FOLD_BITS - this.set;
    if (zero === 0) return FOLD_BITS * 16; // saturated: at least this many
    return Math.max(this.set, Math.round(-FOLD_BITS * Math.log(zero / FOLD_BITS)));
  }

  merge(o: FoldTally): void {
    this.events += o.events;
    if (!o.bits) return;
    const bits = (this.bits ??= new Uint32Array(FOLD_BITS >>> 5));
    let set = 0;
    for (let i = 0; i < bits.length; i++) {
      bits[i] |= o.bits[i];
      set += popcount(bits[i]);
    }
    this.set = set;
  }
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** FNV-1a of a name (numbers: of their value), spread by a final mix. */
function hashName(name: string | number): number {
  let h = 0x811c9dc5;
  if (typeof name === 'number') h = Math.imul(h ^ (name | 0), 0x01000193) ^ Math.imul((name / 4294967296) | 0, 0x85ebca6b);
  else for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/** The admission policy of a bounded table: is there room for one more name? Counts what it refuses. */
export class NameBudget {
  admitted = 0;
  readonly folded = new FoldTally();
  constructor(readonly limits: TableLimits) {}

  /** Room for a new name (counted as admitted), or false: the caller folds it (and calls `fold`). */
  admit(protect = false): boolean {
    if (this.admitted < this.limits.cap || (protect && this.admitted < this.limits.hardCap)) {
      this.admitted++;
      return true;
    }
    return false;
  }

  fold(name: string | number): void {
    this.folded.add(name);
  }

  /** A data-quality sentence, or null when nothing was folded. `what`: the table (e.g. "lock addresses"). */
  note(what: string): string | null {
    const f = this.folded;
    if (f.events === 0) return null;
    const protectedPart = this.limits.hardCap > this.limits.cap ? ` (${this.limits.hardCap} for names the verdicts need)` : '';
    return `${what}: more than ${this.limits.cap} distinct${protectedPart}; ${f.events} events of about ${f.names} more were counted in one "${foldLabel(f.names)}" row (memory bound)`;
  }
}

/**
 * A Map keyed by trace names, bounded: `row(key)` gives the key's own row while there is room (or
 * the key is protected), else the shared fold row, created on demand. Iteration (`entries`) gives the
 * kept rows; `other` is the fold row (null when nothing was folded).
 */
export class BoundedTable<K extends string | number, V> {
  private readonly map = new Map<K, V>();
  readonly budget: NameBudget;
  other: V | null = null;

  constructor(
    lim: TableLimits,
    private readonly make: (key: K | null) => V,
  ) {
    this.budget = new NameBudget(lim);
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** The row of `key`: its own (created while there is room), else the fold row. */
  row(key: K, protect = false): V {
    const v = this.map.get(key);
    if (v !== undefined) return v;
    if (this.budget.admit(protect)) {
      const n = this.make(key);
      this.map.set(key, n);
      return n;
    }
    this.budget.fold(key);
    return (this.other ??= this.make(null));
  }

  /** The row of `key` when it has its own, or may get one; null when it would be folded (nothing counted). */
  ownRow(key: K, protect = false): V | null {
    const v = this.map.get(key);
    if (v !== undefined) return v;
    if (!this.budget.admit(protect)) return null;
    const n = this.make(key);
    this.map.set(key, n);
    return n;
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  entries(): IterableIterator<[K, V]> {
    return this.map.entries();
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }

  keys(): IterableIterator<K> {
    return this.map.keys();
  }

  /** The data-quality note (see NameBudget.note). */
  note(what: string): string | null {
    return this.budget.note(what);
  }
}

/** `addCount`, bounded: past `lim.cap` distinct keys, counts go to one `(other)` key of `rec` (see foldKey). */
export function addCountBounded(rec: Record<string, number>, budget: NameBudget, key: string, n = 1): void {
  if (Object.hasOwn(rec, key)) rec[key] += n;
  else if (budget.admit()) rec[key] = n;
  else {
    budget.fold(key);
    addCount(rec, FOLD_KEY, n);
  }
}

/** The key under which a bounded record (addCountBounded) keeps its folded counts; see `foldLabel` for display. */
export const FOLD_KEY = '(other)';

/**
 * `fn` answered once per distinct string: for the per-event questions whose answer depends only on
 * a name (a call site's class, a syscall's caller label). Bounded: a hostile trace with endless
 * distinct names empties the table instead of growing it.
 */
export function memoByName<V>(fn: (name: string) => V, max = 4096): (name: string) => V {
  const table = new Map<string, V>();
  return (name) => {
    let v = table.get(name);
    if (v === undefined && !table.has(name)) {
      if (table.size >= max) table.clear();
      v = fn(name);
      table.set(name, v);
    }
    return v as V;
  };
}
