// Does a later trace file continue the same kernel (boot) as an earlier one?
//
// One boot is often recorded in several files: the main trace, then a second window opened later on
// the same kernel (the lab's `rmmod -f` traced by a fresh ftrace instance, docs/luo-model.md §4
// "Unload behaviour"). Read as two boots, the second file's puts have no gets and the first file's
// pins never end (issue 14 case 5). A kexec'd or rebooted kernel can look alike: the same bzImage
// without KASLR loads the module at the same address, hands out the same heap pointers and similar
// pids (real lifecycle: luo_demo at 0xffffffffa04022c0 in both kernels). So a file joins the boot
// before it only on evidence that survives nothing but the same running kernel:
// - necessary: it starts after the earlier file ends (same clock, later times), it starts with no
//   boot line, and the earlier file did not enter liveupdate_reboot or start a new kernel;
// - and at least one identity fact:
//   - a hashed pointer (`%p`, e.g. contention_begin's lock) seen in both: the hash key is random per
//     boot (lib/vsprintf.c ptr_to_id), so an equal hash is the same boot;
//   - a module reference that continues: the module at the same address, referenced in the later
//     file before any load there, whose first `refcnt=` is the earlier file's last one plus that
//     event's change, with references held across the gap (an idle module, refcnt 1, is also what
//     a new kernel's freshly loaded module reads);
// - and no contradiction: the later file does not load a module the earlier one left loaded.
import type { EventOf, ModuleRefEvent, TraceEvent } from '../../parsers/event.js';
import { KIND_SLOTS, kindId, kindNumber } from './kinds.js';
import { RECENT_SLOTS, recentSlot } from './recent.js';

/** Hashed pointers remembered per segment (enough to find a shared one; memory bound). */
const MAX_HASHED = 256;

export interface ModuleFacts {
  address: string | null;
  /** The first reference event of the segment, unless the module was loaded in it first. */
  firstRef: { refcnt: number; delta: 1 | -1 } | null;
  loadedHere: boolean;
  lastRefcnt: number | null;
  freed: boolean;
}

export interface Identity {
  hashed: Set<string>;
  /**
   * Pointers already in `hashed`, each in a slot chosen by its length and last characters (recent.ts): most
   * lock events name a lock seen just before, found here by one comparison instead of a set lookup
   * (a set of a hundred locks that never fills was asked on every lock event: issue 17).
   */
  recentHashed: Array<string | null>;
  modules: Map<string, ModuleFacts>;
}

export const newIdentity = (): Identity => ({ hashed: new Set(), recentHashed: new Array<string | null>(RECENT_SLOTS).fill(null), modules: new Map() });

function facts(id: Identity, module: string): ModuleFacts {
  let m = id.modules.get(module);
  if (!m) id.modules.set(module, (m = { address: null, firstRef: null, loadedHere: false, lastRefcnt: null, freed: false }));
  return m;
}

/** What noteIdentity reads of each kind (by kind number): most kinds identify nothing. */
const NOTHING = 0;
const LOCK = 1;
const MODULE_REF = 2;
const MODULE_LOAD = 3;
const MODULE_FREE = 4;
const PROBE = 5;
const READS = new Uint8Array(KIND_SLOTS);
for (const k of ['contention_begin', 'contention_end', 'lock_acquire', 'lock_release'] as const) READS[kindNumber(k)] = LOCK;
for (const k of ['module_get', 'module_put'] as const) READS[kindNumber(k)] = MODULE_REF;
READS[kindNumber('module_load')] = MODULE_LOAD;
READS[kindNumber('module_free')] = MODULE_FREE;
for (const k of ['kprobe', 'fentry'] as const) READS[kindNumber(k)] = PROBE;

/** Remember what identifies the running kernel in this event. `kind`: its number (kinds.ts). */
export function noteIdentity(id: Identity, ev: TraceEvent, kind: number = kindId(ev.kind)): void {
  switch (READS[kind]) {
    case NOTHING:
      return;
    case LOCK: {
      const f = (ev as EventOf<'contention_begin' | 'contention_end' | 'lock_acquire' | 'lock_release'>).fields;
      if (!f.hashed) return;
      const slot = recentSlot(f.lock);
      // Only pointers already in the set are in recentHashed: a hit adds nothing.
      if (id.recentHashed[slot] === f.lock || id.hashed.size >= MAX_HASHED) return;
      id.hashed.add(f.lock);
      id.recentHashed[slot] = f.lock;
      return;
    }
    case MODULE_REF: {
      const r = ev as ModuleRefEvent;
      const m = facts(id, r.fields.module);
      if (m.lastRefcnt === null && !m.loadedHere) m.firstRef = { refcnt: r.fields.refcnt, delta: r.kind === 'module_get' ? 1 : -1 };
      m.lastRefcnt = r.fields.refcnt;
      return;
    }
    case MODULE_LOAD: {
      const m = facts(id, (ev as EventOf<'module_load'>).fields.module);
      if (m.lastRefcnt === null) m.loadedHere = true;
      m.freed = false;
      return;
    }
    case MODULE_FREE:
      facts(id, (ev as EventOf<'module_free'>).fields.module).freed = true;
      return;
    case PROBE: {
      // The lab's `luomod` probes on try_module_get/module_put print the module's address (real README §2).
      const args = (ev as EventOf<'kprobe' | 'fentry'>).fields.args;
      // `mod` first: most probes have none, and then `name` is not read.
      const mod = args.mod;
      const name = mod ? args.name : undefined;
      if (mod && name) {
        const m = facts(id, name.replace(/^"|"$/g, ''));
        m.address ??= mod;
      }
      return;
    }
    default:
      return;
  }
}

export interface Span {
  firstTime: number | null;
  lastTime: number | null;
  startedByBoot: boolean;
  kexecOut: boolean;
}

/**
 * Why `later` continues the kernel of `earlier` (one sentence per fact), or null when it may not:
 * see the file comment for the rules.
 */
export function continuation(earlier: Span & { identity: Identity }, later: Span & { identity: Identity }): string[] | null {
  if (later.startedByBoot || earlier.kexecOut) return null;
  if (earlier.lastTime === null || later.firstTime === null || later.firstTime < earlier.lastTime) return null;
  const why: string[] = [];
  for (const [name, m] of later.identity.modules) {
    const before = earlier.identity.modules.get(name);
    if (!before || before.freed) continue;
    // Loading a module the earlier file left loaded fails (-EEXIST) on the same kernel: a new kernel.
    if (m.loadedHere && before.lastRefcnt !== null) return null;
    if (m.address !== null && before.address !== null && m.address !== before.address) return null;
    const f = m.firstRef;
    if (f && before.lastRefcnt !== null && before.lastRefcnt > 1 && f.refcnt === before.lastRefcnt + f.delta && m.address !== null && m.address === before.address) {
      why.push(`${name} at ${m.address} goes on from refcnt ${before.lastRefcnt} to ${f.refcnt}`);
    }
  }
  const shared = [...later.identity.hashed].filter((h) => earlier.identity.hashed.has(h));
  if (shared.length) why.push(`${shared.length} hashed pointer${shared.length > 1 ? 's' : ''} in both (${shared.slice(0, 2).join(', ')}${shared.length > 2 ? ', …' : ''}: the hash key is per boot)`);
  if (!why.length) return null;
  return [`it starts ${((later.firstTime - earlier.lastTime) / 1e9).toFixed(3)} s after the earlier file ends (same clock)`, ...why];
}
