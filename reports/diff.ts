// `luotrace diff BEFORE AFTER`: two analyze reports side by side (before/after a kernel patch).
//
// Per session, phase, module and lock: counts and durations with deltas and ratios; regressions
// beyond a threshold are listed (and make the CLI exit 1). Two runs of different kernel models
// (e.g. a pre-series kernel against the merged series) are compared where the model allows it:
// - module references are compared by ROLE (registration, per preserved file, per FLB in use, VFS,
//   module loader; kernel-models.ts classifyCallSite), because the call sites that take them are
//   version-dependent (docs/luo-model.md §4); where they moved is the headline (docs/luo-model.md "Versions
//   a tool must handle": PRE pins at registration, the merged series per preserved file);
// - locks by name and mode: lockdep class names and kernel symbols are the identities that survive
//   a reboot. A lock that exists in one model only (luo_register_rwlock is the merged series'
//   registration lock, docs/luo-model.md §3) is listed as not comparable, with the reason;
// - phases by name, sessions by (boot, side, name), never by order: unrelated runs (stress sessions
//   named after their pids) have no session in common, and are compared by their rates instead;
// - runs of different length are compared by rates (reports/diff-rates.ts): contention per lock
//   acquisition, waits per session; the totals are shown beside them;
// - a lock named in one run and known only by its raw address in the other is matched by that
//   address when the named run saw it (a static lock, one kernel build without KASLR), and said;
// - locks known only by a pointer are not compared: tracefs hashes `%p` with a key chosen at each
//   boot (real README O2), and raw addresses of heap objects change too, so equal or different
//   pointers say nothing across runs. Summing them per mode would pair unrelated locks (a module
//   unload's rwsem in one run with an insmod's in the other); each side's totals are listed apart.
// Pure: no I/O.
import { z } from 'zod';
import type { AnalyzeReport } from '../analyses/report.js';
import { formatDuration as fmtNs } from '../analyses/format.js';
import { type CallSiteClass, classifyCallSite, KERNEL_MODELS, type KernelModelId } from '../analyses/kernel/kernel-models.js';
import { type DistributionView, lockRowsOf, type LockRowView } from './rules.js';
import { type Cmp, cmp, CmpSchema, fmtRate, namesByAddress, rate, rateRegressed, type RunRates, RunRatesSchema, runRates } from './diff-rates.js';
import { isLuoPin } from '../analyses/luo/pin-kinds.js';
import { countedPast } from '../analyses/luo/schema.js';

export interface DiffOptions {
  /** Relative increase that counts as a regression: 0.2 = after > before × 1.2. */
  threshold: number;
  /** Durations: an increase smaller than this (ns) is never a regression (timer noise, TCG). */
  minDeltaNs: number;
}

export const DEFAULT_DIFF_OPTIONS: DiffOptions = { threshold: 0.2, minDeltaNs: 1_000_000 };

// ---- JSON contract -----------------------------------------------------------------------------

export { type Cmp, cmp } from './diff-rates.js';

const SideModelSchema = z.object({ files: z.array(z.string()), kernelModel: z.string().nullable(), title: z.string().nullable(), pinning: z.string().nullable() });

const REF_ROLES = ['registration', 'per-file', 'per-flb', 'vfs', 'module-loader', 'other'] as const;
type RefRole = (typeof REF_ROLES)[number];
const RefRoleSchema = z.enum(REF_ROLES);

const ModuleRefsSchema = z.object({
  module: z.string(),
  /** Gets and puts per role, summed over the boots of each run. */
  roles: z.array(z.object({ role: RefRoleSchema, gets: CmpSchema, puts: CmpSchema })),
  /** Per call site (as printed); a site seen in one run only has null on the other side. */
  sites: z.array(z.object({ site: z.string(), role: RefRoleSchema, direction: z.enum(['get', 'put']), count: CmpSchema })),
  /** One sentence when the pinning moved from one role to another, else null. */
  moved: z.string().nullable(),
});

const ModuleRowSchema = z.object({
  module: z.string(),
  boot: z.number().int(),
  bootRole: z.object({ before: z.string().nullable(), after: z.string().nullable() }),
  gets: CmpSchema,
  puts: CmpSchema,
  luoGets: CmpSchema,
  luoPuts: CmpSchema,
  finalRefcnt: CmpSchema,
  maxRefcnt: CmpSchema,
  openPins: CmpSchema,
  /** LUO pin windows (file + FLB + registration) and how long the closed ones were held (ns). */
  pinWindows: CmpSchema,
  pinHeldAvgNs: CmpSchema,
  pinHeldMaxNs: CmpSchema,
  rmmod: z.object({ before: z.string().nullable(), after: z.string().nullable() }),
});

const SessionRowSchema = z.object({
  key: z.string(),
  boot: z.number().int(),
  side: z.string(),
  name: z.string().nullable(),
  /** Sessions are matched by name within the same boot and side, never by order; `none`: seen in one run only. */
  matchedBy: z.enum(['name', 'none']),
  state: z.object({ before: z.string().nullable(), after: z.string().nullable() }),
  phases: CmpSchema,
  phaseTimeNs: CmpSchema,
  files: CmpSchema,
  pinsTaken: CmpSchema,
  pinsOpen: CmpSchema,
});

const PhaseRowSchema = z.object({
  /** outgoing / incoming (session phases) or boot (kexec-wide phases: reboot, serialize...). */
  side: z.string(),
  phase: z.string(),
  count: CmpSchema,
  totalNs: CmpSchema,
  avgNs: CmpSchema,
  maxNs: CmpSchema,
});

