// Per-task stacks of open LUO function calls, from whichever function probes a trace has:
// kprobe/kretprobe, fentry/fexit, function_graph entry/exit/leaf, bpftrace kprobe/kretprobe lines.
//
// Every LUO analysis needs to know, at a given event, "which LUO function is this task inside, and
// in which phase": module refs are attributed to the enclosing `luo_preserve_file`, lock waits to
// the enclosing `liveupdate_register_file_handler`, and so on (docs/luo-model.md §2, §6). The tracker is
// fed the same stream as the reducers and answers that question at the current point of the stream.
// Calls whose entry is before the start of the trace are reported with `start: null`.
import type { EventKind, EventOf, TraceEvent } from '../../parsers/event.js';
import { isLuoFunction, probedFunction } from '../kernel/kernel-models.js';
import { PHASE_OF_FUNCTION, type PhaseName } from '../kernel/phases.js';
import { RecentPairs } from './recent.js';
import { type TaskKey, taskKey } from './task-key.js';

export interface OpenCall {
  func: string;
  /** Phase of the outermost LUO function on the stack when this call began. */
  phase: PhaseName | null;
  start: number | null;
  src: number;
  line: number;
  pid: number | null;
  comm: string | null;
  /** Probe arguments of the entry event (session name, token, handler...). */
  args: Record<string, string>;
  /** Lost-event markers seen in its source before the entry (see CallEdge.acrossLoss). */
  lossesAtEntry?: number;
}

export interface CallEdge {
  type: 'enter' | 'exit';
  call: OpenCall;
  /** On exit: the end time and the decoded return value when the probe carried one. */
  end: number | null;
  ret: number | null;
  endLine: number | null;
  /** On exit: the call had no entry in the trace (it began before the trace started). */
  entryMissing: boolean;
  /**
   * On exit: events were lost between the entry and this return. The return may then belong to a
   * later call whose entry was lost (a 20 s "preserve" made of two calls), so its span is no duration.
   */
  acrossLoss?: boolean;
}

/** The kinds a call edge can come from (LuoCallTracker.edge): a reader of lastEdge needs no other. */
export const CALL_EDGE_KINDS: readonly EventKind[] = ['kprobe', 'fentry', 'funcgraph_entry', 'kretprobe', 'fexit', 'funcgraph_exit', 'funcgraph_leaf'];

/** An event of the kinds a call edge comes from (CALL_EDGE_KINDS). */
type EdgeEvent = EventOf<'kprobe' | 'fentry' | 'kretprobe' | 'fexit' | 'funcgraph_entry' | 'funcgraph_exit' | 'funcgraph_leaf'>;

/** The answer for a task with no open call: one frozen array, not one per probe event. */
const NO_CALLS: readonly OpenCall[] = Object.freeze([]);

export class LuoCallTracker {
  /** The kinds push reads (lost-event markers and call edges): feedInOrder gives it no other, it calls noEdge instead. */
  static readonly kinds: readonly EventKind[] = ['lost', ...CALL_EDGE_KINDS];
  private readonly stacks = new Map<TaskKey, OpenCall[]>();
  /**
   * The edge of the event pushed last (null if it was not a LUO call edge). One object, rewritten
   * for each edge (no allocation per probe event): a reader keeps its `call`, never the edge.
   */
  lastEdge: CallEdge | null = null;
  private readonly edgeOut: CallEdge = { type: 'enter', call: null as unknown as OpenCall, end: null, ret: null, endLine: null, entryMissing: false, acrossLoss: false };
  /** Lost-event markers seen so far, per source. */
  private readonly losses = new Map<number, number>();

  /** Update the stacks with one event; returns the call edge it represents, if any. */
  push(ev: TraceEvent): CallEdge | null {
    if (ev.kind === 'lost') this.losses.set(ev.src, (this.losses.get(ev.src) ?? 0) + 1);
    this.lastEdge = this.edge(ev);
    return this.lastEdge;
  }

  /** The event pushed last is of a kind that is never a call edge (not one of `kinds`). */
  noEdge(): void {
    this.lastEdge = null;
  }

  private edge(ev: TraceEvent): CallEdge | null {
    switch (ev.kind) {
      case 'kprobe':
      case 'fentry':
      case 'funcgraph_entry':
        return this.enter(ev);
      case 'kretprobe':
      case 'fexit':
      case 'funcgraph_exit':
        return this.exit(ev);
      case 'funcgraph_leaf': {
        const e = this.enter(ev);
        if (!e) return null;
        return this.exit(ev);
      }
      default:
        return null;
    }
  }

  private funcOf(ev: TraceEvent): string | null {
    if (ev.kind === 'funcgraph_entry' || ev.kind === 'funcgraph_exit' || ev.kind === 'funcgraph_leaf') {
      return ev.fields.func ? ev.fields.func.replace(/\.(part|isra|constprop|cold)\.\d+$/, '') : null;
    }
    return probedFunction(ev);
  }

