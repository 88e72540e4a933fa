// Trace-clock timestamps to exact integer nanoseconds, without BigInt on the common path.
//
// ftrace prints ns clocks as " %5lu.%06lu" (seconds.microseconds) and other clocks (counter,
// uptime, x86-tsc) as a raw integer " %12llu" (docs/trace-formats.md §1.5); trace-cmd -t and bpftrace
// print nanoseconds. A double holds integers exactly up to 2^53 ns (~104 days), so:
// - seconds below SAFE_SECONDS are converted with plain arithmetic;
// - if the FIRST timestamp of a source is beyond that (long uptime, `tai`, tsc counters), the
//   source is rebased on that value's whole second: `time` = absolute - base, stays exact, and the
//   base is reported as a decimal string (`SourceInfo.timeBase`).

const SAFE_SECONDS = 4_500_000; // ~52 days: leaves room for the trace to run on from its base
const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000];

export class SourceClock {
  /** "ns" once a decimal timestamp was seen, "tick" once an integer one was. */
  unit: 'ns' | 'tick' | null = null;
  private baseSec = 0;
  private baseTicks = 0n;
  private decided = false;
  /** Set when a later timestamp fell outside the exact range of the chosen base. */
  inexact = false;
  mixedUnits = false;

  get timeBase(): string {
    if (this.baseTicks !== 0n) return this.baseTicks.toString();
    return this.baseSec === 0 ? '0' : `${this.baseSec}000000000`;
  }

  /**
   * Seconds with a fraction: digits of `text` in [start, dot) and (dot, end).
   * Returns ns relative to the source base, or NaN if the text is not a timestamp.
   */
  decimal(text: string, start: number, dot: number, end: number): number {
    let sec = 0;
    const intDigits = dot - start;
    if (intDigits <= 0 || intDigits > 15) return this.decimalSlow(text, start, dot, end);
    for (let i = start; i < dot; i++) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return NaN;
      sec = sec * 10 + d;
    }
    let frac = 0;
    let n = end - dot - 1;
    if (n > 9) n = 9; // more than ns precision: ignore the extra digits
    for (let i = dot + 1; i <= dot + n; i++) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return NaN;
      frac = frac * 10 + d;
    }
    return this.fromSeconds(sec, frac * POW10[9 - n]);
  }

  /**
   * Whole seconds and ns to ns relative to the source base: `decimal` once its digits are read
   * (parsers/ftrace-bytes.ts reads them while it cuts the line).
   */
  fromSeconds(sec: number, frac: number): number {
    if (this.unit !== 'ns') this.setUnit('ns');
    if (!this.decided) {
      this.decided = true;
      if (sec >= SAFE_SECONDS) this.baseSec = sec;
    }
    const rel = sec - this.baseSec;
    if (rel >= 9_007_199 || rel <= -9_007_199) this.inexact = true;
    return rel * 1e9 + frac;
  }

  private decimalSlow(text: string, start: number, dot: number, end: number): number {
    const intPart = text.slice(start, dot);
    if (!/^\d+$/.test(intPart)) return NaN;
    // More than 15 integer digits of seconds is no real clock; keep going, approximately.
    this.inexact = true;
    return this.decimal(text, dot - 15, dot, end);
  }

  /** A raw integer clock value (counter, uptime, x86-tsc), or bpftrace/trace-cmd -t nanoseconds. */
  integer(text: string, start: number, end: number, unit: 'ns' | 'tick' = 'tick'): number {
    const digits = end - start;
    if (digits <= 0) return NaN;
    if (this.unit !== unit) this.setUnit(unit);
    if (digits <= 15 && this.baseTicks === 0n) {
      let v = 0;
      for (let i = start; i < end; i++) {
        const d = text.charCodeAt(i) - 48;
        if (d < 0 || d > 9) return NaN;
        v = v * 10 + d;
      }
      if (!this.decided) {
        if (v >= 2 ** 52) return this.integerSlow(text, start, end);
        this.decided = true;
      }
      if (v >= 2 ** 53) this.inexact = true;
      return v - this.baseSec * 1e9;
    }
    return this.integerSlow(text, start, end);
  }

  private integerSlow(text: string, start: number, end: number): number {
    const s = text.slice(start, end);
    if (!/^\d+$/.test(s)) return NaN;
    const v = BigInt(s);
    if (!this.decided) {
      this.decided = true;
      this.baseTicks = v - (v % 1_000_000_000n);
    }
    const rel = v - this.baseTicks;
    if (rel > 2n ** 53n || rel < -(2n ** 53n)) this.inexact = true;
    return Number(rel);
  }

  private setUnit(unit: 'ns' | 'tick'): void {
    if (this.unit !== null && this.unit !== unit) this.mixedUnits = true;
    this.unit = unit;
  }
}
