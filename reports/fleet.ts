// Fleet summaries (issue #8): one small JSON document per host, mergeable into one fleet view.
//
// A host summary keeps what a fleet owner compares across machines: the verdicts, session counts
// and phase statistics, each module's final refcount and open pins, and the lock rows, plus the
// distributions behind the percentiles (serialized by analyses/locks/quantiles.ts: exact values while
// small, else the DDSketch bins). Merging is therefore exact where the inputs are (counts, totals,
// min/max, histograms, exact values) and within the sketch's stated relative error otherwise, and
// merging summaries gives the same figures as merging in memory, in any order: every merge below is
// a sum, a min/max or a distribution merge, and every list is sorted by a key that does not depend
// on the order hosts arrived in.
//
// Lock rows are keyed by lock name x type (`luo_register_rwlock` x `rwsem:W`). Locks the trace never
// named are known only by a hashed pointer (tracefs hashes %p per boot) or a KASLR-shifted address,
// which cannot be matched between hosts; they are grouped per type as `(unnamed)` already within a
// host, so a summary stays small however many anonymous locks a trace touched.
//
// Pure: no I/O. cli/fleet.ts reads the traces (in worker threads), cli/merge.ts reads summaries.
import { z } from 'zod';
import { PHASE_OF_FUNCTION } from '../analyses/kernel/phases.js';
import type { LockRow } from '../analyses/locks/locks.js';
import { Distribution, DistributionSummarySchema, HistogramBucketSchema, QUANTILE_METHOD, SerializedDistributionSchema, type SerializedDistribution } from '../analyses/locks/quantiles.js';
import { isLeakedPin, isPutMaybeLost } from '../analyses/luo/pin-kinds.js';
import { putsWithoutGetCount } from '../analyses/luo/schema.js';
import { addHostVerdict, type VerdictAcc, verdictEntry } from './fleet-verdicts.js';

import type { AnalysisResult } from '../analyses/report.js';
import { addCount, nameTable, own } from '../parsers/name-table.js';

// 2: percentiles by nearest rank and a quantileMethod per distribution summary (issue #19); a version 1
// document's per-host percentiles used a lower rank, so merge refuses it rather than mix the two.
export const SUMMARY_FORMAT_VERSION = 2;
export const UNNAMED_LOCK = '(unnamed)';

// ---- JSON contract -------------------------------------------------------------------------------

const ToolSchema = z.object({ name: z.literal('luotrace'), version: z.string() });
const Count = z.number().int().nonnegative();
const CountsSchema = z.record(z.string(), Count);

const HostVerdictSchema = z.object({
  id: z.string(),
  ok: z.boolean(),
  /** The verdict's outcome (analyses/luo/verdicts/verdict.ts); summaries written before it carry only `ok`. */
  status: z.enum(['pass', 'fail', 'inconclusive', 'n/a']).optional(),
  severity: z.enum(['error', 'warning', 'info']),
  message: z.string(),
});

const PhaseFiguresSchema = z.object({
  phase: z.string(),
  /** Every phase of every session (listed in the report or not): exact. */
  count: Count,
  errors: Count,
  totalNs: z.number(),
  minNs: z.number().nullable(),
  maxNs: z.number().nullable(),
  avgNs: z.number().nullable(),
  /** Percentiles over the timed phases of the sessions the analysis lists in full (all of them unless sessions were omitted: see sessions.omitted). */
  durations: DistributionSummarySchema,
});

const HostModuleSchema = z.object({
  name: z.string(),
  boot: z.number().int(),
  gets: Count,
  puts: Count,
  luoGets: Count,
  luoPuts: Count,
  firstRefcnt: z.number().int().nullable(),
  /** Last `refcnt=` seen (raw, MODULE_REF_BASE included: 1 = idle). */
  finalRefcnt: z.number().int().nullable(),
  maxRefcnt: z.number().int().nullable(),
  /** LUO pins still held at the end of the input. */
  openPins: Count,
  /** Open LUO pins no session explains (not held across kexec) and no lost events could explain: leaks the trace proves. */
  leakedPins: Count,
  refcntMismatches: Count,
  putsWithoutGet: Count,
});

