// One analysis of a set of inputs per vitest worker, for the tests that only read the report.
// The fast set runs without per-file isolation (test/vitest.config.ts), so the files of a worker
// share this module: the 11 MB contention capture, read by half a dozen files, is analysed once per
// worker instead of once per file. The report is frozen: a test that changed it would change it for
// every later file of the worker; frozen, it fails where it writes instead.
import { runAnalysis } from '../analyses/pipeline.js';
import type { AnalyzeReport } from '../analyses/report.js';

const shared = new Map<string, Promise<AnalyzeReport>>();

function deepFreeze<T>(x: T): T {
  if (x !== null && typeof x === 'object' && !Object.isFrozen(x)) {
    Object.freeze(x);
    for (const v of Object.values(x)) deepFreeze(v);
  }
  return x;
}

/** `runAnalysis(files, {})`, made once per worker and frozen. */
export function sharedAnalysis(files: readonly string[]): Promise<AnalyzeReport> {
  const key = files.join('\n');
  let report = shared.get(key);
  if (!report) {
    report = runAnalysis([...files], {}).then(deepFreeze);
    shared.set(key, report);
  }
  return report;
}
