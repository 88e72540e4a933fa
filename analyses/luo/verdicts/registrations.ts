// no-unregister-errors: a PRE unregister returning -EBUSY leaves a dangling handler (docs/luo-model.md
// §7(b), (c)); registration-errors (information): register calls that returned an error.
import { defineVerdict, result } from './verdict.js';

const noUnregisterErrorsMeta = {
  id: 'no-unregister-errors',
  severity: 'error',
  reasons: ['unregister-failed', 'all-succeeded', 'no-unregister'],
  rule: { description: 'no liveupdate_unregister_* returned an error (luo-model.md §7(c))' },
} as const;

export const noUnregisterErrors = defineVerdict(noUnregisterErrorsMeta, (s) => {
  const def = noUnregisterErrorsMeta;
  const regs = s.boots.flatMap((b) => b.registrations);
  const unregErr = regs.filter((r) => r.action === 'unregister' && r.result !== null && r.result < 0);
  if (unregErr.length) {
    return [
      result(
        def,
        'unregister-failed',
        false,
        unregErr
          .map((r) => `${r.what === 'flb' ? `liveupdate_unregister_flb(${r.flb ?? '?'})` : `liveupdate_unregister_file_handler(${r.handler ?? '?'})`} of ${r.module ?? 'an unknown module'} returned ${r.result} ${r.error ?? ''} at ${r.file}:${r.line}: the handler stays registered after its module is gone`)
          .join('; '),
        unregErr.map((r) => ({ file: r.file, line: r.line })),
      ),
    ];
  }
  return regs.some((r) => r.action === 'unregister')
    ? [result(def, 'all-succeeded', true, 'every unregister succeeded', [], 'info')]
    : [result(def, 'no-unregister', 'n/a', 'no unregister seen', [], 'info')];
});

const registrationErrorsMeta = {
  id: 'registration-errors',
  severity: 'info',
  reasons: ['register-failed'],
} as const;

export const registrationErrors = defineVerdict(registrationErrorsMeta, (s) => {
  const regErr = s.boots.flatMap((b) => b.registrations).filter((r) => r.action === 'register' && r.result !== null && r.result < 0);
  if (!regErr.length) return [];
  return [
    result(
      registrationErrorsMeta,
      'register-failed',
      true,
      regErr.map((r) => `liveupdate_register_${r.what === 'flb' ? 'flb' : 'file_handler'}(${r.flb ?? r.handler ?? '?'}) returned ${r.result} ${r.error ?? ''} at ${r.file}:${r.line}`).join('; ') +
        (regErr.every((r) => r.result === -17) ? ' (EEXIST: with CONFIG_LIVEUPDATE_TEST one test FLB is registered twice on purpose)' : ''),
      regErr.map((r) => ({ file: r.file, line: r.line })),
    ),
  ];
});
