// What a module reference is, in one place: the kind of a pin window (its `class`, decided from the
// call site by classifyCallSite in analyses/kernel/kernel-models.ts), whether it is a session pin,
// and why a window still open at the end of the input is expected (or is a leak).
//
// The kinds follow where the kernel takes each reference (docs/luo-model.md §4):
// - luo-file: one reference on the handler's owner per preserved or deserialized file
//   (kernel/liveupdate/luo_file.c: luo_preserve_file, luo_file_deserialize, luo_file_finish);
// - luo-flb: one reference on the FLB's owner while the FLB has users (kernel/liveupdate/luo_flb.c:
//   luo_flb_file_preserve_one, luo_flb_retrieve_one, liveupdate_flb_put_*);
// - luo-registration: PRE kernels only, held for as long as the handler or FLB is registered
//   (kernel/liveupdate/luo_file.c before the series: liveupdate_register_file_handler takes it,
//   liveupdate_unregister_file_handler drops it). It belongs to no session;
// - vfs: the module's own file operations (misc_open, __anon_inode_getfile -> __fput);
// - module-loader and other: not LUO references.
import type { CallSiteClass } from '../kernel/kernel-models.js';

export type PinClass = CallSiteClass;

/**
 * Is this a session (LUO) pin: a reference LUO takes for a preserved file or an FLB in use, which
 * a session's finish or abort must release? Registration pins are not: the kernel takes them in
 * liveupdate_register_file_handler / liveupdate_register_flb, outside any session.
 */
export function isSessionPin(w: { class: string }): boolean {
  return w.class === 'luo-file' || w.class === 'luo-flb';
}

/** Any reference LUO itself takes: the session pins and, on PRE kernels, the registration pins. */
export function isLuoReference(w: { class: string }): boolean {
  return isSessionPin(w) || w.class === 'luo-registration';
}

/**
 * Why a pin window open at the end of the input is expected, as a stable code; `leak` when it is
 * not (a session pin whose session ended, or no session that could still hold it).
 */
export const OPEN_REASONS = ['leak', 'vfs-file-open', 'not-luo', 'flb-in-use', 'held-across-kexec', 'session-open', 'session-not-finished'] as const;
export type OpenReason = (typeof OPEN_REASONS)[number];

/** The sentence the report's `expectedOpen` carries for each code (null: a leak, no sentence); `session` names the FLB's first user. */
export function openReasonText(code: OpenReason, session: string | null): string | null {
  switch (code) {
    case 'leak':
      return null;
    case 'vfs-file-open':
      return 'a file of the module is still open (VFS reference, not a LUO pin)';
    case 'not-luo':
      return 'not a LUO reference';
    case 'flb-in-use':
      return `FLB still in use: its ref is dropped with the last dependent file, and sessions other than ${session ?? '?'} were live at the end of the trace`;
    case 'held-across-kexec':
      return 'held across kexec: the old kernel never drops it (luo-model.md §6 step 6)';
    case 'session-open':
      return 'session still open at the end of the trace';
    case 'session-not-finished':
      return 'session not finished at the end of the trace';
  }
}

/** The code of a window of the report: null when released. */
export function openReasonOf(w: { putLine: number | null; openReason: OpenReason | null }): OpenReason | null {
  return w.putLine !== null ? null : w.openReason;
}

/** A session pin never released although nothing could still hold it. */
export function isLeakedPin(w: { class: string; putLine: number | null; expectedOpen: string | null }): boolean {
  return isSessionPin(w) && w.putLine === null && w.expectedOpen === null;
}
