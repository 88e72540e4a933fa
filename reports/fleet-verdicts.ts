// One verdict across the hosts of a fleet (reports/fleet.ts): which hosts passed, failed, warned,
// were inconclusive (the data the verdict needs may be missing) or had nothing to judge (n/a). The
// outcome of one host's verdict is verdictOutcome's (analyses/luo/verdicts/verdict.ts), from its
// status, not from `ok` alone: an inconclusive verdict is `ok` but is no pass.
import { verdictOutcome } from '../analyses/luo/verdicts/verdict.js';

type HostMessage = { host: string; message: string };

export interface VerdictAcc {
  id: string;
  pass: number;
  failing: HostMessage[];
  warning: HostMessage[];
  inconclusive: HostMessage[];
  notApplicable: number;
}

/** Count one host's verdict. */
export function addHostVerdict(acc: VerdictAcc, host: string, v: Parameters<typeof verdictOutcome>[0] & { message: string }): void {
  const o = verdictOutcome(v);
  if (o === 'pass') acc.pass++;
  else if (o === 'n/a') acc.notApplicable++;
  else (o === 'fail' ? acc.failing : o === 'warn' ? acc.warning : acc.inconclusive).push({ host, message: v.message });
}

const byHost = (a: HostMessage, b: HostMessage): number => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0);

/** The fleet summary's entry of one verdict (FleetVerdictSchema), hosts in name order. */
export function verdictEntry(v: VerdictAcc, severity: 'error' | 'warning' | 'info') {
  const failing = [...v.failing].sort(byHost);
  const warning = [...v.warning].sort(byHost);
  const inconclusive = [...v.inconclusive].sort(byHost);
  return {
    id: v.id,
    pass: v.pass,
    warn: warning.length,
    fail: failing.length,
    severity,
    failingHosts: failing.map((f) => f.host),
    warningHosts: warning.map((f) => f.host),
    inconclusive: inconclusive.length,
    inconclusiveHosts: inconclusive.map((f) => f.host),
    notApplicable: v.notApplicable,
    example: failing[0] ?? warning[0] ?? inconclusive[0] ?? null,
  };
}
