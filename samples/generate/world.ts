// The simulated kernel state the generator's tasks share, and `Proc`, the per-task record builder.
//
// Objects mirror docs/luo-model.md §1: handler modules (struct module + its file handler + its FLB), the
// built-in memfd handler, the three LIVEUPDATE_TEST FLBs (O5), sessions with their files. Heap
// objects (sessions, luo_file) get slab-like addresses that are reused after free, as in the real
// captures (`file_set=0xff110000229e7a58`, session mutex at +0x50 of the file set …).
import {
  BACKGROUND_MUTEXES,
  DEP_MAP_OFF,
  type Fn,
  KHO_OUT,
  Lock,
  type LuoLocks,
  type RwOp,
  type SysDef,
  TEST_FLB_LOCKS,
  addHex,
  flbLocks,
  kaddr,
  staticLuoLocks,
} from './kernel.js';
import { Rng } from './prng.js';
import {
  B_NONE,
  B_PREEMPT,
  K_CONT_BEGIN,
  K_CONT_END,
  K_INTERNAL,
  K_KPROBE,
  K_KRETPROBE,
  K_LOCK_ACQUIRE,
  K_LOCK_RELEASE,
  K_MODFREE,
  K_MODLOAD,
  K_MODPROBE,
  K_MODREF,
  K_PRINTK,
  K_RWPROBE,
  K_SYS_ENTER,
  K_SYS_EXIT,
  LOP_NONE,
  type ModuleState,
  Rec,
  Scheduler,
  Task,
  nextFlags,
} from './sim.js';

export type KernelVersion = 'post' | 'pre';

export class Flb {
  outUsers = 0;
  inUsers = 0;
  /** Incoming FLB module ref taken by luo_flb_retrieve_one (POST), dropped at the last finish. */
  inRef = false;
  inRetrieved = false;
  /** PRE: handlers this FLB is registered with (the owner is pinned while > 0). */
  regUsers = 0;
  initialized = false;
  constructor(
    readonly compat: string,
    readonly owner: Module | null,
    readonly out: Lock,
    readonly inc: Lock,
  ) {}
}

export class Handler {
  readonly flbs: Flb[] = [];
  registered = false;
  constructor(
    readonly compat: string,
    readonly owner: Module | null,
  ) {}
}

export class Module implements ModuleState {
  refcnt = 0;
  rc: string[] | null = null;
  rcSite: Map<string, string> | null = null;
  rcb: Uint8Array[] | null = null;
  rcSiteB: Map<string, Uint8Array> | null = null;
  loaded = false;
  readonly handler: Handler;
  readonly flb: Flb;
  constructor(
    readonly name: string,
    readonly idx: number,
    readonly addr: string,
    compat: string,
    flbCompat: string,
    flbLockOut: string,
    flbLockIn: string,
    /** What bpftrace's ksym() printed for module data addresses in the lab (a bpf_prog symbol, O8). */
    readonly ksym: string,
  ) {
    this.handler = new Handler(compat, this);
    const locks = flbLocks(flbLockOut, flbLockIn, ksym);
    this.flb = new Flb(flbCompat, this, locks.out, locks.inc);
  }
}

export class LuoFile {
  mutex: Lock | null = null;
  addr = 0;
  /** The VFS module ref a user fd holds on the file (misc_open in the old kernel, anon inode in the new). */
  vfsRef = false;
  /** fd number in the process that retrieved it (new kernel). */
  fd = 0;
  constructor(
    readonly token: number,
    /** null: no handler can preserve it (the abort scenario's /dev/null). */
    readonly handler: Handler | null,
    /** Makes preserve() fail with -EIO (luo_demo's fail_token, real §3.2). */
    readonly failPreserve: boolean,
  ) {}
}

export class Session {
  /** Files LUO holds in this session (preserved, or deserialized and not yet finished). */
  files: LuoFile[] = [];
  /** Retrieved files the process still has open (their VFS module refs go at close, `__fput`). */
  userFiles: LuoFile[] = [];
  fd = 4;
  retrieved = false;
  constructor(
    readonly name: string,
    readonly base: number,
    readonly fileSet: string,
    readonly mutex: Lock,
    readonly incoming: boolean,
  ) {}
}

