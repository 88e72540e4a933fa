// no-pins-outside-sessions: a module_get at registration (call_site liveupdate_register_*) is the PRE
// signature (docs/luo-model.md §7(a)), and so is any session pin taken while no session exists.
import { isLuoPin } from '../pin-kinds.js';
import { hasLuoEvents, lossBetween, RECORD_MORE } from './evidence.js';
import { defineVerdict, result } from './verdict.js';

const noPinsOutsideSessionsMeta = {
  id: 'no-pins-outside-sessions',
  severity: 'error',
  reasons: ['registration-pin', 'outside-luo-call', 'call-may-be-lost', 'none', 'no-luo-events'],
  rule: { description: 'no module pinned at registration or outside any session (the PRE signature, luo-model.md §7(a))' },
} as const;

export const noPinsOutsideSessions = defineVerdict(noPinsOutsideSessionsMeta, (s, quality) => {
  const def = noPinsOutsideSessionsMeta;
  const windows = s.modules.flatMap((m) => m.pinWindows);
  const regPins = windows.filter((w) => w.class === 'luo-registration' && w.getCallSite.startsWith('liveupdate_register'));
  const noSession = windows.filter((w) => isLuoPin(w) && w.sessionId === null && w.luoFunction === null && w.flow === 'outgoing');
  if (regPins.length > 0) {
    const w = regPins[0];
    return [
      result(
        def,
        'registration-pin',
        false,
        `${w.module} pinned with no session in progress: module_get call_site=${w.getCallSite} at ${w.file}:${w.getLine} (pre-series kernel: pinned for as long as it is registered, so rmmod is refused even without sessions)${regPins.length > 1 ? `; ${regPins.length - 1} more` : ''}`,
        regPins.map((x) => ({ file: x.file, line: x.getLine })),
      ),
    ];
  }
  // Without a lost marker before it, a pin outside every traced LUO call is what the trace shows;
  // after one, the call's entry may be among the missing events.
  const sure = noSession.filter((w) => lossBetween(quality, w.file, 0, w.getLine) === null);
  if (noSession.length > 0 && sure.length === 0 && s.probedFunctions.length > 0) {
    const w = noSession[0];
    return [
      result(
        def,
        'call-may-be-lost',
        'inconclusive',
        `${w.module} pinned (call_site=${w.getCallSite}, ${w.file}:${w.getLine}) outside any traced LUO call, after events were lost: the LUO call's entry may be among them; ${RECORD_MORE}`,
        noSession.map((x) => ({ file: x.file, line: x.getLine })),
        'warning',
      ),
    ];
  }
  if (noSession.length > 0 && s.probedFunctions.length > 0) {
    const w = sure[0];
    return [
      result(
        def,
        'outside-luo-call',
        false,
        `${w.module} pinned (call_site=${w.getCallSite}, ${w.file}:${w.getLine}) outside any traced LUO call`,
        noSession.map((x) => ({ file: x.file, line: x.getLine })),
        'warning',
      ),
    ];
  }
  if (!hasLuoEvents(s)) return [result(def, 'no-luo-events', 'n/a', 'no LUO event in these inputs', [], 'info')];
  return [result(def, 'none', true, 'no module was pinned outside a session', [], 'info')];
});
