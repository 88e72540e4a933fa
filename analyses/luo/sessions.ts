// LUO sessions and their phases, reconstructed from function probes.
//
// Model: docs/luo-model.md §1.2 (sessions), §1.3 (preserved files), §1.5 (implicit phases) and §6 (a run
// step by step). A session is named only where the kernel receives the name: `luo_session_create`
// (old kernel) and `luo_session_retrieve` (new kernel). Every other LUO function takes the session's
// `file_set` (embedded in struct luo_session), so sessions are followed by that pointer:
// - old kernel: the first `luo_preserve_file(file_set=X)` after a create binds X to the oldest
//   created-but-unbound session of the same task; `luo_file_unpreserve_files(X)` is the abort (the
//   session fd was closed, §1.2 Release), `luo_file_freeze(X)` the freeze inside `liveupdate_reboot`;
// - new kernel: `luo_file_deserialize(X)` (at the first open of /dev/liveupdate) creates an unnamed
//   incoming session; `luo_session_retrieve(name)` followed by `luo_retrieve_file(X)` or
//   `luo_file_finish(X)` in the same task names it; `luo_file_finish(X)` is the finish, by the
//   SESSION_FINISH ioctl (0xba42) or implicitly when the fd is closed (§1.2 Finish / Release).
// File sets are reused after a session is freed, so a binding ends with the abort or finish.
// Where probes are missing the report says which phases could not be seen instead of guessing.
import type { EventKind, TraceEvent } from '../../parsers/event.js';
import { errnoName } from '../kernel/errno.js';
import { LUO_PHASES, PHASE_OF_FUNCTION } from '../kernel/phases.js';
import type { CallEdge, LuoCallTracker, OpenCall } from '../stream/luo-calls.js';
import type { Segment } from '../stream/segments.js';
import { type TaskKey, taskKey } from '../stream/task-key.js';
import { BackwardSpans } from './backwards.js';
import { AttemptPhases, CappedPhases, MAX_ATTEMPT_PHASES, type PhaseStat, accountPhase, mergeStat, phasesOmitted } from '../lists.js';
import * as F from '../stream/luo-calls.js';

export type SessionSide = 'outgoing' | 'incoming';
export type SessionState =
  | 'creating'
  | 'open'
  | 'failed'
  | 'aborted'
  | 'frozen'
  | 'deserialized'
  | 'retrieved'
  | 'finished'
  /** Its create (or retrieve) returned, but the return was lost with lost events: outcome unknown. */
  | 'lost';

export interface PhaseRecord {
  name: string;
  func: string;
  start: number | null;
  end: number | null;
  durationNs: number | null;
  /** Return value when the probe carried one (null: void function or no return probe). */
  result: number | null;
  error: string | null;
  src: number;
  line: number;
  endLine: number | null;
  pid: number | null;
  comm: string | null;
  token: string | null;
  /** How a finish happened: the SESSION_FINISH ioctl, or closing the session fd. */
  via: 'ioctl' | 'close' | null;
  /** Events were lost between its call and its return: the two may not belong together, no duration. */
  acrossLoss?: boolean;
  /**
   * The call returned but its return was lost with lost events (the task entered another LUO call:
   * docs/luo-model.md §1.6): no end, no result. Always with acrossLoss.
   */
  returnLost?: boolean;
}

export interface FileRecord {
  token: string;
  fd: number | null;
  handler: string | null;
  preserved: boolean | null;
  preserveError: string | null;
  retrieved: boolean | null;
  retrieveError: string | null;
}

export interface SessionRecord {
  key: number;
  name: string | null;
  side: SessionSide;
  segment: number;
  src: number;
  fileSet: string | null;
  state: SessionState;
  pid: number | null;
  comm: string | null;
  firstLine: number;
  phases: PhaseRecord[];
  files: Map<string, FileRecord>;
  /** Name given at create/retrieve time but the create/retrieve itself was before the trace. */
  seenFromStart: boolean;
  finishedVia: 'ioctl' | 'close' | null;
  /** Aborted, but its release is not in the trace: a later create of its name succeeded (endNamesake). */
  releaseUnseen?: boolean;
  /** Its luo_file_freeze / luo_file_unfreeze calls, those kept (also in `phases`) and those tallied (a kexec retry loop). */
  attempts?: AttemptPhases<PhaseRecord>;
  /** The groups of freeze calls seen where no session owned its file set, joined to it per boot (luo.ts sessionsByBoot). */
  joined?: OrphanGroup[];
}

