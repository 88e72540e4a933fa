// The real captures of more than 10 MB of text (LARGE_CAPTURES) parse with every line accounted
// for, and per-event counts equal grep's: the same check as real-captures.test.ts gives every other
// capture, in the slow set (about 4 s of CPU).
import { describe, expect, it } from 'vitest';
import { LARGE_CAPTURES, sample } from '../helpers.js';
import { checkRealCapture, realFiles } from './real-captures-check.js';

describe('real 7.2.13 captures', () => {
  for (const rel of LARGE_CAPTURES) {
    it(rel, async () => {
      expect(realFiles).toContain(sample(rel));
      await checkRealCapture(sample(rel));
    });
  }
});
