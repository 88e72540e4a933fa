// One test per item of the tricky-case checklist, docs/trace-formats.md §5 (items 1-18; item 19 is
// bpftrace, tested with its parser). Lines come from real samples where one exists; each test says
// which sample the line is from.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ReorderBuffer } from '../../analyses/stream/order.js';
import type { TraceEvent } from '../../parsers/event.js';
import { parseText, realEvents } from '../helpers.js';

const first = async (line: string) => {
  const r = await parseText(`${line}\n`);
  expect(r.quality.lines.events).toBe(1);
  return r.events[0];
};

describe('§5.1 comm with spaces, dashes, digits, slashes, brackets', () => {
  it.each([
    // tracecmd_report_doc_examples.txt
    ['   kworker/u36:1-51219 [000] d..2. 162583.266957: sched_switch:         kworker/u36:1:51219 [120] R ==> kworker/u33:2:49692 [120] Latency: 4024.977 usecs', 'kworker/u36:1', 51219],
    // snippets S6
    ['  vmalloc_test/0-1296    [062] b....    18.157470: 0xffffffffc044e5dc: -> in the local_bh_disable()', 'vmalloc_test/0', 1296],
    // Perfetto tests.py: a comm with a dash and digits
    ['task-1234-567    ( 567) [000] ..... 10.000000: sched_wakeup: comm=x pid=1 prio=120 target_cpu=000', 'task-1234', 567],
    // perftools_kprobe_example.txt
    ['           <...>-29476 [001] d... 6910688.231101: do_sys_open: (SyS_open+0x1e/0x20 <- do_sys_open)', '<...>', 29476],
    // tracecmd_report_doc_examples.txt
    ['          <idle>-0     [005] dNh2. 223087.004012: sched_wakeup:         trace-cmd:89992 [120] CPU:005', '<idle>', 0],
    // perfetto_cpu_frequency_limits.systrace
    ['       <unknown>-200   (-----) [000] .... 0.090000: cpu_frequency_limits: min=500000 max=2800000 cpu_id=6', '<unknown>', 200],
    // a comm with spaces (Java thread names; docs/trace-formats.md §1.3)
    [' VM Periodic Tas-1234    [003] ..... 55.000001: contention_begin: 00000000610328f2 (flags=SPIN|WRITE)', 'VM Periodic Tas', 1234],
  ])('%s', async (line, comm, pid) => {
    const ev = await first(line);
    expect(ev.comm).toBe(comm);
    expect(ev.pid).toBe(pid);
  });
});

describe('§5.2 pid wider than its column, widths 5 and 7', () => {
  it('pid overflowing the column (tracecmd_report_doc_examples.txt)', async () => {
    const ev = await first('           sleep-89142 [001] ...1. 162573.215752: function:             mutex_unlock');
    expect(ev).toMatchObject({ comm: 'sleep', pid: 89142, cpu: 1, kind: 'function' });
  });
  it('pid width 5 (perf-tools, 3.x kernels) and 7 (real 7.2.13)', async () => {
    expect(await first('       supervise-1689  [000] d... 6910441.083302: do_sys_open: (do_sys_open+0x0/0x220)')).toMatchObject({ pid: 1689, cpu: 0 });
    expect(await first('          insmod-315     [001] ...1.    82.118515: contention_begin: 00000000aa1b0ce8 (flags=SPIN|MUTEX)')).toMatchObject({ pid: 315, cpu: 1 });
  });
  it('4-digit CPU numbers', async () => {
    expect(await first('          insmod-315     [1023] ...1.    82.118515: module_free: x')).toMatchObject({ cpu: 1023 });
  });
});

describe('§5.3 optional TGID', () => {
  it.each([
    ['          insmod-315     (    315) [001] .B.1.    82.120167: contention_begin: 00000000aa1b0ce8 (flags=SPIN|MUTEX)', 315], // real ftrace-tgid.txt
    ['           <...>-882   (  882) [003] .... 10852.771186: event: event: abc xyz =0x34 clk id = 019', 882], // perfetto_bad_print
    ['          <idle>-0     (-----) [006] ....    10.258854: sched_switch: prev_comm=swapper/6 prev_pid=0 prev_prio=120 prev_state=D ==> next_comm=foo next_pid=269 next_prio=130', null],
    ['          insmod-315     (-------) [001] .B.1.    82.120167: module_free: luo_demo', null],
    ['            bash-10830 ( 10830) [002] ..... 12.000000: module_free: luo_demo', 10830],
  ])('%s', async (line, tgid) => {
    expect((await first(line)).tgid).toBe(tgid);
  });
});

