// The rmmod verdict says why delete_module refused, by errno and by which pins were open at that
// line (kernel/module/main.c delete_module; docs/luo-model.md §4, §7): real captures for -EAGAIN with
// sessions and for success, the synthetic pre-series capture for -EAGAIN held by the registration
// pin, and the same real refusal with its errno changed for ENOENT and EBUSY (no such capture here).
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';
import type { AnalyzeReport } from '../../analyses/report.js';
import { rmmod } from '../../analyses/luo/verdicts/unload.js';
import { sample } from '../helpers.js';

const LIFECYCLE = ['real/lifecycle/stage1/ftrace-main.txt.gz', 'real/lifecycle/console.log.gz', 'real/lifecycle/stage2/ftrace-main.txt.gz'].map(sample);

const message = (r: AnalyzeReport): string => rmmod.evaluate(r, r.dataQuality).map((v) => v.message).join('\n');

describe('rmmod refusals by errno', async () => {
  const real = await runAnalysis(LIFECYCLE, {});
  const pre = await runAnalysis([sample('synthetic/synthetic-preseries.txt.gz')], {});
  const withError = (result: number, error: string): AnalyzeReport => {
    const r = structuredClone(real);
    Object.assign(r.boots[0].rmmod[0], { result, error });
    return r;
  };

  it('-EAGAIN while sessions hold pins is the correct merged-series behaviour, with the open session pins counted', () => {
    expect(message(real)).toMatch(/refused with -11 EAGAIN\/EWOULDBLOCK \(first at .*stage1\/ftrace-main\.txt\.gz:670, refcnt 14: 13 references held\): correct while sessions pin the module \(6 session pins, 1 FLB pin open\)/);
  });

  it('-EAGAIN with no session but a registration pin points at the pre-series registration pin', () => {
    const m = message(pre);
    expect(m).toMatch(/refused 2× with -11 EAGAIN\/EWOULDBLOCK/);
    expect(m).toMatch(/no session pinned it: the registration pin taken by liveupdate_register_file_handler at .*synthetic-preseries\.txt\.gz:\d+ keeps it/);
    expect(m).not.toContain('correct while sessions pin');
  });

  it('-ENOENT means the module was already gone, -EBUSY another user, never "correct while sessions pin"', () => {
    expect(message(withError(-2, 'ENOENT'))).toContain('refused with -2 ENOENT (first at');
    // No unload of luo_demo before that line in this boot: the sentence cannot name one (the real
    // -ENOENT after `rmmod -f` is in split-boot-real.test.ts).
    expect(message(withError(-2, 'ENOENT'))).toContain('the module was not loaded (never loaded, or unloaded before the trace began)');
    expect(message(withError(-16, 'EBUSY'))).toContain('another module depends on it');
    for (const r of [withError(-2, 'ENOENT'), withError(-16, 'EBUSY')]) expect(message(r)).not.toContain('correct while sessions pin');
  });
});
