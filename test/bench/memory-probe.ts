// Where does memory go while analyzing a large trace? Runs one stage of the analyze pipeline at a
// time over FILE and prints process.memoryUsage() every few seconds: if `rss` grows with the input
// while `heapUsed` stays flat, the growth is `external`, i.e. strings outside the V8 heap. Lines are
// sliced out of one string per 1 MiB read chunk, and Node makes strings of that size external; any
// line field (a session name, a file_set or lock pointer: 13 characters or more, so V8 slices rather
// than copies) kept in a report record then keeps its whole chunk alive.
//
//   node dist/test/bench/memory-probe.js FILE [parse|calls|luo|locks|all] [--every SECONDS]
import { LuoCallTracker } from '../../analyses/stream/luo-calls.js';
import { LuoAnalysis } from '../../analyses/luo/luo.js';
import { createLockAnalysis } from '../../analyses/locks/locks.js';
import { ReorderBuffer } from '../../analyses/stream/order.js';
import type { TraceEvent } from '../../parsers/event.js';
import { readTraces } from '../../parsers/index.js';

const [file, stage = 'all'] = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--every');
const everyIdx = process.argv.indexOf('--every');
const every = everyIdx > 0 ? Number(process.argv[everyIdx + 1]) : 5;
if (!file || !['parse', 'calls', 'luo', 'locks', 'all'].includes(stage)) {
  process.stderr.write('usage: memory-probe FILE [parse|calls|luo|locks|all] [--every SECONDS]\n');
  process.exit(2);
}

const MB = (x: number): string => (x / 1048576).toFixed(0).padStart(5);
const t0 = performance.now();
const report = (what: string): void => {
  const m = process.memoryUsage();
  process.stdout.write(`${what.padStart(6)} ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s  rss ${MB(m.rss)} MB  heapUsed ${MB(m.heapUsed)} MB  external ${MB(m.external)} MB  arrayBuffers ${MB(m.arrayBuffers)} MB\n`);
};
const timer = setInterval(() => report(stage), every * 1000);

const calls = new LuoCallTracker();
const luo = stage === 'luo' || stage === 'all' ? new LuoAnalysis({ calls }) : null;
const locks = stage === 'locks' || stage === 'all' ? createLockAnalysis({ calls }) : null;
const track = stage !== 'parse';
const ordered = new ReorderBuffer((ev: TraceEvent) => {
  if (track) calls.push(ev);
  luo?.push(ev);
  locks?.push(ev);
});
await readTraces([file], (ev) => ordered.push(ev), { onSourceStart: () => ordered.setWindow(0) });
ordered.flush();
clearInterval(timer);
report('end');
