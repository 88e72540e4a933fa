// What a module reference is, in one place: the kind of a pin window (its `class`, decided from the
// call site by classifyCallSite in analyses/kernel/kernel-models.ts), who owns it, and why a window
// still open at the end of the input is expected (or is a leak). Verdicts, renderers, the TUI, the
// chrome export, diff and fleet read these functions rather than the class strings.
//
// The kinds follow where the kernel takes each reference (docs/luo-model.md §4):
// - luo-file (a session pin): one reference on the handler's owner per preserved or deserialized
//   file (kernel/liveupdate/luo_file.c: luo_preserve_file, luo_file_deserialize, luo_file_finish);
// - luo-flb (an FLB pin): one reference on the FLB's owner while the FLB has users
//   (kernel/liveupdate/luo_flb.c: luo_flb_file_preserve_one, luo_flb_retrieve_one,
//   liveupdate_flb_put_*). It belongs to the FLB, not to a session: taken by whichever session
//   first preserves or retrieves a file of that FLB, dropped when its last user is done (§1.4);
// - luo-registration: PRE kernels only, held for as long as the handler or FLB is registered
//   (kernel/liveupdate/luo_file.c before the series: liveupdate_register_file_handler takes it,
//   liveupdate_unregister_file_handler drops it). It belongs to no session;
// - vfs: the module's own file operations (misc_open, __anon_inode_getfile -> __fput);
// - module-loader and other: not LUO references.
import type { CallSiteClass } from '../kernel/kernel-models.js';

export type PinClass = CallSiteClass;

/**
 * Is this a session pin: the reference LUO takes for one preserved or deserialized file, which that
 * session's finish or abort must release?
 */
export function isSessionPin(w: { class: string }): boolean {
  return w.class === 'luo-file';
}

/** An FLB pin: owned by the FLB, released when the FLB's last user (of any session) is done. */
export function isFlbPin(w: { class: string }): boolean {
  return w.class === 'luo-flb';
}

/**
 * A pin LUO must release once its users are done: the session pins and the FLB pins. Registration
 * pins are not: the kernel takes them in liveupdate_register_file_handler / liveupdate_register_flb,
 * outside any session, and drops them only at unregister.
 */
export function isLuoPin(w: { class: string }): boolean {
  return isSessionPin(w) || isFlbPin(w);
}

/** Any reference LUO itself takes: the session and FLB pins and, on PRE kernels, the registration pins. */
export function isLuoReference(w: { class: string }): boolean {
  return isLuoPin(w) || w.class === 'luo-registration';
}

/** The kinds as a reader names them, in the order reports list them. */
export const PIN_KINDS = [
  { kind: 'session', one: 'session pin', many: 'session pins', test: isSessionPin },
  { kind: 'flb', one: 'FLB pin', many: 'FLB pins', test: isFlbPin },
  { kind: 'registration', one: 'registration pin', many: 'registration pins', test: (w: { class: string }) => w.class === 'luo-registration' },
  { kind: 'vfs', one: 'VFS reference', many: 'VFS references', test: (w: { class: string }) => w.class === 'vfs' },
  { kind: 'loader', one: 'loader reference', many: 'loader references', test: (w: { class: string }) => w.class === 'module-loader' },
  { kind: 'other', one: 'other reference', many: 'other references', test: (w: { class: string }) => w.class === 'other' },
] as const;
export type PinKind = (typeof PIN_KINDS)[number]['kind'];

export function pinKind(w: { class: string }): PinKind {
  return PIN_KINDS.find((k) => k.test(w))?.kind ?? 'other';
}

/** "3 session pins, 1 FLB pin": the windows counted by kind, kinds with none left out. */
export function countByKind(windows: ReadonlyArray<{ class: string }>): string {
  const parts: string[] = [];
  for (const k of PIN_KINDS) {
    const n = windows.filter(k.test).length;
    if (n) parts.push(`${n} ${n === 1 ? k.one : k.many}`);
  }
  return parts.join(', ');
}