/**
 * The luo_file_freeze / luo_file_unfreeze calls on one file set in a segment where no session owns it
 * (joined per boot later), bounded as a session's are (analyses/lists.ts AttemptPhases). `stats`: those
 * tallied, as phaseStats counts them (a live session they join counts them).
 */
export interface OrphanGroup {
  segment: number;
  fileSet: string;
  phases: AttemptPhases<PhaseRecord>;
  stats: Map<string, PhaseStat> | null;
}

export type { PhaseStat };

export interface GlobalPhase extends PhaseRecord {
  segment: number;
}

/** The LUO call kernel_kexec() makes first: it freezes every session, and its error stops the kexec (luo_core.c, kexec_core.c). */
export const KEXEC_ENTRY = 'liveupdate_reboot';
/**
 * Global phases listed per segment; the rest are tallied (analyses/lists.ts CappedPhases). A real boot
 * has a few (one liveupdate_reboot, its serialize steps, a deserialize); a kexec retry loop makes one
 * per attempt (2·10^5 took 818 MB listed).
 */
export const MAX_GLOBAL_PHASES = 5000;

const LIVEUPDATE_SESSION_FINISH = 0xba42;
/** The functions whose return without an entry in the trace is kept as a phase of its own (exit). */
const ENTRY_MISSING_KEPT: ReadonlySet<number> = new Set([F.FN_FILE_FINISH, F.FN_FILE_UNPRESERVE_FILES, F.FN_PRESERVE_FILE, F.FN_SESSION_CREATE, F.FN_SESSION_RETRIEVE]);
/** States of a session that has ended (retired: its phases are in phaseStats). */
const ENDED: ReadonlySet<SessionState> = new Set(['aborted', 'finished', 'failed', 'lost']);
/**
 * Sessions that ended normally are kept in full up to this many per segment; after that only their
 * counts and phase statistics are kept, so memory does not grow with a trace of 100 000 sessions.
 * Sessions with an error phase are always kept (up to MAX_WITH_ERRORS).
 */
export const MAX_DETAILED_SESSIONS = 1000;
const MAX_WITH_ERRORS = 5000;
/** Finished sessions remembered by file set per segment (see luo_file_finish). */
const MAX_ENDED_FILE_SETS = 10_000;

interface SegState {
  sessions: SessionRecord[];
  live: Map<string, SessionRecord>;
  /** Created (ret 0) and not yet bound to a file set, per task, oldest first. */
  unbound: Map<TaskKey, SessionRecord[]>;
  /** A successful RETRIEVE_SESSION waiting for the task's next file-set call. */
  retrieving: Map<TaskKey, { session: SessionRecord | null; name: string; phase: PhaseRecord }>;
  creating: Map<TaskKey, SessionRecord>;
  /** Sessions that finished, by file set, until the file set is reused: a later finish is the release. */
  ended: Map<string, SessionRecord>;

  /** Open phases by call (so the exit edge can complete them). */
  open: Map<OpenCall, { session: SessionRecord | null; phase: PhaseRecord }>;
  /** The open luo_file_unpreserve_files call of a file set: the session's release (closeReleased). */
  releasing: Map<string, OpenCall>;
  /** Without file_set arguments (function_graph): the session each task last created or retrieved. */
  current: Map<TaskKey, SessionRecord>;
  /** When its latest liveupdate_reboot was called: freeze calls before it are of earlier attempts (AttemptPhases). */
  attemptStart: number | null;
  /** Freeze and unfreeze calls by file set where no session owns it. */
  orphans: Map<string, OrphanGroup>;
}

function phaseFrom(name: string, edge: CallEdge, token: string | null = null): PhaseRecord {
  const c = edge.call;
  return {
    name,
    func: c.func,
    start: c.start,
    end: null,
    durationNs: null,
    result: null,
    error: null,
    src: c.src,
    line: c.line,
    endLine: null,
    pid: c.pid,
    comm: c.comm,
    token,
    via: null,
  };
}

function close(phase: PhaseRecord, edge: CallEdge, backwards: BackwardSpans): void {
  phase.end = edge.end;
  phase.endLine = edge.endLine;
  phase.result = edge.ret;
  phase.error = errnoName(edge.ret);
  phase.durationNs = backwards.span(phase.start, phase.end, phase.src, phase.line);
  if (edge.acrossLoss) {
    phase.acrossLoss = true;
    phase.durationNs = null;
  }
}

