// The four outcomes of a verdict (issue 14): pass and fail are definite, inconclusive when the data
// it needs may be missing, n/a when there is nothing to judge. On the real captures a clean run gives
// no inconclusive verdict; a lossy variant of a real capture (SYNTHETIC: lines cut out of a pin
// window and the kernel's own lost-events marker put in their place) gives inconclusive, not fail.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';
import { effectiveRules, evaluateRules } from '../../reports/rules.js';
import { checkFails } from '../../cli/check.js';
import { labelSynthetic, readSample } from '../cli/check-fixtures.js';
import { sample } from '../helpers.js';
import { sharedAnalysis } from '../analysis-cache.js';

const tmp = mkdtempSync(join(tmpdir(), 'luotrace-outcomes-'));
type Report = Awaited<ReturnType<typeof runAnalysis>>;
const verdict = (r: Report, id: string) => r.verdicts.find((v) => v.id === id)!;

const CLEAN = [
  ['real/lifecycle/stage1/ftrace-main.txt.gz'],
  ['real/lifecycle/stage2/ftrace-main.txt.gz'],
  ['real/lifecycle/stage1/ftrace-main.txt.gz', 'real/lifecycle/console.log.gz', 'real/lifecycle/stage2/ftrace-main.txt.gz'],
  ['real/abort/stage1/ftrace-main.txt.gz'],
  ['real/contention-no-writer/stage1/ftrace-main.txt.gz'],
];

describe('clean real captures', () => {
  it.each(CLEAN)('%s: no inconclusive verdict, ok is status !== fail', async (...files) => {
    const r = await sharedAnalysis(files.map(sample));
    expect(r.dataQuality.incomplete).toBe(false);
    expect(r.verdicts.filter((v) => v.status === 'inconclusive')).toEqual([]);
    for (const v of r.verdicts) expect(v.ok).toBe(v.status !== 'fail');
    expect(['pass', 'n/a']).toContain(verdict(r, 'modules-unpinned-after-finish').status);
    expect(verdict(r, 'refcounts-balanced').status).toBe('pass');
  });

  it('the first stage of the lifecycle run (nothing finished there yet) says n/a, not a pass with a sentence', async () => {
    const r = await runAnalysis([sample('real/lifecycle/stage1/ftrace-main.txt.gz')], {});
    const v = verdict(r, 'modules-unpinned-after-finish');
    expect(r.sessions.filter((s) => s.state === 'finished' || s.state === 'aborted')).toEqual([]);
    expect([v.status, v.reason, v.ok]).toEqual(['n/a', 'no-session-ended', true]);
  });
});

