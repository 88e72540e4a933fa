#!/usr/bin/env node
// Synthetic LUO trace generator (issue #8): realistic Live Update Orchestrator runs in the exact text
// formats the lab's Linux 7.2.13 kernel and tools printed (ftrace `trace`/`trace_pipe` with every
// header/flag/TGID/clock variant, trace-cmd report, bpftrace text/JSON, tp_printk console), several
// CPUs interleaved, configurable sessions/modules/files/contention, sizes up to several GB, and
// fault injection (leaks, put without get, lost events, truncated and garbage lines …).
//
// Every output says on its first line that it is synthetic and how to make it again. The formats
// are checked against the real captures in samples/real (test/generate-format.test.ts).
//
//   node dist/samples/generate.js --scenario lifecycle --format ftrace --seed 1 -o out.txt
//   npm run generate -- --scenario stress --format trace-pipe --size 1GB -o - | luotrace events --summary -
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import {
  FAULTS,
  FAULT_HELP,
  type FaultName,
  type GenerateOptions,
  GenerateOptionsSchema,
  type GenerateStats,
  generateChunks,
  parseSize,
  resolveOptions,
} from './generate/core.js';
import { CLOCKS, OUTPUT_FORMATS } from './generate/render.js';
import { SCENARIOS, SCENARIO_HELP } from './generate/scenarios.js';

export {
  FAULTS,
  GenerateOptionsSchema,
  GenerateStatsSchema,
  LINE_CLASSES,
  type FaultName,
  type GenerateOptions,
  type GenerateStats,
  type LineClass,
  generateChunks,
  parseSize,
  resolveOptions,
} from './generate/core.js';
export { OUTPUT_FORMATS, type OutputFormat } from './generate/render.js';
export { SCENARIOS, type ScenarioName } from './generate/scenarios.js';

/** The trace as an async stream of Buffers (~1 MiB each); `stats` resolves at the end. */
export function generateTrace(opts: GenerateOptions): AsyncIterable<Buffer> & { stats: Promise<GenerateStats> } {
  let resolve!: (s: GenerateStats) => void;
  let reject!: (e: unknown) => void;
  const stats = new Promise<GenerateStats>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  stats.catch(() => {});
  async function* iterate(): AsyncGenerator<Buffer> {
    try {
      const it = generateChunks(opts);
      for (;;) {
        const r = it.next();
        if (r.done) {
          resolve(r.value);
          return;
        }
        if (r.value.length) yield r.value;
      }
    } catch (e) {
      reject(e);
      throw e;
    }
  }
  return Object.assign(iterate(), { stats });
}

/** Write the trace to a stream with back-pressure; resolves with the generator's own stats. */
export async function writeTrace(opts: GenerateOptions, stream: Writable): Promise<GenerateStats> {
  const it = generateChunks(opts);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
    if (r.value.length === 0) continue;
    if (!stream.write(r.value)) await once(stream, 'drain');
  }
}

function int(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer in [${min}, ${max}]`);
    return n;
  };
}
function num(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number`);
    return n;
  };
}

