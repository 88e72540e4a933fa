// FLB pins are the FLB's, not a session's (issue 14, case 7; docs/luo-model.md §1.4, §4 "FLB owner").
// On the real lifecycle capture the FLB luo-demo-flb-v1's ref is taken in boot 1 while session
// lifecycle-s1 retrieves its first file (stage2 line 309, luo_flb_retrieve_one) and dropped inside
// lifecycle-s2's finish (line 847, liveupdate_flb_put_incoming): charging it to lifecycle-s1 made that
// session read "4 taken / 4 released" though it released 3. Each session now shows its 3 file pins,
// and the FLB pin is listed with the FLB's name and no session, in the JSON, the text report, check,
// the TUI and the chrome export.
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';
import { countByKind, isFlbPin, pinKind, pinOwner } from '../../analyses/luo/pin-kinds.js';
import { renderLuoText } from '../../cli/render-luo.js';
import { runCli } from '../cli/run.js';
import { CAPTURES, loaded, screen } from '../tui/helpers.js';

const LIFECYCLE = CAPTURES.lifecycle;

describe('FLB pins on the real lifecycle capture', async () => {
  const r = await runAnalysis(LIFECYCLE, {});
  const windows = r.modules.flatMap((m) => m.pinWindows);
  const flb = windows.filter(isFlbPin);

  it('are owned by the FLB, named, and charged to no session', () => {
    expect(flb.map((w) => [w.boot, w.getLine, w.getCallSite, w.putLine, w.putCallSite, w.session, w.sessionId, w.flb])).toEqual([
      // boot 0: taken while lifecycle-s1 preserved its first luo_demo file; travels into the kexec
      [0, 276, 'luo_flb_file_preserve', null, null, null, null, 'luo-demo-flb-v1'],
      // boot 1: taken in lifecycle-s1's retrieve, dropped in lifecycle-s2's finish
      [1, 309, 'luo_flb_retrieve_one', 847, 'liveupdate_flb_put_incoming', null, null, 'luo-demo-flb-v1'],
    ]);
    expect(flb[0].expectedOpen).toMatch(/^held across kexec/);
    expect(flb.map(pinKind)).toEqual(['flb', 'flb']);
  });

  it('each session counts its own file pins only: 3 taken, 3 released in boot 1', () => {
    const pins = Object.fromEntries(r.sessions.map((s) => [`${s.boot}:${s.name}`, s.pins]));
    expect(pins).toEqual({
      '0:lifecycle-s1': { taken: 3, released: 0, open: 3 },
      '0:lifecycle-s2': { taken: 3, released: 0, open: 3 },
      '1:lifecycle-s1': { taken: 3, released: 3, open: 0 },
      '1:lifecycle-s2': { taken: 3, released: 3, open: 0 },
    });
    // The FLB's put happened inside lifecycle-s2's finish, whose window spans it.
    const s2finish = r.sessions.find((s) => s.boot === 1 && s.name === 'lifecycle-s2')!.phases.find((p) => p.name === 'finish')!;
    expect(s2finish.line).toBeLessThan(847);
    expect(s2finish.endLine!).toBeGreaterThan(847);
  });

  it('the text report names the FLB in the pin table and counts the kinds apart', () => {
    const text = renderLuoText(r, { limit: 20 }).join('\n');
    expect(text).toMatch(/ 309 +luo_flb_retrieve_one +847 +liveupdate_flb_put_incoming +FLB luo-demo-flb-v1 +1\.78 s +released/);
    expect(text).toMatch(/ 276 +luo_flb_file_preserve +- +- +FLB luo-demo-flb-v1 +- +open: held across kexec/);
    expect(text).toContain('LUO pins 3 taken / 3 released / 0 open');
    expect(text).not.toContain('LUO pins 4 taken');
    expect(text).toContain('(6 session pins, 1 FLB pin released by luo_file_finish, liveupdate_flb_put_incoming; 2 sessions ended)');
    expect(text).toContain('correct while sessions pin the module (6 session pins, 1 FLB pin open)');
  });

  it('check passes: the FLB pin is released once its last user is done', async () => {
    const c = await runCli(['check', '--json', ...LIFECYCLE]);
    expect(c.code).toBe(0);
    const unpinned = JSON.parse(c.stdout).rules.find((x: { id: string }) => x.id === 'modules-unpinned-after-finish');
    expect(unpinned).toMatchObject({ status: 'pass' });
    expect(unpinned.message).toContain('(6 session pins, 1 FLB pin released by');
  });

  it('the chrome export carries the FLB, not a session, in the pin slice', async () => {
    const c = await runCli(['export', '--format', 'chrome-json', ...LIFECYCLE]);
    const pins = JSON.parse(c.stdout).traceEvents.filter((e: { ph: string; cat: string; args?: { class?: string } }) => e.ph === 'b' && e.cat === 'module.pin' && e.args?.class === 'luo-flb');
    expect(pins.map((e: { name: string; args: { flb: string; session: string | null; getLine: number } }) => [e.name, e.args.flb, e.args.session, e.args.getLine])).toEqual([
      ['pin luo_demo (luo-flb)', 'luo-demo-flb-v1', null, 276],
      ['pin luo_demo (luo-flb)', 'luo-demo-flb-v1', null, 309],
    ]);
  });

  it('the TUI Modules page shows the FLB as the owner of its window', async () => {
    const model = await loaded(LIFECYCLE);
    const s = screen(model, 100, 40);
    try {
      await s.press('3');
      await s.waitFor('refcnt over time');
      await s.press('j');
      const f = await s.waitFor(/309 luo_flb_retrieve_one +FLB luo-demo-…/);
      expect(f).not.toMatch(/309 luo_flb_retrieve_one +lifecycle-s1/);
    } finally {
      s.quit();
    }
  });
});

describe('the one classification', () => {
  it('counts kinds apart and names the owner of each', () => {
    const w = (cls: string, extra: object = {}) => ({ class: cls, session: null, sessionId: null, flb: null, ...extra });
    expect(countByKind([w('luo-file'), w('luo-file'), w('luo-flb'), w('vfs'), w('luo-registration')])).toBe('2 session pins, 1 FLB pin, 1 registration pin, 1 VFS reference');
    expect(pinOwner(w('luo-flb', { flb: 'iommu-core-v1', session: 's1' }))).toBe('FLB iommu-core-v1');
    expect(pinOwner(w('luo-flb'))).toBe('FLB (name not traced)');
    expect(pinOwner(w('luo-file', { session: 's1' }))).toBe('s1');
    expect(pinOwner(w('luo-file', { sessionId: 4 }))).toBe('#4');
    expect(pinOwner(w('vfs'))).toBe('(VFS ref)');
  });
});
