// The fleet summary of `luotrace fleet --engine sql` / `merge --engine sql`, put together from the
// answers of the SQL files in sql/ (run by cli/parquet/) over the Parquet tables: the same document
// `luotrace merge` makes (reports/fleet.ts), in the same order. Counts, totals and extremes are the
// same figures; percentiles are read off the merged DDSketch bins (within the sketch's relative
// accuracy of merge's, equal where merge answers from a sketch too), so every distribution summary
// here says quantiles "sketch". What the tables do not keep is left empty: each host's input file
// names, sources, data-quality notes and per-host phase list.
import { EXACT_LIMIT, type DistributionSummary, QUANTILE_METHOD } from '../../analyses/locks/quantiles.js';
import { byLockWeight, byName, byVerdictWeight, type FleetSummary, type HostEntry, type LockFigures, phaseRank, severityOf, SUMMARY_FORMAT_VERSION, sortedRecord } from '../fleet.js';
import { type VerdictAcc, verdictEntry } from '../fleet-verdicts.js';
import type { VerdictStatus } from '../../analyses/luo/verdicts/verdict.js';
import { type Bin, binsToDistribution } from './bins.js';
import { ZERO_BIN_INDEX } from './schema.js';

export type Row = Record<string, unknown>;
/** The rows each query answered, by file name (sql/NAME.sql); `table:NAME` = the rows of a table. */
export type SqlAnswers = Record<string, Row[]>;

/** The queries (sql/*.sql) and whole tables the fleet summary is made from. */
export const FLEET_QUERIES = ['host_lines', 'verdict_counts', 'failed_hosts', 'kernel_models', 'fleet_totals', 'counts', 'phase_figures', 'percentiles', 'distribution_bins', 'module_figures', 'module_hosts', 'lock_waits', 'worst_waits'] as const;
export const FLEET_TABLE_READS = ['verdicts', 'module_refs', 'lock_stats', 'counts'] as const;

const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : Number(v ?? 0));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
const str = (v: unknown): string => String(v);
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

interface Merged {
  count: number;
  total: number;
  min: number | null;
  max: number | null;
  bins: Bin[];
}

const metricKey = (metric: string, key: string): string => `${metric}\0${key}`;

function mergedDistributions(a: SqlAnswers): Map<string, Merged> {
  const out = new Map<string, Merged>();
  for (const r of a.distribution_bins) {
    const k = metricKey(str(r.metric), str(r.metric_key));
    let m = out.get(k);
    if (!m) out.set(k, (m = { count: num(r.n), total: num(r.sum_ns), min: numOrNull(r.lowest_ns), max: numOrNull(r.highest_ns), bins: [] }));
    m.bins.push({ scheme: str(r.scheme) as Bin['scheme'], index: num(r.bin_index), value: num(r.estimate_ns), count: num(r.in_bin) });
  }
  return out;
}

function percentileTable(a: SqlAnswers): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  for (const r of a.percentiles) {
    const k = metricKey(str(r.metric), str(r.metric_key));
    let m = out.get(k);
    if (!m) out.set(k, (m = new Map()));
    m.set(num(r.permille), Math.round(num(r.value_ns)));
  }
  return out;
}

const EMPTY: DistributionSummary = { count: 0, total: 0, min: null, max: null, avg: null, p50: null, p90: null, p99: null, p999: null, quantiles: 'exact', quantileMethod: 'nearest-rank' };

function summaryOf(m: Merged | undefined, p: Map<number, number> | undefined): DistributionSummary {
  if (!m || m.count === 0) return EMPTY;
  const q = (permille: number): number | null => p?.get(permille) ?? null;
  return { count: m.count, total: m.total, min: m.min, max: m.max, avg: Math.round(m.total / m.count), p50: q(500), p90: q(900), p99: q(990), p999: q(999), quantiles: 'sketch', quantileMethod: 'ddsketch' };
}

function histogramOf(m: Merged | undefined): Array<{ low: number; high: number; count: number }> {
  if (!m) return [];
  return m.bins
    .filter((b) => b.scheme === 'log2' && b.count > 0)
    .sort((x, y) => x.index - y.index)
    .map((b) => (b.index === ZERO_BIN_INDEX ? { low: 0, high: 1, count: b.count } : { low: 2 ** b.index, high: 2 ** (b.index + 1), count: b.count }));
}

/** A host's own lock figures (a lock_stats row): exact while the host had at most EXACT_LIMIT values. */
function rowSummary(r: Row, prefix: 'wait' | 'hold'): DistributionSummary {
  const count = num(r[`${prefix}_count`]);
  const exact = count <= EXACT_LIMIT;
  const f = (k: string): number | null => numOrNull(r[`${prefix}_${k}_ns`]);
  return { count, total: num(r[`${prefix}_total_ns`]), min: f('min'), max: f('max'), avg: f('avg'), p50: f('p50'), p90: f('p90'), p99: f('p99'), p999: f('p999'), quantiles: exact ? 'exact' : 'sketch', quantileMethod: exact ? 'nearest-rank' : 'ddsketch' };
}

