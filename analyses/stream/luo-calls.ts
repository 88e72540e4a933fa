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
import { own } from '../../parsers/name-table.js';
import { RecentPairs } from './recent.js';
import { KIND_SLOTS, kindId, kindNumber } from './kinds.js';
import { type TaskKey, taskKey } from './task-key.js';

// ---- LUO function numbers ------------------------------------------------------------------
// Dense numbers for the LUO functions a trace probes, and what each one is, looked up once per name.
//
// Every LUO call edge asks the same questions of its function: its phase (kernel/phases.ts), whether
// its return can be lost with lost events (RETURN_LOST_FUNCTIONS below) or it can enclose such
// a call, and which session step it is (luo/sessions.ts). A trace probes a few dozen functions and
// hundreds of thousands of edges, so the call tracker numbers each function once (OpenCall.fid) and
// the readers ask tables by that number instead of comparing and hashing its name on every edge
// (issue 17). The functions the readers switch on have fixed numbers (below); any other LUO function
// gets the next free number of its tracker.

/** The functions a reader tells apart by number: their numbers are their places here. */
const FIXED = [
  'luo_session_create',
  'luo_session_retrieve',
  'luo_preserve_file',
  'luo_file_unpreserve_files',
  'luo_retrieve_file',
  'luo_file_finish',
  'luo_file_freeze',
  'luo_file_unfreeze',
  'luo_file_deserialize',
  'liveupdate_reboot',
  'luo_session_serialize',
  'luo_flb_serialize',
  'luo_session_deserialize',
  'luo_flb_file_preserve',
] as const;

export const FN_SESSION_CREATE = 0;
export const FN_SESSION_RETRIEVE = 1;
export const FN_PRESERVE_FILE = 2;
export const FN_FILE_UNPRESERVE_FILES = 3;
export const FN_RETRIEVE_FILE = 4;
export const FN_FILE_FINISH = 5;
export const FN_FILE_FREEZE = 6;
export const FN_FILE_UNFREEZE = 7;
export const FN_FILE_DESERIALIZE = 8;
export const FN_REBOOT = 9;
export const FN_SESSION_SERIALIZE = 10;
export const FN_FLB_SERIALIZE = 11;
export const FN_SESSION_DESERIALIZE = 12;
export const FN_FLB_FILE_PRESERVE = 13;

/** The number of one of the fixed functions (tests check the constants above against it). */
export function fixedFunctionId(name: (typeof FIXED)[number]): number {
  return FIXED.indexOf(name);
}

/** The per-session functions that never call one another (RETURN_LOST_FUNCTIONS below). */
const RETURN_LOST_IDS: readonly number[] = [
  FN_SESSION_CREATE,
  FN_SESSION_RETRIEVE,
  FN_PRESERVE_FILE,
  FN_FILE_UNPRESERVE_FILES,
  FN_RETRIEVE_FILE,
  FN_FILE_FINISH,
  FN_FILE_FREEZE,
  FN_FILE_UNFREEZE,
  FN_FILE_DESERIALIZE,
];

/** The names of RETURN_LOST_IDS (RETURN_LOST_FUNCTIONS below). */
export const RETURN_LOST_NAMES: readonly string[] = RETURN_LOST_IDS.map((id) => FIXED[id]);

/** One tracker's numbering: names by number, and what each number is. Grows with the functions a trace probes. */
export class FunctionIds {
  private readonly ids = new Map<string, number>();
  /** The function of each number. */
  readonly names: string[] = [];
  /** Each number's phase (PHASE_OF_FUNCTION), null when it opens none. */
  readonly phase: Array<PhaseName | null> = [];
  /** 1: a RETURN_LOST_FUNCTIONS function. */
  private returnLost = new Uint8Array(64);

  constructor(encloses: ReadonlySet<string>) {
    this.encloses = encloses;
    for (const name of FIXED) this.add(name);
    for (const id of RETURN_LOST_IDS) this.returnLost[id] = 1;
  }

