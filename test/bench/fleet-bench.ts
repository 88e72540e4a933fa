// `node dist/test/bench/fleet-bench.js [--hosts 100,1000,10000] [--paths gen,merge,sql-load,sql-query]`:
// how the two fleet paths scale with the number of hosts (issue #18), on synthetic host summaries
// (test/bench/synthetic-hosts.ts). Not a test: it prints a markdown table for the README, with the
// machine's load. Every measurement runs in a child process of its own, so each peak RSS is that
// path's alone (DuckDB's native memory included):
//   gen        generating the host summaries only (the floor the next two include)
//   merge      the in-memory merge (reports/fleet.ts FleetAccumulator), host after host
//   sql-load   the same summaries into DuckDB's tables, written as Parquet (fleet --out-format parquet)
//   sql-query  a fresh process: the Parquet folder read back, checked, and every fleet query of sql/
//              run (merge --engine sql DIR): what answering from the tables costs
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HostTables } from '../../cli/export/parquet.js';
import { TableDb } from '../../cli/parquet/db.js';
import { checkTables, sqlFleetSummary } from '../../cli/parquet/fleet-sql.js';
import { FleetAccumulator } from '../../reports/fleet.js';
import { syntheticHost } from './synthetic-hosts.js';

const TOOL = { name: 'luotrace', version: 'bench' } as const;
const PATHS = ['gen', 'merge', 'sql-load', 'sql-query'] as const;
type Path = (typeof PATHS)[number];

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}

/** One measurement, in this (child) process: prints {ms, rssMb, check} as JSON. */
async function one(path: Path, n: number, dir: string): Promise<void> {
  const t0 = performance.now();
  let check = '';
  if (path === 'gen') {
    let sessions = 0;
    for (let i = 0; i < n; i++) sessions += syntheticHost(i).sessions.total;
    check = `${sessions} sessions`;
  } else if (path === 'merge') {
    const acc = new FleetAccumulator(TOOL);
    for (let i = 0; i < n; i++) acc.addHost(syntheticHost(i));
    const f = acc.finish().fleet;
    check = `p99 preserve ${f.phases.find((p) => p.phase === 'preserve')?.durations.p99}`;
  } else if (path === 'sql-load') {
    const tables = await HostTables.open('bench');
    for (let i = 0; i < n; i++) await tables.add(syntheticHost(i), null);
    await tables.write(dir);
    tables.close();
  } else {
    const db = await TableDb.open();
    await db.loadParquet(dir);
    await checkTables(db, dir);
    const f = (await sqlFleetSummary(db, TOOL)).fleet;
    db.close();
    check = `p99 preserve ${f.phases.find((p) => p.phase === 'preserve')?.durations.p99}`;
  }
  process.stdout.write(`${JSON.stringify({ ms: performance.now() - t0, rssMb: process.resourceUsage().maxRSS / 1024, check })}\n`);
}

function main(): void {
  const hosts = arg('--hosts', '100,1000,10000').split(',').map(Number);
  const paths = arg('--paths', PATHS.join(',')).split(',') as Path[];
  const self = fileURLToPath(import.meta.url);
  console.log(`fleet bench: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}`);
  console.log('| hosts | path | time | peak RSS | 1-min load | check |');
  console.log('|---:|---|---:|---:|---:|---|');
  for (const n of hosts) {
    const dir = mkdtempSync(join(tmpdir(), 'luotrace-fleet-bench-'));
    for (const p of paths) {
      const r = spawnSync(process.execPath, [self, '--one', p, String(n), dir], { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (r.status !== 0) {
        console.log(`| ${n} | ${p} | failed: ${(r.stderr || '').split('\n')[0]} | | | |`);
        continue;
      }
      const m = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { ms: number; rssMb: number; check: string };
      console.log(`| ${n} | ${p} | ${(m.ms / 1000).toFixed(2)} s | ${m.rssMb.toFixed(0)} MB | ${loadavg()[0].toFixed(1)} | ${m.check} |`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

const i = process.argv.indexOf('--one');
if (i >= 0) await one(process.argv[i + 1] as Path, Number(process.argv[i + 2]), process.argv[i + 3]);
else main();
