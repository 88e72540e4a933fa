// The Parquet tables (issue #18): luotrace's results as columnar tables a SQL engine reads (DuckDB
// here, ClickHouse, Spark SQL or Trino elsewhere). One home for the table names, their columns and
// the column types; `luotrace schema parquet` prints it, the writer creates the tables from it and
// the reader checks files against it.
//
// Every table starts with host, run_id and kernel_model, so tables of many hosts and many runs can be
// concatenated and still be told apart. Times and durations are integer nanoseconds (`_ns`; BIGINT,
// rounded from the trace clock). The CSV tables (reports/csv.ts) give sessions, phases, pin_windows,
// module_refs_by_site and waits their columns; module_refs is the CSV `refcounts` table plus
// leaked_pins; the other tables come from the host summary (reports/fleet.ts), which is all that
// `luotrace merge` needs, so the SQL fleet path needs no more than that either.
//
// Versioned: PARQUET_SCHEMA_VERSION is in every file's key-value metadata (luotrace_schema_version)
// and in the hosts table's schema_version column. A change to a column (name, type, meaning) bumps it;
// readers refuse other versions rather than guess.

export const PARQUET_SCHEMA_VERSION = 1;
/** Parquet key-value metadata keys written into every file. */
export const KV_SCHEMA_VERSION = 'luotrace_schema_version';
export const KV_TABLE = 'luotrace_table';

export type ColumnType = 'VARCHAR' | 'BIGINT' | 'INTEGER' | 'DOUBLE' | 'BOOLEAN';

export interface TableSpec {
  name: string;
  /** One line: what a row is. */
  row: string;
  /** summary: from the host summary (every host); report: from the analysis (export, host-summary, fleet), empty from summaries alone. */
  source: 'summary' | 'report';
  columns: Array<{ name: string; type: ColumnType }>;
}

/** The columns every table starts with. */
export const KEY_COLUMNS = ['host', 'run_id', 'kernel_model'] as const;

// Column types by name (the same name has the same type in every table); any other column is VARCHAR.
const INTEGER = new Set(['boot', 'pid', 'line', 'end_line', 'get_line', 'put_line', 'peer_boot', 'get_pid', 'waiter_pid', 'owner_pid', 'schema_version', 'bin_index']);
const BOOLEAN = new Set(['open', 'incomplete', 'slept', 'ok', 'truncated', 'leaked', 'usable', 'luo_related']);
const DOUBLE = new Set(['bin_value_ns']);
const BIGINT = new Set([
  'session_id', 'peer_session_id', 'files', 'phases', 'pins_taken', 'pins_released', 'pins_open', 'result',
  'gets', 'puts', 'luo_gets', 'luo_puts', 'vfs_gets', 'vfs_puts', 'first_refcnt', 'final_refcnt', 'max_refcnt',
  'open_luo_pins', 'leaked_pins', 'refcnt_mismatches', 'puts_without_get', 'untraced_load_ref_puts', 'loaded', 'freed',
  'count', 'errors', 'acquisitions', 'contended', 'sleeps', 'failed', 'trylock_failed', 'merged_rows', 'instances', 'wait_count', 'hold_count',
  'inputs', 'boots', 'sessions_total', 'sessions_listed', 'sessions_omitted', 'lines', 'events', 'skipped_lines', 'lost_events', 'lost_markers',
]);

export function columnType(name: string): ColumnType {
  if (INTEGER.has(name)) return 'INTEGER';
  if (BOOLEAN.has(name)) return 'BOOLEAN';
  if (DOUBLE.has(name)) return 'DOUBLE';
  if (BIGINT.has(name) || name.endsWith('_ns')) return 'BIGINT';
  return 'VARCHAR';
}

const FIGURES = ['count', 'total', 'min', 'max', 'avg', 'p50', 'p90', 'p99', 'p999'];
const figureColumns = (prefix: string): string[] => FIGURES.map((k) => `${prefix}_${k}${k === 'count' ? '' : '_ns'}`);

// The CSV tables' columns (reports/csv.ts reportTables) are named here once more, in order, so the
// published schema does not move when nobody meant it to; test/reports/parquet.test.ts checks both agree.
const CSV_COLUMNS = {
  sessions: ['session_id', 'boot', 'side', 'name', 'state', 'outcome', 'pid', 'comm', 'files', 'phases', 'first_start_ns', 'last_end_ns', 'pins_taken', 'pins_released', 'pins_open', 'peer_boot', 'peer_session_id', 'file_set'],
  phases: ['boot', 'session_id', 'session', 'side', 'phase', 'func', 'token', 'start_ns', 'end_ns', 'duration_ns', 'result', 'error', 'via', 'pid', 'comm', 'file', 'line', 'end_line'],
  pin_windows: ['module', 'boot', 'class', 'flow', 'session_id', 'session', 'token', 'get_time_ns', 'put_time_ns', 'held_ns', 'get_call_site', 'put_call_site', 'get_pid', 'get_comm', 'luo_function', 'open', 'expected_open', 'incomplete', 'file', 'get_line', 'put_line', 'flb'],
  refcounts: ['module', 'boot', 'gets', 'puts', 'luo_gets', 'luo_puts', 'vfs_gets', 'vfs_puts', 'first_refcnt', 'final_refcnt', 'max_refcnt', 'open_luo_pins', 'refcnt_mismatches', 'puts_without_get', 'untraced_load_ref_puts', 'loaded', 'freed', 'handlers', 'flbs'],
  module_refs_by_site: ['module', 'boot', 'direction', 'call_site', 'role', 'count'],
  waits: ['lock', 'address', 'type', 'waiter_pid', 'waiter_comm', 'session', 'luo_function', 'phase', 'caller', 'begin_ns', 'end_ns', 'wait_ns', 'slept', 'owner_pid', 'owner_comm', 'owner_mode', 'owner_held_for_ns', 'explanation', 'file', 'line', 'luo_related'],
} as const;
export const CSV_TABLE_COLUMNS: Readonly<Record<string, readonly string[]>> = CSV_COLUMNS;

