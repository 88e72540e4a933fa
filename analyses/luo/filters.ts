// Report filters (`analyze --module --session --pid --since --until`): narrow what the report shows
// without changing how it was computed. Pairing always runs on the whole input (a filter applied
// to events would cut pin windows at its edges and invent leaks); the filter then keeps the
// sessions, modules and pin windows that match; the pipeline then evaluates the verdicts on what is kept.
import type { LuoSectionBody } from './schema.js';
import { inWindow, overlapsWindow } from '../stream/time-window.js';

export interface ReportFilters {
  module?: string;
  session?: string;
  pid?: number;
  /** Nanoseconds on the trace clock. */
  since?: number;
  until?: number;
}

export function hasFilters(f: ReportFilters): boolean {
  return f.module !== undefined || f.session !== undefined || f.pid !== undefined || f.since !== undefined || f.until !== undefined;
}

export function filterLuoSection(s: LuoSectionBody, f: ReportFilters): LuoSectionBody {
  if (!hasFilters(f)) return s;
  const sessions = s.sessions.filter((x) => {
    if (f.session !== undefined && x.name !== f.session) return false;
    if (f.pid !== undefined && x.pid !== f.pid && !x.phases.some((p) => p.pid === f.pid)) return false;
    const starts = x.phases.map((p) => p.start ?? p.end).filter((t): t is number => t !== null);
    const ends = x.phases.map((p) => p.end ?? p.start).filter((t): t is number => t !== null);
    return overlapsWindow(starts.length ? Math.min(...starts) : null, ends.length ? Math.max(...ends) : null, f.since, f.until);
  });
  const keptSessions = new Set(sessions.map((x) => x.id));
  const modules = s.modules
    .filter((m) => f.module === undefined || m.name === f.module)
    .map((m) => ({
      ...m,
      pinWindows: m.pinWindows.filter(
        (w) =>
          (f.session === undefined || (w.sessionId !== null && keptSessions.has(w.sessionId))) &&
          (f.pid === undefined || w.getPid === f.pid) &&
          (inWindow(w.getTime, f.since, f.until) || inWindow(w.putTime, f.since, f.until)),
      ),
    }))
    .filter((m) => f.session === undefined && f.pid === undefined && f.since === undefined && f.until === undefined ? true : m.pinWindows.length > 0 || f.module !== undefined);
  const boots = s.boots.map((b) => ({
    ...b,
    rmmod: b.rmmod.filter((r) => f.module === undefined || r.module === f.module),
    rmmodOmitted: ofModule(b.rmmodOmitted, f.module),
    registrations: b.registrations.filter((r) => f.module === undefined || r.module === f.module),
    registrationsOmitted: ofModule(b.registrationsOmitted, f.module),
  }));
  return { ...s, sessions, modules, boots };
}

/** The calls counted past a list's cap, of the module filtered on (all without --module; absent when none). */
function ofModule<T extends { module: string | null }>(list: T[] | undefined, module: string | undefined): T[] | undefined {
  if (list === undefined || module === undefined) return list;
  const kept = list.filter((c) => c.module === module);
  return kept.length ? kept : undefined;
}
