// Refcount balance per module: a running count checked against the tracepoint's `refcnt=`, plus the
// module's lifecycle (load, rmmod attempts, free).
//
// `refcnt=` is the raw atomic_read(&mod->refcnt) after the change, MODULE_REF_BASE (1) included
// (docs/luo-model.md §4 "The refcnt field", real README O11): each get must raise it by one and each put
// lower it by one. A disagreement means events were lost or a reference was taken on a path that
// emits no event; the first place it happens is reported. Known untraced paths are not findings:
// the reference taken while loading (dropped by `do_init_module`, real README §3.1) is the first
// event of a freshly loaded module. `delete_module` returns -EWOULDBLOCK (-EAGAIN) while references
// beyond the base remain, unless forced with O_TRUNC (`rmmod -f`), which taints and unloads anyway
// (§4 "Unload behaviour", §7(b)).
import type { EventKind, TraceEvent } from '../../parsers/event.js';
import { errnoName } from '../kernel/errno.js';
import { probedFunction } from '../kernel/kernel-models.js';
import type { Segment } from '../stream/segments.js';
import { type TaskKey, taskKey } from '../stream/task-key.js';
import { RecentPairs } from '../stream/recent.js';
import { deletedModuleName } from './registry.js';
import { addCount, BoundedTable, FOLD_KEY, limits, nameTable } from '../../parsers/name-table.js';
import { FOLD_MODULE, type ModuleNames } from './module-names.js';
import type { BootJson } from './schema.js';
import { CountedPast, FirstAndLatest } from '../lists.js';

export interface RefcntMismatch {
  line: number;
  src: number;
  expected: number;
  actual: number;
  callSite: string;
  kind: 'module_get' | 'module_put';
  /** The module's event checked just before it (same segment): the gap the missing events fall in. */
  prevLine: number | null;
  prevRefcnt: number | null;
}

export interface DeleteModuleAttempt {
  module: string | null;
  src: number;
  line: number;
  endLine: number | null;
  time: number | null;
  pid: number | null;
  comm: string | null;
  forced: boolean;
  /** The delete_module flags as printed. */
  flags: string | null;
  ret: number | null;
  error: string | null;
  /** Raw refcnt last seen for the module when the attempt started (null once it was freed: no module, no count). */
  refcntBefore: number | null;
  /** The module was freed in this file and not loaded again before the attempt (what -ENOENT then means). */
  freedBefore: boolean;
}

export interface ModuleStats {
  module: string;
  segment: number;
  src: number;
  gets: number;
  puts: number;
  getsBySite: Record<string, number>;
  putsBySite: Record<string, number>;
  firstRefcnt: number | null;
  lastRefcnt: number | null;
  minRefcnt: number | null;
  maxRefcnt: number | null;
  /** module_load lines: the first MAX_LISTED_LOADS, the latest, and the count. */
  loads: FirstAndLatest<number>;
  /** module_free events the same way. */
  frees: FirstAndLatest<FreeAt>;
  /** Frees while referenced past the first listed ones, up to MAX_LISTED_LOADS (the unload verdicts read every one they can). */
  referencedFrees: FreeAt[];
  mismatches: RefcntMismatch[];
  mismatchCount: number;
}

/** A module_free: its line and the raw refcnt last seen before it (>1: unloaded while referenced, forced). */
export interface FreeAt {
  line: number;
  refcnt: number | null;
}

/**
 * Loads and frees listed per module and segment: the first 100 and the latest, frees while referenced
 * up to 100 more; all counted. A real boot loads a module a few times, an insmod/rmmod loop or a
 * forged trace any number (3·10^5 loads wrote a 60 MB report and took 500 MB).
 */
export const MAX_LISTED_LOADS = 100;

/** The frees of a module's segment the report lists: the first, those while referenced, the latest; in line order. */
export function listedFrees(s: ModuleStats): FreeAt[] {
  if (s.frees.latest === null) return s.frees.first;
  const past = [...s.referencedFrees, s.frees.latest].filter((f, i, all) => all.indexOf(f) === i);
  return [...s.frees.first, ...past.sort((a, b) => a.line - b.line)];
}

