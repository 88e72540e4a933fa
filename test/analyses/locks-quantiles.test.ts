// Percentiles of the lock statistics against exact values: exact while small, within the stated
// relative error (DDSketch) on large random samples, also after merging; log2 histograms.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Distribution, EXACT_LIMIT, QUANTILE_RELATIVE_ACCURACY, REPORTED_QUANTILES, log2Floor } from '../../analyses/locks/quantiles.js';
import { seededRandom } from '../helpers.js';

// Nearest rank: the ⌈q·n⌉-th smallest (1-based; q = 0 is the minimum).
const exactQuantile = (sorted: number[], q: number) => sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1];

// Durations shaped like lock waits: integer nanoseconds over several orders of magnitude.
const SHAPES: Record<string, (r: () => number) => number> = {
  'log-normal (waits 30 us .. 200 ms)': (r) => {
    const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    return Math.round(Math.exp(11.5 + 1.8 * z));
  },
  uniform: (r) => Math.round(r() * 1e7),
  'exponential with zeros (µs-resolution clocks)': (r) => (r() < 0.05 ? 0 : Math.round(-Math.log(1 - r()) * 1e6 / 1000) * 1000),
  'bimodal (spin-only vs slept)': (r) => (r() < 0.8 ? 50_000 + Math.round(r() * 100_000) : 5_000_000 + Math.round(r() * 100_000_000)),
};

function within(est: number, exact: number): boolean {
  return Math.abs(est - exact) <= QUANTILE_RELATIVE_ACCURACY * exact + 1e-9;
}

describe('Distribution percentiles', () => {
  for (const [shape, gen] of Object.entries(SHAPES)) {
    it(`are exact up to ${EXACT_LIMIT} values and within ${QUANTILE_RELATIVE_ACCURACY * 100}% beyond: ${shape}`, () => {
      const r = seededRandom(shape.length * 7919);
      for (const n of [1, 7, EXACT_LIMIT, 200_000]) {
        const d = new Distribution();
        const values: number[] = [];
        for (let i = 0; i < n; i++) {
          const v = gen(r);
          values.push(v);
          d.add(v);
        }
        values.sort((a, b) => a - b);
        expect(d.isExact).toBe(n <= EXACT_LIMIT);
        expect(d.count).toBe(n);
        expect(d.min).toBe(values[0]);
        expect(d.max).toBe(values[n - 1]);
        expect(d.total).toBe(values.reduce((s, v) => s + v, 0));
        for (const q of [...REPORTED_QUANTILES, 0, 0.25, 0.75, 1]) {
          const exact = exactQuantile(values, q);
          const est = d.quantile(q) as number;
          if (d.isExact) expect(est).toBe(exact);
          else expect(within(est, exact), `${shape} n=${n} q=${q}: ${est} vs ${exact}`).toBe(true);
        }
        const s = d.summary();
        expect(s.quantiles).toBe(d.isExact ? 'exact' : 'sketch');
        expect(s.quantileMethod).toBe(d.isExact ? 'nearest-rank' : 'ddsketch');
        // summary values are rounded to whole nanoseconds
        if (!d.isExact) expect(Math.abs((s.p999 as number) - exactQuantile(values, 0.999))).toBeLessThanOrEqual(QUANTILE_RELATIVE_ACCURACY * exactQuantile(values, 0.999) + 0.5);
      }
    });
  }

  it('stay within the error after merging sketches and exact parts (per-instance rows merged into a class)', () => {
    const r = seededRandom(42);
    const gen = SHAPES['log-normal (waits 30 us .. 200 ms)'];
    const parts: Distribution[] = [];
    const all: number[] = [];
    for (const size of [10, 3000, 50_000, 100, 25_000]) {
      const d = new Distribution();
      for (let i = 0; i < size; i++) {
        const v = gen(r);
        all.push(v);
        d.add(v);
      }
      parts.push(d);
    }
    const merged = new Distribution();
    for (const p of parts) merged.merge(p);
    all.sort((a, b) => a - b);
    expect(merged.count).toBe(all.length);
    expect(merged.min).toBe(all[0]);
    expect(merged.max).toBe(all[all.length - 1]);
    for (const q of REPORTED_QUANTILES) expect(within(merged.quantile(q) as number, exactQuantile(all, q))).toBe(true);
  });

  it('merging small exact parts stays exact', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.nat({ max: 1e9 }), { maxLength: 300 }), { maxLength: 6 }), (chunks) => {
        const merged = new Distribution();
        for (const c of chunks) {
          const d = new Distribution();
          for (const v of c) d.add(v);
          merged.merge(d);
        }
        const all = chunks.flat().sort((a, b) => a - b);
        if (all.length === 0) return merged.quantile(0.5) === null;
        return merged.isExact && REPORTED_QUANTILES.every((q) => merged.quantile(q) === exactQuantile(all, q));
      }),
    );
  });

  it('random samples of any size: exact or within the stated error (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6000 }), fc.integer(), fc.constantFrom(...Object.keys(SHAPES)), (n, seed, shape) => {
        const r = seededRandom(seed);
        const d = new Distribution();
        const values: number[] = [];
        for (let i = 0; i < n; i++) {
          const v = SHAPES[shape](r);
          values.push(v);
          d.add(v);
        }
        values.sort((a, b) => a - b);
        return REPORTED_QUANTILES.every((q) => (d.isExact ? d.quantile(q) === exactQuantile(values, q) : within(d.quantile(q) as number, exactQuantile(values, q))));
      }),
      { numRuns: 60 },
    );
  });

  it('rejects negative durations (an interval arithmetic bug must not be averaged away)', () => {
    expect(() => new Distribution().add(-1)).toThrow(RangeError);
  });
});

describe('log2 histogram', () => {
  it('puts 2^k in [2^k, 2^(k+1)) and zeros apart, and counts every value', () => {
    const d = new Distribution();
    for (const v of [0, 0, 1, 2, 3, 1023, 1024, 2047, 2048, 2 ** 40, 2 ** 40 - 1]) d.add(v);
    expect(d.histogram()).toEqual([
      { low: 0, high: 1, count: 2 },
      { low: 1, high: 2, count: 1 },
      { low: 2, high: 4, count: 2 },
      { low: 512, high: 1024, count: 1 },
      { low: 1024, high: 2048, count: 2 },
      { low: 2048, high: 4096, count: 1 },
      { low: 2 ** 39, high: 2 ** 40, count: 1 },
      { low: 2 ** 40, high: 2 ** 41, count: 1 },
    ]);
  });
  it('log2Floor is exact around powers of two', () => {
    for (let k = 0; k < 53; k++) {
      expect(log2Floor(2 ** k)).toBe(k);
      if (k > 1) expect(log2Floor(2 ** k - 1)).toBe(k - 1);
    }
    // Above 2^32 (durations over 4.3 s) and 2^64: the largest double below each power, and a fraction above 2^32.
    for (let k = 33; k < 70; k++) {
      expect(log2Floor(2 ** k * (1 - 2 ** -53))).toBe(k - 1);
      expect(log2Floor(2 ** k * (1 + 2 ** -52))).toBe(k);
    }
    expect(log2Floor(2 ** 32 + 0.5)).toBe(32);
  });
});
