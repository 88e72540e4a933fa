// What `luotrace record` probes, as data: the LUO functions of docs/luo-model.md §2 that are good probe
// targets (global "G" functions, plus the PRE-only quiesce pair), their arguments and return types,
// and the rwsem entry points. Both backends are generated from this one table: the ftrace kprobe
// definitions (cli/record/plan.ts) and the bpftrace script (cli/record/bpftrace-script.ts).
//
// Arguments use the arch-neutral `$argN` fetch-args of kprobe_events (Documentation/trace/
// kprobetrace.rst) and `argN` in bpftrace (N from 0), so the same table works on x86-64 and arm64.
// Signatures are those of linux-source-7.2 7.2.13 kernel/liveupdate/ (docs/luo-model.md §2); the string
// of a handler or FLB is `compatible`, right after the ops pointer (offset 8), as the lab's script
// reads it (the lab's `guest/tracing.sh` kp_args, docs/real-captures.md §2).
import type { KernelModelId } from '../../analyses/kernel/kernel-models.js';
import { MODEL_EVIDENCE, MODEL_RANK } from '../../analyses/kernel/kernel-models.js';

export interface ProbeArg {
  name: string;
  /** kprobe_events fetch-arg, e.g. `$arg2:x64`, `+8($arg1):string`. */
  ftrace: string;
  /** bpftrace printf conversion and expression, e.g. `0x%lx` / `arg1`. */
  bpfFormat: string;
  bpfExpr: string;
}

export interface LuoProbe {
  func: string;
  /** docs/luo-model.md §2 role, printed next to the probe in `--dry-run`. */
  role: string;
  args: ProbeArg[];
  /** 'int' records `ret=$retval`; 'void' has no return value; PRE kernels return int from unregister. */
  returns: 'int' | 'void' | 'int-before-merge';
}

const fileSet: ProbeArg = { name: 'file_set', ftrace: '$arg1:x64', bpfFormat: '0x%lx', bpfExpr: 'arg0' };
const token: ProbeArg = { name: 'token', ftrace: '$arg2:x64', bpfFormat: '0x%lx', bpfExpr: 'arg1' };
const sessionName: ProbeArg = { name: 'name', ftrace: '+0($arg1):string', bpfFormat: '%s', bpfExpr: 'str(arg0)' };
const handler: ProbeArg = { name: 'handler', ftrace: '+8($arg1):string', bpfFormat: '%s', bpfExpr: 'str(arg0 + 8)' };
const flbOfArg1: ProbeArg = { name: 'flb', ftrace: '+8($arg1):string', bpfFormat: '%s', bpfExpr: 'str(arg0 + 8)' };
const flbOfArg2: ProbeArg = { name: 'flb', ftrace: '+8($arg2):string', bpfFormat: '%s', bpfExpr: 'str(arg1 + 8)' };

/** docs/luo-model.md §2, in the order of a live update (§1.5). */
export const LUO_PROBES: LuoProbe[] = [
  { func: 'liveupdate_register_file_handler', role: 'register handler (luo_file.c); PRE pins the owner module here', args: [handler], returns: 'int' },
  { func: 'liveupdate_unregister_file_handler', role: 'unregister handler (luo_file.c); PRE returns int (-EBUSY), POST void', args: [handler], returns: 'int-before-merge' },
  { func: 'liveupdate_register_flb', role: 'register FLB (luo_flb.c); PRE pins the FLB owner on first registration', args: [handler, flbOfArg2], returns: 'int' },
  { func: 'liveupdate_unregister_flb', role: 'unregister FLB (luo_flb.c); PRE int, POST void', args: [handler, flbOfArg2], returns: 'int-before-merge' },
  { func: 'luo_flb_unregister_all', role: 'auto-unregister all FLBs of a handler (luo_flb.c, POST)', args: [handler], returns: 'void' },
  { func: 'luo_session_quiesce', role: 'PRE only: takes both session rwsems for write (luo_session.c)', args: [], returns: 'int' },
  { func: 'luo_session_resume', role: 'PRE only: releases them (luo_session.c)', args: [], returns: 'void' },
  { func: 'luo_session_create', role: 'session create (luo_session.c)', args: [sessionName], returns: 'int' },
  { func: 'luo_preserve_file', role: 'preserve; POST try_module_get on the handler owner (luo_file.c)', args: [fileSet, token, { name: 'fd', ftrace: '$arg3:s32', bpfFormat: '%d', bpfExpr: '(int32)arg2' }], returns: 'int' },
  { func: 'luo_flb_file_preserve', role: 'FLB get per dependent file; first file pins the FLB owner (luo_flb.c)', args: [handler], returns: 'int' },
  { func: 'luo_file_unpreserve_files', role: 'unpreserve/abort; POST module_put per file (luo_file.c)', args: [fileSet], returns: 'void' },
  { func: 'luo_flb_file_unpreserve', role: 'FLB put per dependent file (luo_flb.c)', args: [handler], returns: 'void' },
  { func: 'liveupdate_flb_put_outgoing', role: 'LATER: outgoing FLB put; last put drops the FLB owner ref (luo_flb.c)', args: [flbOfArg1], returns: 'void' },
  { func: 'liveupdate_reboot', role: 'freeze/serialize entry from kernel_kexec (luo_core.c)', args: [], returns: 'int' },
  { func: 'luo_session_serialize', role: 'freeze: serialize sessions (luo_session.c)', args: [], returns: 'int' },
  { func: 'luo_file_freeze', role: 'freeze one file set (luo_file.c)', args: [fileSet], returns: 'int' },
  { func: 'luo_file_unfreeze', role: 'freeze rollback (luo_file.c)', args: [fileSet], returns: 'void' },
  { func: 'luo_flb_serialize', role: 'freeze: serialize FLBs (luo_flb.c)', args: [], returns: 'void' },
  { func: 'luo_session_deserialize', role: 'deserialize, new kernel, first open (luo_session.c)', args: [], returns: 'int' },
  { func: 'luo_file_deserialize', role: 'deserialize files; POST try_module_get per file (luo_file.c)', args: [fileSet], returns: 'int' },
  { func: 'luo_session_retrieve', role: 'retrieve session (luo_session.c)', args: [sessionName], returns: 'int' },
  { func: 'luo_retrieve_file', role: 'retrieve file (luo_file.c)', args: [fileSet, token], returns: 'int' },
  { func: 'liveupdate_flb_get_incoming', role: 'incoming FLB access; first use pins the FLB owner (luo_flb.c)', args: [flbOfArg1], returns: 'int' },
  { func: 'liveupdate_flb_get_outgoing', role: 'outgoing FLB access (luo_flb.c)', args: [flbOfArg1], returns: 'int' },
  { func: 'luo_file_finish', role: 'finish; POST module_put per file (luo_file.c)', args: [fileSet], returns: 'int' },
  { func: 'luo_flb_file_finish', role: 'FLB finish per dependent file (luo_flb.c)', args: [handler], returns: 'void' },
  { func: 'liveupdate_flb_put_incoming', role: 'LATER: incoming FLB put; last put drops the FLB owner ref (luo_flb.c)', args: [flbOfArg1], returns: 'void' },
];