/** `rmmod -f` adds O_TRUNC (0x200) to busybox's O_NONBLOCK|O_EXCL (0x880): docs/luo-model.md §4 "Unload behaviour". */
const O_TRUNC = 0o1000;

/** Freed after its last load in this segment (lines order one file's events): not loaded any more. */
export function isUnloaded(s: ModuleStats): boolean {
  const free = s.frees.last();
  const load = s.loads.last();
  return free !== undefined && (load === undefined || free.line > load);
}
/** delete_module calls listed per segment (tests use smaller); past that counted by class. */
export const MAX_DELETE_ROWS = 5000;

/** delete_module calls past the list's cap with the same module, O_TRUNC and outcome: counted. */
export interface DeleteOmitted {
  segment: number;
  /** The module name (FOLD_MODULE past 4096 classes; null when the call did not name it). */
  module: string | null;
  forced: boolean;
  /** The return value (null: no return seen). */
  result: number | null;
  error: string | null;
  count: number;
}

/**
 * The delete_module calls of a run: the first `cap` of each segment listed, the rest counted by
 * class once they return (a hostile trace can hold any number: 10^5 refused rmmods once took 320 MB
 * and a 27 MB report). A call past the cap that a module_free follows is listed after all, because
 * the forced-unload and refcount verdicts ask which rmmod came last before each free
 * (verdicts/evidence.ts rmmodBefore): the latest call of the freed module in the segment, and the
 * freeing task's own open call. Either came before the free, so listing it keeps the answer exact.
 */
export class DeleteList {
  readonly rows: DeleteModuleAttempt[] = [];
  /** Rows listed per segment, and the calls past them by class once they return (past `classes` classes, the module folds). */
  private readonly counted: CountedPast<Omit<DeleteOmitted, 'count'>>;
  /** Past-cap calls not listed: their segment, and their class once counted. */
  private readonly past = new Map<DeleteModuleAttempt, { segment: number; cls: DeleteOmitted | null }>();
  /** The latest call of each module the module table admits, per segment: what a free lists. */
  private readonly lastOf = new Map<string, DeleteModuleAttempt>();

  constructor(
    cap = MAX_DELETE_ROWS,
    private readonly classes = 4096,
  ) {
    this.counted = new CountedPast(cap, classes, (c) => ({ ...c, module: FOLD_MODULE }));
  }

  /** A call: listed while its segment has room; `admitted` = its module has a row of its own in the module table. */
  add(d: DeleteModuleAttempt, segment: number, admitted: boolean): void {
    if (this.counted.admit(segment)) this.rows.push(d);
    else this.past.set(d, { segment, cls: null });
    if (d.module === null || !admitted) return;
    const key = `${segment}\u0000${d.module}`;
    const old = this.lastOf.get(key);
    // A counted call kept only for a free that might list it: the newer call takes that place.
    if (old && this.past.get(old)?.cls) this.past.delete(old);
    this.lastOf.set(key, d);
  }

  /** Its return: a past-cap call is counted under its outcome and forgotten unless a free may still list it. */
  returned(d: DeleteModuleAttempt): void {
    const p = this.past.get(d);
    if (!p || p.cls !== null) return;
    p.cls = this.counted.of({ segment: p.segment, module: d.module, forced: d.forced, result: d.ret, error: d.error });
    p.cls.count++;
    if (d.module === null || this.lastOf.get(`${p.segment}\u0000${d.module}`) !== d) this.past.delete(d);
  }

  /** A module_free in `segment`: the calls that may be the last rmmod before it are listed (in line order). */
  freed(segment: number, module: string, taskCall: DeleteModuleAttempt | undefined): void {
    const last = this.lastOf.get(`${segment}\u0000${module}`);
    const list = [...new Set([taskCall, last])].filter((d): d is DeleteModuleAttempt => d !== undefined && this.past.has(d));
    for (const d of list.sort((a, b) => a.line - b.line)) {
      const p = this.past.get(d)!;
      this.past.delete(d);
      if (p.cls) p.cls.count--;
      this.rows.push(d);
    }
  }

