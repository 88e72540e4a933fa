// `luotrace fleet` memory per worker (issue #8): each worker thread runs under a heap limit; a host
// read streaming fits a small one whatever its size, and a host that exceeds it is reported
// unusable alone while the other hosts are still analyzed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FleetSummary } from '../../reports/fleet.js';
import { ROOT, sample } from '../helpers.js';
import { spawnCli } from './run.js';

const tmp = mkdtempSync(join(tmpdir(), 'luotrace-fleet-mem-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('luotrace fleet --worker-heap-mb', () => {
  it('streams a host in a 32 MB heap; a host that must be sorted whole exceeds it and is cut off alone', async () => {
    const gen = (args: string[], out: string) =>
      execFileSync(process.execPath, [join(ROOT, 'dist/samples/generate.js'), '--scenario', 'stress', '--cpus', '4', ...args, '-o', join(tmp, out)]);
    // trace_pipe text is merged by time already: analyzed streaming, memory independent of its size.
    // 32 MB: the fixed part grew from about 20 to 24-26 MB peak this round (per-lock longest waits, the
    // tables' fold tallies, the decoded-text memo), which made 24 MB fail at random on GC timing.
    gen(['--format', 'trace-pipe', '--size', '5MB'], 'streamed.synthetic.txt');
    // bpftrace drains per-CPU buffers in turn, so its events are held and sorted whole (analyses/pipeline.ts).
    // 100 MB (about 770 000 events): held events are kept in columns of about 50 bytes each
    // (analyses/stream/held-events.ts) and share the parser's fields objects (parsers/bpftrace-line.ts),
    // so the 30 MB trace this test used before fits in 32 MB (peak heap 29 MB with 60 MB).
    gen(['--format', 'bpftrace', '--size', '100MB'], 'sorted.synthetic.txt');
    symlinkSync(sample('synthetic/synthetic-leak.txt.gz'), join(tmp, 'small.txt.gz'));
    const r = await spawnCli(['fleet', tmp, '--json', '--verbose', '-j', '2', '--worker-heap-mb', '32']);
    expect(r.code).toBe(2);
    const f = JSON.parse(r.stdout) as FleetSummary;
    expect(f.fleet.unusable).toEqual([{ host: 'sorted.synthetic', error: 'analysis ran out of memory (worker heap limit 32 MB)' }]);
    expect(f.hosts.find((h) => h.host === 'streamed.synthetic')?.dataQuality.events).toBeGreaterThan(40_000);
    expect(f.hosts.find((h) => h.host === 'small')?.error).toBeNull();
    expect(f.fleet.analyzed).toBe(2);
    expect(r.stderr).toMatch(/streamed\.synthetic: \d+ events in [\d.]+ s, peak heap \d+ MB/);
    expect(r.stderr).toMatch(/3 hosts in [\d.]+ s with 2 workers/);
  });
});
