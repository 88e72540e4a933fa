// What only a process of its own shows (a heap limit, EPIPE from a closed pipe), and the check that
// the two runners of test/cli/run.ts agree: the in-process runner (runCli) that the fast tests use
// prints, byte for byte, what the shipped CLI (the bundle package.json's bin names) prints in a
// child process (spawnCli), exit code included: the bundle's worker threads and lazily loaded
// modules included.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ROOT, sample } from '../helpers.js';
import { CLI, runCli, spawnCli } from './run.js';

const LIFECYCLE = ['real/lifecycle/stage1/ftrace-main.txt.gz', 'real/lifecycle/console.log.gz', 'real/lifecycle/stage2/ftrace-main.txt.gz'].map(sample);
const tmp = mkdtempSync(join(tmpdir(), 'luotrace-process-'));

describe('runCli (in this process) and spawnCli (the shipped bundle) print the same bytes', () => {
  const header = '# tracer: nop\n#\n# entries-in-buffer/entries-written: 0/0   #P:2\n';
  const cases: Array<{ args: string[]; stdin?: string | Buffer }> = [
    { args: ['analyze', ...LIFECYCLE] }, // text, charts included
    { args: ['analyze', '--json', '--threads', '2', ...LIFECYCLE] }, // the parse worker, a file of the bundle
    { args: ['schema', 'analyze'] },
    { args: ['check', '--json', sample('synthetic/synthetic-leak.txt.gz')] }, // exit 1
    { args: ['events', '--summary', '--json', '-'], stdin: readFileSync(sample('real/abort/stage1/ftrace-fgraph.txt')) },
    { args: ['diff', LIFECYCLE.join(','), sample('real/abort/stage1/ftrace-main.txt.gz')] },
    { args: ['export', '--format', 'chrome-json', sample('real/abort/stage1/ftrace-main.txt.gz')] },
    { args: ['--help'] }, // commander's help width: no terminal in either
    { args: ['check', '--rules', join(tmp, 'nope.json'), LIFECYCLE[0]] }, // exit 2, one line
    { args: ['analyze', '--json', join(tmp, 'junk.txt')] }, // unusable input: exit 2
    { args: ['analyze', join(tmp, 'header-only.txt')] }, // a trace without events
    { args: ['events', '--format', 'nonsense', LIFECYCLE[0]] }, // a usage error
  ];
  writeFileSync(join(tmp, 'header-only.txt'), header);
  writeFileSync(join(tmp, 'junk.txt'), 'not a trace at all\n');
  it('is the file package.json names as the luotrace command', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: { luotrace: string } };
    expect(join(ROOT, pkg.bin.luotrace)).toBe(CLI);
  });
  for (const c of cases) {
    it(c.args.map((a) => a.replaceAll(sample(''), '').replaceAll(`${tmp}/`, '')).join(' '), async () => {
      const inProcess = await runCli(c.args, { stdin: c.stdin });
      const child = await spawnCli(c.args, { stdin: c.stdin });
      expect(inProcess.stdout.length + inProcess.stderr.length).toBeGreaterThan(0);
      expect(inProcess).toEqual(child);
    });
  }
});

describe('streaming', () => {
  it('a 300 MB stream through `events --summary` with a 128 MB heap', async () => {
    // Real lines from the lifecycle capture, repeated with advancing timestamps, generated on the fly.
    const template = [
      '         luo_ctl-317     [001] .....    %TS%: module_get: luo_demo call_site=luo_preserve_file refcnt=3',
      '         luo_ctl-317     [001] ...1.    %TS%: contention_begin: 00000000aa1b0ce8 (flags=SPIN|MUTEX)',
      '         luo_ctl-317     [001] .l.1.    %TS%: contention_end: 00000000aa1b0ce8 (ret=0)',
      '         luo_ctl-317     [001] .l...    %TS%: luo_preserve_file__return: ([unknown/kretprobe\'d] <- luo_preserve_file) ret=0',
    ];
    const target = 300 * 1024 * 1024;
    let produced = 0;
    let n = 0;
    const stream = new Readable({
      read() {
        if (produced >= target) {
          this.push(null);
          return;
        }
        const parts: string[] = [];
        for (let i = 0; i < 20000; i++, n++) {
          const us = 1_000_000 + n;
          const ts = `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
          parts.push(template[n % 4].replace('%TS%', ts));
        }
        const chunk = `${parts.join('\n')}\n`;
        produced += chunk.length;
        this.push(chunk);
      },
    });
    const r = await spawnCli(['events', '--summary', '--json', '-'], { stdin: stream, nodeArgs: ['--max-old-space-size=128'] });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.lines.total).toBe(n);
    expect(j.lines.events).toBe(n);
    expect(j.kinds.module_get).toBe(n / 4);
  }, 240_000);
});

describe('EPIPE', () => {
  it('`luotrace events BIG | head -1` ends quietly', async () => {
    const r = spawnSync('bash', ['-c', `set -o pipefail; node ${CLI} events ${sample('real/contention-no-writer/stage1/ftrace-main.txt.gz')} | head -1 >/dev/null; echo "status=\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toMatch(/^status=(0|141)$/);
  });
});
