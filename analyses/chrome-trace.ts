// Chrome trace-event JSON (the "JSON Object Format" of the Trace Event Format, read by the Perfetto
// UI and chrome://tracing) from an analyze report plus a few per-event facts the report does not
// keep (module refcount samples, task names).
//
// Layout:
// - one process per boot (pid = boot id + 1; a live update has two kernels, each with its own
//   clock and pid space, real README §3.1), one thread track per task (tid = kernel pid);
// - LUO phases (session and boot-wide) and lock waits/holds as complete slices ("X") on the task
//   that ran them. The format requires slices on one thread to nest strictly (Perfetto FAQ:
//   overlapping B/E/X events are not supported); a slice that would overlap its parent without
//   nesting is emitted as an async slice instead and counted in otherData;
// - module pin windows as async slices ("b"/"e", one id each): they overlap freely, span tasks, and
//   the ones held across kexec end at the end of their boot with `open: true`;
// - module refcount as counter tracks ("C"), from the kernel's own `refcnt=` (raw, MODULE_REF_BASE
//   included, luo-model.md §4).
// Timestamps are microseconds (the format's unit), from the trace clock (ns / 1000).
import { z } from 'zod';
import type { TraceEvent } from '../parsers/event.js';
import type { AnalyzeReport } from './report.js';
import { type Segment, SegmentTracker } from './segments.js';

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

/** A lock wait or hold of one task (from the lock analysis). */
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

// ---- lock slices from the report's lock details ----------------------------------------------------

const ContextView = z.object({ pid: z.number().nullable(), comm: z.string().nullable(), session: z.string().nullable().optional(), func: z.string().nullable().optional(), phase: z.string().nullable().optional() });
const WaitView = z.object({
  lock: z.string().nullable(),
  address: z.string().nullable(),
  type: z.string(),
  waiter: ContextView,
  caller: z.string().nullable().optional(),
  begin: z.number(),
  end: z.number(),
  duration: z.number(),
  owners: z.array(ContextView.extend({ mode: z.string().optional(), heldFor: z.number().nullable().optional() })).optional(),
  wokenBy: ContextView.extend({ at: z.number() }).nullable().optional(),
  explanation: z.string().optional(),
  file: z.number().int(),
  line: z.number().int(),
});

/**
 * Lock waits the report keeps (`lockDetails.slowestWaits` and the waits inside `lockDetails.stalls`),
 * and the holds of their owners where the report closes them (the owner is the task that woke the
 * waiter: its hold ran from begin − heldFor to the wake-up). Read tolerantly: a report without lock
 * details gives no slices.
 */