  /** The calls past the cap in these segments, by class; those whose return was not seen (yet) have result null. */
  omittedJson(segIds: ReadonlySet<number>): Pick<BootJson, 'rmmodOmitted'> {
    const open: DeleteOmitted[] = [];
    for (const [d, p] of this.past) {
      if (p.cls === null) open.push({ segment: p.segment, module: this.counted.size < this.classes ? d.module : FOLD_MODULE, forced: d.forced, result: null, error: null, count: 1 });
    }
    const classes = this.counted.json(segIds, open);
    return classes.length ? { rmmodOmitted: classes } : {};
  }
}

const MAX_MISMATCHES = 20;

/** The key of a module's statistics in one segment. */
function statsKey(segId: number, module: string): string {
  return `${segId}\u0000${module}`;
}

/** Distinct call sites counted by name (getsBySite, putsBySite); later ones count under FOLD_KEY. */
export const CALL_SITE_LIMITS = limits(1024);

export class RefcountReducer {
  /** The kinds push reads (LuoAnalysis routes only these to it). */
  static readonly kinds: readonly EventKind[] = ['kprobe', 'fentry', 'module_get', 'module_put', 'module_load', 'module_free', 'syscall_enter', 'syscall_exit'];
  private readonly stats = new Map<string, ModuleStats>();
  /** Call site names, bounded: a site's own name while admitted, else FOLD_KEY (LUO sites are protected). */
  readonly sites: BoundedTable<string, string>;

  /** names: the module table's bound, shared with the pin reducer (module-names.ts); none = unbounded (tests). */
  constructor(
    private readonly names: ModuleNames | null = null,
    siteLimits = CALL_SITE_LIMITS,
    deleteRows = MAX_DELETE_ROWS,
  ) {
    this.sites = new BoundedTable<string, string>(siteLimits, (k) => k ?? FOLD_KEY);
    this.deletes = new DeleteList(deleteRows);
  }

  /**
   * Could a probe event be of try_module_get or module_put (by its printed function or its name)?
   * Asked of every kprobe event; the answer depends on the two strings only, so the answers for
   * the pairs seen lately are kept (recent.ts): a trace probes a few dozen functions.
   */
  private isModuleRefProbe(func: string | null, name: string): boolean {
    const f = func ?? '';
    const slot = this.probeAnswers.find(f, name);
    if (slot >= 0) return this.probeAnswers.at(slot);
    const yes = f.startsWith('try_module_get') || f.startsWith('module_put') || name.includes('module_');
    this.probeAnswers.keep(f, name, yes);
    return yes;
  }

  private readonly probeAnswers = new RecentPairs<boolean>();

  private moduleOf(module: string): string {
    return this.names ? this.names.of(module) : module;
  }
  /** The delete_module calls: listed up to a cap per segment, then counted (DeleteList). */
  readonly deletes: DeleteList;
  private readonly openDelete = new Map<TaskKey, DeleteModuleAttempt>();
  /** Set after module_load: the next event of that module starts a fresh count. */
  private readonly fresh = new Set<string>();
  private readonly checks = new Map<string, RefcntCheck>();
  /**
   * Entry probes of try_module_get / module_put (the lab's `luomod` kprobes, real README §2) whose
   * tracepoint has not come yet, per module key and task: the reference changed at some point
   * between the entry and the tracepoint (see RefcntCheck).
   */
  private readonly entries = new Map<string, Map<TaskKey, number>>();

  private get(segId: number, src: number, module: string, key = statsKey(segId, module)): ModuleStats {
    let s = this.stats.get(key);
    if (!s) {
      s = {
        module,
        segment: segId,
        src,
        gets: 0,
        puts: 0,
        getsBySite: nameTable(),
        putsBySite: nameTable(),
        firstRefcnt: null,
        lastRefcnt: null,
        minRefcnt: null,
        maxRefcnt: null,
        loads: new FirstAndLatest<number>(MAX_LISTED_LOADS),
        frees: new FirstAndLatest<FreeAt>(MAX_LISTED_LOADS),
        referencedFrees: [],
        mismatches: [],
        mismatchCount: 0,
      };
      this.stats.set(key, s);
    }
    return s;
  }

