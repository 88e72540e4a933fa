// LUO analyses, composed: which kernel model the trace fits, the boots and the kexec between them,
// sessions and their phases, module pin windows, refcount balance, and the verdicts a user reads
// first. The pieces are small reducers (segments, sessions, pins, refcounts, registry); this file
// feeds them one stream and joins their results at the end (across sources and across kexec).
import type { EventKind, EventOf, ModuleRefEvent, TraceEvent } from '../../parsers/event.js';
import {
  KERNEL_MODELS,
  type KernelModelId,
  MODEL_EVIDENCE,
  MODEL_RANK,
  classifyCallSite,
} from '../kernel/kernel-models.js';
import { type PhaseName, sessionFunctionOf } from '../kernel/phases.js';
import { ByFunction, CALL_EDGE_KINDS, type CallEdge, type LuoCallTracker } from '../stream/luo-calls.js';
import { KIND_SLOTS, kindId, kindMask, kindNumber } from '../stream/kinds.js';
import { type PinLimits, PinReducer, type PinWindow } from './pins.js';
import type { FinishContext } from '../stream/reducer.js';
import { listedFrees, type ModuleStats, RefcountReducer, isUnloaded } from './refcounts.js';
import { RegistryReducer, type RegistryLimits } from './registry.js';
import { type Boot, type Segment, SegmentTracker } from '../stream/segments.js';
import { KEXEC_ENTRY, type OrphanGroup, type PhaseRecord, type SessionRecord, SessionReducer } from './sessions.js';
import type { BootJson, LuoSection, LuoSectionBody, ModuleJson, PhaseJson, PinWindowJson, SessionJson } from './schema.js';
import { AT_END, isLuoPin, isLuoReference, isSessionPin, type OpenReason, openReasonText } from './pin-kinds.js';
import { addCount, foldLabel, nameTable, type TableLimits } from '../../parsers/name-table.js';
import { ModuleNames } from './module-names.js';
import { groupBy, type PhaseTally, phasesOmitted } from '../lists.js';
import { RecentPairs } from '../stream/recent.js';

/** Every name MODEL_EVIDENCE looks for (LuoAnalysis.count counts no other). */
const EVIDENCE_NAMES = new Set(MODEL_EVIDENCE.map((e) => e.name));
import { KexecReducer, kexecFromLog, kexecJson } from './kexec-attempts.js';


/** One reader of the LUO side, given the events of the kinds it declared (LuoAnalysis.route). */
type LuoReader = (ev: TraceEvent, seg: Segment) => void;

export interface LuoOptions {
  kernelModel?: KernelModelId;
  calls: LuoCallTracker;
  /** Caps of the module and call-site tables (tests use small ones; module-names.ts, refcounts.ts by default). */
  moduleLimits?: TableLimits;
  callSiteLimits?: TableLimits;
  /** Caps of the pin windows whose put was lost and of the puts without a get (tests use small ones; pins.ts by default). */
  pinLimits?: PinLimits;
  /** Rows listed per segment (tests use small ones): registrations and the names kept past them, delete_module calls. */
  registryLimits?: RegistryLimits;
  deleteRows?: number;
  /** Global phases listed per segment (sessions.ts MAX_GLOBAL_PHASES by default). */
  globalPhaseRows?: number;
  /** Freeze calls kept per file set besides the last attempt's and the last of each kind (lists.ts MAX_ATTEMPT_PHASES; Infinity: all). */
  attemptPhaseRows?: number;
  /** Each ended session the report will only count (past MAX_DETAILED_SESSIONS), before it is dropped. */
  onOmittedSession?: (s: SessionRecord) => void;
}

// ---------------------------------------------------------------------------------------------

export class LuoAnalysis {
  readonly segments = new SegmentTracker();
  readonly sessions: SessionReducer;
  readonly pins: PinReducer;
  /** The module table's bound: one decision per module for refcounts and pins (module-names.ts). */
  readonly moduleNames: ModuleNames;
  readonly refcounts: RefcountReducer;
  readonly registry: RegistryReducer;
  readonly kexec = new KexecReducer();
  /** How often each model signature was seen: kind of evidence -> name -> count (no key string per event). */
  private readonly evidence = { call_site: new Map<string, number>(), lock: new Map<string, number>(), function: new Map<string, number>() };
  private readonly calls: LuoCallTracker;

  constructor(private readonly opts: LuoOptions) {
    this.calls = opts.calls;
    this.sessions = new SessionReducer(this.calls, opts.globalPhaseRows, opts.attemptPhaseRows);
    this.moduleNames = new ModuleNames(this.calls, opts.moduleLimits);
    this.refcounts = new RefcountReducer(this.moduleNames, opts.callSiteLimits, opts.deleteRows);
    this.sessions.onOmitted = opts.onOmittedSession ?? null;
    this.pins = new PinReducer(this.calls, this.sessions, this.moduleNames, opts.pinLimits);
    this.sessions.onEnded = (s) => this.pins.sessionEnded(s);
    this.registry = new RegistryReducer(opts.registryLimits);
    this.routeAll();
  }

  /**
   * Fed by stream/reducer.ts feedInOrder, after the call tracker, with the event's kind number
   * (stream/kinds.ts). Inside, the order is this one: segments first (every reducer files the event
   * under its segment), then the readers of the event's kind in the order `route` registered them:
   * the module table before the reducers that count modules, sessions before pins (a pin is owned by
   * the session of its task, sessionOfTask); last, when the event is a LUO call edge, the readers of
   * edges (onEdge). Most events (lock and contention events, probes of non-LUO functions) are wanted
   * by no reader here but the segments: the kind's number and the edge decide it (issue 17).
   */
  push(ev: TraceEvent, kind: number = kindId(ev.kind)): void {
    const seg = this.segments.push(ev, kind);
    const readers = this.readers[kind];
    for (let i = 0; i < readers.length; i++) readers[i](ev, seg);
    if (this.edgeKinds[kind] === 1) {
      const edge = this.calls.lastEdge;
      if (edge !== null) this.onEdge(edge, ev, seg);
    }
  }

