// `luotrace tui FILE...` (and `luotrace FILE...` on a terminal): the interactive explorer. Loads the
// analysis with a progress screen (drawn before Ink has loaded, see tui/splash.ts), then lets the
// user walk from a verdict down to the raw lines that prove it. `--follow` streams one growing file or pipe (trace_pipe) and keeps the screens up
// to date with bounded memory.
import { openSync, promises as fsp } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { ReadStream } from 'node:tty';
import type { Command } from 'commander';
import { describeFsError, InputError } from '../parsers/input.js';
import type { AnalyzeOptions } from './analyze.js';
import { formatOption, threadsOption } from './options.js';
import { followFile, LIVE_KEEP_LINES, loadFiles, type TuiModel } from './tui/model.js';
import { showSplash } from './tui/splash.js';

export interface TuiOptions extends Pick<AnalyzeOptions, 'format' | 'kallsyms' | 'kernelModel' | 'threads'> {
  follow?: boolean;
  keepLines?: string;
}

/** NO_COLOR (https://no-color.org): set and not empty means no colors. */
export function colorsOff(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.NO_COLOR !== undefined && env.NO_COLOR !== '';
}

/** The keyboard: stdin when it is a terminal, else the controlling terminal (stdin may carry the trace). */
function keyboard(stdinCarriesTrace: boolean): NodeJS.ReadStream | null {
  if (process.stdin.isTTY && !stdinCarriesTrace) return process.stdin;
  try {
    return new ReadStream(openSync('/dev/tty', 'r')) as unknown as NodeJS.ReadStream;
  } catch {
    return null;
  }
}

export function addTuiOptions(cmd: Command): Command {
  return cmd
    .option('--follow', 'follow one growing file or pipe (e.g. /sys/kernel/tracing/trace_pipe): screens update as events arrive')
    .option('--keep-lines <n>', `with --follow: raw lines kept for the Events screen (older ones are dropped)`, String(LIVE_KEEP_LINES))
    .option('--kallsyms <file>', 'a copy of /proc/kallsyms or System.map to name raw addresses')
    .option('--kernel-model <model>', 'force the LUO code version: pre-series, v1, merged, later')
    .addOption(formatOption())
    .addOption(threadsOption());
}

/**
 * SIGTERM, SIGHUP and a SIGINT from outside (Ctrl-C itself arrives as a key in raw mode) while the
 * screen is ours: give the terminal back, then exit as the rest of the CLI does (128 + signal).
 * Ink's own signal-exit hook would only show the cursor, and a SIGINT would be ignored (cli/main.ts
 * leaves SIGINT to a command that listens for it).
 */
function onTerminalSignals(restore: () => void): () => void {
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((sig) => {
    const h = () => {
      restore();
      if (sig === 'SIGINT') process.stderr.write('luotrace: interrupted\n');
      process.exit(128 + osConstants.signals[sig]);
    };
    process.on(sig, h);
    return () => process.off(sig, h);
  });
  return () => handlers.forEach((off) => off());
}

/**
 * The terminal for Ink, its first write starting with clearing the screen: clearing before render()
 * would leave the screen blank while Ink lays out its first frame (~0.1 s, more on a busy machine).
 */
