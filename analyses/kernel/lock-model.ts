// What the kernel's lock events mean, as data: the lock functions a probe can sit on, the
// lock:contention_begin flag bits, how a lock's type is recognised, and one normalized "lock
// operation" built from whichever event carries it (lockdep tracepoints, contention tracepoints,
// kprobes/kretprobes or fentry/fexit on the lock functions, bpftrace lines).
//
// Sources: docs/luo-model.md §3 (LUO locks and their lockdep names) and §5 (lock: tracepoints, which
// flags each lock type emits, checked in linux-source-7.2 7.2.13 kernel/locking/{rwsem,mutex}.c);
// real README O2 (hashed vs raw pointers), O7 (mutex contention_begin twice, one end), O10 (lockdep
// names seen) and §2 (the lab's luorw kprobes `sem=%di:x64`, bpftrace `lock=`, `sym=`, `caller=`).
import type { TraceEvent } from '../../parsers/event.js';
import { normalizePointer, parseSignedInt } from '../../parsers/payloads.js';
import { isLuoFunction, LUO_LOCKS, probedFunction } from './kernel-models.js';
import { lookupTable } from '../../parsers/name-table.js';

/** Lock types as `perf lock` names them (its `type` column), plus what lockdep alone cannot tell. */
export type LockType = 'rwsem' | 'mutex' | 'spinlock' | 'rwlock' | 'percpu-rwsem' | 'rtmutex' | 'rcu' | 'unknown';

/** A lock function a probe can be put on. */
export interface LockFunction {
  type: 'rwsem' | 'mutex';
  action: 'acquire' | 'release' | 'downgrade';
  /** Read side of an rwsem. */
  shared: boolean;
  /** Returns 1 on success, 0 on failure (down_*_trylock, mutex_trylock). */
  trylock: boolean;
  /** Returns 0 or -EINTR (killable / interruptible variants). */
  interruptible: boolean;
}

function fn(type: LockFunction['type'], action: LockFunction['action'], shared: boolean, trylock = false, interruptible = false): LockFunction {
  return { type, action, shared, trylock, interruptible };
}

// include/linux/rwsem.h and include/linux/mutex.h (7.2.13): every exported entry point. With lockdep
// (DEBUG_LOCK_ALLOC) mutex_lock is a macro for mutex_lock_nested(lock, 0), so both names can appear.
export const LOCK_FUNCTIONS: Record<string, LockFunction> = lookupTable({
  down_read: fn('rwsem', 'acquire', true),
  down_read_nested: fn('rwsem', 'acquire', true),
  down_read_non_owner: fn('rwsem', 'acquire', true),
  down_read_killable: fn('rwsem', 'acquire', true, false, true),
  down_read_killable_nested: fn('rwsem', 'acquire', true, false, true),
  down_read_interruptible: fn('rwsem', 'acquire', true, false, true),
  down_read_trylock: fn('rwsem', 'acquire', true, true),
  down_write: fn('rwsem', 'acquire', false),
  down_write_nested: fn('rwsem', 'acquire', false),
  _down_write_nest_lock: fn('rwsem', 'acquire', false),
  down_write_killable: fn('rwsem', 'acquire', false, false, true),
  down_write_killable_nested: fn('rwsem', 'acquire', false, false, true),
  down_write_trylock: fn('rwsem', 'acquire', false, true),
  up_read: fn('rwsem', 'release', true),
  up_read_non_owner: fn('rwsem', 'release', true),
  up_write: fn('rwsem', 'release', false),
  downgrade_write: fn('rwsem', 'downgrade', false),
  mutex_lock: fn('mutex', 'acquire', false),
  mutex_lock_nested: fn('mutex', 'acquire', false),
  _mutex_lock_nest_lock: fn('mutex', 'acquire', false),
  mutex_lock_io: fn('mutex', 'acquire', false),
  mutex_lock_io_nested: fn('mutex', 'acquire', false),
  mutex_lock_interruptible: fn('mutex', 'acquire', false, false, true),
  mutex_lock_interruptible_nested: fn('mutex', 'acquire', false, false, true),
  mutex_lock_killable: fn('mutex', 'acquire', false, false, true),
  mutex_lock_killable_nested: fn('mutex', 'acquire', false, false, true),
  mutex_trylock: fn('mutex', 'acquire', false, true),
  _mutex_trylock_nest_lock: fn('mutex', 'acquire', false, true),
  mutex_unlock: fn('mutex', 'release', false),
});

