// Fuzzing the whole pipeline (pipeline.ts): analyze, check, diff, export, merge and the TUI model on
// mutated windows of real captures and on random bytes. Zero internal errors, every line accounted
// for, no control character in terminal text. `npm run fuzz -- --pipeline` runs 10^5 cases; the
// slow set (pipeline-fuzz.slow.test.ts) 120; here, in the fast set, the first 20 of the same seed.
import { pipelineFuzzTest } from './pipeline-fuzz-case.js';

pipelineFuzzTest(20);