  /** Kind number -> the readers that want it, in the order they run. */
  private readonly readers: LuoReader[][] = Array.from({ length: KIND_SLOTS }, () => []);
  /** The kinds a LUO call edge comes from (the tracker's lastEdge is read only after one of them). */
  private readonly edgeKinds = kindMask(CALL_EDGE_KINDS);

  /** Register a reader for its kinds (called in the order the readers must see an event). */
  private route(kinds: readonly EventKind[], reader: LuoReader): void {
    for (const k of kinds) this.readers[kindNumber(k)].push(reader);
  }

  private routeAll(): void {
    this.route(ModuleNames.kinds, (ev) => this.moduleNames.admit(ev));
    this.route(SessionReducer.kinds, (ev) => this.sessions.push(ev));
    this.route(PinReducer.kinds, (ev, seg) => this.pins.push(ev, seg));
    this.route(RefcountReducer.kinds, (ev, seg) => this.refcounts.push(ev, seg));
    this.route(RegistryReducer.kinds, (ev) => this.registry.push(ev));
    this.route(KexecReducer.kinds, (ev, seg) => this.kexec.push(ev, seg));
    // How often each model signature was seen: call sites, locks (LUO functions entered: onEdge).
    this.route(['module_get', 'module_put'], (ev) => this.callSiteEvidence((ev as ModuleRefEvent).fields.callSite));
    this.route(['lock_acquire'], (ev) => this.lockEvidence((ev as EventOf<'lock_acquire'>).fields.lockName));
  }

  /**
   * A LUO function entered or left. Its readers keep their own state apart from the readers of the
   * event's kind (the refcount reducer reads entry probes of try_module_get and module_put, no LUO
   * function), so running them after those is the order they had when each reader was asked.
   */
  private onEdge(edge: CallEdge, ev: TraceEvent, seg: Segment): void {
    this.sessions.onEdge(edge, ev, seg);
    this.registry.onEdge(edge, ev, seg);
    if (edge.type === 'enter' && this.isEvidence.of(edge.call.fid, edge.call.func)) this.count(this.evidence.function, edge.call.func);
  }

  /** Does MODEL_EVIDENCE name the function (by its number, OpenCall.fid)? */
  private readonly isEvidence = new ByFunction((func) => EVIDENCE_NAMES.has(func));

  /**
   * A lock acquired: counted when the model table names it. Every lockdep acquire asks, of a few
   * hundred names: the answers for the names seen lately are kept (recent.ts, issue 17).
   */
  private lockEvidence(name: string): void {
    const slot = this.lockAnswers.find(name, '');
    let named: boolean;
    if (slot >= 0) named = this.lockAnswers.at(slot);
    else this.lockAnswers.keep(name, '', (named = EVIDENCE_NAMES.has(name)));
    if (named) this.count(this.evidence.lock, name);
  }

  private readonly lockAnswers = new RecentPairs<boolean>();

  private callSiteEvidence(site: string): void {
    if (EVIDENCE_NAMES.has(site) && isLuoReference({ class: classifyCallSite(site) })) this.count(this.evidence.call_site, site);
  }

  /** Only the names the model table reads are counted: a trace names any number of locks. */
  private count(counts: Map<string, number>, name: string): void {
    if (EVIDENCE_NAMES.has(name)) counts.set(name, (counts.get(name) ?? 0) + 1);
  }

  private kernelModel(): LuoSection['kernelModel'] {
    const seen: string[] = [];
    let best: KernelModelId | null = null;
    for (const e of MODEL_EVIDENCE) {
      const n = this.evidence[e.what].get(e.name);
      if (!n) continue;
      seen.push(`${e.what === 'call_site' ? 'call_site=' : e.what === 'lock' ? 'lock ' : 'function '}${e.name} (×${n}) → ${e.model}`);
      if (best === null || MODEL_RANK[e.model] > MODEL_RANK[best]) best = e.model;
    }
    // PRE signature wins over the merged per-file sites only when registration pins are present and
    // the trace has no LATER-only evidence: the lab's pre-series kernel keeps the per-file sites too.
    const pre = MODEL_EVIDENCE.filter((e) => e.model === 'pre-series' && this.evidence[e.what].get(e.name) && e.what === 'call_site');
    if (pre.length > 0) best = 'pre-series';
    const id = this.opts.kernelModel ?? best;
    return {
      id,
      title: id ? KERNEL_MODELS[id].title : null,
      forced: this.opts.kernelModel !== undefined,
      evidence: seen,
      pinning: id ? KERNEL_MODELS[id].pinning : null,
    };
  }

  /** Data-quality notes of the tables' bounds (issue #15), added once. */
  private addBoundNotes(ctx: FinishContext): void {
    const notes = [this.moduleNames.budget.note('modules'), this.refcounts.sites.note('module reference call sites')];
    if (this.pins.untrackedGets) notes.push(`${this.pins.untrackedGets} module references not taken by LUO (vfs, loader, other) were counted without a pin window: more than 10000 were open at once (memory bound)`);
    const into = ctx.quality?.notes; // absent when a test finishes the reducer alone
    for (const n of notes) if (n !== null && into && !into.includes(n)) into.push(n);
  }

