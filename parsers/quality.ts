// Data-quality accounting: every input line is an event, a known non-event line, or skipped with a
// reason, and lost data is recorded where the trace says it happened.
//
// This is our equivalent of Perfetto's import `stats` table (docs/style.md): a user can always ask
// "what did you drop, and why?". Counts are kept per reason together with the first line numbers,
// so a report can point at an example of each.
import { z } from 'zod';
import { FOLD_KEY, limits, NameBudget, type TableLimits } from './name-table.js';

/** How many example positions are kept per reason. */
const FIRST_POSITIONS = 5;
/** Event names counted by name in `kinds` (a trace can invent any number), 4x as many decoded ones. */
const EVENT_NAME_LIMITS = limits(4096);

export const PositionSchema = z.object({ file: z.string(), line: z.number().int() });
export type Position = z.infer<typeof PositionSchema>;

export const LostRecordSchema = z.object({
  file: z.string(),
  line: z.number().int(),
  /** Events reported lost by this marker; null when the trace only says "some" (`[LOST EVENTS]`). */
  count: z.number().int().nullable(),
  /** What said so: `CPU:N [LOST n EVENTS]`, `[n EVENTS DROPPED]`, `buffer started`, bpftrace `Lost n events`. */
  marker: z.string(),
  /** Time of the last event before the marker on that CPU (or in the file), when known. */
  after: z.number().nullable(),
});
export type LostRecord = z.infer<typeof LostRecordSchema>;

/**
 * CPUs a lost-events entry is kept for. The kernel numbers CPUs below NR_CPUS, at most 8192
 * (arch/x86/Kconfig NR_CPUS_RANGE_END with MAXSMP); a forged marker can name any number, and
 * 3·10^5 of them wrote a 100 MB report. Markers of further CPUs are counted under LOST_OTHER_CPUS.
 */
const MAX_LOST_CPUS = 8192;
export const LOST_OTHER_CPUS = 'other';
/** Marker records kept in all the entries' `at` lists together (each keeps its first 50). */
const MAX_LOST_RECORDS = 4096;

export const LostPerCpuSchema = z.object({
  /** Sum of the counts the markers state. */
  events: z.number().int(),
  /** Markers seen, including those that give no count. */
  markers: z.number().int(),
  /** True when at least one marker gave no count: `events` is then a lower bound. */
  countUnknown: z.boolean(),
  /** The first markers (up to 50, and 4096 over all entries), in input order. */
  at: z.array(LostRecordSchema),
});

export const DataQualitySchema = z.object({
  lines: z.object({
    total: z.number().int(),
    events: z.number().int(),
    /** Recognized lines that are not events: headers, blank lines, lost-event markers, continuations. */
    known: z.record(z.string(), z.number().int()),
    /** Lines that were not used, by reason. */
    skipped: z.record(z.string(), z.number().int()),
  }),
  /** First positions for every known/skipped reason. */
  firstLines: z.record(z.string(), z.array(PositionSchema)),
  /** Events by name as the kernel or probe names it. */
  kinds: z.record(z.string(), z.number().int()),
  /** Events by decoded kind (tracepoint decoder, kprobe, kretprobe, generic...). */
  types: z.record(z.string(), z.number().int()),
  /** Lost events per CPU ("all" when the marker names no CPU, e.g. bpftrace; "other": CPUs past the first 8192 named). */
  lost: z.record(z.string(), LostPerCpuSchema),
  /** `entries-in-buffer/entries-written` headers where the ring buffer overwrote events. */
  overwritten: z.array(
    z.object({ file: z.string(), line: z.number().int(), inBuffer: z.number().int(), written: z.number().int() }),
  ),
  /** Things a reader should know about that are not per line (clock resets, rebased clocks...). */
  notes: z.array(z.string()),
  /** An input ended early: a cut last line, a truncated gzip stream, a capture cut by its producer. */
  truncated: z.boolean(),
  /** True when some data is known to be missing: lost events, overwritten buffer, truncated input. */
  incomplete: z.boolean(),
});
export type DataQuality = z.infer<typeof DataQualitySchema>;

/** Reasons a line is recognised without being an event. */
export type KnownReason =
  | 'blank'
  | 'header'
  | 'lost-marker'
  | 'buffer-started'
  | 'continuation'
  | 'trace-cmd-info'
  | 'graph-separator'
  | 'nul-padding'
  | 'bpftrace-info'
  | 'csv-header'
  | 'trimmed-marker'
  /** Rows of a bpftrace map dump (histogram rows, keyed entries) whose map is one `bpftrace_map` event. */
  | 'bpftrace-map-row';

