// LUO operations as record sequences, in the order the real 7.2.13 captures print them
// (samples/real/*/stage*/ftrace-main.txt.gz; real README §3) and, for pre-series kernels, the order
// docs/luo-model.md §3 PRE and §7 describe (quiesce = both session rwsems for write; module refs taken at
// registration, none per file).
//
// Lock primitives reproduce what a LOCKDEP + LOCK_STAT kernel prints:
// - mutex_lock: lock_acquire (lockdep), then contention_begin (flags=SPIN|MUTEX) and
//   contention_end even when uncontended (the debug slow path, O7); when the optimistic spin fails:
//   a second contention_begin (flags=MUTEX) in `d..3.` and one contention_end after the sleep.
// - down_read/down_write: the luorw kprobe, lockdep lock_acquire, and only on the slow path
//   wait_lock acquire/release around contention_begin (flags=READ|WRITE); the releasing holder takes
//   the wait_lock to wake waiters (contention-no-writer capture).
//
// Record builders queue their record on the task (world.ts Proc); a body only `yield`s where it
// needs the scheduler: a lock attempt or wait (the answer comes back as the yield's value), or a
// `p.sync()` before touching shared state so that happens at the right point of global time.
import { E, F, IOCTL, type Lock, MISC_MTX, SYS } from './kernel.js';
import {
  B_IRQOFF2,
  B_IRQOFF3,
  B_NONE,
  B_PREEMPT,
  LOP_COND_READ,
  LOP_COND_WRITE,
  LOP_RELEASE,
  LOP_TRY_READ,
  LOP_TRY_WRITE,
  LOP_WAIT_READ,
  LOP_WAIT_WRITE,
} from './sim.js';
import { D, type Flb, type Handler, LuoFile, type Module, type Op, type Proc, type Session } from './world.js';

const SPIN = 1;
const READ = 2;
const WRITE = 4;
const MUTEX = 32;

// ---------------------------------------------------------------------------------------------
// Lock primitives

export function* mutexLock(p: Proc, lock: Lock, lockdep = true): Op {
  const ok = yield lockdep ? p.lockAcquire(lock, 0, B_PREEMPT, LOP_TRY_WRITE) : p.internal(lock, LOP_TRY_WRITE);
  p.contBegin(lock, SPIN | MUTEX, B_PREEMPT);
  if (!ok) {
    // Optimistic spin; if the owner still holds it after a while, go to sleep: the MUTEX begin
    // prints only in that case (LOP_COND_WRITE tries the lock once more when it is due).
    const spun = yield p.contBegin(lock, MUTEX, B_IRQOFF3, D.short * 2, LOP_COND_WRITE);
    if (!spun) {
      yield p.internal(lock, LOP_WAIT_WRITE, D.tight);
      p.maybeMigrate(0.3);
      p.contEnd(lock, B_IRQOFF2, D.tight);
      return;
    }
  }
  p.contEnd(lock, B_PREEMPT);
}

/** The release is applied when its record is printed (no answer needed: mutex waiters print nothing). */
export function mutexUnlock(p: Proc, lock: Lock, lockdep = true, median = D.step): void {
  if (lockdep) p.lockRelease(lock, B_NONE, LOP_RELEASE, median);
  else p.internal(lock, LOP_RELEASE, median);
}

export function* downRead(p: Proc, lock: Lock, caller: string, median = D.step): Op {
  const ok = yield p.rw('down_read', lock, caller, LOP_TRY_READ, median);
  p.lockAcquire(lock, 2, B_NONE);
  if (!ok) yield* rwsemSlowPath(p, lock, READ);
}

export function* downWrite(p: Proc, lock: Lock, caller: string, median = D.step): Op {
  const ok = yield p.rw('down_write', lock, caller, LOP_TRY_WRITE, median);
  p.lockAcquire(lock, 0, B_NONE);
  if (!ok) yield* rwsemSlowPath(p, lock, WRITE);
}

