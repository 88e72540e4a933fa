// What every format parser implements, and the environment it writes into.
import type { SourceClock } from './clock.js';
import type { TraceEvent } from './event.js';
import type { EventContext } from './payloads.js';
import type { QualityLedger } from './quality.js';

/** A jump back in time larger than this on one CPU is a clock reset, not skew. */
const CLOCK_RESET_NS = 1_000_000_000;
/**
 * Segments one source may start (kernel boots, clock resets). Real inputs start a few: one per kernel
 * of a console log, one per dump of a concatenated trace. A garbled or forged file can start one per
 * line (its clock jumping back and forth), and each segment carries its own state and report section
 * (a boot); 3·10^5 such lines ran for minutes and 1 GB. A thousand is more kernels than any serial
 * console keeps between two rotations.
 */
export const MAX_SEGMENTS_PER_SOURCE = 1000;
/** CPUs whose last event time is kept by index (ParserEnv.lastTimeOnCpu). */
const CPU_SLOTS = 1024;

function isCpuSlot(cpu: number): boolean {
  return cpu >= 0 && cpu < CPU_SLOTS && (cpu | 0) === cpu;
}

export type EventSink = (event: TraceEvent) => void;

/** Per-source environment handed to a parser. */
export class ParserEnv {
  /** Times of the first and last events with one (kept unboxed: the last one is set per event). */
  private first = 0;
  private last = 0;
  private timed = false;
  events = 0;
  tracer: string | null = null;
  /**
   * Last event time per CPU, to say where a lost-events marker sits: by index for the CPU numbers a
   * machine has (timeSeenOnCpu: set once one was), in a map beyond (a forged line can name any number).
   */
  private readonly lastTimeOnCpu = new Float64Array(CPU_SLOTS);
  private readonly timeSeenOnCpu = new Uint8Array(CPU_SLOTS);
  private readonly lastTimeOnBigCpu = new Map<number, number>();
  /** Boots and clock resets seen (pastSegmentCap). */
  private segmentStarts = 0;

  constructor(
    readonly src: number,
    readonly file: string,
    readonly ledger: QualityLedger,
    readonly clock: SourceClock,
    private readonly sink: EventSink,
    private readonly maxSegments = MAX_SEGMENTS_PER_SOURCE,
  ) {}

  get firstTime(): number | null {
    return this.timed ? this.first : null;
  }

  get lastTime(): number | null {
    return this.timed ? this.last : null;
  }

  /** A fresh context for one line (every field the line does not set stays null). */
  context(line: number): EventContext {
    return { time: null, cpu: null, pid: null, tgid: null, comm: null, src: this.src, line };
  }

  /** Count and hand on `ev`; `pair`: its (name, kind) number when the parser knows it (quality.ts eventPairId). */
  emit(ev: TraceEvent, pair = -1): void {
    if ((ev.kind === 'module_get' || ev.kind === 'module_put') && !Number.isSafeInteger(ev.fields.refcnt)) {
      // A refcount a double cannot hold exactly (the kernel prints an int; this is a broken or
      // forged line): counting it would make the module verdicts pass without seeing the reference.
      this.ledger.skip('refcnt-out-of-range', this.file, ev.line);
      return;
    }
    if (ev.kind === 'boot' && this.pastSegmentCap(ev, this.lastTime)) {
      // Still a kernel message: kept as the printk line it is, in the segment it falls in.
      ev = { ...ev, kind: 'printk', name: 'printk' };
      pair = -1;
    }
    this.events++;
    this.ledger.eventOfPair(pair, ev.name, ev.kind);
    const t = ev.time;
    if (t !== null) {
      if (!this.timed) {
        this.timed = true;
        this.first = t;
      }
      this.last = t;
      const cpu = ev.cpu;
      // One CPU's clock only moves forward; a big jump back means a reboot, a trace_clock change
      // or concatenated dumps: a new segment that nothing may be paired across (§5 item 17).
      if (cpu !== null && isCpuSlot(cpu)) {
        if (this.timeSeenOnCpu[cpu] === 1 && t < this.lastTimeOnCpu[cpu] - CLOCK_RESET_NS) this.clockReset(ev, this.lastTimeOnCpu[cpu]);
        this.lastTimeOnCpu[cpu] = t;
        this.timeSeenOnCpu[cpu] = 1;
      } else if (cpu !== null) {
        const prev = this.lastTimeOnBigCpu.get(cpu);
        if (prev !== undefined && t < prev - CLOCK_RESET_NS) this.clockReset(ev, prev);
        this.lastTimeOnBigCpu.set(cpu, t);
      }
    }
    this.sink(ev);
  }

