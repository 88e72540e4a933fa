// Generator driver: option schema, output passes, stream-level fault injection and the line ledger
// that says what every written line is (so a test can hold the parser's data-quality table to it).
//
// Output is produced in ~1 MiB Buffers from a synchronous loop (simulation → renderer → bytes in
// the chunk; the ftrace renderer writes cached byte strings and digits straight into it) and is
// never held whole. Some outputs need facts only known at the end (the `trace`
// header's entries-in-buffer/entries-written, the midpoint for a repeated header, how much an
// overwritten CPU lost); for those a counting pass runs the same deterministic simulation first.
import { z } from 'zod';
import { CLOCKS, type LatinBuffer, OUTPUT_FORMATS, type Renderer, type RenderOptions } from './render.js';
import { makeRenderer } from './renderers.js';
import { SCENARIOS, type ScenarioOptions, defaultStart, startScenario } from './scenarios.js';
import { K_MODREF, type Rec } from './sim.js';
import { World } from './world.js';

export const FAULTS = [
  'leak',
  'put-without-get',
  'lost',
  'lost-nocount',
  'overwrite',
  'truncate',
  'garbage',
  'crlf',
  'prompt',
  'repeat-header',
  'nul',
] as const;
export type FaultName = (typeof FAULTS)[number];

export const FAULT_HELP: Record<FaultName, string> = {
  leak: 'the kernel forgets one per-file module_put (luo_file_unpreserve_files / luo_file_finish): a get never put',
  'put-without-get': 'the kernel skips one per-file try_module_get (luo_preserve_file / luo_file_deserialize); its put still happens',
  lost: 'drop --lost-count events on one CPU right after the first per-file module_get (inside a pin window) and print `CPU:N [LOST n EVENTS]` (trace-cmd `[n EVENTS DROPPED]`, bpftrace `Lost n events`)',
  'lost-nocount': 'as lost, with the count-less marker `CPU:N [LOST EVENTS]` (trace-cmd `[EVENTS DROPPED]`)',
  overwrite: 'ftrace `trace` file after a ring-buffer overrun: the oldest quarter of one CPU is gone, `##### CPU n buffer started ####` before its first kept event, entries-written > entries-in-buffer',
  truncate: 'the capture was killed: the last line is cut inside its timestamp and has no newline (footers are not printed)',
  garbage: 'three junk lines (text, text with escape codes, binary with NUL bytes) in the middle of the data',
  crlf: 'CRLF line ends',
  prompt: 'a shell prompt line after the label and `^C` at the end',
  'repeat-header': 'the header block (or trace-cmd `cpus=N`) printed again half-way, as in concatenated dumps',
  nul: 'NUL padding after the last line (a file cut by a crash)',
};

const SizeSchema = z.union([z.number().int().positive(), z.string().regex(/^\d+(\.\d+)?\s*([kKmMgG]i?[bB]?|[bB])?$/, 'a size like 500MB, 2GiB, 65536')]);

export const GenerateOptionsSchema = z
  .object({
    scenario: z.enum(SCENARIOS).default('lifecycle'),
    format: z.enum(OUTPUT_FORMATS).default('ftrace'),
    seed: z.number().int().min(0).max(0xffffffff).default(1),
    cpus: z.number().int().min(1).max(4096).default(2),
    kernel: z.enum(['post', 'pre']).optional(),
    stage: z.union([z.literal(1), z.literal(2)]).default(1),
    sessions: z.number().int().min(1).max(700).default(2),
    files: z.number().int().min(0).max(120).default(3),
    memfds: z.number().int().min(0).max(8).default(1),
    modules: z.number().int().min(1).max(16).default(1),
    workers: z.number().int().min(1).max(256).default(6),
    cycles: z.number().int().min(1).optional(),
    size: SizeSchema.optional(),
    moduleLoop: z.boolean().default(true),
    contention: z.number().min(0).max(1).default(0.5),
    start: z.number().min(0).max(1e7).optional(),
    faults: z.array(z.enum(FAULTS)).default([]),
    lostCount: z.number().int().min(1).default(7),
    clock: z.enum(CLOCKS).default('local'),
    tscBase: z.string().regex(/^\d{1,20}$/).default('12345678901234567890'),
    tgid: z.boolean().default(false),
    irqInfo: z.boolean().default(true),
    flagCols: z.union([z.literal(4), z.literal(5)]).default(5),
    lockdep: z.boolean().default(true),
    fgraph: z.boolean().default(true),
    tcFlags: z.boolean().default(false),
    testFlbs: z.boolean().default(true),
    noise: z.number().min(0).max(20).default(1),
    speed: z.number().positive().max(100).default(1),
    order: z.enum(['merged', 'per-cpu', 'drain']).default('merged'),
    /** The command line to quote in the label; built from the options when absent. */
    command: z.string().optional(),
  })
  .strict();
