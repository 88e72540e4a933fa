// The fast path of bpftrace printf lines (issue 17): the line nearly every event of the lab's script
// and of `cli/record/luotrace.bt` prints,
//   <type>:<target> ts=<ns> cpu=<n> pid=<n> tid=<n> comm=<comm> key=value ...
// (docs/trace-formats.md §3.1), cut without splitting the context into an object, and its event
// decoded once per distinct `probe` + `key=value ...` text. Anything else (another key order, a
// quoted comm, a comm with spaces, a value with a sign) is declined and takes the string path
// (bpftrace-text.ts printfLine), which gives it its full treatment. The cut follows splitKeyValues
// (kv-record.ts): a line accepted here has the same keys and values there.
import type { TraceEvent } from './event.js';
import { MEMO_KINDS, sharedFields } from './ftrace-bytes.js';
import { CONTEXT_KEYS, identEnd } from './kv-record.js';

/**
 * bpftrace's count of the events its perf ring buffer dropped (`TextOutput::lost_events`, BT
 * src/output/text.cpp; docs/trace-formats.md §3.1). It goes to the script's own output up to v0.23
 * (since v0.24 to stderr), so it sits among the printf lines, text or CSV, where the loss happened.
 */
export const BPFTRACE_LOST = /^Lost (\d+) events?\s*$/;
/** Banners and diagnostics bpftrace itself prints (to stdout up to v0.23, to stderr since v0.24). */
export const BPFTRACE_INFO =
  /^(Attaching \d+ probes?\.\.\.|Attached \d+ probes?|WARNING: |Warning: |WARN: |cannot attach |Error attaching|ERROR: |\S+\.bt:\d+(:\d+(-\d+)?)?: (WARNING|ERROR)|stdin:\d+)/;

const SPACE = 32;
const EQUALS = 61;

/** Where the parts of one line are; refilled per line. */
export interface PrintfTokens {
  probeEnd: number;
  tsStart: number;
  tsEnd: number;
  cpu: number;
  pid: number;
  tid: number;
  commStart: number;
  commEnd: number;
  /** The first `key=` after the context (the line's length when there is none). */
  restStart: number;
}

export function newPrintfTokens(): PrintfTokens {
  return { probeEnd: 0, tsStart: 0, tsEnd: 0, cpu: 0, pid: 0, tid: 0, commStart: 0, commEnd: 0, restStart: 0 };
}

/**
 * Probe types whose lines this path takes (the long names bpftrace's `probe` builtin prints). None
 * can begin what printfLine reads as something else (`Lost N events`, banners, warnings, markers).
 */
function typedProbe(text: string): boolean {
  switch (text.charCodeAt(0)) {
    case 116 /* t */:
      return text.startsWith('tracepoint:');
    case 107 /* k */:
      return text.startsWith('kprobe:') || text.startsWith('kretprobe:');
    case 102 /* f */:
      return text.startsWith('fentry:') || text.startsWith('fexit:');
    default:
      return false;
  }
}

/** End of the digits from `i` (at most 15 of them, else -1). */
function digitsEnd(text: string, i: number): number {
  let j = i;
  for (let c = text.charCodeAt(j); c >= 48 && c <= 57; c = text.charCodeAt(++j));
  return j - i > 15 ? -1 : j;
}

/** An integer field `key=digits ` at `p` (`key` with its `=`); the index after its space, or -1. */
function intField(text: string, p: number, key: string): number {
  if (!text.startsWith(key, p)) return -1;
  const s = p + key.length;
  const e = digitsEnd(text, s);
  if (e <= s || text.charCodeAt(e) !== SPACE) return -1;
  let v = 0;
  for (let i = s; i < e; i++) v = v * 10 + (text.charCodeAt(i) - 48);
  lastInt = v;
  return e + 1;
}
let lastInt = 0;

/** A `key=` at `i`, a key as splitKeyValues reads one (kv-record.ts identEnd: not starting with a digit or a dot). */
function startsKey(text: string, i: number): boolean {
  const e = identEnd(text, i);
  return e > i && text.charCodeAt(e) === EQUALS;
}

/** Cut `text` into `out`; false when it is not the common shape (see the top of the file). */
export function tokenizePrintf(text: string, out: PrintfTokens): boolean {
  if (!typedProbe(text)) return false;
  const sp = text.indexOf(' ');
  if (sp <= 0 || text.lastIndexOf('=', sp - 1) >= 0) return false;
  const ts = sp + 1 + 3;
  if (!text.startsWith('ts=', sp + 1)) return false;
  const tsEnd = digitsEnd(text, ts);
  if (tsEnd <= ts || text.charCodeAt(tsEnd) !== SPACE) return false;
  let p = intField(text, tsEnd + 1, 'cpu=');
  if (p < 0) return false;
  out.cpu = lastInt;
  p = intField(text, p, 'pid=');
  if (p < 0) return false;
  out.pid = lastInt;
  p = intField(text, p, 'tid=');
  if (p < 0) return false;
  out.tid = lastInt;
  if (!text.startsWith('comm=', p)) return false;
  const commStart = p + 5;
  let commEnd = text.indexOf(' ', commStart);
  let rest = text.length;
  if (commEnd < 0) {
    commEnd = rest; // the comm ends the line (a probe with no fields of its own)
  } else {
    rest = commEnd + 1;
    while (text.charCodeAt(rest) === SPACE) rest++;
    // The comm ends at its space only when a key follows (else it holds a space: the string path).
    if (!startsKey(text, rest)) return false;
  }
  // An empty or quoted comm: the string path.
  if (commEnd === commStart || text.charCodeAt(commStart) === 34) return false;
  out.probeEnd = sp;
  out.tsStart = ts;
  out.tsEnd = tsEnd;
  out.commStart = commStart;
  out.commEnd = commEnd;
  out.restStart = rest;
  return true;
}

/** Does a `key=value` record name a context key (which would override the context cut above)? */
export function hasContextKey(kv: Record<string, string>): boolean {
  for (const k of CONTEXT_KEYS) if (Object.hasOwn(kv, k)) return true;
  return false;
}

/** Entries before the memo starts over; longest `key=value ...` text kept. */
const MEMO_MAX = 4096;
const MEMO_KEY_MAX = 256;

/**
 * The decoded event of each `probe` + `key=value ...` text seen (for CSV input: each `event` + the
 * text of the cells after the context, csv.ts restOf), for the kinds whose fields are a
 * function of that text alone and never changed after decoding (ftrace-bytes.ts MEMO_KINDS): a
 * capture repeats a few hundred of them (the same locks, rwsems, probes). Bounded: it starts over
 * when full.
 */
export class PrintfMemo {
  private byProbe = new Map<string, Map<string, TraceEvent>>();
  private size = 0;

  find(probe: string, rest: string): TraceEvent | undefined {
    return this.byProbe.get(probe)?.get(rest);
  }

  store(probe: string, rest: string, ev: TraceEvent): void {
    if (rest.length > MEMO_KEY_MAX || !MEMO_KINDS.has(ev.kind)) return;
    if (this.size >= MEMO_MAX) {
      this.byProbe = new Map();
      this.size = 0;
    }
    let m = this.byProbe.get(probe);
    if (!m) this.byProbe.set(probe, (m = new Map()));
    m.set(rest, ev);
    this.size++;
    sharedFields.add(ev.fields);
  }
}
