// Rates for `luotrace diff` (reports/diff.ts): two runs of different length (a 90 s stress run
// against a short one) cannot be compared by totals. 155 contended acquisitions after 44 is more
// contention only if the runs did as much work: per acquisition it may have fallen (1.40 % to
// 0.83 %). So each run's length (sessions, lock acquisitions) is compared first; when it differs
// beyond the threshold, lock regressions are decided on rates (contended per acquisition, wait per
// acquisition), with the totals shown beside them. Also here: the comparison of one figure (Cmp),
// and which lock a raw address names in the other run. Pure: no I/O.
import { z } from 'zod';
import type { AnalyzeReport } from '../analyses/report.js';
import { lockRowsOf, type LockRowView } from './rules.js';

export const CmpSchema = z.object({
  before: z.number().nullable(),
  after: z.number().nullable(),
  /** after − before, when both are known. */
  delta: z.number().nullable(),
  /** after / before, when both are known and before ≠ 0. */
  ratio: z.number().nullable(),
});
export type Cmp = z.infer<typeof CmpSchema>;

export function cmp(before: number | null | undefined, after: number | null | undefined): Cmp {
  const b = before ?? null;
  const a = after ?? null;
  return { before: b, after: a, delta: a !== null && b !== null ? a - b : null, ratio: a !== null && b !== null && b !== 0 ? a / b : null };
}

/** n / d, or null when d is 0 or either is unknown. */
export const rate = (n: number | null | undefined, d: number | null | undefined): number | null => (n === null || n === undefined || !d ? null : n / d);

export const RunRatesSchema = z.object({
  /** Sessions of each run (listed and omitted). */
  sessions: CmpSchema,
  /** Over the LUO-related lock rows (LUO locks, locks waited on or taken inside LUO calls; every row for reports without the field). */
  lockAcquisitions: CmpSchema,
  contended: CmpSchema,
  waits: CmpSchema,
  waitTotalNs: CmpSchema,
  contendedPerAcquisition: CmpSchema,
  waitsPerSession: CmpSchema,
  waitNsPerSession: CmpSchema,
  /** The runs differ in length (LUO lock acquisitions, else sessions) beyond the threshold: lock regressions are decided on rates. */
  lengthsDiffer: z.boolean(),
  /** One sentence: how long each run was, and what the comparison decides on. */
  basis: z.string(),
});
export type RunRates = z.infer<typeof RunRatesSchema>;

/** The lock rows a run's rates are taken over: LUO-related ones (unrelated contention is noise here). */
function luoRows(r: AnalyzeReport): LockRowView[] {
  return lockRowsOf(r).rows.filter((x) => x.luoRelated !== false);
}

export function sessionCount(r: AnalyzeReport): number {
  return r.sessions.length + Object.values(r.sessionsOmitted ?? {}).reduce((a, n) => a + n, 0);
}

/** Do two sizes differ by more than the threshold (either way)? */
function differ(b: number, a: number, threshold: number): boolean {
  if (b === 0 && a === 0) return false;
  if (b === 0 || a === 0) return true;
  return Math.max(a / b, b / a) > 1 + threshold;
}

export function runRates(before: AnalyzeReport, after: AnalyzeReport, threshold: number): RunRates {
  const fig = (r: AnalyzeReport) => {
    const rows = luoRows(r);
    const sum = (f: (x: LockRowView) => number) => rows.reduce((n, x) => n + f(x), 0);
    return { sessions: sessionCount(r), acq: sum((x) => x.acquisitions), contended: sum((x) => x.contended), waits: sum((x) => x.wait.count), waitNs: sum((x) => x.wait.total) };
  };
  const b = fig(before);
  const a = fig(after);
  // The work the locks saw is the length that matters to their rates; sessions (their sizes vary) only when a run has no lock statistics.
  const byLocks = b.acq > 0 && a.acq > 0;
  const lengthsDiffer = byLocks ? differ(b.acq, a.acq, threshold) : differ(b.sessions, a.sessions, threshold);
  const measure = `${b.acq} → ${a.acq} LUO lock acquisitions, ${b.sessions} → ${a.sessions} sessions`;
  const basis = lengthsDiffer
    ? `the runs differ in length (${measure}): lock contention and total wait are decided per acquisition, totals shown beside them`
    : `the runs are of similar length (${measure}, within ±${Math.round(threshold * 100)}%): totals are compared, rates shown beside them`;
  return {
    sessions: cmp(b.sessions, a.sessions),
    lockAcquisitions: cmp(b.acq, a.acq),
    contended: cmp(b.contended, a.contended),
    waits: cmp(b.waits, a.waits),
    waitTotalNs: cmp(b.waitNs, a.waitNs),
    contendedPerAcquisition: cmp(rate(b.contended, b.acq), rate(a.contended, a.acq)),
    waitsPerSession: cmp(rate(b.waits, b.sessions), rate(a.waits, a.sessions)),
    waitNsPerSession: cmp(rate(b.waitNs, b.sessions), rate(a.waitNs, a.sessions)),
    lengthsDiffer,
    basis,
  };
}

/**
 * Did a rate rise beyond the threshold, by enough to matter: at least `floor` more (a count, or ns)
 * over the after run's `denominator` than the before rate gives for it?
 */
export function rateRegressed(c: Cmp, denominator: number | null, threshold: number, floor: number): boolean {
  if (c.before === null || c.after === null || denominator === null) return false;
  if (c.after <= c.before * (1 + threshold)) return false;
  return (c.after - c.before) * denominator >= floor;
}

/**
 * Raw addresses a report names (lockdep class or symbol, from lockDetails.identities): a static lock
 * keeps its address across boots of one kernel build without KASLR, so the other run's unnamed row
 * at that address is the same lock. Hashed pointers are keyed per boot and never used.
 */
export function namesByAddress(r: AnalyzeReport): Map<string, string> {
  const out = new Map<string, string>();
  const ids = (r.lockDetails as Record<string, unknown>).identities;
  if (!Array.isArray(ids)) return out;
  for (const id of ids as Array<{ name?: unknown; addresses?: unknown }>) {
    if (typeof id?.name !== 'string' || !Array.isArray(id.addresses)) continue;
    for (const a of id.addresses) if (typeof a === 'string' && a.startsWith('0x')) out.set(a, id.name);
  }
  return out;
}

/** `0.83%` (a rate as a percentage). */
export function fmtRate(v: number | null): string {
  if (v === null) return '-';
  const p = v * 100;
  return `${p >= 10 ? p.toFixed(1) : p.toFixed(2)}%`;
}
