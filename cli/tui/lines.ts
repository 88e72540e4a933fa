// Where the TUI gets raw line text. Two kinds of store behind one interface:
// - FileLineStore: files that can be read again (cli/raw-lines.ts), with a bounded cache of the
//   lines recently shown;
// - RingLineStore: a live stream (--follow, stdin) that cannot be read again: the newest lines are
//   kept in a bounded ring and older ones are dropped (the statistics live on in the analyses).
import { RawLineFile } from '../raw-lines.js';

export interface SearchUpdate {
  /** Matching line numbers found so far, in file order (at most `limit`). */
  matches: number[];
  done: boolean;
  /** The search stopped at `limit` matches. */
  capped: boolean;
}

export interface LineStore {
  /** Lines keep arriving (a live stream); searches are redone as they do. */
  readonly live: boolean;
  /** Text of a line: undefined while it is being read (a read is started), null when it cannot be had. */
  get(file: string, line: number): string | null | undefined;
  /** Ask for lines ahead of showing them. */
  request(file: string, from: number, to: number): void;
  /** First line still available (a ring drops old lines). */
  firstLine(file: string): number;
  /** Last line known (the line count once known, or the newest line of a live stream). */
  lastLine(file: string): number | null;
  /** Why lines of this file cannot be shown, when they cannot. */
  unavailable(file: string): string | null;
  /** Case-insensitive substring search; returns a function that cancels it. */
  search(file: string, needle: string, onUpdate: (u: SearchUpdate) => void, limit?: number): () => void;
  subscribe(fn: () => void): () => void;
}

class Listeners {
  private fns = new Set<() => void>();
  add(fn: () => void): () => void {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }
  emit(): void {
    for (const fn of [...this.fns]) fn();
  }
}

/** Lines are read in blocks of this many, aligned, so scrolling line by line costs one read per block. */
const BLOCK = 256;
const CACHE_LINES = 20_000;

export class FileLineStore implements LineStore {
  readonly live = false;
  private readonly files = new Map<string, RawLineFile>();
  /** Insertion-ordered cache: the oldest entries are evicted first. */
  private readonly cache = new Map<string, string>();
  private readonly pending = new Map<string, Set<number>>();
  private readonly busy = new Set<string>();
  private readonly inflight = new Set<string>();
  private readonly failed = new Map<string, string>();
  private readonly listeners = new Listeners();

  constructor(
    private readonly knownLines: (file: string) => number | null = () => null,
    private readonly notReadable: (file: string) => string | null = (f) => (f === '<stdin>' ? 'standard input cannot be read again' : null),
  ) {}

  private fileOf(file: string): RawLineFile {
    let f = this.files.get(file);
    if (!f) this.files.set(file, (f = new RawLineFile(file)));
    return f;
  }

  unavailable(file: string): string | null {
    return this.notReadable(file) ?? this.failed.get(file) ?? null;
  }

  get(file: string, line: number): string | null | undefined {
    if (this.unavailable(file)) return null;
    const hit = this.cache.get(`${file}\n${line}`);
    if (hit !== undefined) return hit;
    const last = this.lastLine(file);
    if (line < 1 || (last !== null && line > last)) return null;
    this.request(file, line, line);
    return undefined;
  }

  request(file: string, from: number, to: number): void {
    if (this.unavailable(file)) return;
    let blocks = this.pending.get(file);
    if (!blocks) this.pending.set(file, (blocks = new Set()));
    const last = this.lastLine(file);
    // One block of read-ahead each way: scrolling on needs no new pass (a pass over .gz starts at the top).
    const lastBlock = Math.floor((Math.max(1, last === null ? to + BLOCK : Math.min(to + BLOCK, last)) - 1) / BLOCK);
    for (let b = Math.max(0, Math.floor((Math.max(1, from) - 1) / BLOCK) - 1); b <= lastBlock; b++) {
      if (!this.cache.has(`${file}\n${b * BLOCK + 1}`) && !this.inflight.has(`${file}\n${b}`)) blocks.add(b);
    }
    // Start after the current render: the lines a screen asks for in one render are read in one pass.
    if (blocks.size && !this.busy.has(file)) queueMicrotask(() => void this.drain(file));
  }

