// "LUO first" in the locks section, checked on any capture with locks outside LUO: the LUO locks
// and the locks waited on inside LUO calls are listed, the others are one line of true totals
// (--all-locks lists them), and the JSON keeps every row, LUO-related first. Shared by
// locks.test.ts (the trimmed contention capture) and locks.slow.test.ts (the whole one, 11 MB).
import { expect } from 'vitest';
import { AnalyzeReportSchema } from '../../analyses/report.js';
import { runCli } from './run.js';

/** `analyze ARGS` as text, with --all-locks and as --json, checked; returned for figure checks. */
export async function analyzeLuoFirst(args: string[]) {
  const text = (await runCli(['analyze', ...args])).stdout;
  const table = text.slice(text.indexOf('LOCKS ('), text.indexOf('\n\n', text.indexOf('LOCKS (')));
  expect(table).toMatch(/^ {2}\d+ other locks \(not LUO locks, not waited on or taken inside LUO calls\): \d+ contended, \d+ timed waits, total \S+ \S+, longest \S+ \S+ \(--all-locks lists them\)$/m);
  expect(table).toMatch(/luo_register_rwlock \[LUO\]/);
  expect(text).toMatch(/^ {2}Slowest waits related to LUO, and who held the lock:$/m);
  expect(text).toMatch(/^ {2}\(other locks: longest wait \S+ \S+; --all-locks lists their slowest waits\)$/m);
  const all = (await runCli(['analyze', ...args, '--all-locks'])).stdout;
  expect(all).toMatch(/^ {2}\d+ other locks .*: the rows after the LUO-related ones$/m);
  expect(all).toMatch(/^ {2}Slowest waits, and who held the lock:$/m);
  const report = AnalyzeReportSchema.parse(JSON.parse((await runCli(['analyze', ...args, '--json'])).stdout));
  const other = report.locks.filter((l) => !l.luoRelated);
  expect(other.length).toBeGreaterThan(0);
  expect(report.locks.findIndex((l) => !l.luoRelated)).toBe(report.locks.length - other.length);
  expect(report.lockDetails.otherLocks).toMatchObject({
    rows: other.length,
    acquisitions: other.reduce((n, l) => n + l.acquisitions, 0),
    contended: other.reduce((n, l) => n + l.contended, 0),
    waitTotal: other.reduce((n, l) => n + l.wait.total, 0),
  });
  // true totals: every contended acquisition is in some row
  expect(report.locks.reduce((n, l) => n + l.contended, 0)).toBe(report.lockDetails.totals.contendedAcquisitions);
  for (const l of report.locks) expect(l.luoRelated).toBe(l.luo !== null || l.inLuoCalls > 0);
  // the slowest waits: the LUO-related ones first
  const waits = report.lockDetails.slowestWaits;
  const related = waits.filter((w) => w.luoRelated).length;
  expect(related).toBeGreaterThan(0);
  expect(waits.slice(0, related).every((w) => w.luoRelated)).toBe(true);
  return { text, table, all, report };
}
