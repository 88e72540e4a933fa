// `--follow`: read one trace as it grows: a regular file that a tracer keeps appending to (tail -f),
// a pipe, standard input, or /sys/kernel/tracing/trace_pipe (whose reads block until the kernel has
// events and which can be read only once). Lines go to the same parsers as `readTraces` and, raw,
// to a tap that keeps the newest of them for the Events screen.
import { createReadStream, promises as fsp } from 'node:fs';
import type { Readable } from 'node:stream';
import { SourceClock } from '../../parsers/clock.js';
import { detectFormat } from '../../parsers/detect.js';
import type { InputFormat, SourceInfo } from '../../parsers/event.js';
import { createParser } from '../../parsers/index.js';
import { describeFsError, InputError, LineSplitter, SNIFF_BYTES } from '../../parsers/input.js';
import { type EventSink, type LineParser, ParserEnv } from '../../parsers/parser.js';
import { QualityLedger } from '../../parsers/quality.js';

/** No new data for this long: the stream is idle (the TUI then flushes the reorder window). */
const IDLE_MS = 400;
const POLL_MS = 200;
const CHUNK_BYTES = 1 << 20;
/** Lines to wait for before sniffing the format of a live stream (unless it goes idle first). */
const SNIFF_MIN_LINES = 8;

export interface FollowOptions {
  format?: InputFormat;
  sink: EventSink;
  /** Every raw line, numbered as the parsers number them. */
  onLine: (lineNo: number, text: string) => void;
  /** Data stopped arriving (called once per pause). */
  onIdle: () => void;
  /** The format is known (before the first event): the analyses re-order per format. */
  onFormat?: (format: InputFormat) => void;
  stdin?: Readable;
}

export class LiveSource {
  readonly ledger = new QualityLedger();
  readonly clock = new SourceClock();
  readonly name: string;
  format: InputFormat | null = null;
  detectedBy = '';
  bytes = 0;
  /** The input ended (a pipe closed); a regular file never ends, it may only grow. */
  ended = false;
  private env: ParserEnv | null = null;
  private parser: LineParser | null = null;
  private splitter: LineSplitter | null = null;
  private head: Buffer[] = [];
  private headBytes = 0;
  private lastData = Date.now();
  private idleSent = false;
  private stopped = false;
  private stream: Readable | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failure: Error | null = null;

  constructor(
    readonly path: string,
    private readonly opts: FollowOptions,
  ) {
    this.name = path === '-' ? '<stdin>' : path;
  }

  /** Opens the input; rejects with InputError when it cannot be followed. Reading goes on in the background. */
  async start(): Promise<{ done: Promise<void> }> {
    if (this.path === '-') return { done: this.readStream(this.opts.stdin ?? process.stdin) };
    let st;
    try {
      st = await fsp.stat(this.path);
    } catch (e) {
      throw new InputError(this.path, describeFsError(e));
    }
    if (st.isDirectory()) throw new InputError(this.path, 'is a directory (give the trace file inside it)');
    if (!st.isFile()) return { done: this.readStream(createReadStream(this.path, { highWaterMark: 64 * 1024 })) };
    const fh = await fsp.open(this.path, 'r').catch((e) => {
      throw new InputError(this.path, describeFsError(e));
    });
    const magic = Buffer.alloc(2);
    await fh.read(magic, 0, 2, 0);
    if (magic[0] === 0x1f && magic[1] === 0x8b) {
      await fh.close();
      throw new InputError(this.path, 'gzip-compressed: a compressed file does not grow; open it without --follow');
    }
    return { done: this.tail(fh) };
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.stream?.destroy();
  }

  /** What `readTraces` would say about this source so far. */
  info(): SourceInfo {
    const env = this.env;
    return {
      file: this.name,
      format: this.format ?? 'trace-pipe',
      detectedBy: this.detectedBy || 'not yet known',
      compressed: false,
      lines: this.splitter?.lineNo ?? 0,
      events: env?.events ?? 0,
      timeUnit: this.clock.unit ?? 'ns',
      timeBase: this.clock.timeBase,
      firstTime: env?.firstTime ?? null,
      lastTime: env?.lastTime ?? null,
      missingFinalNewline: false,
      tracer: env?.tracer ?? null,
    };
  }

