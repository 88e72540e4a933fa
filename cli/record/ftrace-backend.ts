// `luotrace record --backend ftrace`: apply the plan step by step, stream the instance's trace_pipe
// into the output file while the command runs (or until Ctrl-C), then put tracefs back.
//
// Restoration is the point of this file: the journal (cli/record/tracefs.ts) is undone after a
// normal end, after SIGINT/SIGTERM, and after a failure at any setup step; a signal that arrives
// during setup stops it at the next step. trace_pipe is read with O_NONBLOCK in a timer, so
// stopping never waits on a blocked read (a blocking read would hold a libuv thread until the next
// event), and it is closed before the instance is removed (rmdir fails while a reader is open).
import { closeSync, constants as FS, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { Plan } from './plan.js';
import { headerLines } from './plan.js';
import { type CommandResult, OutputFile, Progress, runCommand, type StopController } from './lifecycle.js';
import { errorText, type TracefsIO, TracefsSession, TracefsStepError } from './tracefs.js';

export interface FtraceRunOptions {
  output: string;
  command: string[] | null;
  now: () => Date;
  stderr: (s: string) => void;
  tty: boolean;
  /** Poll interval of trace_pipe. */
  pollMs?: number;
  /** Print each tracefs write (and each restoring write) as it is made. */
  verbose?: boolean;
}

export interface RunResult {
  ok: boolean;
  /** One-line reason when not ok. */
  error: string | null;
  /** tracefs changes that could not be undone (each one line), empty when fully restored. */
  restoreFailures: string[];
  command: CommandResult | null;
  lines: number;
  bytes: number;
  lost: number;
  stoppedBy: string | null;
}

const READ_CHUNK = 1 << 16;

export async function recordFtrace(io: TracefsIO, plan: Plan, ctl: StopController, opts: FtraceRunOptions): Promise<RunResult> {
  const session = new TracefsSession(io, opts.verbose ? (l) => opts.stderr(`luotrace record: ${l}\n`) : null);
  let restored = false;
  const restore = (): string[] => {
    if (restored) return [];
    restored = true;
    return session.restore();
  };
  // Last resort: an exception we did not expect still puts tracefs back before the process ends.
  const onExit = () => restore();
  process.once('exit', onExit);

  const out = new OutputFile(opts.output);
  const progress = new Progress(out, opts.stderr, opts.tty);
  let pipeFd = -1;
  let timer: NodeJS.Timeout | null = null;
  let error: string | null = null;
  let command: CommandResult | null = null;
  try {
    out.writeText(`${headerLines(plan, { backend: 'ftrace', command: opts.command, started: opts.now() }).join('\n')}\n`);
    const setup = plan.steps.slice(0, -1);
    const start = plan.steps[plan.steps.length - 1];
    for (const step of setup) {
      if (ctl.stopped) throw new Error(`stopped by ${ctl.reason} during setup`);
      session.apply(step);
    }
    if (ctl.stopped) throw new Error(`stopped by ${ctl.reason} during setup`);
    try {
      pipeFd = openSync(join(io.root, `${plan.base}trace_pipe`), FS.O_RDONLY | FS.O_NONBLOCK);
    } catch (e) {
      throw new Error(`open ${plan.base}trace_pipe: ${errorText(e)}`);
    }
    session.apply(start);
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    const pump = (): boolean => {
      let got = false;
      for (;;) {
        let n: number;
        try {
          n = readSync(pipeFd, buf, 0, READ_CHUNK, null);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return got;
          throw e;
        }
        if (n <= 0) return got;
        got = true;
        out.data(Buffer.from(buf.subarray(0, n)));
      }
    };
    // Threads node starts later (libuv pool, V8 workers) are kept out of the trace as well.
    const notrace = plan.steps.some((st) => st.path === `${plan.base}set_event_notrace_pid`) ? `${plan.base}set_event_notrace_pid` : null;
    const excluded = new Set(plan.settings.selfTids);
    let ticks = 0;
    const excludeNewThreads = () => {
      if (!notrace || ticks++ % 10 !== 0) return;
      for (const t of readdirSync('/proc/self/task').map(Number)) {
        if (excluded.has(t)) continue;
        excluded.add(t);
        io.append(notrace, String(t));
      }
    };
    timer = setInterval(() => {
      try {
        excludeNewThreads();
        pump();
      } catch (e) {
        error = `reading trace_pipe: ${errorText(e)}`;
        ctl.stop('failure');
      }
    }, opts.pollMs ?? 100);
    progress.start();
    if (opts.command) {
      const run = runCommand(opts.command, ctl);
      await ctl.wait();
      if (ctl.reason !== 'command-exited') {
        // Ctrl-C or SIGTERM: give the command a moment to end on its own (it got the signal too).
        await Promise.race([run.done, new Promise((r) => setTimeout(r, 5000))]);
      }
      if (run.child.exitCode !== null || run.child.signalCode !== null) command = await run.done;
      else {
        run.child.kill('SIGKILL');
        command = await run.done;
      }
    } else {
      opts.stderr('recording until Ctrl-C\n');
      await ctl.wait();
    }
    clearInterval(timer);
    timer = null;
    if (opts.verbose) opts.stderr(`luotrace record: stopping (${ctl.reason})\n`);
    // Stop the buffer, then read what is left in it.
    try {
      io.write(`${plan.base}tracing_on`, '0');
    } catch {
      // restore() puts tracing_on back anyway
    }
    pump();
  } catch (e) {
    error = e instanceof TracefsStepError ? `setup failed at ${e.message}` : (e as Error).message;
  } finally {
    if (timer) clearInterval(timer);
    progress.stop();
    if (pipeFd >= 0) closeSync(pipeFd);
  }
  const restoreFailures = restore();
  process.off('exit', onExit);
  out.writeText(
    `# luotrace: stopped ${opts.now().toISOString()} by ${ctl.reason ?? 'error'}; ${out.lines} lines, ${out.bytes} bytes, ${out.lost} events lost` +
      `${error ? `; error: ${error}` : ''}${restoreFailures.length ? `; NOT restored: ${restoreFailures.join('; ')}` : '; tracefs restored'}\n`,
  );
  out.close();
  return {
    ok: error === null && restoreFailures.length === 0,
    error,
    restoreFailures,
    command,
    lines: out.lines,
    bytes: out.bytes,
    lost: out.lost,
    stoppedBy: ctl.reason,
  };
}
