// Lists of rows the analyses build from a trace: grouped by a key, and capped per segment with the
// rest counted by class. A trace is attacker-controlled text and can hold any number of rows (1.5 M
// register calls once took 3.6 GB, 10^5 rmmods 320 MB, 2·10^5 failed kexec attempts 818 MB), so the
// reports list the first rows of each segment and count the others by what the verdicts read of them
// (docs/luo-model.md §4 "Registrations on hostile input", "Global phases on hostile input").

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

/**
 * The first `cap` items, the latest one past them, and how many in all: a list that a loop (insmod and
 * rmmod again and again) or a forged trace can make any length, read for its first and last items.
 */
export class FirstAndLatest<T> {
  readonly first: T[] = [];
  /** The latest item past the first `cap`, if any. */
  latest: T | null = null;
  count = 0;

  constructor(private readonly cap: number) {}

  push(item: T): void {
    this.count++;
    if (this.first.length < this.cap) this.first.push(item);
    else this.latest = item;
  }

  /** The item pushed last. */
  last(): T | undefined {
    return this.latest ?? this.first[this.first.length - 1];
  }

  /** The items kept, in the order pushed. */
  listed(): T[] {
    return this.latest === null ? this.first : [...this.first, this.latest];
  }
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

/** What CappedPhases reads of a phase (analyses/luo/sessions.ts GlobalPhase, typed here by shape: lists.ts imports nothing of luo/). */
export interface CappablePhase {
  segment: number;
  name: string;
  func: string;
  result: number | null;
  error: string | null;
  durationNs: number | null;
  acrossLoss?: boolean;
}

/**
 * Phases of one name and function past the list's cap, as the phase rules read them (the JSON
 * report's `globalPhasesOmitted`, summed over a boot's segments).
 */
export interface PhaseTally {
  name: string;
  func: string;
  count: number;
  /** Those that returned an error (result < 0), by errno name (past MAX_ERROR_NAMES names: `other`). */
  errors: Record<string, number>;
  /** Those with a duration (both ends in the trace, nothing lost between): totalNs and maxNs are over them. */
  measured: number;
  totalNs: number;
  maxNs: number | null;
  /** Those with events lost between their call and their return: not measurable, maybe longer than any measured. */
  acrossLoss: number;
}

/** Distinct errno names kept per tally: a return value is trace text, `errno N` can take any N. */
const MAX_ERROR_NAMES = 64;

function tallyInto(t: PhaseTally, p: CappablePhase): void {
  t.count++;
  if (p.result !== null && p.result < 0) {
    const known = Object.keys(t.errors).length < MAX_ERROR_NAMES || (p.error ?? '') in t.errors;
    const key = known ? (p.error ?? String(p.result)) : 'other';
    t.errors[key] = (t.errors[key] ?? 0) + 1;
  }
  if (p.acrossLoss) t.acrossLoss++;
  if (p.durationNs === null) return;
  t.measured++;
  t.totalNs += p.durationNs;
  if (t.maxNs === null || p.durationNs > t.maxNs) t.maxNs = p.durationNs;
}

function mergeTally(into: PhaseTally, t: PhaseTally): void {
  into.count += t.count;
  for (const [k, n] of Object.entries(t.errors)) into.errors[k] = (into.errors[k] ?? 0) + n;
  into.measured += t.measured;
  into.totalNs += t.totalNs;
  if (t.maxNs !== null && (into.maxNs === null || t.maxNs > into.maxNs)) into.maxNs = t.maxNs;
  into.acrossLoss += t.acrossLoss;
}

const emptyTally = (p: { name: string; func: string }): PhaseTally => ({ name: p.name, func: p.func, count: 0, errors: {}, measured: 0, totalNs: 0, maxNs: null, acrossLoss: 0 });

/**
 * Phases listed up to `rows` per segment, the rest tallied by name and function once they return
 * (a phase is made at its call and completed at its return: `closed`). One phase per segment stays
 * listed past the cap: the last that `keepLast` picks (the last liveupdate_reboot decides whether the
 * kexec happened: docs/luo-model.md §4 "Global phases on hostile input"); the one it replaces is
 * tallied. Listed phases keep the order they came in.
 */
export class CappedPhases<P extends CappablePhase> {
  private readonly rows: P[] = [];
  private readonly admitted: CountedPast<{ segment: number }>;
  /** The kept last phase of each segment past the cap: `at` = rows listed before it, `seq` = order among these. */
  private readonly last = new Map<number, { p: P; at: number; seq: number; closed: boolean }>();
  private seq = 0;
  /** Past the cap and not tallied yet: their return has not come (at most the calls open now). */
  private readonly open = new Set<P>();
  private readonly tallies = new Map<string, PhaseTally & { segment: number }>();

  constructor(
    rows: number,
    private readonly keepLast: (p: P) => boolean,
  ) {
    this.admitted = new CountedPast(rows);
  }

  /** A phase at its call (or already complete: then `closed` right after). */
  add(p: P): void {
    if (this.admitted.admit(p.segment)) {
      this.rows.push(p);
      return;
    }
    if (!this.keepLast(p)) {
      this.open.add(p);
      return;
    }
    const prev = this.last.get(p.segment);
    this.last.set(p.segment, { p, at: this.rows.length, seq: this.seq++, closed: false });
    if (prev?.closed) this.tally(prev.p);
    else if (prev) this.open.add(prev.p);
  }

  /** Its return came, or never will (the call was dropped): a phase past the cap is tallied now, as it ended. */
  closed(p: object): void {
    if (this.open.delete(p as P)) return this.tally(p as P);
    const l = this.last.get((p as Partial<P>).segment ?? -1);
    if (l?.p === p) l.closed = true;
  }

  private tally(p: P): void {
    const key = `${p.segment}\u0000${p.name}\u0000${p.func}`;
    let t = this.tallies.get(key);
    if (!t) this.tallies.set(key, (t = { segment: p.segment, ...emptyTally(p) }));
    tallyInto(t, p);
  }

  /** The listed phases of these segments, in the order they came. */
  listed(segIds: ReadonlySet<number>): P[] {
    const kept = [...this.last.values()].filter((l) => segIds.has(l.p.segment)).sort((a, b) => a.seq - b.seq);
    const out: P[] = [];
    let k = 0;
    for (let i = 0; i < this.rows.length; i++) {
      while (k < kept.length && kept[k].at <= i) out.push(kept[k++].p);
      if (segIds.has(this.rows[i].segment)) out.push(this.rows[i]);
    }
    while (k < kept.length) out.push(kept[k++].p);
    return out;
  }

  /** The phases of these segments past the cap, by name and function (still open ones as they are: no result). */
  omitted(segIds: ReadonlySet<number>): PhaseTally[] {
    const out = new Map<string, PhaseTally>();
    const of = (p: { name: string; func: string }) => {
      const key = `${p.name}\u0000${p.func}`;
      let t = out.get(key);
      if (!t) out.set(key, (t = emptyTally(p)));
      return t;
    };
    for (const { segment: _segment, ...t } of this.tallies.values()) if (segIds.has(_segment)) mergeTally(of(t), t);
    for (const p of this.open) if (segIds.has(p.segment)) tallyInto(of(p), p);
    return [...out.values()];
  }
}
