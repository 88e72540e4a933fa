// `fleet -j 2 --out-format parquet` with worker threads (the built CLI): each worker sends back its
// host's CSV tables with the summary, so the report tables (sessions, phases, pin windows...) hold
// every host, as the in-process -j 0 run of test/cli/parquet.test.ts does.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { TableDb } from '../../cli/parquet/db.js';
import { sample } from '../helpers.js';
import { spawnCli } from './run.js';

it('fleet -j 2 --out-format parquet writes the report tables of every host', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'luotrace-parquet-workers-')), 'tables');
  const r = await spawnCli(['fleet', '-j', '2', '--engine', 'sql', '--out-dir', out, '--out-format', 'parquet', '--run-id', 'w', sample('real')]);
  expect([r.code, r.stderr]).toEqual([0, '']);
  // every capture folder of samples/real is a host
  const hosts = readdirSync(sample('real'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  expect(hosts.length).toBeGreaterThanOrEqual(3);
  expect(r.stdout).toMatch(new RegExp(`^luotrace \\S+ fleet: ${hosts.length} hosts, ${hosts.length} analyzed`));
  const db = await TableDb.open();
  await db.loadParquet(out);
  const perHost = await db.query('SELECT host, COUNT(*) AS n FROM sessions GROUP BY host ORDER BY host');
  const pins = await db.query('SELECT COUNT(DISTINCT host) AS n FROM pin_windows');
  const runs = await db.query('SELECT DISTINCT run_id FROM phases');
  db.close();
  // the hosts with sessions: every real capture but those that ran no session
  expect(perHost.map((h) => h.host)).toEqual(expect.arrayContaining(['abort', 'contention-no-writer', 'freeze-fail', 'lifecycle']));
  expect(perHost.every((h) => hosts.includes(String(h.host)))).toBe(true);
  expect(perHost.every((h) => Number(h.n) > 0)).toBe(true);
  expect(Number(pins[0].n)).toBeGreaterThanOrEqual(4);
  expect(runs).toEqual([{ run_id: 'w' }]);
});
