// LUO analyses, composed: which kernel model the trace fits, the boots and the kexec between them,
// sessions and their phases, module pin windows, refcount balance, and the verdicts a user reads
// first. The pieces are small reducers (segments, sessions, pins, refcounts, registry); this file
// feeds them one stream and joins their results at the end (across sources and across kexec).
import { z } from 'zod';
import type { TraceEvent } from '../parsers/event.js';
import {
  KERNEL_MODELS,
  type KernelModelId,
  MODEL_EVIDENCE,
  MODEL_RANK,
  classifyCallSite,
} from './kernel-models.js';
import type { LuoCallTracker } from './luo-calls.js';
import { PinReducer, type PinWindow } from './pins.js';
import type { FinishContext } from './reducer.js';
import { type ModuleStats, RefcountReducer } from './refcounts.js';
import { RegistryReducer } from './registry.js';
import { type Boot, SegmentTracker } from './segments.js';
import { type PhaseRecord, type SessionRecord, SessionReducer } from './sessions.js';
import { buildVerdicts, VerdictSchema } from './verdicts.js';
import { addCount, nameTable } from './name-table.js';

// ---------------------------------------------------------------------------------------------
// Report schema (JSON contract of issue #3: kernelModel; sessions[].name/side/phases[].name/start/
// end/result; modules[].name/gets/puts/finalRefcnt/openPins/pinWindows[].getLine/putLine/
// getCallSite/putCallSite/session; verdicts[].id/ok/message/evidence)
// ---------------------------------------------------------------------------------------------

const At = z.object({ file: z.string(), line: z.number().int() });

export const PhaseSchema = z.object({
  name: z.string(),
  func: z.string(),
  start: z.number().nullable(),
  end: z.number().nullable(),
  durationNs: z.number().nullable(),
  result: z.number().nullable(),
  error: z.string().nullable(),
  file: z.string(),
  line: z.number().int(),
  endLine: z.number().int().nullable(),
  pid: z.number().int().nullable(),
  comm: z.string().nullable(),
  token: z.string().nullable(),
  via: z.enum(['ioctl', 'close']).nullable(),
});
export type PhaseJson = z.infer<typeof PhaseSchema>;

export const SessionSchema = z.object({
  id: z.number().int(),
  name: z.string().nullable(),
  side: z.enum(['outgoing', 'incoming']),
  boot: z.number().int(),
  /** creating, open, failed, aborted, frozen, deserialized, retrieved, finished */
  state: z.string(),
  /** What became of it, in words: "aborted (session fd closed)", "finished by ioctl"... */
  outcome: z.string(),
  fileSet: z.string().nullable(),
  pid: z.number().int().nullable(),
  comm: z.string().nullable(),
  files: z.array(
    z.object({
      token: z.string(),
      fd: z.number().nullable(),
      handler: z.string().nullable(),
      preserved: z.boolean().nullable(),
      preserveError: z.string().nullable(),
      retrieved: z.boolean().nullable(),
      retrieveError: z.string().nullable(),
    }),
  ),
  phases: z.array(PhaseSchema),
  /** Phases that could not be seen, and why (missing probes, outside the trace). */
  unseen: z.array(z.string()),
  pins: z.object({ taken: z.number().int(), released: z.number().int(), open: z.number().int() }),
  /** The same session in the other kernel (joined by name across kexec). */
  peer: z.object({ boot: z.number().int(), id: z.number().int() }).nullable(),
});
export type SessionJson = z.infer<typeof SessionSchema>;

