// The verdict registry (analyses/luo/verdicts/) and the one classification of module references
// (analyses/luo/pin-kinds.ts): every result names a reason code its definition declares, `check`
// reads its verdict rules from the registry, and registration pins are LUO's but no session's.
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';
import { isLeakedPin, isLuoPin, isLuoReference, isSessionPin, OPEN_REASONS, openReasonOf, openReasonText } from '../../analyses/luo/pin-kinds.js';
import { CHECK_VERDICTS, evaluateVerdictResults, VERDICTS } from '../../analyses/luo/verdicts/registry.js';
import { defaultRules, VERDICT_RULES } from '../../reports/rules.js';
import { renderLuoText } from '../../cli/render-luo.js';
import { sample } from '../helpers.js';

const REAL = ['real/lifecycle/stage1/ftrace-main.txt.gz', 'real/abort/stage1/ftrace-main.txt.gz', 'real/contention-no-writer/stage1/ftrace-main.trimmed.txt.gz'];
const PRE = 'synthetic/synthetic-preseries.txt.gz';

describe('the registry', () => {
  it('lists each verdict once, in the order of the report', () => {
    const ids = VERDICTS.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toBe('modules-unpinned-after-finish');
    expect(ids[ids.length - 1]).toBe('no-lost-events');
  });

  it('gives check its verdict rules, in check order, every one with a description', () => {
    expect(Object.keys(VERDICT_RULES)).toEqual(CHECK_VERDICTS.map((d) => d.id));
    expect(defaultRules().filter((r) => r.kind === 'verdict').map((r) => r.id)).toEqual(CHECK_VERDICTS.map((d) => d.id));
    for (const d of CHECK_VERDICTS) expect(d.rule.description.length).toBeGreaterThan(10);
  });

  it.each([...REAL, PRE])('on %s every result carries a reason its definition declares, and the report shows the same verdicts', async (rel) => {
    const r = await runAnalysis([sample(rel)], {});
    const { verdicts, ...section } = r;
    const results = evaluateVerdictResults(section, r.dataQuality);
    expect(results.map((x) => [x.id, x.status !== 'fail', x.message])).toEqual(verdicts.map((v) => [v.id, v.ok, v.message]));
    for (const x of results) expect(VERDICTS.find((d) => d.id === x.id)!.reasons).toContain(x.reason);
  });
});

describe('one classification of a module reference', () => {
  it('a registration pin is a LUO reference but not a session pin', () => {
    expect(isSessionPin({ class: 'luo-registration' })).toBe(false);
    expect(isLuoReference({ class: 'luo-registration' })).toBe(true);
    expect(isSessionPin({ class: 'luo-file' })).toBe(true);
    // An FLB pin is LUO's and must be released, but it is the FLB's, not a session's (docs/luo-model.md §1.4).
    expect(isSessionPin({ class: 'luo-flb' })).toBe(false);
    expect(isLuoPin({ class: 'luo-flb' }) && isLuoPin({ class: 'luo-file' }) && isLuoReference({ class: 'luo-flb' })).toBe(true);
    expect(isLuoPin({ class: 'luo-registration' })).toBe(false);
    expect(isSessionPin({ class: 'vfs' }) || isLuoReference({ class: 'module-loader' })).toBe(false);
  });

  it('every window open at the end carries its reason code, and the sentence written for that code', async () => {
    const seen = new Set<string>();
    for (const rel of REAL) {
      const r = await runAnalysis([sample(rel)], {});
      for (const w of r.modules.flatMap((m) => m.pinWindows)) {
        expect(openReasonOf(w)).toBe(w.putLine === null ? w.openReason : null);
        if (w.putLine !== null) {
          expect(w.openReason).toBeNull();
          continue;
        }
        expect(OPEN_REASONS).toContain(w.openReason);
        seen.add(w.openReason as string);
        expect(w.expectedOpen).toBe(openReasonText(w.openReason!));
      }
    }
    // the real stage1 captures end with files still open, sessions still open and an FLB still in use; none leaks
    expect([...seen].sort()).toEqual(['flb-in-use', 'session-open', 'vfs-file-open']);
  });

  it('on the pre-series capture the registration pins fail no-pins-outside-sessions, are no leak, and are listed apart from session pins', async () => {
    const r = await runAnalysis([sample(PRE)], {});
    const reg = r.modules.flatMap((m) => m.pinWindows).filter((w) => w.class === 'luo-registration');
    expect(reg.length).toBeGreaterThan(0);
    expect(reg.some(isLeakedPin)).toBe(false);
    const v = r.verdicts.find((x) => x.id === 'no-pins-outside-sessions')!;
    expect(v.ok).toBe(false);
    expect(v.evidenceAt).toEqual(expect.arrayContaining(reg.map((w) => ({ file: w.file, line: w.getLine }))));
    const text = renderLuoText(r, { limit: 20 }).join('\n');
    expect(text).toMatch(/registration pins \(held while registered, not session pins\): \d+ taken/);
    for (const s of r.sessions) expect(s.pins.taken).toBe(r.modules.flatMap((m) => m.pinWindows).filter((w) => w.sessionId === s.id && isSessionPin(w)).length);
  });
});