describe('§5.4 flags: missing, 4/5/7 chars, hex depth, new letters', () => {
  it('irq-info off (real ftrace-noirq.txt)', async () => {
    const ev = await first('          insmod-315     [001]     82.120172: contention_begin: 00000000aa1b0ce8 (flags=SPIN|MUTEX)');
    expect(ev).toMatchObject({ cpu: 1, time: 82_120_172_000, kind: 'contention_begin' });
  });
  it.each([
    ['d...', 'kprobe'], // perf-tools 4 flags
    ['dNsa.', 'module_free'], // hex preempt depth (Perfetto test)
    ['..Zff', 'module_free'], // snippets S4: NMI in hardirq, depth f, migrate f
    ['D.L1.', 'module_free'],
    ['bB.2.', 'module_free'],
    ['dNh2...', 'module_free'], // old PREEMPT_RT 7 columns
  ])('flags %s', async (flags, kind) => {
    const payload = kind === 'kprobe' ? 'do_sys_open: (do_sys_open+0x0/0x220)' : 'module_free: luo_demo';
    const ev = await first(`          insmod-315     [001] ${flags}    82.120172: ${payload}`);
    expect(ev.kind).toBe(kind);
    expect(ev.time).toBe(82_120_172_000);
  });
  it('flags glued to the timestamp (Perfetto regex_pattern_no_gap_after_irq_flags)', async () => {
    const ev = await first('          insmod-315     [001] ....316.196720: module_free: luo_demo');
    expect(ev.time).toBe(316_196_720_000);
  });
});

describe('§5.5 integer timestamps and huge values stay exact', () => {
  it('raw counter clock', async () => {
    const r = await parseText('          insmod-315     [001] ...1.   2377592184: module_free: luo_demo\n');
    expect(r.events[0].time).toBe(2377592184);
    expect(r.sources[0].timeUnit).toBe('tick');
  });
  it('20-digit x86-tsc values: rebased, differences exact', async () => {
    const r = await parseText(
      [
        '          insmod-315     [001] ...1. 18446744073709551000: module_free: a',
        '          insmod-315     [001] ...1. 18446744073709551615: module_free: b',
      ].join('\n') + '\n',
    );
    expect(r.sources[0].timeBase).toBe('18446744073000000000');
    expect(r.events[1].time! - r.events[0].time!).toBe(615);
    expect(BigInt(r.sources[0].timeBase) + BigInt(r.events[1].time!)).toBe(18446744073709551615n);
  });
  it('tai clock (seconds since 1970): rebased, microseconds exact', async () => {
    const r = await parseText('          insmod-315     [001] ...1. 1764211200.000001: module_free: a\n          insmod-315     [001] ...1. 1764211200.000002: module_free: a\n');
    expect(r.sources[0].timeBase).toBe('1764211200000000000');
    expect(r.events.map((e) => e.time)).toEqual([1000, 2000]);
  });
  it('a machine up for 200 days: still exact', async () => {
    const ev = (await parseText('          insmod-315     [001] ...1. 17280000.123456: module_free: a\n')).events[0];
    expect(ev.time).toBe(123_456_000);
  });
});

describe('§5.6 interleaved CPUs out of timestamp order', () => {
  it('events keep file order; the reorder buffer sorts stably by (time, line)', async () => {
    const r = await parseText(
      [
        '          a-1     [001] ..... 10.000003: module_free: x',
        '          b-2     [000] ..... 10.000001: module_free: y',
        '          c-3     [002] ..... 10.000003: module_free: z',
        '          d-4     [000] ..... 10.000002: module_free: w',
      ].join('\n') + '\n',
    );
    expect(r.events.map((e) => e.pid)).toEqual([1, 2, 3, 4]);
    const out: TraceEvent[] = [];
    const buf = new ReorderBuffer((e) => out.push(e), 1_000_000);
    for (const e of r.events) buf.push(e);
    buf.flush();
    expect(out.map((e) => e.pid)).toEqual([2, 4, 1, 3]);
    expect(buf.lateEvents).toBe(0);
  });
});