  /** The time of the last event on `cpu`, null before its first (lastTimeOnCpu). */
  private lastTimeOn(cpu: number): number | null {
    if (isCpuSlot(cpu)) return this.timeSeenOnCpu[cpu] === 1 ? this.lastTimeOnCpu[cpu] : null;
    return this.lastTimeOnBigCpu.get(cpu) ?? null;
  }

  private clockReset(ev: TraceEvent, prev: number): void {
    if (this.pastSegmentCap(ev, prev)) return;
    this.ledger.note(
      `${this.file}:${ev.line}: the clock went back ${((prev - (ev.time ?? 0)) / 1e9).toFixed(3)} s on CPU ${ev.cpu}: treated as a new segment (reboot, clock change or concatenated dumps)`,
    );
    this.gap(ev.time, null, ev.line, null, 'clock-reset');
  }

  /**
   * Count a segment start; past maxSegments in this source it starts none: the events go on in the
   * current segment, and the start becomes lost data (a gap no pairing crosses, verdicts across it
   * inconclusive), counted in the ledger's `all` entry with the marker `segment-cap`.
   */
  private pastSegmentCap(ev: TraceEvent, after: number | null): boolean {
    if (this.segmentStarts++ < this.maxSegments) return false;
    this.ledger.note(
      `${this.file}: more than ${this.maxSegments} kernel starts or clock resets: the later ones start no segment and are counted as lost data (marker segment-cap), nothing is paired across them`,
    );
    this.ledger.lostEvents('all', { file: this.file, line: ev.line, count: null, marker: 'segment-cap', after });
    this.gap(ev.time, null, ev.line, null, 'segment-cap');
    return true;
  }

  /** Lost data reported by the trace itself, as a `lost` record and a gap the analyses can see. */
  lost(cpu: number | null, count: number | null, marker: string, line: number): void {
    const after = cpu === null ? this.lastTime : this.lastTimeOn(cpu);
    this.ledger.lostEvents(cpu === null ? 'all' : String(cpu), { file: this.file, line, count, marker, after });
    this.ledger.knownLine(marker === 'buffer-started' ? 'buffer-started' : 'lost-marker', this.file, line);
    this.gap(after, cpu, line, count, marker);
  }

  /** A `lost` record into the stream: a gap the analyses pair nothing across (and, for `clock-reset`, a new segment). */
  private gap(time: number | null, cpu: number | null, line: number, count: number | null, marker: string): void {
    this.sink({ kind: 'lost', name: 'lost', time, cpu, pid: null, tgid: null, comm: null, src: this.src, line, fields: { count, marker } });
  }
}

export interface LineParser {
  line(text: string, lineNo: number, unterminated: boolean): void;
  /**
   * Optional fast path: a complete ASCII line as bytes (buf[start, end), no line end, no NUL);
   * true when handled, false to receive it through line() instead.
   */
  bytes?(buf: Buffer, start: number, end: number, lineNo: number): boolean;
  /** Called once after the last line. */
  finish(): void;
}

/** Text that is clearly not trace data: shell prompts, tool banners, `^C`, elisions (§5 item 10). */
export function isForeignText(line: string): boolean {
  const t = line.trim();
  return (
    t === '[...]' ||
    t === '...' ||
    t.startsWith('^C') ||
    /^(Tracing|Ending tracing|Hit Ctrl|Attaching|Attached)\b/.test(t) ||
    /^[\w.@~:/-]*[#$] /.test(t) ||
    t.startsWith('> ') ||
    isDocumentMarkup(t)
  );
}

/**
 * Markup around a trace in the file that carries it, never trace text: the HTML of a systrace file
 * (`</script>`, `<!-- END TRACE -->`, `</html>`) and the block delimiters of asciidoc, reST and
 * Markdown documents (`----`, `....`, a code fence). Such a line after the last event must not be
 * taken for a continuation of its payload.
 */
function isDocumentMarkup(t: string): boolean {
  return /^<\/?[A-Za-z!][^<>]*>$/.test(t) || /^(-{4,}|\.{4,}|={4,}|```\w*|\[source(,\w+)*\])$/.test(t);
}