  get lines(): number {
    return this.splitter?.lineNo ?? 0;
  }

  private async tail(fh: fsp.FileHandle): Promise<void> {
    let pos = 0;
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    try {
      while (!this.stopped) {
        if (this.failure) throw this.failure;
        const { bytesRead } = await fh.read(buf, 0, CHUNK_BYTES, pos);
        if (bytesRead > 0) {
          pos += bytesRead;
          this.data(Buffer.from(buf.subarray(0, bytesRead)));
          continue;
        }
        this.checkIdle();
        await new Promise((r) => setTimeout(r, POLL_MS));
        const st = await fh.stat();
        if (st.size < pos) {
          // `echo > trace` cleared it: read the new content from its start; line numbers go on.
          this.ledger.note(`${this.name}: the file shrank after line ${this.lines}; reading it again from its start`);
          pos = 0;
        }
      }
    } finally {
      await fh.close();
    }
  }

  private async readStream(stream: Readable): Promise<void> {
    this.stream = stream;
    this.timer = setInterval(() => this.checkIdle(), POLL_MS);
    try {
      for await (const chunk of stream) {
        if (this.stopped) break;
        this.data(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
      }
    } catch (e) {
      if (!this.stopped) this.ledger.note(`${this.name}: read error: ${describeFsError(e)}`);
    } finally {
      if (this.timer) clearInterval(this.timer);
    }
    if (this.failure) throw this.failure;
    if (!this.parser) this.decide(true);
    this.splitter?.end();
    this.parser?.finish();
    this.ended = true;
    this.opts.onIdle();
  }

  private data(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.lastData = Date.now();
    this.idleSent = false;
    if (this.splitter) {
      this.splitter.push(chunk);
      return;
    }
    this.head.push(chunk);
    this.headBytes += chunk.length;
    this.decide(false);
  }

  private checkIdle(): void {
    if (!this.parser && this.headBytes > 0) {
      try {
        this.decide(true);
      } catch (e) {
        // From a timer: end the read and let readStream report it.
        this.failure = e as Error;
        this.stop();
        return;
      }
    }
    if (!this.idleSent && Date.now() - this.lastData >= IDLE_MS) {
      this.idleSent = true;
      this.opts.onIdle();
    }
  }

  /** Pick the format once enough of the stream is there (or it went idle), then start parsing. */
  private decide(idle: boolean): void {
    if (this.parser || this.headBytes === 0) return;
    const head = Buffer.concat(this.head).toString('utf8', 0, Math.min(this.headBytes, SNIFF_BYTES));
    const lines = head.split('\n').length - 1;
    if (!this.opts.format && !idle && lines < SNIFF_MIN_LINES && this.headBytes < SNIFF_BYTES) return;
    let format = this.opts.format;
    if (format) {
      this.detectedBy = '--format';
    } else {
      const d = detectFormat(head);
      if (!d) {
        if (!idle && this.headBytes < SNIFF_BYTES) return;
        const first = head.split('\n').find((l) => l.trim()) ?? '';
        throw new InputError(this.name, `cannot tell the trace format (first line: ${JSON.stringify(first.slice(0, 60))}); give --format`);
      }
      format = d.format;
      this.detectedBy = d.evidence;
    }
    this.format = format;
    this.opts.onFormat?.(format);
    this.env = new ParserEnv(0, this.name, this.ledger, this.clock, this.opts.sink);
    const parser = createParser(format, this.env);
    this.parser = parser;
    this.splitter = new LineSplitter(
      (text, lineNo, unterminated) => {
        this.opts.onLine(lineNo, text);
        parser.line(text, lineNo, unterminated);
      },
      this.ledger,
      this.name,
    );
    const pending = this.head;
    this.head = [];
    for (const c of pending) this.splitter.push(c);
  }
}
