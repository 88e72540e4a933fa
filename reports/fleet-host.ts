// Fleet summaries, one host: the small JSON document made from one host's analysis report (see
// fleet.ts for what a summary keeps and why every merge is order-independent).
import { type LockRow, lockRowDistributions } from '../analyses/locks/locks.js';
import { Distribution } from '../analyses/locks/quantiles.js';
import type { AnalyzeReport } from '../analyses/report.js';
import { type HostEntry, type HostSummary, type LockFigures, SUMMARY_FORMAT_VERSION, UNNAMED_LOCK } from './fleet-schema.js';

export const add = (rec: Record<string, number>, k: string, n = 1): void => {
  rec[k] = (rec[k] ?? 0) + n;
};
const sumValues = (rec: Record<string, number>): number => Object.values(rec).reduce((a, b) => a + b, 0);

export function lockKey(name: string | null, type: string): string {
  return `${name ?? UNNAMED_LOCK}|${type}`;
}

/** Lock figures and their distributions, accumulated (rows of one host, or the same lock on many hosts). */
export class LockAcc {
  rows = 0;
  instances = 0;
  acquisitions = 0;
  contended = 0;
  slept = 0;
  failed = 0;
  trylockFailed = 0;
  readonly incompleteWaits: Record<string, number> = {};
  readonly incompleteHolds: Record<string, number> = {};
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
 * The summary of one host's analysis. `report` must come from runAnalysis in this process: the
 * lock rows' distributions travel beside the JSON report (lockRowDistributions), not in it.
 */
export function buildHostSummary(host: string, inputs: string[], report: AnalyzeReport): HostSummary {
  const byState: Record<string, number> = {};
  const bySide: Record<string, number> = {};
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
    leakedPins: m.pinWindows.filter((w) => (w.class === 'luo-file' || w.class === 'luo-flb') && w.putLine === null && w.expectedOpen === null).length,
    refcntMismatches: m.refcntMismatchCount,
    putsWithoutGet: m.putsWithoutGet.length,
  }));

  // Lock rows merged by name x type (unnamed ones by type), with their distributions.
  const locks = new Map<string, LockAcc>();
  for (const r of report.locks) {
    const f = rowFigures(r);
    const dist = lockRowDistributions(r);
    if (!dist) throw new Error(`lock row ${f.key} has no distributions: the report was not made by runAnalysis in this process`);
    let acc = locks.get(f.key);
    if (!acc) locks.set(f.key, (acc = new LockAcc(f.key, f.name, f.mode, f.type, f.lockType, f.luoRole)));
    acc.addFigures(f, dist.wait, dist.hold);
  }
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
    verdicts: report.verdicts.map((v) => ({ id: v.id, ok: v.ok, severity: v.severity, message: v.message })),
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