export const PinWindowSchema = z.object({
  module: z.string(),
  boot: z.number().int(),
  class: z.string(),
  flow: z.enum(['outgoing', 'incoming']).nullable(),
  file: z.string(),
  getLine: z.number().int(),
  getTime: z.number().nullable(),
  getCallSite: z.string(),
  getPid: z.number().int().nullable(),
  getComm: z.string().nullable(),
  putLine: z.number().int().nullable(),
  putTime: z.number().nullable(),
  putCallSite: z.string().nullable(),
  session: z.string().nullable(),
  sessionId: z.number().int().nullable(),
  token: z.string().nullable(),
  luoFunction: z.string().nullable(),
  durationNs: z.number().nullable(),
  incomplete: z.boolean(),
  /** Open at the end: why that is expected ("held across kexec"...), or null when it is a leak. */
  expectedOpen: z.string().nullable(),
});
export type PinWindowJson = z.infer<typeof PinWindowSchema>;

export const ModuleSchema = z.object({
  name: z.string(),
  boot: z.number().int(),
  /** All module_get / module_put events of the module, whoever took them (LUO, VFS, loader). */
  gets: z.number().int(),
  puts: z.number().int(),
  getsBySite: z.record(z.string(), z.number().int()),
  putsBySite: z.record(z.string(), z.number().int()),
  luo: z.object({ gets: z.number().int(), puts: z.number().int() }),
  vfs: z.object({ gets: z.number().int(), puts: z.number().int() }),
  /** Last `refcnt=` seen (raw, MODULE_REF_BASE included: 1 = idle). */
  finalRefcnt: z.number().int().nullable(),
  firstRefcnt: z.number().int().nullable(),
  maxRefcnt: z.number().int().nullable(),
  /** LUO pins (file, FLB, registration) still held at the end of the input. */
  openPins: z.number().int(),
  refcntMismatches: z.array(z.object({ file: z.string(), line: z.number().int(), expected: z.number(), actual: z.number(), callSite: z.string() })),
  refcntMismatchCount: z.number().int(),
  untracedLoadRefPuts: z.number().int(),
  putsWithoutGet: z.array(At.extend({ callSite: z.string(), reason: z.string() })),
  loaded: z.array(At),
  freed: z.array(At.extend({ refcnt: z.number().int().nullable() })),
  handlers: z.array(z.string()),
  flbs: z.array(z.string()),
  pinWindows: z.array(PinWindowSchema),
  /** Released windows not listed (beyond the first 5000 of the run); open ones are always listed. */
  pinWindowsOmitted: z.number().int(),
});
export type ModuleJson = z.infer<typeof ModuleSchema>;

export const BootSchema = z.object({
  id: z.number().int(),
  files: z.array(z.string()),
  /** outgoing: sessions were created/preserved; incoming: deserialized/retrieved; both or none. */
  role: z.enum(['outgoing', 'incoming', 'both', 'none']),
  start: z.number().nullable(),
  end: z.number().nullable(),
  /** `liveupdate_reboot` (freeze) result in this boot, if seen. */
  kexec: z
    .object({ result: z.number().nullable(), error: z.string().nullable(), file: z.string(), line: z.number().int(), durationNs: z.number().nullable() })
    .nullable(),
  liveupdateNumber: z.number().int().nullable(),
  globalPhases: z.array(PhaseSchema),
  rmmod: z.array(
    z.object({
      module: z.string().nullable(),
      file: z.string(),
      line: z.number().int(),
      forced: z.boolean(),
      result: z.number().nullable(),
      error: z.string().nullable(),
      refcntBefore: z.number().nullable(),
      comm: z.string().nullable(),
    }),
  ),
  registrations: z.array(
    z.object({
      action: z.enum(['register', 'unregister']),
      what: z.enum(['file-handler', 'flb']),
      handler: z.string().nullable(),
      flb: z.string().nullable(),
      module: z.string().nullable(),
      file: z.string(),
      line: z.number().int(),
      result: z.number().nullable(),
      error: z.string().nullable(),
    }),
  ),
});
export type BootJson = z.infer<typeof BootSchema>;