function* rwsemSlowPath(p: Proc, lock: Lock, flag: number): Op {
  const wl = lock.waitLock as Lock;
  p.lockAcquire(wl, 0, B_IRQOFF2);
  // Under wait_lock the slow path looks once more: if the holder has gone it takes the lock
  // without a contention_begin (the record is then not printed).
  const got = yield p.contBegin(lock, flag, B_IRQOFF2, D.tight, flag === WRITE ? LOP_COND_WRITE : LOP_COND_READ);
  p.lockRelease(wl, B_IRQOFF2);
  if (got) return;
  yield p.internal(lock, flag === WRITE ? LOP_WAIT_WRITE : LOP_WAIT_READ, D.tight);
  p.maybeMigrate(0.3);
  p.lockAcquire(wl, 0, B_IRQOFF2);
  p.lockRelease(wl, B_IRQOFF2);
  p.contEnd(lock, B_PREEMPT, D.tight);
}

export function* upRead(p: Proc, lock: Lock, caller: string, median = D.step): Op {
  p.rw('up_read', lock, caller, 0, median);
  const woke = yield p.lockRelease(lock, B_NONE, LOP_RELEASE);
  if (woke) wakeWaiters(p, lock);
}

export function* upWrite(p: Proc, lock: Lock, caller: string, median = D.step): Op {
  p.rw('up_write', lock, caller, 0, median);
  const woke = yield p.lockRelease(lock, B_NONE, LOP_RELEASE);
  if (woke) wakeWaiters(p, lock);
}

function wakeWaiters(p: Proc, lock: Lock): void {
  const wl = lock.waitLock as Lock;
  p.lockAcquire(wl, 0, B_IRQOFF2);
  p.lockRelease(wl, B_IRQOFF2);
}

/** A spinlock with lockdep on: acquire/release in preempt-disabled context, never contended here. */
function spinLockPair(p: Proc, lock: Lock): void {
  p.lockAcquire(lock, 0, B_PREEMPT);
  p.lockRelease(lock, B_PREEMPT);
}

/** Uncontended mutex of some other subsystem: only the debug slow-path begin/end pair prints. */
export function bgMutex(p: Proc, lock: Lock): void {
  p.contBegin(lock, SPIN | MUTEX, B_PREEMPT, D.short);
  p.contEnd(lock, B_PREEMPT, D.short);
}

/** `n` noise pairs (scaled by the world's noise level) on the task's usual background mutexes. */
export function noise(p: Proc, n: number): void {
  let k = n * p.w.noise;
  // Fractional expectations become a coin flip so `--noise 0.5` halves the pairs on average.
  while (k > 0) {
    if (k >= 1 || p.w.rng.float() < k) {
      p.sleep(D.step * 4, 1.2);
      bgMutex(p, p.w.bgFor(p.task.comm));
    }
    k -= 1;
  }
}

// ---------------------------------------------------------------------------------------------
// Module references (refcnt values are applied when the records are printed, sim.ts)

export function moduleGet(p: Proc, mod: Module, site: string): void {
  p.modProbe('try_module_get', mod, site);
  p.modRef('module_get', mod, site, +1);
}

export function modulePut(p: Proc, mod: Module, site: string): void {
  p.modProbe('module_put', mod, site);
  p.modRef('module_put', mod, site, -1);
}

const q = (s: string) => `"${s}"`;

// ---------------------------------------------------------------------------------------------
// Registration (module init / exit)

/** PRE: luo_session_quiesce takes incoming then outgoing for write; fails if any session exists. */
function* quiesce(p: Proc): Op<boolean> {
  const L = p.w.locks;
  p.kp(F.luo_session_quiesce);
  yield* downWrite(p, L.incoming, 'luo_session_quiesce');
  yield* downWrite(p, L.outgoing, 'luo_session_quiesce');
  yield p.sync();
  if (p.w.outgoing.size > 0 || p.w.incoming.size > 0) {
    yield* upWrite(p, L.outgoing, 'luo_session_quiesce');
    yield* upWrite(p, L.incoming, 'luo_session_quiesce');
    p.kr(F.luo_session_quiesce, 0);
    return false;
  }
  p.kr(F.luo_session_quiesce, 1);
  return true;
}

function* resume(p: Proc): Op {
  const L = p.w.locks;
  p.kp(F.luo_session_resume);
  yield* upWrite(p, L.outgoing, 'luo_session_resume');
  yield* upWrite(p, L.incoming, 'luo_session_resume');
  p.kr(F.luo_session_resume, 0);
}

