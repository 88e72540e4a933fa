// What a verdict is: a definition (id, default severity, the reason codes it can give, whether
// `check` enforces it) with an `evaluate` over the LUO section, and the typed result it returns.
// The registry (registry.ts) lists the definitions in the order the report shows them; the report
// JSON keeps the shape of VerdictSchema (schema.ts), made from these results by toVerdictJson.
import type { DataQuality } from '../../../parsers/quality.js';
import type { LuoSectionBody, Verdict } from '../schema.js';

export type Section = LuoSectionBody;
export type Severity = Verdict['severity'];
export interface At {
  file: string;
  line: number;
}

/**
 * pass and fail are definite; inconclusive: the data the verdict needs may be missing (events lost or
 * a capture cut inside the span that matters), and the message says what to do; n/a: nothing to judge.
 */
export const VERDICT_STATUSES = ['pass', 'fail', 'inconclusive', 'n/a'] as const;
export type VerdictStatus = (typeof VERDICT_STATUSES)[number];

/** One outcome of a verdict: a stable reason code per verdict, the message, the evidence lines. */
export interface VerdictResult<R extends string = string> {
  id: string;
  status: VerdictStatus;
  reason: R;
  severity: Severity;
  message: string;
  evidence: At[];
}

export interface VerdictDefinition<Id extends string = string, R extends string = string> {
  id: Id;
  /** Severity of a failure (a pass is reported as information, or as the warning it carries). */
  severity: Severity;
  /** Every reason code `evaluate` may give. */
  reasons: readonly R[];
  /** When `check` enforces it: what the rule checks, and what it says when the verdict is absent. */
  rule?: { description: string; absent?: string };
  /** Zero or more results: some verdicts are given only when there is something to say, some once per boot. */
  evaluate(section: Section, quality: DataQuality): Array<VerdictResult<R>>;
}

/** What a definition says about itself (kept apart from `evaluate` so that results can name it). */
export type VerdictMeta = Omit<VerdictDefinition, 'evaluate' | 'reasons'> & { reasons: readonly string[] };

/** A definition with its literal id and reason codes (`meta` is written `as const`). */
export function defineVerdict<const M extends VerdictMeta>(
  meta: M,
  evaluate: (section: Section, quality: DataQuality) => Array<VerdictResult<M['reasons'][number]>>,
): VerdictDefinition<M['id'], M['reasons'][number]> & Pick<M, 'rule'> {
  return { ...meta, evaluate } as VerdictDefinition<M['id'], M['reasons'][number]> & Pick<M, 'rule'>;
}

/** A result of `def` (`true` = pass, `false` = fail): evidence de-duplicated and capped at 50 lines; only a failure is an error. */
export function result<const M extends VerdictMeta>(
  def: M,
  reason: M['reasons'][number],
  outcome: boolean | VerdictStatus,
  message: string,
  at: At[] = [],
  severity: Severity = def.severity,
): VerdictResult<M['reasons'][number]> {
  const uniq = new Map(at.map((a) => [`${a.file}:${a.line}`, a]));
  const evidence = [...uniq.values()].slice(0, 50);
  const status: VerdictStatus = outcome === true ? 'pass' : outcome === false ? 'fail' : outcome;
  const failed = status === 'fail';
  return { id: def.id, status, reason, severity: failed ? severity : severity === 'error' ? 'info' : severity, message, evidence };
}

/** The report's JSON form of a result (VerdictSchema). */
export function toVerdictJson(r: VerdictResult): Verdict {
  return { id: r.id, ok: r.status !== 'fail', status: r.status, reason: r.reason, severity: r.severity, message: r.message, evidence: r.evidence.map((a) => a.line), evidenceAt: r.evidence };
}

/**
 * Items named in one verdict message (one line of the text report); the rest are counted. A trace is
 * attacker-controlled: it can hold any number of rmmods, frees or registrations (docs/luo-model.md
 * §4 "Registrations on hostile input").
 */
export const MESSAGE_CAP = 10;

/** The texts of the first `cap` items joined with `sep`, then "`sep`and N more `what`" when there are more (only those texts are made). */
export function joinNamed<T>(items: readonly T[], text: (t: T) => string, what: string, sep = '; ', cap = MESSAGE_CAP): string {
  const named = items.slice(0, cap).map(text).join(sep);
  return items.length > cap ? `${named}${sep}and ${items.length - cap} more ${what}` : named;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * A verdict as one outcome, for summaries across hosts (reports/fleet.ts): its status first
 * (inconclusive and n/a are neither a pass nor a failure), then the severity of a pass or failure
 * ('warn'). A report or summary written before statuses existed gives `ok` only.
 */
export function verdictOutcome(v: { ok: boolean; status?: VerdictStatus; severity: Severity }): 'pass' | 'warn' | 'fail' | 'inconclusive' | 'n/a' {
  const status = !v.ok ? 'fail' : (v.status ?? 'pass');
  if (status === 'inconclusive' || status === 'n/a') return status;
  if (v.severity === 'warning') return 'warn';
  return status === 'fail' ? 'fail' : 'pass';
}
