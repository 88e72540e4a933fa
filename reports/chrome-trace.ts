// Chrome trace-event JSON (the "JSON Object Format" of the Trace Event Format, read by the Perfetto
// UI and chrome://tracing) from an analyze report plus a few per-event facts the report does not
// keep (module refcount samples, task names).
//
// Layout:
// - one process per boot (pid = boot id + 1; a live update has two kernels, each with its own
//   clock and pid space, real README §3.1), one thread track per task (tid = kernel pid);
// - LUO phases (session and boot-wide) and lock waits/holds as complete slices ("X") on the task
//   that ran them (every complete interval of the lock analysis, from LockOptions.onInterval,
//   bounded by LockIntervalCollector's cap). The format requires slices on one thread to nest
//   strictly (Perfetto FAQ: overlapping B/E/X events are not supported); a slice that would overlap
//   its parent without nesting is emitted as an async slice instead and counted in otherData;
// - module pin windows as async slices ("b"/"e", one id each): they overlap freely, span tasks, and
//   the ones held across kexec end at the end of their boot with `open: true`;
// - module refcount as counter tracks ("C"), from the kernel's own `refcnt=` (raw, MODULE_REF_BASE
//   included, docs/luo-model.md §4).
// Timestamps are microseconds (the format's unit), from the trace clock (ns / 1000).
import { z } from 'zod';
import type { TraceEvent } from '../parsers/event.js';
import type { HoldInterval, LockInstance, WaitInterval } from '../analyses/locks/lock-intervals.js';
import { modeLabel } from '../analyses/locks/locks.js';
import { isLuoPin } from '../analyses/luo/pin-kinds.js';
import { countedPast } from '../analyses/luo/schema.js';
import type { AnalyzeReport } from '../analyses/report.js';
import type { OmittedPhase } from './chrome-phases.js';
import { type Segment, SegmentTracker } from '../analyses/stream/segments.js';

// ---- the format ----------------------------------------------------------------------------------

const Common = { name: z.string(), pid: z.number().int().positive(), tid: z.number().int().nonnegative() };
const Ts = z.number().finite().nonnegative();
const Args = z.record(z.string(), z.unknown());

export const ChromeTraceEventSchema = z.discriminatedUnion('ph', [
  z.object({ ph: z.literal('X'), ...Common, cat: z.string(), ts: Ts, dur: Ts, args: Args }),
  z.object({ ph: z.literal('b'), ...Common, cat: z.string(), id: z.string(), ts: Ts, args: Args }),
  z.object({ ph: z.literal('e'), ...Common, cat: z.string(), id: z.string(), ts: Ts }),
  z.object({ ph: z.literal('C'), name: z.string(), pid: Common.pid, ts: Ts, args: z.record(z.string(), z.number().finite()) }),
  z.object({ ph: z.literal('M'), name: z.enum(['process_name', 'thread_name', 'process_sort_index', 'thread_sort_index']), pid: Common.pid, tid: Common.tid.optional(), args: z.object({ name: z.string().optional(), sort_index: z.number().int().optional() }) }),
]);
export type ChromeTraceEvent = z.infer<typeof ChromeTraceEventSchema>;

export const ChromeTraceSchema = z.object({
  traceEvents: z.array(ChromeTraceEventSchema),
  displayTimeUnit: z.enum(['ms', 'ns']),
  otherData: z.object({
    tool: z.string(),
    files: z.array(z.string()),
    kernelModel: z.string().nullable(),
    /** Which boot each process is (pid → description). */
    processes: z.record(z.string(), z.string()),
    counts: z.object({ phases: z.number().int(), pinWindows: z.number().int(), lockSlices: z.number().int(), refcountSamples: z.number().int(), movedToAsync: z.number().int(), skippedUntimed: z.number().int() }),
    /** Lock holds and waits: how many the analysis finished, how many are drawn, and whether the cap left some out. */
    lockIntervals: z
      .object({ complete: z.number().int(), kept: z.number().int(), overCap: z.number().int(), notDrawn: z.number().int(), cap: z.number().int(), capped: z.boolean() })
      .nullable(),
    notes: z.array(z.string()),
  }),
});
export type ChromeTrace = z.infer<typeof ChromeTraceSchema>;

/**
 * What the format requires beyond the shape: every async begin has exactly one end (same pid, cat,
 * id) that is not earlier; complete slices on one thread nest strictly; counters and metadata name
 * their track. Returns the problems found (empty = valid).
 */
