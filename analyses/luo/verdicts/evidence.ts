// Where the data a verdict needs may be missing: lost-event markers (ftrace `[LOST N EVENTS]`,
// bpftrace `Lost N events`), an overwritten ring buffer, or an input cut short. A verdict that would
// fail on what is missing says "inconclusive" instead, and what to do about it.
import type { DataQuality } from '../../../parsers/quality.js';
import { isLuoReference } from '../pin-kinds.js';
import { groupBy } from '../../lists.js';
import { globalPhaseCount, registrationCount } from '../schema.js';
import { LatestBefore } from './latest-before.js';
import type { At, Section } from './verdict.js';

/** What to do when events were lost: the same advice for every verdict that depends on them. */
export const RECORD_MORE =
  're-record with a bigger trace buffer (trace-cmd record -b, buffer_size_kb; bpftrace: a larger BPFTRACE_PERF_RB_PAGES) or fewer events traced';

/**
 * The first lost-event marker in `file` strictly between lines `from` and `to`, if any. A marker
 * that names no CPU (bpftrace's `Lost N events`, recorded under 'all') says neither where nor when:
 * bpftrace drains its per-CPU buffers in turn, so its lines are not in time order. It stands for the
 * whole file.
 */
export function lossBetween(quality: DataQuality, file: string, from: number, to: number): At | null {
  let best: At | null = null;
  for (const [cpu, l] of Object.entries(quality.lost)) {
    for (const a of l.at) {
      if (a.file !== file || (cpu !== 'all' && (a.line <= from || a.line >= to))) continue;
      if (best === null || a.line < best.line) best = { file: a.file, line: a.line };
    }
  }
  return best;
}

/** Was part of `file` overwritten in the ring buffer (the oldest events of a CPU are gone)? */
export function overwritten(quality: DataQuality, file: string): boolean {
  return quality.overwritten.some((o) => o.file === file);
}

type Rmmod = Section['boots'][number]['rmmod'][number];

/**
 * The delete_module call that freed a module at `file:line`: the last one of that module before the
 * free, in its file. A successful one without O_TRUNC proves the count was at the base when it ran:
 * try_stop_module (kernel/module/main.c) refuses with -EWOULDBLOCK while references remain unless
 * O_TRUNC forces it (docs/luo-model.md §4 "Unload behaviour").
 */
export function rmmodBefore(s: Section, module: string, file: string, line: number): Rmmod | null {
  // A long trace frees a module after each of thousands of rmmods: an index, not a scan per free.
  return rmmodsByModuleFile(s).get(`${module}\u0000${file}`)?.latest((r) => r.line < line) ?? null;
}

const rmmodIndex = new WeakMap<Section, Map<string, LatestBefore<Rmmod>>>();

/** A section's rmmods by module and file, by line, made once per section. */
function rmmodsByModuleFile(s: Section): Map<string, LatestBefore<Rmmod>> {
  let index = rmmodIndex.get(s);
  if (index) return index;
  const named = s.boots.flatMap((b) => b.rmmod).filter((r) => r.module !== null);
  const lists = groupBy(named, (r) => `${r.module}\u0000${r.file}`);
  index = new Map([...lists].map(([key, list]) => [key, new LatestBefore(list, (a, b) => a.line - b.line)]));
  rmmodIndex.set(s, index);
  return index;
}

/** Did the inputs say anything about LUO at all (a probed LUO function, a session, a LUO module reference...)? */
export function hasLuoEvents(s: Section): boolean {
  return (
    s.probedFunctions.length > 0 ||
    s.sessions.length > 0 ||
    s.boots.some((b) => registrationCount(b) > 0 || b.kexec !== null || globalPhaseCount(b) > 0) ||
    s.modules.some((m) => m.pinWindows.some(isLuoReference))
  );
}

/** What to do when refcnt= proves events missing although the trace reports no loss. */
export const RECORD_WHOLE =
  're-record and keep the whole record (a record cut mid-stream, or an event filter on module:module_get/module_put, drops events without a lost-events marker)';

type Mismatch = Section['modules'][number]['refcntMismatches'][number];

/**
 * A refcnt discontinuity in words: the kernel's own count (refcnt=, docs/luo-model.md §4 "The
 * refcnt field") changed by more than the events seen between the module's previous event and this
 * one, so that many module_put (refcnt fell) or module_get (it rose) events are missing from the
 * trace between the two lines.
 */
export function missingFromTrace(x: Mismatch): { kind: 'module_put' | 'module_get'; count: number; text: string } {
  const kind = x.actual < x.expected ? 'module_put' : 'module_get';
  const count = Math.abs(x.expected - x.actual);
  const what = count === 1 ? `a ${kind} is` : `${count} ${kind}s are`;
  const where = x.prevLine !== null ? `between line ${x.prevLine} and line ${x.line} of ${x.file}` : `before line ${x.line} of ${x.file}`;
  const p = x.prevRefcnt;
  const change = p === null ? `refcnt=${x.actual}` : p === x.actual ? `refcnt stays at ${p}` : `refcnt ${x.actual < p ? 'drops' : 'rises'} from ${p} to ${x.actual}`;
  return { kind, count, text: `${what} missing from the trace ${where} (${change}, where the events seen give ${x.expected})` };
}