export function buildCommand(): Command {
  const cmd = new Command('generate');
  cmd
    .description(
      'Generate a synthetic Live Update Orchestrator trace in the exact format the lab kernel (7.2.13) and tools print.\n' +
        'The first output line says the trace is synthetic and how to make it again.',
    )
    .addOption(new Option('--scenario <name>', 'what happens (see below)').choices(SCENARIOS).default('lifecycle'))
    .addOption(new Option('--format <fmt>', 'output format (see below)').choices(OUTPUT_FORMATS).default('ftrace'))
    .option('--seed <n>', 'PRNG seed: same options + seed = same bytes', int('--seed', 0, 0xffffffff), 1)
    .option('--cpus <n>', 'online CPUs (#P:N / cpus=N); tasks are spread and migrate across them', int('--cpus', 1, 4096), 2)
    .addOption(new Option('--kernel <v>', 'post: the merged module-refcount series as in 7.2.13; pre: before it (refs at registration, quiesce)').choices(['post', 'pre']))
    .addOption(new Option('--stage <n>', 'lifecycle: 1 = old kernel (preserve, kexec load), 2 = new kernel (retrieve, finish)').choices(['1', '2']).default('1'))
    .option('--sessions <n>', 'lifecycle/forced-unload: sessions', int('--sessions', 1, 700), 2)
    .option('--files <n>', 'handler-module (luo_demo) files per session', int('--files', 0, 120), 3)
    .option('--memfds <n>', 'memfd files per session (built-in handler, no module refs)', int('--memfds', 0, 8), 1)
    .option('--modules <n>', 'handler modules luo_demo, luo_demo2, … (files use them round-robin)', int('--modules', 1, 16), 1)
    .option('--workers <n>', 'stress: luo_ctl worker processes', int('--workers', 1, 256), 6)
    .option('--cycles <n>', 'stress: create/preserve/close cycles per worker (default 10 unless --size)', int('--cycles', 1))
    .option('--size <bytes>', 'stress: keep generating until about this many bytes (500MB, 2GiB, 65536); workers then finish their cycle')
    .option('--no-module-loop', 'stress: no insmod/rmmod loop of an extra module (no writer on luo_register_rwlock)')
    .option('--contention <0..1>', 'stress: worker overlap (1 = no think time between cycles)', num('--contention'), 0.5)
    .option('--start <seconds>', 'uptime of the first event (default: close to the real run)', num('--start'))
    .option('--fault <list>', `comma-separated faults to inject: ${FAULTS.join(', ')}`)
    .option('--lost-count <n>', 'events dropped by the lost fault', int('--lost-count', 1), 7)
    .addOption(new Option('--clock <c>', 'trace_clock: ns clocks print %5lu.%06lu, counter/uptime/x86-tsc a raw integer').choices(CLOCKS).default('local'))
    .option('--tsc-base <n>', 'x86-tsc: counter value at time 0 (up to 20 digits)', '12345678901234567890')
    .option('--tgid', 'options/record-tgid: the (    315) TGID column')
    .option('--no-irq-info', 'options/irq-info=0: no flag columns')
    .addOption(new Option('--flag-cols <n>', '5 flag columns (>= 5.13) or 4 (older kernels: 4-char flags, %-5d pids, old header)').choices(['4', '5']).default('5'))
    .option('--no-lockdep', 'no lock_acquire/lock_release (the lab had lockdep events only in main/pipe/tgid)')
    .option('--no-fgraph', 'no function_graph instance: hooked return probes print their real caller instead of return_to_handler')
    .option('--tc-flags', 'trace-cmd: print the latency flag column (newer trace-cmd; 3.1.6 did not)')
    .option('--no-test-flbs', 'kernel without CONFIG_LIVEUPDATE_TEST (no liveupdate-test-flb-v0..2)')
    .option('--noise <x>', 'background mutex contention pairs (x times the real runs; 0 = none)', num('--noise'), 1)
    .option('--speed <x>', 'scale every delay (1 = TCG timings of the lab; 0.05 ≈ native)', num('--speed'), 1)
    .addOption(new Option('--order <o>', 'merged (trace file); per-cpu (per_cpu/cpuN files concatenated); drain (bpftrace per-CPU buffers)').choices(['merged', 'per-cpu', 'drain']).default('merged'))
    .option('-o, --output <file>', 'output file (.gz = gzip), or - for stdout', '-')
    .option('--stats', 'print the generator\'s own counts (JSON: lines, events by name, faults with line numbers) on stderr')
    .option('--stats-file <file>', 'write the same JSON to a file')
    .addHelpText(
      'after',
      [
        '',
        'Scenarios:',
        ...SCENARIOS.map((s) => `  ${s.padEnd(17)} ${SCENARIO_HELP[s]}`),
        '',
        'Formats:',
        '  ftrace           tracefs `trace` file: `# tracer: nop` header, entries-in-buffer/entries-written, column header',
        '  trace-pipe       `trace_pipe`: the same event lines, no header',
        '  trace-cmd        `trace-cmd report` (3.1.6): cpus=N, pid %-5d, names padded to 20 columns, raw 0x pointers',
        '  bpftrace         `bpftrace luo_events.bt` text: `probe ts=<ns> cpu= pid= tid= comm= key=value…`',
        '  bpftrace-json    the same with `-f json`',
        '  console          serial console with tp_printk: `[  120.478501] liveupdate_reboot: (…)` (use --scenario freeze)',
        '',
        'Faults:',
        ...FAULTS.map((f) => `  ${f.padEnd(17)} ${FAULT_HELP[f]}`),
        '',
        'Examples:',
        '  generate --scenario lifecycle --kernel pre -o lifecycle-preseries.synthetic.txt',
        '  generate --scenario abort --fault leak --stats -o leak.synthetic.txt',
        '  generate --scenario stress --format trace-pipe --cpus 4 --size 1GB -o big.synthetic.txt',
        '',
        'Exit codes: 0 success, 2 bad usage, 3 internal error.',
      ].join('\n'),
    );
  return cmd;
}

export interface CliOpts {
  scenario: string;
  format: string;
  seed: number;
  cpus: number;
  kernel?: string;
  stage: string;
  sessions: number;
  files: number;
  memfds: number;
  modules: number;
  workers: number;
  cycles?: number;
  size?: string;
  moduleLoop: boolean;
  contention: number;
  start?: number;
  fault?: string;
  lostCount: number;
  clock: string;
  tscBase: string;
  tgid?: boolean;
  irqInfo: boolean;
  flagCols: string;
  lockdep: boolean;
  fgraph: boolean;
  tcFlags?: boolean;
  testFlbs: boolean;
  noise: number;
  speed: number;
  order: string;
  output: string;
  stats?: boolean;
  statsFile?: string;
}

