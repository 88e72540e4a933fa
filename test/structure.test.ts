// The structure check (test/structure/check.ts; `npm run structure` prints the same as a report):
// on this repository it must find nothing, and on a small synthetic repository built to break every
// rule it must find each break, so a passing check means something.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  againstAllowList,
  importGraph,
  LONG_FILES_ALLOWED,
  LONG_FUNCTIONS_ALLOWED,
  longFiles,
  longFunctions,
  MAX_FUNCTION_LINES,
  measure,
  type Structure,
  structureProblems,
} from './structure/check.js';

describe('this repository', () => {
  let s: Structure;
  beforeAll(() => {
    s = measure();
  });

  it('has no import cycle, no import against the layers, no crowded analyses/ folder, and nothing long beyond the allow-lists', () => {
    expect(structureProblems(s)).toEqual([]);
  });

  it('reads type-only imports as imports (verdicts/verdict.ts uses only types of schema.ts)', () => {
    expect(importGraph(s).get('analyses/luo/verdicts/verdict.ts')).toContain('analyses/luo/schema.ts');
  });

  it('lists in the allow-lists only what is over the limits today', () => {
    expect(new Set(longFunctions(s).map((o) => o.key))).toEqual(new Set(Object.keys(LONG_FUNCTIONS_ALLOWED)));
    expect(new Set(longFiles(s).map((o) => o.key))).toEqual(new Set(Object.keys(LONG_FILES_ALLOWED)));
  });
});

describe('on a synthetic repository that breaks every rule', () => {
  let root: string;
  const put = (path: string, text: string): void => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'luotrace-structure-'));
    put('package.json', '{ "type": "module" }\n');
    put('tsconfig.json', '{ "compilerOptions": { "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true } }\n');
    // A cycle made of a type-only import one way and an import() type the other way.
    put('analyses/luo/a.ts', "import type { B } from './b.js';\nexport type A = { b: B };\n");
    put('analyses/luo/b.ts', "export type B = { a: import('./a.js').A };\n");
    // Upward: parsers -> analyses (type only), reports -> cli, a layer -> test/.
    put('parsers/p.ts', "import type { A } from '../analyses/luo/a.js';\nexport type P = A;\n");
    put('reports/r.ts', "export { c } from '../cli/c.js';\n");
    put('cli/c.ts', "export const c = 1;\nexport const helper = () => import('../test/h.js');\n");
    put('test/h.ts', 'export const h = 1;\n');
    // Rooms: locks -> luo, kernel -> stream.
    put('analyses/locks/l.ts', "import type { A } from '../luo/a.js';\nexport type L = A;\n");
    put('analyses/stream/s.ts', 'export const s = 1;\n');
    put('analyses/kernel/k.ts', "import { s } from '../stream/s.js';\nexport const k = s;\n");
    // A crowded folder: analyses/luo/ gets 11 more files (13 in all).
    for (let i = 0; i < 11; i++) put(`analyses/luo/f${i}.ts`, `export const f${i} = ${i};\n`);
    // A function one line over the limit, in a file over 800 lines.
    const body = Array.from({ length: MAX_FUNCTION_LINES - 2 }, (_, i) => `  x += ${i};`).join('\n');
    put('reports/long.ts', `export function long(): number {\n${body.replace('  x += 0;', '  let x = 0;')}\n  return x;\n}\n${'// filler\n'.repeat(700)}`);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('finds each break, with the files named', () => {
    const problems = structureProblems(measure(root));
    const expected = [
      'import cycle: analyses/luo/a.ts <-> analyses/luo/b.ts',
      'parsers/p.ts imports analyses/luo/a.ts: parsers/ must not import analyses/',
      'reports/r.ts imports cli/c.ts: reports/ must not import cli/',
      'cli/c.ts imports test/h.ts: cli/ must not import test/ or samples/',
      'analyses/locks/l.ts imports analyses/luo/a.ts: analyses/luo/ and analyses/locks/ must not import each other',
      'analyses/kernel/k.ts imports analyses/stream/s.ts: analyses/kernel/ must not import the rest of analyses/',
      'analyses/luo/ holds 13 files, over 12',
      `function reports/long.ts#long: ${MAX_FUNCTION_LINES + 1} lines, over ${MAX_FUNCTION_LINES}`,
      `file reports/long.ts: ${MAX_FUNCTION_LINES + 1 + 700} lines, over 800`,
    ];
    for (const e of expected) expect(problems.some((p) => p.startsWith(e)), `${e}\n in:\n${problems.join('\n')}`).toBe(true);
    // Every allow-listed name of this repository is missing there: each must be reported as stale.
    expect(problems.filter((p) => p.includes('remove it from the allow-list'))).toHaveLength(Object.keys(LONG_FUNCTIONS_ALLOWED).length + Object.keys(LONG_FILES_ALLOWED).length);
  });
});

describe('allow-lists only shrink', () => {
  it('accepts a listed offender at or below its size, refuses a new one, a grown one and a stale entry', () => {
    const found = [
      { key: 'a.ts#same', lines: 200 },
      { key: 'a.ts#shrunk', lines: 160 },
      { key: 'a.ts#grown', lines: 301 },
      { key: 'a.ts#new', lines: 151 },
    ];
    const problems = againstAllowList(found, { 'a.ts#same': 200, 'a.ts#shrunk': 190, 'a.ts#grown': 300, 'a.ts#split': 250 }, 'function', 150);
    expect(problems).toEqual([
      'function a.ts#grown: 301 lines, grew beyond its allowed 300',
      'function a.ts#new: 151 lines, over 150 (split it; the allow-list is only for what was long before)',
      'function a.ts#split is no longer over 150 lines (or was renamed): remove it from the allow-list',
    ]);
  });
});
