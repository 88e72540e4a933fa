// `luotrace record` against a fake tracefs (test/cli/fake-tracefs.ts): the plan for the real 7.2.13
// function list, a full recording, and restoration of the tracefs state found at start after a
// normal end, SIGINT, SIGTERM and a fault at every single setup step.
import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { type RecordCliOptions, type RecordEnv, runRecord } from '../../cli/record.js';
import { BUNDLED_SCRIPT_OPTIONS, bpftraceScript } from '../../cli/record/bpftrace-script.js';
import { StopController } from '../../cli/record/lifecycle.js';
import { buildPlan, DEFAULT_SETTINGS, readKernelFacts } from '../../cli/record/plan.js';
import { findTracefs, restoreValue } from '../../cli/record/tracefs.js';
import { readTraces } from '../../parsers/index.js';
import type { TraceEvent } from '../../parsers/event.js';
import { ROOT } from '../helpers.js';
import { cliPath, FakeTracefs, realKallsyms, scratch } from './fake-tracefs.js';

const run = promisify(execFile);
const { tmp, fake } = scratch('luotrace-record-test-', afterEach);

function kallsymsFile(): string {
  const p = join(tmp(), 'kallsyms');
  writeFileSync(p, realKallsyms());
  return p;
}

function options(over: Partial<RecordCliOptions> = {}): RecordCliOptions {
  return {
    backend: 'ftrace',
    instance: DEFAULT_SETTINGS.instance,
    clock: DEFAULT_SETTINGS.clock,
    bufferSizeKb: DEFAULT_SETTINGS.bufferSizeKb,
    lockdep: true,
    bpftrace: 'bpftrace',
    kallsyms: kallsymsFile(),
    ...over,
  };
}

function env(out: string[] = [], err: string[] = []): RecordEnv {
  return {
    stdout: (s) => out.push(s),
    stderr: (s) => err.push(s),
    tty: false,
    now: () => new Date('2026-05-01T12:00:00Z'),
    release: '7.2.13',
    isRoot: true,
  };
}

const NODE = process.execPath;
/** A command that runs a little while (argv, no shell). */
const SHORT_COMMAND = [NODE, '-e', 'setTimeout(() => {}, 300)'];

async function readEvents(file: string): Promise<{ events: TraceEvent[]; format: string; skipped: Record<string, number> }> {
  const events: TraceEvent[] = [];
  const r = await readTraces([file], (e) => events.push(e));
  return { events, format: r.sources[0].format, skipped: r.quality.lines.skipped };
}

