// ftrace text: the tracefs `trace` file (with its `#` header), `trace_pipe` (no header), and the
// same text as `trace-cmd report` prints it, plus function_graph and latency-format sections.
//
// Grammar: docs/trace-formats.md §1 (kernel/trace/trace.c, kernel/trace/trace_output.c) and §2 for
// trace-cmd (tracecmd/trace-read.c). One state machine serves all of them because real files mix
// them: dumps concatenated with their headers repeated mid-file, a `# tracer: function_graph` dump
// after an event dump, trace-cmd's stderr lines (`version = 6`, `CPU 3 is empty`) before `cpus=N`
// when both streams were captured, shell prompts and `^C` around the data. Each line is either an
// event, a known non-event line, or skipped with a reason (quality.ts).
import { type GraphLineResult, GraphState, looksLikeGraphLine, parseGraphLine } from './function-graph.js';
import type { TraceEvent } from './event.js';
import { type ByteTokens, decodeRestBytes, decodedPair, newByteTokens, tokenizeBytes } from './ftrace-bytes.js';
import { type ContextTokens, newContextTokens, tokenizeFtraceLine, unquoteCsvLine } from './ftrace-line.js';
import { parseLatencyLine } from './latency.js';
import { type LineParser, type ParserEnv, isForeignText } from './parser.js';
import { type EventContext, decodeRest } from './payloads.js';

type Mode = 'events' | 'graph' | 'latency';

/** Only whitespace? (Without trim(): event lines start with spaces and trim() would copy each.) */
function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

/** Tracers whose `trace` output uses the latency format (docs/trace-formats.md §1.2 (e), §1.9). */
const LATENCY_TRACERS = new Set(['irqsoff', 'preemptoff', 'preemptirqsoff', 'wakeup', 'wakeup_rt', 'wakeup_dl']);
const MAX_STACK_FRAMES = 128;
/** The start of a function_graph line: optional abstime column, then ` N)`. */
const GRAPH_PREFIX = /^\s*(\d+\.\d+ \|\s*)?\d+\)/;
const MAX_CONTINUATION_CHARS = 64 * 1024;

export class FtraceParser implements LineParser {
  private mode: Mode;
  private readonly tok: ContextTokens = newContextTokens();
  private readonly btok: ByteTokens = newByteTokens();
  private readonly graph = new GraphState();
  /** Last event, held back while continuation lines may still extend it (markers, stacks). */
  private pending: TraceEvent | null = null;
  private readonly toNs: (text: string, start: number, dot: number, end: number) => number;
  private readonly ctx: EventContext;

  constructor(
    private readonly env: ParserEnv,
    startMode: 'events' | 'graph' | 'latency' = 'events',
  ) {
    this.mode = startMode;
    this.ctx = env.context(0);
    this.toNs = (text, start, dot, end) => env.clock.decimal(text, start, dot, end);
  }

  line(text: string, lineNo: number, unterminated: boolean): void {
    if (text.charCodeAt(0) === 34 /* " */) {
      const inner = unquoteCsvLine(text);
      if (inner !== null) {
        this.quotedLine(inner, lineNo, unterminated);
        return;
      }
    }
    this.plainLine(text, lineNo, unterminated);
  }

  /**
   * A line of trace text exported as a one-column CSV (Perfetto's `SELECT to_ftrace(id) AS line`):
   * the header `"line"` is known, every other row is read as the text inside its quotes.
   */
  private quotedLine(inner: string, lineNo: number, unterminated: boolean): void {
    if (inner === 'line') {
      this.flush();
      this.env.ledger.knownLine('csv-header', this.env.file, lineNo);
      return;
    }
    this.plainLine(inner, lineNo, unterminated);
  }

