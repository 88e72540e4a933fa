// What both backends of `luotrace record` share: the stop controller (Ctrl-C, SIGTERM, end of the
// command), running the command (argv, never a shell), the output file with its header and
// footer, and the progress line.
import { formatBytes } from '../../analyses/format.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';

export type StopReason = 'SIGINT' | 'SIGTERM' | 'command-exited' | 'failure';

/** One place that knows whether and why recording must stop. Signal handlers call `stop()`. */
export class StopController {
  reason: StopReason | null = null;
  private waiters: Array<() => void> = [];
  private readonly onStop: Array<(r: StopReason) => void> = [];

  stop(reason: StopReason): void {
    if (this.reason !== null) return;
    this.reason = reason;
    for (const f of this.onStop) f(reason);
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  get stopped(): boolean {
    return this.reason !== null;
  }

  /** Resolves once stop() was called. */
  wait(): Promise<void> {
    if (this.reason !== null) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  whenStopped(f: (r: StopReason) => void): void {
    this.onStop.push(f);
  }
}

/**
 * Install SIGINT/SIGTERM handlers for the duration of a recording; returns the uninstaller.
 * While recording, Ctrl-C is the normal way to stop and must not end the process before tracefs is
 * put back. The program-wide SIGINT handler (cli/main.ts: exit 130) stands aside by itself while
 * another listener exists, so ours is added beside it, never swapped in: removing the last
 * listener closes node's signal watcher, and a Ctrl-C that arrived during the synchronous work
 * before (reading what the kernel offers takes seconds on a slow machine) but was not dispatched
 * yet is then dropped. The lab run under QEMU/TCG recorded forever after such a Ctrl-C.
 */
export function handleSignals(ctl: StopController): () => void {
  const onInt = () => ctl.stop('SIGINT');
  const onTerm = () => ctl.stop('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
}

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  error: string | null;
}

/**
 * Run the command as given (argv, no shell) with the terminal; stop the recording when it ends.
 * A SIGTERM to luotrace is passed on to it (Ctrl-C reaches it directly: same process group).
 */
export function runCommand(argv: string[], ctl: StopController): { child: ChildProcess; done: Promise<CommandResult> } {
  const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit', shell: false });
  ctl.whenStopped((r) => {
    if (r === 'SIGTERM' && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  const done = new Promise<CommandResult>((resolve) => {
    child.once('error', (e) => {
      resolve({ code: null, signal: null, error: `cannot run ${argv[0]}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : e.message}` });
      ctl.stop('command-exited');
    });
    child.once('exit', (code, signal) => {
      resolve({ code, signal, error: null });
      ctl.stop('command-exited');
    });
  });
  return { child, done };
}

/** The output file: header, data, footer; counts what went through it. */
export class OutputFile {
  private fd: number;
  bytes = 0;
  lines = 0;
  lost = 0;
  private tail = '';

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  writeText(text: string): void {
    if (text.length === 0) return;
    const b = Buffer.from(text);
    writeSync(this.fd, b);
  }

  /** The open file, for a child process to write into directly. */
  get descriptor(): number {
    return this.fd;
  }

  /** Trace data: written and counted. */
  data(chunk: Buffer): void {
    writeSync(this.fd, chunk);
    this.count(chunk);
  }

  /** Count trace data someone else wrote (events, bytes, `CPU:N [LOST n EVENTS]` / `Lost n events`). */
  count(chunk: Buffer): void {
    this.bytes += chunk.length;
    const text = this.tail + chunk.toString('utf8');
    let from = 0;
    for (;;) {
      const nl = text.indexOf('\n', from);
      if (nl < 0) break;
      const line = text.slice(from, nl);
      from = nl + 1;
      const lost = /^(?:CPU:\d+ \[LOST (\d+) EVENTS\]|Lost (\d+) events)/.exec(line);
      if (lost) this.lost += Number(lost[1] ?? lost[2]);
      else if (line.length > 0 && !line.startsWith('#')) this.lines++;
    }
    this.tail = text.slice(from);
  }

  close(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }
}


/** A progress line on a terminal, refreshed once a second; silent otherwise. */
export class Progress {
  private timer: NodeJS.Timeout | null = null;
  constructor(
    private readonly out: OutputFile,
    private readonly write: (s: string) => void,
    private readonly tty: boolean,
  ) {}
  start(): void {
    if (!this.tty) return;
    this.timer = setInterval(() => this.write(`\r${this.text()}   `), 1000);
    this.timer.unref();
  }
  text(): string {
    return `recording: ${this.out.lines} lines, ${formatBytes(this.out.bytes)}, ${this.out.lost} events lost`;
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.tty) this.write('\r');
  }
}
