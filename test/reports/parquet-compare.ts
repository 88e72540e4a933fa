// What "the SQL fleet summary equals merge's" means (issue #18), as one assertion used by the real
// capture test and the 10 000-host test: counts, totals, extremes, host lists, histograms and orders
// exactly; percentiles within the sketch's relative accuracy (plus the 1 ns both round to); fields
// the tables do not keep (inputs, sources, notes, per-host phase lists) not compared.
import { expect } from 'vitest';
import { type DistributionSummary, QUANTILE_RELATIVE_ACCURACY } from '../../analyses/locks/quantiles.js';
import type { FleetSummary } from '../../reports/fleet.js';

const PCT = ['p50', 'p90', 'p99', 'p999'] as const;

function expectSummaryClose(sql: DistributionSummary, merge: DistributionSummary, what: string): void {
  const { count, total, min, max, avg } = merge;
  expect({ count: sql.count, total: sql.total, min: sql.min, max: sql.max, avg: sql.avg }, what).toEqual({ count, total, min, max, avg });
  for (const p of PCT) {
    const m = merge[p];
    const s = sql[p];
    if (m === null) expect(s, `${what} ${p}`).toBeNull();
    else expect(Math.abs((s as number) - m), `${what} ${p}: sql ${s} merge ${m}`).toBeLessThanOrEqual(QUANTILE_RELATIVE_ACCURACY * m + 1);
  }
}

/** Replace every distribution summary by its exact part, after checking its percentiles are close. */
function exactParts(sql: FleetSummary, merge: FleetSummary): [unknown, unknown] {
  const f = (s: FleetSummary) => ({
    ...s.fleet,
    quantileMethod: null,
    phases: s.fleet.phases.map((p) => ({ ...p, durations: null, distribution: { count: p.distribution.count, total: p.distribution.total, min: p.distribution.min, max: p.distribution.max } })),
    locks: s.fleet.locks.map((l) => ({ ...l, wait: null, hold: null, distributions: null })),
  });
  merge.fleet.phases.forEach((p, i) => expectSummaryClose(sql.fleet.phases[i].durations, p.durations, `phase ${p.phase}`));
  merge.fleet.locks.forEach((l, i) => {
    expectSummaryClose(sql.fleet.locks[i].wait, l.wait, `lock ${l.key} wait`);
    expectSummaryClose(sql.fleet.locks[i].hold, l.hold, `lock ${l.key} hold`);
  });
  return [f(sql), f(merge)];
}

const hostPart = (s: FleetSummary) => s.hosts.map((h) => ({ ...h, inputs: null, sources: null, phases: null, dataQuality: { ...h.dataQuality, notes: null } }));

export function expectSameFleet(sql: FleetSummary, merge: FleetSummary): void {
  expect(sql.fleet.phases.map((p) => p.phase)).toEqual(merge.fleet.phases.map((p) => p.phase));
  expect(sql.fleet.locks.map((l) => l.key)).toEqual(merge.fleet.locks.map((l) => l.key));
  const [s, m] = exactParts(sql, merge) as Array<Record<string, unknown>>;
  for (const k of Object.keys(m)) expect(s[k], k).toEqual(m[k]);
  // Host by host, so that a difference in a fleet of thousands prints one host, not all of them.
  const [hs, hm] = [hostPart(sql), hostPart(merge)];
  expect(hs.length).toBe(hm.length);
  hs.forEach((h, i) => expect(h).toEqual(hm[i]));
}
