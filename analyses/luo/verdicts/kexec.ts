// Across kexec: kexec-freeze, once per boot that ran liveupdate_reboot (the freeze before kexec), and
// kexec-handover, once per boot with incoming sessions (docs/luo-model.md §6).
import { formatDuration } from '../../format.js';
import { defineVerdict, plural, result } from './verdict.js';

const kexecFreezeMeta = {
  id: 'kexec-freeze',
  severity: 'error',
  reasons: ['freeze-failed', 'froze'],
  rule: { description: 'liveupdate_reboot (the freeze before kexec) did not fail', absent: 'no liveupdate_reboot (freeze before kexec) in these inputs' },
} as const;

export const kexecFreeze = defineVerdict(kexecFreezeMeta, (s) => {
  return s.boots.flatMap((b) => {
    if (!b.kexec) return [];
    const frozen = s.sessions.filter((x) => x.boot === b.id && x.state === 'frozen');
    const failed = b.kexec.result !== null && b.kexec.result < 0;
    return [
      result(
        kexecFreezeMeta,
        failed ? 'freeze-failed' : 'froze',
        !failed,
        failed
          ? `liveupdate_reboot failed with ${b.kexec.result} ${b.kexec.error} at ${b.kexec.file}:${b.kexec.line}: the kexec was aborted`
          : `boot ${b.id}: liveupdate_reboot froze ${plural(frozen.length, 'session')} (${frozen.map((x) => x.name ?? `#${x.id}`).join(', ')}) in ${b.kexec.durationNs !== null ? formatDuration(b.kexec.durationNs) : 'unknown time'} before kexec`,
        [{ file: b.kexec.file, line: b.kexec.line }],
      ),
    ];
  });
});

const kexecHandoverMeta = {
  id: 'kexec-handover',
  severity: 'warning',
  reasons: ['all-finished', 'not-all-finished'],
} as const;

export const kexecHandover = defineVerdict(kexecHandoverMeta, (s) => {
  return s.boots
    .filter((b) => b.role === 'incoming' || b.role === 'both')
    .flatMap((b) => {
      const inc = s.sessions.filter((x) => x.boot === b.id && x.side === 'incoming');
      if (!inc.length) return [];
      const withPeer = inc.filter((x) => x.peer !== null);
      const finished = inc.filter((x) => x.state === 'finished');
      const prevBoot = s.boots.find((p) => p.id === b.id - 1);
      const all = finished.length === inc.length;
      return [
        result(
          kexecHandoverMeta,
          all ? 'all-finished' : 'not-all-finished',
          true,
          `boot ${b.id}: ${plural(inc.length, 'incoming session')} (${inc.map((x) => `${x.name ?? `#${x.id}`}: ${x.outcome}`).join('; ')})` + (prevBoot ? `; ${withPeer.length} joined by name to boot ${prevBoot.id}` : ''),
          inc.flatMap((x) => x.phases.slice(0, 1).map((p) => ({ file: p.file, line: p.line }))),
          all ? 'info' : 'warning',
        ),
      ];
    });
});