export class SessionReducer {
  /** The kinds push reads: the ioctl syscalls (LuoAnalysis routes only these; LUO call edges go to onEdge). */
  static readonly kinds: readonly EventKind[] = ['syscall_enter', 'syscall_exit'];
  private readonly segs = new Map<number, SegState>();
  /** Freeze and unfreeze calls on file sets no session owned in their segment, grouped by segment and file set. */
  readonly orphans: OrphanGroup[] = [];
  /** Phases let go from an orphan group: finish() may run again (TUI --follow), a session they joined drops them then. */
  readonly tallied = new WeakSet<PhaseRecord>();
  /** Boot-wide phases: the first of each segment listed, the last liveupdate_reboot too (the kexec verdict reads it), the rest tallied. */
  readonly globalPhases: CappedPhases<GlobalPhase>;
  /** Phases whose return came before their call (time went backwards): no duration. */
  readonly backwards = new BackwardSpans();
  /** Phase durations of every session, kept or not. */
  readonly phaseStats = new Map<string, PhaseStat>();
  /** Sessions dropped to counts, by outcome state. */
  readonly omitted = new Map<string, number>();
  /** Ended sessions kept in full, for the caps. */
  private keptEnded = 0;
  private keptWithErrors = 0;
  /** Returns of session functions without their entry, after lost events in the source: per function, the count and the first. */
  private readonly entriesLost = new Map<string, { count: number; src: number; line: number }>();
  /** Functions seen with an entry or return probe (to say which phases were observable). */
  readonly probedFunctions = new Set<string>();
  private nextKey = 0;
  /** Open sys_ioctl per task: the command, to tell a FINISH ioctl from a close. */
  private readonly ioctl = new Map<TaskKey, number>();
  /** Sources whose trace has ioctl syscall events (otherwise "finish by ioctl or close" is unknown). */
  private readonly ioctlTraced = new Set<number>();

  constructor(
    private readonly calls: LuoCallTracker,
    globalPhaseRows = MAX_GLOBAL_PHASES,
    private readonly attemptRows = MAX_ATTEMPT_PHASES,
  ) {
    this.globalPhases = new CappedPhases(globalPhaseRows, (p) => p.func === KEXEC_ENTRY);
  }

  /** The state of the segment asked for last (most events follow one of the same segment). */
  private lastSeg: SegState | null = null;
  private lastSegId = -1;
  /** 1 at the number (OpenCall.fid) of each function already in probedFunctions. */
  private probedIds = new Uint8Array(64);

  private seg(id: number): SegState {
    if (id === this.lastSegId && this.lastSeg !== null) return this.lastSeg;
    let s = this.segs.get(id);
    if (!s) {
      s = { sessions: [], live: new Map(), unbound: new Map(), retrieving: new Map(), creating: new Map(), open: new Map(), releasing: new Map(), ended: new Map(), current: new Map(), attemptStart: null, orphans: new Map() };
      this.segs.set(id, s);
    }
    this.lastSegId = id;
    this.lastSeg = s;
    return s;
  }

  push(ev: TraceEvent): void {
    if (ev.kind === 'syscall_enter' && ev.fields.syscall === 'ioctl') {
      const cmd = ev.fields.args.cmd;
      this.ioctlTraced.add(ev.src);
      this.ioctl.set(taskKey(ev.src, ev.pid), cmd ? Number(cmd.startsWith('0x') ? cmd : `0x${cmd}`) : NaN);
      return;
    }
    if (ev.kind === 'syscall_exit' && ev.fields.syscall === 'ioctl') this.ioctl.delete(taskKey(ev.src, ev.pid));
  }

  /** A LUO call entered or left (LuoCallTracker.lastEdge of `ev`): phases and sessions. */
  onEdge(edge: CallEdge, ev: TraceEvent, seg: Segment): void {
    const fid = edge.call.fid;
    if (fid >= this.probedIds.length || this.probedIds[fid] !== 1) this.probed(fid, edge.call.func);
    const st = this.seg(seg.id);
    if (edge.returnLost.length) this.closeReturnLost(edge.returnLost, st, seg);
    // Only the phase functions and luo_flb_file_preserve open or close anything here (enter's cases;
    // exit acts on what enter opened, or on a phase function's return without its entry). Most LUO
    // edges of a real trace are other calls (liveupdate_flb_put_outgoing...): nothing to do (issue 17).
    if (this.calls.functions.phase[fid] !== null || fid === F.FN_FLB_FILE_PRESERVE) {
      // A function_graph leaf (`luo_retrieve_file(); /* ret=0x0 */`) is its call and its return at once.
      if (ev.kind === 'funcgraph_leaf' && edge.type === 'exit' && !edge.entryMissing) this.enter({ ...edge, type: 'enter', end: null, ret: null, endLine: null }, st, seg);
      if (edge.type === 'enter') this.enter(edge, st, seg);
      else this.exit(edge, st, seg);
    }
    // Calls whose return will never come (LuoCallTracker dropped them): nothing may stay keyed by them,
    // and a global phase past the list's cap is tallied as it is (no result).
    for (const c of edge.dropped) {
      const rec = st.open.get(c);
      if (rec) this.globalPhases.closed(rec.phase);
      this.forget(st, c);
    }
  }

