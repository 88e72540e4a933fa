// What the TUI shows, kept outside React: the report (null while loading), honest loading progress,
// the refcount series for charts, the raw-line store and, with --follow, the live source that keeps
// the report up to date. Screens subscribe and redraw on change.
import type { Readable } from 'node:stream';
import type { AnalyzeReport } from '../../analyses/report.js';
import { InputError, type ReadProgress } from '../../parsers/index.js';
import { type AnalysisOptions, createAnalysis, parseFormat } from '../../analyses/pipeline.js';
import { LiveSource } from './follow.js';
import { loadReport, ReadSoFar } from './load.js';
import { FileLineStore, type LineStore, RingLineStore, type SearchUpdate } from './lines.js';
import { type LineRef, lineReferences } from './relations.js';
import { RefcountSeries } from '../../analyses/luo/refcount-series.js';

export type ModelPhase = 'loading' | 'ready' | 'live' | 'error';

export interface LiveStatus {
  /** Data is arriving (false once the stream paused). */
  streaming: boolean;
  ended: boolean;
  lines: number;
  bytes: number;
  keptLines: number;
  droppedLines: number;
}

export class TuiModel {
  phase: ModelPhase = 'loading';
  report: AnalyzeReport | null = null;
  error: string | null = null;
  /** What went wrong, to rethrow once the screen is closed (the CLI then prints it and exits 2). */
  failure: Error | null = null;
  live: LiveStatus | null = null;
  readonly series = new RefcountSeries();
  /** How far the read got, events by kind and module references so far (the loading page shows them). */
  readonly soFar = new ReadSoFar();
  version = 0;
  private readonly listeners = new Set<() => void>();
  /** Resolves when the loading ends (a report, or an error); cli/tui.ts loads Ink then. */
  readonly settled: Promise<void>;
  private settle: () => void = () => {};
  private refsCache: { report: AnalyzeReport; refs: Map<string, LineRef[]> } | null = null;
  private stopFns: Array<() => void> = [];
  private searchState: { file: string; needle: string; result: SearchUpdate; cancel: () => void } | null = null;

  constructor(
    readonly files: string[],
    readonly lines: LineStore,
  ) {
    this.settled = new Promise((resolve) => (this.settle = resolve));
  }

  /** A model over a report that is already there (tests, and `luotrace tui` on a report in memory). */
  static ready(report: AnalyzeReport, lines?: LineStore, series?: (s: RefcountSeries) => void): TuiModel {
    const m = new TuiModel(
      report.sources.map((s) => s.file),
      lines ?? new FileLineStore((f) => report.sources.find((s) => s.file === f)?.lines ?? null),
    );
    m.report = report;
    m.phase = 'ready';
    series?.(m.series);
    return m;
  }

  /** One entry per input, as far as the reader got. */
  get progress(): ReadProgress[] {
    return this.soFar.progress;
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    const off = this.lines.subscribe(fn);
    return () => {
      this.listeners.delete(fn);
      off();
    };
  }

  changed(): void {
    if (this.phase !== 'loading') this.settle();
    this.version++;
    for (const fn of [...this.listeners]) fn();
  }

  /** Which report objects each raw line is evidence of (computed once per report). */
  refs(): Map<string, LineRef[]> {
    if (!this.report) return new Map();
    if (this.refsCache?.report !== this.report) this.refsCache = { report: this.report, refs: lineReferences(this.report) };
    return this.refsCache.refs;
  }

  /** Matches of a case-insensitive search in one file; the search runs in the background and redraws as it finds. */
  search(file: string, needle: string): SearchUpdate {
    const st = this.searchState;
    if (st && st.file === file && st.needle === needle && !this.lines.live) return st.result;
    st?.cancel();
    const next = { file, needle, result: { matches: [], done: false, capped: false } as SearchUpdate, cancel: () => {} };
    this.searchState = next;
    next.cancel = this.lines.search(file, needle, (u) => {
      next.result = u;
      // Screens build their pages while rendering: tell them after this render, not during it.
      if (!this.lines.live) queueMicrotask(() => this.changed());
    });
    return next.result;
  }

  onStop(fn: () => void): void {
    this.stopFns.push(fn);
  }

  stop(): void {
    this.searchState?.cancel();
    for (const fn of this.stopFns.splice(0)) fn();
  }

  fail(e: unknown): void {
    this.failure = e instanceof Error ? e : new Error(String(e));
    this.phase = 'error';
    this.error = e instanceof InputError ? e.oneLine : e instanceof Error ? e.message : String(e);
    this.changed();
  }
}

/** The read of a load gives the event loop a turn at least this often (keys, redraws, q). */
const YIELD_MS = 50;
/** The loading screen is redrawn at most this often. */
const REDRAW_MS = 250;

/** Thrown into the read when the user quits while it runs (not a failure: nothing is shown). */
class LoadCancelled extends Error {}

/**
 * Read the files in the background; the model says how far it got (bytes, lines, events, events by
 * kind, module references) and then holds the report. The read and the analyses run on this thread,
 * as in `analyze` (the parse on a second one with --threads 2): the report is the one `analyze`
 * gives, and the analyses' finish() closes what is still open (holds, waits, phases), so no report
 * is taken before the end of the input; meanwhile the Events screen shows the lines read so far.
 */