describe('§5.7 lost events', () => {
  it('every marker form is counted per CPU with its position', async () => {
    const r = await parseText(
      [
        '# tracer: nop',
        '#',
        '# entries-in-buffer/entries-written: 3/10   #P:2',
        '#',
        '          a-1     [001] ..... 10.000001: module_free: x',
        'CPU:1 [LOST 42 EVENTS]',
        '          a-1     [001] ..... 10.000002: module_free: x',
        'CPU:0 [LOST EVENTS]',
        '##### CPU 0 buffer started ####',
        '          a-1     [000] ..... 10.000003: module_free: x',
        'CPU:1 [7 EVENTS DROPPED]',
      ].join('\n') + '\n',
    );
    const q = r.quality;
    expect(q.lost['1']).toMatchObject({ events: 49, markers: 2, countUnknown: false });
    expect(q.lost['1'].at[0]).toMatchObject({ line: 6, count: 42, after: 10_000_001_000 });
    expect(q.lost['0']).toMatchObject({ events: 0, markers: 2, countUnknown: true });
    expect(q.overwritten).toEqual([{ file: '<stdin>', line: 3, inBuffer: 3, written: 10 }]);
    expect(q.incomplete).toBe(true);
    // The gaps travel in the stream, at their position
    expect(r.events.map((e) => e.kind)).toEqual(['module_free', 'lost', 'module_free', 'lost', 'lost', 'module_free', 'lost']);
    expect(q.lines.known['lost-marker']).toBe(3);
    expect(q.lines.known['buffer-started']).toBe(1);
  });
});

describe('§5.8 unpaired begin/end at the edges', () => {
  it('a contention_end with no begin and a module_put with no get are still events', async () => {
    const r = await parseText(
      [
        '          insmod-315     [001] .B.1.    82.122732: contention_end: 00000000aa1b0ce8 (ret=0)',
        '          insmod-315     [000] .....    85.057231: module_put: luo_demo call_site=do_init_module refcnt=1',
      ].join('\n') + '\n',
    );
    expect(r.events.map((e) => e.kind)).toEqual(['contention_end', 'module_put']);
  });
});

describe('§5.9 continuation lines without a prefix', () => {
  it('multi-line print payload (perfetto_bad_print.systrace)', async () => {
    const r = await parseText(
      '           <...>-882   (  882) [003] .... 10852.771186: event: event: abc xyz =0x34 clk id = 019\nsome = 000, other = 0x4\nxyz = 0x0 abc = 0x0\n  surfaceflinger-598   (  598) [004] .... 10852.771242: tracing_mark_write: B|598|some event\n',
    );
    expect(r.events).toHaveLength(2);
    expect(r.events[0].kind).toBe('generic');
    expect((r.events[0].fields as { payload: string }).payload).toBe('event: abc xyz =0x34 clk id = 019\nsome = 000, other = 0x4\nxyz = 0x0 abc = 0x0');
    expect(r.events[1]).toMatchObject({ kind: 'marker', fields: { text: 'B|598|some event' } });
    expect(r.quality.lines.known.continuation).toBe(2);
  });
  it('multi-line trace_marker text', async () => {
    const r = await parseText('            bash-1     [000] ..... 1.000000: tracing_mark_write: line one\nline two\n');
    expect(r.events[0]).toMatchObject({ kind: 'marker', fields: { text: 'line one\nline two' } });
  });
  it('<stack trace> frames (perftools_tpoint_example.txt)', async () => {
    const r = await parseText(
      '   supervise-1692  [001] d... 6910687.813410: <stack trace>\n => blk_peek_request\n => do_blkif_request\n',
    );
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({ kind: 'stack', name: 'stack_trace', fields: { frames: ['blk_peek_request', 'do_blkif_request'] } });
  });
});

describe('§5.10 headers mid-file and foreign text', () => {
  it('concatenated dumps, prompts, ^C, banners and mail quoting are accounted for', async () => {
    const hdr = ['# tracer: nop', '#', '# entries-in-buffer/entries-written: 1/1   #P:2', '#', '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION', '#              | |         |   |||||     |         |'];
    const ev = '          insmod-315     [001] ...1.    82.118515: module_free: luo_demo';
    const text = [
      'root@host:~# cat /sys/kernel/tracing/trace',
      ...hdr,
      ev,
      'root@host:~# cat /sys/kernel/tracing/trace',
      ...hdr,
      ev,
      '^C',
      'Tracing kprobe do_sys_open. Ctrl-C to end.',
      '[...]',
      '> quoted mail text',
      'Ending tracing...',
    ].join('\n');
    const r = await parseText(`${text}\n`);
    expect(r.quality.lines.events).toBe(2);
    expect(r.quality.lines.known.header).toBe(12);
    expect(r.quality.lines.skipped['foreign-text']).toBe(7);
    expect(r.quality.lines.total).toBe(21);
  });
  it('a console line corrupting the header block (snippets S4) is a header line', async () => {
    const r = await parseText('# tracer: nop\n#    [    7.026136] sh (113) used greatest stack depth: 12912 bytes left\n               sh-113     [002] .....     7.024402: truncate: (do_truncate+0x4/0x120) dentry=0xffff8880069194b8\n');
    expect(r.quality.lines.known.header).toBe(2);
    expect(r.events[0]).toMatchObject({ kind: 'kprobe', fields: { func: 'do_truncate', offset: 4, args: { dentry: '0xffff8880069194b8' } } });
  });
});

