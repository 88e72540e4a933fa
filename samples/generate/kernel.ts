// What the lab's 7.2.13 kernel looks like to a tracer, as data: probed functions (kallsyms address,
// symbol size, return type), lock objects (raw address, lockdep dep_map address, lockdep name,
// the symbol bpftrace's ksym() gives), syscalls and background mutexes.
//
// Every number here is taken from the real captures in samples/real (kallsyms-luo.txt,
// kprobe_events.txt, the `(func+0x4/0xSIZE)` and `(ffffffff…)` probe locations, the trace-cmd
// report's raw lock pointers and the bpftrace `sym=` fields), so synthetic lines print the same
// values the real kernel printed. Functions that only exist in pre-series kernels
// (luo_session_quiesce/resume, docs/luo-model.md §2) have invented addresses in an unused gap.

export interface Fn {
  /** Dense index, for renderer caches. */
  id: number;
  name: string;
  /** `<name>__return`: the return probe's event name (real README O3). */
  retName: string;
  /** Low 32 bits of the kernel text address (all LUO text is at 0xffffffff8xxxxxxx). */
  addr: number;
  size: number;
  /** `int` functions get `ret=$retval:s32` on their return probe; `void` ones get none (tracing.sh KP_VOID). */
  returns: 'int' | 'void';
  /**
   * How the kretprobe's caller prints in tracefs (real README O3): `[unknown/kretprobe'd]` for most
   * LUO functions; otherwise the caller symbol given here (the freeze-phase functions in the
   * console capture, the FLB put functions when no function_graph instance hooks their caller).
   */
  retCaller: 'kretprobe' | string;
}

const KRET = 'kretprobe';
let fnIds = 0;

function fn(name: string, addr: number, size: number, returns: 'int' | 'void', retCaller: string = KRET): Fn {
  return { id: fnIds++, name, retName: `${name}__return`, addr, size, returns, retCaller };
}

/** The probed functions (kprobe_events.txt; sizes as the real `+0x4/0xSIZE` locations print them). */
export const F = {
  liveupdate_reboot: fn('liveupdate_reboot', 0x81302210, 0x30, 'int', 'kernel_kexec+0x90/0xc0'),
  liveupdate_register_file_handler: fn('liveupdate_register_file_handler', 0x81302260, 0x130, 'int'),
  liveupdate_unregister_file_handler: fn('liveupdate_unregister_file_handler', 0x81302390, 0x60, 'void'),
  luo_preserve_file: fn('luo_preserve_file', 0x813024a0, 0x2d0, 'int'),
  luo_file_unpreserve_files: fn('luo_file_unpreserve_files', 0x81302770, 0x170, 'void'),
  luo_file_freeze: fn('luo_file_freeze', 0x813028e0, 0x190, 'int', 'luo_session_serialize+0x9b/0x1e0'),
  luo_file_unfreeze: fn('luo_file_unfreeze', 0x81302a70, 0x30, 'void'),
  luo_retrieve_file: fn('luo_retrieve_file', 0x81302aa0, 0x1a0, 'int'),
  luo_file_finish: fn('luo_file_finish', 0x81302c40, 0x250, 'int'),
  luo_file_deserialize: fn('luo_file_deserialize', 0x81302e90, 0x270, 'int'),
  liveupdate_unregister_flb: fn('liveupdate_unregister_flb', 0x81303410, 0x50, 'void'),
  liveupdate_register_flb: fn('liveupdate_register_flb', 0x81303460, 0x230, 'int'),
  liveupdate_flb_put_incoming: fn('liveupdate_flb_put_incoming', 0x81303690, 0x100, 'void', 'luo_flb_file_finish+0x33/0x50'),
  liveupdate_flb_put_outgoing: fn('liveupdate_flb_put_outgoing', 0x81303830, 0xc0, 'void', 'luo_flb_file_unpreserve+0x33/0x50'),
  liveupdate_flb_get_incoming: fn('liveupdate_flb_get_incoming', 0x813038f0, 0xc0, 'int'),
  luo_flb_file_preserve: fn('luo_flb_file_preserve', 0x813039b0, 0x190, 'int'),
  luo_flb_file_unpreserve: fn('luo_flb_file_unpreserve', 0x81303b40, 0x50, 'void'),
  luo_flb_file_finish: fn('luo_flb_file_finish', 0x81303b90, 0x50, 'void'),
  luo_flb_unregister_all: fn('luo_flb_unregister_all', 0x81303be0, 0x70, 'void', 'liveupdate_unregister_file_handler+0x3c/0x60'),
  luo_flb_serialize: fn('luo_flb_serialize', 0x81303c50, 0xe0, 'void', 'liveupdate_reboot+0x23/0x30'),
  luo_session_create: fn('luo_session_create', 0x81304460, 0x130, 'int'),
  luo_session_retrieve: fn('luo_session_retrieve', 0x81304590, 0xd0, 'int'),
  luo_session_deserialize: fn('luo_session_deserialize', 0x81304660, 0x190, 'int'),
  luo_session_serialize: fn('luo_session_serialize', 0x813047f0, 0x1e0, 'int', 'liveupdate_reboot+0x1a/0x30'),
  // Pre-series only (docs/luo-model.md §2 luo_session.c, §3 PRE): invented addresses.
  luo_session_quiesce: fn('luo_session_quiesce', 0x813049d0, 0x90, 'int'),
  luo_session_resume: fn('luo_session_resume', 0x81304a60, 0x40, 'void'),
} as const;
export type FnName = keyof typeof F;

