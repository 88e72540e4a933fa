// Hostile-scale synthetic traces for the memory budget (issue #15): many distinct names, each seen
// a few times, in the kernel's exact trace_pipe line format (docs/trace-formats.md: the context
// columns, then `contention_begin: %p (flags=%s)`, `contention_end: %p (ret=%d)`, lockdep's
// `lock_acquire: %p %s%s%s` / `lock_release: %p %s`, `module_get: %s call_site=%ps refcnt=%d`, and
// the LUO kprobe/kretprobe lines of kprobe_events `p:luo/liveupdate_register_flb ... handler=+8(%di):string
// flb=+8(%si):string` and `r10:luo/liveupdate_register_flb__return ... ret=$retval:s32`), and for
// `kexecs` the lines of a failed `kexec -e` as the real freeze-fail capture has them
// (samples/real/freeze-fail/stage1/ftrace-main.txt: `sys_reboot(...)`, `liveupdate_reboot: (...)`,
// `liveupdate_reboot__return: (... <- liveupdate_reboot) ret=-5`, `sys_reboot -> 0xfffffffffffffffb`),
// and for `freezes` the same attempts with the serialize step of that capture inside each: the
// `luo_session_serialize`, `luo_file_freeze: (...) file_set=0x…` / `luo_file_freeze__return: (...) ret=N`
// and `luo_file_unfreeze` / `luo_file_unfreeze__return` kprobe lines (its kprobe_events.txt).
// Synthetic and labelled so on the first line. Used by `npm run bench -- --hostile` and by tests
// at small sizes.
//
//   node dist/test/bench/hostile.js locks|lockdep|modules|registrations|rmmods|tasks|kexecs|freezes|clocks|lostcpus N OUT
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export type HostileKind = 'locks' | 'lockdep' | 'modules' | 'registrations' | 'rmmods' | 'tasks' | 'kexecs' | 'freezes' | 'clocks' | 'lostcpus';
export const HOSTILE_KINDS: readonly HostileKind[] = ['locks', 'lockdep', 'modules', 'registrations', 'rmmods', 'tasks', 'kexecs', 'freezes', 'clocks', 'lostcpus'];

/** Every REG_FAIL_EVERY-th register call of a `registrations` trace returns -EEXIST (-17). */
export const REG_FAIL_EVERY = 7;

/** A hashed pointer as tracefs prints `%p`: 16 hex digits, the upper 8 zero. */
const ptr = (prefix: string, i: number): string => prefix + (i * 64).toString(16).padStart(8, '0');

/** One task's context columns (`comm-pid [cpu] flags timestamp:`), as trace_pipe prints them. */
function ctx(comm: string, pid: number, cpu: number, t: number): string {
  return `${`${comm}-${pid}`.padStart(22)} [${String(cpu).padStart(3, '0')}] ..... ${t.toFixed(6).padStart(12)}: `;
}

/**
 * The lines of a hostile trace of `n` distinct names, in order:
 * - locks: one contention_begin/end pair per distinct lock address (a task waiting 2 µs on each);
 * - lockdep: one lock_acquire/lock_release pair per distinct lockdep name (and address);
 * - modules: one module_get per distinct module (refcnt=2: a get that is never put);
 * - registrations: after one `module_load: hostile_mod O`, one liveupdate_register_flb call and its
 *   return per distinct FLB name, every REG_FAIL_EVERY-th returning -17 (EEXIST);
 * - rmmods: one delete_module call per distinct module name (the syscalls tracepoints' format,
 *   `sys_delete_module(name_user: %p "%s", flags: 0x880)` and `sys_delete_module -> 0x%lx`), each
 *   refused with -ENOENT (0xfffffffffffffffe) except every REG_FAIL_EVERY-th, which succeeds;
 * - tasks: one contention_begin per distinct task (pid 1000 + i) on a lock of its own, never ended:
 *   every task is left waiting (a name here is a pid);
 * - kexecs: `n` failed `kexec -e` attempts (kexecAttempts), one liveupdate_reboot global phase each;
 * - freezes: `n` failed attempts that each freeze two file sets, the second failing, and unfreeze the
 *   first (freezeAttempts): three phases of sessions created before the trace per attempt;
 * - clocks: `n` clock resets, a module_get every other line of which is 1000 s back (a new segment
 *   each, up to parsers/parser.ts MAX_SEGMENTS_PER_SOURCE; past it, time out of order in one);
 * - lostcpus: `n` ring-buffer lost-event markers `CPU:%d [LOST 1 EVENTS]` on distinct forged CPU
 *   numbers, each followed by a module_get (refcnt counting up).
 */
