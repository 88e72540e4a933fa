// The normalized event: the one shape every parser produces and every analysis consumes.
//
// Every input format (ftrace text, trace-cmd report, function_graph, console/dmesg with tp_printk,
// bpftrace, CSV, perf script) is cut and decoded into `TraceEvent`s. The schema is written once, in
// zod, and the TypeScript types are inferred from it, so `luotrace events` output, the JSON Schema
// printed by `luotrace schema event` and the code cannot drift apart.
//
// Time: `time` is nanoseconds on the trace clock, as printed, exact. Text traces only carry
// microseconds (docs/trace-formats.md §1.5), so the last three digits are zero there. When the clock
// value would not fit a double exactly (uptime > ~52 days, the `tai` clock, raw x86-tsc counters)
// the parser rebases the whole source: `time` is then relative to the source's `timeBase`
// (a decimal string, see `SourceInfo`), and absolute time = timeBase + time. Clocks that are not in
// nanoseconds (`counter`, `uptime`, `x86-tsc`) print integers; such sources say `timeUnit: "tick"`.
import { z } from 'zod';

/** A lock pointer as printed: hashed (%p, tracefs default), raw without 0x, or 0x-prefixed. */
const LockRef = {
  /** The pointer as a key: `0x`-prefixed lowercase hex for raw addresses, the bare hash otherwise. */
  lock: z.string(),
  /** True when the kernel hashed the pointer (tracefs `%p`, hash-ptr=1): an opaque per-boot key. */
  hashed: z.boolean(),
};

const ProbeArgs = z.record(z.string(), z.string()).describe('probe arguments as printed (name=value), strings unescaped');

export const ModuleRefFields = z.object({
  module: z.string(),
  /** `%ps` of the caller of try_module_get/module_put: a bare symbol, `sym [mod]` or a raw address. */
  callSite: z.string(),
  /** Raw atomic_read(&mod->refcnt) after the change, MODULE_REF_BASE (1) included (real README O11). */
  refcnt: z.number().int(),
});

/** A hist/lhist bucket, bounds inclusive as bpftrace's JSON gives them (`[2, 4)` -> 2..3); null = open. */
export const HistBucketSchema = z.object({ min: z.number().nullable(), max: z.number().nullable(), count: z.number() });
export type HistBucket = z.infer<typeof HistBucketSchema>;

/** The value of one bpftrace map entry (BT src/output/text.cpp, json.cpp; docs/trace-formats.md §3). */
export const BpftraceMapValueSchema = z.discriminatedUnion('type', [
  /** count(), sum(), min(), max(), avg() and integer scalars. */
  z.object({ type: z.literal('number'), value: z.number() }),
  /** Strings, tuples, records, ksym()/kstack values: as printed (JSON values re-serialized). */
  z.object({ type: z.literal('text'), value: z.string() }),
  z.object({ type: z.literal('hist'), buckets: z.array(HistBucketSchema) }),
  z.object({ type: z.literal('stats'), count: z.number(), average: z.number(), total: z.number() }),
  /** tseries(): one point per interval; `value` null where bpftrace prints `-` (no data). */
  z.object({ type: z.literal('tseries'), points: z.array(z.object({ interval: z.string(), value: z.number().nullable() })) }),
]);
export type BpftraceMapValue = z.infer<typeof BpftraceMapValueSchema>;

export const BpftraceMapFields = z.object({
  /** Map name as printed, with its `@` (`@calls`, `@` for the anonymous map). */
  map: z.string(),
  /**
   * One entry per printed key, in printed order; duplicates are kept (two locks whose `ksym()` is the
   * same print as two entries with the same key, real lifecycle `@contention[test_flbs, 33]`).
   * `key` is null for a scalar map; otherwise the key as printed: text output joins tuple keys with
   * `, `, JSON output with `,` (BT json.cpp).
   */
  entries: z.array(z.object({ key: z.string().nullable(), value: BpftraceMapValueSchema })),
  /** Entries beyond the per-map cap were dropped (the count printed is in `entries.length` + this). */
  truncated: z.number().int(),
});

const common = {
  /** Nanoseconds on the trace clock (see file comment); null when the line carries no time. */
  time: z.number().nullable(),
  cpu: z.number().int().nullable(),
  pid: z.number().int().nullable(),
  tgid: z.number().int().nullable(),
  comm: z.string().nullable(),
  /** Index into the list of sources (files) of this run; `file` in JSON output. */
  src: z.number().int(),
  /** 1-based line number in its source. */
  line: z.number().int(),
  /** The event name as the kernel or the probe names it (`module_get`, `luo_preserve_file__return`). */
  name: z.string(),
};