  push(ev: TraceEvent, seg: Segment): void {
    switch (ev.kind) {
      case 'kprobe':
      case 'fentry': {
        // Cheap test first: every kprobe event passes here (the probe is named after its function);
        // its arguments are read only for the probes of try_module_get and module_put.
        if (!this.isModuleRefProbe(ev.fields.func, ev.name)) return;
        const name = ev.fields.args.name;
        if (!name) return;
        const fn = probedFunction(ev);
        if ((fn === 'try_module_get' || fn === 'module_put') && ev.time !== null) {
          const key = `${seg.id}\u0000${this.moduleOf(name.replace(/^"|"$/g, ''))}`;
          let m = this.entries.get(key);
          if (!m) this.entries.set(key, (m = new Map()));
          m.set(taskKey(ev.src, ev.pid), ev.time);
        }
        return;
      }
      case 'module_get':
      case 'module_put': {
        const f = ev.fields;
        const module = this.moduleOf(f.module);
        const key = statsKey(seg.id, module);
        const s = this.get(seg.id, ev.src, module, key);
        const site = this.sites.row(f.callSite, module !== FOLD_MODULE);
        if (module === FOLD_MODULE && this.names?.isFold(module)) {
          // Folded modules: true counts, no refcount check (their refcnt values are not one module's).
          if (ev.kind === 'module_get') s.gets++;
          else s.puts++;
          addCount(ev.kind === 'module_get' ? s.getsBySite : s.putsBySite, site);
          return;
        }
        const pending = this.entries.get(key);
        const task = taskKey(ev.src, ev.pid);
        let entry = pending?.get(task) ?? null;
        pending?.delete(task);
        if (entry !== null && (ev.time === null || entry > ev.time || ev.time - entry > MAX_ENTRY_LATENCY_NS)) entry = null;
        if (ev.kind === 'module_get') {
          s.gets++;
          addCount(s.getsBySite, site);
        } else {
          s.puts++;
          addCount(s.putsBySite, site);
        }
        if (s.firstRefcnt === null) s.firstRefcnt = f.refcnt;
        s.lastRefcnt = f.refcnt;
        s.minRefcnt = s.minRefcnt === null ? f.refcnt : Math.min(s.minRefcnt, f.refcnt);
        s.maxRefcnt = s.maxRefcnt === null ? f.refcnt : Math.max(s.maxRefcnt, f.refcnt);
        let chk = this.checks.get(key);
        if (!chk) this.checks.set(key, (chk = new RefcntCheck(s, (now) => this.oldestEntry(key, now))));
        chk.push({ time: ev.time, start: entry ?? ev.time, pid: ev.pid, delta: ev.kind === 'module_get' ? 1 : -1, actual: f.refcnt, line: ev.line, src: ev.src, site, kind: ev.kind, fresh: this.fresh.has(key) });
        this.fresh.delete(key);
        return;
      }
      case 'module_load': {
        const module = this.moduleOf(ev.fields.module);
        const s = this.get(seg.id, ev.src, module);
        s.loads.push(ev.line);
        if (module !== FOLD_MODULE) this.fresh.add(`${seg.id}\u0000${module}`);
        return;
      }
      case 'module_free': {
        const s = this.get(seg.id, ev.src, this.moduleOf(ev.fields.module));
        const free = { line: ev.line, refcnt: s.lastRefcnt };
        const listed = s.frees.count < MAX_LISTED_LOADS;
        s.frees.push(free);
        if (!listed && free.refcnt !== null && free.refcnt > 1 && s.referencedFrees.length < MAX_LISTED_LOADS) s.referencedFrees.push(free);
        const d = this.openDelete.get(taskKey(ev.src, ev.pid));
        if (d && d.module === null) d.module = ev.fields.module;
        this.deletes.freed(seg.id, ev.fields.module, d);
        return;
      }
      case 'syscall_enter': {
        if (ev.fields.syscall !== 'delete_module') return;
        const a = ev.fields.args;
        const name = deletedModuleName(a);
        const flagsText = a.flags ?? '0';
        const flags = Number(flagsText.startsWith('0x') ? flagsText : `0x${flagsText}`);
        const st = name ? this.stats.get(`${seg.id}\u0000${this.moduleOf(name)}`) : undefined;
        const freedBefore = st !== undefined && isUnloaded(st);
        const d: DeleteModuleAttempt = {
          module: name,
          src: ev.src,
          line: ev.line,
          endLine: null,
          time: ev.time,
          pid: ev.pid,
          comm: ev.comm,
          forced: Number.isFinite(flags) && (flags & O_TRUNC) !== 0,
          flags: a.flags ?? null,
          ret: null,
          error: null,
          refcntBefore: freedBefore ? null : (st?.lastRefcnt ?? null),
          freedBefore,
        };
        // A task's earlier call whose return was lost is done: counted as such if past the cap.
        const prev = this.openDelete.get(taskKey(ev.src, ev.pid));
        if (prev) this.deletes.returned(prev);
        this.deletes.add(d, seg.id, name !== null && this.moduleOf(name) !== FOLD_MODULE);
        this.openDelete.set(taskKey(ev.src, ev.pid), d);
        return;
      }
      case 'syscall_exit': {
        if (ev.fields.syscall !== 'delete_module') return;
        const d = this.openDelete.get(taskKey(ev.src, ev.pid));
        if (!d) return;
        this.openDelete.delete(taskKey(ev.src, ev.pid));
        d.ret = ev.fields.ret;
        d.error = errnoName(ev.fields.ret);
        d.endLine = ev.line;
        this.deletes.returned(d);
        return;
      }
      default:
        return;
    }
  }