export function traceEventProblems(trace: ChromeTrace): string[] {
  const problems: string[] = [];
  const open = new Map<string, number>();
  const ended = new Set<string>();
  const byThread = new Map<string, Array<{ ts: number; end: number; name: string }>>();
  for (const e of trace.traceEvents) {
    if (e.ph === 'b') {
      const k = `${e.pid}/${e.cat}/${e.id}`;
      if (open.has(k) || ended.has(k)) problems.push(`async id ${k} begins twice`);
      open.set(k, e.ts);
    } else if (e.ph === 'e') {
      const k = `${e.pid}/${e.cat}/${e.id}`;
      const t = open.get(k);
      if (t === undefined) problems.push(`async end ${k} without a begin`);
      else if (e.ts < t) problems.push(`async ${k} ends before it begins`);
      open.delete(k);
      ended.add(k);
    } else if (e.ph === 'X') {
      const k = `${e.pid}/${e.tid}`;
      const list = byThread.get(k) ?? [];
      list.push({ ts: e.ts, end: e.ts + e.dur, name: e.name });
      byThread.set(k, list);
    }
  }
  for (const k of open.keys()) problems.push(`async ${k} never ends`);
  for (const [k, list] of byThread) {
    list.sort((a, b) => a.ts - b.ts || b.end - a.end);
    const stack: Array<{ end: number; name: string }> = [];
    for (const s of list) {
      while (stack.length && stack[stack.length - 1].end <= s.ts) stack.pop();
      const parent = stack[stack.length - 1];
      if (parent && s.end > parent.end + 1e-6) problems.push(`thread ${k}: "${s.name}" overlaps "${parent.name}" without nesting`);
      stack.push(s);
    }
  }
  return problems;
}

// ---- what the converter needs besides the report ---------------------------------------------------

export interface RefcountSample {
  boot: number;
  time: number;
  module: string;
  refcnt: number;
  pid: number | null;
  callSite: string;
  direction: 'get' | 'put';
}

export interface TaskName {
  boot: number;
  pid: number;
  comm: string;
}

/** A lock wait or hold of one task (from the lock analysis' intervals). */
export interface LockSlice {
  kind: 'wait' | 'hold';
  boot: number;
  pid: number | null;
  comm: string | null;
  lock: string;
  mode: string;
  start: number;
  end: number;
  args: Record<string, unknown>;
}

/**
 * Collects, from the same ordered event stream the analysis sees, what the report does not keep:
 * every `refcnt=` of module_get/module_put and the name of each task. Boots are assigned with the
 * same SegmentTracker rules as the LUO analysis, so boot ids match the report's.
 */
export class TimelineCollector {
  private readonly segments = new SegmentTracker();
  private readonly samples: Array<Omit<RefcountSample, 'boot'> & { seg: number }> = [];
  private readonly tasks = new Map<string, { seg: number; pid: number; comm: string }>();

  push(ev: TraceEvent): void {
    const seg: Segment = this.segments.push(ev);
    if (ev.pid !== null && ev.comm && ev.kind !== 'lost') {
      const k = `${seg.id}/${ev.pid}`;
      if (!this.tasks.has(k)) this.tasks.set(k, { seg: seg.id, pid: ev.pid, comm: ev.comm });
    }
    if ((ev.kind === 'module_get' || ev.kind === 'module_put') && ev.time !== null && ev.fields.refcnt !== null) {
      this.samples.push({ seg: seg.id, time: ev.time, module: ev.fields.module, refcnt: ev.fields.refcnt, pid: ev.pid, callSite: ev.fields.callSite, direction: ev.kind === 'module_get' ? 'get' : 'put' });
    }
  }

  finish(): { refcounts: RefcountSample[]; tasks: TaskName[] } {
    const bootOf = new Map<number, number>();
    for (const b of this.segments.boots()) for (const s of b.segments) bootOf.set(s.id, b.id);
    const refcounts = this.samples.map(({ seg, ...s }) => ({ ...s, boot: bootOf.get(seg) ?? 0 }));
    const seen = new Set<string>();
    const tasks: TaskName[] = [];
    for (const t of this.tasks.values()) {
      const boot = bootOf.get(t.seg) ?? 0;
      const k = `${boot}/${t.pid}`;
      if (seen.has(k)) continue;
      seen.add(k);
      tasks.push({ boot, pid: t.pid, comm: t.comm });
    }
    return { refcounts, tasks };
  }
}

