// Distributions as table rows (the Parquet `distributions` table) and back.
//
// A host's distribution is either its exact values (small) or DDSketch bins (analyses/locks/
// quantiles.ts). In the table it is always bins, so that any SQL engine merges hosts by summing
// counts per bin and reads a percentile off the cumulative sums (sql/phase_percentiles.sql): exact
// values are put into the bins the sketch would put them in (the same LogarithmicMapping), so a
// percentile read from the merged bins is within the sketch's relative accuracy of the true one,
// and equal to merge's wherever merge itself answers from a sketch. The log2 histogram (bpftrace's
// hist() buckets) travels as bins of its own scheme, so the SQL fleet summary has the same histograms.
import { createRequire } from 'node:module';
import type { LogCollapsingLowestDenseDDSketch } from '@datadog/sketches-js';
import { QUANTILE_RELATIVE_ACCURACY, type SerializedDistribution } from '../../analyses/locks/quantiles.js';
import { ZERO_BIN_INDEX } from './schema.js';

type Mapping = LogCollapsingLowestDenseDDSketch['mapping'];
let mapping: Mapping | null = null;
/** The mapping of the sketches quantiles.ts makes (same package, same accuracy). */
function sketchMapping(): Mapping {
  if (!mapping) {
    const m = createRequire(import.meta.url)('@datadog/sketches-js') as typeof import('@datadog/sketches-js');
    mapping = new m.LogCollapsingLowestDenseDDSketch({ relativeAccuracy: QUANTILE_RELATIVE_ACCURACY, binLimit: 2048 }).mapping;
  }
  return mapping;
}

export interface Bin {
  scheme: 'ddsketch' | 'log2';
  index: number;
  /** ddsketch: the value the sketch answers for the bin; log2: the bucket's lower bound. 0 for the zero bin. */
  value: number;
  count: number;
}

/** The value DDSketch answers for a bin key (the same for every host: the bin's estimate). */
export function binValue(key: number): number {
  return key === ZERO_BIN_INDEX ? 0 : sketchMapping().value(key);
}

/** The DDSketch bins and log2 buckets of one serialized distribution, non-empty bins only. */
export function distributionBins(d: SerializedDistribution): Bin[] {
  const m = sketchMapping();
  const sketch = new Map<number, number>();
  const put = (k: number, n: number): void => {
    if (n > 0) sketch.set(k, (sketch.get(k) ?? 0) + n);
  };
  if (d.exact) {
    // accept() in @datadog/sketches-js: values up to minPossible count as zero.
    for (const v of d.exact) put(v > m.minPossible ? m.key(v) : ZERO_BIN_INDEX, 1);
  } else if (d.sketch) {
    put(ZERO_BIN_INDEX, d.sketch.zeroCount);
    d.sketch.bins.forEach((n, i) => put((d.sketch as NonNullable<SerializedDistribution['sketch']>).offset + i, n));
  }
  const out: Bin[] = [...sketch].sort(([a], [b]) => a - b).map(([index, count]) => ({ scheme: 'ddsketch', index, value: binValue(index), count }));
  if (d.zeros > 0) out.push({ scheme: 'log2', index: ZERO_BIN_INDEX, value: 0, count: d.zeros });
  d.buckets.forEach((count, k) => {
    if (count > 0) out.push({ scheme: 'log2', index: k, value: 2 ** k, count });
  });
  return out;
}

/**
 * A merged distribution (bins summed over hosts, as the SQL fleet path gets them) as a serialized
 * sketch: what the SQL fleet summary carries so that `luotrace merge` can merge it further.
 */
export function binsToDistribution(totals: { count: number; total: number; min: number | null; max: number | null }, bins: Bin[]): SerializedDistribution {
  const sk = bins.filter((b) => b.scheme === 'ddsketch' && b.index !== ZERO_BIN_INDEX).sort((a, b) => a.index - b.index);
  const zeroCount = bins.filter((b) => b.scheme === 'ddsketch' && b.index === ZERO_BIN_INDEX).reduce((a, b) => a + b.count, 0);
  const offset = sk.length ? sk[0].index : 0;
  const dense: number[] = sk.length ? new Array<number>(sk[sk.length - 1].index - offset + 1).fill(0) : [];
  for (const b of sk) dense[b.index - offset] += b.count;
  const buckets: number[] = [];
  let zeros = 0;
  for (const b of bins) {
    if (b.scheme !== 'log2') continue;
    if (b.index === ZERO_BIN_INDEX) zeros += b.count;
    else {
      while (buckets.length <= b.index) buckets.push(0);
      buckets[b.index] += b.count;
    }
  }
  return {
    count: totals.count,
    total: totals.total,
    min: totals.min,
    max: totals.max,
    zeros,
    buckets,
    exact: null,
    sketch: { relativeAccuracy: QUANTILE_RELATIVE_ACCURACY, zeroCount, offset, bins: dense },
  };
}