/** Slab-like heap: kmalloc-512 sessions, kmalloc-256 luo_file structs; addresses reused after free. */
class Heap {
  private readonly free = new Map<number, number[]>();
  private next: Map<number, number> = new Map();
  private readonly locks = new Map<number, Lock>();
  constructor(private readonly rng: Rng) {}

  alloc(size: number): number {
    const list = this.free.get(size);
    if (list && list.length > 0) return list.pop() as number;
    let n = this.next.get(size);
    if (n === undefined || (n & 0xfff) === 0) {
      // A fresh slab page somewhere in the direct map (0xff1100001…–0xff1100002…).
      n = (0x10000000 + this.rng.int(0x14000) * 0x1000) >>> 0;
    }
    this.next.set(size, n + size);
    return n;
  }

  release(size: number, addr: number): void {
    let list = this.free.get(size);
    if (!list) {
      list = [];
      this.free.set(size, list);
    }
    list.push(addr);
  }

  /** One Lock object per address, so its hashed renderings are computed once. */
  mutexAt(raw: number, name: string): Lock {
    // Sessions (+0xa8) and luo_files (+0x28) never share an address, so the address is the key.
    const key = raw;
    let l = this.locks.get(key);
    if (!l) {
      const addr = heapAddr(raw);
      l = new Lock(name, addr, addHex(addr, DEP_MAP_OFF), 'mutex', addr);
      this.locks.set(key, l);
    }
    return l;
  }
}

export function heapAddr(low: number): string {
  return `0xff110000${(low >>> 0).toString(16).padStart(8, '0')}`;
}

export interface FaultState {
  /** Remaining per-file module_puts to "forget" (kernel bug being simulated). */
  leak: number;
  /** Remaining per-file try_module_gets to skip while the later put still happens. */
  putWithoutGet: number;
}

export interface ModelNote {
  fault: string;
  what: string;
}

/** Timing medians (ns) at TCG speed; `speed` scales them. */
export const D = {
  tight: 18_000,
  short: 150_000,
  step: 600_000,
  long: 4_000_000,
  gap: 15_000_000,
};

export class World {
  readonly rng: Rng;
  readonly sched: Scheduler;
  readonly locks: LuoLocks;
  readonly heap: Heap;
  readonly modules: Module[] = [];
  readonly memfd: Handler;
  readonly testFlbs: Flb[] = [];
  readonly outgoing = new Set<Session>();
  readonly incoming = new Set<Session>();
  readonly notes: ModelNote[] = [];
  readonly bg = new Map<string, Lock>();
  /** Printed records come back here (core.ts) and are reused: far less garbage per event. */
  readonly recPool: Rec[] = [];
  private nextPid: number;
  private nextTask = 0;
  /** Set by the output pass: true once the requested size is reached. */
  stopRequested: () => boolean = () => false;

  constructor(
    seed: number,
    readonly version: KernelVersion,
    readonly testFlbsOn: boolean,
    readonly speed: number,
    readonly noise: number,
    readonly cpus: number,
    readonly faults: FaultState,
  ) {
    this.rng = new Rng(seed, 1);
    this.sched = new Scheduler(new Rng(seed, 2));
    this.sched.handoff = 60_000 * speed;
    this.locks = staticLuoLocks();
    this.heap = new Heap(new Rng(seed, 3));
    this.nextPid = 300 + this.rng.int(60);
    this.memfd = new Handler('memfd-v2', null);
    if (testFlbsOn) {
      for (let i = 0; i < 3; i++) {
        const [o, n] = TEST_FLB_LOCKS[i];
        const locks = flbLocks(o, n, 'test_flbs');
        const flb = new Flb(`liveupdate-test-flb-v${i}`, null, locks.out, locks.inc);
        flb.initialized = true;
        this.testFlbs.push(flb);
        // liveupdate_test_register() linked them to memfd at boot (O5).
        this.memfd.flbs.push(flb);
      }
    }
    this.memfd.registered = true;
  }

