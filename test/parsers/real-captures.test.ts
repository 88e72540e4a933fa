// Every ftrace-family sample parses with every line accounted for, and per-event counts equal what
// an independent `grep -c` of the event name finds in the same file (real-captures-check.ts). The
// three real captures of more than 10 MB of text are checked in real-captures.slow.test.ts.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseFiles, sample } from '../helpers.js';
import { checkRealCapture, grepCount, isLargeCapture, parseAccounted, realFiles } from './real-captures-check.js';

describe('real 7.2.13 captures', () => {
  it('finds every text capture', () => {
    expect(realFiles.length).toBe(71);
  });
  for (const file of realFiles.filter((f) => !isLargeCapture(f))) {
    it(file.slice(sample('').length), () => checkRealCapture(file));
  }

  it('the lifecycle console log holds the freeze phase as tp_printk probe events', async () => {
    const r = await parseFiles([sample('real/lifecycle/console.log.gz')]);
    const probes = r.events.filter((e) => e.kind === 'kprobe' || e.kind === 'kretprobe').map((e) => e.name);
    expect(probes).toEqual([
      'liveupdate_reboot',
      'luo_session_serialize',
      'luo_file_freeze',
      'luo_file_freeze__return',
      'luo_file_freeze',
      'luo_file_freeze__return',
      'luo_session_serialize__return',
      'luo_flb_serialize',
      'luo_flb_serialize__return',
      'liveupdate_reboot__return',
    ]);
    expect(r.events.filter((e) => e.kind === 'boot')).toHaveLength(2);
    const ret = r.events.find((e) => e.name === 'liveupdate_reboot__return');
    expect(ret).toMatchObject({ time: 120_481_491_000, fields: { caller: 'kernel_kexec+0x90/0xc0', func: 'liveupdate_reboot', ret: 0 } });
  });

  it('ftrace-main, trace_pipe, tgid and trace-cmd renderings of one run give the same event counts', async () => {
    const dir = 'real/lifecycle/stage2/';
    const [main, pipe, tgid, tc] = await Promise.all(
      ['ftrace-main.txt.gz', 'ftrace-trace_pipe.txt.gz', 'ftrace-tgid.txt.gz', 'trace-cmd-report.txt.gz'].map((f) => parseFiles([sample(dir + f)])),
    );
    expect(pipe.quality.kinds).toEqual(main.quality.kinds);
    expect(tgid.quality.kinds).toEqual(main.quality.kinds);
    expect(tc.quality.kinds).toEqual(main.quality.kinds);
    expect(tgid.events.every((e) => e.tgid !== null)).toBe(true);
    // The README's stage-2 totals (§3.1 table)
    const sites = (kind: string) =>
      main.events.filter((e) => e.kind === kind).reduce<Record<string, number>>((m, e) => {
        const cs = (e.fields as { callSite: string }).callSite;
        m[cs] = (m[cs] ?? 0) + 1;
        return m;
      }, {});
    expect(sites('module_get')).toEqual({ luo_file_deserialize: 6, luo_flb_retrieve_one: 1, __anon_inode_getfile: 6 });
    expect(sites('module_put')).toEqual({ luo_file_finish: 6, liveupdate_flb_put_incoming: 1, __fput: 6, do_init_module: 1 });
  });
});

const formatFiles = readdirSync(sample('formats'))
  .filter((n) => /^(perftools_|snippets_|tracecmd_|perfetto_)/.test(n) && !n.endsWith('.origin.txt'))
  .map((n) => sample(`formats/${n}`));

describe('public format samples (ftrace family)', () => {
  for (const file of formatFiles) {
    it(file.slice(sample('').length), async () => {
      const { all, r, q } = await parseAccounted(file);
      // The only skipped lines are the prose around the examples.
      expect(Object.keys(q.lines.skipped).filter((k) => k !== 'foreign-text')).toEqual([]);
      const isGraph = r.sources[0].format === 'function-graph';
      for (const [name, n] of Object.entries(q.kinds)) {
        // No name printed to grep for: function lines, bare stacks, the wakeup tracers' own switch and
        // wakeup records (`0:120:R ==> [002] 5882: 94:R sleep`), trace_printk comments in function_graph.
        if (['function', 'stack_trace', 'user_stack_trace', 'context_switch', 'wakeup', ''].includes(name)) continue;
        if (isGraph && name === 'print') continue;
        expect({ name, n }).toEqual({ name, n: grepCount(all, name, isGraph ? 'graph' : 'ftrace') });
      }
    });
  }
});
