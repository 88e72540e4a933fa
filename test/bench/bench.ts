// `npm run bench`: throughput and peak memory of `luotrace analyze` next to what a user would
// otherwise run, side by side on the same generated trace, at several sizes (issue #8). Not a test:
// it prints a markdown table for the README, with the machine and its load.
//
//   npm run bench -- [--sizes 100MB,1GB,2GB] [--runs 3] [--keep DIR] [--traces real,stress,real-trace-cmd,...]
//                    [--tools wc,grep,awk,gawk,node-lines,node-regex,node-awk-job,node-hot-path,node-hot-path2,summary,analyze,analyze2]
//
// For each trace and size: `real` is a real capture repeated with shifted timestamps
// (test/bench/repeat-real.ts, issue 17: the event mix a user's trace has), `stress` the generator's
// stress scenario as trace_pipe text on 4 CPUs (samples/generate.ts, deterministic; its first line
// labels it synthetic). `real-F` is the same run's capture in another input shape F (repeat-real.ts
// --format: ftrace-tgid, trace-pipe, trace-cmd, bpftrace, bpftrace-json, csv), for the CPU per event
// of each parser; the awk baseline reads ftrace text only, so it runs for the ftrace shapes alone
// (its ratio columns stay empty for the others). Each is written to a temporary folder (or reused from --keep DIR), read once
// to warm the page cache, then each tool runs --runs times under GNU time; the best wall time and
// the best CPU time (user + sys) are kept, and the largest peak RSS.
//   wc -l                          the floor: read every byte, count newlines
//   grep -c module_get             one fixed-string search (output to a file: GNU grep stops at the
//                                  first match when its output is /dev/null)
//   awk -f test/bench/baseline.awk the "what a user would otherwise do" baseline: one pass pairing
//                                  module_get/put and contention_begin/end (mawk on the lab machine)
//   gawk -f test/bench/baseline.awk the same script in GNU awk, when installed (context, no ratio)
//   node-floors.js lines           Node's own ceiling: 1 MiB reads, newlines counted (String.indexOf)
//                                  (test/bench/node-floors.ts); no line is looked at
//   node-floors.js regex           a plain regex-per-line reader in Node (readline + one regex),
//                                  the calibration point the issue names
//   hot-path-floor.js awk-job      the awk script's own job in Node the way issue 17 designs the core
//                                  (test/bench/hot-path-floor.ts: 8 MiB reads, prefix on bytes, FNV
//                                  interning to integer ids); prints what the awk script prints
//   hot-path-floor.js hot-path     the issue's "whole hot path" prototype: the awk job plus lockdep
//                                  holds, probe calls and per-lock histograms on typed arrays: what
//                                  that design costs before any of luotrace's report
//   hot-path-floor.js hot-path2    the same prototype on two threads as the issue designs them (the
//                                  file split at a newline in its middle, the second part on a
//                                  worker thread, merged): what the 2-thread wall target can reach
//   luotrace events --summary      reading, tokenizing and decoding only: per-kind counts and the
//     --json                       data-quality table (the first run's output gives the event count)
//   luotrace analyze --json        the whole analysis, report to /dev/null (the first run's to a
//     --threads 1 | 2              file, to read the event count from it), on one thread and on two
// The machine is shared: the 1-minute load average is printed beside every row; CPU-time ratios
// are the fairer comparison when it is high.
//
//   npm run bench -- --hostile [locks=1000000,lockdep=1000000,modules=100000,registrations=1000000,rmmods=100000,tasks=1000000,kexecs=200000,freezes=200000,clocks=300000,lostcpus=300000] [--runs 1] [--keep DIR]
//
// Hostile names instead (issue #15): traces naming that many distinct lock addresses, lockdep
// classes, modules, LUO registration names, rmmod'ed module names or tasks left waiting, or holding
// that many failed `kexec -e` attempts (with or without the freeze calls of two sessions), clock
// jumps or lost-event markers on forged CPU numbers (test/bench/hostile.ts, synthetic, the kernel's
// exact line format), each run through `luotrace analyze --json` under GNU time, checked against
// the budget (peak RSS, time).
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOSTILE_KINDS, type HostileKind, writeHostileTrace } from './hostile.js';
import { REAL_FORMATS, type RealFormat } from './repeat-real.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CLI = join(ROOT, 'dist/bundle/main.js');
const GENERATE = join(ROOT, 'dist/samples/generate.js');
const BASELINE = join(ROOT, 'test/bench/baseline.awk');
const FLOORS = join(ROOT, 'dist/test/bench/node-floors.js');
const HOT_PATH = join(ROOT, 'dist/test/bench/hot-path-floor.js');
const REPEAT = join(ROOT, 'dist/test/bench/repeat-real.js');