export type GenerateOptions = z.input<typeof GenerateOptionsSchema>;
type Opts = z.output<typeof GenerateOptionsSchema>;

/** What kinds of lines the output holds; names match the parsers' data-quality reasons where they exist. */
export const LINE_CLASSES = [
  'event',
  'label',
  'header',
  'blank',
  'lost-marker',
  'buffer-started',
  'trace-cmd-info',
  'bpftrace-info',
  'garbage-text',
  'garbage-binary',
  'prompt',
  'truncated',
  'nul-padding',
  'console-text',
] as const;
export type LineClass = (typeof LINE_CLASSES)[number];

export const GenerateStatsSchema = z.object({
  synthetic: z.literal(true),
  generator: z.string(),
  command: z.string(),
  scenario: z.enum(SCENARIOS),
  format: z.enum(OUTPUT_FORMATS),
  kernel: z.enum(['post', 'pre']),
  seed: z.number().int(),
  bytes: z.number().int(),
  lines: z.number().int(),
  /** Event lines written, i.e. what a parser should count as events. */
  events: z.number().int(),
  /** Event lines by the name the format's parser reports (data-quality `kinds`). */
  kinds: z.record(z.string(), z.number().int()),
  lineClasses: z.record(z.string(), z.number().int()),
  /** Events dropped by the lost faults, per CPU, with the markers printed. */
  lost: z.record(z.string(), z.object({ events: z.number().int(), markers: z.number().int() })),
  /** Events dropped by the overwrite fault (the header's entries-written minus entries-in-buffer). */
  overwritten: z.object({ cpu: z.number().int(), events: z.number().int() }).nullable(),
  faults: z.array(
    z.object({
      fault: z.string(),
      /** 1-based output line where the fault shows (a marker, the junk line, the cut line), if it has one. */
      line: z.number().int().nullable(),
      cpu: z.number().int().nullable(),
      count: z.number().int().nullable(),
      what: z.string(),
    }),
  ),
  /** Module state at the end of the simulation (raw refcnt, MODULE_REF_BASE included). */
  modules: z.record(z.string(), z.object({ refcnt: z.number().int(), loaded: z.boolean() })),
  firstTimeNs: z.number().nullable(),
  lastTimeNs: z.number().nullable(),
  passes: z.number().int(),
});
export type GenerateStats = z.infer<typeof GenerateStatsSchema>;

const CHUNK_BYTES = 1 << 20;

export function parseSize(s: string | number): number {
  if (typeof s === 'number') return s;
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgG]?)(i?)[bB]?$/.exec(s.trim());
  if (!m) throw new Error(`bad size ${s}`);
  const unit = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[m[2].toLowerCase()] as number;
  const bin = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase()] as number;
  return Math.round(Number(m[1]) * (m[3] ? bin : unit));
}

/** Validate and complete the options; throws with a one-line message on a bad combination. */
export function resolveOptions(input: GenerateOptions): Opts {
  const o = GenerateOptionsSchema.parse(input);
  const kernel = o.kernel ?? (o.scenario === 'preseries' || o.scenario === 'unregister-error' ? 'pre' : 'post');
  if (o.scenario === 'unregister-error' && kernel === 'post') {
    throw new Error('unregister-error needs --kernel pre: merged-series unregister functions return void and cannot fail');
  }
  if (o.size !== undefined && o.scenario !== 'stress') throw new Error('--size needs --scenario stress (the only open-ended scenario)');
  if (o.order === 'per-cpu' && o.format !== 'ftrace' && o.format !== 'trace-pipe') throw new Error('--order per-cpu is for ftrace and trace-pipe output');
  if (o.order === 'drain' && o.format !== 'bpftrace' && o.format !== 'bpftrace-json') throw new Error('--order drain is for bpftrace output');
  const f = new Set(o.faults);
  const bpf = o.format === 'bpftrace' || o.format === 'bpftrace-json';
  if (f.has('overwrite') && o.format !== 'ftrace') throw new Error('fault overwrite needs --format ftrace (the `trace` file)');
  if (f.has('repeat-header') && (o.format === 'trace-pipe' || bpf || o.format === 'console')) {
    throw new Error('fault repeat-header needs a format with a header (ftrace, trace-cmd)');
  }
  if (f.has('lost-nocount') && (bpf || o.format === 'console')) throw new Error('fault lost-nocount: bpftrace and console have no count-less marker');
  if (f.has('lost') && o.format === 'console') throw new Error('fault lost: the console has no lost-events marker');
  const cycles = o.cycles ?? (o.scenario === 'stress' && o.size === undefined ? 10 : undefined);
  return { ...o, kernel, cycles };
}