export const TraceEventSchema = z.discriminatedUnion('kind', [
  z.object({ ...common, kind: z.literal('module_get'), fields: ModuleRefFields }),
  z.object({ ...common, kind: z.literal('module_put'), fields: ModuleRefFields }),
  z.object({ ...common, kind: z.literal('module_load'), fields: z.object({ module: z.string(), taints: z.string() }) }),
  z.object({ ...common, kind: z.literal('module_free'), fields: z.object({ module: z.string() }) }),
  z.object({
    ...common,
    kind: z.literal('module_request'),
    fields: z.object({ module: z.string(), wait: z.number().int(), callSite: z.string() }),
  }),
  z.object({
    ...common,
    kind: z.literal('contention_begin'),
    fields: z.object({
      ...LockRef,
      /** LCB_F_* bit mask: SPIN 1, READ 2, WRITE 4, RT 8, PERCPU 16, MUTEX 32 (docs/luo-model.md §5). */
      flags: z.number().int(),
      flagNames: z.string(),
      /** Symbol of the lock address when the source names it (bpftrace `ksym(args->lock_addr)`); absent otherwise. */
      sym: z.string().optional(),
    }),
  }),
  z.object({
    ...common,
    kind: z.literal('contention_end'),
    fields: z.object({
      ...LockRef,
      ret: z.number().int(),
      /** As for contention_begin. */
      sym: z.string().optional(),
    }),
  }),
  z.object({
    ...common,
    kind: z.literal('lock_acquire'),
    fields: z.object({ ...LockRef, lockName: z.string(), read: z.boolean(), try: z.boolean() }),
  }),
  z.object({ ...common, kind: z.literal('lock_release'), fields: z.object({ ...LockRef, lockName: z.string() }) }),
  z.object({ ...common, kind: z.literal('lock_contended'), fields: z.object({ ...LockRef, lockName: z.string() }) }),
  z.object({ ...common, kind: z.literal('lock_acquired'), fields: z.object({ ...LockRef, lockName: z.string() }) }),
  z.object({ ...common, kind: z.literal('contended_release'), fields: z.object({ ...LockRef }) }),
  z.object({
    ...common,
    kind: z.enum(['kprobe', 'fentry']),
    fields: z.object({
      /** Probed function (symbol of the probe location), null when only an address is printed. */
      func: z.string().nullable(),
      offset: z.number().int().nullable(),
      /** Address when the location is printed as hex (trace-cmd, uprobes), else null. */
      address: z.string().nullable(),
      args: ProbeArgs,
    }),
  }),
  z.object({
    ...common,
    kind: z.enum(['kretprobe', 'fexit']),
    fields: z.object({
      /** The function that returned (right of `<-`). */
      func: z.string().nullable(),
      /** Where it returned to (left of `<-`): symbol, address, or null for `[unknown/kretprobe'd]`. */
      caller: z.string().nullable(),
      args: ProbeArgs,
      /** `ret=`/`$retval` decoded as a signed integer when present and numeric. */
      ret: z.number().nullable(),
    }),
  }),
  z.object({
    ...common,
    kind: z.literal('function'),
    fields: z.object({ func: z.string(), parent: z.string().nullable(), repeats: z.number().int().nullable() }),
  }),
  z.object({
    ...common,
    kind: z.enum(['funcgraph_entry', 'funcgraph_exit', 'funcgraph_leaf']),
    fields: z.object({
      func: z.string().nullable(),
      depth: z.number().int(),
      durationNs: z.number().nullable(),
      /** `/* ret=… *\/` with funcgraph-retval, as printed. */
      ret: z.string().nullable(),
    }),
  }),
  z.object({ ...common, kind: z.literal('marker'), fields: z.object({ text: z.string() }) }),
  z.object({ ...common, kind: z.literal('printk'), fields: z.object({ text: z.string() }) }),
  z.object({ ...common, kind: z.literal('boot'), fields: z.object({ text: z.string() }) }),
  z.object({
    ...common,
    kind: z.literal('sched_switch'),
    fields: z.object({
      prevComm: z.string(),
      prevPid: z.number().int(),
      prevState: z.string(),
      nextComm: z.string(),
      nextPid: z.number().int(),
    }),
  }),
  z.object({
    ...common,
    kind: z.literal('syscall_enter'),
    fields: z.object({ syscall: z.string(), args: ProbeArgs }),
  }),
  z.object({
    ...common,
    kind: z.literal('syscall_exit'),
    fields: z.object({
      syscall: z.string(),
      /** Return value as a signed integer (0xfffffffffffffff5 -> -11). */
      ret: z.number(),
    }),
  }),
  z.object({ ...common, kind: z.literal('stack'), fields: z.object({ frames: z.array(z.string()) }) }),
  /**
   * A `perf script` sample of a sampling event (`cpu-clock`, `cycles:u`, `page-faults`…), named as perf
   * prints the event. Its `-g` callchain follows as a `stack` event. The LUO and lock analyses do not
   * read samples; they are counted and kept so nothing in the input goes unaccounted.
   */
  z.object({
    ...common,
    kind: z.literal('sample'),
    fields: z.object({
      /** The period column (`-F +period`, or what perf prints by default for some events); null when absent. */
      period: z.number().nullable(),
      /** What follows the event name on the sample line (`ip sym (dso)` without -g), trimmed; often empty. */
      payload: z.string(),
    }),
  }),
  z.object({
    ...common,
    kind: z.literal('bpftrace'),
    fields: z.object({ probe: z.string(), args: ProbeArgs }),
  }),
  z.object({ ...common, kind: z.literal('generic'), fields: z.object({ payload: z.string() }) }),
  /**
   * Not an event but a gap: the trace says events were lost here (`CPU:N [LOST n EVENTS]`,
   * `##### CPU n buffer started ####`, trace-cmd `[n EVENTS DROPPED]`, bpftrace `Lost n events`).
   * It travels in the stream so analyses can mark intervals that cross it as incomplete; it is not
   * counted as an event in the data-quality line counts. `time` is the last event time before it on
   * that CPU (or in the file) when known.
   */
  z.object({
    ...common,
    kind: z.literal('lost'),
    fields: z.object({ count: z.number().int().nullable(), marker: z.string() }),
  }),
  /**
   * One whole bpftrace map as printed at exit or by `print()` (text or `-f json`): counts, sums,
   * hist/lhist buckets, stats and tseries, one entry per key. Not a point in time (`time` is null);
   * `name` is the map name with its `@`.
   */
  z.object({ ...common, kind: z.literal('bpftrace_map'), fields: BpftraceMapFields }),
]);

