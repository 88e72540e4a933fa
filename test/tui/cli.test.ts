// `luotrace FILE...` without a command, and `luotrace tui` errors: what a user sees when stdout is
// not a terminal (scripts, pipes, CI) and when the input cannot be used.
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/run.js';
import { CAPTURES } from './helpers.js';

describe('luotrace FILE... (no command)', () => {
  it('prints the analyze report when stdout is not a terminal', async () => {
    const [plain, analyze] = await Promise.all([runCli(CAPTURES.lifecycle), runCli(['analyze', ...CAPTURES.lifecycle])]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('VERDICTS');
    expect(plain.stdout).toBe(analyze.stdout);
  });

  it('takes the TUI options before the files, and commands keep their own options', async () => {
    const [a, b] = await Promise.all([runCli(['--format', 'ftrace', ...CAPTURES.abort]), runCli(['analyze', '--format', 'ftrace', '--json', ...CAPTURES.abort])]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(JSON.parse(b.stdout).sources[0].detectedBy).toBe('--format');
  });

  it('without files prints the usage (with the tui command and the default) and exits 2', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: luotrace [options] [command] [files...]');
    expect(r.stderr).toMatch(/tui \[options\] <files\.\.\.>/);
    const h = await runCli(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('--follow');
  });

  it('--follow needs a terminal: one line, exit 2', async () => {
    const r = await runCli(['--follow', CAPTURES.abort[0]]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('luotrace: --follow: needs a terminal (stdout is not one); use `luotrace tui --follow` in a terminal');
  });
});

describe('luotrace tui: unusable input fails before the screen is taken', () => {
  it('a missing file', async () => {
    const r = await runCli(['tui', 'no-such-trace.txt']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('luotrace: no-such-trace.txt: no such file');
  });

  it('--follow with two files, or a silly --keep-lines', async () => {
    const a = await runCli(['tui', '--follow', ...CAPTURES.lifecycle.slice(0, 2)]);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('--follow: follows exactly one file or pipe');
    const b = await runCli(['tui', '--keep-lines', '5', CAPTURES.abort[0]]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('--keep-lines: not a line count of at least 100: 5');
  });
});