  private plainLine(text: string, lineNo: number, unterminated: boolean): void {
    const env = this.env;
    if (isBlank(text)) {
      this.flush();
      env.ledger.knownLine('blank', env.file, lineNo);
      return;
    }
    const c0 = text.charCodeAt(0);
    if (c0 === 35 /* # */) {
      this.flush();
      this.header(text, lineNo);
      return;
    }
    if (c0 === 67 /* C */ && this.cpuMarker(text, lineNo)) return;
    if (c0 === 99 /* c */ || c0 === 118 /* v */ || c0 === 67) {
      // trace-cmd report preamble (TC trace-read.c; stderr `tracecmd_info` lines, §2, §5 item 18)
      if (/^(cpus=\d+|version = \d+|CPU \d+ is empty)\s*$/.test(text)) {
        this.flush();
        env.ledger.knownLine('trace-cmd-info', env.file, lineNo);
        return;
      }
    }

    if (this.mode === 'events') {
      const fail = tokenizeFtraceLine(text, this.tok);
      if (fail === null) {
        this.eventLine(text, lineNo, unterminated);
        return;
      }
      if (looksLikeGraphLine(text)) {
        if (!this.graphLine(text, lineNo, unterminated)) this.notAnEvent(text, lineNo, unterminated, 'malformed-graph-line');
        return;
      }
      // Latency-format lines under a header that names no tracer (a quoted or cut `trace` file).
      const lat = fail === 'none' ? parseLatencyLine(text, this.env.context(lineNo)) : null;
      if (lat) {
        this.accept(lat, lineNo, unterminated);
        return;
      }
      this.notAnEvent(text, lineNo, unterminated, fail === 'no-timestamp' ? 'malformed-event-line' : null);
      return;
    }
    if (this.mode === 'graph') {
      if (!this.graphLine(text, lineNo, unterminated)) {
        if (tokenizeFtraceLine(text, this.tok) === null) this.eventLine(text, lineNo, unterminated);
        else this.notAnEvent(text, lineNo, unterminated, GRAPH_PREFIX.test(text) ? 'malformed-graph-line' : null);
      }
      return;
    }
    // latency
    const ev = parseLatencyLine(text, this.env.context(lineNo));
    if (ev) {
      this.accept(ev, lineNo, unterminated);
    } else if (looksLikeGraphLine(text) && this.graphLine(text, lineNo, unterminated)) {
      // options/display-graph: the latency tracers print function_graph lines (docs/trace-formats.md §1.9)
    } else if (tokenizeFtraceLine(text, this.tok) === null) {
      this.eventLine(text, lineNo, unterminated);
    } else {
      this.notAnEvent(text, lineNo, unterminated, /^\s*\S{1,8}-\d+\s+\d/.test(text) ? 'malformed-latency-line' : null);
    }
  }

  finish(): void {
    this.flush();
  }

  /**
   * The fast path (ftrace-bytes.ts): the line buf[start, end) (ASCII, terminated, no NUL, not the
   * first) read from its bytes. False when it is not a common event line: the caller then makes its
   * string and calls line(), which handles everything else.
   */
  bytes(buf: Buffer, start: number, end: number, lineNo: number): boolean {
    if (this.mode !== 'events') return false;
    const c0 = buf[start];
    // `"` a CSV-quoted line, `#` a header, `C`/`c`/`v` trace-cmd's info lines and CPU markers (plainLine).
    if (c0 === 34 || c0 === 35 || c0 === 67 || c0 === 99 || c0 === 118) return false;
    const t = this.btok;
    if (!tokenizeBytes(buf, start, end, t)) return false;
    const ctx = this.ctx;
    ctx.time = this.env.clock.fromSeconds(t.sec, t.ns);
    ctx.cpu = t.cpu;
    ctx.pid = t.pid;
    ctx.tgid = t.tgid;
    ctx.comm = t.comm;
    ctx.line = lineNo;
    const ev = decodeRestBytes(buf, t.restStart, end, ctx);
    const pair = decodedPair;
    if (pair < 0) this.accept(ev, lineNo, false);
    else {
      // From the memo: a complete line of a memo kind, which accept() would emit at once.
      this.flush();
      this.env.emit(ev, pair);
    }
    return true;
  }

