// The discrete-event core of the generator: tasks are generator functions that yield trace records
// with rising timestamps; a min-heap merges them in time order, the way the `trace` file merges the
// per-CPU ring buffers. Lock and refcount decisions are made when a record is *popped* (global time
// order), never when it is created, so two tasks can never hold one mutex at once, a waiter's
// contention_begin always falls inside a real holder's hold, and `refcnt=` values are the running
// atomic count in the order the events are printed (real README O11).
import type { Lock } from './kernel.js';
import type { Rng } from './prng.js';

/** Record kinds. K_INTERNAL records carry a lock decision or a wait and print nothing. */
export const K_INTERNAL = 0;
export const K_KPROBE = 1;
export const K_KRETPROBE = 2;
export const K_RWPROBE = 3;
export const K_MODPROBE = 4;
export const K_MODREF = 5;
export const K_MODLOAD = 6;
export const K_MODFREE = 7;
export const K_LOCK_ACQUIRE = 8;
export const K_LOCK_RELEASE = 9;
export const K_CONT_BEGIN = 10;
export const K_CONT_END = 11;
export const K_SYS_ENTER = 12;
export const K_SYS_EXIT = 13;
export const K_PRINTK = 14;

/** Lock operations decided at pop time. */
export const LOP_NONE = 0;
export const LOP_TRY_READ = 1;
export const LOP_TRY_WRITE = 2;
export const LOP_WAIT_READ = 3;
export const LOP_WAIT_WRITE = 4;
export const LOP_RELEASE = 5;
/**
 * Conditional contention_begin: the lock is tried again when the record is due; if it is free now
 * the task takes it and the record is not printed, else it prints. So a printed sleeping
 * contention_begin always has a holder at its timestamp.
 */
export const LOP_COND_READ = 6;
export const LOP_COND_WRITE = 7;

/** Module state shared by every task (the kernel's struct module, as far as tracing sees it). */
export interface ModuleState {
  name: string;
  /** `mod=` of the luomod kprobes: address of struct module. */
  addr: string;
  /** Raw atomic refcnt, MODULE_REF_BASE included (O11). Changed only at pop time. */
  refcnt: number;
  /** Renderer caches (payload strings for this module), one World = one pass = one renderer. */
  rc: string[] | null;
  rcSite: Map<string, string> | null;
  rcb: Uint8Array[] | null;
  rcSiteB: Map<string, Uint8Array> | null;
}

export class Rec {
  kind = 0;
  t = 0;
  cpu = 0;
  /** Flag column as an index into FLAG_STRINGS (base pattern × need-resched char). */
  fl = 0;
  task!: Task;
  /** Kind-specific: Fn (probes), op or event name (strings), SysDef (syscalls). */
  a: unknown = null;
  /** Kind-specific: probe args text, call site, caller, syscall args, printk text. */
  b: unknown = null;
  /** Kind-specific number: return value, refcnt delta (then the refcnt), flags mask, lockdep bits. */
  n = 0;
  lock: Lock | null = null;
  mod: ModuleState | null = null;
  lop = 0;
}

export class Task {
  t = 0;
  cpu = 0;
  /**
   * Records built since the body last yielded. Builders append here; the body yields only where it
   * needs a decision (lock attempt, wait) or must run at the right time (shared-state reads), so
   * most records cost no generator resume.
   */
  readonly queue: Rec[] = [];
  qi = 0;
  /** need-resched state index into NR_CHARS (a sticky Markov chain, like the real flag runs). */
  nr = 0;
  pending: Rec | null = null;
  seq = 0;
  gen: Generator<Rec, void, number> | null = null;
  /** Renderer's cache of the context prefix per CPU. */
  pcache: string[] = [];
  /** Renderer's cache of context prefix + flag column + current second as bytes, per (CPU, flags). */
  bcache: Uint8Array[] = [];
  bepoch = -1;
  /** Renderer's cache of other per-task strings (bpftrace `cpu= pid= tid= comm=` …). */
  scache: string[] = [];
  constructor(
    readonly id: number,
    readonly comm: string,
    readonly pid: number,
    readonly tgid: number,
  ) {}
}

/** Flag columns: base patterns from the real captures, need-resched char overlaid per task. */
export const BASE_FLAGS = ['.....', '...1.', 'd..2.', 'd..3.', 'd.h3.'] as const;
export const B_NONE = 0;
export const B_PREEMPT = 1;
export const B_IRQOFF2 = 2;
export const B_IRQOFF3 = 3;
export const B_HARDIRQ = 4;
const NR_CHARS = ['.', 'l', 'B', 'N'];
/** All flag columns: index = base * 4 + need-resched state. */
export const FLAG_STRINGS: string[] = BASE_FLAGS.flatMap((b) => NR_CHARS.map((c) => b[0] + c + b.slice(2)));
export const FLAG_COUNT = FLAG_STRINGS.length;
/** Cumulative transition weights when the need-resched state changes ('.' 55%, l 30%, B 14%, N 1%). */
const NR_CUM = [0.55, 0.85, 0.99, 1];

export function nextFlags(task: Task, base: number, rng: Rng): number {
  if (rng.float() < 0.16) {
    const u = rng.float();
    let s = 0;
    while (u >= NR_CUM[s]) s++;
    task.nr = s;
  }
  return base * 4 + task.nr;
}

/** Min-heap of tasks keyed by (pending.t, seq). */
export class Scheduler {
  private heap: Task[] = [];
  private seq = 0;
  now = 0;
  /** Mean hand-off delay after a release wakes a waiter (ns). */
  handoff = 60_000;

  constructor(private readonly rng: Rng) {}