  /** The section without its verdicts: the pipeline evaluates them once, after the report filters (verdicts/registry.ts). */
  finish(ctx: FinishContext): LuoSectionBody {
    // A snapshot of a live stream leaves the newest events to be checked with what comes after them.
    if (!ctx.snapshot) this.refcounts.flush();
    this.addBoundNotes(ctx);
    const fileOf = (src: number) => ctx.sources[src]?.file ?? String(src);
    const boots = this.segments.boots();
    const bootOfSeg = new Map<number, Boot>();
    for (const b of boots) for (const s of b.segments) bootOfSeg.set(s.id, b);
    for (const b of boots) for (const jn of b.joins) for (const e of b.segments.filter((x) => x.src < jn.seg.src)) this.pins.rejoin(e.id, jn.seg.id);
    const sessionsByBoot = this.sessionsByBoot(boots, bootOfSeg);
    const alias = mergeAcrossFiles(boots, sessionsByBoot);

    // Session ids in report order, and the cross-kexec join by name.
    const allSessions: Array<{ rec: SessionRecord; boot: number }> = [];
    for (const b of boots) for (const s of sessionsByBoot.get(b.id) ?? []) allSessions.push({ rec: s, boot: b.id });
    const idOf = new Map<number, number>();
    allSessions.forEach((s, i) => idOf.set(s.rec.key, i));
    for (const [key, rec] of alias) idOf.set(key, idOf.get(rec.key) as number);
    const j: Joined = { fileOf, boots, bootOfSeg, sessionsByBoot, allSessions, idOf, alias, kexecOk: this.kexecOk(boots, sessionsByBoot), failedKexecEnd: this.failedKexecEnd(boots), end: ctx.snapshot ? AT_END.snapshot : AT_END.final };

    j.missingPuts = this.missingPuts();
    const openWindows = this.pins.openWindows();
    const windowsJson = [...this.pins.closed.map((w) => this.windowJson(j, w, false)), ...openWindows.map((w) => this.windowJson(j, w, true))];
    const probed = this.sessions.probedFunctions;
    const section: LuoSectionBody = {
      kernelModel: this.kernelModel(),
      boots: boots.map((b) => this.bootJson(j, b)),
      sessions: this.sessionsJson(j, windowsJson, peersAcrossKexec(j)),
      modules: this.modulesJson(j, windowsJson, openWindows),
      sessionsOmitted: Object.fromEntries(this.sessions.omitted),
      phaseStats: this.sessions.phaseStatsWithLive().map((p) => ({
        phase: p.phase,
        count: p.count,
        errors: p.errors,
        totalNs: p.totalNs,
        minNs: p.count && Number.isFinite(p.minNs) ? p.minNs : null,
        maxNs: p.count ? p.maxNs : null,
        avgNs: p.count ? Math.round(p.totalNs / p.count) : null,
      })),
      probedFunctions: [...probed].sort(),
    };
    for (const note of [this.sessions.backwards.note('LUO phases', fileOf), this.pins.backwards.note('pin windows', fileOf), this.sessions.entriesLostNote(fileOf)]) {
      if (note !== null && !ctx.quality.notes.includes(note)) ctx.quality.notes.push(note);
    }
    return section;
  }

  /** Sessions of every segment, grouped by boot; join the freeze phases seen elsewhere (console). */
  private sessionsByBoot(boots: Boot[], bootOfSeg: Map<number, Boot>): Map<number, SessionRecord[]> {
    const sessionsByBoot = new Map<number, SessionRecord[]>();
    for (const b of boots) sessionsByBoot.set(b.id, b.segments.flatMap((s) => this.sessions.sessionsOf(s.id)));
    // The newest session of each boot holding a file set that was not aborted, by file set, made once per
    // boot (a search per orphan was quadratic). Joining an orphan never makes a session aborted or failed.
    const owners = new Map<number, Map<string | null, SessionRecord>>();
    for (const g of this.sessions.orphans) {
      const boot = bootOfSeg.get(g.segment);
      if (!boot) continue;
      let byFileSet = owners.get(boot.id);
      if (!byFileSet) {
        owners.set(boot.id, (byFileSet = new Map()));
        for (const s of sessionsByBoot.get(boot.id) ?? []) if (s.state !== 'aborted' && s.state !== 'failed') byFileSet.set(s.fileSet, s);
      }
      const owner = byFileSet.get(g.fileSet);
      if (owner) this.joinOrphans(owner, g);
    }
    return sessionsByBoot;
  }

  /**
   * A group of freeze calls on the file set `owner` holds: its kept calls join the session's phases and
   * set its state in their order (the last freeze that did not fail, the last unfreeze are kept:
   * lists.ts AttemptPhases), its tallied ones its phasesOmitted. finish() may run again on a live
   * stream (TUI --follow): each call is attached once, and one let go since is taken out again.
   */
  private joinOrphans(owner: SessionRecord, g: OrphanGroup): void {
    if (!owner.joined?.includes(g)) (owner.joined ??= []).push(g);
    if (owner.phases.some((p) => this.sessions.tallied.has(p))) owner.phases = owner.phases.filter((p) => !this.sessions.tallied.has(p));
    for (const p of g.phases.kept) {
      if (!owner.phases.includes(p)) owner.phases.push(p);
      if (p.name === 'freeze' && (p.result === null || p.result >= 0)) owner.state = 'frozen';
      if (p.name === 'unfreeze' && owner.state === 'frozen') owner.state = 'open';
    }
  }

  /** Did each boot kexec into a next one? */
  private kexecOk(boots: Boot[], sessionsByBoot: Map<number, SessionRecord[]>): Map<number, boolean> {
    const kexecOk = new Map<number, boolean>();
    for (const b of boots) {
      const reboot = this.rebootOf(b);
      const next = boots[boots.indexOf(b) + 1];
      const nextIncoming = next && (sessionsByBoot.get(next.id) ?? []).some((s) => s.side === 'incoming');
      // A liveupdate_reboot that returned an error is a kexec that did not happen (§6 "Freeze failure variant").
      const rebootOk = reboot !== undefined ? reboot.result === null || reboot.result >= 0 : b.segments.some((s) => s.kexecOut);
      kexecOk.set(b.id, rebootOk || Boolean(nextIncoming));
    }
    return kexecOk;
  }

  private freezeView(j: Joined, bootId: number): FreezeView {
    const b = j.boots.find((x) => x.id === bootId);
    const segIds = new Set(b?.segments.map((x) => x.id) ?? []);
    // A group joins a session whole (sessionsByBoot): its freeze calls, kept or tallied, count when it did not.
    const joined = new Set((j.sessionsByBoot.get(bootId) ?? []).flatMap((x) => x.joined ?? []));
    return {
      kexec: j.failedKexecEnd.has(bootId) ? 'failed' : j.kexecOk.get(bootId) ? 'done' : 'none',
      console: b?.segments.some((x) => x.printks > 0) ?? false,
      unjoined: this.sessions.orphans.reduce((a, g) => a + (segIds.has(g.segment) && !joined.has(g) ? g.phases.count('freeze') : 0), 0),
    };
  }