const LockFiguresSchema = z.object({
  /** `name|type`; unnamed locks: `(unnamed)|type`. */
  key: z.string(),
  /** Lock name; null for the group of unnamed locks. */
  name: z.string().nullable(),
  mode: z.string(),
  type: z.string(),
  lockType: z.string(),
  luoRole: z.string().nullable(),
  /** `analyze` lock rows merged into this one, and the lock instances behind them. */
  rows: Count,
  instances: Count,
  acquisitions: Count,
  contended: Count,
  slept: Count,
  failed: Count,
  trylockFailed: Count,
  wait: DistributionSummarySchema,
  hold: DistributionSummarySchema,
  /** Intervals cut by trace edges, lost events or clock skew (never in the statistics). */
  incomplete: z.object({ waits: CountsSchema, holds: CountsSchema }),
});
export type LockFigures = z.infer<typeof LockFiguresSchema>;

export const HostEntrySchema = z.object({
  host: z.string(),
  /** Trace files analyzed for this host, in the order they were read. */
  inputs: z.array(z.string()),
  /** Why the host could not be analyzed (unreadable input, no trace format recognized...); null when it was. */
  error: z.string().nullable(),
  sources: z.array(
    z.object({
      file: z.string(),
      format: z.string(),
      lines: Count,
      events: Count,
      firstTime: z.number().nullable(),
      lastTime: z.number().nullable(),
      timeUnit: z.enum(['ns', 'tick']),
    }),
  ),
  kernelModel: z.string().nullable(),
  verdicts: z.array(HostVerdictSchema),
  /** Verdicts that failed with severity error. */
  failed: z.array(z.string()),
  boots: Count,
  sessions: z.object({ total: Count, listed: Count, omitted: Count, byState: CountsSchema, bySide: CountsSchema }),
  phases: z.array(PhaseFiguresSchema),
  modules: z.array(HostModuleSchema),
  locks: z.array(LockFiguresSchema),
  dataQuality: z.object({
    lines: Count,
    events: Count,
    skipped: Count,
    lostEvents: Count,
    lostMarkers: Count,
    truncated: z.boolean(),
    incomplete: z.boolean(),
    notes: z.array(z.string()),
  }),
});
export type HostEntry = z.infer<typeof HostEntrySchema>;

const HostDistributionsSchema = z.object({
  /** Per phase name: the durations behind phases[].durations. */
  phases: z.record(z.string(), SerializedDistributionSchema),
  /** Per lock key: the waits and holds behind locks[].wait/hold. */
  locks: z.record(z.string(), z.object({ wait: SerializedDistributionSchema, hold: SerializedDistributionSchema })),
});

export const HostSummarySchema = z.object({
  kind: z.literal('luotrace-host-summary'),
  formatVersion: z.literal(SUMMARY_FORMAT_VERSION),
  tool: ToolSchema,
  ...HostEntrySchema.shape,
  /** What `luotrace merge` needs to merge percentiles: see quantileMethod of a fleet summary. */
  distributions: HostDistributionsSchema,
});
export type HostSummary = z.infer<typeof HostSummarySchema>;

const FleetVerdictSchema = z.object({
  id: z.string(),
  /** Hosts where the rule held with nothing to look at. */
  pass: Count,
  /** Hosts where it was a warning: something to look at (e.g. phase errors an abort test provokes on purpose). */
  warn: Count,
  /** Hosts where the rule failed. */
  fail: Count,
  /** The most severe outcome: error when some host failed, warning when some warned, else info. */
  severity: z.enum(['error', 'warning', 'info']),
  failingHosts: z.array(z.string()),
  warningHosts: z.array(z.string()),
  /** Hosts where the data it needs may be missing, and hosts with nothing to judge: neither pass nor fail. */
  inconclusive: Count.default(0),
  inconclusiveHosts: z.array(z.string()).default([]),
  notApplicable: Count.default(0),
  /** The message of the first failing host by name (else of the first warning host, else inconclusive), as an example. */
  example: z.object({ host: z.string(), message: z.string() }).nullable(),
});

const FleetPhaseSchema = PhaseFiguresSchema.extend({
  hosts: Count,
  distribution: SerializedDistributionSchema,
});

const FleetModuleSchema = z.object({
  name: z.string(),
  hosts: Count,
  gets: Count,
  puts: Count,
  luoGets: Count,
  luoPuts: Count,
  openPins: Count,
  leakedPins: Count,
  hostsWithLeakedPins: z.array(z.string()),
  hostsWithRefcntMismatches: z.array(z.string()),
  hostsWithPutsWithoutGet: z.array(z.string()),
});

