// Hostile-scale synthetic traces for the memory budget (issue #15): many distinct names, each seen
// a few times, in the kernel's exact trace_pipe line format (docs/trace-formats.md: the context
// columns, then `contention_begin: %p (flags=%s)`, `contention_end: %p (ret=%d)`, lockdep's
// `lock_acquire: %p %s%s%s` / `lock_release: %p %s`, `module_get: %s call_site=%ps refcnt=%d`, and
// the LUO kprobe/kretprobe lines of kprobe_events `p:luo/liveupdate_register_flb ... handler=+8(%di):string
// flb=+8(%si):string` and `r10:luo/liveupdate_register_flb__return ... ret=$retval:s32`).
// Synthetic and labelled so on the first line. Used by `npm run bench -- --hostile` and by tests
// at small sizes.
//
//   node dist/test/bench/hostile.js locks|lockdep|modules|registrations|rmmods|tasks N OUT
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export type HostileKind = 'locks' | 'lockdep' | 'modules' | 'registrations' | 'rmmods' | 'tasks';
export const HOSTILE_KINDS: readonly HostileKind[] = ['locks', 'lockdep', 'modules', 'registrations', 'rmmods', 'tasks'];

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
 *   every task is left waiting (a name here is a pid).
 */
export function* hostileLines(kind: HostileKind, n: number): Generator<string> {
  yield `# synthetic: hostile ${kind} trace, ${n} distinct names (test/bench/hostile.ts, not a real capture)`;
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
    process.stderr.write('usage: hostile locks|lockdep|modules|registrations|rmmods|tasks N OUT\n');
    process.exit(2);
  }
  await writeHostileTrace(kind as HostileKind, Number(n), file);
}