/** Issue 17 targets: CPU-time throughput × awk (1 thread), wall-time throughput × awk (2 threads), peak RSS. */
const TARGET = { vsAwkCpu: 1.5, vsAwkWall2: 2.5, rssMb: 200 };
/** Issue #15 targets for hostile names. */
const HOSTILE_TARGET = { rssMb: 250, wallS: 60 };
const HOSTILE_DEFAULT = 'locks=1000000,lockdep=1000000,modules=100000,registrations=1000000,rmmods=100000,tasks=1000000,kexecs=200000,freezes=200000,clocks=300000,lostcpus=300000';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}

function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i.exec(s.trim());
  if (!m) throw new Error(`bad size ${s} (e.g. 100MB, 1GB)`);
  const mult = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * mult);
}

interface Run {
  wall: number;
  cpu: number;
  rssKb: number;
}

interface Measure {
  tool: string;
  best: Run;
  /** 1-minute load average when the tool's runs started. */
  load: number;
}

/** One run under GNU time (figures to a side file, so the tool's own stderr cannot mix in). */
function timeOnce(cmd: string[], stdoutFile: string): Run {
  const timeFile = join(tmpdir(), `luotrace-bench-time-${process.pid}`);
  const out = openSync(stdoutFile, 'w');
  try {
    const r = spawnSync('/usr/bin/time', ['-o', timeFile, '-f', '%e %U %S %M', ...cmd], { stdio: ['ignore', out, 'pipe'], maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed (${r.status}): ${r.stderr.toString().trim().split('\n').pop()}`);
  } finally {
    closeSync(out);
  }
  const [e, u, s, m] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()?.split(' ').map(Number) ?? [];
  rmSync(timeFile, { force: true });
  return { wall: e, cpu: u + s, rssKb: m };
}

/** Best of `runs`; `stdoutOf(i)`: where run i writes its output. */
function measure(tool: string, cmd: string[], runs: number, stdoutOf: (run: number) => string): Measure {
  const load = loadavg()[0];
  let best: Run | null = null;
  for (let i = 0; i < runs; i++) {
    const r = timeOnce(cmd, stdoutOf(i));
    process.stderr.write(`  ${tool}: ${r.wall.toFixed(2)} s wall, ${r.cpu.toFixed(2)} s CPU, ${(r.rssKb / 1024).toFixed(0)} MB RSS\n`);
    best = best ? { wall: Math.min(best.wall, r.wall), cpu: Math.min(best.cpu, r.cpu), rssKb: Math.max(best.rssKb, r.rssKb) } : r;
  }
  return { tool, best: best as Run, load };
}

function firstLine(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0].trim();
  } catch {
    return 'unknown';
  }
}

const fmtSize = (bytes: number): string => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(bytes % 1e9 ? 1 : 0)} GB` : `${Math.round(bytes / 1e6)} MB`);
const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const ratio = (x: number): string => (x >= 10 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(2));

type TraceKind = 'real' | 'stress' | `real-${RealFormat}`;

/** The real capture's shape a trace kind is written in (`real` is the ftrace `trace` file). */
function realFormat(kind: TraceKind): RealFormat | null {
  if (kind === 'stress') return null;
  return kind === 'real' ? 'ftrace' : (kind.slice(5) as RealFormat);
}

/** The tools that read ftrace text only: the awk baseline and the floors that do its job. */
const AWK_JOB: ReadonlySet<string> = new Set(['awk', 'gawk', 'node-awk-job', 'node-hot-path', 'node-hot-path2']);
/** Shapes test/bench/baseline.awk reads (it finds the event after a `seconds.micros:` field). */
const AWK_READS: ReadonlySet<RealFormat> = new Set<RealFormat>(['ftrace', 'ftrace-tgid', 'trace-pipe', 'trace-cmd']);

/** Write (or reuse, with --keep) the bench trace of this kind and size; its path. */
function benchTrace(kind: TraceKind, size: number, dir: string, keep: boolean): string {
  const label = fmtSize(size).replace(' ', '');
  const format = realFormat(kind);
  const file = join(dir, format ? `luotrace-bench-${kind}-${label}.repeated.txt` : `luotrace-bench-stress-${label}.synthetic.txt`);
  if (keep && existsSync(file)) {
    process.stderr.write(`reusing ${file}\n`);
    return file;
  }
  process.stderr.write(`writing the ${label} ${kind} trace into ${file}...\n`);
  if (format) execFileSync(process.execPath, [REPEAT, '--size', String(size), '--format', format, '-o', file], { stdio: 'inherit' });
  else execFileSync(process.execPath, [GENERATE, '--scenario', 'stress', '--format', 'trace-pipe', '--cpus', '4', '--size', String(size), '-o', file], { stdio: 'inherit' });
  return file;
}

/** Every tool asked for, timed on `file`; the event count from luotrace's own output. */
function measureAll(file: string, tools: Set<string>, runs: number, outFile: string): { m: Map<string, Measure>; events: number } {
  const m = new Map<string, Measure>();
  // Not /dev/null: GNU grep notices it and stops at the first match (as if -q).
  const toFile = () => outFile;
  const firstToFile = (i: number) => (i === 0 ? outFile : '/dev/null');
  if (tools.has('wc')) m.set('wc', measure('wc -l', ['wc', '-l', file], runs, toFile));
  if (tools.has('grep')) m.set('grep', measure('grep -c module_get', ['grep', '-c', 'module_get', file], runs, toFile));
  if (tools.has('awk')) m.set('awk', measure('awk -f baseline.awk', ['awk', '-f', BASELINE, file], runs, toFile));
  // Context only (the ratios stay against `awk`): Debian's awk is mawk; a user on another distribution
  // gets gawk, a little slower on this script. Skipped when gawk is not installed.
  if (tools.has('gawk') && firstLine('gawk', ['--version']) !== 'unknown') m.set('gawk', measure('gawk -f baseline.awk (context)', ['gawk', '-f', BASELINE, file], runs, toFile));
  if (tools.has('node-lines')) m.set('node-lines', measure('node: count newlines (floor)', [process.execPath, FLOORS, 'lines', file], runs, toFile));
  if (tools.has('node-regex')) m.set('node-regex', measure('node: regex per line', [process.execPath, FLOORS, 'regex', file], runs, toFile));
  if (tools.has('node-awk-job')) m.set('node-awk-job', measure("node: awk's job on bytes (floor)", [process.execPath, HOT_PATH, 'awk-job', file], runs, toFile));
  if (tools.has('node-hot-path')) m.set('node-hot-path', measure('node: hot-path prototype (floor)', [process.execPath, HOT_PATH, 'hot-path', file], runs, toFile));
  if (tools.has('node-hot-path2')) m.set('node-hot-path2', measure('node: hot-path prototype, 2 threads (floor)', [process.execPath, HOT_PATH, 'hot-path2', file], runs, toFile));
  let events = 0;
  if (tools.has('summary')) {
    // Reading and tokenizing alone (issue #2's figure): per-kind counts and the data-quality table.
    m.set('summary', measure('luotrace events --summary --json', [process.execPath, CLI, 'events', '--summary', '--json', file], runs, firstToFile));
    events = (JSON.parse(readFileSync(outFile, 'utf8')) as { lines: { events: number } }).lines.events;
  }
  for (const threads of ['1', '2']) {
    if (!tools.has(threads === '1' ? 'analyze' : 'analyze2')) continue;
    // The report to /dev/null, except the first run's, which is read for the event count.
    const cmd = [process.execPath, CLI, 'analyze', '--json', '--threads', threads, file];
    m.set(`analyze${threads}`, measure(`luotrace analyze --json --threads ${threads}`, cmd, runs, firstToFile));
    events = (JSON.parse(readFileSync(outFile, 'utf8')) as { dataQuality: { lines: { events: number } } }).dataQuality.lines.events;
  }
  return { m, events };
}

function tableRows(label: string, kind: TraceKind, mb: number, m: Map<string, Measure>, events: number): string[] {
  const awk = m.get('awk');
  const grep = m.get('grep');
  const rows: string[] = [];
  for (const x of m.values()) {
    const isLuotrace = x.tool.startsWith('luotrace');
    const compared = isLuotrace || x.tool.startsWith('node');
    const vs = (base: Measure | undefined, key: 'wall' | 'cpu'): string => (base && compared ? ratio(base.best[key] / x.best[key]) : '');
    rows.push(
      `| ${kind} | ${label} | ${x.tool} | ${x.best.wall.toFixed(2)} | ${x.best.cpu.toFixed(2)} | ${fmtInt(mb / x.best.wall)} | ${isLuotrace ? fmtInt(events / x.best.wall) : ''} | ${(x.best.rssKb / 1024).toFixed(0)} | ${vs(awk, 'wall')} | ${vs(awk, 'cpu')} | ${vs(grep, 'wall')} | ${vs(grep, 'cpu')} | ${x.load.toFixed(1)} |`,
    );
  }
  return rows;
}

/** The issue 17 targets, met or missed, for one trace and size. */
function targetChecks(what: string, mb: number, m: Map<string, Measure>): string[] {
  const checks: string[] = [];
  const awk = m.get('awk');
  for (const key of ['analyze1', 'analyze2']) {
    const an = m.get(key);
    if (!an) continue;
    const rss = an.best.rssKb / 1024;
    checks.push(`${what}, ${key === 'analyze1' ? '1 thread' : '2 threads'}: peak RSS ${rss.toFixed(0)} MB ${rss <= TARGET.rssMb ? 'meets' : 'MISSES'} the ≤ ${TARGET.rssMb} MB target`);
    if (!awk) continue;
    if (key === 'analyze1') {
      const r = awk.best.cpu / an.best.cpu;
      checks.push(`${what}: ${ratio(r)}× awk's throughput per CPU-second (1 thread) ${r >= TARGET.vsAwkCpu ? 'meets' : 'MISSES'} the ≥ ${TARGET.vsAwkCpu}× target`);
    } else {
      const r = awk.best.wall / an.best.wall;
      checks.push(`${what}: ${ratio(r)}× awk's wall-time throughput (2 threads) ${r >= TARGET.vsAwkWall2 ? 'meets' : 'MISSES'} the ≥ ${TARGET.vsAwkWall2}× target`);
    }
  }
  const [floor1, floor2] = [m.get('node-hot-path'), m.get('node-hot-path2')];
  // The floors: what the issue's design itself reaches against the same targets on this machine.
  if (awk && floor1) checks.push(`${what}: the hot-path prototype (floor, 1 thread) does ${ratio(awk.best.cpu / floor1.best.cpu)}× awk's throughput per CPU-second (analyze's target ≥ ${TARGET.vsAwkCpu}×)`);
  if (awk && floor2) checks.push(`${what}: the hot-path prototype (floor, 2 threads) does ${ratio(awk.best.wall / floor2.best.wall)}× awk's wall-time throughput (analyze's target ≥ ${TARGET.vsAwkWall2}×)`);
  const lines = m.get('node-lines');
  const an1 = m.get('analyze1');
  if (lines && an1) checks.push(`${what}: analyze (1 thread) ${fmtInt(mb / an1.best.cpu)} MB per CPU-second; Node only counting newlines ${fmtInt(mb / lines.best.cpu)}`);
  return checks;
}

/** `--hostile`: analyze traces of many distinct names, against the memory and time budget. */
async function hostile(spec: string, runs: number, keep: string, machine: string): Promise<void> {
  const dir = keep || mkdtempSync(join(tmpdir(), 'luotrace-hostile-'));
  if (keep) mkdirSync(keep, { recursive: true });
  const rows: string[] = [];
  for (const part of spec.split(',')) {
    const [kind, count] = part.split('=');
    const n = Number(count);
    if (!HOSTILE_KINDS.includes(kind as HostileKind) || !(n > 0)) throw new Error(`bad --hostile entry ${part} (e.g. locks=1000000)`);
    const file = join(dir, `luotrace-hostile-${kind}-${n}.synthetic.txt`);
    if (!(keep && existsSync(file))) {
      process.stderr.write(`generating ${kind} trace with ${fmtInt(n)} distinct names into ${file}...\n`);
      await writeHostileTrace(kind as HostileKind, n, file);
    }
    execFileSync('cat', [file], { stdio: ['ignore', 'ignore', 'ignore'] });
    const outFile = join(dir, 'hostile-report.json');
    const m = measure(`analyze --json (${kind})`, [process.execPath, CLI, 'analyze', '--json', file], runs, (i) => (i === 0 ? outFile : '/dev/null'));
    const report = JSON.parse(readFileSync(outFile, 'utf8')) as { locks: unknown[]; modules: unknown[]; dataQuality: { lines: { events: number }; notes: string[] } };
    const rssMb = m.best.rssKb / 1024;
    const ok = rssMb < HOSTILE_TARGET.rssMb && m.best.wall < HOSTILE_TARGET.wallS;
    const folded = report.dataQuality.notes.filter((x) => x.includes('(memory bound)')).length;
    rows.push(
      `| ${kind} | ${fmtInt(n)} | ${fmtSize(statSync(file).size)} | ${fmtInt(report.dataQuality.lines.events)} | ${m.best.wall.toFixed(2)} | ${m.best.cpu.toFixed(2)} | ${rssMb.toFixed(0)} | ${report.locks.length} | ${report.modules.length} | ${folded} | ${ok ? 'yes' : 'NO'} | ${m.load.toFixed(1)} |`,
    );
    if (!keep) rmSync(file);
  }
  if (!keep) rmSync(dir, { recursive: true, force: true });
  console.log(`Machine: ${machine}.`);
  console.log(`Input: test/bench/hostile.ts traces (synthetic), page cache warm; best of ${runs} run(s). Budget: peak RSS < ${HOSTILE_TARGET.rssMb} MB, wall < ${HOSTILE_TARGET.wallS} s.`);
  console.log('');
  console.log('| names | distinct | size | events | wall s | CPU s (user+sys) | peak RSS MB | lock rows | module rows | fold notes | within budget | load (1 min) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|');
  for (const r of rows) console.log(r);
}

async function main(): Promise<void> {
  if (!existsSync(CLI) || !existsSync(GENERATE) || !existsSync(REPEAT)) throw new Error('build first: npm run build');
  if (!existsSync('/usr/bin/time')) throw new Error('needs GNU time at /usr/bin/time');
  const hostileAt = process.argv.indexOf('--hostile');
  if (hostileAt >= 0) {
    const next = process.argv[hostileAt + 1];
    const spec = next && !next.startsWith('--') ? next : HOSTILE_DEFAULT;
    const m = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}, node ${process.version}`;
    await hostile(spec, Math.max(1, Number(arg('--runs', '1'))), arg('--keep', ''), m);
    return;
  }
  const sizes = arg('--sizes', '100MB,1GB,2GB').split(',').map(parseSize);
  const runs = Math.max(1, Number(arg('--runs', '3')));
  const tools = new Set(arg('--tools', 'wc,grep,awk,gawk,node-lines,node-regex,node-awk-job,node-hot-path,node-hot-path2,summary,analyze,analyze2').split(','));
  const kinds = arg('--traces', 'real,stress').split(',') as TraceKind[];
  const known = ['real', 'stress', ...Object.keys(REAL_FORMATS).filter((f) => f !== 'ftrace').map((f) => `real-${f}`)];
  for (const k of kinds) if (!known.includes(k)) throw new Error(`bad --traces ${k} (${known.join(', ')})`);
  const keep = arg('--keep', '');
  const dir = keep || mkdtempSync(join(tmpdir(), 'luotrace-bench-'));
  if (keep) mkdirSync(keep, { recursive: true });
  const outFile = join(dir, 'tool-output.txt');

  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}, node ${process.version}, ${firstLine('awk', ['-W', 'version'])}, ${firstLine('grep', ['--version'])}`;
  const rows: string[] = [];
  const checks: string[] = [];
  const counts: string[] = [];
  for (const kind of kinds) {
    for (const size of sizes) {
      const label = fmtSize(size);
      const file = benchTrace(kind, size, dir, Boolean(keep));
      const bytes = statSync(file).size;
      execFileSync('cat', [file], { stdio: ['ignore', 'ignore', 'ignore'] });
      process.stderr.write(`${kind} ${label}: ${fmtInt(bytes)} bytes, page cache warm; best of ${runs}\n`);
      const format = realFormat(kind);
      const forKind = format === null || AWK_READS.has(format) ? tools : new Set([...tools].filter((t) => !AWK_JOB.has(t)));
      const { m, events } = measureAll(file, forKind, runs, outFile);
      rows.push(...tableRows(label, kind, bytes / 1e6, m, events));
      checks.push(...targetChecks(`${kind} ${label}`, bytes / 1e6, m));
      if (events) counts.push(`${kind} ${label} = ${fmtInt(bytes)} bytes, ${fmtInt(events)} events`);
      if (!keep) rmSync(file);
    }
  }
  if (!keep) rmSync(dir, { recursive: true, force: true });

  console.log(`Machine: ${machine}.`);
  console.log(`Inputs: real = ${'`'}node dist/test/bench/repeat-real.js --size N${'`'} (one real capture repeated, timestamps shifted; real-F: --format F, the same run's capture in that shape, no awk row where awk cannot read it); stress = ${'`'}luotrace generate --scenario stress --format trace-pipe --cpus 4 --size N${'`'} (synthetic); page cache warm; best of ${runs} runs.`);
  if (counts.length) console.log(`(${counts.join('; ')}.)`);
  console.log('');
  console.log('| trace | size | tool | wall s | CPU s (user+sys) | MB/s (wall) | events/s (wall) | peak RSS MB | × awk (wall) | × awk (CPU) | × grep (wall) | × grep (CPU) | load (1 min) |');
  console.log('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(r);
  console.log('');
  for (const c of checks) console.log(`- ${c}`);
}

main().catch((e) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
