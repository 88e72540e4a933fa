// Kernel-version knowledge as data: function names, lock names and module-reference call sites of
// each LUO code version (the phase of each function: phases.ts). Every other analysis reads these
// tables instead of hard-coding names.
//
// Source: docs/luo-model.md (copied facts, cited per table):
//   "Versions a tool must handle" table and "Recognising the version from a trace";
//   §1.5 implicit phases; §2 function inventory; §3 locks; §4 where module refs are taken;
//   and the real 7.2.13 captures (real README §1, O4) for the call sites a LATER kernel prints.
import { lookupTable, memoByName } from '../../parsers/name-table.js';

export type KernelModelId = 'pre-series' | 'v1' | 'merged' | 'later';

export interface KernelModel {
  id: KernelModelId;
  title: string;
  /** Where the handler/FLB owner modules are pinned, in the words of docs/luo-model.md. */
  pinning: string;
  /** Registration-list locks (docs/luo-model.md §3). */
  registrationLocks: string[];
  /** call_site values of LUO's own module_get/module_put for this version (docs/luo-model.md §4). */
  sites: {
    fileGet: string[];
    filePut: string[];
    flbGet: string[];
    flbPut: string[];
    /** PRE only: pins taken at registration, held while registered. */
    registrationGet: string[];
    registrationPut: string[];
  };
}

/** docs/luo-model.md "Versions a tool must handle" and §4. */
export const KERNEL_MODELS: Record<KernelModelId, KernelModel> = {
  'pre-series': {
    id: 'pre-series',
    title: 'PRE (before "liveupdate: Fix module unloading and unregister API")',
    pinning: 'handler and FLB owner modules pinned at registration for as long as they are registered',
    registrationLocks: ['luo_session_global.incoming.rwsem', 'luo_session_global.outgoing.rwsem'],
    sites: {
      fileGet: [],
      filePut: [],
      flbGet: [],
      flbPut: [],
      registrationGet: ['liveupdate_register_file_handler', 'liveupdate_register_flb'],
      registrationPut: ['liveupdate_unregister_file_handler', 'liveupdate_unregister_flb'],
    },
  },
  v1: {
    id: 'v1',
    title: 'v1 of the series (luo_file_handler_lock, luo_flb_lock, per-handler flb_lock)',
    pinning: 'module refs deferred to active sessions (exact call sites of v1 not documented)',
    registrationLocks: ['luo_file_handler_lock', 'luo_flb_lock', 'flb_lock'],
    sites: {
      fileGet: ['luo_preserve_file', 'luo_file_deserialize'],
      filePut: ['luo_preserve_file', 'luo_file_unpreserve_files', 'luo_file_finish', 'luo_file_deserialize'],
      flbGet: ['luo_flb_file_preserve', 'luo_flb_file_preserve_one', 'luo_flb_retrieve_one'],
      flbPut: ['luo_flb_file_preserve', 'luo_flb_file_preserve_one', 'luo_flb_file_unpreserve', 'luo_flb_file_unpreserve_one', 'luo_flb_file_finish', 'luo_flb_file_finish_one', 'luo_flb_retrieve_one'],
      registrationGet: [],
      registrationPut: [],
    },
  },
  merged: {
    id: 'merged',
    title: 'merged series (luo_register_rwlock; one ref per preserved file, FLB refs while used)',
    pinning: 'one handler-owner ref per preserved or deserialized file; one FLB-owner ref while the FLB has users',
    registrationLocks: ['luo_register_rwlock'],
    sites: {
      fileGet: ['luo_preserve_file', 'luo_file_deserialize'],
      filePut: ['luo_preserve_file', 'luo_file_unpreserve_files', 'luo_file_finish', 'luo_file_deserialize'],
      flbGet: ['luo_flb_file_preserve', 'luo_flb_file_preserve_one', 'luo_flb_retrieve_one', 'liveupdate_flb_get_incoming'],
      flbPut: ['luo_flb_file_preserve', 'luo_flb_file_preserve_one', 'luo_flb_file_unpreserve', 'luo_flb_file_unpreserve_one', 'luo_flb_file_finish', 'luo_flb_file_finish_one', 'luo_flb_retrieve_one'],
      registrationGet: [],
      registrationPut: [],
    },
  },
  later: {
    id: 'later',
    title: 'merged series plus later changes (luo_session_serialize_rwsem, liveupdate_flb_put_*)',
    pinning: 'as merged; the incoming get moves to luo_file_deserialize_one and FLB puts to liveupdate_flb_put_*',
    registrationLocks: ['luo_register_rwlock'],
    sites: {
      fileGet: ['luo_preserve_file', 'luo_file_deserialize', 'luo_file_deserialize_one'],
      filePut: ['luo_preserve_file', 'luo_file_unpreserve_files', 'luo_file_finish', 'luo_file_deserialize', 'luo_file_deserialize_one'],
      flbGet: ['luo_flb_file_preserve', 'luo_flb_file_preserve_one', 'luo_flb_retrieve_one', 'liveupdate_flb_get_incoming'],
      flbPut: ['luo_flb_file_preserve', 'luo_flb_file_preserve_one', 'luo_flb_retrieve_one', 'liveupdate_flb_put_outgoing', 'liveupdate_flb_put_incoming', 'luo_flb_file_unpreserve', 'luo_flb_file_finish'],
      registrationGet: [],
      registrationPut: [],
    },
  },
};

