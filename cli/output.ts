// Buffered writes to stdout that respect back-pressure and stop at the first write error: EPIPE
// (`luotrace events big.txt | head` must not print a stack trace) or a full disk, which cli/main.ts
// reports as one line and exit 2.
import type { Writable } from 'node:stream';

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