describe('record: the plan for the real 7.2.13 kernel', () => {
  it('probes the LUO functions it has, with $argN fetch-args; not the PRE-only ones; says which model', () => {
    const f = fake();
    const facts = readKernelFacts(f, realKallsyms(), '7.2.13');
    expect(facts.model).toBe('later');
    const plan = buildPlan(facts, DEFAULT_SETTINGS);
    const appends = plan.steps.filter((s) => s.op === 'append').map((s) => (s as { value: string }).value.trim());
    expect(appends).toContain('p:luotrace/luo_preserve_file luo_preserve_file file_set=$arg1:x64 token=$arg2:x64 fd=$arg3:s32');
    expect(appends).toContain('r:luotrace/luo_preserve_file__return luo_preserve_file ret=$retval:s32');
    // void in POST/LATER: no return value recorded (docs/luo-model.md §2)
    expect(appends).toContain('r:luotrace/liveupdate_unregister_file_handler__return liveupdate_unregister_file_handler');
    expect(appends).toContain('p:luotrace/liveupdate_register_flb liveupdate_register_flb handler=+8($arg1):string flb=+8($arg2):string');
    expect(appends.some((a) => a.includes('luo_session_quiesce'))).toBe(false);
    expect(plan.missing).toContain('luo_session_quiesce');
    // The rwsems by address from kallsyms: luo_register_rwlock, luo_session_serialize_rwsem, and luo_session_global as a range.
    expect(plan.rwsemFilter).toBe(
      'sem == 0xffffffff81ed2360 || sem == 0xffffffff81ed2740 || (sem >= 0xffffffff81ed2540 && sem < 0xffffffff81ed2740)',
    );
    // The lab's gdb-derived addresses of the two session rwsems fall inside that range (real README §2).
    for (const a of [0xffffffff81ed2558n, 0xffffffff81ed2650n]) expect(a >= 0xffffffff81ed2540n && a < 0xffffffff81ed2740n).toBe(true);
    // Tracing is switched on last, after every probe and event.
    expect(plan.steps.at(-1)).toMatchObject({ op: 'write', path: 'instances/luotrace/tracing_on', value: '1' });
  });

  it('a PRE kernel (luo_session_quiesce) records unregister return values (-EBUSY, luo-model.md §7c)', () => {
    const f = fake();
    writeFileSync(join(f.root, 'available_filter_functions'), 'luo_session_quiesce\nluo_session_resume\nliveupdate_unregister_file_handler\ndown_read\nup_read\ndown_write\nup_write\n');
    const facts = readKernelFacts(f, null, '6.19');
    expect(facts.model).toBe('pre-series');
    const plan = buildPlan(facts, DEFAULT_SETTINGS);
    const values = plan.steps.map((s) => ('value' in s ? s.value.trim() : ''));
    expect(values).toContain('r:luotrace/liveupdate_unregister_file_handler__return liveupdate_unregister_file_handler ret=$retval:s32');
    expect(values).toContain('p:luotrace/luo_session_quiesce luo_session_quiesce');
    expect(plan.warnings.join('\n')).toMatch(/no LUO rwsem address in kallsyms/);
  });

  it('restore values: trace_clock, buffer_size_kb and an empty filter read differently than they are written', () => {
    expect(restoreValue('trace_clock', '[local] global counter\n')).toBe('local');
    expect(restoreValue('instances/x/buffer_size_kb', '7 (expanded: 1408)\n')).toBe('1408');
    expect(restoreValue('events/lock/contention_begin/filter', 'none\n')).toBe('0');
    expect(restoreValue('events/lock/contention_begin/filter', 'comm == "x"\n')).toBe('comm == "x"');
  });

  it('finds tracefs at /sys/kernel/tracing, then debugfs, then in /proc/mounts', () => {
    expect(findTracefs((p) => p === '/sys/kernel/tracing/trace')).toBe('/sys/kernel/tracing');
    expect(findTracefs((p) => p === '/sys/kernel/debug/tracing/trace')).toBe('/sys/kernel/debug/tracing');
    expect(findTracefs((p) => p === '/mnt/t/trace', () => 'nodev /mnt/t tracefs rw 0 0\n')).toBe('/mnt/t');
    expect(findTracefs(() => false, () => 'sysfs /sys sysfs rw 0 0\n')).toBeNull();
  });
});

