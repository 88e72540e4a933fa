// A fake tracefs for `luotrace record` tests: a temporary directory with the files record touches,
// and an IO layer that behaves like the kernel where plain files cannot (Documentation/trace/
// ftrace.rst, kprobetrace.rst, events.rst): appending to kprobe_events creates the probe's event
// directories (in every instance), `-:group/name` removes them (EBUSY while enabled), trace_clock
// accepts only offered clocks and reads back as `[mono] ...`, a `filter` write of `0` reads back as
// `none`, a group `enable` sets every event of the group, mkdir in instances/ creates a whole buffer.
// The kernel's lists are the real 7.2.13 ones from samples/real (available_filter_functions,
// kallsyms); trace_pipe holds real trace_pipe lines.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { TracefsIO } from '../../cli/record/tracefs.js';
import { sample } from '../helpers.js';

const CLOCKS = ['local', 'global', 'counter', 'uptime', 'perf', 'mono', 'mono_raw', 'boot', 'tai', 'x86-tsc'];

/** Events of the 7.2.13 lab kernel that record looks for (real README §2 used all of them). */
export const FAKE_EVENTS = [
  'module:module_load', 'module:module_free', 'module:module_get', 'module:module_put', 'module:module_request',
  'lock:contention_begin', 'lock:contention_end', 'lock:lock_acquire', 'lock:lock_release',
  'syscalls:sys_enter_finit_module', 'syscalls:sys_exit_finit_module', 'syscalls:sys_enter_delete_module',
  'syscalls:sys_exit_delete_module', 'syscalls:sys_enter_kexec_file_load', 'syscalls:sys_exit_kexec_file_load',
  'syscalls:sys_enter_reboot', 'syscalls:sys_exit_reboot', 'sched:sched_switch',
];