export function loadFiles(files: string[], opts: AnalysisOptions): TuiModel {
  const known = new Map<string, number>();
  const model: TuiModel = new TuiModel(files, new FileLineStore((f) => known.get(f) ?? model.progress[files.indexOf(f)]?.lines ?? null));
  let lastEmit = 0;
  let lastYield = Date.now();
  let stopped = false;
  const abort = new AbortController();
  model.onStop(() => {
    stopped = true;
    abort.abort(new LoadCancelled());
  });
  // One thread: buffered chunks are parsed back to back; a macrotask now and then lets keys and
  // redraws through (~1 per 50 ms, a cost well below 1 %). With the parse worker, each batch is a message.
  const pause = (): Promise<void> | null => {
    if (stopped) return Promise.reject(new LoadCancelled());
    if (Date.now() - lastYield < YIELD_MS) return null;
    return new Promise((resolve) =>
      setImmediate(() => {
        lastYield = Date.now();
        resolve();
      }),
    );
  };
  const onProgress = (p: ReadProgress): void => {
    const now = Date.now();
    // Redraw four times a second: a frame costs milliseconds, the parse must not wait for the screen.
    if (p.done || now - lastEmit > REDRAW_MS) {
      lastEmit = now;
      model.changed();
    }
  };
  const run = async () => {
    const r = await loadReport(files, opts, { soFar: model.soFar, series: model.series, onProgress, pause, signal: abort.signal, stopped: () => stopped });
    for (const [f, n] of r.lines) known.set(f, n);
    model.report = r.report;
    model.phase = 'ready';
    model.changed();
  };
  // Let the first frame (the loading screen) show before the parse takes the event loop.
  setTimeout(() => run().catch((e) => (e instanceof LoadCancelled || stopped ? undefined : model.fail(e))), 0);
  return model;
}

/** Lines of a live stream kept for the Events screen. */
export const LIVE_KEEP_LINES = 20_000;
/** Rebuild the report at most this often while events stream in. */
const SNAPSHOT_MS = 1000;

/**
 * `--follow`: stream one input; the report is rebuilt from the running analyses every second while
 * events arrive (and when the stream pauses), raw lines beyond the newest LIVE_KEEP_LINES are dropped.
 * Those reports are snapshots (AnalysisPipeline.report): locks held and waits open stay open; once
 * a pipe ends, the last report is the final one, as `analyze` gives it.
 */
export function followFile(file: string, opts: AnalysisOptions & { keepLines?: number; stdin?: Readable }): TuiModel {
  const ring = new RingLineStore(opts.keepLines ?? LIVE_KEEP_LINES);
  const model = new TuiModel([file === '-' ? '<stdin>' : file], ring);
  model.phase = 'live';
  model.live = { streaming: true, ended: false, lines: 0, bytes: 0, keptLines: 0, droppedLines: 0 };
  let dirty = false;
  /** No data since the last pause (LiveSource says when data stops; any new line ends the pause). */
  let idle = false;
  let lastSnapshot = 0;
  let snapshotCost = 0;
  let source: LiveSource | null = null;
  const run = async () => {
    const pipeline = await createAnalysis(opts);
    const snapshot = () => {
      if (!source) return;
      const t = Date.now();
      const info = source.info();
      // Until the input ends, a snapshot: it closes nothing that the events to come may still end.
      model.report = pipeline.report({ sources: [info], quality: source.ledger.snapshot() }, { snapshot: !source.ended });
      snapshotCost = Date.now() - t;
      lastSnapshot = Date.now();
      dirty = false;
    };
    const status = (streaming: boolean) => {
      if (!source || !model.live) return;
      model.live = {
        streaming,
        ended: source.ended,
        lines: source.lines,
        bytes: source.bytes,
        keptLines: Math.min(source.lines, ring.capacity),
        droppedLines: ring.dropped(source.name),
      };
    };
    source = new LiveSource(file, {
      stdin: opts.stdin,
      format: parseFormat(opts.format),
      onFormat: (format) => pipeline.sourceFormat(format),
      sink: (ev) => {
        pipeline.push(ev);
        model.series.push(ev);
        dirty = true;
      },
      onLine: (n, text) => {
        idle = false;
        ring.push(source?.name ?? file, n, text);
      },
      onIdle: () => {
        idle = true;
        // A quiet stream: nothing newer will re-order the held events, so pass them on now.
        pipeline.flush();
        snapshot();
        status(false);
        model.changed();
      },
    });
    const { done } = await source.start();
    const timer = setInterval(
      () => {
        // A report costs time on a big run: never spend more than a tenth of the time rebuilding it.
        if (dirty && Date.now() - lastSnapshot >= Math.max(SNAPSHOT_MS, snapshotCost * 10)) snapshot();
        status(!idle);
        model.changed();
      },
      Math.max(250, SNAPSHOT_MS / 2),
    );
    model.onStop(() => {
      clearInterval(timer);
      source?.stop();
      ring.close();
    });
    try {
      await done;
    } finally {
      clearInterval(timer);
    }
    pipeline.flush();
    snapshot();
    status(false);
    model.changed();
  };
  setTimeout(() => run().catch((e) => model.fail(e)), 0);
  return model;
}
