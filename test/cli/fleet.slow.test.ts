// `luotrace fleet`, `merge`, `host-summary` as a user runs them (issue #8): the real captures
// arranged as a fleet of three hosts plus two of the generator's faulty traces as bad hosts;
// worker threads vs the main thread, fleet vs merge of the per-host summaries, memory per worker.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetSummary, HostSummary } from '../../reports/fleet.js';
import { sample } from '../helpers.js';
import { schemaErrors } from './check-jsonschema.js';
import { runCli } from './run.js';

let tmp: string;
let fleetDir: string;
let outDir: string;
let fleetJson: string;
let fleet: FleetSummary;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'luotrace-fleet-'));
  fleetDir = join(tmp, 'hosts');
  outDir = join(tmp, 'summaries');
  mkdirSync(fleetDir);
  // Three real hosts in the lab's layout (folders with stage1/ [stage2/] and console.log.gz)...
  for (const h of ['abort', 'lifecycle', 'contention-no-writer']) symlinkSync(sample(`real/${h}`), join(fleetDir, h));
  // ...and two bad hosts, one trace file each: a leaked pin, and a put without its get.
  symlinkSync(sample('synthetic/synthetic-leak.txt.gz'), join(fleetDir, 'bad-leak.txt.gz'));
  symlinkSync(sample('synthetic/synthetic-put-without-get.txt.gz'), join(fleetDir, 'bad-put.txt.gz'));
  const r = await runCli(['fleet', fleetDir, '--json', '--out-dir', outDir, '-j', '2']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  fleetJson = r.stdout;
  fleet = JSON.parse(r.stdout) as FleetSummary;
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const host = (name: string) => fleet.hosts.find((h) => h.host === name);

describe('luotrace fleet', () => {
  it('analyzes every entry as one host, lab folders in stage1, console, stage2 order', () => {
    expect(schemaErrors('fleet', fleet)).toEqual([]);
    expect(fleet.hosts.map((h) => h.host)).toEqual(['abort', 'bad-leak', 'bad-put', 'contention-no-writer', 'lifecycle']);
    expect(host('lifecycle')?.inputs.map((p) => p.slice(fleetDir.length + 1))).toEqual([
      'lifecycle/stage1/ftrace-main.txt.gz',
      'lifecycle/console.log.gz',
      'lifecycle/stage2/ftrace-main.txt.gz',
    ]);
    // One rendering per stage folder: ftrace-main only, not the same events again from ftrace-tgid etc.
    expect(host('contention-no-writer')?.inputs.map((p) => p.slice(fleetDir.length + 1))).toEqual([
      'contention-no-writer/stage1/ftrace-main.txt.gz',
      'contention-no-writer/console.log.gz',
    ]);
    expect(host('lifecycle')?.boots).toBe(2);
    expect(fleet.fleet).toMatchObject({ hosts: 5, analyzed: 5, unusable: [] });
  });

  it('names the failing hosts per verdict', () => {
    const v = (id: string) => fleet.fleet.verdicts.find((x) => x.id === id);
    expect(v('modules-unpinned-after-finish')).toMatchObject({ fail: 1, failingHosts: ['bad-leak'], pass: 4, severity: 'error' });
    expect(v('refcounts-balanced')).toMatchObject({ fail: 1, failingHosts: ['bad-put'], pass: 4 });
    // Failed verdicts come first.
    expect(fleet.fleet.verdicts.slice(0, 2).map((x) => x.id).sort()).toEqual(['modules-unpinned-after-finish', 'refcounts-balanced']);
    expect(host('bad-leak')?.failed).toEqual(['modules-unpinned-after-finish']);
    expect(host('lifecycle')?.failed).toEqual([]);
    const demo = fleet.fleet.modules.find((m) => m.name === 'luo_demo');
    expect(demo?.hostsWithLeakedPins).toEqual(['bad-leak']);
    expect(demo?.hostsWithPutsWithoutGet).toEqual(['bad-put']);
    expect(host('bad-leak')?.modules.find((m) => m.name === 'luo_demo')?.finalRefcnt).toBe(2);
  });

  it('agrees with `luotrace analyze` of each host', async () => {
    const h = host('lifecycle');
    const r = await runCli(['analyze', '--json', ...(h?.inputs ?? [])]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { verdicts: Array<{ id: string; ok: boolean }>; locks: Array<{ name: string | null; type: string; acquisitions: number; wait: { count: number; p50: number | null } }>; phaseStats: Array<{ phase: string; count: number }> };
    expect(h?.verdicts.map((v) => [v.id, v.ok])).toEqual(report.verdicts.map((v) => [v.id, v.ok]));
    expect(h?.phases.map((p) => [p.phase, p.count])).toEqual(report.phaseStats.map((p) => [p.phase, p.count]));
    const named = report.locks.filter((l) => l.name !== null);
    for (const l of named) {
      const f = h?.locks.find((x) => x.name === l.name && x.type === l.type);
      expect(f?.acquisitions).toBe(l.acquisitions);
      expect(f?.wait.p50).toBe(l.wait.p50);
    }
  });

  it('merges each lock x type across hosts, with the exact figures summed', () => {
    for (const l of fleet.fleet.locks) {
      const per = fleet.hosts.flatMap((h) => h.locks.filter((x) => x.key === l.key));
      expect(l.hosts).toBe(per.length);
      expect(l.acquisitions).toBe(per.reduce((a, x) => a + x.acquisitions, 0));
      expect(l.wait.count).toBe(per.reduce((a, x) => a + x.wait.count, 0));
      expect(l.wait.total).toBe(per.reduce((a, x) => a + x.wait.total, 0));
      const maxes = per.map((x) => x.wait.max).filter((x): x is number => x !== null);
      expect(l.wait.max).toBe(maxes.length ? Math.max(...maxes) : null);
      // Exact while the hosts together have few waits: then the percentiles are those of the union.
      if (l.wait.quantiles === 'exact' && l.wait.count > 0) {
        const union = readdirSync(outDir)
          .map((f) => JSON.parse(readFileSync(join(outDir, f), 'utf8')) as HostSummary)
          .flatMap((s) => s.distributions.locks[l.key]?.wait.exact ?? [])
          .sort((a, b) => a - b);
        expect(union.length).toBe(l.wait.count);
        expect(l.wait.p90).toBe(union[Math.ceil(0.9 * union.length) - 1]); // nearest rank
      }
    }
    const outgoing = fleet.fleet.locks.find((l) => l.key === '&private->outgoing.lock|mutex');
    expect(outgoing?.hosts).toBe(5);
    expect(outgoing?.wait.quantiles).toBe('sketch');
  });

  it('gives the same document with worker threads and in the main thread (-j 0)', async () => {
    // Three of the hosts (the contention capture alone costs more than the rest of this file).
    const dir = join(tmp, 'three');
    mkdirSync(dir);
    for (const h of ['lifecycle', 'bad-put.txt.gz', 'abort']) symlinkSync(join(fleetDir, h), join(dir, h));
    const [seq, par] = await Promise.all([runCli(['fleet', dir, '--json', '-j', '0']), runCli(['fleet', dir, '--json', '-j', '3'])]);
    expect(seq.code).toBe(0);
    expect(seq.stdout).toBe(par.stdout);
    expect((JSON.parse(seq.stdout) as FleetSummary).fleet.analyzed).toBe(3);
  });

  it('prints a text summary: verdicts with failing hosts, hosts, phases, modules, locks', async () => {
    // The same renderer as `fleet` without --json, on the same figures (merge of the host summaries).
    const r = await runCli(['merge', outDir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^luotrace \S+ fleet: 5 hosts, 5 analyzed/);
    expect(r.stdout).toMatch(/✘\s+modules-unpinned-after-finish\s+4 pass\s+1 FAIL\s+FAIL on bad-leak/);
    expect(r.stdout).toMatch(/\n\s+bad-put\s+FAIL refcounts-balanced/);
    expect(r.stdout).toMatch(/PHASES[^\n]*\n\s+phase\s+hosts\s+count/);
    expect(r.stdout).toMatch(/\n\s+&private->outgoing\.lock \[LUO\]\s+mutex\s+5 /);
  });
});

describe('luotrace merge', () => {
  it('writes one valid host summary per host, and merging them gives the fleet document', async () => {
    const files = readdirSync(outDir).sort();
    expect(files).toEqual(['abort.json', 'bad-leak.json', 'bad-put.json', 'contention-no-writer.json', 'lifecycle.json']);
    for (const f of files) expect(schemaErrors('host-summary', JSON.parse(readFileSync(join(outDir, f), 'utf8'))), f).toEqual([]);
    const r = await runCli(['merge', outDir, '--json']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(fleetJson);
  });

  it('merges fleet summaries of parts of the fleet into the whole', async () => {
    const a = await runCli(['merge', '--json', join(outDir, 'lifecycle.json'), join(outDir, 'bad-put.json')]);
    writeFileSync(join(tmp, 'a.json'), a.stdout);
    const r = await runCli(['merge', '--json', join(outDir, 'abort.json'), join(outDir, 'bad-leak.json'), join(tmp, 'a.json'), join(outDir, 'contention-no-writer.json')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(fleetJson);
  });

  it('refuses, in one line and exit 2: a host twice, a non-summary, a summary whose distribution does not add up', async () => {
    const twice = await runCli(['merge', join(tmp, 'a.json'), join(outDir, 'lifecycle.json')]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/^luotrace: merge: host lifecycle appears twice[^\n]*\n$/);

    const notOne = join(tmp, 'not-a-summary.json');
    writeFileSync(notOne, JSON.stringify({ tool: { name: 'luotrace' }, verdicts: [] }));
    const r1 = await runCli(['merge', notOne]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/not-a-summary\.json: not a luotrace host or fleet summary/);

    const doc = JSON.parse(readFileSync(join(outDir, 'abort.json'), 'utf8')) as HostSummary;
    const key = Object.keys(doc.distributions.locks)[0];
    doc.distributions.locks[key].wait.count += 1;
    const damaged = join(tmp, 'damaged.json');
    writeFileSync(damaged, JSON.stringify(doc));
    const r2 = await runCli(['merge', damaged]);
    expect(r2.code).toBe(2);
    expect(r2.stderr.trim().split('\n')).toHaveLength(1);
    expect(r2.stderr).toMatch(/damaged\.json: lock .* waits: histogram holds \d+ values, count says \d+/);

    // A format 1 summary's per-host percentiles used the lower rank floor(q(n-1)) (issue #19).
    const v1 = join(tmp, 'format-1.json');
    writeFileSync(v1, JSON.stringify({ ...(JSON.parse(readFileSync(join(outDir, 'abort.json'), 'utf8')) as HostSummary), formatVersion: 1 }));
    const r3 = await runCli(['merge', v1]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/format-1\.json: summary format version 1; this luotrace reads version 2\n$/);
  });
});

describe('luotrace host-summary', () => {
  it('summarizes one host folder exactly as the fleet did', async () => {
    const r = await runCli(['host-summary', '--host', 'lifecycle', join(fleetDir, 'lifecycle')]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(readFileSync(join(outDir, 'lifecycle.json'), 'utf8')));
  });

  it('publishes the host-summary schema (and the fleet one, used above)', async () => {
    const r = await runCli(['schema', 'host-summary']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).required).toContain('distributions');
  });
});

describe('unusable hosts', () => {
  it('lists a host it cannot read with the reason, analyzes the others, exits 2', async () => {
    const dir = join(tmp, 'with-junk');
    mkdirSync(dir);
    symlinkSync(sample('synthetic/synthetic-leak.txt.gz'), join(dir, 'leak.txt.gz'));
    writeFileSync(join(dir, 'junk.txt'), 'not a trace at all\n');
    mkdirSync(join(dir, 'empty-host'));
    const r = await runCli(['fleet', dir, '--json']);
    expect(r.code).toBe(2);
    const f = JSON.parse(r.stdout) as FleetSummary;
    expect(f.fleet.analyzed).toBe(1);
    expect(f.fleet.unusable.map((u) => u.host)).toEqual(['empty-host', 'junk']);
    expect(f.fleet.unusable[1].error).toMatch(/junk\.txt: cannot tell the trace format/);
  });

  it('says in one line when --out-dir cannot be made', async () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    const r = await runCli(['fleet', fleetDir, '--out-dir', join(file, 'sub')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^luotrace: .*a-file\/sub: cannot create the output folder: ENOTDIR\n$/);
  });

  it('refuses a folder that is one host rather than a folder of hosts', async () => {
    const r = await runCli(['fleet', sample('real/lifecycle')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/this folder is one host's run \(it has stage1\/\)/);
  });
});
