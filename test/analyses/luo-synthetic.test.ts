// LUO analyses on synthetic traces (samples/synthetic, made by samples/generate.ts in the real
// kernel's exact format): what the real captures cannot show — a pre-series kernel pinning at
// registration, a leaked get, a put without get, lost events inside a pin window, a forced unload
// with pins outstanding, unregister returning -EBUSY.
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';
import type { AnalyzeReport } from '../../analyses/report.js';
import { sample } from '../helpers.js';

const analyze = (name: string) => runAnalysis([sample(`synthetic/${name}.txt.gz`)], {});
const v = (r: AnalyzeReport, id: string) => r.verdicts.find((x) => x.id === id);
/** Line numbers of the file's lines that match `re`, counted independently of luotrace. */
function grepLines(name: string, re: RegExp): number[] {
  const text = gunzipSync(readFileSync(sample(`synthetic/${name}.txt.gz`))).toString();
  return text
    .split('\n')
    .map((l, i) => (re.test(l) ? i + 1 : 0))
    .filter(Boolean);
}

describe('pre-series kernel: pinned at registration, no session (luo-model.md §7(a))', async () => {
  const r = await analyze('synthetic-preseries');
  it('detects the pre-series model from the registration call sites', () => {
    expect(r.kernelModel.id).toBe('pre-series');
    expect(r.kernelModel.evidence.join(' ')).toMatch(/call_site=liveupdate_register_file_handler/);
  });
  it('flags the pin taken with no session in progress, at the registration get', () => {
    const verdict = v(r, 'no-pins-outside-sessions');
    expect(verdict?.ok).toBe(false);
    const regGets = grepLines('synthetic-preseries', /module_get: luo_demo call_site=liveupdate_register_/);
    expect(regGets.length).toBe(2);
    expect(verdict?.evidence).toEqual(regGets);
    expect(r.sessions).toEqual([]);
  });
  it('rmmod is refused while no session exists', () => {
    expect(r.boots[0].rmmod.map((x) => x.error)).toEqual(['EAGAIN', 'EAGAIN']);
  });
});

describe('leaked get: one luo_preserve_file ref never put after the abort', async () => {
  const r = await analyze('synthetic-leak');
  it('names the module, session, call site and line that left the pin', () => {
    const verdict = v(r, 'modules-unpinned-after-finish');
    expect(verdict?.ok).toBe(false);
    const leak = r.modules[0].pinWindows.filter((w) => w.putLine === null && w.class === 'luo-file');
    expect(leak).toHaveLength(1);
    expect(leak[0]).toMatchObject({ module: 'luo_demo', session: 'abort-s1', getCallSite: 'luo_preserve_file', expectedOpen: null });
    expect(verdict?.evidence).toEqual([leak[0].getLine]);
    expect(grepLines('synthetic-leak', /module_get: luo_demo call_site=luo_preserve_file/)).toContain(leak[0].getLine);
    expect(verdict?.message).toContain(`session abort-s1, call_site=luo_preserve_file`);
    expect(r.modules[0].finalRefcnt).toBe(2);
  });
});

describe('put without get', async () => {
  const r = await analyze('synthetic-put-without-get');
  it('is a refcount finding with its line, not a crash or a silent pairing', () => {
    const verdict = v(r, 'refcounts-balanced');
    expect(verdict?.ok).toBe(false);
    expect(r.modules[0].putsWithoutGet).toEqual([expect.objectContaining({ line: 650, callSite: 'luo_file_unpreserve_files', reason: 'no-get' })]);
    expect(verdict?.evidence).toContain(650);
  });
});

describe('lost events in the middle of a pin window', async () => {
  const r = await analyze('synthetic-lost-in-pin-window');
  it('the windows open across the gap are marked incomplete and the data is reported lost', () => {
    const lostAt = grepLines('synthetic-lost-in-pin-window', /^CPU:0 \[LOST 7 EVENTS\]$/);
    expect(lostAt).toEqual([229]);
    expect(r.dataQuality.lost['0']).toMatchObject({ events: 7, markers: 1 });
    const crossing = r.modules.flatMap((m) => m.pinWindows).filter((w) => w.incomplete);
    expect(crossing.length).toBeGreaterThan(0);
    expect(crossing.every((w) => w.getLine < 229)).toBe(true);
    const verdict = v(r, 'no-lost-events');
    expect(verdict?.ok).toBe(false);
    expect(verdict?.message).toMatch(/7 events lost \(CPU 0: 7\)/);
  });
});

describe('forced unload with pins outstanding (luo-model.md §7(b))', async () => {
  const r = await analyze('synthetic-forced-unload');
  it('module_free while referenced is an error, with the forced rmmod as evidence', () => {
    const verdict = v(r, 'no-forced-unload-with-pins');
    expect(verdict?.ok).toBe(false);
    const free = grepLines('synthetic-forced-unload', /module_free: luo_demo/);
    expect(r.modules[0].freed).toEqual([expect.objectContaining({ line: free[0], refcnt: 14 })]);
    expect(r.boots[0].rmmod.some((x) => x.forced && x.result === 0)).toBe(true);
    expect(verdict?.evidence).toContain(free[0]);
  });
});

describe('unregister returning -EBUSY (PRE, §7(c))', async () => {
  const r = await analyze('synthetic-unregister-error');
  it('each failed unregister is named with its line', () => {
    const verdict = v(r, 'no-unregister-errors');
    expect(verdict?.ok).toBe(false);
    const rets = grepLines('synthetic-unregister-error', /liveupdate_unregister_(flb|file_handler)__return: .* ret=-16/);
    expect(rets).toHaveLength(2);
    const failed = r.boots[0].registrations.filter((x) => x.action === 'unregister' && x.result === -16);
    expect(failed.map((x) => [x.what, x.error])).toEqual([
      ['flb', 'EBUSY'],
      ['file-handler', 'EBUSY'],
    ]);
  });
});

describe('--kernel-model forces the model', () => {
  it('reports it as forced', async () => {
    const r = await runAnalysis([sample('real/abort/stage1/ftrace-main.txt.gz')], { kernelModel: 'merged' });
    expect(r.kernelModel).toMatchObject({ id: 'merged', forced: true });
  });
  it('an unknown model is a usage error', async () => {
    await expect(runAnalysis([sample('real/abort/stage1/ftrace-main.txt.gz')], { kernelModel: 'v9' })).rejects.toThrow(/unknown model v9/);
  });
});
