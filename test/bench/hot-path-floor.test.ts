// test/bench/hot-path-floor.ts, the bench's Node floors (issue 17): `awk-job` must do the awk
// baseline's job, or its row beside awk compares unequal work. On the real capture (ftrace and
// trace-cmd shapes), repeated twice, it prints what `awk -f test/bench/baseline.awk` prints; the
// `hot-path` prototype does that too and pairs the holds and calls the capture has.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { floorReport } from './hot-path-floor.js';
import { REAL_FORMATS, readCapture, repeatCapture } from './repeat-real.js';
import { ROOT, sample } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'luotrace-floor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function twoCopies(format: 'ftrace' | 'trace-cmd'): string {
  const raw = readCapture(sample(REAL_FORMATS[format].replace(/^samples\//, '')));
  const parts: string[] = [];
  repeatCapture(raw, Math.floor(raw.length * 1.5), (s) => parts.push(s), format);
  const file = join(dir, `${format}.txt`);
  writeFileSync(file, parts.join(''));
  return file;
}

const sorted = (text: string) => text.trim().split('\n').sort();

describe('hot-path-floor: the Node floors beside awk in the bench', () => {
  for (const format of ['ftrace', 'trace-cmd'] as const) {
    it(`awk-job prints what baseline.awk prints (${format})`, () => {
      const file = twoCopies(format);
      const awk = spawnSync('awk', ['-f', join(ROOT, 'test/bench/baseline.awk'), file], { encoding: 'utf8' });
      expect(awk.status).toBe(0);
      const awkLines = sorted(awk.stdout);
      expect(awkLines.some((l) => /^contended=[1-9]/.test(l))).toBe(true);
      expect(sorted(floorReport('awk-job', file))).toEqual(awkLines);
      const hot = floorReport('hot-path', file).trim().split('\n');
      expect(hot.slice(0, -1).sort()).toEqual(awkLines);
      const counts = /holds=(\d+) calls=(\d+)/.exec(hot[hot.length - 1]);
      expect(Number(counts?.[1])).toBeGreaterThan(1000);
      expect(Number(counts?.[2])).toBeGreaterThan(1000);
    });
  }
});