/** PRE kernels: the unregister functions return int (`-EBUSY`), docs/luo-model.md §7(c). */
export const F_PRE_INT: ReadonlySet<string> = new Set(['liveupdate_unregister_file_handler', 'liveupdate_unregister_flb']);

/** Kernel functions probed by the lab for module refs and rwsems (group luomod / luorw). */
export const KFN = {
  try_module_get: { addr: 0x8130e810, size: 0xb0 },
  module_put: { addr: 0x8130e8c0, size: 0x90 },
  down_read: { addr: 0x817c49c0, size: 0x140 },
  up_read: { addr: 0x812d5d70, size: 0xd0 },
  down_write: { addr: 0x817c54b0, size: 0xe0 },
  up_write: { addr: 0x812d5b70, size: 0xc0 },
} as const;
export type RwOp = 'down_read' | 'up_read' | 'down_write' | 'up_write';

/** kretprobe trampoline and function_graph's return_to_handler (trace-cmd prints them raw, O3). */
export const KRETPROBE_TRAMPOLINE = 0x81252c00;
export const RETURN_TO_HANDLER = 0x81252b90;

/** `ffffffff` + 8 hex digits: kernel text and data addresses of this (nokaslr) build. */
export function kaddr(low: number): string {
  return `0xffffffff${(low >>> 0).toString(16).padStart(8, '0')}`;
}

export type LockType = 'rwsem' | 'mutex' | 'spin';

/** A lock as every format prints it. */
export class Lock {
  /** Holder bookkeeping for the simulation (sim.ts). */
  readers = 0;
  writer: unknown = null;
  readonly waiters: Array<{ task: unknown; write: boolean }> = [];
  waitLock: Lock | null = null;
  /** `%p` renderings (hashed per boot), filled in lazily by the ftrace renderer. */
  hashRaw = '';
  hashDep = '';
  /** Renderer cache of this lock's payload strings (a World, and so a Lock, lives for one pass). */
  rc: string[] | null = null;
  /** The same payloads as bytes (ftrace fast path). */
  rcb: Uint8Array[] | null = null;
  constructor(
    readonly name: string,
    /** Raw address, `0x…` (contention_begin/end and the rwsem kprobes' `sem=` print this one). */
    readonly addr: string,
    /** lockdep dep_map address, `0x…` (lock_acquire/lock_release print this one). */
    readonly dep: string,
    readonly type: LockType,
    /** What bpftrace's ksym() prints for the raw address (the containing symbol, or the address). */
    readonly sym: string,
  ) {}
}

