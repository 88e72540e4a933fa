// function_graph tracer lines (`current_tracer=function_graph`), docs/trace-formats.md §1.8.
//
// Layout, every column optional except the call: [abstime " |"] [" N)"] [" comm-pid |"]
// [mark duration " |"] indent call. Calls are `func() {` (entry), `func();` (leaf), `}` or
// `} /* func */` (exit, funcgraph-tail), with ` /* ret=0x… */` / `} /* func ret=… */` from
// funcgraph-retval (≥ 6.5), and events recorded alongside print as `/* name: payload */` comments
// (real lifecycle capture ftrace-fgraph.txt: `/* module_get: luo_demo call_site=… refcnt=3 */`).
// Durations carry the overhead mark `$@*#!+` (K-out trace_find_mark) and can lose their decimals
// at large values (`52999.05 us`, `1000131 us`). Task-switch separators and irq arrows are
// recognised but are not events.
import type { TraceEvent } from './event.js';
import { type EventContext, decodeNamedEvent, makeEvent } from './payloads.js';

export type GraphLineResult =
  | { type: 'event'; event: TraceEvent }
  | { type: 'separator' }
  | { type: 'invalid' };

const ABS_TIME = /^\s*(\d+)\.(\d+) \|/;
/** The latency tracers with display-graph print the time relative to the trace start: `   3 us |`. */
const REL_TIME = /^\s*(\d+) us \|/;
/** The irq-info flags column of display-graph lines: `  d..1 |` (4 or 5 characters). */
const FLAGS_COL = /^\s*[.a-zA-Z0-9]{4,5}\s*$/;
const CPU_COL = /^\s*(\d+)\)/;
const PROC_COL = /^\s*(.*\S)-(\d+)\s*$/;
const DURATION = /^\s*([$@*#!+])?\s*(\d+(?:\.\d+)?) us\s*$/;

/** Per-CPU stacks of open calls, to name the exit lines that do not repeat the function. */
export class GraphState {
  private readonly open = new Map<number, string[]>();
  push(cpu: number, func: string): void {
    let s = this.open.get(cpu);
    if (!s) this.open.set(cpu, (s = []));
    if (s.length < 512) s.push(func);
  }
  pop(cpu: number): string | null {
    return this.open.get(cpu)?.pop() ?? null;
  }
}

/** True when the line has the function_graph shape (used by format detection and as a fallback). */
export function looksLikeGraphLine(line: string): boolean {
  const abs = ABS_TIME.exec(line) ?? REL_TIME.exec(line);
  const rest = abs ? line.slice(abs[0].length) : line;
  const cpu = CPU_COL.exec(rest);
  if (!cpu) return false;
  const body = rest.slice(cpu[0].length);
  return body.includes('|') || /^\s+(\S+\(.*\)\s*[{;]|})/.test(body);
}

export function parseGraphLine(
  line: string,
  ctxBase: EventContext,
  state: GraphState,
  toNs: (line: string, start: number, dot: number, end: number) => number,
): GraphLineResult {
  const trimmed = line.trim();
  if (/^-{10,}$/.test(trimmed) || /^(=+>|<=+)$/.test(trimmed)) return { type: 'separator' };
  let rest = line;
  let time: number | null = null;
  const abs = ABS_TIME.exec(rest);
  if (abs) {
    const start = abs[0].indexOf(abs[1]);
    const dot = start + abs[1].length;
    time = toNs(abs[0], start, dot, dot + 1 + abs[2].length);
    rest = rest.slice(abs[0].length);
  } else {
    const rel = REL_TIME.exec(rest);
    if (rel) {
      // Microseconds since the start of the latency trace, as the latency format's own lines (latency.ts).
      time = Number(rel[1]) * 1000;
      rest = rest.slice(rel[0].length);
    }
  }
  const cpuMatch = CPU_COL.exec(rest);
  if (!cpuMatch) return { type: 'invalid' };
  const cpu = Number(cpuMatch[1]);
  rest = rest.slice(cpuMatch[0].length);
  // Context switch marker ` 0)  platfor-3210  =>  vmstat-2854`
  if (/^\s+\S.*-\d+\s+=>\s+\S.*-\d+\s*$/.test(rest)) return { type: 'separator' };

  let comm: string | null = ctxBase.comm;
  let pid: number | null = ctxBase.pid;
  let durationNs: number | null = null;
  let body: string;
  const bar1 = rest.indexOf('|');
  if (bar1 < 0) {
    body = rest; // `funcgraph -D`: no duration column
  } else {
    const seg1 = rest.slice(0, bar1);
    const proc = PROC_COL.exec(seg1);
    let durSeg = seg1;
    let after = bar1 + 1;
    if (proc && !DURATION.test(seg1)) {
      comm = proc[1].trim();
      pid = Number(proc[2]);
      let bar2 = rest.indexOf('|', after);
      if (bar2 < 0) return { type: 'invalid' };
      durSeg = rest.slice(after, bar2);
      if (FLAGS_COL.test(durSeg)) {
        // display-graph under a latency tracer: a flags column between task and duration
        after = bar2 + 1;
        bar2 = rest.indexOf('|', after);
        if (bar2 < 0) return { type: 'invalid' };
        durSeg = rest.slice(after, bar2);
      }
      after = bar2 + 1;
    }
    if (durSeg.trim() !== '') {
      const d = DURATION.exec(durSeg);
      if (!d) return { type: 'invalid' };
      durationNs = Math.round(Number(d[2]) * 1000);
    }
    body = rest.slice(after);
  }
  const indent = body.length - body.trimStart().length;
  const depth = Math.max(0, Math.floor((indent - 1) / 2));
  const call = body.trim();
  const ctx: EventContext = { ...ctxBase, time, cpu, comm, pid };

  // `/* name: payload */`: an event recorded alongside (print_graph_comment); without an event name it
  // is a trace_printk()/trace_marker text, the ftrace `print` event (`/* I'm a comment! */`).
  if (call.startsWith('/*') && call.endsWith('*/')) {
    const inner = call.slice(2, -2).trim();
    const colon = inner.indexOf(': ');
    if (colon > 0 && /^[\w.]+$/.test(inner.slice(0, colon))) {
      return { type: 'event', event: decodeNamedEvent(inner.slice(0, colon), inner.slice(colon + 2), ctx) };
    }
    return { type: 'event', event: makeEvent('marker', 'print', ctx, { text: inner }) };
  }
  if (call.startsWith('}')) {
    const c = /^}\s*(?:\/\*\s*(.*?)\s*\*\/)?$/.exec(call);
    if (!c) return { type: 'invalid' };
    const popped = state.pop(cpu);
    const tail = c[1] ? exitComment(c[1]) : { func: null, ret: null };
    return { type: 'event', event: makeEvent('funcgraph_exit', 'funcgraph_exit', ctx, { func: tail.func ?? popped, depth, durationNs, ret: tail.ret }) };
  }
  const open = call.indexOf('(');
  if (open <= 0) return { type: 'invalid' };
  const func = call.slice(0, open);
  if (call.endsWith('{')) {
    state.push(cpu, func);
    return { type: 'event', event: makeEvent('funcgraph_entry', 'funcgraph_entry', ctx, { func, depth, durationNs: null, ret: null }) };
  }
  // funcgraph-retval: `func(); /* = 0x0 */` (6.5), `func(); /* ret=0x0 */` (later kernels)
  const leaf = /\);\s*(?:\/\*\s*(?:ret=|= ?)(\S+)\s*\*\/)?$/.exec(call);
  if (!leaf) return { type: 'invalid' };
  return { type: 'event', event: makeEvent('funcgraph_leaf', 'funcgraph_leaf', ctx, { func, depth, durationNs, ret: leaf[1] ?? null }) };
}

/**
 * The comment after an exit's `}`: funcgraph-tail `kmem_cache_free()` (parentheses up to 6.x) or
 * `kmem_cache_free`, and with funcgraph-retval `cgroup_migrate = -22` (6.5,
 * kernel/trace/trace_functions_graph.c print_graph_retval) or `cgroup_migrate ret=-22` (later).
 */
function exitComment(text: string): { func: string | null; ret: string | null } {
  let func: string | null = null;
  let ret: string | null = null;
  let body = text;
  const r = /(?:^|\s)(?:= ?|ret=)(\S+)$/.exec(body);
  if (r) {
    ret = r[1];
    body = body.slice(0, r.index).trim();
  }
  if (/^\S+$/.test(body)) func = body.endsWith('()') ? body.slice(0, -2) : body;
  return { func, ret };
}
