// Where the reorder buffer (order.ts) keeps the events it holds, by slot number.
//
// Unordered formats (bpftrace text/JSON, CSV, perf script) are sorted whole, so a large source holds
// up to `maxHeld` events at once. As objects a held event costs about 250 bytes (the TraceEvent, its
// boxed time, the heap's slot record and array entry): 311 MB peak for 100 MB of bpftrace text.
// CompactEvents keeps the envelope in columns instead (numbers in typed arrays, the four references
// in plain arrays, about 75 bytes a slot) and rebuilds the object when the event leaves. The strings
// and the fields object are the parser's own (shared by memo hits), so nothing else is copied.
//
// The rebuilt object has the envelope every parser builds, in its key order (payloads.ts makeEvent,
// the codec's decoder in parsers/event-codec.ts relies on the same): consumers and JSON output cannot
// tell it from the original. A value that a column cannot hold exactly (a NaN time, a number that is
// not a 32-bit integer) keeps its event whole in that slot.
import type { TraceEvent } from '../../parsers/event.js';

export interface HeldEvents {
  /** Make room for slots [0, capacity). */
  grow(capacity: number): void;
  put(slot: number, ev: TraceEvent): void;
  /** The event put in `slot`; the slot may then be reused. */
  take(slot: number): TraceEvent;
  /** Nothing is held: give back what the columns grew to. */
  reset(): void;
}

/** Events kept as objects (the reference the compact form is tested against, test/analyses/held-events.test.ts). */
export class PlainEvents implements HeldEvents {
  private events: (TraceEvent | undefined)[] = [];
  grow(): void {}
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
const INITIAL = 1024;

function isInt(v: number | null): boolean {
  return v === null || ((v | 0) === v && v !== NULL_INT);
}

export class CompactEvents implements HeldEvents {
  private time = new Float64Array(INITIAL);
  /** cpu, pid, tgid, src, line of slot i at 5i..5i+4. */
  private ints = new Int32Array(5 * INITIAL);
  private kind: (string | undefined)[] = [];
  private name: (string | undefined)[] = [];
  private comm: (string | null | undefined)[] = [];
  /** The fields object, or the whole event when `whole[i]` is set. */
  private fields: (object | undefined)[] = [];
  private whole = new Uint8Array(INITIAL);

  grow(capacity: number): void {
    if (capacity <= this.time.length) return;
    let n = this.time.length;
    while (n < capacity) n *= 2;
    const time = new Float64Array(n);
    time.set(this.time);
    this.time = time;
    const ints = new Int32Array(5 * n);
    ints.set(this.ints);
    this.ints = ints;
    const whole = new Uint8Array(n);
    whole.set(this.whole);
    this.whole = whole;
  }

  put(slot: number, ev: TraceEvent): void {
    const t = ev.time;
    if (!(isInt(ev.cpu) && isInt(ev.pid) && isInt(ev.tgid) && isInt(ev.src) && isInt(ev.line)) || Number.isNaN(t)) {
      this.whole[slot] = 1;
      this.fields[slot] = ev;
      return;
    }
    this.whole[slot] = 0;
    this.time[slot] = t === null ? Number.NaN : t;
    const ints = this.ints;
    const o = 5 * slot;
    ints[o] = ev.cpu ?? NULL_INT;
    ints[o + 1] = ev.pid ?? NULL_INT;
    ints[o + 2] = ev.tgid ?? NULL_INT;
    ints[o + 3] = ev.src;
    ints[o + 4] = ev.line;
    this.kind[slot] = ev.kind;
    this.name[slot] = ev.name;
    this.comm[slot] = ev.comm;
    this.fields[slot] = ev.fields;
  }

  take(slot: number): TraceEvent {
    const f = this.fields[slot];
    this.fields[slot] = undefined;
    if (this.whole[slot] === 1) return f as TraceEvent;
    const kind = this.kind[slot];
    const name = this.name[slot];
    const comm = this.comm[slot];
    this.kind[slot] = this.name[slot] = this.comm[slot] = undefined;
    const t = this.time[slot];
    const ints = this.ints;
    const o = 5 * slot;
    const cpu = ints[o];
    const pid = ints[o + 1];
    const tgid = ints[o + 2];
    return {
      kind,
      name,
      time: Number.isNaN(t) ? null : t,
      cpu: cpu === NULL_INT ? null : cpu,
      pid: pid === NULL_INT ? null : pid,
      tgid: tgid === NULL_INT ? null : tgid,
      comm,
      src: ints[o + 3],
      line: ints[o + 4],
      fields: f,
    } as TraceEvent;
  }

  reset(): void {
    if (this.time.length === INITIAL) return;
    this.time = new Float64Array(INITIAL);
    this.ints = new Int32Array(5 * INITIAL);
    this.whole = new Uint8Array(INITIAL);
    this.kind = [];
    this.name = [];
    this.comm = [];
    this.fields = [];
  }
}
