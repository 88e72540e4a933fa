// Issue 14 case 3 (and case 5's registration pin) on a REAL capture of the pre-series kernel
// (samples/real/preseries, README there: the lab's kernel with try_module_get at handler
// registration). File 1: insmod pins luo_demo in liveupdate_register_file_handler; a plain rmmod,
// with no session at all, is refused -EAGAIN. File 2, recorded later on the same kernel: rmmod -f
// (flags 0xa80) forces the unload; the module's exit puts the registration pin; module_free.
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';
import { sample } from '../helpers.js';
import { runCli } from '../cli/run.js';

const DIR = 'real/preseries/stage1/';
const MAIN = sample(`${DIR}ftrace-main.txt.gz`);
const FORCED = sample(`${DIR}ftrace-forced-rmmod.txt.gz`);
const REG_PIN = `the registration pin taken by liveupdate_register_file_handler at ${MAIN}:137 keeps it`;

describe('real preseries: rmmod refused with no session, then rmmod -f in a later file', async () => {
  const r = await runAnalysis([MAIN, FORCED], {});
  const verdict = (id: string) => r.verdicts.find((v) => v.id === id);

  it('pre-series model, no session, and the two files are one boot (the module refcount goes on)', () => {
    expect(r.kernelModel.id).toBe('pre-series');
    expect(r.sessions).toEqual([]);
    expect(r.boots.map((b) => b.files)).toEqual([[MAIN, FORCED]]);
    expect(r.boots[0].joined?.map((j) => [j.file, j.continues, j.evidence])).toEqual([
      [FORCED, MAIN, ['it starts 27.062 s after the earlier file ends (same clock)', 'luo_demo at 0xffffffffa02012c0 goes on from refcnt 2 to 1']],
    ]);
  });

  it('-EAGAIN with no session points at the registration pin (the pre-series bug), never "correct while sessions pin"', () => {
    const parts = (verdict('rmmod')?.message ?? '').split('; ');
    expect(parts).toEqual([
      `rmmod luo_demo refused with -11 EAGAIN/EWOULDBLOCK (first at ${MAIN}:206, refcnt 2: 1 reference held): no session pinned it: ${REG_PIN} (pre-series kernel: a handler's module is pinned for as long as it is registered, docs/luo-model.md §7(a))`,
      `rmmod -f luo_demo succeeded at ${FORCED}:13 (-f: flags 0xa80)`,
    ]);
  });

  it('the registration pin taken in file 1 is released in file 2 by the module\'s exit: not open, not a leak', () => {
    const m = r.modules[0];
    expect([m.gets, m.puts, m.openPins, m.finalRefcnt, m.putsWithoutGet]).toEqual([1, 2, 0, 1, []]);
    expect(m.pinWindows.map((w) => [w.class, w.file, w.getLine, w.getCallSite, w.putFile, w.putLine, w.putCallSite, w.openReason])).toEqual([
      ['luo-registration', MAIN, 137, 'liveupdate_register_file_handler', FORCED, 20, 'liveupdate_unregister_file_handler', null],
    ]);
    expect(m.freed).toEqual([{ file: FORCED, line: 22, refcnt: 1 }]);
    expect(verdict('refcounts-balanced')?.status).toBe('pass');
  });

  it('the forced unload: flags, refcnt 2, and what put the pin before module_free', () => {
    expect(r.boots[0].rmmod.map((x) => [x.file, x.line, x.result, x.error, x.forced, x.flags, x.refcntBefore])).toEqual([
      [MAIN, 206, -11, 'EAGAIN', false, undefined, 2],
      [FORCED, 13, 0, null, true, '0xa80', 2],
    ]);
    const v = verdict('no-forced-unload-with-pins');
    expect([v?.status, v?.reason]).toEqual(['pass', 'forced-rmmod-nothing-freed']);
    expect(v?.message).toBe(
      `rmmod -f luo_demo at ${FORCED}:13 forced the unload (delete_module flags 0xa80 include O_TRUNC) with refcnt 2 (1 reference beyond the base): the registration pin (got at ${MAIN}:137) was put by liveupdate_unregister_file_handler at ${FORCED}:20 before module_free, so no module was freed while referenced`,
    );
  });

  it('text, JSON and check agree; check fails only on the pin outside any session (the pre-series behaviour)', async () => {
    const t = await runCli(['analyze', '--no-progress', '--no-charts', MAIN, FORCED]);
    expect(t.stdout).toMatch(/ {4}joined: \S*ftrace-forced-rmmod\.txt\.gz continues \S*ftrace-main\.txt\.gz \(same kernel: /);
    expect(t.stdout).toContain('registration pins (held while registered, not session pins): 1 taken, 1 released');
    expect(t.stdout).toMatch(/no session pinned it: the registration pin taken by liveupdate_register_file_handler at \S*ftrace-main\.txt\.gz:137 keeps it/);
    for (const bad of ['boot 1', 'correct while sessions pin', 'no matching get', 'LEAK']) expect(t.stdout).not.toContain(bad);
    const j = JSON.parse((await runCli(['analyze', '--json', '--no-progress', MAIN, FORCED])).stdout);
    expect(j.modules[0].pinWindows[0]).toMatchObject({ class: 'luo-registration', putFile: FORCED, putLine: 20 });
    const c = await runCli(['check', '--json', MAIN, FORCED]);
    expect(c.code).toBe(1);
    const rules = JSON.parse(c.stdout).rules as Array<{ id: string; status: string }>;
    expect(rules.filter((x) => x.status === 'fail').map((x) => x.id)).toEqual(['no-pins-outside-sessions']);
    expect(Object.fromEntries(rules.map((x) => [x.id, x.status]))).toMatchObject({ 'refcounts-balanced': 'pass', 'no-forced-unload-with-pins': 'pass' });
  });

  it('every rendering of file 1 alone words the refusal the same way', async () => {
    for (const f of ['ftrace-tgid', 'ftrace-trace_pipe', 'ftrace-noirq', 'ftrace-mono', 'ftrace-global', 'trace-cmd-report']) {
      const one = await runAnalysis([sample(`${DIR}${f}.txt.gz`)], {});
      const m = one.verdicts.find((v) => v.id === 'rmmod')?.message ?? '';
      expect(m, f).toMatch(/^rmmod luo_demo refused with -11 EAGAIN\/EWOULDBLOCK \(first at \S+, refcnt 2: 1 reference held\): no session pinned it: the registration pin taken by liveupdate_register_file_handler at \S+ keeps it/);
    }
  });

  it('control: file 2 alone has a put without a get (check fails refcounts-balanced)', async () => {
    const c = await runCli(['check', FORCED]);
    expect(c.code).toBe(1);
    expect(c.stdout).toMatch(/FAIL {2}refcounts-balanced .*module_put call_site=liveupdate_unregister_file_handler at \S*ftrace-forced-rmmod\.txt\.gz:20 has no matching get/);
  });
});
