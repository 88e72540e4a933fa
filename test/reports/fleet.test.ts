// Mergeable summaries (issue #8): a Distribution survives JSON exactly; merging host summaries
// gives the in-memory merge's figures in any order and grouping; merged percentiles stay within
// the stated relative error of the exact values; a host summary agrees with the analyze report
// it was made from (real captures).
import { describe, expect, it } from 'vitest';
import {
  buildHostSummary,
  FleetAccumulator,
  type FleetSummary,
  FleetSummarySchema,
  type HostSummary,
  HostSummarySchema,
  lockKey,
  mergeSummaries,
  SummaryMergeError,
  unusableHost,
} from '../../reports/fleet.js';
import { Distribution, EXACT_LIMIT, QUANTILE_RELATIVE_ACCURACY, REPORTED_QUANTILES, type SerializedDistribution } from '../../analyses/locks/quantiles.js';
import { runAnalysisWithDistributions } from '../../analyses/pipeline.js';
import { diffReports } from '../../reports/diff.js';
import { sample, seededRandom } from '../helpers.js';

const TOOL = { name: 'luotrace', version: 'test' } as const;

/** Lock-wait-like durations: log-normal around 100 us, some zeros (µs clocks). */
function durations(r: () => number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    if (r() < 0.03) out.push(0);
    else {
      const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
      out.push(Math.round(Math.exp(11.5 + 1.8 * z)));
    }
  }
  return out;
}

const distOf = (values: number[]): Distribution => {
  const d = new Distribution();
  for (const v of values) d.add(v);
  return d;
};

/** A host summary with one lock (waits and holds) and one phase, from given values. */
function fakeHost(host: string, waits: number[], holds: number[], phase: number[]): HostSummary {
  const h = unusableHost(host, [`${host}.txt`], 'x', TOOL);
  const w = distOf(waits);
  const hd = distOf(holds);
  const p = distOf(phase);
  const key = lockKey('luo_register_rwlock', 'rwsem:W');
  return {
    ...h,
    error: null,
    kernelModel: 'later',
    verdicts: [{ id: 'refcounts-balanced', ok: true, severity: 'info', message: 'ok' }],
    phases: [
      { phase: 'preserve', count: phase.length, errors: 0, totalNs: p.total, minNs: phase.length ? p.min : null, maxNs: phase.length ? p.max : null, avgNs: null, durations: p.summary() },
    ],
    locks: [
      {
        key,
        name: 'luo_register_rwlock',
        mode: 'W',
        type: 'rwsem:W',
        lockType: 'rwsem',
        luoRole: 'registration',
        rows: 1,
        instances: 1,
        acquisitions: holds.length,
        contended: waits.length,
        slept: waits.length,
        failed: 0,
        trylockFailed: 0,
        wait: w.summary(),
        hold: hd.summary(),
        incomplete: { waits: { 'trace-end': 1 }, holds: {} },
      },
    ],
    distributions: { phases: { preserve: p.serialize() }, locks: { [key]: { wait: w.serialize(), hold: hd.serialize() } } },
  };
}