interface Plan {
  headerCounts: { inBuffer: number; written: number } | null;
  perCpuKept: number[] | null;
  totalEvents: number;
  overwrite: { cpu: number; drop: number } | null;
}

interface PassResult {
  firstCpu: number;
  keptPerCpu: number[];
  rawPerCpu: number[];
  kept: number;
  dropped: number;
  total: number;
}

/** Sink of output lines: numbering, EOL, latin1 chunk buffers, and the stats ledger. */
class Output {
  private chunk: Buffer;
  private off = 0;
  lines = 0;
  bytes = 0;
  /** Event counts by name; boxed so the hot path does one Map lookup per line. */
  readonly kinds = new Map<string, { n: number }>();
  readonly classes = new Map<string, number>();
  readonly lost = new Map<string, { events: number; markers: number }>();
  readonly faults: GenerateStats['faults'] = [];
  overwritten: { cpu: number; events: number } | null = null;
  events = 0;
  private pending: { text: string; cls: LineClass; name: string | null } | null = null;
  readonly crlf: boolean;
  private readonly eolLen: number;
  constructor(
    eol: string,
    readonly holdLast: boolean,
  ) {
    this.crlf = eol === '\r\n';
    this.eolLen = eol.length;
    this.chunk = Buffer.allocUnsafe(CHUNK_BYTES + 65536);
  }

  /** Bytes waiting in the current chunk. */
  get size(): number {
    return this.off;
  }

  emit(text: string, cls: LineClass, name: string | null = null): number {
    if (this.holdLast) {
      if (this.pending) this.write(this.pending.text, this.pending.cls, this.pending.name);
      this.pending = { text, cls, name };
      return this.lines + 1;
    }
    this.write(text, cls, name);
    return this.lines;
  }

  /** Append latin1 text (every char < 256 becomes one byte, so junk bytes can be written too). */
  private put(text: string): void {
    if (this.off + text.length + 2 > this.chunk.length) this.grow(text.length + 2);
    this.off += (this.chunk as LatinBuffer).latin1Write(text, this.off);
  }

