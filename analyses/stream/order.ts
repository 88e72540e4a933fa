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
import { CompactEvents, PAGE_BITS, PAGE_MASK, PAGE_SLOTS, type HeldEvents } from './held-events.js';

const INITIAL = 1024;

/**
 * A min-heap of held events by (source, key, seq): the heap orders slot numbers; each slot's sort
 * key is in typed arrays and its event in a HeldEvents store (held-events.ts), so a held event costs
 * no object of its own. A new source flushes the heap (push), so everything held, and the last event
 * passed on while anything is held, comes from `src`: the source needs no column and no comparison.
 */
export class ReorderBuffer {
  private heap = new Int32Array(INITIAL);
  private size = 0;
  /**
   * Sort key of each slot within the source, in pages (added, never copied, as the heap grows): time
   * (inherited for events without a time) at 2i, arrival number at 2i+1.
   */
  private sortPages = [new Float64Array(2 * PAGE_SLOTS)];
  /** Slots free for reuse (the first `free` entries), and the count of slots ever handed out. */
  private freeSlots = new Int32Array(INITIAL);
  private free = 0;
  private slots = 0;
  private seq = 0;
  private newest = -Infinity;
  private lastKey = -Infinity;
  private src = -1;
  /**
   * With no window (a source sorted whole: bpftrace, CSV) the heap array holds its slots in arrival
   * order and is sorted once at the flush (gather), instead of a heap push and pop per event: the
   * input is runs of one CPU's events in time order (per-CPU buffers drained in turn), which the
   * sort merges. It becomes a heap (heapify) only if more than maxHeld events arrive.
   */
  private unsorted = false;
  /** The sort key of the last event passed on in order (none after a flush). */
  private hasLast = false;
  private lastOut = 0;
  private lastSeq = 0;
  /** Events that arrived after events later than them had already been passed on. */
  lateEvents = 0;
  maxLagNs = 0;

  constructor(
    private readonly out: (ev: TraceEvent) => void,
    private windowNs = 1_000_000_000,
    /** Events held at most (memory bound: ~50 bytes each, held-events.ts); beyond it the oldest are passed on. */
    private readonly maxHeld = 1_000_000,
    private readonly held: HeldEvents = new CompactEvents(),
  ) {}

  /**
   * Set the window for the sources that follow. Formats the kernel or trace-cmd already merged by
   * timestamp (`trace`, `trace_pipe`, `trace-cmd report`) need none: events pass straight through,
   * and any that still arrive late are counted.
   */
  setWindow(windowNs: number): void {
    if (this.unsorted) this.heapify();
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
    if (this.windowNs === 0 && this.size === 0) {
      // Pass-through mode: nothing is held.
      if (ev.kind === 'printk') {
        // Neither late nor a reference for later events (see the file comment).
      } else if (this.hasLast && key < this.lastOut) {
        this.lateEvents++;
        if (this.lastOut - key > this.maxLagNs) this.maxLagNs = this.lastOut - key;
      } else {
        this.setLast(key, 0);
      }
      this.out(ev);
      return;
    }
    const seq = this.seq++;
    if (this.hasLast && this.beforeLast(key, seq)) {
      if (ev.kind !== 'printk') {
        this.lateEvents++;
        const lag = this.lastOut - key;
        if (lag > this.maxLagNs) this.maxLagNs = lag;
      }
      this.out(ev);
      return;
    }
    if (key > this.newest) this.newest = key;
    if (this.windowNs === Number.POSITIVE_INFINITY && key !== Number.NEGATIVE_INFINITY && (this.unsorted || this.size === 0)) {
      // Gather (see unsorted). An event without a time before any timed one (key -Infinity) is not
      // gathered: the heap would pass it on at once, below.
      this.unsorted = true;
      if (this.size === this.heap.length) this.heap = this.grown(this.heap);
      this.heap[this.size++] = this.hold(ev, key, seq);
      if (this.size <= this.maxHeld) return;
      this.heapify();
    } else {
      if (this.unsorted) this.heapify();
      this.heapPush(this.hold(ev, key, seq));
    }
    while (this.size > 0 && (this.keyOf(this.heap[0]) <= this.newest - this.windowNs || this.size > this.maxHeld)) {
      this.emit(this.heapPop());
    }
  }

  flush(): void {
    // Every slot is free once the heap is empty: none is recorded in the free list on the way (an
    // infinite window frees nothing before the flush, so the list never grows).
    if (this.unsorted) this.emitSorted();
    while (this.size > 0) this.emit(this.heapPop(), false);
    this.hasLast = false;
    this.free = 0;
    if (this.slots > PAGE_SLOTS) this.shrink();
    this.slots = 0;
  }

