// Issue 14 case 1 on a REAL lossy capture (samples/real/lossy-bpftrace, README there): bpftrace with a
// one-page ring buffer printed 138 "Lost N events" lines (9938 events lost, 902 lines kept) while an
// ftrace instance recorded the same run whole. No verdict may invent a failure from the missing data:
// only no-lost-events fails; the same run in ftrace passes every rule.
import { describe, expect, it } from 'vitest';
import { sample } from '../helpers.js';
import { runCli } from '../cli/run.js';

const DIR = 'real/lossy-bpftrace/stage1/';

type Rule = { id: string; status: string; message: string };
async function check(file: string): Promise<{ code: number | null; byId: Record<string, Rule> }> {
  const c = await runCli(['check', '--json', sample(`${DIR}${file}`)]);
  const rules = JSON.parse(c.stdout).rules as Rule[];
  return { code: c.code, byId: Object.fromEntries(rules.map((x) => [x.id, x])) };
}

describe('real lossy bpftrace capture', () => {
  it('only no-lost-events fails; the verdicts that need the lost data are inconclusive, with the loss named', async () => {
    const { code, byId } = await check('bpftrace-events.txt.gz');
    expect(code).toBe(1);
    const failing = Object.values(byId).filter((r) => r.status === 'fail').map((r) => r.id);
    expect(failing).toEqual(['no-lost-events']);
    expect(byId['no-lost-events'].message).toMatch(/^9938 events lost/);
    for (const id of ['modules-unpinned-after-finish', 'refcounts-balanced', 'no-forced-unload-with-pins', 'max-phase-duration']) {
      expect(byId[id].status, id).toBe('inconclusive');
      expect(byId[id].message, id).toMatch(/lost/);
    }
  });

  it('the ftrace recording of the same run passes every rule (the data was complete there)', async () => {
    const { code, byId } = await check('ftrace-main.txt.gz');
    expect(code).toBe(0);
    expect(Object.values(byId).filter((r) => r.status === 'fail' || r.status === 'inconclusive')).toEqual([]);
  });
});
