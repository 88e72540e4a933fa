// Input layer: open a file (or `-` for stdin), undo gzip, refuse binary data with a clear message,
// and cut the byte stream into lines without ever holding the whole file.
//
// Transport quirks handled here (docs/trace-formats.md §5 item 16): gzip detected by its magic bytes
// (not the file name), CRLF line ends, a UTF-8 BOM, NUL padding at the end of a truncated file,
// invalid UTF-8 (decoded with U+FFFD so a bad byte in a comm never stops the read), and a last line
// without a newline (reported to the parser as `unterminated`, so it can tell a cut line apart).
import { closeSync, createReadStream, openSync, promises as fsp, readSync } from 'node:fs';
import { isAscii } from 'node:buffer';
import type { Readable } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import type { QualityLedger } from './quality.js';

/** A problem that makes an input unusable. The CLI prints it as one line and exits 2. */
export class InputError extends Error {
  constructor(
    readonly file: string,
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
  get oneLine(): string {
    return `${this.file}${this.line !== undefined ? `:${this.line}` : ''}: ${this.message}`;
  }
}

/** Bytes read before deciding the format; enough for the trace header and a few hundred lines. */
export const SNIFF_BYTES = 64 * 1024;
/** A "line" longer than this is not trace text; it is skipped and the reader resynchronises. */
const MAX_LINE_BYTES = 1 << 20;
const CHUNK_BYTES = 1 << 20;

export interface OpenedInput {
  name: string;
  compressed: boolean;
  /** The first SNIFF_BYTES (or the whole input) decoded, for format detection. */
  head: string;
  /** Size in bytes as stored (compressed size for .gz); null for stdin and pipes. */
  size: number | null;
  /** Bytes consumed from the file so far (before gunzip): for progress bars, see ReadOptions.onProgress. */
  bytesRead(): number;
  /** Streams every line once. Resolves when the input ends. */
  forEachLine(onLine: LineCallback, ledger: QualityLedger, onBytes?: ByteLineCallback, pause?: ReadPause): Promise<LineStats>;
}
/** Called between chunks of input; a promise holds the read until it settles (see ReadOptions.pause). */
export type ReadPause = () => Promise<void> | null;
export type LineCallback = (text: string, lineNo: number, unterminated: boolean) => void;
/** A line as bytes, offered first when it is plain ASCII (see LineSplitter.lines); false: send it to the LineCallback. */
export type ByteLineCallback = (buf: Buffer, start: number, end: number, lineNo: number) => boolean;
export interface LineStats {
  lines: number;
  missingFinalNewline: boolean;
  /** Set when the stream ended with an error after some data (e.g. a truncated gzip member). */
  truncatedBy: string | null;
}

const MAGIC: Array<[number[], string]> = [
  [[0x17, 0x08, 0x44, 0x74, 0x72, 0x61, 0x63, 0x69, 0x6e, 0x67], 'a trace-cmd .dat file: convert it first with `trace-cmd report -i FILE > FILE.txt`'],
  [[0x50, 0x45, 0x52, 0x46, 0x49, 0x4c, 0x45, 0x32], 'a perf.data file: convert it first with `perf script -i FILE > FILE.txt`'],
  [[0x28, 0xb5, 0x2f, 0xfd], 'zstd-compressed: decompress it first (`zstd -d`), or pipe `zstdcat FILE | luotrace ... -`'],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'xz-compressed: decompress it first, or pipe `xzcat FILE | luotrace ... -`'],
  [[0x42, 0x5a, 0x68], 'bzip2-compressed: decompress it first, or pipe `bzcat FILE | luotrace ... -`'],
  [[0x7f, 0x45, 0x4c, 0x46], 'an ELF binary, not a trace'],
  [[0x50, 0x4b, 0x03, 0x04], 'a zip archive: extract the trace first'],
];

