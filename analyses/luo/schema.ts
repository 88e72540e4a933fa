// The LUO section of the report as JSON (the contract `luotrace schema analyze` prints): boots,
// sessions and their phases, modules and their pin windows, verdicts. Its own file so that the
// analysis that fills it (luo.ts) and the verdicts that read it (verdicts/) both depend on it and
// not on each other.
import { z } from 'zod';
import { OPEN_REASONS } from './pin-kinds.js';

export const VerdictSchema = z.object({
  id: z.string(),
  /** status !== 'fail' (kept for readers of reports made before `status`). */
  ok: z.boolean(),
  /**
   * pass / fail: definite; inconclusive: the data the verdict needs may be missing (lost events, a
   * capture cut inside the window), the message says what to do; n/a: nothing to judge.
   */
  status: z.enum(['pass', 'fail', 'inconclusive', 'n/a']),
  /** A stable code per verdict (analyses/luo/verdicts/: each definition's `reasons`). */
  reason: z.string(),
  /** error: a rule failed; warning: something to look at; info: a fact worth knowing. */
  severity: z.enum(['error', 'warning', 'info']),
  message: z.string(),
  /** Line numbers of the evidence (see `evidenceAt` for the files). */
  evidence: z.array(z.number().int()),
  evidenceAt: z.array(z.object({ file: z.string(), line: z.number().int() })),
});
export type Verdict = z.infer<typeof VerdictSchema>;

// ---------------------------------------------------------------------------------------------
// Report schema (JSON contract of issue #3: kernelModel; sessions[].name/side/phases[].name/start/
// end/result; modules[].name/gets/puts/finalRefcnt/openPins/pinWindows[].getLine/putLine/
// getCallSite/putCallSite/session; verdicts[].id/ok/message/evidence)
// ---------------------------------------------------------------------------------------------

const At = z.object({ file: z.string(), line: z.number().int() });

export const PhaseSchema = z.object({
  name: z.string(),
  func: z.string(),
  start: z.number().nullable(),
  end: z.number().nullable(),
  durationNs: z.number().nullable(),
  result: z.number().nullable(),
  error: z.string().nullable(),
  file: z.string(),
  line: z.number().int(),
  endLine: z.number().int().nullable(),
  pid: z.number().int().nullable(),
  comm: z.string().nullable(),
  token: z.string().nullable(),
  via: z.enum(['ioctl', 'close']).nullable(),
  /** Events were lost between its call and its return: the return may be another call's, so durationNs is null. */
  acrossLoss: z.boolean().optional(),
  /** It returned, but the return was lost with lost events (docs/luo-model.md §1.6): no end, no result. */
  returnLost: z.boolean().optional(),
});
export type PhaseJson = z.infer<typeof PhaseSchema>;

/**
 * Phases of one name and function counted, not listed (analyses/lists.ts PhaseTally), the counts
 * exact: `errors` the failed returns by errno name, `measured` those with a duration (`totalNs`,
 * `maxNs` over them), `acrossLoss` those with events lost between call and return.
 */
export const PhaseTallySchema = z.object({
  name: z.string(),
  func: z.string(),
  count: z.number().int(),
  errors: z.record(z.string(), z.number().int()),
  measured: z.number().int(),
  totalNs: z.number(),
  maxNs: z.number().nullable(),
  acrossLoss: z.number().int(),
});
export type PhaseTallyJson = z.infer<typeof PhaseTallySchema>;

export const SessionSchema = z.object({
  id: z.number().int(),
  name: z.string().nullable(),
  side: z.enum(['outgoing', 'incoming']),
  boot: z.number().int(),
  /** creating, open, failed, aborted, frozen, deserialized, retrieved, finished, lost (create/retrieve return lost) */
  state: z.string(),
  /** What became of it, in words: "aborted (session fd closed)", "finished by ioctl"... */
  outcome: z.string(),
  fileSet: z.string().nullable(),
  pid: z.number().int().nullable(),
  comm: z.string().nullable(),
  files: z.array(
    z.object({
      token: z.string(),
      fd: z.number().nullable(),
      handler: z.string().nullable(),
      preserved: z.boolean().nullable(),
      preserveError: z.string().nullable(),
      retrieved: z.boolean().nullable(),
      retrieveError: z.string().nullable(),
    }),
  ),
  phases: z.array(PhaseSchema),
  /**
   * Its luo_file_freeze / luo_file_unfreeze calls of earlier `kexec -e` attempts, counted by phase name
   * and function (PhaseTallySchema), not listed: a retry loop freezes every session on each attempt.
   * `phases` keeps those of the boot's last attempt, and the last freeze, the last freeze that did not
   * fail and the last unfreeze (docs/luo-model.md §4 "Freeze calls on hostile input"). Absent when none.
   */
  phasesOmitted: z.array(PhaseTallySchema).optional(),
  /** Phases that could not be seen, and why (missing probes, outside the trace). */
  unseen: z.array(z.string()),
  pins: z.object({ taken: z.number().int(), released: z.number().int(), open: z.number().int() }),
  /** The same session in the other kernel (joined by name across kexec). */
  peer: z.object({ boot: z.number().int(), id: z.number().int() }).nullable(),
});
export type SessionJson = z.infer<typeof SessionSchema>;

