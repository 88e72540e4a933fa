// The locks section of the report, built once at the end from the analysis' named parts: the
// per-lock statistics merged into lock x mode rows (a lock's identity is only final at the end),
// the slowest waits with their owners, the stall view per session, the locks held at the end, the
// nesting seen, how each named lock was recognised, and the notes that explain the figures.
import type { z } from 'zod';
import type { SymbolTable } from '../../parsers/kallsyms.js';
import { formatDuration as fmtDuration } from '../format.js';
import { LUO_LOCKS } from '../kernel/kernel-models.js';
import { foldLabel } from '../../parsers/name-table.js';
import type { LockType } from '../kernel/lock-model.js';
import type { Acquisition, LockInstance, OwnerInfo, TaskContext } from './lock-intervals.js';
import type { LockIntervalTracker } from './interval-tracker.js';
import type { SessionRef, SessionTracker } from '../stream/task-session.js';
import { EXACT_LIMIT, QUANTILE_METHOD, QUANTILE_RELATIVE_ACCURACY } from './quantiles.js';
import type { LockFilters, LockRow, LockRowDistributions, LockSortKey, LocksSection, NameIdentitySchema, SessionFiguresSchema, SubStatsSchema, UntrackedTasks, WaitRecord } from './schema.js';
import { type LockStatistics, LockStats, NONE, OTHER_SESSIONS, SessionFigures, type SubStats } from './statistics.js';
import { keepTop, type PendingWait, type PhaseInstance, phaseDuration, type StallView, TOP_PHASES_PER_SESSION, TOP_WAITS_PER_LOCK } from './stalls.js';

const STALL_SESSIONS_SHOWN = 20;
/** slowestWaits: at most this many LUO-related waits, then at most this many others. */
const SLOWEST_SHOWN = 20;
const SESSIONS_PER_ROW = 20;
/** Holds listed as held at the end of the trace (the first acquired first). */
export const HELD_AT_END_SHOWN = 20;

interface LockIdentity {
  name: string | null;
  address: string | null;
  symbol: string | null;
  type: LockType;
  namedBy: string | null;
  luo: { role: string } | null;
  /** The name identifies the lock itself (lockdep class, exact kallsyms symbol), not only a containing object. */
  classKey: boolean;
}

// Data symbols of interest are small (luo_session_global is 0x200 bytes) and a capture's
// kallsyms-luo.txt lists only LUO symbols: a far "nearest symbol" would name an unrelated lock.
const MAX_SYMBOL_OFFSET = 0x1000;

/** The fold row of the locks past the lock table's cap (lock-aliases.ts). */
const foldIdentity = (names: number): LockIdentity => ({ name: foldLabel(names), address: null, symbol: null, type: 'unknown', namedBy: null, luo: null, classKey: false });

function identify(inst: LockInstance, symbols: SymbolTable | null): LockIdentity {
  let symbol: string | null = null;
  if (inst.addr && symbols) symbol = symbols.describe(inst.addr, MAX_SYMBOL_OFFSET);
  symbol ??= inst.sym;
  const name = inst.name ?? symbol;
  const namedBy = inst.name ? 'lockdep' : symbol ? (inst.sym === symbol ? 'trace symbol' : 'kallsyms') : null;
  let luo: { role: string } | null = null;
  const known = (name && LUO_LOCKS[name]) || (symbol && LUO_LOCKS[symbol]);
  if (known) luo = { role: known.role };
  else if (symbol && /^luo_session_global(\+0x[0-9a-f]+)?$/.test(symbol)) luo = { role: 'a session list rwsem inside luo_session_global (incoming or outgoing header)' };
  // bpftrace's ksym() prints the containing symbol without offset (`sym=luo_session_global` for the
  // outgoing rwsem at +0x110), so only lockdep names and exact kallsyms hits identify a lock by name.
  const classKey = inst.name !== null || (symbol !== null && namedBy === 'kallsyms' && !symbol.includes('+'));
  return { name, address: inst.addr ?? inst.ptr, symbol, type: inst.type ?? 'unknown', namedBy, luo, classKey };
}

