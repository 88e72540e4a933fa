#!/usr/bin/env node
// luotrace: what happened during each live update, from kernel traces.
// Entry point: builds the commander program and maps every failure to one line on stderr and a
// documented exit code (0 ok, 1 a check or threshold failed, 2 unusable input or usage, 3 bug).
import { setFlagsFromString } from 'node:v8';
import { Command, CommanderError } from 'commander';
import { InputError } from '../parsers/input.js';
import { registerAnalyze, runAnalyze } from './analyze.js';
import { registerCheck, ResultFailure } from './check.js';
import { registerDiff } from './diff.js';
import { registerEvents } from './events.js';
import { registerExport } from './export.js';
import { registerFleet } from './fleet.js';
import { registerMerge } from './merge.js';
import { registerRecord } from './record.js';
import { registerSchema } from './schema.js';
import { TOOL_VERSION } from './version.js';
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
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT.ok);
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
