// `luotrace record [-o FILE] [--backend ftrace|bpftrace] [--dry-run] [-- CMD ARGS...]`: capture a
// live update with the probes this kernel has, in a file `luotrace analyze` reads.
//
// The plan (cli/record/plan.ts) comes from what the kernel offers; the ftrace backend
// (cli/record/ftrace-backend.ts) applies it through a journal that puts tracefs back on every exit
// path; the bpftrace backend (cli/record/bpftrace-backend.ts) runs the generated script.
// `--dry-run` prints every write (and every restoring write) without making any.
import { accessSync, constants as FS, readdirSync, readFileSync } from 'node:fs';
import { release as osRelease } from 'node:os';
import { join } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { InputError } from '../parsers/input.js';
import { bpftraceRwsemFilter, bpftraceScript } from './record/bpftrace-script.js';
import { recordBpftrace } from './record/bpftrace-backend.js';
import { recordFtrace, type RunResult } from './record/ftrace-backend.js';
import { formatBytes } from '../analyses/format.js';
import { handleSignals, StopController } from './record/lifecycle.js';
import { buildPlan, DEFAULT_SETTINGS, headerLines, type Plan, readKernelFacts, type RecordSettings } from './record/plan.js';
import { describeStep, DryRunTracefs, errorText, findTracefs, NodeTracefs, type TracefsIO, TracefsSession } from './record/tracefs.js';

export interface RecordCliOptions {
  output?: string;
  backend: 'ftrace' | 'bpftrace';
  dryRun?: boolean;
  tracefs?: string;
  kallsyms?: string;
  instance: string;
  topLevel?: boolean;
  clock: string;
  bufferSizeKb: number;
  contentionFilter?: string;
  allContention?: boolean;
  lockdep: boolean;
  fprobe?: boolean;
  bpftrace: string;
  verbose?: boolean;
}

/** A failure of `record` that is the user's or the system's, not a bug: one line, exit 2. */
export class RecordError extends Error {}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('a positive integer');
  return n;
}

function defaultOutput(now: Date, backend: string): string {
  const s = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `luotrace-${backend}-${s}.txt`;
}

export interface RecordEnv {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  tty: boolean;
  now: () => Date;
  release: string;
  isRoot: boolean;
}

const defaultEnv = (): RecordEnv => ({
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  tty: Boolean(process.stderr.isTTY),
  now: () => new Date(),
  release: osRelease(),
  isRoot: process.geteuid?.() === 0,
});

/** The thread ids of this process (/proc/self/task), to keep luotrace's own events out of the trace. */
export function ownThreads(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number).filter(Number.isInteger).sort((a, b) => a - b);
  } catch {
    return [process.pid];
  }
}

export function settingsFrom(opts: RecordCliOptions): RecordSettings {
  return {
    ...DEFAULT_SETTINGS,
    instance: opts.topLevel ? '' : opts.instance,
    clock: opts.clock,
    bufferSizeKb: opts.bufferSizeKb,
    contentionFilter: opts.contentionFilter ?? null,
    lockdep: opts.lockdep,
    selfTids: ownThreads(),
    probeType: opts.fprobe ? 'fprobe' : 'kprobe',
  };
}

/** Refuse early and clearly: no tracefs, not allowed to write it, state of ours already there. */
function preflight(io: TracefsIO, plan: Plan, env: RecordEnv, dryRun: boolean, backend: string): void {
  if (dryRun) return;
  const probeFile = plan.settings.probeType === 'fprobe' ? 'dynamic_events' : 'kprobe_events';
  try {
    accessSync(join(io.root, backend === 'ftrace' ? 'tracing_on' : 'available_events'), backend === 'ftrace' ? FS.W_OK : FS.R_OK);
  } catch {
    throw new RecordError(`cannot ${backend === 'ftrace' ? 'write' : 'read'} ${io.root}: ${env.isRoot ? 'permission denied' : 'luotrace record needs root (sudo luotrace record ...)'}`);
  }
  if (backend !== 'ftrace') return;
  if (plan.settings.instance && io.exists(`instances/${plan.settings.instance}`)) {
    throw new RecordError(`${io.root}/instances/${plan.settings.instance} already exists (another luotrace record, or one that was killed): remove it with rmdir, or give --instance NAME`);
  }
  if (io.exists(probeFile) && /(^|\n)[prf]\d*:luotrace\//.test(io.read(probeFile))) {
    throw new RecordError(`${probeFile} already has luotrace/ probes (another luotrace record, or one that was killed): remove them with  echo '-:luotrace/NAME' >> ${io.root}/${probeFile}`);
  }
}