function countsBy(rows: Row[], scope: string, lockKey: string | null, value = 'count'): Record<string, number> {
  const out: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const r of rows) if (r.scope === scope && (lockKey === null || r.lock_key === lockKey)) out[str(r.name)] = (out[str(r.name)] ?? 0) + num(r[value]);
  return sortedRecord(out);
}

function groupBy(rows: Row[], key: string): Map<string, Row[]> {
  const out = new Map<string, Row[]>();
  for (const r of rows) {
    const k = str(r[key]);
    const list = out.get(k);
    if (list) list.push(r);
    else out.set(k, [r]);
  }
  return out;
}

function lockFigures(r: Row, incomplete: Row[]): LockFigures {
  const key = str(r.lock_key);
  return {
    key,
    name: strOrNull(r.lock),
    mode: str(r.mode),
    type: str(r.type),
    lockType: str(r.lock_type),
    luoRole: strOrNull(r.luo_role),
    rows: num(r.merged_rows),
    instances: num(r.instances),
    acquisitions: num(r.acquisitions),
    contended: num(r.contended),
    slept: num(r.sleeps),
    failed: num(r.failed),
    trylockFailed: num(r.trylock_failed),
    wait: rowSummary(r, 'wait'),
    hold: rowSummary(r, 'hold'),
    incomplete: { waits: countsBy(incomplete, 'lock_incomplete_waits', key), holds: countsBy(incomplete, 'lock_incomplete_holds', key) },
  };
}

/** Each host as a fleet summary lists it, from host_lines and the rows of its tables. */
function hostEntries(a: SqlAnswers): HostEntry[] {
  const verdicts = groupBy(a['table:verdicts'], 'host');
  const modules = groupBy(a['table:module_refs'], 'host');
  const locks = groupBy(a['table:lock_stats'], 'host');
  const counts = groupBy(a['table:counts'], 'host');
  return a.host_lines
    .map((h): HostEntry => {
      const host = str(h.host);
      const vs = verdicts.get(host) ?? [];
      const cs = counts.get(host) ?? [];
      return {
        host,
        inputs: [],
        error: strOrNull(h.error),
        sources: [],
        kernelModel: strOrNull(h.kernel_model),
        verdicts: vs.map((v) => ({ id: str(v.verdict_id), ok: v.ok === true, ...(v.status === null || v.status === undefined ? {} : { status: str(v.status) as VerdictStatus }), severity: str(v.severity) as 'error' | 'warning' | 'info', message: str(v.message) })),
        failed: vs.filter((v) => v.ok !== true && v.severity === 'error').map((v) => str(v.verdict_id)),
        boots: num(h.boots),
        sessions: { total: num(h.sessions_total), listed: num(h.sessions_listed), omitted: num(h.sessions_omitted), byState: countsBy(cs, 'session_state', null), bySide: countsBy(cs, 'session_side', null) },
        phases: [],
        modules: (modules.get(host) ?? []).map((m) => ({
          name: str(m.module),
          boot: num(m.boot),
          gets: num(m.gets),
          puts: num(m.puts),
          luoGets: num(m.luo_gets),
          luoPuts: num(m.luo_puts),
          firstRefcnt: numOrNull(m.first_refcnt),
          finalRefcnt: numOrNull(m.final_refcnt),
          maxRefcnt: numOrNull(m.max_refcnt),
          openPins: num(m.open_luo_pins),
          leakedPins: num(m.leaked_pins),
          refcntMismatches: num(m.refcnt_mismatches),
          putsWithoutGet: num(m.puts_without_get),
        })),
        locks: (locks.get(host) ?? []).map((l) => lockFigures(l, cs)).sort(byLockWeight),
        dataQuality: { lines: num(h.lines), events: num(h.events), skipped: num(h.skipped_lines), lostEvents: num(h.lost_events), lostMarkers: num(h.lost_markers), truncated: h.truncated === true, incomplete: h.incomplete === true, notes: [] },
      };
    })
    .sort((x, y) => byName(x.host, y.host));
}

function verdictView(a: SqlAnswers): FleetSummary['fleet']['verdicts'] {
  const failing = groupBy(a.failed_hosts, 'verdict_id');
  return a.verdict_counts
    .map((v) => {
      const id = str(v.verdict_id);
      const rows = (failing.get(id) ?? []).sort((x, y) => byName(str(x.host), str(y.host)));
      const list = (o: string): Array<{ host: string; message: string }> => rows.filter((r) => r.outcome === o).map((r) => ({ host: str(r.host), message: str(r.message) }));
      const acc: VerdictAcc = { id, pass: num(v.pass_hosts), failing: list('fail'), warning: list('warn'), inconclusive: list('inconclusive'), notApplicable: num(v.na_hosts) };
      return acc;
    })
    .sort(byVerdictWeight)
    .map((v) => verdictEntry(v, severityOf(v)));
}

