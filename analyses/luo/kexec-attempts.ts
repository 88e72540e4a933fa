// A boot's kexec attempt and, when it fails, what the kernel says about it (docs/luo-model.md §6
// "Freeze failure variant"): `kernel_kexec()` returns the error of `liveupdate_reboot()` to the
// reboot() syscall, `luo_file_freeze()` logs "Freeze failed for token[…] handler[…] err[…]" for the
// file whose freeze() failed, and `luo_session_serialize()` unfreezes the sessions frozen before it.
// This reducer keeps the two facts no probe of a LUO function carries: the reboot() result and the
// log line. luo.ts joins them with the liveupdate_reboot phase and the sessions (kexecJson).
import type { EventKind, TraceEvent } from '../../parsers/event.js';
import { errnoName, errnoNumber } from '../kernel/errno.js';
import type { Segment } from '../stream/segments.js';
import type { GlobalPhase, PhaseRecord, SessionRecord } from './sessions.js';
import type { BootJson } from './schema.js';

/**
 * Per segment, the latest kept: enough for any real run (one kexec attempt per boot, rarely a few);
 * bounds hostile input. The latest, since the kexec facts read the boot's last attempt (a retry loop
 * of 2·10^5 attempts had no reboot() result for its last one when the first 64 were kept).
 */
const MAX_KEPT = 64;

/** The latest MAX_KEPT items of each segment, in the order they came (segments are numbered in stream order). */
class LatestPerSegment<T extends { segment: number }> {
  private readonly bySeg = new Map<number, T[]>();

  push(x: T): void {
    let list = this.bySeg.get(x.segment);
    if (!list) this.bySeg.set(x.segment, (list = []));
    list.push(x);
    if (list.length > MAX_KEPT) list.shift();
  }

  find(pick: (x: T) => boolean): T | undefined {
    for (const list of this.bySeg.values()) for (const x of list) if (pick(x)) return x;
    return undefined;
  }

  [Symbol.iterator](): Iterator<T> {
    return [...this.bySeg.values()].flat()[Symbol.iterator]();
  }
}

export interface RebootExit {
  segment: number;
  src: number;
  line: number;
  time: number | null;
  ret: number;
}

export interface FreezeFailedLine {
  segment: number;
  src: number;
  line: number;
  time: number | null;
  token: string | null;
  handler: string | null;
  /** Only in the older message `Freeze failed for session[%s] token[…]…`. */
  session: string | null;
  result: number | null;
  error: string | null;
}

// `luo: Freeze failed for token[0x202] handler[luo-demo-v1] err[-5]`; `%pe` prints `-EIO` with
// CONFIG_SYMBOLIC_ERRNAME. Anchored on the fixed words, no nested quantifiers.
const FREEZE_FAILED = /Freeze failed for (?:session\[([^\]]*)\] )?token\[([^\]]*)\] handler\[([^\]]*)\] err\[([^\]]*)\]/;

/** The fields of a "Freeze failed" log line, or null when `text` is not one. */
export function parseFreezeFailed(text: string): Pick<FreezeFailedLine, 'token' | 'handler' | 'session' | 'result' | 'error'> | null {
  if (!text.includes('Freeze failed for ')) return null;
  const m = FREEZE_FAILED.exec(text);
  if (!m) return null;
  const err = m[4].trim();
  let result: number | null = null;
  if (/^-\d+$/.test(err)) result = Number(err);
  else if (/^-E[A-Z0-9]+$/.test(err)) {
    const n = errnoNumber(err.slice(1));
    result = n === null ? null : -n;
  }
  return { session: m[1] ?? null, token: m[2] || null, handler: m[3] || null, result, error: result !== null ? errnoName(result) : err || null };
}

export class KexecReducer {
  /** The kinds push reads (LuoAnalysis routes only these to it). */
  static readonly kinds: readonly EventKind[] = ['syscall_exit', 'printk'];
  readonly rebootExits = new LatestPerSegment<RebootExit>();
  readonly freezeFailed = new LatestPerSegment<FreezeFailedLine>();

  push(ev: TraceEvent, seg: Segment): void {
    if (ev.kind === 'syscall_exit' && ev.fields.syscall === 'reboot' && ev.fields.ret !== null) {
      this.rebootExits.push({ segment: seg.id, src: ev.src, line: ev.line, time: ev.time, ret: ev.fields.ret });
    } else if (ev.kind === 'printk') {
      const f = parseFreezeFailed(ev.fields.text);
      if (f) this.freezeFailed.push({ ...f, segment: seg.id, src: ev.src, line: ev.line, time: ev.time });
    }
  }
}

type KexecJson = NonNullable<BootJson['kexec']>;

/**
 * The boot's kexec attempt as the report gives it: the liveupdate_reboot phase (its return line is
 * where a failure shows), the reboot() result that follows it, and for a failure the file whose
 * freeze() failed and the sessions whose freeze was rolled back.
 */