export function* hostileLines(kind: HostileKind, n: number): Generator<string> {
  if (kind === 'kexecs') {
    yield* kexecAttempts(n);
    return;
  }
  if (kind === 'freezes') {
    yield* freezeAttempts(n);
    return;
  }
  const what = kind === 'clocks' ? 'clock jumps' : kind === 'lostcpus' ? 'lost-event markers on distinct CPUs' : 'distinct names';
  yield `# synthetic: hostile ${kind} trace, ${n} ${what} (test/bench/hostile.ts, not a real capture)`;
  let t = 100;
  if (kind === 'registrations') yield `${ctx('insmod', 999, 0, t)}module_load: hostile_mod O`;
  for (let i = 0; i < n; i++) {
    const pid = kind === 'tasks' ? 1000 + i : 1000 + (i % 64);
    const cpu = i % 2;
    const c = ctx('hostile', pid, cpu, t);
    const c2 = ctx('hostile', pid, cpu, t + 0.000002);
    t += 0.00001;
    if (kind === 'locks') {
      const addr = ptr('00000000', i);
      yield `${c}contention_begin: ${addr} (flags=WRITE)`;
      yield `${c2}contention_end: ${addr} (ret=0)`;
    } else if (kind === 'lockdep') {
      const addr = ptr('00000001', i);
      yield `${c}lock_acquire: ${addr} hostile_lock_${i}`;
      yield `${c2}lock_release: ${addr} hostile_lock_${i}`;
    } else if (kind === 'tasks') {
      yield `${c}contention_begin: ${ptr('00000002', i)} (flags=WRITE)`;
    } else if (kind === 'rmmods') {
      yield `${c}sys_delete_module(name_user: 0x7ffdd5161ac8 "hostile_mod_${i}", flags: 0x880)`;
      yield `${c2}sys_delete_module -> ${(i + 1) % REG_FAIL_EVERY === 0 ? '0x0' : '0xfffffffffffffffe'}`;
    } else if (kind === 'clocks') {
      yield `${ctx('hostile', 1000, 0, 1000 + i * 1e-6)}module_get: hostile_mod call_site=luo_file_get refcnt=2`;
      yield `${ctx('hostile', 1000, 0, 1 + i * 1e-6)}module_get: hostile_mod call_site=luo_file_get refcnt=2`;
    } else if (kind === 'lostcpus') {
      yield `CPU:${i} [LOST 1 EVENTS]`;
      yield `${c}module_get: hostile_mod call_site=luo_file_get refcnt=${2 + i}`;
    } else if (kind === 'registrations') {
      const r = ctx('insmod', 999, 0, t);
      const r2 = ctx('insmod', 999, 0, t + 0.000002);
      yield `${r}liveupdate_register_flb: (liveupdate_register_flb+0x4/0x230) handler="hostile-handler" flb="hostile-flb-${i}"`;
      yield `${r2}liveupdate_register_flb__return: ([unknown/kretprobe'd] <- liveupdate_register_flb) ret=${(i + 1) % REG_FAIL_EVERY === 0 ? -17 : 0}`;
    } else {
      yield `${c}module_get: hostile_mod_${i} call_site=do_init_module refcnt=2`;
    }
  }
}

/**
 * `n` failed `kexec -e` attempts, what a retry loop writes: each a reboot(LINUX_REBOOT_CMD_KEXEC)
 * syscall (cmd 0x45584543) whose liveupdate_reboot returns -5 (EIO: a freeze() failed,
 * docs/luo-model.md §6 "Freeze failure variant") and so does the syscall. Task `kexec`, pids 1000-1063,
 * CPU 1, 3 µs between lines; the context columns as `%16s-%-5d [%03d] ..... %12s: ` (trace_pipe's,
 * with the pid 5 wide as older kernels print it).
 */