const FleetLockSchema = LockFiguresSchema.extend({
  hosts: Count,
  waitHistogram: z.array(HistogramBucketSchema),
  holdHistogram: z.array(HistogramBucketSchema),
  /** The host with the longest single wait on this lock. */
  worstWait: z.object({ host: z.string(), maxNs: z.number() }).nullable(),
  distributions: z.object({ wait: SerializedDistributionSchema, hold: SerializedDistributionSchema }),
});

export const FleetViewSchema = z.object({
  hosts: Count,
  analyzed: Count,
  unusable: z.array(z.object({ host: z.string(), error: z.string() })),
  verdicts: z.array(FleetVerdictSchema),
  /** Hosts per kernel model id ("unknown" when no model could be told). */
  kernelModels: CountsSchema,
  sessions: z.object({ total: Count, omitted: Count, byState: CountsSchema, bySide: CountsSchema }),
  phases: z.array(FleetPhaseSchema),
  modules: z.array(FleetModuleSchema),
  locks: z.array(FleetLockSchema),
  dataQuality: z.object({
    lines: Count,
    events: Count,
    skipped: Count,
    lostEvents: Count,
    hostsWithLostEvents: z.array(z.string()),
    hostsTruncated: z.array(z.string()),
  }),
  quantileMethod: z.string(),
});
export type FleetView = z.infer<typeof FleetViewSchema>;

export const FleetSummarySchema = z.object({
  kind: z.literal('luotrace-fleet-summary'),
  formatVersion: z.literal(SUMMARY_FORMAT_VERSION),
  tool: ToolSchema,
  /** Every host, by name; the distributions are merged into `fleet` and not repeated per host. */
  hosts: z.array(HostEntrySchema),
  fleet: FleetViewSchema,
});
export type FleetSummary = z.infer<typeof FleetSummarySchema>;

// ---- one host --------------------------------------------------------------------------------------

const add = addCount;
const sumValues = (rec: Record<string, number>): number => Object.values(rec).reduce((a, b) => a + b, 0);

export function lockKey(name: string | null, type: string): string {
  return `${name ?? UNNAMED_LOCK}|${type}`;
}

/** Lock figures and their distributions, accumulated (rows of one host, or the same lock on many hosts). */
class LockAcc {
  rows = 0;
  instances = 0;
  acquisitions = 0;
  contended = 0;
  slept = 0;
  failed = 0;
  trylockFailed = 0;
  readonly incompleteWaits = nameTable<number>();
  readonly incompleteHolds = nameTable<number>();
  readonly wait = new Distribution();
  readonly hold = new Distribution();
  hosts = 0;
  worstWait: { host: string; maxNs: number } | null = null;
  constructor(
    readonly key: string,
    readonly name: string | null,
    readonly mode: string,
    readonly type: string,
    public lockType: string,
    public luoRole: string | null,
  ) {}

  addFigures(f: LockFigures, wait: Distribution, hold: Distribution): void {
    this.rows += f.rows;
    this.instances += f.instances;
    this.acquisitions += f.acquisitions;
    this.contended += f.contended;
    this.slept += f.slept;
    this.failed += f.failed;
    this.trylockFailed += f.trylockFailed;
    for (const [k, n] of Object.entries(f.incomplete.waits)) add(this.incompleteWaits, k, n);
    for (const [k, n] of Object.entries(f.incomplete.holds)) add(this.incompleteHolds, k, n);
    this.wait.merge(wait);
    this.hold.merge(hold);
    // Rows of one key normally agree; if not, a rule that ignores arrival order (merges commute).
    if (f.lockType !== 'unknown' && (this.lockType === 'unknown' || f.lockType < this.lockType)) this.lockType = f.lockType;
    if (f.luoRole !== null && (this.luoRole === null || f.luoRole < this.luoRole)) this.luoRole = f.luoRole;
  }

  figures(): LockFigures {
    return {
      key: this.key,
      name: this.name,
      mode: this.mode,
      type: this.type,
      lockType: this.lockType,
      luoRole: this.luoRole,
      rows: this.rows,
      instances: this.instances,
      acquisitions: this.acquisitions,
      contended: this.contended,
      slept: this.slept,
      failed: this.failed,
      trylockFailed: this.trylockFailed,
      wait: this.wait.summary(),
      hold: this.hold.summary(),
      incomplete: { waits: sortedRecord(this.incompleteWaits), holds: sortedRecord(this.incompleteHolds) },
    };
  }
}

