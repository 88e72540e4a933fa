// The `luotrace analyze` report: one zod schema composed of the sections each analysis owns.
// `luotrace schema analyze` prints its JSON Schema; `--json` output is validated against it in tests.
import { z } from 'zod';
import { SourceInfoSchema } from '../parsers/event.js';
import { DataQualitySchema } from '../parsers/quality.js';
import { type LockRowDistributions, LocksSectionSchema } from './locks/locks.js';
import { LuoSectionSchema } from './luo/schema.js';
import { BpftraceMapsSectionSchema } from './bpftrace-maps.js';

export const AnalyzeReportSchema = z.object({
  tool: z.object({ name: z.literal('luotrace'), version: z.string() }),
  sources: z.array(SourceInfoSchema),
  ...LuoSectionSchema.shape,
  locks: LocksSectionSchema.shape.locks,
  lockDetails: LocksSectionSchema.omit({ locks: true }),
  dataQuality: DataQualitySchema,
  /** Maps printed by bpftrace scripts (issue #5): keyed tables and histograms, as printed. */
  bpftraceMaps: BpftraceMapsSectionSchema.shape.bpftraceMaps,
});
export type AnalyzeReport = z.infer<typeof AnalyzeReportSchema>;

/**
 * The report and what travels with it as plain data (JSON round-trips it): the distributions
 * behind each lock row (`lockDistributions[i]` belongs to `report.locks[i]`), which per-host
 * summaries need to merge percentiles exactly (reports/fleet.ts). Not in the report's JSON, whose
 * rows give the figures only.
 */
export interface AnalysisResult {
  report: AnalyzeReport;
  lockDistributions: LockRowDistributions[];
}

/**
 * The items of a report list that a reader's own view schema accepts, and how many it could not
 * read (a report from another luotrace version, or a row without statistics): readers of the
 * report (rules, diff, the CSV export, the TUI) count what they skip instead of failing.
 */
export function readableRows<T>(schema: z.ZodType<T>, items: readonly unknown[]): { rows: T[]; unreadable: number } {
  const rows: T[] = [];
  let unreadable = 0;
  for (const x of items) {
    const p = schema.safeParse(x);
    if (p.success) rows.push(p.data);
    else unreadable++;
  }
  return { rows, unreadable };
}
