// Duration distributions for the lock statistics: count/total/min/max (always exact), percentiles
// and a log2 histogram, all mergeable (per-instance statistics are merged into per-class rows).
//
// Percentiles are exact while a distribution holds at most EXACT_LIMIT values (kept in an array).
// Beyond that the values move into a DDSketch (DataDog's @datadog/sketches-js, the reference
// implementation of Masson, Rim & Lee, "DDSketch: a fast and fully-mergeable quantile sketch with
// relative-error guarantees", VLDB 2019): every reported quantile v̂ of a positive value v satisfies
// |v̂ − v| ≤ QUANTILE_RELATIVE_ACCURACY · v, memory stays bounded (≤ SKETCH_BIN_LIMIT bins; nanosecond
// durations never come near the limit) and merging two sketches is exact. The rank is the same in
// both modes, the nearest rank (nearestRank below): the ⌈q·n⌉-th smallest of n values, so a p99 of
// fewer than 100 values is their max, as HdrHistogram's getValueAtPercentile counts (⌈q·n⌉, at least
// 1) and as one reads a bpftrace hist(); a lower rank (floor(q·(n−1)), what DDSketch's
// getValueAtQuantile uses) would hide the slowest stalls of a small sample behind the next-slowest.
import { createRequire } from 'node:module';
import type { LogCollapsingLowestDenseDDSketch } from '@datadog/sketches-js';
import { z } from 'zod';

// The DDSketch of a large duration distribution (Distribution below), kept as its bare state: a count per
// sketch key in one Float64Array. Every duration of a lock goes to several distributions (lock,
// caller, phase), and the library's accept() did per value what only this keeps apart: its own
// count/sum/min/max (the Distribution has them), a store growing a JS array, a call into the mapping.
//
// The state is the library's, key for key: the key of a value is LogarithmicMapping.key (the same
// floating-point operations, checked against the library by test/analyses/sketch-bins.test.ts), and
// the library's LogCollapsingLowestDenseDDSketch is built from the counts only when a quantile is
// read (view), so percentiles come from the library's own getValueAtQuantile. The library's store
// collapses its lowest bins past SKETCH_BIN_LIMIT keys (values spanning ~17 orders of magnitude,
// only hostile input): the first value or merge that would need it hands the counts to a library
// sketch (`lib`, the same state it would have had: nothing collapses below the limit), which then
// takes every later value itself, so collapsing stays the library's.
export const QUANTILE_RELATIVE_ACCURACY = 0.01;
export const SKETCH_BIN_LIMIT = 2048;

// Loaded on first use (a quantile of a distribution past EXACT_LIMIT): most reports never need it,
// and every millisecond of start-up counts for a CLI.
let sketchClass: typeof LogCollapsingLowestDenseDDSketch | null = null;
export function newSketch(): LogCollapsingLowestDenseDDSketch {
  sketchClass ??= (createRequire(import.meta.url)('@datadog/sketches-js') as typeof import('@datadog/sketches-js')).LogCollapsingLowestDenseDDSketch;
  return new sketchClass({ relativeAccuracy: QUANTILE_RELATIVE_ACCURACY, binLimit: SKETCH_BIN_LIMIT });
}

// KeyMapping's constructor and LogarithmicMapping's, operation for operation (sketches-js
// ddsketch/mapping/KeyMapping.js, LogarithmicMapping.js): the same doubles, so the same keys.
const GAMMA_MANTISSA = (2 * QUANTILE_RELATIVE_ACCURACY) / (1 - QUANTILE_RELATIVE_ACCURACY);
let multiplier = 1 / Math.log1p(GAMMA_MANTISSA);
multiplier *= Math.log(2);
const MULTIPLIER = multiplier;
/** Values at or below this go to the sketch's zero count (KeyMapping.minPossible). */
export const MIN_POSSIBLE = Math.pow(2, -1023) * (1 + GAMMA_MANTISSA);