function openTracefs(opts: RecordCliOptions): TracefsIO {
  const root = opts.tracefs ?? findTracefs();
  if (!root) throw new RecordError('tracefs not found (not at /sys/kernel/tracing, /sys/kernel/debug/tracing, nor in /proc/mounts): mount it with  mount -t tracefs nodev /sys/kernel/tracing');
  const io = new NodeTracefs(root);
  if (!io.exists('available_events')) throw new RecordError(`${root} is not a tracefs mount (no available_events)`);
  return io;
}

function readKallsyms(path: string | undefined): string | null {
  try {
    return readFileSync(path ?? '/proc/kallsyms', 'utf8');
  } catch (e) {
    if (path) throw new RecordError(`${path}: ${errorText(e)}`);
    return null;
  }
}

/**
 * `--instance` names a directory under tracefs `instances/` and goes into the output's `# options:`
 * header: a plain name only, so no path (`/`, `..`) or line break can reach either.
 */
export function checkInstanceName(name: string): void {
  if (/^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}$/.test(name) && !name.includes('..')) return;
  throw new RecordError(
    `--instance ${JSON.stringify(name.slice(0, 70))}: not a plain instance name (letters, digits, _ . + -, at most 64, not starting with . or -)`,
  );
}

/** Everything `record` does, with its environment passed in (tests pass a fake tracefs). */
export async function runRecord(
  opts: RecordCliOptions,
  command: string[] | null,
  env: RecordEnv = defaultEnv(),
  io: TracefsIO = openTracefs(opts),
  ctl: StopController = new StopController(),
): Promise<number> {
  if (!opts.topLevel) checkInstanceName(opts.instance);
  let facts;
  try {
    facts = readKernelFacts(io, readKallsyms(opts.kallsyms), env.release);
  } catch (e) {
    throw new RecordError(`${io.root}: cannot read what the kernel offers: ${errorText(e)}`);
  }
  const plan = buildPlan(facts, settingsFrom(opts));
  const output = opts.output ?? defaultOutput(env.now(), opts.backend);
  const script =
    opts.backend === 'bpftrace'
      ? bpftraceScript({
          functions: facts.functions,
          events: facts.events,
          model: facts.model,
          rwsemAddressFilter: bpftraceRwsemFilter(plan.rwsemFilter),
          contention: opts.allContention ? 'all' : 'luo',
        })
      : null;

  if (opts.dryRun) {
    printDryRun(plan, io, env, output, command, opts, script);
    return 0;
  }
  preflight(io, plan, env, false, opts.backend);
  // The bpftrace script filters lock contention itself (tasks inside LUO functions).
  for (const w of plan.warnings) if (opts.backend === 'ftrace' || !w.startsWith('lock contention')) env.stderr(`luotrace record: warning: ${w}\n`);
  const unhook = handleSignals(ctl);
  let r: RunResult;
  try {
    if (opts.backend === 'ftrace') {
      r = await recordFtrace(io, plan, ctl, { output, command, now: env.now, stderr: env.stderr, tty: env.tty, verbose: opts.verbose });
    } else {
      r = await recordBpftrace(plan, ctl, { output, command, script: script as string, bpftrace: opts.bpftrace, now: env.now, stderr: env.stderr, tty: env.tty });
    }
  } finally {
    unhook();
  }
  env.stderr(`luotrace record: ${output}: ${r.lines} lines, ${formatBytes(r.bytes)}, ${r.lost} events lost${r.stoppedBy ? ` (stopped by ${r.stoppedBy})` : ''}\n`);
  if (r.command) {
    const c = r.command;
    if (c.error) env.stderr(`luotrace record: ${c.error}\n`);
    else if (c.code !== 0) env.stderr(`luotrace record: the command ended with ${c.signal ?? `exit code ${c.code}`}\n`);
  }
  if (r.restoreFailures.length > 0) {
    env.stderr(`luotrace record: tracefs NOT fully restored; undo by hand:\n${r.restoreFailures.map((f) => `  ${f}\n`).join('')}`);
    return 3;
  }
  if (r.error) throw new RecordError(`${r.error}${opts.backend === 'ftrace' ? ' (tracefs restored)' : ''}`);
  return r.command?.error ? 2 : 0;
}