/** Events of one name (or of the folded names) since the last fold: the first kind seen counted apart. */
interface CounterCell {
  name: string;
  kind: string | null;
  kindN: number;
  kinds: Map<string, number>;
}

function newCounterCell(name: string): CounterCell {
  return { name, kind: null, kindN: 0, kinds: new Map() };
}

/** One more event of `kind` in the cell. */
function countKind(cell: CounterCell, kind: string): void {
  if (cell.kind === kind) cell.kindN++;
  else if (cell.kind === null) {
    cell.kind = kind;
    cell.kindN = 1;
  } else {
    const k = cell.kinds.get(kind);
    cell.kinds.set(kind, k === undefined ? 1 : k + 1);
  }
}

/** (name, kind) pairs numbered by eventPairId, at most this many (a trace can invent any number of names). */
const EVENT_PAIRS_MAX = 4096;
const eventPairs = new Map<string, number>();

/**
 * A dense number for the events of `name` decoded as `kind`, the same in every ledger of the
 * process; -1 once EVENT_PAIRS_MAX pairs are numbered. A parser that knows it for an event (the
 * ftrace memo of decoded texts numbers each text it keeps) passes it to QualityLedger.eventOfPair,
 * which then finds the name's counter by index instead of by the name.
 */
export function eventPairId(name: string, kind: string): number {
  const key = `${kind}\u0000${name}`;
  let id = eventPairs.get(key);
  if (id === undefined) {
    if (eventPairs.size >= EVENT_PAIRS_MAX) return -1;
    id = eventPairs.size;
    eventPairs.set(key, id);
  }
  return id;
}

function noCells(): Array<CounterCell | undefined> {
  return new Array<CounterCell | undefined>(EVENT_PAIRS_MAX).fill(undefined);
}

/** Mutable accumulator used by every parser; `snapshot()` gives the schema-valid summary. */
export class QualityLedger {
  total = 0;
  events = 0;
  readonly known = new Map<string, number>();
  readonly skipped = new Map<string, number>();
  readonly firstLines = new Map<string, Position[]>();
  readonly kinds = new Map<string, number>();
  readonly types = new Map<string, number>();
  readonly lost = new Map<string, z.infer<typeof LostPerCpuSchema>>();
  /** Marker records kept in all the `at` lists (MAX_LOST_RECORDS). */
  private lostRecords = 0;
  readonly overwritten: DataQuality['overwritten'] = [];
  readonly notes: string[] = [];
  /** Set when truncation or similar makes the result incomplete without a lost marker. */
  truncated = false;
  /** Optional observer of non-event lines (`luotrace events --skipped`, tests). */
  listener: ((what: 'known' | 'skipped', reason: string, file: string, line: number, text: string | undefined) => void) | null =
    null;

  /**
   * >0 while a line that is already accounted for yields more (a second map of one bpftrace JSON
   * record, a second line inside one printf record): those events still count by name and kind
   * (and in their source's events), but `lines.*` count each input line once.
   */
  private sameLine = 0;

  /** Run `fn`, whose events and line verdicts come from a line already accounted for. */
  fromSameLine(fn: () => void): void {
    this.sameLine++;
    try {
      fn();
    } finally {
      this.sameLine--;
    }
  }

  event(name: string, kind: string): void {
    if (this.sameLine === 0) this.events++;
    // The name's cell was nearly always the last one used or one found by a single Map lookup; a
    // name nearly always decodes to one kind, counted in the cell itself (kinds: the others).
    let cell = this.lastCell;
    if (cell === null || cell.name !== name) {
      cell = this.counters.get(name) ?? this.newCell(name, kind);
      this.lastCell = cell;
    }
    countKind(cell, kind);
  }

  /**
   * event(name, kind) for an event whose pair the caller numbered (eventPairId, -1: not numbered):
   * the name's cell is then found by that number, once event() has found or made it. Only a cell
   * of the name itself is kept (a name past the cap is folded again on each event, see newCell).
   */
  eventOfPair(pair: number, name: string, kind: string): void {
    const cell = pair >= 0 ? this.cellOfPair[pair] : undefined;
    if (cell === undefined) {
      this.event(name, kind);
      const made = this.lastCell;
      if (pair >= 0 && made !== null && made.name === name && this.counters.get(name) === made) this.cellOfPair[pair] = made;
      return;
    }
    if (this.sameLine === 0) this.events++;
    countKind(cell, kind);
  }

