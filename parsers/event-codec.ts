// The compact form in which TraceEvents cross from the parse worker to the analysis thread
// (`analyze --threads 2`, parsers/threaded.ts): a batch is three typed arrays (tags, integers,
// doubles) that are transferred, not copied, plus the strings and object shapes not sent before.
//
// Why not postMessage(events): structured clone walks and rebuilds every object and string, and
// on the bench trace that costs about as much as parsing the line. Here a repeated string (event
// names, comms, lock pointers and names: nearly all of them) crosses once and is an id after that,
// and an object's keys cross once per shape (found through a trie of its keys: no string is built).
//
// The encoding is generic over `fields`, so every event kind, optional field and key order comes
// out exactly as the parser made it (the tests compare JSON text). The envelope is written in the
// order every parser builds it (payloads.ts makeEvent, parser.ts lost records).
import type { TraceEvent } from './event.js';
import { sharedFields } from './ftrace-bytes.js';

const NULL = 0;
const UNDEFINED = 1;
const TRUE = 2;
const FALSE = 3;
const NUMBER = 4;
/** A string from the shared table: its id follows in ints. */
const STRING = 5;
/** A string sent in this batch only (long or one-off text): its index follows in ints. */
const LITERAL = 6;
const ARRAY = 7;
/** A plain object: shape id in ints, then one value per key. */
const OBJECT = 8;
/** The fields object of an earlier event (one the parser shares, see sharedFields): its id follows. */
const FIELDS_REF = 9;
/** A shared fields object sent for the first time: its id, then the object. */
const FIELDS_DEF = 10;

/** Record kinds at the top level of a batch. */
const RECORD_EVENT = 20;
const RECORD_CONTROL = 21;
/**
 * An event whose fields object is a shared one sent before (FIELDS_DEF), with the kind and name it
 * was sent with: in ints the fields id, cpu, pid, then the comm (a string value), src and line; its
 * time in nums; tgid null. The common event of a large trace (a memo hit of parsers/ftrace-bytes.ts)
 * crosses as six integers and a double, with no per-value tags.
 */
const RECORD_SHARED = 22;

/** Strings longer than this, and any string once the table is full, travel as literals. */
const MAX_SHARED_STRING = 96;
const MAX_SHARED_STRINGS = 65_536;
/**
 * Both threads keep the string table (the encoder's map, the decoder's array) for the whole read,
 * and a large trace names ever new pointers, sessions and tokens: once it holds this many, the
 * table starts over at the next batch (EventBatch.restart). The strings still in use are sent
 * again once; on the 1 GB bench stress trace the table otherwise grows to ~50 000 strings.
 */
const SHARED_STRINGS_RESTART = 16_384;
/** Sets of batch arrays kept for reuse (the reader has at most a few batches in flight). */
const MAX_SPARES = 8;
/** Object shapes (key lists) and the trie nodes that find them: bounded whatever keys a trace invents. */
const MAX_SHAPES = 4096;
const MAX_SHAPE_NODES = 65_536;
/**
 * Shared fields objects given an id before the ids start over from 0 (a FIELDS_DEF names its id,
 * so the decoder's entry is replaced in stream order). The parsers' memos hold 4096 entries
 * (ftrace-bytes.ts, bpftrace-line.ts) and then start over with new objects, so without a restart
 * the map (which holds its objects) would keep every fields object the memos ever made, on both
 * threads: ~26 000 at 1 GB of the bench stress trace.
 */
const MAX_SHARED_FIELDS = 8192;

export interface EventBatch extends BatchArrays {
  /** Strings added to the shared table by this batch, in id order. */
  strings: string[];
  /** This batch's literals. */
  literals: string[];
  /** Shapes added by this batch (their keys), in id order. */
  shapes: string[][];
  /** The string table starts over with this batch: `strings` are ids 0, 1, ... (SHARED_STRINGS_RESTART). */
  restart: boolean;
  records: number;
}

/** The transferred arrays of a batch, as they come back to the encoder (EventEncoder.recycle). */
export interface BatchArrays {
  tags: Uint8Array<ArrayBuffer>;
  ints: Int32Array<ArrayBuffer>;
  nums: Float64Array<ArrayBuffer>;
}

interface ShapeNode {
  id: number;
  next: Map<string, ShapeNode> | null;
}

