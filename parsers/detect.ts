// Format detection by sniffing the first lines of an input (overridable with --format).
//
// Each candidate format has cheap, specific evidence (docs/trace-formats.md §1-§4); the lines are scored
// and the best-supported format wins. Prose around the data (perf-tools example files, mails) and
// shell prompts do not count for anything, so a sample with a paragraph before the trace still
// detects. The evidence is returned so `events --summary` can say why a format was chosen.
import type { InputFormat } from './event.js';
import { newContextTokens, tokenizeFtraceLine, unquoteCsvLine } from './ftrace-line.js';
import { looksLikeConsoleLine } from './console.js';
import { looksLikeGraphLine } from './function-graph.js';
import { looksLikeLatencyLine } from './latency.js';
import { looksLikePerfSample } from './perf-script.js';

export interface Detection {
  format: InputFormat;
  evidence: string;
}

const SNIFF_LINES = 400;

/** perf script: `comm  pid [cpu] ts: sys:event: payload` (system-qualified name, §4). */
const PERF_SCRIPT = /^\s*\S.*?\s+\d+(?:\/\d+)?\s+\[\d+\]\s+\d+\.\d+:\s+(?:\d+\s+)?[\w-]+:[\w-]+:/;
/** The lab's bpftrace printf shape: `probe ts=<ns> ... key=value` (real README §2). */
const BPFTRACE_EVENT = /^[\w:.-]+ (?:\w+=\S*\s?)*ts=\d+/;
/** bpftrace map dump line: `@name: 5`, `@name[key]: 5`, or a histogram header `@name:`. */
const BPFTRACE_MAP = /^@[\w]*(\[.*\])?:( .*)?$/;
const CSV_HEADER_NAMES = /(^|,)\s*"?(time|ts|timestamp|time_ns|event|probe|name|kind)"?\s*(,|$)/i;

export function detectFormat(head: string): Detection | null {
  const lines: string[] = [];
  let from = 0;
  while (lines.length < SNIFF_LINES && from < head.length) {
    const nl = head.indexOf('\n', from);
    if (nl < 0) {
      // The last piece may be cut by the sniff window; still useful if long enough.
      const tail = head.slice(from);
      if (tail.length > 40) lines.push(tail);
      break;
    }
    lines.push(head.slice(from, nl).replace(/\r$/, '').replace(/^\uFEFF/, ''));
    from = nl + 1;
  }
  const nonEmpty = lines.filter((l) => l.trim().length > 0);
  if (nonEmpty.length === 0) return null;
  const first = nonEmpty[0];

  if (first.startsWith('{') && /"type"\s*:/.test(first)) return { format: 'bpftrace-json', evidence: 'first line is a bpftrace JSON record' };
  // bpftrace's test expectations pretty-print the same records over several lines (docs/trace-formats.md §3.2).
  if (first.trim() === '{' && nonEmpty.length > 1 && /^\s*"type"\s*:\s*"(map|hist|stats|tseries|printf|attached_probes|lost_events|value)"/.test(nonEmpty[1])) {
    return { format: 'bpftrace-json', evidence: 'a pretty-printed bpftrace JSON record' };
  }
  // CSV: the first line that is not a `#` comment is the header row (a provenance comment may precede it).
  const firstData = nonEmpty.find((l) => !l.startsWith('#')) ?? '';
  if (firstData.includes(',') && CSV_HEADER_NAMES.test(firstData) && !tokenizeOk(firstData)) {
    return { format: 'csv', evidence: `CSV header row: ${firstData.slice(0, 60)}` };
  }

  const score: Record<string, number> = {};
  const why: Record<string, string> = {};
  const add = (f: string, w: number, evidence: string) => {
    score[f] = (score[f] ?? 0) + w;
    if (!why[f]) why[f] = evidence;
  };
  const tok = newContextTokens();
  let tracer: string | null = null;
  for (const raw of nonEmpty) {
    // A one-column CSV of trace lines (Perfetto's to_ftrace export) is read as the lines inside.
    const line = raw.charCodeAt(0) === 34 ? (unquoteCsvLine(raw) ?? raw) : raw;
    if (line.startsWith('# tracer: ')) {
      tracer = line.slice(10).trim();
      if (tracer === 'function_graph') add('function-graph', 50, '`# tracer: function_graph` header');
      else add('ftrace', 50, `\`# tracer: ${tracer}\` header`);
      continue;
    }
    if (/ latency trace v\d/.test(line)) {
      add('latency', 60, 'latency-trace header');
      continue;
    }
    if (/^cpus=\d+\s*$/.test(line) || /^version = \d+\s*$/.test(line)) {
      add('trace-cmd', 60, `trace-cmd report preamble \`${line.trim()}\``);
      continue;
    }
    if (/^(Attaching \d+ probes?\.\.\.|Attached \d+ probes?)/.test(line)) {
      add('bpftrace', 60, `bpftrace banner \`${line.trim()}\``);
      continue;
    }
    if (line.startsWith('#')) continue;
    if (looksLikeConsoleLine(line)) {
      add('console', 2, 'kernel log lines `[ seconds.micro] text`');
      continue;
    }
    if (PERF_SCRIPT.test(line)) {
      add('perf-script', 3, 'perf script lines with system-qualified event names');
      continue;
    }
    if (looksLikePerfSample(line)) {
      add('perf-script', 3, 'perf script sample lines (sampling or tracepoint events)');
      continue;
    }
    if (tokenizeFtraceLine(line, tok) === null) {
      // trace-cmd pads the event name to 20 columns and prints pointers with 0x (§2).
      const rest = line.slice(tok.restStart);
      if (/^[\w.]+: {2,}/.test(rest)) add('trace-cmd', 2, 'event names padded to 20 columns (trace-cmd report)');
      else add('event-lines', 2, 'ftrace event lines without a `# tracer:` header (trace_pipe)');
      continue;
    }
    if (looksLikeGraphLine(line)) {
      add('function-graph', 2, 'function_graph call lines');
      continue;
    }
    if (looksLikeLatencyLine(line)) {
      add('latency', 1, 'latency-format lines');
      continue;
    }
    if (BPFTRACE_EVENT.test(line)) {
      add('bpftrace', 2, 'bpftrace printf lines `probe ts=... key=value`');
      continue;
    }
    if (BPFTRACE_MAP.test(line)) add('bpftrace', 1, 'bpftrace map output `@name[...]: value`');
  }

  // Event lines under a `# tracer:` header are the `trace` file; without one, trace_pipe.
  if (score['event-lines']) {
    if (score.ftrace) add('ftrace', score['event-lines'], '');
    else if (score['trace-cmd']) add('trace-cmd', score['event-lines'], '');
    else add('trace-pipe', score['event-lines'], why['event-lines']);
    delete score['event-lines'];
  }
  if (score.ftrace && score['trace-cmd'] && tracer === null) delete score.ftrace;
  const ranked = Object.entries(score).sort((a, b) => b[1] - a[1]);
  if (ranked.length === 0) return null;
  const [best] = ranked[0];
  return { format: best as InputFormat, evidence: why[best] ?? best };
}

function tokenizeOk(line: string): boolean {
  return tokenizeFtraceLine(line, newContextTokens()) === null;
}
