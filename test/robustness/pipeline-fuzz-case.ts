// The whole-pipeline fuzz test, shared by the fast set (a few cases: pipeline-fuzz.test.ts) and the
// slow set (the full seeded slice: pipeline-fuzz.slow.test.ts). PIPELINE_FUZZ_RUNS /
// PIPELINE_FUZZ_SEED widen either.
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { fuzzPipeline } from './pipeline-cases.js';

export function pipelineFuzzTest(defaultRuns: number): void {
  const RUNS = Number(process.env.PIPELINE_FUZZ_RUNS ?? defaultRuns);
  const SEED = Number(process.env.PIPELINE_FUZZ_SEED ?? 15);

  describe('pipeline fuzz', () => {
    it(`${RUNS} cases of seed ${SEED}: no internal error`, async () => {
      const t = await fuzzPipeline(ROOT, SEED, RUNS);
      const failures = [...t.failures.entries()].map(([sig, f]) => `${f.count}x ${sig} (first: case ${f.firstCase}, ${f.what})`);
      expect(failures).toEqual([]);
      expect(t.runs).toBe(RUNS);
      // The cases are mostly usable traces, not only refusals (the harness would prove nothing).
      expect(t.refused).toBeLessThan(RUNS / 2);
      expect(t.lines).toBeGreaterThan(RUNS * 20);
    });
  });
}