export function* registerFileHandler(p: Proc, h: Handler): Op {
  const w = p.w;
  p.kp(F.liveupdate_register_file_handler, `handler=${q(h.compat)}`);
  if (w.version === 'post') {
    yield* downWrite(p, w.locks.register, 'liveupdate_register_file_handler');
    h.registered = true;
    yield* upWrite(p, w.locks.register, 'liveupdate_register_file_handler');
  } else {
    const ok = yield* quiesce(p);
    if (!ok) {
      p.kr(F.liveupdate_register_file_handler, E.EBUSY);
      return;
    }
    h.registered = true;
    if (h.owner) moduleGet(p, h.owner, 'liveupdate_register_file_handler');
    yield* resume(p);
  }
  noise(p, 1);
  // CONFIG_LIVEUPDATE_TEST links its three FLBs to every new handler, plus one deliberate duplicate (O5).
  if (w.testFlbs.length > 0) {
    for (const flb of w.testFlbs) yield* registerFlb(p, h, flb);
    yield* registerFlb(p, h, w.testFlbs[0]);
  }
  p.kr(F.liveupdate_register_file_handler, 0, D.long);
}

export function* registerFlb(p: Proc, h: Handler, flb: Flb): Op {
  const w = p.w;
  p.kp(F.liveupdate_register_flb, `handler=${q(h.compat)} flb=${q(flb.compat)}`, D.step);
  const dup = h.flbs.includes(flb);
  if (w.version === 'post') {
    if (!flb.initialized) {
      // luo_flb_get_private(): lazy init under luo_flb_init_lock (POST, docs/luo-model.md §2 luo_flb.c).
      spinLockPair(p, w.locks.flbInit);
      flb.initialized = true;
    }
    yield* downWrite(p, w.locks.register, 'liveupdate_register_flb');
    if (!dup) h.flbs.push(flb);
    yield* upWrite(p, w.locks.register, 'liveupdate_register_flb');
  } else {
    const ok = yield* quiesce(p);
    if (!ok) {
      p.kr(F.liveupdate_register_flb, E.EBUSY);
      return;
    }
    if (!dup) {
      h.flbs.push(flb);
      if (flb.regUsers++ === 0 && flb.owner) moduleGet(p, flb.owner, 'liveupdate_register_flb');
    }
    yield* resume(p);
  }
  p.kr(F.liveupdate_register_flb, dup ? E.EEXIST : 0, D.long);
}

export function* unregisterFlb(p: Proc, h: Handler, flb: Flb): Op {
  const w = p.w;
  p.kp(F.liveupdate_unregister_flb, `handler=${q(h.compat)} flb=${q(flb.compat)}`);
  if (w.version === 'post') {
    yield* downWrite(p, w.locks.register, 'liveupdate_unregister_flb');
    h.flbs.splice(h.flbs.indexOf(flb), 1);
    yield* upWrite(p, w.locks.register, 'liveupdate_unregister_flb');
    p.kr(F.liveupdate_unregister_flb, 0);
    return;
  }
  const ok = yield* quiesce(p);
  if (!ok) {
    p.kr(F.liveupdate_unregister_flb, E.EBUSY);
    w.notes.push({ fault: 'unregister-error', what: `liveupdate_unregister_flb(${flb.compat}) returned -EBUSY: sessions exist` });
    return;
  }
  h.flbs.splice(h.flbs.indexOf(flb), 1);
  if (--flb.regUsers === 0 && flb.owner) modulePut(p, flb.owner, 'liveupdate_unregister_flb');
  yield* resume(p);
  p.kr(F.liveupdate_unregister_flb, 0);
}

export function* unregisterFileHandler(p: Proc, h: Handler): Op {
  const w = p.w;
  p.kp(F.liveupdate_unregister_file_handler, `handler=${q(h.compat)}`);
  if (w.version === 'post') {
    yield* downWrite(p, w.locks.register, 'liveupdate_unregister_file_handler');
    p.kp(F.luo_flb_unregister_all, `handler=${q(h.compat)}`);
    h.flbs.length = 0;
    p.kr(F.luo_flb_unregister_all, 0);
    h.registered = false;
    yield* upWrite(p, w.locks.register, 'liveupdate_unregister_file_handler');
    p.kr(F.liveupdate_unregister_file_handler, 0);
    return;
  }
  const ok = yield* quiesce(p);
  if (!ok) {
    p.kr(F.liveupdate_unregister_file_handler, E.EBUSY);
    w.notes.push({ fault: 'unregister-error', what: `liveupdate_unregister_file_handler(${h.compat}) returned -EBUSY: sessions exist` });
    return;
  }
  h.registered = false;
  if (h.owner) modulePut(p, h.owner, 'liveupdate_unregister_file_handler');
  yield* resume(p);
  p.kr(F.liveupdate_unregister_file_handler, 0);
}