const DistCmpSchema = z.object({ count: CmpSchema, total: CmpSchema, avg: CmpSchema, max: CmpSchema, p99: CmpSchema });
const LockRowDiffSchema = z.object({
  lock: z.string(),
  mode: z.string(),
  /** `address`: one run names the lock, the other knows it only by that raw address (see the header). */
  matchedBy: z.enum(['name', 'address']),
  /** Several rows of one report with this name (e.g. instances a symbol names alike) summed; p99 is then unknown. */
  aggregate: z.boolean(),
  acquisitions: CmpSchema,
  contended: CmpSchema,
  /** contended / acquisitions, and wait total / acquisitions (ns): what runs of different length compare. */
  contendedPerAcquisition: CmpSchema,
  waitNsPerAcquisition: CmpSchema,
  wait: DistCmpSchema,
  hold: DistCmpSchema,
});

/** One side's locks that have no name, per mode: listed, never compared (see the header). */
const UnnamedLocksSchema = z.object({
  mode: z.string(),
  locks: z.number().int(),
  /** How many of them are hashed tracefs pointers (the rest are raw addresses: --kallsyms may name them). */
  hashed: z.number().int(),
  acquisitions: z.number().int(),
  contended: z.number().int(),
  waitCount: z.number().int(),
  waitTotalNs: z.number(),
  waitMaxNs: z.number().nullable(),
});

const RegressionSchema = z.object({
  area: z.enum(['phase', 'lock', 'verdict', 'session']),
  subject: z.string(),
  metric: z.string(),
  before: z.number().nullable(),
  after: z.number().nullable(),
  ratio: z.number().nullable(),
  message: z.string(),
});
export type Regression = z.infer<typeof RegressionSchema>;

export const DiffReportSchema = z.object({
  tool: z.object({ name: z.literal('luotrace'), version: z.string() }),
  command: z.literal('diff'),
  before: SideModelSchema,
  after: SideModelSchema,
  options: z.object({ threshold: z.number(), minDeltaNs: z.number() }),
  /** The differences that matter most, in words, most important first. */
  headline: z.array(z.string()),
  sameKernelModel: z.boolean(),
  /** Each run's length and rates; whether lock regressions are decided on rates. */
  run: RunRatesSchema,
  /** Totals that rose while their rate did not (runs of different length): said, not regressions. */
  rateNotes: z.array(z.string()),
  moduleRefs: z.array(ModuleRefsSchema),
  modules: z.array(ModuleRowSchema),
  sessions: z.array(SessionRowSchema),
  phases: z.array(PhaseRowSchema),
  /** Named locks, compared by name and mode. */
  locks: z.array(LockRowDiffSchema),
  /** Locks known only by a pointer, per side and mode: not comparable across runs. */
  unnamedLocks: z.object({ before: z.array(UnnamedLocksSchema), after: z.array(UnnamedLocksSchema) }),
  verdicts: z.array(z.object({ id: z.string(), before: z.boolean().nullable(), after: z.boolean().nullable(), changed: z.boolean(), beforeMessage: z.string().nullable(), afterMessage: z.string().nullable() })),
  /** What could not be compared, and why (kernel-model differences, rows seen on one side only). */
  notComparable: z.array(z.string()),
  regressions: z.array(RegressionSchema),
});
export type DiffReport = z.infer<typeof DiffReportSchema>;

// ---- helpers -----------------------------------------------------------------------------------

const sum = (xs: number[]) => xs.reduce((a, x) => a + x, 0);
const maxOf = (xs: number[]) => (xs.length ? Math.max(...xs) : null);
const avgOf = (xs: number[]) => (xs.length ? sum(xs) / xs.length : null);

function roleOf(site: string): RefRole {
  const c: CallSiteClass = classifyCallSite(site);
  switch (c) {
    case 'luo-registration':
      return 'registration';
    case 'luo-file':
      return 'per-file';
    case 'luo-flb':
      return 'per-flb';
    case 'vfs':
      return 'vfs';
    case 'module-loader':
      return 'module-loader';
    default:
      return 'other';
  }
}

export const ROLE_WORDS: Record<RefRole, string> = {
  registration: 'registration (pinned while registered)',
  'per-file': 'per preserved file',
  'per-flb': 'per FLB in use',
  vfs: 'VFS opens',
  'module-loader': 'the module loader',
  other: 'other callers',
};

/** Is this a regression: after exceeds before by more than the threshold and by at least `floor`? */
function regressed(c: Cmp, opts: DiffOptions, floor: number): boolean {
  if (c.before === null || c.after === null) return false;
  const increase = c.after - c.before;
  if (increase <= 0 || increase < floor) return false;
  return c.before === 0 || c.after > c.before * (1 + opts.threshold);
}

function pct(r: number | null): string {
  if (r === null) return 'new';
  return `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(0)}%`;
}

// ---- module references -------------------------------------------------------------------------

interface RoleCounts {
  gets: Map<RefRole, number>;
  puts: Map<RefRole, number>;
  sites: Map<string, { role: RefRole; direction: 'get' | 'put'; n: number }>;
}

function moduleRoleCounts(r: AnalyzeReport): Map<string, RoleCounts> {
  const out = new Map<string, RoleCounts>();
  for (const m of r.modules) {
    let c = out.get(m.name);
    if (!c) out.set(m.name, (c = { gets: new Map(), puts: new Map(), sites: new Map() }));
    for (const [dir, bySite] of [['get', m.getsBySite], ['put', m.putsBySite]] as const) {
      for (const [site, n] of Object.entries(bySite)) {
        const role = roleOf(site);
        const map = dir === 'get' ? c.gets : c.puts;
        map.set(role, (map.get(role) ?? 0) + n);
        const key = `${dir}:${site}`;
        const s = c.sites.get(key) ?? { role, direction: dir, n: 0 };
        s.n += n;
        c.sites.set(key, s);
      }
    }
  }
  return out;
}