/**
 * Evidence that identifies a version (docs/luo-model.md "Recognising the version from a trace"). The
 * strongest evidence wins: LATER > merged > v1 > PRE when several appear (LATER kernels contain the
 * merged code, and the lab's pre-series emulation keeps the merged per-file sites, real README §1).
 */
export const MODEL_EVIDENCE: Array<{ model: KernelModelId; what: 'call_site' | 'function' | 'lock'; name: string }> = [
  { model: 'later', what: 'call_site', name: 'luo_file_deserialize_one' },
  { model: 'later', what: 'call_site', name: 'liveupdate_flb_put_incoming' },
  { model: 'later', what: 'call_site', name: 'liveupdate_flb_put_outgoing' },
  { model: 'later', what: 'lock', name: 'luo_session_serialize_rwsem' },
  { model: 'later', what: 'function', name: 'liveupdate_flb_put_incoming' },
  { model: 'later', what: 'function', name: 'liveupdate_flb_put_outgoing' },
  { model: 'merged', what: 'call_site', name: 'luo_preserve_file' },
  { model: 'merged', what: 'call_site', name: 'luo_file_deserialize' },
  { model: 'merged', what: 'call_site', name: 'luo_flb_file_preserve' },
  { model: 'merged', what: 'lock', name: 'luo_register_rwlock' },
  { model: 'v1', what: 'lock', name: 'luo_file_handler_lock' },
  { model: 'v1', what: 'lock', name: 'luo_flb_lock' },
  { model: 'pre-series', what: 'call_site', name: 'liveupdate_register_file_handler' },
  { model: 'pre-series', what: 'call_site', name: 'liveupdate_register_flb' },
  { model: 'pre-series', what: 'function', name: 'luo_session_quiesce' },
];

export const MODEL_RANK: Record<KernelModelId, number> = { 'pre-series': 0, v1: 1, merged: 2, later: 3 };

// The phase of each LUO function lives in phases.ts (one table).

/** Is this a LUO function (kernel/liveupdate/luo_*.c), i.e. worth tracking on a task's call stack? */
export function isLuoFunction(func: string): boolean {
  return func.startsWith('luo_') || func.startsWith('liveupdate_');
}