/** dep_map sits 0x68 into a mutex or rw_semaphore of this lockdep build (trace-cmd report pairs). */
export const DEP_MAP_OFF = 0x68;

function staticLock(name: string, raw: number, dep: number, type: LockType, sym: string): Lock {
  return new Lock(name, kaddr(raw), kaddr(dep), type, sym);
}

function rwsem(name: string, raw: number, sym: string, waitName: string): Lock {
  const l = staticLock(name, raw, raw + DEP_MAP_OFF, 'rwsem', sym);
  // The rwsem's wait_lock (a raw spinlock) shows up in lockdep only on the slow path.
  l.waitLock = staticLock(waitName, raw + 0x18, raw + 0x30, 'spin', sym);
  return l;
}

/** The four LUO rwsems the lab filters on (real README §2) and the LUO spinlocks. */
export function staticLuoLocks() {
  return {
    register: rwsem('luo_register_rwlock', 0x81ed2360, 'luo_register_rwlock', 'luo_register_rwlock.wait_lock'),
    incoming: rwsem('luo_session_global.incoming.rwsem', 0x81ed2558, 'luo_session_global', 'luo_session_global.incoming.rwsem.wait_lock'),
    outgoing: rwsem('luo_session_global.outgoing.rwsem', 0x81ed2650, 'luo_session_global', 'luo_session_global.outgoing.rwsem.wait_lock'),
    serialize: rwsem('luo_session_serialize_rwsem', 0x81ed2740, 'luo_session_serialize_rwsem', 'luo_session_serialize_rwsem.wait_lock'),
    xa: staticLock('luo_preserved_files.xa_lock', 0x81ed2400, 0x81ed2418, 'spin', 'luo_preserved_files'),
    flbInit: staticLock('luo_flb_init_lock', 0x81ed2480, 0x81ed2498, 'spin', 'luo_flb_init_lock'),
  };
}
export type LuoLocks = ReturnType<typeof staticLuoLocks>;

/** Per-FLB private mutexes: `&private->outgoing.lock` / `&private->incoming.lock`. */
export function flbLocks(outRaw: string, inRaw: string, sym: string): { out: Lock; inc: Lock } {
  return {
    out: new Lock('&private->outgoing.lock', outRaw, addHex(outRaw, DEP_MAP_OFF), 'mutex', sym),
    inc: new Lock('&private->incoming.lock', inRaw, addHex(inRaw, DEP_MAP_OFF), 'mutex', sym),
  };
}

/** The three LIVEUPDATE_TEST FLBs live in the static array `test_flbs` (bpftrace sym=test_flbs). */
export const TEST_FLB_LOCKS: Array<[string, string]> = [
  [kaddr(0x81f40fa0), kaddr(0x81f41058)],
  [kaddr(0x81f41160), kaddr(0x81f41218)],
  [kaddr(0x81f41320), kaddr(0x81f413d8)],
];

/** Add a small offset to a `0x` + 16-hex-digit address (low 32 bits never carry in our layouts). */
export function addHex(addr: string, off: number): string {
  const low = parseInt(addr.slice(10), 16) + off;
  return `${addr.slice(0, 10)}${(low >>> 0).toString(16).padStart(8, '0')}`;
}

/**
 * Mutexes outside LUO that the lab's tasks contend on (bpftrace `sym=` of the real captures). With
 * lockdep on, every mutex_lock goes through the slow path and prints contention_begin
 * (flags=SPIN|MUTEX) + contention_end even when uncontended, so these pairs are a large part of
 * every real capture (O6, O7).
 */