function siteList(c: RoleCounts | undefined, roles: RefRole[], dir: 'get' | 'put'): string {
  if (!c) return '';
  return [...c.sites.entries()]
    .filter(([, s]) => s.direction === dir && roles.includes(s.role))
    .sort((a, b) => b[1].n - a[1].n)
    .map(([k, s]) => `${k.slice(4)} ×${s.n}`)
    .join(', ');
}

function describeMove(module: string, b: RoleCounts | undefined, a: RoleCounts | undefined): string | null {
  const bg = (role: RefRole) => b?.gets.get(role) ?? 0;
  const ag = (role: RefRole) => a?.gets.get(role) ?? 0;
  const perUse: RefRole[] = ['per-file', 'per-flb'];
  const bUse = bg('per-file') + bg('per-flb');
  const aUse = ag('per-file') + ag('per-flb');
  if (bg('registration') > 0 && ag('registration') === 0 && aUse > 0) {
    return `${module}: module refs moved from registration (${siteList(b, ['registration'], 'get')}) to ${ag('per-flb') ? 'per preserved file and per FLB in use' : 'per preserved file'} (${siteList(a, perUse, 'get')})`;
  }
  if (ag('registration') > 0 && bg('registration') === 0 && bUse > 0) {
    return `${module}: module refs moved from per preserved file (${siteList(b, perUse, 'get')}) to registration (${siteList(a, ['registration'], 'get')})`;
  }
  if (bg('registration') > 0 && ag('registration') === 0 && aUse === 0) {
    return `${module}: no longer pinned at registration (${siteList(b, ['registration'], 'get')}), and no LUO refs at all after`;
  }
  if (ag('registration') > 0 && bg('registration') === 0 && bUse === 0) {
    return `${module}: now pinned at registration (${siteList(a, ['registration'], 'get')})`;
  }
  return null;
}

// ---- sessions and phases -----------------------------------------------------------------------

type Session = AnalyzeReport['sessions'][number];

function matchSessions(b: Session[], a: Session[]): Array<{ b: Session | null; a: Session | null; by: 'name' | 'none' }> {
  const out: Array<{ b: Session | null; a: Session | null; by: 'name' | 'none' }> = [];
  const key = (s: Session) => (s.name === null ? null : `${s.boot}/${s.side}/${s.name}`);
  const byKey = new Map<string, Session[]>();
  for (const s of a) {
    const k = key(s);
    if (k !== null) byKey.set(k, [...(byKey.get(k) ?? []), s]);
  }
  const usedA = new Set<Session>();
  const onlyB: Session[] = [];
  for (const s of b) {
    const k = key(s);
    const m = k === null ? undefined : byKey.get(k)?.find((x) => !usedA.has(x));
    if (m) {
      usedA.add(m);
      out.push({ b: s, a: m, by: 'name' });
    } else onlyB.push(s);
  }
  // Unnamed or differently named sessions (stress runs name them after pids) are not paired: pairing
  // them in order would compare unrelated sessions. The run rates compare them as a whole.
  for (const s of onlyB) out.push({ b: s, a: null, by: 'none' });
  for (const s of a) if (!usedA.has(s)) out.push({ b: null, a: s, by: 'none' });
  return out;
}

interface PhaseAgg {
  side: string;
  phase: string;
  n: number;
  total: number | null;
  avg: number | null;
  max: number | null;
}

/**
 * Phase durations per (side, phase). Session phases come from the listed sessions, or, when the
 * report lists only some of its sessions (sessionsOmitted), from its phaseStats over all of them
 * (keyed by phase name only: the side is taken from a listed session with that phase).
 */
function phaseAggs(r: AnalyzeReport, fromStats: boolean): Map<string, PhaseAgg> {
  // Running sums: tallies of many come past the caps (globalPhasesOmitted, a session's phasesOmitted).
  const lists = new Map<string, { side: string; phase: string; n: number; measured: number; total: number; max: number }>();
  const add = (side: string, phase: string, d: number | null, t = { count: 1, measured: d === null ? 0 : 1, totalNs: d ?? 0, maxNs: d }) => {
    const key = `${side}/${phase}`;
    let e = lists.get(key);
    if (!e) lists.set(key, (e = { side, phase, n: 0, measured: 0, total: 0, max: -Infinity }));
    [e.n, e.measured, e.total] = [e.n + t.count, e.measured + t.measured, e.total + t.totalNs];
    if (t.maxNs !== null) e.max = Math.max(e.max, t.maxNs);
  };
  if (!fromStats) for (const s of r.sessions) for (const p of [...s.phases, ...(s.phasesOmitted ?? [])]) add(s.side, p.name, 'count' in p ? null : p.durationNs, 'count' in p ? p : undefined);
  // Boot-wide steps share a phase name (kernel/liveupdate/luo_core.c liveupdate_reboot runs the
  // serialize and freeze steps): the function keeps them apart, as the BOOTS lines print them.
  const bootKey = (p: { name: string; func: string }) => (p.func ? `${p.name} (${p.func})` : p.name);
  for (const b of r.boots) for (const p of b.globalPhases) add('boot', bootKey(p), p.durationNs);
  for (const b of r.boots) for (const t of b.globalPhasesOmitted ?? []) add('boot', bootKey(t), null, t);
  const out = new Map<string, PhaseAgg>();
  for (const [k, e] of lists) out.set(k, { side: e.side, phase: e.phase, n: e.n, total: e.measured ? e.total : null, avg: e.measured ? e.total / e.measured : null, max: e.measured ? e.max : null });
  if (fromStats) {
    for (const st of r.phaseStats ?? []) {
      const side = r.sessions.find((s) => s.phases.some((p) => p.name === st.phase))?.side ?? 'session';
      out.set(`${side}/${st.phase}`, { side, phase: st.phase, n: st.count, total: st.totalNs, avg: st.avgNs, max: st.maxNs });
    }
  }
  return out;
}