  /** The phase a call of a phase function opens (by its number: no lookup by name on the hot path). */
  private phaseOf(c: OpenCall): string {
    return this.calls.functions.phase[c.fid] as string;
  }

  /** A function's first edge: it was probed (numbers are the call tracker's: stream/luo-calls.ts FunctionIds). */
  private probed(fid: number, func: string): void {
    if (fid >= this.probedIds.length) {
      const more = new Uint8Array(Math.max(fid + 1, this.probedIds.length * 2));
      more.set(this.probedIds);
      this.probedIds = more;
    }
    this.probedIds[fid] = 1;
    this.probedFunctions.add(func);
  }

  private forget(st: SegState, c: OpenCall): void {
    st.open.delete(c);
    const fs = c.args.file_set;
    if (fs !== undefined && st.releasing.get(fs) === c) st.releasing.delete(fs);
  }

  /**
   * Calls the tracker proved returned, their returns lost with lost events (docs/luo-model.md §1.6):
   * each phase ends with no time and no result, marked returnLost (and acrossLoss: not measurable).
   * What is known of the session follows from the function: an unpreserve is the release (the session
   * was freed after it), a create's or retrieve's outcome is unknown ('lost'). The others leave the
   * session as it was: their result is unknown, and none of them ends a session.
   */
  private closeReturnLost(calls: readonly OpenCall[], st: SegState, seg: Segment): void {
    for (const c of calls) {
      const rec = st.open.get(c);
      this.forget(st, c);
      if (!rec) continue;
      rec.phase.returnLost = true;
      rec.phase.acrossLoss = true;
      this.globalPhases.closed(rec.phase);
      const s = rec.session;
      const task = taskKey(c.src, c.pid);
      if (c.fid === F.FN_SESSION_CREATE) {
        if (st.creating.get(task) === s) st.creating.delete(task);
        if (s) {
          s.state = 'lost';
          this.retire(st, s);
        }
      } else if (c.fid === F.FN_SESSION_RETRIEVE) {
        const lost = this.newSession(st, seg, 'incoming', c.args.name ?? null, c, 'lost');
        lost.phases.push(rec.phase);
        this.retire(st, lost);
      } else if (c.fid === F.FN_FILE_UNPRESERVE_FILES && s) this.released(st, s);
    }
  }

  /**
   * A create of `s`'s name succeeded: luo_session_insert refuses a name already on the outgoing list
   * (-EEXIST), so a live outgoing session of that name had been released, unseen (its unpreserve lost
   * with lost events: docs/luo-model.md §1.6). Only after lost events: without them the trace would show it.
   */
  private endNamesake(st: SegState, s: SessionRecord): void {
    for (const old of st.live.values()) {
      if (old === s || old.side !== 'outgoing' || old.name !== s.name || (old.state !== 'open' && old.state !== 'frozen')) continue;
      old.releaseUnseen = true;
      this.released(st, old);
      return;
    }
  }

  /** An outgoing session's release ran (luo_session_release: unpreserve, remove, free): aborted, its file set free. */
  private released(st: SegState, s: SessionRecord): void {
    s.state = 'aborted';
    if (s.fileSet && st.live.get(s.fileSet) === s) st.live.delete(s.fileSet);
    this.retire(st, s);
  }

  /**
   * A call on file set `fs` while the release (luo_file_unpreserve_files) of the session there is still
   * open in another task, with events lost since: the release returned unseen and the session was freed,
   * this is a new session at the reused address (docs/luo-model.md §1.6). Without that, its phases
   * would pile onto the freed session.
   */
  private closeReleased(st: SegState, seg: Segment, fs: string, edge: CallEdge): void {
    const rel = st.releasing.get(fs);
    if (rel === undefined || rel === edge.call || !this.calls.mayHaveLostReturn(rel)) return;
    this.closeReturnLost([rel], st, seg);
  }

  private task(edge: CallEdge): TaskKey {
    return taskKey(edge.call.src, edge.call.pid);
  }

  private newSession(st: SegState, seg: Segment, side: SessionSide, name: string | null, call: OpenCall, state: SessionState): SessionRecord {
    const s: SessionRecord = {
      key: this.nextKey++,
      name,
      side,
      segment: seg.id,
      src: seg.src,
      fileSet: null,
      state,
      pid: call.pid,
      comm: call.comm,
      firstLine: call.line,
      phases: [],
      files: new Map(),
      seenFromStart: true,
      finishedVia: null,
    };
    st.sessions.push(s);
    return s;
  }

