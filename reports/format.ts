// One formatter each for what reports print (issue #13): durations, sizes in bytes, file names.
// Renderers (cli/), check rules and diff all print through these, so the same wait reads the same
// in analyze, check, diff and fleet.

/**
 * A duration in ns as analyze prints lock waits: three significant places from µs up (`4.53 ms`,
 * `1.20 s`), whole ns below. `us`, not `µs`, so that table columns stay one byte per character.
 */
export function formatDuration(ns: number | null): string {
  if (ns === null) return '-';
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} us`;
  return `${Math.round(ns)} ns`;
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
