// The DDSketch of a large duration distribution (quantiles.ts), kept as its bare state: a count per
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
import { createRequire } from 'node:module';
import type { LogCollapsingLowestDenseDDSketch } from '@datadog/sketches-js';

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
