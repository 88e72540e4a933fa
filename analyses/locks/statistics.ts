// Per-lock statistics of the lock analysis: what each finished hold and wait adds to its lock x mode
// (counts, wait and hold distributions, per caller and per LUO phase), to its lock x mode x session
// figures, and to the lock nesting counts.
//
// Statistics are kept per lockdep class (or per lock instance while unnamed) and merged into rows
// at the end (section.ts), so that names learned late (a hashed pointer named by a later event, a
// file_set bound to a session by a later RETRIEVE) still land in the right row. Memory grows with
// the number of locks, not of events or sessions: per-session figures are counts and sums, kept for
// the first SESSION_FIGURES_CAP sessions.
import type { HoldInterval, IncompleteReason, LockInstance, TaskContext, WaitInterval } from './lock-intervals.js';
import { type SessionRef, sessionRefKey } from '../stream/task-session.js';
import { Distribution } from './quantiles.js';
import { FOLD_KEY, memoByName } from '../../parsers/name-table.js';

/** The key of "none" in the caller, phase and session maps (no caller / outside LUO calls / no session). */
export const NONE = '\u0000';
/** Distinct sessions with their own per-lock figures; later ones are summed as "(other sessions)". */
const SESSION_FIGURES_CAP = 1000;
export const OTHER_SESSIONS = '(other sessions)';
/** Callers and phases each lock x mode remembers with their statistics (a power of two; LockStats.recentKeys). */
const RECENT_SUBS = 4;
/** Sessions each lock x mode remembers with their figures (a power of two; LockSlot.recentSessions). */
const RECENT_SESSIONS = 4;
/** Distinct outer x inner lock pairs counted (pairs of kept locks can still be many). */
const NESTING_CAP = 10000;

export class SubStats {
  acquisitions = 0;
  contended = 0;
  readonly wait = new Distribution();
  readonly hold = new Distribution();
  merge(o: SubStats): void {
    this.acquisitions += o.acquisitions;
    this.contended += o.contended;
    this.wait.merge(o.wait);
    this.hold.merge(o.hold);
  }
}

const zeroIncomplete = (): Record<IncompleteReason, number> => ({ 'trace-start': 0, 'trace-end': 0, 'lost-events': 0, 'out-of-order': 0 });

export class LockStats extends SubStats {
  slept = 0;
  failed = 0;
  trylockFailed = 0;
  holdsNotObservable = 0;
  /** Waits and acquisitions by a task inside a LUO call: the lock is LUO-related. */
  inLuoCalls = 0;
  readonly incompleteWaits = zeroIncomplete();
  readonly incompleteHolds = zeroIncomplete();
  readonly callers = new Map<string, SubStats>();
  readonly phases = new Map<string, SubStats>();
  /**
   * subOf's memory: the callers (slots 0..RECENT_SUBS-1) and phases (RECENT_SUBS..) asked last,
   * and their statistics; a lock is taken in turn by a few callers in a few phases.
   */
  readonly recentKeys: Array<string | null> = new Array<string | null>(2 * RECENT_SUBS).fill(null);
  readonly recentSubs: Array<SubStats | null> = new Array<SubStats | null>(2 * RECENT_SUBS).fill(null);
  /** Per kind (0 = callers, 1 = phases), the next of its recent slots to replace (round robin). */
  readonly recentNext: [number, number] = [0, 0];

  mergeAll(o: LockStats): void {
    this.merge(o);
    this.slept += o.slept;
    this.failed += o.failed;
    this.trylockFailed += o.trylockFailed;
    this.holdsNotObservable += o.holdsNotObservable;
    this.inLuoCalls += o.inLuoCalls;
    for (const k of Object.keys(this.incompleteWaits) as IncompleteReason[]) {
      this.incompleteWaits[k] += o.incompleteWaits[k];
      this.incompleteHolds[k] += o.incompleteHolds[k];
    }
    mergeMap(this.callers, o.callers);
    mergeMap(this.phases, o.phases);
  }
}

function mergeMap(into: Map<string, SubStats>, from: Map<string, SubStats>): void {
  for (const [k, v] of from) {
    let s = into.get(k);
    if (!s) into.set(k, (s = new SubStats()));
    s.merge(v);
  }
}