function clearedOnFirstWrite(out: NodeJS.WriteStream): NodeJS.WriteStream {
  let first = true;
  const write = (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    first = false;
    const data = typeof chunk === 'string' ? `\x1b[H\x1b[2J${chunk}` : Buffer.concat([Buffer.from('\x1b[H\x1b[2J'), chunk]);
    return (out.write as (...a: unknown[]) => boolean)(data, ...rest);
  };
  return new Proxy(out, {
    get(target, prop) {
      if (prop === 'write' && first) return write;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

export async function runTui(files: string[], opts: TuiOptions): Promise<void> {
  const stdinTrace = files.includes('-');
  const follow = Boolean(opts.follow) || (stdinTrace && files.length === 1);
  if (follow && files.length !== 1) throw new InputError('--follow', 'follows exactly one file or pipe');
  const keepLines = Number(opts.keepLines ?? LIVE_KEEP_LINES);
  if (!Number.isInteger(keepLines) || keepLines < 100) throw new InputError('--keep-lines', `not a line count of at least 100: ${opts.keepLines}`);
  // Unusable inputs fail here, as one line and exit 2, before the screen is taken over.
  for (const f of files) {
    if (f === '-') continue;
    try {
      const st = await fsp.stat(f);
      if (st.isDirectory()) throw new InputError(f, 'is a directory (give the trace files inside it)');
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(f, describeFsError(e));
    }
  }
  const keys = keyboard(stdinTrace);
  if (!keys) throw new InputError('tui', 'needs a terminal for the keyboard (stdin is not one and /dev/tty cannot be opened); use `luotrace analyze`');
  const model: TuiModel = follow ? followFile(files[0], { ...opts, keepLines }) : loadFiles(files, opts);
  const out = process.stdout;
  const fullScreen = Boolean(out.isTTY);
  // The alternate screen keeps the user's scrollback as it was when they quit.
  if (fullScreen) out.write('\x1b[?1049h\x1b[H\x1b[2J');
  const onResize = () => out.write('\x1b[2J\x1b[H');
  if (fullScreen) out.on('resize', onResize);
  let ink: { unmount(): void; cleanup(): void } | null = null;
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    model.stop();
    ink?.unmount();
    ink?.cleanup();
    if (fullScreen) {
      out.off('resize', onResize);
      out.write('\x1b[?25h\x1b[?1049l');
    }
    if (keys !== process.stdin) keys.destroy();
    // The splash left stdin flowing (see tui/splash.ts): paused, it no longer holds the process.
    else keys.pause();
  };
  const unhook = onTerminalSignals(restore);
  try {
    // Ink and React take ~0.6 s of CPU to load (2-3 s on a busy machine): only the TUI pays for
    // them, not analyze or the other commands, and only once the report is there, so they take no
    // CPU from the read. Until then the splash draws the screens (the pages are light) and takes the keys.
    let quitted = false;
    let quit = (): void => {};
    const quitEarly = new Promise<null>((resolve) => (quit = () => ((quitted = true), resolve(null))));
    const splash = fullScreen && !follow ? showSplash(model, out, keys, { noColor: colorsOff(), onQuit: quit }) : null;
    if (splash) {
      void import('./tui/layout.js').then(({ buildScreen }) => splash.useScreens((nav, w, h) => buildScreen(model, nav, w, h)));
      await Promise.race([model.settled, quitEarly]);
    }
    const loaded = quitted ? null : await Promise.race([Promise.all([import('ink'), import('./tui/app.js')]), quitEarly]);
    const hand = loaded && splash ? splash.handover() : null;
    if (!loaded) splash?.stop();
    if (loaded) {
      const [{ render }, { appElement }] = loaded;
      // Ink draws from the cursor, on a clean screen where the splash was.
      const stdout = splash ? clearedOnFirstWrite(out) : out;
      const app = render(appElement({ model, noColor: colorsOff(), initial: hand?.nav }), { stdout, stdin: keys, exitOnCtrlC: true, patchConsole: false });
      hand?.release();
      ink = app;
      await app.waitUntilExit();
    }
  } finally {
    unhook();
    restore();
    // A read blocked on trace_pipe cannot be cancelled; do not let it hold the process.
    if (follow) setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
  }
  if (model.failure) throw model.failure;
}

export function registerTui(program: Command): void {
  const cmd = program
    .command('tui')
    .description('explore the analysis on screen: verdicts, sessions, modules, locks, raw events (the default on a terminal)')
    .argument('<files...>', 'trace files of one run, or - for stdin (read as a live stream)');
  addTuiOptions(cmd).action(async (files: string[], opts: TuiOptions) => {
    await runTui(files, opts);
  });
}
