// Fleet summaries, the JSON contract (issue #8): a host summary (one per machine) and a fleet summary
// (hosts merged), each a versioned zod schema. What fills them: fleet-host.ts (one host's report) and
// fleet.ts (the merge).
import { z } from 'zod';
import { DistributionSummarySchema, HistogramBucketSchema, SerializedDistributionSchema } from '../analyses/locks/quantiles.js';

// 2: percentiles by nearest rank and a quantileMethod per distribution summary (issue #19); a version 1
// document's per-host percentiles used a lower rank, so merge refuses it rather than mix the two.
export const SUMMARY_FORMAT_VERSION = 2;
export const UNNAMED_LOCK = '(unnamed)';

// ---- JSON contract -------------------------------------------------------------------------------

const ToolSchema = z.object({ name: z.literal('luotrace'), version: z.string() });
const Count = z.number().int().nonnegative();
const CountsSchema = z.record(z.string(), Count);

const HostVerdictSchema = z.object({
  id: z.string(),
  ok: z.boolean(),
  severity: z.enum(['error', 'warning', 'info']),
  message: z.string(),
});

const PhaseFiguresSchema = z.object({
  phase: z.string(),
  /** Every phase of every session (listed in the report or not): exact. */
  count: Count,
  errors: Count,
  totalNs: z.number(),
  minNs: z.number().nullable(),
  maxNs: z.number().nullable(),
  avgNs: z.number().nullable(),
  /** Percentiles over the timed phases of the sessions the analysis lists in full (all of them unless sessions were omitted: see sessions.omitted). */
  durations: DistributionSummarySchema,
});

const HostModuleSchema = z.object({
  name: z.string(),
  boot: z.number().int(),
  gets: Count,
  puts: Count,
  luoGets: Count,
  luoPuts: Count,
  firstRefcnt: z.number().int().nullable(),
  /** Last `refcnt=` seen (raw, MODULE_REF_BASE included: 1 = idle). */
  finalRefcnt: z.number().int().nullable(),
  maxRefcnt: z.number().int().nullable(),
  /** LUO pins still held at the end of the input. */
  openPins: Count,
  /** Open LUO pins no session explains (not held across kexec): leaks. */
  leakedPins: Count,
  refcntMismatches: Count,
  putsWithoutGet: Count,
});

const LockFiguresSchema = z.object({
  /** `name|type`; unnamed locks: `(unnamed)|type`. */
  key: z.string(),
  /** Lock name; null for the group of unnamed locks. */
  name: z.string().nullable(),
  mode: z.string(),
  type: z.string(),
  lockType: z.string(),
  luoRole: z.string().nullable(),
  /** `analyze` lock rows merged into this one, and the lock instances behind them. */
  rows: Count,
  instances: Count,
  acquisitions: Count,
  contended: Count,
  slept: Count,
  failed: Count,
  trylockFailed: Count,
  wait: DistributionSummarySchema,
  hold: DistributionSummarySchema,
  /** Intervals cut by trace edges, lost events or clock skew (never in the statistics). */
  incomplete: z.object({ waits: CountsSchema, holds: CountsSchema }),
});
export type LockFigures = z.infer<typeof LockFiguresSchema>;

export const HostEntrySchema = z.object({
  host: z.string(),
  /** Trace files analyzed for this host, in the order they were read. */
  inputs: z.array(z.string()),
  /** Why the host could not be analyzed (unreadable input, no trace format recognized...); null when it was. */
  error: z.string().nullable(),
  sources: z.array(
    z.object({
      file: z.string(),
      format: z.string(),
      lines: Count,
      events: Count,
      firstTime: z.number().nullable(),
      lastTime: z.number().nullable(),
      timeUnit: z.enum(['ns', 'tick']),
    }),
  ),
  kernelModel: z.string().nullable(),
  verdicts: z.array(HostVerdictSchema),
  /** Verdicts that failed with severity error. */
  failed: z.array(z.string()),
  boots: Count,
  sessions: z.object({ total: Count, listed: Count, omitted: Count, byState: CountsSchema, bySide: CountsSchema }),
  phases: z.array(PhaseFiguresSchema),
  modules: z.array(HostModuleSchema),
  locks: z.array(LockFiguresSchema),
  dataQuality: z.object({
    lines: Count,
    events: Count,
    skipped: Count,
    lostEvents: Count,
    lostMarkers: Count,
    truncated: z.boolean(),
    incomplete: z.boolean(),
    notes: z.array(z.string()),
  }),
});
export type HostEntry = z.infer<typeof HostEntrySchema>;

