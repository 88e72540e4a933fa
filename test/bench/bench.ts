// `npm run bench`: throughput and peak memory of luotrace next to the tools a user would otherwise
// reach for, on the same large trace, in one run. Not a test: it prints figures for the README.
//
//   node dist/test/bench/bench.js [--size 1GB] [--keep FILE] [--runs 3]
//
// The input is a replay of the real contention capture (samples/real/contention-no-writer, ftrace
// text), its timestamps advanced so the result is one long, valid, time-ordered trace; its first
// line labels it synthetic. It is written to a temporary file (or --keep FILE) and removed after.
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CLI = join(ROOT, 'dist/cli/main.js');

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}

function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)b?$/i.exec(s);
  if (!m) throw new Error(`bad size ${s}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * mult);
}

/** Write a replay of the real capture until `size` bytes; returns the number of lines. */
async function makeTrace(path: string, size: number): Promise<number> {
  const real = gunzipSync(readFileSync(join(ROOT, 'samples/real/contention-no-writer/stage1/ftrace-main.txt.gz'))).toString();
  const body = real.split('\n').filter((l) => l && !l.startsWith('#'));
  // Split each line around its timestamp once, so the replay only formats numbers.
  const parts = body.map((l) => {
    const m = /^(.*?\]\s+\S+\s+)(\d+)\.(\d{6})(: .*)$/.exec(l);
    if (!m) throw new Error(`unexpected line ${l}`);
    return { pre: m[1], us: Number(m[2]) * 1e6 + Number(m[3]), post: m[4] };
  });
  const span = parts[parts.length - 1].us - parts[0].us + 1000;
  const out = createWriteStream(path);
  let written = 0;
  let lines = 0;
  const header = `# synthetic: luotrace bench replay of samples/real/contention-no-writer/stage1/ftrace-main.txt, timestamps advanced per round\n`;
  out.write(header);
  written += header.length;
  lines++;
  for (let round = 0; written < size; round++) {
    const chunk: string[] = [];
    for (const p of parts) {
      const us = p.us + round * span;
      chunk.push(`${p.pre}${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}${p.post}`);
    }
    const text = `${chunk.join('\n')}\n`;
    written += text.length;
    lines += chunk.length;
    if (!out.write(text)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(r));
  return lines;
}

interface Timing {
  name: string;
  seconds: number;
  maxRssKb: number;
  output: string;
}

/** Run a command under GNU time; best wall time of `runs`. */
function timed(name: string, cmd: string[], runs: number): Timing {
  let best: Timing | null = null;
  for (let i = 0; i < runs; i++) {
    const r = spawnSync('/usr/bin/time', ['-f', '%e %M', ...cmd], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const lastErr = r.stderr.trim().split('\n').pop() ?? '';
    const [sec, rss] = lastErr.split(' ').map(Number);
    const t = { name, seconds: sec, maxRssKb: rss, output: r.stdout.trim().slice(0, 200) };
    if (!best || t.seconds < best.seconds) best = t;
  }
  return best as Timing;
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error('build first: npm run build');
  if (!existsSync('/usr/bin/time')) throw new Error('needs GNU time at /usr/bin/time');
  const size = parseSize(arg('--size', '500MB'));
  const runs = Number(arg('--runs', '3'));
  const keep = arg('--keep', '');
  const file = keep || join(tmpdir(), `luotrace-bench-synthetic-${process.pid}.txt`);
  process.stderr.write(`writing ${(size / 1e6).toFixed(0)} MB trace to ${file}...\n`);
  const lines = existsSync(file) && keep ? 0 : await makeTrace(file, size);
  const bytes = statSync(file).size;
  // Warm the page cache so every tool reads from memory.
  execFileSync('cat', [file], { stdio: ['ignore', 'ignore', 'ignore'] });

  const results = [
    timed('wc -l', ['wc', '-l', file], runs),
    timed('grep -c module_get', ['grep', '-c', 'module_get', file], runs),
    timed('luotrace events --summary', [process.execPath, CLI, 'events', '--summary', '--json', file], runs),
  ];
  const ev = JSON.parse(
    spawnSync(process.execPath, [CLI, 'events', '--summary', '--json', file], { encoding: 'utf8', maxBuffer: 1 << 26 }).stdout,
  ) as { lines: { events: number; total: number } };

  const mb = bytes / 1e6;
  const rows = results.map((r) => ({
    tool: r.name,
    seconds: r.seconds.toFixed(2),
    'MB/s': (mb / r.seconds).toFixed(0),
    'events/s': r.name.startsWith('luotrace') ? Math.round(ev.lines.events / r.seconds).toLocaleString('en-US') : '',
    'peak RSS MB': (r.maxRssKb / 1024).toFixed(0),
  }));
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`input: ${mb.toFixed(0)} MB, ${ev.lines.total.toLocaleString('en-US')} lines, ${ev.lines.events.toLocaleString('en-US')} events (page cache warm)`);
  console.log(`machine: ${cpus().length} x ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; best of ${runs}`);
  console.table(rows);
  if (lines) process.stderr.write(`(generated ${lines} lines)\n`);
  if (!keep) rmSync(file);
}

main().catch((e) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
