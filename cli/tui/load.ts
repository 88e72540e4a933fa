// Loading the TUI's report: the read and the analyses `analyze` runs (analyses/pipeline.ts
// createAnalysis, parsers/threaded.ts readTracesOn, as runAnalysis does), plus what the screens need
// beside the report (refcnt series, line counts) and what the loading page shows while the read runs
// (ReadSoFar: counts of the lines read, which are final as of the read position).
import type { AnalyzeReport } from '../../analyses/report.js';
import { type AnalysisOptions, createAnalysis, parseFormat } from '../../analyses/pipeline.js';
import type { RefcountSeries } from '../../analyses/luo/refcount-series.js';
import type { TraceEvent } from '../../parsers/event.js';
import type { ReadOptions, ReadProgress } from '../../parsers/index.js';
import { readTracesOn, resolveThreads } from '../../parsers/threaded.js';

/** Events seen so far by kind, while loading: one map increment per event. */
export class KindTally {
  readonly counts: Map<string, number>;

  constructor(counts: Iterable<[string, number]> = []) {
    this.counts = new Map(counts);
  }

  push(kind: string): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
  }

  /** The most frequent kinds first (ties by name, so the screen does not flicker). */
  top(n: number): Array<[string, number]> {
    return [...this.counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n);
  }
}

/** One module in one input, as far as the read got: facts of the lines read, not the report's pin accounting. */
export interface ModuleRefsSoFar {
  src: number;
  module: string;
  gets: number;
  puts: number;
  /** The refcnt= the newest of its module_get/module_put lines printed. */
  refcnt: number;
  /** That line's number. */
  line: number;
}

/** Distinct (input, module) pairs counted; a hostile input naming more modules only adds to `otherRefs`. */
const MAX_MODULES = 256;

/** module_get/module_put lines so far, per input and module. */
export class ModuleRefTally {
  readonly rows = new Map<string, ModuleRefsSoFar>();
  otherRefs = 0;

  push(ev: TraceEvent): void {
    if (ev.kind !== 'module_get' && ev.kind !== 'module_put') return;
    const key = `${ev.src}\n${ev.fields.module}`;
    let r = this.rows.get(key);
    if (!r) {
      if (this.rows.size >= MAX_MODULES) {
        this.otherRefs++;
        return;
      }
      this.rows.set(key, (r = { src: ev.src, module: ev.fields.module, gets: 0, puts: 0, refcnt: 0, line: 0 }));
    }
    if (ev.kind === 'module_get') r.gets++;
    else r.puts++;
    // Lines of one input arrive in file order (the ordered stream is the analyses', not this one).
    r.refcnt = ev.fields.refcnt;
    r.line = ev.line;
  }

  /** The busiest first (ties by name). */
  top(n: number): ModuleRefsSoFar[] {
    return [...this.rows.values()].sort((a, b) => b.gets + b.puts - (a.gets + a.puts) || (a.module < b.module ? -1 : a.module > b.module ? 1 : a.src - b.src)).slice(0, n);
  }
}

/** What the loading page shows: where the read is, and the counts that are final as of the lines read. */
export class ReadSoFar {
  progress: ReadProgress[] = [];
  tally = new KindTally();
  refs = new ModuleRefTally();

  push(ev: TraceEvent): void {
    this.tally.push(ev.kind);
    this.refs.push(ev);
  }
}

export interface LoadHooks {
  soFar: ReadSoFar;
  series: RefcountSeries;
  /** After soFar.progress was updated. */
  onProgress?: (p: ReadProgress) => void;
  pause?: ReadOptions['pause'];
  signal?: AbortSignal;
  /** True once the user quit: the rest of a chunk is dropped. */
  stopped?: () => boolean;
}

export interface Loaded {
  report: AnalyzeReport;
  /** Lines per input file (the Events screen's line counts). */
  lines: Array<[string, number]>;
}

/** Read the inputs and run the analyses; the report is the one `analyze` gives (--threads as analyze: auto here). */
export async function loadReport(files: string[], opts: AnalysisOptions, hooks: LoadHooks): Promise<Loaded> {
  const pipeline = await createAnalysis(opts);
  const { soFar, series, stopped } = hooks;
  const push = (ev: TraceEvent): void => {
    if (stopped?.()) return;
    pipeline.push(ev);
    series.push(ev);
    soFar.push(ev);
  };
  const read = await readTracesOn(resolveThreads(opts.threads ?? 'auto', files), files, push, {
    format: parseFormat(opts.format),
    onSourceStart: (_src, _file, format) => pipeline.sourceFormat(format),
    onProgress: (p) => {
      soFar.progress[p.src] = p;
      hooks.onProgress?.(p);
    },
    pause: hooks.pause,
    signal: hooks.signal,
  });
  pipeline.flush();
  return { report: pipeline.report(read), lines: read.sources.map((s) => [s.file, s.lines]) };
}