export function sortedRecord(rec: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(rec).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export const byLockWeight = (a: { wait: { total: number }; contended: number; acquisitions: number; key: string }, b: typeof a): number =>
  b.wait.total - a.wait.total || b.contended - a.contended || b.acquisitions - a.acquisitions || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

function rowFigures(r: LockRow): LockFigures {
  return {
    key: lockKey(r.name, r.type),
    name: r.name,
    mode: r.mode,
    type: r.type,
    lockType: r.lockType,
    luoRole: r.luo?.role ?? null,
    rows: 1,
    instances: r.instances,
    acquisitions: r.acquisitions,
    contended: r.contended,
    slept: r.slept,
    failed: r.failed,
    trylockFailed: r.trylockFailed,
    wait: r.wait,
    hold: r.hold,
    incomplete: { waits: { ...r.incomplete.waits }, holds: { ...r.incomplete.holds } },
  };
}

/**
 * The summary of one host's analysis: the report with the distributions behind its lock rows
 * (runAnalysisWithDistributions), in memory or read back from JSON.
 */
export function buildHostSummary(host: string, inputs: string[], { report, lockDistributions }: AnalysisResult): HostSummary {
  const byState = nameTable<number>();
  const bySide = nameTable<number>();
  for (const s of report.sessions) {
    add(byState, s.state);
    add(bySide, s.side);
  }
  const omitted = sumValues(report.sessionsOmitted);
  for (const [state, n] of Object.entries(report.sessionsOmitted)) add(byState, state, n);

  // Phase percentiles: the durations of the listed sessions' phases (phaseStats has only sums).
  const phaseDists = new Map<string, Distribution>();
  for (const s of report.sessions) {
    for (const p of s.phases) {
      if (p.durationNs === null || !(p.durationNs >= 0)) continue;
      let d = phaseDists.get(p.name);
      if (!d) phaseDists.set(p.name, (d = new Distribution()));
      d.add(p.durationNs);
    }
  }
  const phases = report.phaseStats.map((st) => ({
    phase: st.phase,
    count: st.count,
    errors: st.errors,
    totalNs: st.totalNs,
    minNs: st.minNs,
    maxNs: st.maxNs,
    avgNs: st.avgNs,
    durations: (phaseDists.get(st.phase) ?? new Distribution()).summary(),
  }));

  const modules = report.modules.map((m) => ({
    name: m.name,
    boot: m.boot,
    gets: m.gets,
    puts: m.puts,
    luoGets: m.luo.gets,
    luoPuts: m.luo.puts,
    firstRefcnt: m.firstRefcnt,
    finalRefcnt: m.finalRefcnt,
    maxRefcnt: m.maxRefcnt,
    openPins: m.openPins,
    // A pin whose put may be among lost events is no leak the trace proves (the pins verdict: inconclusive).
    leakedPins: m.pinWindows.filter((w) => isLeakedPin(w) && !isPutMaybeLost(w)).length,
    refcntMismatches: m.refcntMismatchCount,
    putsWithoutGet: putsWithoutGetCount(m),
  }));

  // Lock rows merged by name x type (unnamed ones by type), with their distributions.
  if (lockDistributions.length !== report.locks.length) throw new Error(`${report.locks.length} lock rows but ${lockDistributions.length} distributions: not made with this report`);
  const locks = new Map<string, LockAcc>();
  report.locks.forEach((r, i) => {
    const f = rowFigures(r);
    let acc = locks.get(f.key);
    if (!acc) locks.set(f.key, (acc = new LockAcc(f.key, f.name, f.mode, f.type, f.lockType, f.luoRole)));
    acc.addFigures(f, Distribution.deserialize(lockDistributions[i].wait), Distribution.deserialize(lockDistributions[i].hold));
  });
  const lockAccs = [...locks.values()].map((a) => ({ acc: a, fig: a.figures() })).sort((x, y) => byLockWeight(x.fig, y.fig));

  const q = report.dataQuality;
  const lostEvents = Object.values(q.lost).reduce((a, l) => a + l.events, 0);
  const lostMarkers = Object.values(q.lost).reduce((a, l) => a + l.markers, 0);
  return {
    kind: 'luotrace-host-summary',
    formatVersion: SUMMARY_FORMAT_VERSION,
    tool: report.tool,
    host,
    inputs,
    error: null,
    sources: report.sources.map((s) => ({ file: s.file, format: s.format, lines: s.lines, events: s.events, firstTime: s.firstTime, lastTime: s.lastTime, timeUnit: s.timeUnit })),
    kernelModel: report.kernelModel.id,
    verdicts: report.verdicts.map((v) => ({ id: v.id, ok: v.ok, status: v.status, severity: v.severity, message: v.message })),
    failed: report.verdicts.filter((v) => !v.ok && v.severity === 'error').map((v) => v.id),
    boots: report.boots.length,
    sessions: { total: report.sessions.length + omitted, listed: report.sessions.length, omitted, byState: sortedRecord(byState), bySide: sortedRecord(bySide) },
    phases,
    modules,
    locks: lockAccs.map((x) => x.fig),
    dataQuality: {
      lines: q.lines.total,
      events: q.lines.events,
      skipped: sumValues(q.lines.skipped),
      lostEvents,
      lostMarkers,
      truncated: q.truncated,
      incomplete: q.incomplete,
      notes: q.notes.slice(0, 10),
    },
    distributions: {
      phases: Object.fromEntries([...phaseDists].map(([k, d]) => [k, d.serialize()])),
      locks: Object.fromEntries(lockAccs.map((x) => [x.acc.key, { wait: x.acc.wait.serialize(), hold: x.acc.hold.serialize() }])),
    },
  };
}

/** A host whose traces could not be analyzed: listed with the reason, counted nowhere else. */
export function unusableHost(host: string, inputs: string[], error: string, tool: HostSummary['tool']): HostSummary {
  return {
    kind: 'luotrace-host-summary',
    formatVersion: SUMMARY_FORMAT_VERSION,
    tool,
    host,
    inputs,
    error,
    sources: [],
    kernelModel: null,
    verdicts: [],
    failed: [],
    boots: 0,
    sessions: { total: 0, listed: 0, omitted: 0, byState: {}, bySide: {} },
    phases: [],
    modules: [],
    locks: [],
    dataQuality: { lines: 0, events: 0, skipped: 0, lostEvents: 0, lostMarkers: 0, truncated: false, incomplete: false, notes: [] },
    distributions: { phases: {}, locks: {} },
  };
}

/** The host part of a summary, without its distributions (what a fleet summary lists per host). */
export function hostEntry(h: HostSummary): HostEntry {
  const { kind: _k, formatVersion: _v, tool: _t, distributions: _d, ...entry } = h;
  return entry;
}

// ---- many hosts ----------------------------------------------------------------------------------

/** A document merge cannot use, with the reason (the CLI turns it into a one-line input error). */
export class SummaryMergeError extends Error {}

const SEVERITY_RANK = { info: 0, warning: 1, error: 2 } as const;
type Severity = keyof typeof SEVERITY_RANK;



interface PhaseAcc {
  phase: string;
  hosts: number;
  count: number;
  errors: number;
  totalNs: number;
  minNs: number | null;
  maxNs: number | null;
  durations: Distribution;
}

interface ModuleAcc {
  name: string;
  hosts: Set<string>;
  gets: number;
  puts: number;
  luoGets: number;
  luoPuts: number;
  openPins: number;
  leakedPins: number;
  leaking: Set<string>;
  mismatching: Set<string>;
  putsWithoutGet: Set<string>;
}

// Orders that depend only on merged figures, so any merge order gives the same document: verdicts
// that failed somewhere first (errors, then warnings), then by id; phases in lifecycle order.
export const severityOf = (v: VerdictAcc): Severity => (v.failing.length ? 'error' : v.warning.length ? 'warning' : 'info');
export const byVerdictWeight = (a: VerdictAcc, b: VerdictAcc): number =>
  SEVERITY_RANK[severityOf(b)] - SEVERITY_RANK[severityOf(a)] || b.failing.length - a.failing.length || b.warning.length - a.warning.length || byName(a.id, b.id);
const LIFECYCLE = [...new Set(Object.values(PHASE_OF_FUNCTION))];
export const phaseRank = (p: string): number => {
  const i = LIFECYCLE.indexOf(p as (typeof LIFECYCLE)[number]);
  return i < 0 ? LIFECYCLE.length : i;
};
const minNull = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));
const maxNull = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));
export const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function deserialize(what: string, s: SerializedDistribution): Distribution {
  try {
    return Distribution.deserialize(s);
  } catch (e) {
    throw new SummaryMergeError(`${what}: ${(e as Error).message}`);
  }
}