/**
 * The most locks one task can hold at once under lockdep: `held_locks[MAX_LOCK_DEPTH]` in
 * task_struct (include/linux/sched.h, 48), and kernel/locking/lockdep.c __lock_acquire() refuses a
 * 49th ("BUG: MAX_LOCK_DEPTH too low!") and turns lockdep off. A trace that shows a task holding more
 * has lost the release of one of them.
 */
export const MAX_LOCK_DEPTH = 48;

/** LCB_F_* (include/trace/events/lock.h). */
export const LCB = { SPIN: 1, READ: 2, WRITE: 4, RT: 8, PERCPU: 16, MUTEX: 32 } as const;

/** What a contention_begin's flags say about the lock: one answer per combination of the LCB bits, made once. */
const CONTENTION_KINDS: ReadonlyArray<Readonly<{ type: LockType; shared: boolean }>> = Array.from({ length: 64 }, (_, f) => Object.freeze(kindOfFlags(f)));

export function contentionKind(flags: number): Readonly<{ type: LockType; shared: boolean }> {
  return CONTENTION_KINDS[flags & 63];
}

/** What a contention_begin's flags say about the lock (docs/luo-model.md §5 "Which flags each lock type emits"). */
function kindOfFlags(flags: number): { type: LockType; shared: boolean } {
  const shared = (flags & LCB.READ) !== 0;
  if (flags & LCB.MUTEX) return { type: flags & LCB.RT ? 'rtmutex' : 'mutex', shared: false };
  if (flags & LCB.PERCPU) return { type: 'percpu-rwsem', shared };
  if (flags & LCB.RT) return { type: 'rtmutex', shared };
  if (flags & LCB.SPIN) return { type: flags & (LCB.READ | LCB.WRITE) ? 'rwlock' : 'spinlock', shared };
  if (flags & (LCB.READ | LCB.WRITE)) return { type: 'rwsem', shared };
  return { type: 'unknown', shared };
}

/**
 * The type a lockdep class name implies, when it does: the LUO table (docs/luo-model.md §3), the
 * `.wait_lock` raw spinlock inside every rwsem/mutex (real README O10 shows
 * `luo_register_rwlock.wait_lock`), `xa_lock` spinlocks, RCU's pseudo-locks.
 */
export function typeFromName(name: string): LockType | null {
  const luo = LUO_LOCKS[name];
  if (luo) return luo.type;
  if (name.endsWith('wait_lock') || name.endsWith('xa_lock') || name.endsWith('_lock.rlock')) return 'spinlock';
  if (name.startsWith('rcu_read_lock')) return 'rcu';
  if (/(mutex|[>_.]mtx)$/.test(name)) return 'mutex';
  if (/(rwsem|[>_.]sem)$/.test(name)) return 'rwsem';
  return null;
}

/** Internal locks of a sleeping lock (its wait_lock): taken inside the lock functions themselves. */
export function isInternalLockName(name: string): boolean {
  // One character first (every lockdep event asks; few names end in 'k').
  return name.charCodeAt(name.length - 1) === 107 && (name.endsWith('.wait_lock') || name.endsWith('->wait_lock'));
}

/** One lock-relevant thing an event says, whatever format it came in. */
export type LockOp =
  | { op: 'call'; func: string; fn: LockFunction; addr: string | null; sym: string | null; caller: string | null }
  | { op: 'return'; func: string; fn: LockFunction; ret: number | null; caller: string | null }
  | { op: 'acquire'; key: string; name: string; read: boolean; try: boolean }
  | { op: 'release'; key: string; name: string }
  | { op: 'lockdep_contended'; key: string; name: string }
  | { op: 'lockdep_acquired'; key: string; name: string }
  | { op: 'begin'; key: string; hashed: boolean; flags: number; sym: string | null }
  | { op: 'end'; key: string; hashed: boolean; ret: number; sym: string | null };