/** `insmod luo_demo.ko [params]`: finit_module, load, register handler + own FLB, drop the init ref. */
export function* insmod(p: Proc, mod: Module, params = ''): Op {
  p.sysEnter(SYS.finit_module, [3, ['0x55b998e152a0', params], 0], D.step);
  noise(p, 50);
  p.modLoad(mod, 'O', D.long);
  yield p.sync();
  // MODULE_REF_BASE + the reference held during initialisation (real README O11).
  mod.refcnt = 2;
  mod.loaded = true;
  noise(p, 4);
  yield* registerFileHandler(p, mod.handler);
  yield* registerFlb(p, mod.handler, mod.flb);
  noise(p, 8);
  modulePut(p, mod, 'do_init_module');
  p.sysExit(SYS.finit_module, 0, D.long);
  noise(p, 3);
}

/**
 * `rmmod [-f] mod`. Refused with -EWOULDBLOCK while refs are held (unless forced, flags O_TRUNC);
 * otherwise module_exit unregisters the FLB and the handler, then module_free.
 */
export function* rmmod(p: Proc, mod: Module, forced: boolean): Op<boolean> {
  const flags = forced ? 0xa80 : 0x880;
  p.sysEnter(SYS.delete_module, [['0x7ffcae7aa0a8', mod.name], flags], D.step);
  noise(p, 4);
  noise(p, 3);
  yield p.sync();
  // try_release_module_ref(): only a count of exactly MODULE_REF_BASE can be dropped (else -EWOULDBLOCK).
  if (mod.refcnt !== 1 && !forced) {
    noise(p, 2);
    p.sysExit(SYS.delete_module, E.EAGAIN, D.long);
    return false;
  }
  // try_release_module_ref() drops MODULE_REF_BASE (not traced).
  mod.refcnt -= 1;
  if (forced && mod.refcnt > 0) {
    p.w.notes.push({ fault: 'forced-unload', what: `${mod.name} force-unloaded with ${mod.refcnt} references outstanding` });
  }
  yield* unregisterFlb(p, mod.handler, mod.flb);
  yield* unregisterFileHandler(p, mod.handler);
  noise(p, 6);
  mod.loaded = false;
  p.modFree(mod, D.long * 10);
  p.sysExit(SYS.delete_module, 0, D.long * 20);
  return true;
}

export function kexecLoad(p: Proc): void {
  p.sysEnter(SYS.kexec_file_load, [3, 0xffffffff, 0x91, '0x55fb53fb92a0', ['4', '']], D.step);
  noise(p, 12);
  p.sysExit(SYS.kexec_file_load, 0, D.long * 50);
  noise(p, 1);
}

// ---------------------------------------------------------------------------------------------
// /dev/liveupdate and sessions (luo_ctl)

export interface Ctl {
  /** ioctl argument pointers of this process (stack addresses, constant per process). */
  argBase: number;
  ptrs: Map<number, string>;
}

export function newCtl(p: Proc): Ctl {
  return { argBase: 0x1f35c000 + p.w.rng.int(0x400) * 0x1000, ptrs: new Map() };
}

function ptr(ctl: Ctl, off: number): string {
  let s = ctl.ptrs.get(off);
  if (s === undefined) {
    s = `0x7ffe${(ctl.argBase + off).toString(16).padStart(8, '0')}`;
    ctl.ptrs.set(off, s);
  }
  return s;
}

/** open("/dev/liveupdate"): luo_session_deserialize (a no-op unless incoming sessions exist). */
export function* openLuo(p: Proc, incoming: Session[]): Op {
  noise(p, 2);
  p.kp(F.luo_session_deserialize, '', D.gap);
  for (const s of incoming) yield* deserializeSession(p, s);
  p.kr(F.luo_session_deserialize, 0, D.step);
}

