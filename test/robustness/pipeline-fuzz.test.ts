// Fuzzing the whole pipeline (pipeline.ts): analyze, check, diff, export, merge and the TUI model on
// mutated windows of real captures and on random bytes. Zero internal errors, every line accounted
// for, no control character in terminal text. `npm run fuzz -- --pipeline` runs 10^5 cases; here
// a fixed seeded slice (PIPELINE_FUZZ_RUNS / PIPELINE_FUZZ_SEED to widen it).
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { fuzzPipeline } from './pipeline-cases.js';

const RUNS = Number(process.env.PIPELINE_FUZZ_RUNS ?? 120);
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