/** The pointer argument of a lock function probe: `sem=` (the lab's luorw kprobes), `lock=` (fentry BTF names). */
export function pointerArg(args: Record<string, string>): string | null {
  const v = args.sem ?? args.lock ?? args.mutex ?? args.arg1 ?? args.arg0 ?? null;
  const text = v ?? Object.values(args).find((x) => /^0x[0-9a-f]{6,16}$/i.test(x)) ?? null;
  if (text === null) return null;
  const p = normalizePointer(text);
  return p && !p.hashed ? p.lock : null;
}

function symArg(args: Record<string, string>, key: string): string | null {
  const s = args[key];
  if (!s || /^(0x)?[0-9a-f]+$/i.test(s) || /^-?\d+$/.test(s)) return null;
  return s.replace(/\+0x[0-9a-f]+(\/0x[0-9a-f]+)?$/i, '');
}

function intArg(v: string | undefined): number | null {
  if (v === undefined) return null;
  return parseSignedInt(v);
}

/** A bpftrace probe such as `kprobe:down_read`, `kretprobe:down_read_trylock`, `fentry:vmlinux:mutex_lock`. */
function bpftraceLockOp(probe: string, args: Record<string, string>): LockOp | null {
  const colon = probe.indexOf(':');
  if (colon < 0) return null;
  const kind = probe.slice(0, colon);
  const target = probe.slice(probe.lastIndexOf(':') + 1);
  if (kind === 'tracepoint' || kind === 't') {
    const ptr = normalizePointer(args.lock ?? args.lock_addr ?? args.lockdep_addr ?? '');
    switch (target) {
      case 'contention_begin': {
        const flags = intArg(args.flags);
        if (!ptr || flags === null) return null;
        return { op: 'begin', key: ptr.lock, hashed: ptr.hashed, flags, sym: symArg(args, 'sym') };
      }
      case 'contention_end': {
        const ret = intArg(args.ret);
        if (!ptr || ret === null) return null;
        return { op: 'end', key: ptr.lock, hashed: ptr.hashed, ret, sym: symArg(args, 'sym') };
      }
      case 'lock_acquire': {
        if (!ptr || !args.name) return null;
        const flags = intArg(args.flags) ?? 0;
        return { op: 'acquire', key: ptr.lock, name: args.name, read: (flags & 2) !== 0, try: (flags & 1) !== 0 };
      }
      case 'lock_release':
        return ptr && args.name ? { op: 'release', key: ptr.lock, name: args.name } : null;
      default:
        return null;
    }
  }
  const f = LOCK_FUNCTIONS[target];
  if (!f) return null;
  if (kind === 'kprobe' || kind === 'k' || kind === 'fentry' || kind === 'f') {
    return { op: 'call', func: target, fn: f, addr: pointerArg(args), sym: symArg(args, 'sym'), caller: symArg(args, 'caller') };
  }
  if (kind === 'kretprobe' || kind === 'kr' || kind === 'fexit' || kind === 'fr') {
    return { op: 'return', func: target, fn: f, ret: intArg(args.ret ?? args.retval), caller: symArg(args, 'caller') };
  }
  return null;
}