  /** The oldest entry probe of this module still waiting for its tracepoint (stale ones dropped: a failed try_module_get has none). */
  private oldestEntry(key: string, now: number): number | null {
    const m = this.entries.get(key);
    if (!m || m.size === 0) return null;
    let oldest: number | null = null;
    for (const [task, t] of m) {
      if (now - t > MAX_ENTRY_LATENCY_NS) m.delete(task);
      else if (oldest === null || t < oldest) oldest = t;
    }
    return oldest;
  }

  /** The input ended: check the events still waiting for their look-ahead window. */
  flush(): void {
    for (const c of this.checks.values()) c.flush();
  }

  /** The statistics so far (the last RACE_WINDOW_NS of events are checked once later ones came, or at flush()). */
  modules(): ModuleStats[] {
    return [...this.stats.values()];
  }
}

export interface RefEvent {
  time: number | null;
  /** Earliest moment the reference may have changed: the task's entry probe, else the event itself. */
  start: number | null;
  pid: number | null;
  delta: 1 | -1;
  actual: number;
  line: number;
  src: number;
  site: string;
  kind: 'module_get' | 'module_put';
  fresh: boolean;
}

/**
 * `refcnt=` is read with atomic_read() when the tracepoint fires, after the task's own change but
 * not atomically with it: gets and puts racing on other CPUs can already be (or not yet be) counted
 * (two concurrent puts both print the same value in the real contention capture, lines 2694-2695).
 * So an event is checked against a range: the running count, widened by the other tasks' events
 * within RACE_WINDOW_NS on either side. A lost or untraced reference shifts every later value and
 * falls outside the range at the first quiet moment.
 *
 * An event can also be written long after the change it reports: each ftrace instance runs the
 * tracepoint's assignment on its own, one after the other, and an interrupt in between delays the
 * later instances (real contention capture: luo_ctl-326's module_put entered at 77.671992, its
 * tracepoint is at 77.675108 in `main` but at 77.699242 in `pipe`, 77.699248 in `tgid` and
 * 77.699404 in trace-cmd, printing refcnt=8 after other tasks' events that already count it). When
 * the entry probe of try_module_get/module_put precedes the tracepoint on the same task, the change
 * may have happened anywhere from that entry on, so the event counts as "maybe before" every event
 * up to RACE_WINDOW_NS after its entry.
 */
const RACE_WINDOW_NS = 20_000_000;
/** An entry probe further back than this is not the same call (a failed try_module_get has no tracepoint). */
const MAX_ENTRY_LATENCY_NS = 1_000_000_000;
/**
 * Events of one module and segment a check holds at most, waiting and look-behind. The window is
 * bounded by time, and time only bounds it while the trace's clock moves forward: a clock that
 * jumps back and forth (by less than a clock reset, or past the segment cap, parsers/parser.ts)
 * held every event, and checking each against all of them ran for minutes on 3·10^5 lines. Past
 * the cap the oldest waiting event is checked with the window it has. Real windows are far smaller:
 * at most 12 events in the real captures, 34 in a 1 GB stress trace (samples/generate).
 */