  private grow(need: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.chunk.length, this.off + need) * 2);
    this.chunk.copy(next, 0, 0, this.off);
    this.chunk = next;
  }

  /** Hot path: an event line (no hold-back, no drain). */
  event(text: string, name: string): void {
    if (this.off + text.length + 2 > this.chunk.length) this.grow(text.length + 2);
    this.off += (this.chunk as LatinBuffer).latin1Write(text, this.off);
    if (this.crlf) this.chunk[this.off++] = 13;
    this.chunk[this.off++] = 10;
    this.lines++;
    this.bytes += text.length + this.eolLen;
    this.count(name);
  }

  private count(name: string): void {
    this.events++;
    const box = this.kinds.get(name);
    if (box === undefined) this.kinds.set(name, { n: 1 });
    else box.n++;
  }

  /** Hot path, byte level: the renderer writes the line straight into the chunk. */
  eventBytes(rec: Rec, r: Renderer, name: string): number {
    if (this.off + 65536 > this.chunk.length) this.grow(65536);
    const start = this.off;
    let off = r.writeBytes(rec, this.chunk, start);
    if (this.crlf) this.chunk[off++] = 13;
    this.chunk[off++] = 10;
    this.off = off;
    this.lines++;
    this.bytes += off - start;
    this.count(name);
    return off - start;
  }

  private write(text: string, cls: LineClass, name: string | null): void {
    this.put(text);
    if (this.crlf) this.chunk[this.off++] = 13;
    this.chunk[this.off++] = 10;
    this.lines++;
    this.bytes += text.length + this.eolLen;
    if (cls === 'event' && name !== null) this.count(name);
    else this.classes.set(cls, (this.classes.get(cls) ?? 0) + 1);
  }

  /** The killed capture: the held last line is cut inside its timestamp, no newline. */
  finishTruncated(cut: (text: string) => string): number | null {
    const p = this.pending;
    this.pending = null;
    if (!p) return null;
    const text = cut(p.text);
    this.put(text);
    this.lines++;
    this.bytes += text.length;
    this.classes.set('truncated', (this.classes.get('truncated') ?? 0) + 1);
    return this.lines;
  }

  flushPending(): void {
    const p = this.pending;
    this.pending = null;
    if (p) this.write(p.text, p.cls, p.name);
  }

  raw(text: string): void {
    this.put(text);
    this.bytes += text.length;
  }

  take(): Buffer {
    const b = this.chunk.subarray(0, this.off);
    this.chunk = Buffer.allocUnsafe(CHUNK_BYTES + 65536);
    this.off = 0;
    return b;
  }

  classCounts(): Record<string, number> {
    const all = new Map(this.classes);
    if (this.events > 0) all.set('event', this.events);
    return Object.fromEntries([...all.entries()].sort());
  }
}

/** Where counting passes render lines they only measure. */
const SCRATCH = Buffer.allocUnsafe(1 << 20);

/** Positions (event index, before drops) where junk lines go. */
function garbageAt(i: number): boolean {
  return i === 17 || i === 101 || i === 1009 || (i > 1009 && i % 100_003 === 0);
}
const GARBAGE_LINES: Array<[string, LineClass]> = [
  ['~~ 0x3f9a0c1e77d2 ?? garbage after a serial glitch ~~', 'garbage-text'],
  ['\u001b[0;32m garbage \u001b[0m #%&* 7f3a 9c1e \u00ff\u00fe', 'garbage-text'],
  ['\u0000\u0001\u0002 garbage \u0000\u00ff\u00fe\u0007 binary', 'garbage-binary'],
];

/** Per-file module_get call sites: the first of these opens a pin window (lost fault target). */
const PIN_SITES = new Set(['luo_preserve_file', 'luo_file_deserialize']);

class Pass {
  readonly world: World;
  readonly renderer: Renderer;
  bodyBytes = 0;
  private index = 0;
  private firstTime: number | null = null;
  private firstCpu = 0;
  lastTime: number | null = null;
  private started = false;
  readonly keptPerCpu: number[];
  readonly rawPerCpu: number[];
  private kept = 0;
  private dropped = 0;
  private lost: { armed: boolean; cpu: number; skip: number; drop: number; marker: boolean; done: boolean };
  private ovDropped = 0;
  private ovMarked = false;
  private readonly eolLen: number;
  private readonly sizeLimit: number | null;
  /** bpftrace drain order: per-CPU buffers of pending lines, flushed in CPU order (O8). */
  private readonly drain: Array<Array<{ text: string; cls: LineClass; name: string | null; fault: GenerateStats['faults'][number] | null }>> | null;
  private drained = 0;
  private drainAt = 0;

  constructor(
    private readonly o: Opts,
    private readonly plan: Plan,
    /** null for counting passes. */
    private readonly out: Output | null,
    /** Only this CPU's events are written (per-cpu order), the others still run. */
    private readonly cpuFilter: number | null,
    /** Whether this pass prints the header block (first per-CPU file, or a merged output). */
    private readonly printHeader: boolean,
  ) {
    this.world = new World(
      o.seed,
      o.kernel as 'post' | 'pre',
      o.testFlbs,
      o.speed,
      o.noise,
      o.cpus,
      { leak: o.faults.filter((f) => f === 'leak').length, putWithoutGet: o.faults.filter((f) => f === 'put-without-get').length },
    );
    this.renderer = makeRenderer(renderOptions(o));
    this.keptPerCpu = new Array(o.cpus).fill(0);
    this.rawPerCpu = new Array(o.cpus).fill(0);
    const lostOn = o.faults.includes('lost') || o.faults.includes('lost-nocount');
    this.lost = { armed: false, cpu: 0, skip: 1, drop: lostOn ? o.lostCount : 0, marker: false, done: !lostOn };
    this.eolLen = o.faults.includes('crlf') || o.format === 'console' ? 2 : 1;
    this.sizeLimit = o.size === undefined ? null : parseSize(o.size);
    if (this.sizeLimit !== null) {
      const limit = this.sizeLimit;
      this.world.stopRequested = () => this.bodyBytes >= limit;
    }
    this.drain = o.order === 'drain' ? Array.from({ length: o.cpus }, () => []) : null;
    this.drainAt = 16;
    this.world.sched.pool = this.world.recPool;
    startScenario(this.world, scenarioOptions(o));
  }

