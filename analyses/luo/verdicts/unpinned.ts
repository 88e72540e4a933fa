// modules-unpinned-after-finish: every session pin of a session that finished (new kernel) or was
// aborted (old kernel) is released; pins held by sessions frozen for kexec are expected to stay
// (docs/luo-model.md §4 "POST", §7).
import { classifyCallSite } from '../../kernel/kernel-models.js';
import { countByKind, isLeakedPin, isLuoPin, pinOwner } from '../pin-kinds.js';
import { hasLuoEvents, lossBetween, overwritten, RECORD_MORE } from './evidence.js';
import { defineVerdict, plural, result } from './verdict.js';

const modulesUnpinnedAfterFinishMeta = {
  id: 'modules-unpinned-after-finish',
  severity: 'error',
  reasons: ['pins-left', 'put-may-be-lost', 'all-released', 'no-pins-involved', 'no-session-ended', 'no-luo-events'],
  rule: { description: 'every LUO module pin of a finished or aborted session is released (luo-model.md §7)' },
} as const;

export const modulesUnpinnedAfterFinish = defineVerdict(modulesUnpinnedAfterFinishMeta, (s, quality) => {
  const def = modulesUnpinnedAfterFinishMeta;
  const luoWindows = s.modules.flatMap((m) => m.pinWindows).filter(isLuoPin);
  const leaked = luoWindows.filter(isLeakedPin);
  // A pin open across lost events, an overwritten buffer or the cut end of an input may have been
  // released where the trace has nothing: that is not a leak the trace proves.
  const unsure = (w: (typeof leaked)[number]) => w.incomplete || overwritten(quality, w.file) || quality.truncated;
  const leaks = leaked.filter((w) => !unsure(w));
  const endedSessions = s.sessions.filter((x) => x.state === 'finished' || x.state === 'aborted');
  // Sessions past the report's cap are counted by state only (sessionsOmitted): the count stays true.
  const endedCount = endedSessions.length + (s.sessionsOmitted?.finished ?? 0) + (s.sessionsOmitted?.aborted ?? 0);
  if (leaks.length === 0 && leaked.length > 0) {
    const w = leaked[0];
    const lost = lossBetween(quality, w.file, w.getLine, Number.MAX_SAFE_INTEGER);
    return [
      result(
        def,
        'put-may-be-lost',
        'inconclusive',
        `${plural(leaked.length, 'module pin')} not seen released after finish/abort, but data is missing while ${leaked.length === 1 ? 'it was' : 'they were'} open (${lost ? `events lost at ${lost.file}:${lost.line}` : w.incomplete ? 'events lost' : quality.truncated ? 'input truncated' : 'ring buffer overwritten'}): the module_put may be among the missing events, first ${w.module} (call_site=${w.getCallSite}, ${w.file}:${w.getLine}); ${RECORD_MORE}`,
        [...leaked.map((x) => ({ file: x.file, line: x.getLine })), ...(lost ? [lost] : [])],
      ),
    ];
  }
  if (leaks.length > 0) {
    const parts = leaks.slice(0, 5).map((w) => {
      const owner = pinOwner(w);
      const who = w.class === 'luo-flb' ? owner : owner === '-' ? 'no known session' : `session ${owner}`;
      return `${w.module} (${who}, call_site=${w.getCallSite}, ${w.file}:${w.getLine})`;
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
            `all modules unpinned after finish/abort: ${mods.join(', ')} (${releasedCount > released.length ? plural(releasedCount, 'pin') : countByKind(released)} released by ${sites.join(', ')}; ${plural(endedCount, 'session')} ended)`,
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