// ---- locks -------------------------------------------------------------------------------------

interface LockAgg {
  lock: string;
  mode: string;
  aggregate: boolean;
  /** Known here only by a raw address the other run names (otherNames). */
  byAddress: string | null;
  acquisitions: number;
  contended: number;
  wait: DistributionView;
  hold: DistributionView;
}

function mergeDist(x: DistributionView, y: DistributionView): DistributionView {
  const count = x.count + y.count;
  const total = x.total + y.total;
  const mx = [x.max, y.max].filter((v): v is number => v !== null);
  const mn = [x.min, y.min].filter((v): v is number => v !== null);
  return { count, total, min: mn.length ? Math.min(...mn) : null, max: mx.length ? Math.max(...mx) : null, avg: count ? total / count : null, p50: null, p90: null, p99: null, p999: null };
}

/** The name a row goes by in the comparison: its own, else the one the other run gives its raw address. */
function rowName(row: LockRowView, otherNames: Map<string, string>): string | null {
  return row.name ?? (row.address !== null ? (otherNames.get(row.address) ?? null) : null);
}

function lockAggs(r: AnalyzeReport, otherNames: Map<string, string>): Map<string, LockAgg> {
  const out = new Map<string, LockAgg>();
  for (const row of lockRowsOf(r).rows) {
    const name = rowName(row, otherNames);
    if (name === null) continue;
    const mode = row.type ?? row.mode;
    const key = `${name}\u0000${mode}`;
    const prev = out.get(key);
    if (!prev) {
      out.set(key, { lock: name, mode, aggregate: false, byAddress: row.name === null ? row.address : null, acquisitions: row.acquisitions, contended: row.contended, wait: row.wait, hold: row.hold });
    } else {
      // The same name twice (several instances reported apart): sum them.
      prev.aggregate = true;
      prev.acquisitions += row.acquisitions;
      prev.contended += row.contended;
      prev.wait = mergeDist(prev.wait, row.wait);
      prev.hold = mergeDist(prev.hold, row.hold);
    }
  }
  return out;
}

/** A tracefs-hashed pointer (`00000000db70f8e9`, real README O2), as opposed to a raw `0xffff…` address. */
const isHashedPointer = (a: string | null) => a !== null && !a.startsWith('0x');

/** Per mode, the locks of a report that only a pointer identifies. */
function unnamedLocks(r: AnalyzeReport, otherNames: Map<string, string>): Array<z.infer<typeof UnnamedLocksSchema>> {
  const out = new Map<string, z.infer<typeof UnnamedLocksSchema>>();
  for (const row of lockRowsOf(r).rows) {
    if (rowName(row, otherNames) !== null) continue;
    const mode = row.type ?? row.mode;
    let e = out.get(mode);
    if (!e) out.set(mode, (e = { mode, locks: 0, hashed: 0, acquisitions: 0, contended: 0, waitCount: 0, waitTotalNs: 0, waitMaxNs: null }));
    e.locks++;
    if (isHashedPointer(row.address)) e.hashed++;
    e.acquisitions += row.acquisitions;
    e.contended += row.contended;
    e.waitCount += row.wait.count;
    e.waitTotalNs += row.wait.total;
    if (row.wait.max !== null) e.waitMaxNs = Math.max(e.waitMaxNs ?? 0, row.wait.max);
  }
  return [...out.values()].sort((x, y) => y.locks - x.locks || x.mode.localeCompare(y.mode));
}

function distCmp(b: DistributionView | undefined, a: DistributionView | undefined) {
  return {
    count: cmp(b?.count, a?.count),
    total: cmp(b?.total, a?.total),
    avg: cmp(b?.avg, a?.avg),
    max: cmp(b?.max, a?.max),
    p99: cmp(b?.p99, a?.p99),
  };
}

/**
 * Why a named lock is in one run only. A kernel-model reason only when the models differ and the
 * lock is a registration lock of this run's model and not of the other's (docs/luo-model.md §3);
 * else, when the other run has unnamed locks of that mode, one of them may be it.
 */
function onlyOneSideReason(e: LockAgg, model: string | null, otherModel: string | null, otherUnnamed: Array<z.infer<typeof UnnamedLocksSchema>>, other: 'before' | 'after'): string {
  const regLocks = (m: string | null) => (m !== null && m in KERNEL_MODELS ? KERNEL_MODELS[m as KernelModelId].registrationLocks : []);
  if (model !== otherModel && regLocks(model).includes(e.lock) && !regLocks(otherModel).includes(e.lock)) return ` (registration lock of the ${model} model, not of ${otherModel ?? 'the other run'}'s)`;
  const u = otherUnnamed.find((x) => x.mode === e.mode);
  if (u) {
    const raw = u.locks - u.hashed;
    const locks = `${u.locks} ${e.mode} lock${u.locks === 1 ? '' : 's'}`;
    return raw === 0
      ? ` (the ${other} run has ${locks} known only by a hashed pointer, which no other run can match; one may be it: trace lockdep's lock_acquire to name them)`
      : ` (the ${other} run has ${locks} known only by a pointer, none at a raw address this run names it by; one may be it: --kallsyms names static locks)`;
  }
  return '';
}

// ---- rmmod -------------------------------------------------------------------------------------