export const LuoSectionSchema = z.object({
  kernelModel: z.object({
    id: z.enum(['pre-series', 'v1', 'merged', 'later']).nullable(),
    title: z.string().nullable(),
    forced: z.boolean(),
    /** What in the trace identified it (call sites, functions, lock names), with a count each. */
    evidence: z.array(z.string()),
    /** Where the model says module references are taken. */
    pinning: z.string().nullable(),
  }),
  boots: z.array(BootSchema),
  sessions: z.array(SessionSchema),
  modules: z.array(ModuleSchema),
  verdicts: z.array(VerdictSchema),
  /** Sessions that ended normally beyond the first 1000 per boot are counted here, not listed. */
  sessionsOmitted: z.record(z.string(), z.number().int()),
  /** Durations of every phase of every session (listed or not). */
  phaseStats: z.array(
    z.object({
      phase: z.string(),
      count: z.number().int(),
      errors: z.number().int(),
      totalNs: z.number(),
      minNs: z.number().nullable(),
      maxNs: z.number().nullable(),
      avgNs: z.number().nullable(),
    }),
  ),
  /** Which LUO functions had probes in the inputs (what could be seen at all). */
  probedFunctions: z.array(z.string()),
});
export type LuoSection = z.infer<typeof LuoSectionSchema>;

export interface LuoOptions {
  kernelModel?: KernelModelId;
  calls: LuoCallTracker;
}

// ---------------------------------------------------------------------------------------------

export class LuoAnalysis {
  readonly segments = new SegmentTracker();
  readonly sessions: SessionReducer;
  readonly pins: PinReducer;
  readonly refcounts = new RefcountReducer();
  readonly registry: RegistryReducer;
  /** How often each model signature was seen: kind of evidence -> name -> count (no key string per event). */
  private readonly evidence = { call_site: new Map<string, number>(), lock: new Map<string, number>(), function: new Map<string, number>() };
  private readonly calls: LuoCallTracker;

  constructor(private readonly opts: LuoOptions) {
    this.calls = opts.calls;
    this.sessions = new SessionReducer(this.calls);
    this.pins = new PinReducer(this.calls, this.sessions);
    this.registry = new RegistryReducer(this.calls);
  }

  /** Call after `calls.push(ev)` for the same event. */
  push(ev: TraceEvent): void {
    const seg = this.segments.push(ev);
    this.sessions.push(ev, seg);
    this.pins.push(ev, seg);
    this.refcounts.push(ev, seg);
    this.registry.push(ev, seg);
    this.collectEvidence(ev);
  }