/**
 * Merges host summaries and fleet summaries into one fleet summary. Host names must be unique
 * across everything added: merging a host twice would count it twice.
 */
export class FleetAccumulator {
  private readonly hosts = new Map<string, HostEntry>();
  private readonly verdicts = new Map<string, VerdictAcc>();
  private readonly models = nameTable<number>();
  private readonly sessions = { total: 0, omitted: 0, byState: nameTable<number>(), bySide: nameTable<number>() };
  private readonly phases = new Map<string, PhaseAcc>();
  private readonly modules = new Map<string, ModuleAcc>();
  private readonly locks = new Map<string, LockAcc>();
  private readonly quality = { lines: 0, events: 0, skipped: 0, lostEvents: 0, lost: new Set<string>(), truncated: new Set<string>() };
  private unusable: Array<{ host: string; error: string }> = [];

  constructor(private readonly tool: HostSummary['tool']) {}

  private claim(entries: HostEntry[], from: string): void {
    for (const e of entries) {
      if (this.hosts.has(e.host)) throw new SummaryMergeError(`host ${e.host} appears twice (again in ${from}); merging it twice would count it twice`);
    }
    for (const e of entries) this.hosts.set(e.host, e);
  }

  private verdict(id: string): VerdictAcc {
    let v = this.verdicts.get(id);
    if (!v) this.verdicts.set(id, (v = { id, pass: 0, failing: [], warning: [], inconclusive: [], notApplicable: 0 }));
    return v;
  }

