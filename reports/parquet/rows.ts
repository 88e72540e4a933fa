// One host's rows of every Parquet table (reports/parquet/schema.ts), from its host summary and,
// when the analysis itself is at hand, its CSV tables (reports/csv.ts). Pure: cells in column order,
// numbers as numbers; the writer (cli/parquet/) types them per column.
import type { SerializedDistribution } from '../../analyses/locks/quantiles.js';
import { isLeakedPin } from '../../analyses/luo/pin-kinds.js';
import type { CsvTable } from '../csv.js';
import type { HostSummary, LockFigures } from '../fleet.js';
import { distributionBins } from './bins.js';
import { CSV_TABLE_COLUMNS, PARQUET_SCHEMA_VERSION, TABLES } from './schema.js';

export type Cell = string | number | boolean | null;
export type TableRows = Record<string, Cell[][]>;

/** Empty rows for every table. */
export function emptyTables(): TableRows {
  return Object.fromEntries(TABLES.map((t) => [t.name, []]));
}

const cell = (v: unknown): Cell => (v === undefined ? null : (v as Cell));

function figures(f: LockFigures['wait']): Cell[] {
  return [f.count, f.total, f.min, f.max, f.avg, f.p50, f.p90, f.p99, f.p999];
}

/** The CSV table of that name, checked against the columns the schema expects of it. */
function csvTable(tables: CsvTable[], name: string): CsvTable | null {
  const t = tables.find((x) => x.name === name);
  if (!t) return null;
  const want = CSV_TABLE_COLUMNS[name];
  if (t.columns.length !== want.length || t.columns.some((c, i) => c !== want[i])) throw new Error(`CSV table ${name} has columns ${t.columns.join(',')}, the Parquet schema expects ${want.join(',')}`);
  return t;
}

function summaryRows(s: HostSummary, key: Cell[], out: TableRows): void {
  const q = s.dataQuality;
  out.hosts.push([...key, PARQUET_SCHEMA_VERSION, s.tool.version, s.error === null, s.error, s.inputs.length, s.boots, s.sessions.total, s.sessions.listed, s.sessions.omitted,
    q.lines, q.events, q.skipped, q.lostEvents, q.lostMarkers, q.truncated, q.incomplete]);
  for (const v of s.verdicts) out.verdicts.push([...key, v.id, v.ok, v.severity, v.status ?? null, null, v.message]);
  const count = (scope: string, k: string | null, rec: Record<string, number>): void => {
    for (const [name, n] of Object.entries(rec)) out.counts.push([...key, scope, k, name, n]);
  };
  count('session_state', null, s.sessions.byState);
  count('session_side', null, s.sessions.bySide);
  for (const p of s.phases) out.phase_stats.push([...key, p.phase, p.count, p.errors, p.totalNs, p.minNs, p.maxNs, p.avgNs]);
  for (const l of s.locks) {
    out.lock_stats.push([...key, l.key, l.name, l.mode, l.type, l.lockType, l.luoRole, l.rows, l.instances, l.acquisitions, l.contended, l.slept, l.failed, l.trylockFailed, ...figures(l.wait), ...figures(l.hold)]);
    count('lock_incomplete_waits', l.key, l.incomplete.waits);
    count('lock_incomplete_holds', l.key, l.incomplete.holds);
  }
  const dist = (metric: string, metricKey: string, d: SerializedDistribution): void => {
    out.distribution_totals.push([...key, metric, metricKey, d.count, d.total, d.min, d.max]);
    for (const b of distributionBins(d)) out.distributions.push([...key, metric, metricKey, b.scheme, b.index, b.value, b.count]);
  };
  for (const [phase, d] of Object.entries(s.distributions.phases)) dist('phase', phase, d);
  for (const [lock, d] of Object.entries(s.distributions.locks)) {
    dist('lock_wait', lock, d.wait);
    dist('lock_hold', lock, d.hold);
  }
}

function moduleRows(s: HostSummary, refcounts: CsvTable | null, key: Cell[], out: TableRows): void {
  // The CSV refcounts row of the same module and boot brings the columns the summary does not keep.
  const extra = new Map<string, Cell[]>();
  for (const r of refcounts?.rows ?? []) extra.set(`${String(r[0])}\0${String(r[1])}`, [r[6], r[7], r[14], r[15], r[16], r[17], r[18]].map(cell));
  for (const m of s.modules) {
    const more = extra.get(`${m.name}\0${m.boot}`) ?? [null, null, null, null, null, null, null];
    out.module_refs.push([...key, m.name, m.boot, m.gets, m.puts, m.luoGets, m.luoPuts, m.firstRefcnt, m.finalRefcnt, m.maxRefcnt, m.openPins, m.leakedPins, m.refcntMismatches, m.putsWithoutGet, ...more]);
  }
}

function reportRows(csv: CsvTable[], key: Cell[], out: TableRows): void {
  for (const name of ['sessions', 'phases', 'module_refs_by_site', 'waits']) {
    for (const r of csvTable(csv, name)?.rows ?? []) out[name].push([...key, ...r.map(cell)]);
  }
  const pins = csvTable(csv, 'pin_windows');
  for (const r of pins?.rows ?? []) {
    // Columns class (2), open (15), expected_open (16): what isLeakedPin reads of a pin window.
    const leaked = isLeakedPin({ class: String(r[2]), putLine: r[15] === true ? null : 0, expectedOpen: (r[16] ?? null) as string | null });
    out.pin_windows.push([...key, ...r.map(cell), leaked]);
  }
}

/**
 * Append one host's rows to `out`. `csv`: the analysis' CSV tables (reportTables), or null when only
 * the summary is known (the report tables then get no rows, module_refs its summary columns only).
 */
export function appendHostRows(out: TableRows, s: HostSummary, runId: string, csv: CsvTable[] | null): void {
  const key: Cell[] = [s.host, runId, s.kernelModel];
  summaryRows(s, key, out);
  moduleRows(s, csv ? csvTable(csv, 'refcounts') : null, key, out);
  if (csv) reportRows(csv, key, out);
}
