// LUO analyses on the real 7.2.13 captures: every number the capture README states (samples/real/
// README.md §3) appears in the report, exactly.
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';
import type { AnalyzeReport } from '../../analyses/report.js';
import { AnalyzeReportSchema } from '../../analyses/report.js';
import { sample } from '../helpers.js';
import { sharedAnalysis } from '../analysis-cache.js';

const analyze = (files: string[], opts = {}) => runAnalysis(files.map(sample), opts);
const verdict = (r: AnalyzeReport, id: string) => r.verdicts.find((v) => v.id === id);

describe('lifecycle: stage 1 trace + console (freeze phase) + stage 2 trace, across kexec', async () => {
  const r = await sharedAnalysis(['real/lifecycle/stage1/ftrace-main.txt.gz', 'real/lifecycle/console.log.gz', 'real/lifecycle/stage2/ftrace-main.txt.gz'].map(sample));

  it('validates against the report schema', () => {
    AnalyzeReportSchema.parse(JSON.parse(JSON.stringify(r)));
  });

  it('fits the merged series with later changes (7.2.13)', () => {
    expect(r.kernelModel.id).toBe('later');
    expect(r.kernelModel.evidence.join(' ')).toMatch(/call_site=luo_preserve_file \(×6\)/);
  });

  it('two boots: the old kernel froze by liveupdate_reboot (console), the new one is incoming', () => {
    expect(r.boots.map((b) => b.role)).toEqual(['outgoing', 'incoming']);
    expect(r.boots[0].files).toEqual([sample('real/lifecycle/stage1/ftrace-main.txt.gz'), sample('real/lifecycle/console.log.gz')]);
    expect(r.boots[0].kexec).toMatchObject({ result: 0, line: 344, durationNs: 2_990_000 });
    // One phase table (analyses/kernel/phases.ts): liveupdate_reboot and what it runs are the freeze.
    expect(r.boots[0].globalPhases.map((p) => [p.name, p.func])).toEqual([
      ['deserialize', 'luo_session_deserialize'],
      ['freeze', 'liveupdate_reboot'],
      ['freeze', 'luo_session_serialize'],
      ['freeze', 'luo_flb_serialize'],
    ]);
    expect(r.boots[1].liveupdateNumber).toBe(1);
  });

  it('two sessions × (3 luo_demo fds + 1 memfd) preserved and frozen, then retrieved and finished (ioctl, close)', () => {
    const out = r.sessions.filter((s) => s.side === 'outgoing');
    const inc = r.sessions.filter((s) => s.side === 'incoming');
    expect(out.map((s) => [s.name, s.state])).toEqual([
      ['lifecycle-s1', 'frozen'],
      ['lifecycle-s2', 'frozen'],
    ]);
    expect(out[0].files.map((f) => [f.token, f.handler, f.preserved])).toEqual([
      ['0x101', 'luo-demo-v1', true],
      ['0x102', 'luo-demo-v1', true],
      ['0x103', 'luo-demo-v1', true],
      ['0x180', 'memfd-v2', true],
    ]);
    expect(out[1].files.map((f) => f.token)).toEqual(['0x201', '0x202', '0x203', '0x280']);
    expect(out.map((s) => s.phases.filter((p) => p.name === 'freeze').length)).toEqual([1, 1]);
    expect(inc.map((s) => [s.name, s.state, s.phases.find((p) => p.name === 'finish')?.via])).toEqual([
      ['lifecycle-s1', 'finished', 'ioctl'],
      ['lifecycle-s2', 'finished', 'close'],
    ]);
    expect(inc.map((s) => s.files.filter((f) => f.retrieved).length)).toEqual([4, 4]);
    // joined across kexec by name
    expect(out[0].peer).toEqual({ boot: 1, id: inc[0].id });
    expect(inc[1].peer).toEqual({ boot: 0, id: out[1].id });
  });

  it('module refs per call site and refcnt, as the README table says', () => {
    const [m1, m2] = r.modules;
    expect([m1.name, m1.boot, m2.name, m2.boot]).toEqual(['luo_demo', 0, 'luo_demo', 1]);
    expect(m1.getsBySite).toEqual({ luo_preserve_file: 6, luo_flb_file_preserve: 1, misc_open: 6 });
    expect(m1.putsBySite).toEqual({ do_init_module: 1 });
    expect(m1.finalRefcnt).toBe(14); // /proc/modules shows 13 = raw - 1
    expect(m1.openPins).toBe(7); // 6 file refs + 1 FLB ref, held across kexec
    expect(m1.pinWindows.filter((w) => w.putLine === null && w.class.startsWith('luo')).every((w) => w.expectedOpen?.startsWith('held across kexec'))).toBe(true);
    expect(m2.getsBySite).toEqual({ luo_file_deserialize: 6, luo_flb_retrieve_one: 1, __anon_inode_getfile: 6 });
    expect(m2.putsBySite).toEqual({ luo_file_finish: 6, liveupdate_flb_put_incoming: 1, __fput: 6, do_init_module: 1 });
    expect(m2.finalRefcnt).toBe(1);
    expect(m2.openPins).toBe(0);
    expect(m2.untracedLoadRefPuts).toBe(1);
  });

  it('deserialize gets are balanced by finish puts, per session', () => {
    const inc = r.sessions.filter((s) => s.side === 'incoming');
    expect(inc.map((s) => s.pins)).toEqual([
      { taken: 3, released: 3, open: 0 }, // 3 file refs; the FLB ref taken on its first retrieve is the FLB's (test/analyses/flb-pins.test.ts)
      { taken: 3, released: 3, open: 0 },
    ]);
    const m2 = r.modules[1];
    const fileWins = m2.pinWindows.filter((w) => w.class === 'luo-file');
    expect(fileWins.every((w) => w.getCallSite === 'luo_file_deserialize' && w.putCallSite === 'luo_file_finish')).toBe(true);
  });

  it('rmmod refused in stage 1 (-EAGAIN, 13 references), succeeds in stage 2', () => {
    expect(r.boots[0].rmmod).toEqual([expect.objectContaining({ module: 'luo_demo', result: -11, error: 'EAGAIN', refcntBefore: 14 })]);
    expect(r.boots[1].rmmod).toEqual([expect.objectContaining({ module: 'luo_demo', result: 0 })]);
    expect(r.modules[1].freed).toHaveLength(1);
  });

  it('verdicts: all modules unpinned after finish, refcounts balanced, nothing lost', () => {
    expect(verdict(r, 'modules-unpinned-after-finish')).toMatchObject({ ok: true });
    expect(verdict(r, 'refcounts-balanced')).toMatchObject({ ok: true });
    expect(verdict(r, 'no-pins-outside-sessions')).toMatchObject({ ok: true });
    expect(verdict(r, 'no-lost-events')).toMatchObject({ ok: true });
    expect(verdict(r, 'kexec-freeze')?.message).toMatch(/froze 2 sessions \(lifecycle-s1, lifecycle-s2\)/);
    expect(r.verdicts.every((v) => v.ok)).toBe(true);
  });
});

