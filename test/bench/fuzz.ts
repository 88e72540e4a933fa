// `npm run fuzz [-- --runs 100000] [--parsers | --pipeline] [--seed N] [--keep DIR]`:
// - parsers: the parser fuzzing of test/robustness/fuzz.test.ts at full scale (random bytes and
//   mutated real lines, every format);
// - pipeline: the whole-pipeline fuzzing of test/robustness/pipeline-fuzz.test.ts at full scale
//   (analyze, check, diff, export, merge and the TUI model on mutated real captures and random
//   bytes), counting internal errors by signature; --keep DIR saves the first input of each.
// Without --parsers or --pipeline, both run. Exits 1 if anything failed.
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { mutatedLinesProperty, randomBytesProperty, realLines } from '../robustness/mutate.js';
import { fuzzPipeline } from '../robustness/pipeline-cases.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const runs = Number(arg('--runs') ?? 100_000);
const only = process.argv.includes('--parsers') ? 'parsers' : process.argv.includes('--pipeline') ? 'pipeline' : null;

if (only !== 'pipeline') {
  const t0 = Date.now();
  await fc.assert(randomBytesProperty(4000), { numRuns: Math.ceil(runs / 2) });
  await fc.assert(mutatedLinesProperty(realLines(ROOT), 40), { numRuns: Math.floor(runs / 2) });
  console.log(`fuzz parsers: ${runs} cases passed in ${((Date.now() - t0) / 1000).toFixed(1)} s (no exception escaped, every line accounted, every event schema-valid)`);
}
if (only !== 'parsers') {
  const t0 = Date.now();
  const seed = Number(arg('--seed') ?? 1);
  const t = await fuzzPipeline(ROOT, seed, runs, Number(arg('--from') ?? 0), arg('--keep'));
  const internal = [...t.failures.values()].reduce((a, f) => a + f.count, 0);
  console.log(
    `fuzz pipeline: ${t.runs} cases (seed ${seed}) in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${t.refused} refused cleanly, ${t.lines} lines all accounted for, ${internal} internal errors in ${t.failures.size} kinds`,
  );
  for (const [sig, f] of t.failures) console.log(`  ${f.count}x ${sig}\n     first: case ${f.firstCase} (${f.what}): ${f.message}`);
  if (internal > 0) process.exitCode = 1;
}
