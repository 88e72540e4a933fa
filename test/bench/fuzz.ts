// `npm run fuzz [-- --runs 100000]`: the parser fuzzing of test/robustness/fuzz.test.ts at full
// scale (random bytes and mutated real lines, every format). Prints the cases run and any failure.
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { mutatedLinesProperty, randomBytesProperty, realLines } from '../robustness/mutate.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const i = process.argv.indexOf('--runs');
const runs = i >= 0 ? Number(process.argv[i + 1]) : 100_000;
const t0 = Date.now();
await fc.assert(randomBytesProperty(4000), { numRuns: Math.ceil(runs / 2) });
await fc.assert(mutatedLinesProperty(realLines(ROOT), 40), { numRuns: Math.floor(runs / 2) });
console.log(`fuzz: ${runs} cases passed in ${((Date.now() - t0) / 1000).toFixed(1)} s (no exception escaped, every line accounted, every event schema-valid)`);
