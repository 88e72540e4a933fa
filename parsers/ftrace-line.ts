// ftrace event-line tokenizer: cuts `comm-pid [(tgid)] [cpu] [flags] timestamp: rest` into fields.
//
// Grammar: docs/trace-formats.md §1.3, from the kernel's `trace_print_context` (kernel/trace/trace_output.c):
//   comm "%16s" "-" pid "%-7d" (older kernels and trace-cmd: "%-5d"; wider pids overflow the column)
//   [ "(%7d) " | "(-------) " ]  TGID with options/record-tgid (older "(%5d)" / "(-----)")
//   "[%03d] "                     CPU
//   [ flags ]                     4, 5 or 7 chars with irq-info on; absent with irq-info off
//   " %5lu.%06lu" | " %12llu"     ns clocks | raw counters
//   ": " rest
// The same cut serves `trace`, `trace_pipe` and `trace-cmd report` (which differs only in widths and
// padding, §2). Like Perfetto's systrace tokenizer it is anchored on the `[cpu]` field and reads the
// comm as everything before `-pid`, because comms contain spaces, dashes, digits, slashes and
// brackets (§5 items 1-4). It is a hand-written scanner, not a regex: no backtracking, one pass,
// and only the comm and flags are copied out.
import { interned } from './intern.js';

