// Ctrl-C during an analysis, and inputs that change while they are read.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from '../cli/run.js';

describe('signals and changing inputs', () => {
  it('SIGINT during analyze: one line, exit 130', async () => {
    const child = spawn(process.execPath, [CLI, 'analyze', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const line = '          insmod-315     [001] ...1.    82.118515: contention_begin: 00000000aa1b0ce8 (flags=SPIN|MUTEX)\n';
    let stop = false;
    let pushed = 0;
    const feeder = new Readable({
      read() {
        pushed++;
        if (!stop) this.push(line.repeat(1000));
      },
    });
    feeder.pipe(child.stdin);
    child.stdin.on('error', () => {});
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // Wait until the child is reading (back-pressure paces the feeder): its handler is installed
    // by then, however slowly the machine started it.
    const t0 = Date.now();
    while (pushed < 50 && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    stop = true;
    feeder.destroy();
    expect(code).toBe(130);
    expect(stderr).toBe('luotrace: interrupted\n');
  });

  it('SIGINT while a worker thread reads the file (--threads 2): one line, exit 130', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'luotrace-sigint-'));
    const f = join(dir, 'big.txt');
    const line = '          insmod-315     [001] ...1.    82.118515: contention_begin: 00000000aa1b0ce8 (flags=SPIN|MUTEX)\n';
    writeFileSync(f, line.repeat(400_000)); // 40 MB: seconds of reading
    const child = spawn(process.execPath, [CLI, 'analyze', '--threads', '2', '--progress', f], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // Interrupt once the worker's events have reached the analysis (its progress is printed).
    const t0 = Date.now();
    while (!stderr.includes('lines') && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(stderr).toContain('lines');
    expect(code).toBe(130);
    expect(stderr.endsWith('luotrace: interrupted\n')).toBe(true);
    expect(stderr).not.toMatch(/Error|at .*\.js/);
  });

  it('a file that grows while it is read is read to its end at that moment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'luotrace-grow-'));
    const f = join(dir, 'grow.txt');
    const line = '          insmod-315     [001] ...1.    82.118515: module_free: luo_demo\n';
    writeFileSync(f, line.repeat(200_000));
    const run = runCli(['events', '--summary', '--json', f]);
    appendFileSync(f, line.repeat(10));
    const r = await run;
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect([200_000, 200_010]).toContain(j.lines.events);
    expect(j.lines.total).toBe(j.lines.events);
  });
});