  private eventLine(text: string, lineNo: number, unterminated: boolean): void {
    const t = this.tok;
    const env = this.env;
    const time =
      t.tsDot < 0 ? env.clock.integer(text, t.tsStart, t.tsEnd) : env.clock.decimal(text, t.tsStart, t.tsDot, t.tsEnd);
    // One context object, refilled per line: makeEvent copies its fields into the event.
    const ctx = this.ctx;
    ctx.time = time;
    ctx.cpu = t.cpu;
    ctx.pid = t.pid;
    ctx.tgid = t.tgid;
    // A comm is at most 15 characters; a longer one carries trace-cmd's input-file prefix.
    ctx.comm = t.comm.length > 16 ? withoutFilePrefix(t.comm) : t.comm;
    ctx.line = lineNo;
    const rest = t.restStart >= text.length ? '' : text.slice(t.restStart);
    this.accept(decodeRest(rest, ctx), lineNo, unterminated);
  }

  /** Returns false when the line is not a function_graph line. */
  private graphLine(text: string, lineNo: number, unterminated: boolean): boolean {
    const r: GraphLineResult = parseGraphLine(text, this.env.context(lineNo), this.graph, this.toNs);
    if (r.type === 'invalid') return false;
    if (r.type === 'separator') {
      this.flush();
      this.env.ledger.knownLine('graph-separator', this.env.file, lineNo);
    } else {
      this.accept(r.event, lineNo, unterminated);
    }
    return true;
  }

  private accept(ev: TraceEvent, lineNo: number, unterminated: boolean): void {
    const env = this.env;
    if (unterminated && (ev.kind === 'generic' || ev.kind === 'function')) {
      // A line cut by a killed `cat trace_pipe` still tokenizes; keep it only when it decoded
      // completely as a known event (docs/trace-formats.md §1.1, §5 item 11).
      this.flush();
      env.ledger.skip('truncated-last-line', env.file, lineNo);
      env.ledger.truncated = true;
      return;
    }
    if (unterminated) env.ledger.note(`${env.file}: the last line has no newline; it decoded completely and was kept`);
    this.flush();
    if (ev.kind === 'marker' || ev.kind === 'generic' || ev.kind === 'stack') this.pending = ev;
    else env.emit(ev);
  }

  private flush(): void {
    if (this.pending) {
      const ev = this.pending;
      this.pending = null;
      this.env.emit(ev);
    }
  }

  private notAnEvent(text: string, lineNo: number, unterminated: boolean, brokenReason: string | null): void {
    const env = this.env;
    const p = this.pending;
    // ` => sym+off/size` after `<stack trace>` (K-out trace_stack_print); trace-cmd prints
    // `=> sym (address)` at the start of the line (libtraceevent's stack plugin).
    const frame = p && p.kind === 'stack' ? stackFrame(text) : null;
    if (p && p.kind === 'stack' && frame !== null) {
      if (p.fields.frames.length < MAX_STACK_FRAMES) p.fields.frames.push(frame);
      env.ledger.knownLine('continuation', env.file, lineNo, text);
      return;
    }
    if (!isForeignText(text) && brokenReason === null && p && (p.kind === 'marker' || p.kind === 'generic')) {
      // A trace_marker write with embedded newlines continues on lines without a context prefix
      // (§1.7; Perfetto bad_print.systrace).
      if (p.kind === 'marker') {
        if (p.fields.text.length < MAX_CONTINUATION_CHARS) p.fields.text += `\n${text}`;
      } else if (p.fields.payload.length < MAX_CONTINUATION_CHARS) {
        p.fields.payload += `\n${text}`;
      }
      env.ledger.knownLine('continuation', env.file, lineNo, text);
      return;
    }
    this.flush();
    if (unterminated && brokenReason !== null) {
      env.ledger.skip('truncated-last-line', env.file, lineNo, text);
      env.ledger.truncated = true;
    } else if (brokenReason !== null) {
      env.ledger.skip(brokenReason, env.file, lineNo, text);
    } else if (/^[\w./-]+\.dat:?$/.test(text.trim())) {
      // trace-cmd report -i a.dat -i b.dat prints each input's name before its records (§5 item 18)
      env.ledger.knownLine('trace-cmd-info', env.file, lineNo, text);
    } else if (text.trimStart().startsWith('=> ')) {
      env.ledger.skip('orphan-stack-frame', env.file, lineNo, text);
    } else {
      env.ledger.skip('foreign-text', env.file, lineNo, text);
    }
  }

