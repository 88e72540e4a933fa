// `luotrace check` rules: configuration over the analyze report, evaluated without I/O.
//
// A rule either reuses a verdict the LUO analysis already derived (analyses/luo/verdicts/: the rule
// decides whether it is enforced and how severe a failure is, the verdict supplies the message and
// the evidence lines), or puts a limit on a number the report measured: lock hold/wait times per
// lock and mode (the lock analysis' `locks[]` rows) and LUO phase durations per phase.
//
// Rules file (JSON, validated with RulesFileSchema; `luotrace schema rules` prints its JSON Schema):
//   { "rules": { "no-lost-events": "warning", "refcounts-balanced": "off",
//                "max-wait": { "limits": [ { "lock": "luo_register_rwlock", "mode": "W", "limit": "5ms" } ] },
//                "max-phase-duration": { "severity": "warning", "limits": [ { "phase": "preserve", "limit": "500ms" } ] } } }
// A rule named in the file replaces that rule's defaults as a whole; rules not named keep theirs.
// Limits are tried in order and the first whose selector matches applies (specific ones first).
import { z } from 'zod';
import { type AnalyzeReport, readableRows } from '../analyses/report.js';
import { formatDurationPair } from '../analyses/format.js';
import { LUO_LOCKS } from '../analyses/kernel/kernel-models.js';
import { DistributionFiguresSchema } from '../analyses/locks/quantiles.js';
import type { PhaseTallyJson } from '../analyses/luo/schema.js';
import { RECORD_MORE } from '../analyses/luo/verdicts/evidence.js';
import { CHECK_VERDICTS, type CheckVerdictId, verdictDefinition } from '../analyses/luo/verdicts/registry.js';
import { PHASE_ERROR_DEFAULTS, PHASE_ERROR_RULE, failedPhases, phaseErrorSeverity } from './phase-error-rule.js';

// ---- durations ---------------------------------------------------------------------------------

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9 };
// Anchored, no nested quantifiers: no backtracking on long inputs.
const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s)$/;

/** "500ms", "1.5s", "250us", 1000 (a bare number is nanoseconds) -> ns. */
export function parseDuration(v: string | number): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : null;
  const m = DURATION_RE.exec(v.trim());
  if (!m) return null;
  return Math.round(Number(m[1]) * UNIT_NS[m[2]]);
}