  /** Write a line that belongs to `cpu`'s stream (buffered per CPU in drain order). */
  private put(cpu: number, text: string, cls: LineClass, name: string | null, fault: GenerateStats['faults'][number] | null): void {
    const out = this.out as Output;
    if (this.drain === null) {
      const line = out.emit(text, cls, name);
      if (fault) {
        fault.line = line;
        out.faults.push(fault);
      }
      return;
    }
    this.drain[cpu].push({ text, cls, name, fault });
    if (++this.drained >= this.drainAt) this.flushDrain();
  }

  /** Print every CPU's buffered lines, CPU 0 first, like bpftrace reading its perf buffers in turn. */
  flushDrain(): void {
    if (this.drain === null) return;
    const out = this.out as Output;
    for (const buf of this.drain) {
      for (const e of buf) {
        const line = out.emit(e.text, e.cls, e.name);
        if (e.fault) {
          e.fault.line = line;
          out.faults.push(e.fault);
        }
      }
      buf.length = 0;
    }
    this.drained = 0;
    this.drainAt = 8 + this.world.rng.int(48);
  }

  /** Run until `out` holds a chunk (or to the end). Returns false when the simulation is over. */
  step(): boolean {
    const sched = this.world.sched;
    const r = this.renderer;
    const out = this.out;
    const measure = this.sizeLimit !== null;
    for (;;) {
      if (out && out.size >= CHUNK_BYTES) return true;
      const rec = sched.next();
      if (rec === null) {
        if (out) this.flushDrain();
        return false;
      }
      if (r.include(rec)) {
        if (!this.started) this.start(rec);
        this.handle(rec, measure);
      }
      this.world.recPool.push(rec);
    }
  }

  private start(rec: Rec): void {
    this.started = true;
    this.firstTime = rec.t;
    this.firstCpu = rec.cpu;
    if (!this.out || !this.printHeader) return;
    const counts =
      this.cpuFilter !== null && this.plan.perCpuKept
        ? { inBuffer: this.plan.perCpuKept[this.cpuFilter], written: this.plan.perCpuKept[this.cpuFilter] }
        : this.plan.headerCounts;
    this.emitHeader(counts, rec.t);
  }

  emitHeader(counts: { inBuffer: number; written: number } | null, t: number): void {
    const out = this.out as Output;
    for (const h of this.renderer.header(counts, t)) out.emit(h, headerClass(h, this.o.format));
  }

