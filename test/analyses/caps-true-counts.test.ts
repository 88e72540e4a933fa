// Caps bound lists, never counts (issue 14, "true headline numbers"): a synthetic stress run of 1200
// sessions (the report lists 1000 in full) must still say 1200 sessions ended, and the released pins
// must be every module_put at a session-pin call site, counted independently here with a regex.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';
import { renderSessions } from '../../cli/render-luo.js';
import { gen } from '../generate-helpers.js';

describe('a run longer than the session cap (synthetic stress trace)', async () => {
  const g = gen({ scenario: 'stress', cycles: 200 });
  const file = join(mkdtempSync(join(tmpdir(), 'luotrace-caps-')), 'stress.synthetic.txt');
  writeFileSync(file, g.buf);
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
