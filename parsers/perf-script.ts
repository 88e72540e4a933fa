// `perf script` text: tracepoint and probe samples recorded with `perf record -e lock:contention_*
// -e module:* -e probe:*`, sampling events (`perf record -F 99 -g`: cpu-clock, cycles, page-faults…),
// and their `-g` callchains.
//
// Grammar: docs/trace-formats.md §4 (torvalds/linux tools/perf/builtin-script.c perf_sample__fprintf_start,
// process_event, sample__fprintf_callchain):
//   comm "%16s " (or "%s " with callchains) | pid "%7d " or pid/tid "%7d/%-7d " | cpu "[%03d] " |
//   time "%5lu.%06lu: " (9 decimals with --ns) | [period] | event name right-aligned to the widest
//   name, "%*s: " as `system:event` | the libtraceevent rendering of the TP_printk (pointers with 0x)
//   callchain (-g): lines "\t<hex ip> <sym+off> (<dso>)" under the sample, then a blank line.
// Every field but comm, pid and the event can be switched off with -F (FlameGraph's examples have no
// cpu column, some not even a time). A tracepoint's payload is the same text ftrace prints, so it is
// decoded by the shared payload decoders (parsers/payloads.ts); perf probe events render as
// `(ffffffff813024a4) arg=...` and returns as `(ffffffff… <- ffffffff…)`. A sampling event (hardware,
// software, cache, raw or PMU event, with its `:u`/`:k`/`:p` modifiers) becomes a `sample` event. A
// callchain becomes a `stack` event right after its sample. `--show-lost-events` adds
// `PERF_RECORD_LOST lost N` lines: gap markers for that CPU.
import type { TraceEvent } from './event.js';
import { type LineParser, type ParserEnv, isForeignText } from './parser.js';
import type { EventContext } from './payloads.js';
import { decodeNamedEvent, makeEvent } from './payloads.js';

const MAX_FRAMES = 128;