  private readonly encloses: ReadonlySet<string>;
  /** 1: a function a RETURN_LOST_FUNCTIONS call can run inside (ENCLOSES_SESSION_CALLS below). */
  private enclosing = new Uint8Array(64);

  /** The number of a LUO function, given one on first sight. */
  of(name: string): number {
    return this.ids.get(name) ?? this.add(name);
  }

  isReturnLost(id: number): boolean {
    return this.returnLost[id] === 1;
  }

  isEnclosing(id: number): boolean {
    return this.enclosing[id] === 1;
  }

  private add(name: string): number {
    const id = this.names.length;
    this.ids.set(name, id);
    this.names.push(name);
    this.phase.push(own(PHASE_OF_FUNCTION, name) ?? null);
    if (id === this.enclosing.length) {
      this.enclosing = grown(this.enclosing);
      this.returnLost = grown(this.returnLost);
    }
    if (this.encloses.has(name)) this.enclosing[id] = 1;
    return id;
  }
}

/**
 * What a reader makes of a LUO function, by its number (OpenCall.fid): computed from the name the
 * first time a number is asked, then read by number (a trace probes a few dozen functions).
 */
export class ByFunction<T> {
  private readonly answers: Array<T | undefined> = [];

  constructor(private readonly compute: (name: string) => T) {}

  of(fid: number, name: string): T {
    let a = this.answers[fid];
    if (a === undefined) a = this.answers[fid] = this.compute(name);
    return a;
  }
}

function grown(a: Uint8Array): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(a.length * 2);
  b.set(a);
  return b;
}

// ---- the call tracker -------------------------------------------------------------------------

export interface OpenCall {
  func: string;
  /** Its function's number in the tracker's numbering (LuoCallTracker.functions, FunctionIds). */
  fid: number;
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
  /**
   * Calls this edge proved returned, their returns lost with lost events (RETURN_LOST_FUNCTIONS): on
   * an entry, taken off the task's stack before the call was pushed; on a return, those above the call
   * returning, with events lost since their entry. Usually empty (the shared NO_CALLS).
   */
  returnLost: readonly OpenCall[];
  /**
   * Calls taken off (or never put on) a stack with no return to come: those above a call whose return
   * came (their own return missed), or an entry past the depth cap. Usually empty (NO_CALLS).
   */
  dropped: readonly OpenCall[];
}

/**
 * The per-session LUO functions, none of which calls another of them (docs/luo-model.md §1.6): a task
 * runs one system call at a time, so when it enters one while an earlier one is still open on its
 * stack, the earlier one has returned. Only trusted where events were lost since the earlier call's
 * entry and the source has shown returns of that function: a return missing without loss (a missed
 * kretprobe, or no return probe at all) keeps today's reading.
 */
export const RETURN_LOST_FUNCTIONS: ReadonlySet<string> = new Set(RETURN_LOST_NAMES);

/**
 * The LUO functions a RETURN_LOST_FUNCTIONS call can run inside (docs/luo-model.md §1.6): the ioctl and
 * file operations of /dev/liveupdate and of a session fd (luo_ioctl, luo_open, luo_session_ioctl,
 * luo_session_release and their helpers) and the reboot and deserialize paths (liveupdate_reboot ⊃
 * luo_session_serialize ⊃ luo_session_freeze_one ⊃ luo_file_freeze; luo_session_deserialize ⊃
 * luo_file_deserialize). Any other LUO call (luo_flb_file_preserve, liveupdate_flb_put_outgoing...)
 * runs inside one of the session functions, so it cannot still be open when the task enters the next.
 */
const ENCLOSES_SESSION_CALLS: ReadonlySet<string> = new Set([
  'luo_ioctl',
  'luo_ioctl_create_session',
  'luo_ioctl_retrieve_session',
  'luo_open',
  'luo_session_ioctl',
  'luo_session_preserve_fd',
  'luo_session_retrieve_fd',
  'luo_session_finish',
  'luo_session_finish_one',
  'luo_session_release',
  'liveupdate_reboot',
  'luo_session_serialize',
  'luo_session_freeze_one',
  'luo_session_unfreeze_one',
  'luo_session_deserialize',
]);