describe('a lossy variant of the real abort capture', async () => {
  // real/abort/stage1 line 651: the session's close drops a file's handler ref
  // (module_put call_site=luo_file_unpreserve_files refcnt=6). Cut it and its kprobe line, and put
  // the ring buffer's own marker in their place.
  const lines = readSample('real/abort/stage1/ftrace-main.txt.gz').split('\n');
  const put = lines.findIndex((l) => /module_put: luo_demo call_site=luo_file_unpreserve_files refcnt=6$/.test(l));
  expect(put).toBeGreaterThan(0);
  expect(lines[put - 1]).toMatch(/module_put: \(module_put\+/);
  lines.splice(put - 1, 2, 'CPU:0 [LOST 42 EVENTS]');
  const file = join(tmp, 'abort-lossy.synthetic.txt');
  writeFileSync(file, labelSynthetic(lines, 'two lines of real/abort/stage1/ftrace-main.txt.gz (a module_put and its kprobe) replaced by CPU:0 [LOST 42 EVENTS]'));
  const r = await runAnalysis([file], {});

  it('modules-unpinned-after-finish and refcounts-balanced are inconclusive, each saying what to do', () => {
    for (const id of ['modules-unpinned-after-finish', 'refcounts-balanced']) {
      const v = verdict(r, id);
      expect(v.status, `${id}: ${v.message}`).toBe('inconclusive');
      expect(v.ok).toBe(true);
      expect(v.message).toMatch(/bigger trace buffer/);
    }
    expect(verdict(r, 'modules-unpinned-after-finish').reason).toBe('put-may-be-lost');
    expect(verdict(r, 'refcounts-balanced').reason).toBe('may-be-lost');
  });

  it('no-lost-events still fails, and check fails on it alone; inconclusive rules fail only with --strict', () => {
    expect(verdict(r, 'no-lost-events').status).toBe('fail');
    const c = evaluateRules(r, effectiveRules(null));
    const st = (id: string) => c.rules.find((x) => x.id === id)!.status;
    expect(st('modules-unpinned-after-finish')).toBe('inconclusive');
    expect(st('refcounts-balanced')).toBe('inconclusive');
    expect(c.rules.filter((x) => x.status === 'fail').map((x) => x.id)).toEqual(['no-lost-events']);
    const lenient = evaluateRules(r, effectiveRules({ rules: { 'no-lost-events': 'warning' } }));
    // the two pin verdicts, and max-phase-duration: the abort's unpreserve spans the marker
    expect(lenient.summary.inconclusive).toBe(3);
    expect(st('max-phase-duration')).toBe('inconclusive');
    expect(checkFails(lenient)).toBe(false);
    expect(checkFails(lenient, true)).toBe(true);
  });

  it('the same cut without the marker is no leak either: refcnt= proves the put missing from the trace (issue 14 case 8)', async () => {
    const cut = lines.filter((l) => l !== 'CPU:0 [LOST 42 EVENTS]');
    const f = join(tmp, 'abort-cut.synthetic.txt');
    writeFileSync(f, labelSynthetic(cut, 'two lines of real/abort/stage1/ftrace-main.txt.gz (a module_put and its kprobe) removed'));
    const q = await runAnalysis([f], {});
    expect(q.dataQuality.incomplete).toBe(false);
    const unpinned = verdict(q, 'modules-unpinned-after-finish');
    expect([unpinned.status, unpinned.reason]).toEqual(['inconclusive', 'put-missing-from-trace']);
    expect(unpinned.message).not.toMatch(/left after/);
    expect(unpinned.message).toMatch(/a module_put is missing from the trace between line \d+ and line \d+ of .*abort-cut\.synthetic\.txt \(refcnt drops from \d+ to \d+/);
    expect([verdict(q, 'refcounts-balanced').status, verdict(q, 'refcounts-balanced').reason]).toEqual(['inconclusive', 'events-missing']);
    // The run proves its data incomplete: the completeness rule fails, and only it.
    expect([verdict(q, 'no-lost-events').status, verdict(q, 'no-lost-events').reason]).toEqual(['fail', 'events-missing']);
    expect(q.verdicts.filter((v) => v.status === 'fail').map((v) => v.id)).toEqual(['no-lost-events']);
  });
});

describe('the real lossy bpftrace capture of the contention run (bpftrace printed Lost N events)', () => {
  it.each(['txt', 'json'])('bpftrace-events.%s: leaks and refcount disagreements are inconclusive, no-lost-events fails', async (ext) => {
    const r = await sharedAnalysis([sample(`real/contention-no-writer/stage1/bpftrace-events.${ext}.gz`)]);
    expect(Object.keys(r.dataQuality.lost)).toEqual(['all']);
    expect(verdict(r, 'modules-unpinned-after-finish').status).toBe('inconclusive');
    expect(verdict(r, 'refcounts-balanced').status).toBe('inconclusive');
    expect(verdict(r, 'no-lost-events').status).toBe('fail');
    expect(r.verdicts.filter((v) => v.status === 'fail').map((v) => v.id)).toEqual(['no-lost-events']);
  });
});

describe('inputs with no LUO event', () => {
  it('get n/a for the LUO verdicts, not ✔', async () => {
    const f = join(tmp, 'no-luo.synthetic.txt');
    writeFileSync(
      f,
      [
        '# tracer: nop',
        '# SYNTHETIC: a scheduler event and a lock, nothing of LUO',
        '            bash-100     [000] .....   10.000000: sched_process_exec: filename=/bin/true pid=100 old_pid=100',
        '            bash-100     [000] .....   10.000100: lock_acquire: 00000000deadbeef some_lock',
        '            bash-100     [000] .....   10.000200: lock_release: 00000000deadbeef some_lock',
        '',
      ].join('\n'),
    );
    const r = await runAnalysis([f], {});
    for (const id of ['modules-unpinned-after-finish', 'no-pins-outside-sessions', 'refcounts-balanced']) expect(verdict(r, id).status, id).toBe('n/a');
    expect(verdict(r, 'no-lost-events').status).toBe('pass');
  });
});