/**
 * Who holds a window, as the pin tables show it: the session's name (or #id), the FLB for an FLB
 * pin (its compatible, when the trace names it), or what kind of reference it is.
 */
export function pinOwner(w: { class: string; session: string | null; sessionId: number | null; flb?: string | null }): string {
  if (isFlbPin(w)) return `FLB ${w.flb ?? '(name not traced)'}`;
  if (w.session !== null) return w.session;
  if (w.sessionId !== null) return `#${w.sessionId}`;
  if (w.class === 'luo-registration') return '(registration)';
  if (w.class === 'vfs') return '(VFS ref)';
  return '-';
}

/** pinOwner in a sentence: "session s1", "FLB luo-demo-flb-v1", or "no known session". */
export function pinWho(w: Parameters<typeof pinOwner>[0]): string {
  const owner = pinOwner(w);
  if (isFlbPin(w)) return owner;
  return w.session !== null || w.sessionId !== null ? `session ${owner}` : 'no known session';
}

/**
 * Why a pin window open at the end of the input is expected, as a stable code; `leak` when it is
 * not (a session pin whose session ended, or no session that could still hold it).
 */
export const OPEN_REASONS = ['leak', 'put-missing', 'vfs-file-open', 'not-luo', 'flb-in-use', 'held-across-kexec', 'session-open', 'session-not-finished'] as const;
export type OpenReason = (typeof OPEN_REASONS)[number];

/**
 * Where the report sees what is still open: at the end of the input, or, in a snapshot of a live
 * stream (the TUI's --follow, FinishContext.snapshot), at the moment it was taken, with more to come.
 */
export const AT_END = { final: 'at the end of the trace', snapshot: 'as of this report (the trace goes on)' } as const;

/** The sentence the report's `expectedOpen` carries for each code (null: a leak, no sentence); `end`: AT_END. */
export function openReasonText(code: OpenReason, end: string = AT_END.final): string | null {
  switch (code) {
    case 'leak':
      return null;
    case 'put-missing':
      return 'its module_put is probably missing from the trace: refcnt= drops by more than the puts seen (see refcounts-balanced)';
    case 'vfs-file-open':
      return 'a file of the module is still open (VFS reference, not a LUO pin)';
    case 'not-luo':
      return 'not a LUO reference';
    case 'flb-in-use':
      return `FLB still in use: its ref is dropped with its last dependent file, and sessions were live ${end}`;
    case 'held-across-kexec':
      return 'held across kexec: the old kernel never drops it (luo-model.md §6 step 6)';
    case 'session-open':
      return `session still open ${end}`;
    case 'session-not-finished':
      return `session not finished ${end}`;
  }
}

/** The code of a window of the report: null when released. */
export function openReasonOf(w: { putLine: number | null; openReason: OpenReason | null }): OpenReason | null {
  return w.putLine !== null ? null : w.openReason;
}

/** A session or FLB pin never released although nothing could still hold it. */
export function isLeakedPin(w: { class: string; putLine: number | null; expectedOpen: string | null }): boolean {
  return isLuoPin(w) && w.putLine === null && w.expectedOpen === null;
}

/**
 * A pin that would be a leak, but events were lost while it was open: its module_put may be among
 * them (docs/luo-model.md §4 "Pin windows on lossy input"; modules-unpinned-after-finish says
 * inconclusive, not fail). No report calls it a leak.
 */
export function isPutMaybeLost(w: { class: string; putLine: number | null; expectedOpen: string | null; incomplete: boolean }): boolean {
  return isLeakedPin(w) && w.incomplete;
}

/** How reports name a pin of isPutMaybeLost: the row's state, and its short form. */
export const PUT_MAYBE_LOST = { text: 'open: put may be lost (events lost while open)', short: 'put lost?' } as const;