/** Per-session figures of one lock x mode: counts, sums and maxima only (sessions can be many). */
export class SessionFigures {
  acquisitions = 0;
  contended = 0;
  waitCount = 0;
  waitTotal = 0;
  waitMax = -1;
  holdCount = 0;
  holdTotal = 0;
  holdMax = -1;
  merge(o: SessionFigures): void {
    this.acquisitions += o.acquisitions;
    this.contended += o.contended;
    this.waitCount += o.waitCount;
    this.waitTotal += o.waitTotal;
    this.waitMax = Math.max(this.waitMax, o.waitMax);
    this.holdCount += o.holdCount;
    this.holdTotal += o.holdTotal;
    this.holdMax = Math.max(this.holdMax, o.holdMax);
  }
}

/** Callers kept per lock x mode (a trace names any number of them); later ones count under FOLD_KEY. */
export const CALLERS_PER_LOCK = 256;

/** sub() with the lock's recent answers remembered (a lock is mostly taken again by a few callers, in a few phases). */
function subOf(s: LockStats, phase: boolean, key: string): SubStats {
  const kind = phase ? 1 : 0;
  const base = kind * RECENT_SUBS;
  for (let i = base; i < base + RECENT_SUBS; i++) {
    const r = s.recentSubs[i];
    if (r !== null && s.recentKeys[i] === key) return r;
  }
  // Stable once found: a key past the cap keeps counting under FOLD_KEY (the map never shrinks).
  const found = sub(phase ? s.phases : s.callers, key);
  const i = base + (s.recentNext[kind]++ & (RECENT_SUBS - 1));
  s.recentKeys[i] = key;
  s.recentSubs[i] = found;
  return found;
}

function sub(map: Map<string, SubStats>, key: string): SubStats {
  let s = map.get(key);
  if (!s) {
    if (map.size >= CALLERS_PER_LOCK && key !== FOLD_KEY) return sub(map, FOLD_KEY);
    map.set(key, (s = new SubStats()));
  }
  return s;
}

/** A lock as the statistics key it: its lockdep class name once named (names never change), else its instance id. */
function lockIdentity(inst: LockInstance): string | number {
  const r = inst.root();
  if (r.folded) return -1 - r.src; // the fold lock: never the same key as a lock named like it
  return r.name ?? r.id;
}

function lockKey(inst: LockInstance): string {
  const id = lockIdentity(inst);
  return typeof id === 'string' ? `n:${id}` : `i:${id}`;
}

/**
 * What the statistics keep for one lock identity, found from the lock's root instance (cached
 * there, checked against its identity, which changes when a lock is named) instead of a key string
 * built for every interval. Per mode (0 = exclusive, 1 = shared): its statistics entry, its
 * figures per session name (null = none) and per file_set x binding not yet named, and its
 * "(other sessions)" figures. The slot is the only index of its figures (sessionFigures lists them
 * in the order made, as the report iterates them); only sessions within the cap are indexed (so
 * the index stays as bounded as the sessions seen); a session's place never changes once it has one.
 */
interface LockSlot {
  owner: LockStatistics;
  id: string | number;
  stats: [StatsEntry | null, StatsEntry | null];
  figures: [Map<string | null, FiguresEntry>, Map<string | null, FiguresEntry>];
  refs: [Map<string, Map<number, FiguresEntry>>, Map<string, Map<number, FiguresEntry>>];
  others: [FiguresEntry | null, FiguresEntry | null];
  /** The session name (or null) asked last per mode, and its figures (a lock is mostly taken again in the same session). */
  /**
   * The session names (or null) asked last, RECENT_SESSIONS per mode (mode * RECENT_SESSIONS + i),
   * and their figures: a lock is taken in turn by the few sessions at work at one time.
   */
  recentSessions: Array<string | null>;
  recentFigures: Array<FiguresEntry | null>;
  /** Per mode, the next of its recent slots to replace (round robin). */
  recentNext: [number, number];
  /** Per mode, the figures by the session's number (TaskContext.sid), as found by name once. */
  bySid: [Array<FiguresEntry | null>, Array<FiguresEntry | null>];
  /** As the outer lock of a nesting: inner slot -> the pair's entries by modes (outerShared * 2 + shared); only pairs in `nesting`. */
  nested: Map<LockSlot, Array<NestingEntry | null>> | null;
  /** The inner slot found last in `nested`, and its entries. */
  lastInner: LockSlot | null;
  lastModes: Array<NestingEntry | null> | null;
}

