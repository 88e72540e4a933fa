// Lines from public trace texts that luotrace misread (issue 16), each verbatim from its source; the
// whole files are in samples/formats and tested in public-samples.test.ts.
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../parsers/event.js';
import { parseText, realEvents } from '../helpers.js';

/** Every line of `text` that was skipped, with its reason. */
async function readWithSkips(text: string, format?: Parameters<typeof parseText>[1]) {
  const r = await parseText(text, format);
  return { ...r, events: realEvents(r.events), skipped: r.quality.lines.skipped };
}

describe('sched_switch fields', () => {
  it('next_comm keeps its first character (kernel TP_printk form)', async () => {
    // The payload from ` prev_state=R` on is the verbatim line; the context prefix is ours.
    const r = await readWithSkips(
      '          <idle>-0     [000] d..3 23345.023155: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=thread0 next_pid=23345 next_prio=120\n',
    );
    expect(r.events[0]).toMatchObject({ kind: 'sched_switch', fields: { prevComm: 'swapper/0', prevState: 'R', nextComm: 'thread0', nextPid: 23345 } });
  });

  it('the old format without ` ==>` (trace-cmd report of a 4.19 Juno trace, ARM-software/lisa tests/assets/trace_txt/trace.txt:3)', async () => {
    const r = await readWithSkips(
      'version = 6\ncpus=6\n<...>-1701  [001]    76.211513: sched_switch:          prev_comm=trace-cmd prev_pid=1701 prev_prio=120 prev_state=64 next_comm=swapper/1 next_pid=0 next_prio=120\n',
    );
    expect(r.events[0]).toMatchObject({
      kind: 'sched_switch',
      fields: { prevComm: 'trace-cmd', prevPid: 1701, prevState: '64', nextComm: 'swapper/1', nextPid: 0 },
    });
  });
});

describe('perf script sampling events (FlameGraph test files)', () => {
  const cases: [string, string, Partial<TraceEvent> & { fields?: object }][] = [
    ['func_ab 15285 28075374.517811: cpu-clock: ', 'cpu-clock', { comm: 'func_ab', pid: 15285, cpu: null }],
    ['perf 47118 [011] 51499.088689:          1 page-faults: ', 'page-faults', { comm: 'perf', pid: 47118, cpu: 11, fields: { period: 1, payload: '' } }],
    ['emulator  4152 75695.008865:          1 cycles:u: ', 'cycles:u', { comm: 'emulator', pid: 4152, fields: { period: 1, payload: '' } }],
    ['node-v011 31912 cpu-clock: ', 'cpu-clock', { comm: 'node-v011', pid: 31912, time: null }],
  ];
  it.each(cases)('%s', async (line, name, expected) => {
    const text = `${line}\n\t          400577 func_b (/root/lang/func_ab)\n\t          4005b1 main (/root/lang/func_ab)\n\n`;
    const r = await readWithSkips(text);
    expect(r.sources[0].format).toBe('perf-script');
    expect(r.skipped).toEqual({});
    expect(r.events.map((e) => e.kind)).toEqual(['sample', 'stack']);
    expect(r.events[0]).toMatchObject({ name, ...expected });
    if (line.includes('.')) expect(BigInt(r.sources[0].timeBase) + BigInt(r.events[0].time ?? 0)).toBe(BigInt(line.split(/\s+/).find((w) => w.endsWith(':') && w.includes('.'))!.replace(/[.:]/g, '')) * 1000n);
    expect(r.events[1]).toMatchObject({ fields: { frames: ['func_b (/root/lang/func_ab)', 'main (/root/lang/func_ab)'] } });
    // Forced, the same: `cycles:u` is the event, not a tracepoint `u` of system `cycles`.
    const forced = await readWithSkips(text, 'perf-script');
    expect(forced.events[0].name).toBe(name);
  });

  it('tracepoints among samples still decode (module:module_get feeds the analyses)', async () => {
    const r = await readWithSkips(
      [
        '         luo_ctl   342 [001]   111.715952:  module:module_get: luo_demo call_site=luo_file_deserialize refcnt=2',
        '         luo_ctl   342 [001]   111.716000:       cpu-clock: ',
        '\tffffffff81303a10 luo_retrieve_file+0x0 ([kernel.kallsyms])',
        '',
      ].join('\n'),
    );
    expect(r.events.map((e) => e.kind)).toEqual(['module_get', 'sample', 'stack']);
  });
});

