// File handler and FLB registrations: who registered what, from which module, with what result.
//
// `liveupdate_register_file_handler` / `liveupdate_register_flb` run from the owning module's
// init (inside its `finit_module`), unregister from its exit (inside `delete_module`), so the module
// is the one the same task is loading or removing (docs/luo-model.md §1.3, §1.4, §2). With
// CONFIG_LIVEUPDATE_TEST every handler registration also links 3 test FLBs, one of them twice on
// purpose (ret=-17 EEXIST, real README O5): a registration error is reported, not judged.
// In PRE kernels unregister returns an int and can fail with -EBUSY while sessions exist, leaving
// the handler registered after its module is gone (§7(b), (c)); POST unregister returns void.
//
// A trace can hold any number of these calls (1.5 M register calls once took 3.7 GB), so the rows
// are kept up to RegistryLimits.rows per segment; past that each call is only counted, by class
// (module, action, what, outcome, errno), and the facts the consumers read from rows (the names a
// module registered successfully: ownFlb below, luo.ts modulesJson) are kept once per distinct
// (segment, module, what, handler, FLB), up to RegistryLimits.names of them (docs/luo-model.md §4
// "Registrations on hostile input").
import type { EventKind, TraceEvent } from '../../parsers/event.js';
import { errnoName } from '../kernel/errno.js';
import { ByFunction, type CallEdge } from '../stream/luo-calls.js';
import type { Segment } from '../stream/segments.js';
import { type TaskKey, taskKey } from '../stream/task-key.js';
import { lookupTable, own } from '../../parsers/name-table.js';
import { FOLD_MODULE } from './module-names.js';
import { CountedPast } from '../lists.js';
import type { BootJson } from './schema.js';

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

/** How a registration past the row cap ended: ret >= 0, ret < 0, or no return seen (yet). */
export type RegOutcome = 'ok' | 'failed' | 'no-return';

/** Registrations past the row cap of their segment with the same class: counted, not listed. */
export interface RegOmitted {
  segment: number;
  module: string | null;
  action: Registration['action'];
  what: Registration['what'];
  outcome: RegOutcome;
  /** The errno name of a failed one (null when ret is not a known errno). */
  error: string | null;
  count: number;
}

/** A name a module registered (ret null or >= 0), kept once for the rows past the cap. */
export interface RegName {
  key: string;
  segment: number;
  module: string | null;
  what: Registration['what'];
  handler: string | null;
  flb: string | null;
  /** Calls behind it that did not fail: the fact goes when the last one returns an error. */
  live: number;
}

export interface RegistryLimits {
  /** Rows listed per segment; past that counted by class. */
  rows: number;
  /** Distinct classes and distinct names kept for the counted ones; past that the module folds into FOLD_MODULE (classes) or the name is counted in namesOmitted. */
  names: number;
}

/** Compatibles of the built-in test FLBs (include/linux/kho/abi/luo.h LIVEUPDATE_TEST_FLB_COMPATIBLE). */
const TEST_FLB_PREFIX = 'liveupdate-test-flb-v';

export const REGISTRY_LIMITS: RegistryLimits = { rows: 5_000, names: 4_096 };

/** What an open call past the cap needs at its return. */
interface Pending {
  cls: RegOmitted;
  name: RegName | null;
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
  /** Rows listed per segment, and the calls past them by class (segment, module, action, what, outcome, error). */
  private readonly past: CountedPast<Omit<RegOmitted, 'count'>>;
  /** Names registered by calls past the row cap (key: segment, module, what, handler, FLB). */
  readonly names = new Map<string, RegName>();
  /** Calls past the cap whose name could not be kept (RegistryLimits.names): segment -> count. */
  readonly namesOmitted = new Map<number, number>();
  /** Open calls (weak: a call whose return is never seen goes with the tracker's call record). */
  private readonly open = new WeakMap<object, Registration | Pending>();
  /** Module a task is loading (after module_load) or removing (delete_module of "name"). */
  private readonly moduleOfTask = new Map<TaskKey, string>();
  /** handler compatible -> owning module, learned from registrations. */
  readonly handlerModule = new Map<string, string>();
  /** FUNCS of each function number seen (null: not a registration function), looked up once per function, not per edge. */
  private readonly specOf = new ByFunction((name) => own(FUNCS, name) ?? null);