/** LogarithmicMapping.key(v) for v > MIN_POSSIBLE: ceil(log_gamma(v)) + its offset 0 (which makes -0 a 0, as there). */
export function sketchKey(v: number): number {
  return Math.ceil(Math.log2(v) * MULTIPLIER) + 0;
}

/** The key of the value added last: one duration goes to several distributions in a row (lock, caller, phase). */
let memoValue = Number.NaN;
let memoKey = 0;

/** Room added around the keys when the counts grow (the library's chunk size). */
const CHUNK = 128;

export class SketchBins {
  /** Values mapped to zero (KeyMapping.minPossible or below). */
  zeroCount = 0;
  /** Values with a key (in `counts`). */
  keyed = 0;
  minKey = Infinity;
  maxKey = -Infinity;
  /** counts[k - base] = values of key k, for minKey <= k <= maxKey. */
  private counts = new Float64Array(0);
  private base = 0;
  /** Past SKETCH_BIN_LIMIT keys: the library sketch that holds everything from then on. */
  private lib: LogCollapsingLowestDenseDDSketch | null = null;
  /** The library sketch built from the counts for reading quantiles (dropped by any change). */
  private cached: LogCollapsingLowestDenseDDSketch | null = null;

  add(v: number): void {
    const lib = this.lib;
    if (lib !== null) {
      lib.accept(v);
      return;
    }
    this.cached = null;
    if (!(v > MIN_POSSIBLE)) {
      this.zeroCount++;
      return;
    }
    let k = memoKey;
    if (v !== memoValue) {
      k = memoKey = sketchKey(v);
      memoValue = v;
    }
    const i = k - this.base;
    if (i >= 0 && i < this.counts.length) {
      this.counts[i]++;
      this.keyed++;
      if (k < this.minKey) this.minKey = k;
      if (k > this.maxKey) this.maxKey = k;
      return;
    }
    if (!this.addKey(k, 1)) (this.lib as LogCollapsingLowestDenseDDSketch).accept(v);
  }

  /** Add `c` values of key k; false (and nothing added) once the keys would span more than the library's limit: `lib` takes over. */
  private addKey(k: number, c: number): boolean {
    const lo = Math.min(this.minKey, k);
    const hi = Math.max(this.maxKey, k);
    if (hi - lo + 1 > SKETCH_BIN_LIMIT) {
      this.lib = this.librarySketch();
      this.cached = null;
      return false;
    }
    if (lo < this.base || hi >= this.base + this.counts.length) this.grow(lo, hi);
    this.counts[k - this.base] += c;
    this.keyed += c;
    this.minKey = lo;
    this.maxKey = hi;
    return true;
  }

  private grow(lo: number, hi: number): void {
    const base = lo - CHUNK;
    const out = new Float64Array(hi - lo + 1 + 2 * CHUNK);
    if (this.keyed > 0) out.set(this.counts.subarray(this.minKey - this.base, this.maxKey - this.base + 1), this.minKey - base);
    this.counts = out;
    this.base = base;
  }

  /** The count of key k (0 outside the keys seen). */
  countOf(k: number): number {
    const i = k - this.base;
    return i >= 0 && i < this.counts.length ? this.counts[i] : 0;
  }

  /** Fold another's values in (DDSketch.merge: counts add up). */
  merge(o: SketchBins): void {
    this.cached = null;
    if (this.lib === null && o.lib === null) {
      const lo = Math.min(this.minKey, o.minKey);
      const hi = Math.max(this.maxKey, o.maxKey);
      if (o.keyed === 0 || hi - lo + 1 <= SKETCH_BIN_LIMIT) {
        this.zeroCount += o.zeroCount;
        for (let k = o.minKey; k <= o.maxKey; k++) {
          const c = o.countOf(k);
          if (c > 0) this.addKey(k, c);
        }
        return;
      }
    }
    this.lib ??= this.librarySketch();
    this.lib.merge(o.view());
  }