/** The lock operation an event carries, or null for every other event. */
export function lockOpOf(ev: TraceEvent): LockOp | null {
  switch (ev.kind) {
    case 'lock_acquire':
      return { op: 'acquire', key: ev.fields.lock, name: ev.fields.lockName, read: ev.fields.read, try: ev.fields.try };
    case 'lock_release':
      return { op: 'release', key: ev.fields.lock, name: ev.fields.lockName };
    case 'lock_contended':
      return { op: 'lockdep_contended', key: ev.fields.lock, name: ev.fields.lockName };
    case 'lock_acquired':
      return { op: 'lockdep_acquired', key: ev.fields.lock, name: ev.fields.lockName };
    case 'contention_begin':
      return { op: 'begin', key: ev.fields.lock, hashed: ev.fields.hashed, flags: ev.fields.flags, sym: null };
    case 'contention_end':
      return { op: 'end', key: ev.fields.lock, hashed: ev.fields.hashed, ret: ev.fields.ret, sym: null };
    case 'kprobe':
    case 'fentry': {
      const name = probedFunction(ev);
      const f = name ? LOCK_FUNCTIONS[name] : undefined;
      if (!f || !name) return null;
      return { op: 'call', func: name, fn: f, addr: pointerArg(ev.fields.args), sym: null, caller: null };
    }
    case 'kretprobe':
    case 'fexit': {
      const name = ev.fields.func && LOCK_FUNCTIONS[ev.fields.func] ? ev.fields.func : probedFunction(ev);
      const f = name ? LOCK_FUNCTIONS[name] : undefined;
      if (!f || !name) return null;
      const caller = ev.fields.caller && !/^(0x)?[0-9a-f]+$/i.test(ev.fields.caller) ? ev.fields.caller.replace(/\+0x[0-9a-f]+(\/0x[0-9a-f]+)?$/i, '') : null;
      return { op: 'return', func: name, fn: f, ret: ev.fields.ret, caller };
    }
    case 'bpftrace':
      return bpftraceLockOp(ev.fields.probe, ev.fields.args);
    default:
      return null;
  }
}

/** A LUO lock (docs/luo-model.md §3), its internal wait_lock, or a symbol inside one (`sym+0x10`). */
export function isLuoLockName(name: string): boolean {
  const base = name.replace(/(\.wait_lock|->wait_lock|\+0x[0-9a-f]+(\/0x[0-9a-f]+)?)$/, '');
  // The two session-list rwsems live inside luo_session_global (docs/luo-model.md §3).
  return LUO_LOCKS[base] !== undefined || base === 'luo_session_global';
}

/**
 * Events that show the task running its own code again, so a pending lock call has returned:
 * syscalls, module events, markers, and LUO functions (which never run inside a lock function).
 * Scheduler, interrupt and unknown events are not among them: a writer can be preempted while
 * spinning before its contention_begin (rwsem_optimistic_spin), interrupts run on the task's pid,
 * and the function tracers also see the locking code itself.
 */
export function leavesLockFunction(ev: TraceEvent): boolean {
  switch (ev.kind) {
    case 'syscall_enter':
    case 'syscall_exit':
    case 'module_get':
    case 'module_put':
    case 'module_load':
    case 'module_free':
    case 'module_request':
    case 'marker':
      return true;
    case 'kprobe':
    case 'kretprobe':
    case 'fentry':
    case 'fexit': {
      const f = probedFunction(ev);
      return f !== null && isLuoFunction(f);
    }
    case 'function':
    case 'funcgraph_entry':
    case 'funcgraph_exit':
    case 'funcgraph_leaf':
      return ev.fields.func !== null && isLuoFunction(ev.fields.func);
    case 'bpftrace':
      return isLuoFunction(ev.fields.probe.slice(ev.fields.probe.lastIndexOf(':') + 1));
    default:
      return false;
  }}

/** Frames that belong to the locking code itself, skipped to find the caller (as perf lock does). */
export function isLockingFrame(frame: string): boolean {
  return /^(__)?(mutex_|down_|up_|rwsem_|_raw_|raw_|queued_|do_raw_|lock_|__lock|trace_|__traceiter|__bpf|bpf_|perf_|osq_|schedule|__schedule|preempt_|_mutex|__mutex|__down|__up|__rwsem|__rt_mutex|rt_mutex|ww_mutex)/.test(frame) ||
    frame.startsWith('kprobe') || frame.startsWith('ftrace') || frame.startsWith('arch_ftrace');
}
