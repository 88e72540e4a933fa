// The in-process runner (runCli, over cli/main.ts runMain): a run leaves the process as it found it
// (its streams, environment and exit code are lent to the run only), and runs started together take
// turns, each with its own output. That both runners print the same bytes: process.slow.test.ts.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sample } from '../helpers.js';
import { runCli } from './run.js';

const tmp = mkdtempSync(join(tmpdir(), 'luotrace-run-'));
const state = () => ({ stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, noColor: process.env.NO_COLOR, exitCode: process.exitCode });

describe('runCli', () => {
  it('leaves the process as it found it: streams, environment, exit code', async () => {
    const before = state();
    // fleet ends with process.exitCode = 2 when a host is unusable: a junk host, in the main thread
    const dir = join(tmp, 'fleet');
    mkdirSync(dir);
    writeFileSync(join(dir, 'junk.txt'), 'not a trace at all\n');
    const r = await runCli(['fleet', '-j', '0', dir]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/junk/);
    expect(state()).toEqual(before);
    // the next run starts from exit code 0, not from the 2 the last one set
    expect((await runCli(['--version'])).code).toBe(0);
  });

  it('runs started together take turns, each with its own streams and environment', async () => {
    const abort = sample('real/abort/stage1/ftrace-main.txt.gz');
    const alone = [await runCli(['events', '--summary', abort]), await runCli(['nonsense-command'])];
    const together = await Promise.all([runCli(['events', '--summary', abort]), runCli(['nonsense-command'])]);
    expect(together).toEqual(alone);
    expect(alone[0].code).toBe(0);
    expect(alone[1].code).toBe(2);
    expect(alone[1].stderr).toMatch(/nonsense-command/);
  });
});