// ---- lock slices from the lock analysis' intervals ------------------------------------------------

/** A finished interval as the lock analysis hands it to `LockOptions.onInterval`. */
export type LockIntervalEvent = { wait: WaitInterval } | { hold: HoldInterval };

interface KeptInterval {
  kind: 'wait' | 'hold';
  /** Resolved to its final name at the end: names learned later (a hashed pointer named by a later event) still apply. */
  inst: LockInstance;
  shared: boolean;
  src: number;
  pid: number | null;
  comm: string | null;
  start: number;
  end: number;
  /** end - start: the heap's key. */
  dur: number;
  /** Session name when known at the time (a file_set bound to its session later is not resolved here). */
  session: string | null;
  func: string | null;
  phase: string | null;
  caller: string | null;
  line: number;
  /** Waits: slept, the owners and who released the lock last; holds: contended, trylock. Flat: one object per interval. */
  slept: boolean;
  ret: number | null;
  owners: string | null;
  wokenBy: string | null;
  contended: boolean;
  trylock: boolean;
}

export interface LockIntervalCounts {
  /** Complete holds and waits the lock analysis finished. */
  complete: number;
  /** Kept for the document (at most `cap`: the longest ones). */
  kept: number;
  /** Complete intervals left out because the cap was reached (the shortest ones). */
  overCap: number;
  /** Intervals cut by the trace edges or lost events, failed attempts and holds no release can show: not drawn. */
  notDrawn: number;
  cap: number;
}

/**
 * Default bound of `LockIntervalCollector`. Each drawn interval costs about 1 KB through the export
 * (kept record, slice, trace event and its args): a 200 MB synthetic stress trace with 575 376
 * intervals peaks at 0.75 GB with this cap, 0.55 GB with none drawn.
 */
export const LOCK_INTERVAL_CAP = 200_000;

const who = (pid: number | null, comm: string | null) => `${comm ?? 'task'}-${pid ?? '?'}`;
const sessionName = (ref: unknown): string | null => (typeof ref === 'string' ? ref : null);

/** What a drawn hold and a drawn wait have in common: who, where, when and in which LUO call. */
function placed(iv: WaitInterval | HoldInterval, start: number, end: number) {
  return {
    inst: iv.lock,
    src: iv.src,
    pid: iv.pid,
    comm: iv.comm,
    start,
    end,
    dur: end - start,
    session: sessionName(iv.ctx.session),
    func: iv.ctx.func,
    phase: iv.ctx.phase,
    caller: iv.caller,
    line: iv.line,
  };
}

/**
 * Every complete lock hold and wait, from the lock analysis' `onInterval` hook, for the timeline.
 * Memory is bounded: beyond `cap` intervals only the longest are kept (a min-heap on duration), and
 * the counts say how many were left out.
 */
export class LockIntervalCollector {
  private readonly heap: KeptInterval[] = [];
  readonly counts: LockIntervalCounts;

  constructor(readonly cap = LOCK_INTERVAL_CAP) {
    this.counts = { complete: 0, kept: 0, overCap: 0, notDrawn: 0, cap };
  }

  /** Pass as `LockOptions.onInterval`. */
  readonly push = (e: LockIntervalEvent): void => {
    if ('wait' in e) {
      const w = e.wait;
      if (w.incomplete !== null || w.begin === null || w.end === null || w.end < w.begin) {
        this.counts.notDrawn++;
        return;
      }
      const begin = w.begin;
      const end = w.end;
      this.keep(end - begin, () => ({
        ...placed(w, begin, end),
        kind: 'wait',
        shared: w.shared,
        slept: w.slept,
        ret: w.ret,
        owners: w.owners.length ? w.owners.map((o) => who(o.pid, o.comm)).join(', ') : null,
        wokenBy: w.wokenBy ? who(w.wokenBy.pid, w.wokenBy.comm) : null,
        contended: true,
        trylock: false,
      }));
      return;
    }
    const h = e.hold;
    if (h.failed || h.unobservable || h.incomplete !== null || h.start === null || h.end === null || h.end < h.start) {
      this.counts.notDrawn++;
      return;
    }
    const start = h.start;
    const end = h.end;
    this.keep(end - start, () => ({
      ...placed(h, start, end),
      kind: 'hold',
      shared: h.shared ?? false,
      slept: false,
      ret: null,
      owners: null,
      wokenBy: null,
      contended: h.contended,
      trylock: h.trylock,
    }));
  };

