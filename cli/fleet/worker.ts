// A fleet worker thread: analyzes the hosts the main thread hands it, one at a time, and posts
// back each host summary (plain JSON data: the structured clone carries it to the main thread).
import { parentPort } from 'node:worker_threads';
import type { HostTask } from './hosts.js';
import { type FleetAnalyzeOptions, summarizeHost } from './summarize.js';

export interface WorkRequest {
  index: number;
  task: HostTask;
  options: FleetAnalyzeOptions;
}

const port = parentPort;
if (!port) throw new Error('cli/fleet/worker.js runs as a worker thread of `luotrace fleet`');
port.on('message', (req: WorkRequest) => {
  void summarizeHost(req.task, req.options).then((result) => port.postMessage({ index: req.index, result }));
});
