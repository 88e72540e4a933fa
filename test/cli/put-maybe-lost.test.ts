// A pin never seen released while events were lost cannot be called a leak: its module_put may be
// among the lost events (docs/luo-model.md §4 "Pin windows on lossy input"; the verdict
// modules-unpinned-after-finish is inconclusive). The text report, the TUI and the fleet summary say
// so; a leak the trace proves (no loss) is still called one.
import { describe, expect, it } from 'vitest';
import { isLeakedPin, isPutMaybeLost, PUT_MAYBE_LOST } from '../../analyses/luo/pin-kinds.js';
import { pinState } from '../../cli/tui/pages/overview.js';
import { sharedAnalysis } from '../analysis-cache.js';
import { sample } from '../helpers.js';
import { runCli } from './run.js';

const LOSSY = sample('real/contention-no-writer/stage1/bpftrace-events.txt.gz');
const LEAK = sample('synthetic/synthetic-leak.txt.gz');

describe('pins whose put may be lost (real lossy bpftrace capture) against a proven leak (synthetic)', async () => {
  const lossy = await sharedAnalysis([LOSSY]);
  const leak = await sharedAnalysis([LEAK]);
  const lossyMaybe = lossy.modules.flatMap((m) => m.pinWindows).filter(isPutMaybeLost);
  const leakProven = leak.modules.flatMap((m) => m.pinWindows).filter((w) => isLeakedPin(w) && !isPutMaybeLost(w));

  it('the lossy capture has pins that would be leaks but for the lost events; the synthetic leak has a proven one', () => {
    expect(lossyMaybe.length).toBeGreaterThanOrEqual(5);
    expect(lossy.modules.flatMap((m) => m.pinWindows).filter((w) => isLeakedPin(w) && !w.incomplete)).toEqual([]);
    expect(leakProven.length).toBeGreaterThan(0);
    expect(lossy.verdicts.find((v) => v.id === 'modules-unpinned-after-finish')?.status).toBe('inconclusive');
    expect(leak.verdicts.find((v) => v.id === 'modules-unpinned-after-finish')?.status).toBe('fail');
  });

  it('the text report names them "put may be lost", and keeps OPEN: LEAK for the proven leak', async () => {
    const text = (await runCli(['analyze', LOSSY])).stdout;
    expect(text).toContain(PUT_MAYBE_LOST.text);
    expect(text).not.toContain('OPEN: LEAK');
    expect((await runCli(['analyze', LEAK])).stdout).toContain('OPEN: LEAK');
  });

  it('the TUI draws them in yellow as "put lost?", the proven leak in red', () => {
    expect(pinState(lossyMaybe[0])).toMatchObject({ short: PUT_MAYBE_LOST.short, color: 'yellow' });
    expect(pinState(leakProven[0])).toMatchObject({ short: 'LEAK: never put', color: 'red' });
  });

  it('a host summary counts only proven leaks as leaked pins', async () => {
    const leaked = async (file: string) => {
      const h = JSON.parse((await runCli(['host-summary', '--host', 'h', file])).stdout) as { modules: Array<{ leakedPins: number }> };
      return h.modules.reduce((a, m) => a + m.leakedPins, 0);
    };
    expect(await leaked(LOSSY)).toBe(0);
    expect(await leaked(LEAK)).toBe(leakProven.length);
  });
});
