// Lock identity for the interval tracker: which lock each alias names (raw address, hashed lock
// pointer, lockdep map pointer, per source), merging two locks when evidence shows they are one
// (union-find on LockInstance.parent) and re-binding an alias when freed memory is reused by a lock
// of another name.
//
// Bounded (issue #15): a trace can name any number of locks (10^6 distinct contention addresses,
// 10^6 lockdep classes), and each lock costs its statistics (~11 KB). Past `cap` locks a new alias
// resolves to its source's fold lock (`folded`, one "(other N)" row): nothing is kept per folded
// name, the events still count in that row. Locks the verdicts need are admitted up to `hardCap`:
// the LUO locks (by lockdep name or trace symbol) and any lock a task touches inside a LUO call
// (the tracker says which, `protects`).
import type { LockType } from '../kernel/lock-model.js';
import { limits, NameBudget, type TableLimits } from '../../parsers/name-table.js';
import { LockInstance } from './lock-intervals.js';

/** Locks kept with their own statistics (each ~11 KB), and the LUO ones up to 4x as many. */
export const LOCK_LIMITS = limits(2048);
/** The name every fold lock carries (so that no event names it); section.ts labels its row `(other N)`. */
export const FOLD_LOCK_NAME = '(other)';

/** Alias namespaces: a = raw address, p = hashed lock pointer (tracefs %p), d = lockdep map pointer. */
export type AliasNs = 'a' | 'p' | 'd';

export class LockAliases {
  /** Alias -> lock, one map per source and namespace, at src * 3 + namespace (see aliasesOf): no key string built per event. */
  private readonly aliases: Array<Map<string, LockInstance> | undefined> = [];
  readonly instances: LockInstance[] = [];
  /** Aliases re-bound to another lock with a different name (memory reused by another lock). */
  rebinds = 0;
  /** Lock admission (cap, hard cap for protected locks) and what was folded. */
  readonly budget: NameBudget;
  /** Per source, the lock every folded alias resolves to. */
  private readonly folds = new Map<number, LockInstance>();
  /** Aliases recorded in all: bounded too (a kept lock can collect pointers by adjacency). */
  private aliasCount = 0;

  /** protects(src, pid, name, ns, key): does the verdicts' evidence need a lock this task touches now, under this lockdep name or alias? */
  constructor(
    lim: TableLimits = LOCK_LIMITS,
    private readonly protects: (src: number, pid: number | null, name: string | null, ns: AliasNs, key: string) => boolean = () => false,
  ) {
    this.budget = new NameBudget(lim);
  }

  /** The fold lock of a source, created on the first fold. */
  foldOf(src: number): LockInstance {
    let f = this.folds.get(src);
    if (!f) {
      f = this.newInstance(src);
      f.folded = true;
      f.name = FOLD_LOCK_NAME;
      this.folds.set(src, f);
    }
    return f;
  }

  private aliasesOf(src: number, ns: AliasNs): Map<string, LockInstance> {
    const slot = src * 3 + (ns === 'a' ? 0 : ns === 'p' ? 1 : 2);
    let m = this.aliases[slot];
    if (m === undefined) {
      // Sources are numbered densely from 0 (one per input file): fill the gap so that the array stays packed.
      while (this.aliases.length < slot) this.aliases.push(undefined);
      this.aliases[slot] = m = new Map();
    }
    return m;
  }

  private newInstance(src: number): LockInstance {
    const inst = new LockInstance(this.instances.length, src);
    this.instances.push(inst);
    return inst;
  }

  /**
   * The lock known under an alias, created on first sight while the table has room (else the fold
   * lock). ns: a = raw address, p = hashed lock pointer, d = lockdep map. Past the cap, `protects`
   * is asked about the task (pid) and the lockdep name (or trace symbol) the event gives.
   */
  instanceOf(src: number, ns: AliasNs, key: string, pid: number | null = null, name: string | null = null): LockInstance {
    const aliases = this.aliasesOf(src, ns);
    const found = aliases.get(key);
    if (found) return found.root();
    if (!this.budget.admit(false) && !(this.protects(src, pid, name, ns, key) && this.budget.admit(true))) {
      this.budget.fold(key);
      return this.foldOf(src);
    }
    this.aliasCount++;
    const inst = this.newInstance(src);
    this.setAliasField(inst, ns, key);
    aliases.set(key, inst);
    return inst;
  }

  lookup(src: number, ns: AliasNs, key: string): LockInstance | null {
    return this.aliasesOf(src, ns).get(key)?.root() ?? null;
  }

  private setAliasField(inst: LockInstance, ns: AliasNs, key: string): void {
    if (ns === 'a') inst.addr ??= key;
    else if (ns === 'p') inst.ptr ??= key;
    else inst.dep ??= key;
  }

  /** Tie an alias to a lock; merge the two locks when they can be the same one. */
  bindAlias(inst: LockInstance, ns: AliasNs, key: string): LockInstance {
    const target = inst.root();
    if (target.folded) return target;
    const aliases = this.aliasesOf(target.src, ns);
    const existing = aliases.get(key)?.root();
    if (!existing) {
      if (this.aliasCount >= this.budget.limits.hardCap * 4) return target;
      this.aliasCount++;
      aliases.set(key, target);
      this.setAliasField(target, ns, key);
      return target;
    }
    if (existing === target) return target;
    if ((existing.name !== null && target.name !== null && existing.name !== target.name) || (existing.addr !== null && target.addr !== null && existing.addr !== target.addr)) {
      // The same pointer now names another lock: heap memory reused (a freed session's mutex), or
      // two addresses claim one lockdep map (impossible for one lock: the map is inside it).
      aliases.set(key, target);
      this.setAliasField(target, ns, key);
      this.rebinds++;
      return target;
    }
    this.merge(existing, target);
    return target;
  }

  private merge(from: LockInstance, into: LockInstance): void {
    from.parent = into;
    into.addr ??= from.addr;
    into.ptr ??= from.ptr;
    into.dep ??= from.dep;
    into.name ??= from.name;
    into.sym ??= from.sym;
    if (into.type === null || into.type === 'unknown') into.type = from.type;
    into.evidence |= from.evidence;
    into.namedBindings += from.namedBindings;
    for (const a of from.holders) {
      a.inst = into;
      into.holders.push(a);
    }
    from.holders.length = 0;
    if (from.lastRelease && (!into.lastRelease || from.lastRelease.time > into.lastRelease.time)) into.lastRelease = from.lastRelease;
  }

  learnType(inst: LockInstance, type: LockType | null): void {
    if (type && type !== 'unknown' && (inst.type === null || inst.type === 'unknown')) inst.type = type;
  }
}