export function kexecJson(
  reboot: GlobalPhase,
  k: KexecReducer,
  segIds: Set<number>,
  sessions: SessionRecord[],
  /** luo_file_freeze / luo_file_unfreeze phases of the boot that no session took (no file_set to join). */
  orphans: PhaseRecord[],
  idOf: Map<number, number>,
  fileOf: (src: number) => string,
): KexecJson {
  const after = reboot.end ?? reboot.start ?? -Infinity;
  const failed = reboot.result !== null && reboot.result < 0;
  // The reboot() syscall that ran this liveupdate_reboot: the first exit in the boot after its return,
  // else within 1 ms before it (clock slack); a retry loop's previous attempt exits within that 1 ms.
  const sys = k.rebootExits.find((e) => segIds.has(e.segment) && (e.time === null || e.time >= after)) ?? k.rebootExits.find((e) => segIds.has(e.segment) && e.time !== null && e.time >= after - 1e6);
  const base: KexecJson = {
    source: 'probe',
    result: reboot.result,
    error: reboot.error,
    file: fileOf(reboot.src),
    line: reboot.line,
    endLine: reboot.endLine,
    durationNs: reboot.durationNs,
    syscall: sys ? { file: fileOf(sys.src), line: sys.line, result: sys.ret, error: errnoName(sys.ret) } : null,
    failure: null,
    frozenSets: null,
    rolledBack: [],
  };
  const inWindow = (t: number | null) => t === null || reboot.start === null || (t >= reboot.start && t <= after);
  // A joined orphan is in its session's phases too: count each call once.
  const freezes = [...new Set([...sessions.flatMap((s) => s.phases), ...orphans])].filter((p) => p.name === 'freeze' && inWindow(p.start));
  base.frozenSets = freezes.filter((p) => p.result === null || p.result >= 0).length;
  if (!failed) return base;
  const log = k.freezeFailed.find((f) => segIds.has(f.segment) && inWindow(f.time)) ?? nearestLog(k, segIds, reboot.end ?? reboot.start);
  // The session whose luo_file_freeze returned the error (the log line does not name it).
  const failedFreeze = sessions
    .flatMap((s) => s.phases.filter((p) => p.name === 'freeze' && p.result !== null && p.result < 0 && inWindow(p.start)).map((p) => ({ s, p })))
    .at(0);
  const who = failedFreeze?.s ?? (log?.session ? sessions.find((s) => s.name === log.session) : undefined);
  if (log || failedFreeze) {
    base.failure = {
      token: log?.token ?? failedFreeze?.p.token ?? null,
      handler: log?.handler ?? (failedFreeze?.p.token ? (failedFreeze.s.files.get(failedFreeze.p.token)?.handler ?? null) : null),
      result: log?.result ?? failedFreeze?.p.result ?? null,
      error: log?.error ?? failedFreeze?.p.error ?? null,
      file: log ? fileOf(log.src) : fileOf(failedFreeze!.p.src),
      line: log ? log.line : (failedFreeze!.p.endLine ?? failedFreeze!.p.line),
      sessionId: who ? (idOf.get(who.key) ?? null) : null,
      freezeReturn: failedFreeze ? { file: fileOf(failedFreeze.p.src), line: failedFreeze.p.endLine ?? failedFreeze.p.line } : null,
    };
  }
  // luo_session_serialize's err_undo runs luo_file_unfreeze for each session frozen before the failing one.
  base.rolledBack = sessions
    .filter((s) => s.phases.some((p) => p.name === 'unfreeze' && inWindow(p.start)))
    .map((s) => idOf.get(s.key))
    .filter((id): id is number => id !== undefined);
  return base;
}

/**
 * A console log's stamps need not fall inside the probed liveupdate_reboot window: the real
 * freeze-fail capture (samples/real/freeze-fail) stamps the "Freeze failed" line 175 ms before the
 * trace's liveupdate_reboot entry (serial console and trace clock disagree under QEMU/TCG). So when no
 * log line is inside the window, the boot's log line nearest to its return, within CLOCK_SLACK_NS, is
 * that failure's.
 */
function nearestLog(k: KexecReducer, segIds: Set<number>, at: number | null): FreezeFailedLine | undefined {
  if (at === null) return undefined;
  let best: FreezeFailedLine | undefined;
  for (const f of k.freezeFailed) {
    if (!segIds.has(f.segment) || f.time === null || Math.abs(f.time - at) > CLOCK_SLACK_NS) continue;
    if (!best || Math.abs(f.time - at) < Math.abs((best.time as number) - at)) best = f;
  }
  return best;
}

const CLOCK_SLACK_NS = 2e9;

/**
 * A boot whose liveupdate_reboot was not probed but whose log has the "Freeze failed" line (a console
 * or dmesg log alone): luo_file_freeze's failure always fails liveupdate_reboot and reboot()
 * (docs/luo-model.md §6 "Freeze failure variant"), so the kexec failed; the log line is the evidence.
 */
export function kexecFromLog(k: KexecReducer, segIds: Set<number>, sessions: SessionRecord[], idOf: Map<number, number>, fileOf: (src: number) => string): KexecJson | null {
  const log = k.freezeFailed.find((f) => segIds.has(f.segment));
  if (!log) return null;
  const sys = k.rebootExits.find((e) => segIds.has(e.segment) && (e.time === null || log.time === null || e.time >= log.time));
  const who = log.session !== null ? sessions.find((s) => s.name === log.session) : undefined;
  const at = { file: fileOf(log.src), line: log.line };
  return {
    source: 'log',
    result: log.result,
    error: log.error,
    ...at,
    endLine: null,
    durationNs: null,
    syscall: sys ? { file: fileOf(sys.src), line: sys.line, result: sys.ret, error: errnoName(sys.ret) } : null,
    failure: { ...at, token: log.token, handler: log.handler, result: log.result, error: log.error, sessionId: who ? (idOf.get(who.key) ?? null) : null, freezeReturn: null },
    frozenSets: null,
    rolledBack: [],
  };
}