  private phase(name: string): PhaseAcc {
    let p = this.phases.get(name);
    if (!p) this.phases.set(name, (p = { phase: name, hosts: 0, count: 0, errors: 0, totalNs: 0, minNs: null, maxNs: null, durations: new Distribution() }));
    return p;
  }

  private module(name: string): ModuleAcc {
    let m = this.modules.get(name);
    if (!m) {
      this.modules.set(
        name,
        (m = { name, hosts: new Set(), gets: 0, puts: 0, luoGets: 0, luoPuts: 0, openPins: 0, leakedPins: 0, leaking: new Set(), mismatching: new Set(), putsWithoutGet: new Set() }),
      );
    }
    return m;
  }

  private lock(f: LockFigures): LockAcc {
    let l = this.locks.get(f.key);
    if (!l) this.locks.set(f.key, (l = new LockAcc(f.key, f.name, f.mode, f.type, f.lockType, f.luoRole)));
    return l;
  }

  /** Add one host (as written by `luotrace fleet --out-dir` or `luotrace host-summary`). */
  addHost(h: HostSummary, from = h.host): void {
    this.claim([hostEntry(h)], from);
    if (h.error !== null) {
      this.unusable.push({ host: h.host, error: h.error });
      return;
    }
    h.verdicts.forEach((v) => addHostVerdict(this.verdict(v.id), h.host, v));
    add(this.models, h.kernelModel ?? 'unknown');
    this.sessions.total += h.sessions.total;
    this.sessions.omitted += h.sessions.omitted;
    for (const [k, n] of Object.entries(h.sessions.byState)) add(this.sessions.byState, k, n);
    for (const [k, n] of Object.entries(h.sessions.bySide)) add(this.sessions.bySide, k, n);
    h.phases.forEach((p) => {
      const acc = this.phase(p.phase);
      acc.hosts++;
      acc.count += p.count;
      acc.errors += p.errors;
      acc.totalNs += p.totalNs;
      acc.minNs = minNull(acc.minNs, p.minNs);
      acc.maxNs = maxNull(acc.maxNs, p.maxNs);
      const d = own(h.distributions.phases, p.phase);
      if (d) acc.durations.merge(deserialize(`${from}: phase ${p.phase}`, d));
      else if (p.durations.count > 0) throw new SummaryMergeError(`${from}: phase ${p.phase} has no distribution`);
    });
    for (const m of h.modules) {
      const acc = this.module(m.name);
      acc.hosts.add(h.host);
      acc.gets += m.gets;
      acc.puts += m.puts;
      acc.luoGets += m.luoGets;
      acc.luoPuts += m.luoPuts;
      acc.openPins += m.openPins;
      acc.leakedPins += m.leakedPins;
      if (m.leakedPins > 0) acc.leaking.add(h.host);
      if (m.refcntMismatches > 0) acc.mismatching.add(h.host);
      if (m.putsWithoutGet > 0) acc.putsWithoutGet.add(h.host);
    }
    for (const f of h.locks) {
      const d = own(h.distributions.locks, f.key);
      if (!d) throw new SummaryMergeError(`${from}: lock ${f.key} has no distributions`);
      const acc = this.lock(f);
      acc.addFigures(f, deserialize(`${from}: lock ${f.key} waits`, d.wait), deserialize(`${from}: lock ${f.key} holds`, d.hold));
      acc.hosts++;
      if (f.wait.max !== null && (acc.worstWait === null || f.wait.max > acc.worstWait.maxNs || (f.wait.max === acc.worstWait.maxNs && h.host < acc.worstWait.host))) {
        acc.worstWait = { host: h.host, maxNs: f.wait.max };
      }
    }
    const q = h.dataQuality;
    this.quality.lines += q.lines;
    this.quality.events += q.events;
    this.quality.skipped += q.skipped;
    this.quality.lostEvents += q.lostEvents;
    if (q.lostMarkers > 0) this.quality.lost.add(h.host);
    if (q.truncated) this.quality.truncated.add(h.host);
  }