/** Statistics of one lock x mode; `pending` = the deferred session of its intervals (--session only), else null. */
export interface StatsEntry {
  inst: LockInstance;
  shared: boolean;
  pending: SessionRef;
  s: LockStats;
}

/** Figures of one lock x mode x session. */
export interface FiguresEntry {
  inst: LockInstance;
  shared: boolean;
  session: SessionRef | typeof OTHER_SESSIONS;
  f: SessionFigures;
}

/** Outer lock held while an inner one was taken, counted. */
export interface NestingEntry {
  outer: LockInstance;
  outerShared: boolean;
  inner: LockInstance;
  shared: boolean;
  count: number;
}

const inLuoCall = (ctx: TaskContext): boolean => ctx.func !== null;

/** `sys_NAME` per syscall name, made once (a trace can name any number of syscalls: bounded). */
const sysCaller = memoByName((syscall) => `sys_${syscall}`);

const callerOf = (caller: string | null, ctx: TaskContext): string => caller ?? ctx.func ?? (ctx.syscall ? sysCaller(ctx.syscall) : NONE);

export class LockStatistics {
  /**
   * Statistics per lock x mode. A lock is its lockdep class once named (names never change), else
   * its instance (resolved to its final identity at the end). With --session, intervals whose
   * session is only known later (a file_set bound by a later RETRIEVE) wait apart until the end.
   */
  readonly stats = new Map<string, StatsEntry>();
  /** Per lock identity (lockIdentity), its slot; each root instance caches its own (LockInstance.statsSlot). */
  private readonly slots = new Map<string | number, LockSlot>();
  /**
   * Per lock x mode x session figures, in the order they were made; bounded by SESSION_FIGURES_CAP
   * distinct sessions. Each is found through its lock's slot (no key string).
   */
  readonly sessionFigures: FiguresEntry[] = [];
  /** Sessions with figures of their own: the names (and null) and the file_set x binding refs below. */
  private sessionsSeen = 0;
  /** The names (and null) among the sessions seen, as they are. */
  private readonly namesSeen = new Set<string | null>();
  /** The file_set x binding refs among the sessions seen (fileSet -> bindings): refs not bound to a name yet. */
  private readonly refsSeen = new Map<string, Set<number>>();
  readonly nesting = new Map<string, NestingEntry>();
  /** Nestings not counted: past NESTING_CAP distinct pairs. */
  nestingFolded = 0;

  /** sessionFilter: `--session NAME` (intervals of other sessions are not counted). */
  constructor(private readonly sessionFilter: string | null) {}

  private statsEntry(inst: LockInstance, shared: boolean, pending: SessionRef): StatsEntry {
    const k = `${lockKey(inst)}|${shared ? 1 : 0}|${sessionRefKey(pending)}`;
    let e = this.stats.get(k);
    if (!e) this.stats.set(k, (e = { inst, shared, pending, s: new LockStats() }));
    return e;
  }

  /** The slot of a lock's identity now (see LockSlot). */
  private slotOf(inst: LockInstance): LockSlot {
    const r = inst.root();
    const id = lockIdentity(r);
    const cached = r.statsSlot as LockSlot | null;
    if (cached !== null && cached.owner === this && cached.id === id) return cached;
    let slot = this.slots.get(id);
    if (!slot) {
      slot = { owner: this, id, stats: [null, null], figures: [new Map(), new Map()], refs: [new Map(), new Map()], others: [null, null], recentSessions: new Array<string | null>(2 * RECENT_SESSIONS).fill(null), recentFigures: new Array<FiguresEntry | null>(2 * RECENT_SESSIONS).fill(null), recentNext: [0, 0], bySid: [[], []], nested: null, lastInner: null, lastModes: null };
      this.slots.set(id, slot);
    }
    r.statsSlot = slot;
    return slot;
  }