  private keep(duration: number, make: () => KeptInterval): void {
    this.counts.complete++;
    const heap = this.heap;
    if (heap.length < this.cap) {
      heap.push(make());
      this.siftUp(heap.length - 1);
      this.counts.kept = heap.length;
      return;
    }
    this.counts.overCap++;
    if (this.cap === 0 || duration <= heap[0].dur) return;
    heap[0] = make();
    this.siftDown(0);
  }

  private siftUp(i: number): void {
    const h = this.heap;
    const x = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].dur <= x.dur) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = x;
  }

  private siftDown(i: number): void {
    const h = this.heap;
    const x = h[i];
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const c = l + 1 < n && h[l + 1].dur < h[l].dur ? l + 1 : l;
      if (h[c].dur >= x.dur) break;
      h[i] = h[c];
      i = c;
    }
    h[i] = x;
  }

  /**
   * The kept intervals as slices, in time order, once the analysis has finished (lock names are
   * final then). Unnamed locks get the name the report's identities give their pointer (kallsyms),
   * and the waits the report explains (slowestWaits, stalls) carry that explanation.
   */
  slices(report: AnalyzeReport): LockSlice[] {
    const details = report.lockDetails as Record<string, unknown>;
    const byPointer = new Map<string, string>();
    for (const raw of Array.isArray(details.identities) ? details.identities : []) {
      const id = IdentityView.safeParse(raw);
      if (!id.success) continue;
      for (const p of [...id.data.addresses, ...id.data.hashedPointers]) byPointer.set(p, id.data.name);
    }
    const explained = new Map<string, string>();
    const waits: unknown[] = [];
    if (Array.isArray(details.slowestWaits)) waits.push(...details.slowestWaits);
    if (Array.isArray(details.stalls)) for (const st of details.stalls as Array<{ slowest?: Array<{ waits?: unknown[] }> }>) for (const p of st.slowest ?? []) waits.push(...(p.waits ?? []));
    for (const raw of waits) {
      const w = ExplainedWaitView.safeParse(raw);
      if (w.success) explained.set(`${w.data.file}:${w.data.line}`, w.data.explanation);
    }
    const out: LockSlice[] = [];
    const kept = this.heap.splice(0).sort((a, b) => a.src - b.src || a.start - b.start || a.line - b.line);
    for (const k of kept) {
      const r = k.inst.root();
      const lock = r.name ?? (r.addr !== null ? byPointer.get(r.addr) : undefined) ?? (r.ptr !== null ? byPointer.get(r.ptr) : undefined) ?? r.sym ?? r.addr ?? r.ptr ?? '(unnamed lock)';
      const mode = modeLabel(r.type ?? 'unknown', k.shared).type;
      const explanation = k.kind === 'wait' ? (explained.get(`${k.src}:${k.line}`) ?? null) : null;
      out.push({
        kind: k.kind,
        boot: bootAt(report, k.src, k.start),
        pid: k.pid,
        comm: k.comm,
        lock,
        mode,
        start: k.start,
        end: k.end,
        args: {
          lock,
          type: mode,
          address: r.addr ?? r.ptr,
          session: k.session,
          luoFunction: k.func,
          phase: k.phase,
          caller: k.caller,
          ...(k.kind === 'wait' ? { slept: k.slept, ret: k.ret, owners: k.owners, wokenBy: k.wokenBy } : { contended: k.contended, trylock: k.trylock }),
          ...(explanation ? { explanation } : {}),
          file: report.sources[k.src]?.file ?? null,
          line: k.line,
        },
      });
    }
    return out;
  }
}

const IdentityView = z.object({ name: z.string(), addresses: z.array(z.string()), hashedPointers: z.array(z.string()) });
const ExplainedWaitView = z.object({ file: z.number().int(), line: z.number().int(), explanation: z.string() });

/** The boot a (source, time) belongs to: the boot that lists the source and whose span holds the time. */
function bootAt(report: AnalyzeReport, src: number, time: number): number {
  const file = report.sources[src]?.file;
  const candidates = report.boots.filter((b) => file !== undefined && b.files.includes(file));
  const inSpan = candidates.find((b) => b.start !== null && b.end !== null && time >= b.start && time <= b.end);
  return (inSpan ?? candidates[0])?.id ?? 0;
}