  /** The library's sketch of these values, to read quantiles from (not to change). */
  view(): LogCollapsingLowestDenseDDSketch {
    if (this.lib !== null) return this.lib;
    return (this.cached ??= this.librarySketch());
  }

  /** A new library sketch with these counts (ascending keys: no key spans past the limit, nothing collapses). */
  private librarySketch(): LogCollapsingLowestDenseDDSketch {
    const sk = newSketch();
    for (let k = this.minKey; k <= this.maxKey; k++) {
      const c = this.countOf(k);
      if (c > 0) sk.store.add(k, c);
    }
    // What accept() accumulates besides the bins that getValueAtQuantile reads (count, zeroCount).
    sk.zeroCount = this.zeroCount;
    sk.count = this.zeroCount + this.keyed;
    return sk;
  }

  /** The state as SerializedDistribution's `sketch` writes it: zero count, and counts from the lowest key. */
  serialized(): { zeroCount: number; offset: number; bins: number[] } {
    if (this.lib !== null) {
      const st = this.lib.store;
      const bins: number[] = [];
      if (st.count > 0) for (let k = st.minKey; k <= st.maxKey; k++) bins.push(st.bins[k - st.offset] ?? 0);
      return { zeroCount: this.lib.zeroCount, offset: st.count > 0 ? st.minKey : 0, bins };
    }
    const bins: number[] = [];
    for (let k = this.minKey; k <= this.maxKey; k++) bins.push(this.countOf(k));
    return { zeroCount: this.zeroCount, offset: this.keyed > 0 ? this.minKey : 0, bins };
  }

  /** From serialized(): the counts, or a library sketch fed them when they span more keys than the limit (as deserialize always did). */
  static from(zeroCount: number, offset: number, bins: number[]): SketchBins {
    const s = new SketchBins();
    s.zeroCount = zeroCount;
    let first = -1;
    let last = -1;
    for (let i = 0; i < bins.length; i++) {
      if (bins[i] > 0) {
        if (first < 0) first = i;
        last = i;
      }
    }
    if (first >= 0 && last - first + 1 > SKETCH_BIN_LIMIT) {
      const sk = newSketch();
      bins.forEach((c, i) => {
        if (c > 0) sk.store.add(offset + i, c);
      });
      sk.zeroCount = zeroCount;
      sk.count = zeroCount + bins.reduce((a, b) => a + b, 0);
      s.lib = sk;
      return s;
    }
    for (let i = first; first >= 0 && i <= last; i++) if (bins[i] > 0) s.addKey(offset + i, bins[i]);
    return s;
  }
}

export const EXACT_LIMIT = 2048;
/** The first room for exact values (most distributions, per caller or phase, hold few). */
const EXACT_INITIAL = 8;

export const QUANTILE_METHOD =
  `pXX = the nearest rank: the ceil(q*n)-th smallest of the n durations (p99 of 24 holds = the slowest); exact while a distribution has at most ${EXACT_LIMIT} values, ` +
  `above that a DDSketch (@datadog/sketches-js) with ${QUANTILE_RELATIVE_ACCURACY * 100}% relative error on each percentile`;

/** The quantiles reported everywhere (p50, p90, p99, p99.9). */
export const REPORTED_QUANTILES = [0.5, 0.9, 0.99, 0.999] as const;

/**
 * The nearest rank of quantile q among n values: ⌈q·n⌉, 1-based, at least 1 (q = 0 is the minimum).
 * The one definition of a quantile's rank in luotrace (distributions, bpftrace histograms).
 */
export function nearestRank(q: number, n: number): number {
  const x = q * n;
  // q·n that should be a whole number but is not in binary (0.07 · 100 = 7.000000000000001) must not
  // round up to the next rank.
  const whole = Math.round(x);
  const rank = Math.abs(x - whole) <= 1e-9 * Math.max(1, x) ? whole : Math.ceil(x);
  return Math.min(n, Math.max(1, rank));
}