const HostDistributionsSchema = z.object({
  /** Per phase name: the durations behind phases[].durations. */
  phases: z.record(z.string(), SerializedDistributionSchema),
  /** Per lock key: the waits and holds behind locks[].wait/hold. */
  locks: z.record(z.string(), z.object({ wait: SerializedDistributionSchema, hold: SerializedDistributionSchema })),
});

export const HostSummarySchema = z.object({
  kind: z.literal('luotrace-host-summary'),
  formatVersion: z.literal(SUMMARY_FORMAT_VERSION),
  tool: ToolSchema,
  ...HostEntrySchema.shape,
  /** What `luotrace merge` needs to merge percentiles: see quantileMethod of a fleet summary. */
  distributions: HostDistributionsSchema,
});
export type HostSummary = z.infer<typeof HostSummarySchema>;

const FleetVerdictSchema = z.object({
  id: z.string(),
  /** Hosts where the rule held with nothing to look at. */
  pass: Count,
  /** Hosts where it was a warning: something to look at (e.g. phase errors an abort test provokes on purpose). */
  warn: Count,
  /** Hosts where the rule failed. */
  fail: Count,
  /** The most severe outcome: error when some host failed, warning when some warned, else info. */
  severity: z.enum(['error', 'warning', 'info']),
  failingHosts: z.array(z.string()),
  warningHosts: z.array(z.string()),
  /** The message of the first failing host by name (else of the first warning host), as an example. */
  example: z.object({ host: z.string(), message: z.string() }).nullable(),
});

const FleetPhaseSchema = PhaseFiguresSchema.extend({
  hosts: Count,
  distribution: SerializedDistributionSchema,
});

const FleetModuleSchema = z.object({
  name: z.string(),
  hosts: Count,
  gets: Count,
  puts: Count,
  luoGets: Count,
  luoPuts: Count,
  openPins: Count,
  leakedPins: Count,
  hostsWithLeakedPins: z.array(z.string()),
  hostsWithRefcntMismatches: z.array(z.string()),
  hostsWithPutsWithoutGet: z.array(z.string()),
});

const FleetLockSchema = LockFiguresSchema.extend({
  hosts: Count,
  waitHistogram: z.array(HistogramBucketSchema),
  holdHistogram: z.array(HistogramBucketSchema),
  /** The host with the longest single wait on this lock. */
  worstWait: z.object({ host: z.string(), maxNs: z.number() }).nullable(),
  distributions: z.object({ wait: SerializedDistributionSchema, hold: SerializedDistributionSchema }),
});

export const FleetViewSchema = z.object({
  hosts: Count,
  analyzed: Count,
  unusable: z.array(z.object({ host: z.string(), error: z.string() })),
  verdicts: z.array(FleetVerdictSchema),
  /** Hosts per kernel model id ("unknown" when no model could be told). */
  kernelModels: CountsSchema,
  sessions: z.object({ total: Count, omitted: Count, byState: CountsSchema, bySide: CountsSchema }),
  phases: z.array(FleetPhaseSchema),
  modules: z.array(FleetModuleSchema),
  locks: z.array(FleetLockSchema),
  dataQuality: z.object({
    lines: Count,
    events: Count,
    skipped: Count,
    lostEvents: Count,
    hostsWithLostEvents: z.array(z.string()),
    hostsTruncated: z.array(z.string()),
  }),
  quantileMethod: z.string(),
});
export type FleetView = z.infer<typeof FleetViewSchema>;

export const FleetSummarySchema = z.object({
  kind: z.literal('luotrace-fleet-summary'),
  formatVersion: z.literal(SUMMARY_FORMAT_VERSION),
  tool: ToolSchema,
  /** Every host, by name; the distributions are merged into `fleet` and not repeated per host. */
  hosts: z.array(HostEntrySchema),
  fleet: FleetViewSchema,
});
export type FleetSummary = z.infer<typeof FleetSummarySchema>;