export type TraceEvent = z.infer<typeof TraceEventSchema>;
export type EventKind = TraceEvent['kind'];
export type EventOf<K extends EventKind> = Extract<TraceEvent, { kind: K }>;
export type ModuleRefEvent = EventOf<'module_get'> | EventOf<'module_put'>;

/** The shape `luotrace events` prints: the event with `src` replaced by the file name. */
export const EventJsonSchema = z.discriminatedUnion(
  'kind',
  TraceEventSchema.options.map((o) =>
    o.omit({ src: true }).extend({
      file: z.string(),
      /** Present when the source was rebased (see SourceInfo.timeBase). */
      timeBase: z.string().optional(),
    }),
  ) as unknown as [z.ZodObject, ...z.ZodObject[]],
);

export const INPUT_FORMATS = [
  'ftrace',
  'trace-pipe',
  'trace-cmd',
  'function-graph',
  'latency',
  'console',
  'bpftrace',
  'bpftrace-json',
  'csv',
  'perf-script',
] as const;
export const InputFormatSchema = z.enum(INPUT_FORMATS);
export type InputFormat = z.infer<typeof InputFormatSchema>;

/** What is known about one input file after reading it. */
export const SourceInfoSchema = z.object({
  file: z.string(),
  format: InputFormatSchema,
  /** Why this format was chosen: the sniffed evidence, or "--format". */
  detectedBy: z.string(),
  compressed: z.boolean(),
  lines: z.number().int(),
  events: z.number().int(),
  /** "ns" for nanosecond clocks; "tick" for counter/uptime/x86-tsc, whose unit is not time. */
  timeUnit: z.enum(['ns', 'tick']),
  /** Decimal string; absolute clock value = timeBase + event.time. "0" unless rebased. */
  timeBase: z.string(),
  firstTime: z.number().nullable(),
  lastTime: z.number().nullable(),
  /** The file did not end with a newline; what happened to that last line is in dataQuality. */
  missingFinalNewline: z.boolean(),
  /** `# tracer:` seen in headers, if any. */
  tracer: z.string().nullable(),
});
export type SourceInfo = z.infer<typeof SourceInfoSchema>;
