#!/usr/bin/env node
// luotrace: what happened during each live update, from kernel traces.
// Entry point: builds the commander program and maps every failure to one line on stderr and a
// documented exit code (0 ok, 1 a check or threshold failed, 2 unusable input or usage, 3 bug).
import { Readable, type Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { Command, CommanderError } from 'commander';
import { describeFsError, InputError } from '../parsers/input.js';
import { registerAnalyze, runAnalyze } from './analyze.js';
import { registerCheck, ResultFailure } from './check.js';
import { registerDiff } from './diff.js';
import { registerEvents } from './events.js';
import { registerExport } from './export.js';
import { registerFleet } from './fleet.js';
import { registerMerge } from './merge.js';
import { registerRecord } from './record.js';
import { registerSchema } from './schema.js';
import { TOOL_VERSION } from '../analyses/version.js';
import { addTuiOptions, registerTui, runTui, type TuiOptions } from './tui.js';
import { visible } from './visible.js';

export const EXIT = { ok: 0, failed: 1, input: 2, internal: 3, interrupted: 130 } as const;

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('luotrace')
    .description(
      'Explain Live Update Orchestrator (LUO) runs from kernel traces: sessions, module pin windows,\n' +
        'refcount balance and rwsem contention. Reads ftrace text (trace, trace_pipe, trace-cmd report,\n' +
        'function_graph), console/dmesg logs with tp_printk lines, bpftrace text and -f json, CSV and\n' +
        'perf script; .gz inputs are decompressed. `record` captures a live update itself.',
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 success, 1 a check or threshold failed, 2 unusable input or bad usage, 3 internal error,\n130 interrupted (Ctrl-C).',
    )
    .version(TOOL_VERSION, '-V, --version', 'print the luotrace version')
    .showHelpAfterError('(run luotrace --help for usage)')
    .exitOverride()
    // Program options only before a command name, so `analyze --format x` keeps its own --format.
    .enablePositionalOptions()
    .argument('[files...]', 'without a command: open the TUI when stdout is a terminal, else print the `analyze` report');
  addTuiOptions(program).action(async (files: string[], opts: TuiOptions) => {
    if (files.length === 0) program.help({ error: true });
    if (process.stdout.isTTY) {
      await runTui(files, opts);
      return;
    }
    if (opts.follow) throw new InputError('--follow', 'needs a terminal (stdout is not one); use `luotrace tui --follow` in a terminal');
    await runAnalyze(files, { format: opts.format, kallsyms: opts.kallsyms, kernelModel: opts.kernelModel, threads: opts.threads });
  });
  registerAnalyze(program);
  registerEvents(program);
  registerCheck(program);
  registerDiff(program);
  registerExport(program);
  registerFleet(program);
  registerMerge(program);
  registerSchema(program);
  registerRecord(program);
  registerTui(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    // A command may end with a documented non-zero code without an exception (record: 3 = not restored).
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      return e.exitCode === 0 ? EXIT.ok : EXIT.input;
    }
    if (e instanceof ResultFailure) {
      // `check` found a violated rule, `diff` a regression: the command already printed why.
      return EXIT.failed;
    }
    if (e instanceof InputError) {
      process.stderr.write(`luotrace: ${visible(e.oneLine)}\n`);
      return EXIT.input;
    }
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`luotrace: internal error: ${visible(msg)}\n`);
    if (process.env.LUOTRACE_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
    return EXIT.internal;
  }
}

/** The standard streams and environment of one in-process run (runMain). */
export interface MainIo {
  stdout: Writable;
  stderr: Writable;
  /** What `-` reads; default: an empty stream, as for a process started with its stdin closed. */
  stdin?: Readable;
  /** Variables set for the run over the process' own (undefined: unset). */
  env?: Record<string, string | undefined>;
}

let runQueue: Promise<unknown> = Promise.resolve();

/**
 * The CLI run inside this process (tests, embedding): `args` as after `luotrace` on a command line;
 * returns the exit code the process would end with. The commands write to process.stdout and
 * process.stderr and read process.stdin, process.env and process.exitCode, so for the duration of a
 * run those are lent to them and restored afterwards; runs therefore take turns. What only the bin
 * does (signals, EPIPE, process.exit, the heap flag) is left out.
 */
export function runMain(args: string[], io: MainIo): Promise<number> {
  const run = runQueue.then(() => withStdio(io, () => main(['node', 'luotrace', ...args])));
  runQueue = run.catch(() => {});
  return run;
}

const STREAMS = ['stdout', 'stderr', 'stdin'] as const;

async function withStdio<T>(io: MainIo, fn: () => Promise<T>): Promise<T> {
  const streams = STREAMS.map((k) => [k, Object.getOwnPropertyDescriptor(process, k)] as const);
  const env = Object.keys(io.env ?? {}).map((k) => [k, process.env[k]] as const);
  const exitCode = process.exitCode;
  const lent = { stdout: io.stdout, stderr: io.stderr, stdin: io.stdin ?? Readable.from([]) };
  for (const k of STREAMS) Object.defineProperty(process, k, { value: lent[k], configurable: true, enumerable: true, writable: true });
  for (const [k, v] of Object.entries(io.env ?? {})) setEnv(k, v);
  process.exitCode = undefined;
  try {
    return await fn();
  } finally {
    for (const [k, d] of streams) {
      if (d) Object.defineProperty(process, k, d);
      else delete (process as unknown as Record<string, unknown>)[k];
    }
    for (const [k, v] of env) setEnv(k, v);
    process.exitCode = exitCode;
  }
}

function setEnv(key: string, value: string | undefined): void {
  if (value === undefined) delete process.env[key];
  else process.env[key] = value;
}

// Run when executed directly (not when imported by tests).
const invoked = process.argv[1] ?? '';
if (/[\\/](main\.js|luotrace)$/.test(invoked) || invoked.endsWith('/cli/main.ts')) {
  // The analyses keep ~50-120 MB live, but V8 grows the heap up to 4x the live size while a
  // long read allocates fast: a 2 GB trace peaked at 373 MB RSS. A 1.3x growth factor keeps it
  // near 200 MB at about the same speed (npm run bench). A user's own --heap-growing-percent wins.
  if (!process.execArgv.some((a) => a.startsWith('--heap-growing-percent')) && !/--heap-growing-percent/.test(process.env.NODE_OPTIONS ?? '')) {
    setFlagsFromString('--heap-growing-percent=30');
  }
  // The reader of our output went away (`luotrace ... | head`): stop quietly, as Unix tools do.
  // Any other write error (a full disk, EIO) means the output is incomplete: a CI job must not
  // see exit 0 with a truncated report.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT.ok);
    process.stderr.write(`luotrace: cannot write to standard output: ${describeFsError(e)}\n`);
    process.exit(EXIT.input);
  });
  // Ctrl-C during a long analysis: one line and the conventional 128+SIGINT status, no stack.
  // A command with its own SIGINT handling (`record` must restore tracefs first) takes over.
  process.on('SIGINT', () => {
    if (process.listenerCount('SIGINT') > 1) return;
    process.stderr.write('luotrace: interrupted\n');
    process.exit(EXIT.interrupted);
  });
  process.on('unhandledRejection', (e) => {
    process.stderr.write(`luotrace: internal error: ${visible(e instanceof Error ? e.message : String(e))}\n`);
    process.exit(EXIT.internal);
  });
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
