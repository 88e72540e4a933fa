// The verdicts a user reads first: did every module get unpinned, was anything pinned with no
// session, did unregister fail, do the refcounts add up, was a module unloaded under its pins.
// Each verdict names the module, session, call site and lines that prove it.
//
// Rules (luo-model.md §7 "Failure modes ... written as trace patterns" and "What correct POST traces
// look like"):
// - modules-unpinned-after-finish: every LUO pin of a session that finished (new kernel) or was
//   aborted (old kernel) is released; pins held by sessions frozen for kexec are expected to stay;
// - no-pins-outside-sessions: a module_get at registration (call_site liveupdate_register_*) is the
//   PRE signature (§7(a)), and so is any LUO pin taken while no session exists;
// - no-unregister-errors: a PRE unregister returning -EBUSY leaves a dangling handler (§7(b), (c));
// - refcounts-balanced: refcnt= agrees with the gets and puts seen, no put without a get;
// - no-forced-unload-with-pins: module_free while references beyond the base remain (§7(b));
// - rmmod-while-pinned (information): delete_module refused with -EWOULDBLOCK while sessions pin
//   the module is the correct POST behaviour (§7 "rmmod M during an active session");
// - no-lost-events: the trace says events were lost; results across those gaps are incomplete.
import type { DataQuality } from '../../parsers/quality.js';
import type { LuoSection, Verdict } from './schema.js';

type Section = Omit<LuoSection, 'verdicts'>;
type At = { file: string; line: number };

