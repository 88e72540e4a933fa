// Reading traces: open each input, detect (or take) its format, run that format's parser, and
// push normalized events to one sink while the data-quality ledger accounts for every line.
//
// Sources are read one after the other, in the order given: each keeps its own line numbers and
// clock, and events are not merged across sources (several files are usually several boots or
// several renderings of one run; analyses decide how to combine them, see analyses/stream/order.ts).
import { Readable } from 'node:stream';
import { SourceClock } from './clock.js';
import { BpftraceJsonParser } from './bpftrace-json.js';
import { BpftraceTextParser } from './bpftrace-text.js';
import { ConsoleParser } from './console.js';
import { CsvParser } from './csv.js';
import { detectFormat } from './detect.js';
import type { InputFormat, SourceInfo } from './event.js';
import { FtraceParser } from './ftrace.js';
import { InputError, openInput, type ReadPause } from './input.js';
import { PerfScriptParser } from './perf-script.js';
import { type EventSink, type LineParser, ParserEnv } from './parser.js';
import { type DataQuality, QualityLedger } from './quality.js';

export { InputError } from './input.js';

export interface ReadOptions {
  /** Force a format instead of sniffing. */
  format?: InputFormat;
  /** stdin stream for `-` (tests pass their own). */
  stdin?: Readable;
  /** Called once with the ledger before reading (to attach a listener). */
  onLedger?: (ledger: QualityLedger) => void;
  /** Called when a source starts, before its first event. */
  onSourceStart?: (src: number, file: string, clock: SourceClock, format: InputFormat) => void;
  /** Called after each source with what is known so far. */
  onSource?: (info: SourceInfo) => void;
  /** Progress for loading screens: called every PROGRESS_LINES lines and once at the end of each source. */
  onProgress?: (p: ReadProgress) => void;
  /**
   * Called between chunks of input (~1 MiB). Chunks already buffered are read without giving the
   * event loop a turn; the TUI returns a promise now and then so keys and redraws get through.
   */
  pause?: ReadPause;
}

/** Where the reader is: bytes as stored (compressed for .gz), so `bytesRead / size` is honest. */
export interface ReadProgress {
  src: number;
  file: string;
  bytesRead: number;
  /** null for stdin and pipes. */
  size: number | null;
  lines: number;
  events: number;
  done: boolean;
}

const PROGRESS_LINES = 4096;

export interface ReadResult {
  sources: SourceInfo[];
  quality: DataQuality;
}

/** Formats whose parser is not written yet answer with this (see the issue that adds them). */
const NOT_YET: Partial<Record<InputFormat, string>> = {};

export function createParser(format: InputFormat, env: ParserEnv): LineParser {
  switch (format) {
    case 'ftrace':
    case 'trace-pipe':
    case 'trace-cmd':
      return new FtraceParser(env, 'events');
    case 'function-graph':
      return new FtraceParser(env, 'graph');
    case 'latency':
      return new FtraceParser(env, 'latency');
    case 'console':
      return new ConsoleParser(env);
    case 'bpftrace':
      return new BpftraceTextParser(env);
    case 'bpftrace-json':
      return new BpftraceJsonParser(env);
    case 'csv':
      return new CsvParser(env);
    case 'perf-script':
      return new PerfScriptParser(env);
    default:
      throw new Error(`no parser for ${format}`);
  }
}

/** Read every input into `sink`. Throws InputError for an input that cannot be used at all. */
export async function readTraces(paths: string[], sink: EventSink, opts: ReadOptions = {}): Promise<ReadResult> {
  const ledger = new QualityLedger();
  opts.onLedger?.(ledger);
  const sources: SourceInfo[] = [];
  let stdinUsed = false;
  for (let src = 0; src < paths.length; src++) {
    const path = paths[src];
    if (path === '-') {
      if (stdinUsed) throw new InputError('<stdin>', 'standard input can be read only once');
      stdinUsed = true;
    }
    const input = await openInput(path, opts.stdin ?? process.stdin);
    let format = opts.format;
    let detectedBy = '--format';
    if (!format) {
      const d = detectFormat(input.head);
      if (!d) {
        const firstLine = input.head.split('\n').find((l) => l.trim()) ?? '';
        throw new InputError(
          input.name,
          input.head.length === 0
            ? 'empty input'
            : `cannot tell the trace format (first line: ${JSON.stringify(firstLine.slice(0, 60))}); give --format`,
        );
      }
      format = d.format;
      detectedBy = d.evidence;
    }
    const notYet = NOT_YET[format];
    if (notYet) throw new InputError(input.name, `${notYet} (detected: ${detectedBy})`);
    const clock = new SourceClock();
    opts.onSourceStart?.(src, input.name, clock, format);
    const env = new ParserEnv(src, input.name, ledger, clock, sink);
    const parser = createParser(format, env);
    const onProgress = opts.onProgress;
    const progress = (lines: number, done: boolean) =>
      onProgress?.({ src, file: input.name, bytesRead: input.bytesRead(), size: input.size, lines, events: env.events, done });
    const bytes = parser.bytes?.bind(parser);
    const stats = await input.forEachLine(
      onProgress
        ? (text, lineNo, unterminated) => {
            parser.line(text, lineNo, unterminated);
            if (lineNo % PROGRESS_LINES === 0) progress(lineNo, false);
          }
        : (text, lineNo, unterminated) => parser.line(text, lineNo, unterminated),
      ledger,
      bytes && onProgress
        ? (buf, start, end, lineNo) => {
            if (!bytes(buf, start, end, lineNo)) return false;
            if (lineNo % PROGRESS_LINES === 0) progress(lineNo, false);
            return true;
          }
        : bytes,
      opts.pause,
    );
    parser.finish();
    progress(stats.lines, true);
    if (stats.truncatedBy) {
      ledger.truncated = true;
      ledger.note(`${input.name}: input ended early after line ${stats.lines}: ${stats.truncatedBy}`);
    }
    if (clock.timeBase !== '0') ledger.note(`${input.name}: clock values are large; times are relative to ${clock.timeBase}`);
    if (clock.inexact) ledger.note(`${input.name}: some timestamps are beyond the exact range of the first one; they are approximate`);
    if (clock.mixedUnits) ledger.note(`${input.name}: both seconds.micro and raw integer timestamps appear (clock changed?)`);
    const info: SourceInfo = {
      file: input.name,
      format,
      detectedBy,
      compressed: input.compressed,
      lines: stats.lines,
      events: env.events,
      timeUnit: clock.unit ?? 'ns',
      timeBase: clock.timeBase,
      firstTime: env.firstTime,
      lastTime: env.lastTime,
      missingFinalNewline: stats.missingFinalNewline,
      tracer: env.tracer,
    };
    sources.push(info);
    opts.onSource?.(info);
  }
  return { sources, quality: ledger.snapshot() };
}