/** Nearest rank: the ⌈q·n⌉-th smallest (1-based). */
const exactQuantile = (sorted: number[], q: number): number => sorted[Math.ceil(q * sorted.length) - 1];
const roundTrip = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe('Distribution.serialize / deserialize', () => {
  it('round-trips exact and sketched distributions without changing any figure', () => {
    const r = seededRandom(7);
    for (const n of [0, 1, 5, EXACT_LIMIT, EXACT_LIMIT + 1, 50_000]) {
      const d = distOf(durations(r, n));
      const s = roundTrip(d.serialize());
      const back = Distribution.deserialize(s);
      expect(back.isExact).toBe(n <= EXACT_LIMIT);
      expect(back.summary()).toEqual(d.summary());
      expect(back.histogram()).toEqual(d.histogram());
      for (const q of [0, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1]) expect(back.quantile(q)).toBe(d.quantile(q));
      expect(back.serialize()).toEqual(s);
    }
  });

  it('merging deserialized distributions equals merging the originals in memory', () => {
    const r = seededRandom(11);
    const parts = [3, 1500, 700, EXACT_LIMIT + 10, 20_000, 0, 40].map((n) => durations(r, n));
    const mem = new Distribution();
    const viaJson = new Distribution();
    for (const p of parts) {
      mem.merge(distOf(p));
      viaJson.merge(Distribution.deserialize(roundTrip(distOf(p).serialize())));
    }
    expect(viaJson.summary()).toEqual(mem.summary());
    expect(viaJson.histogram()).toEqual(mem.histogram());
    expect(viaJson.serialize()).toEqual(mem.serialize());
  });

  it('refuses documents whose counts do not add up or whose sketch has another accuracy', () => {
    const big = distOf(durations(seededRandom(3), 5000)).serialize();
    const small = distOf([1, 2, 3]).serialize();
    const bad: Array<[string, SerializedDistribution]> = [
      ['count', { ...small, count: 4 }],
      ['exact values', { ...small, exact: [1, 2] }],
      ['both', { ...small, sketch: big.sketch }],
      ['accuracy', { ...big, sketch: { ...(big.sketch as NonNullable<SerializedDistribution['sketch']>), relativeAccuracy: 0.02 } }],
      ['bins', { ...big, sketch: { ...(big.sketch as NonNullable<SerializedDistribution['sketch']>), bins: [1] } }],
    ];
    for (const [what, s] of bad) expect(() => Distribution.deserialize(s), what).toThrow(RangeError);
  });
});

