// Stable re-ordering of an event stream by (source, time, line), within a bounded window.
//
// ftrace `trace`/`trace_pipe` and trace-cmd output are merged across CPUs by timestamp, but not
// exactly: the `local` clock skews between CPUs, and per-CPU files or bpftrace output (per-CPU perf
// buffers drained in turn, real README O8) are not ordered at all (docs/trace-formats.md §1.5, §5 item 6).
// Analyses that pair events of one task across CPUs want time order, so the stream passes through a
// min-heap that holds events until the newest time seen is `windowNs` ahead. Memory is bounded by
// the number of events inside the window. An event that arrives later than the window allows is
// passed on at once and counted, so a report can say ordering was not guaranteed.
//
// Kernel log lines (`printk`) are passed on where they stand and never counted late: the log holds
// them in the order they were written, while their timestamps jump back during early boot
// (docs/trace-formats.md §5 item 20), and no analysis pairs them by time.
import type { TraceEvent } from '../../parsers/event.js';

interface Slot {
  ev: TraceEvent;
  key: number; // time used for ordering (inherited for events without a time)
  seq: number;
}

function before(a: Slot, b: Slot): boolean {
  if (a.ev.src !== b.ev.src) return a.ev.src < b.ev.src;
  if (a.key !== b.key) return a.key < b.key;
  return a.seq < b.seq;
}

export class ReorderBuffer {
  private readonly heap: Slot[] = [];
  private seq = 0;
  private newest = -Infinity;
  private lastKey = -Infinity;
  private src = -1;
  private lastEmitted: Slot | null = null;
  /** Reused as `lastEmitted` in pass-through mode (no allocation per event). */
  private readonly passKey: Slot = { ev: null as unknown as TraceEvent, key: 0, seq: 0 };
  /** Events that arrived after events later than them had already been passed on. */
  lateEvents = 0;
  maxLagNs = 0;

  constructor(
    private readonly out: (ev: TraceEvent) => void,
    private windowNs = 1_000_000_000,
    /** Events held at most (memory bound: ~250 bytes each); beyond it the oldest are passed on. */
    private readonly maxHeld = 1_000_000,
  ) {}

  /**
   * Set the window for the sources that follow. Formats the kernel or trace-cmd already merged by
   * timestamp (`trace`, `trace_pipe`, `trace-cmd report`) need none: events pass straight through,
   * and any that still arrive late are counted.
   */
  setWindow(windowNs: number): void {
    this.windowNs = windowNs;
  }

  push(ev: TraceEvent): void {
    // A new kernel (console `Linux version`) or a clock reset starts a new time axis: nothing may be
    // re-ordered across it.
    const newAxis = ev.kind === 'boot' || (ev.kind === 'lost' && ev.fields.marker === 'clock-reset');
    if (ev.src !== this.src || newAxis) {
      this.flush();
      this.src = ev.src;
      this.newest = -Infinity;
      this.lastKey = -Infinity;
    }
    const key = ev.time ?? this.lastKey;
    if (ev.time !== null) this.lastKey = ev.time;
    if (this.windowNs === 0 && this.heap.length === 0) {
      // Pass-through mode: nothing is held.
      if (ev.kind === 'printk') {
        // Neither late nor a reference for later events (see the file comment).
      } else if (this.lastEmitted && key < this.lastEmitted.key) {
        this.lateEvents++;
        if (this.lastEmitted.key - key > this.maxLagNs) this.maxLagNs = this.lastEmitted.key - key;
      } else {
        this.passKey.ev = ev;
        this.passKey.key = key;
        this.lastEmitted = this.passKey;
      }
      this.out(ev);
      return;
    }
    const slot: Slot = { ev, key, seq: this.seq++ };
    if (this.lastEmitted && before(slot, this.lastEmitted)) {
      if (ev.kind !== 'printk') {
        this.lateEvents++;
        const lag = this.lastEmitted.key - key;
        if (lag > this.maxLagNs) this.maxLagNs = lag;
      }
      this.out(ev);
      return;
    }
    this.heapPush(slot);
    if (key > this.newest) this.newest = key;
    while (this.heap.length > 0 && (this.heap[0].key <= this.newest - this.windowNs || this.heap.length > this.maxHeld)) {
      this.emit(this.heapPop());
    }
  }

  flush(): void {
    while (this.heap.length > 0) this.emit(this.heapPop());
    this.lastEmitted = null;
  }

  private emit(slot: Slot): void {
    this.lastEmitted = slot;
    this.out(slot.ev);
  }

  private heapPush(s: Slot): void {
    const h = this.heap;
    h.push(s);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private heapPop(): Slot {
    const h = this.heap;
    const top = h[0];
    const last = h.pop() as Slot;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}
