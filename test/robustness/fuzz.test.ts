// Fuzzing the parsers (fast-check): random bytes and mutated real lines never make a parser throw;
// every line stays accounted for and every event stays schema-valid. `npm run fuzz` runs 10^5 cases.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { mutatedLinesProperty, randomBytesProperty, realLines } from './mutate.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const seeds = realLines(ROOT);

describe('fuzz', () => {
  it('random bytes, every format', async () => {
    await fc.assert(randomBytesProperty(2000), { numRuns: RUNS });
  });

  it('mutations of real lines, every format', async () => {
    await fc.assert(mutatedLinesProperty(seeds, 30), { numRuns: RUNS });
  });
});
