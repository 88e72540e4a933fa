// A failed live update (issue 14 case 4): a handler's freeze() returns -EIO, liveupdate_reboot and
// reboot() return -5, the old kernel rolls back and runs on, the sessions are closed afterwards.
// On SYNTHETIC EDITS of the real abort and lifecycle captures (freeze-fail-fixtures.ts): the lab's
// real freeze-fail capture was not ready in time. The facts come from docs/luo-model.md §6
// "Freeze failure variant". Report JSON, text, check and the TUI's drill-down from the verdict.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';
import { CheckReportSchema, effectiveRules, evaluateRules } from '../../reports/rules.js';
import { schemaErrors } from '../cli/check-jsonschema.js';
import { verdictRelations } from '../../cli/tui/relations.js';
import { runCli } from '../cli/run.js';
import { sample } from '../helpers.js';
import { KEY, loaded, type Screen, screen } from '../tui/helpers.js';
import { abortWithFailedKexec, lifecycleConsoleWithFailedFreeze } from './freeze-fail-fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'luotrace-freeze-fail-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};

const abortEdit = abortWithFailedKexec();
const ABORT_TRACE = write('abort-freeze-fail.synthetic.txt', abortEdit.trace);
const ABORT_CONSOLE = write('abort-freeze-fail.console.synthetic.txt', abortEdit.console);
const lifeEdit = lifecycleConsoleWithFailedFreeze();
const LIFE_TRACE = sample('real/lifecycle/stage1/ftrace-main.txt.gz');
const LIFE_CONSOLE = write('lifecycle-freeze-fail.console.synthetic.txt', lifeEdit.console);