describe('record --dry-run', () => {
  it('prints every write with its reason and every restoring write, and writes nothing', async () => {
    const f = fake();
    const before = f.snapshot();
    const out: string[] = [];
    const code = await runRecord(options({ dryRun: true, output: 'lu.txt' }), ['luo_ctl', 'hold', 's1:3:1'], env(out), f);
    expect(code).toBe(0);
    expect(f.snapshot()).toEqual(before);
    expect(f.ops).toBe(0);
    const text = out.join('');
    const lines = text.split('\n');
    expect(text).toMatch(/^ {2}luo model: later \(/m);
    expect(text).toMatch(/^ {2}not on this kernel: .*luo_session_quiesce/m);
    expect(lines).toContain(
      '  append kprobe_events: "p:luotrace/luo_preserve_file luo_preserve_file file_set=$arg1:x64 token=$arg2:x64 fd=$arg3:s32"    # luo_preserve_file: preserve; POST try_module_get on the handler owner (luo_file.c)',
    );
    expect(lines).toContain('  mkdir instances/luotrace    # a tracing instance of our own: the top-level buffer, clock and options stay as they are');
    expect(lines).toContain('  write instances/luotrace/trace_clock: "mono"    # CLOCK_MONOTONIC, the clock of bpftrace nsecs (real README O9)');
    expect(lines).toContain('  write instances/luotrace/events/module/module_get/enable: "1"    # module refs with call_site and refcnt (luo-model.md §4)');
    expect(lines).toContain('  write instances/luotrace/tracing_on: "1"    # start recording');
    // luotrace's own threads are kept out (their lock contention fed back into the trace in the lab run).
    expect(text).toMatch(/^ {2}write instances\/luotrace\/set_event_notrace_pid: "\d+( \d+)*" {4}# not luotrace itself/m);
    // restore: instance removed, probes removed, newest first
    const restore = lines.slice(lines.findIndex((l) => l.startsWith('restore')));
    expect(restore[1]).toBe('  rmdir instances/luotrace    # restore');
    expect(restore).toContain('  append kprobe_events: "-:luotrace/luo_preserve_file"    # restore');
    expect(restore.indexOf('  append kprobe_events: "-:luotrace/up_write"    # restore')).toBeLessThan(
      restore.indexOf('  append kprobe_events: "-:luotrace/liveupdate_register_file_handler"    # restore'),
    );
  });

  it('--top-level: the top-level settings are saved and each one is put back', async () => {
    const f = fake();
    const out: string[] = [];
    await runRecord(options({ dryRun: true, topLevel: true }), null, env(out), f);
    const text = out.join('');
    expect(text).toContain('  write trace_clock: "mono"    # CLOCK_MONOTONIC');
    expect(text).toContain('  write trace_clock: "local"    # restore');
    expect(text).toContain('  write buffer_size_kb: "1408"    # restore');
    expect(text).toContain('  write events/lock/contention_begin/enable: "0"    # restore');
    expect(text).toContain('  write tracing_on: "1"    # restore');
  });

  it('bpftrace backend: prints the script generated for this kernel', async () => {
    const f = fake();
    const out: string[] = [];
    await runRecord(options({ dryRun: true, backend: 'bpftrace' }), null, env(out), f);
    const text = out.join('');
    expect(text).toContain('kprobe:luo_preserve_file\n');
    expect(text).not.toContain('kprobe:luo_session_quiesce');
    expect(text).toContain(
      '/@luo_depth[tid] > 0 || (int64)arg0 == 0xffffffff81ed2360 || (int64)arg0 == 0xffffffff81ed2740 || ((int64)arg0 >= 0xffffffff81ed2540 && (int64)arg0 < 0xffffffff81ed2740)/',
    );
  });
});

describe('record: a full recording on the fake tracefs', () => {
  it('records while the command runs, writes the header, and leaves tracefs exactly as found', async () => {
    const f = fake();
    const before = f.snapshot();
    const output = join(tmp(), 'out.txt');
    const err: string[] = [];
    const code = await runRecord(options({ output }), SHORT_COMMAND, env([], err), f);
    expect(code).toBe(0);
    expect(f.snapshot()).toEqual(before);
    const text = readFileSync(output, 'utf8');
    expect(text.split('\n').slice(0, 3)).toEqual(['# luotrace record format=1 backend=ftrace', '# tracer: nop', '# kernel: 7.2.13']);
    expect(text).toMatch(/^# luotrace: stopped .* by command-exited; 40 lines, \d+ bytes, 0 events lost; tracefs restored$/m);
    const r = await readEvents(output);
    expect(r.format).toBe('ftrace');
    expect(r.skipped).toEqual({});
    expect(r.events.filter((e) => e.kind === 'contention_begin').length).toBeGreaterThan(0);
    expect(err.join('')).toMatch(/out\.txt: 40 lines/);
  });

  it('SIGTERM while recording (no command) stops and restores', async () => {
    const f = fake();
    const before = f.snapshot();
    const ctl = new StopController();
    setTimeout(() => ctl.stop('SIGTERM'), 250);
    const output = join(tmp(), 'out.txt');
    const code = await runRecord(options({ output }), null, env(), f, ctl);
    expect(code).toBe(0);
    expect(f.snapshot()).toEqual(before);
    expect(readFileSync(output, 'utf8')).toMatch(/stopped .* by SIGTERM/);
  });

  it('--top-level: the user\'s clock, buffer size and options are put back', async () => {
    const f = fake();
    writeFileSync(join(f.root, 'options', 'record-tgid'), '1\n');
    const before = f.snapshot();
    const ctl = new StopController();
    setTimeout(() => ctl.stop('SIGINT'), 200);
    expect(await runRecord(options({ output: join(tmp(), 'o.txt'), topLevel: true }), null, env(), f, ctl)).toBe(0);
    expect(f.log).toContain('write trace_clock mono');
    expect(f.snapshot()).toEqual(before);
  });

  it('refuses clearly: our instance or probes already there, no tracefs, no right to write it', async () => {
    const f = fake();
    mkdirSync(join(f.root, 'instances', 'luotrace'));
    await expect(runRecord(options({ output: join(tmp(), 'o.txt') }), null, env(), f)).rejects.toThrow(/instances\/luotrace already exists/);
    const g = fake();
    writeFileSync(join(g.root, 'kprobe_events'), 'p:luotrace/luo_open luo_open\n');
    await expect(runRecord(options({ output: join(tmp(), 'o.txt') }), null, env(), g)).rejects.toThrow(/already has luotrace\/ probes/);
    await expect(runRecord(options({ tracefs: tmp() }), null, env())).rejects.toThrow(/not a tracefs mount/);
    const h = fake({ without: ['tracing_on'] });
    const notRoot = { ...env(), isRoot: false };
    await expect(runRecord(options({ output: join(tmp(), 'o.txt') }), null, notRoot, h)).rejects.toThrow(/needs root/);
  });

  it('--instance takes a plain name only: a path, a line break or nothing is refused before any tracefs change (issue 15 item 14)', async () => {
    const f = fake();
    const before = f.snapshot();
    for (const name of ['../../../tmp/x', 'a/b', '..', '.', 'a..b', 'x\n# options: forged', 'x\x1b[2J', '', ' ', '-rf', 'x'.repeat(65)]) {
      await expect(runRecord(options({ output: join(tmp(), 'o.txt'), instance: name }), null, env(), f)).rejects.toThrow(/not a plain instance name/);
      await expect(runRecord(options({ output: join(tmp(), 'o.txt'), instance: name, dryRun: true }), null, env(), f)).rejects.toThrow(/not a plain instance name/);
      expect(f.log).toEqual([]);
      expect(f.snapshot()).toEqual(before);
    }
    // Names people use still work.
    expect(await runRecord(options({ instance: 'luotrace-2.lab_1', dryRun: true }), null, env(), f)).toBe(0);
  });

  it('--instance with a line break: one line on stderr, exit 2', async () => {
    const f = fake();
    const p = run(NODE, [cliPath(), 'record', '--tracefs', f.root, '--kallsyms', kallsymsFile(), '--instance', '../x\ny', '-o', join(tmp(), 'o.txt')]);
    await expect(p).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/^luotrace: record: --instance "\.\.\/x\\ny": not a plain instance name [^\n]*\n$/) });
    expect(existsSync(join(tmp(), 'o.txt'))).toBe(false);
  });
});