  private setLast(key: number, seq: number): void {
    this.hasLast = true;
    this.lastOut = key;
    this.lastSeq = seq;
  }

  private beforeLast(key: number, seq: number): boolean {
    if (key !== this.lastOut) return key < this.lastOut;
    return seq < this.lastSeq;
  }

  /** A slot for `ev`, its sort key set. */
  private hold(ev: TraceEvent, key: number, seq: number): number {
    let slot: number;
    if (this.free > 0) slot = this.freeSlots[--this.free];
    else {
      slot = this.slots++;
      if (slot === this.heap.length) this.heap = this.grown(this.heap);
      if (slot >> PAGE_BITS === this.sortPages.length) this.sortPages.push(new Float64Array(2 * PAGE_SLOTS));
    }
    const page = this.sortPages[slot >> PAGE_BITS];
    const i = (slot & PAGE_MASK) << 1;
    page[i] = key;
    page[i + 1] = seq;
    this.held.put(slot, ev);
    return slot;
  }

  private emit(slot: number, recycle = true): void {
    const page = this.sortPages[slot >> PAGE_BITS];
    const i = (slot & PAGE_MASK) << 1;
    this.setLast(page[i], page[i + 1]);
    const ev = this.held.take(slot, page[i], this.src);
    if (recycle) {
      if (this.free === this.freeSlots.length) this.freeSlots = this.grown(this.freeSlots);
      this.freeSlots[this.free++] = slot;
    }
    this.out(ev);
  }

  /** The heap or the free list with a quarter more room (4 bytes a slot: copied as they grow). */
  private grown(a: Int32Array): Int32Array<ArrayBuffer> {
    const b = new Int32Array(Math.min(a.length + (a.length >> 2), this.maxHeld + 1));
    b.set(a);
    return b;
  }

  private keyOf(slot: number): number {
    return this.sortPages[slot >> PAGE_BITS][(slot & PAGE_MASK) << 1];
  }

  /** Empty after a large source: give the columns back (a --follow run may hold little from now on). */
  private shrink(): void {
    this.heap = new Int32Array(INITIAL);
    this.freeSlots = new Int32Array(INITIAL);
    this.sortPages.length = 1;
    this.held.reset();
  }

  private before(a: number, b: number): boolean {
    const pa = this.sortPages[a >> PAGE_BITS];
    const pb = this.sortPages[b >> PAGE_BITS];
    const ia = (a & PAGE_MASK) << 1;
    const ib = (b & PAGE_MASK) << 1;
    if (pa[ia] !== pb[ib]) return pa[ia] < pb[ib];
    return pa[ia + 1] < pb[ib + 1];
  }

  /** Pass on the gathered slots in (key, arrival) order: the order heap pops would give. */
  private emitSorted(): void {
    this.unsorted = false;
    const n = this.size;
    // Array.prototype.sort (TimSort in V8) finds the ordered runs; a typed array's sort does not.
    const order = Array.from(this.heap.subarray(0, n));
    const pages = this.sortPages;
    order.sort((a, b) => {
      const pa = pages[a >> PAGE_BITS];
      const pb = pages[b >> PAGE_BITS];
      const ia = (a & PAGE_MASK) << 1;
      const ib = (b & PAGE_MASK) << 1;
      return pa[ia] !== pb[ib] ? (pa[ia] < pb[ib] ? -1 : 1) : pa[ia + 1] - pb[ib + 1];
    });
    this.size = 0;
    for (let i = 0; i < n; i++) this.emit(order[i], false);
  }

  /** Make the gathered slots a heap (Floyd's bottom-up build), for the bounded window logic. */
  private heapify(): void {
    this.unsorted = false;
    for (let i = (this.size >> 1) - 1; i >= 0; i--) this.siftDown(i, this.heap[i], this.size);
  }

  private heapPush(slot: number): void {
    const h = this.heap;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(slot, h[p])) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = slot;
  }

  private heapPop(): number {
    const top = this.heap[0];
    const n = --this.size;
    if (n > 0) this.siftDown(0, this.heap[n], n);
    return top;
  }

  /** Put `slot` at position i of the heap's first n entries, moving smaller children up. */
  private siftDown(i: number, slot: number, n: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const m = r < n && this.before(h[r], h[l]) ? r : l;
      if (!this.before(h[m], slot)) break;
      h[i] = h[m];
      i = m;
    }
    h[i] = slot;
  }
}