// ---- the conversion --------------------------------------------------------------------------------

export interface ChromeInputs {
  report: AnalyzeReport;
  refcounts: RefcountSample[];
  tasks: TaskName[];
  lockSlices: LockSlice[];
  /** What the LockIntervalCollector saw (null: lock slices from elsewhere, e.g. tests). */
  lockIntervals?: LockIntervalCounts | null;
  /** Phases of the sessions the report only counts (reports/chrome-phases.ts), with how they were sampled. */
  omittedPhases?: { phases: OmittedPhase[]; seen: number; stride: number; failedDropped: number } | null;
}

/** A track for events with no task (console tp_printk lines carry no pid). */
export const NO_TASK_TID = 2147483647;

const us = (ns: number) => Math.round(ns) / 1000;

interface PendingSlice {
  pid: number;
  tid: number;
  name: string;
  cat: string;
  start: number;
  end: number;
  args: Record<string, unknown>;
}

/** The document being built: its events, notes, tracks and counters, shared by the steps below. */
interface ChromeBuild {
  inp: ChromeInputs;
  events: ChromeTraceEvent[];
  notes: string[];
  processes: Record<string, string>;
  threads: Map<string, { pid: number; tid: number; name: string }>;
  taskName: Map<string, string>;
  skippedUntimed: number;
  asyncIds: number;
}

const pidOf = (boot: number) => boot + 1;

/** The thread track of a task (made on first use, named by its comm). */
function thread(c: ChromeBuild, boot: number, pid: number | null, comm: string | null): number {
  const tid = pid ?? NO_TASK_TID;
  const k = `${pidOf(boot)}/${tid}`;
  if (!c.threads.has(k)) {
    const name = comm ?? (pid !== null ? c.taskName.get(`${boot}/${pid}`) : undefined);
    c.threads.set(k, { pid: pidOf(boot), tid, name: pid === null ? 'no task (console log lines)' : `${name ?? 'task'}-${pid}` });
  }
  return tid;
}

/** Processes: one per boot. */
function addProcesses(c: ChromeBuild): void {
  const { report } = c.inp;
  for (const b of report.boots) {
    const name = `boot ${b.id}: ${b.role === 'outgoing' ? 'old kernel (outgoing)' : b.role === 'incoming' ? 'new kernel (incoming)' : b.role === 'both' ? 'kernel (outgoing and incoming)' : 'kernel'}${b.liveupdateNumber !== null ? `, liveupdate #${b.liveupdateNumber}` : ''}`;
    c.processes[String(pidOf(b.id))] = name;
    c.events.push({ ph: 'M', name: 'process_name', pid: pidOf(b.id), args: { name } });
    c.events.push({ ph: 'M', name: 'process_sort_index', pid: pidOf(b.id), args: { sort_index: b.id } });
  }
  if (report.boots.length > 1) c.notes.push('each boot is one process on its own trace clock: the new kernel\'s times restart at its boot, so boots may overlap on the time axis');
}

/** Complete slices per thread (phases and lock intervals); returns how many phases and how many moved to async. */
function addSlices(c: ChromeBuild): { phases: number; movedToAsync: number } {
  const { report } = c.inp;
  const pending: PendingSlice[] = [];
  let phases = 0;
  const addPhase = (boot: number, p: AnalyzeReport['sessions'][number]['phases'][number], session: string | null) => {
    if (p.start === null || p.end === null) {
      c.skippedUntimed++;
      return;
    }
    phases++;
    pending.push({
      pid: pidOf(boot),
      tid: thread(c, boot, p.pid, p.comm),
      name: `${p.name}${p.token ? ` ${p.token}` : ''}`,
      cat: 'luo.phase',
      start: p.start,
      end: p.end,
      args: { session, func: p.func, token: p.token, result: p.result, error: p.error, via: p.via, file: p.file, line: p.line },
    });
  };
  for (const s of report.sessions) for (const p of s.phases) addPhase(s.boot, p, s.name);
  // Sessions past the report's listing cap: their phases as the export kept them (whole run, sampled detail).
  for (const o of c.inp.omittedPhases?.phases ?? []) {
    const file = report.sources[o.src]?.file ?? String(o.src);
    addPhase(bootAt(report, o.src, o.start), { ...o, durationNs: o.end - o.start, file, endLine: null }, o.session);
  }
  for (const b of report.boots) for (const p of b.globalPhases) addPhase(b.id, p, null);
  for (const l of c.inp.lockSlices) {
    if (l.end < l.start) continue;
    pending.push({ pid: pidOf(l.boot), tid: thread(c, l.boot, l.pid, l.comm), name: `${l.kind} ${l.lock} ${l.mode}`, cat: `lock.${l.kind}`, start: l.start, end: l.end, args: l.args });
  }
  return { phases, movedToAsync: nestSlices(c, pending) };
}