describe('a failed freeze, then the sessions closed (abort capture + a failed kexec -e)', () => {
  it('kexec-freeze fails citing the failing returns, the token, handler and errno, and the close that followed', async () => {
    const r = await runAnalysis([ABORT_TRACE, ABORT_CONSOLE], {});
    const v = r.verdicts.find((x) => x.id === 'kexec-freeze')!;
    expect([v.status, v.reason, v.severity]).toEqual(['fail', 'freeze-failed', 'error']);
    expect(v.message).toBe(
      `boot 0: the live update failed: liveupdate_reboot returned -5 EIO (${ABORT_TRACE}:${abortEdit.returnLine}) and ` +
        `reboot(LINUX_REBOOT_CMD_KEXEC) returned -5 EIO (${ABORT_TRACE}:${abortEdit.sysExitLine}), so \`kexec -e\` failed and the old kernel ran on; ` +
        `freeze() of token 0x102 (handler luo-demo-v1, session abort-s1) failed with -5 EIO (${ABORT_CONSOLE}:${abortEdit.logLine}); ` +
        'closed after the failed kexec: abort-s1',
    );
    // The failing return first, never the entry probe's line.
    expect(v.evidenceAt[0]).toEqual({ file: ABORT_TRACE, line: abortEdit.returnLine });
    expect(v.evidenceAt).toContainEqual({ file: ABORT_TRACE, line: abortEdit.sysExitLine });
    expect(v.evidenceAt).toContainEqual({ file: ABORT_TRACE, line: abortEdit.freezeReturnLine });
    expect(r.boots[0].kexec).toMatchObject({
      result: -5,
      endLine: abortEdit.returnLine,
      syscall: { file: ABORT_TRACE, line: abortEdit.sysExitLine, result: -5, error: 'EIO' },
      failure: { token: '0x102', handler: 'luo-demo-v1', result: -5, error: 'EIO', sessionId: 0, file: ABORT_CONSOLE, line: abortEdit.logLine },
      rolledBack: [],
    });
    const s = r.sessions[0];
    expect(s.name).toBe('abort-s1');
    expect(s.outcome).toBe('aborted after the failed kexec and its rollback: session fd closed, files unpreserved');
    // The close after the failure released every pin: nothing was left pinned.
    expect(r.verdicts.find((x) => x.id === 'modules-unpinned-after-finish')!.status).toBe('pass');
  });

  it('without the console log the failing session is still named, and the report says where token and handler are', async () => {
    const r = await runAnalysis([ABORT_TRACE], {});
    const v = r.verdicts.find((x) => x.id === 'kexec-freeze')!;
    expect(v.message).toContain(`a freeze() failed with -5 EIO (session abort-s1) (${ABORT_TRACE}:${abortEdit.freezeReturnLine}); its token and handler are only in the console log`);
    expect(r.boots[0].kexec!.failure).toMatchObject({ token: null, handler: null, sessionId: 0, file: ABORT_TRACE, line: abortEdit.freezeReturnLine });
  });

  it('a console log alone (no probes) still shows the failed live update, from its "Freeze failed" line', async () => {
    const r = await runAnalysis([ABORT_CONSOLE], {});
    const v = r.verdicts.find((x) => x.id === 'kexec-freeze')!;
    expect(v.status).toBe('fail');
    expect(v.message).toBe(
      `boot 0: the live update failed: luo_file_freeze logged "Freeze failed" (${ABORT_CONSOLE}:${abortEdit.logLine}), so liveupdate_reboot (not probed) and reboot() returned the error, \`kexec -e\` failed and the old kernel ran on; ` +
        `freeze() of token 0x102 (handler luo-demo-v1) failed with -5 EIO (${ABORT_CONSOLE}:${abortEdit.logLine})`,
    );
    expect(v.evidenceAt).toEqual([{ file: ABORT_CONSOLE, line: abortEdit.logLine }]);
    expect(r.boots[0].kexec).toMatchObject({ source: 'log', endLine: null, failure: { token: '0x102', handler: 'luo-demo-v1', result: -5, sessionId: null } });
    // with the probes, the liveupdate_reboot return is the source
    expect((await runAnalysis([ABORT_TRACE, ABORT_CONSOLE], {})).boots[0].kexec!.source).toBe('probe');
  });

  it('the text report and check say the same; check fails on kexec-freeze and on the failed freeze phase', async () => {
    const text = await runCli(['analyze', ABORT_TRACE, ABORT_CONSOLE]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/✘ kexec-freeze +boot 0: the live update failed: liveupdate_reboot returned -5 EIO/);
    expect(text.stdout).toContain('#0 abort-s1  outgoing, boot 0: aborted after the failed kexec and its rollback');
    expect(text.stdout).not.toMatch(/closed before kexec/);
    const short = (f: string) => f.split('/').slice(-2).join('/');
    expect(text.stdout).toContain(
      `    kexec -e FAILED: liveupdate_reboot -5 EIO at ${short(ABORT_TRACE)}:${abortEdit.returnLine}, reboot() -5 at ${short(ABORT_TRACE)}:${abortEdit.sysExitLine}; ` +
        `freeze() of token 0x102 (luo-demo-v1) failed -5 EIO at ${short(ABORT_CONSOLE)}:${abortEdit.logLine}; the old kernel ran on`,
    );
    const check = await runCli(['check', ABORT_TRACE, ABORT_CONSOLE]);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/✘ FAIL {2}kexec-freeze +boot 0: the live update failed/);
    expect(check.stdout).toMatch(
      new RegExp(`✘ FAIL {2}phase-errors +1 failed phase \\(error\\): freeze in outgoing session abort-s1 \\(boot 0\\) returned -5 EIO \\(${ABORT_TRACE.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:${abortEdit.freezeReturnLine}\\); 2 failed phases \\(warning\\): preserve of token 0x1ee`),
    );
  });
});

describe('check --json and the report JSON of the failed live update', () => {
  it('validate against their published schemas; the phase-error rule and the kexec facts are in them', async () => {
    const check = await runCli(['check', '--json', ABORT_TRACE, ABORT_CONSOLE]);
    expect(check.code).toBe(1);
    const j = JSON.parse(check.stdout);
    CheckReportSchema.parse(j);
    expect(schemaErrors('check', j)).toEqual([]);
    const rule = j.rules.find((x: { id: string }) => x.id === 'phase-errors');
    // the preserves are one line lower than in the capture: the `# synthetic:` line is first
    expect(rule).toMatchObject({ kind: 'phase-error', status: 'fail', evidence: [{ file: ABORT_TRACE, line: abortEdit.freezeReturnLine }, { file: ABORT_TRACE, line: 470 }, { file: ABORT_TRACE, line: 490 }] });
    const analyze = await runCli(['analyze', '--json', ABORT_TRACE, ABORT_CONSOLE]);
    const a = JSON.parse(analyze.stdout);
    expect(schemaErrors('analyze', a)).toEqual([]);
    expect(a.boots[0].kexec).toMatchObject({ endLine: abortEdit.returnLine, failure: { token: '0x102', handler: 'luo-demo-v1' }, syscall: { result: -5 } });
  });
});

