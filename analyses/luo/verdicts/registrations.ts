// no-unregister-errors: a PRE unregister returning -EBUSY leaves a dangling handler (docs/luo-model.md
// §7(b), (c)); registration-errors (information): register calls that returned an error.
// Both read the listed rows and the calls counted past the list's cap (registrationsOmitted), so
// the answer is the one of the whole trace; the failing rows are the evidence, the first
// MESSAGE_CAP named in the message, whose count stays the true one.
import { defineVerdict, MESSAGE_CAP, result, type Section } from './verdict.js';

type Row = Section['boots'][number]['registrations'][number];

/** The failing calls of `action`: the listed rows, and how many more were counted past the cap (and their errno names). */
function failures(s: Section, action: Row['action']): { rows: Row[]; counted: number; errors: Set<string | null> } {
  const rows = s.boots.flatMap((b) => b.registrations).filter((r) => r.action === action && r.result !== null && r.result < 0);
  let counted = 0;
  const errors = new Set<string | null>();
  for (const b of s.boots) {
    for (const c of b.registrationsOmitted ?? []) {
      if (c.action !== action || c.outcome !== 'failed') continue;
      counted += c.count;
      errors.add(c.error);
    }
  }
  return { rows, counted, errors };
}

/** "…; and N more": the failures past MESSAGE_CAP listed in the report, and the counted calls (not listed). */
function more(listedPast: number, counted: number): string {
  const parts = [listedPast ? `${listedPast} more listed in the report` : '', counted ? `${counted} more counted past the report's list` : ''].filter(Boolean);
  return parts.length ? `; and ${parts.join(', ')}` : '';
}

const noUnregisterErrorsMeta = {
  id: 'no-unregister-errors',
  severity: 'error',
  reasons: ['unregister-failed', 'all-succeeded', 'no-unregister'],
  rule: { description: 'no liveupdate_unregister_* returned an error (luo-model.md §7(c))' },
} as const;

export const noUnregisterErrors = defineVerdict(noUnregisterErrorsMeta, (s) => {
  const def = noUnregisterErrorsMeta;
  const f = failures(s, 'unregister');
  if (f.rows.length || f.counted) {
    const named = f.rows
      .slice(0, MESSAGE_CAP)
      .map((r) => `${r.what === 'flb' ? `liveupdate_unregister_flb(${r.flb ?? '?'})` : `liveupdate_unregister_file_handler(${r.handler ?? '?'})`} of ${r.module ?? 'an unknown module'} returned ${r.result} ${r.error ?? ''} at ${r.file}:${r.line}: the handler stays registered after its module is gone`)
      .join('; ');
    const head = named || `${f.counted} liveupdate_unregister_* calls returned an error: their handlers stay registered after their modules are gone`;
    return [result(def, 'unregister-failed', false, head + more(f.rows.length - Math.min(MESSAGE_CAP, f.rows.length), named ? f.counted : 0), f.rows.map((r) => ({ file: r.file, line: r.line })))];
  }
  const anyUnregister = s.boots.some((b) => b.registrations.some((r) => r.action === 'unregister') || (b.registrationsOmitted ?? []).some((c) => c.action === 'unregister' && c.count > 0));
  return anyUnregister
    ? [result(def, 'all-succeeded', true, 'every unregister succeeded', [], 'info')]
    : [result(def, 'no-unregister', 'n/a', 'no unregister seen', [], 'info')];
});

const registrationErrorsMeta = {
  id: 'registration-errors',
  severity: 'info',
  reasons: ['register-failed'],
} as const;

export const registrationErrors = defineVerdict(registrationErrorsMeta, (s) => {
  const f = failures(s, 'register');
  if (!f.rows.length && !f.counted) return [];
  const named = f.rows.slice(0, MESSAGE_CAP).map((r) => `liveupdate_register_${r.what === 'flb' ? 'flb' : 'file_handler'}(${r.flb ?? r.handler ?? '?'}) returned ${r.result} ${r.error ?? ''} at ${r.file}:${r.line}`).join('; ');
  const head = named || `${f.counted} liveupdate_register_* calls returned an error`;
  const allEexist = f.rows.every((r) => r.result === -17) && [...f.errors].every((e) => e === 'EEXIST');
  return [
    result(
      registrationErrorsMeta,
      'register-failed',
      true,
      head + more(f.rows.length - Math.min(MESSAGE_CAP, f.rows.length), named ? f.counted : 0) + (allEexist ? ' (EEXIST: with CONFIG_LIVEUPDATE_TEST one test FLB is registered twice on purpose)' : ''),
      f.rows.map((r) => ({ file: r.file, line: r.line })),
    ),
  ];
});
