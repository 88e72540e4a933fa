// modules-unpinned-after-finish: every session pin of a session that finished (new kernel) or was
// aborted (old kernel) is released; pins held by sessions frozen for kexec are expected to stay
// (docs/luo-model.md §4 "POST", §7).
import { classifyCallSite } from '../../kernel/kernel-models.js';
import { countByKind, isLeakedPin, isLuoPin, openReasonOf, pinWho } from '../pin-kinds.js';
import { hasLuoEvents, lossBetween, missingFromTrace, overwritten, RECORD_MORE, RECORD_WHOLE } from './evidence.js';
import { defineVerdict, joinNamed, plural, result } from './verdict.js';

const modulesUnpinnedAfterFinishMeta = {
  id: 'modules-unpinned-after-finish',
  severity: 'error',
  reasons: ['pins-left', 'put-may-be-lost', 'put-missing-from-trace', 'all-released', 'no-pins-involved', 'no-session-ended', 'no-luo-events'],
  rule: { description: 'every LUO module pin of a finished or aborted session is released (luo-model.md §7)' },
} as const;

export const modulesUnpinnedAfterFinish = defineVerdict(modulesUnpinnedAfterFinishMeta, (s, quality) => {
  const def = modulesUnpinnedAfterFinishMeta;
  const luoWindows = s.modules.flatMap((m) => m.pinWindows).filter(isLuoPin);
  // A pin whose module_put the module's refcnt= proves missing from the trace (analyses/luo/luo.ts
  // openReason): released in the kernel, not a leak (docs/luo-model.md §4 "The refcnt field").
  const putMissing = luoWindows.filter((w) => openReasonOf(w) === 'put-missing');
  // A pin open across lost events, an overwritten buffer or the cut end of an input may have been
  // released where the trace has nothing: that is not a leak the trace proves either.
  const unsure = (w: (typeof luoWindows)[number]) => w.incomplete || overwritten(quality, w.file) || quality.truncated;
  const leaked = [...luoWindows.filter(isLeakedPin), ...putMissing.filter(unsure)];
  const leaks = leaked.filter((w) => !unsure(w));
  const endedSessions = s.sessions.filter((x) => x.state === 'finished' || x.state === 'aborted');
  // Sessions past the report's cap are counted by state only (sessionsOmitted): the count stays true.
  const endedCount = endedSessions.length + (s.sessionsOmitted?.finished ?? 0) + (s.sessionsOmitted?.aborted ?? 0);
  if (leaks.length === 0 && leaked.length > 0) {
    const w = leaked[0];
    // Past the listed ones, pins whose put was lost are counted only (openPinsOmitted), not classified.
    const unlisted = s.modules.reduce((a, m) => a + (m.openPinsOmitted ?? 0), 0);
    const lost = lossBetween(quality, w.file, w.getLine, Number.MAX_SAFE_INTEGER);
    return [
      result(
        def,
        'put-may-be-lost',
        'inconclusive',
        `${plural(leaked.length, 'module pin')} not seen released after finish/abort, but data is missing while ${leaked.length === 1 ? 'it was' : 'they were'} open (${lost ? `events lost at ${lost.file}:${lost.line}` : w.incomplete ? 'events lost' : quality.truncated ? 'input truncated' : 'ring buffer overwritten'}): the module_put may be among the missing events, first ${w.module} (call_site=${w.getCallSite}, ${w.file}:${w.getLine})${unlisted ? `; ${plural(unlisted, 'more pin')} whose put was lost with lost events counted, not listed` : ''}; ${RECORD_MORE}`,
        [...leaked.map((x) => ({ file: x.file, line: x.getLine })), ...(lost ? [lost] : [])],
      ),
    ];
  }
  if (leaks.length === 0 && putMissing.length > 0) {
    // No marker in the window: the refcnt discontinuity alone says where the put went missing.
    const w = putMissing[0];
    const m = s.modules.find((x) => x.name === w.module && x.boot === w.boot);
    const gap = m?.refcntMismatches.find((x) => x.file === w.file && x.line > w.getLine && x.actual < x.expected);
    return [
      result(
        def,
        'put-missing-from-trace',
        'inconclusive',
        `${plural(putMissing.length, 'module pin')} not seen released after finish/abort, but ${gap ? missingFromTrace(gap).text : 'refcnt= proves module_puts missing from the trace'}: the pin is released in the kernel, not a leak the trace proves; first ${w.module} (${pinWho(w)}, call_site=${w.getCallSite}, ${w.file}:${w.getLine}); ${RECORD_WHOLE}`,
        [...putMissing.map((x) => ({ file: x.file, line: x.getLine })), ...(gap ? [...(gap.prevLine !== null ? [{ file: gap.file, line: gap.prevLine }] : []), { file: gap.file, line: gap.line }] : [])],
      ),
    ];
  }
  if (leaks.length > 0) {
    const parts = leaks.slice(0, 5).map((w) => {
      return `${w.module} (${pinWho(w)}, call_site=${w.getCallSite}, ${w.file}:${w.getLine})`;
    });
    return [
      result(
        def,
        'pins-left',
        false,
        `${plural(leaks.length, 'module pin')} left after finish/abort: ${parts.join('; ')}${leaks.length > 5 ? '; …' : ''}`,
        leaks.map((w) => ({ file: w.file, line: w.getLine })),
      ),
    ];
  }
  if (endedCount > 0) {
    const released = luoWindows.filter((w) => w.putLine !== null);
    // Past the cap on listed pin windows (pinWindowsOmitted), the true count of released session
    // pins is the module_put count at session-pin call sites (every module's putsBySite).
    const capped = s.modules.some((m) => m.pinWindowsOmitted > 0);
    const putsAtSessionSites = s.modules.reduce((a, m) => a + Object.entries(m.putsBySite).reduce((b, [site, n]) => b + (isLuoPin({ class: classifyCallSite(site) }) ? n : 0), 0), 0);
    const releasedCount = capped ? Math.max(released.length, putsAtSessionSites) : released.length;
    const mods = [...new Set(released.map((w) => w.module))];
    const sites = [...new Set(released.map((w) => w.putCallSite))].filter(Boolean);
    const evidence = released.slice(0, 20).map((w) => ({ file: w.file, line: w.putLine as number }));
    return mods.length
      ? [
          result(
            def,
            'all-released',
            true,
            `all modules unpinned after finish/abort: ${joinNamed(mods, (m) => m, 'modules', ', ')} (${releasedCount > released.length ? plural(releasedCount, 'pin') : countByKind(released)} released by ${joinNamed(sites, (x) => x as string, 'call sites', ', ')}; ${plural(endedCount, 'session')} ended)`,
            evidence,
            'info',
          ),
        ]
      : [result(def, 'no-pins-involved', true, `${plural(endedCount, 'session')} ended; no module pins were involved (built-in handlers such as memfd take none)`, evidence, 'info')];
  }
  if (!hasLuoEvents(s)) return [result(def, 'no-luo-events', 'n/a', 'no LUO event in these inputs', [], 'info')];
  const held = luoWindows.filter((w) => w.putLine === null);
  return [
    result(
      def,
      'no-session-ended',
      'n/a',
      held.length
        ? `no session finished or aborted in these inputs; ${plural(held.length, 'LUO pin')} held by open or kexec-bound sessions`
        : 'no session finished or aborted in these inputs',
      [],
      'info',
    ),
  ];
});