const spec = (name: string, source: TableSpec['source'], row: string, cols: readonly string[]): TableSpec => ({
  name,
  row,
  source,
  columns: [...KEY_COLUMNS, ...cols].map((c) => ({ name: c, type: columnType(c) })),
});

export const TABLES: readonly TableSpec[] = [
  spec('hosts', 'summary', 'one host of one run: whether it could be analyzed, its size and data quality', [
    'schema_version', 'tool_version', 'usable', 'error', 'inputs', 'boots', 'sessions_total', 'sessions_listed', 'sessions_omitted',
    'lines', 'events', 'skipped_lines', 'lost_events', 'lost_markers', 'truncated', 'incomplete',
  ]),
  spec('verdicts', 'summary', "one verdict of a host (status and reason: null when made from a host summary, which keeps ok and severity only)", ['verdict_id', 'ok', 'severity', 'status', 'reason', 'message']),
  spec('counts', 'summary', 'one count of a host by name: sessions by state or side, incomplete lock intervals by reason (scope says which; lock_key: the lock, for lock scopes)', ['scope', 'lock_key', 'name', 'count']),
  spec('phase_stats', 'summary', 'one LUO phase name on a host: every phase of every session, counted exactly', ['phase', 'count', 'errors', 'total_ns', 'min_ns', 'max_ns', 'avg_ns']),
  spec('sessions', 'report', 'one LUO session (the CSV table sessions.csv)', CSV_COLUMNS.sessions),
  spec('phases', 'report', 'one phase of a session, or a boot-wide phase (phases.csv)', CSV_COLUMNS.phases),
  spec('pin_windows', 'report', 'one module pin from module_get to module_put (pin_windows.csv); leaked = open and no session explains it', [...CSV_COLUMNS.pin_windows, 'leaked']),
  spec('module_refs', 'summary', 'one module in one boot: its references (refcounts.csv; the columns after leaked_pins are null when made from a host summary)', [
    'module', 'boot', 'gets', 'puts', 'luo_gets', 'luo_puts', 'first_refcnt', 'final_refcnt', 'max_refcnt', 'open_luo_pins', 'leaked_pins', 'refcnt_mismatches', 'puts_without_get',
    'vfs_gets', 'vfs_puts', 'untraced_load_ref_puts', 'loaded', 'freed', 'handlers', 'flbs',
  ]),
  spec('module_refs_by_site', 'report', 'module_get / module_put counts of a module by call site (module_refs_by_site.csv)', CSV_COLUMNS.module_refs_by_site),
  spec('lock_stats', 'summary', 'one lock (name x type; locks the trace never named grouped as (unnamed) per type) on a host, with its wait and hold figures', [
    'lock_key', 'lock', 'mode', 'type', 'lock_type', 'luo_role', 'merged_rows', 'instances', 'acquisitions', 'contended', 'sleeps', 'failed', 'trylock_failed',
    ...figureColumns('wait'), ...figureColumns('hold'),
  ]),
  spec('waits', 'report', 'one of the slowest lock waits the analysis keeps (waits.csv)', CSV_COLUMNS.waits),
  spec('distribution_totals', 'summary', 'one distribution of a host (metric phase, lock_wait or lock_hold; metric_key = phase name or lock key): what its bins hold', ['metric', 'metric_key', 'count', 'total_ns', 'min_ns', 'max_ns']),
  spec('distributions', 'summary', 'one bin of a distribution: scheme ddsketch (bin_index = DDSketch key, bin_value_ns its estimate) or log2 (bin_index k = [2^k, 2^(k+1)) ns)', ['metric', 'metric_key', 'scheme', 'bin_index', 'bin_value_ns', 'count']),
];

export function tableSpec(name: string): TableSpec {
  const t = TABLES.find((x) => x.name === name);
  if (!t) throw new Error(`no Parquet table ${name}`);
  return t;
}

/** The bin index of values the sketch counts as zero (below every DDSketch key, and every log2 bucket). */
export const ZERO_BIN_INDEX = -2147483648;

/** What `luotrace schema parquet` prints. */
export function parquetSchemaDocument(): Record<string, unknown> {
  return {
    kind: 'luotrace-parquet-schema',
    schemaVersion: PARQUET_SCHEMA_VERSION,
    keyValueMetadata: { [KV_SCHEMA_VERSION]: String(PARQUET_SCHEMA_VERSION), [KV_TABLE]: 'the table name' },
    files: 'one file per table: TABLE.parquet',
    times: 'integer nanoseconds on the trace clock (_ns columns)',
    zeroBinIndex: ZERO_BIN_INDEX,
    tables: TABLES.map((t) => ({ name: t.name, row: t.row, source: t.source, columns: t.columns })),
  };
}
