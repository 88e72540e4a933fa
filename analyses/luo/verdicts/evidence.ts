// Where the data a verdict needs may be missing: lost-event markers (ftrace `[LOST N EVENTS]`,
// bpftrace `Lost N events`), an overwritten ring buffer, or an input cut short. A verdict that would
// fail on what is missing says "inconclusive" instead, and what to do about it.
import type { DataQuality } from '../../../parsers/quality.js';
import { isLuoReference } from '../pin-kinds.js';
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

/** Did the inputs say anything about LUO at all (a probed LUO function, a session, a LUO module reference...)? */
export function hasLuoEvents(s: Section): boolean {
  return (
    s.probedFunctions.length > 0 ||
    s.sessions.length > 0 ||
    s.boots.some((b) => b.registrations.length > 0 || b.kexec !== null || b.globalPhases.length > 0) ||
    s.modules.some((m) => m.pinWindows.some(isLuoReference))
  );
}