  /** The session that owns file set `fs` in this segment, binding it to a waiting session if needed. */
  private bind(st: SegState, seg: Segment, fs: string, edge: CallEdge, side: SessionSide): SessionRecord {
    const bound = st.live.get(fs);
    if (bound) return bound;
    const task = this.task(edge);
    let session: SessionRecord | undefined;
    if (side === 'outgoing') {
      const mine = st.unbound.get(task);
      session = mine?.shift();
      if (!session) {
        // Another task may use the session fd (fds can be passed); take the oldest unbound one.
        for (const list of st.unbound.values()) {
          if (list.length) {
            session = list.shift();
            break;
          }
        }
      }
    } else {
      const r = st.retrieving.get(task);
      if (r) {
        st.retrieving.delete(task);
        session = r.session ?? undefined;
        if (!session) {
          session = this.newSession(st, seg, 'incoming', r.name, edge.call, 'retrieved');
          session.seenFromStart = false; // its deserialize happened before the trace
        }
      }
    }
    if (!session) {
      // Created (or deserialized) before the trace started.
      session = this.newSession(st, seg, side, null, edge.call, side === 'outgoing' ? 'open' : 'deserialized');
      session.seenFromStart = false;
    }
    session.fileSet = fs;
    st.live.set(fs, session);
    return session;
  }

  private enter(edge: CallEdge, st: SegState, seg: Segment): void {
    const c = edge.call;
    const fs = c.args.file_set ?? null;
    const task = this.task(edge);
    switch (c.fid) {
      case F.FN_SESSION_CREATE: {
        const s = this.newSession(st, seg, 'outgoing', c.args.name ?? null, edge.call, 'creating');
        const phase = phaseFrom(PHASE_OF_FUNCTION.luo_session_create, edge);
        s.phases.push(phase);
        st.creating.set(task, s);
        st.open.set(c, { session: s, phase });
        return;
      }
      case F.FN_SESSION_RETRIEVE: {
        st.open.set(c, { session: null, phase: phaseFrom(PHASE_OF_FUNCTION.luo_session_retrieve, edge) });
        return;
      }
      case F.FN_REBOOT:
      case F.FN_SESSION_SERIALIZE:
      case F.FN_FLB_SERIALIZE:
      case F.FN_SESSION_DESERIALIZE: {
        // Every session at once: a boot's phase, told apart by its function (kernel/phases.ts).
        const phase: GlobalPhase = { ...phaseFrom(this.phaseOf(c), edge), segment: seg.id };
        if (c.fid === F.FN_REBOOT && c.start !== null) st.attemptStart = c.start;
        this.globalPhases.add(phase);
        st.open.set(c, { session: null, phase });
        return;
      }
      case F.FN_PRESERVE_FILE:
      case F.FN_FILE_UNPRESERVE_FILES:
      case F.FN_FILE_FREEZE:
      case F.FN_FILE_UNFREEZE:
      case F.FN_FILE_DESERIALIZE:
      case F.FN_RETRIEVE_FILE:
      case F.FN_FILE_FINISH: {
        if (!fs) return this.enterWithoutFileSet(edge, st, seg);
        const token = c.args.token ?? null;
        const phase = phaseFrom(this.phaseOf(c), edge, token);
        const f = c.fid;
        const incoming = f === F.FN_FILE_DESERIALIZE || f === F.FN_RETRIEVE_FILE || f === F.FN_FILE_FINISH;
        if ((f === F.FN_FILE_FREEZE || f === F.FN_FILE_UNFREEZE) && !st.live.has(fs)) {
          // The freeze runs in `kexec -e`, usually only on the console (another segment): join later.
          this.orphan(st, seg, fs, phase);
          st.open.set(c, { session: null, phase });
          return;
        }
        if (f === F.FN_FILE_FINISH && !st.live.has(fs) && st.ended.has(fs)) {
          // `luo_session_release` after a FINISH ioctl calls finish again on the emptied set: not a phase.
          st.open.set(c, { session: null, phase });
          return;
        }
        st.ended.delete(fs);
        this.closeReleased(st, seg, fs, edge);
        let session: SessionRecord;
        if (f === F.FN_FILE_DESERIALIZE) {
          const prev = st.live.get(fs);
          if (prev) st.live.delete(fs);
          session = this.newSession(st, seg, 'incoming', null, edge.call, 'deserialized');
          session.fileSet = fs;
          st.live.set(fs, session);
        } else {
          session = this.bind(st, seg, fs, edge, incoming ? 'incoming' : 'outgoing');
        }
        if (f === F.FN_RETRIEVE_FILE || f === F.FN_FILE_FINISH) {
          const r = st.retrieving.get(task);
          if (r && session.name === null) {
            session.name = r.name;
            session.phases.push(r.phase);
            st.retrieving.delete(task);
            if (session.state === 'deserialized') session.state = 'retrieved';
          }
        }
        if (f === F.FN_FILE_FINISH) {
          const cmd = this.ioctl.get(task);
          if (this.ioctlTraced.has(c.src)) phase.via = cmd === LIVEUPDATE_SESSION_FINISH ? 'ioctl' : cmd === undefined ? 'close' : null;
        }
        if (token !== null && (f === F.FN_PRESERVE_FILE || f === F.FN_RETRIEVE_FILE)) {
          let file = session.files.get(token);
          if (!file) {
            file = { token, fd: null, handler: null, preserved: null, preserveError: null, retrieved: null, retrieveError: null };
            session.files.set(token, file);
          }
          if (c.args.fd !== undefined) file.fd = Number(c.args.fd);
        }
        session.phases.push(phase);
        // Freeze calls of earlier attempts are let go from its phases, counted in phaseStats (lists.ts AttemptPhases).
        if (f === F.FN_FILE_FREEZE || f === F.FN_FILE_UNFREEZE) {
          for (const q of (session.attempts ??= new AttemptPhases(this.attemptRows)).add(phase, st.attemptStart, session.phases)) accountPhase(q, this.phaseStats);
        }
        st.open.set(c, { session, phase });
        if (f === F.FN_FILE_UNPRESERVE_FILES) st.releasing.set(fs, c);
        return;
      }
      case F.FN_FLB_FILE_PRESERVE: {
        // Called inside luo_preserve_file for the file being preserved: names its handler.
        const stack = this.calls.openCalls(c.src, c.pid);
        let pres: OpenCall | undefined;
        for (let i = stack.length - 1; i >= 0 && pres === undefined; i--) if (stack[i].fid === F.FN_PRESERVE_FILE) pres = stack[i];
        const handler = c.args.handler;
        if (pres && handler && pres.args.file_set && pres.args.token) {
          const s = st.live.get(pres.args.file_set);
          const f = s?.files.get(pres.args.token);
          if (f) f.handler = handler;
        }
        return;
      }
      default:
        return;
    }
  }