  /** The cell that counts `name` from now on (the fold's cell past the cap). */
  private newCell(name: string, kind: string): CounterCell {
    // Event names come from the trace (any `word:` is one): bounded, decoded kinds protected.
    if (this.kinds.has(name) || this.eventNames.admit(kind !== 'generic')) {
      const cell = newCounterCell(name);
      this.counters.set(name, cell);
      return cell;
    }
    this.eventNames.fold(name);
    let fold = this.counters.get(FOLD_KEY);
    if (fold === undefined) this.counters.set(FOLD_KEY, (fold = newCounterCell(FOLD_KEY)));
    // Not kept under `name`: each later event of it is folded again (the fold counts events).
    return fold;
  }

  /** Events by name since the last fold (names past the cap count in FOLD_KEY's cell). */
  private readonly counters = new Map<string, CounterCell>();
  private lastCell: CounterCell | null = null;
  /** The cells of `counters` by pair number (eventOfPair); cleared with them. */
  private cellOfPair: Array<CounterCell | undefined> = noCells();
  /** Distinct event names counted by name (`kinds`); past the cap they count under FOLD_KEY (issue #15). */
  readonly eventNames: NameBudget;

  constructor(eventNameLimits: TableLimits = EVENT_NAME_LIMITS) {
    this.eventNames = new NameBudget(eventNameLimits);
  }

  private foldCounters(): void {
    for (const [name, cell] of this.counters) {
      let n = 0;
      if (cell.kind !== null) {
        n += cell.kindN;
        this.types.set(cell.kind, (this.types.get(cell.kind) ?? 0) + cell.kindN);
      }
      for (const [kind, k] of cell.kinds) {
        n += k;
        this.types.set(kind, (this.types.get(kind) ?? 0) + k);
      }
      this.kinds.set(name, (this.kinds.get(name) ?? 0) + n);
    }
    this.counters.clear();
    this.lastCell = null;
    this.cellOfPair = noCells();
  }

  knownLine(reason: KnownReason, file: string, line: number, text?: string): void {
    if (this.sameLine > 0) return;
    this.known.set(reason, (this.known.get(reason) ?? 0) + 1);
    this.remember(reason, file, line);
    this.listener?.('known', reason, file, line, text);
  }

  skip(reason: string, file: string, line: number, text?: string): void {
    if (this.sameLine > 0) return;
    this.skipped.set(reason, (this.skipped.get(reason) ?? 0) + 1);
    this.remember(reason, file, line);
    this.listener?.('skipped', reason, file, line, text);
  }

  /** A previously counted event line turned out to be something else (e.g. re-classified). */
  uncountEvent(name: string, kind: string): void {
    this.foldCounters();
    this.events--;
    const counted = this.kinds.has(name) ? name : FOLD_KEY;
    const n = (this.kinds.get(counted) ?? 1) - 1;
    if (n === 0) this.kinds.delete(counted);
    else this.kinds.set(counted, n);
    const t = (this.types.get(kind) ?? 1) - 1;
    if (t === 0) this.types.delete(kind);
    else this.types.set(kind, t);
  }

  lostEvents(cpu: string, record: LostRecord): void {
    let entry = this.lost.get(cpu);
    if (!entry) {
      if (this.lost.size >= MAX_LOST_CPUS && cpu !== LOST_OTHER_CPUS) return this.lostEvents(LOST_OTHER_CPUS, record);
      entry = { events: 0, markers: 0, countUnknown: false, at: [] };
      this.lost.set(cpu, entry);
    }
    entry.markers++;
    if (record.count === null) entry.countUnknown = true;
    else entry.events += record.count;
    if (entry.at.length < 50 && this.lostRecords < MAX_LOST_RECORDS) {
      entry.at.push(record);
      this.lostRecords++;
    }
  }

  note(text: string): void {
    if (!this.notes.includes(text) && this.notes.length < 100) this.notes.push(text);
  }

  private remember(reason: string, file: string, line: number): void {
    let list = this.firstLines.get(reason);
    if (!list) {
      list = [];
      this.firstLines.set(reason, list);
    }
    if (list.length < FIRST_POSITIONS) list.push({ file, line });
  }

  snapshot(): DataQuality {
    this.foldCounters();
    const obj = <V>(m: Map<string, V>): Record<string, V> => Object.fromEntries([...m.entries()].sort());
    return {
      lines: { total: this.total, events: this.events, known: obj(this.known), skipped: obj(this.skipped) },
      firstLines: obj(this.firstLines),
      kinds: obj(this.kinds),
      types: obj(this.types),
      lost: obj(this.lost),
      overwritten: this.overwritten,
      notes: this.eventNames.folded.events ? [...this.notes, this.eventNames.note('event names') as string] : this.notes,
      truncated: this.truncated,
      incomplete: this.lost.size > 0 || this.overwritten.length > 0 || this.truncated,
    };
  }
}
