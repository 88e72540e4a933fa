// The maps a bpftrace script printed at exit (counts, sums, hist/lhist, stats, tseries), collected
// for the report as keyed tables and histograms.
//
// Users' own scripts aggregate in-kernel (`@[comm] = count()`, `@ns = hist(...)`) and print only the
// maps; luotrace cannot turn those into events, but it can show them next to the analysis of the
// events, with where they came from. Histograms get a total and the buckets that hold the median
// and the 99th percentile (bucket bounds, as precise as the histogram is).
import { z } from 'zod';
import { BpftraceMapFields, HistBucketSchema, type HistBucket, type TraceEvent } from '../parsers/event.js';
import { nearestRank } from './locks/quantiles.js';
import type { FinishContext, Reducer } from './stream/reducer.js';

const HistSummarySchema = z.object({
  total: z.number(),
  /** The bucket that holds the median sample / the 99th percentile sample. */
  p50: HistBucketSchema.nullable(),
  p99: HistBucketSchema.nullable(),
});
export type HistSummary = z.infer<typeof HistSummarySchema>;

export const BpftraceMapsSectionSchema = z.object({
  bpftraceMaps: z.array(
    BpftraceMapFields.extend({
      file: z.string(),
      line: z.number().int(),
      /** One per entry, in entry order: a summary for hist entries, null for the others. */
      histSummaries: z.array(HistSummarySchema.nullable()),
    }),
  ),
});
export type BpftraceMapsSection = z.infer<typeof BpftraceMapsSectionSchema>;

/** The bucket holding the q-quantile sample (0 < q <= 1; its nearest rank), or null for an empty histogram. */
export function bucketAt(buckets: HistBucket[], q: number): HistBucket | null {
  const total = buckets.reduce((a, b) => a + b.count, 0);
  if (total === 0) return null;
  const rank = nearestRank(q, total);
  let seen = 0;
  for (const b of buckets) {
    seen += b.count;
    if (seen >= rank) return b;
  }
  return buckets[buckets.length - 1];
}

export function summarizeHist(buckets: HistBucket[]): HistSummary {
  return { total: buckets.reduce((a, b) => a + b.count, 0), p50: bucketAt(buckets, 0.5), p99: bucketAt(buckets, 0.99) };
}

export function createBpftraceMapsAnalysis(): Reducer<BpftraceMapsSection> {
  const seen: Array<{ src: number; line: number; fields: z.infer<typeof BpftraceMapFields> }> = [];
  return {
    push(ev: TraceEvent) {
      if (ev.kind === 'bpftrace_map') seen.push({ src: ev.src, line: ev.line, fields: ev.fields });
    },
    finish(ctx: FinishContext): BpftraceMapsSection {
      return {
        bpftraceMaps: seen.map(({ src, line, fields }) => ({
          file: ctx.sources[src]?.file ?? String(src),
          line,
          ...fields,
          histSummaries: fields.entries.map((e) => (e.value.type === 'hist' ? summarizeHist(e.value.buckets) : null)),
        })),
      };
    },
  };
}