  /** A freeze or unfreeze call on file set `fs` that no session of the segment owns. */
  private orphan(st: SegState, seg: Segment, fs: string, p: PhaseRecord): void {
    let g = st.orphans.get(fs);
    if (!g) {
      st.orphans.set(fs, (g = { segment: seg.id, fileSet: fs, phases: new AttemptPhases(this.attemptRows), stats: null }));
      this.orphans.push(g);
    }
    for (const q of g.phases.add(p, st.attemptStart)) {
      accountPhase(q, (g.stats ??= new Map()));
      this.tallied.add(q);
    }
  }

  /**
   * A per-session call without its file_set (function_graph prints no arguments). It belongs to the
   * session the task has just created or retrieved (docs/luo-model.md §6 "Which session a file-level
   * call belongs to"); a close (unpreserve) to the task's only open session. A luo_file_deserialize
   * cannot be told apart per session: it is kept as the boot's phase. Freezes run in another task.
   */
  private enterWithoutFileSet(edge: CallEdge, st: SegState, seg: Segment): void {
    const c = edge.call;
    const task = this.task(edge);
    const phase = phaseFrom(this.phaseOf(c), edge, c.args.token ?? null);
    let session: SessionRecord | undefined;
    if (c.func === 'luo_file_deserialize') {
      const g: GlobalPhase = { ...phase, segment: seg.id };
      this.globalPhases.add(g);
      st.open.set(c, { session: null, phase: g });
      return;
    }
    if (c.func === 'luo_preserve_file') session = st.current.get(task);
    else if (c.func === 'luo_file_unpreserve_files') {
      const mine = st.sessions.filter((x) => x.side === 'outgoing' && x.fileSet === null && x.state === 'open' && x.pid === c.pid);
      if (mine.length === 1) session = mine[0];
    } else if (c.func === 'luo_retrieve_file' || c.func === 'luo_file_finish') {
      const r = st.retrieving.get(task);
      if (r) {
        st.retrieving.delete(task);
        session = this.newSession(st, seg, 'incoming', r.name || null, edge.call, 'retrieved');
        session.phases.push(r.phase);
        st.current.set(task, session);
      } else session = st.current.get(task);
      if (c.func === 'luo_file_finish') {
        const cmd = this.ioctl.get(task);
        if (this.ioctlTraced.has(c.src)) phase.via = cmd === LIVEUPDATE_SESSION_FINISH ? 'ioctl' : cmd === undefined ? 'close' : null;
      }
    }
    if (!session || ENDED.has(session.state)) {
      st.open.set(c, { session: null, phase });
      return;
    }
    session.phases.push(phase);
    st.open.set(c, { session, phase });
  }