/** CLI flags → library options (validated by the zod schema in resolveOptions). */
export function cliToOptions(c: CliOpts): GenerateOptions {
  const faults = (c.fault ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const f of faults) if (!(FAULTS as readonly string[]).includes(f)) throw new InvalidArgumentError(`unknown fault "${f}" (one of ${FAULTS.join(', ')})`);
  return {
    scenario: c.scenario as GenerateOptions['scenario'],
    format: c.format as GenerateOptions['format'],
    seed: c.seed,
    cpus: c.cpus,
    kernel: c.kernel as GenerateOptions['kernel'],
    stage: Number(c.stage) as 1 | 2,
    sessions: c.sessions,
    files: c.files,
    memfds: c.memfds,
    modules: c.modules,
    workers: c.workers,
    cycles: c.cycles,
    size: c.size,
    moduleLoop: c.moduleLoop,
    contention: c.contention,
    start: c.start,
    faults: faults as FaultName[],
    lostCount: c.lostCount,
    clock: c.clock as GenerateOptions['clock'],
    tscBase: c.tscBase,
    tgid: c.tgid ?? false,
    irqInfo: c.irqInfo,
    flagCols: Number(c.flagCols) as 4 | 5,
    lockdep: c.lockdep,
    fgraph: c.fgraph,
    tcFlags: c.tcFlags ?? false,
    testFlbs: c.testFlbs,
    noise: c.noise,
    speed: c.speed,
    order: c.order as GenerateOptions['order'],
  };
}

export async function main(argv: string[]): Promise<number> {
  const cmd = buildCommand().exitOverride();
  let c: CliOpts;
  try {
    cmd.parse(argv);
    c = cmd.opts<CliOpts>();
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    throw e;
  }
  let opts: GenerateOptions;
  try {
    opts = cliToOptions(c);
    if (opts.size !== undefined) parseSize(opts.size);
    resolveOptions(opts);
  } catch (e) {
    process.stderr.write(`generate: ${oneLine(e)}\n`);
    return 2;
  }
  let sink: Writable;
  let fileStream: Writable | null = null;
  if (c.output === '-') {
    sink = process.stdout;
  } else {
    fileStream = createWriteStream(c.output);
    if (c.output.endsWith('.gz')) {
      const gz = createGzip({ level: 6 });
      gz.pipe(fileStream);
      sink = gz;
    } else sink = fileStream;
  }
  let broken = false;
  sink.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') broken = true;
    else {
      process.stderr.write(`generate: ${c.output}: ${e.message}\n`);
      process.exit(2);
    }
  });
  const t0 = process.hrtime.bigint();
  let stats: GenerateStats;
  try {
    stats = await writeTraceUntilBroken(opts, sink, () => broken);
  } catch (e) {
    process.stderr.write(`generate: internal error: ${oneLine(e)}\n`);
    return 3;
  }
  if (sink !== process.stdout) {
    sink.end();
    await once(fileStream as Writable, 'finish');
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const report = { ...stats, seconds: Number(secs.toFixed(3)), mbPerSecond: Number((stats.bytes / 1e6 / secs).toFixed(1)) };
  if (c.stats) process.stderr.write(`${JSON.stringify(report, null, 2)}\n`);
  if (c.statsFile) {
    const s = createWriteStream(c.statsFile);
    s.end(`${JSON.stringify(report, null, 2)}\n`);
    await once(s, 'finish');
  }
  return 0;
}

async function writeTraceUntilBroken(opts: GenerateOptions, stream: Writable, broken: () => boolean): Promise<GenerateStats> {
  const it = generateChunks(opts);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
    if (broken()) continue; // reader went away (| head): finish the simulation quietly for the stats
    if (r.value.length === 0) continue;
    if (!stream.write(r.value) && !broken()) await new Promise<void>((res) => {
      const done = () => {
        stream.off('drain', done);
        stream.off('error', done);
        res();
      };
      stream.on('drain', done);
      stream.on('error', done);
    });
  }
}

function oneLine(e: unknown): string {
  if (e && typeof e === 'object' && 'issues' in e) {
    const issues = (e as { issues: Array<{ path: PropertyKey[]; message: string }> }).issues;
    return issues.map((i) => `${i.path.map(String).join('.') || 'options'}: ${i.message}`).join('; ');
  }
  return e instanceof Error ? e.message : String(e);
}

const invoked = process.argv[1] ?? '';
if (invoked && import.meta.url === pathToFileURL(invoked).href) {
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`generate: internal error: ${oneLine(e)}\n`);
      process.exitCode = 3;
    },
  );
}