function verdict(id: string, ok: boolean, severity: Verdict['severity'], message: string, at: At[] = []): Verdict {
  const uniq = new Map(at.map((a) => [`${a.file}:${a.line}`, a]));
  const list = [...uniq.values()].slice(0, 50);
  return { id, ok, severity: ok ? (severity === 'error' ? 'info' : severity) : severity, message, evidence: list.map((a) => a.line), evidenceAt: list };
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function buildVerdicts(s: Section, quality: DataQuality): Verdict[] {
  const out: Verdict[] = [];
  const windows = s.modules.flatMap((m) => m.pinWindows);
  const luoWindows = windows.filter((w) => w.class === 'luo-file' || w.class === 'luo-flb');

  // 1. modules unpinned after finish / abort
  const leaks = luoWindows.filter((w) => w.putLine === null && w.expectedOpen === null);
  const endedSessions = s.sessions.filter((x) => x.state === 'finished' || x.state === 'aborted');
  if (leaks.length > 0) {
    const parts = leaks.slice(0, 5).map((w) => {
      const who = w.session ? `session ${w.session}` : w.sessionId !== null ? `session #${w.sessionId}` : 'no known session';
      return `${w.module} (${who}, call_site=${w.getCallSite}, ${w.file}:${w.getLine})`;
    });
    out.push(
      verdict(
        'modules-unpinned-after-finish',
        false,
        'error',
        `${plural(leaks.length, 'module pin')} left after finish/abort: ${parts.join('; ')}${leaks.length > 5 ? '; …' : ''}`,
        leaks.map((w) => ({ file: w.file, line: w.getLine })),
      ),
    );
  } else if (endedSessions.length > 0) {
    const released = luoWindows.filter((w) => w.putLine !== null);
    const mods = [...new Set(released.map((w) => w.module))];
    const sites = [...new Set(released.map((w) => w.putCallSite))].filter(Boolean);
    out.push(
      verdict(
        'modules-unpinned-after-finish',
        true,
        'info',
        mods.length
          ? `all modules unpinned after finish/abort: ${mods.join(', ')} (${plural(released.length, 'pin')} released by ${sites.join(', ')}; ${plural(endedSessions.length, 'session')} ended)`
          : `${plural(endedSessions.length, 'session')} ended; no module pins were involved (built-in handlers such as memfd take none)`,
        released.slice(0, 20).map((w) => ({ file: w.file, line: w.putLine as number })),
      ),
    );
  } else {
    const held = luoWindows.filter((w) => w.putLine === null);
    out.push(
      verdict(
        'modules-unpinned-after-finish',
        true,
        'info',
        held.length
          ? `no session finished or aborted in these inputs; ${plural(held.length, 'LUO pin')} held by open or kexec-bound sessions`
          : 'no session finished or aborted in these inputs',
      ),
    );
  }

  // 2. pins outside sessions (PRE signature)
  const regPins = windows.filter((w) => w.class === 'luo-registration' && w.getCallSite.startsWith('liveupdate_register'));
  const noSession = luoWindows.filter((w) => w.sessionId === null && w.luoFunction === null && w.flow === 'outgoing');
  if (regPins.length > 0) {
    const w = regPins[0];
    out.push(
      verdict(
        'no-pins-outside-sessions',
        false,
        'error',
        `${w.module} pinned with no session in progress: module_get call_site=${w.getCallSite} at ${w.file}:${w.getLine} (pre-series kernel: pinned for as long as it is registered, so rmmod is refused even without sessions)${regPins.length > 1 ? `; ${regPins.length - 1} more` : ''}`,
        regPins.map((x) => ({ file: x.file, line: x.getLine })),
      ),
    );
  } else if (noSession.length > 0 && s.probedFunctions.length > 0) {
    const w = noSession[0];
    out.push(
      verdict(
        'no-pins-outside-sessions',
        false,
        'warning',
        `${w.module} pinned (call_site=${w.getCallSite}, ${w.file}:${w.getLine}) outside any traced LUO call`,
        noSession.map((x) => ({ file: x.file, line: x.getLine })),
      ),
    );
  } else {
    out.push(verdict('no-pins-outside-sessions', true, 'info', 'no module was pinned outside a session'));
  }

  // 3. unregister errors
  const regs = s.boots.flatMap((b) => b.registrations);
  const unregErr = regs.filter((r) => r.action === 'unregister' && r.result !== null && r.result < 0);
  out.push(
    unregErr.length
      ? verdict(
          'no-unregister-errors',
          false,
          'error',
          unregErr
            .map((r) => `${r.what === 'flb' ? `liveupdate_unregister_flb(${r.flb ?? '?'})` : `liveupdate_unregister_file_handler(${r.handler ?? '?'})`} of ${r.module ?? 'an unknown module'} returned ${r.result} ${r.error ?? ''} at ${r.file}:${r.line}: the handler stays registered after its module is gone`)
            .join('; '),
          unregErr.map((r) => ({ file: r.file, line: r.line })),
        )
      : verdict('no-unregister-errors', true, 'info', regs.some((r) => r.action === 'unregister') ? 'every unregister succeeded' : 'no unregister seen'),
  );
  const regErr = regs.filter((r) => r.action === 'register' && r.result !== null && r.result < 0);
  if (regErr.length) {
    out.push(
      verdict(
        'registration-errors',
        true,
        'info',
        regErr.map((r) => `liveupdate_register_${r.what === 'flb' ? 'flb' : 'file_handler'}(${r.flb ?? r.handler ?? '?'}) returned ${r.result} ${r.error ?? ''} at ${r.file}:${r.line}`).join('; ') +
          (regErr.every((r) => r.result === -17) ? ' (EEXIST: with CONFIG_LIVEUPDATE_TEST one test FLB is registered twice on purpose)' : ''),
        regErr.map((r) => ({ file: r.file, line: r.line })),
      ),
    );
  }

  // 4. refcount balance
  const mism = s.modules.filter((m) => m.refcntMismatchCount > 0);
  const orphanPuts = s.modules.flatMap((m) => m.putsWithoutGet.map((p) => ({ ...p, module: m.name })));
  if (mism.length || orphanPuts.length) {
    const parts: string[] = [];
    for (const m of mism) {
      const f = m.refcntMismatches[0];
      parts.push(`${m.name}: refcnt=${f.actual} where the events seen give ${f.expected} at ${f.file}:${f.line} (call_site=${f.callSite}; ${plural(m.refcntMismatchCount, 'disagreement')}: lost events or an untraced __module_get)`);
    }
    for (const p of orphanPuts.slice(0, 5)) {
      parts.push(`${p.module}: module_put call_site=${p.callSite} at ${p.file}:${p.line} has no matching get${p.reason === 'after-gap' ? ' (probably lost in a gap)' : ''}`);
    }
    out.push(
      verdict('refcounts-balanced', false, 'error', parts.join('; '), [
        ...mism.flatMap((m) => m.refcntMismatches.map((x) => ({ file: x.file, line: x.line }))),
        ...orphanPuts.map((p) => ({ file: p.file, line: p.line })),
      ]),
    );
  } else if (s.modules.length) {
    out.push(
      verdict(
        'refcounts-balanced',
        true,
        'info',
        `refcounts add up: ${s.modules.map((m) => `${m.name}${s.boots.length > 1 ? ` (boot ${m.boot})` : ''} ${m.gets} gets, ${m.puts} puts, refcnt ${m.firstRefcnt ?? '?'}→${m.finalRefcnt ?? '?'}`).join('; ')}`,
      ),
    );
  } else {
    out.push(verdict('refcounts-balanced', true, 'info', 'no module reference events in these inputs'));
  }

  // 5. forced unload with pins outstanding
  const forcedFrees = s.modules.flatMap((m) =>
    m.freed.filter((f) => f.refcnt !== null && f.refcnt > 1).map((f) => ({ ...f, module: m.name, open: m.openPins })),
  );
  const forcedRmmod = s.boots.flatMap((b) => b.rmmod.filter((r) => r.forced));
  if (forcedFrees.length) {
    out.push(
      verdict(
        'no-forced-unload-with-pins',
        false,
        'error',
        forcedFrees
          .map((f) => `${f.module} freed at ${f.file}:${f.line} while its refcnt was ${f.refcnt} (${f.refcnt! - 1} references beyond the base${f.open ? `, ${plural(f.open, 'LUO pin')} open` : ''}): forced unload leaves LUO pointing at freed handler code`)
          .join('; '),
        [...forcedFrees.map((f) => ({ file: f.file, line: f.line })), ...forcedRmmod.map((r) => ({ file: r.file, line: r.line }))],
      ),
    );
  } else {
    out.push(verdict('no-forced-unload-with-pins', true, 'info', forcedRmmod.length ? `${plural(forcedRmmod.length, 'forced rmmod')} but no module was freed while referenced` : 'no module was unloaded while referenced'));
  }

  // 6. rmmod refused while pinned (information) and successful unloads
  const refused = s.boots.flatMap((b) => b.rmmod.filter((r) => r.result !== null && r.result < 0));
  const done = s.boots.flatMap((b) => b.rmmod.filter((r) => r.result === 0));
  if (refused.length || done.length) {
    const parts: string[] = [];
    if (refused.length) {
      const r = refused[0];
      parts.push(
        `rmmod ${r.module ?? '?'} refused ${refused.length > 1 ? `${refused.length}× ` : ''}with ${r.result} ${r.error === 'EAGAIN' ? 'EAGAIN/EWOULDBLOCK' : r.error} (first at ${r.file}:${r.line}${r.refcntBefore !== null ? `, refcnt ${r.refcntBefore}: ${r.refcntBefore - 1} references held` : ''}): correct while sessions pin the module`,
      );
    }
    if (done.length) parts.push(`rmmod ${[...new Set(done.map((d) => d.module ?? '?'))].join(', ')} succeeded at ${done.map((d) => `${d.file}:${d.line}`).join(', ')}`);
    out.push(verdict('rmmod', true, 'info', parts.join('; '), [...refused, ...done].map((r) => ({ file: r.file, line: r.line }))));
  }

  // 7. failed phases (errors returned by LUO functions)
  const failedPhases = s.sessions.flatMap((x) => x.phases.filter((p) => p.error).map((p) => ({ s: x, p })));
  if (failedPhases.length) {
    out.push(
      verdict(
        'phase-errors',
        true,
        'warning',
        failedPhases
          .slice(0, 6)
          .map(({ s: x, p }) => `${p.name}${p.token ? ` of token ${p.token}` : ''} in session ${x.name ?? `#${x.id}`} returned ${p.result} ${p.error} (${p.file}:${p.endLine ?? p.line})`)
          .join('; ') + (failedPhases.length > 6 ? `; ${failedPhases.length - 6} more` : ''),
        failedPhases.map(({ p }) => ({ file: p.file, line: p.endLine ?? p.line })),
      ),
    );
  }

  // 8. across kexec
  for (const b of s.boots) {
    if (!b.kexec) continue;
    const frozen = s.sessions.filter((x) => x.boot === b.id && x.state === 'frozen');
    out.push(
      verdict(
        'kexec-freeze',
        b.kexec.result === null || b.kexec.result >= 0,
        'error',
        b.kexec.result !== null && b.kexec.result < 0
          ? `liveupdate_reboot failed with ${b.kexec.result} ${b.kexec.error} at ${b.kexec.file}:${b.kexec.line}: the kexec was aborted`
          : `boot ${b.id}: liveupdate_reboot froze ${plural(frozen.length, 'session')} (${frozen.map((x) => x.name ?? `#${x.id}`).join(', ')}) in ${b.kexec.durationNs !== null ? `${(b.kexec.durationNs / 1e6).toFixed(3)} ms` : 'unknown time'} before kexec`,
        [{ file: b.kexec.file, line: b.kexec.line }],
      ),
    );
  }
  const incomingBoots = s.boots.filter((b) => b.role === 'incoming' || b.role === 'both');
  for (const b of incomingBoots) {
    const inc = s.sessions.filter((x) => x.boot === b.id && x.side === 'incoming');
    const withPeer = inc.filter((x) => x.peer !== null);
    const finished = inc.filter((x) => x.state === 'finished');
    if (!inc.length) continue;
    const prevBoot = s.boots.find((p) => p.id === b.id - 1);
    out.push(
      verdict(
        'kexec-handover',
        true,
        finished.length === inc.length ? 'info' : 'warning',
        `boot ${b.id}: ${plural(inc.length, 'incoming session')} (${inc.map((x) => `${x.name ?? `#${x.id}`}: ${x.outcome}`).join('; ')})` +
          (prevBoot ? `; ${withPeer.length} joined by name to boot ${prevBoot.id}` : ''),
        inc.flatMap((x) => x.phases.slice(0, 1).map((p) => ({ file: p.file, line: p.line }))),
      ),
    );
  }

  // 9. data completeness
  const lostCpus = Object.entries(quality.lost);
  const lostTotal = lostCpus.reduce((a, [, l]) => a + l.events, 0);
  const incompleteWindows = windows.filter((w) => w.incomplete);
  if (quality.incomplete) {
    out.push(
      verdict(
        'no-lost-events',
        false,
        'warning',
        [
          lostCpus.length ? `${lostTotal}${lostCpus.some(([, l]) => l.countUnknown) ? '+' : ''} events lost (${lostCpus.map(([c, l]) => `CPU ${c}: ${l.events}${l.countUnknown ? '+' : ''}`).join(', ')})` : null,
          quality.overwritten.length ? `ring buffer overwritten in ${quality.overwritten.map((o) => o.file).join(', ')}` : null,
          quality.truncated ? 'input truncated' : null,
          incompleteWindows.length ? `${plural(incompleteWindows.length, 'pin window')} cross a gap and are marked incomplete` : null,
        ]
          .filter(Boolean)
          .join('; '),
        lostCpus.flatMap(([, l]) => l.at.map((a) => ({ file: a.file, line: a.line }))),
      ),
    );
  } else {
    out.push(verdict('no-lost-events', true, 'info', 'no events were reported lost'));
  }
  return out;
}