  private exit(edge: CallEdge, st: SegState, seg: Segment): void {
    const c = edge.call;
    const rec = st.open.get(c);
    const task = this.task(edge);
    if (!rec) {
      // Return without entry: the call began before the trace. Keep it as a phase of its own.
      if (edge.entryMissing && ENTRY_MISSING_KEPT.has(c.fid)) {
        const phase = phaseFrom(c.func, edge);
        close(phase, edge, this.backwards);
        phase.start = null;
        if (this.calls.lossesOf(c.src) > 0) {
          // After lost events its entry is more likely among them than before the trace: counted (a
          // data-quality note), not listed: one phase per lost entry would grow with the trace.
          const n = this.entriesLost.get(c.func);
          if (n) n.count++;
          else this.entriesLost.set(c.func, { count: 1, src: c.src, line: edge.endLine ?? c.line });
          return;
        }
        const g: GlobalPhase = { ...phase, name: `${c.func} (entry before trace)`, segment: seg.id };
        this.globalPhases.add(g);
        this.globalPhases.closed(g);
      }
      return;
    }
    this.forget(st, c);
    close(rec.phase, edge, this.backwards);
    const s = rec.session;
    if (s === null) this.globalPhases.closed(rec.phase);
    switch (c.fid) {
      case F.FN_SESSION_CREATE:
        st.creating.delete(task);
        if (!s) return;
        if (edge.ret !== null && edge.ret < 0) {
          s.state = 'failed';
          this.retire(st, s);
        } else {
          if (edge.ret !== null && s.name !== null && this.calls.lossesOf(c.src) > 0) this.endNamesake(st, s);
          s.state = 'open';
          st.current.set(task, s);
          let list = st.unbound.get(task);
          if (!list) st.unbound.set(task, (list = []));
          list.push(s);
        }
        return;
      case F.FN_SESSION_RETRIEVE:
        if (edge.ret === null || edge.ret >= 0) {
          const name = c.args.name ?? '';
          // An already deserialized, unnamed session cannot be told apart yet: wait for the file-set call.
          st.retrieving.set(task, { session: null, name, phase: rec.phase });
        } else {
          const failed = this.newSession(st, seg, 'incoming', c.args.name ?? null, edge.call, 'failed');
          failed.phases.push(rec.phase);
          this.retire(st, failed);
        }
        return;
      case F.FN_PRESERVE_FILE: {
        if (!s) return;
        const f = rec.phase.token ? s.files.get(rec.phase.token) : undefined;
        if (f) {
          f.preserved = edge.ret === null ? null : edge.ret >= 0;
          f.preserveError = errnoName(edge.ret);
        }
        return;
      }
      case F.FN_RETRIEVE_FILE: {
        if (!s) return;
        const f = rec.phase.token ? s.files.get(rec.phase.token) : undefined;
        if (f) {
          f.retrieved = edge.ret === null ? null : edge.ret >= 0;
          f.retrieveError = errnoName(edge.ret);
        }
        if (s.state === 'deserialized') s.state = 'retrieved';
        return;
      }
      case F.FN_FILE_UNPRESERVE_FILES:
        // Already released when a later create of its name proved it (endNamesake): ended once.
        if (s && s.state !== 'aborted') this.released(st, s);
        return;
      case F.FN_FILE_FREEZE:
        if (s && (edge.ret === null || edge.ret >= 0)) s.state = 'frozen';
        return;
      case F.FN_FILE_UNFREEZE:
        // The freeze was rolled back (a later freeze() failed): open again (docs/luo-model.md §6 "Freeze failure variant").
        if (s && s.state === 'frozen') s.state = 'open';
        return;
      case F.FN_FILE_FINISH:
        if (!s) return;
        if (edge.ret === null || edge.ret >= 0) {
          s.state = 'finished';
          s.finishedVia = rec.phase.via;
          if (s.fileSet) {
            st.live.delete(s.fileSet);
            st.ended.set(s.fileSet, s);
            // Kept only for a late luo_file_finish on the same file set: the oldest go first (issue #15).
            if (st.ended.size > MAX_ENDED_FILE_SETS) st.ended.delete(st.ended.keys().next().value as string);
          }
          this.retire(st, s);
        }
        return;
      default:
        return;
    }
  }

