// Lists of rows the analyses build from a trace: grouped by a key, and capped per segment with the
// rest counted by class. A trace is attacker-controlled text and can hold any number of rows (1.5 M
// register calls once took 3.6 GB, 10^5 rmmods 320 MB), so the reports list the first rows of each
// segment and count the others by what the verdicts read of them (docs/luo-model.md §4
// "Registrations on hostile input").

/** Items grouped by a key, each group in the items' order. */
export function groupBy<T, K>(items: Iterable<T>, key: (item: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = out.get(k);
    if (list) list.push(it);
    else out.set(k, [it]);
  }
  return out;
}

/** A class of rows past the cap: its fields (its segment among them) and how many rows it counts. */
export type Counted<C> = C & { count: number };

/**
 * The first `rows` rows of each segment are listed (admit); the others are counted by class (of). Past
 * `maxClasses` classes, a new class is counted under `fold(class)` (e.g. its module folded), so the
 * classes stay bounded too. Classes keep the order they were first seen in.
 */
export class CountedPast<C extends { segment: number }> {
  private readonly listed = new Map<number, number>();
  private readonly classes = new Map<string, Counted<C>>();

  constructor(
    private readonly rows: number,
    private readonly maxClasses = Number.POSITIVE_INFINITY,
    private readonly fold: (c: C) => C = (c) => c,
  ) {}

  /** One more row in `segment`: true while the segment has room (the row is listed), false past it. */
  admit(segment: number): boolean {
    const n = this.listed.get(segment) ?? 0;
    if (n >= this.rows) return false;
    this.listed.set(segment, n + 1);
    return true;
  }

  /** The class of `c` (a new one counts 0). */
  of(c: C): Counted<C> {
    const key = JSON.stringify(c);
    let row = this.classes.get(key);
    if (row) return row;
    if (this.classes.size >= this.maxClasses) {
      const folded = this.fold(c);
      if (JSON.stringify(folded) !== key) return this.of(folded);
    }
    this.classes.set(key, (row = { ...c, count: 0 }));
    return row;
  }

  /** Distinct classes so far. */
  get size(): number {
    return this.classes.size;
  }

  values(): IterableIterator<Counted<C>> {
    return this.classes.values();
  }

  /** The classes of these segments with a count, summed across the segments (left out), in first-seen order; `more` are counted alike. */
  json(segIds: ReadonlySet<number>, more: Iterable<Counted<C>> = []): Array<Counted<Omit<C, 'segment'>>> {
    const out = new Map<string, Counted<Omit<C, 'segment'>>>();
    for (const list of [this.classes.values(), more]) {
      for (const c of list) {
        if (c.count === 0 || !segIds.has(c.segment)) continue;
        const { segment: _segment, count, ...rest } = c;
        const key = JSON.stringify(rest);
        const row = out.get(key);
        if (row) row.count += count;
        else out.set(key, { ...(rest as Omit<C, 'segment'>), count });
      }
    }
    return [...out.values()];
  }
}