export interface PerfSampleTokens {
  comm: string;
  pid: number;
  tid: number | null;
  cpu: number | null;
  /** Start/dot/end of the seconds.fraction timestamp in the line; tsStart is -1 when -F left it out. */
  tsStart: number;
  tsDot: number;
  tsEnd: number;
  /** Index right after `time: `. */
  rest: number;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Sampling events perf names without a `system:` (tools/perf/util/parse-events.c event_symbols_hw/sw, hw caches). */
const SAMPLING_EVENT =
  /^(cpu-cycles|cycles|instructions|cache-references|cache-misses|branch-instructions|branches|branch-misses|bus-cycles|stalled-cycles-frontend|idle-cycles-frontend|stalled-cycles-backend|idle-cycles-backend|ref-cycles|cpu-clock|task-clock|page-faults|faults|minor-faults|major-faults|context-switches|cs|cpu-migrations|migrations|alignment-faults|emulation-faults|dummy|bpf-output|mem-loads|mem-stores|(L1-[di]cache|LLC|[di]TLB|branch|node)-[\w-]+|r[0-9a-fA-F]+|[\w-]+\/[^/\s]*\/)(:[ukhIGHpPSDWe]+)?$/;

/** Is this printed event name a sampling event (`cycles:u`, `cpu-clock`, `cpu/mem-loads/pp`) rather than a tracepoint? */
export function isSamplingEvent(name: string): boolean {
  return SAMPLING_EVENT.test(name);
}

/** A sample line whose -F fields left out the time: `comm pid[/tid] [[cpu]] [period] event:`. */
const NO_TIME_SAMPLE = /^\s*(\S(?:.*?\S)?)\s+(-?\d+)(?:\/(-?\d+))?\s+(?:\[(\d+)\]\s+)?((?:\d+\s+)?([^\s:]+(?::[\w.-]+)?):(?: |$))/d;

/**
 * Cut the sample prefix `comm pid[/tid] [cpu] secs.frac: `. The comm may contain spaces, so the
 * line is read from the timestamp leftwards. Returns null when the line is not a sample line.
 */
export function tokenizePerfLine(line: string): PerfSampleTokens | null {
  return tokenizeTimed(line) ?? tokenizeUntimed(line);
}

/** `comm pid [sampling-event|sys:event]:` with no time column: only a known event shape makes it a sample. */
function tokenizeUntimed(line: string): PerfSampleTokens | null {
  // The prefix is short; a bounded slice keeps the lazy comm match linear on hostile long lines.
  const m = NO_TIME_SAMPLE.exec(line.length > 512 ? line.slice(0, 512) : line);
  if (!m || !m.indices) return null;
  const event = m[6];
  if (!isSamplingEvent(event) && !/^[\w-]+:[\w.-]+$/.test(event)) return null;
  return {
    comm: m[1],
    pid: Number(m[2]),
    tid: m[3] === undefined ? null : Number(m[3]),
    cpu: m[4] === undefined ? null : Number(m[4]),
    tsStart: -1,
    tsDot: -1,
    tsEnd: -1,
    rest: m.indices[5][0],
  };
}

function tokenizeTimed(line: string): PerfSampleTokens | null {
  for (let colon = line.indexOf(': '); colon > 0; colon = line.indexOf(': ', colon + 1)) {
    if (!isDigit(line.charCodeAt(colon - 1))) continue;
    let k = colon - 1;
    while (k >= 0 && isDigit(line.charCodeAt(k))) k--;
    if (line.charCodeAt(k) !== 46 /* . */) continue;
    const tsDot = k;
    k--;
    const intEnd = k;
    while (k >= 0 && isDigit(line.charCodeAt(k))) k--;
    if (k === intEnd || (k >= 0 && line.charCodeAt(k) !== 32)) continue;
    const tsStart = k + 1;
    // [cpu]
    while (k >= 0 && line.charCodeAt(k) === 32) k--;
    let cpu: number | null = null;
    if (line.charCodeAt(k) === 93 /* ] */) {
      const open = line.lastIndexOf('[', k);
      if (open < 0) continue;
      const digits = line.slice(open + 1, k);
      if (!/^\d+$/.test(digits)) continue;
      cpu = Number(digits);
      k = open - 1;
      while (k >= 0 && line.charCodeAt(k) === 32) k--;
    }
    // pid or pid/tid
    const pidEnd = k;
    while (k >= 0 && (isDigit(line.charCodeAt(k)) || line.charCodeAt(k) === 47 /* / */ || line.charCodeAt(k) === 45 /* - */)) k--;
    if (k === pidEnd) continue;
    const ids = line.slice(k + 1, pidEnd + 1);
    const m = /^(-?\d+)(?:\/(-?\d+))?$/.exec(ids);
    if (!m || (k >= 0 && line.charCodeAt(k) !== 32)) continue;
    const comm = line.slice(0, k + 1).trim();
    return {
      comm,
      pid: Number(m[1]),
      tid: m[2] === undefined ? null : Number(m[2]),
      cpu,
      tsStart,
      tsDot,
      tsEnd: colon,
      rest: colon + 2,
    };
  }
  return null;
}

/**
 * A perf script sample line (format detection): the sample prefix, then a sampling event, a
 * `system:event` tracepoint or a `PERF_RECORD_LOST` record.
 */
export function looksLikePerfSample(line: string): boolean {
  const t = tokenizePerfLine(line);
  if (!t) return false;
  const m = /^\s*(?:\d+ +)?(\S+?):(?: |$)/.exec(line.slice(t.rest, t.rest + 200));
  if (!m) return line.slice(t.rest).trimStart().startsWith('PERF_RECORD_LOST');
  return isSamplingEvent(m[1]) || /^[\w-]+:[\w.-]+$/.test(m[1]);
}

/** A callchain line: `\t    ffffffff81234567 sym+0x1f (dso)` or `      0 [unknown] ([unknown])`. */
const CALLCHAIN = /^\s+([0-9a-f]+) (.+)$/;

export class PerfScriptParser implements LineParser {
  /** The last sample's stack, held while callchain lines may follow. */
  private stack: TraceEvent | null = null;
  private lastCtx: EventContext | null = null;