const DurationSchema = z
  .union([z.number(), z.string()])
  .transform((v, ctx) => {
    const ns = parseDuration(v);
    if (ns === null) {
      ctx.addIssue({ code: 'custom', message: `expected a duration such as "500ms", "2s", "250us" or a number of nanoseconds, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return ns;
  });

// ---- the rules file ----------------------------------------------------------------------------

export const RULE_SEVERITIES = ['error', 'warning', 'off'] as const;
const SeveritySchema = z.enum(RULE_SEVERITIES);
export type RuleSeverity = z.infer<typeof SeveritySchema>;

/** Verdict rules: the verdicts of analyses/luo/verdicts/registry.ts that `check` enforces, in its order. */
export const VERDICT_RULES = Object.fromEntries(CHECK_VERDICTS.map((d) => [d.id, d.rule.description])) as Record<CheckVerdictId, string>;
export type VerdictRuleId = CheckVerdictId;

export const LOCK_RULES = {
  'max-hold': 'longest complete hold of a lock, per lock and mode',
  'max-wait': 'longest complete wait for a lock, per lock and mode',
  'p99-wait': '99th percentile of the waits for a lock, per lock and mode',
} as const;
export type LockRuleId = keyof typeof LOCK_RULES;

export const PHASE_RULES = {
  'max-phase-duration': 'longest LUO phase (create, preserve, freeze, retrieve, finish...), per phase',
} as const;
export type PhaseRuleId = keyof typeof PHASE_RULES;

export type PhaseErrorRuleId = keyof typeof PHASE_ERROR_RULE;

export type RuleId = VerdictRuleId | LockRuleId | PhaseRuleId | PhaseErrorRuleId;
export const RULE_IDS = [...Object.keys(VERDICT_RULES), ...Object.keys(LOCK_RULES), ...Object.keys(PHASE_RULES), ...Object.keys(PHASE_ERROR_RULE)] as RuleId[];

/** Which locks a limit applies to: `@luo` = the LUO locks docs/luo-model.md §3 names; otherwise a name with `*` wildcards. */
const LockLimitSchema = z.strictObject({
  lock: z.string().min(1).default('@luo'),
  /** `R`, `W`, `mutex`, `spin`, a perf-lock type such as `rwsem:W`, or `*`. */
  mode: z.string().min(1).default('*'),
  limit: DurationSchema,
});
export type LockLimit = z.infer<typeof LockLimitSchema>;

const PhaseLimitSchema = z.strictObject({
  /** Phase name as the report prints it (create, preserve, unpreserve, freeze, deserialize, retrieve-session, retrieve, finish, reboot, serialize...) or `*`. */
  phase: z.string().min(1).default('*'),
  /** Only phases of sessions with this name (`*` wildcards); boot-wide phases have no session. */
  session: z.string().min(1).optional(),
  limit: DurationSchema,
});
export type PhaseLimit = z.infer<typeof PhaseLimitSchema>;

const VerdictSettingSchema = z.union([SeveritySchema, z.strictObject({ severity: SeveritySchema })]);
const lockSetting = z.union([SeveritySchema, z.strictObject({ severity: SeveritySchema.optional(), limits: z.array(LockLimitSchema).min(1).optional() })]);
const phaseSetting = z.union([SeveritySchema, z.strictObject({ severity: SeveritySchema.optional(), limits: z.array(PhaseLimitSchema).min(1).optional() })]);
/** `phases`: a severity per phase name (`*` for the others); a bare severity applies to every phase. */
const phaseErrorSetting = z.union([SeveritySchema, z.strictObject({ severity: SeveritySchema.optional(), phases: z.record(z.string().min(1), SeveritySchema).optional() })]);

export const RulesFileSchema = z.strictObject({
  $schema: z.string().optional(),
  description: z.string().optional(),
  rules: z
    .strictObject({
      ...(Object.fromEntries(CHECK_VERDICTS.map((d) => [d.id, VerdictSettingSchema.optional()])) as Record<CheckVerdictId, z.ZodOptional<typeof VerdictSettingSchema>>),
      'max-hold': lockSetting.optional(),
      'max-wait': lockSetting.optional(),
      'p99-wait': lockSetting.optional(),
      'max-phase-duration': phaseSetting.optional(),
      'phase-errors': phaseErrorSetting.optional(),
    })
    .default({}),
});
export type RulesFile = z.output<typeof RulesFileSchema>;

/** The effective configuration of one rule. */
export type RuleConfig =
  | { id: VerdictRuleId; kind: 'verdict'; severity: RuleSeverity }
  | { id: LockRuleId; kind: 'lock'; severity: RuleSeverity; limits: LockLimit[] }
  | { id: PhaseRuleId; kind: 'phase'; severity: RuleSeverity; limits: PhaseLimit[] }
  | { id: PhaseErrorRuleId; kind: 'phase-error'; severity: RuleSeverity; phases: Record<string, RuleSeverity> };

/**
 * Built-in defaults. The verdict rules are errors (no-lost-events too: a CI run on an incomplete trace
 * proves nothing). The limits are "something is stuck" levels above what the real 7.2.13 captures
 * show under QEMU/TCG (real README O9: TCG inflates durations): the longest complete LUO lock hold
 * there is 516 ms (luo_session_serialize_rwsem R, 542-session stress run), the longest wait 188 ms
 * (&private->outgoing.lock), the longest phase 484 ms (an unpreserve). Tighten them for real
 * hardware in a rules file.
 */
export function defaultRules(): RuleConfig[] {
  const ms = 1e6;
  return [
    ...(Object.keys(VERDICT_RULES) as VerdictRuleId[]).map((id): RuleConfig => ({ id, kind: 'verdict', severity: 'error' })),
    { id: 'max-hold', kind: 'lock', severity: 'error', limits: [{ lock: '@luo', mode: '*', limit: 2000 * ms }] },
    { id: 'max-wait', kind: 'lock', severity: 'error', limits: [{ lock: '@luo', mode: '*', limit: 1000 * ms }] },
    { id: 'p99-wait', kind: 'lock', severity: 'error', limits: [{ lock: '@luo', mode: '*', limit: 500 * ms }] },
    { id: 'max-phase-duration', kind: 'phase', severity: 'error', limits: [{ phase: '*', limit: 5000 * ms }] },
    { id: 'phase-errors', kind: 'phase-error', severity: 'error', phases: { ...PHASE_ERROR_DEFAULTS } },
  ];
}

/** Problems in a rules file, one line each (`rules.max-wait.limits.0.limit: expected a duration ...`). */
export class RulesError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length ? issue.path.join('.') : '(top level)';
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys;
    if (issue.path.join('.') === 'rules') {
      return `${where}: unknown rule ${keys.map((k) => JSON.stringify(k)).join(', ')}; known rules: ${RULE_IDS.join(', ')}`;
    }
    return `${where}: unknown key ${keys.map((k) => JSON.stringify(k)).join(', ')}`;
  }
  if (issue.code === 'invalid_union') {
    // A setting is a severity string or an object. When the object form was meant (its errors are
    // about what is inside it), report those; otherwise say which forms are accepted.
    const objectForm = issue.errors.find((errs) => errs.length > 0 && errs.every((i) => i.path.length > 0 || i.code === 'unrecognized_keys'));
    if (objectForm) return objectForm.map((i) => describeIssue({ ...i, path: [...issue.path, ...i.path] } as z.core.$ZodIssue)).join('; ');
    const limits = typeof issue.path[1] === 'string' && !(issue.path[1] in VERDICT_RULES);
    return `${where}: expected "error", "warning", "off" or an object such as {"severity": "warning"${limits ? ', "limits": [...]' : ''}}`;
  }
  return `${where}: ${issue.message}`;
}

/** Validate a parsed rules document; throws RulesError with every problem. */
export function parseRulesFile(json: unknown): RulesFile {
  const r = RulesFileSchema.safeParse(json);
  if (!r.success) throw new RulesError(r.error.issues.map(describeIssue));
  return r.data;
}

/** Defaults, overridden rule by rule by the file. */
export function effectiveRules(file: RulesFile | null): RuleConfig[] {
  const rules = defaultRules();
  if (!file) return rules;
  return rules.map((rule): RuleConfig => {
    const setting = (file.rules as Record<string, unknown>)[rule.id] as
      | RuleSeverity
      | { severity?: RuleSeverity; limits?: Array<LockLimit | PhaseLimit>; phases?: Record<string, RuleSeverity> }
      | undefined;
    if (setting === undefined) return rule;
    // A bare severity on phase-errors sets every phase: the per-phase defaults go too.
    if (typeof setting === 'string') return rule.kind === 'phase-error' ? { ...rule, severity: setting, phases: {} } : { ...rule, severity: setting };
    const severity = setting.severity ?? rule.severity;
    if (rule.kind === 'verdict') return { ...rule, severity };
    if (rule.kind === 'phase-error') return { ...rule, severity, phases: setting.phases ?? rule.phases };
    if (rule.kind === 'lock') return { ...rule, severity, limits: (setting.limits as LockLimit[] | undefined) ?? rule.limits };
    return { ...rule, severity, limits: (setting.limits as PhaseLimit[] | undefined) ?? rule.limits };
  });
}

/** The effective rules as a rules file (what `luotrace check --print-rules` prints). */
export function rulesAsFile(rules: RuleConfig[]): z.input<typeof RulesFileSchema> {
  const out: Record<string, unknown> = {};
  for (const r of rules) {
    if (r.kind === 'verdict') out[r.id] = r.severity;
    else if (r.kind === 'phase-error') out[r.id] = { severity: r.severity, phases: r.phases };
    else out[r.id] = { severity: r.severity, limits: r.limits.map((l) => ({ ...l, limit: formatLimit(l.limit) })) };
  }
  return { rules: out };
}

function formatLimit(ns: number): string {
  if (ns % 1e9 === 0) return `${ns / 1e9}s`;
  if (ns % 1e6 === 0) return `${ns / 1e6}ms`;
  if (ns % 1e3 === 0) return `${ns / 1e3}us`;
  return `${ns}ns`;
}

// ---- the part of the lock analysis' contract that rules, diff and exports read -----------------

const DistributionViewSchema = DistributionFiguresSchema;
export type DistributionView = z.infer<typeof DistributionViewSchema>;

/**
 * One `locks[]` row as issue #4 specifies it (name, address, mode, acquisitions, contended, wait and
 * hold statistics in ns). Read tolerantly: a row without these fields is "not measured", never a crash.
 */
export const LockRowViewSchema = z.object({
  name: z.string().nullable(),
  address: z.string().nullable(),
  mode: z.string(),
  /** perf lock's type column (`rwsem:W`), when the analysis gives it. */
  type: z.string().optional(),
  /** Set by the lock analysis for a known LUO lock. */
  luo: z.object({ role: z.string() }).nullable().optional(),
  /** A LUO lock or one waited on or taken inside LUO calls (analyses/locks/schema.ts); absent in older reports. */
  luoRelated: z.boolean().optional(),
  acquisitions: z.number(),
  contended: z.number(),
  wait: DistributionViewSchema,
  hold: DistributionViewSchema,
});
export type LockRowView = z.infer<typeof LockRowViewSchema>;

/** The lock rows of a report that carry statistics, and how many did not. */
export function lockRowsOf(report: Pick<AnalyzeReport, 'locks'>): { rows: LockRowView[]; unreadable: number } {
  return readableRows(LockRowViewSchema, report.locks);
}

/** How a lock row is named in messages: `luo_register_rwlock rwsem:W`. */
export function lockLabel(row: { name: string | null; address: string | null; mode: string; type?: string }): string {
  return `${row.name ?? row.address ?? '(unnamed lock)'} ${row.type ?? row.mode}`;
}

const SlowWaitViewSchema = z.object({
  lock: z.string().nullable(),
  address: z.string().nullable(),
  type: z.string(),
  duration: z.number(),
  file: z.number().int(),
  line: z.number().int(),
});

/** The lock analysis' `untracked` (analyses/locks/schema.ts: lock events of tasks past its task table's bound). */
const UntrackedViewSchema = z.object({ cap: z.number().int(), tasks: z.number().int(), events: z.number().int() });

/** The lock events a report's lock analysis did not track, or null (it tracked all, or a report made before the field). */
function untrackedLocks(report: AnalyzeReport): z.infer<typeof UntrackedViewSchema> | null {
  const r = UntrackedViewSchema.safeParse((report.lockDetails as Record<string, unknown>).untracked);
  return r.success && r.data.events > 0 ? r.data : null;
}

// ---- matching ----------------------------------------------------------------------------------

/** `*` matches any run of characters; everything else is literal. */
export function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  const parts = pattern.split('*');
  if (!value.startsWith(parts[0])) return false;
  let pos = parts[0].length;
  for (let i = 1; i < parts.length - 1; i++) {
    const at = value.indexOf(parts[i], pos);
    if (at < 0) return false;
    pos = at + parts[i].length;
  }
  const last = parts[parts.length - 1];
  return value.length - pos >= last.length && value.endsWith(last);
}

export function lockMatches(limit: LockLimit, row: LockRowView): boolean {
  const modeOk = limit.mode === '*' || limit.mode === row.mode || limit.mode === row.type;
  if (!modeOk) return false;
  if (limit.lock === '@luo') return (row.luo !== undefined && row.luo !== null) || (row.name !== null && row.name in LUO_LOCKS);
  return [row.name, row.address].some((v) => v !== null && globMatch(limit.lock, v));
}

// ---- results -----------------------------------------------------------------------------------

const AtSchema = z.object({ file: z.string(), line: z.number().int() });

export const MeasurementSchema = z.object({
  /** What was measured: `luo_register_rwlock rwsem:W`, `preserve of token 0x101 in session s1`. */
  subject: z.string(),
  /** Nanoseconds. */
  value: z.number(),
  limit: z.number(),
  ok: z.boolean(),
  at: z.array(AtSchema),
});
export type Measurement = z.infer<typeof MeasurementSchema>;

export const RuleResultSchema = z.object({
  id: z.string(),
  kind: z.enum(['verdict', 'lock', 'phase', 'phase-error']),
  description: z.string(),
  severity: SeveritySchema,
  /**
   * pass; fail (violated, severity error); warn (violated, severity warning); off; n/a (nothing to
   * check); inconclusive (the data the rule needs may be missing: reported, fails only with --strict).
   */
  status: z.enum(['pass', 'fail', 'warn', 'inconclusive', 'off', 'n/a']),
  message: z.string(),
  evidence: z.array(AtSchema),
  /** Threshold rules: the violations first, then the largest value per subject that passed. */
  measurements: z.array(MeasurementSchema),
  /** How many subjects were checked (locks x modes, phase instances). */
  checked: z.number().int(),
});
export type RuleResult = z.infer<typeof RuleResultSchema>;

export const CheckReportSchema = z.object({
  tool: z.object({ name: z.literal('luotrace'), version: z.string() }),
  command: z.literal('check'),
  files: z.array(z.string()),
  kernelModel: z.object({ id: z.string().nullable(), title: z.string().nullable() }),
  /** pass: no rule failed; fail: at least one error-severity rule was violated. */
  status: z.enum(['pass', 'fail']),
  summary: z.object({
    rules: z.number().int(),
    passed: z.number().int(),
    failed: z.number().int(),
    warnings: z.number().int(),
    inconclusive: z.number().int(),
    off: z.number().int(),
    notApplicable: z.number().int(),
  }),
  rules: z.array(RuleResultSchema),
  dataQuality: z.object({ incomplete: z.boolean(), truncated: z.boolean(), lostEvents: z.number().int(), linesSkipped: z.number().int() }),
});
export type CheckReport = z.infer<typeof CheckReportSchema>;

const MAX_MEASUREMENTS = 50;

function statusOf(ok: boolean, severity: RuleSeverity): RuleResult['status'] {
  if (severity === 'off') return 'off';
  if (ok) return 'pass';
  return severity === 'error' ? 'fail' : 'warn';
}


/** `188 ms > 100 ms`: a measured duration against its limit, never two equal-looking figures. */
function versus(value: number, op: string, limit: number): string {
  const [v, l] = formatDurationPair(value, limit);
  return `${v} ${op} ${l}`;
}

function evaluateVerdict(rule: Extract<RuleConfig, { kind: 'verdict' }>, report: AnalyzeReport): RuleResult {
  const description = VERDICT_RULES[rule.id];
  const v = report.verdicts.find((x) => x.id === rule.id);
  if (!v) {
    const why = verdictDefinition(rule.id)?.rule?.absent ?? 'the analysis gave no verdict for these inputs';
    return { id: rule.id, kind: 'verdict', description, severity: rule.severity, status: rule.severity === 'off' ? 'off' : 'n/a', message: why, evidence: [], measurements: [], checked: 0 };
  }
  // `ok: false` is a failure whatever else is set; reports made before verdicts had a status carry only `ok`.
  const status = !v.ok ? 'fail' : (v.status ?? 'pass');
  return {
    id: rule.id,
    kind: 'verdict',
    description,
    severity: rule.severity,
    status: rule.severity !== 'off' && (status === 'inconclusive' || status === 'n/a') ? status : statusOf(status !== 'fail', rule.severity),
    message: v.message,
    evidence: v.evidenceAt,
    measurements: [],
    checked: 1,
  };
}

function lockMetric(id: LockRuleId, row: LockRowView): number | null {
  if (id === 'max-hold') return row.hold.count > 0 ? row.hold.max : null;
  if (id === 'max-wait') return row.wait.count > 0 ? row.wait.max : null;
  return row.wait.count > 0 ? row.wait.p99 : null;
}

function evaluateLock(rule: Extract<RuleConfig, { kind: 'lock' }>, report: AnalyzeReport): RuleResult {
  const description = LOCK_RULES[rule.id];
  const base = { id: rule.id, kind: 'lock' as const, description, severity: rule.severity };
  const { rows, unreadable } = lockRowsOf(report);
  if (rule.severity === 'off') return { ...base, status: 'off', message: 'disabled', evidence: [], measurements: [], checked: 0 };
  const sources = report.sources.map((s) => s.file);
  const waits = Array.isArray((report.lockDetails as Record<string, unknown>).slowestWaits)
    ? ((report.lockDetails as Record<string, unknown>).slowestWaits as unknown[]).flatMap((w) => {
        const r = SlowWaitViewSchema.safeParse(w);
        return r.success ? [r.data] : [];
      })
    : [];
  const measurements: Measurement[] = [];
  for (const row of rows) {
    const limit = rule.limits.find((l) => lockMatches(l, row));
    if (!limit) continue;
    const value = lockMetric(rule.id, row);
    if (value === null) continue;
    // A wait rule can point at the waits themselves (file:line of the slowest ones on that lock).
    const at =
      rule.id === 'max-hold'
        ? []
        : waits
            .filter((w) => (w.lock ?? w.address) === (row.name ?? row.address) && (w.type === row.type || w.type === row.mode || row.type === undefined))
            .filter((w) => w.duration > limit.limit)
            .slice(0, 5)
            .map((w) => ({ file: sources[w.file] ?? String(w.file), line: w.line }));
    measurements.push({ subject: lockLabel(row), value, limit: limit.limit, ok: value <= limit.limit, at });
  }
  const checked = measurements.length;
  const bad = measurements.filter((m) => !m.ok).sort((a, b) => b.value - a.value);
  const good = measurements.filter((m) => m.ok).sort((a, b) => b.value / b.limit - a.value / a.limit);
  const untracked = untrackedLocks(report);
  if (bad.length === 0 && untracked !== null) {
    // Within limits where measured, but the holds and waits of the tasks not tracked could be over them: not a pass.
    const seen = checked ? `${checked} locks within limits` : 'no lock row matched the limits';
    const message = `${seen}; ${untracked.events} lock events of about ${untracked.tasks} tasks were not tracked (more than ${untracked.cap} tasks had a hold or a wait open at once, memory bound): their holds and waits may be over the limits`;
    return { ...base, status: 'inconclusive', message, evidence: [], measurements: good.slice(0, MAX_MEASUREMENTS), checked };
  }
  if (checked === 0) {
    const why = rows.length === 0
      ? unreadable > 0
        ? `the report has ${unreadable} lock rows without hold/wait statistics`
        : 'the report has no lock statistics (no lock events in these inputs, or the lock analysis is not available)'
      : `no lock row matched the limits (${rule.limits.map((l) => `${l.lock} ${l.mode}`).join(', ')}) with ${rule.id === 'max-hold' ? 'complete holds' : 'complete waits'}`;
    return { ...base, status: 'n/a', message: why, evidence: [], measurements: [], checked };
  }
  const metric = rule.id === 'max-hold' ? 'longest hold' : rule.id === 'max-wait' ? 'longest wait' : 'p99 wait';
  const message = bad.length
    ? `${bad.length} of ${checked} locks over the limit: ${bad.slice(0, 5).map((m) => `${m.subject} ${metric} ${versus(m.value, '>', m.limit)}`).join('; ')}${bad.length > 5 ? '; …' : ''}`
    : `${checked} locks within limits; closest to its limit: ${good[0].subject} ${metric} ${versus(good[0].value, '≤', good[0].limit)}`;
  return {
    ...base,
    status: statusOf(bad.length === 0, rule.severity),
    message,
    evidence: bad.flatMap((m) => m.at).slice(0, 50),
    measurements: [...bad, ...good].slice(0, MAX_MEASUREMENTS),
    checked,
  };
}

interface PhaseInstance {
  name: string;
  /** A boot-wide phase (reboot, serialize...), not a session's. */
  global: boolean;
  session: string | null;
  label: string;
  durationNs: number | null;
  /** Events were lost between its call and return: no duration (analyses/stream/luo-calls.ts acrossLoss). */
  acrossLoss: boolean;
  at: { file: string; line: number };
}

function phaseInstances(report: AnalyzeReport): PhaseInstance[] {
  const out: PhaseInstance[] = [];
  for (const s of report.sessions) {
    const who = s.name ?? `#${s.id}`;
    for (const p of s.phases) {
      out.push({ name: p.name, global: false, session: s.name, label: `${p.name}${p.token ? ` of token ${p.token}` : ''} in session ${who} (boot ${s.boot})`, durationNs: p.durationNs, acrossLoss: p.acrossLoss === true, at: { file: p.file, line: p.line } });
    }
  }
  for (const b of report.boots) {
    for (const p of b.globalPhases) out.push({ name: p.name, global: true, session: null, label: `${p.name} (boot ${b.id})`, durationNs: p.durationNs, acrossLoss: p.acrossLoss === true, at: { file: p.file, line: p.line } });
  }
  return out;
}

function evaluatePhases(rule: Extract<RuleConfig, { kind: 'phase' }>, report: AnalyzeReport): RuleResult {
  const base = { id: rule.id, kind: 'phase' as const, description: PHASE_RULES[rule.id], severity: rule.severity };
  if (rule.severity === 'off') return { ...base, status: 'off', message: 'disabled', evidence: [], measurements: [], checked: 0 };
  const bad: Measurement[] = [];
  // Per phase name, the longest instance that passed (so the JSON shows the margin).
  const bestOk = new Map<string, Measurement>();
  let checked = 0;
  let unmeasured = 0;
  // Phases whose call and return have lost events between them: the return may be another call's.
  const acrossLoss: PhaseInstance[] = [];
  for (const p of phaseInstances(report)) {
    const limit = rule.limits.find((l) => globMatch(l.phase, p.name) && (l.session === undefined || (p.session !== null && globMatch(l.session, p.session))));
    if (!limit) continue;
    if (p.acrossLoss) acrossLoss.push(p);
    if (p.durationNs === null) {
      unmeasured++;
      continue;
    }
    checked++;
    const m: Measurement = { subject: p.label, value: p.durationNs, limit: limit.limit, ok: p.durationNs <= limit.limit, at: [p.at] };
    if (!m.ok) bad.push(m);
    else if ((bestOk.get(p.name)?.value ?? -1) < m.value) bestOk.set(p.name, m);
  }
  // Sessions beyond the report's listing cap are only in phaseStats (per phase name: count, max):
  // a phase-only limit still applies to them through the maximum.
  const omitted = Object.values(report.sessionsOmitted ?? {}).reduce((a, n) => a + n, 0);
  if (omitted > 0) {
    const listed = new Map<string, { n: number; max: number }>();
    const add = (name: string, n: number, maxNs: number | null) => {
      const e = listed.get(name) ?? { n: 0, max: -1 };
      e.n += n;
      if (maxNs !== null) e.max = Math.max(e.max, maxNs);
      listed.set(name, e);
    };
    for (const p of phaseInstances(report)) if (!p.global) add(p.name, 1, p.durationNs);
    // A listed session's calls it counts, not lists (phasesOmitted), are judged below with it.
    for (const t of report.sessions.flatMap((x) => x.phasesOmitted ?? [])) add(t.name, t.count, t.maxNs);
    for (const st of report.phaseStats ?? []) {
      const limit = rule.limits.find((l) => globMatch(l.phase, st.phase) && l.session === undefined);
      if (!limit || st.maxNs === null) continue;
      const seen = listed.get(st.phase) ?? { n: 0, max: -1 };
      const unlisted = Math.max(0, st.count - seen.n);
      if (unlisted === 0) continue;
      checked += unlisted;
      if (st.maxNs > seen.max) {
        const m: Measurement = { subject: `${st.phase} (longest of ${st.count}, in a session the report does not list)`, value: st.maxNs, limit: limit.limit, ok: st.maxNs <= limit.limit, at: [] };
        if (!m.ok) bad.push(m);
        else if ((bestOk.get(st.phase)?.value ?? -1) < m.value) bestOk.set(st.phase, m);
      }
    }
  }
  const past = countedPhases(rule, report, bad, bestOk);
  checked += past.checked;
  unmeasured += past.unmeasured;
  if (bad.length === 0 && acrossLoss.length + past.acrossLoss > 0) {
    // Within limits where measured, but the phases across a loss could be over it: not a pass.
    const first = acrossLoss[0];
    const where = first ? `first ${first.label}, ${first.at.file}:${first.at.line}` : 'among the phases the report counts, not lists';
    return {
      ...base,
      status: 'inconclusive',
      message: `${checked} phases within limits; ${acrossLoss.length + past.acrossLoss} not measurable: events were lost between the call and the return, which may not belong together (${where}); ${RECORD_MORE}`,
      evidence: acrossLoss.slice(0, 50).map((p) => p.at),
      measurements: [...bestOk.values()].slice(0, MAX_MEASUREMENTS),
      checked,
    };
  }
  if (checked === 0) {
    return { ...base, status: 'n/a', message: unmeasured ? `${unmeasured} matching phases, none with both ends in the trace` : 'no LUO phase in these inputs matched the limits', evidence: [], measurements: [], checked };
  }
  bad.sort((a, b) => b.value - a.value);
  const good = [...bestOk.values()].sort((a, b) => b.value / b.limit - a.value / a.limit);
  const message = bad.length
    ? `${bad.length} of ${checked} phases over the limit: ${bad.slice(0, 5).map((m) => `${m.subject} took ${versus(m.value, '>', m.limit)}${m.at[0] ? ` (${m.at[0].file}:${m.at[0].line})` : ''}`).join('; ')}${bad.length > 5 ? '; …' : ''}`
    : `${checked} phases within limits${good[0] ? `; closest to its limit: ${good[0].subject} ${versus(good[0].value, '≤', good[0].limit)}` : ''}${unmeasured ? `; ${unmeasured} not measurable (an end outside the trace)` : ''}`;
  return {
    ...base,
    status: statusOf(bad.length === 0, rule.severity),
    message,
    evidence: bad.flatMap((m) => m.at).slice(0, 50),
    measurements: [...bad, ...good].slice(0, MAX_MEASUREMENTS),
    checked,
  };
}

/**
 * Phases the report counts, not lists, by name and function: global ones past its listing cap
 * (globalPhasesOmitted, per boot) and a session's freeze calls of earlier kexec attempts
 * (phasesOmitted). A limit on their phase applies to them through their longest (a measurement into
 * `bad` or `bestOk`), and those across a loss count as the listed ones do. Returns what they add to
 * the rule's counts.
 */
function countedPhases(
  rule: Extract<RuleConfig, { kind: 'phase' }>,
  report: AnalyzeReport,
  bad: Measurement[],
  bestOk: Map<string, Measurement>,
): { checked: number; unmeasured: number; acrossLoss: number } {
  const out = { checked: 0, unmeasured: 0, acrossLoss: 0 };
  const judge = (t: PhaseTallyJson, where: string, session: string | null) => {
    const limit = rule.limits.find((l) => globMatch(l.phase, t.name) && (l.session === undefined || (session !== null && globMatch(l.session, session))));
    if (!limit) return;
    out.checked += t.measured;
    out.unmeasured += t.count - t.measured;
    out.acrossLoss += t.acrossLoss;
    if (t.maxNs === null) return;
    const m: Measurement = { subject: `${t.name} (${where}; longest of ${t.measured} counted, not listed in the report)`, value: t.maxNs, limit: limit.limit, ok: t.maxNs <= limit.limit, at: [] };
    if (!m.ok) bad.push(m);
    else if ((bestOk.get(t.name)?.value ?? -1) < m.value) bestOk.set(t.name, m);
  };
  for (const b of report.boots) for (const t of b.globalPhasesOmitted ?? []) judge(t, `boot ${b.id}`, null);
  for (const x of report.sessions) for (const t of x.phasesOmitted ?? []) judge(t, `session ${x.name ?? `#${x.id}`}, boot ${x.boot}`, x.name);
  return out;
}

/** phase-errors: each failed LUO phase with its errno, at the severity its phase has under the rule. */
function evaluatePhaseErrors(rule: Extract<RuleConfig, { kind: 'phase-error' }>, report: AnalyzeReport): RuleResult {
  const base = { id: rule.id, kind: 'phase-error' as const, description: PHASE_ERROR_RULE[rule.id], severity: rule.severity };
  if (rule.severity === 'off') return { ...base, status: 'off', message: 'disabled', evidence: [], measurements: [], checked: 0 };
  const { failed, phases, unlisted } = failedPhases(report);
  if (phases === 0) return { ...base, status: 'n/a', message: 'no LUO phase in these inputs', evidence: [], measurements: [], checked: 0 };
  const judged = [
    ...failed.map((f) => ({ sev: phaseErrorSeverity(f.phase, rule.severity, rule.phases), n: 1, text: `${f.label} returned ${f.result}${f.error ? ` ${f.error}` : ''} (${f.at.file}:${f.at.line})`, at: [f.at] })),
    ...unlisted.map((u) => ({ sev: phaseErrorSeverity(u.phase, rule.severity, rule.phases), n: u.count, text: u.text, at: [] })),
  ].filter((j) => j.sev !== 'off');
  const errors = judged.filter((j) => j.sev === 'error');
  const warnings = judged.filter((j) => j.sev === 'warning');
  const allFailed = failed.length + unlisted.reduce((a, u) => a + u.count, 0);
  if (!judged.length) return { ...base, status: 'pass', message: `${phases} LUO phases, none failed${allFailed ? ` (${allFailed} failed in phases set to off)` : ''}`, evidence: [], measurements: [], checked: phases };
  // The first 5 named, the rest counted: an item counted past a cap stands for its `n` failures.
  const list = (xs: typeof judged, sev: string) => {
    if (!xs.length) return null;
    const total = xs.reduce((a, j) => a + j.n, 0);
    const named = xs.slice(0, 5);
    const more = total - named.reduce((a, j) => a + j.n, 0);
    return `${total} failed phase${total === 1 ? '' : 's'} (${sev}): ${named.map((j) => j.text).join('; ')}${more > 0 ? `; ${more} more` : ''}`;
  };
  return {
    ...base,
    status: errors.length ? 'fail' : 'warn',
    message: [list(errors, 'error'), list(warnings, 'warning')].filter(Boolean).join('; '),
    evidence: [...errors, ...warnings].flatMap((j) => j.at).slice(0, 50),
    measurements: [],
    checked: phases,
  };
}

/** Evaluate every rule over one analyze report. */
export function evaluateRules(report: AnalyzeReport, rules: RuleConfig[]): CheckReport {
  const results = rules.map((r) => (r.kind === 'verdict' ? evaluateVerdict(r, report) : r.kind === 'lock' ? evaluateLock(r, report) : r.kind === 'phase' ? evaluatePhases(r, report) : evaluatePhaseErrors(r, report)));
  const count = (s: RuleResult['status']) => results.filter((r) => r.status === s).length;
  const q = report.dataQuality;
  return {
    tool: report.tool,
    command: 'check',
    files: report.sources.map((s) => s.file),
    kernelModel: { id: report.kernelModel.id, title: report.kernelModel.title },
    status: count('fail') > 0 ? 'fail' : 'pass',
    summary: { rules: results.length, passed: count('pass'), failed: count('fail'), warnings: count('warn'), inconclusive: count('inconclusive'), off: count('off'), notApplicable: count('n/a') },
    rules: results,
    dataQuality: {
      incomplete: q.incomplete,
      truncated: q.truncated,
      lostEvents: Object.values(q.lost).reduce((a, l) => a + l.events, 0),
      linesSkipped: Object.values(q.lines.skipped).reduce((a, n) => a + n, 0),
    },
  };
}