function errno(code: string, msg: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: ${msg}`) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

function writeBuffer(dir: string, clock = 'local'): void {
  mkdirSync(join(dir, 'options'), { recursive: true });
  writeFileSync(join(dir, 'trace_clock'), `${CLOCKS.map((c) => (c === clock ? `[${c}]` : c)).join(' ')}\n`);
  writeFileSync(join(dir, 'buffer_size_kb'), '7 (expanded: 1408)\n');
  writeFileSync(join(dir, 'tracing_on'), '1\n');
  writeFileSync(join(dir, 'current_tracer'), 'nop\n');
  writeFileSync(join(dir, 'set_event_pid'), '');
  writeFileSync(join(dir, 'set_event_notrace_pid'), '');
  for (const [o, v] of [['record-tgid', '0'], ['event-fork', '0'], ['irq-info', '1']]) writeFileSync(join(dir, 'options', o), `${v}\n`);
  writeFileSync(join(dir, 'trace'), '# tracer: nop\n');
}

function writeEvent(dir: string, system: string, name: string): void {
  const d = join(dir, 'events', system, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'enable'), '0\n');
  writeFileSync(join(d, 'filter'), 'none\n');
}

/** Real trace_pipe lines of the lifecycle run (stage 1), what the instance's pipe will "hold". */
let pipeText: string | null = null;
export function realTracePipeLines(n: number): string {
  pipeText ??= gunzipSync(readFileSync(sample('real/lifecycle/stage1/ftrace-trace_pipe.txt.gz'))).toString('utf8');
  return `${pipeText.split('\n').slice(0, n).join('\n')}\n`;
}

export interface FakeOptions {
  /** Throw EINVAL at the Nth mutating operation (0-based). */
  failAt?: number;
  /** Call this at the Nth mutating operation (before doing it): a signal arriving during setup. */
  onOp?: (n: number, what: string) => void;
  /** Leave files out (a kernel without them). */
  without?: string[];
}

export class FakeTracefs implements TracefsIO {
  readonly root: string;
  ops = 0;
  readonly log: string[] = [];

  constructor(readonly opts: FakeOptions = {}) {
    this.root = mkdtempSync(join(tmpdir(), 'luotrace-fake-tracefs-'));
    const r = this.root;
    writeBuffer(r);
    mkdirSync(join(r, 'instances'));
    const aff = readFileSync(sample('real/lifecycle/stage1/available_filter_functions-luo.txt'), 'utf8');
    writeFileSync(join(r, 'available_filter_functions'), `${aff}down_read\nup_read\ndown_write\nup_write\ntry_module_get\nmodule_put\n`);
    writeFileSync(join(r, 'available_events'), `${FAKE_EVENTS.join('\n')}\n`);
    writeFileSync(join(r, 'kprobe_events'), '');
    writeFileSync(join(r, 'dynamic_events'), '');
    writeFileSync(join(r, 'trace_pipe'), realTracePipeLines(40));
    for (const e of FAKE_EVENTS) {
      const [s, n] = e.split(':');
      writeEvent(r, s, n);
    }
    for (const w of opts.without ?? []) rmSync(join(r, w), { recursive: true, force: true });
  }

  /** Every file under the root with its content: compared before and after a run. */
  snapshot(): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (d: string) => {
      for (const name of readdirSync(d).sort()) {
        const p = join(d, name);
        if (statSync(p).isDirectory()) {
          out[`${p.slice(this.root.length + 1)}/`] = '';
          walk(p);
        } else out[p.slice(this.root.length + 1)] = readFileSync(p, 'utf8');
      }
    };
    walk(this.root);
    return out;
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }

  private mutate(what: string): void {
    const n = this.ops++;
    this.opts.onOp?.(n, what);
    if (this.opts.failAt === n) throw errno('EINVAL', `injected fault at ${what}`);
    this.log.push(what);
  }

  read(rel: string): string {
    return readFileSync(join(this.root, rel), 'utf8');
  }

  exists(rel: string): boolean {
    return existsSync(join(this.root, rel));
  }

  write(rel: string, value: string): void {
    const p = join(this.root, rel);
    if (!existsSync(p) || statSync(p).isDirectory()) throw errno('ENOENT', rel);
    this.mutate(`write ${rel} ${value}`);
    const v = value.trim();
    if (rel.endsWith('trace_clock')) {
      if (!CLOCKS.includes(v)) throw errno('EINVAL', `clock ${v}`);
      writeFileSync(p, `${CLOCKS.map((c) => (c === v ? `[${c}]` : c)).join(' ')}\n`);
    } else if (rel.endsWith('/filter')) {
      writeFileSync(p, v === '0' || v === '' ? 'none\n' : `${v}\n`);
    } else if (rel.endsWith('buffer_size_kb')) {
      if (!/^\d+$/.test(v)) throw errno('EINVAL', 'size');
      writeFileSync(p, v === '1408' ? '7 (expanded: 1408)\n' : `${v}\n`);
    } else if (/events\/[^/]+\/enable$/.test(rel)) {
      // A group's enable: every event of the group.
      const dir = dirname(p);
      for (const e of readdirSync(dir)) {
        if (statSync(join(dir, e)).isDirectory()) writeFileSync(join(dir, e, 'enable'), `${v}\n`);
      }
      writeFileSync(p, `${v}\n`);
    } else if (rel.endsWith('set_event_notrace_pid') || rel.endsWith('set_event_pid')) {
      writeFileSync(p, v ? `${v.split(/\s+/).join('\n')}\n` : '');
    } else {
      writeFileSync(p, value.length ? `${v}\n` : '');
    }
  }

  append(rel: string, value: string): void {
    const p = join(this.root, rel);
    if (!existsSync(p)) throw errno('ENOENT', rel);
    this.mutate(`append ${rel} ${value.trim()}`);
    const line = value.trim();
    const current = readFileSync(p, 'utf8');
    if (rel.endsWith('set_event_notrace_pid')) {
      // pid files list one pid per line; appending adds to the list.
      writeFileSync(p, `${current}${line.split(/\s+/).join('\n')}\n`);
      return;
    }
    const remove = /^-:(\S+)\/(\S+)$/.exec(line);
    if (remove) {
      const [, group, name] = remove;
      const dirs = [this.root, ...readdirSync(join(this.root, 'instances')).map((i) => join(this.root, 'instances', i))];
      for (const d of dirs) {
        if (existsSync(join(d, 'events', group, name, 'enable')) && readFileSync(join(d, 'events', group, name, 'enable'), 'utf8').trim() === '1') {
          throw errno('EBUSY', `${group}/${name} is enabled`);
        }
      }
      writeFileSync(p, current.split('\n').filter((l) => l && !new RegExp(`^[prf]\\d*:${group}/${name} `).test(l)).map((l) => `${l}\n`).join(''));
      for (const d of dirs) {
        rmSync(join(d, 'events', group, name), { recursive: true, force: true });
        const gdir = join(d, 'events', group);
        if (existsSync(gdir) && readdirSync(gdir).every((f) => f === 'enable' || f === 'filter')) rmSync(gdir, { recursive: true });
      }
      return;
    }
    const def = /^[prf]\d*:(\S+)\/(\S+) /.exec(line);
    if (!def) throw errno('EINVAL', `bad probe definition ${line}`);
    const [, group, name] = def;
    const fn = line.split(' ')[1].replace(/%return$/, '');
    if (!this.read('available_filter_functions').split('\n').some((l) => l.split(' ')[0] === fn)) throw errno('ENOENT', `no function ${fn}`);
    writeFileSync(p, `${current}${line}\n`);
    const dirs = [this.root, ...readdirSync(join(this.root, 'instances')).map((i) => join(this.root, 'instances', i))];
    for (const d of dirs) {
      writeEvent(d, group, name);
      if (!existsSync(join(d, 'events', group, 'enable'))) writeFileSync(join(d, 'events', group, 'enable'), '0\n');
    }
  }

  mkdir(rel: string): void {
    const p = join(this.root, rel);
    if (existsSync(p)) throw errno('EEXIST', rel);
    this.mutate(`mkdir ${rel}`);
    if (!rel.startsWith('instances/')) throw errno('EPERM', rel);
    mkdirSync(p);
    writeBuffer(p);
    writeFileSync(join(p, 'trace_pipe'), realTracePipeLines(40));
    // The instance gets every event the top level has, disabled.
    const events = join(this.root, 'events');
    for (const s of readdirSync(events)) {
      for (const e of readdirSync(join(events, s))) {
        if (statSync(join(events, s, e)).isDirectory()) writeEvent(p, s, e);
      }
      if (existsSync(join(events, s, 'enable'))) writeFileSync(join(p, 'events', s, 'enable'), '0\n');
    }
  }

  rmdir(rel: string): void {
    const p = join(this.root, rel);
    if (!existsSync(p)) throw errno('ENOENT', rel);
    this.mutate(`rmdir ${rel}`);
    rmSync(p, { recursive: true });
  }
}

/** The real 7.2.13 kallsyms lines of the LUO symbols (rwsem addresses, luo_session_global). */
export function realKallsyms(): string {
  return readFileSync(sample('real/lifecycle/stage1/kallsyms-luo.txt'), 'utf8');
}

/** `node dist/bundle/main.js ...` (the shipped CLI), for the tests that need a real process. */
export function cliPath(): string {
  return join(sample('..'), 'dist', 'bundle', 'main.js');
}

export { execFileSync };

/**
 * Per-test scratch space for the record tests: temporary folders and fake tracefs trees made
 * through it are removed after each test (vitest afterEach, registered by the caller's file).
 */
export function scratch(prefix: string, afterEach: (fn: () => void) => void): { tmp(): string; fake(opts?: FakeOptions): FakeTracefs } {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    while (cleanups.length) (cleanups.pop() as () => void)();
  });
  return {
    tmp() {
      const d = mkdtempSync(join(tmpdir(), prefix));
      cleanups.push(() => rmSync(d, { recursive: true, force: true }));
      return d;
    },
    fake(opts: FakeOptions = {}) {
      const f = new FakeTracefs(opts);
      cleanups.push(() => f.cleanup());
      return f;
    },
  };
}
