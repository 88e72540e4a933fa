// Issue 15: the CLI's exit paths under hostile conditions, run as a user runs the binary.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ROOT, sample } from '../helpers.js';
import { CLI, runCli } from './run.js';

const tmp = mkdtempSync(join(tmpdir(), 'luotrace-hostile-exits-'));
const write = (name: string, data: string | Buffer) => {
  const f = join(tmp, name);
  writeFileSync(f, data);
  return f;
};

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

describe('eventless input (item 10)', () => {
  const capture = gunzipSync(readFileSync(sample('real/abort/stage1/ftrace-main.txt.gz'))).toString('latin1');
  const lines = capture.split('\n');
  const header = write('header-only.txt', `${lines.filter((l) => l.startsWith('#')).join('\n')}\n`);
  // The capture with old-Mac line ends: one "line" of 300 KB, no event in it.
  const crOnly = write('cr-only.txt', lines.slice(0, 2000).join('\r'));
  // One line over the reader's 1 MiB line cap (the 100 MB line, smaller): skipped as overlong.
  const oneLine = write('one-line.txt', `# tracer: nop\n${lines[20].repeat(Math.ceil((2 << 20) / lines[20].length))}`);

  it('analyze exits 2 with one line for each shape; check, diff, export and events agree', async () => {
    for (const f of [header, crOnly, oneLine]) {
      const r = await runCli(['analyze', f]);
      expect([r.code, r.stdout, r.stderr]).toEqual([2, '', expect.stringMatching(/^luotrace: \S+: no trace events in these inputs: nothing to analyze [^\n]*\n$/)]);
    }
    for (const args of [['analyze', '--json', header], ['check', header], ['diff', header, header], ['export', '--format', 'chrome-json', header], ['events', header]]) {
      const r = await runCli(args);
      expect({ args, code: r.code, stdout: r.stdout, lines: r.stderr.split('\n').length }).toEqual({ args, code: 2, stdout: '', lines: 2 });
    }
  });

  it('events --summary prints how each line was read, then exits 2', async () => {
    const r = await runCli(['events', '--summary', '--json', oneLine]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).lines.skipped).toEqual({ 'overlong-line': 1 });
    expect(r.stderr).toMatch(/^luotrace: \S+one-line\.txt: no trace events in these inputs: see the data-quality table of the summary\n$/);
  });
});

describe('output files after a write error (issue 15, small points)', () => {
  /** The CLI with its file size capped (SIGXFSZ ignored): writes past it fail with EFBIG, as a full disk fails them with ENOSPC. */
  function runCapped(args: string[], kib = 8): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve, reject) => {
      const quoted = args.map((a) => `'${a}'`).join(' ');
      const child = spawn('bash', ['-c', `trap '' XFSZ; ulimit -f ${kib}; exec '${process.execPath}' '${CLI}' ${quoted}`], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
    });
  }

  it('a chrome-json -o file luotrace created is removed; one line, exit 2', async () => {
    const out = join(tmp, 'trace.json');
    const r = await runCapped(['export', '--format', 'chrome-json', '-o', out, ABORT]);
    expect([r.code, r.stderr]).toEqual([2, `luotrace: ${out}: cannot write: EFBIG (the partial file was removed)\n`]);
    expect(existsSync(out)).toBe(false);
  });

  it('CSV tables: the table being written is removed, the complete ones stay', async () => {
    const dir = join(tmp, 'csv');
    const r = await runCapped(['export', '--format', 'csv', '-o', dir, ABORT], 1);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^luotrace: \S+\.csv: cannot write: EFBIG \(the partial file was removed\)\n$/);
    const failed = /\/(\w+\.csv):/.exec(r.stderr)![1];
    expect(readdirSync(dir)).not.toContain(failed);
    expect(readdirSync(dir).length).toBeGreaterThan(0);
    for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f), 'utf8').endsWith('\n')).toBe(true);
  });

  it('a file that was there before is not removed (luotrace did not create it); the error says it is incomplete', async () => {
    const out = write('existing.json', '{}');
    const r = await runCapped(['export', '--format', 'chrome-json', '-o', out, ABORT]);
    expect([r.code, r.stderr]).toEqual([2, `luotrace: ${out}: cannot write: EFBIG\n`]);
    expect(existsSync(out)).toBe(true);
  });
});
