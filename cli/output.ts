// Buffered writes to stdout that respect back-pressure and stop at the first write error: EPIPE
// (`luotrace events big.txt | head` must not print a stack trace) or a full disk, which cli/main.ts
// reports as one line and exit 2.
import { closeSync, existsSync, openSync, unlinkSync, writeSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { InputError } from '../parsers/input.js';

export class BufferedWriter {
  private parts: string[] = [];
  private size = 0;
  private closed = false;

  constructor(
    private readonly out: Writable = process.stdout,
    private readonly limit = 64 * 1024,
  ) {
    // EPIPE or any other write error: stop producing (cli/main.ts reports a non-EPIPE error and exits 2).
    out.on('error', () => {
      this.closed = true;
    });
  }

  /** True once the reader went away (EPIPE): producers may stop early. */
  get isClosed(): boolean {
    return this.closed;
  }

  write(s: string): void {
    if (this.closed) return;
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= this.limit) void this.flushSync();
  }

  private flushSync(): boolean {
    if (this.parts.length === 0 || this.closed) return true;
    const chunk = this.parts.join('');
    this.parts = [];
    this.size = 0;
    return this.out.write(chunk);
  }

  /** Flush and wait until the stream accepted everything. */
  async flush(): Promise<void> {
    const ok = this.flushSync();
    if (ok || this.closed) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.out.off('drain', done);
        this.out.off('error', done);
        resolve();
      };
      this.out.once('drain', done);
      this.out.once('error', done);
    });
  }
}

/**
 * Write a file the user named (export -o, --csv DIR, --junit, fleet --out-dir) in 64 KiB synchronous
 * chunks, so memory stays flat and errors surface where they happen. On a write error (a full disk)
 * the partial file is removed when luotrace created it, so no truncated report is left looking
 * complete; the error is one line, exit 2 (`what: CODE`).
 */
export function writeOutputFile(path: string, fill: (out: { write(s: string): void }) => void, what = 'cannot write'): void {
  const errCode = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  const existed = existsSync(path);
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (e) {
    throw new InputError(path, `${what}: ${errCode(e)}`);
  }
  let parts: string[] = [];
  let size = 0;
  let writeError: unknown = null;
  const flush = () => {
    if (!parts.length) return;
    const chunk = parts.join('');
    parts = [];
    size = 0;
    try {
      // A short write (the disk filled up exactly here) is retried, so the error surfaces.
      const buf = Buffer.from(chunk);
      for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off);
    } catch (e) {
      writeError = e;
      throw e;
    }
  };
  try {
    fill({
      write(s) {
        parts.push(s);
        size += s.length;
        if (size >= 64 * 1024) flush();
      },
    });
    flush();
  } catch (e) {
    closeSync(fd);
    let removed = false;
    if (!existed) {
      try {
        unlinkSync(path);
        removed = true;
      } catch {
        // already gone, or not ours to remove
      }
    }
    if (e !== writeError) throw e;
    throw new InputError(path, `${what}: ${errCode(e)}${removed ? ' (the partial file was removed)' : ''}`);
  }
  closeSync(fd);
}