function rmmodSummary(r: AnalyzeReport, module: string, boot: number): string | null {
  const b = r.boots.find((x) => x.id === boot);
  const list = b?.rmmod.filter((x) => x.module === module) ?? [];
  // Calls past the report's list (analyses/luo/refcounts.ts DeleteList): counted after the listed ones.
  const past = countedPast(b?.rmmodOmitted, (x) => x.module === module);
  if (!list.length && !past) return null;
  // Consecutive identical results once, with a count: "refused -11 EAGAIN ×7, ok".
  const runs: Array<{ what: string; n: number }> = [];
  for (const x of list) {
    const what = x.result === null ? 'unknown' : x.result === 0 ? 'ok' : `refused ${x.result} ${x.error ?? ''}`.trim();
    const last = runs[runs.length - 1];
    if (last && last.what === what) last.n++;
    else runs.push({ what, n: 1 });
  }
  const shown = runs.slice(0, 10).map((r) => (r.n > 1 ? `${r.what} ×${r.n}` : r.what));
  const rest = runs.slice(10).reduce((a, r) => a + r.n, 0);
  return [...shown, ...(rest ? [`… ${rest} more`] : []), ...(past ? [`${past} more counted`] : [])].join(', ');
}

// ---- the comparison ----------------------------------------------------------------------------

/** What the parts of the comparison add, in the order they run. */
interface Findings {
  headline: string[];
  /** A total that rose while its rate did not (runs of different length): said, not a regression. */
  rateNotes: string[];
  notComparable: string[];
  regressions: Regression[];
}

/** Module references by role, and where the pinning moved. */
function moduleRefsDiff(before: AnalyzeReport, after: AnalyzeReport, sameKernelModel: boolean, out: Findings): DiffReport['moduleRefs'] {
  const rb = moduleRoleCounts(before);
  const ra = moduleRoleCounts(after);
  const moduleRefs: DiffReport['moduleRefs'] = [];
  for (const name of [...new Set([...rb.keys(), ...ra.keys()])].sort()) {
    const b = rb.get(name);
    const a = ra.get(name);
    const roles = REF_ROLES.filter((role) => (b?.gets.get(role) ?? 0) + (b?.puts.get(role) ?? 0) + (a?.gets.get(role) ?? 0) + (a?.puts.get(role) ?? 0) > 0).map((role) => ({
      role,
      gets: cmp(b ? (b.gets.get(role) ?? 0) : null, a ? (a.gets.get(role) ?? 0) : null),
      puts: cmp(b ? (b.puts.get(role) ?? 0) : null, a ? (a.puts.get(role) ?? 0) : null),
    }));
    const siteKeys = [...new Set([...(b?.sites.keys() ?? []), ...(a?.sites.keys() ?? [])])].sort();
    const sites = siteKeys.map((k) => {
      const s = (b?.sites.get(k) ?? a?.sites.get(k))!;
      return { site: k.slice(4), role: s.role, direction: s.direction, count: cmp(b ? (b.sites.get(k)?.n ?? 0) : null, a ? (a.sites.get(k)?.n ?? 0) : null) };
    });
    const moved = describeMove(name, b, a);
    if (moved) out.headline.push(moved);
    if (!b || !a) out.notComparable.push(`module ${name}: seen ${b ? 'before' : 'after'} only`);
    moduleRefs.push({ module: name, roles, sites, moved });
    if (!sameKernelModel) {
      const onlyB = sites.filter((s) => s.count.after === 0 && s.count.before! > 0 && s.role.startsWith('per-')).map((s) => s.site);
      const onlyA = sites.filter((s) => s.count.before === 0 && s.count.after! > 0 && s.role.startsWith('per-')).map((s) => s.site);
      if (onlyB.length && onlyA.length) out.notComparable.push(`${name}: LUO call sites differ by kernel model (${onlyB.join(', ')} before; ${onlyA.join(', ')} after): compared by role`);
    }
  }

  return moduleRefs;
}

/** The kernel model change, told after the moves it explains (the moves are what a reader looks for). */
function kernelModelChange(before: AnalyzeReport, after: AnalyzeReport, out: Findings): void {
  out.headline.push(
    `kernel model: ${before.kernelModel.id ?? 'unknown'} → ${after.kernelModel.id ?? 'unknown'}` +
      (before.kernelModel.pinning && after.kernelModel.pinning && before.kernelModel.pinning !== after.kernelModel.pinning
        ? ` (module refs: "${before.kernelModel.pinning}" → "${after.kernelModel.pinning}")`
        : ''),
  );
  out.notComparable.push(
    `kernel models differ (${before.kernelModel.id ?? 'unknown'} vs ${after.kernelModel.id ?? 'unknown'}): module references are compared by role, not by call site, and locks that exist in one model only are listed apart`,
  );
}

/** Modules per boot. */
function modulesDiff(before: AnalyzeReport, after: AnalyzeReport, out: Findings): DiffReport['modules'] {
  const modKeys = new Map<string, { name: string; boot: number }>();
  for (const r of [before, after]) for (const m of r.modules) modKeys.set(`${m.name}\u0000${m.boot}`, { name: m.name, boot: m.boot });
  const modules: DiffReport['modules'] = [];
  for (const { name, boot } of [...modKeys.values()].sort((x, y) => x.name.localeCompare(y.name) || x.boot - y.boot)) {
    const mb = before.modules.find((m) => m.name === name && m.boot === boot);
    const ma = after.modules.find((m) => m.name === name && m.boot === boot);
    const luoWins = (m: typeof mb) => m?.pinWindows.filter(isLuoPin) ?? [];
    const held = (m: typeof mb) => luoWins(m).map((w) => w.durationNs).filter((d): d is number => d !== null);
    const rmB = rmmodSummary(before, name, boot);
    const rmA = rmmodSummary(after, name, boot);
    modules.push({
      module: name,
      boot,
      bootRole: { before: before.boots.find((b) => b.id === boot)?.role ?? null, after: after.boots.find((b) => b.id === boot)?.role ?? null },
      gets: cmp(mb?.gets, ma?.gets),
      puts: cmp(mb?.puts, ma?.puts),
      luoGets: cmp(mb?.luo.gets, ma?.luo.gets),
      luoPuts: cmp(mb?.luo.puts, ma?.luo.puts),
      finalRefcnt: cmp(mb?.finalRefcnt, ma?.finalRefcnt),
      maxRefcnt: cmp(mb?.maxRefcnt, ma?.maxRefcnt),
      openPins: cmp(mb?.openPins, ma?.openPins),
      pinWindows: cmp(mb ? luoWins(mb).length : null, ma ? luoWins(ma).length : null),
      pinHeldAvgNs: cmp(avgOf(held(mb)), avgOf(held(ma))),
      pinHeldMaxNs: cmp(maxOf(held(mb)), maxOf(held(ma))),
      rmmod: { before: rmB, after: rmA },
    });
    if (rmB !== rmA && rmB !== null && rmA !== null) out.headline.push(`rmmod ${name} (boot ${boot}): ${rmB} → ${rmA}`);
  }

  const windowsOmitted = (r: AnalyzeReport) => r.modules.reduce((a, m) => a + (m.pinWindowsOmitted ?? 0), 0);
  if (windowsOmitted(before) + windowsOmitted(after) > 0) out.notComparable.push(`pin windows: the reports list only part of them (${windowsOmitted(before)} before, ${windowsOmitted(after)} after not listed): pin counts and held durations are over the listed windows`);

  return modules;
}