  private handle(rec: Rec, measure: boolean): void {
    const o = this.o;
    const out = this.out;
    const i = this.index++;
    const cpu = rec.cpu;
    this.rawPerCpu[cpu]++;
    this.lastTime = rec.t;
    const pass = this.cpuFilter === null || this.cpuFilter === cpu;

    // Stream faults that sit between events.
    if (out && pass) {
      if (o.faults.includes('garbage') && garbageAt(i)) {
        for (const [g, cls] of GARBAGE_LINES) {
          const line = out.emit(g, cls);
          out.faults.push({ fault: 'garbage', line, cpu: null, count: null, what: cls });
        }
      }
      if (o.faults.includes('repeat-header') && this.cpuFilter === null && i === Math.floor(this.plan.totalEvents / 2) && i > 0) {
        const first = out.lines + 1;
        this.emitHeader(this.plan.headerCounts, rec.t);
        out.faults.push({ fault: 'repeat-header', line: first, cpu: null, count: null, what: 'header block printed again' });
      }
    }

    // Ring-buffer overrun: the oldest events of one CPU are gone.
    const ov = this.plan.overwrite;
    if (ov && cpu === ov.cpu) {
      if (this.ovDropped < ov.drop) {
        this.ovDropped++;
        this.dropped++;
        return;
      }
      if (!this.ovMarked) {
        this.ovMarked = true;
        if (out && pass && this.kept > 0) {
          const line = out.emit(this.renderer.bufferStarted(cpu) as string, 'buffer-started');
          out.faults.push({ fault: 'overwrite', line, cpu, count: ov.drop, what: `oldest ${ov.drop} events of CPU ${cpu} overwritten` });
        }
        if (out) out.overwritten = { cpu, events: ov.drop };
      }
    }

    // Lost events inside a pin window.
    const L = this.lost;
    if (!L.done) {
      if (!L.armed) {
        if (rec.kind === K_MODREF && rec.a === 'module_get' && PIN_SITES.has(rec.b as string)) {
          L.armed = true;
          L.cpu = cpu;
        }
      } else if (cpu === L.cpu) {
        if (L.skip > 0) L.skip--;
        else if (L.drop > 0) {
          L.drop--;
          this.dropped++;
          if (L.drop === 0) L.marker = true;
          return;
        } else if (L.marker) {
          L.marker = false;
          L.done = true;
          if (out && pass) {
            const count = o.faults.includes('lost-nocount') ? null : o.lostCount;
            const text = this.renderer.lostMarker(cpu, count);
            if (text !== null) {
              this.put(cpu, text, 'lost-marker', null, { fault: 'lost', line: null, cpu, count: o.lostCount, what: `${o.lostCount} events of CPU ${cpu} dropped inside a pin window` });
            }
            this.noteLost(cpu, o.lostCount, text === null ? 0 : 1);
          }
        }
      }
    }

    this.kept++;
    this.keptPerCpu[cpu]++;
    const rr = this.renderer;
    if (out && pass) {
      if (this.drain === null && !out.holdLast && rr.isEvent(rec)) {
        if (rr.fast) this.bodyBytes += out.eventBytes(rec, rr, rr.eventName(rec));
        else {
          const text = rr.line(rec);
          this.bodyBytes += text.length + this.eolLen;
          out.event(text, rr.eventName(rec));
        }
      } else {
        const text = rr.line(rec);
        this.bodyBytes += text.length + this.eolLen;
        if (rr.isEvent(rec)) this.put(cpu, text, 'event', rr.eventName(rec), null);
        else this.put(cpu, text, 'console-text', null, null);
      }
    } else if (measure) {
      // Same bytes as the writing pass would produce, so the size budget stops both at one point.
      this.bodyBytes += (rr.fast ? rr.writeBytes(rec, SCRATCH, 0) : rr.line(rec).length) + this.eolLen;
    }
  }

  private noteLost(cpu: number, events: number, markers: number): void {
    const out = this.out as Output;
    const e = out.lost.get(String(cpu)) ?? { events: 0, markers: 0 };
    e.events += events;
    e.markers += markers;
    out.lost.set(String(cpu), e);
  }

  result(): PassResult {
    return { firstCpu: this.firstCpu, keptPerCpu: this.keptPerCpu, rawPerCpu: this.rawPerCpu, kept: this.kept, dropped: this.dropped, total: this.index };
  }

  get times(): { first: number | null; last: number | null } {
    return { first: this.firstTime, last: this.lastTime };
  }
}

function headerClass(line: string, format: string): LineClass {
  if (line === '') return 'blank';
  if (format === 'trace-cmd') return 'trace-cmd-info';
  if (format === 'bpftrace' || format === 'bpftrace-json') return 'bpftrace-info';
  return 'header';
}

export function renderOptions(o: Opts): RenderOptions {
  return {
    format: o.format,
    cpus: o.cpus,
    tgid: o.tgid,
    irqInfo: o.irqInfo,
    flagCols: o.flagCols,
    lockdep: o.lockdep,
    clock: o.clock,
    tscBase: BigInt(o.tscBase),
    fgraph: o.fgraph,
    tcFlags: o.tcFlags,
    bootSeed: (o.seed * 2654435761 + 17) >>> 0,
    pre: o.kernel === 'pre',
  };
}