/** A task's stack holds at most this many open calls (a trace without return probes opens them all). */
const MAX_STACK_DEPTH = 256;

/** The answer for a task with no open call: one frozen array, not one per probe event. */
const NO_CALLS: readonly OpenCall[] = Object.freeze([]);

/** The kinds a call edge can come from (LuoCallTracker.edge): a reader of lastEdge needs no other. */
export const CALL_EDGE_KINDS: readonly EventKind[] = ['kprobe', 'fentry', 'funcgraph_entry', 'kretprobe', 'fexit', 'funcgraph_exit', 'funcgraph_leaf'];

/** What an event of each kind is to the tracker (by kind number): an entry, a return, both at once (a function_graph leaf), or no edge. */
const NO_EDGE = 0;
const ENTRY = 1;
const RETURN = 2;
const LEAF = 3;
const EDGE_OF = new Uint8Array(KIND_SLOTS);
for (const k of ['kprobe', 'fentry', 'funcgraph_entry'] as const) EDGE_OF[kindNumber(k)] = ENTRY;
for (const k of ['kretprobe', 'fexit', 'funcgraph_exit'] as const) EDGE_OF[kindNumber(k)] = RETURN;
EDGE_OF[kindNumber('funcgraph_leaf')] = LEAF;
const LOST = kindNumber('lost');

/** An event of the kinds a call edge comes from (CALL_EDGE_KINDS). */
type EdgeEvent = EventOf<'kprobe' | 'fentry' | 'kretprobe' | 'fexit' | 'funcgraph_entry' | 'funcgraph_exit' | 'funcgraph_leaf'>;

export class LuoCallTracker {
  /** The kinds push reads (lost-event markers and call edges): feedInOrder gives it no other, it calls noEdge instead. */
  static readonly kinds: readonly EventKind[] = ['lost', ...CALL_EDGE_KINDS];
  private readonly stacks = new Map<TaskKey, OpenCall[]>();
  /** The LUO functions seen, numbered (OpenCall.fid): the readers ask tables by number, not by name. */
  readonly functions = new FunctionIds(ENCLOSES_SESSION_CALLS);
  /**
   * The edge of the event pushed last (null if it was not a LUO call edge). One object, rewritten
   * for each edge (no allocation per probe event): a reader keeps its `call`, never the edge.
   */
  lastEdge: CallEdge | null = null;
  private readonly edgeOut: CallEdge = { type: 'enter', call: null as unknown as OpenCall, end: null, ret: null, endLine: null, entryMissing: false, acrossLoss: false, returnLost: NO_CALLS, dropped: NO_CALLS };
  /** Lost-event markers seen so far, per source. */
  private readonly losses = new Map<number, number>();
  /** Per source, the RETURN_LOST_FUNCTIONS whose return probe fired at least once (by number). */
  private readonly returnsSeen = new Map<number, Set<number>>();

  /** Update the stacks with one event; returns the call edge it represents, if any. */
  push(ev: TraceEvent, kind: number = kindId(ev.kind)): CallEdge | null {
    if (kind === LOST) this.losses.set(ev.src, (this.losses.get(ev.src) ?? 0) + 1);
    this.lastEdge = EDGE_OF[kind] === NO_EDGE ? null : this.edge(ev as EdgeEvent, EDGE_OF[kind]);
    return this.lastEdge;
  }

  /** The event pushed last is of a kind that is never a call edge (not one of `kinds`). */
  noEdge(): void {
    this.lastEdge = null;
  }