function startsWith(buf: Buffer, magic: number[]): boolean {
  if (buf.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (buf[i] !== magic[i]) return false;
  return true;
}

/** Reject data that is clearly not text: control bytes other than tab/CR/LF/ESC/FF, ignoring trailing NULs. */
function binaryReason(head: Buffer): string | null {
  for (const [magic, what] of MAGIC) if (startsWith(head, magic)) return `binary input: ${what}`;
  let end = head.length;
  while (end > 0 && head[end - 1] === 0) end--; // NUL padding of a truncated file is not "binary"
  if (end === 0) return null;
  let control = 0;
  for (let i = 0; i < end; i++) {
    const b = head[i];
    if (b < 32 && b !== 9 && b !== 10 && b !== 13 && b !== 27 && b !== 12) control++;
  }
  // A few stray control bytes (a corrupted comm) are tolerated; a binary blob has many.
  if (control > 16 && control * 100 > end) {
    return `binary input (${control} control bytes in the first ${end}): not a text trace`;
  }
  return null;
}

/**
 * The chunks of a regular file, read with readSync. While `reuse.ok` is false each chunk is a new
 * Buffer (the head kept for sniffing, data handed to gunzip); once the caller sets it (plain text,
 * after the head) every chunk is the same Buffer refilled: LineSplitter copies what it keeps (the
 * partial last line), so reading allocates nothing per chunk.
 */
async function* fileChunks(path: string, reuse: { ok: boolean }): AsyncGenerator<Buffer> {
  const fd = openSync(path, 'r');
  try {
    let shared: Buffer | null = null;
    for (;;) {
      const buf = reuse.ok ? (shared ??= Buffer.allocUnsafeSlow(CHUNK_BYTES)) : Buffer.allocUnsafeSlow(CHUNK_BYTES);
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) return;
      yield n === buf.length ? buf : buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

async function openStream(path: string, stdin: Readable): Promise<{ stream: Readable | null; size: number | null }> {
  if (path === '-') return { stream: stdin, size: null };
  let st;
  try {
    st = await fsp.stat(path);
  } catch (e) {
    throw new InputError(path, describeFsError(e));
  }
  if (st.isDirectory()) throw new InputError(path, 'is a directory (give the trace files inside it)');
  // Open errors (EACCES...) surface on the first read, where openInput turns them into InputError.
  // A regular file is read with readSync (fileChunks); a FIFO or a device through a stream.
  if (st.isFile()) return { stream: null, size: st.size };
  return { stream: createReadStream(path, { highWaterMark: CHUNK_BYTES }), size: null };
}

export function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOSPC':
      return 'no space left on device';
    case 'ENOTDIR':
      return 'a component of the path is not a directory';
    default:
      return (e as Error)?.message ?? String(e);
  }
}

/** Decoded size past which a .gz with trailing bytes is not recovered in memory (see gunzipBeforeTrailer). */
const TRAILER_RECOVERY_MAX = 64 * 1024 * 1024;

/** What a gzip input followed by bytes that are not another gzip member is reported as. */
const GZIP_TRAILER = 'data after the end of the gzip stream ignored';

/**
 * Gzip data followed by something that is not another gzip member (appended bytes, a botched
 * upload): zlib fails the whole write that holds the end of the stream, and drops that write's
 * output. When the compressed input is all in memory (a file of one read) the output is recovered:
 * the shortest prefix that zlib refuses as data (it needs two bytes of the would-be next header,
 * found by bisection) ends a byte or two (or a few NUL pads) after the last member. Null when no
 * prefix just before it decodes (corrupt data rather than trailing bytes). Each try decodes the
 * prefix whole, so the output is capped (TRAILER_RECOVERY_MAX): a small .gz that inflates past it
 * (a gzip bomb) is not recovered and reads as a stream that ended early, memory staying bounded.
 */
export function gunzipBeforeTrailer(raw: Buffer): Buffer | null {
  const tooLarge = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
  const gunzip = (n: number) => gunzipSync(raw.subarray(0, n), { maxOutputLength: TRAILER_RECOVERY_MAX });
  const refused = (n: number): boolean => {
    try {
      gunzip(n);
      return false;
    } catch (e) {
      if (tooLarge(e)) throw e;
      return (e as NodeJS.ErrnoException).code === 'Z_DATA_ERROR';
    }
  };
  try {
    return recoverBeforeTrailer(raw.length, refused, gunzip);
  } catch (e) {
    if (tooLarge(e)) return null;
    throw e;
  }
}

/** Bisect for the shortest prefix zlib refuses, then decode the longest prefix just before it. */
function recoverBeforeTrailer(length: number, refused: (n: number) => boolean, gunzip: (n: number) => Buffer): Buffer | null {
  let lo = 1;
  let hi = length; // refused(hi): the caller saw zlib fail there
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (refused(mid)) hi = mid;
    else lo = mid + 1;
  }
  for (let n = lo - 1; n > 0 && n >= lo - 16; n--) {
    try {
      return gunzip(n);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw e;
      // not the end of a member yet
    }
  }
  return null;
}

/**
 * Open one input. Reads ahead until SNIFF_BYTES of text are available (after gunzip) so the
 * caller can detect the format, then hands out the lines in one streaming pass.
 */
