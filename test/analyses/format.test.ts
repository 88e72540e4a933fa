import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatDurationPair, formatSeconds, shortFile } from '../../analyses/format.js';

describe('formatDuration: three significant digits, one home for every text output', () => {
  it('picks the largest unit that keeps the number at 1 or more', () => {
    expect([0, 999, 1_000, 4_530_000, 64_000_000, 123_400_000, 1_200_000_000].map((n) => formatDuration(n))).toEqual(['0 ns', '999 ns', '1.00 µs', '4.53 ms', '64.0 ms', '123 ms', '1.20 s']);
  });
  it('moves to the next unit when rounding reaches 1000 (999.6 ms is 1.00 s, not 1000 ms)', () => {
    expect(formatDuration(999_600_000)).toBe('1.00 s');
    expect(formatDuration(999_400_000)).toBe('999 ms');
    expect(formatDuration(999.6)).toBe('1.00 µs');
  });
  it('never goes past seconds and keeps their whole number', () => {
    expect(formatDuration(4_567e9)).toBe('4567 s');
  });
  it('keeps the sign of a negative difference and prints "-" for no value', () => {
    expect(formatDuration(-4_530_000)).toBe('-4.53 ms');
    expect([null, undefined, Number.NaN].map((n) => formatDuration(n))).toEqual(['-', '-', '-']);
  });
});

describe('formatDurationPair: a value against its limit never reads as two equal figures', () => {
  it('three digits when they differ', () => {
    expect(formatDurationPair(187_999_000, 100_000_000)).toEqual(['188 ms', '100 ms']);
  });
  it('more digits when three would print the same', () => {
    expect(formatDurationPair(100_400_000, 100_000_000)).toEqual(['100.400 ms', '100.000 ms']);
  });
});

describe('the other formatters', () => {
  it('timestamps as ftrace prints them, sizes in IEC units, file names by their last two parts', () => {
    expect(formatSeconds(86_721_686_000)).toBe('86.721686');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(shortFile('/a/b/stage1/ftrace-main.txt.gz')).toBe('stage1/ftrace-main.txt.gz');
  });
});
