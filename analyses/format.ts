// One formatter each for what reports print (issue #13): durations, sizes in bytes, file names.
// Renderers (cli/), check rules and diff all print through these, so the same wait reads the same
// in analyze, check, diff and fleet.

/**
 * A duration in ns, the one way every report prints it: three significant digits in the largest unit
 * that keeps the number at 1 or more (`4.53 ms`, `64.0 ms`, `123 ms`, `1.20 s`), whole ns below 1 µs.
 * Fixed significant digits, not fixed decimals, so that the same wait reads the same in analyze,
 * check, diff, fleet and the TUI, and a column of mixed magnitudes stays the same width.
 */
export function formatDuration(ns: number | null | undefined, significant = 3): string {
  if (ns === null || ns === undefined || !Number.isFinite(ns)) return '-';
  const sign = ns < 0 ? '-' : '';
  const a = Math.abs(ns);
  if (Math.round(a) < 1000) return `${sign}${Math.round(a)} ns`;
  for (const [scale, unit] of DURATION_UNITS) {
    const digits = a / scale >= 1000 ? Math.round(a / scale) : Number((a / scale).toPrecision(significant));
    if (digits >= 1 && (digits < 1000 || unit === 's')) return `${sign}${withPlaces(digits, significant)} ${unit}`;
  }
  return `${sign}${Math.round(a)} ns`;
}

const DURATION_UNITS: Array<[number, string]> = [[1e9, 's'], [1e6, 'ms'], [1e3, 'µs']];

/** With 3 significant digits: 4.5 -> "4.50", 64 -> "64.0", 123 -> "123", 4567 (seconds) -> "4567". */
function withPlaces(v: number, significant: number): string {
  const whole = v >= 100 ? 3 : v >= 10 ? 2 : 1;
  return v.toFixed(Math.max(0, significant - whole));
}

/**
 * Two durations compared in a message (`188 ms > 100 ms`): more digits when three would print them
 * the same (`100.4 ms > 100 ms` must not read `100 ms > 100 ms`).
 */
export function formatDurationPair(a: number, b: number): [string, string] {
  for (const significant of [3, 6, 9]) {
    const pair: [string, string] = [formatDuration(a, significant), formatDuration(b, significant)];
    if (pair[0] !== pair[1] || a === b) return pair;
  }
  return [`${Math.round(a)} ns`, `${Math.round(b)} ns`];
}

/** A trace timestamp in seconds with µs places, as ftrace prints it (`86.721686`). */
export function formatSeconds(ns: number | null | undefined): string {
  return ns === null || ns === undefined ? '-' : (ns / 1e9).toFixed(6);
}

/** A size in bytes, in powers of 1024 with their IEC names (KiB, MiB, GiB). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

/** A file name short enough for a table: the last two path components (tells stage1/ from stage2/). */
export function shortFile(file: string): string {
  return file.split('/').slice(-2).join('/');
}
