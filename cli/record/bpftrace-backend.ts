// `luotrace record --backend bpftrace`: run bpftrace with the script generated for this kernel
// (cli/record/bpftrace-script.ts), wait until it has attached (its BEGIN prints the start marker),
// run the command or wait for Ctrl-C, then SIGINT bpftrace so its END block runs, and wait for it.
//
// bpftrace's own probes go away with the process (perf_event/bpf links), so nothing is written to
// tracefs here; what must not be left behind is a running bpftrace and the temporary script. Both
// of bpftrace's streams go to the output file, line by line: `Lost N events` is on stdout in 0.17
// (real captures) and on stderr since 0.24 (trace-formats.md §3.1).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { type CommandResult, OutputFile, Progress, runCommand, type StopController } from './lifecycle.js';
import type { Plan } from './plan.js';
import { headerLines } from './plan.js';
import type { RunResult } from './ftrace-backend.js';

export interface BpftraceRunOptions {
  output: string;
  command: string[] | null;
  script: string;
  bpftrace: string;
  now: () => Date;
  stderr: (s: string) => void;
  tty: boolean;
  /** How long bpftrace may take to attach (it took ~30 s under QEMU/TCG in the lab, real README §5). */
  attachTimeoutMs?: number;
  exitTimeoutMs?: number;
}

/** Line-wise copy of a stream into the output file, so stdout and stderr never interleave mid-line. */
function pipeLines(stream: Readable, out: OutputFile, onLine: (line: string) => void): Promise<void> {
  let carry = '';
  return new Promise((resolve) => {
    stream.on('data', (chunk: Buffer) => {
      const text = carry + chunk.toString('utf8');
      const last = text.lastIndexOf('\n');
      if (last < 0) {
        carry = text;
        return;
      }
      carry = text.slice(last + 1);
      const whole = text.slice(0, last + 1);
      out.data(Buffer.from(whole));
      for (const l of whole.split('\n')) if (l) onLine(l);
    });
    stream.on('end', () => {
      if (carry) {
        out.data(Buffer.from(`${carry}\n`));
        onLine(carry);
      }
      resolve();
    });
  });
}

export async function recordBpftrace(plan: Plan, ctl: StopController, opts: BpftraceRunOptions): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'luotrace-'));
  const scriptPath = join(dir, 'luotrace.bt');
  writeFileSync(scriptPath, opts.script);
  const out = new OutputFile(opts.output);
  const progress = new Progress(out, opts.stderr, opts.tty);
  let child: ChildProcess | null = null;
  const killOnExit = () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  let error: string | null = null;
  let command: CommandResult | null = null;
  const stderrTail: string[] = [];
  try {
    out.writeText(`${headerLines(plan, { backend: 'bpftrace', command: opts.command, started: opts.now() }).join('\n')}\n`);
    let attached!: () => void;
    const attachedP = new Promise<void>((r) => (attached = r));
    const onLine = (l: string) => {
      if (l.startsWith('luo-bpftrace-start')) attached();
    };
    child = spawn(opts.bpftrace, [scriptPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    const c = child;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: string }>((resolve) => {
      c.once('error', (e) => resolve({ code: null, signal: null, error: (e as NodeJS.ErrnoException).code === 'ENOENT' ? `${opts.bpftrace} not found (install bpftrace, or give --bpftrace PATH)` : e.message }));
      c.once('exit', (code, signal) => resolve({ code, signal }));
    });
    const streams = Promise.all([
      pipeLines(c.stdout as Readable, out, onLine),
      pipeLines(c.stderr as Readable, out, (l) => {
        onLine(l);
        stderrTail.push(l);
        if (stderrTail.length > 5) stderrTail.shift();
      }),
    ]);
    const timeout = opts.attachTimeoutMs ?? 180_000;
    const first = await Promise.race([
      attachedP.then(() => 'attached' as const),
      exited.then(() => 'exited' as const),
      ctl.wait().then(() => 'stopped' as const),
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeout).unref()),
    ]);
    if (first === 'exited') {
      const x = await exited;
      await streams;
      throw new Error(x.error ?? `bpftrace exited before attaching (${x.signal ?? `exit ${x.code}`}): ${stderrTail.join(' | ')}`);
    }
    if (first === 'timeout') throw new Error(`bpftrace did not attach within ${timeout / 1000} s`);
    if (first === 'attached') {
      progress.start();
      if (opts.command) {
        const run = runCommand(opts.command, ctl);
        await ctl.wait();
        if (ctl.reason !== 'command-exited') await Promise.race([run.done, new Promise((r) => setTimeout(r, 5000))]);
        if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
        command = await run.done;
      } else {
        opts.stderr('recording until Ctrl-C\n');
        await Promise.race([ctl.wait(), exited]);
        if (!ctl.stopped) error = 'bpftrace ended on its own';
      }
    }
    // SIGINT: bpftrace runs END, prints its maps and exits.
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGINT');
    const end = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), opts.exitTimeoutMs ?? 60_000).unref())]);
    if (end === null) {
      c.kill('SIGKILL');
      error = 'bpftrace did not exit after SIGINT; killed';
      await exited;
    }
    await streams;
  } catch (e) {
    error = (e as Error).message;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  } finally {
    progress.stop();
    process.off('exit', killOnExit);
    rmSync(dir, { recursive: true, force: true });
  }
  out.writeText(`# luotrace: stopped ${opts.now().toISOString()} by ${ctl.reason ?? 'error'}; ${out.lines} lines, ${out.bytes} bytes, ${out.lost} events lost${error ? `; error: ${error}` : ''}\n`);
  out.close();
  return { ok: error === null, error, restoreFailures: [], command, lines: out.lines, bytes: out.bytes, lost: out.lost, stoppedBy: ctl.reason };
}
