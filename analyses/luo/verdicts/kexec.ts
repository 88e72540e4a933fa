// Across kexec: kexec-freeze, once per boot that ran liveupdate_reboot (the freeze before kexec), and
// kexec-handover, once per boot with incoming sessions (docs/luo-model.md §6).
import { formatDuration } from '../../format.js';
import { defineVerdict, joinNamed, plural, result, type Section } from './verdict.js';

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
    if (failed) return [freezeFailed(s, b)];
    const took = b.kexec.durationNs !== null ? formatDuration(b.kexec.durationNs) : 'unknown time';
    const sets = b.kexec.frozenSets ?? 0;
    // Freezes no session could be joined to (their file_set is not in the trace, e.g. function_graph).
    const what = frozen.length
      ? `froze ${plural(frozen.length, 'session')} (${joinNamed(frozen, (x) => x.name ?? `#${x.id}`, 'sessions', ', ')})`
      : sets > 0
        ? `froze ${plural(sets, 'file set')} (luo_file_freeze ×${sets}; which sessions they belong to is not in the trace: no file_set to join them)`
        : 'froze no file set (no session had files to freeze, or luo_file_freeze was not traced)';
    return [
      result(
        kexecFreezeMeta,
        'froze',
        true,
        `boot ${b.id}: liveupdate_reboot ${what} in ${took} before kexec`,
        [{ file: b.kexec.file, line: b.kexec.line }],
      ),
    ];
  });
});

/**
 * A failed live update, as the kernel reports it (docs/luo-model.md §6 "Freeze failure variant"): the
 * failing returns (liveupdate_reboot, then reboot()), the file whose freeze() failed (token,
 * handler, errno: the "Freeze failed" log line of luo_file_freeze), the rollback, and what became of
 * the sessions afterwards.
 */
function freezeFailed(s: Section, b: Section['boots'][number]) {
  const k = b.kexec!;
  const name = (id: number | null) => {
    const x = id === null ? undefined : s.sessions.find((y) => y.id === id);
    return x ? (x.name ?? `#${x.id}`) : null;
  };
  const at = (a: { file: string; line: number }) => `${a.file}:${a.line}`;
  const ret = { file: k.file, line: k.endLine ?? k.line };
  const sys = k.syscall ? `reboot(LINUX_REBOOT_CMD_KEXEC) returned ${k.syscall.result}${k.syscall.error ? ` ${k.syscall.error}` : ''} (${at(k.syscall)})` : 'reboot() returned it';
  const parts =
    k.source === 'log'
      ? [`boot ${b.id}: the live update failed: luo_file_freeze logged "Freeze failed" (${at(ret)}), so liveupdate_reboot (not probed) and ${k.syscall ? sys : 'reboot()'} returned the error, \`kexec -e\` failed and the old kernel ran on`]
      : [`boot ${b.id}: the live update failed: liveupdate_reboot returned ${k.result} ${k.error} (${at(ret)}) and ${sys}, so \`kexec -e\` failed and the old kernel ran on`];
  const f = k.failure;
  if (f) {
    const who = name(f.sessionId);
    const what = [f.handler ? `handler ${f.handler}` : null, who ? `session ${who}` : null].filter(Boolean).join(', ');
    const errno = `${f.result ?? '?'}${f.error ? ` ${f.error}` : ''}`;
    if (f.token !== null) parts.push(`freeze() of token ${f.token}${what ? ` (${what})` : ''} failed with ${errno} (${at(f)})`);
    else parts.push(`a freeze() failed with ${errno}${what ? ` (${what})` : ''} (${at(f)}); its token and handler are only in the console log (luo_file_freeze logs "Freeze failed for token[…] handler[…] err[…]"): add it`);
  } else parts.push('the file whose freeze() failed is not in these inputs (add the console log: luo_file_freeze logs "Freeze failed for token[…] handler[…] err[…]")');
  const rolled = k.rolledBack.map(name).filter((x): x is string => x !== null);
  if (rolled.length) parts.push(`rolled back: ${joinNamed(rolled, (x) => x, 'sessions', ', ')} unfrozen (luo_file_unfreeze)`);
  const mine = s.sessions.filter((x) => x.boot === b.id && x.side === 'outgoing');
  const aborted = mine.filter((x) => x.outcome.startsWith('aborted after the failed kexec'));
  const open = mine.filter((x) => x.state === 'open');
  if (aborted.length) parts.push(`closed after the failed kexec: ${joinNamed(aborted, (x) => x.name ?? `#${x.id}`, 'sessions', ', ')}`);
  if (open.length) parts.push(`still open at the end: ${joinNamed(open, (x) => x.name ?? `#${x.id}`, 'sessions', ', ')}`);
  const evidence = [...(k.source === 'log' ? [] : [ret]), ...(k.syscall ? [{ file: k.syscall.file, line: k.syscall.line }] : []), ...(f ? [{ file: f.file, line: f.line }] : []), ...(f?.freezeReturn ? [f.freezeReturn] : [])];
  return result(kexecFreezeMeta, 'freeze-failed', false, parts.join('; '), evidence);
}

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
          `boot ${b.id}: ${plural(inc.length, 'incoming session')} (${joinNamed(inc, (x) => `${x.name ?? `#${x.id}`}: ${x.outcome}`, 'sessions')})` + (prevBoot ? `; ${withPeer.length} joined by name to boot ${prevBoot.id}` : ''),
          inc.flatMap((x) => x.phases.slice(0, 1).map((p) => ({ file: p.file, line: p.line }))),
          all ? 'info' : 'warning',
        ),
      ];
    });
});
