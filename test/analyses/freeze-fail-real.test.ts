// Issue 14 cases 4 and 13 on a REAL failed live update (samples/real/freeze-fail, README there): the
// demo handler's freeze() of token 0x202 returns -EIO inside liveupdate_reboot, which returns -5;
// reboot() returns -EIO, `kexec -e` fails, the old kernel rolls freeze-s1 back and runs on, and both
// session fds are closed later. The console log's "Freeze failed" line is stamped 175 ms before the
// trace's liveupdate_reboot (the serial console and the trace clock disagree under QEMU/TCG).
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';
import { sample } from '../helpers.js';
import { runCli } from '../cli/run.js';

const MAIN = sample('real/freeze-fail/stage1/ftrace-main.txt.gz');
const CONSOLE = sample('real/freeze-fail/console.log.gz');

describe('real freeze-fail: a freeze() that fails with -EIO, the rollback, the sessions closed later', async () => {
  const r = await runAnalysis([MAIN, CONSOLE], {});
  const verdict = (id: string) => r.verdicts.find((v) => v.id === id);

  it('kexec-freeze fails, citing the failing returns, the token, handler and errno from the console line, and the rollback', () => {
    const v = verdict('kexec-freeze')!;
    expect(v.status).toBe('fail');
    expect(v.message).toContain(`liveupdate_reboot returned -5 EIO (${MAIN}:810)`);
    expect(v.message).toContain(`reboot(LINUX_REBOOT_CMD_KEXEC) returned -5 EIO (${MAIN}:811)`);
    expect(v.message).toContain(`freeze() of token 0x202 (handler luo-demo-v1, session freeze-s2) failed with -5 EIO (${CONSOLE}:318)`);
    expect(v.message).toContain('rolled back: freeze-s1 unfrozen (luo_file_unfreeze); closed after the failed kexec: freeze-s1, freeze-s2');
    expect(r.boots[0].kexec?.failure).toMatchObject({ token: '0x202', handler: 'luo-demo-v1', result: -5, error: 'EIO', line: 318 });
  });

  it('the sessions were aborted after the failed kexec, not "before kexec"', () => {
    expect(r.sessions.map((s) => [s.name, s.state])).toEqual([
      ['freeze-s1', 'aborted'],
      ['freeze-s2', 'aborted'],
    ]);
    for (const s of r.sessions) expect(s.outcome).toMatch(/^aborted after the failed kexec and its rollback/);
  });

  it('without the console log the verdict still fails on the returns and says where the token and handler are', async () => {
    const alone = await runAnalysis([MAIN], {});
    const v = alone.verdicts.find((x) => x.id === 'kexec-freeze')!;
    expect(v.status).toBe('fail');
    expect(v.message).toContain(`(${MAIN}:810)`);
    expect(v.message).toMatch(/token and handler are only in the console log .*: add it/);
  });

  it('check fails on kexec-freeze and on the phase-errors rule, which names the failed freeze and its errno', async () => {
    const c = await runCli(['check', '--json', MAIN, CONSOLE]);
    expect(c.code).toBe(1);
    const rules = JSON.parse(c.stdout).rules as Array<{ id: string; status: string; message: string }>;
    const byId = Object.fromEntries(rules.map((x) => [x.id, x]));
    expect(byId['kexec-freeze'].status).toBe('fail');
    expect(byId['phase-errors'].status).toBe('fail');
    expect(byId['phase-errors'].message).toContain('freeze in outgoing session freeze-s2 (boot 0) returned -5 EIO');
    // the pins were all released by the later abort: the unpin verdicts pass
    expect(byId['modules-unpinned-after-finish'].status).toBe('pass');
    expect(byId['refcounts-balanced'].status).toBe('pass');
  });
});