export const BACKGROUND_MUTEXES: Record<string, Array<[string, number]>> = {
  insmod: [
    ['module_mutex', 0x81ed9ba0],
    ['vmap_purge_lock', 0x81f08a60],
    ['execmem_cache', 0x81f0bd60],
    ['delayed_uprobe_lock', 0x81ef0dc0],
    ['trace_types_lock', 0x81ee46c0],
    ['event_mutex', 0x81ee7be0],
    ['ftrace_lock', 0x81ee4000],
    ['text_mutex', 0x81e55d40],
    ['static_call_mutex', 0x81eef6e0],
    ['kprobe_mutex', 0x81ee2fa0],
    ['btf_module_mutex', 0x81eef380],
    ['global_ops', 0x81ee3e58],
    ['misc_mtx', 0x81f53360],
  ],
  rmmod: [
    ['module_mutex', 0x81ed9ba0],
    ['vmap_purge_lock', 0x81f08a60],
    ['execmem_cache', 0x81f0bd60],
    ['delayed_uprobe_lock', 0x81ef0dc0],
    ['trace_types_lock', 0x81ee46c0],
    ['event_mutex', 0x81ee7be0],
    ['misc_mtx', 0x81f53360],
  ],
  luo_ctl: [
    ['delayed_uprobe_lock', 0x81ef0dc0],
    ['pcpu_alloc_mutex', 0x81efd660],
    ['chrdevs_lock', 0x81f0f8e0],
  ],
  kexec: [
    ['delayed_uprobe_lock', 0x81ef0dc0],
    ['kexec_lock', 0x81ee26c0],
  ],
};
/** kho_out: the KHO mutex every preserve/unpreserve takes (luo_alloc_files_mem, kho_preserve_*). */
export const KHO_OUT: [string, number] = ['kho_out', 0x81ed2248];
export const MISC_MTX: [string, number] = ['misc_mtx', 0x81f53360];

/** Syscall argument renderings: tracefs text (K-sys print_syscall_enter on 7.2) vs trace-cmd print fmt. */
export type SysArgType = 'u' | 'x' | 'p' | 'ps' | 'i';
export interface SysDef {
  name: string;
  /** Event names as the kernel names them (`sys_enter_ioctl`), which parsers report. */
  enterName: string;
  exitName: string;
  args: Array<[string, SysArgType]>;
  /** trace-cmd's event list (tracing.sh) leaves out kexec_file_load. */
  inTraceCmd: boolean;
}
export const SYS: Record<string, SysDef> = {
  ioctl: { name: 'ioctl', enterName: 'sys_enter_ioctl', exitName: 'sys_exit_ioctl', args: [['fd', 'u'], ['cmd', 'x'], ['arg', 'p']], inTraceCmd: true },
  finit_module: { name: 'finit_module', enterName: 'sys_enter_finit_module', exitName: 'sys_exit_finit_module', args: [['fd', 'u'], ['uargs', 'ps'], ['flags', 'i']], inTraceCmd: true },
  delete_module: { name: 'delete_module', enterName: 'sys_enter_delete_module', exitName: 'sys_exit_delete_module', args: [['name_user', 'ps'], ['flags', 'x']], inTraceCmd: true },
  kexec_file_load: {
    name: 'kexec_file_load',
    enterName: 'sys_enter_kexec_file_load',
    exitName: 'sys_exit_kexec_file_load',
    args: [['kernel_fd', 'u'], ['initrd_fd', 'x'], ['cmdline_len', 'x'], ['cmdline_ptr', 'p'], ['flags', 'ps']],
    inTraceCmd: false,
  },
};

/** LUO ioctl numbers (docs/luo-model.md §1.1) and the demo module's own ioctls (luo_ctl.c). */
export const IOCTL = {
  CREATE_SESSION: 0xba00,
  RETRIEVE_SESSION: 0xba01,
  PRESERVE_FD: 0xba40,
  RETRIEVE_FD: 0xba41,
  FINISH: 0xba42,
  DEMO_SET_ID: 0x40084c01,
  DEMO_GET_ID: 0x80084c02,
} as const;

/** errno values as the kretprobe `ret=` and `sys_x -> 0x…` print them. */
export const E = { EIO: -5, ENOENT: -2, EAGAIN: -11, EBUSY: -16, EEXIST: -17 } as const;

/** 32-bit string hash (FNV-1a + murmur3 finaliser): stands in for the kernel's siphash of %p. */
export function hash32(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
