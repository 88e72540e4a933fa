// Issue 14 case 6: the same run in two renderings (real lifecycle stage 1: the ftrace instance `main`
// and `trace-cmd report` of the same window, samples/real/README.md §2) made two overlapping
// "outgoing" boots, doubled every count and printed each verdict twice. Such inputs are refused with
// one line and exit 2 (analyses/stream/renderings.ts); inputs of different runs or kernels are not.
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';
import { InputError } from '../../parsers/index.js';
import { sample } from '../helpers.js';
import { runCli } from '../cli/run.js';

const S1 = sample('real/lifecycle/stage1/ftrace-main.txt.gz');
const S1_TRACE_CMD = sample('real/lifecycle/stage1/trace-cmd-report.txt.gz');
const CONSOLE = sample('real/lifecycle/console.log.gz');
const S2 = sample('real/lifecycle/stage2/ftrace-main.txt.gz');
const S2_FGRAPH = sample('real/lifecycle/stage2/ftrace-fgraph.txt.gz');
const ABORT = sample('real/abort/stage1/ftrace-main.txt.gz');

describe('the same run rendered twice is refused', () => {
  it('analyze: one line naming both files, exit 2, no report', async () => {
    const r = await runCli(['analyze', '--no-progress', S1, S1_TRACE_CMD]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('trace-cmd-report.txt.gz: the same run as ');
    expect(lines[0]).toContain('stage1/ftrace-main.txt.gz, in another rendering');
    // Every identifying event of trace-cmd's buffer has its copy in main's (695 of 695).
    expect(lines[0]).toMatch(/: 695 of its first 695 identifying events are in both at the same times; .*give only one of them/);
  });

  it('check and analyze --json refuse it the same way (exit 2, nothing on stdout)', async () => {
    for (const args of [['check', S1, S1_TRACE_CMD], ['check', '--json', S1, S1_TRACE_CMD], ['analyze', '--json', S1, S1_TRACE_CMD]]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(r.stderr).toContain('in another rendering');
    }
  });

  it('the order does not matter, nor the rendering: main after trace-cmd, function_graph beside main', async () => {
    const refusal = (files: string[]) =>
      runAnalysis(files, {}).then(
        () => 'accepted',
        (e: unknown) => (e instanceof InputError ? e.oneLine : String(e)),
      );
    expect(await refusal([S1_TRACE_CMD, S1])).toMatch(/ftrace-main\.txt\.gz: the same run as .*trace-cmd-report\.txt\.gz, in another rendering/);
    // function_graph keeps the module events as comments: they are the same 29 events as main's.
    expect(await refusal([S2, S2_FGRAPH])).toMatch(/ftrace-fgraph\.txt\.gz: the same run as .*: 29 of its first 29/);
  });

  it('each rendering alone is one outgoing boot with its 2 sessions, counted once', async () => {
    for (const f of [S1, S1_TRACE_CMD]) {
      const r = await runAnalysis([f], {});
      expect(r.boots.map((b) => b.role)).toEqual(['outgoing']);
      expect(r.sessions.map((s) => s.name)).toEqual(['lifecycle-s1', 'lifecycle-s2']);
      expect(r.modules.map((m) => [m.name, m.gets, m.puts])).toEqual([['luo_demo', 13, 1]]);
      expect(r.verdicts.filter((v) => v.id === 'rmmod')).toHaveLength(1);
    }
  });

  it('inputs of one live update (old kernel, console, new kernel) and of two runs are not renderings', async () => {
    const lu = await runAnalysis([S1, CONSOLE, S2], {});
    expect(lu.boots.map((b) => b.role)).toEqual(['outgoing', 'incoming']);
    const two = await runAnalysis([ABORT, S1], {});
    expect(two.boots).toHaveLength(2);
  });
});