describe('a failed freeze rolled back across two sessions (lifecycle stage 1 + its console, edited)', () => {
  it('names the rolled-back session; the sessions are open again, not frozen or held into kexec', async () => {
    const r = await runAnalysis([LIFE_TRACE, LIFE_CONSOLE], {});
    const v = r.verdicts.find((x) => x.id === 'kexec-freeze')!;
    expect(v.status).toBe('fail');
    // err[-EIO] (CONFIG_SYMBOLIC_ERRNAME) reads as -5 EIO too
    expect(v.message).toContain(`freeze() of token 0x202 (handler luo-demo-v1, session lifecycle-s2) failed with -5 EIO (${LIFE_CONSOLE}:${lifeEdit.logLine})`);
    expect(v.message).toContain('rolled back: lifecycle-s1 unfrozen (luo_file_unfreeze); still open at the end: lifecycle-s1, lifecycle-s2');
    expect(v.evidenceAt[0]).toEqual({ file: LIFE_CONSOLE, line: lifeEdit.returnLine });
    expect(r.boots[0].kexec).toMatchObject({ rolledBack: [0], failure: { token: '0x202', result: -5, error: 'EIO', sessionId: 1 } });
    expect(r.sessions.map((s) => [s.name, s.state, s.outcome])).toEqual([
      ['lifecycle-s1', 'open', 'frozen, then rolled back after the failed kexec; still open at the end of the trace'],
      ['lifecycle-s2', 'open', 'still open after the failed kexec, at the end of the trace'],
    ]);
    const open = r.modules[0].pinWindows.filter((w) => w.putLine === null && w.class !== 'vfs');
    expect(open).toHaveLength(7);
    for (const w of open) expect(w.expectedOpen).not.toMatch(/kexec/);
    // check: kexec-freeze fails; nothing claims the pins leaked
    const c = evaluateRules(r, effectiveRules(null));
    expect(c.rules.filter((x) => x.status === 'fail').map((x) => x.id)).toEqual(['kexec-freeze', 'phase-errors']);
  });
});

describe('TUI: the drill-down from the failed kexec-freeze verdict', () => {
  let s: Screen | undefined;
  afterEach(() => s?.quit());

  it('lists the sessions of the failed live update and their pins (not "0 pin windows · 0 sessions")', async () => {
    const model = await loaded([ABORT_TRACE, ABORT_CONSOLE]);
    const r = model.report!;
    const rel = verdictRelations(r, r.verdicts.find((x) => x.id === 'kexec-freeze')!);
    expect(rel.sessions.map((x) => x.name)).toEqual(['abort-s1']);
    // the 3 file pins and the FLB pin of abort-s1, each released by the close after the failure
    // (the failed preserve's get/put pair is a window of its own)
    expect(rel.pins.length).toBeGreaterThanOrEqual(4);
    for (const p of rel.pins) expect(rel.why.get(`${p.window.file}:${p.window.getLine}`)).toMatch(/^held through the failed live update, released at line \d+ when its session was closed$/);
    s = screen(model, 120, 40);
    await s.waitFor('VERDICTS');
    for (let i = 0; i < 20 && !/▸ ✘ kexec-freeze/.test(s.frame()); i++) await s.press(KEY.down);
    expect(s.frame()).toMatch(/▸ ✘ kexec-freeze/);
    await s.press(KEY.enter);
    const f = await s.waitFor('what it is about');
    expect(f).toMatch(new RegExp(`what it is about: ${rel.pins.length} pin windows · (\\d+ phases? · )?1 session · `));
    expect(f).toContain('abort-s1');
  });
});
