// Issue 15 case 2 in the TUI: a trace whose comms, session, module, call-site and lock names carry
// terminal escapes (hostile-fixtures.ts, synthetic). Every screen and the drill-downs to raw lines,
// rendered by Ink: the only escapes in a frame are Ink's own styling (SGR), and the names show
// their escapes spelled out. Shared by hostile.test.ts (fast set: two screens) and
// hostile.slow.test.ts (all six).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { escapeTrace } from '../robustness/hostile-fixtures.js';
import { KEY, loaded, screen } from './helpers.js';

// Ink's own styling: SGR sequences only (bold, inverse, dim; no colour with noColor).
const withoutSgr = (frame: string): string => frame.replace(/\x1b\[[0-9;]*m/g, '');

/** Each of `screens` (their keys), its drill-downs, and the Events screen's raw lines. */
export function hostileTuiTest(screens: string[]): void {
  const tmp = mkdtempSync(join(tmpdir(), 'luotrace-tui-hostile-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  describe('TUI on a trace with terminal escapes in its names', () => {
    it(`no frame carries an escape of the trace (screens ${screens.join(', ')}); the names are shown with \\e and \\a`, async () => {
      const file = join(tmp, 'esc\x1b[2J.txt');
      writeFileSync(file, escapeTrace());
      const model = await loaded([file]);
      const s = screen(model, 120, 30);
      const frames: string[] = [];
      try {
        for (const key of screens) {
          await s.press(key);
          frames.push(s.frame());
          await s.press(KEY.enter);
          frames.push(s.frame());
          await s.press(KEY.down, KEY.enter);
          frames.push(s.frame());
          await s.press(KEY.enter);
          frames.push(await s.waitFor(/./));
          await s.press(KEY.esc, KEY.esc, KEY.esc);
        }
        // The Events screen with the raw lines (read from the file).
        await s.press('5');
        frames.push(await s.waitFor('\\e]0;title\\a'));
      } finally {
        s.quit();
      }
      const all = frames.map(withoutSgr).join('\n');
      expect(all).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
      expect(all).toContain('lifecycle-s1\\e]0;title\\a\\e[2J\\e[5m');
      expect(all).toContain('luo_demo\\e]0;title\\a');
    });
  });
}