  private failedKexecEnd(boots: Boot[]): Map<number, number> {
    const out = new Map<number, number>();
    for (const b of boots) {
      const r = this.rebootOf(b);
      if (r && r.result !== null && r.result < 0) out.set(b.id, r.end ?? r.start ?? -Infinity);
    }
    return out;
  }

  /** The boot's last liveupdate_reboot (the attempt that decides whether the kexec happened: listed past the cap too). */
  private rebootOf(b: Boot) {
    return this.sessions.globalPhases.listed(new Set(b.segments.map((s) => s.id))).reverse().find((p) => p.func === KEXEC_ENTRY);
  }

  /** A pin window with its boot, session name and whether an open one is expected. */
  private windowJson(j: Joined, w: PinWindow, open: boolean): PinWindowJson {
    j.sessionByKey ??= new Map([...j.allSessions.map((s): [number, SessionRecord] => [s.rec.key, s.rec]), ...j.alias]);
    const boot = j.bootOfSeg.get(w.segment)?.id ?? 0;
    const s = w.session !== null ? j.sessionByKey.get(w.session) : undefined;
    const reason = open ? this.openReason(j, w, s, boot) : null;
    return {
      module: w.module,
      boot,
      class: w.class,
      flow: w.flow,
      file: j.fileOf(w.src),
      getLine: w.getLine,
      getTime: w.getTime,
      getCallSite: w.getCallSite,
      getPid: w.getPid,
      getComm: w.getComm,
      putLine: w.putLine,
      ...(w.putSrc !== null ? { putFile: j.fileOf(w.putSrc) } : {}),
      putTime: w.putTime,
      putCallSite: w.putCallSite,
      session: s?.name ?? w.sessionName,
      sessionId: s ? (j.idOf.get(s.key) ?? null) : null,
      flb: w.class === 'luo-flb' ? (w.flb ?? this.ownFlbOnce(j, w)) : null,
      token: w.token,
      luoFunction: w.luoFunction,
      durationNs: w.durationNs,
      incomplete: w.incomplete,
      openReason: reason,
      expectedOpen: reason === null ? null : openReasonText(reason, j.end),
    };
  }

  /**
   * Why a window is open at the end. A LUO pin that would be a leak is instead "put missing" when
   * the module's refcnt= later drops by more than the puts seen (a put the trace lost without a
   * marker, docs/luo-model.md §4 "The refcnt field"): each such missing put explains one window,
   * the oldest open one taken before it.
   */
  private openReason(j: Joined, w: PinWindow, s: SessionRecord | undefined, boot: number): OpenReason {
    const reason = expectedOpenReason(w, s, j.kexecOk.get(boot) ?? false, this.sessions.liveCount(w.segment) > 0);
    if (reason !== 'leak' || !isLuoPin(w)) return reason;
    const slots = j.missingPuts?.get(`${w.segment}\u0000${w.module}`);
    const i = slots?.findIndex((x) => x.src === w.src && x.line > w.getLine) ?? -1;
    if (!slots || i < 0) return reason;
    slots.splice(i, 1);
    return 'put-missing';
  }

  /** Where refcnt= proves module_puts missing from the trace: per segment and module, one entry per missing put. */
  private missingPuts(): Map<string, Array<{ src: number; line: number }>> {
    const out = new Map<string, Array<{ src: number; line: number }>>();
    for (const st of this.refcounts.modules()) {
      for (const m of st.mismatches) {
        if (m.actual >= m.expected) continue;
        const key = `${st.segment}\u0000${st.module}`;
        const list = out.get(key) ?? [];
        for (let n = m.expected - m.actual; n > 0; n--) list.push({ src: m.src, line: m.line });
        out.set(key, list);
      }
    }
    return out;
  }

  /** registry.ownFlb once per (segment, module, handler): it scans every registration, and FLB windows grow with them. */
  private ownFlbOnce(j: Joined, w: PinWindow): string | null {
    const key = `${w.segment}\u0000${w.module}\u0000${w.flbHandler === null ? '\u0001' : w.flbHandler}`;
    j.flbOf ??= new Map();
    let flb = j.flbOf.get(key);
    if (flb === undefined) j.flbOf.set(key, (flb = this.registry.ownFlb(w.segment, w.module, w.flbHandler)));
    return flb;
  }