function* deserializeSession(p: Proc, s: Session): Op {
  const w = p.w;
  yield* downWrite(p, w.locks.incoming, 'luo_session_insert');
  w.incoming.add(s);
  yield* upWrite(p, w.locks.incoming, 'luo_session_insert');
  yield* mutexLock(p, s.mutex);
  p.kp(F.luo_file_deserialize, `file_set=${s.fileSet}`);
  for (const f of s.files) {
    w.allocFile(f);
    if (w.version === 'post') {
      yield* downRead(p, w.locks.register, 'luo_file_deserialize');
      const owner = f.handler?.owner;
      if (owner) {
        if (w.faults.putWithoutGet > 0) {
          w.faults.putWithoutGet--;
          w.notes.push({ fault: 'put-without-get', what: `no try_module_get for ${owner.name} token 0x${f.token.toString(16)} in ${s.name} (luo_file_deserialize)` });
        } else moduleGet(p, owner, 'luo_file_deserialize');
      }
      yield* upRead(p, w.locks.register, 'luo_file_deserialize');
    }
    for (const flb of f.handler?.flbs ?? []) flb.inUsers++;
  }
  p.kr(F.luo_file_deserialize, 0);
  mutexUnlock(p, s.mutex);
}

export function* createSession(p: Proc, ctl: Ctl, s: Session): Op<boolean> {
  const w = p.w;
  noise(p, 1);
  p.sysEnter(SYS.ioctl, [3, IOCTL.CREATE_SESSION, ptr(ctl, 0x10)], D.gap);
  p.kp(F.luo_session_create, `name=${q(s.name)}`);
  if (w.version === 'post') yield* downRead(p, w.locks.serialize, 'luo_session_create');
  yield* downWrite(p, w.locks.outgoing, 'luo_session_insert');
  w.outgoing.add(s);
  yield* upWrite(p, w.locks.outgoing, 'luo_session_insert');
  yield* mutexLock(p, s.mutex);
  mutexUnlock(p, s.mutex);
  if (w.version === 'post') yield* upRead(p, w.locks.serialize, 'luo_session_create');
  p.kr(F.luo_session_create, 0);
  p.sysExit(SYS.ioctl, 0);
  return true;
}

/** open("/dev/luo_demo"): misc_open takes the fops owner's module ref (real README §1 demo module). */
export function openDemo(p: Proc, ctl: Ctl, mod: Module, fd: number, setId: boolean): void {
  bgMutex(p, p.w.bgLock(MISC_MTX[0], MISC_MTX[1]));
  moduleGet(p, mod, 'misc_open');
  if (setId) {
    p.sysEnter(SYS.ioctl, [fd, IOCTL.DEMO_SET_ID, ptr(ctl, 0x58)]);
    p.sysExit(SYS.ioctl, 0, D.tight * 5);
  }
}

/** PRESERVE_FD ioctl → luo_preserve_file. Returns the errno (0 on success). */
export function* preserve(p: Proc, ctl: Ctl, s: Session, f: LuoFile, fd: number): Op<number> {
  const w = p.w;
  const L = w.locks;
  const post = w.version === 'post';
  noise(p, 0.5);
  p.sysEnter(SYS.ioctl, [s.fd, IOCTL.PRESERVE_FD, ptr(ctl, 0x30)], D.step);
  if (post) yield* downRead(p, L.serialize, 'luo_session_ioctl');
  yield* mutexLock(p, s.mutex);
  p.kp(F.luo_preserve_file, `file_set=${s.fileSet} token=0x${f.token.toString(16)} fd=${fd}`);
  bgMutex(p, w.khoOut());
  let ret = 0;
  const h = f.handler;
  const owner = h?.owner ?? null;
  let gotRef = false;
  if (post) {
    yield* downRead(p, L.register, 'luo_preserve_file');
    if (h && owner) {
      if (w.faults.putWithoutGet > 0) {
        w.faults.putWithoutGet--;
        w.notes.push({ fault: 'put-without-get', what: `no try_module_get for ${owner.name} token 0x${f.token.toString(16)} in ${s.name} (luo_preserve_file)` });
      } else {
        moduleGet(p, owner, 'luo_preserve_file');
      }
      gotRef = true;
    }
    yield* upRead(p, L.register, 'luo_preserve_file');
  }
  if (!h) {
    ret = E.ENOENT;
  } else {
    if (post) spinLockPair(p, L.xa);
    yield* flbFilePreserve(p, h);
    if (f.failPreserve) {
      ret = E.EIO;
      yield* flbFileUnpreserve(p, h);
      if (post) spinLockPair(p, L.xa);
      if (gotRef && owner) modulePut(p, owner, 'luo_preserve_file');
    } else {
      yield p.sync();
      w.allocFile(f);
      s.files.push(f);
    }
  }
  p.kr(F.luo_preserve_file, ret, D.long);
  mutexUnlock(p, s.mutex, true, D.step);
  if (post) yield* upRead(p, L.serialize, 'luo_session_ioctl');
  p.sysExit(SYS.ioctl, ret);
  return ret;
}