  private statsFor(slot: LockSlot, inst: LockInstance, shared: boolean, session: SessionRef): LockStats | null {
    if (this.sessionFilter) {
      if (session === null || typeof session === 'string') {
        if (session !== this.sessionFilter) return null;
      } else return this.statsEntry(inst, shared, session).s;
    }
    const m = shared ? 1 : 0;
    let e = slot.stats[m];
    if (e === null) slot.stats[m] = e = this.statsEntry(inst, shared, null);
    return e.s;
  }

  /** Is this session one of the first SESSION_FIGURES_CAP (with figures of its own), or can it still be? Counts it as seen when it becomes one. */
  private admitSession(session: SessionRef): boolean {
    if (session === null || typeof session === 'string') {
      if (this.namesSeen.has(session)) return true;
      if (this.sessionsSeen >= SESSION_FIGURES_CAP) return false;
      this.namesSeen.add(session);
    } else {
      let bindings = this.refsSeen.get(session.fileSet);
      if (bindings?.has(session.binding)) return true;
      if (this.sessionsSeen >= SESSION_FIGURES_CAP) return false;
      if (!bindings) this.refsSeen.set(session.fileSet, (bindings = new Set()));
      bindings.add(session.binding);
    }
    this.sessionsSeen++;
    return true;
  }

  /**
   * A new figures entry of a lock x mode x session (the slot indexes it: figuresFor asks only for
   * one it does not have), or the lock x mode's "(other sessions)" one past the cap.
   */
  private figuresEntry(slot: LockSlot, m: number, inst: LockInstance, shared: boolean, session: SessionRef): FiguresEntry {
    if (!this.admitSession(session)) return (slot.others[m] ??= this.newFigures(inst, shared, OTHER_SESSIONS));
    return this.newFigures(inst, shared, session);
  }

  private newFigures(inst: LockInstance, shared: boolean, session: SessionRef | typeof OTHER_SESSIONS): FiguresEntry {
    const e: FiguresEntry = { inst, shared, session, f: new SessionFigures() };
    this.sessionFigures.push(e);
    return e;
  }

  private figuresFor(slot: LockSlot, inst: LockInstance, shared: boolean, ctx: TaskContext): SessionFigures {
    const m = shared ? 1 : 0;
    const sid = ctx.sid ?? -1;
    if (sid >= 0) {
      // By the session's number: no lookup by name (the name's figures, once found, never change).
      const byId = slot.bySid[m];
      const known = sid < byId.length ? byId[sid] : null;
      if (known !== null) return known.f;
      const e = this.figuresByName(slot, m, inst, shared, ctx.session);
      while (byId.length <= sid) byId.push(null);
      byId[sid] = e;
      return e.f;
    }
    return this.figuresByName(slot, m, inst, shared, ctx.session).f;
  }

  private figuresByName(slot: LockSlot, m: number, inst: LockInstance, shared: boolean, session: SessionRef): FiguresEntry {
    if (session !== null && typeof session !== 'string') {
      // A file_set not bound to a name yet: indexed once within the cap (past it, the "(other sessions)" entry).
      let e = slot.refs[m].get(session.fileSet)?.get(session.binding);
      if (e === undefined) {
        e = this.figuresEntry(slot, m, inst, shared, session);
        if (e.session !== OTHER_SESSIONS) {
          let byBinding = slot.refs[m].get(session.fileSet);
          if (!byBinding) slot.refs[m].set(session.fileSet, (byBinding = new Map()));
          byBinding.set(session.binding, e);
        }
      }
      return e;
    }
    const base = m * RECENT_SESSIONS;
    for (let i = base; i < base + RECENT_SESSIONS; i++) {
      const r = slot.recentFigures[i];
      if (r !== null && slot.recentSessions[i] === session) return r;
    }
    let e = slot.figures[m].get(session);
    if (e === undefined) {
      e = this.figuresEntry(slot, m, inst, shared, session);
      if (e.session !== OTHER_SESSIONS) slot.figures[m].set(session, e);
    }
    const i = base + (slot.recentNext[m]++ & (RECENT_SESSIONS - 1));
    slot.recentSessions[i] = session;
    slot.recentFigures[i] = e;
    return e;
  }

