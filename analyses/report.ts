// The `luotrace analyze` report: one zod schema composed of the sections each analysis owns.
// `luotrace schema analyze` prints its JSON Schema; `--json` output is validated against it in tests.
import { z } from 'zod';
import { SourceInfoSchema } from '../parsers/event.js';
import { DataQualitySchema } from '../parsers/quality.js';
import { LocksSectionSchema } from './locks.js';
import { LuoSectionSchema } from './luo.js';
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
