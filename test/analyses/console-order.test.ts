// Early-boot console timestamps go back (docs/trace-formats.md §5 item 20): on the real console logs
// they made a false "20 events out of time order" (contention-no-writer) and "1 events …"
// (lifecycle, the second kernel). printk lines are kept in log order and not counted late; trace
// events out of order still are.
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';
import type { TraceEvent } from '../../parsers/event.js';
import { ReorderBuffer } from '../../analyses/stream/order.js';
import { parseFiles, sample } from '../helpers.js';
import { runCli } from '../cli/run.js';

const outOfOrder = (notes: string[]) => notes.filter((n) => n.includes('out of time order'));

describe('console logs: early-boot timestamps are not events out of order', () => {
  it('the real consoles have printk stamps that go back, and no out-of-order note', async () => {
    for (const scn of ['contention-no-writer', 'lifecycle']) {
      const file = sample(`real/${scn}/console.log.gz`);
      const { events } = await parseFiles([file]);
      // The input really does go back in time (the test would prove nothing otherwise).
      let back = 0;
      let last = -Infinity;
      for (const e of events) {
        if (e.time === null || e.kind === 'boot') continue;
        if (e.time < last) back++;
        else last = e.time;
      }
      expect(back, scn).toBeGreaterThan(0);
      const r = await runAnalysis([file], {});
      expect(outOfOrder(r.dataQuality.notes), scn).toEqual([]);
    }
  });

  it('analyze --json and the text report carry no out-of-order note for the contention console', async () => {
    const file = sample('real/contention-no-writer/console.log.gz');
    const text = await runCli(['analyze', '--no-progress', file]);
    expect(text.code).toBe(0);
    expect(text.stdout + text.stderr).not.toContain('out of time order');
    const json = await runCli(['analyze', '--no-progress', '--json', file]);
    expect(outOfOrder(JSON.parse(json.stdout).dataQuality.notes)).toEqual([]);
  });

  it('trace events out of order are still counted, printk lines are not', () => {
    const ev = (kind: 'printk' | 'module_put', time: number): TraceEvent =>
      (kind === 'printk'
        ? { kind, name: 'printk', time, cpu: 0, pid: 0, tgid: null, comm: null, src: 0, line: time, fields: { text: 'x' } }
        : { kind, name: kind, time, cpu: 0, pid: 1, tgid: null, comm: 'rmmod', src: 0, line: time, fields: { module: 'm', callSite: 'c', refcnt: 1 } }) as TraceEvent;
    const out: TraceEvent[] = [];
    const buf = new ReorderBuffer((e) => out.push(e), 0);
    for (const e of [ev('printk', 32), ev('printk', 1), ev('module_put', 10), ev('module_put', 5), ev('printk', 2)]) buf.push(e);
    buf.flush();
    expect(out.map((e) => e.time)).toEqual([32, 1, 10, 5, 2]);
    expect(buf.lateEvents).toBe(1);
    expect(buf.maxLagNs).toBe(5);
  });
});