/** The known LUO locks (docs/luo-model.md §3, real README O10), by lockdep name or kallsyms symbol. */
export const LUO_LOCKS: Record<string, { type: 'rwsem' | 'mutex' | 'spinlock'; role: string }> = lookupTable({
  luo_register_rwlock: { type: 'rwsem', role: 'handler/FLB registration lists (merged series)' },
  'luo_session_global.incoming.rwsem': { type: 'rwsem', role: 'incoming session list' },
  'luo_session_global.outgoing.rwsem': { type: 'rwsem', role: 'outgoing session list' },
  luo_session_serialize_rwsem: { type: 'rwsem', role: 'serialize barrier, write-held forever after kexec serialize (LATER)' },
  luo_file_handler_lock: { type: 'rwsem', role: 'handler list (v1 series)' },
  luo_flb_lock: { type: 'rwsem', role: 'FLB list (v1 series)' },
  '&session->mutex': { type: 'mutex', role: 'per-session mutex' },
  '&luo_file->mutex': { type: 'mutex', role: 'per-file mutex' },
  '&private->outgoing.lock': { type: 'mutex', role: 'per-FLB outgoing state' },
  '&private->incoming.lock': { type: 'mutex', role: 'per-FLB incoming state' },
  luo_flb_init_lock: { type: 'spinlock', role: 'lazy FLB init' },
});

/**
 * The function a probe event is about. Probe locations can be addresses (trace-cmd prints entry
 * probes as `(ffffffff813024a4)` and return probes as `(addr <- addr)`, real README O3), so fall back
 * to the event name: the lab names probes after their function (`luo_preserve_file`,
 * `luo_preserve_file__return`), the kernel's defaults are `p_<func>_0`, `r_<func>_0`,
 * `<func>__entry` / `<func>__exit` (docs/trace-formats.md §1.10).
 */
export function probedFunction(ev: { kind: string; name: string; fields: unknown }): string | null {
  const f = ev.fields as { func?: string | null };
  const func = f.func ?? null;
  if (func) {
    const named = functionOfLocation(func);
    if (named !== false) return named;
  }
  return functionOfProbeName(ev.name);
}

// probedFunction's answers, once per distinct text, not per event (issue 17: three callers,
// millions of probe events). By probe location (false: an address, ask the name) and by event name.
const functionOfLocation = memoByName((func): string | false => (/^(0x)?[0-9a-f]+$/i.test(func) ? false : func.replace(/\.(part|isra|constprop|cold)\.\d+$/, '')));
const functionOfProbeName = memoByName((name): string | null => {
  let n = name.replace(/__(return|entry|exit)$/, '');
  const m = /^[pr]_(.+)_\d+$/.exec(n);
  if (m) n = m[1];
  return n || null;
});

/** Where a module_get/module_put call site stands in the LUO model. */
export type CallSiteClass = 'luo-file' | 'luo-flb' | 'luo-registration' | 'vfs' | 'module-loader' | 'other';

const VFS_SITES = new Set(['misc_open', '__anon_inode_getfile', '__fput', 'fops_get', 'fops_put', 'chrdev_open', 'anon_inode_getfile']);
const LOADER_SITES = new Set(['do_init_module', 'sys_init_module', 'load_module', 'try_module_get', 'ref_module', 'do_free_init', 'sys_delete_module', '__se_sys_finit_module', '__do_sys_finit_module']);

/** A call site as printed (`%ps`: `sym+0x1c/0x40 [mod]`) without its offset and module, once per distinct text. */
export const bareCallSite = memoByName((site) => site.replace(/\+0x[0-9a-f]+(\/0x[0-9a-f]+)?$/i, '').replace(/ \[.*\]$/, ''));

/** Once per distinct call site text, not per module reference (issue 17). */
export const classifyCallSite = memoByName((callSite): CallSiteClass => {
  const site = bareCallSite(callSite);
  for (const m of Object.values(KERNEL_MODELS)) {
    if (m.sites.registrationGet.includes(site) || m.sites.registrationPut.includes(site)) return 'luo-registration';
  }
  for (const m of Object.values(KERNEL_MODELS)) {
    if (m.sites.flbGet.includes(site) || m.sites.flbPut.includes(site)) return 'luo-flb';
  }
  for (const m of Object.values(KERNEL_MODELS)) {
    if (m.sites.fileGet.includes(site) || m.sites.filePut.includes(site)) return 'luo-file';
  }
  if (VFS_SITES.has(site)) return 'vfs';
  if (LOADER_SITES.has(site)) return 'module-loader';
  return 'other';
});
