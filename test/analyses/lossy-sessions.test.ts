// LUO sessions on REAL lossy bpftrace captures (samples/real/lossy-bpftrace, samples/real/contention-
// no-writer): a task that enters a per-session LUO call while an earlier one is still open, with events
// lost since, shows the earlier one returned unseen (docs/luo-model.md §1.6). Its phase ends "return
// lost"; an unpreserve so closed is the session's release (aborted), a create so closed has an unknown
// outcome (state `lost`). Without the rule, such sessions stay `creating`/`open` for ever and later
// sessions at the same file-set address pile their phases onto them: the table grows with the trace.
import { describe, expect, it } from 'vitest';
import { createAnalysis } from '../../analyses/pipeline.js';
import type { AnalyzeReport } from '../../analyses/report.js';
import { AnalyzeReportSchema } from '../../analyses/report.js';
import { MAX_DETAILED_SESSIONS } from '../../analyses/luo/sessions.js';
import type { TraceEvent } from '../../parsers/event.js';
import { runCli } from '../cli/run.js';
import { parseFiles, sample } from '../helpers.js';
import { sharedAnalysis } from '../analysis-cache.js';

const LOSSY = 'real/lossy-bpftrace/stage1/bpftrace-events.txt.gz';
const NO_WRITER = 'real/contention-no-writer/stage1/bpftrace-events.txt.gz';

const total = (r: AnalyzeReport) => r.sessions.length + Object.values(r.sessionsOmitted ?? {}).reduce((a, n) => a + n, 0);

describe('sessions closed by lost returns: the real lossy bpftrace capture', async () => {
  const r = await sharedAnalysis([sample(LOSSY)]);

  it('validates against the report schema', () => {
    AnalyzeReportSchema.parse(JSON.parse(JSON.stringify(r)));
  });

  it('a create whose return was lost is `lost`, its outcome says so, and it is never left `creating` mid-trace', () => {
    const lost = r.sessions.filter((s) => s.state === 'lost');
    expect(lost.length).toBeGreaterThan(0);
    for (const s of lost) {
      expect(s.side).toBe('outgoing');
      expect(s.outcome).toBe('unknown: the return of luo_session_create was lost with lost events (it may have failed, e.g. -EEXIST)');
      const create = s.phases.find((p) => p.name === 'create');
      expect(create).toMatchObject({ returnLost: true, acrossLoss: true, end: null, result: null, durationNs: null });
    }
    // A create still open at the end is one whose task made no LUO call after it: the last ones only.
    for (const s of r.sessions.filter((x) => x.state === 'creating')) {
      const later = r.sessions.filter((x) => x.pid === s.pid && x.phases.some((p) => p.line > s.phases[0].line && p.name !== 'create'));
      expect(later, `session ${s.id}`).toEqual([]);
    }
  });

  it('an unpreserve whose return was lost aborts its session, in words that name the loss', () => {
    const closed = r.sessions.filter((s) => s.phases.some((p) => p.name === 'unpreserve' && p.returnLost));
    expect(closed.length).toBeGreaterThan(0);
    for (const s of closed) {
      expect(s.state).toBe('aborted');
      expect(s.outcome).toMatch(/^aborted: session fd closed, files unpreserved .*; the return of luo_file_unpreserve_files was lost with lost events$/);
    }
  });

  it('returns whose entry was lost are counted in a data-quality note, not listed one by one as boot phases', () => {
    const note = r.dataQuality.notes.find((n) => n.includes('returns of LUO session functions came after lost events without their entry'));
    expect(note).toMatch(/^9 returns of LUO session functions came after lost events without their entry \(.*luo_file_unpreserve_files ×4.*; first at .*bpftrace-events\.txt\.gz:162\): counted here, not listed as phases$/);
    expect(r.boots.flatMap((b) => b.globalPhases).map((p) => p.name)).toEqual(['deserialize']);
  });

  it('the text report shows those phases as "return lost", and only no-lost-events fails', async () => {
    const text = await runCli(['analyze', '--no-progress', sample(LOSSY)]);
    expect(text.stdout).toMatch(/unpreserve .*\? \(events lost in between\)\s+return lost/);
    const check = await runCli(['check', '--json', sample(LOSSY)]);
    const rules = JSON.parse(check.stdout).rules as { id: string; status: string }[];
    expect(rules.filter((x) => x.status === 'fail').map((x) => x.id)).toEqual(['no-lost-events']);
    expect(rules.find((x) => x.id === 'max-phase-duration')?.status).toBe('inconclusive');
  });
});

describe('sessions closed by lost returns: contention-no-writer bpftrace (968 "Lost" lines)', async () => {
  const r = await sharedAnalysis([sample(NO_WRITER)]);

  it('no session holds two releases: an unpreserve ends its session (luo_session_release frees it)', () => {
    for (const s of r.sessions) expect(s.phases.filter((p) => p.name === 'unpreserve').length, `session ${s.id}`).toBeLessThanOrEqual(1);
  });

  it('sessions still live at the end are few: the workers made later calls after nearly all of them', () => {
    const live = r.sessions.filter((s) => s.state === 'open' || s.state === 'creating');
    expect(live.length).toBeLessThanOrEqual(10);
    expect(r.sessions.filter((s) => s.state === 'lost').length).toBeGreaterThan(10);
  });
});

describe('the session table stays bounded on a long lossy stream', () => {
  it('the real lossy capture fed 300 times: retained sessions and phases stay under a bound while the counts grow', async () => {
    const read = await parseFiles([sample(LOSSY)]);
    const evs = read.events;
    const times = evs.map((e) => e.time).filter((t): t is number => t !== null);
    const span = Math.max(...times) - Math.min(...times) + 1e9;
    const pipeline = await createAnalysis({});
    pipeline.sourceFormat(read.sources[0].format);
    const REPEATS = 300;
    const sizes: number[] = [];
    for (let k = 0; k < REPEATS; k++) {
      for (const e of evs) pipeline.push({ ...e, time: e.time === null ? null : e.time + k * span } as TraceEvent);
      pipeline.flush();
      if (k === 99 || k === REPEATS - 1) {
        const rep = pipeline.report({ sources: read.sources, quality: read.quality }, { snapshot: true });
        sizes.push(rep.sessions.length, rep.sessions.reduce((a, s) => a + s.phases.length, 0), total(rep));
      }
    }
    const [kept100, phases100, total100, kept300, phases300, total300] = sizes;
    // Counts are true totals: they grow with the stream.
    expect(total300).toBeGreaterThan(2.5 * total100);
    // Records kept: the ended ones up to the cap, plus the few live at the end of a pass.
    expect(kept300).toBeLessThanOrEqual(MAX_DETAILED_SESSIONS + 50);
    expect(kept300 - kept100).toBeLessThanOrEqual(50);
    expect(phases300 - phases100).toBeLessThanOrEqual(250);
    expect(phases100).toBeLessThanOrEqual(10 * kept100);
  });
});