function* flbFilePreserve(p: Proc, h: Handler): Op {
  const w = p.w;
  p.kp(F.luo_flb_file_preserve, `handler=${q(h.compat)}`);
  if (w.version === 'post') yield* downRead(p, w.locks.register, 'luo_flb_file_preserve');
  for (const flb of h.flbs) {
    yield* mutexLock(p, flb.out);
    // luo_flb_file_preserve_one (inlined): the first dependent file pins the FLB owner (POST).
    if (flb.outUsers++ === 0 && flb.owner && w.version === 'post') moduleGet(p, flb.owner, 'luo_flb_file_preserve');
    mutexUnlock(p, flb.out);
  }
  if (w.version === 'post') yield* upRead(p, w.locks.register, 'luo_flb_file_preserve');
  p.kr(F.luo_flb_file_preserve, 0);
}

function* flbFileUnpreserve(p: Proc, h: Handler): Op {
  const w = p.w;
  const post = w.version === 'post';
  p.kp(F.luo_flb_file_unpreserve, `handler=${q(h.compat)}`);
  if (post) yield* downRead(p, w.locks.register, 'luo_flb_file_unpreserve');
  for (let i = h.flbs.length - 1; i >= 0; i--) {
    const flb = h.flbs[i];
    // LATER: liveupdate_flb_put_outgoing per FLB; PRE: the inlined luo_flb_file_unpreserve_one.
    if (post) p.kp(F.liveupdate_flb_put_outgoing, `flb=${q(flb.compat)}`);
    yield* mutexLock(p, flb.out);
    if (--flb.outUsers === 0 && flb.owner && post) modulePut(p, flb.owner, 'liveupdate_flb_put_outgoing');
    mutexUnlock(p, flb.out);
    if (post) p.kr(F.liveupdate_flb_put_outgoing, 0, D.tight);
  }
  if (post) yield* upRead(p, w.locks.register, 'luo_flb_file_unpreserve');
  p.kr(F.luo_flb_file_unpreserve, 0);
}

function leakOrPut(p: Proc, owner: Module, site: string, s: Session, f: LuoFile): boolean {
  const w = p.w;
  if (w.faults.leak > 0) {
    w.faults.leak--;
    w.notes.push({ fault: 'leak', what: `${owner.name} ref of token 0x${f.token.toString(16)} in ${s.name} never put (${site})` });
    return false;
  }
  return true;
}

/** close(session fd) of an outgoing session: luo_session_release → luo_file_unpreserve_files (abort). */
export function* closeOutgoing(p: Proc, s: Session): Op {
  const w = p.w;
  const L = w.locks;
  const post = w.version === 'post';
  if (post) yield* downRead(p, L.serialize, 'luo_session_release', D.gap);
  yield* mutexLock(p, s.mutex);
  if (s.files.length > 0) {
    p.kp(F.luo_file_unpreserve_files, `file_set=${s.fileSet}`);
    for (let i = s.files.length - 1; i >= 0; i--) {
      const f = s.files[i];
      const h = f.handler as Handler;
      yield* flbFileUnpreserve(p, h);
      if (post) spinLockPair(p, L.xa);
      if (post && h.owner && leakOrPut(p, h.owner, 'luo_file_unpreserve_files', s, f)) modulePut(p, h.owner, 'luo_file_unpreserve_files');
    }
    p.kr(F.luo_file_unpreserve_files, 0, D.long);
  }
  mutexUnlock(p, s.mutex);
  yield* downWrite(p, L.outgoing, 'luo_session_remove');
  w.outgoing.delete(s);
  yield* upWrite(p, L.outgoing, 'luo_session_remove');
  if (post) yield* upRead(p, L.serialize, 'luo_session_release');
  // LUO held the last file references: the files go now, and with them the VFS module refs.
  for (const f of s.files) {
    if (f.vfsRef && f.handler?.owner) modulePut(p, f.handler.owner, '__fput');
    f.vfsRef = false;
  }
  yield p.sync();
  for (const f of s.files) w.freeFile(f);
  s.files = [];
  w.freeSession(s);
}