  constructor(private readonly env: ParserEnv) {}

  line(text: string, lineNo: number, unterminated: boolean): void {
    const env = this.env;
    if (text.trim().length === 0) {
      this.flush();
      env.ledger.knownLine('blank', env.file, lineNo);
      return;
    }
    const c0 = text.charCodeAt(0);
    if ((c0 === 9 || c0 === 32) && this.lastCtx) {
      const cc = CALLCHAIN.exec(text);
      // perf indents frames with a tab; older perf and -F layouts with spaces, like the right-aligned
      // comm of a sample line (a comm can be hex: `dd`), so a space-led line is a frame unless it is a sample.
      if (cc && (c0 === 9 || !looksLikePerfSample(text))) {
        // The first frame's line is the stack event's line; the frames after it continue it.
        if (!this.stack) this.stack = makeEvent('stack', 'callchain', { ...this.lastCtx, line: lineNo }, { frames: [] });
        else env.ledger.knownLine('continuation', env.file, lineNo, text);
        const frames = (this.stack.fields as { frames: string[] }).frames;
        if (frames.length < MAX_FRAMES) frames.push(cc[2]);
        return;
      }
    }
    this.flush();
    if (c0 === 35 /* # */) {
      // `perf script --header` and `# ========` blocks.
      env.ledger.knownLine('header', env.file, lineNo, text);
      return;
    }
    const t = tokenizePerfLine(text);
    if (!t) {
      this.lastCtx = null;
      env.ledger.skip(isForeignText(text) ? 'foreign-text' : 'malformed-perf-line', env.file, lineNo, text);
      return;
    }
    const ctx: EventContext = {
      time: t.tsStart < 0 ? null : env.clock.decimal(text, t.tsStart, t.tsDot, t.tsEnd),
      cpu: t.cpu,
      // ftrace's pid is the thread (docs/trace-formats.md §1.3): with pid/tid, tid is the thread.
      pid: t.tid ?? t.pid,
      tgid: t.tid === null ? null : t.pid,
      comm: t.comm,
      src: env.src,
      line: lineNo,
    };
    this.lastCtx = ctx;
    let p = t.rest;
    while (text.charCodeAt(p) === 32) p++;
    const lost = /^PERF_RECORD_LOST(?:_SAMPLES)? lost (\d+)/.exec(text.slice(p));
    if (lost) {
      env.lost(t.cpu, Number(lost[1]), 'perf-lost', lineNo);
      return;
    }
    // Optional period column before the event name (`-F +period`, and perf's default for some events).
    const period = /^(\d+) +(?=[\w.\/-]+:)/.exec(text.slice(p, p + 40));
    if (period) p += period[0].length;
    let nameEnd = text.indexOf(': ', p);
    if (nameEnd < 0 && text.endsWith(':')) nameEnd = text.length - 1;
    if (nameEnd <= p) {
      env.ledger.skip('malformed-perf-line', env.file, lineNo, text);
      return;
    }
    const qualified = text.slice(p, nameEnd);
    const payload = nameEnd + 2 >= text.length ? '' : text.slice(nameEnd + 2);
    if (isSamplingEvent(qualified)) {
      env.emit(makeEvent('sample', qualified, ctx, { period: period ? Number(period[1]) : null, payload: payload.trim() }));
      return;
    }
    const colon = qualified.indexOf(':');
    const name = colon < 0 ? qualified : qualified.slice(colon + 1);
    if (unterminated && payload === '') {
      env.ledger.skip('truncated-last-line', env.file, lineNo, text);
      env.ledger.truncated = true;
      return;
    }
    env.emit(decodeNamedEvent(name, payload, ctx));
  }

  private flush(): void {
    if (this.stack) {
      const s = this.stack;
      this.stack = null;
      this.env.emit(s);
    }
  }

  finish(): void {
    this.flush();
  }
}
