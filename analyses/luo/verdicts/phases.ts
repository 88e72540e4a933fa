// phase-errors (a warning, not a check rule yet): LUO functions of a session that returned an error.
import { defineVerdict, result } from './verdict.js';

const phaseErrorsMeta = {
  id: 'phase-errors',
  severity: 'warning',
  reasons: ['phase-failed'],
} as const;

export const phaseErrors = defineVerdict(phaseErrorsMeta, (s) => {
  const failedPhases = s.sessions.flatMap((x) => x.phases.filter((p) => p.error).map((p) => ({ s: x, p })));
  // Failed freeze calls of earlier kexec attempts a session counts, not lists (phasesOmitted).
  const counted = s.sessions.reduce((a, x) => a + (x.phasesOmitted ?? []).reduce((b, t) => b + Object.values(t.errors).reduce((c, n) => c + n, 0), 0), 0);
  if (!failedPhases.length && !counted) return [];
  const shown = Math.min(6, failedPhases.length);
  const more = failedPhases.length - shown + counted;
  return [
    result(
      phaseErrorsMeta,
      'phase-failed',
      true,
      failedPhases
        .slice(0, 6)
        .map(({ s: x, p }) => `${p.name}${p.token ? ` of token ${p.token}` : ''} in session ${x.name ?? `#${x.id}`} returned ${p.result} ${p.error} (${p.file}:${p.endLine ?? p.line})`)
        .join('; ') + (more > 0 ? `${shown ? '; ' : ''}${more} more${counted ? ` (${counted} counted, not listed: freeze calls of earlier kexec attempts)` : ''}` : ''),
      failedPhases.map(({ p }) => ({ file: p.file, line: p.endLine ?? p.line })),
    ),
  ];
});