/** floor(log2(v)) for v >= 1, exact at powers of two. */
export function log2Floor(v: number): number {
  if (v < 4294967296) return 31 - Math.clz32(v);
  // v = hi·2^32 + lo: floor(log2(v)) = 32 + floor(log2(hi)) (hi = floor(v / 2^32) is exact), no logarithm.
  if (v < 18446744073709551616) return 63 - Math.clz32(Math.floor(v / 4294967296));
  let k = Math.floor(Math.log2(v));
  if (2 ** k > v) k--;
  else if (2 ** (k + 1) <= v) k++;
  return k;
}

export const HistogramBucketSchema = z.object({
  /** Inclusive lower bound (ns); 0 for the bucket of zero durations. */
  low: z.number(),
  /** Exclusive upper bound (ns): buckets are [2^k, 2^(k+1)), as bpftrace's hist(). */
  high: z.number(),
  count: z.number().int(),
});

/** The figures of a distribution every report gives (count, total, extremes, mean, percentiles). */
export const DistributionFiguresSchema = z.object({
  count: z.number().int(),
  total: z.number(),
  min: z.number().nullable(),
  max: z.number().nullable(),
  avg: z.number().nullable(),
  p50: z.number().nullable(),
  p90: z.number().nullable(),
  p99: z.number().nullable(),
  p999: z.number().nullable(),
});

export const DistributionSummarySchema = DistributionFiguresSchema.extend({
  /** "exact" (all values kept) or "sketch" (DDSketch, see lockDetails.quantileMethod). */
  quantiles: z.enum(['exact', 'sketch']),
  /**
   * How p50..p999 were found: "nearest-rank" = the ⌈q·n⌉-th smallest value, exactly; "ddsketch" = that
   * same value within QUANTILE_RELATIVE_ACCURACY (relative), read from a DDSketch.
   */
  quantileMethod: z.enum(['nearest-rank', 'ddsketch']),
});
export type DistributionSummary = z.infer<typeof DistributionSummarySchema>;

/**
 * A whole Distribution as JSON, so per-host summaries can be merged later (`luotrace merge`) with
 * the same result as merging in memory: exact values while small, else the DDSketch's bins (the
 * sketch's own state: bin key k counts values v with ceil(log_gamma(v)) = k; zeros apart). The
 * bins are written as plain counts from `offset` rather than DDSketch's protobuf: the package ships
 * its protobuf encoder without the protobufjs runtime it needs, and plain numbers stay readable.
 */
export const SerializedDistributionSchema = z.object({
  count: z.number().int().nonnegative(),
  total: z.number(),
  min: z.number().nullable(),
  max: z.number().nullable(),
  /** log2 histogram: values below 1, then `buckets[k]` = values in [2^k, 2^(k+1)). */
  zeros: z.number().int().nonnegative(),
  buckets: z.array(z.number().int().nonnegative()),
  /** All values, ascending, while count <= exactLimit; else null. */
  exact: z.array(z.number()).nullable(),
  sketch: z
    .object({
      relativeAccuracy: z.number(),
      /** Values the sketch maps to zero. */
      zeroCount: z.number().int().nonnegative(),
      /** Key of bins[0]. */
      offset: z.number().int(),
      bins: z.array(z.number().int().nonnegative()),
    })
    .nullable(),
});
export type SerializedDistribution = z.infer<typeof SerializedDistributionSchema>;

export class Distribution {
  count = 0;
  total = 0;
  min = Infinity;
  max = -Infinity;
  /** The exact values while count <= EXACT_LIMIT (the first `exactLength` slots; grown by doubling), else null. */
  private exact: Float64Array | null = new Float64Array(EXACT_INITIAL);
  private exactLength = 0;
  private sorted = true;
  /** Past EXACT_LIMIT values: the DDSketch's state (SketchBins above). */
  private sketch: SketchBins | null = null;
  /** log2 buckets: index k counts values in [2^k, 2^(k+1)); zeros counted apart. */
  private buckets: number[] = [];
  private zeros = 0;

