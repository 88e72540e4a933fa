// Issue 14 case 11 on a REAL unfiltered contention capture (samples/real/contention-unfiltered, README
// there): lock:contention_begin/end without a comm filter, 42 181 contention_begin, most from tasks
// unrelated to LUO (cat, trace-cmd...). The LUO locks and the locks waited on inside LUO calls come
// first; the others are one line of true totals.
import { describe, expect, it } from 'vitest';
import { sample } from '../helpers.js';
import { runCli } from '../cli/run.js';

const FILE = sample('real/contention-unfiltered/stage1/ftrace-main.txt.gz');

describe('real unfiltered contention: LUO first', () => {
  it('JSON: LUO-related rows first, the other rows summed with the true totals, the slowest waits LUO-related first', async () => {
    const r = JSON.parse((await runCli(['analyze', '--json', FILE])).stdout);
    const rows = r.locks as Array<{ luoRelated: boolean; contended: number }>;
    const luo = rows.filter((l) => l.luoRelated);
    expect(luo.length).toBeGreaterThan(0);
    expect(luo.length).toBeLessThan(rows.length / 2);
    // headline: every contended acquisition counted once, LUO rows plus the other-locks line
    const other = r.lockDetails.otherLocks;
    expect(luo.reduce((n, l) => n + l.contended, 0) + other.contended).toBe(rows.reduce((n, l) => n + l.contended, 0));
    expect(other.rows).toBe(rows.length - luo.length);
    const slow = r.lockDetails.slowestWaits as Array<{ luoRelated: boolean }>;
    expect(slow.slice(0, 20).every((w) => w.luoRelated)).toBe(true);
  });

  it('text: the table lists LUO-related rows, then one line for the others; --all-locks lists them', async () => {
    const text = (await runCli(['analyze', FILE])).stdout;
    const table = text.slice(text.indexOf('\nLOCKS ('), text.indexOf('other locks (not LUO locks'));
    expect(table).toContain('luo_register_rwlock [LUO]');
    expect(text).toMatch(/^ {2}\d+ other locks \(not LUO locks, not waited on or taken inside LUO calls\): \d+ contended/m);
    const all = (await runCli(['analyze', '--all-locks', FILE])).stdout;
    expect(all).toMatch(/other locks \(not LUO locks, not waited on or taken inside LUO calls\): \d+ contended.*: the rows after the LUO-related ones$/m);
    expect(all.split('\n').length).toBeGreaterThan(text.split('\n').length);
  });
});
