// The locks section's "LUO first" on the whole real contention-no-writer capture (11 MB of text,
// three analyses: about 4 s of CPU), with its figures. The same checks without the figures run on the
// trimmed capture in locks.test.ts (fast set).
import { describe, expect, it } from 'vitest';
import { sample } from '../helpers.js';
import { analyzeLuoFirst } from './locks-luo-first.js';

describe('luotrace analyze: locks section', () => {
  it('LUO first: LUO locks and locks waited on inside LUO calls are listed, the others are one line (--all-locks lists them); JSON keeps every row', async () => {
    // contention-no-writer (real README §3.4): 7 luo_ctl stress tasks, and insmod/rmmod of luo_demo in a loop
    const F = sample('real/contention-no-writer/stage1/ftrace-main.txt.gz');
    const { text, table, all, report } = await analyzeLuoFirst([F]);
    expect(table).toMatch(/^ {2}50 other locks \(not LUO locks, not waited on or taken inside LUO calls\): 733 contended, 733 timed waits, total 1\.20 s, longest 62\.1 ms \(--all-locks lists them\)$/m);
    // module loading's mutexes (insmod/rmmod outside any LUO call) are not in the table; the LUO locks are
    expect(table).not.toMatch(/sys_finit_module +0000/);
    expect(text).toMatch(/^ {2}\(other locks: longest wait 62\.1 ms; --all-locks lists their slowest waits\)$/m);
    expect(all).toMatch(/sys_finit_module +0000/);
    expect(all).toMatch(/^ {2}50 other locks .*: the rows after the LUO-related ones$/m);
    const other = report.locks.filter((l) => !l.luoRelated);
    expect(report.lockDetails.otherLocks).toEqual({
      rows: 50,
      acquisitions: other.reduce((n, l) => n + l.acquisitions, 0),
      contended: 733,
      waitCount: 733,
      waitTotal: other.reduce((n, l) => n + l.wait.total, 0),
      waitMax: 62_090_000,
    });
    const waits = report.lockDetails.slowestWaits;
    expect(waits.slice(0, 20).every((w) => w.luoRelated)).toBe(true);
    expect(waits.slice(20).every((w) => !w.luoRelated)).toBe(true);
  });
});
