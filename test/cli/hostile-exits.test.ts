// Issue 15: the CLI's exit paths under hostile conditions, run as a user runs the binary.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { CLI } from './run.js';

/** Run the CLI with its stdout on an already open file descriptor. */
function runToFd(args: string[], fd: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', fd, 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

const ABORT = 'samples/real/abort/stage1/ftrace-main.txt.gz';

describe('stdout write errors (item 7)', () => {
  it('a full disk on stdout: one line on stderr and exit 2, for every command', async () => {
    const fd = openSync('/dev/full', 'w');
    try {
      for (const args of [['analyze', '--json', ABORT], ['analyze', ABORT], ['events', ABORT], ['check', ABORT], ['schema', 'analyze']]) {
        const r = await runToFd(args, fd);
        expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 2, stderr: 'luotrace: cannot write to standard output: no space left on device\n' });
      }
    } finally {
      closeSync(fd);
    }
  });
});
