// The `--since/--until` window (ns on the trace clock): which events and intervals a filtered report
// keeps. Bounds are inclusive; an unset bound (null or undefined) is open.

/** Is the point in time `t` inside the window? An unknown time is inside only an unbounded window. */
export function inWindow(t: number | null, since: number | null | undefined, until: number | null | undefined): boolean {
  const from = since ?? null;
  const to = until ?? null;
  if (t === null) return from === null && to === null;
  return (from === null || t >= from) && (to === null || t <= to);
}

/**
 * Does [start, end] overlap the window? Either end may be unknown (an interval cut by the start or
 * the end of the trace): the known one stands for both; with neither known, only an unbounded window
 * keeps it.
 */
export function overlapsWindow(start: number | null, end: number | null, since: number | null | undefined, until: number | null | undefined): boolean {
  const from = since ?? null;
  const to = until ?? null;
  if (from === null && to === null) return true;
  const a = start ?? end;
  const b = end ?? start;
  if (a === null || b === null) return false;
  return (to === null || a <= to) && (from === null || b >= from);
}
