// `luotrace diff` as text on runs of different length: a labelled cut of the real contention capture
// (its first 10 000 lines) against the whole 11 MB one (about 2 s of CPU, so in the slow set). The
// same two runs compared as reports, figure by figure, are in test/reports/diff.test.ts (fast set).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { sample } from '../helpers.js';
import { runCli } from './run.js';

const tmp = mkdtempSync(join(tmpdir(), 'luotrace-diff-'));

describe('diff of runs of different length (a labelled cut of the real stress capture against the whole)', () => {
  it('the text shows each run\'s length and rates, says the decision is on rates, and lists the totals that rose while their rates fell', async () => {
    const whole = sample('real/contention-no-writer/stage1/ftrace-main.txt.gz');
    const cut = join(tmp, 'contention-no-writer.first-10000-lines.cut.txt');
    writeFileSync(cut, gunzipSync(readFileSync(whole)).toString('utf8').split('\n').slice(0, 10_000).join('\n'));
    const t = await runCli(['diff', cut, whole]);
    const runs = t.stdout.slice(t.stdout.indexOf('RUNS:'), t.stdout.indexOf('MODULE REFERENCES'));
    expect(runs).toMatch(/^ {2}sessions +54 +542 +×10\.04$/m);
    expect(runs).toMatch(/^ {2}contended per acquisition +57\.8% +57\.7% +=$/m);
    expect(runs).toMatch(/^ {2}waits per session +21\.98 +22\.34 +×1\.02$/m);
    expect(runs).toContain('  the runs differ in length (2055 → 20990 LUO lock acquisitions, 54 → 542 sessions): lock contention and total wait are decided per acquisition, totals shown beside them\n');
    expect(runs).toContain('  - luo_session_global.outgoing.rwsem rwsem:W: contended 10 → 88 (+780%), but contended per acquisition 9.80% → 8.12%: not a regression, the rate decides when the runs differ in length\n');
    expect(t.stdout).toMatch(/^ {2}luo_session_global\.outgoing\.rwsem +rwsem:W +102\/1084 +10\/88 +9\.80%\/8\.12% /m);
    expect(t.stdout).not.toMatch(/✘ luo_session_global\.outgoing\.rwsem rwsem:W contended/);
  });
});
