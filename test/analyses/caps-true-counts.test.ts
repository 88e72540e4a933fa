// Caps bound lists, never counts (issue 14 case 2, "true headline numbers"); the Chrome export bounds
// its detail, not its time span. Here: the collector that keeps the phases of unlisted sessions
// within a bound. The runs longer than the session cap (a synthetic stress trace of 1200 sessions,
// 49 MB, analysed, exported and loaded in the TUI) are in caps-true-counts.slow.test.ts: they cost
// about 15 s of CPU, a third of the fast set.
import { describe, expect, it } from 'vitest';
import type { SessionRecord } from '../../analyses/luo/sessions.js';
import { OmittedPhaseCollector } from '../../reports/chrome-phases.js';

describe('the export keeps the phases of unlisted sessions within a bound (OmittedPhaseCollector)', () => {
  // SYNTHETIC session records, one phase each, 1 µs apart.
  const rec = (i: number, error: string | null = null) =>
    ({ name: `s${i}`, phases: [{ name: 'preserve', func: 'luo_preserve_file', start: i * 1000, end: i * 1000 + 10, durationNs: 10, result: error ? -5 : 0, error, src: 0, line: i, endLine: i, pid: 1, comm: 'c', token: null, via: null }] }) as unknown as SessionRecord;

  it('past the cap it keeps an even sample over the whole run, and every failed phase', () => {
    const c = new OmittedPhaseCollector(100);
    for (let i = 0; i < 1000; i++) c.push(rec(i, i === 777 ? 'EIO' : null));
    const kept = c.phases();
    expect(c.seen).toBe(1000);
    expect(c.stride).toBe(16);
    expect(kept.length).toBeLessThanOrEqual(101);
    const plain = kept.filter((p) => p.error === null).map((p) => p.start / 1000);
    // Evenly spaced from the first to the last stretch of the run.
    expect(plain[0]).toBe(0);
    expect(plain.at(-1)).toBeGreaterThan(1000 - 2 * c.stride);
    for (let i = 1; i < plain.length; i++) expect(plain[i] - plain[i - 1]).toBeLessThanOrEqual(c.stride + 1);
    expect(kept.filter((p) => p.error === 'EIO').map((p) => p.session)).toEqual(['s777']);
  });
});