/** Strict nesting per thread; what cannot nest becomes an async slice on the same process. Returns how many moved. */
function nestSlices(c: ChromeBuild, pending: PendingSlice[]): number {
  let movedToAsync = 0;
  const byThread = new Map<string, PendingSlice[]>();
  for (const s of pending) {
    const k = `${s.pid}/${s.tid}`;
    const list = byThread.get(k) ?? [];
    list.push(s);
    byThread.set(k, list);
  }
  for (const list of byThread.values()) {
    list.sort((a, b) => a.start - b.start || b.end - a.end);
    const stack: PendingSlice[] = [];
    for (const s of list) {
      while (stack.length && stack[stack.length - 1].end <= s.start) stack.pop();
      const parent = stack[stack.length - 1];
      if (parent && s.end > parent.end) {
        movedToAsync++;
        const id = `overlap-${++c.asyncIds}`;
        c.events.push({ ph: 'b', name: s.name, cat: `${s.cat}.overlapping`, id, pid: s.pid, tid: s.tid, ts: us(s.start), args: s.args });
        c.events.push({ ph: 'e', name: s.name, cat: `${s.cat}.overlapping`, id, pid: s.pid, tid: s.tid, ts: us(s.end) });
        continue;
      }
      stack.push(s);
      c.events.push({ ph: 'X', name: s.name, cat: s.cat, pid: s.pid, tid: s.tid, ts: us(s.start), dur: us(s.end) - us(s.start), args: s.args });
    }
  }
  if (movedToAsync) c.notes.push(`${movedToAsync} slices overlapped another on the same task without nesting and are drawn as async slices (category *.overlapping)`);
  return movedToAsync;
}

/** Pin windows: async slices. Returns how many were drawn. */
function addPinWindows(c: ChromeBuild): number {
  const { report } = c.inp;
  let pinWindows = 0;
  for (const m of report.modules) {
    const boot = report.boots.find((b) => b.id === m.boot);
    for (const w of m.pinWindows) {
      if (w.getTime === null) {
        c.skippedUntimed++;
        continue;
      }
      const end = w.putTime ?? boot?.end ?? w.getTime;
      pinWindows++;
      const id = `pin-${++c.asyncIds}`;
      const tid = thread(c, m.boot, w.getPid, w.getComm);
      const name = `${isLuoPin(w) ? 'pin' : 'ref'} ${m.name} (${w.class})`;
      c.events.push({
        ph: 'b',
        name,
        cat: 'module.pin',
        id,
        pid: pidOf(m.boot),
        tid,
        ts: us(w.getTime),
        args: {
          module: m.name,
          class: w.class,
          session: w.session,
          flb: w.flb,
          token: w.token,
          getCallSite: w.getCallSite,
          putCallSite: w.putCallSite,
          open: w.putTime === null,
          expectedOpen: w.expectedOpen,
          heldNs: w.durationNs,
          file: w.file,
          getLine: w.getLine,
          putLine: w.putLine,
        },
      });
      c.events.push({ ph: 'e', name, cat: 'module.pin', id, pid: pidOf(m.boot), tid, ts: us(Math.max(end, w.getTime)) });
    }
  }
  if (report.modules.some((m) => m.pinWindows.some((w) => w.putTime === null))) c.notes.push('pins still held at the end of their boot (e.g. across kexec) end at the last event of that boot, with args.open = true');
  return pinWindows;
}

/** Thread names last (every track that was used), and a process for any boot that had none. */
function addTrackNames(c: ChromeBuild): void {
  for (const t of c.threads.values()) c.events.push({ ph: 'M', name: 'thread_name', pid: t.pid, tid: t.tid, args: { name: t.name } });
  for (const pid of new Set([...c.threads.values()].map((t) => t.pid))) {
    if (!c.processes[String(pid)]) {
      c.processes[String(pid)] = `boot ${pid - 1}`;
      c.events.push({ ph: 'M', name: 'process_name', pid, args: { name: `boot ${pid - 1}` } });
    }
  }
}

