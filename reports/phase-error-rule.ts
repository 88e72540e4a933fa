// The `phase-errors` check rule's data: every LUO phase that returned an error, named with its
// errno, and how severe each phase's failure is by default. rules.ts evaluates it with the others.
//
// Why these defaults: an outgoing preserve (or create, or a RETRIEVE_SESSION by name) that fails
// is refused to user space, which sees the error and can react; nothing preserved is lost
// (luo_preserve_file undoes its steps, docs/luo-model.md §1.3). A failed freeze aborts the live
// update (§6 "Freeze failure variant"); a failed deserialize, retrieve or finish in the new kernel
// loses or strands state that was handed over (§6 steps 8-11). Those are errors.
import { PHASE_OF_FUNCTION } from '../analyses/kernel/phases.js';
import type { AnalyzeReport } from '../analyses/report.js';

export type PhaseErrorSeverity = 'error' | 'warning' | 'off';

export const PHASE_ERROR_RULE = {
  'phase-errors': 'a LUO phase returned an error (preserve: warning; freeze, deserialize, retrieve, finish: error)',
} as const;

/** Per-phase severities that differ from the rule's own (`error`). */
export const PHASE_ERROR_DEFAULTS: Readonly<Record<string, PhaseErrorSeverity>> = {
  create: 'warning',
  preserve: 'warning',
  'retrieve-session': 'warning',
};

export interface FailedPhase {
  /** Phase name (create, preserve, freeze, retrieve, finish...). */
  phase: string;
  label: string;
  result: number;
  error: string | null;
  at: { file: string; line: number };
}

/** Failed phases a report counts but does not list (of sessions past its cap, or global phases past theirs), in words. */
export interface UnlistedFailures {
  phase: string;
  count: number;
  text: string;
}

/**
 * The failed phases of a report: those of sessions, then the boot-wide ones (liveupdate_reboot,
 * luo_session_deserialize...) unless a session phase of the same name already failed in that boot
 * (a failed luo_file_freeze makes luo_session_serialize and liveupdate_reboot fail too). `phases`:
 * how many phase instances there were to check, listed or only counted (phaseStats, globalPhasesOmitted).
 */
export function failedPhases(report: AnalyzeReport): { failed: FailedPhase[]; phases: number; unlisted: UnlistedFailures[] } {
  const failed: FailedPhase[] = [];
  const inBoot = new Set<string>();
  let phases = 0;
  const listedErrors = new Map<string, number>();
  for (const s of report.sessions) {
    const who = s.name ?? `#${s.id}`;
    for (const p of s.phases) {
      phases++;
      if (p.result === null || p.result >= 0) continue;
      const name = PHASE_OF_FUNCTION[p.func] ?? p.name;
      inBoot.add(`${s.boot}\u0000${name}`);
      listedErrors.set(p.name, (listedErrors.get(p.name) ?? 0) + 1);
      const at = { file: p.file, line: p.endLine ?? p.line };
      failed.push({ phase: name, label: `${p.name}${p.token ? ` of token ${p.token}` : ''} in ${s.side} session ${who} (boot ${s.boot})`, result: p.result, error: p.error, at });
    }
  }
  const unlisted: UnlistedFailures[] = [];
  phases += countedSessionFailures(report, inBoot, listedErrors, unlisted);
  for (const b of report.boots) {
    for (const p of b.globalPhases) {
      phases++;
      if (p.result === null || p.result >= 0) continue;
      const name = PHASE_OF_FUNCTION[p.func] ?? p.name;
      if (inBoot.has(`${b.id}\u0000${name}`)) continue;
      failed.push({ phase: name, label: `${p.name} (${p.func}, boot ${b.id})`, result: p.result, error: p.error, at: { file: p.file, line: p.endLine ?? p.line } });
    }
  }
  // Sessions beyond the listing cap are only counted (phaseStats): their errors count too.
  const listedCount = new Map<string, number>();
  for (const s of report.sessions) for (const p of s.phases) listedCount.set(p.name, (listedCount.get(p.name) ?? 0) + 1);
  for (const s of report.sessions) for (const t of s.phasesOmitted ?? []) listedCount.set(t.name, (listedCount.get(t.name) ?? 0) + t.count);
  for (const st of report.phaseStats ?? []) {
    phases += Math.max(0, st.count - (listedCount.get(st.phase) ?? 0));
    const more = st.errors - (listedErrors.get(st.phase) ?? 0);
    if (more > 0) unlisted.push({ phase: st.phase, count: more, text: `${more} more failed ${st.phase} in sessions the report does not list` });
  }
  return { failed, phases: phases + countedGlobalFailures(report, inBoot, unlisted), unlisted };
}

/** The failed calls of a tally of phases (by errno name), and in words: `EIO ×3, EBUSY ×1`. */
function tallyErrors(t: { errors: Record<string, number> }): { count: number; byErrno: string } {
  const errors = Object.entries(t.errors);
  return { count: errors.reduce((a, [, n]) => a + n, 0), byErrno: errors.map(([e, n]) => `${e} ×${n}`).join(', ') };
}

/**
 * A listed session's calls the report counts, not lists (phasesOmitted: freeze calls of earlier kexec
 * attempts): their failures go into `unlisted`, mark the boot's phase as failed in a session (as a
 * listed one does) and count in `listedErrors` (phaseStats has them too). Returns how many calls they are.
 */
function countedSessionFailures(report: AnalyzeReport, inBoot: Set<string>, listedErrors: Map<string, number>, unlisted: UnlistedFailures[]): number {
  let phases = 0;
  for (const s of report.sessions) {
    for (const t of s.phasesOmitted ?? []) {
      phases += t.count;
      const { count, byErrno } = tallyErrors(t);
      if (count === 0) continue;
      const name = PHASE_OF_FUNCTION[t.func] ?? t.name;
      inBoot.add(`${s.boot}\u0000${name}`);
      listedErrors.set(t.name, (listedErrors.get(t.name) ?? 0) + count);
      unlisted.push({ phase: name, count, text: `${count} more failed ${t.name} in ${s.side} session ${s.name ?? `#${s.id}`} (boot ${s.boot}) counted, not listed in the report (${byErrno})` });
    }
  }
  return phases;
}

/**
 * Global phases past the report's listing cap (globalPhasesOmitted, by name and function): their
 * failures go into `unlisted` as the listed ones would be judged (not where a session phase of the
 * name failed in the boot). Returns how many phases they are.
 */
function countedGlobalFailures(report: AnalyzeReport, inBoot: ReadonlySet<string>, unlisted: UnlistedFailures[]): number {
  let phases = 0;
  for (const b of report.boots) {
    for (const t of b.globalPhasesOmitted ?? []) {
      phases += t.count;
      const name = PHASE_OF_FUNCTION[t.func] ?? t.name;
      const { count, byErrno } = tallyErrors(t);
      if (count === 0 || inBoot.has(`${b.id}\u0000${name}`)) continue;
      unlisted.push({ phase: name, count, text: `${count} more failed ${t.name} (${t.func}, boot ${b.id}) counted, not listed in the report (${byErrno})` });
    }
  }
  return phases;
}

/** The severity of a failed `phase` under the rule's settings: the phase's own, else `*`, else the rule's. */
export function phaseErrorSeverity(phase: string, severity: PhaseErrorSeverity, phases: Readonly<Record<string, PhaseErrorSeverity>>): PhaseErrorSeverity {
  if (severity === 'off') return 'off';
  return phases[phase] ?? phases['*'] ?? severity;
}