/** Verdicts. */
function verdictsDiff(before: AnalyzeReport, after: AnalyzeReport, out: Findings): DiffReport['verdicts'] {
  const vIds = [...new Set([...before.verdicts.map((v) => v.id), ...after.verdicts.map((v) => v.id)])];
  const verdicts: DiffReport['verdicts'] = vIds.map((id) => {
    const vb = before.verdicts.find((v) => v.id === id);
    const va = after.verdicts.find((v) => v.id === id);
    const changed = vb !== undefined && va !== undefined && vb.ok !== va.ok;
    return { id, before: vb?.ok ?? null, after: va?.ok ?? null, changed, beforeMessage: vb?.message ?? null, afterMessage: va?.message ?? null };
  });
  for (const v of verdicts.filter((x) => x.changed)) {
    out.headline.push(`${v.id}: ${v.before ? 'pass' : 'FAIL'} → ${v.after ? 'pass' : 'FAIL'}`);
    const va = after.verdicts.find((x) => x.id === v.id)!;
    if (v.before && !v.after && va.severity === 'error') {
      out.regressions.push({ area: 'verdict', subject: v.id, metric: 'ok', before: 1, after: 0, ratio: null, message: `${v.id} passed before and fails after: ${va.message}` });
    }
  }

  return verdicts;
}

/** Sessions. */
function sessionsDiff(before: AnalyzeReport, after: AnalyzeReport, out: Findings): DiffReport['sessions'] {
  const sessions: DiffReport['sessions'] = matchSessions(before.sessions, after.sessions).map(({ b, a, by }) => {
    const s = (b ?? a)!;
    const phaseTime = (x: Session | null) => (x ? sum([...x.phases.map((p) => p.durationNs ?? 0), ...(x.phasesOmitted ?? []).map((t) => t.totalNs)]) : null);
    return {
      key: `boot ${s.boot} ${s.side} ${b?.name ?? a?.name ?? `#${s.id}`}`,
      boot: s.boot,
      side: s.side,
      name: b?.name ?? a?.name ?? null,
      matchedBy: by,
      state: { before: b?.state ?? null, after: a?.state ?? null },
      phases: cmp(b && b.phases.length + countedPast(b.phasesOmitted), a && a.phases.length + countedPast(a.phasesOmitted)), // listed and counted
      phaseTimeNs: cmp(phaseTime(b), phaseTime(a)),
      files: cmp(b?.files.length, a?.files.length),
      pinsTaken: cmp(b?.pins.taken, a?.pins.taken),
      pinsOpen: cmp(b?.pins.open, a?.pins.open),
    };
  });
  const unmatched = sessions.filter((s) => s.matchedBy === 'none');
  if (unmatched.length) {
    const onlyBefore = unmatched.filter((s) => s.state.before !== null || s.phases.before !== null).length;
    out.notComparable.push(
      `${unmatched.length} session(s) seen on one side only (${onlyBefore} before, ${unmatched.length - onlyBefore} after; sessions are matched by name within a boot and side, never by order; the run rates compare the runs as a whole): ` +
        unmatched.slice(0, 5).map((s) => `${s.key} (${s.state.before ? 'before' : 'after'})`).join(', '),
    );
  }
  const stateChanges = sessions.filter((s) => s.matchedBy !== 'none' && s.state.before !== s.state.after);
  for (const s of stateChanges.slice(0, 5)) out.headline.push(`session ${s.key}: ${s.state.before} → ${s.state.after}`);

  return sessions;
}

/** Phases. */
function phasesDiff(before: AnalyzeReport, after: AnalyzeReport, opts: DiffOptions, out: Findings): DiffReport['phases'] {
  const omitted = (r: AnalyzeReport) => Object.values(r.sessionsOmitted ?? {}).reduce((a, n) => a + n, 0);
  const fromStats = omitted(before) > 0 || omitted(after) > 0;
  if (fromStats) out.notComparable.push(`sessions: ${omitted(before)} before and ${omitted(after)} after are counted but not listed by their reports; phases are compared from the reports' phase statistics, sessions only where listed`);
  const pb = phaseAggs(before, fromStats);
  const pa = phaseAggs(after, fromStats);
  const phases: DiffReport['phases'] = [];
  for (const key of [...new Set([...pb.keys(), ...pa.keys()])]) {
    const b = pb.get(key);
    const a = pa.get(key);
    const e = (b ?? a)!;
    const row = {
      side: e.side,
      phase: e.phase,
      count: cmp(b?.n ?? 0, a?.n ?? 0),
      totalNs: cmp(b?.total, a?.total),
      avgNs: cmp(b?.avg, a?.avg),
      maxNs: cmp(b?.max, a?.max),
    };
    phases.push(row);
    if (!b || !a) {
      out.notComparable.push(`phase ${e.side}/${e.phase}: seen ${b ? 'before' : 'after'} only`);
      continue;
    }
    for (const [metric, c] of [['avg', row.avgNs], ['max', row.maxNs]] as const) {
      if (regressed(c, opts, opts.minDeltaNs)) {
        out.regressions.push({ area: 'phase', subject: `${e.side}/${e.phase}`, metric: `${metric} duration`, before: c.before, after: c.after, ratio: c.ratio, message: `${e.phase} (${e.side}) ${metric} ${fmtNs(c.before)} → ${fmtNs(c.after)} (${pct(c.ratio)})` });
      }
    }
  }
  phases.sort((x, y) => x.side.localeCompare(y.side) || x.phase.localeCompare(y.phase));

  return phases;
}