function moduleView(a: SqlAnswers): FleetSummary['fleet']['modules'] {
  const flagged = groupBy(a.module_hosts, 'module');
  return a.module_figures
    .map((m) => {
      const name = str(m.module);
      const rows = (flagged.get(name) ?? []).sort((x, y) => byName(str(x.host), str(y.host)));
      const hostsWith = (col: string): string[] => rows.filter((r) => num(r[col]) > 0).map((r) => str(r.host));
      return {
        name,
        hosts: num(m.host_count),
        gets: num(m.get_count),
        puts: num(m.put_count),
        luoGets: num(m.luo_get_count),
        luoPuts: num(m.luo_put_count),
        openPins: num(m.open_pins),
        leakedPins: num(m.leaked),
        hostsWithLeakedPins: hostsWith('leaked'),
        hostsWithRefcntMismatches: hostsWith('mismatches'),
        hostsWithPutsWithoutGet: hostsWith('unmatched_puts'),
      };
    })
    .sort((x, y) => byName(x.name, y.name));
}

function lockView(a: SqlAnswers, dists: Map<string, Merged>, pct: Map<string, Map<number, number>>): FleetSummary['fleet']['locks'] {
  const worst = new Map(a.worst_waits.map((w) => [str(w.lock_key), { host: str(w.host), maxNs: num(w.wait_max_ns) }]));
  return a.lock_waits
    .map((l) => {
      const key = str(l.lock_key);
      const wait = dists.get(metricKey('lock_wait', key));
      const hold = dists.get(metricKey('lock_hold', key));
      const empty = { count: 0, total: 0, min: null, max: null, bins: [] };
      return {
        key,
        name: strOrNull(l.lock_name),
        mode: str(l.lock_mode),
        type: str(l.lock_kind),
        lockType: str(l.lock_class),
        luoRole: strOrNull(l.role),
        rows: num(l.row_count),
        instances: num(l.instance_count),
        acquisitions: num(l.acquired),
        contended: num(l.contended_count),
        slept: num(l.slept_count),
        failed: num(l.failed_count),
        trylockFailed: num(l.trylock_failed_count),
        wait: summaryOf(wait, pct.get(metricKey('lock_wait', key))),
        hold: summaryOf(hold, pct.get(metricKey('lock_hold', key))),
        incomplete: { waits: countsBy(a.counts, 'lock_incomplete_waits', key, 'total'), holds: countsBy(a.counts, 'lock_incomplete_holds', key, 'total') },
        hosts: num(l.host_count),
        waitHistogram: histogramOf(wait),
        holdHistogram: histogramOf(hold),
        worstWait: worst.get(key) ?? null,
        distributions: { wait: binsToDistribution(wait ?? empty, wait?.bins ?? []), hold: binsToDistribution(hold ?? empty, hold?.bins ?? []) },
      };
    })
    .sort(byLockWeight);
}

/** The fleet summary from the answers of FLEET_QUERIES and the FLEET_TABLE_READS. */
export function fleetSummaryFromSql(a: SqlAnswers, tool: FleetSummary['tool']): FleetSummary {
  const dists = mergedDistributions(a);
  const pct = percentileTable(a);
  const hosts = hostEntries(a);
  const t = a.fleet_totals[0] ?? {};
  const phases = a.phase_figures
    .map((p) => {
      const name = str(p.phase);
      const d = dists.get(metricKey('phase', name));
      const count = num(p.phase_count);
      const total = num(p.sum_ns);
      return {
        phase: name,
        hosts: num(p.host_count),
        count,
        errors: num(p.error_count),
        totalNs: total,
        minNs: numOrNull(p.shortest_ns),
        maxNs: numOrNull(p.longest_ns),
        avgNs: count ? Math.round(total / count) : null,
        durations: summaryOf(d, pct.get(metricKey('phase', name))),
        distribution: binsToDistribution(d ?? { count: 0, total: 0, min: null, max: null }, d?.bins ?? []),
      };
    })
    .sort((x, y) => phaseRank(x.phase) - phaseRank(y.phase) || byName(x.phase, y.phase));
  return {
    kind: 'luotrace-fleet-summary',
    formatVersion: SUMMARY_FORMAT_VERSION,
    tool,
    hosts,
    fleet: {
      hosts: num(t.host_count),
      analyzed: num(t.analyzed),
      unusable: hosts.filter((h) => h.error !== null).map((h) => ({ host: h.host, error: h.error as string })),
      verdicts: verdictView(a),
      kernelModels: sortedRecord(Object.fromEntries(a.kernel_models.map((k) => [str(k.model), num(k.host_count)]))),
      sessions: { total: num(t.sessions), omitted: num(t.sessions_omitted), byState: countsBy(a.counts, 'session_state', null, 'total'), bySide: countsBy(a.counts, 'session_side', null, 'total') },
      phases,
      modules: moduleView(a),
      locks: lockView(a, dists, pct),
      dataQuality: {
        lines: num(t.line_count),
        events: num(t.event_count),
        skipped: num(t.skipped),
        lostEvents: num(t.lost),
        hostsWithLostEvents: hosts.filter((h) => h.dataQuality.lostMarkers > 0).map((h) => h.host),
        hostsTruncated: hosts.filter((h) => h.dataQuality.truncated).map((h) => h.host),
      },
      quantileMethod: `${QUANTILE_METHOD}; merged across hosts by SQL (sql/percentiles.sql) from each host's DDSketch bins: every percentile within the sketch's relative error`,
    },
  };
}