  /** Add a whole fleet summary: its hosts are listed, its merged view is merged. */
  addFleet(f: FleetSummary, from: string): void {
    this.claim(f.hosts, from);
    const v = f.fleet;
    this.unusable.push(...v.unusable);
    v.verdicts.forEach((fv) => {
      const acc = this.verdict(fv.id);
      acc.pass += fv.pass;
      // The fleet kept one example message; the host entries hold every host's own message.
      const message = (host: string): string => this.hosts.get(host)?.verdicts.find((x) => x.id === fv.id)?.message ?? '';
      for (const host of fv.failingHosts) acc.failing.push({ host, message: message(host) });
      for (const host of fv.warningHosts) acc.warning.push({ host, message: message(host) });
      for (const host of fv.inconclusiveHosts) acc.inconclusive.push({ host, message: message(host) });
      acc.notApplicable += fv.notApplicable;
    });
    for (const [k, n] of Object.entries(v.kernelModels)) add(this.models, k, n);
    this.sessions.total += v.sessions.total;
    this.sessions.omitted += v.sessions.omitted;
    for (const [k, n] of Object.entries(v.sessions.byState)) add(this.sessions.byState, k, n);
    for (const [k, n] of Object.entries(v.sessions.bySide)) add(this.sessions.bySide, k, n);
    v.phases.forEach((p) => {
      const acc = this.phase(p.phase);
      acc.hosts += p.hosts;
      acc.count += p.count;
      acc.errors += p.errors;
      acc.totalNs += p.totalNs;
      acc.minNs = minNull(acc.minNs, p.minNs);
      acc.maxNs = maxNull(acc.maxNs, p.maxNs);
      acc.durations.merge(deserialize(`${from}: phase ${p.phase}`, p.distribution));
    });
    for (const m of v.modules) {
      const acc = this.module(m.name);
      // Which hosts had the module: from the host entries (the fleet view keeps only a count).
      for (const h of f.hosts) if (h.modules.some((x) => x.name === m.name)) acc.hosts.add(h.host);
      acc.gets += m.gets;
      acc.puts += m.puts;
      acc.luoGets += m.luoGets;
      acc.luoPuts += m.luoPuts;
      acc.openPins += m.openPins;
      acc.leakedPins += m.leakedPins;
      for (const h of m.hostsWithLeakedPins) acc.leaking.add(h);
      for (const h of m.hostsWithRefcntMismatches) acc.mismatching.add(h);
      for (const h of m.hostsWithPutsWithoutGet) acc.putsWithoutGet.add(h);
    }
    for (const l of v.locks) {
      const acc = this.lock(l);
      acc.addFigures(l, deserialize(`${from}: lock ${l.key} waits`, l.distributions.wait), deserialize(`${from}: lock ${l.key} holds`, l.distributions.hold));
      acc.hosts += l.hosts;
      const w = l.worstWait;
      if (w && (acc.worstWait === null || w.maxNs > acc.worstWait.maxNs || (w.maxNs === acc.worstWait.maxNs && w.host < acc.worstWait.host))) acc.worstWait = { ...w };
    }
    const q = v.dataQuality;
    this.quality.lines += q.lines;
    this.quality.events += q.events;
    this.quality.skipped += q.skipped;
    this.quality.lostEvents += q.lostEvents;
    for (const h of q.hostsWithLostEvents) this.quality.lost.add(h);
    for (const h of q.hostsTruncated) this.quality.truncated.add(h);
  }

