// The worker pool of `luotrace fleet`: N worker threads, each analyzing one host at a time, fed
// from a queue. A worker that dies (out of its heap limit, a crash) costs only the host it had: the
// host is reported unusable with the reason and a fresh worker takes the rest of the queue.
import { Worker } from 'node:worker_threads';
import { unusableHost } from '../../reports/fleet.js';
import { workerScript } from '../../parsers/worker-script.js';
import { TOOL_VERSION } from '../../analyses/version.js';
import type { HostTask } from './hosts.js';
import { type FleetAnalyzeOptions, type HostResult, summarizeHost } from './summarize.js';
import type { WorkRequest } from './worker.js';

export interface PoolOptions {
  /** Worker threads; 0 = analyze every host in the main thread, one after another. */
  jobs: number;
  /** Old-generation heap limit of each worker (MB); null = V8's default. */
  workerHeapMb: number | null;
  analyze: FleetAnalyzeOptions;
  /** Called once per host as its analysis ends (any order). */
  onResult: (index: number, result: HostResult) => void | Promise<void>;
}

/** The fleet worker's script (parsers/worker-script.ts). */
export function workerFile(): URL {
  return workerScript(new URL('./worker.js', import.meta.url), new URL('../../dist/cli/fleet/worker.js', import.meta.url), 'the fleet worker');
}

export async function analyzeHosts(tasks: HostTask[], opts: PoolOptions): Promise<void> {
  if (opts.jobs <= 0) {
    for (const [i, t] of tasks.entries()) await opts.onResult(i, await summarizeHost(t, opts.analyze));
    return;
  }
  const file = workerFile();
  let next = 0;
  let finished = 0;
  const pending: Array<Promise<void>> = [];
  const live = new Set<Worker>();
  await new Promise<void>((resolve, rejectRun) => {
    // A failure of our own (writing a summary file) ends the run: stop the workers, or they would
    // keep the process alive.
    let stopped = false;
    const reject = (e: unknown): void => {
      stopped = true;
      for (const w of live) void w.terminate();
      rejectRun(e);
    };
    const failHost = (index: number, reason: string): void => {
      const t = tasks[index];
      const summary = unusableHost(t.host, t.inputs, reason, { name: 'luotrace', version: TOOL_VERSION });
      deliver(index, { summary, internal: !/out of memory/.test(reason), elapsedMs: 0, peakHeapBytes: 0 });
    };
    const deliver = (index: number, result: HostResult): void => {
      if (stopped) return;
      let r: void | Promise<void>;
      try {
        r = opts.onResult(index, result);
      } catch (e) {
        reject(e);
        return;
      }
      pending.push(Promise.resolve(r).catch(reject));
      finished++;
      if (finished === tasks.length) resolve();
    };
    const start = (): void => {
      if (stopped || next >= tasks.length) return;
      const w = new Worker(file, opts.workerHeapMb ? { resourceLimits: { maxOldGenerationSizeMb: opts.workerHeapMb } } : {});
      live.add(w);
      let current = -1;
      const feed = (): void => {
        if (stopped || next >= tasks.length) {
          current = -1;
          void w.terminate();
          return;
        }
        current = next++;
        const req: WorkRequest = { index: current, task: tasks[current], options: opts.analyze };
        w.postMessage(req);
      };
      w.on('message', (m: { index: number; result: HostResult }) => {
        current = -1;
        deliver(m.index, m.result);
        feed();
      });
      let failed = false;
      const die = (reason: string): void => {
        if (failed) return;
        failed = true;
        if (current >= 0) {
          const i = current;
          current = -1;
          failHost(i, reason);
        }
        start();
      };
      w.on('error', (e: Error & { code?: string }) =>
        die(e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `analysis ran out of memory (worker heap limit ${opts.workerHeapMb ?? 'default'} MB)` : `internal error in worker: ${e.message}`),
      );
      w.on('exit', (code) => {
        live.delete(w);
        if (current >= 0) die(`worker exited with code ${code} during the analysis`);
      });
      feed();
    };
    if (tasks.length === 0) resolve();
    for (let i = 0; i < Math.min(opts.jobs, tasks.length); i++) start();
  });
  await Promise.all(pending);
}