/** The notes on what the document leaves out (omitted sessions and windows, lock intervals). */
function addCoverageNotes(c: ChromeBuild): void {
  const { report } = c.inp;
  const notes = c.notes;
  const inp = c.inp;
  const sessionsOmitted = Object.values(report.sessionsOmitted ?? {}).reduce((a, n) => a + n, 0);
  const windowsOmitted = report.modules.reduce((a, m) => a + (m.pinWindowsOmitted ?? 0), 0);
  const om = inp.omittedPhases ?? null;
  if (sessionsOmitted && om) {
    const sampled = om.stride > 1 ? `1 in ${om.stride} of their ${om.seen} timed phases, evenly over the run (failed ones all${om.failedDropped ? ` but ${om.failedDropped}` : ''})` : `all ${om.seen} of their timed phases`;
    notes.push(`the report lists only part of a long run: ${sessionsOmitted} ended sessions are counted there, not listed; ${sampled} are drawn here`);
  } else if (sessionsOmitted) notes.push(`the report lists only part of a long run: ${sessionsOmitted} ended sessions are counted there but have no slices here`);
  const globalOmitted = report.boots.reduce((a, b) => a + countedPast(b.globalPhasesOmitted), 0);
  const attemptsOmitted = report.sessions.reduce((a, x) => a + countedPast(x.phasesOmitted), 0);
  if (attemptsOmitted) notes.push(`${attemptsOmitted} freeze and unfreeze calls of earlier kexec attempts are counted in the report's sessions but not listed, and have no slices here`);
  if (globalOmitted) notes.push(`${globalOmitted} boot-wide phases (liveupdate_reboot, serialize...) are counted in the report but not listed, and have no slices here (each boot's last liveupdate_reboot is drawn)`);
  if (windowsOmitted) notes.push(`${windowsOmitted} released pin windows are counted in the report but not listed, and have no slices here (the refcnt counter track shows every get and put)`);
  const li = inp.lockIntervals ?? null;
  if (!inp.lockSlices.length) notes.push('no lock waits or holds: no complete lock interval in these inputs (no lock events, or only incomplete ones)');
  else notes.push('lock slices are every complete hold and wait the lock analysis paired (lock.hold, lock.wait); the waits its report explains carry args.explanation');
  if (li && li.notDrawn) notes.push(`${li.notDrawn} lock intervals are not drawn: cut by the trace edges or lost events, failed attempts, or holds no release event shows`);
  if (li && li.overCap) notes.push(`lock slices capped at ${li.cap}: the ${li.kept} longest of ${li.complete} complete holds and waits are drawn, ${li.overCap} shorter ones are left out (--max-lock-slices)`);

}

export function toChromeTrace(inp: ChromeInputs): ChromeTrace {
  const { report } = inp;
  const c: ChromeBuild = {
    inp,
    events: [],
    notes: [],
    processes: {},
    threads: new Map(),
    taskName: new Map(inp.tasks.map((t) => [`${t.boot}/${t.pid}`, t.comm])),
    skippedUntimed: 0,
    asyncIds: 0,
  };
  addProcesses(c);
  const { phases, movedToAsync } = addSlices(c);
  const pinWindows = addPinWindows(c);
  // Refcount counters.
  const samples = [...inp.refcounts].sort((a, b) => a.boot - b.boot || a.time - b.time);
  for (const s of samples) c.events.push({ ph: 'C', name: `refcnt ${s.module}`, pid: pidOf(s.boot), ts: us(s.time), args: { refcnt: s.refcnt } });
  addTrackNames(c);
  addCoverageNotes(c);
  const li = inp.lockIntervals ?? null;
  const skippedUntimed = c.skippedUntimed;
  return {
    traceEvents: c.events,
    displayTimeUnit: 'ns',
    otherData: {
      tool: `${report.tool.name} ${report.tool.version}`,
      files: report.sources.map((s) => s.file),
      kernelModel: report.kernelModel.id,
      processes: c.processes,
      counts: { phases, pinWindows, lockSlices: inp.lockSlices.length, refcountSamples: samples.length, movedToAsync, skippedUntimed },
      lockIntervals: li ? { ...li, capped: li.overCap > 0 } : null,
      notes: c.notes,
    },
  };
}