  private header(text: string, lineNo: number): void {
    const env = this.env;
    const lost = /^##### CPU (\d+) buffer started ####/.exec(text);
    if (lost) {
      // Earlier data of that CPU was overwritten (K-trace test_cpu_buff_start).
      env.lost(Number(lost[1]), null, 'buffer-started', lineNo);
      return;
    }
    if (text.startsWith('# [trimmed at ')) {
      // Written by the lab's trim.sh when it cut a capture at a line boundary (real README §2).
      env.ledger.knownLine('trimmed-marker', env.file, lineNo, text);
      env.ledger.truncated = true;
      env.ledger.note(`${env.file}: the capture was cut by its producer (${text.slice(2)})`);
      return;
    }
    env.ledger.knownLine('header', env.file, lineNo);
    if (text.startsWith('# tracer: ')) {
      const tracer = text.slice(10).trim();
      env.tracer = tracer;
      this.mode = tracer === 'function_graph' ? 'graph' : LATENCY_TRACERS.has(tracer) ? 'latency' : 'events';
      return;
    }
    if (/ latency trace v\d/.test(text)) {
      this.mode = 'latency';
      return;
    }
    const ew = /^# entries-in-buffer\/entries-written: (\d+)\/(\d+)/.exec(text);
    if (ew) {
      const inBuffer = Number(ew[1]);
      const written = Number(ew[2]);
      // A header per dump: a few in a real file, any number in a forged one (the first per file is
      // what the verdicts read: evidence.ts overwritten()).
      const seen = env.ledger.overwritten;
      if (written > inBuffer && (seen.length < 100 || !seen.some((o) => o.file === env.file))) {
        seen.push({ file: env.file, line: lineNo, inBuffer, written });
      }
    }
  }

  /** `CPU:N [LOST n EVENTS]`, `CPU:N [LOST EVENTS]`, trace-cmd `CPU:N [n EVENTS DROPPED]`, `[SUBBUFFER START]`. */
  private cpuMarker(text: string, lineNo: number): boolean {
    const m = /^CPU:\s*(\d+) \[(?:LOST (\d+) EVENTS|LOST EVENTS|(\d+) EVENTS DROPPED|EVENTS DROPPED|SUBBUFFER START)\]/.exec(text);
    if (!m) return false;
    this.flush();
    const cpu = Number(m[1]);
    if (text.includes('SUBBUFFER START')) {
      this.env.ledger.knownLine('trace-cmd-info', this.env.file, lineNo);
      return true;
    }
    const n = m[2] ?? m[3];
    this.env.lost(cpu, n === undefined ? null : Number(n), text.includes('DROPPED') ? 'events-dropped' : 'lost-events', lineNo);
    return true;
  }
}

/** The text of a `=> frame` line of a stack event, whatever its indentation; null otherwise. */
function stackFrame(text: string): string | null {
  let i = 0;
  while (i < 8 && text.charCodeAt(i) === 32) i++;
  return text.startsWith('=> ', i) ? text.slice(i + 3) : null;
}

/**
 * `trace-cmd report -i a.dat -i b.dat` (and reports of several instances) print each record after
 * `"%*s: "` with the input's file or instance name (tracecmd/trace-read.c print_handle_file); the
 * comm column that follows is right-aligned, so `trace.dat:           ping` is `ping` of trace.dat.
 */
function withoutFilePrefix(comm: string): string {
  const m = /^\S+: +(\S.*)$/.exec(comm);
  return m ? m[1] : comm;
}