export function modeLabel(type: LockType, shared: boolean): { mode: string; type: string } {
  if (shared) {
    const t = type === 'rwsem' || type === 'rwlock' || type === 'percpu-rwsem' ? type : type === 'rcu' ? 'rcu' : 'lock';
    return { mode: 'R', type: `${t}:R` };
  }
  switch (type) {
    case 'mutex':
      return { mode: 'mutex', type: 'mutex' };
    case 'rtmutex':
      return { mode: 'mutex', type: 'rtmutex' };
    case 'spinlock':
      return { mode: 'spin', type: 'spinlock' };
    case 'rwsem':
    case 'rwlock':
    case 'percpu-rwsem':
      return { mode: 'W', type: `${type}:W` };
    default:
      return { mode: 'W', type: 'lock:W' };
  }
}

function subRows(map: Map<string, SubStats>): Array<z.infer<typeof SubStatsSchema>> {
  return [...map.entries()]
    .map(([k, v]) => ({ key: k === NONE ? null : k, acquisitions: v.acquisitions, contended: v.contended, wait: v.wait.summary(), hold: v.hold.summary() }))
    .sort((a, b) => b.wait.total - a.wait.total || b.hold.total - a.hold.total || b.acquisitions - a.acquisitions);
}

function sessionRows(map: Map<string, SessionFigures>): Array<z.infer<typeof SessionFiguresSchema>> {
  return [...map.entries()]
    .map(([k, f]) => ({
      key: k === NONE ? null : k,
      acquisitions: f.acquisitions,
      contended: f.contended,
      wait: { count: f.waitCount, total: f.waitTotal, max: f.waitMax < 0 ? null : f.waitMax },
      hold: { count: f.holdCount, total: f.holdTotal, max: f.holdMax < 0 ? null : f.holdMax },
    }))
    .sort((a, b) => b.wait.total - a.wait.total || b.hold.total - a.hold.total || b.acquisitions - a.acquisitions);
}

function matchesLockFilter(row: { name: string | null; address: string | null; symbol: string | null }, f: string): boolean {
  const needle = f.toLowerCase();
  return [row.name, row.address, row.symbol].some((v) => v !== null && (v.toLowerCase() === needle || v.toLowerCase().includes(needle)));
}

function matchesTypeFilter(row: { mode: string; type: string; lockType: string }, f: string): boolean {
  const want = f.toLowerCase();
  if (row.type.toLowerCase() === want || row.lockType === want || row.mode.toLowerCase() === want) return true;
  return false;
}

function sortValue(r: LockRow, key: LockSortKey): number {
  switch (key) {
    case 'wait_total':
      return r.wait.total;
    case 'wait_max':
      return r.wait.max ?? -1;
    case 'wait_min':
      return r.wait.min ?? -1;
    case 'avg_wait':
      return r.wait.avg ?? -1;
    case 'contended':
      return r.contended;
    case 'acquired':
      return r.acquisitions;
    case 'hold_total':
      return r.hold.total;
    case 'hold_max':
      return r.hold.max ?? -1;
    case 'avg_hold':
      return r.hold.avg ?? -1;
    case 'name':
      return 0;
  }
}

export function sortLockRows(rows: LockRow[], key: LockSortKey): LockRow[] {
  const byName = (a: LockRow, b: LockRow) => (a.name ?? a.address ?? '').localeCompare(b.name ?? b.address ?? '') || a.type.localeCompare(b.type);
  if (key === 'name') return rows.sort(byName);
  return rows.sort((a, b) => sortValue(b, key) - sortValue(a, key) || b.contended - a.contended || b.acquisitions - a.acquisitions || byName(a, b));
}



