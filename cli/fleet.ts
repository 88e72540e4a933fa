// `luotrace fleet DIR...`: many hosts at once. Every entry of DIR is one host (a trace file, or a
// folder with the host's run: see cli/fleet/hosts.ts for which files and in which order); hosts
// are analyzed in parallel worker threads, each running the same runAnalysis as `analyze`, and
// reduced to host summaries that merge into one fleet view (reports/fleet.ts).
// `luotrace host-summary FILE...`: the summary of one host, to merge later with `luotrace merge`.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { join } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { buildHostSummary, FleetAccumulator, type FleetSummary, type HostSummary } from '../reports/fleet.js';
import { KERNEL_MODELS } from '../analyses/kernel/kernel-models.js';
import { InputError } from '../parsers/index.js';
import { hostInputs, listHosts } from './fleet/hosts.js';
import { analyzeHosts } from './fleet/pool.js';
import { renderFleetText } from './fleet/render.js';
import { runAnalysisWithDistributions } from '../analyses/pipeline.js';
import { writeJson } from './json-out.js';
import { formatOption } from './options.js';
import { BufferedWriter, writeOutputFile } from './output.js';
import { TOOL_VERSION } from '../analyses/version.js';
import { visible, visibleText } from './visible.js';
import { engineOption, finishFleetTables, type FleetTableOptions, openFleetTables, OUT_FORMATS } from './fleet/sql.js';
import { defaultRunId, RUN_ID_HELP } from './export/parquet.js';
import { writeHostParquet } from './export/parquet-export.js';

interface FleetCliOptions {
  json?: boolean;
  outDir?: string;
  jobs: number;
  workerHeapMb?: number;
  limit: string;
  format?: string;
  kernelModel?: string;
  verbose?: boolean;
  engine: FleetTableOptions['engine'];
  outFormat: FleetTableOptions['outFormat'];
  runId?: string;
}

function nonNegativeInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${flag} wants a whole number >= 0, not ${v}`);
    return n;
  };
}

function checkKernelModel(m: string | undefined): void {
  if (m !== undefined && !Object.hasOwn(KERNEL_MODELS, m)) throw new InputError('--kernel-model', `unknown model ${m}; one of: ${Object.keys(KERNEL_MODELS).join(', ')}`);
}

/** A host name as a file name: what --out-dir writes. */
export function summaryFileName(host: string): string {
  return `${host.replace(/[^A-Za-z0-9._-]/g, '_')}.json`;
}

/** Print a fleet summary as text or JSON (shared with `luotrace merge`). */
export async function printFleet(summary: FleetSummary, opts: { json?: boolean; limit: string }): Promise<void> {
  const out = new BufferedWriter();
  if (opts.json) {
    writeJson(out, summary);
    out.write('\n');
  } else out.write(visibleText(renderFleetText(summary, { limit: Math.max(1, Number(opts.limit) || 20) })));
  await out.flush();
}

const MB = 1024 * 1024;

export function registerFleet(program: Command): void {
  program
    .command('fleet')
    .description('analyze many hosts in parallel (every entry of DIR is one host) and merge them into one fleet summary')
    .argument('<dirs...>', 'folders whose entries are hosts: a trace file (or .gz) per host, or a folder per host (see below); a file argument is one host')
    .option('--json', 'print the fleet summary as JSON (see `luotrace schema fleet`)')
    .option('--out-dir <dir>', 'also write each host summary to DIR/HOST.json (mergeable with `luotrace merge`), or the Parquet tables (--out-format parquet)')
    .addOption(new Option('--out-format <format>', 'what --out-dir holds: json (a summary per host) or parquet (one file per table, all hosts)').choices([...OUT_FORMATS]).default('json'))
    .addOption(engineOption())
    .option('--run-id <id>', RUN_ID_HELP)
    .addOption(
      new Option('-j, --jobs <n>', 'worker threads analyzing hosts in parallel; 0 = one after another in the main thread')
        .argParser(nonNegativeInt('--jobs'))
        .default(availableParallelism(), 'the number of CPUs'),
    )
    .addOption(new Option('--worker-heap-mb <mb>', "heap limit of each worker: a host that needs more is reported unusable, the others go on").argParser(nonNegativeInt('--worker-heap-mb')))
    .option('--limit <n>', 'rows shown per list in the text summary', '20')
    .option('--kernel-model <model>', 'force the LUO code version for every host: pre-series, v1, merged, later')
    .option('--verbose', 'per host: analysis time and peak heap, on stderr')
    .addOption(formatOption())
    .addHelpText(
      'after',
      `
