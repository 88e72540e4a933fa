// The module table's bound (issue #15): a trace can name any number of modules (10^5 distinct
// modules once took 450 MB), and the refcount, pin and module rows are all keyed by module. One
// decision per module, shared by every reducer of luo.ts, so that a module's refcounts and its pin
// windows stay in the same row: past the cap, a module the verdicts do not need is folded into one
// "(other N)" module (FOLD_MODULE) whose gets and puts stay true totals.
//
// Needed by the verdicts, so admitted up to the hard cap: a module referenced by LUO itself (a
// luo-file, luo-flb or registration call site, docs/luo-model.md §4), through its own file
// operations (vfs: an open file explains an open pin), or by a task inside a LUO call.
import type { EventKind, TraceEvent } from '../../parsers/event.js';
import { classifyCallSite } from '../kernel/kernel-models.js';
import { limits, NameBudget, type TableLimits } from '../../parsers/name-table.js';
import type { LuoCallTracker } from '../stream/luo-calls.js';
import { isLuoReference } from './pin-kinds.js';

/** Modules kept by name (a kernel has a few hundred), and up to 32768 the verdicts need (LUO or VFS references). */
export const MODULE_LIMITS = limits(1024, 32768);
/** The name folded modules are counted under; the report labels the row with `folded`. */
export const FOLD_MODULE = '(other)';

export class ModuleNames {
  /** The kinds admit reads (LuoAnalysis routes only these to it). */
  static readonly kinds: readonly EventKind[] = ['module_get', 'module_put', 'module_load', 'module_free'];
  private readonly kept = new Set<string>();
  readonly budget: NameBudget;

  constructor(
    private readonly calls: LuoCallTracker,
    lim: TableLimits = MODULE_LIMITS,
  ) {
    this.budget = new NameBudget(lim);
  }

  /** Decide, once per event, whether its module keeps its own name (called before the reducers see the event). */
  admit(ev: TraceEvent): void {
    let module: string;
    let site: string | null = null;
    switch (ev.kind) {
      case 'module_get':
      case 'module_put':
        module = ev.fields.module;
        site = ev.fields.callSite;
        break;
      case 'module_load':
      case 'module_free':
        module = ev.fields.module;
        break;
      default:
        return;
    }
    if (this.kept.has(module)) return;
    if (this.budget.admit(false) || (this.needed(ev, site) && this.budget.admit(true))) this.kept.add(module);
    else this.budget.fold(module);
  }

  private needed(ev: TraceEvent, site: string | null): boolean {
    if (site !== null) {
      const cls = classifyCallSite(site.replace(/\+0x[0-9a-f]+(\/0x[0-9a-f]+)?$/i, ''));
      if (isLuoReference({ class: cls }) || cls === 'vfs') return true;
    }
    return this.calls.openCalls(ev.src, ev.pid).length > 0;
  }

  /** The name a module is counted under: its own, or FOLD_MODULE. */
  of(module: string): string {
    return this.kept.has(module) ? module : FOLD_MODULE;
  }

  /** Is this name the fold row (and not a kept module of that name)? */
  isFold(module: string): boolean {
    return module === FOLD_MODULE && !this.kept.has(module);
  }
}