  constructor(private readonly limits: RegistryLimits = REGISTRY_LIMITS) {
    this.past = new CountedPast(limits.rows, limits.names, (c) => ({ ...c, module: FOLD_MODULE }));
  }

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
    const spec = this.specOf.of(edge.call.fid, edge.call.func);
    if (spec === null) return;
    if (edge.type === 'enter') {
      const a = edge.call.args;
      const module = this.moduleOfTask.get(taskOf(ev)) ?? (a.handler ? (this.handlerModule.get(a.handler) ?? null) : null);
      // handler -> module is kept for every handler up to the name cap (a hostile trace names any number).
      if (module && a.handler && spec.what === 'file-handler' && (this.handlerModule.size < this.limits.names || this.handlerModule.has(a.handler))) this.handlerModule.set(a.handler, module);
      if (!this.past.admit(seg.id)) {
        this.open.set(edge.call, this.countPast(spec, seg.id, module, a.handler ?? null, a.flb ?? null));
        return;
      }
      // Named fields, not `...spec`: spreading the frozen lookup record gave every registration its
      // own hidden class (a V8 map and descriptor array each, ~400 bytes), kept for the whole run.
      const r: Registration = {
        action: spec.action,
        what: spec.what,
        handler: a.handler ?? null,
        flb: a.flb ?? null,
        module,
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
      this.registrations.push(r);
      this.open.set(edge.call, r);
    } else {
      const r = this.open.get(edge.call);
      if (!r) return;
      this.open.delete(edge.call);
      if (!('action' in r)) {
        this.returnedPast(r, edge.ret);
        return;
      }
      r.endLine = edge.endLine;
      r.ret = edge.ret;
      r.error = errnoName(edge.ret);
    }
  }

  /**
   * The FLB an unnamed FLB pin belongs to, when its module registered exactly one FLB of its own in
   * that segment (for the pin's handler, when known). The get's call site is often the inlined
   * luo_flb_file_preserve, whose probe names only the handler (docs/luo-model.md §4 "What call_site=
   * shows"); the built-in test FLBs (LIVEUPDATE_TEST_FLB_COMPATIBLE, include/linux/kho/abi/luo.h)
   * have no owner module, so they take no module reference and are left out.
   */
  ownFlb(segment: number, module: string, handler: string | null): string | null {
    const names = new Set<string>();
    const take = (r: { what: string; flb: string | null; module: string | null; segment: number; handler: string | null }) => {
      if (r.what !== 'flb' || r.flb === null || r.module !== module || r.segment !== segment) return;
      if (r.flb.startsWith(TEST_FLB_PREFIX) || (handler !== null && r.handler !== null && r.handler !== handler)) return;
      names.add(r.flb);
    };
    for (const r of this.registrations) if (r.action === 'register' && (r.ret === null || r.ret >= 0)) take(r);
    // The names of the calls past the row cap (only those that did not fail).
    for (const r of this.names.values()) take(r);
    return names.size === 1 ? [...names][0] : null;
  }

  /** The calls past the row cap of these segments, counted by class (BootJson.registrationsOmitted), and the names not kept. */
  omittedJson(segIds: Set<number>): Pick<BootJson, 'registrationsOmitted' | 'registrationNamesOmitted'> {
    const classes = this.past.json(segIds);
    let names = 0;
    for (const [seg, n] of this.namesOmitted) if (segIds.has(seg)) names += n;
    return { ...(classes.length ? { registrationsOmitted: classes } : {}), ...(names ? { registrationNamesOmitted: names } : {}) };
  }

  /** A call past the row cap of its segment: counted as 'no-return' until its return is seen. */
  private countPast(spec: (typeof FUNCS)[string], segment: number, module: string | null, handler: string | null, flb: string | null): Pending {
    const cls = this.past.of({ segment, module, action: spec.action, what: spec.what, outcome: 'no-return', error: null });
    cls.count++;
    let name: RegName | null = null;
    if (spec.action === 'register') {
      const key = [segment, nullable(module), spec.what, nullable(handler), nullable(flb)].join('\u0000');
      name = this.names.get(key) ?? null;
      if (name === null && this.names.size < this.limits.names) this.names.set(key, (name = { key, segment, module, what: spec.what, handler, flb, live: 0 }));
      if (name) name.live++;
      else this.namesOmitted.set(segment, (this.namesOmitted.get(segment) ?? 0) + 1);
    }
    return { cls, name };
  }

  /** The return of a call past the cap: moved to its outcome's class; a failed register keeps no name. */
  private returnedPast(p: Pending, ret: number | null): void {
    if (ret === null) return;
    const { count: _count, ...cls } = p.cls;
    p.cls.count--;
    const failed = ret < 0;
    this.past.of({ ...cls, outcome: failed ? 'failed' : 'ok', error: failed ? errnoName(ret) : null }).count++;
    if (failed && p.name && --p.name.live === 0) this.names.delete(p.name.key);
  }
}

/** A key part that tells null from any string (a trace may print any name, even an empty one). */
const nullable = (s: string | null): string => (s === null ? '\u0001' : `\u0002${s}`);

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