describe('record --backend bpftrace (with a stand-in for bpftrace)', () => {
  /** A stand-in bpftrace: keeps its script, prints the banner, start marker and events, ends on SIGINT like bpftrace. */
  function fakeBpftrace(dir: string, behaviour: 'ok' | 'fail'): string {
    const p = join(dir, 'bpftrace');
    const body =
      behaviour === 'fail'
        ? `process.stderr.write('stdin:1:1-10: ERROR: Could not resolve symbol: kprobe:luo_nope\\n'); process.exit(1);`
        : `require('fs').copyFileSync(process.argv[2], ${JSON.stringify(join(dir, 'script-used.bt'))});
process.stdout.write('Attaching 61 probes...\\n');
process.stdout.write('luo-bpftrace-start ts=66272780736 format=luotrace-bt/1\\n');
process.stdout.write('tracepoint:module:module_get ts=111715952478 cpu=1 pid=342 tid=342 comm=luo_ctl module=luo_demo refcnt=2 call_site=luo_file_deserialize\\n');
process.stderr.write('Lost 3 events\\n');
process.on('SIGINT', () => { process.stdout.write('luo-bpftrace-end ts=116277858103 format=luotrace-bt/1\\n\\n\\n'); process.exit(0); });
setInterval(() => {}, 1000);`;
    writeFileSync(p, `#!${NODE}\n${body}\n`);
    chmodSync(p, 0o755);
    return p;
  }

  it('runs the script generated for this kernel, records both streams, stops bpftrace with SIGINT', async () => {
    const f = fake();
    const dir = tmp();
    const output = join(dir, 'bt.txt');
    const code = await runRecord(options({ backend: 'bpftrace', bpftrace: fakeBpftrace(dir, 'ok'), output }), SHORT_COMMAND, env(), f);
    expect(code).toBe(0);
    const used = readFileSync(join(dir, 'script-used.bt'), 'utf8');
    expect(used).toContain('kprobe:luo_retrieve_file');
    expect(used).not.toContain('luo_session_quiesce');
    const r = await readEvents(output);
    expect(r.format).toBe('bpftrace');
    expect(r.skipped).toEqual({});
    expect(r.events.filter((e) => e.kind === 'module_get')).toHaveLength(1);
    expect(r.events.filter((e) => e.kind === 'lost')).toHaveLength(1);
    const text = readFileSync(output, 'utf8');
    expect(text).toContain('luo-bpftrace-end ts=116277858103');
    expect(text).toMatch(/^# luotrace: stopped .* by command-exited; 4 lines, \d+ bytes, 3 events lost$/m);
    expect(text).toContain('# clock: bpftrace nsecs (CLOCK_MONOTONIC, as trace_clock mono)');
  });

  it('bpftrace failing to start is a one-line error with its message', async () => {
    const dir = tmp();
    const p = runRecord(options({ backend: 'bpftrace', bpftrace: fakeBpftrace(dir, 'fail'), output: join(dir, 'bt.txt') }), null, env(), fake());
    await expect(p).rejects.toThrow(/bpftrace exited before attaching \(exit 1\): stdin:1:1-10: ERROR: Could not resolve symbol/);
  });

  it('the bundled cli/record/luotrace.bt is the generator output for every function (kept in sync)', () => {
    expect(readFileSync(join(ROOT, 'cli/record/luotrace.bt'), 'utf8')).toBe(bpftraceScript(BUNDLED_SCRIPT_OPTIONS));
  });


});

describe('record from the command line (a real process, real signals)', () => {
  it('a Ctrl-C that arrived before recording took over Ctrl-C still stops it (lab run under QEMU: recorded forever)', async () => {
    // In a child process: cli/main.ts's handler is the only SIGINT listener when the signal is
    // raised; record installs its own before node dispatches the signal. Swapping the listeners
    // (removing main's) closed node's signal watcher and dropped the pending Ctrl-C.
    const script = [
      `import { handleSignals, StopController } from ${JSON.stringify(join(ROOT, 'dist/cli/record/lifecycle.js'))};`,
      `process.on('SIGINT', () => { if (process.listenerCount('SIGINT') > 1) return; console.log('main: exit 130'); process.exit(130); });`,
      `const ctl = new StopController();`,
      `process.kill(process.pid, 'SIGINT');`,
      `const unhook = handleSignals(ctl);`,
      `await new Promise((r) => setTimeout(r, 300));`,
      `console.log('stopped by', ctl.reason);`,
      `unhook();`,
      `console.log('main handler back:', process.listenerCount('SIGINT'));`,
    ].join('\n');
    const { stdout } = await run(NODE, ['--input-type=module', '-e', script]);
    expect(stdout).toBe('stopped by SIGINT\nmain handler back: 1\n');
  });

  it('--dry-run against a directory given with --tracefs, exit 0', async () => {
    const f = fake();
    const { stdout } = await run(NODE, [cliPath(), 'record', '--dry-run', '--tracefs', f.root, '--kallsyms', kallsymsFile(), '--', 'luo_ctl', 'hold', 's1:3:1']);
    expect(stdout).toContain('  command: luo_ctl hold s1:3:1');
    expect(stdout).toContain('  mkdir instances/luotrace    # a tracing instance of our own');
  });

  it('no tracefs: one line on stderr, exit 2', async () => {
    const p = run(NODE, [cliPath(), 'record', '--tracefs', tmp()]);
    await expect(p).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/^luotrace: record: .* is not a tracefs mount \(no available_events\)\n$/) });
  });

  it('SIGINT to a running `luotrace record --top-level` puts the control files back', async () => {
    // Plain files, no kernel behind them: the probes' event directories exist beforehand, and
    // kprobe_events just collects what is appended (each probe added must be removed again).
    const f = fake();
    const facts = readKernelFacts(f, realKallsyms(), '7.2.13');
    const plan = buildPlan(facts, { ...DEFAULT_SETTINGS, instance: '' });
    for (const name of plan.probes) {
      const d = join(f.root, 'events', name);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'enable'), '0\n');
      writeFileSync(join(d, 'filter'), 'none\n');
    }
    writeFileSync(join(f.root, 'events', 'luotrace', 'enable'), '0\n');
    const before = f.snapshot();
    const output = join(tmp(), 'o.txt');
    const child = spawn(NODE, [cliPath(), 'record', '--top-level', '--tracefs', f.root, '--kallsyms', kallsymsFile(), '-o', output], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    await new Promise<void>((resolve) => {
      child.stderr.on('data', () => stderr.includes('recording until Ctrl-C') && resolve());
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(0);
    const after = f.snapshot();
    const added = plan.probes.length;
    const kprobes = after.kprobe_events.trim().split('\n');
    expect(kprobes.filter((l) => /^[pr]:luotrace\//.test(l))).toHaveLength(added);
    expect(kprobes.filter((l) => l.startsWith('-:luotrace/'))).toHaveLength(added);
    delete after.kprobe_events;
    delete before.kprobe_events;
    // Plain files keep what was written as written (`mono`, no newline): compare what each file says.
    const said = (snap: Record<string, string>) => Object.fromEntries(Object.entries(snap).map(([k, v]) => [k, restoreValue(k, v)]));
    expect(said(after)).toEqual(said(before));
    expect(Object.keys(after)).toEqual(Object.keys(before));
    expect(readFileSync(output, 'utf8')).toMatch(/by SIGINT; 40 lines, .*; tracefs restored/);
    expect(stderr).toMatch(/o\.txt: 40 lines/);
  });
});