export const PinWindowSchema = z.object({
  module: z.string(),
  boot: z.number().int(),
  class: z.string(),
  flow: z.enum(['outgoing', 'incoming']).nullable(),
  file: z.string(),
  getLine: z.number().int(),
  getTime: z.number().nullable(),
  getCallSite: z.string(),
  getPid: z.number().int().nullable(),
  getComm: z.string().nullable(),
  putLine: z.number().int().nullable(),
  /** The put's file, when a later file of the same boot released the pin (absent: the get's file). */
  putFile: z.string().optional(),
  putTime: z.number().nullable(),
  putCallSite: z.string().nullable(),
  session: z.string().nullable(),
  sessionId: z.number().int().nullable(),
  /** FLB pins (class luo-flb): the FLB that owns it, when the trace names it; FLB pins have no session. */
  flb: z.string().nullable(),
  token: z.string().nullable(),
  luoFunction: z.string().nullable(),
  durationNs: z.number().nullable(),
  incomplete: z.boolean(),
  /** Open at the end: why, as a stable code (`leak` when nothing could still hold it); null when released. */
  openReason: z.enum(OPEN_REASONS).nullable(),
  /** Open at the end: why that is expected ("held across kexec"...), or null when it is a leak. */
  expectedOpen: z.string().nullable(),
});
export type PinWindowJson = z.infer<typeof PinWindowSchema>;

export const ModuleSchema = z.object({
  name: z.string(),
  boot: z.number().int(),
  /** All module_get / module_put events of the module, whoever took them (LUO, VFS, loader). */
  gets: z.number().int(),
  puts: z.number().int(),
  getsBySite: z.record(z.string(), z.number().int()),
  putsBySite: z.record(z.string(), z.number().int()),
  luo: z.object({ gets: z.number().int(), puts: z.number().int() }),
  vfs: z.object({ gets: z.number().int(), puts: z.number().int() }),
  /** Last `refcnt=` seen (raw, MODULE_REF_BASE included: 1 = idle). */
  finalRefcnt: z.number().int().nullable(),
  firstRefcnt: z.number().int().nullable(),
  maxRefcnt: z.number().int().nullable(),
  /** LUO pins (file, FLB, registration) still held at the end of the input. */
  openPins: z.number().int(),
  /**
   * Where refcnt= disagrees with the events seen: expected (the events) against actual (the kernel),
   * and the module's event before it (prevLine, prevRefcnt): the missing events fall between the two.
   */
  refcntMismatches: z.array(
    z.object({ file: z.string(), line: z.number().int(), expected: z.number(), actual: z.number(), callSite: z.string(), prevLine: z.number().int().nullable(), prevRefcnt: z.number().nullable() }),
  ),
  refcntMismatchCount: z.number().int(),
  untracedLoadRefPuts: z.number().int(),
  putsWithoutGet: z.array(At.extend({ callSite: z.string(), reason: z.string() })),
  /** Puts without a get not listed (past the first 5000 of an input segment): counted only. */
  putsWithoutGetOmitted: z.number().int().optional(),
  /** Open LUO pins whose put was lost (analyses/luo/pins.ts closePutLost) not listed past the first 5000: in openPins, counted only. */
  openPinsOmitted: z.number().int().optional(),
  loaded: z.array(At),
  /** Loads not listed (analyses/luo/refcounts.ts MAX_LISTED_LOADS: the first 100 of a segment and the latest are): counted only. */
  loadsOmitted: z.number().int().optional(),
  /** Each module_free with the raw refcnt last seen before it (>1: unloaded while referenced). */
  freed: z.array(At.extend({ refcnt: z.number().int().nullable() })),
  /** Frees not listed (the first 100 of a segment, the latest, and up to 100 more while referenced are): counted only. */
  freesOmitted: z.number().int().optional(),
  handlers: z.array(z.string()),
  flbs: z.array(z.string()),
  pinWindows: z.array(PinWindowSchema),
  /** Windows not listed: released ones beyond the first 5000 of the run, and open ones whose put was lost beyond the first 5000 (counted in openPins). */
  pinWindowsOmitted: z.number().int(),
  /** Only on the fold row: the modules past the module table's cap, counted together (names estimated, events exact). */
  folded: z.object({ names: z.number().int(), events: z.number().int() }).optional(),
});
export type ModuleJson = z.infer<typeof ModuleSchema>;

