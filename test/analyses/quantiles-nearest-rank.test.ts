// Percentiles by nearest rank (issue #19): the q-quantile of n values is the ⌈q·n⌉-th smallest
// (1-based), so a p99 or p99.9 of a small sample is its slowest value, not the one below it. Small
// samples against ranks worked out by hand, the 24 holds of the issue, ordering properties, and the
// DDSketch path against the nearest-rank value of real captures' distributions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketAt } from '../../analyses/bpftrace-maps.js';
import { Distribution, EXACT_LIMIT, QUANTILE_RELATIVE_ACCURACY, REPORTED_QUANTILES, nearestRank } from '../../analyses/locks/quantiles.js';
import { runAnalysisWithDistributions } from '../../analyses/pipeline.js';
import { sample, seededRandom } from '../helpers.js';

const ms = (x: number): number => Math.round(x * 1e6);

function distOf(values: number[]): Distribution {
  const d = new Distribution();
  for (const v of values) d.add(v);
  return d;
}

/** The values in an order other than sorted (the Distribution must sort them itself). */
function shuffled(values: number[], seed: number): number[] {
  const r = seededRandom(seed);
  const out = [...values];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

// luo_register_rwlock read holds of a failed live update, sorted, ms (issue #19).
const ISSUE_HOLDS_MS = [0.63, 0.87, 0.88, 0.94, 0.94, 1.06, 2.71, 2.77, 3.4, 3.51, 3.51, 4.25, 5.04, 5.52, 7.72, 7.94, 9.24, 9.43, 9.88, 12.07, 13.34, 18.05, 21.99, 92.48];

describe('nearest rank', () => {
  it('is ⌈q·n⌉, at least 1, at most n, and not pushed up by binary fractions', () => {
    expect(nearestRank(0.5, 1)).toBe(1);
    expect(nearestRank(0.999, 1)).toBe(1);
    expect(nearestRank(0.5, 2)).toBe(1);
    expect(nearestRank(0.9, 2)).toBe(2);
    expect(nearestRank(0.9, 10)).toBe(9);
    expect(nearestRank(0.99, 10)).toBe(10);
    expect(nearestRank(0.9, 24)).toBe(22); // 21.6
    expect(nearestRank(0.99, 24)).toBe(24); // 23.76
    expect(nearestRank(0.99, 100)).toBe(99);
    expect(nearestRank(0.999, 100)).toBe(100); // 99.9
    expect(nearestRank(0.999, 1000)).toBe(999);
    expect(nearestRank(0, 10)).toBe(1);
    expect(nearestRank(1, 10)).toBe(10);
    // 0.07 · 100 = 7.000000000000001 in binary: still rank 7.
    expect(0.07 * 100).toBeGreaterThan(7);
    expect(nearestRank(0.07, 100)).toBe(7);
  });
});

describe('exact percentiles of small samples, by hand', () => {
  // [values, p50, p90, p99, p99.9]; ranks ⌈q·n⌉ worked out in the comments.
  const CASES: Array<[string, number[], number, number, number, number]> = [
    // n = 1: every rank is 1.
    ['n=1', [7000], 7000, 7000, 7000, 7000],
    // n = 2: p50 ⌈1⌉ = 1; p90 ⌈1.8⌉ = 2; p99 ⌈1.98⌉ = 2; p99.9 ⌈1.998⌉ = 2.
    ['n=2', [3000, 9000], 3000, 9000, 9000, 9000],
    // n = 10 (10..100 us): p50 ⌈5⌉ = 5th; p90 ⌈9⌉ = 9th; p99 ⌈9.9⌉ = 10th; p99.9 10th.
    ['n=10', [10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((x) => x * 1000), 50_000, 90_000, 100_000, 100_000],
    // n = 24, the issue's holds: p50 ⌈12⌉ = 12th (4.25 ms); p90 ⌈21.6⌉ = 22nd (18.05 ms); p99 ⌈23.76⌉ and p99.9 ⌈23.976⌉ = 24th (92.48 ms).
    ['n=24 (issue #19 holds)', ISSUE_HOLDS_MS.map(ms), ms(4.25), ms(18.05), ms(92.48), ms(92.48)],
    // n = 100 (1..100 us): p50 50th; p90 90th; p99 99th; p99.9 ⌈99.9⌉ = 100th.
    ['n=100', Array.from({ length: 100 }, (_, i) => (i + 1) * 1000), 50_000, 90_000, 99_000, 100_000],
  ];
  for (const [name, values, p50, p90, p99, p999] of CASES) {
    it(name, () => {
      const s = distOf(shuffled(values, values.length)).summary();
      expect(s).toMatchObject({ count: values.length, p50, p90, p99, p999, max: Math.max(...values), quantiles: 'exact', quantileMethod: 'nearest-rank' });
    });
  }

  it('puts the issue holds p90 and p99 in the log2 buckets bpftrace reported for the same holds', () => {
    const d = distOf(ISSUE_HOLDS_MS.map(ms));
    // bpftrace hist(): p90 in [16 ms, 32 ms), p99 in [64 ms, 128 ms) (buckets of 2^k ns: 2^24 ns ≈ 16.8 ms).
    const p90 = d.quantile(0.9) as number;
    const p99 = d.quantile(0.99) as number;
    expect(p90).toBeGreaterThanOrEqual(2 ** 24);
    expect(p90).toBeLessThan(2 ** 25);
    expect(p99).toBeGreaterThanOrEqual(2 ** 26);
    expect(p99).toBeLessThan(2 ** 27);
  });
});

describe('exact percentiles (property)', () => {
  const histBuckets = (d: Distribution) => d.histogram().map((b) => ({ min: b.low, max: b.high - 1, count: b.count }));
  it('p50 ≤ p90 ≤ p99 ≤ p99.9 ≤ max, p99.9 = max below 1000 values, each in the bucket bpftrace would name', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 2e9 }), { minLength: 1, maxLength: 1500 }), (values) => {
        const d = distOf(values);
        const s = d.summary();
        const [p50, p90, p99, p999, max] = [s.p50, s.p90, s.p99, s.p999, s.max] as number[];
        if (!(p50 <= p90 && p90 <= p99 && p99 <= p999 && p999 <= max)) return false;
        if (values.length < 1000 && p999 !== max) return false;
        // The histogram summary (bpftrace maps) uses the same rank: each percentile lies in its bucket.
        const buckets = histBuckets(d);
        return REPORTED_QUANTILES.every((q) => {
          const b = bucketAt(buckets, q);
          const v = d.quantile(q) as number;
          return b !== null && b.min !== null && b.max !== null && b.min <= v && v <= b.max;
        });
      }),
      { numRuns: 300 },
    );
  });
});