describe('§5.11 truncated last line', () => {
  it('a cut event line is skipped as truncated, never thrown', async () => {
    const r = await parseText('          insmod-315     [001] ...1.    82.118515: module_free: luo_demo\n          insmod-315     [001] ...1.    82.118515: module_get: luo_demo call_si');
    expect(r.quality.lines.events).toBe(1);
    expect(r.quality.lines.skipped['truncated-last-line']).toBe(1);
    expect(r.quality.incomplete).toBe(true);
    expect(r.sources[0].missingFinalNewline).toBe(true);
  });
  it('a complete last line without a newline is kept', async () => {
    const r = await parseText('          insmod-315     [001] ...1.    82.118515: module_get: luo_demo call_site=misc_open refcnt=2');
    expect(r.events[0]).toMatchObject({ kind: 'module_get', fields: { refcnt: 2 } });
  });
  it('a line cut inside the context prefix', async () => {
    const r = await parseText('          insmod-315     [001] ...1.    82.118515: module_free: a\n          insmod-315     [00');
    expect(r.quality.lines.skipped['foreign-text'] ?? r.quality.lines.skipped['truncated-last-line']).toBe(1);
  });
});

describe('§5.12 names and payloads', () => {
  it('function tracer: no ": " after the function (perftools_functrace_example.txt)', async () => {
    const ev = await first('          svscan-1678  [000] .... 6412438.703521: do_nanosleep <-hrtimer_nanosleep');
    expect(ev).toMatchObject({ kind: 'function', name: 'function', fields: { func: 'do_nanosleep', parent: 'hrtimer_nanosleep' } });
  });
  it('function tracer with repeats and an objtrace trigger (snippets S5)', async () => {
    expect(await first('             cat-117     [002] ...1.     1.602243: __bio_try_merge_page <-bio_add_page object:0xffff88811bee4000 value:0x0')).toMatchObject({
      fields: { func: '__bio_try_merge_page', parent: 'bio_add_page' },
    });
    expect(await first('             cat-117     [002] ...1.     1.602243: foo <-bar (repeats: 3, last_ts: 1.602250)')).toMatchObject({
      fields: { func: 'foo', parent: 'bar', repeats: 3 },
    });
  });
  it('payload containing ": " (snippets S9, S10)', async () => {
    const ev = await first('  python-22331   [000] ..... 174497.068723: xhci_urb_enqueue: ep3in-intr: ...');
    expect(ev).toMatchObject({ kind: 'generic', name: 'xhci_urb_enqueue', fields: { payload: 'ep3in-intr: ...' } });
  });
  it('empty payload and trailing spaces (`module_load: name ` with empty taints)', async () => {
    expect(await first('          insmod-315     [000] .....    84.709404: module_load: luo_demo ')).toMatchObject({ fields: { module: 'luo_demo', taints: '' } });
    expect(await first('          insmod-315     [000] .....    84.709404: module_load: luo_demo O')).toMatchObject({ fields: { module: 'luo_demo', taints: 'O' } });
    expect(await first('          insmod-315     [000] .....    84.709404: some_event:')).toMatchObject({ kind: 'generic', name: 'some_event', fields: { payload: '' } });
  });
  it('syscall events without the sys_enter_ prefix (real 7.2.13 ftrace-main.txt)', async () => {
    expect(await first('          insmod-315     [000] .....    83.184672: sys_finit_module(fd: 3, uargs: 0x55b998e152a0 "", flags: 0)')).toMatchObject({
      kind: 'syscall_enter',
      name: 'sys_enter_finit_module',
      fields: { syscall: 'finit_module', args: { fd: '3', uargs: '0x55b998e152a0 ""', flags: '0' } },
    });
    expect(await first('           rmmod-322     [000] .....    92.300000: sys_delete_module -> 0xfffffffffffffff5')).toMatchObject({
      kind: 'syscall_exit',
      name: 'sys_exit_delete_module',
      fields: { ret: -11 },
    });
  });
});