A host folder's trace files, by the first rule that applies:
  1. luotrace-inputs.txt in it: one path per line (relative to the folder), in reading order;
  2. stage1/, stage2/ ... folders (the lab's capture layout): each stage's trace in numeric order,
     with the folder's console.log[.gz] right after stage 1 (it holds the freeze inside kexec -e);
  3. ftrace-main.txt[.gz] in it: that file only (the lab's other files are the same events again);
  4. otherwise every file in it, in name order.
README*, INDEX* and *.md files are notes: neither hosts nor a host's traces. A host reads only files
inside its folder: a manifest path with .. or absolute, or a symlink leading out, makes it unusable.

Exit status: 0 when every host could be analyzed (failed verdicts are reported, not an error),
2 when some host's input was unusable (it is listed with the reason), 3 on an internal error.

Examples:
  luotrace fleet captures/ -j 4
  luotrace fleet captures/ --json --out-dir summaries/ > fleet.json
  luotrace merge summaries/ other-site-fleet.json`,
    )
    .action(async (dirs: string[], opts: FleetCliOptions) => {
      checkKernelModel(opts.kernelModel);
      const tasks = listHosts(dirs);
      const tableOpts = { engine: opts.engine, outDir: opts.outDir, outFormat: opts.outFormat, runId: opts.runId ?? defaultRunId() };
      const tables = await openFleetTables(tableOpts);
      if (opts.outDir && opts.outFormat === 'json') {
        const files = new Map<string, string>();
        for (const t of tasks) {
          const f = summaryFileName(t.host);
          const other = files.get(f);
          if (other !== undefined) throw new InputError('--out-dir', `hosts ${other} and ${t.host} would both be written to ${f}; rename one of them`);
          files.set(f, t.host);
        }
        try {
          mkdirSync(opts.outDir, { recursive: true });
        } catch (e) {
          throw new InputError(opts.outDir, `cannot create the output folder: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
      }
      const acc = new FleetAccumulator({ name: 'luotrace', version: TOOL_VERSION });
      // Merge in host order whatever order the workers finish in: the output does not depend on timing.
      const ready = new Map<number, HostSummary>();
      let nextToMerge = 0;
      let unusable = 0;
      let internal = 0;
      const t0 = performance.now();
      let peakHeap = 0;
      await analyzeHosts(tasks, {
        jobs: opts.jobs,
        workerHeapMb: opts.workerHeapMb ?? null,
        analyze: { format: opts.format, kernelModel: opts.kernelModel, tables: opts.outDir !== undefined && opts.outFormat === 'parquet' },
        onResult: (index, r) => {
          const s = r.summary;
          if (r.internal) internal++;
          else if (s.error !== null) unusable++;
          peakHeap = Math.max(peakHeap, r.peakHeapBytes);
          if (opts.verbose) {
            process.stderr.write(`luotrace fleet: ${visible(s.host)}: ${visible(s.error ?? `${s.dataQuality.events} events`)} in ${(r.elapsedMs / 1000).toFixed(2)} s, peak heap ${(r.peakHeapBytes / MB).toFixed(0)} MB\n`);
          }
          if (opts.outDir && opts.outFormat === 'json') {
            const f = join(opts.outDir, summaryFileName(s.host));
            writeOutputFile(f, (out) => out.write(`${JSON.stringify(s)}\n`), 'cannot write the host summary');
          }
          ready.set(index, s);
          const added = tables?.add(s, r.tables ?? null);
          while (ready.has(nextToMerge)) {
            if (opts.engine === 'merge') acc.addHost(ready.get(nextToMerge) as HostSummary);
            ready.delete(nextToMerge);
            nextToMerge++;
          }
          return added;
        },
      });
      if (opts.verbose) {
        process.stderr.write(
          `luotrace fleet: ${tasks.length} hosts in ${((performance.now() - t0) / 1000).toFixed(2)} s with ${opts.jobs === 0 ? 'no workers' : `${Math.min(opts.jobs, tasks.length)} workers`}, largest worker heap ${(peakHeap / MB).toFixed(0)} MB\n`,
        );
      }
      const bySql = tables ? await finishFleetTables(tables, tableOpts) : null;
      await printFleet(bySql ?? acc.finish(), opts);
      if (internal) process.exitCode = 3;
      else if (unusable) process.exitCode = 2;
    });

  program
    .command('host-summary')
    .description("one host's run reduced to a mergeable summary (JSON; see `luotrace schema host-summary`)")
    .argument('<files...>', "the host's trace files in reading order, or one folder laid out as for `luotrace fleet`")
    .option('--host <name>', 'host name recorded in the summary', hostname())
    .option('--kernel-model <model>', 'force the LUO code version: pre-series, v1, merged, later')
    .option('--parquet <dir>', 'write the Parquet tables (`luotrace schema parquet`) into DIR instead of the JSON summary')
    .option('--run-id <id>', `with --parquet: ${RUN_ID_HELP}`)
    .addOption(formatOption())
    .action(async (files: string[], opts: { host: string; kernelModel?: string; format?: string; parquet?: string; runId?: string }) => {
      checkKernelModel(opts.kernelModel);
      let inputs = files;
      if (files.length === 1 && existsSync(files[0]) && statSync(files[0]).isDirectory()) {
        const r = hostInputs(files[0]);
        if (r.error) throw new InputError(files[0], r.error);
        inputs = r.inputs;
      }
      const result = await runAnalysisWithDistributions(inputs, { format: opts.format, kernelModel: opts.kernelModel });
      if (opts.parquet !== undefined) {
        const written = await writeHostParquet(opts.host, inputs, result, opts.runId ?? defaultRunId(), opts.parquet);
        process.stderr.write(`luotrace: wrote ${written.length} Parquet tables to ${visible(opts.parquet)}\n`);
        return;
      }
      const out = new BufferedWriter();
      out.write(`${JSON.stringify(buildHostSummary(opts.host, inputs, result))}\n`);
      await out.flush();
    });
}