describe('abort: 3 preserves, a failing preserve, a no-handler fd, a memfd, then close (abort)', async () => {
  const r = await sharedAnalysis([sample('real/abort/stage1/ftrace-main.txt.gz')]);

  it('one session, aborted, with each file result', () => {
    expect(r.sessions).toHaveLength(1);
    const s = r.sessions[0];
    expect([s.name, s.side, s.state]).toEqual(['abort-s1', 'outgoing', 'aborted']);
    expect(s.files.map((f) => [f.token, f.preserved, f.preserveError])).toEqual([
      ['0x101', true, null],
      ['0x102', true, null],
      ['0x103', true, null],
      ['0x1ee', false, 'EIO'],
      ['0x1ff', false, 'ENOENT'],
      ['0x180', true, null],
    ]);
    expect(s.phases.map((p) => p.name)).toEqual(['create', 'preserve', 'preserve', 'preserve', 'preserve', 'preserve', 'preserve', 'unpreserve']);
  });

  it('module refs per call site, the error-path put pairs with its own get', () => {
    const m = r.modules[0];
    expect(m.getsBySite).toEqual({ luo_preserve_file: 4, luo_flb_file_preserve: 1, misc_open: 4 });
    expect(m.putsBySite).toEqual({ luo_file_unpreserve_files: 3, luo_preserve_file: 1, liveupdate_flb_put_outgoing: 1, __fput: 4, do_init_module: 1 });
    const errPath = m.pinWindows.find((w) => w.putCallSite === 'luo_preserve_file');
    expect(errPath).toMatchObject({ getCallSite: 'luo_preserve_file', token: '0x1ee', session: 'abort-s1' });
    expect(m.finalRefcnt).toBe(1);
    expect(m.openPins).toBe(0);
    expect(m.pinWindows.filter((w) => w.class.startsWith('luo')).every((w) => w.putLine !== null)).toBe(true);
  });

  it('rmmod succeeds and the module is freed; verdicts all pass', () => {
    expect(r.boots[0].rmmod).toEqual([expect.objectContaining({ result: 0 })]);
    expect(r.modules[0].freed).toHaveLength(1);
    expect(verdict(r, 'modules-unpinned-after-finish')?.ok).toBe(true);
    expect(verdict(r, 'phase-errors')?.message).toMatch(/token 0x1ee .* -5 EIO.*token 0x1ff .* -2 ENOENT/);
  });

  it('every rendering of the same run gives the same sessions and module counts', async () => {
    for (const f of ['ftrace-tgid.txt.gz', 'ftrace-noirq.txt.gz', 'ftrace-trace_pipe.txt.gz', 'ftrace-global.txt.gz', 'trace-cmd-report.txt.gz']) {
      const o = await analyze([`real/abort/stage1/${f}`]);
      expect({ f, sessions: o.sessions.map((s) => [s.name, s.state, s.files.length]) }).toEqual({ f, sessions: [['abort-s1', 'aborted', 6]] });
      expect({ f, gets: o.modules[0].getsBySite, puts: o.modules[0].putsBySite }).toEqual({ f, gets: r.modules[0].getsBySite, puts: r.modules[0].putsBySite });
    }
  });
});