  /**
   * Modules per boot (a boot may span several segments: concatenated dumps, console + trace). The
   * windows, unmatched puts and registrations are grouped by module once, so the cost stays linear
   * in the number of modules (filtering every list for each module was quadratic: issue #15).
   */
  private modulesJson(j: Joined, windowsJson: PinWindowJson[], openWindows: PinWindow[]): ModuleJson[] {
    const fileOf = j.fileOf;
    const windowsOf = groupBy(windowsJson, (w) => `${w.boot}\u0000${w.module}`);
    const openOf = groupBy(openWindows, (w) => w.module);
    const unmatchedOf = groupBy(this.pins.unmatched, (u) => u.module);
    const omittedOf = groupBy(this.pins.unmatchedPast.values(), (u) => u.module);
    const regsOf = groupBy(this.registry.registrations, (r) => r.module);
    // Names registered past the row cap (registry.ts), only those of calls that did not fail.
    const namesOf = groupBy([...this.registry.names.values()], (r) => r.module);
    const modules: ModuleJson[] = [];
    const stats = this.refcounts.modules();
    // Loads and frees keep the file of their own segment (a later file of the boot frees it: issue 14 case 5).
    const partsOf = groupBy([...stats].sort((x, y) => x.segment - y.segment), (p) => p.module);
    for (const [boot, st, segIds] of mergeModuleStats(stats, j.bootOfSeg)) {
      const mine = windowsOf.get(`${boot}\u0000${st.module}`) ?? [];
      const parts = (partsOf.get(st.module) ?? []).filter((p) => segIds.has(p.segment));
      const segOpen = (openOf.get(st.module) ?? []).filter((w) => segIds.has(w.segment));
      const sumSites = (bySite: Record<string, number>, want: (cls: string) => boolean) =>
        Object.entries(bySite).filter(([s]) => want(classifyCallSite(s))).reduce((a, [, n]) => a + n, 0);
      const isLuo = (cls: string) => isLuoReference({ class: cls });
      const isVfs = (cls: string) => cls === 'vfs';
      const unmatched = (unmatchedOf.get(st.module) ?? []).filter((u) => segIds.has(u.segment));
      // Puts without a get past the stored ones (pins.ts MAX_UNMATCHED): counted, the count exact.
      const omittedPuts = { loadRef: 0, other: 0 };
      for (const u of omittedOf.get(st.module) ?? []) if (segIds.has(u.segment)) omittedPuts[u.reason === 'untraced-load-ref' ? 'loadRef' : 'other'] += u.count;
      const regs: Array<{ what: string; handler: string | null; flb: string | null }> = (regsOf.get(st.module) ?? []).filter((r) => r.action === 'register' && (r.ret === null || r.ret >= 0));
      regs.push(...(namesOf.get(st.module) ?? []));
      // Open pins whose put was lost past the listed ones (pins.ts PinLimits.putLost): counted, the count exact.
      const openOmitted = [...segIds].reduce((a, id) => a + this.pins.putLostOmittedOf(id, st.module), 0);
      const fold = this.moduleNames.isFold(st.module);
      modules.push({
        name: fold ? foldLabel(this.moduleNames.budget.folded.names) : st.module,
        boot,
        gets: st.gets,
        puts: st.puts,
        getsBySite: st.getsBySite,
        putsBySite: st.putsBySite,
        luo: { gets: sumSites(st.getsBySite, isLuo), puts: sumSites(st.putsBySite, isLuo) },
        vfs: { gets: sumSites(st.getsBySite, isVfs), puts: sumSites(st.putsBySite, isVfs) },
        finalRefcnt: st.lastRefcnt,
        firstRefcnt: st.firstRefcnt,
        maxRefcnt: st.maxRefcnt,
        openPins: segOpen.filter(isLuoReference).length + openOmitted,
        refcntMismatches: st.mismatches.map((m) => ({ file: fileOf(m.src), line: m.line, expected: m.expected, actual: m.actual, callSite: m.callSite, prevLine: m.prevLine, prevRefcnt: m.prevRefcnt })),
        refcntMismatchCount: st.mismatchCount,
        untracedLoadRefPuts: unmatched.filter((u) => u.reason === 'untraced-load-ref').length + omittedPuts.loadRef,
        putsWithoutGet: unmatched.filter((u) => u.reason !== 'untraced-load-ref').map((u) => ({ file: fileOf(u.src), line: u.line, callSite: u.callSite, reason: u.reason })),
        ...(omittedPuts.other > 0 ? { putsWithoutGetOmitted: omittedPuts.other } : {}),
        ...(openOmitted > 0 ? { openPinsOmitted: openOmitted } : {}),
        ...loadsJson(parts, fileOf),
        handlers: [...new Set(regs.filter((r) => r.what === 'file-handler' && r.handler).map((r) => r.handler as string))],
        flbs: [...new Set(regs.filter((r) => r.what === 'flb' && r.flb).map((r) => r.flb as string))],
        pinWindows: mine,
        pinWindowsOmitted: Math.max(0, st.gets - mine.length),
        ...(fold ? { folded: { names: this.moduleNames.budget.folded.names, events: this.moduleNames.budget.folded.events } } : {}),
      });
    }
    return modules.sort((a, b) => a.boot - b.boot || a.name.localeCompare(b.name));
  }

  /** Sessions as JSON; their LUO pins grouped by session id once (linear in sessions and windows). */
  private sessionsJson(j: Joined, windowsJson: PinWindowJson[], peer: Map<number, { boot: number; id: number }>): SessionJson[] {
    const probed = this.sessions.probedFunctions;
    const pinsOf = groupBy(
      windowsJson.filter((w) => w.sessionId !== null && isSessionPin(w)),
      (w) => w.sessionId as number,
    );
    // One freeze view per boot: it scans the boot's sessions and orphans, so per session it was quadratic.
    const views = new Map<number, FreezeView>();
    const viewOf = (boot: number): FreezeView => {
      let v = views.get(boot);
      if (v === undefined) views.set(boot, (v = this.freezeView(j, boot)));
      return v;
    };
    return j.allSessions.map(({ rec, boot }, id) => {
      const pins = pinsOf.get(id) ?? [];
      const phases = [...rec.phases].sort((a, b) => (a.start ?? a.end ?? 0) - (b.start ?? b.end ?? 0));
      return {
        id,
        name: rec.name,
        side: rec.side,
        boot,
        state: rec.state,
        outcome: outcomeOf(rec, j.kexecOk.get(boot) ?? false, j.failedKexecEnd.get(boot) ?? null, j.end),
        fileSet: rec.fileSet,
        pid: rec.pid,
        comm: rec.comm,
        files: [...rec.files.values()],
        phases: phases.map((p) => phaseJson(p, j.fileOf)),
        ...phasesOmittedJson(phasesOmitted(rec)),
        unseen: unseenPhases(rec, probed, viewOf(boot)),
        pins: { taken: pins.length, released: pins.filter((w) => w.putLine !== null).length, open: pins.filter((w) => w.putLine === null).length },
        peer: peer.get(rec.key) ?? null,
      };
    });
  }

  /** The module's last refcnt in an earlier file of the boot: an rmmod opening a later file has none of its own. */
  private refcntFromEarlierFile(b: Boot, src: number, module: string | null): number | null {
    if (module === null || !b.joins.some((jn) => jn.seg.src === src)) return null;
    const earlier = new Set(b.segments.filter((s) => s.src < src).map((s) => s.id));
    const stats = this.refcounts.modules().filter((m) => m.module === module && earlier.has(m.segment) && m.lastRefcnt !== null);
    const last = stats.sort((x, y) => x.segment - y.segment)[stats.length - 1];
    // Freed there (and not loaded again): the module is gone, it has no count.
    return last && !isUnloaded(last) ? (last.lastRefcnt as number) : null;
  }