export const BootSchema = z.object({
  id: z.number().int(),
  files: z.array(z.string()),
  /** outgoing: sessions were created/preserved; incoming: deserialized/retrieved; both or none. */
  role: z.enum(['outgoing', 'incoming', 'both', 'none']),
  start: z.number().nullable(),
  end: z.number().nullable(),
  /** `liveupdate_reboot` (freeze) result in this boot, if seen; a failure as docs/luo-model.md §6 "Freeze failure variant" reads it. */
  kexec: z
    .object({
      result: z.number().nullable(),
      error: z.string().nullable(),
      file: z.string(),
      line: z.number().int(),
      /** probe: liveupdate_reboot was probed; log: only the "Freeze failed" line shows the failed kexec (a console or dmesg log alone). */
      source: z.enum(['probe', 'log']).default('probe'),
      /** The return probe's line (where a failure shows). */
      endLine: z.number().int().nullable().default(null),
      durationNs: z.number().nullable(),
      /** The reboot() syscall's exit after it, when syscalls were traced. */
      syscall: At.extend({ result: z.number(), error: z.string().nullable() }).nullable().default(null),
      /** The file whose freeze() failed: the "Freeze failed" log line, or the failing luo_file_freeze return. */
      failure: At.extend({
        token: z.string().nullable(),
        handler: z.string().nullable(),
        result: z.number().nullable(),
        error: z.string().nullable(),
        sessionId: z.number().int().nullable(),
        freezeReturn: At.nullable(),
      })
        .nullable()
        .default(null),
      /** luo_file_freeze calls inside it that succeeded, whether or not a session could be joined to them. */
      frozenSets: z.number().int().nullable().default(null),
      /** Sessions whose freeze was undone (luo_file_unfreeze) before reboot() returned the error. */
      rolledBack: z.array(z.number().int()).default([]),
    })
    .nullable(),
  liveupdateNumber: z.number().int().nullable(),
  /** Later files that continue this boot (same running kernel), with the evidence; absent when none. */
  joined: z.array(z.object({ file: z.string(), continues: z.string(), evidence: z.array(z.string()) })).optional(),
  /** Boot-wide phases (liveupdate_reboot, luo_session_serialize...): the first 5000 of each file, and its last liveupdate_reboot. */
  globalPhases: z.array(PhaseSchema),
  /**
   * Global phases past the first 5000 of a file (analyses/lists.ts CappedPhases), counted by phase
   * name and function, the counts exact: `errors` the failed returns by errno name, `measured` those
   * with a duration (`totalNs`, `maxNs` over them), `acrossLoss` those with events lost between call and
   * return. The last liveupdate_reboot is listed in `globalPhases` whatever its place. Absent when none.
   */
  globalPhasesOmitted: z.array(PhaseTallySchema).optional(),
  rmmod: z.array(
    z.object({
      module: z.string().nullable(),
      file: z.string(),
      line: z.number().int(),
      forced: z.boolean(),
      /** The delete_module flags as printed, for a forced one (O_TRUNC, docs/luo-model.md §4 "Unload behaviour"). */
      flags: z.string().optional(),
      result: z.number().nullable(),
      error: z.string().nullable(),
      refcntBefore: z.number().nullable(),
      comm: z.string().nullable(),
    }),
  ),
  /**
   * delete_module calls past the first 5000 of a file (analyses/luo/refcounts.ts DeleteList), counted
   * by module, O_TRUNC and result, the counts exact; absent when none. A call a module_free follows
   * is listed in `rmmod` whatever its place. `result` null: no return seen.
   */
  rmmodOmitted: z
    .array(z.object({ module: z.string().nullable(), forced: z.boolean(), result: z.number().nullable(), error: z.string().nullable(), count: z.number().int() }))
    .optional(),
  registrations: z.array(
    z.object({
      action: z.enum(['register', 'unregister']),
      what: z.enum(['file-handler', 'flb']),
      handler: z.string().nullable(),
      flb: z.string().nullable(),
      module: z.string().nullable(),
      file: z.string(),
      line: z.number().int(),
      result: z.number().nullable(),
      error: z.string().nullable(),
    }),
  ),
  /**
   * Registrations past the first 5000 of a file (analyses/luo/registry.ts RegistryLimits.rows):
   * counted by class, the counts exact, not listed; absent when none. `outcome`: ret >= 0 ('ok'),
   * ret < 0 ('failed', `error` its errno name) or no return seen.
   */
  registrationsOmitted: z
    .array(
      z.object({
        module: z.string().nullable(),
        action: z.enum(['register', 'unregister']),
        what: z.enum(['file-handler', 'flb']),
        outcome: z.enum(['ok', 'failed', 'no-return']),
        error: z.string().nullable(),
        count: z.number().int(),
      }),
    )
    .optional(),
  /** Of the registers counted above, those whose handler/FLB name was not kept (too many distinct names): the modules' `handlers`/`flbs` may miss them. */
  registrationNamesOmitted: z.number().int().optional(),
});
export type BootJson = z.infer<typeof BootSchema>;