/** Everything the section is built from. */
export interface SectionInput {
  stats: LockStatistics;
  stalls: StallView;
  tracker: LockIntervalTracker;
  sessions: SessionTracker;
  /** Acquisitions still held when the trace ended (taken before the tracker closed them), with their lock then. */
  heldAtEnd: Array<{ a: Acquisition; inst: LockInstance }>;
  symbols: SymbolTable | null;
  sort: LockSortKey;
  filters: LockFilters;
  /** Files whose durations are clock ticks. */
  tickSources: string[];
  /** Serialize the distributions behind the rows (else `distributions` is empty). */
  withDistributions: boolean;
}

/** The section, and the distributions behind its rows when asked for (`distributions[i]` belongs to `section.locks[i]`). */
export interface SectionResult {
  section: LocksSection;
  distributions: LockRowDistributions[];
}

/** Locks and sessions as the report names them: each lock's identity resolved once, at the end. */
class ReportNames {
  private readonly cache = new Map<LockInstance, LockIdentity>();
  constructor(
    private readonly symbols: SymbolTable | null,
    private readonly sessions: SessionTracker,
    /** What the lock table folded (one row per source, see lock-aliases.ts). */
    readonly folded: { names: number; events: number } = { names: 0, events: 0 },
  ) {}

  ident(inst: LockInstance): LockIdentity {
    const r = inst.root();
    let id = this.cache.get(r);
    if (!id) this.cache.set(r, (id = r.folded ? foldIdentity(this.folded.names) : identify(r, this.symbols)));
    return id;
  }

  /** The row a lock x mode lands in: its name when the name identifies the lock, else its address (or instance) within its source. */
  rowKey(inst: LockInstance, shared: boolean): string {
    const id = this.ident(inst);
    return `${id.classKey ? `n:${id.name}` : `a:${inst.root().src}:${id.address ?? `#${inst.root().id}`}`}|${shared ? 'R' : 'X'}`;
  }

  label(inst: LockInstance, shared: boolean): string {
    const id = this.ident(inst);
    return `${id.name ?? id.address ?? '?'}:${modeLabel(id.type, shared).mode}`;
  }

  session(ref: SessionRef): string | null {
    return this.sessions.resolve(ref);
  }

  context(pid: number | null, comm: string | null, ctx: TaskContext) {
    return { pid, comm, session: this.session(ctx.session), func: ctx.func, phase: ctx.phase, after: ctx.after };
  }
}

/** The statistics of one lock x mode row, merged from its classes / instances. */
interface RowAcc {
  insts: Set<LockInstance>;
  shared: boolean;
  total: LockStats;
  bySession: Map<string, SessionFigures>;
  /** The longest waits of its instances (stalls.ts keeps TOP_WAITS_PER_LOCK per instance and mode). */
  waits: PendingWait[];
}

/** Merge the per-class / per-instance statistics into lock x mode rows. */
function accumulateRows(b: SectionInput, names: ReportNames): Map<string, RowAcc> {
  const { filters } = b;
  const rows = new Map<string, RowAcc>();
  for (const e of b.stats.stats.values()) {
    if (e.pending !== null && names.session(e.pending) !== filters.session) continue;
    const key = names.rowKey(e.inst, e.shared);
    let acc = rows.get(key);
    if (!acc) rows.set(key, (acc = { insts: new Set(), shared: e.shared, total: new LockStats(), bySession: new Map(), waits: [] }));
    acc.total.mergeAll(e.s);
  }
  for (const e of b.stats.sessionFigures.values()) {
    const name = e.session === OTHER_SESSIONS ? OTHER_SESSIONS : names.session(e.session);
    if (filters.session && name !== filters.session) continue;
    const acc = rows.get(names.rowKey(e.inst, e.shared));
    if (!acc) continue;
    const k = name ?? NONE;
    let f = acc.bySession.get(k);
    if (!f) acc.bySession.set(k, (f = new SessionFigures()));
    f.merge(e.f);
  }
  for (const e of b.stalls.byLock.values()) {
    for (const shared of [false, true]) {
      const acc = rows.get(names.rowKey(e.inst, shared));
      if (!acc) continue;
      for (const w of e.byMode[shared ? 1 : 0]) {
        // --session: a wait whose session was only named later (a file_set bound by a later RETRIEVE) may be another's
        if (!filters.session || names.session(w.iv.ctx.session) === filters.session) keepTop(acc.waits, w, (x) => x.duration, TOP_WAITS_PER_LOCK);
      }
    }
  }
  // Every instance of a row's lock (a lockdep class can have many: one &session->mutex per session).
  for (const inst of b.tracker.instances) {
    if (inst.parent) continue;
    for (const shared of [false, true]) rows.get(names.rowKey(inst, shared))?.insts.add(inst);
  }
  return rows;
}

