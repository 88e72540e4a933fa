// Fuzzing the parsers (fast-check): random bytes and mutated real lines never make a parser throw;
// every line stays accounted for and every event stays schema-valid. `npm run fuzz` runs 10^5 cases.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { FORMATS, checkInput, mutate, mutationArb, realLines } from './mutate.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const seeds = realLines(ROOT);

describe('fuzz', () => {
  it('random bytes, every format', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), fc.constantFrom(...FORMATS), async (bytes, format) => {
        await checkInput(Buffer.from(bytes), format);
      }),
      { numRuns: RUNS },
    );
  });

  it('mutations of real lines, every format', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(seeds.length - 1), fc.array(mutationArb, { maxLength: 4 })), { minLength: 1, maxLength: 30 }),
        fc.constantFrom(...FORMATS),
        fc.boolean(),
        async (picks, format, finalNewline) => {
          const text = picks.map(([i, muts]) => mutate(seeds[i], muts)).join('\n') + (finalNewline ? '\n' : '');
          await checkInput(Buffer.from(text, 'utf8'), format);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