  private bootJson(j: Joined, b: Boot): BootJson {
    const fileOf = j.fileOf;
    const segIds = new Set(b.segments.map((s) => s.id));
    const mySessions = j.sessionsByBoot.get(b.id) ?? [];
    const hasOut = mySessions.some((s) => s.side === 'outgoing');
    // luo_open calls luo_session_deserialize on every boot; only sessions make a boot incoming.
    const hasIn = mySessions.some((s) => s.side === 'incoming');
    const reboot = this.rebootOf(b);
    const times = b.segments.flatMap((s) => [s.firstTime, s.lastTime]).filter((t): t is number => t !== null);
    return {
      id: b.id,
      files: b.srcs.map(fileOf),
      role: hasOut && hasIn ? 'both' : hasOut ? 'outgoing' : hasIn ? 'incoming' : 'none',
      start: times.length ? Math.min(...times) : null,
      end: times.length ? Math.max(...times) : null,
      kexec: reboot ? kexecJson(reboot, this.kexec, segIds, mySessions, this.sessions.orphans.filter((g) => segIds.has(g.segment)).flatMap((g) => g.phases.kept), j.idOf, fileOf) : kexecFromLog(this.kexec, segIds, mySessions, j.idOf, fileOf),
      liveupdateNumber: b.segments.find((s) => s.liveupdateNumber !== null)?.liveupdateNumber ?? null,
      ...(b.joins.length ? { joined: b.joins.map((jn) => ({ file: fileOf(jn.seg.src), continues: fileOf(jn.after.src), evidence: jn.why })) } : {}),
      globalPhases: this.sessions.globalPhases.listed(segIds).map((p) => phaseJson(p, fileOf)),
      ...globalPhasesOmitted(this.sessions.globalPhases.omitted(segIds)),
      rmmod: this.refcounts.deletes.rows
        .filter((d) => b.srcs.includes(d.src) && b.segments.some((s) => s.src === d.src && d.line >= s.firstLine && d.line <= s.lastLine))
        .map((d) => ({
          module: d.module,
          file: fileOf(d.src),
          line: d.line,
          forced: d.forced,
          ...(d.forced && d.flags !== null ? { flags: d.flags } : {}),
          result: d.ret,
          error: d.error,
          refcntBefore: d.freedBefore ? null : (d.refcntBefore ?? this.refcntFromEarlierFile(b, d.src, d.module)),
          comm: d.comm,
        })),
      ...this.refcounts.deletes.omittedJson(segIds),
      registrations: this.registry.registrations
        .filter((r) => segIds.has(r.segment))
        .map((r) => ({ action: r.action, what: r.what, handler: r.handler, flb: r.flb, module: r.module, file: fileOf(r.src), line: r.line, result: r.ret, error: r.error })),
      ...this.registry.omittedJson(segIds),
    };
  }
}

/** What finish() joined once and its parts read: boots, sessions in report order, kexec outcomes. */
interface Joined {
  fileOf: (src: number) => string;
  boots: Boot[];
  bootOfSeg: Map<number, Boot>;
  sessionsByBoot: Map<number, SessionRecord[]>;
  allSessions: Array<{ rec: SessionRecord; boot: number }>;
  idOf: Map<number, number>;
  /** Sessions of a later file merged into the same session of an earlier file of the boot (mergeAcrossFiles). */
  alias: Map<number, SessionRecord>;
  kexecOk: Map<number, boolean>;
  /** Where what is still open is seen open: the trace's end, or the moment of a live snapshot (AT_END). */
  end: string;
  /** Boots whose last liveupdate_reboot returned an error: when it returned. */
  failedKexecEnd: Map<number, number>;
  sessionByKey?: Map<number, SessionRecord>;
  /** registry.ownFlb's answers, by segment, module and handler. */
  flbOf?: Map<string, string | null>;
  /** See LuoAnalysis.missingPuts. */
  missingPuts?: Map<string, Array<{ src: number; line: number }>>;
}

/**
 * A session that goes on in a later file of the same boot (stream/continuity.ts) is one session: the
 * later file sees it without its start (`seenFromStart` false) on the file set the earlier file's
 * session holds. Its phases, files, name and state are moved onto the earlier record, and its key
 * becomes an alias of it (its pins then belong to the one session). Idempotent: finish() may run
 * again on a live stream.
 */
function mergeAcrossFiles(boots: Boot[], sessionsByBoot: Map<number, SessionRecord[]>): Map<number, SessionRecord> {
  const alias = new Map<number, SessionRecord>();
  for (const b of boots) {
    if (!b.joins.length) continue;
    const joined = new Set(b.joins.map((jn) => jn.seg.id));
    const list = sessionsByBoot.get(b.id) ?? [];
    const kept: SessionRecord[] = [];
    for (const s of list) {
      const earlier = !s.seenFromStart && s.fileSet !== null && joined.has(s.segment)
        ? [...kept].reverse().find((e) => e.segment !== s.segment && e.fileSet === s.fileSet && e.side === s.side && e.state !== 'aborted' && e.state !== 'failed' && e.state !== 'finished')
        : undefined;
      if (!earlier) {
        kept.push(s);
        continue;
      }
      for (const p of s.phases) if (!earlier.phases.includes(p)) earlier.phases.push(p);
      for (const g of s.joined ?? []) if (!earlier.joined?.includes(g)) (earlier.joined ??= []).push(g);
      for (const [token, f] of s.files) if (!earlier.files.has(token)) earlier.files.set(token, f);
      earlier.name ??= s.name;
      earlier.state = s.state;
      earlier.finishedVia = s.finishedVia ?? earlier.finishedVia;
      alias.set(s.key, earlier);
    }
    sessionsByBoot.set(b.id, kept);
  }
  return alias;
}