export const LuoSectionSchema = z.object({
  kernelModel: z.object({
    id: z.enum(['pre-series', 'v1', 'merged', 'later']).nullable(),
    title: z.string().nullable(),
    forced: z.boolean(),
    /** What in the trace identified it (call sites, functions, lock names), with a count each. */
    evidence: z.array(z.string()),
    /** Where the model says module references are taken. */
    pinning: z.string().nullable(),
  }),
  boots: z.array(BootSchema),
  sessions: z.array(SessionSchema),
  modules: z.array(ModuleSchema),
  verdicts: z.array(VerdictSchema),
  /** Sessions that ended normally beyond the first 1000 per boot are counted here, not listed. */
  sessionsOmitted: z.record(z.string(), z.number().int()),
  /** Durations of every phase of every session (listed or not). */
  phaseStats: z.array(
    z.object({
      phase: z.string(),
      count: z.number().int(),
      errors: z.number().int(),
      totalNs: z.number(),
      minNs: z.number().nullable(),
      maxNs: z.number().nullable(),
      avgNs: z.number().nullable(),
    }),
  ),
  /** Which LUO functions had probes in the inputs (what could be seen at all). */
  probedFunctions: z.array(z.string()),
});
export type LuoSection = z.infer<typeof LuoSectionSchema>;
/** The section as the analysis and the report filters build it, before its verdicts are evaluated. */
export type LuoSectionBody = Omit<LuoSection, 'verdicts'>;

/**
 * The true number of sessions whatever the listing cap: the sessions listed plus those past the cap,
 * which the report counts by state only (sessionsOmitted). Every count a reader sees comes from here.
 */
export function sessionTotals(s: { sessions: readonly unknown[]; sessionsOmitted?: Record<string, number> }): { total: number; listed: number; omitted: number; byState: string } {
  const omittedBy = s.sessionsOmitted ?? {};
  const omitted = Object.values(omittedBy).reduce((a, n) => a + n, 0);
  return {
    total: s.sessions.length + omitted,
    listed: s.sessions.length,
    omitted,
    byState: Object.entries(omittedBy)
      .map(([k, n]) => `${k} ${n}`)
      .join(', '),
  };
}

/** The calls counted past a list's cap (rmmodOmitted, registrationsOmitted, globalPhasesOmitted), or of the classes `keep` picks. */
export const countedPast = <C extends { count: number }>(classes: readonly C[] | undefined, keep: (c: C) => boolean = () => true): number =>
  (classes ?? []).reduce((a, c) => a + (keep(c) ? c.count : 0), 0);

/** A boot's global phases, listed or past the list's cap: the true count. */
export const globalPhaseCount = (b: Pick<BootJson, 'globalPhases' | 'globalPhasesOmitted'>): number => b.globalPhases.length + countedPast(b.globalPhasesOmitted);

/** A boot's delete_module calls, listed or past the list's cap: the true count. */
export const rmmodCount = (b: Pick<BootJson, 'rmmod' | 'rmmodOmitted'>): number => b.rmmod.length + countedPast(b.rmmodOmitted);

/** A boot's registration calls, listed or past the list's cap: the true count. */
export const registrationCount = (b: Pick<BootJson, 'registrations' | 'registrationsOmitted'>): number => b.registrations.length + countedPast(b.registrationsOmitted);

/** A module's puts without a get, listed or past the list's cap: the true count. */
export const putsWithoutGetCount = (m: Pick<ModuleJson, 'putsWithoutGet' | 'putsWithoutGetOmitted'>): number => m.putsWithoutGet.length + (m.putsWithoutGetOmitted ?? 0);

/** A phase's result as the text report and the TUI print it: the value and errno, or why there is none. */
export function phaseResultText(p: PhaseJson): string {
  if (p.returnLost) return 'return lost';
  if (p.result === null) return p.end === null ? 'open' : 'done';
  return p.error ? `${p.result} ${p.error}` : String(p.result);
}
