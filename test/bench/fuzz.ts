// `npm run fuzz [-- --runs 100000]`: the parser fuzzing of test/robustness/fuzz.test.ts at full
// scale (random bytes and mutated real lines, every format). Prints the cases run and any failure.
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { FORMATS, checkInput, mutate, mutationArb, realLines } from '../robustness/mutate.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const i = process.argv.indexOf('--runs');
const runs = i >= 0 ? Number(process.argv[i + 1]) : 100_000;
const seeds = realLines(ROOT);
const t0 = Date.now();

await fc.assert(
  fc.asyncProperty(fc.uint8Array({ maxLength: 4000 }), fc.constantFrom(...FORMATS), async (bytes, format) => {
    await checkInput(Buffer.from(bytes), format);
  }),
  { numRuns: Math.ceil(runs / 2) },
);
await fc.assert(
  fc.asyncProperty(
    fc.array(fc.tuple(fc.nat(seeds.length - 1), fc.array(mutationArb, { maxLength: 4 })), { minLength: 1, maxLength: 40 }),
    fc.constantFrom(...FORMATS),
    fc.boolean(),
    async (picks, format, finalNewline) => {
      await checkInput(Buffer.from(picks.map(([j, m]) => mutate(seeds[j], m)).join('\n') + (finalNewline ? '\n' : '')), format);
    },
  ),
  { numRuns: Math.floor(runs / 2) },
);
console.log(`fuzz: ${runs} cases passed in ${((Date.now() - t0) / 1000).toFixed(1)} s (no exception escaped, every line accounted, every event schema-valid)`);