describe('merging host summaries', () => {
  const r = seededRandom(2024);
  // Hosts of very different sizes: some stay exact, some are sketches, one has no waits at all.
  const sizes = [0, 12, 300, 1900, 2600, 9000, 40];
  const hosts = sizes.map((n, i) => ({
    name: `host-${String(i).padStart(2, '0')}`,
    waits: durations(r, n),
    holds: durations(r, n + 5),
    phase: durations(r, (n % 97) + 1),
  }));
  const docs = hosts.map((h) => fakeHost(h.name, h.waits, h.holds, h.phase));
  const merged = mergeSummaries(
    docs.map((d) => ({ from: d.host, doc: roundTrip(d) })),
    TOOL,
  );

  it('produces a valid fleet summary whose exact figures are sums, minima and maxima', () => {
    expect(FleetSummarySchema.safeParse(merged).success).toBe(true);
    const lock = merged.fleet.locks[0];
    const all = hosts.flatMap((h) => h.waits).sort((a, b) => a - b);
    expect(lock.hosts).toBe(hosts.length);
    expect(lock.wait.count).toBe(all.length);
    expect(lock.wait.total).toBe(all.reduce((a, b) => a + b, 0));
    expect(lock.wait.min).toBe(all[0]);
    expect(lock.wait.max).toBe(all[all.length - 1]);
    expect(lock.incomplete.waits['trace-end']).toBe(hosts.length);
    expect(lock.waitHistogram).toEqual(distOf(all).histogram());
    expect(lock.worstWait?.host).toBe(hosts.find((h) => h.waits.includes(all[all.length - 1]))?.name);
  });

  it(`gives percentiles within ${QUANTILE_RELATIVE_ACCURACY * 100}% of the exact values of all hosts together`, () => {
    const lock = merged.fleet.locks[0];
    for (const [values, summary] of [
      [hosts.flatMap((h) => h.waits), lock.wait],
      [hosts.flatMap((h) => h.holds), lock.hold],
      [hosts.flatMap((h) => h.phase), merged.fleet.phases[0].durations],
    ] as const) {
      const sorted = [...values].sort((a, b) => a - b);
      expect(summary.quantiles).toBe(sorted.length > EXACT_LIMIT ? 'sketch' : 'exact');
      const keys = ['p50', 'p90', 'p99', 'p999'] as const;
      REPORTED_QUANTILES.forEach((q, i) => {
        const exact = exactQuantile(sorted, q);
        const est = summary[keys[i]] as number;
        if (summary.quantiles === 'exact') expect(est).toBe(exact);
        // +0.5: the summary rounds to whole nanoseconds.
        else expect(Math.abs(est - exact), `q=${q}: ${est} vs ${exact}`).toBeLessThanOrEqual(QUANTILE_RELATIVE_ACCURACY * exact + 0.5);
      });
    }
  });

  it('is exact when the hosts together hold few values', () => {
    const few = mergeSummaries(
      docs.slice(0, 3).map((d) => ({ from: d.host, doc: d })),
      TOOL,
    );
    const sorted = hosts.slice(0, 3).flatMap((h) => h.waits).sort((a, b) => a - b);
    expect(few.fleet.locks[0].wait.quantiles).toBe('exact');
    expect(few.fleet.locks[0].distributions.wait.exact).toEqual(sorted);
    expect(few.fleet.locks[0].wait.p99).toBe(exactQuantile(sorted, 0.99));
  });

  it('does not depend on the order or grouping of the merge (fleets of fleets)', () => {
    const shuffled = [...docs].reverse();
    const a = mergeSummaries(
      shuffled.map((d) => ({ from: d.host, doc: d })),
      TOOL,
    );
    expect(a).toEqual(merged);
    const g1 = mergeSummaries(
      [docs[5], docs[0], docs[3]].map((d) => ({ from: d.host, doc: d })),
      TOOL,
    );
    const g2 = mergeSummaries(
      [docs[1], docs[6]].map((d) => ({ from: d.host, doc: d })),
      TOOL,
    );
    const g3 = mergeSummaries(
      [
        { from: 'g2', doc: roundTrip(g2) as FleetSummary },
        { from: docs[4].host, doc: docs[4] },
      ],
      TOOL,
    );
    const all = mergeSummaries(
      [
        { from: 'g1', doc: roundTrip(g1) as FleetSummary },
        { from: docs[2].host, doc: docs[2] },
        { from: 'g3', doc: roundTrip(g3) as FleetSummary },
      ],
      TOOL,
    );
    expect(all).toEqual(merged);
  });

  it('refuses a host that is already in the merge', () => {
    const acc = new FleetAccumulator(TOOL);
    acc.addHost(docs[1]);
    const fleet = mergeSummaries([{ from: 'f', doc: docs[1] }], TOOL);
    expect(() => acc.addHost(docs[1], 'again.json')).toThrow(SummaryMergeError);
    expect(() => acc.addFleet(fleet, 'fleet.json')).toThrow(/host-01 appears twice/);
  });

  it('counts verdicts per host: pass, warning, fail, inconclusive, n/a, with the hosts named', () => {
    const withVerdicts = (name: string, ok: boolean, severity: 'info' | 'warning' | 'error', status?: 'inconclusive' | 'n/a'): HostSummary => ({
      ...fakeHost(name, [1], [1], [1]),
      verdicts: [{ id: 'v', ok, severity, message: `${name} says`, ...(status ? { status } : {}) }],
    });
    const hosts = [withVerdicts('c', false, 'error'), withVerdicts('a', true, 'info'), withVerdicts('b', true, 'warning'), withVerdicts('d', false, 'error'), withVerdicts('e', true, 'info', 'inconclusive'), withVerdicts('f', true, 'info', 'n/a')];
    const m = mergeSummaries(
      hosts.map((d) => ({ from: d.host, doc: d })),
      TOOL,
    );
    expect(m.fleet.verdicts).toEqual([
      { id: 'v', pass: 1, warn: 1, fail: 2, severity: 'error', failingHosts: ['c', 'd'], warningHosts: ['b'], inconclusive: 1, inconclusiveHosts: ['e'], notApplicable: 1, example: { host: 'c', message: 'c says' } },
    ]);
  });
});

