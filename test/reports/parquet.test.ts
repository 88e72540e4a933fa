// The Parquet tables' schema against the CSV tables (issue #18): reports/parquet/schema.ts names
// the columns reports/csv.ts makes. The SQL fleet path on the real captures, through DuckDB and
// Parquet files, is parquet.slow.test.ts; the CLI side (DuckDB on small captures) is
// test/cli/parquet.test.ts.
import { describe, expect, it } from 'vitest';
import { runAnalysisWithDistributions } from '../../analyses/pipeline.js';
import { hostInputs } from '../../cli/fleet/hosts.js';
import { reportTables } from '../../reports/csv.js';
import { CSV_TABLE_COLUMNS } from '../../reports/parquet/schema.js';
import { sample } from '../helpers.js';

describe('SQL fleet path on the real captures', () => {
  it('the Parquet schema names the CSV tables columns as reports/csv.ts makes them', async () => {
    const { inputs } = hostInputs(sample('real/abort'));
    const csv = reportTables((await runAnalysisWithDistributions(inputs, {})).report);
    for (const [name, cols] of Object.entries(CSV_TABLE_COLUMNS)) expect(csv.find((t) => t.name === name)?.columns, name).toEqual(cols);
  });
});