export class EventEncoder {
  private tags = new Uint8Array(1 << 18);
  private ints = new Int32Array(1 << 17);
  private nums = new Float64Array(1 << 16);
  private nt = 0;
  private ni = 0;
  private nn = 0;
  private readonly ids = new Map<string, number>();
  /** The next batch starts the string table over (take()). */
  private restart = false;
  private newStrings: string[] = [];
  private literals: string[] = [];
  /** Shape trie: keys in order from the root; `id` -1 until an object ends at that node. */
  private readonly shapeRoot: ShapeNode = { id: -1, next: null };
  private shapeCount = 0;
  private shapeNodes = 0;
  private newShapes: string[][] = [];
  /** Batch arrays given back by the decoder's thread (recycle). */
  private readonly spares: BatchArrays[] = [];
  private readonly fieldIds = new Map<object, number>();
  /** The kind and name each shared fields object was first sent with (RECORD_SHARED). */
  private readonly fieldKinds: string[] = [];
  private readonly fieldNames: string[] = [];
  records = 0;

  /** The limits are parameters for the tests of the fallbacks; the defaults bound the tables' memory. */
  constructor(
    private readonly maxSharedStrings = MAX_SHARED_STRINGS,
    private readonly maxShapes = MAX_SHAPES,
    private readonly stringsRestart = SHARED_STRINGS_RESTART,
    private readonly maxSharedFields = MAX_SHARED_FIELDS,
  ) {}

  /** Bytes written into the current batch (to decide when to send it). */
  get size(): number {
    return this.nt + 4 * this.ni + 8 * this.nn;
  }

  event(ev: TraceEvent): void {
    const id = this.fieldIds.get(ev.fields);
    if (id !== undefined && this.sharedEvent(id, ev)) {
      this.records++;
      return;
    }
    this.tag(RECORD_EVENT);
    this.string(ev.kind);
    this.string(ev.name);
    this.value(ev.time);
    this.value(ev.cpu);
    this.value(ev.pid);
    this.value(ev.tgid);
    this.value(ev.comm);
    this.value(ev.src);
    this.value(ev.line);
    this.fields(ev, id);
    this.records++;
  }

  /** `ev` as a RECORD_SHARED when its envelope fits one (false: nothing written). */
  private sharedEvent(id: number, ev: TraceEvent): boolean {
    const { time, cpu, pid, comm, src, line } = ev;
    if (ev.kind !== this.fieldKinds[id] || ev.name !== this.fieldNames[id] || ev.tgid !== null || typeof time !== 'number') return false;
    if (cpu === null || (cpu | 0) !== cpu || pid === null || (pid | 0) !== pid || (src | 0) !== src || (line | 0) !== line || comm === null) return false;
    this.tag(RECORD_SHARED);
    this.int(id);
    this.int(cpu);
    this.int(pid);
    this.string(comm);
    this.int(src);
    this.int(line);
    if (this.nn === this.nums.length) this.nums = grow(this.nums, new Float64Array(this.nums.length * 2));
    this.nums[this.nn++] = time;
    return true;
  }

  /** A fields object the parser shares between events crosses once, and is an id after that. */
  private fields(ev: TraceEvent, id: number | undefined): void {
    const f = ev.fields;
    if (id !== undefined) {
      this.tag(FIELDS_REF);
      this.int(id);
    } else if (sharedFields.has(f)) {
      if (this.fieldIds.size >= this.maxSharedFields) this.fieldIds.clear();
      const fresh = this.fieldIds.size;
      this.fieldIds.set(f, fresh);
      this.fieldKinds[fresh] = ev.kind;
      this.fieldNames[fresh] = ev.name;
      this.tag(FIELDS_DEF);
      this.int(fresh);
      this.value(f);
    } else this.value(f);
  }

  /**
   * The arrays of a batch the decoder is done with, given back (parsers/threaded.ts): the next
   * take() writes into them instead of allocating. A new 1.25 MB set per batch, freed on the other
   * thread whenever its GC gets to it, left the reader's malloc arena ~10 MB larger (1 GB bench trace).
   * Arrays of another size (a small batch's copies, arrays since grown) are dropped.
   */
  recycle(arrays: BatchArrays): void {
    if (this.spares.length < MAX_SPARES && arrays.tags.length === this.tags.length) this.spares.push(arrays);
  }

  /** Any JSON-like value, in stream order with the events (source starts, progress). */
  control(value: unknown): void {
    this.tag(RECORD_CONTROL);
    this.value(value);
    this.records++;
  }