export async function openInput(path: string, stdin: Readable = process.stdin): Promise<OpenedInput> {
  const { stream: raw, size } = await openStream(path, stdin);
  const name = path === '-' ? '<stdin>' : path;
  const reuse = { ok: false };
  const rawIter = raw === null ? fileChunks(path, reuse) : (raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
  let first: IteratorResult<Buffer>;
  try {
    first = await rawIter.next();
  } catch (e) {
    throw new InputError(name, describeFsError(e));
  }
  const firstChunk = first.done ? Buffer.alloc(0) : first.value;
  const compressed = firstChunk.length >= 2 && firstChunk[0] === 0x1f && firstChunk[1] === 0x8b;
  let consumed = firstChunk.length;

  async function* rawChunks(): AsyncGenerator<Buffer> {
    if (firstChunk.length) yield firstChunk;
    if (first.done) return;
    for (;;) {
      const r = await rawIter.next();
      if (r.done) return;
      consumed += r.value.length;
      yield r.value;
    }
  }

  let chunks: AsyncIterator<Buffer>;
  // For .gz, progress is the compressed input the decompressor has consumed, not what was read ahead.
  let decompressor: { bytesWritten: number } | null = null;
  if (compressed) {
    const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
    decompressor = gunzip;
    // Feed by hand so a read error of the file surfaces as a gunzip error instead of a hang.
    (async () => {
      try {
        for await (const c of rawChunks()) {
          if (!gunzip.write(c)) await new Promise<void>((r) => gunzip.once('drain', r));
        }
        gunzip.end();
      } catch (e) {
        gunzip.destroy(e as Error);
      }
    })();
    chunks = gunzip[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  } else {
    chunks = rawChunks();
  }

  // Read ahead for sniffing.
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  let ended = false;
  let earlyError: Error | null = null;
  while (pendingBytes < SNIFF_BYTES) {
    let r: IteratorResult<Buffer>;
    try {
      r = await chunks.next();
    } catch (e) {
      earlyError = e as Error;
      ended = true;
      break;
    }
    if (r.done) {
      ended = true;
      break;
    }
    pending.push(r.value);
    pendingBytes += r.value.length;
  }
  let headBuf = pending.length === 1 ? pending[0] : Buffer.concat(pending);
  // The whole .gz is in memory (one read): zlib's error at a trailer loses nothing that cannot be recovered.
  const wholeGzip = compressed && size !== null && firstChunk.length >= size;
  const recovered = (e: unknown): Buffer | null =>
    wholeGzip && (e as NodeJS.ErrnoException)?.code === 'Z_DATA_ERROR' ? gunzipBeforeTrailer(firstChunk) : null;
  if (earlyError) {
    const all = recovered(earlyError);
    if (all) {
      headBuf = all;
      earlyError = new Error(GZIP_TRAILER);
    }
  }
  if (earlyError && headBuf.length === 0) {
    throw new InputError(name, compressed ? `gzip data is corrupt (${earlyError.message})` : describeFsError(earlyError));
  }
  const why = binaryReason(headBuf.subarray(0, SNIFF_BYTES));
  if (why) throw new InputError(name, why);
  const head = headBuf.toString('utf8', 0, Math.min(headBuf.length, SNIFF_BYTES));

  return {
    name,
    compressed,
    head,
    size,
    bytesRead: () => (decompressor ? decompressor.bytesWritten : consumed),
    async forEachLine(onLine, ledger, onBytes, pause) {
      const splitter = new LineSplitter(onLine, ledger, name, onBytes);
      // From here each chunk goes to splitter.push only, which copies what it keeps.
      reuse.ok = !compressed;
      if (headBuf.length) splitter.push(headBuf);
      let truncatedBy: string | null = earlyError ? earlyError.message : null;
      let delivered = headBuf.length;
      let paused = false;
      if (!ended) {
        try {
          for (;;) {
            const r = await chunks.next();
            if (r.done) break;
            splitter.push(r.value);
            delivered += r.value.length;
            const held = pause?.();
            paused = held !== null && held !== undefined;
            if (held) await held;
            paused = false;
          }
        } catch (e) {
          // The caller stopped the read: not an input error.
          if (paused) throw e;
          const all = recovered(e);
          if (all) splitter.push(all.subarray(delivered));
          truncatedBy = all ? GZIP_TRAILER : compressed ? `gzip stream ended early (${(e as Error).message})` : describeFsError(e);
        }
      }
      const missingFinalNewline = splitter.end();
      return { lines: splitter.lineNo, missingFinalNewline, truncatedBy };
    },
  };
}

/**
 * Cuts byte chunks into lines. Lines end at LF, so a UTF-8 sequence never straddles a cut, and each
 * chunk's complete lines are decoded with a single native call.
 */
export class LineSplitter {
  lineNo = 0;
  private carry: Buffer | null = null;
  private discarding = false;
  constructor(
    private readonly onLine: LineCallback,
    private readonly ledger: QualityLedger,
    private readonly file: string,
    private readonly onBytes?: ByteLineCallback,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    if (this.discarding) {
      // Finish skipping an overlong line: it ends at the first newline.
      const nl = chunk.indexOf(10);
      if (nl < 0) return;
      this.discarding = false;
      start = nl + 1;
    } else if (this.carry) {
      // Complete the carried partial line with the head of this chunk, without copying the chunk.
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        this.keepCarry(chunk); // keepCarry appends to the carry: passing carry+chunk would keep it twice
        return;
      }
      const first = Buffer.concat([this.carry, chunk.subarray(0, nl)]);
      this.carry = null;
      this.lines(first, 0, first.length, false);
      start = nl + 1;
    }
    const last = chunk.lastIndexOf(10);
    if (last >= start) this.lines(chunk, start, last, false);
    const tail = last >= start ? last + 1 : start;
    if (tail < chunk.length) this.keepCarry(chunk.subarray(tail));
  }

  private keepCarry(buf: Buffer): void {
    if (this.discarding) return;
    if (this.carry) buf = Buffer.concat([this.carry, buf]);
    if (buf.length > MAX_LINE_BYTES) {
      this.lineNo++;
      this.ledger.total++;
      this.ledger.skip('overlong-line', this.file, this.lineNo);
      this.discarding = true;
      this.carry = null;
      return;
    }
    // Copy so the (1 MiB) chunk it came from can be freed.
    this.carry = Buffer.from(buf);
  }

  /** Returns true when the input did not end with a newline. */
  end(): boolean {
    if (!this.carry || this.carry.length === 0) return false;
    const carry = this.carry;
    this.carry = null;
    this.lines(carry, 0, carry.length, true);
    return true;
  }

  /**
   * The lines in buf[start, end): LF-separated, the last one ending at `end`. Each line is decoded
   * on its own: a string per line, never a slice of a chunk-sized string, so a field an analysis
   * keeps (a session name, a file-set pointer) holds on to one line, not to a megabyte of input
   * (V8 keeps a slice's parent alive; the fleet bench traced RSS growing ~1 MB per MB read to it).
   */
  private lines(buf: Buffer, start: number, end: number, unterminated: boolean): void {
    // Trace text is nearly always ASCII, and for ASCII latin1 decoding gives the same string ~20x
    // faster than Node 20's UTF-8 decoder; otherwise UTF-8, bad bytes becoming U+FFFD.
    const encoding: BufferEncoding = isAscii(buf.subarray(start, end)) ? 'latin1' : 'utf8';
    const nulAt = buf.indexOf(0, start);
    const hasNul = nulAt >= 0 && nulAt < end;
    // The bytes of an ASCII line are its characters: the parser may read them without a string
    // (not in the rare chunk with a NUL, whose lines the string path sorts out below).
    const onBytes = encoding === 'latin1' && !hasNul ? this.onBytes : undefined;
    let from = start;
    for (;;) {
      let nl = buf.indexOf(10, from);
      if (nl < 0 || nl >= end) nl = -1;
      const lineEnd = nl < 0 ? end : nl;
      const lineNo = ++this.lineNo;
      this.ledger.total++;
      const textEnd = lineEnd > from && buf[lineEnd - 1] === 13 ? lineEnd - 1 : lineEnd;
      if (onBytes && lineNo > 1 && !(unterminated && nl < 0) && onBytes(buf, from, textEnd, lineNo)) {
        if (nl < 0) break;
        from = nl + 1;
        continue;
      }
      let line = textEnd > from ? buf.toString(encoding, from, textEnd) : '';
      if (lineNo === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
      if (hasNul && line.indexOf('\0') >= 0) {
        const stripped = line.replace(/\0+$/, '');
        if (stripped.length === 0) {
          this.ledger.knownLine('nul-padding', this.file, lineNo);
        } else if (stripped.indexOf('\0') >= 0) {
          this.ledger.skip('binary-garbage', this.file, lineNo, line);
        } else {
          // Text followed by NUL padding: the file was cut here.
          this.onLine(stripped, lineNo, true);
        }
      } else {
        this.onLine(line, lineNo, unterminated && nl < 0);
      }
      if (nl < 0) break;
      from = nl + 1;
    }
  }
}
