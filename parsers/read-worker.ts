// The parse worker of `analyze --threads 2` (parsers/threaded.ts): runs readTraces on the inputs
// it is given and streams the events back in the compact form of parsers/event-codec.ts, in order,
// with source starts and progress in the same stream, then the read result (or the error).
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { type BatchArrays, EventEncoder } from './event-codec.js';
import type { InputFormat } from './event.js';
import { InputError, readTraces } from './index.js';

export interface ReadWorkerData {
  paths: string[];
  format?: InputFormat;
  /** One Int32: batches posted and not yet consumed by the main thread (flow control). */
  flow: SharedArrayBuffer;
}

/** A batch is sent once it holds about this much (the main thread decodes it in a few ms). */
const BATCH_BYTES = 1 << 20;
/**
 * The first batch is sent at this size, and each next one twice the last up to BATCH_BYTES: the main
 * thread has nothing to analyze until the first batch comes, and a full one took ~140 ms of a cold
 * reader (issue 17).
 */
const FIRST_BATCH_BYTES = 1 << 15;
/** Batches in flight before the reader waits: bounds memory when the analysis is the slower side. */
const MAX_IN_FLIGHT = 4;

if (!parentPort) throw new Error('parsers/read-worker.js runs as a worker thread of `luotrace analyze`');
const port: MessagePort = parentPort;
const { paths, format, flow } = workerData as ReadWorkerData;
const inFlight = new Int32Array(flow);
const encoder = new EventEncoder();
let batchBytes = FIRST_BATCH_BYTES;

function send(): void {
  if (encoder.records === 0) return;
  for (;;) {
    const n = Atomics.load(inFlight, 0);
    if (n < MAX_IN_FLIGHT) break;
    Atomics.wait(inFlight, 0, n, 1000);
  }
  Atomics.add(inFlight, 0, 1);
  // The arrays of the batches the main thread has decoded come back (threaded.ts) to be written again.
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) encoder.recycle(m.message as BatchArrays);
  const { batch, transfer } = encoder.take();
  port.postMessage({ type: 'batch', batch }, transfer);
}

readTraces(
  paths,
  (ev) => {
    encoder.event(ev);
    if (encoder.size >= batchBytes) {
      send();
      batchBytes = Math.min(2 * batchBytes, BATCH_BYTES);
    }
  },
  {
    format,
    onSourceStart: (src, file, _clock, fmt) => encoder.control({ type: 'source', src, file, format: fmt }),
    onProgress: (p) => encoder.control({ type: 'progress', ...p }),
  },
).then(
  (result) => {
    send();
    port.postMessage({ type: 'done', result });
  },
  (e: unknown) => {
    send();
    const error =
      e instanceof InputError
        ? { input: true, file: e.file, message: e.message, line: e.line }
        : { input: false, message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined };
    port.postMessage({ type: 'error', error });
  },
);