  /** The batch so far; the encoder starts a new one (its tables go on, the string table restarted when full). */
  take(): { batch: EventBatch; transfer: ArrayBuffer[] } {
    // A full batch hands its arrays over (transferred, not copied; the part past what was written
    // is never read) and the encoder starts on fresh ones; a small one (the last, or a test's) is
    // copied out, which is cheaper than allocating fresh arrays for it.
    const handOver = this.nt >= this.tags.length / 4;
    const batch: EventBatch = {
      tags: handOver ? this.tags : this.tags.slice(0, this.nt),
      ints: handOver ? this.ints : this.ints.slice(0, this.ni),
      nums: handOver ? this.nums : this.nums.slice(0, this.nn),
      strings: this.newStrings,
      literals: this.literals,
      shapes: this.newShapes,
      restart: this.restart,
      records: this.records,
    };
    this.restart = this.ids.size >= this.stringsRestart;
    if (this.restart) this.ids.clear();
    if (handOver) {
      const spare = this.spares.pop();
      const fits = spare !== undefined && spare.tags.length === this.tags.length && spare.ints.length === this.ints.length && spare.nums.length === this.nums.length;
      this.tags = fits ? spare.tags : new Uint8Array(this.tags.length);
      this.ints = fits ? spare.ints : new Int32Array(this.ints.length);
      this.nums = fits ? spare.nums : new Float64Array(this.nums.length);
    }
    this.nt = this.ni = this.nn = 0;
    this.newStrings = [];
    this.literals = [];
    this.newShapes = [];
    this.records = 0;
    return { batch, transfer: [batch.tags.buffer as ArrayBuffer, batch.ints.buffer as ArrayBuffer, batch.nums.buffer as ArrayBuffer] };
  }

  private tag(t: number): void {
    if (this.nt === this.tags.length) this.tags = grow(this.tags, new Uint8Array(this.tags.length * 2));
    this.tags[this.nt++] = t;
  }

  private int(v: number): void {
    if (this.ni === this.ints.length) this.ints = grow(this.ints, new Int32Array(this.ints.length * 2));
    this.ints[this.ni++] = v;
  }

  private value(v: unknown): void {
    switch (typeof v) {
      case 'string':
        this.string(v);
        return;
      case 'number':
        this.tag(NUMBER);
        if (this.nn === this.nums.length) this.nums = grow(this.nums, new Float64Array(this.nums.length * 2));
        this.nums[this.nn++] = v;
        return;
      case 'boolean':
        this.tag(v ? TRUE : FALSE);
        return;
      case 'undefined':
        this.tag(UNDEFINED);
        return;
      case 'object':
        if (v === null) this.tag(NULL);
        else if (Array.isArray(v)) {
          this.tag(ARRAY);
          this.int(v.length);
          for (const x of v) this.value(x);
        } else this.object(v as Record<string, unknown>);
        return;
      default:
        // Events are plain data (event.ts): anything else is a bug upstream, sent as its text.
        this.string(String(v));
    }
  }

  private string(s: string): void {
    const id = this.ids.get(s);
    if (id !== undefined) {
      this.tag(STRING);
      this.int(id);
    } else if (s.length <= MAX_SHARED_STRING && this.ids.size < this.maxSharedStrings) {
      const fresh = this.ids.size;
      this.ids.set(s, fresh);
      this.newStrings.push(s);
      this.tag(STRING);
      this.int(fresh);
    } else {
      this.tag(LITERAL);
      this.int(this.literals.length);
      this.literals.push(s);
    }
  }

  private object(o: Record<string, unknown>): void {
    // One pass: the values go out while the keys walk the shape trie; the shape id is filled in
    // after, in the slot kept for it. Once the trie is full, new shapes are not added: such an
    // object's keys follow its values.
    this.tag(OBJECT);
    const slot = this.ni;
    this.int(0);
    let node: ShapeNode | null = this.shapeRoot;
    let n = 0;
    for (const k in o) {
      if (node !== null) {
        let next: ShapeNode | undefined = node.next?.get(k);
        if (next === undefined && this.shapeNodes < MAX_SHAPE_NODES && this.shapeCount < this.maxShapes) {
          next = { id: -1, next: null };
          (node.next ??= new Map()).set(k, next);
          this.shapeNodes++;
        }
        node = next ?? null;
      }
      n++;
      this.value(o[k]);
    }
    if (node !== null && node.id < 0 && this.shapeCount < this.maxShapes) {
      node.id = this.shapeCount++;
      this.newShapes.push(Object.keys(o));
    }
    if (node === null || node.id < 0) {
      this.ints[slot] = -1 - n;
      for (const k in o) this.string(k);
      return;
    }
    this.ints[slot] = node.id;
  }
}