// ---------------------------------------------------------------------------------------------
// New kernel: retrieve and finish

export function* retrieveSession(p: Proc, ctl: Ctl, s: Session): Op {
  const w = p.w;
  const L = w.locks;
  p.sysEnter(SYS.ioctl, [3, IOCTL.RETRIEVE_SESSION, ptr(ctl, 0x970)], D.gap);
  p.kp(F.luo_session_retrieve, `name=${q(s.name)}`);
  p.maybeMigrate(0.2);
  if (w.version === 'post') yield* downRead(p, L.serialize, 'luo_session_retrieve');
  yield* downRead(p, L.incoming, 'luo_session_retrieve');
  yield* mutexLock(p, s.mutex);
  s.retrieved = true;
  mutexUnlock(p, s.mutex);
  yield* upRead(p, L.incoming, 'luo_session_retrieve');
  if (w.version === 'post') yield* upRead(p, L.serialize, 'luo_session_retrieve');
  p.kr(F.luo_session_retrieve, 0);
  p.sysExit(SYS.ioctl, 0);
}

export function* retrieveFd(p: Proc, ctl: Ctl, s: Session, f: LuoFile, newFd: number): Op {
  const w = p.w;
  const L = w.locks;
  const post = w.version === 'post';
  noise(p, 1);
  p.sysEnter(SYS.ioctl, [s.fd, IOCTL.RETRIEVE_FD, ptr(ctl, 0x950)], D.gap);
  if (post) yield* downRead(p, L.serialize, 'luo_session_ioctl');
  yield* mutexLock(p, s.mutex);
  p.kp(F.luo_retrieve_file, `file_set=${s.fileSet} token=0x${f.token.toString(16)}`);
  yield* mutexLock(p, f.mutex as Lock);
  const owner = f.handler?.owner ?? null;
  if (owner) {
    // The demo driver's retrieve() touches its FLB once per boot: get (luo_flb_retrieve_one takes the
    // FLB owner's ref, POST) and put straight back (real §3.1 stage 2).
    const flb = owner.flb;
    if (!flb.inRetrieved && f.handler?.flbs.includes(flb)) {
      flb.inRetrieved = true;
      p.kp(F.liveupdate_flb_get_incoming, `flb=${q(flb.compat)}`);
      yield* mutexLock(p, flb.inc);
      if (post) {
        moduleGet(p, owner, 'luo_flb_retrieve_one');
        flb.inRef = true;
      }
      mutexUnlock(p, flb.inc, true, D.long);
      p.kr(F.liveupdate_flb_get_incoming, 0, D.tight);
      if (post) {
        p.kp(F.liveupdate_flb_put_incoming, `flb=${q(flb.compat)}`);
        yield* mutexLock(p, flb.inc);
        mutexUnlock(p, flb.inc);
        p.kr(F.liveupdate_flb_put_incoming, 0, D.tight);
      }
    }
    moduleGet(p, owner, '__anon_inode_getfile');
    f.vfsRef = true;
  }
  if (post) spinLockPair(p, L.xa);
  mutexUnlock(p, f.mutex as Lock);
  p.kr(F.luo_retrieve_file, 0, D.tight);
  mutexUnlock(p, s.mutex);
  if (post) yield* upRead(p, L.serialize, 'luo_session_ioctl');
  p.sysExit(SYS.ioctl, 0);
  f.fd = newFd;
  s.userFiles.push(f);
  if (owner) {
    p.sysEnter(SYS.ioctl, [newFd, IOCTL.DEMO_GET_ID, ptr(ctl, 0x948)]);
    p.sysExit(SYS.ioctl, 0, D.tight * 5);
  }
}

