// A garbled or forged file whose clock jumps back and forth: every jump used to start a segment of
// its own (3·10^5 lines ran for minutes and 1 GB), and a clock that jumps by less than a reset held
// every module event in the refcnt check's window (a check per event against all of them). Both are
// bounded: segments per source (parsers/parser.ts MAX_SEGMENTS_PER_SOURCE), past which a start is
// lost data, and the events a refcnt check holds (analyses/luo/refcounts.ts). Synthetic lines, in
// the kernel's exact module_get format (`module_get: %s call_site=%ps refcnt=%d`).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';
import { MAX_WINDOW_EVENTS, type ModuleStats, RefcntCheck, type RefEvent } from '../../analyses/luo/refcounts.js';
import { SourceClock } from '../../parsers/clock.js';
import type { TraceEvent } from '../../parsers/event.js';
import { MAX_SEGMENTS_PER_SOURCE, ParserEnv } from '../../parsers/parser.js';
import { QualityLedger } from '../../parsers/quality.js';

const dir = mkdtempSync(join(tmpdir(), 'luotrace-segcap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ctx = (pid: number, t: number) => `${`insmod-${pid}`.padStart(22)} [000] ..... ${t.toFixed(6).padStart(12)}: `;

/** module_get lines of one task, refcnt counting up from 2; `time(i)` gives each line's time. */
function gets(n: number, time: (i: number) => number, refcnt: (i: number) => number = (i) => 2 + i): string[] {
  return Array.from({ length: n }, (_, i) => `${ctx(1000, time(i))}module_get: demo call_site=luo_file_get refcnt=${refcnt(i)}`);
}

function write(name: string, lines: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, `# synthetic: ${name} (test/analyses/segment-cap.test.ts)\n${lines.join('\n')}\n`);
  return file;
}

function event(kind: 'boot' | 'module_get', line: number, time: number): TraceEvent {
  const common = { time, cpu: 0, pid: 1, tgid: null, comm: 'x', src: 0, line };
  return kind === 'boot'
    ? { ...common, cpu: null, kind: 'boot', name: 'boot', fields: { text: 'Linux version 7.2.13' } }
    : { ...common, kind: 'module_get', name: 'module_get', fields: { module: 'demo', callSite: 'luo_file_get', refcnt: 2 } };
}

describe('segments per source', () => {
  it('starts at most the cap of segments; later boots and clock resets are lost data, boots kept as printk', () => {
    const ledger = new QualityLedger();
    const out: TraceEvent[] = [];
    const env = new ParserEnv(0, 'f', ledger, new SourceClock(), (e) => out.push(e), 2);
    // Clock resets at lines 2, 4 and 6 (10 s back on CPU 0), a boot at line 7.
    const times = [20e9, 5e9, 20e9, 5e9, 20e9, 5e9];
    times.forEach((t, i) => env.emit(event('module_get', i + 1, t)));
    env.emit(event('boot', 7, 0));
    const lost = out.filter((e) => e.kind === 'lost').map((e) => [e.line, e.kind === 'lost' ? e.fields.marker : '']);
    expect(lost).toEqual([
      [2, 'clock-reset'],
      [4, 'clock-reset'],
      [6, 'segment-cap'],
      [7, 'segment-cap'],
    ]);
    expect(out.filter((e) => e.kind === 'boot')).toHaveLength(0);
    expect(out.find((e) => e.line === 7 && e.kind !== 'lost')?.kind).toBe('printk');
    const q = ledger.snapshot();
    expect(q.lost.all).toMatchObject({ markers: 2, countUnknown: true });
    expect(q.incomplete).toBe(true);
    expect(q.notes.some((n) => n.includes('more than 2 kernel starts or clock resets'))).toBe(true);
  });

  it('a file of clock jumps gives the cap of boots, the rest counted as lost, and the module verdicts not pass', async () => {
    const jumps = MAX_SEGMENTS_PER_SOURCE + 50;
    // Every other line 1000 s back: a clock reset at each odd line.
    const file = write('jumps.synthetic.txt', gets(2 * jumps + 1, (i) => (i % 2 === 0 ? 1000 : 1) + i * 1e-6, () => 2));
    const report = await runAnalysis([file], {});
    expect(report.boots).toHaveLength(MAX_SEGMENTS_PER_SOURCE + 1);
    expect(report.dataQuality.lost.all.markers).toBe(jumps - MAX_SEGMENTS_PER_SOURCE);
    expect(report.verdicts.find((v) => v.id === 'no-lost-events')?.status).toBe('fail');
    expect(report.verdicts.find((v) => v.id === 'refcounts-balanced')?.status).not.toBe('pass');
    // Messages name the first modules and count the rest, one per boot.
    const msg = report.verdicts.find((v) => v.id === 'refcounts-balanced')?.message ?? '';
    expect(msg.length).toBeLessThan(2000);
  });
});

describe('the refcnt check on a clock that jumps back by less than a reset', () => {
  // 0.5 s back every other line: one segment, every event waiting for a later one past its window.
  const jitter = (i: number) => (i % 2 === 0 ? 10.5 : 10) + i * 1e-6;
  const n = 3000;

  it('holds at most MAX_WINDOW_EVENTS events, and checks every one', () => {
    const stats = { mismatches: [], mismatchCount: 0 } as unknown as ModuleStats;
    const check = new RefcntCheck(stats, () => null);
    let most = 0;
    for (let i = 0; i < 20 * MAX_WINDOW_EVENTS; i++) {
      const time = jitter(i) * 1e9;
      const e: RefEvent = { time, start: time, pid: 1000, delta: 1, actual: 2 + i, line: i + 2, src: 0, site: 'luo_file_get', kind: 'module_get', fresh: i === 0 };
      check.push(e);
      most = Math.max(most, check.held);
    }
    check.flush();
    expect(most).toBeLessThanOrEqual(MAX_WINDOW_EVENTS + 1);
    expect(stats.mismatchCount).toBe(0);
  });

  it('still checks every event: counts that add up give no disagreement', async () => {
    const report = await runAnalysis([write('jitter.synthetic.txt', gets(n, jitter))], {});
    const demo = report.modules.find((m) => m.name === 'demo');
    expect(demo?.gets).toBe(n);
    expect(demo?.refcntMismatchCount).toBe(0);
  });

  it('finds one missing event far past the window cap', async () => {
    // refcnt skips one at line 2500: a get the trace does not show.
    const report = await runAnalysis([write('jitter-gap.synthetic.txt', gets(n, jitter, (i) => (i < 2500 ? 2 + i : 3 + i)))], {});
    const demo = report.modules.find((m) => m.name === 'demo');
    expect(demo?.refcntMismatchCount).toBe(1);
    expect(demo?.refcntMismatches[0]).toMatchObject({ expected: 2502, actual: 2503 });
  });
});