  /**
   * The LUO function a call edge event is of, or null (funcOf, when isLuoFunction). It depends only
   * on the printed function and, for probes, the event name (probedFunction): the answers for the
   * pairs seen lately are kept (every probe event asks; a trace probes a few dozen functions).
   */
  private luoFunctionOf(ev: EdgeEvent): string | null {
    const printed = ev.fields.func;
    if (printed === null) return this.askLuoFunction(ev);
    // function_graph lines have no probe name: funcOf reads only the function.
    const graph = ev.kind === 'funcgraph_entry' || ev.kind === 'funcgraph_exit' || ev.kind === 'funcgraph_leaf';
    const name = graph ? '' : ev.name;
    const slot = this.recent.find(printed, name);
    if (slot >= 0) return this.recent.at(slot);
    const func = this.askLuoFunction(ev);
    this.recent.keep(printed, name, func);
    return func;
  }

  private askLuoFunction(ev: TraceEvent): string | null {
    const func = this.funcOf(ev);
    return func && isLuoFunction(func) ? func : null;
  }

  private readonly recent = new RecentPairs<string | null>();

  private enter(ev: EdgeEvent): CallEdge | null {
    const func = this.luoFunctionOf(ev);
    if (func === null) return null;
    const key = taskKey(ev.src, ev.pid);
    let stack = this.stacks.get(key);
    if (!stack) this.stacks.set(key, (stack = []));
    let outer: OpenCall | undefined;
    for (let i = 0; i < stack.length; i++) {
      if (stack[i].phase !== null) {
        outer = stack[i];
        break;
      }
    }
    const args = ev.kind === 'kprobe' || ev.kind === 'fentry' ? ev.fields.args : {};
    const call: OpenCall = {
      func,
      phase: outer?.phase ?? PHASE_OF_FUNCTION[func] ?? null,
      start: ev.time,
      src: ev.src,
      line: ev.line,
      pid: ev.pid,
      comm: ev.comm,
      args,
      lossesAtEntry: this.losses.get(ev.src) ?? 0,
    };
    if (stack.length < 256) stack.push(call);
    return this.edgeOf('enter', call, null, null, null, false, false);
  }

  private exit(ev: EdgeEvent): CallEdge | null {
    const func = this.luoFunctionOf(ev);
    if (func === null) return null;
    const stack = this.stacks.get(taskKey(ev.src, ev.pid));
    let ret: number | null = null;
    if (ev.kind === 'kretprobe' || ev.kind === 'fexit') ret = ev.fields.ret;
    else if ((ev.kind === 'funcgraph_exit' || ev.kind === 'funcgraph_leaf') && ev.fields.ret !== null) {
      const r = ev.fields.ret;
      ret = /^-?\d+$/.test(r) ? Number(r) : /^0x[0-9a-f]+$/i.test(r) && r.length <= 10 ? Number(r) : null;
    }
    if (stack) {
      for (let i = stack.length - 1; i >= 0; i--) {
        if (stack[i].func === func) {
          const call = stack[i];
          // Calls above it lost their return (probe missed): drop them. Mostly it is the innermost.
          if (i === stack.length - 1) stack.pop();
          else stack.length = i;
          let end = ev.time;
          if (ev.kind === 'funcgraph_exit' && end === null && call.start !== null && ev.fields.durationNs !== null) {
            end = call.start + ev.fields.durationNs;
          }
          if (ev.kind === 'funcgraph_leaf' && call.start !== null && ev.fields.durationNs !== null) end = call.start + ev.fields.durationNs;
          const acrossLoss = (this.losses.get(ev.src) ?? 0) !== (call.lossesAtEntry ?? 0);
          return this.edgeOf('exit', call, end, ret, ev.line, false, acrossLoss);
        }
      }
    }
    const call: OpenCall = {
      func,
      phase: PHASE_OF_FUNCTION[func] ?? null,
      start: null,
      src: ev.src,
      line: ev.line,
      pid: ev.pid,
      comm: ev.comm,
      args: {},
    };
    return this.edgeOf('exit', call, ev.time, ret, ev.line, true, false);
  }

  private edgeOf(type: CallEdge['type'], call: OpenCall, end: number | null, ret: number | null, endLine: number | null, entryMissing: boolean, acrossLoss: boolean): CallEdge {
    const e = this.edgeOut;
    e.type = type;
    e.call = call;
    e.end = end;
    e.ret = ret;
    e.endLine = endLine;
    e.entryMissing = entryMissing;
    e.acrossLoss = acrossLoss;
    return e;
  }

  /** The open LUO calls of a task, outermost first. */
  openCalls(src: number, pid: number | null): readonly OpenCall[] {
    return this.stacks.get(taskKey(src, pid)) ?? NO_CALLS;
  }

  /** The innermost open LUO call of a task, or null. */
  innermost(src: number, pid: number | null): OpenCall | null {
    const s = this.stacks.get(taskKey(src, pid));
    return s && s.length ? s[s.length - 1] : null;
  }

  /** Every call still open (the trace ended inside them). */
  allOpen(): OpenCall[] {
    return [...this.stacks.values()].flat();
  }
}