describe('function_graph', () => {
  it('funcgraph-retval leaf and exit lines (Documentation/trace/ftrace.rst)', async () => {
    const r = await readWithSkips(
      [
        '# tracer: function_graph',
        '    1)               |    cgroup_migrate() {',
        '    1)   0.651 us    |      cgroup_migrate_add_task(); /* = 0xffff93fcfd346c00 */',
        '    1)   7.143 us    |    } /* cgroup_migrate = -22 */',
        '    1)   0.651 us    |      cgroup_migrate_add_task(); /* ret=0xffff93fcfd346c00 */',
        '    1)   1.757 us    |        } /* kmem_cache_free() */',
        '',
      ].join('\n'),
    );
    expect(r.skipped).toEqual({});
    expect(r.events.map((e) => e.fields)).toEqual([
      { func: 'cgroup_migrate', depth: 1, durationNs: null, ret: null },
      { func: 'cgroup_migrate_add_task', depth: 2, durationNs: 651, ret: '0xffff93fcfd346c00' },
      { func: 'cgroup_migrate', depth: 1, durationNs: 7143, ret: '-22' },
      { func: 'cgroup_migrate_add_task', depth: 2, durationNs: 651, ret: '0xffff93fcfd346c00' },
      { func: 'kmem_cache_free', depth: 3, durationNs: 1757, ret: null },
    ]);
  });

  it('a trace_printk comment is a print event with its text (Documentation/trace/ftrace.rst)', async () => {
    const r = await readWithSkips('# tracer: function_graph\n   1)               |                /* I\'m a comment! */\n');
    expect(r.events[0]).toMatchObject({ kind: 'marker', name: 'print', cpu: 1, fields: { text: "I'm a comment!" } });
  });

  it('the latency tracers with display-graph (Documentation/trace/ftrace.rst, irqsoff)', async () => {
    const r = await readWithSkips(
      [
        '# tracer: irqsoff',
        '#',
        '# irqsoff latency trace v1.1.5 on 4.20.0-rc6+',
        '          0 us |   0)   bash-1507    |  d... |   0.000 us    |  _raw_spin_lock_irqsave();',
        '          1 us |   0)   bash-1507    |  d..2 |               |    set_track() {',
        '          4 us |   0)   bash-1507    |  d..2 |   1.107 us    |            }',
        '      bash-1507    0d..1 3792us : <stack trace>',
        ' => free_debug_processing',
        ' => __slab_free',
        '',
      ].join('\n'),
    );
    expect(r.sources[0].format).toBe('latency');
    expect(r.skipped).toEqual({});
    expect(r.events.map((e) => `${e.kind}:${e.comm}-${e.pid}@${e.time}`)).toEqual([
      'funcgraph_leaf:bash-1507@0',
      'funcgraph_entry:bash-1507@1000',
      'funcgraph_exit:bash-1507@4000',
      'stack:bash-1507@3792000',
    ]);
    expect(r.events[0].fields).toMatchObject({ func: '_raw_spin_lock_irqsave', durationNs: 0 });
    expect(r.events[3].fields).toEqual({ frames: ['free_debug_processing', '__slab_free'] });
  });
});

describe('latency format', () => {
  it('wakeup tracer switch and wakeup records (Documentation/trace/ftrace.rst, wakeup_rt)', async () => {
    const r = await readWithSkips(
      [
        '# tracer: wakeup_rt',
        '    <idle>-0       2d.h4    0us :      0:120:R   + [002]  5882: 94:R sleep',
        '    <idle>-0       2d..3    6us :      0:120:R ==> [002]  5882: 94:R sleep',
        '',
      ].join('\n'),
    );
    expect(r.skipped).toEqual({});
    expect(r.events[0]).toMatchObject({ kind: 'generic', name: 'wakeup', time: 0 });
    expect(r.events[1]).toMatchObject({
      kind: 'sched_switch',
      name: 'context_switch',
      time: 6000,
      cpu: 2,
      fields: { prevComm: '<idle>', prevPid: 0, prevState: 'R', nextComm: 'sleep', nextPid: 5882 },
    });
  });
});

