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

function tallyInto(t: PhaseTally, p: Omit<CappablePhase, 'segment'>): void {
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

/** The tally of `p`'s name and function in `map` (made empty the first time); `prefix` keys it further (a segment). */
function tallyOf<T extends PhaseTally>(map: Map<string, T>, p: { name: string; func: string }, make: () => T = () => emptyTally(p) as T, prefix = ''): T {
  const key = `${prefix}${p.name}\u0000${p.func}`;
  let t = map.get(key);
  if (!t) map.set(key, (t = make()));
  return t;
}

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
    tallyInto(tallyOf(this.tallies, p, () => ({ segment: p.segment, ...emptyTally(p) }), `${p.segment}\u0000`), p);
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
    for (const { segment, ...t } of this.tallies.values()) if (segIds.has(segment)) mergeTally(tallyOf(out, t), t);
    for (const p of this.open) if (segIds.has(p.segment)) tallyInto(tallyOf(out, p), p);
    return [...out.values()];
  }
}

/** What AttemptPhases reads of a phase: its class, when it was called, and whether it returned. */
export interface AttemptPhase extends Omit<CappablePhase, 'segment'> {
  start: number | null;
  endLine: number | null;
  returnLost?: boolean;
}

const NO_TALLIES: ReadonlyMap<string, PhaseTally> = new Map();

/** Freeze and unfreeze calls kept per file set past those AttemptPhases always keeps (a real attempt makes one or two). */
export const MAX_ATTEMPT_PHASES = 64;

/**
 * The luo_file_freeze / luo_file_unfreeze calls of one file set (a session's, or one no session owns
 * in its segment yet), bounded: a `kexec -e` retry loop freezes every session on each attempt
 * (docs/luo-model.md §4 "Freeze calls on hostile input"). Kept, in order: those called
 * since the segment's latest liveupdate_reboot call (`since`: the last attempt's window, which the
 * kexec facts read), and whatever their age the last freeze, the last returned freeze that did not
 * fail and the last unfreeze (a session's state follows from their order); at most `cap` besides
 * these three. The others are tallied by name and function (`tallies`) once they returned, or as they
 * are when the cap forces them out; `add` returns them (and `evicted` is told of each).
 */
export class AttemptPhases<P extends AttemptPhase> {
  private list: P[] = [];
  /** Made at the first call let go: a trace can name many file sets, each frozen once. */
  private counted: Map<string, PhaseTally> | null = null;

  constructor(
    private readonly cap = MAX_ATTEMPT_PHASES,
    private readonly evicted?: (p: P) => unknown,
  ) {}

  get tallies(): ReadonlyMap<string, PhaseTally> {
    return this.counted ?? NO_TALLIES;
  }

  /** The kept phases, in the order they came. */
  get kept(): readonly P[] {
    return this.list;
  }

  /**
   * One more call (`since`: the start of its segment's latest liveupdate_reboot call); the phases it
   * lets go are taken out of `from` too (a session's phases), and returned.
   */
  add(p: P, since: number | null, from?: P[]): P[] {
    this.list.push(p);
    if (this.cap === Number.POSITIVE_INFINITY) return []; // every call kept (tests compare with it)
    const keep = lastOfEach(this.list);
    const out: P[] = [];
    const returned = (q: P) => q.endLine !== null || q.returnLost === true;
    this.list = this.list.filter((q) => {
      const old = !keep.has(q) && since !== null && q.start !== null && q.start < since && returned(q);
      if (old) out.push(q);
      return !old;
    });
    while (this.list.length - keep.size > this.cap) {
      const i = this.list.findIndex((q) => !keep.has(q));
      out.push(...this.list.splice(i, 1));
    }
    for (const q of out) {
      this.tally(q);
      const i = from ? from.lastIndexOf(q) : -1;
      if (i >= 0) from?.splice(i, 1);
    }
    return out;
  }

  private tally(p: P): void {
    tallyInto(tallyOf((this.counted ??= new Map()), p), p);
    this.evicted?.(p);
  }

  /** How many calls of phase `name` it had, kept or tallied. */
  count(name: string): number {
    let n = this.list.reduce((a, q) => a + (q.name === name ? 1 : 0), 0);
    for (const t of this.tallies.values()) if (t.name === name) n += t.count;
    return n;
  }
}

/** The last freeze, the last returned freeze that did not fail, and the last unfreeze of `list`. */
function lastOfEach<P extends AttemptPhase>(list: readonly P[]): Set<P> {
  const out = new Set<P>();
  const okFreeze = (q: P) => q.name === 'freeze' && (q.endLine !== null || q.returnLost === true) && (q.result === null || q.result >= 0);
  for (const pick of [(q: P) => q.name === 'freeze', okFreeze, (q: P) => q.name === 'unfreeze']) {
    for (let i = list.length - 1; i >= 0; i--) {
      if (!pick(list[i])) continue;
      out.add(list[i]);
      break;
    }
  }
  return out;
}

/** Tallies of phases by name and function, summed (a session's own and those of the file-set groups joined to it). */
export function mergedTallies(lists: Iterable<Iterable<PhaseTally>>): PhaseTally[] {
  const out = new Map<string, PhaseTally>();
  for (const list of lists) for (const t of list) mergeTally(tallyOf(out, t), t);
  return [...out.values()];
}

/** A phase's figures over all its calls (the report's phaseStats): durations over those measured. */
export interface PhaseStat {
  phase: string;
  count: number;
  errors: number;
  totalNs: number;
  minNs: number;
  maxNs: number;
}

/** One call of a phase into the figures by phase name. */
export function accountPhase(p: { name: string; error: string | null; durationNs: number | null }, into: Map<string, PhaseStat>): void {
  let st = into.get(p.name);
  if (!st) into.set(p.name, (st = { phase: p.name, count: 0, errors: 0, totalNs: 0, minNs: Infinity, maxNs: 0 }));
  st.count++;
  if (p.error) st.errors++;
  if (p.durationNs !== null) {
    st.totalNs += p.durationNs;
    if (p.durationNs < st.minNs) st.minNs = p.durationNs;
    if (p.durationNs > st.maxNs) st.maxNs = p.durationNs;
  }
}

/** Figures by phase name summed into `into` (a session's own phases and the groups joined to it). */
export function mergeStat(into: Map<string, PhaseStat>, v: PhaseStat): void {
  const st = into.get(v.phase);
  if (!st) return void into.set(v.phase, { ...v });
  st.count += v.count;
  st.errors += v.errors;
  st.totalNs += v.totalNs;
  st.minNs = Math.min(st.minNs, v.minNs);
  st.maxNs = Math.max(st.maxNs, v.maxNs);
}

/** What holds tallies of phases let go (AttemptPhases). */
type Tallied = { readonly tallies: ReadonlyMap<string, PhaseTally> };

/** A session's freeze and unfreeze calls that were let go, its own and those of the file-set groups joined to it, by name and function. */
export function phasesOmitted(s: { attempts?: Tallied; joined?: ReadonlyArray<{ phases: Tallied }> }): PhaseTally[] {
  return mergedTallies([s.attempts?.tallies.values() ?? [], ...(s.joined ?? []).map((g) => g.phases.tallies.values())]);
}
