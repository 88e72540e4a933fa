// Fuzzing the whole pipeline (pipeline.ts) on a fixed seeded slice of 120 cases: see
// pipeline-fuzz-case.ts. In the slow set (about 4 s of CPU); the fast set runs the first 20 cases.
import { pipelineFuzzTest } from './pipeline-fuzz-case.js';

pipelineFuzzTest(120);