describe('host summaries of real captures', () => {
  it('carry the analyze report figures and the distributions behind them', async () => {
    const inputs = [sample('real/lifecycle/stage1/ftrace-main.txt.gz'), sample('real/lifecycle/console.log.gz'), sample('real/lifecycle/stage2/ftrace-main.txt.gz')];
    const result = await runAnalysisWithDistributions(inputs, {});
    const { report, lockDistributions } = result;
    const h = buildHostSummary('lifecycle', inputs, result);
    expect(HostSummarySchema.safeParse(roundTrip(h)).success).toBe(true);
    expect(h.boots).toBe(2);
    expect(h.kernelModel).toBe(report.kernelModel.id);
    expect(h.verdicts.map((v) => v.id)).toEqual(report.verdicts.map((v) => v.id));
    expect(h.sessions.total).toBe(report.sessions.length);
    const luoDemo = report.modules.filter((m) => m.name === 'luo_demo');
    expect(h.modules.filter((m) => m.name === 'luo_demo').map((m) => [m.boot, m.finalRefcnt, m.openPins])).toEqual(luoDemo.map((m) => [m.boot, m.finalRefcnt, m.openPins]));
    // Every lock row lands in exactly one key; named rows keep their own figures.
    expect(lockDistributions).toHaveLength(report.locks.length);
    for (const [i, row] of report.locks.entries()) {
      const f = h.locks.find((l) => l.key === lockKey(row.name, row.type));
      expect(f, `${row.name} ${row.type}`).toBeDefined();
      const d = lockDistributions[i];
      expect(Distribution.deserialize(d.wait).summary()).toEqual(row.wait);
      expect(Distribution.deserialize(d.hold).summary()).toEqual(row.hold);
      if (row.name !== null && f?.rows === 1) {
        expect(f.wait).toEqual(row.wait);
        expect(f.hold).toEqual(row.hold);
        expect(f.acquisitions).toBe(row.acquisitions);
      }
    }
    const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
    expect(sum(h.locks.map((l) => l.wait.count))).toBe(sum(report.locks.map((l) => l.wait.count)));
    expect(sum(h.locks.map((l) => l.acquisitions))).toBe(sum(report.locks.map((l) => l.acquisitions)));
    expect(sum(h.locks.map((l) => l.rows))).toBe(report.locks.length);
    // Phase figures: phaseStats for counts; percentiles over the listed sessions' phase durations.
    for (const p of h.phases) {
      const st = report.phaseStats.find((x) => x.phase === p.phase);
      expect(p.count).toBe(st?.count);
      const listed = report.sessions.flatMap((s) => s.phases).filter((x) => x.name === p.phase && x.durationNs !== null).map((x) => x.durationNs as number);
      expect(p.durations.count).toBe(listed.length);
      expect(p.durations.max).toBe(listed.length ? Math.max(...listed) : null);
    }
  });
  it('are the same from a report read back from JSON: fleet, merge and diff see what the in-memory report gives', async () => {
    // Per-report state travels with the report as data (no hidden per-process state): a result
    // that went through JSON.stringify/parse (a worker's message, a saved file) summarizes,
    // merges and diffs exactly as the one made in this process. The trimmed contention capture: its
    // 41 lock rows, contended ones among them, are what this needs (the whole 11 MB adds only time).
    const contention = [sample('real/contention-no-writer/stage1/ftrace-main.trimmed.txt.gz')];
    const abort = [sample('real/abort/stage1/ftrace-tgid.txt.gz')];
    const a = await runAnalysisWithDistributions(contention, {});
    const b = await runAnalysisWithDistributions(abort, {});
    const aJson = roundTrip(a);
    expect(aJson.lockDistributions).toHaveLength(a.report.locks.length);
    const hostA = buildHostSummary('a', contention, a);
    const hostAJson = buildHostSummary('a', contention, aJson);
    expect(hostAJson).toEqual(hostA);
    expect(hostA.locks.length).toBeGreaterThan(0);
    expect(hostA.locks.some((l) => l.wait.count > 0)).toBe(true);
    const hostB = buildHostSummary('b', abort, b);
    const merged = mergeSummaries([{ from: 'a', doc: hostA }, { from: 'b', doc: hostB }], TOOL);
    const mergedJson = mergeSummaries([{ from: 'a', doc: hostAJson }, { from: 'b', doc: buildHostSummary('b', abort, roundTrip(b)) }], TOOL);
    expect(mergedJson).toEqual(merged);
    expect(roundTrip(diffReports(aJson.report, b.report))).toEqual(roundTrip(diffReports(a.report, b.report)));
    // Distributions that do not belong to the report are refused, not silently merged.
    expect(() => buildHostSummary('a', contention, { report: a.report, lockDistributions: [] })).toThrow(/lock rows/);
  });
});