/** The regression checks of one lock row: totals when the runs are of similar length, rates when not. */
function lockChecks(row: DiffReport['locks'][number], run: RunRates, opts: DiffOptions): Array<{ metric: string; c: Cmp; fails: boolean; show: (v: number | null) => string; total?: Cmp }> {
  const count = (v: number | null) => String(v ?? '-');
  const byTotal = (c: Cmp, floor: number) => regressed(c, opts, floor);
  const acqAfter = row.acquisitions.after;
  const checks = [
    { metric: 'max wait', c: row.wait.max, fails: byTotal(row.wait.max, opts.minDeltaNs), show: fmtNs },
    { metric: 'p99 wait', c: row.wait.p99, fails: byTotal(row.wait.p99, opts.minDeltaNs), show: fmtNs },
    run.lengthsDiffer
      ? { metric: 'wait per acquisition', c: row.waitNsPerAcquisition, fails: rateRegressed(row.waitNsPerAcquisition, acqAfter, opts.threshold, opts.minDeltaNs), show: fmtNs, total: row.wait.total }
      : { metric: 'total wait', c: row.wait.total, fails: byTotal(row.wait.total, opts.minDeltaNs), show: fmtNs },
    { metric: 'max hold', c: row.hold.max, fails: byTotal(row.hold.max, opts.minDeltaNs), show: fmtNs },
    { metric: 'p99 hold', c: row.hold.p99, fails: byTotal(row.hold.p99, opts.minDeltaNs), show: fmtNs },
    run.lengthsDiffer
      ? { metric: 'contended per acquisition', c: row.contendedPerAcquisition, fails: rateRegressed(row.contendedPerAcquisition, acqAfter, opts.threshold, 1), show: fmtRate, total: row.contended }
      : { metric: 'contended', c: row.contended, fails: byTotal(row.contended, 1), show: count },
  ];
  return checks;
}

/** The regressions of one lock row, and a headline note when a total rose but its rate did not (runs of different length). */
function lockRegressions(row: DiffReport['locks'][number], run: RunRates, opts: DiffOptions, out: Findings): void {
  const subject = `${row.lock} ${row.mode}`;
  for (const k of lockChecks(row, run, opts)) {
    const totalText = k.total ? ` (total ${k.metric.startsWith('contended') ? `${k.total.before ?? '-'} → ${k.total.after ?? '-'}` : `${fmtNs(k.total.before)} → ${fmtNs(k.total.after)}`})` : '';
    if (k.fails) {
      out.regressions.push({ area: 'lock', subject, metric: k.metric, before: k.c.before, after: k.c.after, ratio: k.c.ratio, message: `${subject} ${k.metric} ${k.show(k.c.before)} → ${k.show(k.c.after)} (${pct(k.c.ratio)})${totalText}` });
    } else if (k.total && regressed(k.total, opts, k.metric.startsWith('contended') ? 1 : opts.minDeltaNs) && k.c.before !== null && k.c.after !== null) {
      const what = k.metric.startsWith('contended') ? 'contended' : 'total wait';
      const show = what === 'contended' ? (v: number | null) => String(v ?? '-') : fmtNs;
      out.rateNotes.push(`${subject}: ${what} ${show(k.total.before)} → ${show(k.total.after)} (${pct(k.total.ratio)}), but ${k.metric} ${k.show(k.c.before)} → ${k.show(k.c.after)}: not a regression, the rate decides when the runs differ in length`);
    }
  }
}