function grow<T extends Uint8Array | Int32Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

export class EventDecoder {
  private readonly strings: string[] = [];
  private readonly shapes: string[][] = [];
  private readonly fieldsById: unknown[] = [];
  /** The kind and name of each shared fields object's first event (RECORD_SHARED). */
  private readonly fieldKinds: string[] = [];
  private readonly fieldNames: string[] = [];
  private tags: Uint8Array = new Uint8Array(0);
  private ints: Int32Array = new Int32Array(0);
  private nums: Float64Array = new Float64Array(0);
  private literals: string[] = [];
  private it = 0;
  private ii = 0;
  private in = 0;

  /** Calls onEvent / onControl for each record of the batch, in order. */
  decode(batch: EventBatch, onEvent: (ev: TraceEvent) => void, onControl: (value: unknown) => void): void {
    if (batch.restart) this.strings.length = 0;
    for (const s of batch.strings) this.strings.push(s);
    for (const s of batch.shapes) this.shapes.push(s);
    this.tags = batch.tags;
    this.ints = batch.ints;
    this.nums = batch.nums;
    this.literals = batch.literals;
    this.it = this.ii = this.in = 0;
    for (let r = 0; r < batch.records; r++) {
      const kind = this.tags[this.it++];
      if (kind === RECORD_SHARED) onEvent(this.sharedEvent());
      else if (kind === RECORD_EVENT) onEvent(this.event());
      else onControl(this.value());
    }
  }

  private event(): TraceEvent {
    // The envelope in makeEvent's order, so the objects share one hidden class as parsed ones do.
    const kind = this.value();
    const name = this.value();
    const time = this.value();
    const cpu = this.value();
    const pid = this.value();
    const tgid = this.value();
    const comm = this.value();
    const src = this.value();
    const line = this.value();
    // A shared fields object sent for the first time: its kind and name serve its RECORD_SHAREDs.
    const def = this.tags[this.it] === FIELDS_DEF ? this.ints[this.ii] : -1;
    const fields = this.value();
    if (def >= 0) {
      this.fieldKinds[def] = kind;
      this.fieldNames[def] = name;
    }
    return { kind, name, time, cpu, pid, tgid, comm, src, line, fields } as TraceEvent;
  }

  private sharedEvent(): TraceEvent {
    const ints = this.ints;
    const id = ints[this.ii++];
    const cpu = ints[this.ii++];
    const pid = ints[this.ii++];
    const comm = this.value();
    const src = ints[this.ii++];
    const line = ints[this.ii++];
    const time = this.nums[this.in++];
    return {
      kind: this.fieldKinds[id],
      name: this.fieldNames[id],
      time,
      cpu,
      pid,
      tgid: null,
      comm,
      src,
      line,
      fields: this.fieldsById[id],
    } as TraceEvent;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private value(): any {
    const t = this.tags[this.it++];
    switch (t) {
      case STRING:
        return this.strings[this.ints[this.ii++]];
      case NUMBER:
        return this.nums[this.in++];
      case NULL:
        return null;
      case OBJECT: {
        const id = this.ints[this.ii++];
        const o: Record<string, unknown> = {};
        if (id < 0) {
          // Keys after the values (the encoder's shape table was full).
          const values: unknown[] = [];
          for (let i = 0; i < -1 - id; i++) values.push(this.value());
          for (const v of values) o[this.value() as string] = v;
          return o;
        }
        const keys = this.shapes[id];
        for (let i = 0; i < keys.length; i++) o[keys[i]] = this.value();
        return o;
      }
      case FIELDS_REF:
        return this.fieldsById[this.ints[this.ii++]];
      case FIELDS_DEF: {
        const id = this.ints[this.ii++];
        return (this.fieldsById[id] = this.value());
      }
      case TRUE:
        return true;
      case FALSE:
        return false;
      case UNDEFINED:
        return undefined;
      case LITERAL:
        return this.literals[this.ints[this.ii++]];
      case ARRAY: {
        const n = this.ints[this.ii++];
        const a: unknown[] = new Array(n);
        for (let i = 0; i < n; i++) a[i] = this.value();
        return a;
      }
      default:
        throw new Error(`event batch: unknown tag ${t}`);
    }
  }
}
