// Run the CLI as a user would, in two ways with the same result shape:
// - runCli: in this process (cli/main.ts runMain, from the TypeScript source): no Node start-up
//   (~0.4 s a run), and no build needed. For everything where the process itself is not the point.
// - spawnCli: the shipped CLI (dist/bundle/main.js, the package's bin, bundled by `npm test` before
//   vitest) in a child process, for what only a process shows: signals, EPIPE, exit on a closed
//   stdout, node flags (heap limits), worker threads, real stdin pipes.
//   test/cli/process.slow.test.ts checks both give the same bytes.
import { spawn } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import { runMain } from '../../cli/main.js';
import { ROOT } from '../helpers.js';

/** The shipped CLI: the bundle `npm run build` makes (package.json bin), as a user runs it. */
export const CLI = `${ROOT}dist/bundle/main.js`;

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  stdin?: string | Buffer | NodeJS.ReadableStream;
  env?: NodeJS.ProcessEnv;
}

/** Both runners color nothing (NO_COLOR), whatever the environment of the test run. */
const TEST_ENV = { NO_COLOR: '1' };

class Collector extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    this.chunks.push(chunk);
    done();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString();
  }
}

export async function runCli(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const stdout = new Collector();
  const stderr = new Collector();
  const stdin = opts.stdin === undefined ? undefined : typeof opts.stdin === 'string' || Buffer.isBuffer(opts.stdin) ? Readable.from([Buffer.from(opts.stdin)]) : (opts.stdin as Readable);
  const code = await runMain(args, { stdout, stderr, stdin, env: { ...TEST_ENV, ...opts.env } });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

export function spawnCli(args: string[], opts: RunOptions & { nodeArgs?: string[] } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...TEST_ENV, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    child.stdin.on('error', () => {});
    if (opts.stdin === undefined) child.stdin.end();
    else if (typeof opts.stdin === 'string' || Buffer.isBuffer(opts.stdin)) child.stdin.end(opts.stdin);
    else opts.stdin.pipe(child.stdin);
  });
}
