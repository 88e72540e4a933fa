// Buffered writes to stdout that respect back-pressure and end quietly on EPIPE
// (`luotrace events big.txt | head` must not print a stack trace).
import type { Writable } from 'node:stream';

export class BufferedWriter {
  private parts: string[] = [];
  private size = 0;
  private closed = false;

  constructor(
    private readonly out: Writable = process.stdout,
    private readonly limit = 64 * 1024,
  ) {
    out.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') this.closed = true;
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
    if (!ok && !this.closed) await new Promise<void>((r) => this.out.once('drain', r));
  }
}
