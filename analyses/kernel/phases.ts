// The one phase table: which implicit LUO phase each top-level LUO function belongs to.
//
// Today's LUO has no global state enum (the RFC's NORMAL/PREPARED/FROZEN/UPDATED states were not
// merged); its phases are implicit in the functions that run them. The table holds for every kernel
// model luotrace knows (kernel-models.ts): these functions keep their role across the series.
// - kernel/liveupdate/luo_core.c liveupdate_reboot(): "Kernel reboot notifier for live update final
//   serialization", called from kernel_kexec() before the jump; it runs luo_session_serialize()
//   (luo_session_freeze_one -> luo_file_freeze per session) and luo_flb_serialize(), and undoes the
//   freeze() callbacks on failure: all of it is the freeze phase.
// - kernel/liveupdate/luo_session.c luo_session_deserialize(): run by the first open of
//   /dev/liveupdate (luo_open) in the new kernel, it calls luo_file_deserialize per session: the
//   deserialize phase.
// Sessions name their phase records (analyses/luo/sessions.ts), lock rows their LUO phase column
// (analyses/stream/luo-calls.ts), and the report says which phases could not be seen, all from here.
import { lookupTable } from '../../parsers/name-table.js';

export type PhaseName =
  | 'register'
  | 'unregister'
  | 'create'
  | 'preserve'
  | 'unpreserve'
  | 'freeze'
  | 'deserialize'
  | 'retrieve-session'
  | 'retrieve'
  | 'finish'
  | 'unfreeze';

/**
 * What a call of the function is about: LUO registration, one session (it takes the session's name
 * or its file_set), or the whole LUO state (every session at once, at reboot or at the first open).
 */
export type PhaseScope = 'registration' | 'session' | 'global';

/**
 * Top-level LUO functions (global symbols, good probe targets) and their phase, in lifecycle order.
 * `luo_file_unfreeze` (the rollback of a failed freeze) comes last so that the lifecycle order of
 * the other phases is unchanged by it.
 */
export const LUO_PHASES: Readonly<Record<string, { phase: PhaseName; scope: PhaseScope }>> = lookupTable({
  liveupdate_register_file_handler: { phase: 'register', scope: 'registration' },
  liveupdate_register_flb: { phase: 'register', scope: 'registration' },
  liveupdate_unregister_file_handler: { phase: 'unregister', scope: 'registration' },
  liveupdate_unregister_flb: { phase: 'unregister', scope: 'registration' },
  luo_session_create: { phase: 'create', scope: 'session' },
  luo_preserve_file: { phase: 'preserve', scope: 'session' },
  luo_file_unpreserve_files: { phase: 'unpreserve', scope: 'session' },
  liveupdate_reboot: { phase: 'freeze', scope: 'global' },
  luo_session_serialize: { phase: 'freeze', scope: 'global' },
  luo_file_freeze: { phase: 'freeze', scope: 'session' },
  luo_flb_serialize: { phase: 'freeze', scope: 'global' },
  luo_session_deserialize: { phase: 'deserialize', scope: 'global' },
  luo_file_deserialize: { phase: 'deserialize', scope: 'session' },
  luo_session_retrieve: { phase: 'retrieve-session', scope: 'session' },
  luo_retrieve_file: { phase: 'retrieve', scope: 'session' },
  luo_file_finish: { phase: 'finish', scope: 'session' },
  luo_file_unfreeze: { phase: 'unfreeze', scope: 'session' },
});

/** The phase a call of `func` opens, when it opens one. */
export const PHASE_OF_FUNCTION: Readonly<Record<string, PhaseName>> = lookupTable(Object.fromEntries(Object.entries(LUO_PHASES).map(([f, p]) => [f, p.phase])));

/** The per-session function that marks `phase` in a session (to tell "not probed" from "not seen"). */
export function sessionFunctionOf(phase: PhaseName): string | null {
  for (const [func, p] of Object.entries(LUO_PHASES)) if (p.scope === 'session' && p.phase === phase) return func;
  return null;
}
