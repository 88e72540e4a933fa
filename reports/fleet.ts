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
//
// The contract is fleet-schema.ts, one host's summary fleet-host.ts; this file merges them.
import { PHASE_OF_FUNCTION } from '../analyses/kernel/kernel-models.js';
import { Distribution, QUANTILE_METHOD, type SerializedDistribution } from '../analyses/locks/quantiles.js';
import { add, byLockWeight, hostEntry, LockAcc, sortedRecord } from './fleet-host.js';
import {
  type FleetSummary,
  type HostEntry,
  type HostSummary,
  type LockFigures,
  SUMMARY_FORMAT_VERSION,
} from './fleet-schema.js';

export * from './fleet-schema.js';
export { buildHostSummary, hostEntry, lockKey, unusableHost } from './fleet-host.js';

// ---- many hosts ----------------------------------------------------------------------------------

/** A document merge cannot use, with the reason (the CLI turns it into a one-line input error). */
export class SummaryMergeError extends Error {}

const SEVERITY_RANK = { info: 0, warning: 1, error: 2 } as const;
type Severity = keyof typeof SEVERITY_RANK;

interface VerdictAcc {
  id: string;
  pass: number;
  failing: Array<{ host: string; message: string }>;
  warning: Array<{ host: string; message: string }>;
}

/** A host's verdict in the fleet's three outcomes (analyses/luo/verdicts.ts: ok + severity). */
function outcome(v: { ok: boolean; severity: Severity }): 'pass' | 'warn' | 'fail' {
  if (v.severity === 'warning') return 'warn';
  return v.ok ? 'pass' : 'fail';
}

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
const severityOf = (v: VerdictAcc): Severity => (v.failing.length ? 'error' : v.warning.length ? 'warning' : 'info');
const byVerdictWeight = (a: VerdictAcc, b: VerdictAcc): number =>
  SEVERITY_RANK[severityOf(b)] - SEVERITY_RANK[severityOf(a)] || b.failing.length - a.failing.length || b.warning.length - a.warning.length || byName(a.id, b.id);
const LIFECYCLE = [...new Set(Object.values(PHASE_OF_FUNCTION))];
const phaseRank = (p: string): number => {
  const i = LIFECYCLE.indexOf(p as (typeof LIFECYCLE)[number]);
  return i < 0 ? LIFECYCLE.length : i;
};
const minNull = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));
const maxNull = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

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
  private readonly models: Record<string, number> = {};
  private readonly sessions = { total: 0, omitted: 0, byState: {} as Record<string, number>, bySide: {} as Record<string, number> };
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
    if (!v) this.verdicts.set(id, (v = { id, pass: 0, failing: [], warning: [] }));
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
    h.verdicts.forEach((v) => {
      const acc = this.verdict(v.id);
      const o = outcome(v);
      if (o === 'pass') acc.pass++;
      else (o === 'fail' ? acc.failing : acc.warning).push({ host: h.host, message: v.message });
    });
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
      const d = h.distributions.phases[p.phase];
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
      const d = h.distributions.locks[f.key];
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
      .map((v) => {
        const failing = [...v.failing].sort((a, b) => byName(a.host, b.host));
        const warning = [...v.warning].sort((a, b) => byName(a.host, b.host));
        return {
          id: v.id,
          pass: v.pass,
          warn: warning.length,
          fail: failing.length,
          severity: severityOf(v),
          failingHosts: failing.map((f) => f.host),
          warningHosts: warning.map((f) => f.host),
          example: failing[0] ?? warning[0] ?? null,
        };
      });
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
