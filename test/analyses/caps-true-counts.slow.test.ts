// Caps bound lists, never counts (issue 14 case 2, "true headline numbers"); the Chrome export bounds
// its detail, not its time span. Below: a synthetic stress run of 1200
// sessions (the report lists 1000 in full) must still say 1200 sessions ended, and the released pins
// must be every module_put at a session-pin call site, counted independently here with a regex.
// In the slow set: the trace is 49 MB, and its analysis, export and TUI load cost about 15 s of CPU.
// The bounded collector behind the export is tested in caps-true-counts.test.ts (fast set).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';
import { renderSessions } from '../../cli/render-luo.js';
import { gen } from '../generate-helpers.js';
import { chromeTraceOf } from '../../cli/export.js';
import { loaded, screen } from '../tui/helpers.js';

// One trace for both groups (the generator is deterministic: they used to make it twice).
const g = gen({ scenario: 'stress', cycles: 200 });
const file = join(mkdtempSync(join(tmpdir(), 'luotrace-caps-')), 'stress.synthetic.txt');
writeFileSync(file, g.buf);

describe('a run longer than the session cap (synthetic stress trace)', async () => {
  const report = await runAnalysis([file], {});
  // Every session the generator creates (create returned 0) is closed again: aborted before any kexec.
  const ended = g.lines.filter((l) => /luo_session_create__return: .* ret=0$/.test(l)).length;

  it('lists at most 1000 sessions but counts every one of them', () => {
    const omitted = Object.values(report.sessionsOmitted).reduce((a, n) => a + n, 0);
    expect(ended).toBeGreaterThan(1000);
    expect(report.sessions.length).toBe(1000);
    expect(omitted).toBeGreaterThan(0);
    expect(report.sessions.length + omitted).toBe(ended);
    expect(renderSessions(report, { limit: 5 }).split('\n')[0]).toBe(
      `SESSIONS (${ended}; 1000 listed, ${omitted} more counted by state: ${Object.entries(report.sessionsOmitted).map(([k, n]) => `${k} ${n}`).join(', ')})`,
    );
  });

  it('the unpinned verdict counts every ended session and every released session pin', () => {
    const v = report.verdicts.find((x) => x.id === 'modules-unpinned-after-finish')!;
    const puts = g.lines.filter((l) => /module_put: .*call_site=(luo_file_unpreserve_files|liveupdate_flb_put_outgoing|luo_file_finish|liveupdate_flb_put_incoming)\b/.test(l)).length;
    expect(v.status).toBe('pass');
    expect(v.message).toContain(`(${puts} pins released by`);
    expect(v.message).toContain(`; ${ended} sessions ended)`);
  });
});

describe('a long run in the text report, the TUI and the Chrome export (synthetic stress trace)', async () => {
  const ended = g.lines.filter((l) => /luo_session_create__return: .* ret=0$/.test(l)).length;
  const { report, trace } = await chromeTraceOf([file], {});
  const omitted = ended - 1000;

  it('the text report counts every session, in the outcome line and in "… N more"', () => {
    const text = renderSessions(report, { limit: 5 }).split('\n');
    expect(text[1]).toBe(`  ${ended} aborted: session fd closed, files unpreserved (no kexec in these inputs)`);
    expect(text.at(-1)).toBe(`  … ${ended - 5} more sessions (995 with --limit N or --json; ${omitted} counted by state only)`);
  });

  it('the TUI says the true count on Overview and Sessions', async () => {
    const model = await loaded([file]);
    const s = screen(model, 120, 30);
    try {
      await s.waitFor(`${ended} sessions`);
      await s.press('2');
      await s.waitFor(`SESSIONS  ${ended} (1000 listed; ${omitted} more counted by state: aborted ${omitted})`);
    } finally {
      s.quit();
    }
  });

  it('the Chrome export draws the phases of every session, listed or not, over the whole run', () => {
    // Every phase the analysis counted: phaseStats covers the sessions' phases, listed or counted
    // alike, and the boot-wide ones are listed per boot.
    const counted = report.phaseStats.reduce((a, p) => a + p.count, 0) + report.boots.reduce((a, b) => a + b.globalPhases.length, 0);
    const phases = trace.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'luo.phase') as Array<{ ts: number; dur: number; args: Record<string, unknown> }>;
    expect(trace.otherData.counts.phases).toBe(counted);
    expect(phases.length).toBe(counted);
    // The last session's phases are drawn: the slices reach the last close in the trace.
    const lastClose = Math.max(...phases.map((p) => p.ts + p.dur));
    const lastAbortLine = g.lines.filter((l) => /luo_file_unpreserve_files__return/.test(l)).at(-1)!;
    const lastAbortUs = Number(/ (\d+\.\d+): /.exec(lastAbortLine)![1]) * 1e6;
    expect(Math.abs(lastClose - lastAbortUs)).toBeLessThan(1);
    expect(new Set(phases.map((p) => p.args.session).filter((x) => x !== null)).size).toBe(ended);
    expect(trace.otherData.notes).toContain(`the report lists only part of a long run: ${omitted} ended sessions are counted there, not listed; all ${report.phaseStats.reduce((a, p) => a + p.count, 0) - report.sessions.reduce((a, x) => a + x.phases.length, 0)} of their timed phases are drawn here`);
  });
});