/** The cross-kexec join: an outgoing session and the incoming one of the next boot with its name. */
function peersAcrossKexec(j: Joined): Map<number, { boot: number; id: number }> {
  const peer = new Map<number, { boot: number; id: number }>();
  for (let i = 0; i + 1 < j.boots.length; i++) {
    const outgoing = (j.sessionsByBoot.get(j.boots[i].id) ?? []).filter((s) => s.side === 'outgoing' && s.name !== null && s.state !== 'aborted' && s.state !== 'failed');
    const incoming = (j.sessionsByBoot.get(j.boots[i + 1].id) ?? []).filter((s) => s.side === 'incoming' && s.name !== null);
    // The first incoming session of each name, as find() took it (a Map keeps this linear).
    const incomingByName = new Map<string, SessionRecord>();
    for (const s of incoming) if (!incomingByName.has(s.name as string)) incomingByName.set(s.name as string, s);
    for (const o of outgoing) {
      const inc = incomingByName.get(o.name as string);
      if (!inc) continue;
      peer.set(o.key, { boot: j.boots[i + 1].id, id: j.idOf.get(inc.key)! });
      peer.set(inc.key, { boot: j.boots[i].id, id: j.idOf.get(o.key)! });
    }
  }
  return peer;
}

/** A session's freeze and unfreeze calls of earlier kexec attempts, by name and function; absent when none (schema.ts). */
const phasesOmittedJson = (tallies: PhaseTally[]): Pick<SessionJson, 'phasesOmitted'> => (tallies.length ? { phasesOmitted: tallies } : {});

/** The global phases past the list's cap, by name and function; absent when none (schema.ts). */
const globalPhasesOmitted = (tallies: PhaseTally[]): Pick<BootJson, 'globalPhasesOmitted'> => (tallies.length ? { globalPhasesOmitted: tallies } : {});

function phaseJson(p: PhaseRecord, fileOf: (src: number) => string): PhaseJson {
  return {
    name: p.name,
    func: p.func,
    start: p.start,
    end: p.end,
    durationNs: p.durationNs,
    result: p.result,
    error: p.error,
    file: fileOf(p.src),
    line: p.line,
    endLine: p.endLine,
    pid: p.pid,
    comm: p.comm,
    token: p.token,
    via: p.via,
    ...(p.acrossLoss ? { acrossLoss: true } : {}),
    ...(p.returnLost ? { returnLost: true } : {}),
  };
}

/** A module's loads and frees over its segments' stats (in stream order): those listed, and how many were not. */
function loadsJson(parts: ModuleStats[], fileOf: (src: number) => string): Pick<ModuleJson, 'loaded' | 'freed' | 'loadsOmitted' | 'freesOmitted'> {
  const loaded = parts.flatMap((p) => p.loads.listed().map((line) => ({ file: fileOf(p.src), line })));
  const freed = parts.flatMap((p) => listedFrees(p).map((f) => ({ file: fileOf(p.src), line: f.line, refcnt: f.refcnt })));
  const loadsOmitted = parts.reduce((a, p) => a + p.loads.count, 0) - loaded.length;
  const freesOmitted = parts.reduce((a, p) => a + p.frees.count, 0) - freed.length;
  return { loaded, freed, ...(loadsOmitted > 0 ? { loadsOmitted } : {}), ...(freesOmitted > 0 ? { freesOmitted } : {}) };
}

/** Merge the per-segment refcount statistics of each (boot, module), in stream order. */
function mergeModuleStats(stats: ModuleStats[], bootOfSeg: Map<number, Boot>): Array<[number, ModuleStats, Set<number>]> {
  const merged = new Map<string, [number, ModuleStats, Set<number>]>();
  for (const st of [...stats].sort((a, b) => a.segment - b.segment)) {
    const boot = bootOfSeg.get(st.segment)?.id ?? 0;
    const key = `${boot}\u0000${st.module}`;
    const cur = merged.get(key);
    if (!cur) {
      // Copies of the lists it extends: the reducer's own stats of each segment stay as they were.
      const copy = { ...st, getsBySite: nameTable(st.getsBySite), putsBySite: nameTable(st.putsBySite), mismatches: [...st.mismatches] };
      merged.set(key, [boot, copy, new Set([st.segment])]);
      continue;
    }
    const m = cur[1];
    cur[2].add(st.segment);
    m.gets += st.gets;
    m.puts += st.puts;
    for (const [k, n] of Object.entries(st.getsBySite)) addCount(m.getsBySite, k, n);
    for (const [k, n] of Object.entries(st.putsBySite)) addCount(m.putsBySite, k, n);
    if (m.firstRefcnt === null) m.firstRefcnt = st.firstRefcnt;
    if (st.lastRefcnt !== null) m.lastRefcnt = st.lastRefcnt;
    if (st.minRefcnt !== null) m.minRefcnt = m.minRefcnt === null ? st.minRefcnt : Math.min(m.minRefcnt, st.minRefcnt);
    if (st.maxRefcnt !== null) m.maxRefcnt = m.maxRefcnt === null ? st.maxRefcnt : Math.max(m.maxRefcnt, st.maxRefcnt);
    m.mismatches.push(...st.mismatches.slice(0, Math.max(0, 20 - m.mismatches.length)));
    m.mismatchCount += st.mismatchCount;
  }
  return [...merged.values()];
}

