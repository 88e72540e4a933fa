// Two calibration readers for `npm run bench`: what Node itself reaches on the bench file before
// any luotrace code runs, so the issue #8 targets can be read against the runtime's own ceiling.
//
//   node dist/test/bench/node-floors.js lines FILE   read 1 MiB chunks, count newlines (one
//                                                     latin1 string per chunk, String.indexOf):
//                                                     the fastest a Node program found the lines
//   node dist/test/bench/node-floors.js regex FILE   "a plain regex-per-line reader in Node" (the
//                                                     issue's words): readline plus one anchored
//                                                     regex per line splitting the ftrace fields
// Each prints one line: lines counted (and lines matched).
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { createInterface } from 'node:readline';

function countLines(file: string): number {
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let lines = 0;
  for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; n = readSync(fd, buf, 0, buf.length, null)) {
    // One latin1 string per chunk and String.indexOf: about twice as fast here as Buffer.indexOf
    // per newline (a native call each), so the floor is the faster of the two.
    const text = buf.toString('latin1', 0, n);
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
  }
  closeSync(fd);
  return lines;
}

/** comm-pid [cpu] flags timestamp: event: payload (docs/trace-formats.md §1.3, written the obvious way). */
const FTRACE_LINE = /^\s*(.+)-(\d+)\s+\[(\d+)\]\s+(\S+)\s+(\d+\.\d+): (\w+): (.*)$/;

async function regexLines(file: string): Promise<[number, number]> {
  let lines = 0;
  let matched = 0;
  const rl = createInterface({ input: createReadStream(file, { highWaterMark: 1 << 20 }), crlfDelay: Infinity });
  for await (const line of rl) {
    lines++;
    if (FTRACE_LINE.exec(line)) matched++;
  }
  return [lines, matched];
}

async function main(): Promise<void> {
  const [mode, file] = process.argv.slice(2);
  if (!file || (mode !== 'lines' && mode !== 'regex')) throw new Error('usage: node-floors.js lines|regex FILE');
  if (mode === 'lines') console.log(`${countLines(file)} lines`);
  else {
    const [lines, matched] = await regexLines(file);
    console.log(`${lines} lines, ${matched} matched`);
  }
}

main().catch((e) => {
  process.stderr.write(`node-floors: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