  addModule(): Module {
    const k = this.modules.length;
    const suffix = k === 0 ? '' : String(k + 1);
    const off = k * 0x9000;
    const m = new Module(
      `luo_demo${suffix}`,
      k,
      kaddr(0xa04022c0 + off),
      `luo-demo${suffix}-v1`,
      `luo-demo${suffix}-flb-v1`,
      kaddr(0xa04020e0 + off),
      kaddr(0xa0402198 + off),
      'bpf_prog_2f2a7a4d9e791f22',
    );
    this.modules.push(m);
    return m;
  }

  pid(gap = 1 + this.rng.int(3)): number {
    const p = this.nextPid;
    this.nextPid += gap;
    return p;
  }

  newTask(comm: string, pid = this.pid(), tgid = pid): Task {
    const t = new Task(this.nextTask++, comm, pid, tgid);
    t.cpu = this.rng.int(this.cpus);
    t.nr = 0;
    return t;
  }

  newSession(name: string, incoming: boolean): Session {
    const base = this.heap.alloc(0x200);
    const s = new Session(name, base, heapAddr(base + 0x58), this.heap.mutexAt(base + 0xa8, '&session->mutex'), incoming);
    return s;
  }

  freeSession(s: Session): void {
    this.heap.release(0x200, s.base);
  }

  /** Allocate the struct luo_file (kmalloc-256) with its mutex at +0x28. */
  allocFile(f: LuoFile): void {
    f.addr = this.heap.alloc(0x100);
    f.mutex = this.heap.mutexAt(f.addr + 0x28, '&luo_file->mutex');
  }

  freeFile(f: LuoFile): void {
    if (f.addr) this.heap.release(0x100, f.addr);
  }

  /** A background (non-LUO) mutex for noise pairs; lockdep names are filtered out, so only begin/end print. */
  bgLock(name: string, low: number): Lock {
    let l = this.bg.get(name);
    if (!l) {
      l = new Lock(name, kaddr(low), kaddr(low + DEP_MAP_OFF), 'mutex', name);
      this.bg.set(name, l);
    }
    return l;
  }

  bgFor(comm: string): Lock {
    const list = BACKGROUND_MUTEXES[comm] ?? BACKGROUND_MUTEXES.luo_ctl;
    const [name, low] = this.rng.pick(list);
    return this.bgLock(name, low);
  }

  khoOut(): Lock {
    return this.bgLock(KHO_OUT[0], KHO_OUT[1]);
  }
}

/** Builds the records of one task; every builder advances the task clock first. */
export class Proc {
  constructor(
    readonly w: World,
    readonly task: Task,
  ) {}

  get t(): number {
    return this.task.t;
  }

  sleep(median: number, spread = 0.6): void {
    this.task.t += this.w.rng.delay(median * this.w.speed, spread);
  }

  /** Occasionally move the task to another CPU (the scheduler balancing under TCG). */
  maybeMigrate(p: number): void {
    if (this.w.cpus > 1 && this.w.rng.float() < p) this.task.cpu = this.w.rng.int(this.w.cpus);
  }

  private mk(kind: number, base: number, median: number): Rec {
    const pool = this.w.recPool;
    const r = pool.length > 0 ? (pool.pop() as Rec) : new Rec();
    const task = this.task;
    task.t += this.w.rng.delay(median * this.w.speed);
    task.queue.push(r);
    r.kind = kind;
    r.t = task.t;
    r.cpu = task.cpu;
    r.task = task;
    r.fl = nextFlags(task, base, this.w.rng);
    r.a = null;
    r.b = null;
    r.n = 0;
    r.lock = null;
    r.mod = null;
    r.lop = LOP_NONE;
    return r;
  }

  kp(fn: Fn, args = '', median = D.step): Rec {
    const r = this.mk(K_KPROBE, B_PREEMPT, median);
    r.a = fn;
    r.b = args;
    return r;
  }

