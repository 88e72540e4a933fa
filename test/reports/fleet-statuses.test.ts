// Fleet and merge count a verdict by its status (issue 14): an inconclusive verdict is `ok` but no
// pass, and n/a is nothing to judge. Three real captures as three hosts: the lossy bpftrace capture
// of the contention run (inconclusive pin verdicts), the abort run (passes) and the first stage of
// the lifecycle run (no session ended: n/a).
import { describe, expect, it } from 'vitest';
import { runAnalysisWithDistributions } from '../../analyses/pipeline.js';
import { buildHostSummary, FleetSummarySchema, HostSummarySchema, mergeSummaries } from '../../reports/fleet.js';
import { renderFleetText } from '../../cli/fleet/render.js';
import { sample } from '../helpers.js';

const TOOL = { name: 'luotrace', version: 'test' } as const;
const HOSTS = {
  lossy: 'real/contention-no-writer/stage1/bpftrace-events.txt.gz',
  abort: 'real/abort/stage1/ftrace-main.txt.gz',
  stage1: 'real/lifecycle/stage1/ftrace-main.txt.gz',
};

describe('verdict statuses across hosts', async () => {
  const docs = await Promise.all(
    Object.entries(HOSTS).map(async ([host, rel]) => buildHostSummary(host, [sample(rel)], await runAnalysisWithDistributions([sample(rel)], {}))),
  );
  const fleet = mergeSummaries(
    docs.map((d) => ({ from: d.host, doc: HostSummarySchema.parse(JSON.parse(JSON.stringify(d))) })),
    TOOL,
  );
  const v = (id: string) => fleet.fleet.verdicts.find((x) => x.id === id)!;

  it('host summaries carry each verdict\'s status', () => {
    const lossy = docs.find((d) => d.host === 'lossy')!;
    expect(lossy.verdicts.find((x) => x.id === 'modules-unpinned-after-finish')).toMatchObject({ ok: true, status: 'inconclusive' });
  });

  it('counts inconclusive and n/a apart from pass', () => {
    expect(FleetSummarySchema.safeParse(fleet).success).toBe(true);
    expect(v('modules-unpinned-after-finish')).toMatchObject({ pass: 1, fail: 0, inconclusive: 1, inconclusiveHosts: ['lossy'], notApplicable: 1 });
    expect(v('refcounts-balanced')).toMatchObject({ pass: 2, inconclusive: 1, inconclusiveHosts: ['lossy'], notApplicable: 0 });
    // Every host with the verdict is counted once, in one outcome.
    for (const x of fleet.fleet.verdicts) expect(x.pass + x.warn + x.fail + x.inconclusive + x.notApplicable).toBe(docs.filter((d) => d.verdicts.some((y) => y.id === x.id)).length);
  });

  it('the text summary says so', () => {
    const text = renderFleetText(fleet, { limit: 20 });
    expect(text).toMatch(/modules-unpinned-after-finish +1 pass +1 inconclusive, 1 n\/a +inconclusive on lossy; e\.g\. lossy: /);
  });

  it('a fleet summary merged again keeps the counts (fleets of fleets)', () => {
    const again = mergeSummaries([{ from: 'fleet.json', doc: FleetSummarySchema.parse(JSON.parse(JSON.stringify(fleet))) }], TOOL);
    expect(again.fleet.verdicts).toEqual(fleet.fleet.verdicts);
  });
});