  /** Fold in a wait (already within the pid and time filters); returns its duration when complete and counted, else -1. */
  addWait(iv: WaitInterval): number {
    const session = iv.ctx.session;
    const slot = this.slotOf(iv.lock);
    const s = this.statsFor(slot, iv.lock, iv.shared, session);
    if (!s) return -1;
    if (inLuoCall(iv.ctx)) s.inLuoCalls++;
    if (iv.incomplete !== null || iv.begin === null || iv.end === null) {
      s.incompleteWaits[iv.incomplete ?? 'trace-start']++;
      return -1;
    }
    const d = iv.end - iv.begin;
    s.wait.add(d);
    if (iv.slept) s.slept++;
    const f = this.figuresFor(slot, iv.lock, iv.shared, iv.ctx);
    f.waitCount++;
    f.waitTotal += d;
    if (d > f.waitMax) f.waitMax = d;
    subOf(s, false, callerOf(iv.caller, iv.ctx)).wait.add(d);
    subOf(s, true, iv.ctx.phase ?? NONE).wait.add(d);
    return d;
  }

  /** Fold in a finished acquisition (already within the pid and time filters): its hold, or its failure. */
  addHold(iv: HoldInterval): void {
    const shared = iv.shared ?? false;
    const session = iv.ctx.session;
    const slot = this.slotOf(iv.lock);
    const s = this.statsFor(slot, iv.lock, shared, session);
    if (!s) return;
    if (inLuoCall(iv.ctx)) s.inLuoCalls++;
    const caller = callerOf(iv.caller, iv.ctx);
    const phase = iv.ctx.phase ?? NONE;
    if (iv.failed) {
      s.failed++;
      if (iv.trylockFailed) s.trylockFailed++;
      if (iv.contended) {
        s.contended++;
        subOf(s, false, caller).contended++;
        subOf(s, true, phase).contended++;
        this.figuresFor(slot, iv.lock, shared, iv.ctx).contended++;
      }
      return;
    }
    if (iv.start === null && iv.incomplete === 'trace-start') {
      // Only a release was seen: the acquisition happened before the trace began.
      s.incompleteHolds['trace-start']++;
      return;
    }
    s.acquisitions++;
    const c = subOf(s, false, caller);
    const p = subOf(s, true, phase);
    const f = this.figuresFor(slot, iv.lock, shared, iv.ctx);
    c.acquisitions++;
    p.acquisitions++;
    f.acquisitions++;
    if (iv.contended) {
      s.contended++;
      c.contended++;
      p.contended++;
      f.contended++;
    }
    if (iv.outer) this.addNesting(iv.outer.lock, iv.outer.shared, slot, iv.lock, shared);
    if (iv.unobservable) {
      s.holdsNotObservable++;
      return;
    }
    if (iv.incomplete !== null || iv.start === null || iv.end === null) {
      s.incompleteHolds[iv.incomplete ?? 'trace-end']++;
      return;
    }
    const d = iv.end - iv.start;
    s.hold.add(d);
    c.hold.add(d);
    p.hold.add(d);
    f.holdCount++;
    f.holdTotal += d;
    if (d > f.holdMax) f.holdMax = d;
  }

  private addNesting(outer: LockInstance, outerShared: boolean, innerSlot: LockSlot, inner: LockInstance, shared: boolean): void {
    // Found through the two locks' slots (no key string per hold); the string key is made once per pair.
    const o = this.slotOf(outer);
    const m = (outerShared ? 2 : 0) + (shared ? 1 : 0);
    // The inner lock asked last of this outer one first (a lock mostly nests the same locks in turn).
    let modes = o.lastInner === innerSlot ? o.lastModes : o.nested?.get(innerSlot);
    if (modes !== undefined && modes !== null) {
      o.lastInner = innerSlot;
      o.lastModes = modes;
    }
    const n = modes?.[m];
    if (n) n.count++;
    else if (this.nesting.size < NESTING_CAP) {
      const e: NestingEntry = { outer, outerShared, inner, shared, count: 1 };
      this.nesting.set(`${lockKey(outer)}|${outerShared ? 1 : 0}|${lockKey(inner)}|${shared ? 1 : 0}`, e);
      const byInner = (o.nested ??= new Map());
      let pair = byInner.get(innerSlot);
      if (!pair) byInner.set(innerSlot, (pair = [null, null, null, null]));
      pair[m] = e;
    } else this.nestingFolded++;
  }

}