  /** Return probe; `ret` is ignored (not printed) for void functions. */
  kr(fn: Fn, ret: number, median = D.step): Rec {
    const r = this.mk(K_KRETPROBE, B_NONE, median);
    r.a = fn;
    r.n = ret;
    return r;
  }

  rw(op: RwOp, lock: Lock, caller: string, lop: number, median = D.step): Rec {
    const r = this.mk(K_RWPROBE, B_NONE, median);
    r.a = op;
    r.b = caller;
    r.lock = lock;
    r.lop = lop;
    return r;
  }

  modProbe(op: 'try_module_get' | 'module_put', mod: Module, caller: string, median = D.step): Rec {
    const r = this.mk(K_MODPROBE, B_NONE, median);
    r.a = op;
    r.b = caller;
    r.mod = mod;
    return r;
  }

  modRef(ev: 'module_get' | 'module_put', mod: Module, site: string, delta: number, median = D.tight * 2): Rec {
    const r = this.mk(K_MODREF, B_NONE, median);
    r.a = ev;
    r.b = site;
    r.n = delta;
    r.mod = mod;
    return r;
  }

  modLoad(mod: Module, taints: string, median = D.step): Rec {
    const r = this.mk(K_MODLOAD, B_NONE, median);
    r.mod = mod;
    r.b = taints;
    return r;
  }

  modFree(mod: Module, median = D.long): Rec {
    const r = this.mk(K_MODFREE, B_NONE, median);
    r.mod = mod;
    return r;
  }

  /** lockdep lock_acquire; `bits`: 1 try, 2 read (the tracepoint's flags). */
  lockAcquire(lock: Lock, bits: number, base: number, lop = LOP_NONE, median = D.tight): Rec {
    const r = this.mk(K_LOCK_ACQUIRE, base, median);
    r.lock = lock;
    r.n = bits;
    r.lop = lop;
    return r;
  }

  lockRelease(lock: Lock, base: number, lop = LOP_NONE, median = D.tight): Rec {
    const r = this.mk(K_LOCK_RELEASE, base, median);
    r.lock = lock;
    r.lop = lop;
    return r;
  }

  /** contention_begin; with `lop` LOP_COND_* it is also a last try of the lock (see sim.ts). */
  contBegin(lock: Lock, flags: number, base: number, median = D.tight, lop = LOP_NONE): Rec {
    const r = this.mk(K_CONT_BEGIN, base, median);
    r.lock = lock;
    r.n = flags;
    r.lop = lop;
    return r;
  }

  contEnd(lock: Lock, base: number, median = D.short): Rec {
    const r = this.mk(K_CONT_END, base, median);
    r.lock = lock;
    r.n = 0;
    return r;
  }

  sysEnter(sys: SysDef, args: unknown[], median = D.step): Rec {
    const r = this.mk(K_SYS_ENTER, B_NONE, median);
    r.a = sys;
    r.b = args;
    return r;
  }

  sysExit(sys: SysDef, ret: number, median = D.step): Rec {
    const r = this.mk(K_SYS_EXIT, B_NONE, median);
    r.a = sys;
    r.n = ret;
    return r;
  }

  printk(text: string, median = D.short): Rec {
    const r = this.mk(K_PRINTK, B_NONE, median);
    r.b = text;
    return r;
  }

  /** A lock decision or wait that prints nothing. */
  internal(lock: Lock, lop: number, median = D.tight): Rec {
    const r = this.mk(K_INTERNAL, B_NONE, median);
    r.lock = lock;
    r.lop = lop;
    return r;
  }

  /**
   * Yield this (`yield p.sync()`) before reading or changing shared state: the body resumes when
   * every record built so far has been printed, i.e. at the right point of global time.
   */
  sync(median = 1000): Rec {
    const r = this.mk(K_INTERNAL, B_NONE, median);
    r.lock = null;
    r.lop = LOP_NONE;
    return r;
  }
}

export type Body = Generator<Rec, void, number>;
export type Op<R = void> = Generator<Rec, R, number>;