function printDryRun(plan: Plan, io: TracefsIO, env: RecordEnv, output: string, command: string[] | null, opts: RecordCliOptions, script: string | null): void {
  const out: string[] = [];
  const f = plan.facts;
  out.push(`luotrace record --dry-run (${opts.backend} backend): nothing is written; this is what would be done.`);
  out.push(`tracefs: ${io.root}`);
  out.push(...headerLines(plan, { backend: opts.backend, command, started: env.now() }).map((l) => l.replace(/^# /, '  ')));
  for (const w of plan.warnings) out.push(`warning: ${w}`);
  if (opts.backend === 'bpftrace') {
    out.push('', `bpftrace script (written to a temporary file, run as: ${opts.bpftrace} SCRIPT > ${output}):`, '', script as string);
    env.stdout(`${out.join('\n')}\n`);
    return;
  }
  out.push('', `setup (${plan.steps.length} writes, in order; each line: what, then why):`);
  const dry = new DryRunTracefs(io);
  const session = new TracefsSession(dry, (l) => out.push(`  ${l}`));
  for (const s of plan.steps) {
    try {
      session.apply(s);
    } catch (e) {
      out.push(`  ${describeStep(s)}    # would fail: ${errorText(e)}`);
    }
  }
  out.push('', `record: write the header above to ${output}, then stream ${plan.base}trace_pipe into it ${command ? `while running: ${command.join(' ')}` : 'until Ctrl-C'}`);
  out.push(`stop: write ${plan.base}tracing_on: "0", read what is left in trace_pipe`);
  out.push('', 'restore (on normal exit, Ctrl-C, SIGTERM, or a failure at any setup step; newest first):');
  session.restore();
  env.stdout(`${out.join('\n')}\n`);
}

export function registerRecord(program: Command): void {
  program
    .command('record')
    .description('record a live update with the LUO probes this kernel has (ftrace or bpftrace); needs root')
    .argument('[command...]', 'command to run while recording (after --); without one, record until Ctrl-C')
    .option('-o, --output <file>', 'output file (default luotrace-BACKEND-DATE.txt)')
    .addOption(new Option('--backend <backend>', 'ftrace (tracefs, kprobe events) or bpftrace').choices(['ftrace', 'bpftrace']).default('ftrace'))
    .option('--dry-run', 'print every tracefs write (and the restoring writes), or the bpftrace script, and exit')
    .option('--tracefs <dir>', 'tracefs mount point (default: found automatically)')
    .option('--kallsyms <file>', 'symbol table for the LUO rwsem addresses and lock names (default /proc/kallsyms)')
    .option('--instance <name>', 'tracing instance to create', DEFAULT_SETTINGS.instance)
    .option('--top-level', 'use the top-level buffer instead of an instance (its settings are saved and put back)')
    .option('--clock <clock>', 'trace_clock (mono matches bpftrace nsecs)', DEFAULT_SETTINGS.clock)
    .option('--buffer-size-kb <kb>', 'per-CPU buffer size', positiveInt, DEFAULT_SETTINGS.bufferSizeKb)
    .option('--contention-filter <expr>', 'ftrace filter for lock:contention_* (e.g. \'comm == "luo_ctl"\')')
    .option('--all-contention', 'bpftrace: every lock contention event, not only those inside LUO functions')
    .option('--no-lockdep', 'do not enable lock:lock_acquire/lock_release (lockdep kernels)')
    .option('--fprobe', 'use fprobe events (dynamic_events, f:) instead of kprobes')
    .option('--bpftrace <path>', 'bpftrace binary', 'bpftrace')
    .option('-v, --verbose', 'print each tracefs write and each restoring write as it is made')
    .addHelpText(
      'after',
      '\nExamples:\n  sudo luotrace record -o lu.txt -- luo_ctl hold s1:3:1\n  sudo luotrace record --backend bpftrace -o lu-bt.txt\n  luotrace record --dry-run\n\nThe tracefs state found at start is put back on every exit: normal, Ctrl-C, SIGTERM, or a failure during setup.',
    )
    .action(async (command: string[], opts: RecordCliOptions) => {
      try {
        const code = await runRecord(opts, command.length ? command : null);
        if (code !== 0) process.exitCode = code;
      } catch (e) {
        if (e instanceof RecordError) throw new InputError('record', e.message);
        throw e;
      }
    });
}
