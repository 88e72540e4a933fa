// A big trace made from a real one, for `npm run bench` (issue 17): one real ftrace capture
// (samples/real/, Linux 7.2.13 with LUO under QEMU) written again and again, each copy's
// timestamps shifted past the end of the previous copy, until the output reaches the size asked.
// The event mix is the capture's own (lockdep, contention, rwsem and LUO kprobes, module refs,
// syscalls), which the generator's stress scenario does not reproduce.
//
//   node dist/test/bench/repeat-real.js --size 100MB -o OUT [--from samples/real/.../ftrace-main.txt.gz]
//
// The header (`#` lines) is written once. Whole copies only (the last copy may pass the size by up to
// one capture), so every copy's sessions and lock sections are complete. Not a capture: the bench
// names the output `*.repeated.txt` (no line is added, so format detection sees the real header).
import { closeSync, openSync, readFileSync, realpathSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** The real capture with the most events (~101 000, 11 MB). */
export const DEFAULT_CAPTURE = 'samples/real/contention-no-writer/stage1/ftrace-main.txt.gz';

/** One event line cut around its timestamp's whole seconds: `before` + seconds + `after` (from the dot). */
interface Cut {
  before: string;
  width: number;
  seconds: number;
  after: string;
}

/** ` 123.456789: ` right after the flags column; null for lines without one (kept verbatim). */
const TIMESTAMP = /^(.*?\[\d+\]\s+(?:\S+\s+)?)(\s*)(\d+)(\.\d+: .*)$/;

function cutLine(line: string): Cut | string {
  const m = TIMESTAMP.exec(line);
  if (!m) return line;
  return { before: m[1], width: m[2].length + m[3].length, seconds: Number(m[3]), after: m[4] };
}

export function repeatCapture(text: string, size: number, write: (s: string) => void): { copies: number; bytes: number } {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const header = lines.filter((l) => l.startsWith('#'));
  const body = lines.filter((l) => !l.startsWith('#')).map(cutLine);
  const secs = body.flatMap((c) => (typeof c === 'string' ? [] : [c.seconds]));
  if (secs.length === 0) throw new Error('the capture has no event line with a timestamp');
  // Whole seconds, so the microseconds are copied as printed; +1 keeps copies apart.
  const shiftBy = Math.max(...secs) - Math.min(...secs) + 1;
  let bytes = 0;
  const out = (s: string) => {
    write(s);
    bytes += Buffer.byteLength(s);
  };
  out(`${header.join('\n')}\n`);
  let copies = 0;
  while (bytes < size || copies === 0) {
    const shift = copies * shiftBy;
    const parts: string[] = [];
    for (const c of body) {
      if (typeof c === 'string') parts.push(c);
      else parts.push(`${c.before}${String(c.seconds + shift).padStart(c.width)}${c.after}`);
    }
    out(`${parts.join('\n')}\n`);
    copies++;
  }
  return { copies, bytes };
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}

function main(): void {
  const size = Number(arg('--size', '100000000').replace(/MB$/i, 'e6').replace(/GB$/i, 'e9'));
  const outPath = arg('-o', '');
  if (!outPath || !Number.isFinite(size)) throw new Error('usage: repeat-real.js --size 100MB -o OUT [--from CAPTURE]');
  const from = arg('--from', join(ROOT, DEFAULT_CAPTURE));
  const raw = readFileSync(from);
  const text = (raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw).toString('latin1');
  const fd = openSync(outPath, 'w');
  try {
    const r = repeatCapture(text, size, (s) => writeSync(fd, s, null, 'latin1'));
    process.stderr.write(`repeat-real: ${r.copies} copies of ${from}, ${r.bytes} bytes\n`);
  } finally {
    closeSync(fd);
  }
}

// Run as a script (argv[1] may be a path through a symlink), not when imported.
if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) main();