function lockRow(acc: RowAcc, names: ReportNames): LockRow {
  const first = [...acc.insts][0];
  const id = names.ident(first);
  // A class merged from several instances keeps one type: the most specific one any of them had.
  let type: LockType = id.type;
  for (const i of acc.insts) if (type === 'unknown' && i.type && i.type !== 'unknown') type = i.type;
  const ml = modeLabel(type, acc.shared);
  const addresses = new Set([...acc.insts].map((i) => i.addr ?? i.ptr).filter((x): x is string => x !== null));
  const evidence = new Set<string>();
  let namedByAdjacency = 0;
  for (const i of acc.insts) {
    for (const e of i.evidenceNames) evidence.add(e);
    namedByAdjacency += i.namedBindings;
  }
  const t = acc.total;
  return {
    name: id.name,
    address: addresses.size === 1 ? [...addresses][0] : null,
    mode: ml.mode,
    type: ml.type,
    lockType: type,
    symbol: id.symbol,
    luo: id.luo,
    instances: acc.insts.size,
    sources: [...new Set([...acc.insts].map((i) => i.src))].sort((x, y) => x - y),
    evidence: [...evidence],
    acquisitions: t.acquisitions,
    contended: t.contended,
    slept: t.slept,
    failed: t.failed,
    trylockFailed: t.trylockFailed,
    wait: t.wait.summary(),
    hold: t.hold.summary(),
    waitHistogram: t.wait.histogram(),
    holdHistogram: t.hold.histogram(),
    incomplete: { waits: { ...t.incompleteWaits }, holds: { ...t.incompleteHolds } },
    holdsNotObservable: t.holdsNotObservable,
    namedByAdjacency,
    callers: subRows(t.callers),
    sessions: sessionRows(acc.bySession).slice(0, SESSIONS_PER_ROW),
    sessionsTotal: acc.bySession.size,
    phases: subRows(t.phases),
    luoRelated: id.luo !== null || t.inLuoCalls > 0,
    inLuoCalls: t.inLuoCalls,
    longestWaits: acc.waits.map((w) => waitRecord(w, names)),
    ...(first.root().folded ? { folded: { ...names.folded } } : {}),
  };
}

/** The rows shown (filters, sort), their distributions, and which row keys are shown. */
function buildRows(b: SectionInput, names: ReportNames): { rows: LockRow[]; distributions: LockRowDistributions[]; shownKeys: Set<string> } {
  const { filters } = b;
  let entries: Array<{ key: string; row: LockRow; total: LockStats }> = [];
  for (const [key, acc] of accumulateRows(b, names)) entries.push({ key, row: lockRow(acc, names), total: acc.total });
  if (filters.lock) entries = entries.filter((e) => matchesLockFilter(e.row, filters.lock as string));
  if (filters.type) entries = entries.filter((e) => matchesTypeFilter(e.row, filters.type as string));
  const totals = new Map(entries.map((e) => [e.row, e.total]));
  // LUO-related rows first (a LUO user's locks are buried under thousands of unrelated ones otherwise), each group by the sort key.
  const rows = [...sortLockRows(entries.filter((e) => e.row.luoRelated).map((e) => e.row), b.sort), ...sortLockRows(entries.filter((e) => !e.row.luoRelated).map((e) => e.row), b.sort)];
  const distributions = !b.withDistributions
    ? []
    : rows.map((r) => {
        const t = totals.get(r) as LockStats;
        return { wait: t.wait.serialize(), hold: t.hold.serialize() };
      });
  return { rows, distributions, shownKeys: new Set(entries.map((e) => e.key)) };
}

