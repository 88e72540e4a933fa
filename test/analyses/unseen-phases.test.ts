// What the report says about a phase it cannot show, on the real captures: a trace dumped before
// `kexec -e` (lifecycle stage 1 alone), a run with no kexec at all (abort), and function_graph
// traces given with the console log (lifecycle fgraph + console + fgraph). Plus the TUI's phase
// rows, which name the file of each line (a session's phases come from several inputs).
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';
import { phaseLine } from '../../cli/tui/pages/sessions.js';
import { lineText } from '../../cli/tui/text.js';
import { sample } from '../helpers.js';

const verdict = (r: Awaited<ReturnType<typeof runAnalysis>>, id: string) => r.verdicts.find((v) => v.id === id);

describe('a session without its freeze', () => {
  it('a trace dumped before kexec -e says so, instead of "luo_file_freeze was not probed"', async () => {
    const r = await runAnalysis([sample('real/lifecycle/stage1/ftrace-main.txt.gz')], {});
    expect(r.sessions).toHaveLength(2);
    for (const s of r.sessions) {
      expect(s.unseen).toEqual(['freeze: the trace ends before `kexec -e` (the freeze runs inside it: trace through it, or add the console log captured with tp_printk)']);
      expect(s.outcome).toBe('still open at the end of the trace');
    }
  });

  it('with the console log given, no "add the console log": its freezes could not be joined to function_graph sessions', async () => {
    const files = ['real/lifecycle/stage1/ftrace-fgraph.txt', 'real/lifecycle/console.log.gz', 'real/lifecycle/stage2/ftrace-fgraph.txt.gz'].map(sample);
    const r = await runAnalysis(files, {});
    const outgoing = r.sessions.filter((s) => s.side === 'outgoing');
    expect(outgoing).toHaveLength(2);
    for (const s of outgoing) {
      const freeze = s.unseen.find((u) => u.startsWith('freeze:'));
      expect(freeze).toBe('freeze: the inputs have 2 luo_file_freeze calls in the kexec, but this session\'s file_set is not in the trace to join them (function_graph prints no arguments: add kprobes with file_set=)');
    }
    const v = verdict(r, 'kexec-freeze')!;
    expect(v.message).toBe('boot 0: liveupdate_reboot froze 2 file sets (luo_file_freeze ×2; which sessions they belong to is not in the trace: no file_set to join them) in 2.99 ms before kexec');
    expect(v.message).not.toContain('froze 0 sessions');
    expect(r.boots[0].kexec).toMatchObject({ result: 0, frozenSets: 2, failure: null });
  });

  it('the full lifecycle run still names the sessions it froze', async () => {
    const r = await runAnalysis(['real/lifecycle/stage1/ftrace-main.txt.gz', 'real/lifecycle/console.log.gz', 'real/lifecycle/stage2/ftrace-main.txt.gz'].map(sample), {});
    expect(verdict(r, 'kexec-freeze')!.message).toBe('boot 0: liveupdate_reboot froze 2 sessions (lifecycle-s1, lifecycle-s2) in 2.99 ms before kexec');
    expect(r.boots[0].kexec).toMatchObject({ frozenSets: 2, endLine: 359, syscall: null, failure: null, rolledBack: [] });
  });
});

describe('an abort in a run without kexec', () => {
  it('is not "aborted … before kexec"', async () => {
    const r = await runAnalysis([sample('real/abort/stage1/ftrace-main.txt.gz')], {});
    expect(r.sessions.map((s) => s.outcome)).toEqual(['aborted: session fd closed, files unpreserved (no kexec in these inputs)']);
    expect(verdict(r, 'kexec-freeze')).toBeUndefined();
  });
});

describe('TUI phase rows', () => {
  it('name the file as well as the line', async () => {
    const r = await runAnalysis(['real/lifecycle/stage1/ftrace-main.txt.gz', 'real/lifecycle/console.log.gz'].map(sample), {});
    const s = r.sessions[0];
    const create = lineText(phaseLine(s, s.phases[0], 100));
    expect(create).toMatch(/^create +86\.721686 .* stage1\/ftrace-main\.txt\.gz:213$/);
    const freeze = lineText(phaseLine(s, s.phases.find((p) => p.name === 'freeze')!, 100));
    expect(freeze).toMatch(/lifecycle\/console\.log\.gz:346$/);
  });
});

describe('function_graph input (no arguments: no names, no file_set)', () => {
  const FGRAPH = ['real/lifecycle/stage1/ftrace-fgraph.txt', 'real/lifecycle/console.log.gz', 'real/lifecycle/stage2/ftrace-fgraph.txt.gz'].map(sample);

  it('follows sessions by task: the preserves of each created session, the incoming sessions with retrieve and finish', async () => {
    const r = await runAnalysis(FGRAPH, {});
    const shape = r.sessions.map((s) => [s.side, s.boot, s.state, s.phases.map((p) => p.name).join(' ')]);
    expect(shape).toEqual([
      ['outgoing', 0, 'open', 'create preserve preserve preserve preserve'],
      ['outgoing', 0, 'open', 'create preserve preserve preserve preserve'],
      ['incoming', 1, 'finished', 'retrieve-session retrieve retrieve retrieve retrieve finish'],
      ['incoming', 1, 'finished', 'retrieve-session retrieve retrieve retrieve retrieve finish'],
    ]);
    // the same session pins as the kprobe rendering of this run (lifecycle: 3 per outgoing session; the FLB pin is the FLB's)
    expect(r.sessions.slice(0, 2).map((s) => s.pins)).toEqual([
      { taken: 3, released: 0, open: 3 },
      { taken: 3, released: 0, open: 3 },
    ]);
    // the per-session deserializes are the boot's phases; names are not in a function_graph trace
    expect(r.boots[1].globalPhases.filter((p) => p.func === 'luo_file_deserialize')).toHaveLength(2);
    expect(r.sessions[2].unseen).toEqual(['deserialize: the luo_file_deserialize calls have no file_set to join them to a session (function_graph prints no arguments); they are listed with the boot']);
    expect(verdict(r, 'kexec-handover')!.message).toBe('boot 1: 2 incoming sessions (#2: finished; #3: finished); 0 joined by name to boot 0');
    expect(verdict(r, 'modules-unpinned-after-finish')!.status).toBe('pass');
  });

  it('the failed preserves in the graph are phase errors, leaves included (abort capture, function_graph instance)', async () => {
    const r = await runAnalysis([sample('real/abort/stage1/ftrace-fgraph.txt')], {});
    expect(r.sessions.map((s) => [s.state, s.phases.map((p) => `${p.name}${p.error ? ` ${p.error}` : ''}`).join(', ')])).toEqual([
      ['aborted', 'create, preserve, preserve, preserve, preserve EIO, preserve ENOENT, preserve, unpreserve'],
    ]);
    // the /dev/null fd's preserve is a leaf of the graph (`luo_preserve_file(); /* ret=-2 */`): a call and its return
    expect(verdict(r, 'phase-errors')!.message).toMatch(/^preserve in session #0 returned -5 EIO \(.*ftrace-fgraph\.txt:89\); preserve in session #0 returned -2 ENOENT \(.*ftrace-fgraph\.txt:\d+\)$/);
  });
});