/** Locks. */
function locksDiff(before: AnalyzeReport, after: AnalyzeReport, run: RunRates, opts: DiffOptions, out: Findings): Pick<DiffReport, 'locks' | 'unnamedLocks'> {
  const namesB = namesByAddress(before);
  const namesA = namesByAddress(after);
  const lb = lockAggs(before, namesA);
  const la = lockAggs(after, namesB);
  const unnamed = { before: unnamedLocks(before, namesA), after: unnamedLocks(after, namesB) };
  const locks: DiffReport['locks'] = [];
  for (const key of [...new Set([...lb.keys(), ...la.keys()])]) {
    const b = lb.get(key);
    const a = la.get(key);
    const e = (b ?? a)!;
    const row: DiffReport['locks'][number] = {
      lock: e.lock,
      mode: e.mode,
      matchedBy: b?.byAddress || a?.byAddress ? 'address' : 'name',
      aggregate: Boolean(b?.aggregate || a?.aggregate),
      acquisitions: cmp(b?.acquisitions, a?.acquisitions),
      contended: cmp(b?.contended, a?.contended),
      contendedPerAcquisition: cmp(rate(b?.contended, b?.acquisitions), rate(a?.contended, a?.acquisitions)),
      waitNsPerAcquisition: cmp(rate(b?.wait.total, b?.acquisitions), rate(a?.wait.total, a?.acquisitions)),
      wait: distCmp(b?.wait, a?.wait),
      hold: distCmp(b?.hold, a?.hold),
    };
    locks.push(row);
    const addr = b?.byAddress ?? a?.byAddress;
    if (b && a && addr) {
      out.notComparable.push(`lock ${e.lock} ${e.mode}: named ${b.byAddress ? 'after' : 'before'}, known only by its raw address ${addr} ${b.byAddress ? 'before' : 'after'}: matched by that address (a static lock keeps it across boots of one kernel build without KASLR); --kallsyms names it`);
    }
    if (!b || !a) {
      const side = b ? 'before' : 'after';
      const reason = onlyOneSideReason(e, b ? before.kernelModel.id : after.kernelModel.id, b ? after.kernelModel.id : before.kernelModel.id, b ? unnamed.after : unnamed.before, b ? 'after' : 'before');
      out.notComparable.push(`lock ${e.lock} ${e.mode}: seen ${side} only${reason}`);
      continue;
    }
    lockRegressions(row, run, opts, out);
  }
  locks.sort((x, y) => x.lock.localeCompare(y.lock) || x.mode.localeCompare(y.mode));
  const beforeLocks = lockRowsOf(before).rows.length;
  const afterLocks = lockRowsOf(after).rows.length;
  if (beforeLocks === 0 || afterLocks === 0) {
    out.notComparable.push(`locks: ${beforeLocks === 0 && afterLocks === 0 ? 'neither report has' : beforeLocks === 0 ? 'the before report has no' : 'the after report has no'} lock statistics`);
  }
  const count = (xs: Array<{ locks: number }>) => xs.reduce((a, x) => a + x.locks, 0);
  const hashed = (xs: Array<{ hashed: number }>) => xs.reduce((a, x) => a + x.hashed, 0);
  const nb = count(unnamed.before);
  const na = count(unnamed.after);
  if (nb + na > 0) {
    const raw = nb + na - hashed(unnamed.before) - hashed(unnamed.after);
    out.notComparable.push(
      `locks without a name (${nb} before, ${na} after): a hashed pointer is keyed per boot and a raw address changes with the run, so they cannot be matched across runs; listed per side, not compared` +
        (raw > 0 ? ` (${raw} are raw addresses: --kallsyms names static locks)` : ''),
    );
  }

  return { locks, unnamedLocks: unnamed };
}

/** Run-level rates: more LUO lock waits per session, between runs of different length, is a regression. */
function runRegressions(run: RunRates, opts: DiffOptions, out: Findings): void {
  const c = run.waitsPerSession;
  // Both runs must have lock statistics (a run without lock events has no waits to compare), and be of
  // different length: for runs of similar length, the lock rows' totals already decide.
  if (!run.lockAcquisitions.before || !run.lockAcquisitions.after || !run.lengthsDiffer) return;
  if (rateRegressed(c, run.sessions.after, opts.threshold, 1)) {
    out.regressions.push({ area: 'lock', subject: 'LUO locks', metric: 'waits per session', before: c.before, after: c.after, ratio: c.ratio, message: `LUO lock waits per session ${(c.before ?? 0).toFixed(2)} → ${(c.after ?? 0).toFixed(2)} (${pct(c.ratio)}) (waits ${run.waits.before} → ${run.waits.after}, sessions ${run.sessions.before} → ${run.sessions.after})` });
  }
}

export function diffReports(before: AnalyzeReport, after: AnalyzeReport, opts: DiffOptions = DEFAULT_DIFF_OPTIONS): DiffReport {
  // Each part adds its lines to the headline, the not-comparable notes and the regressions, in this order.
  const out: Findings = { headline: [], rateNotes: [], notComparable: [], regressions: [] };
  const { headline, regressions } = out;
  const side = (r: AnalyzeReport) => ({ files: r.sources.map((s) => s.file), kernelModel: r.kernelModel.id, title: r.kernelModel.title, pinning: r.kernelModel.pinning });
  const sameKernelModel = before.kernelModel.id === after.kernelModel.id;
  const moduleRefs = moduleRefsDiff(before, after, sameKernelModel, out);
  if (!sameKernelModel) kernelModelChange(before, after, out);
  const modules = modulesDiff(before, after, out);
  const verdicts = verdictsDiff(before, after, out);
  const sessions = sessionsDiff(before, after, out);
  const phases = phasesDiff(before, after, opts, out);
  const run = runRates(before, after, opts.threshold);
  if (run.lengthsDiffer) headline.push(run.basis);
  runRegressions(run, opts, out);
  const { locks, unnamedLocks: unnamed } = locksDiff(before, after, run, opts, out);
  headline.push(...out.rateNotes.slice(0, 3));
  if (out.rateNotes.length > 3) headline.push(`… ${out.rateNotes.length - 3} more totals that rose while their rates did not (--json: locks[].contendedPerAcquisition, waitNsPerAcquisition)`);
  const notComparable = out.notComparable;

  if (regressions.length) headline.push(`${regressions.length} regression(s) beyond +${Math.round(opts.threshold * 100)}%: ${regressions.slice(0, 3).map((r) => r.message).join('; ')}${regressions.length > 3 ? '; …' : ''}`);
  else headline.push(`no regression beyond +${Math.round(opts.threshold * 100)}% (increases under ${fmtNs(opts.minDeltaNs)} ignored)`);

  return {
    tool: after.tool,
    command: 'diff',
    before: side(before),
    after: side(after),
    options: { threshold: opts.threshold, minDeltaNs: opts.minDeltaNs },
    headline,
    sameKernelModel,
    run,
    rateNotes: out.rateNotes,
    moduleRefs,
    modules,
    sessions,
    phases,
    locks,
    unnamedLocks: unnamed,
    verdicts,
    notComparable,
    regressions,
  };
}

