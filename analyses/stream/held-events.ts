// Where the reorder buffer (order.ts) keeps the events it holds, by slot number.
//
// Unordered formats (bpftrace text/JSON, CSV, perf script) are sorted whole, so a large source holds
// up to `maxHeld` events at once. As objects a held event costs about 250 bytes (the TraceEvent, its
// boxed time, the heap's slot record and array entry): 311 MB peak for 100 MB of bpftrace text.
// CompactEvents keeps the envelope in columns instead: the integers in a typed array, kind, name and
// comm as the id of their combination (a trace has few), the time as the slot's sort key, and only
// the fields object as a reference; the object is rebuilt when the event leaves. The strings and the
// fields object are the parser's own (shared by memo hits), so nothing else is copied. With the
// buffer's own columns a held event costs about 50 bytes.
//
// The rebuilt object has the envelope every parser builds, in its key order (payloads.ts makeEvent;
// the codec's decoder in parsers/event-codec.ts relies on the same): consumers and JSON output cannot
// tell it from the original. An event whose values a column cannot hold exactly (a number that is
// not a 32-bit integer, a full envelope table) is kept whole in its slot.
import type { TraceEvent } from '../../parsers/event.js';

/**
 * Columns are kept in pages of this many slots: added as the buffer grows, never copied (copying
 * left the old arrays' memory to the next full GC: +28 MB at the peak on 100 MB of bpftrace text).
 */
export const PAGE_BITS = 12;
export const PAGE_SLOTS = 1 << PAGE_BITS;
export const PAGE_MASK = PAGE_SLOTS - 1;

/** Held events by slot number; slots are handed out densely from 0 (a new one is at most one past the last). */
export interface HeldEvents {
  put(slot: number, ev: TraceEvent): void;
  /** The event put in `slot`, given its sort key (its time, when it has one) and source; the slot may then be reused. */
  take(slot: number, key: number, src: number): TraceEvent;
  /** Nothing is held: give back what the columns grew to. */
  reset(): void;
}

/** Events kept as objects (the reference the compact form is tested against, test/analyses/held-events.test.ts). */
export class PlainEvents implements HeldEvents {
  private events: (TraceEvent | undefined)[] = [];
  put(slot: number, ev: TraceEvent): void {
    this.events[slot] = ev;
  }
  take(slot: number): TraceEvent {
    const ev = this.events[slot] as TraceEvent;
    this.events[slot] = undefined;
    return ev;
  }
  reset(): void {
    this.events = [];
  }
}

/** Null in an integer column (never a value: such a value keeps its event whole). */
const NULL_INT = -0x80000000;
/** cpu shares an integer with the envelope id: 16 bits each, this one meaning null. */
const NULL_CPU = 0xffff;
const INT_COLUMNS = 4;
/** Distinct (kind, name, comm) envelopes given an id; past it events are kept whole. */
const MAX_ENVELOPES = 0x10000;
/** flags: the slot holds the whole event (in `fields`); the event's time is null (else it is the key). */
const WHOLE = 1;
const NO_TIME = 2;

function isInt(v: number | null): boolean {
  return v === null || ((v | 0) === v && v !== NULL_INT);
}

interface Page {
  /** Of slot i: cpu and envelope id (16 bits each) at 4i, pid, tgid, line at 4i+1..4i+3. */
  ints: Int32Array;
  flags: Uint8Array;
  /** The fields object, or the whole event when WHOLE is set. */
  fields: (object | undefined)[];
}

function newPage(): Page {
  return { ints: new Int32Array(INT_COLUMNS * PAGE_SLOTS), flags: new Uint8Array(PAGE_SLOTS), fields: new Array<object | undefined>(PAGE_SLOTS) };
}

export class CompactEvents implements HeldEvents {
  private readonly pages: Page[] = [newPage()];
  /** Envelope ids: name -> kind -> comm -> id (a trace has a few hundred names and comms at most). */
  private readonly envelopeIds = new Map<string, Map<string, Map<string | null, number>>>();
  private readonly kinds: string[] = [];
  private readonly names: string[] = [];
  private readonly comms: (string | null)[] = [];

  put(slot: number, ev: TraceEvent): void {
    if (slot >> PAGE_BITS === this.pages.length) this.pages.push(newPage());
    const page = this.pages[slot >> PAGE_BITS];
    const i = slot & PAGE_MASK;
    const cpu = ev.cpu;
    const fits = (cpu === null || (cpu >= 0 && cpu < NULL_CPU && (cpu | 0) === cpu)) && isInt(ev.pid) && isInt(ev.tgid) && isInt(ev.line);
    const env = fits ? this.envelope(ev) : -1;
    if (env < 0) {
      page.flags[i] = WHOLE;
      page.fields[i] = ev;
      return;
    }
    page.flags[i] = ev.time === null ? NO_TIME : 0;
    const ints = page.ints;
    const o = INT_COLUMNS * i;
    ints[o] = ((cpu ?? NULL_CPU) << 16) | env;
    ints[o + 1] = ev.pid ?? NULL_INT;
    ints[o + 2] = ev.tgid ?? NULL_INT;
    ints[o + 3] = ev.line;
    page.fields[i] = ev.fields;
  }

  take(slot: number, key: number, src: number): TraceEvent {
    const page = this.pages[slot >> PAGE_BITS];
    const i = slot & PAGE_MASK;
    const f = page.fields[i];
    page.fields[i] = undefined;
    const flags = page.flags[i];
    if (flags === WHOLE) return f as TraceEvent;
    const ints = page.ints;
    const o = INT_COLUMNS * i;
    const cpu = ints[o] >>> 16;
    const env = ints[o] & 0xffff;
    const pid = ints[o + 1];
    const tgid = ints[o + 2];
    return {
      kind: this.kinds[env],
      name: this.names[env],
      time: flags === NO_TIME ? null : key,
      cpu: cpu === NULL_CPU ? null : cpu,
      pid: pid === NULL_INT ? null : pid,
      tgid: tgid === NULL_INT ? null : tgid,
      comm: this.comms[env],
      src,
      line: ints[o + 3],
      fields: f,
    } as TraceEvent;
  }

  reset(): void {
    this.pages.length = 1;
  }

  /** The id of the event's (kind, name, comm), -1 when the table is full or a value is not a string. */
  private envelope(ev: TraceEvent): number {
    const id = this.envelopeIds.get(ev.name)?.get(ev.kind)?.get(ev.comm);
    if (id !== undefined) return id;
    // Nothing is added once the table is full: new names then cost no map of their own either.
    if (this.kinds.length >= MAX_ENVELOPES || typeof ev.name !== 'string' || typeof ev.kind !== 'string') return -1;
    if (ev.comm !== null && typeof ev.comm !== 'string') return -1;
    let byKind = this.envelopeIds.get(ev.name);
    if (byKind === undefined) this.envelopeIds.set(ev.name, (byKind = new Map()));
    let byComm = byKind.get(ev.kind);
    if (byComm === undefined) byKind.set(ev.kind, (byComm = new Map()));
    byComm.set(ev.comm, this.kinds.length);
    this.kinds.push(ev.kind);
    this.names.push(ev.name);
    this.comms.push(ev.comm);
    return this.kinds.length - 1;
  }
}
