// `luotrace check` with the default rules on every capture of samples/real, with what each can check:
// shared by check.test.ts (fast set: one set of each kind) and check.slow.test.ts (the other
// renderings of the same runs).
import { expect } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';
import { effectiveRules, evaluateRules } from '../../reports/rules.js';
import { sample } from '../helpers.js';
import { sharedAnalysis } from '../analysis-cache.js';

export interface RealSet {
  files: string[];
  passed: number;
  notApplicable: string[];
  kallsyms?: string;
  warned?: string[];
}

// Every capture of samples/real (real README §2: one run, many renderings), with what each can
// check. Not applicable, never failed: kexec-freeze without a kexec (abort, contention); the lock
// rules where the instance has no lockdep names (noirq, mono, global: the luorw probes print the
// LUO rwsems by raw address only, named with --kallsyms) or no lock events (fgraph, dmesg,
// console); phase limits without LUO probes (dmesg, console); the LUO verdicts where the rendering
// shows no session ending (dmesg), no module reference or no LUO event at all (dmesg,
// console alone). bpftrace outputs wait for their parser.
const NO_LOCK_NAMES = ['max-hold', 'max-wait', 'p99-wait'];
const NO_LUO = ['modules-unpinned-after-finish', 'refcounts-balanced', 'no-pins-outside-sessions', 'no-unregister-errors'];
const lifecycle = (r: string, r2 = r) => [`real/lifecycle/stage1/${r}`, 'real/lifecycle/console.log.gz', `real/lifecycle/stage2/${r2}`];
// phase-errors warns (its default for a failed preserve) on the abort capture's deliberate -EIO preserve.
export const REAL_SETS: RealSet[] = [
  ...['ftrace-main.txt.gz', 'ftrace-trace_pipe.txt.gz', 'ftrace-tgid.txt.gz', 'trace-cmd-report.txt.gz'].map((r) => ({ files: lifecycle(r), passed: 12, notApplicable: [] })),
  ...['ftrace-noirq.txt.gz', 'ftrace-mono.txt.gz', 'ftrace-global.txt.gz'].map((r) => ({ files: lifecycle(r), passed: 9, notApplicable: NO_LOCK_NAMES })),
  { files: lifecycle('dmesg.txt.gz'), passed: 6, notApplicable: ['modules-unpinned-after-finish', 'refcounts-balanced', 'no-unregister-errors', ...NO_LOCK_NAMES] },
  // function_graph: sessions followed by task (no file_set), so the finished ones are checked too
  { files: lifecycle('ftrace-fgraph.txt', 'ftrace-fgraph.txt.gz'), passed: 9, notApplicable: NO_LOCK_NAMES },
  // with kallsyms the raw rwsem addresses are the LUO rwsems (holds only: none was contended)
  { files: lifecycle('ftrace-mono.txt.gz'), kallsyms: 'real/lifecycle/stage1/kallsyms-luo.txt', passed: 10, notApplicable: ['max-wait', 'p99-wait'] },
  ...['ftrace-main.txt.gz', 'ftrace-trace_pipe.txt.gz', 'ftrace-tgid.txt.gz', 'trace-cmd-report.txt.gz'].map((r) => ({ files: [`real/abort/stage1/${r}`], passed: 10, notApplicable: ['kexec-freeze'], warned: ['phase-errors'] })),
  ...['ftrace-noirq.txt.gz', 'ftrace-mono.txt.gz', 'ftrace-global.txt.gz'].map((r) => ({ files: [`real/abort/stage1/${r}`], passed: 7, notApplicable: ['kexec-freeze', ...NO_LOCK_NAMES], warned: ['phase-errors'] })),
  { files: ['real/abort/stage1/ftrace-fgraph.txt'], passed: 7, notApplicable: ['kexec-freeze', ...NO_LOCK_NAMES], warned: ['phase-errors'] },
  { files: ['real/contention-no-writer/stage1/ftrace-main.txt.gz'], passed: 11, notApplicable: ['kexec-freeze'] },
  ...['real/abort/stage1/dmesg.txt.gz', 'real/abort/console.log.gz', 'real/contention-no-writer/stage1/dmesg.txt.gz', 'real/contention-no-writer/console.log.gz'].map((f) => ({
    files: [f],
    passed: 2,
    notApplicable: [...NO_LUO, 'kexec-freeze', ...NO_LOCK_NAMES, 'max-phase-duration', 'phase-errors'],
  })),
];

export const realSetName = (set: RealSet): string => `${set.files.join(' + ')}${set.kallsyms ? ' --kallsyms' : ''}`;

/**
 * The fast set's share: the main ftrace rendering of each run, the one named by --kallsyms, the
 * function_graph one and a kernel log without LUO events.
 */
const FAST = new Set([
  'real/lifecycle/stage1/ftrace-main.txt.gz + real/lifecycle/console.log.gz + real/lifecycle/stage2/ftrace-main.txt.gz',
  'real/lifecycle/stage1/ftrace-mono.txt.gz + real/lifecycle/console.log.gz + real/lifecycle/stage2/ftrace-mono.txt.gz --kallsyms',
  'real/lifecycle/stage1/ftrace-fgraph.txt + real/lifecycle/console.log.gz + real/lifecycle/stage2/ftrace-fgraph.txt.gz',
  'real/abort/stage1/ftrace-main.txt.gz',
  'real/contention-no-writer/stage1/ftrace-main.txt.gz',
  'real/abort/stage1/dmesg.txt.gz',
]);
export const isFastRealSet = (set: RealSet): boolean => FAST.has(realSetName(set));

/** check passes on the set, with exactly the rules it can check. */
export async function expectPasses(set: RealSet): Promise<void> {
  const files = set.files.map(sample);
  const report = set.kallsyms ? await runAnalysis(files, { kallsyms: sample(set.kallsyms) }) : await sharedAnalysis(files);
  const c = evaluateRules(report, effectiveRules(null));
  expect(c.rules.filter((x) => x.status === 'fail').map((x) => `${x.id}: ${x.message}`)).toEqual([]);
  expect(c.rules.filter((x) => x.status === 'warn').map((x) => x.id)).toEqual(set.warned ?? []);
  expect(c.status).toBe('pass');
  expect(c.rules.filter((x) => x.status === 'n/a').map((x) => x.id)).toEqual(set.notApplicable);
  expect(c.summary.passed).toBe(set.passed);
}

// The lab cut these at 2 MB (real README §0, `*.trimmed.*`): incomplete input, and nothing else.
// At the cut, 6 sessions are open and the FLB is in use, and the pipe/tgid/trace-cmd instances
// write one module_put 24 ms after main does: neither is a fault (test/analyses/verdicts-real.test.ts).
export const TRIMMED = ['ftrace-main', 'ftrace-trace_pipe', 'ftrace-tgid', 'trace-cmd-report'];
export const trimmedName = (f: string): string => `a trimmed capture (${f}, cut at 2 MB by the lab) is incomplete input: exactly no-lost-events fails`;

export async function expectTrimmedIncomplete(f: string): Promise<void> {
  const c = evaluateRules(await runAnalysis([sample(`real/contention-no-writer/stage1/${f}.trimmed.txt.gz`)], {}), effectiveRules(null));
  expect(c.rules.filter((x) => x.status === 'fail').map((x) => [x.id, x.message])).toEqual([['no-lost-events', 'input truncated']]);
  expect(c.dataQuality.truncated).toBe(true);
}