  get idle(): boolean {
    return this.heap.length === 0;
  }

  /** Start a task at time `t`: its body runs first when the scheduler reaches `t`. */
  spawn(task: Task, t: number, body: Generator<Rec, void, number>): void {
    task.t = t;
    task.gen = body;
    const start = new Rec();
    start.kind = K_INTERNAL;
    start.t = t;
    start.task = task;
    task.queue.push(start);
    task.qi = 0;
    task.pending = start;
    this.push(task);
  }

  /** Records the scheduler consumed itself (internal ones) go back to the caller's pool. */
  pool: Rec[] | null = null;

  /** The next printable record in time order, or null when every task has finished. */
  next(): Rec | null {
    while (this.heap.length > 0) {
      // The top task stays in place while its record is processed: release() may push woken
      // waiters, but they are due later than `now`, so they never displace the root.
      const task = this.heap[0];
      const rec = task.pending as Rec;
      this.now = rec.t;
      let resume = 0;
      let parked = false;
      const lock = rec.lock;
      switch (rec.lop) {
        case LOP_TRY_READ:
          resume = this.tryAcquire(lock as Lock, task, false) ? 1 : 0;
          break;
        case LOP_TRY_WRITE:
          resume = this.tryAcquire(lock as Lock, task, true) ? 1 : 0;
          break;
        case LOP_WAIT_READ:
        case LOP_WAIT_WRITE: {
          const write = rec.lop === LOP_WAIT_WRITE;
          if (this.tryAcquire(lock as Lock, task, write)) resume = 1;
          else {
            (lock as Lock).waiters.push({ task, write });
            parked = true;
          }
          break;
        }
        case LOP_RELEASE:
          resume = this.release(lock as Lock, task);
          break;
        case LOP_COND_READ:
        case LOP_COND_WRITE:
          resume = this.tryAcquire(lock as Lock, task, rec.lop === LOP_COND_WRITE) ? 1 : 0;
          break;
        default:
          break;
      }
      if (rec.kind === K_MODREF) {
        const m = rec.mod as ModuleState;
        m.refcnt += rec.n;
        rec.n = m.refcnt;
      }
      if (parked || !this.advance(task, resume)) this.popTop();
      if (rec.kind !== K_INTERNAL && !(resume === 1 && (rec.lop === LOP_COND_READ || rec.lop === LOP_COND_WRITE))) return rec;
      if (this.pool !== null) this.pool.push(rec);
    }
    return null;
  }

  /**
   * After `task`'s pending record was processed: move on to its next queued record, or resume its
   * body for more. A task at the heap root is re-sifted in place; any other (a woken waiter) is
   * pushed. Returns false when the task has nothing more (finished).
   */
  private advance(task: Task, resume: number, atRoot = true): boolean {
    const q = task.queue;
    if (++task.qi < q.length) {
      task.pending = q[task.qi];
    } else {
      q.length = 0;
      task.qi = 0;
      if (task.gen !== null) {
        const r = task.gen.next(resume);
        if (r.done) task.gen = null;
      }
      if (q.length === 0) return false; // finished
      const first = q[0];
      if (first.t < this.now) {
        // never go back in time: shift the whole batch
        const d = this.now - first.t;
        for (const rec of q) rec.t += d;
        task.t += d;
      }
      task.pending = first;
    }
    if (atRoot) {
      task.seq = this.seq++;
      this.siftDown(0);
    } else this.push(task);
    return true;
  }

  private tryAcquire(lock: Lock, task: Task, write: boolean): boolean {
    if (write) {
      if (lock.writer === null && lock.readers === 0) {
        lock.writer = task;
        return true;
      }
      return false;
    }
    // Readers queue behind a waiting writer (rwsem hand-off keeps writers from starving).
    if (lock.writer === null && !lock.waiters.some((w) => w.write)) {
      lock.readers++;
      return true;
    }
    return false;
  }

  /** Release `lock` held by `task`; grant it to waiters in FIFO order. Returns how many woke. */
  private release(lock: Lock, task: Task): number {
    if (lock.writer === task) lock.writer = null;
    else if (lock.readers > 0) lock.readers--;
    let woken = 0;
    while (lock.waiters.length > 0) {
      const w = lock.waiters[0];
      if (w.write) {
        if (lock.writer !== null || lock.readers > 0) break;
        lock.writer = w.task;
      } else {
        if (lock.writer !== null) break;
        lock.readers++;
      }
      lock.waiters.shift();
      woken++;
      const wt = w.task as Task;
      const at = this.now + this.rng.delay(this.handoff, 0.5);
      if (wt.t < at) wt.t = at;
      this.advance(wt, 1, false);
      if (w.write) break;
    }
    return woken;
  }

  private push(task: Task): void {
    task.seq = this.seq++;
    const h = this.heap;
    h.push(task);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i], h[p])) break;
      const tmp = h[i];
      h[i] = h[p];
      h[p] = tmp;
      i = p;
    }
  }

  private popTop(): Task {
    const h = this.heap;
    const top = h[0];
    const last = h.pop() as Task;
    if (h.length > 0) {
      h[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private siftDown(start: number): void {
    const h = this.heap;
    {
      let i = start;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l], h[m])) m = l;
        if (r < h.length && less(h[r], h[m])) m = r;
        if (m === i) break;
        const tmp = h[i];
        h[i] = h[m];
        h[m] = tmp;
        i = m;
      }
    }
  }
}

function less(a: Task, b: Task): boolean {
  const ta = (a.pending as Rec).t;
  const tb = (b.pending as Rec).t;
  return ta < tb || (ta === tb && a.seq < b.seq);
}
