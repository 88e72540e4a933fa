// A module_put missing from the trace but proven by refcnt= (issue 14, case 8): no lost-events
// marker, one put cut out of the real lifecycle capture (SYNTHETIC: a labelled cut of
// samples/real/lifecycle/stage2/ftrace-main.txt.gz). The kernel's own count drops by two where one
// put is seen, so the open pin is not a leak the trace proves: the verdicts say which put is missing
// and where, in the report, the JSON, check and the TUI.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';
import { isLeakedPin, openReasonOf } from '../../analyses/luo/pin-kinds.js';
import { renderLuoText } from '../../cli/render-luo.js';
import { pinState } from '../../cli/tui/pages/overview.js';
import { dropRef, labelSynthetic, parseLine, readSample } from '../cli/check-fixtures.js';
import { runCli } from '../cli/run.js';

const tmp = mkdtempSync(join(tmpdir(), 'luotrace-put-missing-'));

describe('a module_put cut out of the real lifecycle stage 2 (no marker)', async () => {
  const lines = readSample('real/lifecycle/stage2/ftrace-main.txt.gz').split('\n');
  // Real line 528: lifecycle-s1's finish drops its second file's ref (refcnt 10 -> 9).
  const put = lines.findIndex((l) => parseLine(l)?.payload === 'module_put: luo_demo call_site=luo_file_finish refcnt=9');
  expect(put).toBe(527);
  dropRef(lines, put);
  const file = join(tmp, 'lifecycle-stage2-put-cut.synthetic.txt');
  writeFileSync(file, labelSynthetic(lines, 'samples/real/lifecycle/stage2/ftrace-main.txt.gz with its line 528 (module_put call_site=luo_file_finish refcnt=9) and the module_put kprobe line before it removed'));
  const r = await runAnalysis([file], {});
  const v = (id: string) => r.verdicts.find((x) => x.id === id)!;
  // After the label line, real lines 490 (refcnt=10) and 566 (refcnt=8) are lines 491 and 565.
  const SENTENCE = `a module_put is missing from the trace between line 491 and line 565 of ${file} (refcnt drops from 10 to 8, where the events seen give 9)`;

  it('the open pin is "put missing", not a leak', () => {
    expect(r.dataQuality.incomplete).toBe(false);
    const open = r.modules.flatMap((m) => m.pinWindows).filter((w) => w.putLine === null && w.class === 'luo-file');
    expect(open.map((w) => [w.getLine, w.session, openReasonOf(w), isLeakedPin(w)])).toEqual([[233, 'lifecycle-s1', 'put-missing', false]]);
    expect(r.modules[0].refcntMismatches[0]).toMatchObject({ line: 565, prevLine: 491, prevRefcnt: 10, expected: 9, actual: 8 });
  });

  it('modules-unpinned-after-finish and refcounts-balanced are inconclusive and say which put is missing, where', () => {
    expect([v('modules-unpinned-after-finish').status, v('modules-unpinned-after-finish').reason]).toEqual(['inconclusive', 'put-missing-from-trace']);
    expect(v('modules-unpinned-after-finish').message).toBe(
      `1 module pin not seen released after finish/abort, but ${SENTENCE}: the pin is released in the kernel, not a leak the trace proves; first luo_demo (session lifecycle-s1, call_site=luo_file_deserialize, ${file}:233); re-record and keep the whole record (a record cut mid-stream, or an event filter on module:module_get/module_put, drops events without a lost-events marker)`,
    );
    expect(v('modules-unpinned-after-finish').evidenceAt).toEqual(expect.arrayContaining([{ file, line: 233 }, { file, line: 491 }, { file, line: 565 }]));
    expect([v('refcounts-balanced').status, v('refcounts-balanced').reason]).toEqual(['inconclusive', 'events-missing']);
    expect(v('refcounts-balanced').message).toContain(`luo_demo: ${SENTENCE}`);
    expect(r.verdicts.filter((x) => x.status === 'fail').map((x) => x.id)).toEqual(['no-lost-events']);
  });

  it('the text report shows the window as put-missing and names the gap; no LEAK anywhere', () => {
    const text = renderLuoText(r, { limit: 20 }).join('\n');
    expect(text).toMatch(/ 233 +luo_file_deserialize +- +- +lifecycle-s1 +- +open: its module_put is probably missing from the trace/);
    expect(text).toContain('refcnt disagrees at ');
    expect(text).toMatch(/a module_put is missing from the trace between line 491 and line 565 of .*lifecycle-stage2-put-cut\.synthetic\.txt \(refcnt drops from 10 to 8/);
    expect(text).not.toContain('LEAK');
    expect(text).not.toMatch(/left after finish/);
  });

  it('check: no leak rule fails; the completeness rule does (exit 1), and --json says inconclusive', async () => {
    const c = await runCli(['check', '--json', file]);
    expect(c.code).toBe(1);
    const rules = JSON.parse(c.stdout).rules as Array<{ id: string; status: string }>;
    expect(rules.filter((x) => x.status === 'fail').map((x) => x.id)).toEqual(['no-lost-events']);
    expect(rules.find((x) => x.id === 'modules-unpinned-after-finish')!.status).toBe('inconclusive');
    expect(rules.find((x) => x.id === 'refcounts-balanced')!.status).toBe('inconclusive');
  });

  it('the TUI marks the window "put missing", not LEAK', () => {
    const w = r.modules[0].pinWindows.find((x) => x.getLine === 233)!;
    expect(pinState(w)).toMatchObject({ short: 'put missing (trace)', color: 'yellow' });
    expect(pinState(w).text).toBe('open: its module_put is probably missing from the trace');
  });
});
