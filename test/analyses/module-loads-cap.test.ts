// An insmod/rmmod loop (or a forged trace) loads and frees a module any number of times: a module's
// loads and frees are listed up to MAX_LISTED_LOADS per segment with the latest, frees while
// referenced up to as many more, and all counted (analyses/luo/refcounts.ts). Each free carries the
// refcnt seen before it, so a forced free while referenced stays visible among normal ones.
// Synthetic lines in the kernel's module tracepoint formats (docs/luo-model.md §5).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_LISTED_LOADS } from '../../analyses/luo/refcounts.js';
import { runAnalysis } from '../../analyses/pipeline.js';
import { reportTables } from '../../reports/csv.js';

const dir = mkdtempSync(join(tmpdir(), 'luotrace-loads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const at = (comm: string, us: number) => `${`${comm}-1000`.padStart(22)} [000] ..... ${(100 + us / 1e6).toFixed(6).padStart(12)}: `;

/** `cycles` insmod/rmmod cycles of `demo`; the cycles in `held` take a reference first and are freed by rmmod -f with it held. */
function loop(cycles: number, held: Set<number>): { file: string; freeLine: (cycle: number) => number } {
  const lines = ['# synthetic: an insmod/rmmod loop (test/analyses/module-loads-cap.test.ts)'];
  const freeLines: number[] = [];
  let us = 0;
  for (let c = 0; c < cycles; c++) {
    lines.push(`${at('insmod', (us += 10))}module_load: demo O`);
    lines.push(`${at('insmod', (us += 10))}module_put: demo call_site=do_init_module refcnt=1`);
    if (held.has(c)) lines.push(`${at('luoctl', (us += 10))}module_get: demo call_site=luo_file_get refcnt=2`);
    lines.push(`${at('rmmod', (us += 10))}module_free: demo`);
    freeLines.push(lines.length); // the header is line 1: the free just pushed is line lines.length
  }
  const file = join(dir, `loop-${cycles}.synthetic.txt`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return { file, freeLine: (c) => freeLines[c] };
}

describe('module loads and frees of a long loop', () => {
  const cycles = 3 * MAX_LISTED_LOADS;
  const forced = new Set([5, 2 * MAX_LISTED_LOADS]);

  it('lists the first ones, the latest and the referenced ones, and counts all', async () => {
    const { file, freeLine } = loop(cycles, forced);
    const report = await runAnalysis([file], {});
    const demo = report.modules.find((m) => m.name === 'demo');
    expect(demo?.loaded).toHaveLength(MAX_LISTED_LOADS + 1);
    expect(demo?.loadsOmitted).toBe(cycles - MAX_LISTED_LOADS - 1);
    const freed = demo?.freed ?? [];
    expect(freed.length + (demo?.freesOmitted ?? 0)).toBe(cycles);
    expect(freed.at(-1)?.line).toBe(freeLine(cycles - 1));
    // Each free has its own refcnt: the referenced one past the first listed is kept, with refcnt 2.
    expect(freed.filter((f) => f.refcnt === 2).map((f) => f.line)).toEqual([freeLine(5), freeLine(2 * MAX_LISTED_LOADS)]);
    expect(freed.find((f) => f.line === freeLine(6))?.refcnt).toBe(1);
    // CSV counts every load and free.
    const row = reportTables(report).find((t) => t.name === 'refcounts')?.rows.find((r) => r[0] === 'demo');
    expect(row?.slice(15, 17)).toEqual([cycles, cycles]);
  });

  it('gives the unload verdict the forced free past the listed ones', async () => {
    const { file, freeLine } = loop(cycles, new Set([2 * MAX_LISTED_LOADS]));
    const report = await runAnalysis([file], {});
    const v = report.verdicts.find((x) => x.id === 'no-forced-unload-with-pins');
    expect(v?.status).toBe('fail');
    expect(v?.evidence).toEqual([freeLine(2 * MAX_LISTED_LOADS)]);
  });
});