describe('DDSketch percentiles against the nearest rank of real captures', () => {
  const CAPTURES = [
    ['real/lifecycle/stage1/ftrace-main.txt.gz', 'real/lifecycle/console.log.gz', 'real/lifecycle/stage2/ftrace-main.txt.gz'],
    ['real/abort/stage1/ftrace-main.txt.gz'],
    ['real/contention-no-writer/stage1/ftrace-main.trimmed.txt.gz'],
  ];

  it(`stay within ${QUANTILE_RELATIVE_ACCURACY * 100}% of the nearest-rank value (the sketch path forced on exact distributions)`, async () => {
    let checked = 0;
    for (const files of CAPTURES) {
      const { report, lockDistributions } = await runAnalysisWithDistributions(files.map(sample), {});
      for (const [i, row] of report.locks.entries()) {
        const dists = lockDistributions[i];
        for (const d of [dists?.wait, dists?.hold].map((x) => (x ? Distribution.deserialize(x) : undefined))) {
          const values = d?.serialize().exact;
          if (!values || values.length < 2) continue;
          // Each value k times, k enough to pass EXACT_LIMIT: the ⌈q·kn⌉-th smallest of the copies is
          // the ⌈⌈q·kn⌉/k⌉ = ⌈q·n⌉-th smallest of the values, so the nearest rank does not move.
          const k = Math.floor(EXACT_LIMIT / values.length) + 1;
          const sketched = new Distribution();
          for (let i = 0; i < k; i++) for (const v of values) sketched.add(v);
          expect(sketched.isExact).toBe(false);
          expect(sketched.summary().quantileMethod).toBe('ddsketch');
          for (const q of REPORTED_QUANTILES) {
            const exact = values[Math.ceil(q * values.length) - 1];
            expect(d?.quantile(q)).toBe(exact);
            const est = sketched.quantile(q) as number;
            expect(Math.abs(est - exact), `${row.name} q=${q} n=${values.length}: ${est} vs ${exact}`).toBeLessThanOrEqual(QUANTILE_RELATIVE_ACCURACY * exact + 1e-9);
          }
          checked++;
        }
      }
    }
    // Enough real distributions to mean something (lifecycle, abort and the contention capture's locks).
    expect(checked).toBeGreaterThan(20);
  });
});