describe('trace-cmd report', () => {
  it('-i a.dat -i b.dat: the file name before each record is not part of the comm', async () => {
    // Built from tracecmd/trace-read.c print_handle_file ("%*s: " then the record) and the issue's
    // `trace.dat:           ping` comm; the record itself is in trace-cmd's sched-plugin layout.
    const r = await readWithSkips(
      'cpus=2\ntrace.dat:           ping-2473  [001]  4107.478006: sched_switch:         ping:2473 [120] S ==> swapper/1:0 [120]\n',
    );
    expect(r.events[0]).toMatchObject({ comm: 'ping', pid: 2473, kind: 'sched_switch', fields: { nextComm: 'swapper/1' } });
    // A real 15-character comm with a colon is left alone.
    const own = await readWithSkips('      kworker/u16:3-51219 [000] d..2. 162583.266957: module_free: x\n');
    expect(own.events[0].comm).toBe('kworker/u16:3');
  });

  it('kernel_stack: <stack trace> takes the `=> sym (addr)` frames that follow (LKML, Aaron Lu 2016)', async () => {
    const r = await readWithSkips(
      [
        'cpus=8',
        ' eventfd1_thread-21210 [007]  2626.438889: kernel_stack:         <stack trace>',
        '=> setup_arg_pages (ffffffff81282ac0)',
        '=> load_elf_binary (ffffffff812e4503)',
        '',
      ].join('\n'),
    );
    expect(r.skipped).toEqual({});
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({ kind: 'stack', name: 'kernel_stack', fields: { frames: ['setup_arg_pages (ffffffff81282ac0)', 'load_elf_binary (ffffffff812e4503)'] } });
  });
});

describe('text around a trace', () => {
  it('the HTML tail of a systrace file and an asciidoc delimiter are skipped, not glued to the last payload', async () => {
    const r = await readWithSkips(
      [
        '          <idle>-0     [001] d..2  1234.000001: sched_wake_idle_without_ipi: cpu=2',
        '  </script>',
        '<!-- END TRACE -->',
        '----',
        '',
      ].join('\n'),
    );
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({ name: 'sched_wake_idle_without_ipi', fields: { payload: 'cpu=2' } });
    expect(r.skipped).toEqual({ 'foreign-text': 3 });
    expect(r.quality.lines.known.continuation).toBeUndefined();
  });

  it('CSV-quoted ftrace lines (Perfetto to_ftrace output) are read as the lines inside the quotes', async () => {
    const r = await readWithSkips(
      [
        '"line"',
        '"          <idle>-0     (-----) [001] .... 0.000000: sched_switch: prev_comm=swapper/1 prev_pid=0 prev_prio=0 prev_state=D ==> next_comm=100 next_pid=100 next_prio=0"',
        '"          <idle>-0     (-----) [003] .... 0.000999: sched_blocked_reason: pid=105 iowait=1 caller=some_fn"',
        '',
      ].join('\n'),
    );
    expect(r.sources[0].format).toBe('trace-pipe');
    expect(r.skipped).toEqual({});
    expect(r.events[0]).toMatchObject({ comm: '<idle>', kind: 'sched_switch', fields: { nextComm: '100', nextPid: 100 } });
    expect(r.events[1]).toMatchObject({ name: 'sched_blocked_reason', fields: { payload: 'pid=105 iowait=1 caller=some_fn' } });
  });
});

describe('bpftrace maps keyed by stacks', () => {
  it('@usecs[ + one frame per line + ]: and histogram rows (bpftrace tools/biostacks_example.txt)', async () => {
    const r = await readWithSkips(
      ['Attached 5 probes', '@usecs[', '    blk_account_io_start+1', '    submit_bio+115', ']:', '[64K, 128K)            1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|', ''].join('\n'),
    );
    expect(r.skipped).toEqual({});
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({
      kind: 'bpftrace_map',
      line: 2,
      fields: { map: '@usecs', entries: [{ key: 'blk_account_io_start+1\nsubmit_bio+115', value: { type: 'hist', buckets: [{ min: 65536, max: 131071, count: 1 }] } }] },
    });
  });

  it('scalar values and a stack inside a tuple key (`@[comm, ` … `]: n`); an unclosed key is read as text', async () => {
    const r = await readWithSkips(['@[bash, ', '    do_sys_open+1', ']: 3', '@[', '    vfs_read+5', ', cat]: 7', ''].join('\n'), 'bpftrace');
    expect(r.skipped).toEqual({});
    expect(r.events[0]).toMatchObject({ fields: { entries: [{ key: 'bash, do_sys_open+1', value: { value: 3 } }, { key: 'vfs_read+5\ncat', value: { value: 7 } }] } });
    const open = await readWithSkips(['@x[', '    f+1', 'prose', ''].join('\n'), 'bpftrace');
    expect(open.events).toEqual([]);
    expect(open.quality.lines.skipped['bpftrace-free-text']).toBe(3);
  });
});

describe('hostile input', () => {
  it('a 200 KB line of `word number` pairs (perf script without time columns) is read in linear time', async () => {
    const line = 'x 1 '.repeat(50_000);
    const t0 = performance.now();
    const r = await readWithSkips(`${line}\n\t  400577 f (/x)\n`, 'perf-script');
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(r.events).toEqual([]);
  });
});