  private edge(ev: EdgeEvent, type: number): CallEdge | null {
    switch (type) {
      case ENTRY:
        return this.enter(ev);
      case RETURN:
        return this.exit(ev);
      case LEAF: {
        const e = this.enter(ev);
        if (!e) return null;
        const returnLost = e.returnLost;
        const x = this.exit(ev);
        if (x && returnLost.length) x.returnLost = x.returnLost.length ? [...returnLost, ...x.returnLost] : returnLost;
        return x;
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
   * The number of the LUO function a call edge event is of (functions), or -1 (funcOf, when
   * isLuoFunction). It depends only on the printed function and, for probes, the event name
   * (probedFunction): the answers for the pairs seen lately are kept (every probe event asks; a trace
   * probes a few dozen functions).
   */
  private luoFunctionOf(ev: EdgeEvent): number {
    const printed = ev.fields.func;
    if (printed === null) return this.askLuoFunction(ev);
    // function_graph lines have no probe name: funcOf reads only the function.
    const graph = ev.kind === 'funcgraph_entry' || ev.kind === 'funcgraph_exit' || ev.kind === 'funcgraph_leaf';
    const name = graph ? '' : ev.name;
    const slot = this.recent.find(printed, name);
    if (slot >= 0) return this.recent.at(slot);
    const fid = this.askLuoFunction(ev);
    this.recent.keep(printed, name, fid);
    return fid;
  }

  private askLuoFunction(ev: TraceEvent): number {
    const func = this.funcOf(ev);
    return func && isLuoFunction(func) ? this.functions.of(func) : -1;
  }

  private readonly recent = new RecentPairs<number>();

  private enter(ev: EdgeEvent): CallEdge | null {
    const fid = this.luoFunctionOf(ev);
    if (fid < 0) return null;
    const func = this.functions.names[fid];
    const key = taskKey(ev.src, ev.pid);
    let stack = this.stacks.get(key);
    if (!stack) this.stacks.set(key, (stack = []));
    const lossesNow = this.losses.get(ev.src) ?? 0;
    const trimmed = lossesNow > 0 && this.functions.isReturnLost(fid) && stack.length > 0 ? this.trimStale(stack, lossesNow) : null;
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
      fid,
      phase: outer?.phase ?? this.functions.phase[fid],
      start: ev.time,
      src: ev.src,
      line: ev.line,
      pid: ev.pid,
      comm: ev.comm,
      args,
      lossesAtEntry: lossesNow,
    };
    let dropped = trimmed?.dropped ?? NO_CALLS;
    if (stack.length < MAX_STACK_DEPTH) stack.push(call);
    else dropped = [...dropped, call];
    const e = this.edgeOf('enter', call, null, null, null, false, false);
    e.returnLost = trimmed?.returnLost ?? NO_CALLS;
    e.dropped = dropped;
    return e;
  }

  /**
   * Entering a RETURN_LOST_FUNCTIONS call: nothing but ENCLOSES_SESSION_CALLS can be open under it
   * (docs/luo-model.md §1.6). Every other call still open on the task's stack, with events lost since
   * its entry, has returned unseen and is taken off: a RETURN_LOST_FUNCTIONS call whose returns the
   * source shows goes to `returnLost` (its phase ends "return lost"), any other LUO call to `dropped`.
   * Calls with no loss since their entry stay, and so do session calls whose function never showed a
   * return in the source (today's reading: a missed kretprobe, or no return probe).
   */
  private trimStale(stack: OpenCall[], lossesNow: number): { returnLost: readonly OpenCall[]; dropped: readonly OpenCall[] } {
    let returnLost: OpenCall[] | null = null;
    let dropped: OpenCall[] | null = null;
    let kept = 0;
    for (let i = 0; i < stack.length; i++) {
      const c = stack[i];
      const stale = !this.functions.isEnclosing(c.fid) && (c.lossesAtEntry ?? 0) !== lossesNow;
      if (stale && this.functions.isReturnLost(c.fid) && this.mayHaveLostReturn(c)) (returnLost ??= []).push(c);
      else if (stale && !this.functions.isReturnLost(c.fid)) (dropped ??= []).push(c);
      else stack[kept++] = c;
    }
    stack.length = kept;
    return { returnLost: returnLost ?? NO_CALLS, dropped: dropped ?? NO_CALLS };
  }

  private exit(ev: EdgeEvent): CallEdge | null {
    const fid = this.luoFunctionOf(ev);
    if (fid < 0) return null;
    const key = taskKey(ev.src, ev.pid);
    const stack = this.stacks.get(key);
    let ret: number | null = null;
    if (ev.kind === 'kretprobe' || ev.kind === 'fexit') ret = ev.fields.ret;
    else if ((ev.kind === 'funcgraph_exit' || ev.kind === 'funcgraph_leaf') && ev.fields.ret !== null) {
      const r = ev.fields.ret;
      ret = /^-?\d+$/.test(r) ? Number(r) : /^0x[0-9a-f]+$/i.test(r) && r.length <= 10 ? Number(r) : null;
    }
    if (this.functions.isReturnLost(fid)) this.sawReturn(ev.src, fid);
    if (stack) {
      for (let i = stack.length - 1; i >= 0; i--) {
        if (stack[i].fid === fid) {
          const call = stack[i];
          // Calls above it lost their return (probe missed): drop them. Mostly it is the innermost.
          let dropped = NO_CALLS;
          let returnLost = NO_CALLS;
          if (i === stack.length - 1) stack.pop();
          else {
            // Those that could have lost their return with lost events are said so (RETURN_LOST_FUNCTIONS).
            const above = stack.slice(i + 1);
            stack.length = i;
            returnLost = above.filter((x) => this.mayHaveLostReturn(x));
            dropped = returnLost.length === 0 ? above : above.filter((x) => !returnLost.includes(x));
          }
          // Out of its LUO calls: its entry goes (a trace can name any number of tasks that made one call).
          if (stack.length === 0) this.stacks.delete(key);
          let end = ev.time;
          if (ev.kind === 'funcgraph_exit' && end === null && call.start !== null && ev.fields.durationNs !== null) {
            end = call.start + ev.fields.durationNs;
          }
          if (ev.kind === 'funcgraph_leaf' && call.start !== null && ev.fields.durationNs !== null) end = call.start + ev.fields.durationNs;
          const acrossLoss = (this.losses.get(ev.src) ?? 0) !== (call.lossesAtEntry ?? 0);
          const e = this.edgeOf('exit', call, end, ret, ev.line, false, acrossLoss);
          e.dropped = dropped;
          e.returnLost = returnLost;
          return e;
        }
      }
    }
    const call: OpenCall = {
      func: this.functions.names[fid],
      fid,
      phase: this.functions.phase[fid],
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
    e.returnLost = NO_CALLS;
    e.dropped = NO_CALLS;
    return e;
  }

  /** Lost-event markers seen so far in a source. */
  lossesOf(src: number): number {
    return this.losses.get(src) ?? 0;
  }

  /**
   * Could this open call's return have been lost: events were lost in its source since its entry, and
   * the source has shown returns of its function (so one was expected). See RETURN_LOST_FUNCTIONS.
   */
  mayHaveLostReturn(call: OpenCall): boolean {
    return (this.losses.get(call.src) ?? 0) !== (call.lossesAtEntry ?? 0) && this.returnsSeen.get(call.src)?.has(call.fid) === true;
  }

  private sawReturn(src: number, fid: number): void {
    let seen = this.returnsSeen.get(src);
    if (!seen) this.returnsSeen.set(src, (seen = new Set()));
    seen.add(fid);
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

  /** Tasks inside a LUO call now (a task leaves the table when it leaves its calls). */
  get tasksInCalls(): number {
    return this.stacks.size;
  }

  /** Every call still open (the trace ended inside them). */
  allOpen(): OpenCall[] {
    return [...this.stacks.values()].flat();
  }
}