const SPACE = 32;
const LBRACKET = 91;
const RBRACKET = 93;
const LPAREN = 40;
const RPAREN = 41;
const DASH = 45;
const COLON = 58;
const DOT = 46;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Flag characters: `.`, letters (irqs-off, need-resched, hard/soft irq) and hex preempt/migrate depths. */
function isFlagChar(c: number): boolean {
  return c === DOT || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

export interface ContextTokens {
  comm: string;
  pid: number;
  /** null when absent or printed as dashes (TGID unknown). */
  tgid: number | null;
  cpu: number;
  /** The irq-info flag column, e.g. `d..1.`, or null when irq-info is off. */
  flags: string | null;
  /** Timestamp digits: [tsStart, tsEnd) with the dot at tsDot (-1 for integer clocks). */
  tsStart: number;
  tsDot: number;
  tsEnd: number;
  /** Index of the first character after `": "` (or after the colon at end of line). */
  restStart: number;
}

/** Why a line that is not an event line failed; `none` means it had no `[cpu]` field at all. */
export type TokenizeFailure = 'none' | 'no-timestamp';

/**
 * Tokenize one line into `out`. Returns null on success, or why it failed. `out` is reused between
 * calls so the hot path allocates only the comm (and flags) strings.
 */
export function tokenizeFtraceLine(line: string, out: ContextTokens): TokenizeFailure | null {
  let sawCpu = false;
  for (let b = line.indexOf('['); b > 0; b = line.indexOf('[', b + 1)) {
    // [cpu]
    let j = b + 1;
    let cpu = 0;
    let c = line.charCodeAt(j);
    while (isDigit(c)) {
      cpu = cpu * 10 + (c - 48);
      c = line.charCodeAt(++j);
    }
    if (j === b + 1 || c !== RBRACKET) continue;
    const afterCpu = j + 1;

    // Left of [cpu]: optional (tgid), then -pid, then the comm.
    let k = b - 1;
    while (k >= 0 && line.charCodeAt(k) === SPACE) k--;
    if (k < 0) continue;
    let tgid: number | null = null;
    if (line.charCodeAt(k) === RPAREN) {
      const open = line.lastIndexOf('(', k);
      if (open < 0) continue;
      let t = open + 1;
      while (line.charCodeAt(t) === SPACE) t++;
      if (isDigit(line.charCodeAt(t))) {
        let v = 0;
        while (t < k && isDigit(line.charCodeAt(t))) v = v * 10 + (line.charCodeAt(t++) - 48);
        if (t !== k) continue;
        tgid = v;
      } else {
        while (t < k && line.charCodeAt(t) === DASH) t++;
        if (t !== k || line.charCodeAt(k - 1) !== DASH) continue;
      }
      k = open - 1;
      while (k >= 0 && line.charCodeAt(k) === SPACE) k--;
    }
    const pidEnd = k;
    while (k >= 0 && isDigit(line.charCodeAt(k))) k--;
    if (k === pidEnd || k < 0 || line.charCodeAt(k) !== DASH) continue;
    let pid = 0;
    for (let i = k + 1; i <= pidEnd; i++) pid = pid * 10 + (line.charCodeAt(i) - 48);
    let commStart = 0;
    while (commStart < k && line.charCodeAt(commStart) === SPACE) commStart++;
    sawCpu = true;

    // Right of [cpu]: [flags] timestamp ":"
    let p = afterCpu;
    while (line.charCodeAt(p) === SPACE) p++;
    let tokStart = p;
    let ch = line.charCodeAt(p);
    while (p < line.length && ch !== SPACE && ch !== COLON) ch = line.charCodeAt(++p);
    let flags: string | null = null;
    if (ch === SPACE) {
      // The token was the flag column.
      if (!validFlags(line, tokStart, p)) continue;
      flags = line.slice(tokStart, p);
      while (line.charCodeAt(p) === SPACE) p++;
      tokStart = p;
      ch = line.charCodeAt(p);
      while (p < line.length && ch !== SPACE && ch !== COLON) ch = line.charCodeAt(++p);
      if (ch !== COLON) continue;
    } else if (ch !== COLON) {
      continue;
    }
    // [tokStart, p) should be the timestamp; p is at the colon.
    let dot = -1;
    let ok = p > tokStart;
    for (let i = tokStart; i < p; i++) {
      const d = line.charCodeAt(i);
      if (d === DOT && dot < 0) dot = i;
      else if (!isDigit(d)) {
        ok = false;
        break;
      }
    }
    if (!ok && flags === null) {
      // Flags glued to the timestamp (`....316.196720:`), seen from atrace tooling (Perfetto test
      // `regex_pattern_no_gap_after_irq_flags`): try the usual flag widths.
      const glued = splitGluedFlags(line, tokStart, p);
      if (glued < 0) continue;
      flags = line.slice(tokStart, glued);
      tokStart = glued;
      dot = line.indexOf('.', glued);
      if (dot >= p) dot = -1;
      ok = true;
    }
    if (!ok || dot === tokStart || dot === p - 1) continue;
    const after = line.charCodeAt(p + 1);
    if (p + 1 < line.length && after !== SPACE) continue;

    // Most lines come from a few tasks: their comm is the string made for an earlier line.
    out.comm = interned.slice(line, commStart, k);
    out.pid = pid;
    out.tgid = tgid;
    out.cpu = cpu;
    out.flags = flags;
    out.tsStart = tokStart;
    out.tsDot = dot;
    out.tsEnd = p;
    out.restStart = p + 1 < line.length ? p + 2 : p + 1;
    return null;
  }
  return sawCpu ? 'no-timestamp' : 'none';
}

function validFlags(line: string, start: number, end: number): boolean {
  const n = end - start;
  if (n < 3 || n > 8) return false;
  for (let i = start; i < end; i++) if (!isFlagChar(line.charCodeAt(i))) return false;
  return true;
}

function splitGluedFlags(line: string, start: number, end: number): number {
  for (const width of [4, 5, 7]) {
    const cut = start + width;
    if (cut >= end || !validFlags(line, start, cut)) continue;
    let dots = 0;
    let ok = true;
    for (let i = cut; i < end; i++) {
      const d = line.charCodeAt(i);
      if (d === DOT) dots++;
      else if (!isDigit(d)) ok = false;
    }
    if (ok && dots === 1 && isDigit(line.charCodeAt(cut))) return cut;
  }
  return -1;
}

export function newContextTokens(): ContextTokens {
  return { comm: '', pid: 0, tgid: null, cpu: 0, flags: null, tsStart: 0, tsDot: -1, tsEnd: 0, restStart: 0 };
}

/**
 * `"text"` as one CSV field (quotes doubled inside) → text; null when the line is not exactly one
 * quoted field.
 */
export function unquoteCsvLine(line: string): string | null {
  let end = line.length;
  if (line.charCodeAt(end - 1) === 13) end--;
  if (end < 2 || line.charCodeAt(end - 1) !== 34) return null;
  const body = line.slice(1, end - 1);
  if (body.replace(/""/g, '').includes('"')) return null;
  return body.replace(/""/g, '"');
}