export function scenarioOptions(o: Opts): ScenarioOptions {
  return {
    scenario: o.scenario,
    stage: o.stage,
    sessions: o.sessions,
    files: o.files,
    memfds: o.memfds,
    modules: o.modules,
    workers: o.workers,
    cycles: o.cycles ?? null,
    moduleLoop: o.moduleLoop,
    contention: o.contention,
    start: o.start ?? defaultStart(o),
  };
}

/** The command line that reproduces these options (quoted in the label line). */
export function commandFor(o: Opts): string {
  const parts = [`--scenario ${o.scenario}`, `--format ${o.format}`, `--seed ${o.seed}`];
  const d = GenerateOptionsSchema.parse({});
  const add = (flag: string, v: unknown, def: unknown) => {
    if (v !== undefined && v !== def) parts.push(v === true ? flag : `${flag} ${String(v)}`);
  };
  const defKernel = o.scenario === 'preseries' || o.scenario === 'unregister-error' ? 'pre' : 'post';
  add('--kernel', o.kernel, defKernel);
  add('--stage', o.stage, d.stage);
  add('--cpus', o.cpus, d.cpus);
  add('--sessions', o.sessions, d.sessions);
  add('--files', o.files, d.files);
  add('--memfds', o.memfds, d.memfds);
  add('--modules', o.modules, d.modules);
  if (o.scenario === 'stress') {
    add('--workers', o.workers, d.workers);
    if (o.size !== undefined) add('--size', o.size, undefined);
    else add('--cycles', o.cycles, 10);
    if (!o.moduleLoop) parts.push('--no-module-loop');
    add('--contention', o.contention, d.contention);
  }
  add('--start', o.start, undefined);
  if (o.faults.length) parts.push(`--fault ${o.faults.join(',')}`);
  add('--lost-count', o.lostCount, d.lostCount);
  add('--clock', o.clock, d.clock);
  if (o.clock === 'x86-tsc') add('--tsc-base', o.tscBase, undefined);
  if (o.tgid) parts.push('--tgid');
  if (!o.irqInfo) parts.push('--no-irq-info');
  add('--flag-cols', o.flagCols, d.flagCols);
  if (!o.lockdep) parts.push('--no-lockdep');
  if (!o.fgraph) parts.push('--no-fgraph');
  if (o.tcFlags) parts.push('--tc-flags');
  if (!o.testFlbs) parts.push('--no-test-flbs');
  add('--noise', o.noise, d.noise);
  add('--speed', o.speed, d.speed);
  add('--order', o.order, d.order);
  return parts.join(' ');
}

/** Cut an event line inside its timestamp, as a `cat trace_pipe` killed mid-write leaves it. */
function cutInTimestamp(text: string, format: string): string {
  if (format === 'bpftrace' || format === 'bpftrace-json' || format === 'console') return text.slice(0, Math.max(1, Math.floor(text.length / 2)));
  const colon = text.indexOf(': ', text.indexOf(']'));
  return colon > 3 ? text.slice(0, colon - 3) : text.slice(0, Math.floor(text.length / 2));
}

/**
 * The generator: a synchronous iterator of output chunks (~1 MiB Buffers); its return value is
 * the stats ledger. Deterministic for a given option set.
 */
