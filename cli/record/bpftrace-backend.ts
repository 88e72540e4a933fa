// `luotrace record --backend bpftrace`: run bpftrace with the script generated for this kernel
// (cli/record/bpftrace-script.ts), wait until it has attached (its BEGIN prints the start marker),
// run the command or wait for Ctrl-C, then SIGINT bpftrace so its END block runs, and wait for it.
//
// bpftrace writes straight into the output file (both streams: `Lost N events` is on stdout in 0.17,
// real captures, and on stderr since 0.24, docs/trace-formats.md §3.1; it prints whole lines). No pipe
// passes through luotrace: node makes pipes with socketpair(), which a kernel without CONFIG_NET does
// not have (the lab's tinyconfig kernel: `spawn ENOSYS`), and the capture then survives luotrace
// itself. luotrace follows the file to see the start marker and to count lines and lost events.
// bpftrace's own probes go away with the process (perf_event/bpf links), so nothing is written to
// tracefs here; what must not be left behind is a running bpftrace and the temporary script.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

const START_MARKER = 'luo-bpftrace-start';

/** Reads what bpftrace appended to the output file since the last call. */
class FileFollower {
  private fd: number;
  private pos: number;
  private readonly buf = Buffer.allocUnsafe(1 << 16);
  /** The last lines seen (for error messages), and whether the start marker was seen. */
  readonly tail: string[] = [];
  started = false;
  private partial = '';

  constructor(path: string, from: number) {
    this.fd = openSync(path, 'r');
    this.pos = from;
  }

  poll(onChunk: (b: Buffer) => void): void {
    for (;;) {
      const n = readSync(this.fd, this.buf, 0, this.buf.length, this.pos);
      if (n <= 0) return;
      this.pos += n;
      const chunk = Buffer.from(this.buf.subarray(0, n));
      onChunk(chunk);
      const lines = (this.partial + chunk.toString('utf8')).split('\n');
      this.partial = lines.pop() ?? '';
      for (const l of lines) {
        if (l.startsWith(START_MARKER)) this.started = true;
        if (l) {
          this.tail.push(l);
          if (this.tail.length > 5) this.tail.shift();
        }
      }
    }
  }

  close(): void {
    closeSync(this.fd);
  }
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
  let follower: FileFollower | null = null;
  let timer: NodeJS.Timeout | null = null;
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  try {
    const header = `${headerLines(plan, { backend: 'bpftrace', command: opts.command, started: opts.now() }).join('\n')}\n`;
    out.writeText(header);
    follower = new FileFollower(opts.output, Buffer.byteLength(header));
    const f = follower;
    const poll = () => f.poll((b) => out.count(b));
    child = spawn(opts.bpftrace, [scriptPath], { stdio: ['ignore', out.descriptor, out.descriptor] });
    const c = child;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: string }>((resolve) => {
      c.once('error', (e) =>
        resolve({ code: null, signal: null, error: (e as NodeJS.ErrnoException).code === 'ENOENT' ? `${opts.bpftrace} not found (install bpftrace, or give --bpftrace PATH)` : e.message }),
      );
      c.once('exit', (code, signal) => resolve({ code, signal }));
    });
    let ended: { code: number | null; signal: NodeJS.Signals | null; error?: string } | null = null;
    void exited.then((x) => (ended = x));
    timer = setInterval(poll, 200);
    // Wait for the start marker (bpftrace attached), its end, Ctrl-C, or the timeout.
    const deadline = Date.now() + (opts.attachTimeoutMs ?? 180_000);
    while (!f.started && ended === null && !ctl.stopped && Date.now() < deadline) {
      await sleep(100);
      poll();
    }
    if (!f.started) {
      if (ended === null && !ctl.stopped) throw new Error(`bpftrace did not attach within ${(opts.attachTimeoutMs ?? 180_000) / 1000} s`);
      if (ended !== null) {
        const x = ended as { code: number | null; signal: NodeJS.Signals | null; error?: string };
        poll();
        throw new Error(x.error ?? `bpftrace exited before attaching (${x.signal ?? `exit ${x.code}`}): ${f.tail.join(' | ')}`);
      }
    } else {
      progress.start();
      if (opts.command) {
        const run = runCommand(opts.command, ctl);
        await ctl.wait();
        if (ctl.reason !== 'command-exited') await Promise.race([run.done, sleep(5000)]);
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
    const end = await Promise.race([exited, sleep(opts.exitTimeoutMs ?? 60_000).then(() => null)]);
    if (end === null) {
      c.kill('SIGKILL');
      error = 'bpftrace did not exit after SIGINT; killed';
      await exited;
    }
    poll();
  } catch (e) {
    error = (e as Error).message;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  } finally {
    if (timer) clearInterval(timer);
    progress.stop();
    follower?.close();
    process.off('exit', killOnExit);
    rmSync(dir, { recursive: true, force: true });
  }
  out.writeText(`# luotrace: stopped ${opts.now().toISOString()} by ${ctl.reason ?? 'error'}; ${out.lines} lines, ${out.bytes} bytes, ${out.lost} events lost${error ? `; error: ${error}` : ''}\n`);
  out.close();
  return { ok: error === null, error, restoreFailures: [], command, lines: out.lines, bytes: out.bytes, lost: out.lost, stoppedBy: ctl.reason };
}