const inLuoCall = (c: { func: string | null }) => c.func !== null;

function waitRecord(pw: PendingWait, names: ReportNames): WaitRecord {
  const iv = pw.iv;
  const id = names.ident(iv.lock);
  const ml = modeLabel(id.type, iv.shared);
  const waiter = names.context(iv.pid, iv.comm, iv.ctx);
  const owners = iv.owners.map((o: OwnerInfo) => ({
    ...names.context(o.pid, o.comm, o.ctx),
    mode: modeLabel(id.type, o.shared).mode,
    heldFor: o.since === null || iv.begin === null ? null : (iv.begin as number) - o.since,
  }));
  const wokenBy = iv.wokenBy ? { ...names.context(iv.wokenBy.pid, iv.wokenBy.comm, iv.wokenBy.ctx), at: iv.wokenBy.time } : null;
  return {
    lock: id.name,
    address: id.address,
    type: ml.type,
    waiter,
    caller: iv.caller,
    begin: iv.begin as number,
    end: iv.end as number,
    duration: pw.duration,
    slept: iv.slept,
    begins: iv.begins,
    ret: iv.ret,
    owners,
    ownersTotal: iv.ownersTotal,
    acquiring: iv.acquiring,
    wokenBy,
    explanation: explainWait(waiter, { name: id.name ?? id.address ?? 'an unnamed lock', waiterMode: ml.mode }, pw.duration, iv.slept, owners, iv.ownersTotal, wokenBy),
    // As stalls.ts isLuoWait, with the lock's final identity.
    luoRelated: id.luo !== null || inLuoCall(waiter) || owners.some(inLuoCall),
    file: iv.src,
    line: iv.line,
  };
}

type RowShown = (inst: LockInstance, shared: boolean) => boolean;

/** Per session, its slowest LUO calls with the waits inside them; and how many sessions had any. */
function stallRows(b: SectionInput, names: ReportNames, rowShown: RowShown): { stalls: LocksSection['stalls']; total: number } {
  const { filters } = b;
  const entries = [...b.stalls.bySession.values()]
    .map((e) => ({ session: names.session(e.session), top: e.top }))
    .filter((e) => !filters.session || e.session === filters.session);
  // Sessions whose deferred reference resolved to the same name are one session.
  const merged = new Map<string, { session: string | null; top: PhaseInstance[] }>();
  for (const e of entries) {
    const k = e.session ?? NONE;
    const m = merged.get(k);
    if (!m) merged.set(k, { session: e.session, top: [...e.top] });
    else for (const p of e.top) keepTop(m.top, p, phaseDuration, TOP_PHASES_PER_SESSION);
  }
  const stalls = [...merged.values()]
    .sort((x, y) => phaseDuration(y.top[0]) - phaseDuration(x.top[0]))
    .slice(0, STALL_SESSIONS_SHOWN)
    .map((e) => ({
      session: e.session,
      slowest: e.top.map((p) => ({
        func: p.call.func,
        phase: p.call.phase,
        pid: p.pid,
        comm: p.comm,
        start: p.start,
        end: p.end,
        duration: p.start !== null && p.end !== null ? p.end - p.start : null,
        incomplete: p.incomplete,
        waitCount: p.waitCount,
        waitTotal: p.waitTotal,
        waits: p.waits.filter((w) => rowShown(w.iv.lock, w.iv.shared)).map((w) => waitRecord(w, names)),
        file: p.src,
      })),
    }));
  return { stalls, total: Math.max(b.stalls.sessionsTotal, merged.size) };
}

/** An open acquisition that holds its lock (not one still waiting for it, nor a failed one). */
export function holdsNow(a: Acquisition): boolean {
  return !a.failed && (a.wait === null || a.wait.end !== null);
}

