// analyze --module/--session/--pid/--since/--until narrow the report; pairing is unaffected.
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';
import { sample } from '../helpers.js';

const files = ['real/lifecycle/stage1/ftrace-main.txt.gz', 'real/lifecycle/console.log.gz', 'real/lifecycle/stage2/ftrace-main.txt.gz'].map(sample);

describe('report filters', () => {
  it('--session keeps that session in both kernels and only its pins', async () => {
    const r = await runAnalysis(files, { session: 'lifecycle-s2' });
    expect(r.sessions.map((s) => [s.name, s.side])).toEqual([
      ['lifecycle-s2', 'outgoing'],
      ['lifecycle-s2', 'incoming'],
    ]);
    const wins = r.modules.flatMap((m) => m.pinWindows);
    // 3 file pins in each kernel, plus the 3 VFS refs its retrieve took for the new anon-inode files
    expect(wins.filter((w) => w.class === 'luo-file')).toHaveLength(6);
    expect(wins.filter((w) => w.class === 'vfs').map((w) => w.getCallSite)).toEqual(['__anon_inode_getfile', '__anon_inode_getfile', '__anon_inode_getfile']);
    expect(wins.every((w) => w.session === 'lifecycle-s2')).toBe(true);
    // pairing ran on everything: the stage-2 windows are still closed by luo_file_finish
    expect(wins.filter((w) => w.boot === 1 && w.class === 'luo-file').every((w) => w.putCallSite === 'luo_file_finish')).toBe(true);
  });

  it('--since/--until (seconds) select by time, --pid by task', async () => {
    // Times are each boot's own clock: a session is kept when its life overlaps the range.
    const early = await runAnalysis(files, { until: '86.8' });
    expect(early.sessions.map((s) => [s.name, s.side])).toEqual([['lifecycle-s1', 'outgoing']]); // created at 86.7217
    const late = await runAnalysis(files, { since: '113.1' });
    expect(late.sessions.map((s) => [s.name, s.side])).toEqual([
      ['lifecycle-s1', 'outgoing'], // frozen at 120.48
      ['lifecycle-s2', 'outgoing'],
      ['lifecycle-s2', 'incoming'], // retrieved at 113.12; s1 finished at 112.92
    ]);
    const byPid = await runAnalysis(files, { pid: '317' });
    expect(byPid.sessions.map((s) => [s.name, s.side])).toEqual([
      ['lifecycle-s1', 'outgoing'],
      ['lifecycle-s2', 'outgoing'],
    ]);
  });

  it('--module with an unknown name leaves no modules and a passing verdict set', async () => {
    const r = await runAnalysis(files, { module: 'nope' });
    expect(r.modules).toEqual([]);
    expect(r.verdicts.find((v) => v.id === 'modules-unpinned-after-finish')?.ok).toBe(true);
  });
});
