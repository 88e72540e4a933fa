// Synthetic (made here, not a capture): a trace naming many distinct modules, one LUO pin each.
// LuoAnalysis.finish used to filter every pin window for each module (issue #15: time grew with the
// square of the module count); it now groups them once. This test asserts the result (every module,
// its one window, and per-session counts), not the time: on 2·10³ modules in the fast set
// (luo-many-modules.test.ts), on 2·10⁴ in the slow set (luo-many-modules.slow.test.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';

function trace(N: number): string {
  const lines = ['# synthetic: many distinct modules (luo-many-modules.test.ts)', '# tracer: nop', '#'];
  for (let i = 0; i < N; i++) {
    const t = (100 + i * 1e-5).toFixed(6);
    lines.push(`         luo_ctl-346     [000] .....   ${t}: module_get: m${i} call_site=luo_preserve_file refcnt=2`);
    // every other module is released again
    if (i % 2 === 0) lines.push(`         luo_ctl-346     [000] .....   ${(100 + i * 1e-5 + 5e-6).toFixed(6)}: module_put: m${i} call_site=luo_file_unpreserve_files refcnt=1`);
  }
  return `${lines.join('\n')}\n`;
}

export function manyModulesTest(N: number): void {
  const dir = mkdtempSync(join(tmpdir(), 'luotrace-many-modules-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe(`${N} distinct modules`, async () => {
    const file = join(dir, 'many-modules.txt');
    writeFileSync(file, trace(N));
    const r = await runAnalysis([file], {});
    it('reports each module once with its own pin window', () => {
      expect(r.modules).toHaveLength(N);
      const byName = new Map(r.modules.map((m) => [m.name, m]));
      // Closed windows are kept up to a cap (pins.ts MAX_CLOSED) and counted past it; open ones all kept.
      for (const i of [0, 1, 2, N / 2 - 1, N - 2, N - 1]) {
        const m = byName.get(`m${i}`)!;
        expect(m.gets).toBe(1);
        expect(m.puts).toBe(i % 2 === 0 ? 1 : 0);
        expect(m.pinWindows.length + m.pinWindowsOmitted).toBe(1);
        if (i < 2 || i % 2 === 1) {
          expect(m.pinWindows).toHaveLength(1);
          expect(m.pinWindows[0].module).toBe(`m${i}`);
          expect(m.pinWindows[0].putLine === null).toBe(i % 2 === 1);
        }
        expect(m.openPins).toBe(i % 2);
        expect(m.luo).toEqual({ gets: 1, puts: i % 2 === 0 ? 1 : 0 });
      }
      expect(r.modules.reduce((a, m) => a + m.pinWindows.length + m.pinWindowsOmitted, 0)).toBe(N);
      expect(r.modules.filter((m) => m.pinWindows.some((w) => w.putLine === null))).toHaveLength(N / 2);
      expect(r.modules.reduce((a, m) => a + m.openPins, 0)).toBe(N / 2);
    });
  }, 120_000);
}