export const MAX_WINDOW_EVENTS = 256;

export class RefcntCheck {
  private readonly buf: RefEvent[] = [];
  /** Index in buf of the next event to check; events before it are kept as look-behind. */
  private next = 0;
  private expected: number | null = null;
  /** The event checked last (stream order): where a gap the refcnt proves begins. */
  private prev: RefEvent | null = null;

  constructor(
    private readonly stats: ModuleStats,
    /** The oldest entry probe whose tracepoint has not come yet: events after it must wait for it. */
    private readonly oldestPendingEntry: (now: number) => number | null,
  ) {}

  /** Events held, waiting or as look-behind. */
  get held(): number {
    return this.buf.length;
  }

  push(e: RefEvent): void {
    this.buf.push(e);
    if (e.time === null) {
      this.drain(Infinity);
      return;
    }
    const pending = this.oldestPendingEntry(e.time);
    this.drain(Math.min(e.time, pending ?? Infinity) - RACE_WINDOW_NS);
    if (this.buf.length > MAX_WINDOW_EVENTS) this.bound();
  }

  /** Hold at most MAX_WINDOW_EVENTS: check the oldest waiting ones and drop the oldest look-behind. */
  private bound(): void {
    while (this.buf.length - this.next > MAX_WINDOW_EVENTS / 2) this.check(this.next++);
    const drop = this.buf.length - MAX_WINDOW_EVENTS;
    if (drop > 0) {
      this.buf.splice(0, drop);
      this.next -= drop;
    }
  }

  flush(): void {
    this.drain(Infinity);
  }

  /** Check every buffered event older than `frontier` (its look-ahead window is complete). */
  private drain(frontier: number): void {
    while (this.next < this.buf.length) {
      const e = this.buf[this.next];
      if (e.time !== null && e.time > frontier) break;
      this.check(this.next);
      this.next++;
    }
    // Drop look-behind that no future check can need.
    let keep = 0;
    const oldest = this.next < this.buf.length ? this.buf[this.next].time : null;
    // (Look-behind is matched by its own time: events before i in trace order were written before it.)
    while (keep < this.next && oldest !== null && this.buf[keep].time !== null && (this.buf[keep].time as number) < oldest - RACE_WINDOW_NS) keep++;
    if (keep === this.next && oldest === null) keep = this.next;
    if (keep > 0) {
      this.buf.splice(0, keep);
      this.next -= keep;
    }
  }

  private check(i: number): void {
    const e = this.buf[i];
    if (e.fresh || this.expected === null) {
      // First event, or the first after module_load: the load-time reference is untraced.
      this.expected = e.actual;
      this.prev = e;
      return;
    }
    const expected = this.expected + e.delta;
    let lower = expected;
    let upper = expected;
    if (e.time !== null) {
      for (let j = 0; j < this.buf.length; j++) {
        if (j === i) continue;
        const o = this.buf[j];
        if (o.time === null || o.pid === e.pid) continue;
        // Before i in trace order but maybe after the read (undo it), or after i but maybe before
        // (its change may date back to its entry probe).
        if (j < i ? Math.abs(o.time - e.time) > RACE_WINDOW_NS : (o.start ?? o.time) - e.time > RACE_WINDOW_NS) continue;
        if (j < i) {
          if (o.delta > 0) lower--;
          else upper++;
        } else if (o.delta > 0) upper++;
        else lower--;
      }
    }
    const prev = this.prev;
    this.prev = e;
    if (e.actual < lower || e.actual > upper) {
      const s = this.stats;
      s.mismatchCount++;
      if (s.mismatches.length < MAX_MISMATCHES) {
        s.mismatches.push({ line: e.line, src: e.src, expected, actual: e.actual, callSite: e.site, kind: e.kind, prevLine: prev?.line ?? null, prevRefcnt: prev?.actual ?? null });
      }
      // Continue from what the kernel says, so one lost event is reported once.
      this.expected = e.actual;
      return;
    }
    this.expected = expected;
  }
}