function heldAtEndRows(b: SectionInput, names: ReportNames, rowShown: RowShown): LocksSection['heldAtEnd'] {
  const { filters } = b;
  return b.heldAtEnd
    .filter(({ a }) => holdsNow(a))
    .filter(({ a, inst }) => rowShown(inst, a.shared))
    .filter(({ a }) => (!filters.pids?.length || (a.task.pid !== null && filters.pids.includes(a.task.pid))) && (!filters.session || names.session(a.ctx.session) === filters.session))
    .filter(({ a }) => filters.until === undefined || filters.until === null || a.acquired === null || a.acquired <= filters.until)
    .sort((x, y) => (x.a.acquired ?? -Infinity) - (y.a.acquired ?? -Infinity))
    .slice(0, HELD_AT_END_SHOWN)
    .map(({ a, inst }) => {
      const id = names.ident(inst);
      return {
        ...names.context(a.task.pid, a.task.comm, a.ctx),
        lock: id.name,
        address: id.address,
        type: modeLabel(id.type, a.shared).type,
        since: a.acquired,
        file: inst.src,
      };
    });
}

function nestingRows(b: SectionInput, names: ReportNames): LocksSection['nesting'] {
  const agg = new Map<string, { outer: string; inner: string; count: number }>();
  for (const n of b.stats.nesting.values()) {
    const outer = names.label(n.outer, n.outerShared);
    const inner = names.label(n.inner, n.shared);
    const k = `${outer} -> ${inner}`;
    const e = agg.get(k);
    if (e) e.count += n.count;
    else agg.set(k, { outer, inner, count: n.count });
  }
  return [...agg.values()].sort((x, y) => y.count - x.count).slice(0, 50);
}

function identityRows(b: SectionInput, names: ReportNames): LocksSection['identities'] {
  const identities = new Map<string, z.infer<typeof NameIdentitySchema>>();
  const push = (list: string[], v: string | null) => {
    if (v !== null && !list.includes(v) && list.length < 16) list.push(v);
  };
  for (const inst of b.tracker.instances) {
    if (inst.parent) continue;
    const id = names.ident(inst);
    if (id.name === null) continue;
    let e = identities.get(id.name);
    if (!e) identities.set(id.name, (e = { name: id.name, addresses: [], hashedPointers: [], lockdepMaps: [], namedBy: [] }));
    push(e.addresses, inst.addr);
    push(e.hashedPointers, inst.ptr);
    push(e.lockdepMaps, inst.dep);
    push(e.namedBy, id.namedBy);
    if (inst.ptr !== null && inst.namedBindings > 0) push(e.namedBy, 'same-task adjacency');
  }
  return [...identities.values()].sort((x, y) => x.name.localeCompare(y.name));
}

function sectionNotes(b: SectionInput, lockRows: LockRow[]): string[] {
  const c = b.tracker.counts;
  const notes: string[] = [];
  if (b.tickSources.length) notes.push(`durations of ${b.tickSources.join(', ')} are in clock ticks, not nanoseconds (trace clock counter/uptime/x86-tsc)`);
  const mutexRows = lockRows.filter((r) => r.lockType === 'mutex' && r.evidence.includes('lockdep') && r.acquisitions > 0);
  if (mutexRows.length && mutexRows.every((r) => r.contended >= r.acquisitions * 0.9)) {
    notes.push(
      'lockdep kernels (DEBUG_LOCK_ALLOC) send every mutex_lock through the slow path, which emits contention_begin(SPIN|MUTEX) even when the trylock succeeds at once: ' +
        'nearly every mutex acquisition counts as contended; `slept` counts those that really slept',
    );
  }
  if (lockRows.some((r) => r.lockType === 'rwsem' && r.hold.count > 0)) {
    notes.push(
      'rwsem holds start at the lock call (down_* probe or lock_acquire) unless a contention_end or a return probe says when the lock was granted; ' +
        "a writer's optimistic spinning runs before contention_begin (rwsem_down_write_slowpath), so it is counted as hold, not wait",
    );
  }
  if (c.rebegins) notes.push(`${c.rebegins} contention_begin events continued a wait already open on the same task and lock (mutex sleep after spin, or spin again after a wake-up; real README O7): counted once`);
  if (c.orphanEnds) notes.push(`${c.orphanEnds} contention_end without a begin (the wait began before the trace or its begin was lost): counted as incomplete waits`);
  const folded = b.tracker.lockBudget.note('locks');
  if (folded) notes.push(folded);
  const untracked = untrackedNote(b.tracker.untrackedTasks);
  if (untracked) notes.push(untracked);
  if (b.tracker.rebinds) notes.push(`${b.tracker.rebinds} pointers were re-used by a lock of another name (freed memory): identities follow the latest`);
  if (!b.symbols && lockRows.some((r) => r.address?.startsWith('0x') && r.name === null)) notes.push('raw lock addresses are unnamed: give --kallsyms FILE (each capture folder has kallsyms-luo.txt) to name them');
  return notes;
}