/** The context columns of task `kexec` on CPU 1 at `us` microseconds (`flags`: the irq/preempt column). */
const kexecAt = (pid: number, us: number, flags = '.....') => `${'kexec'.padStart(16)}-${String(pid).padEnd(5)} [001] ${flags} ${`${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`.padStart(12)}: `;

function* kexecAttempts(n: number): Generator<string> {
  yield `# synthetic: ${n} failed kexec attempts (not a real capture)`;
  const at = (pid: number, us: number) => kexecAt(pid, us);
  for (let i = 0; i < n; i++) {
    const pid = 1000 + (i % 64);
    const us = 100_000_000 + i * 12;
    yield `${at(pid, us)}sys_reboot(magic1: 0xfee1dead, magic2: 0x28121969, cmd: 0x45584543, arg: 0x7fb9c2bb7a60)`;
    yield `${at(pid, us + 3)}liveupdate_reboot: (liveupdate_reboot+0x4/0x30)`;
    yield `${at(pid, us + 6)}liveupdate_reboot__return: (return_to_handler+0x0/0x50 <- liveupdate_reboot) ret=-5`;
    yield `${at(pid, us + 9)}sys_reboot -> 0xfffffffffffffffb`;
  }
}

/** The two file sets a `freezes` trace freezes, as the real freeze-fail capture prints them (freeze-s1, freeze-s2). */
export const FREEZE_SETS = ['0xff11000011ba5458', '0xff11000011ba5258'] as const;

/**
 * `n` failed `kexec -e` attempts as the real freeze-fail capture makes one (samples/real/freeze-fail,
 * ftrace-main.txt:734-811 without its lock events): reboot() → liveupdate_reboot → luo_session_serialize
 * → luo_file_freeze of FREEZE_SETS[0] (ret=0) → luo_file_freeze of FREEZE_SETS[1] (ret=-5) → the
 * rollback's luo_file_unfreeze of FREEZE_SETS[0] → serialize, liveupdate_reboot and reboot() return -5.
 * The sessions were created before the trace: no luo_session_create or luo_preserve_file lines. Task
 * `kexec`, pids 1000-1063, 3 µs between lines, the flags column as the capture prints each line.
 */
function* freezeAttempts(n: number): Generator<string> {
  yield `# synthetic: ${n} failed kexec attempts freezing two file sets (not a real capture)`;
  const [ok, bad] = FREEZE_SETS;
  const ret = (fn: string) => `${fn}__return: (return_to_handler+0x0/0x50 <- ${fn})`;
  const steps: Array<[string, string]> = [
    ['.....', 'sys_reboot(magic1: 0xfee1dead, magic2: 0x28121969, cmd: 0x45584543, arg: 0x7fb9c2bb7a60)'],
    ['...1.', 'liveupdate_reboot: (liveupdate_reboot+0x4/0x30)'],
    ['...1.', 'luo_session_serialize: (luo_session_serialize+0x4/0x1e0)'],
    ['...1.', `luo_file_freeze: (luo_file_freeze+0x4/0x190) file_set=${ok}`],
    ['.....', `${ret('luo_file_freeze')} ret=0`],
    ['...1.', `luo_file_freeze: (luo_file_freeze+0x4/0x190) file_set=${bad}`],
    ['.....', `${ret('luo_file_freeze')} ret=-5`],
    ['...1.', `luo_file_unfreeze: (luo_file_unfreeze+0x4/0x30) file_set=${ok}`],
    ['.....', ret('luo_file_unfreeze')],
    ['.....', `${ret('luo_session_serialize')} ret=-5`],
    ['.....', `${ret('liveupdate_reboot')} ret=-5`],
    ['.....', 'sys_reboot -> 0xfffffffffffffffb'],
  ];
  for (let i = 0; i < n; i++) {
    const pid = 1000 + (i % 64);
    const us = 100_000_000 + i * 3 * steps.length;
    for (let k = 0; k < steps.length; k++) yield `${kexecAt(pid, us + 3 * k, steps[k][0])}${steps[k][1]}`;
  }
}

/** Write a hostile trace to `file`. */
export async function writeHostileTrace(kind: HostileKind, n: number, file: string): Promise<void> {
  const out = createWriteStream(file);
  let buf = '';
  for (const line of hostileLines(kind, n)) {
    buf += line + '\n';
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  const [kind, n, file] = process.argv.slice(2);
  if (!HOSTILE_KINDS.includes(kind as HostileKind) || !Number(n) || !file) {
    process.stderr.write('usage: hostile locks|lockdep|modules|registrations|rmmods|tasks|kexecs|freezes|clocks|lostcpus N OUT\n');
    process.exit(2);
  }
  await writeHostileTrace(kind as HostileKind, Number(n), file);
}