  /** A session ended: account its phases, and keep it in full only while under the caps. */
  /** Told of each session dropped to counts past the caps, with its phases (the Chrome export draws them). */
  onOmitted: ((s: SessionRecord) => void) | null = null;
  /** Told of each session that ends, kept or not (the pin windows let go of its record: pins.ts sessionEnded). */
  onEnded: ((s: SessionRecord) => void) | null = null;

  private retire(st: SegState, s: SessionRecord): void {
    this.onEnded?.(s);
    this.accountPhases(s);
    const hasError = s.phases.some((p) => p.error !== null) || phasesOmitted(s).some((t) => Object.keys(t.errors).length > 0);
    if (hasError && this.keptWithErrors < MAX_WITH_ERRORS) {
      this.keptWithErrors++;
      return;
    }
    if (!hasError && this.keptEnded < MAX_DETAILED_SESSIONS) {
      this.keptEnded++;
      return;
    }
    this.onOmitted?.(s);
    const i = st.sessions.lastIndexOf(s);
    if (i >= 0) st.sessions.splice(i, 1);
    this.omitted.set(s.state, (this.omitted.get(s.state) ?? 0) + 1);
  }

  private accountPhases(s: SessionRecord, into: Map<string, PhaseStat> = this.phaseStats): void {
    for (const p of s.phases) accountPhase(p, into);
  }

  /**
   * Phase statistics of the ended sessions plus those still live now. The running totals are not
   * changed: finish() may run again on a live stream (the TUI's --follow).
   */
  phaseStatsWithLive(): PhaseStat[] {
    const out = new Map<string, PhaseStat>();
    for (const [k, v] of this.phaseStats) out.set(k, { ...v });
    for (const st of this.segs.values()) {
      for (const s of st.sessions) {
        if (ENDED.has(s.state)) continue;
        this.accountPhases(s, out);
        // The freeze calls of joined groups that were let go (the kept ones are in its phases now).
        for (const g of s.joined ?? []) for (const v of g.stats?.values() ?? []) mergeStat(out, v);
      }
    }
    return [...out.values()];
  }

  /**
   * The session record a task is working on right now: the owner of the file set of its open LUO
   * calls. Every per-session LUO function takes the session's file_set (struct luo_session embeds
   * it), so this is where a session is recognised from a call. Named or not yet: the lock analysis asks the by-name
   * question of stream/task-session.ts instead, whose binding also outlives the call.
   */
  sessionOfTask(segId: number, src: number, pid: number | null): SessionRecord | null {
    const st = this.segs.get(segId);
    if (!st) return null;
    // The file sets of its open calls, innermost first.
    const open = this.calls.openCalls(src, pid);
    for (let i = open.length - 1; i >= 0; i--) {
      const fs = open[i].args.file_set;
      const s = fs ? st.live.get(fs) : undefined;
      if (s) return s;
    }
    // Calls without a file_set (function_graph): the session enterWithoutFileSet bound the call to.
    for (let i = open.length - 1; i >= 0; i--) {
      if (open[i].args.file_set || LUO_PHASES[open[i].func]?.scope !== 'session' || open[i].func === 'luo_session_create' || open[i].func === 'luo_session_retrieve') continue;
      const s = st.open.get(open[i])?.session;
      if (s) return s;
    }
    return null;
  }

  /** The data-quality note for the returns whose entry was lost (null if none). */
  entriesLostNote(fileOf: (src: number) => string): string | null {
    if (this.entriesLost.size === 0) return null;
    const all = [...this.entriesLost];
    const total = all.reduce((a, [, v]) => a + v.count, 0);
    const first = all.reduce((a, b) => (b[1].src < a[1].src || (b[1].src === a[1].src && b[1].line < a[1].line) ? b : a))[1];
    const each = all.map(([f, v]) => `${f} ×${v.count}`).join(', ');
    return `${total} returns of LUO session functions came after lost events without their entry (${each}; first at ${fileOf(first.src)}:${first.line}): counted here, not listed as phases`;
  }

  /** Sessions of one segment that are live at this point of the stream. */
  liveCount(segId: number): number {
    const st = this.segs.get(segId);
    if (!st) return 0;
    let n = 0;
    for (const s of st.sessions) if (s.state === 'open' || s.state === 'creating' || s.state === 'deserialized' || s.state === 'retrieved' || s.state === 'frozen') n++;
    return n;
  }

  sessionsOf(segId: number): SessionRecord[] {
    return this.segs.get(segId)?.sessions ?? [];
  }
}