  add(v: number): void {
    if (!(v >= 0)) throw new RangeError(`negative or NaN duration ${v}`);
    this.count++;
    this.total += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    if (v < 1) this.zeros++;
    else {
      const k = log2Floor(v);
      while (this.buckets.length <= k) this.buckets.push(0);
      this.buckets[k]++;
    }
    let ex = this.exact;
    if (ex !== null) {
      const n = this.exactLength;
      if (n > 0 && v < ex[n - 1]) this.sorted = false;
      if (n === ex.length) ex = this.grow(n + 1);
      ex[n] = v;
      this.exactLength = n + 1;
      if (n + 1 > EXACT_LIMIT) this.toSketch();
    } else (this.sketch as SketchBins).add(v);
  }

  /** Room for at least `need` exact values (doubling; at most EXACT_LIMIT + 1, the value that moves them to a sketch). */
  private grow(need: number): Float64Array {
    const old = this.exact as Float64Array;
    let cap = Math.max(old.length * 2, EXACT_INITIAL);
    while (cap < need) cap *= 2;
    const ex = new Float64Array(Math.min(cap, Math.max(need, EXACT_LIMIT + 1)));
    ex.set(old.subarray(0, this.exactLength));
    this.exact = ex;
    return ex;
  }

  /** The exact values, in the order kept (insertion order, or ascending once sorted). */
  private exactValues(): Float64Array {
    return (this.exact as Float64Array).subarray(0, this.exactLength);
  }

  private toSketch(): void {
    const s = new SketchBins();
    const ex = this.exact as Float64Array;
    for (let i = 0; i < this.exactLength; i++) s.add(ex[i]);
    this.sketch = s;
    this.exact = null;
    this.exactLength = 0;
  }

  merge(o: Distribution): void {
    if (o.count === 0) return;
    this.count += o.count;
    this.total += o.total;
    if (o.min < this.min) this.min = o.min;
    if (o.max > this.max) this.max = o.max;
    this.zeros += o.zeros;
    while (this.buckets.length < o.buckets.length) this.buckets.push(0);
    for (let i = 0; i < o.buckets.length; i++) this.buckets[i] += o.buckets[i];
    if (this.exact && o.exact && this.exactLength + o.exactLength <= EXACT_LIMIT) {
      const n = this.exactLength + o.exactLength;
      const ex = n > this.exact.length ? this.grow(n) : this.exact;
      ex.set(o.exactValues(), this.exactLength);
      this.exactLength = n;
      this.sorted = false;
      return;
    }
    if (this.exact) this.toSketch();
    const mine = this.sketch as SketchBins;
    if (o.exact) {
      const ox = o.exact;
      for (let i = 0; i < o.exactLength; i++) mine.add(ox[i]);
    } else mine.merge(o.sketch as SketchBins);
  }

  get isExact(): boolean {
    return this.exact !== null;
  }