describe('§5.13 pointer renderings', () => {
  it.each([
    ['00000000610328f2', '00000000610328f2', true], // tracefs hashed (snippets S2)
    ['ffff888012345678', '0xffff888012345678', false], // hash-ptr=0
    ['0xffffffff81ef0dc0', '0xffffffff81ef0dc0', false], // trace-cmd (real trace-cmd-report.txt)
    ['(null)', '0x0', false],
  ])('%s', async (ptr, key, hashed) => {
    const ev = await first(`         systemd-1       [002] d..1.   127.240361: contention_begin: ${ptr} (flags=SPIN|WRITE)`);
    expect(ev.fields).toMatchObject({ lock: key, hashed, flags: 5, flagNames: 'SPIN|WRITE' });
  });
  it('lockdep names with spaces, &, -> and the try/read prefixes', async () => {
    expect(await first('           sleep-89998 [002] ...1. 223087.004011: lock_acquire:         0xffffffff85517f00 read rcu_read_lock')).toMatchObject({
      fields: { lock: '0xffffffff85517f00', lockName: 'rcu_read_lock', read: true, try: false },
    });
    expect(await first('         luo_ctl-317     [001] .l.1.    86.774199: lock_acquire: 00000000786ddd2f try read &private->outgoing.lock')).toMatchObject({
      fields: { lockName: '&private->outgoing.lock', read: true, try: true, hashed: true },
    });
    expect(await first('           sleep-89142 [001] ..... 162573.215757: lock_release:         0xffff892a01b54420 sb_writers')).toMatchObject({
      kind: 'lock_release',
      fields: { lockName: 'sb_writers' },
    });
  });
});

describe('§5.14 unescaped strings in probe arguments', () => {
  it('a quoted string containing quotes and spaces', async () => {
    const ev = await first('            bash-11886 [003] d... 19601837.001935: readline: (0x41e876 <- 0x48db60) arg1="echo "hello world"" arg2=0x5');
    expect(ev).toMatchObject({ kind: 'kretprobe', fields: { caller: '0x41e876', func: '0x48db60', args: { arg1: 'echo "hello world"', arg2: '0x5' } } });
  });
  it('real kprobe string and kretprobe forms (7.2.13)', async () => {
    expect(await first('         luo_ctl-317     [001] .l.1.    86.721686: luo_session_create: (luo_session_create+0x4/0x130) name="lifecycle-s1"')).toMatchObject({
      kind: 'kprobe',
      fields: { func: 'luo_session_create', offset: 4, args: { name: 'lifecycle-s1' } },
    });
    expect(await first("         luo_ctl-317     [001] .....    86.810456: luo_preserve_file__return: ([unknown/kretprobe'd] <- luo_preserve_file) ret=0")).toMatchObject({
      kind: 'kretprobe',
      fields: { func: 'luo_preserve_file', caller: null, ret: 0 },
    });
    expect(await first('           rmmod-330     [000] .....    99.000001: liveupdate_unregister_flb__return: (0xffffffffa0003397 <- liveupdate_unregister_flb)')).toMatchObject({
      fields: { caller: '0xffffffffa0003397', ret: null },
    });
  });
  it('a kprobe named like a tracepoint is a probe (real README §4)', async () => {
    expect(await first('          insmod-315     [000] .B...    85.051572: module_put: (module_put+0x4/0x90) mod=0xffffffffa04022c0 name="luo_demo"')).toMatchObject({
      kind: 'kprobe',
      name: 'module_put',
      fields: { args: { mod: '0xffffffffa04022c0', name: 'luo_demo' } },
    });
  });
});