  private collectEvidence(ev: TraceEvent): void {
    let counts: Map<string, number>;
    let name: string;
    if (ev.kind === 'module_get' || ev.kind === 'module_put') {
      name = ev.fields.callSite;
      if (!classifyCallSite(name).startsWith('luo')) return;
      counts = this.evidence.call_site;
    } else if (ev.kind === 'lock_acquire') {
      name = ev.fields.lockName;
      counts = this.evidence.lock;
    } else if (this.calls.lastEdge?.type === 'enter') {
      name = this.calls.lastEdge.call.func;
      counts = this.evidence.function;
    } else return;
    counts.set(name, (counts.get(name) ?? 0) + 1);
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

  finish(ctx: FinishContext): LuoSection {
    const fileOf = (src: number) => ctx.sources[src]?.file ?? String(src);
    const boots = this.segments.boots();
    const bootOfSeg = new Map<number, Boot>();
    for (const b of boots) for (const s of b.segments) bootOfSeg.set(s.id, b);

    // Sessions of every segment, grouped by boot; join the freeze phases seen elsewhere (console).
    const sessionsByBoot = new Map<number, SessionRecord[]>();
    for (const b of boots) sessionsByBoot.set(b.id, b.segments.flatMap((s) => this.sessions.sessionsOf(s.id)));
    for (const o of this.sessions.orphans) {
      const boot = bootOfSeg.get(o.segment);
      if (!boot) continue;
      const list = sessionsByBoot.get(boot.id) ?? [];
      // The newest session of that boot holding the file set that was not aborted.
      const owner = [...list].reverse().find((s) => s.fileSet === o.fileSet && s.state !== 'aborted' && s.state !== 'failed');
      if (owner) {
        // finish() may run again on a live stream (TUI --follow): attach each orphan phase once.
        if (!owner.phases.includes(o.phase)) owner.phases.push(o.phase);
        if (o.phase.name === 'freeze' && (o.phase.result === null || o.phase.result >= 0)) owner.state = 'frozen';
      }
    }

    // Session ids in report order, and the cross-kexec join by name.
    const allSessions: Array<{ rec: SessionRecord; boot: number }> = [];
    for (const b of boots) for (const s of sessionsByBoot.get(b.id) ?? []) allSessions.push({ rec: s, boot: b.id });
    const idOf = new Map<number, number>();
    allSessions.forEach((s, i) => idOf.set(s.rec.key, i));
    const peer = new Map<number, { boot: number; id: number }>();
    for (let i = 0; i + 1 < boots.length; i++) {
      const outgoing = (sessionsByBoot.get(boots[i].id) ?? []).filter((s) => s.side === 'outgoing' && s.name !== null && s.state !== 'aborted' && s.state !== 'failed');
      const incoming = (sessionsByBoot.get(boots[i + 1].id) ?? []).filter((s) => s.side === 'incoming' && s.name !== null);
      for (const o of outgoing) {
        const inc = incoming.find((s) => s.name === o.name);
        if (!inc) continue;
        peer.set(o.key, { boot: boots[i + 1].id, id: idOf.get(inc.key)! });
        peer.set(inc.key, { boot: boots[i].id, id: idOf.get(o.key)! });
      }
    }

    // Did each boot kexec into a next one?
    const kexecOk = new Map<number, boolean>();
    for (const b of boots) {
      const reboot = this.sessions.globalPhases.find((p) => p.name === 'reboot' && b.segments.some((s) => s.id === p.segment));
      const next = boots[boots.indexOf(b) + 1];
      const nextIncoming = next && (sessionsByBoot.get(next.id) ?? []).some((s) => s.side === 'incoming');
      kexecOk.set(b.id, (reboot !== undefined && (reboot.result === null || reboot.result >= 0)) || Boolean(nextIncoming) || b.segments.some((s) => s.kexecOut));
    }

    // Pin windows with boot, session name and whether an open one is expected.
    const sessionByKey = new Map(allSessions.map((s) => [s.rec.key, s.rec]));
    const openWindows = this.pins.openWindows();
    const toJsonWindow = (w: PinWindow, open: boolean): PinWindowJson => {
      const boot = bootOfSeg.get(w.segment)?.id ?? 0;
      const s = w.session !== null ? sessionByKey.get(w.session) : undefined;
      return {
        module: w.module,
        boot,
        class: w.class,
        flow: w.flow,
        file: fileOf(w.src),
        getLine: w.getLine,
        getTime: w.getTime,
        getCallSite: w.getCallSite,
        getPid: w.getPid,
        getComm: w.getComm,
        putLine: w.putLine,
        putTime: w.putTime,
        putCallSite: w.putCallSite,
        session: s?.name ?? w.sessionName,
        sessionId: s ? (idOf.get(s.key) ?? null) : null,
        token: w.token,
        luoFunction: w.luoFunction,
        durationNs: w.durationNs,
        incomplete: w.incomplete,
        expectedOpen: open ? expectedOpenReason(w, s, kexecOk.get(boot) ?? false, this.sessions.liveCount(w.segment) > 0) : null,
      };
    };
    const windowsJson = [...this.pins.closed.map((w) => toJsonWindow(w, false)), ...openWindows.map((w) => toJsonWindow(w, true))];

    // Modules per boot (a boot may span several segments: concatenated dumps, console + trace).
    const modules: ModuleJson[] = [];
    for (const [boot, st, segIds] of mergeModuleStats(this.refcounts.modules(), bootOfSeg)) {
      const mine = windowsJson.filter((w) => w.module === st.module && w.boot === boot);
      const segOpen = openWindows.filter((w) => w.module === st.module && segIds.has(w.segment));
      const luoGets = Object.entries(st.getsBySite).filter(([s]) => classifyCallSite(s).startsWith('luo')).reduce((a, [, n]) => a + n, 0);
      const luoPuts = Object.entries(st.putsBySite).filter(([s]) => classifyCallSite(s).startsWith('luo')).reduce((a, [, n]) => a + n, 0);
      const vfsGets = Object.entries(st.getsBySite).filter(([s]) => classifyCallSite(s) === 'vfs').reduce((a, [, n]) => a + n, 0);
      const vfsPuts = Object.entries(st.putsBySite).filter(([s]) => classifyCallSite(s) === 'vfs').reduce((a, [, n]) => a + n, 0);
      const unmatched = this.pins.unmatched.filter((u) => u.module === st.module && segIds.has(u.segment));
      const regs = this.registry.registrations.filter((r) => r.module === st.module && r.action === 'register' && (r.ret === null || r.ret >= 0));
      modules.push({
        name: st.module,
        boot,
        gets: st.gets,
        puts: st.puts,
        getsBySite: st.getsBySite,
        putsBySite: st.putsBySite,
        luo: { gets: luoGets, puts: luoPuts },
        vfs: { gets: vfsGets, puts: vfsPuts },
        finalRefcnt: st.lastRefcnt,
        firstRefcnt: st.firstRefcnt,
        maxRefcnt: st.maxRefcnt,
        openPins: segOpen.filter((w) => w.class.startsWith('luo')).length,
        refcntMismatches: st.mismatches.map((m) => ({ file: fileOf(m.src), line: m.line, expected: m.expected, actual: m.actual, callSite: m.callSite })),
        refcntMismatchCount: st.mismatchCount,
        untracedLoadRefPuts: unmatched.filter((u) => u.reason === 'untraced-load-ref').length,
        putsWithoutGet: unmatched.filter((u) => u.reason !== 'untraced-load-ref').map((u) => ({ file: fileOf(u.src), line: u.line, callSite: u.callSite, reason: u.reason })),
        loaded: st.loadLines.map((line) => ({ file: fileOf(st.src), line })),
        freed: st.freeLines.map((line) => ({ file: fileOf(st.src), line, refcnt: st.refcntAtFree })),
        handlers: [...new Set(regs.filter((r) => r.what === 'file-handler' && r.handler).map((r) => r.handler as string))],
        flbs: [...new Set(regs.filter((r) => r.what === 'flb' && r.flb).map((r) => r.flb as string))],
        pinWindows: mine,
        pinWindowsOmitted: Math.max(0, st.gets - mine.length),
      });
    }
    modules.sort((a, b) => a.boot - b.boot || a.name.localeCompare(b.name));

    // Sessions as JSON.
    const phaseJson = (p: PhaseRecord): PhaseJson => ({
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
    });
    const probed = this.sessions.probedFunctions;
    const sessions: SessionJson[] = allSessions.map(({ rec, boot }, id) => {
      const pins = windowsJson.filter((w) => w.sessionId === id && w.class.startsWith('luo'));
      const phases = [...rec.phases].sort((a, b) => (a.start ?? a.end ?? 0) - (b.start ?? b.end ?? 0));
      return {
        id,
        name: rec.name,
        side: rec.side,
        boot,
        state: rec.state,
        outcome: outcomeOf(rec, kexecOk.get(boot) ?? false),
        fileSet: rec.fileSet,
        pid: rec.pid,
        comm: rec.comm,
        files: [...rec.files.values()],
        phases: phases.map(phaseJson),
        unseen: unseenPhases(rec, probed),
        pins: { taken: pins.length, released: pins.filter((w) => w.putLine !== null).length, open: pins.filter((w) => w.putLine === null).length },
        peer: peer.get(rec.key) ?? null,
      };
    });

    const bootsJson: BootJson[] = boots.map((b) => {
      const segIds = new Set(b.segments.map((s) => s.id));
      const mySessions = sessionsByBoot.get(b.id) ?? [];
      const hasOut = mySessions.some((s) => s.side === 'outgoing');
      // luo_open calls luo_session_deserialize on every boot; only sessions make a boot incoming.
      const hasIn = mySessions.some((s) => s.side === 'incoming');
      const reboot = this.sessions.globalPhases.find((p) => segIds.has(p.segment) && p.name === 'reboot');
      const times = b.segments.flatMap((s) => [s.firstTime, s.lastTime]).filter((t): t is number => t !== null);
      return {
        id: b.id,
        files: b.srcs.map(fileOf),
        role: hasOut && hasIn ? 'both' : hasOut ? 'outgoing' : hasIn ? 'incoming' : 'none',
        start: times.length ? Math.min(...times) : null,
        end: times.length ? Math.max(...times) : null,
        kexec: reboot ? { result: reboot.result, error: reboot.error, file: fileOf(reboot.src), line: reboot.line, durationNs: reboot.durationNs } : null,
        liveupdateNumber: b.segments.find((s) => s.liveupdateNumber !== null)?.liveupdateNumber ?? null,
        globalPhases: this.sessions.globalPhases.filter((p) => segIds.has(p.segment)).map(phaseJson),
        rmmod: this.refcounts.deletes
          .filter((d) => b.srcs.includes(d.src) && b.segments.some((s) => s.src === d.src && d.line >= s.firstLine && d.line <= s.lastLine))
          .map((d) => ({ module: d.module, file: fileOf(d.src), line: d.line, forced: d.forced, result: d.ret, error: d.error, refcntBefore: d.refcntBefore, comm: d.comm })),
        registrations: this.registry.registrations
          .filter((r) => segIds.has(r.segment))
          .map((r) => ({ action: r.action, what: r.what, handler: r.handler, flb: r.flb, module: r.module, file: fileOf(r.src), line: r.line, result: r.ret, error: r.error })),
      };
    });

    const phaseStats = this.sessions.phaseStatsWithLive().map((p) => ({
      phase: p.phase,
      count: p.count,
      errors: p.errors,
      totalNs: p.totalNs,
      minNs: p.count && Number.isFinite(p.minNs) ? p.minNs : null,
      maxNs: p.count ? p.maxNs : null,
      avgNs: p.count ? Math.round(p.totalNs / p.count) : null,
    }));
    const section: Omit<LuoSection, 'verdicts'> = {
      kernelModel: this.kernelModel(),
      boots: bootsJson,
      sessions,
      modules,
      sessionsOmitted: Object.fromEntries(this.sessions.omitted),
      phaseStats,
      probedFunctions: [...probed].sort(),
    };
    for (const note of [this.sessions.backwards.note('LUO phases', fileOf), this.pins.backwards.note('pin windows', fileOf)]) {
      if (note !== null && !ctx.quality.notes.includes(note)) ctx.quality.notes.push(note);
    }
    return { ...section, verdicts: buildVerdicts(section, ctx.quality) };
  }
}

/** Merge the per-segment refcount statistics of each (boot, module), in stream order. */
function mergeModuleStats(stats: ModuleStats[], bootOfSeg: Map<number, Boot>): Array<[number, ModuleStats, Set<number>]> {
  const merged = new Map<string, [number, ModuleStats, Set<number>]>();
  for (const st of [...stats].sort((a, b) => a.segment - b.segment)) {
    const boot = bootOfSeg.get(st.segment)?.id ?? 0;
    const key = `${boot}\u0000${st.module}`;
    const cur = merged.get(key);
    if (!cur) {
      merged.set(key, [boot, { ...st, getsBySite: nameTable(st.getsBySite), putsBySite: nameTable(st.putsBySite), mismatches: [...st.mismatches] }, new Set([st.segment])]);
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
    m.loadLines.push(...st.loadLines);
    m.freeLines.push(...st.freeLines);
    if (st.freeLines.length) m.refcntAtFree = st.refcntAtFree;
    m.mismatches.push(...st.mismatches.slice(0, Math.max(0, 20 - m.mismatches.length)));
    m.mismatchCount += st.mismatchCount;
  }
  return [...merged.values()];
}

function expectedOpenReason(w: PinWindow, s: SessionRecord | undefined, kexecOk: boolean, liveSessions: boolean): string | null {
  if (w.class === 'vfs') return 'a file of the module is still open (VFS reference, not a LUO pin)';
  if (w.class === 'luo-registration') return null;
  if (w.class === 'other' || w.class === 'module-loader') return 'not a LUO reference';
  // An FLB ref belongs to the FLB, not to the session whose file happened to be its first user: it is
  // dropped when the last dependent file of any session is unpreserved / finished (luo-model.md §1.4,
  // §4 "FLB owner"). While other sessions are live at the end of the trace, it may still be in use.
  if (w.class === 'luo-flb' && liveSessions && s && (s.state === 'aborted' || s.state === 'failed' || s.state === 'finished')) {
    return `FLB still in use: its ref is dropped with the last dependent file, and sessions other than ${s.name ?? `#${s.key}`} were live at the end of the trace`;
  }
  if (w.flow === 'outgoing') {
    if (s && (s.state === 'aborted' || s.state === 'failed')) return null;
    if (s?.state === 'frozen' || kexecOk) return 'held across kexec: the old kernel never drops it (luo-model.md §6 step 6)';
    if (!s && !liveSessions) return null;
    return 'session still open at the end of the trace';
  }
  // incoming
  if (s && s.state === 'finished') return null;
  if (s || liveSessions) return 'session not finished at the end of the trace';
  return null;
}

function outcomeOf(s: SessionRecord, kexecOk: boolean): string {
  switch (s.state) {
    case 'failed':
      return `failed (${s.phases.find((p) => p.error)?.error ?? 'error'})`;
    case 'aborted':
      return 'aborted: session fd closed before kexec, files unpreserved';
    case 'frozen':
      return 'frozen for kexec (preserved across the live update)';
    case 'finished':
      return s.finishedVia === 'ioctl' ? 'finished by the SESSION_FINISH ioctl' : s.finishedVia === 'close' ? 'finished implicitly when the session fd was closed' : 'finished';
    case 'open':
      return kexecOk ? 'held open into kexec (freeze not traced)' : 'still open at the end of the trace';
    case 'creating':
      return 'create still in progress at the end of the trace';
    case 'deserialized':
      return 'deserialized, never retrieved in the trace';
    case 'retrieved':
      return 'retrieved, not finished at the end of the trace';
  }
}

const PHASE_FUNCS: Record<string, string> = {
  create: 'luo_session_create',
  preserve: 'luo_preserve_file',
  unpreserve: 'luo_file_unpreserve_files',
  freeze: 'luo_file_freeze',
  deserialize: 'luo_file_deserialize',
  'retrieve-session': 'luo_session_retrieve',
  retrieve: 'luo_retrieve_file',
  finish: 'luo_file_finish',
};

function unseenPhases(s: SessionRecord, probed: Set<string>): string[] {
  const have = new Set(s.phases.map((p) => p.name));
  const want = s.side === 'outgoing' ? ['create', 'preserve', s.state === 'aborted' ? 'unpreserve' : 'freeze'] : ['deserialize', 'retrieve-session', 'retrieve', 'finish'];
  const out: string[] = [];
  for (const p of want) {
    if (have.has(p)) continue;
    const fn = PHASE_FUNCS[p];
    if (!probed.has(fn)) out.push(`${p}: ${fn} was not probed in these inputs`);
    else if ((p === 'create' || p === 'deserialize') && !s.seenFromStart) out.push(`${p}: happened before the trace started`);
    else if (p === 'freeze') out.push('freeze: not in these inputs (it runs inside `kexec -e`: add the console log captured with tp_printk)');
    else if (p === 'retrieve-session' || p === 'retrieve' || p === 'finish') out.push(`${p}: not seen before the end of the trace`);
    else out.push(`${p}: not seen`);
  }
  return out;
}