export function* generateChunks(input: GenerateOptions): Generator<Buffer, GenerateStats, void> {
  const o = resolveOptions(input);
  const command = o.command ?? commandFor(o);
  const faults = new Set(o.faults);
  let passes = 0;

  // Counting passes (same seed → same simulation) for facts the output needs up front.
  const plan: Plan = { headerCounts: null, perCpuKept: null, totalEvents: 0, overwrite: null };
  const needCount = o.format === 'ftrace' || faults.has('repeat-header') || faults.has('overwrite');
  if (faults.has('overwrite')) {
    const a = runCount(o, plan);
    passes++;
    // The busiest CPU other than the one that printed first (the kernel prints no
    // `buffer started` line before the very first entry).
    let cpu = -1;
    for (let c = 0; c < o.cpus; c++) if (c !== a.firstCpu && (cpu < 0 || a.rawPerCpu[c] > a.rawPerCpu[cpu])) cpu = c;
    if (cpu < 0) cpu = a.firstCpu;
    plan.overwrite = { cpu, drop: Math.max(1, Math.floor(a.rawPerCpu[cpu] / 4)) };
  }
  if (needCount) {
    const b = runCount(o, plan);
    passes++;
    plan.headerCounts = { inBuffer: b.kept, written: b.kept + b.dropped };
    plan.perCpuKept = b.keptPerCpu;
    plan.totalEvents = b.total;
  }

  // A serial console ends its lines with CRLF (real console.log); the crlf fault does it elsewhere.
  const out = new Output(faults.has('crlf') || o.format === 'console' ? '\r\n' : '\n', faults.has('truncate'));
  const renderer = makeRenderer(renderOptions(o));
  const label = `synthetic: luotrace generate ${command} (made by samples/generate.ts, not a real capture)`;
  out.emit(o.format === 'bpftrace-json' ? `{"type": "synthetic", "data": ${JSON.stringify(label)}}` : `# ${label}`, 'label');
  if (faults.has('prompt')) {
    const cmd = o.format === 'trace-cmd' ? 'trace-cmd report -i trace-cmd.dat' : o.format.startsWith('bpftrace') ? 'bpftrace /luo/luo_events.bt' : 'cat /sys/kernel/tracing/instances/main/trace';
    const line = out.emit(`root@luo-guest:~# ${cmd}`, 'prompt');
    out.faults.push({ fault: 'prompt', line, cpu: null, count: null, what: 'shell prompt' });
  }

  let first: number | null = null;
  let last: number | null = null;
  let world: World | null = null;
  const cpuPasses = o.order === 'per-cpu' ? Array.from({ length: o.cpus }, (_, c) => c) : [null];
  for (const cpu of cpuPasses) {
    const pass = new Pass(o, plan, out, cpu, o.order === 'per-cpu' ? o.format === 'ftrace' : true);
    passes++;
    while (pass.step()) yield out.take();
    if (o.order === 'per-cpu' && o.format === 'ftrace' && pass.result().keptPerCpu[cpu as number] === 0) {
      // A CPU with no events still has its per_cpu/cpuN/trace header.
      pass.emitHeader({ inBuffer: 0, written: 0 }, 0);
    }
    const tm = pass.times;
    if (tm.first !== null && (first === null || tm.first < first)) first = tm.first;
    if (tm.last !== null && (last === null || tm.last > last)) last = tm.last;
    world = pass.world;
  }
  if (!faults.has('truncate')) {
    for (const f of renderer.footer(last ?? 0)) out.emit(f, f === '' ? 'blank' : 'bpftrace-info');
    if (faults.has('prompt')) out.emit('^C', 'prompt');
    out.flushPending();
  } else {
    const line = out.finishTruncated((t) => cutInTimestamp(t, o.format));
    out.faults.push({ fault: 'truncate', line, cpu: null, count: null, what: 'last line cut inside its timestamp, no newline' });
  }
  if (faults.has('nul')) {
    out.raw('\u0000'.repeat(4096));
    // After a final newline the NULs form one more (padding) line; after a cut line they join it.
    if (!faults.has('truncate')) {
      out.lines++;
      out.classes.set('nul-padding', 1);
    }
    out.faults.push({ fault: 'nul', line: out.lines, cpu: null, count: 4096, what: 'NUL padding at the end' });
  }
  yield out.take();

  const w = world as World;
  for (const n of w.notes) out.faults.push({ fault: n.fault, line: null, cpu: null, count: null, what: n.what });
  const modules: GenerateStats['modules'] = {};
  for (const m of w.modules) modules[m.name] = { refcnt: m.refcnt, loaded: m.loaded };
  const stats: GenerateStats = {
    synthetic: true,
    generator: 'luotrace samples/generate.ts',
    command: `luotrace generate ${command}`,
    scenario: o.scenario,
    format: o.format,
    kernel: o.kernel as 'post' | 'pre',
    seed: o.seed,
    bytes: out.bytes,
    lines: out.lines,
    events: out.events,
    kinds: Object.fromEntries([...out.kinds.entries()].map(([k, v]) => [k, v.n] as [string, number]).sort()),
    lineClasses: out.classCounts(),
    lost: Object.fromEntries([...out.lost.entries()].sort()),
    overwritten: out.overwritten,
    faults: out.faults,
    modules,
    firstTimeNs: first,
    lastTimeNs: last,
    passes,
  };
  return stats;
}

function runCount(o: Opts, plan: Plan): PassResult {
  const pass = new Pass(o, plan, null, null, false);
  while (pass.step()) {
    /* counting only */
  }
  return pass.result();
}

