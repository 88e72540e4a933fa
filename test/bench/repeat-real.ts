// A big trace made from a real one, for `npm run bench` (issue 17): one real capture (samples/real/,
// Linux 7.2.13 with LUO under QEMU) written again and again, each copy's timestamps shifted past the
// end of the previous copy, until the output reaches the size asked. The event mix is the capture's
// own (lockdep, contention, rwsem and LUO kprobes, module refs, syscalls), which the generator's
// stress scenario does not reproduce.
//
//   node dist/test/bench/repeat-real.js --size 100MB -o OUT [--format F] [--from CAPTURE]
//
// --format picks the input shape, each from the same run (contention-no-writer, stage 1; see
// REAL_FORMATS): `ftrace` (the `trace` file, the default), `ftrace-tgid` (with the `(tgid)` column),
// `trace-pipe`, `trace-cmd` (`trace-cmd report`), `bpftrace` (text output), `bpftrace-json`
// (`-f json`), and `csv`: the bpftrace capture's printf lines as luotrace CSV (README "CSV input":
// one column per key, the probe in `event`), a conversion made here, labelled in its first line.
// The trimmed captures (2 MB) end mid-run; every copy ends where its capture does.
//
// The header (`#` lines, and the lines before the first line with a timestamp: trace-cmd's `cpus=N`,
// bpftrace's banner or `attached_probes` record, the CSV header row) is written once. Whole copies
// only (the last copy may pass the size by up to one capture). Not a capture: the bench names the
// output `*.repeated.*` (no line is added to the ftrace shapes, so format detection sees the real
// header).
import { closeSync, openSync, readFileSync, realpathSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { BPFTRACE_LOST } from '../../parsers/bpftrace-line.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** The real capture with the most events (~101 000, 11 MB). */
export const DEFAULT_CAPTURE = 'samples/real/contention-no-writer/stage1/ftrace-main.txt.gz';

const RUN = 'samples/real/contention-no-writer/stage1';
/** Each shape --format can write, and the capture of that run it is made from. */
export const REAL_FORMATS = {
  ftrace: DEFAULT_CAPTURE,
  'ftrace-tgid': `${RUN}/ftrace-tgid.trimmed.txt.gz`,
  'trace-pipe': `${RUN}/ftrace-trace_pipe.trimmed.txt.gz`,
  'trace-cmd': `${RUN}/trace-cmd-report.trimmed.txt.gz`,
  bpftrace: `${RUN}/bpftrace-events.txt.gz`,
  'bpftrace-json': `${RUN}/bpftrace-events.json.gz`,
  csv: `${RUN}/bpftrace-events.txt.gz`,
} as const;
export type RealFormat = keyof typeof REAL_FORMATS;

/** One event line cut around its timestamp's integer part: `before` + value + `after`. */
interface Cut {
  before: string;
  width: number;
  value: number;
  after: string;
}

/** ftrace shapes: ` 123.456789: ` after `[cpu]` and the flags column; whole seconds are shifted. */
const SECONDS = /^(.*?\[\d+\]\s+(?:\S+\s+)?)(\s*)(\d+)(\.\d+: .*)$/;
/** bpftrace text and JSON printf records: `ts=<ns>` (the first one of the line). */
const TS_NS = /^(.*? ts=)()(\d+)(\b.*)$/;
/** The CSV written here: `ts` is the first column. */
const CSV_NS = /^()()(\d+)(,.*)$/;

/** How a shape's timestamps are found, and their unit (ns per unit). */
function stampOf(format: RealFormat): { re: RegExp; unitNs: number } {
  if (format === 'bpftrace' || format === 'bpftrace-json') return { re: TS_NS, unitNs: 1 };
  if (format === 'csv') return { re: CSV_NS, unitNs: 1 };
  return { re: SECONDS, unitNs: 1e9 };
}

function cutLine(line: string, re: RegExp): Cut | string {
  const m = re.exec(line);
  if (!m) return line;
  return { before: m[1], width: m[2].length + m[3].length, value: Number(m[3]), after: m[4] };
}

const csvCell = (v: string | undefined): string => (v === undefined ? '' : /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/**
 * The printf lines of a bpftrace text capture as luotrace CSV (README "CSV input"): `ts`, the
 * context, `event` (the probe), then one column per other key in the order first seen. `Lost N
 * events` lines stay where they are, as bpftrace up to v0.23 writes them into the output its printf
 * writes to (docs/trace-formats.md §3.1); other lines that are not `probe key=value` events (banner,
 * the lab's start/end markers) have no row.
 */
export function bpftraceAsCsv(text: string, source: string): string {
  const rows: Array<Map<string, string> | string> = [];
  const columns = ['ts', 'cpu', 'pid', 'tid', 'comm', 'event'];
  const seen = new Set(columns);
  for (const line of text.split('\n')) {
    if (BPFTRACE_LOST.test(line)) {
      rows.push(line);
      continue;
    }
    const sp = line.indexOf(' ');
    if (sp < 0 || !/^(kprobe|kretprobe|tracepoint):/.test(line)) continue;
    const row = new Map<string, string>([['event', line.slice(0, sp)]]);
    // `key=value` pairs; a value runs to the next ` key=` (comms and names may hold spaces).
    const re = / ([A-Za-z_][\w.]*)=(.*?)(?= [A-Za-z_][\w.]*=|$)/g;
    for (let m = re.exec(line); m; m = re.exec(line)) {
      row.set(m[1], m[2]);
      if (!seen.has(m[1])) {
        seen.add(m[1]);
        columns.push(m[1]);
      }
    }
    rows.push(row);
  }
  const out = [`# real-derived: the printf lines of ${source} as luotrace CSV (test/bench/repeat-real.ts)`, columns.join(',')];
  for (const r of rows) out.push(typeof r === 'string' ? r : columns.map((c) => csvCell(r.get(c))).join(','));
  return `${out.join('\n')}\n`;
}

export function repeatCapture(text: string, size: number, write: (s: string) => void, format: RealFormat = 'ftrace'): { copies: number; bytes: number } {
  const { re, unitNs } = stampOf(format);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const cuts = lines.map((l) => (l.startsWith('#') ? l : cutLine(l, re)));
  const firstEvent = cuts.findIndex((c) => typeof c !== 'string');
  if (firstEvent < 0) throw new Error('the capture has no event line with a timestamp');
  const isHeader = (c: Cut | string, i: number) => typeof c === 'string' && (c.startsWith('#') || i < firstEvent);
  const header = cuts.filter(isHeader) as string[];
  const body = cuts.filter((c, i) => !isHeader(c, i));
  const values = body.flatMap((c) => (typeof c === 'string' ? [] : [c.value]));
  // Whole seconds, so the fractions are copied as printed; +1 s keeps copies apart.
  const span = Math.max(...values) - Math.min(...values);
  const shiftBy = (Math.ceil((span * unitNs) / 1e9) + 1) * (1e9 / unitNs);
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
      else parts.push(`${c.before}${String(c.value + shift).padStart(c.width)}${c.after}`);
    }
    out(`${parts.join('\n')}\n`);
    copies++;
  }
  return { copies, bytes };
}