  /** The value at quantile q (nearest rank: the ⌈q·n⌉-th smallest), or null when empty. */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    const index = nearestRank(q, this.count) - 1;
    if (this.exact) {
      if (!this.sorted) {
        // Ascending by value, as sort((a, b) => a - b) (durations are never NaN; -0 cannot arise from end - begin).
        this.exactValues().sort();
        this.sorted = true;
      }
      return this.exact[index];
    }
    const sk = (this.sketch as SketchBins).view();
    // getValueAtQuantile(x) answers the bin holding the value at 0-based index floor(x·(count − 1)):
    // ask for the middle of `index` so that floating point cannot move it to a neighbour.
    const v = sk.getValueAtQuantile(sk.count > 1 ? Math.min(1, (index + 0.5) / (sk.count - 1)) : 0);
    // The true value lies in [min, max]; clamping can only bring the estimate closer to it.
    return Math.min(this.max, Math.max(this.min, v));
  }

  summary(): DistributionSummary {
    const n = this.count;
    const q = (x: number): number | null => {
      const v = this.quantile(x);
      return v === null ? null : Math.round(v);
    };
    return {
      count: n,
      total: this.total,
      min: n ? this.min : null,
      max: n ? this.max : null,
      avg: n ? Math.round(this.total / n) : null,
      p50: q(0.5),
      p90: q(0.9),
      p99: q(0.99),
      p999: q(0.999),
      quantiles: this.isExact ? 'exact' : 'sketch',
      quantileMethod: this.isExact ? 'nearest-rank' : 'ddsketch',
    };
  }

  /** The whole state as JSON (see SerializedDistributionSchema); `Distribution.deserialize` inverts it. */
  serialize(): SerializedDistribution {
    const base = {
      count: this.count,
      total: this.total,
      min: this.count ? this.min : null,
      max: this.count ? this.max : null,
      zeros: this.zeros,
      buckets: [...this.buckets],
    };
    if (this.exact) return { ...base, exact: Array.from(this.exactValues()).sort((a, b) => a - b), sketch: null };
    const { zeroCount, offset, bins } = (this.sketch as SketchBins).serialized();
    return { ...base, exact: null, sketch: { relativeAccuracy: QUANTILE_RELATIVE_ACCURACY, zeroCount, offset, bins } };
  }

  /**
   * Rebuild a Distribution from `serialize()` output. Throws RangeError when the document is not
   * self-consistent (counts that do not add up, a sketch of another accuracy): merging it would
   * silently give wrong percentiles.
   */
  static deserialize(s: SerializedDistribution): Distribution {
    const d = new Distribution();
    const histCount = s.zeros + s.buckets.reduce((a, b) => a + b, 0);
    if (histCount !== s.count) throw new RangeError(`histogram holds ${histCount} values, count says ${s.count}`);
    if ((s.exact === null) === (s.sketch === null)) throw new RangeError('a distribution needs exactly one of exact values or a sketch');
    if (s.count > 0 && (s.min === null || s.max === null)) throw new RangeError('min/max missing');
    d.count = s.count;
    d.total = s.total;
    d.min = s.count ? (s.min as number) : Infinity;
    d.max = s.count ? (s.max as number) : -Infinity;
    d.zeros = s.zeros;
    d.buckets = [...s.buckets];
    if (s.exact) {
      if (s.exact.length !== s.count) throw new RangeError(`${s.exact.length} exact values, count says ${s.count}`);
      if (s.count > EXACT_LIMIT) throw new RangeError(`${s.count} exact values, more than ${EXACT_LIMIT}`);
      d.exact = Float64Array.from(s.exact);
      d.exactLength = s.exact.length;
      d.sorted = s.exact.every((v, i, a) => i === 0 || a[i - 1] <= v);
      return d;
    }
    const sk = s.sketch as NonNullable<SerializedDistribution['sketch']>;
    if (sk.relativeAccuracy !== QUANTILE_RELATIVE_ACCURACY) {
      throw new RangeError(`sketch of relative accuracy ${sk.relativeAccuracy}, this luotrace uses ${QUANTILE_RELATIVE_ACCURACY}`);
    }
    const inBins = sk.zeroCount + sk.bins.reduce((a, b) => a + b, 0);
    if (inBins !== s.count) throw new RangeError(`sketch holds ${inBins} values, count says ${s.count}`);
    const sketch = SketchBins.from(sk.zeroCount, sk.offset, sk.bins);
    d.exact = null;
    d.sketch = sketch;
    return d;
  }

  histogram(): Array<z.infer<typeof HistogramBucketSchema>> {
    const out: Array<z.infer<typeof HistogramBucketSchema>> = [];
    if (this.zeros) out.push({ low: 0, high: 1, count: this.zeros });
    for (let k = 0; k < this.buckets.length; k++) {
      if (this.buckets[k]) out.push({ low: 2 ** k, high: 2 ** (k + 1), count: this.buckets[k] });
    }
    return out;
  }
}
