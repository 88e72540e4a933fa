// The sketch state kept as bare counts (analyses/locks/quantiles.ts SketchBins) must be the library's
// DDSketch state exactly: the same key for every value, the same percentiles and the same serialized
// bins as a LogCollapsingLowestDenseDDSketch fed the same values with accept(), in the same order,
// also after merges and past the library's bin limit (where its store collapses the lowest bins).
import { createRequire } from 'node:module';
import type { LogCollapsingLowestDenseDDSketch } from '@datadog/sketches-js';
import { describe, expect, it } from 'vitest';
import { Distribution, EXACT_LIMIT, QUANTILE_RELATIVE_ACCURACY, REPORTED_QUANTILES, nearestRank } from '../../analyses/locks/quantiles.js';
import { MIN_POSSIBLE, SKETCH_BIN_LIMIT, sketchKey } from '../../analyses/locks/quantiles.js';
import { seededRandom } from '../helpers.js';

const lib = createRequire(import.meta.url)('@datadog/sketches-js') as typeof import('@datadog/sketches-js');
const libSketch = (): LogCollapsingLowestDenseDDSketch => new lib.LogCollapsingLowestDenseDDSketch({ relativeAccuracy: QUANTILE_RELATIVE_ACCURACY, binLimit: SKETCH_BIN_LIMIT });

/** The library's answer for Distribution.quantile (the nearest rank read from the sketch, clamped to the exact extremes). */
function libQuantile(sk: LogCollapsingLowestDenseDDSketch, q: number, min: number, max: number): number {
  const index = nearestRank(q, sk.count) - 1;
  const v = sk.getValueAtQuantile(sk.count > 1 ? Math.min(1, (index + 0.5) / (sk.count - 1)) : 0);
  return Math.min(max, Math.max(min, v));
}

/** The library sketch's bins as Distribution.serialize writes them. */
function libBins(sk: LogCollapsingLowestDenseDDSketch): { zeroCount: number; offset: number; bins: number[] } {
  const st = sk.store;
  const bins: number[] = [];
  if (st.count > 0) for (let k = st.minKey; k <= st.maxKey; k++) bins.push(st.bins[k - st.offset] ?? 0);
  return { zeroCount: sk.zeroCount, offset: st.count > 0 ? st.minKey : 0, bins };
}

function expectSameAsLibrary(d: Distribution, sk: LogCollapsingLowestDenseDDSketch, label: string): void {
  expect(d.isExact, label).toBe(false);
  expect(d.count, label).toBe(sk.count);
  for (const q of [...REPORTED_QUANTILES, 0, 0.1, 0.25, 0.75, 1]) expect(d.quantile(q), `${label} q=${q}`).toBe(libQuantile(sk, q, d.min, d.max));
  const s = d.serialize().sketch;
  expect(s, label).not.toBeNull();
  expect({ zeroCount: s?.zeroCount, offset: s?.offset, bins: s?.bins }, label).toEqual(libBins(sk));
}

const SHAPES: Record<string, (r: () => number) => number> = {
  'log-normal ns': (r) => Math.round(Math.exp(11.5 + 1.8 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()))),
  'with zeros': (r) => (r() < 0.1 ? 0 : Math.round(r() * 1e6)),
  fractional: (r) => r() * 1000,
  // Spans far more keys than the library keeps (its store collapses): only hostile input does this.
  'beyond the bin limit': (r) => (r() < 0.5 ? 10 ** (-300 + r() * 600) : Math.round(r() * 1e9)),
};

describe('sketch bins', () => {
  it('map each value to the key the library maps it to', () => {
    const mapping = libSketch().mapping;
    const r = seededRandom(7);
    const values = [MIN_POSSIBLE * 1.0000001, 1e-300, 0.5, 1, 2, 3, 1023, 1024, 1e9, 2 ** 53, 1e300];
    for (let k = -50; k < 2000; k++) {
      const edge = mapping.value(k);
      values.push(edge, edge * (1 + 1e-15), edge * (1 - 1e-15));
    }
    for (let i = 0; i < 20000; i++) values.push(Math.round(r() * 1e10), r() * 1e-3, 10 ** (r() * 40 - 20));
    for (const v of values) expect(sketchKey(v), `v=${v}`).toBe(mapping.key(v));
  });

  for (const [shape, gen] of Object.entries(SHAPES)) {
    it(`give the library's percentiles and bins past ${EXACT_LIMIT} values: ${shape}`, () => {
      const r = seededRandom(shape.length * 31);
      for (const n of [EXACT_LIMIT + 1, 20_000]) {
        const d = new Distribution();
        const sk = libSketch();
        for (let i = 0; i < n; i++) {
          const v = gen(r);
          d.add(v);
          sk.accept(v);
        }
        expectSameAsLibrary(d, sk, `${shape} n=${n}`);
        // What a merged host summary reads back (luotrace merge) is the same state. (Not past the
        // limit: the library's collapsed store can count one value twice, which deserialize refuses.)
        if (!shape.startsWith('beyond')) expectSameAsLibrary(Distribution.deserialize(d.serialize()), sk, `${shape} n=${n} deserialized`);
      }
    });
  }

  it('merge as the library did: exact parts accepted value by value, sketches merged, also past the bin limit', () => {
    for (const shape of Object.keys(SHAPES)) {
      const r = seededRandom(shape.length);
      const merged = new Distribution();
      // The reference: what Distribution.merge did with library sketches (exact values while they fit,
      // then a sketch fed them in order; an exact part accepted value by value, a sketch part merged).
      let refExact: number[] | null = [];
      let ref: LogCollapsingLowestDenseDDSketch = libSketch();
      for (const size of [10, 3000, 50, 9000, EXACT_LIMIT, 7]) {
        const part = new Distribution();
        const values: number[] = [];
        const partRef = libSketch();
        for (let i = 0; i < size; i++) {
          const v = SHAPES[shape](r);
          part.add(v);
          values.push(v);
          partRef.accept(v);
        }
        merged.merge(part);
        if (refExact !== null && size <= EXACT_LIMIT && refExact.length + size <= EXACT_LIMIT) {
          refExact.push(...values);
          continue;
        }
        if (refExact !== null) {
          ref = libSketch();
          for (const v of refExact) ref.accept(v);
          refExact = null;
        }
        if (size <= EXACT_LIMIT) for (const v of values) ref.accept(v);
        else ref.merge(partRef);
      }
      expectSameAsLibrary(merged, ref, `merged ${shape}`);
    }
  });

  it('keep adding after reading a quantile (the view made for it is not kept stale)', () => {
    const r = seededRandom(3);
    const d = new Distribution();
    const sk = libSketch();
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 3000; i++) {
        const v = Math.round(r() * 1e6 * (round + 1));
        d.add(v);
        sk.accept(v);
      }
      expectSameAsLibrary(d, sk, `round ${round}`);
    }
  });
});
