// `--threads 2`: the inputs are read and decoded on a worker thread (parsers/threaded.ts) and the
// analyses run on the events it streams back. Everything a user sees must be what one thread gives:
// the report (JSON and text), check's verdict, the errors and their exit codes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadFiles } from '../../cli/tui/model.js';
import { sample } from '../helpers.js';
import { until } from '../tui/helpers.js';
import { spawnCli } from './run.js';

const LIFECYCLE = ['real/lifecycle/stage1/ftrace-main.txt.gz', 'real/lifecycle/console.log.gz', 'real/lifecycle/stage2/ftrace-main.txt.gz'].map(sample);
const BPFTRACE = [sample('recorded/luotrace-bpftrace.txt.gz')];
const CONTENTION = [sample('real/contention-no-writer/stage1/ftrace-main.txt.gz')];

describe('analyze --threads 2', () => {
  it.each([
    ['the lifecycle run (two kernels and the console between them)', LIFECYCLE],
    ['a bpftrace recording with lost events (sorted whole)', BPFTRACE],
    ['the contention capture', CONTENTION],
  ])('prints the same JSON report as one thread for %s', async (_what, files) => {
    const one = await spawnCli(['analyze', '--json', '--threads', '1', ...files]);
    const two = await spawnCli(['analyze', '--json', '--threads', '2', ...files]);
    expect(one.code).toBe(0);
    expect(two.code).toBe(0);
    expect(JSON.parse(one.stdout).sessions.length).toBeGreaterThan(0);
    expect(two.stdout).toBe(one.stdout);
  });

  it('prints the same text report, charts included', async () => {
    const one = await spawnCli(['analyze', '--threads', '1', ...LIFECYCLE]);
    const two = await spawnCli(['analyze', '--threads', '2', ...LIFECYCLE]);
    expect(one.stdout).toContain('refcnt');
    expect(two.stdout).toBe(one.stdout);
  });

  it('reports an unusable input the same way: one line, exit 2', async () => {
    const args = ['analyze', '--json', LIFECYCLE[0], '/nonexistent/trace.txt'];
    const one = await spawnCli([...args, '--threads', '1']);
    const two = await spawnCli([...args, '--threads', '2']);
    expect(one.code).toBe(2);
    expect(two.code).toBe(2);
    expect(two.stderr).toBe(one.stderr);
    expect(two.stderr.trim().split('\n')).toHaveLength(1);
    expect(two.stdout).toBe('');
  });

  it('reads stdin on the main thread even when asked for 2', async () => {
    const stdin = readFileSync(CONTENTION[0]);
    const two = await spawnCli(['analyze', '--json', '--threads', '2', '-'], { stdin });
    const one = await spawnCli(['analyze', '--json', '--threads', '1', '-'], { stdin });
    expect(two.code).toBe(0);
    expect(JSON.parse(two.stdout).sources[0].file).toBe('<stdin>');
    expect(two.stdout).toBe(one.stdout);
  });

  it('shows progress from the worker, ending each file with done', async () => {
    const r = await spawnCli(['analyze', '--json', '--progress', '--threads', '2', ...LIFECYCLE]);
    expect(r.code).toBe(0);
    const done = r.stderr.split('\n').filter((l) => l.includes(', done'));
    expect(done).toHaveLength(3);
    expect(done[2]).toContain('stage2/ftrace-main.txt.gz');
  });

  it('gives check the same verdict and exit code', async () => {
    const one = await spawnCli(['check', '--json', '--threads', '1', ...LIFECYCLE]);
    const two = await spawnCli(['check', '--json', '--threads', '2', ...LIFECYCLE]);
    expect(two.code).toBe(one.code);
    expect(two.stdout).toBe(one.stdout);
  });

  it('loads the TUI model the same way (report and refcnt series)', async () => {
    const load = async (threads: string) => {
      const model = loadFiles(LIFECYCLE, { threads });
      await until('the analysis', () => model.phase !== 'loading');
      expect(model.phase).toBe('ready');
      return model;
    };
    const one = await load('1');
    const two = await load('2');
    expect(JSON.stringify(two.report)).toBe(JSON.stringify(one.report));
    expect(two.progress.map((p) => p.done)).toEqual([true, true, true]);
    const points = (m: typeof one) => [0, 1, 2].map((src) => m.series.points(src, 'luo_demo'));
    expect(points(one).flat().length).toBeGreaterThan(0);
    expect(points(two)).toEqual(points(one));
  });
});
