// Fixture lock rows in the JSON contract of the lock analysis (issue #4: `locks[]` rows with name,
// address, mode, type, acquisitions, contended, wait/hold {count,total,min,max,avg,p50,p90,p99,p999}
// in ns, and `lockDetails.slowestWaits`). The numbers are what the merged lock analysis reports for
// samples/real/contention-no-writer/stage1/ftrace-main.txt.gz (test/analyses/rules.test.ts checks
// that they still are). Unit tests of check, diff and the exports put them into a report of another
// capture (withLocks) to exercise heavy contention without analysing that 11 MB capture each time.
import type { AnalyzeReport } from '../../analyses/report.js';

export const REAL_LOCK_ROWS = [
  {
    name: '&private->outgoing.lock', address: null, mode: 'mutex', type: 'mutex', acquisitions: 7588, contended: 7588,
    wait: { count: 7588, total: 18818753000, min: 49000, max: 187999000, avg: 2480068, p50: 69586, p90: 4549196, p99: 45377988, p999: 107238552 },
    hold: { count: 7588, total: 10723907000, min: 50000, max: 145582000, avg: 1413272, p50: 68208, p90: 1316411, p99: 26977679, p999: 54327641 },
  },
  {
    name: 'luo_session_global.outgoing.rwsem', address: '0xffffffff81ed2650', mode: 'W', type: 'rwsem:W', acquisitions: 1084, contended: 88,
    wait: { count: 88, total: 1934527000, min: 112000, max: 114385000, avg: 21983261, p50: 14511000, p90: 49853000, p99: 114385000, p999: 114385000 },
    hold: { count: 1084, total: 3759589000, min: 249000, max: 70639000, avg: 3468256, p50: 335000, p90: 12255000, p99: 37201000, p999: 60558000 },
  },
  {
    name: '&session->mutex', address: null, mode: 'mutex', type: 'mutex', acquisitions: 2168, contended: 2168,
    wait: { count: 2168, total: 531786000, min: 54000, max: 13602000, avg: 245289, p50: 80044, p90: 167770, p99: 4928098, p999: 8627647 },
    hold: { count: 2168, total: 115869932000, min: 307000, max: 484593000, avg: 53445541, p50: 41889051, p90: 116170446, p99: 285741764, p999: 434894068 },
  },
  {
    name: 'luo_preserved_files.xa_lock', address: '00000000eea85369', mode: 'spin', type: 'spinlock', acquisitions: 2168, contended: 3,
    wait: { count: 3, total: 22197000, min: 4653000, max: 10383000, avg: 7399000, p50: 7161000, p90: 10383000, p99: 10383000, p999: 10383000 },
    hold: { count: 2168, total: 870829000, min: 17000, max: 27643000, avg: 401674, p50: 88462, p90: 331166, p99: 7206373, p999: 14512192 },
  },
  {
    // A contended mutex no probe or lockdep event named: only its hashed pointer is known (real README O2).
    name: null, address: '00000000db70f8e9', mode: 'mutex', type: 'mutex', acquisitions: 2170, contended: 2170,
    wait: { count: 2170, total: 6418640000, min: 52000, max: 119306000, avg: 2957899, p50: 78459, p90: 6140833, p99: 53251846, p999: 116170446 },
    hold: { count: 0, total: 0, min: null, max: null, avg: null, p50: null, p90: null, p99: null, p999: null },
  },
];

/** The slowest wait of that run, as `lockDetails.slowestWaits[0]` (file 0 = the first input). */
export const REAL_SLOWEST_WAIT = {
  lock: '&private->outgoing.lock', address: '000000007423f9d9', type: 'mutex',
  waiter: { pid: 326, comm: 'luo_ctl', session: 'stress-326-68', func: 'luo_flb_file_preserve', phase: 'preserve' },
  caller: null, begin: 99298620000, end: 99486619000, duration: 187999000, slept: true, begins: 2, ret: 0,
  owners: [{ pid: 322, comm: 'luo_ctl', session: 'stress-322-65', func: 'luo_flb_file_preserve', phase: 'preserve', mode: 'mutex', heldFor: 55347000 }],
  ownersTotal: 1,
  wokenBy: { pid: 324, comm: 'luo_ctl', session: 'stress-324-55', func: 'luo_flb_file_preserve', phase: 'preserve', at: 99481072000 },
  explanation: 'preserve in session stress-326-68 (luo_ctl[326] in luo_flb_file_preserve) waited 188 ms on &private->outgoing.lock:mutex held by luo_ctl[322] (luo_flb_file_preserve, session stress-322-65)',
  file: 0, line: 75024,
};

/** A report with the lock section filled in (a deep copy: tests may change it). */
export function withLocks(report: AnalyzeReport, rows: unknown[] = REAL_LOCK_ROWS, slowestWaits: unknown[] = [REAL_SLOWEST_WAIT]): AnalyzeReport {
  const copy = structuredClone(report);
  return { ...copy, locks: structuredClone(rows) as AnalyzeReport['locks'], lockDetails: { ...copy.lockDetails, slowestWaits: structuredClone(slowestWaits) } as unknown as AnalyzeReport['lockDetails'] };
}
