// phase-errors (a warning, not a check rule yet): LUO functions of a session that returned an error.
import { defineVerdict, result } from './verdict.js';

const phaseErrorsMeta = {
  id: 'phase-errors',
  severity: 'warning',
  reasons: ['phase-failed'],
} as const;

export const phaseErrors = defineVerdict(phaseErrorsMeta, (s) => {
  const failedPhases = s.sessions.flatMap((x) => x.phases.filter((p) => p.error).map((p) => ({ s: x, p })));
  if (!failedPhases.length) return [];
  return [
    result(
      phaseErrorsMeta,
      'phase-failed',
      true,
      failedPhases
        .slice(0, 6)
        .map(({ s: x, p }) => `${p.name}${p.token ? ` of token ${p.token}` : ''} in session ${x.name ?? `#${x.id}`} returned ${p.result} ${p.error} (${p.file}:${p.endLine ?? p.line})`)
        .join('; ') + (failedPhases.length > 6 ? `; ${failedPhases.length - 6} more` : ''),
      failedPhases.map(({ p }) => ({ file: p.file, line: p.endLine ?? p.line })),
    ),
  ];
});
