// Raw text of chosen lines of a trace file: what the TUI shows as "the raw lines that prove it" and
// in its Events list, without ever holding the file.
//
// Each request is one streaming pass that keeps only the requested lines and stops after the last
// one. Plain files also get a sparse index of line offsets (the byte offset of every 1024th line),
// learnt during those passes, so a later request starts reading near its lines: jumping around a
// 1 GB file costs one pass to the furthest line seen, then small reads. Gzip has no random access,
// so .gz passes always start at the beginning and stop as early as they can.
//
// Lines are numbered exactly as parsers/input.ts numbers them (a line ends at LF; CRLF, a UTF-8 BOM
// on line 1 and trailing NUL padding are removed; a last line without LF is still a line), so a
// `file:line` from any report points at the same text here.
import { type FileHandle, open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';

const CHUNK_BYTES = 1 << 20;
/** As parsers/input.ts: longer "lines" are not trace text; only their start is kept. */
const MAX_LINE_BYTES = 1 << 20;

export interface LineRange {
  /** First line, 1-based, inclusive. */
  from: number;
  /** Last line, inclusive. */
  to: number;
}

type Visit = (lineNo: number, text: () => string) => boolean;

export class RawLineFile {
  /** offsets[k] = byte offset where line k*step+1 starts (plain files; filled as passes go by). */
  private readonly offsets: number[] = [0];
  private compressed: boolean | null = null;
  /** Number of lines, once a pass reached the end of the file. */
  totalLines: number | null = null;

  constructor(
    readonly path: string,
    private readonly step = 1024,
  ) {}

  /** The text of every line inside `ranges` (lines past the end of the file are simply absent). */
  async fetch(ranges: LineRange[], signal?: AbortSignal): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    const rs = ranges
      .map((r) => ({ from: Math.max(1, Math.floor(r.from)), to: Math.floor(r.to) }))
      .filter((r) => r.to >= r.from)
      .sort((a, b) => a.from - b.from);
    if (rs.length === 0) return out;
    const last = rs.reduce((m, r) => Math.max(m, r.to), 0);
    let ri = 0;
    await this.pass(
      rs[0].from,
      (lineNo, text) => {
        while (ri < rs.length && rs[ri].to < lineNo) ri++;
        if (ri >= rs.length) return false;
        if (lineNo >= rs[ri].from) out.set(lineNo, text());
        return lineNo < last;
      },
      signal,
    );
    return out;
  }

  /** Visit every line from `from` on, until `visit` returns false or the file ends. */
  async scan(from: number, visit: (lineNo: number, text: string) => boolean | void, signal?: AbortSignal): Promise<void> {
    await this.pass(from, (lineNo, text) => (lineNo < from ? true : visit(lineNo, text()) !== false), signal);
  }

  private async pass(from: number, visit: Visit, signal?: AbortSignal): Promise<void> {
    const fh = await open(this.path, 'r');
    try {
      if (this.compressed === null) {
        const magic = Buffer.alloc(2);
        const { bytesRead } = await fh.read(magic, 0, 2, 0);
        this.compressed = bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
      }
      let lineNo = 1;
      let offset = 0;
      if (!this.compressed) {
        const k = Math.max(0, Math.min(Math.floor((from - 1) / this.step), this.offsets.length - 1));
        lineNo = k * this.step + 1;
        offset = this.offsets[k];
      }
      const compressed = this.compressed;
      let parts: Buffer[] = [];
      let partsLen = 0;
      const chunks = compressed ? gunzipChunks(fh) : plainChunks(fh, offset);
      try {
        for await (const chunk of chunks) {
          if (signal?.aborted) return;
          let start = 0;
          for (;;) {
            const nl = chunk.indexOf(10, start);
            if (nl < 0) break;
            const n = lineNo;
            const s = start;
            const before = parts;
            const go = visit(n, () => decodeLine(before.length ? Buffer.concat([...before, chunk.subarray(s, nl)]) : chunk.subarray(s, nl), n));
            parts = [];
            partsLen = 0;
            lineNo++;
            start = nl + 1;
            if (!compressed && (lineNo - 1) % this.step === 0 && (lineNo - 1) / this.step === this.offsets.length) {
              this.offsets.push(offset + start);
            }
            if (!go) return;
          }
          if (start < chunk.length && partsLen < MAX_LINE_BYTES) {
            const piece = chunk.subarray(start, Math.min(chunk.length, start + MAX_LINE_BYTES - partsLen));
            parts.push(Buffer.from(piece));
            partsLen += piece.length;
          }
          offset += chunk.length;
        }
      } catch {
        // A truncated gzip member ends the data here, as it does for the parsers (they say so in
        // the data-quality notes); the lines before it are still right.
      }
      if (partsLen > 0) {
        const n = lineNo;
        visit(n, () => decodeLine(Buffer.concat(parts), n));
        lineNo++;
      }
      this.totalLines = lineNo - 1;
    } finally {
      await fh.close();
    }
  }
}

function decodeLine(buf: Buffer, lineNo: number): string {
  let text = buf.toString('utf8');
  if (text.length && text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
  if (lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.indexOf('\0') >= 0) text = text.replace(/\0+$/, '');
  return text;
}

async function* plainChunks(fh: FileHandle, from: number): AsyncGenerator<Buffer> {
  let pos = from;
  for (;;) {
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    const { bytesRead } = await fh.read(buf, 0, CHUNK_BYTES, pos);
    if (bytesRead === 0) return;
    pos += bytesRead;
    yield buf.subarray(0, bytesRead);
  }
}

async function* gunzipChunks(fh: FileHandle): AsyncGenerator<Buffer> {
  const raw = fh.createReadStream({ start: 0, autoClose: false, highWaterMark: CHUNK_BYTES });
  const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
  raw.on('error', (e) => gunzip.destroy(e));
  raw.pipe(gunzip);
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } finally {
    raw.unpipe(gunzip);
    raw.destroy();
    gunzip.destroy();
  }
}
