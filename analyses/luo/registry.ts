// File handler and FLB registrations: who registered what, from which module, with what result.
//
// `liveupdate_register_file_handler` / `liveupdate_register_flb` run from the owning module's
// init (inside its `finit_module`), unregister from its exit (inside `delete_module`), so the module
// is the one the same task is loading or removing (docs/luo-model.md §1.3, §1.4, §2). With
// CONFIG_LIVEUPDATE_TEST every handler registration also links 3 test FLBs, one of them twice on
// purpose (ret=-17 EEXIST, real README O5): a registration error is reported, not judged.
// In PRE kernels unregister returns an int and can fail with -EBUSY while sessions exist, leaving
// the handler registered after its module is gone (§7(b), (c)); POST unregister returns void.
import type { EventKind, TraceEvent } from '../../parsers/event.js';
import { errnoName } from '../kernel/errno.js';
import type { CallEdge } from '../stream/luo-calls.js';
import type { Segment } from '../stream/segments.js';
import { type TaskKey, taskKey } from '../stream/task-key.js';
import { lookupTable, own } from '../../parsers/name-table.js';

export interface Registration {
  action: 'register' | 'unregister';
  what: 'file-handler' | 'flb';
  handler: string | null;
  flb: string | null;
  module: string | null;
  segment: number;
  src: number;
  line: number;
  endLine: number | null;
  time: number | null;
  pid: number | null;
  comm: string | null;
  ret: number | null;
  error: string | null;
}

const FUNCS: Record<string, { action: Registration['action']; what: Registration['what'] }> = lookupTable({
  liveupdate_register_file_handler: { action: 'register', what: 'file-handler' },
  liveupdate_unregister_file_handler: { action: 'unregister', what: 'file-handler' },
  liveupdate_register_flb: { action: 'register', what: 'flb' },
  liveupdate_unregister_flb: { action: 'unregister', what: 'flb' },
});

/** A task's key, built only on the few events that use it: push runs for every event. */
function taskOf(ev: TraceEvent): TaskKey {
  return taskKey(ev.src, ev.pid);
}

export class RegistryReducer {
  /** The kinds push reads: module loads and removals (LuoAnalysis routes only these; LUO call edges go to onEdge). */
  static readonly kinds: readonly EventKind[] = ['module_load', 'syscall_enter', 'syscall_exit'];
  readonly registrations: Registration[] = [];
  private readonly open = new Map<object, Registration>();
  /** Module a task is loading (after module_load) or removing (delete_module of "name"). */
  private readonly moduleOfTask = new Map<TaskKey, string>();
  /** handler compatible -> owning module, learned from registrations. */
  readonly handlerModule = new Map<string, string>();
  /** FUNCS of each function number seen (null: not a registration function). */
  private readonly specByFid: Array<(typeof FUNCS)[string] | null> = [];

  push(ev: TraceEvent): void {
    if (ev.kind === 'module_load') {
      this.moduleOfTask.set(taskOf(ev), ev.fields.module);
      return;
    }
    if (ev.kind === 'syscall_enter' && ev.fields.syscall === 'delete_module') {
      const name = deletedModuleName(ev.fields.args);
      if (name) this.moduleOfTask.set(taskOf(ev), name);
      return;
    }
    if (ev.kind === 'syscall_exit' && (ev.fields.syscall === 'delete_module' || ev.fields.syscall === 'finit_module' || ev.fields.syscall === 'init_module')) {
      this.moduleOfTask.delete(taskOf(ev));
    }
  }

  /** A LUO call entered or left (LuoCallTracker.lastEdge of `ev`): the (un)registration functions. */
  onEdge(edge: CallEdge, ev: TraceEvent, seg: Segment): void {
    // By function number (OpenCall.fid): the name is looked up once per function, not per edge.
    let spec = this.specByFid[edge.call.fid];
    if (spec === undefined) spec = this.specByFid[edge.call.fid] = own(FUNCS, edge.call.func) ?? null;
    if (spec === null) return;
    if (edge.type === 'enter') {
      const a = edge.call.args;
      // Named fields, not `...spec`: spreading the frozen lookup record gave every registration its
      // own hidden class (a V8 map and descriptor array each, ~400 bytes), kept for the whole run.
      const r: Registration = {
        action: spec.action,
        what: spec.what,
        handler: a.handler ?? null,
        flb: a.flb ?? null,
        module: this.moduleOfTask.get(taskOf(ev)) ?? (a.handler ? (this.handlerModule.get(a.handler) ?? null) : null),
        segment: seg.id,
        src: ev.src,
        line: edge.call.line,
        endLine: null,
        time: edge.call.start,
        pid: edge.call.pid,
        comm: edge.call.comm,
        ret: null,
        error: null,
      };
      if (r.module && r.handler && spec.what === 'file-handler') this.handlerModule.set(r.handler, r.module);
      this.registrations.push(r);
      this.open.set(edge.call, r);
    } else {
      const r = this.open.get(edge.call);
      if (!r) return;
      this.open.delete(edge.call);
      r.endLine = edge.endLine;
      r.ret = edge.ret;
      r.error = errnoName(edge.ret);
    }
  }
}

/**
 * The module a delete_module call names. ftrace prints `name_user: 0x7ffd... "luo_demo"` (or only
 * the pointer); bpftrace scripts print `name_user=luo_demo` (cli/record/luotrace.bt).
 */
export function deletedModuleName(args: Record<string, string>): string | null {
  const raw = args.name_user ?? '';
  const quoted = /"([^"]*)"/.exec(raw);
  if (quoted) return quoted[1];
  return /^[A-Za-z0-9_-]+$/.test(raw) && !raw.startsWith('0x') ? raw : null;
}