export function lockSlicesFromReport(report: AnalyzeReport): LockSlice[] {
  const details = report.lockDetails as Record<string, unknown>;
  const raw: unknown[] = [];
  if (Array.isArray(details.slowestWaits)) raw.push(...details.slowestWaits);
  if (Array.isArray(details.stalls)) {
    for (const s of details.stalls as Array<{ slowest?: Array<{ waits?: unknown[] }> }>) for (const p of s.slowest ?? []) raw.push(...(p.waits ?? []));
  }
  const out: LockSlice[] = [];
  const seen = new Set<string>();
  for (const r of raw) {
    const p = WaitView.safeParse(r);
    if (!p.success) continue;
    const w = p.data;
    const key = `${w.file}:${w.line}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const lock = w.lock ?? w.address ?? '(unnamed lock)';
    const boot = bootAt(report, w.file, w.begin);
    out.push({
      kind: 'wait',
      boot,
      pid: w.waiter.pid,
      comm: w.waiter.comm,
      lock,
      mode: w.type,
      start: w.begin,
      end: w.end,
      args: { lock, type: w.type, session: w.waiter.session ?? null, luoFunction: w.waiter.func ?? null, caller: w.caller ?? null, explanation: w.explanation ?? null, file: report.sources[w.file]?.file ?? null, line: w.line },
    });
    const waker = w.wokenBy;
    for (const o of w.owners ?? []) {
      if (!waker || o.pid === null || o.pid !== waker.pid || o.heldFor === null || o.heldFor === undefined) continue;
      const hk = `hold:${o.pid}:${lock}:${w.begin - o.heldFor}`;
      if (seen.has(hk)) continue;
      seen.add(hk);
      out.push({
        kind: 'hold',
        boot,
        pid: o.pid,
        comm: o.comm,
        lock,
        mode: o.mode ?? w.type,
        start: w.begin - o.heldFor,
        end: waker.at,
        args: { lock, mode: o.mode ?? null, session: o.session ?? null, luoFunction: o.func ?? null, blocked: `${w.waiter.comm ?? '?'}-${w.waiter.pid ?? '?'}` },
      });
    }
  }
  return out;
}

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

export function toChromeTrace(inp: ChromeInputs): ChromeTrace {
  const { report } = inp;
  const events: ChromeTraceEvent[] = [];
  const notes: string[] = [];
  let skippedUntimed = 0;
  let asyncIds = 0;
  const pidOf = (boot: number) => boot + 1;
  const threads = new Map<string, { pid: number; tid: number; name: string }>();
  const taskName = new Map(inp.tasks.map((t) => [`${t.boot}/${t.pid}`, t.comm]));
  const thread = (boot: number, pid: number | null, comm: string | null): number => {
    const tid = pid ?? NO_TASK_TID;
    const k = `${pidOf(boot)}/${tid}`;
    if (!threads.has(k)) {
      const c = comm ?? (pid !== null ? taskName.get(`${boot}/${pid}`) : undefined);
      threads.set(k, { pid: pidOf(boot), tid, name: pid === null ? 'no task (console log lines)' : `${c ?? 'task'}-${pid}` });
    }
    return tid;
  };

  // Processes: one per boot.
  const processes: Record<string, string> = {};
  for (const b of report.boots) {
    const name = `boot ${b.id}: ${b.role === 'outgoing' ? 'old kernel (outgoing)' : b.role === 'incoming' ? 'new kernel (incoming)' : b.role === 'both' ? 'kernel (outgoing and incoming)' : 'kernel'}${b.liveupdateNumber !== null ? `, liveupdate #${b.liveupdateNumber}` : ''}`;
    processes[String(pidOf(b.id))] = name;
    events.push({ ph: 'M', name: 'process_name', pid: pidOf(b.id), args: { name } });
    events.push({ ph: 'M', name: 'process_sort_index', pid: pidOf(b.id), args: { sort_index: b.id } });
  }
  if (report.boots.length > 1) notes.push('each boot is one process on its own trace clock: the new kernel\'s times restart at its boot, so boots may overlap on the time axis');

  // Complete slices per thread: phases and lock intervals.
  const pending: PendingSlice[] = [];
  let phases = 0;
  const addPhase = (boot: number, p: AnalyzeReport['sessions'][number]['phases'][number], session: string | null) => {
    if (p.start === null || p.end === null) {
      skippedUntimed++;
      return;
    }
    phases++;
    pending.push({
      pid: pidOf(boot),
      tid: thread(boot, p.pid, p.comm),
      name: `${p.name}${p.token ? ` ${p.token}` : ''}`,
      cat: 'luo.phase',
      start: p.start,
      end: p.end,
      args: { session, func: p.func, token: p.token, result: p.result, error: p.error, via: p.via, file: p.file, line: p.line },
    });
  };
  for (const s of report.sessions) for (const p of s.phases) addPhase(s.boot, p, s.name);
  for (const b of report.boots) for (const p of b.globalPhases) addPhase(b.id, p, null);
  for (const l of inp.lockSlices) {
    if (l.end < l.start) continue;
    pending.push({ pid: pidOf(l.boot), tid: thread(l.boot, l.pid, l.comm), name: `${l.kind} ${l.lock} ${l.mode}`, cat: `lock.${l.kind}`, start: l.start, end: l.end, args: l.args });
  }
  // Strict nesting per thread; what cannot nest becomes an async slice on the same process.
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
        const id = `overlap-${++asyncIds}`;
        events.push({ ph: 'b', name: s.name, cat: `${s.cat}.overlapping`, id, pid: s.pid, tid: s.tid, ts: us(s.start), args: s.args });
        events.push({ ph: 'e', name: s.name, cat: `${s.cat}.overlapping`, id, pid: s.pid, tid: s.tid, ts: us(s.end) });
        continue;
      }
      stack.push(s);
      events.push({ ph: 'X', name: s.name, cat: s.cat, pid: s.pid, tid: s.tid, ts: us(s.start), dur: us(s.end) - us(s.start), args: s.args });
    }
  }
  if (movedToAsync) notes.push(`${movedToAsync} slices overlapped another on the same task without nesting and are drawn as async slices (category *.overlapping)`);

  // Pin windows: async slices.
  let pinWindows = 0;
  for (const m of report.modules) {
    const boot = report.boots.find((b) => b.id === m.boot);
    for (const w of m.pinWindows) {
      if (w.getTime === null) {
        skippedUntimed++;
        continue;
      }
      const end = w.putTime ?? boot?.end ?? w.getTime;
      pinWindows++;
      const id = `pin-${++asyncIds}`;
      const tid = thread(m.boot, w.getPid, w.getComm);
      const name = `${w.class.startsWith('luo') ? 'pin' : 'ref'} ${m.name} (${w.class})`;
      events.push({
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
      events.push({ ph: 'e', name, cat: 'module.pin', id, pid: pidOf(m.boot), tid, ts: us(Math.max(end, w.getTime)) });
    }
  }
  if (report.modules.some((m) => m.pinWindows.some((w) => w.putTime === null))) notes.push('pins still held at the end of their boot (e.g. across kexec) end at the last event of that boot, with args.open = true');

  // Refcount counters.
  const samples = [...inp.refcounts].sort((a, b) => a.boot - b.boot || a.time - b.time);
  for (const s of samples) events.push({ ph: 'C', name: `refcnt ${s.module}`, pid: pidOf(s.boot), ts: us(s.time), args: { refcnt: s.refcnt } });

  // Thread names last (every track that was used).
  for (const t of threads.values()) events.push({ ph: 'M', name: 'thread_name', pid: t.pid, tid: t.tid, args: { name: t.name } });
  for (const pid of new Set([...threads.values()].map((t) => t.pid))) {
    if (!processes[String(pid)]) {
      processes[String(pid)] = `boot ${pid - 1}`;
      events.push({ ph: 'M', name: 'process_name', pid, args: { name: `boot ${pid - 1}` } });
    }
  }
  const sessionsOmitted = Object.values(report.sessionsOmitted ?? {}).reduce((a, n) => a + n, 0);
  const windowsOmitted = report.modules.reduce((a, m) => a + (m.pinWindowsOmitted ?? 0), 0);
  if (sessionsOmitted || windowsOmitted) {
    notes.push(`the report lists only part of a long run: ${sessionsOmitted} ended sessions and ${windowsOmitted} released pin windows are counted there but have no slices here`);
  }
  if (!inp.lockSlices.length) notes.push('no lock waits or holds: the report has no lock details (lock events missing, or the lock analysis is not available)');
  else notes.push('lock slices are the waits the lock analysis keeps in its report (the slowest ones) and the holds of the tasks that released them');

  return {
    traceEvents: events,
    displayTimeUnit: 'ns',
    otherData: {
      tool: `${report.tool.name} ${report.tool.version}`,
      files: report.sources.map((s) => s.file),
      kernelModel: report.kernelModel.id,
      processes,
      counts: { phases, pinWindows, lockSlices: inp.lockSlices.length, refcountSamples: samples.length, movedToAsync, skippedUntimed },
      notes,
    },
  };
}