/** luo_file_finish for one session: can_finish pass, then finish in reverse list order. */
function* fileFinish(p: Proc, s: Session): Op {
  const w = p.w;
  const L = w.locks;
  const post = w.version === 'post';
  p.kp(F.luo_file_finish, `file_set=${s.fileSet}`, D.long);
  if (s.files.length > 0) {
    for (const f of s.files) {
      yield* mutexLock(p, f.mutex as Lock);
      mutexUnlock(p, f.mutex as Lock);
    }
    for (let i = s.files.length - 1; i >= 0; i--) {
      const f = s.files[i];
      const h = f.handler as Handler;
      yield* mutexLock(p, f.mutex as Lock);
      p.kp(F.luo_flb_file_finish, `handler=${q(h.compat)}`);
      if (post) yield* downRead(p, L.register, 'luo_flb_file_finish');
      for (let k = h.flbs.length - 1; k >= 0; k--) {
        const flb = h.flbs[k];
        if (post) p.kp(F.liveupdate_flb_put_incoming, `flb=${q(flb.compat)}`);
        yield* mutexLock(p, flb.inc);
        if (--flb.inUsers === 0 && flb.inRef && flb.owner && post) {
          flb.inRef = false;
          modulePut(p, flb.owner, 'liveupdate_flb_put_incoming');
        }
        mutexUnlock(p, flb.inc);
        if (post) p.kr(F.liveupdate_flb_put_incoming, 0, D.tight);
      }
      if (post) yield* upRead(p, L.register, 'luo_flb_file_finish');
      p.kr(F.luo_flb_file_finish, 0);
      mutexUnlock(p, f.mutex as Lock);
      if (post) spinLockPair(p, L.xa);
      if (post && h.owner && leakOrPut(p, h.owner, 'luo_file_finish', s, f)) modulePut(p, h.owner, 'luo_file_finish');
    }
  }
  p.kr(F.luo_file_finish, 0);
}

/** SESSION_FINISH ioctl. */
export function* finishSession(p: Proc, ctl: Ctl, s: Session): Op {
  const w = p.w;
  const post = w.version === 'post';
  p.sysEnter(SYS.ioctl, [s.fd, IOCTL.FINISH, ptr(ctl, 0xa10)], D.gap);
  if (post) yield* downRead(p, w.locks.serialize, 'luo_session_ioctl');
  yield* mutexLock(p, s.mutex);
  yield* fileFinish(p, s);
  mutexUnlock(p, s.mutex);
  if (post) yield* upRead(p, w.locks.serialize, 'luo_session_ioctl');
  p.sysExit(SYS.ioctl, 0);
  yield p.sync();
  for (const f of s.files) w.freeFile(f);
  s.files = [];
}

/** close(session fd) of a retrieved incoming session: implicit finish, then removal (luo-model §1.2). */
export function* closeIncoming(p: Proc, s: Session): Op {
  const w = p.w;
  const L = w.locks;
  const post = w.version === 'post';
  if (post) yield* downRead(p, L.serialize, 'luo_session_release', D.gap);
  yield* mutexLock(p, s.mutex);
  yield* fileFinish(p, s);
  mutexUnlock(p, s.mutex);
  yield* downWrite(p, L.incoming, 'luo_session_remove');
  w.incoming.delete(s);
  yield* upWrite(p, L.incoming, 'luo_session_remove');
  if (post) yield* upRead(p, L.serialize, 'luo_session_release');
  // The process then closes the retrieved fds: the anon-inode files drop their module refs.
  for (const f of s.userFiles) {
    if (f.vfsRef && f.handler?.owner) modulePut(p, f.handler.owner, '__fput');
    f.vfsRef = false;
  }
  s.userFiles = [];
  yield p.sync();
  for (const f of s.files) w.freeFile(f);
  s.files = [];
  w.freeSession(s);
}

// ---------------------------------------------------------------------------------------------
// Freeze phase (reboot(KEXEC) → liveupdate_reboot), seen only through tp_printk on the console.

export function freeze(p: Proc, sessions: Session[]): void {
  p.kp(F.liveupdate_reboot, '', D.long);
  p.kp(F.luo_session_serialize, '', D.short);
  for (const s of sessions) {
    p.kp(F.luo_file_freeze, `file_set=${s.fileSet}`, D.short);
    for (const f of s.files) if (f.handler?.owner) p.printk(`${f.handler.owner.name}: freeze id=${f.token}`, D.short / 2);
    p.kr(F.luo_file_freeze, 0, D.short / 2);
  }
  p.kr(F.luo_session_serialize, 0, D.short);
  p.kp(F.luo_flb_serialize, '', D.short);
  p.kr(F.luo_flb_serialize, 0, D.short);
  p.kr(F.liveupdate_reboot, 0, D.short * 3);
  p.printk('kexec_core: Starting new kernel', D.long * 3);
}

export { LuoFile };