/** The rwsem entry points, probed with the lock pointer (docs/luo-model.md §3), filtered to the LUO rwsems. */
export const RWSEM_FUNCS = ['down_read', 'up_read', 'down_write', 'up_write'] as const;

/** Global symbols of the LUO rwsems (docs/luo-model.md §3), by kernel version. */
export const RWSEM_SYMBOLS = ['luo_register_rwlock', 'luo_session_serialize_rwsem', 'luo_file_handler_lock', 'luo_flb_lock'] as const;
/** `luo_session_global` holds the incoming and outgoing session rwsems: probed as an address range. */
export const SESSION_GLOBAL = 'luo_session_global';

/** Tracepoints (system:event) and why; only those in available_events are enabled. */
export const TRACEPOINTS: Array<{ event: string; why: string }> = [
  { event: 'module:module_load', why: 'module lifecycle (luo-model.md §5)' },
  { event: 'module:module_free', why: 'module lifecycle' },
  { event: 'module:module_get', why: 'module refs with call_site and refcnt (luo-model.md §4)' },
  { event: 'module:module_put', why: 'module refs with call_site and refcnt (luo-model.md §4)' },
  { event: 'lock:contention_begin', why: 'lock waits, flags READ/WRITE/MUTEX (luo-model.md §5)' },
  { event: 'lock:contention_end', why: 'lock waits end' },
  { event: 'syscalls:sys_enter_finit_module', why: 'insmod' },
  { event: 'syscalls:sys_exit_finit_module', why: 'insmod result' },
  { event: 'syscalls:sys_enter_delete_module', why: 'rmmod' },
  { event: 'syscalls:sys_exit_delete_module', why: 'rmmod result (-EWOULDBLOCK while pinned, luo-model.md §4)' },
  { event: 'syscalls:sys_enter_kexec_file_load', why: 'kexec load' },
  { event: 'syscalls:sys_exit_kexec_file_load', why: 'kexec load result' },
  { event: 'syscalls:sys_enter_reboot', why: 'kexec -e (liveupdate_reboot runs inside)' },
];

/** lockdep events, filtered to LUO lock names (real README §2, O10); only on CONFIG_LOCKDEP kernels. */
export const LOCKDEP_EVENTS = ['lock:lock_acquire', 'lock:lock_release'];
export const LOCKDEP_FILTER = 'name ~ "*luo*" || name ~ "*session*" || name ~ "*private->*"';

/** Which LUO code version the function and symbol names say this kernel runs (docs/luo-model.md "Recognising the version"). */
export function detectModel(functions: Set<string>, symbols: Set<string>): { model: KernelModelId | null; evidence: string[] } {
  let best: KernelModelId | null = null;
  const evidence: string[] = [];
  for (const e of MODEL_EVIDENCE) {
    if (e.what === 'call_site') continue;
    const present = e.what === 'function' ? functions.has(e.name) : symbols.has(e.name);
    if (!present) continue;
    evidence.push(`${e.what} ${e.name} -> ${e.model}`);
    if (best === null || MODEL_RANK[e.model] > MODEL_RANK[best]) best = e.model;
  }
  return { model: best, evidence };
}

/** Does this function return a value on this kernel? */
export function hasReturnValue(p: LuoProbe, model: KernelModelId | null): boolean {
  if (p.returns === 'int') return true;
  if (p.returns === 'void') return false;
  return model === 'pre-series';
}