/** The data-quality sentence of the tasks the lock tracker did not track (null when it tracked all). */
export function untrackedNote(u: UntrackedTasks | null): string | null {
  if (u === null) return null;
  return `lock tasks: more than ${u.cap} tasks had a hold or a wait open at once; ${u.events} lock events of about ${u.tasks} other tasks were not tracked (memory bound): their holds and waits are in no figure`;
}

function totals(tracker: LockIntervalTracker): LocksSection['totals'] {
  const c = tracker.counts;
  return {
    contentionBegins: c.begins,
    contentionEnds: c.ends,
    reBegins: c.rebegins,
    contendedAcquisitions: c.begins - c.rebegins,
    boundToNamedAcquisition: c.bound,
    orphanEnds: c.orphanEnds,
    openAtEnd: c.openAtEnd,
    failedWaits: c.failed,
    untimedLockEvents: tracker.untimed,
    unidentifiedProbes: tracker.unidentified,
    pointerRebinds: tracker.rebinds,
  };
}

export function buildSection(b: SectionInput): SectionResult {
  const { filters } = b;
  const names = new ReportNames(b.symbols, b.sessions, { names: b.tracker.lockBudget.folded.names, events: b.tracker.lockBudget.folded.events });
  const { rows, distributions, shownKeys } = buildRows(b, names);
  const rowShown: RowShown = (inst, shared) => (!filters.lock && !filters.type) || shownKeys.has(names.rowKey(inst, shared));
  const slowestWaits = slowestRecords(b, names, rowShown);
  const stalls = stallRows(b, names, rowShown);
  const untracked = b.tracker.untrackedTasks;
  const section: LocksSection = {
    locks: rows,
    sortKey: b.sort,
    filters: { lock: filters.lock ?? null, type: filters.type ?? null, session: filters.session ?? null, pids: filters.pids ?? [], since: filters.since ?? null, until: filters.until ?? null },
    quantileMethod: { description: QUANTILE_METHOD, exactUpTo: EXACT_LIMIT, sketchRelativeError: QUANTILE_RELATIVE_ACCURACY },
    totals: totals(b.tracker),
    ...(untracked !== null ? { untracked } : {}),
    slowestWaits,
    otherLocks: otherLocks(rows),
    stalls: stalls.stalls,
    stallSessionsTotal: stalls.total,
    heldAtEnd: heldAtEndRows(b, names, rowShown),
    nesting: nestingRows(b, names),
    identities: identityRows(b, names),
    notes: sectionNotes(b, rows),
  };
  return { section, distributions };
}

/** The slowest waits, LUO-related first (each kind slowest first): a wait classed "other" when it ended may have a LUO lock by now. */
function slowestRecords(b: SectionInput, names: ReportNames, rowShown: RowShown): WaitRecord[] {
  const { filters } = b;
  const records = [...b.stalls.slowest, ...b.stalls.slowestOther]
    .filter((w) => rowShown(w.iv.lock, w.iv.shared) && (!filters.session || names.session(w.iv.ctx.session) === filters.session))
    .map((w) => waitRecord(w, names))
    .sort((x, y) => y.duration - x.duration);
  return [...records.filter((w) => w.luoRelated).slice(0, SLOWEST_SHOWN), ...records.filter((w) => !w.luoRelated).slice(0, SLOWEST_SHOWN)];
}

