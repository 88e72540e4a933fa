// `luotrace events`: NDJSON output, the --summary JSON contract, errors and exit codes.
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventJsonSchema } from '../../parsers/event.js';
import { EventsSummarySchema } from '../../cli/summary.js';
import { ROOT, sample } from '../helpers.js';
import { runCli } from './run.js';

const tmp = mkdtempSync(join(tmpdir(), 'luotrace-test-'));

describe('luotrace events', () => {
  it('prints schema-valid NDJSON, one event per line, with file and line', async () => {
    const r = await runCli(['events', sample('real/abort/stage1/ftrace-main.txt.gz')]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(792);
    for (const l of lines) EventJsonSchema.parse(JSON.parse(l));
    const first = JSON.parse(lines[0]);
    expect(first).toMatchObject({ line: 13, file: sample('real/abort/stage1/ftrace-main.txt.gz') });
  });

  it('--summary --json keeps the contract names and validates against its schema', async () => {
    const r = await runCli(['events', '--summary', '--json', sample('real/lifecycle/stage1/ftrace-main.txt.gz')]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    EventsSummarySchema.parse(j);
    expect(j.lines).toMatchObject({ total: 709, events: 697, skipped: {} });
    expect(j.kinds).toMatchObject({ module_get: 13, contention_begin: 173, luo_preserve_file: 8 });
    expect(j.lost).toEqual({});
  });

  it('reads several files and stdin', async () => {
    const line = '          insmod-315     [001] ...1.    82.118515: module_free: luo_demo\n';
    const r = await runCli(['events', '--summary', '--json', sample('real/lifecycle/stage1/ftrace-main.txt.gz'), '-'], { stdin: line });
    const j = JSON.parse(r.stdout);
    expect(j.sources.map((s: { file: string }) => s.file)).toEqual([sample('real/lifecycle/stage1/ftrace-main.txt.gz'), '<stdin>']);
    expect(j.lines.events).toBe(698);
  });

  it('--skipped lists the lines that are not events with a reason', async () => {
    const r = await runCli(['events', '--skipped', sample('real/lifecycle/console.log.gz')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/console\.log\.gz:\d+: console-text: /);
  });

  it('text summary names the events and the data quality', async () => {
    const r = await runCli(['events', '--summary', sample('formats/perfetto_bad_print.systrace')]);
    expect(r.stdout).toMatch(/Events by name/);
    expect(r.stdout).toMatch(/known: continuation\s+2/);
  });
});

describe('unusable input: one line on stderr naming the file, exit 2, no stack trace', () => {
  const cases: Array<[string, () => string, RegExp]> = [
    ['missing file', () => join(tmp, 'nope.txt'), /nope\.txt: no such file$/],
    ['directory', () => tmp, /is a directory/],
    ['trace-cmd .dat', () => {
      const p = join(tmp, 'trace.dat');
      writeFileSync(p, Buffer.concat([Buffer.from([0x17, 0x08, 0x44]), Buffer.from('tracing6\0\0\0\0'), Buffer.alloc(100)]));
      return p;
    }, /trace-cmd report/],
    ['binary garbage', () => {
      const p = join(tmp, 'random.bin');
      const b = Buffer.alloc(8192);
      for (let i = 0; i < b.length; i++) b[i] = (i * 7919) % 251;
      writeFileSync(p, b);
      return p;
    }, /binary input/],
    ['prose', () => {
      const p = join(tmp, 'prose.txt');
      writeFileSync(p, 'Dear diary,\ntoday nothing was traced.\n');
      return p;
    }, /cannot tell the trace format/],
    ['empty file', () => {
      const p = join(tmp, 'empty.txt');
      writeFileSync(p, '');
      return p;
    }, /empty input/],
  ];
  if (process.getuid?.() !== 0) {
    cases.push(['unreadable', () => {
      const p = join(tmp, 'secret.txt');
      writeFileSync(p, 'x\n');
      chmodSync(p, 0);
      return p;
    }, /permission denied/]);
  }
  for (const [what, make, msg] of cases) {
    it(what, async () => {
      const path = make();
      const r = await runCli(['events', '--summary', path]);
      expect(r.code).toBe(2);
      const errLines = r.stderr.trim().split('\n');
      expect(errLines).toHaveLength(1);
      expect(errLines[0]).toMatch(/^luotrace: /);
      expect(errLines[0]).toMatch(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }
  it('bad usage exits 2', async () => {
    const r = await runCli(['events', '--format', 'nonsense', sample('real/abort/stage1/ftrace-main.txt.gz')]);
    expect(r.code).toBe(2);
  });

  it('--version prints the version of package.json and exits 0', async () => {
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string };
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });
});