/** The text of a capture (gunzipped when it is a .gz), as latin1: byte for byte. */
export function readCapture(path: string): string {
  const raw = readFileSync(path);
  return (raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw).toString('latin1');
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}

function main(): void {
  const size = Number(arg('--size', '100000000').replace(/MB$/i, 'e6').replace(/GB$/i, 'e9'));
  const outPath = arg('-o', '');
  const format = arg('--format', 'ftrace') as RealFormat;
  if (!outPath || !Number.isFinite(size) || !(format in REAL_FORMATS)) {
    throw new Error(`usage: repeat-real.js --size 100MB -o OUT [--format ${Object.keys(REAL_FORMATS).join('|')}] [--from CAPTURE]`);
  }
  const from = arg('--from', join(ROOT, REAL_FORMATS[format]));
  const raw = readCapture(from);
  const text = format === 'csv' ? bpftraceAsCsv(raw, from.replace(/^.*samples\//, 'samples/')) : raw;
  const fd = openSync(outPath, 'w');
  try {
    const r = repeatCapture(text, size, (s) => writeSync(fd, s, null, 'latin1'), format);
    process.stderr.write(`repeat-real: ${r.copies} copies of ${from} (${format}), ${r.bytes} bytes\n`);
  } finally {
    closeSync(fd);
  }
}

// Run as a script (argv[1] may be a path through a symlink), not when imported.
if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) main();