function otherLocks(rows: LockRow[]): LocksSection['otherLocks'] {
  const other = rows.filter((r) => !r.luoRelated);
  const maxes = other.map((r) => r.wait.max).filter((v): v is number => v !== null);
  const folded = other.reduce((n, r) => n + (r.folded ? r.folded.names : 0), 0);
  return {
    // a fold row stands for the locks past the table's bound (their number estimated): count those, not the row
    rows: other.reduce((n, r) => n + (r.folded ? r.folded.names : 1), 0),
    ...(folded ? { foldedNames: folded } : {}),
    acquisitions: other.reduce((n, r) => n + r.acquisitions, 0),
    contended: other.reduce((n, r) => n + r.contended, 0),
    waitCount: other.reduce((n, r) => n + r.wait.count, 0),
    waitTotal: other.reduce((n, r) => n + r.wait.total, 0),
    waitMax: maxes.length ? Math.max(...maxes) : null,
  };
}

function who(c: { pid: number | null; comm: string | null }): string {
  return `${c.comm ?? '?'}[${c.pid ?? '?'}]`;
}

function doing(c: { func: string | null; session: string | null; after?: string | null }): string {
  const parts: string[] = [];
  if (c.func) parts.push(c.func);
  else if (c.after) parts.push(`after ${c.after}`);
  if (c.session) parts.push(`session ${c.session}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/** How an owner held an rwsem-like lock, said before its name: "writer", "readers"; nothing for a mutex or spinlock. */
function ownerRole(modes: Set<string>, n: number): string {
  if (modes.size !== 1) return modes.has('R') && modes.has('W') ? 'a writer and readers ' : '';
  const m = [...modes][0];
  if (m === 'R') return n > 1 ? 'readers ' : 'reader ';
  if (m === 'W') return 'writer ';
  return '';
}

/**
 * "preserve in session A (luo_ctl[320] in luo_preserve_file) waited 48 ms on luo_register_rwlock:R
 * held by writer insmod[317] (liveupdate_register_file_handler)": the lock is labelled with the
 * waiter's own mode (its row), which contention_begin's flags give (LCB_F_READ from
 * rwsem_down_read_slowpath, LCB_F_WRITE from rwsem_down_write_slowpath, docs/luo-model.md §5); the
 * owners' mode, what blocked it, is said with them.
 */
export function explainWait(
  waiter: { pid: number | null; comm: string | null; session: string | null; func: string | null; phase: string | null; after: string | null },
  lock: { name: string; waiterMode: string },
  duration: number,
  slept: boolean,
  owners: Array<{ pid: number | null; comm: string | null; session: string | null; func: string | null; after: string | null; mode: string }>,
  ownersTotal: number,
  wokenBy: { pid: number | null; comm: string | null; session: string | null; func: string | null; after: string | null } | null,
): string {
  const subject = `${waiter.phase ?? (waiter.after ? `work after ${waiter.after}` : 'work outside LUO calls')}${waiter.session ? ` in session ${waiter.session}` : ''} (${who(waiter)}${waiter.func ? ` in ${waiter.func}` : ''})`;
  const label = `${lock.name}:${lock.waiterMode}`;
  let held: string;
  if (owners.length) {
    const role = ownerRole(new Set(owners.map((o) => o.mode)), ownersTotal);
    held = ` held by ${role}${owners.map((o) => `${who(o)}${doing(o)}`).join(', ')}${ownersTotal > owners.length ? ` and ${ownersTotal - owners.length} more` : ''}`;
  } else if (wokenBy) {
    held = `; no holder seen when the wait began, released last by ${who(wokenBy)}${doing(wokenBy)}`;
  } else if (!slept) {
    held = '; no holder seen (the slow path spun or retried and got it)';
  } else held = '; the holder is not in the trace';
  return `${subject} waited ${fmtDuration(duration)} on ${label}${held}`;
}