describe('§5.15 latency-format and function_graph lines are routed, not mis-read', () => {
  it('latency format (snippets S7)', async () => {
    const r = await parseText('# tracer: irqsoff\n#\n      dd-805       0d....    3us : _raw_spin_trylock <-__rmqueue_pcplist\n');
    expect(r.events[0]).toMatchObject({ comm: 'dd', pid: 805, cpu: 0, time: 3000, kind: 'function', fields: { func: '_raw_spin_trylock' } });
  });
  it('function_graph with abstime, proc and retval (real ftrace-fgraph.txt)', async () => {
    const r = await parseText(
      [
        '# tracer: function_graph',
        '#',
        '   86.765575 |   1)  luo_ctl-317   |               |      luo_preserve_file() {',
        '   86.770558 |   1)  luo_ctl-317   |               |        /* module_get: luo_demo call_site=luo_preserve_file refcnt=3 */',
        '   86.816203 |   1)  luo_ctl-317   | * 50622.70 us |      } /* luo_preserve_file ret=0x0 */',
        '   84.869241 |   0)   insmod-315   | ! 158.856 us  |    liveupdate_enabled(); /* ret=0x1 */',
      ].join('\n') + '\n',
    );
    expect(r.events.map((e) => e.kind)).toEqual(['funcgraph_entry', 'module_get', 'funcgraph_exit', 'funcgraph_leaf']);
    expect(r.events[2]).toMatchObject({ comm: 'luo_ctl', pid: 317, cpu: 1, fields: { func: 'luo_preserve_file', durationNs: 50_622_700, ret: '0x0' } });
    expect(r.events[3]).toMatchObject({ fields: { func: 'liveupdate_enabled', durationNs: 158_856, ret: '0x1', depth: 1 } });
  });
  it('function_graph without options (snippets S8), exits named from the per-CPU stack', async () => {
    const r = await parseText('# tracer: function_graph\n 1)               |  hwsim_del_radio_nl() {\n 1) ! 310.041 us  |        hwsim_free_edge();\n 1) * 53035.38 us |  }\n');
    expect(r.events[2]).toMatchObject({ kind: 'funcgraph_exit', time: null, fields: { func: 'hwsim_del_radio_nl', durationNs: 53_035_380 } });
  });
});

describe('§5.16 encodings and transport', () => {
  const line = '          insmod-315     [001] ...1.    82.118515: module_free: luo_demo';
  it('CRLF and a UTF-8 BOM', async () => {
    const r = await parseText(`\uFEFF${line}\r\n${line}\r\n`);
    expect(r.quality.lines.events).toBe(2);
    expect(r.events[0].fields).toEqual({ module: 'luo_demo' });
  });
  it('gzip detected by magic bytes', async () => {
    const r = await parseText(gzipSync(Buffer.from(`${line}\n`)));
    expect(r.sources[0].compressed).toBe(true);
    expect(r.quality.lines.events).toBe(1);
  });
  it('NUL padding at the end of a truncated file', async () => {
    const r = await parseText(Buffer.concat([Buffer.from(`${line}\n`), Buffer.alloc(4096)]));
    expect(r.quality.lines.events).toBe(1);
    expect(r.quality.lines.known['nul-padding']).toBe(1);
    expect(r.quality.lines.total).toBe(2);
  });
  it('invalid UTF-8 in a comm', async () => {
    const bad = Buffer.concat([Buffer.from('      luo'), Buffer.from([0xff, 0xfe]), Buffer.from('ctl-317     [001] .....    86.770538: module_free: luo_demo\n')]);
    const r = await parseText(bad);
    expect(r.events[0]).toMatchObject({ comm: 'luo\uFFFD\uFFFDctl', pid: 317 });
  });
});

describe('§5.17 clock reset', () => {
  it('a large backwards jump on one CPU starts a new segment (a gap marker) and is noted', async () => {
    const r = await parseText(
      [
        '          a-1     [001] ..... 500.000001: module_free: x',
        '          a-1     [001] ..... 3.000002: module_free: x',
        '          a-1     [001] ..... 3.000003: module_free: x',
      ].join('\n') + '\n',
    );
    expect(r.events.map((e) => e.kind)).toEqual(['module_free', 'lost', 'module_free', 'module_free']);
    expect(r.events[1].fields).toEqual({ count: null, marker: 'clock-reset' });
    expect(r.quality.notes.join(' ')).toMatch(/clock went back/);
  });
});

describe('§5.18 trace-cmd stderr noise and several input files', () => {
  it('version, CPU n is empty, cpus=N, file name lines', async () => {
    const r = await parseText(
      [
        'version = 6',
        'CPU 3 is empty',
        'trace.dat',
        'cpus=4',
        '         luo_ctl-317   [001]    86.752970: module_get:           luo_demo call_site=misc_open refcnt=2',
        'CPU:1 [SUBBUFFER START]',
      ].join('\n') + '\n',
    );
    expect(r.sources[0].format).toBe('trace-cmd');
    expect(r.quality.lines.known['trace-cmd-info']).toBe(5);
    expect(realEvents(r.events)[0]).toMatchObject({ kind: 'module_get', fields: { module: 'luo_demo', callSite: 'misc_open', refcnt: 2 } });
  });
});
