// Issue 14 cases 5 and 3 on a REAL capture of one boot in two files (samples/real/split-rmmod-f,
// README there): file 1 ends while session split-b still pins luo_demo and after a refused rmmod
// (-EAGAIN); file 2, recorded 29.5 s later on the same running kernel, closes split-b (its 4 pins
// are put there), then `rmmod -f` (flags 0xa80) unloads the idle module and a second rmmod gets
// -ENOENT. Each file alone shows what a wrong reading gives (controls: the test can fail).
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';
import { sample } from '../helpers.js';
import { runCli } from '../cli/run.js';

const DIR = 'real/split-rmmod-f/stage1/';
const MAIN = sample(`${DIR}ftrace-main.txt.gz`);
const LATER = sample(`${DIR}ftrace-later.txt.gz`);
const TCMD = sample(`${DIR}trace-cmd-report.txt.gz`);
const TCMD_LATER = sample(`${DIR}trace-cmd-report-later.txt.gz`);
const ADDR = '0xffffffffa02012c0';

describe('real split-rmmod-f: one boot in two ftrace files (issue 14 case 5)', async () => {
  const r = await runAnalysis([MAIN, LATER], {});
  const verdict = (id: string) => r.verdicts.find((v) => v.id === id);

  it('the two files are one boot, joined with the evidence that they are the same running kernel', () => {
    expect(r.boots.map((b) => b.files)).toEqual([[MAIN, LATER]]);
    const j = r.boots[0].joined ?? [];
    expect(j.map((x) => [x.file, x.continues])).toEqual([[LATER, MAIN]]);
    expect(j[0].evidence).toEqual([
      'it starts 29.515 s after the earlier file ends (same clock)',
      `luo_demo at ${ADDR} goes on from refcnt 8 to 7`,
      expect.stringMatching(/^24 hashed pointers in both \(0000000082683bdb, /),
    ]);
  });

  it('split-b\'s pins, taken in file 1, are released in file 2: none open, none a leak, every put has its get', () => {
    expect(r.sessions.map((s) => [s.name, s.pins])).toEqual([
      ['split-a', { taken: 2, released: 2, open: 0 }],
      ['split-b', { taken: 3, released: 3, open: 0 }],
    ]);
    const m = r.modules[0];
    expect([m.name, m.gets, m.puts, m.openPins, m.finalRefcnt, m.putsWithoutGet]).toEqual(['luo_demo', 12, 13, 0, 1, []]);
    const crossing = m.pinWindows.filter((w) => w.putFile === LATER && w.class !== 'vfs');
    // luo_ctl's 3 open /dev/luo_demo fds (VFS refs, not LUO pins) are closed in file 2 too.
    expect(m.pinWindows.filter((w) => w.putFile === LATER && w.class === 'vfs').map((w) => w.putCallSite)).toEqual(['__fput', '__fput', '__fput']);
    expect(crossing.map((w) => [w.getLine, w.getCallSite, w.putLine, w.putCallSite, w.session]).sort()).toEqual([
      [582, 'luo_preserve_file', 66, 'luo_file_unpreserve_files', 'split-b'],
      [606, 'luo_flb_file_preserve', 97, 'liveupdate_flb_put_outgoing', null],
      [634, 'luo_preserve_file', 88, 'luo_file_unpreserve_files', 'split-b'],
      [684, 'luo_preserve_file', 114, 'luo_file_unpreserve_files', 'split-b'],
    ]);
    expect(m.pinWindows.filter((w) => w.putLine === null)).toEqual([]);
    expect([verdict('refcounts-balanced')?.status, verdict('modules-unpinned-after-finish')?.status]).toEqual(['pass', 'pass']);
  });

  it('the load stays in file 1 and the free is placed in file 2, where module_free is', () => {
    expect([r.modules[0].loaded, r.modules[0].freed]).toEqual([[{ file: MAIN, line: 124 }], [{ file: LATER, line: 186, refcnt: 1 }]]);
  });

  it('rmmod -f is reported as forced with its flags; at refcnt 1 the kernel had nothing to force', () => {
    expect(r.boots[0].rmmod.map((x) => [x.file, x.line, x.result, x.error, x.forced, x.flags, x.refcntBefore])).toEqual([
      [MAIN, 782, -11, 'EAGAIN', false, undefined, 8],
      [LATER, 139, 0, null, true, '0xa80', 1],
      // -ENOENT: the module was freed at line 186, it has no refcnt any more.
      [LATER, 222, -2, 'ENOENT', false, undefined, null],
    ]);
    const v = verdict('no-forced-unload-with-pins');
    expect([v?.status, v?.reason]).toEqual(['pass', 'forced-rmmod-nothing-freed']);
    expect(v?.message).toBe(
      `rmmod -f luo_demo at ${LATER}:139 (delete_module flags 0xa80 include O_TRUNC) had nothing to force: refcnt 1, no reference beyond the base, so it unloaded as a plain rmmod would and no module was freed while referenced`,
    );
  });

  it('rmmod wording (case 3): -EAGAIN with split-b\'s pins open, -ENOENT names the rmmod -f that unloaded it', () => {
    const parts = (verdict('rmmod')?.message ?? '').split('; ');
    expect(parts).toEqual([
      `rmmod luo_demo refused with -11 EAGAIN/EWOULDBLOCK (first at ${MAIN}:782, refcnt 8: 7 references held): correct while sessions pin the module (3 session pins, 1 FLB pin open)`,
      `rmmod luo_demo refused with -2 ENOENT (first at ${LATER}:222): the module was not loaded: rmmod -f at ${LATER}:139 had already unloaded it`,
      `rmmod -f luo_demo succeeded at ${LATER}:139 (-f: flags 0xa80)`,
    ]);
  });

  it('analyze text: one boot with its "joined" line, the rmmods, no OPEN pin, no "no matching get"', async () => {
    const t = await runCli(['analyze', '--no-progress', '--no-charts', MAIN, LATER]);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/\n {2}boot 0 {2}outgoing {2}39\.727115\.\.76\.865492 s {2}\S*ftrace-main\.txt\.gz, \S*ftrace-later\.txt\.gz\n/);
    expect(t.stdout).toMatch(/ {4}joined: \S*ftrace-later\.txt\.gz continues \S*ftrace-main\.txt\.gz \(same kernel: it starts 29\.515 s after the earlier file ends \(same clock\); luo_demo at 0xffffffffa02012c0 goes on from refcnt 8 to 7; 24 hashed pointers in both/);
    expect(t.stdout).toMatch(/ {4}rmmod luo_demo -f {2}-> 0 {2}\(refcnt 1\) {2}\S*ftrace-later\.txt\.gz:139\n {4}rmmod luo_demo {2}-> -2 ENOENT {2}\S*ftrace-later\.txt\.gz:222\n/);
    expect(t.stdout).toMatch(/#1 split-b .*\n.*LUO pins 3 taken \/ 3 released \/ 0 open/);
    for (const bad of ['boot 1', 'no matching get', 'open: ', 'LEAK']) expect(t.stdout).not.toContain(bad);
  });

  it('analyze --json and check --json say the same; check exits 0', async () => {
    const j = JSON.parse((await runCli(['analyze', '--json', '--no-progress', MAIN, LATER])).stdout);
    expect(j.boots).toHaveLength(1);
    expect(j.boots[0].joined[0]).toMatchObject({ file: LATER, continues: MAIN });
    expect(j.boots[0].rmmod[1]).toMatchObject({ line: 139, forced: true, flags: '0xa80', result: 0 });
    expect(j.modules[0].putsWithoutGet).toEqual([]);
    const c = await runCli(['check', '--json', MAIN, LATER]);
    expect(c.code).toBe(0);
    const rules = JSON.parse(c.stdout).rules as Array<{ id: string; status: string; message: string }>;
    const status = Object.fromEntries(rules.map((x) => [x.id, x.status]));
    expect(status).toMatchObject({ 'refcounts-balanced': 'pass', 'modules-unpinned-after-finish': 'pass', 'no-forced-unload-with-pins': 'pass', 'no-pins-outside-sessions': 'pass' });
    expect(rules.find((x) => x.id === 'no-forced-unload-with-pins')?.message).toContain('flags 0xa80 include O_TRUNC');
  });

  it('controls: file 2 alone has puts without gets (check fails); file 1 alone ends with split-b\'s 4 pins open', async () => {
    const c = await runCli(['check', LATER]);
    expect(c.code).toBe(1);
    expect(c.stdout).toMatch(/FAIL {2}refcounts-balanced .*module_put call_site=luo_file_unpreserve_files at \S*ftrace-later\.txt\.gz:66 has no matching get/);
    const first = await runAnalysis([MAIN], {});
    expect(first.sessions.map((s) => [s.name, s.pins.open])).toEqual([
      ['split-a', 0],
      ['split-b', 3],
    ]);
    // Given in the wrong order, file 2 starts before file 1 ends on the clock: not joined.
    expect((await runAnalysis([LATER, MAIN], {})).boots).toHaveLength(2);
  });

  it('the trace-cmd report of the same two windows joins the same way, with the same rmmods', async () => {
    const t = await runAnalysis([TCMD, TCMD_LATER], {});
    expect(t.boots.map((b) => b.files)).toEqual([[TCMD, TCMD_LATER]]);
    expect(t.boots[0].joined?.[0].evidence).toContain(`luo_demo at ${ADDR} goes on from refcnt 8 to 7`);
    expect(t.boots[0].rmmod.map((x) => [x.result, x.forced, x.flags, x.refcntBefore])).toEqual([
      [-11, false, undefined, 8],
      [0, true, '0x00000a80', 1],
      [-2, false, undefined, null],
    ]);
    expect(t.sessions.map((s) => s.pins)).toEqual(r.sessions.map((s) => s.pins));
    expect(t.verdicts.map((v) => [v.id, v.status])).toEqual(r.verdicts.map((v) => [v.id, v.status]));
  });
});
