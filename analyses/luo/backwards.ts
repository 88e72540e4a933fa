// Durations whose end comes before their start: the clock went back between a call and its return
// (a get and its put) by less than a clock reset (parsers/parser.ts treats big jumps as a new
// segment). Such a duration is meaningless, so it is left out of every statistic (null) and counted,
// and the report says so once in the data-quality notes.

export class BackwardSpans {
  count = 0;
  private first: { src: number; line: number } | null = null;

  /** end - start, or null when either end is unknown or the span runs backwards (counted). */
  span(start: number | null, end: number | null, src: number, line: number): number | null {
    if (start === null || end === null) return null;
    const d = end - start;
    if (d >= 0) return d;
    this.count++;
    this.first ??= { src, line };
    return null;
  }

  /** The data-quality note for `what` ("LUO phases", "pin windows"), or null when none ran backwards. */
  note(what: string, fileOf: (src: number) => string): string | null {
    if (!this.first) return null;
    return `${this.count} ${what} end before they begin (the clock went back between the two events, first at ${fileOf(this.first.src)}:${this.first.line}): their durations are left out`;
  }
}