  finish(): FleetSummary {
    const hosts = [...this.hosts.values()].sort((a, b) => byName(a.host, b.host));
    const verdicts = [...this.verdicts.values()]
      .sort(byVerdictWeight)
      .map((v) => verdictEntry(v, severityOf(v)));
    const phases = [...this.phases.values()]
      .sort((a, b) => phaseRank(a.phase) - phaseRank(b.phase) || byName(a.phase, b.phase))
      .map((p) => ({
        phase: p.phase,
        hosts: p.hosts,
        count: p.count,
        errors: p.errors,
        totalNs: p.totalNs,
        minNs: p.minNs,
        maxNs: p.maxNs,
        avgNs: p.count ? Math.round(p.totalNs / p.count) : null,
        durations: p.durations.summary(),
        distribution: p.durations.serialize(),
      }));
    const sortedNames = (s: Set<string>): string[] => [...s].sort(byName);
    const modules = [...this.modules.values()]
      .sort((a, b) => byName(a.name, b.name))
      .map((m) => ({
        name: m.name,
        hosts: m.hosts.size,
        gets: m.gets,
        puts: m.puts,
        luoGets: m.luoGets,
        luoPuts: m.luoPuts,
        openPins: m.openPins,
        leakedPins: m.leakedPins,
        hostsWithLeakedPins: sortedNames(m.leaking),
        hostsWithRefcntMismatches: sortedNames(m.mismatching),
        hostsWithPutsWithoutGet: sortedNames(m.putsWithoutGet),
      }));
    const locks = [...this.locks.values()]
      .map((l) => ({
        ...l.figures(),
        hosts: l.hosts,
        waitHistogram: l.wait.histogram(),
        holdHistogram: l.hold.histogram(),
        worstWait: l.worstWait,
        distributions: { wait: l.wait.serialize(), hold: l.hold.serialize() },
      }))
      .sort(byLockWeight);
    return {
      kind: 'luotrace-fleet-summary',
      formatVersion: SUMMARY_FORMAT_VERSION,
      tool: this.tool,
      hosts,
      fleet: {
        hosts: hosts.length,
        analyzed: hosts.filter((h) => h.error === null).length,
        unusable: [...this.unusable].sort((a, b) => byName(a.host, b.host)),
        verdicts,
        kernelModels: sortedRecord(this.models),
        sessions: { total: this.sessions.total, omitted: this.sessions.omitted, byState: sortedRecord(this.sessions.byState), bySide: sortedRecord(this.sessions.bySide) },
        phases,
        modules,
        locks,
        dataQuality: {
          lines: this.quality.lines,
          events: this.quality.events,
          skipped: this.quality.skipped,
          lostEvents: this.quality.lostEvents,
          hostsWithLostEvents: sortedNames(this.quality.lost),
          hostsTruncated: sortedNames(this.quality.truncated),
        },
        quantileMethod: `${QUANTILE_METHOD}; merged across hosts from each host's exact values or sketch bins (merging adds no error beyond the sketch's)`,
      },
    };
  }
}

/** Merge any mix of host and fleet summaries (already validated). */
export function mergeSummaries(docs: Array<{ from: string; doc: HostSummary | FleetSummary }>, tool: HostSummary['tool']): FleetSummary {
  const acc = new FleetAccumulator(tool);
  for (const { from, doc } of docs) {
    if (doc.kind === 'luotrace-host-summary') acc.addHost(doc, from);
    else acc.addFleet(doc, from);
  }
  return acc.finish();
}