describe('contention-no-writer: 542 sessions, rmmod of the handler refused 7 times', async () => {
  const r = await sharedAnalysis([sample('real/contention-no-writer/stage1/ftrace-main.txt.gz')]);

  it('542 sessions, 1084 preserves, all aborted', () => {
    expect(r.sessions).toHaveLength(542);
    expect(r.sessions.every((s) => s.state === 'aborted')).toBe(true);
    expect(r.sessions.flatMap((s) => s.phases.filter((p) => p.name === 'preserve'))).toHaveLength(1084);
  });

  it('module refs per call site as the README counts them', () => {
    const m = r.modules[0];
    expect(m.getsBySite).toEqual({ luo_preserve_file: 542, misc_open: 542, luo_flb_file_preserve: 27 });
    expect(m.putsBySite).toEqual({ luo_file_unpreserve_files: 542, __fput: 542, liveupdate_flb_put_outgoing: 27, do_init_module: 1 });
    expect(m.finalRefcnt).toBe(1);
    // racing gets/puts on 4 CPUs print the same refcnt twice (lines 2694-2695): not a disagreement
    expect(m.refcntMismatchCount).toBe(0);
  });

  it('rmmod -EAGAIN ×7, then the final rmmod returns 0 and frees the module', () => {
    const rm = r.boots[0].rmmod;
    expect(rm.filter((x) => x.result === -11)).toHaveLength(7);
    expect(rm[rm.length - 1]).toMatchObject({ result: 0, module: 'luo_demo' });
    expect(r.modules[0].freed).toHaveLength(1);
    expect(r.verdicts.every((v) => v.ok)).toBe(true);
  });
});

describe('inputs without LUO probes', () => {
  it('a trace with only module events still pairs refs, and says sessions could not be seen', async () => {
    const r = await analyze(['formats/snippets_verbatim_lines.txt']);
    expect(r.sessions).toEqual([]);
    expect(r.probedFunctions).toEqual([]);
    expect(r.modules.map((m) => m.name)).toContain('sunrpc');
  });
});
