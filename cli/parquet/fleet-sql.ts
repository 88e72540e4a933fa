// The fleet summary by SQL: the tables checked (each host once, every distribution's bins adding up
// to its count), then the queries of sql/ run and their answers put together (reports/parquet/
// fleet-view.ts).
import { InputError } from '../../parsers/index.js';
import type { FleetSummary } from '../../reports/fleet.js';
import { FLEET_QUERIES, FLEET_TABLE_READS, fleetSummaryFromSql, type SqlAnswers } from '../../reports/parquet/fleet-view.js';
import { PARQUET_SCHEMA_VERSION } from '../../reports/parquet/schema.js';
import type { TableDb } from './db.js';

// luotrace's own checks of what it reads (not fleet answers, so not in sql/).
const TWICE = 'SELECT host, COUNT(*) AS times FROM hosts GROUP BY host HAVING COUNT(*) > 1 ORDER BY host LIMIT 1';
const OTHER_VERSION = `SELECT host, schema_version FROM hosts WHERE schema_version IS NULL OR schema_version <> ${PARQUET_SCHEMA_VERSION} LIMIT 1`;
const BINS_DISAGREE = `
WITH b AS (
  SELECT host, metric, metric_key, scheme, SUM(count) AS n, MIN(count) AS least
  FROM distributions GROUP BY host, metric, metric_key, scheme
), schemes AS (SELECT 'ddsketch' AS scheme UNION ALL SELECT 'log2')
SELECT t.host, t.metric, t.metric_key, s.scheme, t.count AS expected, COALESCE(b.n, 0) AS got
FROM distribution_totals t CROSS JOIN schemes s
LEFT JOIN b ON b.host = t.host AND b.metric = t.metric AND b.metric_key = t.metric_key AND b.scheme = s.scheme
WHERE t.count IS NULL OR t.count < 0 OR COALESCE(b.n, 0) <> t.count OR b.least < 0
LIMIT 1`;
const ORPHAN_BINS = `
SELECT d.host, d.metric, d.metric_key FROM distributions d
LEFT JOIN distribution_totals t ON t.host = d.host AND t.metric = d.metric AND t.metric_key = d.metric_key
WHERE t.host IS NULL LIMIT 1`;

/**
 * Refuse tables merge would refuse: a host twice, or distributions whose bins do not add up (a file
 * edited by hand, or cut). `from` names what was loaded last, for the error line.
 */
export async function checkTables(db: TableDb, from: string): Promise<void> {
  const twice = await db.query(TWICE);
  if (twice.length) throw new InputError(from, `host ${String(twice[0].host)} appears twice; merging it twice would count it twice`);
  const version = await db.query(OTHER_VERSION);
  if (version.length) throw new InputError(from, `host ${String(version[0].host)} has schema_version ${String(version[0].schema_version)}; this luotrace reads ${PARQUET_SCHEMA_VERSION}`);
  const bad = await db.query(BINS_DISAGREE);
  if (bad.length) {
    const b = bad[0];
    throw new InputError(from, `host ${String(b.host)}: ${String(b.metric)} ${String(b.metric_key)} has ${String(b.got)} values in its ${String(b.scheme)} bins, its total says ${String(b.expected)}: the tables were altered or cut`);
  }
  const orphan = await db.query(ORPHAN_BINS);
  if (orphan.length) throw new InputError(from, `host ${String(orphan[0].host)}: bins of ${String(orphan[0].metric)} ${String(orphan[0].metric_key)} without a distribution_totals row: the tables were altered or cut`);
}

/** Run the fleet queries over the tables in `db`. */
export async function sqlFleetSummary(db: TableDb, tool: FleetSummary['tool']): Promise<FleetSummary> {
  const answers: SqlAnswers = {};
  for (const q of FLEET_QUERIES) answers[q] = await db.querySql(q);
  for (const t of FLEET_TABLE_READS) answers[`table:${t}`] = await db.query(`SELECT * FROM ${t}`);
  return fleetSummaryFromSql(answers, tool);
}