function expectedOpenReason(w: PinWindow, s: SessionRecord | undefined, kexecOk: boolean, liveSessions: boolean): OpenReason {
  if (w.class === 'vfs') return 'vfs-file-open';
  if (w.class === 'luo-registration') return 'leak';
  if (w.class === 'other' || w.class === 'module-loader') return 'not-luo';
  // An FLB pin belongs to the FLB, not to a session: it is dropped when the last dependent file of
  // any session is unpreserved / finished (docs/luo-model.md §1.4, §4 "Whose reference it is"). Open at the
  // end, it is expected while any session is live (frozen ones travel into the kexec), a leak once
  // none is.
  if (w.class === 'luo-flb') {
    if (!liveSessions) return 'leak';
    return w.flow === 'outgoing' && kexecOk ? 'held-across-kexec' : 'flb-in-use';
  }
  if (w.flow === 'outgoing') {
    if (s && (s.state === 'aborted' || s.state === 'failed')) return 'leak';
    if (s?.state === 'frozen' || kexecOk) return 'held-across-kexec';
    if (!s && !liveSessions) return 'leak';
    return 'session-open';
  }
  // incoming
  if (s && s.state === 'finished') return 'leak';
  if (s || liveSessions) return 'session-not-finished';
  return 'leak';
}

/**
 * A session's end in words. `failedKexecEnd`: when this boot's liveupdate_reboot returned an error
 * (the kexec did not happen, the old kernel runs on: docs/luo-model.md §6 "Freeze failure variant").
 */
function outcomeOf(s: SessionRecord, kexecOk: boolean, failedKexecEnd: number | null, end: string): string {
  const after = (p: PhaseRecord | undefined) => failedKexecEnd !== null && p !== undefined && (p.start ?? p.end ?? -Infinity) >= failedKexecEnd;
  switch (s.state) {
    case 'failed':
      return `failed (${s.phases.find((p) => p.error)?.error ?? 'error'})`;
    case 'aborted': {
      const unpreserve = s.phases.find((p) => p.name === 'unpreserve');
      // Its release was seen entering only: the return went with lost events (docs/luo-model.md §1.6).
      const lost = unpreserve?.returnLost
        ? '; the return of luo_file_unpreserve_files was lost with lost events'
        : s.releaseUnseen
          ? '; its release is not in the trace (lost events), but a later create of its name succeeded'
          : '';
      if (after(unpreserve)) return `aborted after the failed kexec and its rollback: session fd closed, files unpreserved${lost}`;
      return (kexecOk ? 'aborted: session fd closed before kexec, files unpreserved' : 'aborted: session fd closed, files unpreserved (no kexec in these inputs)') + lost;
    }
    case 'frozen':
      return 'frozen for kexec (preserved across the live update)';
    case 'finished':
      return s.finishedVia === 'ioctl' ? 'finished by the SESSION_FINISH ioctl' : s.finishedVia === 'close' ? 'finished implicitly when the session fd was closed' : 'finished';
    case 'open':
      if (failedKexecEnd !== null) return s.phases.some((p) => p.name === 'unfreeze') ? `frozen, then rolled back after the failed kexec; still open ${end}` : `still open after the failed kexec, ${end}`;
      return kexecOk ? 'held open into kexec (no freeze of it in these inputs)' : `still open ${end}`;
    case 'creating':
      return `create still in progress ${end}`;
    case 'deserialized':
      return 'deserialized, never retrieved in the trace';
    case 'retrieved':
      return `retrieved, not finished ${end}`;
    case 'lost':
      // docs/luo-model.md §1.6: the task entered its next LUO call, so this one returned; how is unknown.
      return `unknown: the return of ${s.side === 'outgoing' ? 'luo_session_create' : 'luo_session_retrieve'} was lost with lost events (it may have failed, e.g. ${s.side === 'outgoing' ? '-EEXIST' : '-ENOENT'})`;
  }
}

/** What a boot's inputs say about its kexec, to explain a freeze that is not in a session. */
interface FreezeView {
  /** done: the kexec happened; failed: liveupdate_reboot returned an error; none: no sign of one. */
  kexec: 'done' | 'failed' | 'none';
  /** A console log is among the boot's inputs. */
  console: boolean;
  /** luo_file_freeze calls of the boot that no session could be joined to (no file_set to match). */
  unjoined: number;
}

/** Why a session's freeze is not in it (docs/luo-model.md §6 step 6 and "Freeze failure variant"). */
function unseenFreeze(s: SessionRecord, v: FreezeView): string {
  if (v.kexec === 'failed') return 'freeze: not reached: the live update failed at an earlier file and was rolled back';
  if (v.kexec === 'none') return 'freeze: the trace ends before `kexec -e` (the freeze runs inside it: trace through it, or add the console log captured with tp_printk)';
  if (v.unjoined > 0 && s.fileSet === null) return `freeze: the inputs have ${v.unjoined} luo_file_freeze call${v.unjoined === 1 ? '' : 's'} in the kexec, but this session's file_set is not in the trace to join them (function_graph prints no arguments: add kprobes with file_set=)`;
  if (v.console) return 'freeze: the console log shows the kexec but no luo_file_freeze of this session (tracepoint_printk off, or luo_file_freeze not probed)';
  return 'freeze: not in these inputs (it runs inside `kexec -e`: add the console log captured with tp_printk)';
}

function unseenPhases(s: SessionRecord, probed: Set<string>, freeze: FreezeView): string[] {
  const have = new Set(s.phases.map((p) => p.name));
  const want: PhaseName[] = s.side === 'outgoing' ? ['create', 'preserve', s.state === 'aborted' ? 'unpreserve' : 'freeze'] : ['deserialize', 'retrieve-session', 'retrieve', 'finish'];
  const out: string[] = [];
  for (const p of want) {
    if (have.has(p)) continue;
    const fn = sessionFunctionOf(p);
    if (p === 'freeze') out.push(unseenFreeze(s, freeze));
    else if (fn === null || !probed.has(fn)) out.push(`${p}: ${fn} was not probed in these inputs`);
    else if (p === 'deserialize' && s.fileSet === null && s.side === 'incoming' && s.seenFromStart)
      out.push('deserialize: the luo_file_deserialize calls have no file_set to join them to a session (function_graph prints no arguments); they are listed with the boot');
    else if ((p === 'create' || p === 'deserialize') && !s.seenFromStart) out.push(`${p}: happened before the trace started`);
    else if (p === 'retrieve-session' || p === 'retrieve' || p === 'finish') out.push(`${p}: not seen before the end of the trace`);
    else out.push(`${p}: not seen`);
  }
  return out;
}
