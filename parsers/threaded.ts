// readTraces on a second core: a worker thread reads, tokenizes and decodes the inputs
// (parsers/read-worker.ts) while this thread runs the analyses on the events it streams back
// (parsers/event-codec.ts). The events, their order, the read result and the errors are the same
// as readTraces' own; only stdin cannot be read this way (it belongs to the main thread).
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { EventDecoder, type EventBatch } from './event-codec.js';
import type { InputFormat } from './event.js';
import { InputError, type ReadOptions, type ReadProgress, type ReadResult, readTraces } from './index.js';
import type { EventSink } from './parser.js';
import type { ReadWorkerData } from './read-worker.js';
import { workerScript } from './worker-script.js';

export interface ThreadedReadOptions {
  format?: InputFormat;
  onSourceStart?: (src: number, file: string, format: InputFormat) => void;
  onProgress?: (p: ReadProgress) => void;
  /** ReadOptions.pause; with the worker, called between its batches. */
  pause?: ReadOptions['pause'];
  /** Aborting ends a read on the worker at once (the worker is terminated); the promise rejects with the reason. */
  signal?: AbortSignal;
}

const WORKER_YOUNG_GENERATION_MB = 8;

type WorkerMessage =
  | { type: 'batch'; batch: EventBatch }
  | { type: 'done'; result: ReadResult }
  | { type: 'error'; error: { input: true; file: string; message: string; line?: number } | { input: false; message: string; stack?: string } };

type Item = WorkerMessage | { type: 'fail'; error: Error } | { type: 'exit'; code: number };

type Control = ({ type: 'source'; src: number; file: string; format: InputFormat }) | ({ type: 'progress' } & ReadProgress);

/**
 * readTraces on this thread (1) or on a worker thread (2): the same events, order, result and
 * errors either way; the callers choose with `--threads` (resolveThreads below).
 */
export function readTracesOn(threads: 1 | 2, paths: string[], sink: EventSink, opts: ThreadedReadOptions = {}): Promise<ReadResult> {
  if (threads === 2) return readTracesThreaded(paths, sink, opts);
  const onSourceStart = opts.onSourceStart;
  return readTraces(paths, sink, {
    format: opts.format,
    onSourceStart: onSourceStart ? (src, file, _clock, format) => onSourceStart(src, file, format) : undefined,
    onProgress: opts.onProgress,
    pause: opts.pause,
  });
}

export function readTracesThreaded(paths: string[], sink: EventSink, opts: ThreadedReadOptions = {}): Promise<ReadResult> {
  if (paths.includes('-')) return Promise.reject(new InputError('<stdin>', 'standard input is read on the main thread only'));
  const flow = new SharedArrayBuffer(4);
  const inFlight = new Int32Array(flow);
  const data: ReadWorkerData = { paths, format: opts.format, flow };
  // A small young generation: nearly everything the reader allocates dies within a line, and on the
  // 1 GB bench trace 8 MB (V8's default is larger) kept peak RSS ~20 MB lower at the same speed.
  const script = workerScript(new URL('./read-worker.js', import.meta.url), new URL('../dist/parsers/read-worker.js', import.meta.url), 'the parse worker');
  const worker = new Worker(script, { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
  const decoder = new EventDecoder();
  const onControl = (value: unknown): void => {
    const c = value as Control;
    if (c.type === 'source') opts.onSourceStart?.(c.src, c.file, c.format);
    else if (c.type === 'progress') {
      const { type: _type, ...p } = c;
      opts.onProgress?.(p);
    }
  };
  return new Promise<ReadResult>((resolve, reject) => {
    let settled = false;
    const settle = (f: () => void): void => {
      if (settled) return;
      settled = true;
      f();
    };
    const handle = (m: Item): void => {
      if (m.type === 'batch') {
        try {
          decoder.decode(m.batch, sink, onControl);
          // The batch's arrays go back to the reader to be written again (EventEncoder.recycle).
          const { tags, ints, nums } = m.batch;
          worker.postMessage({ tags, ints, nums }, [tags.buffer as ArrayBuffer, ints.buffer as ArrayBuffer, nums.buffer as ArrayBuffer]);
        } catch (e) {
          // The analysis failed on an event: stop reading.
          settle(() => reject(e));
          void worker.terminate();
          return;
        } finally {
          Atomics.sub(inFlight, 0, 1);
          Atomics.notify(inFlight, 0);
        }
      } else if (m.type === 'done') {
        settle(() => resolve(m.result));
      } else if (m.type === 'fail') {
        settle(() => reject(m.error));
      } else if (m.type === 'exit') {
        settle(() => reject(new Error(`the parse worker stopped early (exit code ${m.code})`)));
      } else {
        const e = m.error;
        settle(() => {
          if (e.input) reject(new InputError(e.file, e.message, e.line));
          else {
            const err = new Error(e.message);
            if (e.stack) err.stack = e.stack;
            reject(err);
          }
        });
      }
    };
    // In arrival order. Node hands a port's queued messages over without returning to the event
    // loop, and the worker refills the queue as each batch is decoded: with opts.pause the batches
    // wait here while the loop takes a turn (the TUI's keys and redraws). Without it, all is synchronous.
    const queue: Item[] = [];
    let draining = false;
    const drain = async (): Promise<void> => {
      if (draining) return;
      draining = true;
      try {
        while (queue.length > 0 && !settled) {
          const m = queue.shift() as Item;
          handle(m);
          const held = m.type === 'batch' && !settled ? opts.pause?.() : null;
          if (held) {
            await held.catch((e: unknown) => {
              settle(() => reject(e));
              void worker.terminate();
            });
          }
        }
      } finally {
        draining = false;
      }
    };
    const enqueue = (m: Item): void => {
      if (settled) return;
      queue.push(m);
      void drain();
    };
    worker.on('message', enqueue);
    opts.signal?.addEventListener('abort', () => {
      settle(() => reject(opts.signal?.reason));
      void worker.terminate();
    });
    worker.on('error', (error) => enqueue({ type: 'fail', error }));
    worker.on('exit', (code) => enqueue({ type: 'exit', code }));
  });
}

/** Inputs at least this large (bytes on disk, all files) are read on a second thread under `--threads auto`. */
export const THREADED_MIN_BYTES = 8_000_000;

/** How many threads `--threads` means for these inputs (stdin, a pipe or a missing file: 1). */
export function resolveThreads(setting: string | undefined, files: string[]): 1 | 2 {
  if (setting === undefined || setting === '1' || files.includes('-')) return 1;
  if (setting === '2') return 2;
  if (availableParallelism() < 2) return 1;
  let bytes = 0;
  for (const f of files) {
    try {
      const st = statSync(f);
      if (st.isFile()) bytes += st.size;
    } catch {
      // Unreadable here: readTraces reports it, on either path.
    }
  }
  return bytes >= THREADED_MIN_BYTES ? 2 : 1;
}
