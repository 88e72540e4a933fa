// Lock identity for the interval tracker: which lock each alias names (raw address, hashed lock
// pointer, lockdep map pointer, per source), merging two locks when evidence shows they are one
// (union-find on LockInstance.parent) and re-binding an alias when freed memory is reused by a lock
// of another name.
import type { LockType } from '../kernel/lock-model.js';
import { LockInstance } from './lock-intervals.js';

/** Alias namespaces: a = raw address, p = hashed lock pointer (tracefs %p), d = lockdep map pointer. */
export type AliasNs = 'a' | 'p' | 'd';

export class LockAliases {
  /** Alias -> lock, one map per source and namespace (see aliasesOf): no key string built per event. */
  private readonly aliases = new Map<number, Map<string, LockInstance>>();
  readonly instances: LockInstance[] = [];
  /** Aliases re-bound to another lock with a different name (memory reused by another lock). */
  rebinds = 0;

  private aliasesOf(src: number, ns: AliasNs): Map<string, LockInstance> {
    const slot = src * 3 + (ns === 'a' ? 0 : ns === 'p' ? 1 : 2);
    let m = this.aliases.get(slot);
    if (!m) this.aliases.set(slot, (m = new Map()));
    return m;
  }

  private newInstance(src: number): LockInstance {
    const inst = new LockInstance(this.instances.length, src);
    this.instances.push(inst);
    return inst;
  }

  /** The lock known under an alias, created on first sight. ns: a = raw address, p = hashed lock pointer, d = lockdep map. */
  instanceOf(src: number, ns: AliasNs, key: string): LockInstance {
    const aliases = this.aliasesOf(src, ns);
    const found = aliases.get(key);
    if (found) return found.root();
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
    const aliases = this.aliasesOf(target.src, ns);
    const existing = aliases.get(key)?.root();
    if (!existing) {
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