  private async drain(file: string): Promise<void> {
    if (this.busy.has(file)) return;
    this.busy.add(file);
    try {
      for (;;) {
        const blocks = this.pending.get(file);
        if (!blocks || blocks.size === 0) break;
        const list = [...blocks].sort((a, b) => a - b);
        blocks.clear();
        for (const b of list) this.inflight.add(`${file}\n${b}`);
        const ranges = list.map((b) => ({ from: b * BLOCK + 1, to: (b + 1) * BLOCK }));
        try {
          const got = await this.fileOf(file).fetch(ranges);
          for (const [n, text] of got) this.remember(`${file}\n${n}`, text);
        } finally {
          for (const b of list) this.inflight.delete(`${file}\n${b}`);
        }
        this.listeners.emit();
      }
    } catch (e) {
      this.failed.set(file, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file is gone' : (e as Error).message);
      this.listeners.emit();
    } finally {
      this.busy.delete(file);
    }
  }

  private remember(key: string, text: string): void {
    this.cache.delete(key);
    this.cache.set(key, text);
    if (this.cache.size > CACHE_LINES) {
      const drop = this.cache.size - CACHE_LINES;
      let i = 0;
      for (const k of this.cache.keys()) {
        if (i++ >= drop) break;
        this.cache.delete(k);
      }
    }
  }

  firstLine(): number {
    return 1;
  }

  lastLine(file: string): number | null {
    return this.files.get(file)?.totalLines ?? this.knownLines(file);
  }

  search(file: string, needle: string, onUpdate: (u: SearchUpdate) => void, limit = 10_000): () => void {
    const ac = new AbortController();
    const lower = needle.toLowerCase();
    const matches: number[] = [];
    let capped = false;
    let lastEmit = Date.now();
    const run = async () => {
      try {
        await this.fileOf(file).scan(
          1,
          (n, text) => {
            if (text.toLowerCase().includes(lower)) {
              matches.push(n);
              if (!this.cache.has(`${file}\n${n}`) && matches.length <= 2000) this.remember(`${file}\n${n}`, text);
              if (matches.length >= limit) {
                capped = true;
                return false;
              }
            }
            if (Date.now() - lastEmit > 200) {
              lastEmit = Date.now();
              onUpdate({ matches: [...matches], done: false, capped });
            }
            return true;
          },
          ac.signal,
        );
      } catch (e) {
        this.failed.set(file, (e as Error).message);
      }
      if (!ac.signal.aborted) onUpdate({ matches, done: true, capped });
    };
    void run();
    return () => ac.abort();
  }

  subscribe(fn: () => void): () => void {
    return this.listeners.add(fn);
  }
}

/** The newest `capacity` lines of each live source; the older ones are dropped. */
export class RingLineStore implements LineStore {
  readonly live = true;
  private readonly rings = new Map<string, { texts: string[]; first: number; next: number; head: number }>();
  private readonly listeners = new Listeners();
  private emitTimer: NodeJS.Timeout | null = null;

  constructor(readonly capacity = 20_000) {}

  push(file: string, lineNo: number, text: string): void {
    let r = this.rings.get(file);
    if (!r) this.rings.set(file, (r = { texts: [], first: lineNo, next: lineNo, head: 0 }));
    if (r.texts.length < this.capacity) {
      r.texts.push(text);
    } else {
      r.texts[r.head] = text;
      r.head = (r.head + 1) % this.capacity;
      r.first++;
    }
    r.next = lineNo + 1;
    // Many lines arrive per chunk: tell the screens once per tick, not once per line.
    if (!this.emitTimer) {
      this.emitTimer = setTimeout(() => {
        this.emitTimer = null;
        this.listeners.emit();
      }, 50);
    }
  }

  get(file: string, line: number): string | null {
    const r = this.rings.get(file);
    if (!r || line < r.first || line >= r.next) return null;
    const i = line - r.first;
    return r.texts[(r.head + i) % r.texts.length];
  }

  request(): void {}

  firstLine(file: string): number {
    return this.rings.get(file)?.first ?? 1;
  }

  lastLine(file: string): number | null {
    const r = this.rings.get(file);
    return r ? r.next - 1 : null;
  }

  /** Lines dropped so far (older than the ring keeps). */
  dropped(file: string): number {
    const r = this.rings.get(file);
    return r ? r.first - 1 : 0;
  }

  unavailable(): string | null {
    return null;
  }

  search(file: string, needle: string, onUpdate: (u: SearchUpdate) => void, limit = 10_000): () => void {
    const lower = needle.toLowerCase();
    const matches: number[] = [];
    const last = this.lastLine(file) ?? 0;
    let capped = false;
    for (let n = this.firstLine(file); n <= last; n++) {
      if ((this.get(file, n) ?? '').toLowerCase().includes(lower)) {
        matches.push(n);
        if (matches.length >= limit) {
          capped = true;
          break;
        }
      }
    }
    onUpdate({ matches, done: true, capped });
    return () => {};
  }

  subscribe(fn: () => void): () => void {
    return this.listeners.add(fn);
  }

  close(): void {
    if (this.emitTimer) clearTimeout(this.emitTimer);
    this.emitTimer = null;
  }
}
