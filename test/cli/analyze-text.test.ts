// The analyze text report on the real lifecycle capture: the refcnt-over-time charts under each
// module (asciichart), and --no-charts.
import { describe, expect, it } from 'vitest';
import { runCli } from './run.js';

const LIFECYCLE = ['samples/real/lifecycle/stage1/ftrace-main.txt.gz', 'samples/real/lifecycle/console.log.gz', 'samples/real/lifecycle/stage2/ftrace-main.txt.gz'];

/** The chart block (header, plot rows, axis) under the module line of `boot`. */
function chartOf(text: string, boot: number): string[] {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`  luo_demo (boot ${boot}):`));
  expect(at).toBeGreaterThan(0);
  const out: string[] = [];
  for (let i = at + 1; i < lines.length && !lines[i].startsWith('     gets '); i++) out.push(lines[i]);
  return out;
}

const labels = (chart: string[]) => chart.slice(1, -1).map((l) => Number(l.trim().split(/\s+/)[0]));

describe('analyze text report: refcnt charts', async () => {
  const withCharts = await runCli(['analyze', ...LIFECYCLE]);
  const without = await runCli(['analyze', '--no-charts', ...LIFECYCLE]);

  it('draws each module entry its refcnt over time, from idle (1) to the peak the report gives', () => {
    expect(withCharts.code).toBe(0);
    // Boot 0: 13 gets and 1 put printed refcnt= (14 values), 1 -> 14 with 7 pins held across kexec.
    const b0 = chartOf(withCharts.stdout, 0);
    expect(b0[0]).toContain('refcnt over time (14 module_get/put values');
    expect(Math.max(...labels(b0))).toBe(14);
    expect(Math.min(...labels(b0))).toBe(1);
    // The time axis spans the first and last refcnt= of the stage 1 trace.
    expect(b0.at(-1)).toMatch(/^\s+85\.057231 s\s+87\.173342 s$/);
    // Boot 1: 27 values; the peak is the report's max refcnt (11), and it ends back at idle.
    const b1 = chartOf(withCharts.stdout, 1);
    expect(b1[0]).toContain('(27 module_get/put values');
    expect(Math.max(...labels(b1))).toBe(11);
    expect(withCharts.stdout).toContain('luo_demo (boot 1): refcnt 1 → 1 (raw, 1 = idle), max 11');
    // The line ends on the lowest row (back to refcnt 1): asciichart draws the last drop down the
    // last column, ending in ╰ on the row where the value lands.
    const rows = b1.slice(1, -1);
    const lastCol = Math.max(...rows.map((r) => r.trimEnd().length)) - 1;
    const plotted = rows.map((r, i) => (r.length > lastCol && r[lastCol] !== ' ' ? i : -1)).filter((i) => i >= 0);
    expect(plotted.at(-1)).toBe(rows.length - 1);
    expect(rows.at(-1)?.[lastCol]).toBe('╰');
  });

  it('--no-charts leaves them out and changes nothing else', () => {
    expect(without.code).toBe(0);
    expect(without.stdout).not.toContain('refcnt over time');
    // Drop each chart block (its header up to the line before "gets") and compare the rest.
    const kept: string[] = [];
    let inChart = false;
    for (const l of withCharts.stdout.split('\n')) {
      if (l.includes('refcnt over time (')) inChart = true;
      else if (l.startsWith('     gets ')) inChart = false;
      if (!inChart) kept.push(l);
    }
    const stripped = kept.join('\n');
    expect(stripped).toBe(without.stdout);
  });

  it('--json has no chart (the report is the data)', async () => {
    const json = await runCli(['analyze', '--json', ...LIFECYCLE]);
    expect(json.stdout).not.toContain('refcnt over time');
  });
});

describe('analyze: reading progress on stderr', () => {
  it('--progress: one line per update, each file ends at 100% with its lines and events', async () => {
    const r = await runCli(['analyze', '--progress', '--json', ...LIFECYCLE]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { sources: Array<{ file: string; events: number }> };
    const done = r.stderr.split('\n').filter((l) => l.endsWith(', done'));
    expect(done).toHaveLength(3);
    report.sources.forEach((s, i) => {
      expect(done[i]).toContain(`luotrace: reading ${s.file} (${i + 1}/3) 100% `);
      expect(done[i]).toContain(` ${s.events.toLocaleString('en-US')} events`);
    });
  });

  it('not shown when stderr is not a terminal (CI logs), nor with --no-progress', async () => {
    expect((await runCli(['analyze', '--json', ...LIFECYCLE])).stderr).toBe('');
    expect((await runCli(['analyze', '--no-progress', '--json', ...LIFECYCLE])).stderr).toBe('');
  });
});
