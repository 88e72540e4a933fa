// `<probe> key=value ...` records -> normalized events. Shared by the bpftrace text and JSON parsers
// (one printf line per event) and by the CSV parser (one row per event, columns as keys).
//
// The shape is the one the lab's bpftrace script prints (real README §2, the lab's `guest/luo_events.bt`, docs/real-captures.md §2):
// the probe as bpftrace's `probe` builtin prints it (`tracepoint:module:module_get`,
// `kprobe:luo_preserve_file`, `kretprobe:luo_preserve_file`), then `ts=` (ns, bpftrace `nsecs`),
// `cpu=`, `pid=`, `tid=`, `comm=`, then the event's own fields. Events are mapped onto the SAME kinds
// and fields the ftrace parsers produce (parsers/payloads.ts), so analyses do not care which tool
// captured them: the tracepoint names and fields follow include/trace/events/{module,lock}.h
// (docs/luo-model.md §5), probe names follow the lab's ftrace probe names (`func`, `func__return`).
import type { EventContext } from './payloads.js';
import { lcbFlagNames, LCB_FLAGS, makeEvent, normalizePointer, parseSignedInt } from './payloads.js';
import type { TraceEvent } from './event.js';

/** Keys that describe where the event happened, not what it is. */
export const CONTEXT_KEYS = new Set(['ts', 'cpu', 'pid', 'tid', 'comm']);

/**
 * Split ` key=value key=value` starting at `from`. A value runs to the next space that is followed
 * by `ident=`, so values may contain spaces (a comm like `Web Content`, a session name). A value
 * wrapped in double quotes loses them. Returns null when the text is not key=value at all.
 * Linear in the length of the text.
 */
export function splitKeyValues(text: string, from: number): Record<string, string> | null {
  const out: Record<string, string> = {};
  const n = text.length;
  let i = from;
  while (i < n && text.charCodeAt(i) === 32) i++;
  if (i >= n) return null;
  let count = 0;
  while (i < n) {
    const keyEnd = identEnd(text, i);
    if (keyEnd === i || text.charCodeAt(keyEnd) !== 61 /* = */) return null;
    const key = text.slice(i, keyEnd);
    const v = keyEnd + 1;
    let e = v;
    for (;;) {
      const sp = text.indexOf(' ', e);
      if (sp < 0) {
        e = n;
        break;
      }
      let k = sp;
      while (k < n && text.charCodeAt(k) === 32) k++;
      if (k >= n) {
        e = sp;
        break;
      }
      const ke = identEnd(text, k);
      if (ke > k && text.charCodeAt(ke) === 61) {
        e = sp;
        break;
      }
      e = k;
    }
    let value = text.slice(v, e);
    if (value.length >= 2 && value.charCodeAt(0) === 34 && value.charCodeAt(value.length - 1) === 34) value = value.slice(1, -1);
    out[key] = value;
    count++;
    i = e;
    while (i < n && text.charCodeAt(i) === 32) i++;
  }
  return count > 0 ? out : null;
}

/** The end of the key at `i` (letters, digits, `_`, and `.` after its first character); `i` when none starts there. */
export function identEnd(text: string, i: number): number {
  let j = i;
  for (; j < text.length; j++) {
    const c = text.charCodeAt(j);
    const ok = c === 95 || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c === 46 && j > i);
    if (!ok) break;
  }
  const c0 = text.charCodeAt(i);
  if (j > i && c0 >= 48 && c0 <= 57) return i; // keys do not start with a digit
  return j;
}

/** Probe types by every spelling bpftrace accepts (bpftrace(8) "Probes"; the `probe` builtin prints the long one). */
const PROBE_TYPES: Record<string, string> = {
  tracepoint: 'tracepoint',
  t: 'tracepoint',
  rawtracepoint: 'rawtracepoint',
  rt: 'rawtracepoint',
  kprobe: 'kprobe',
  k: 'kprobe',
  kretprobe: 'kretprobe',
  kr: 'kretprobe',
  fentry: 'fentry',
  f: 'fentry',
  kfunc: 'fentry',
  fexit: 'fexit',
  fr: 'fexit',
  kretfunc: 'fexit',
};

/** `module_load` taint bits as the kernel prints them (include/trace/events/module.h show_module_flags, in its order). */
const TAINT_LETTERS: Array<[number, string]> = [
  [1 << 0, 'P'], // TAINT_PROPRIETARY_MODULE
  [1 << 12, 'O'], // TAINT_OOT_MODULE
  [1 << 1, 'F'], // TAINT_FORCED_MODULE
  [1 << 10, 'C'], // TAINT_CRAP
  [1 << 13, 'E'], // TAINT_UNSIGNED_MODULE
];

/** bpftrace prints `mod->taints` as a number (`taints=4096`); ftrace prints the letters (`O`). */
export function taintLetters(text: string): string {
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(text)) return text;
  let mask = Number(text);
  let s = '';
  for (const [bit, letter] of TAINT_LETTERS) {
    if (mask & bit) {
      s += letter;
      mask &= ~bit;
    }
  }
  if (mask) s += `0x${mask.toString(16)}`;
  return s;
}

function intOf(text: string | undefined): number | null {
  if (text === undefined) return null;
  const v = parseSignedInt(text.trim());
  return v !== null && Number.isInteger(v) ? v : null;
}

/** LCB flags as a number (`0x21`, `33`) or as names (`SPIN|MUTEX`). */
function lcbFlags(text: string): number | null {
  const n = intOf(text);
  if (n !== null) return n;
  let mask = 0;
  for (const part of text.split('|')) {
    const bit = Object.hasOwn(LCB_FLAGS, part.trim()) ? LCB_FLAGS[part.trim()] : undefined;
    if (bit === undefined) return null;
    mask |= bit;
  }
  return mask;
}

/** `ksym()` of an address it cannot name prints the address itself: then there is no symbol to keep. */
function symbolOf(text: string | undefined): string | undefined {
  if (text === undefined || text === '' || /^(0x)?[0-9a-f]+$/i.test(text)) return undefined;
  return text;
}

export type Decoded = TraceEvent | { error: string };

/** Tracepoint (or raw tracepoint) `event` with its printed fields. Null: not a tracepoint we decode. */
function decodeTracepoint(event: string, args: Record<string, string>, ctx: EventContext): Decoded | null {
  switch (event) {
    case 'module_get':
    case 'module_put': {
      const module = args.module ?? args.name;
      const callSite = args.call_site ?? args.caller ?? args.ip;
      // Any integer, however long: one beyond 2^53 is skipped as out of range by ParserEnv.emit.
      const refcnt = args.refcnt === undefined ? null : parseSignedInt(args.refcnt.trim());
      if (module === undefined) return { error: `${event} without module=` };
      if (callSite === undefined) return { error: `${event} without call_site=` };
      if (refcnt === null) return { error: `${event} without an integer refcnt=` };
      return makeEvent(event, event, ctx, { module, callSite, refcnt });
    }
    case 'module_load': {
      const module = args.module ?? args.name;
      if (module === undefined) return { error: 'module_load without module=' };
      return makeEvent('module_load', event, ctx, { module, taints: taintLetters(args.taints ?? '') });
    }
    case 'module_free': {
      const module = args.module ?? args.name;
      if (module === undefined) return { error: 'module_free without module=' };
      return makeEvent('module_free', event, ctx, { module });
    }
    case 'module_request': {
      const module = args.module ?? args.name;
      const wait = intOf(args.wait);
      const callSite = args.call_site ?? args.caller ?? args.ip;
      if (module === undefined || wait === null || callSite === undefined) return { error: 'module_request needs module=, wait= and call_site=' };
      return makeEvent('module_request', event, ctx, { module, wait, callSite });
    }
    case 'contention_begin':
    case 'contention_end': {
      const text = args.lock ?? args.lock_addr;
      const ptr = text === undefined ? null : normalizePointer(text.startsWith('0x') || text === '(null)' ? text : `0x${text}`);
      if (!ptr) return { error: `${event} without a lock= address` };
      const sym = symbolOf(args.sym);
      if (event === 'contention_begin') {
        const flags = args.flags === undefined ? null : lcbFlags(args.flags);
        if (flags === null) return { error: 'contention_begin without flags=' };
        const fields: Record<string, unknown> = { lock: ptr.lock, hashed: ptr.hashed, flags, flagNames: lcbFlagNames(flags) };
        if (sym !== undefined) fields.sym = sym;
        return makeEvent('contention_begin', event, ctx, fields);
      }
      const ret = intOf(args.ret);
      if (ret === null) return { error: 'contention_end without ret=' };
      const fields: Record<string, unknown> = { lock: ptr.lock, hashed: ptr.hashed, ret };
      if (sym !== undefined) fields.sym = sym;
      return makeEvent('contention_end', event, ctx, fields);
    }
    case 'lock_acquire':
    case 'lock_release':
    case 'lock_contended':
    case 'lock_acquired':
    case 'contended_release': {
      const text = args.lockdep_addr ?? args.lock;
      const ptr = text === undefined ? null : normalizePointer(text.startsWith('0x') ? text : `0x${text}`);
      if (!ptr) return { error: `${event} without a lockdep_addr= address` };
      if (event === 'contended_release') return makeEvent(event, event, ctx, { lock: ptr.lock, hashed: ptr.hashed });
      const lockName = args.name ?? args.lock_name ?? '';
      if (event !== 'lock_acquire') return makeEvent(event, event, ctx, { lock: ptr.lock, hashed: ptr.hashed, lockName });
      // TP lock_acquire: flags = (trylock ? 1 : 0) | (read ? 2 : 0) (include/trace/events/lock.h).
      const flags = intOf(args.flags) ?? 0;
      return makeEvent('lock_acquire', event, ctx, { lock: ptr.lock, hashed: ptr.hashed, lockName, read: (flags & 2) !== 0, try: (flags & 1) !== 0 });
    }
    case 'sched_switch': {
      const prevPid = intOf(args.prev_pid);
      const nextPid = intOf(args.next_pid);
      if (prevPid === null || nextPid === null) return { error: 'sched_switch needs prev_pid= and next_pid=' };
      return makeEvent('sched_switch', event, ctx, {
        prevComm: args.prev_comm ?? '',
        prevPid,
        prevState: args.prev_state ?? '',
        nextComm: args.next_comm ?? '',
        nextPid,
      });
    }
    default:
      if (event.startsWith('sys_enter_')) return makeEvent('syscall_enter', event, ctx, { syscall: event.slice(10), args });
      if (event.startsWith('sys_exit_')) {
        const ret = intOf(args.ret);
        if (ret === null) return { error: `${event} without ret=` };
        return makeEvent('syscall_exit', event, ctx, { syscall: event.slice(9), ret });
      }
      return null;
  }
}

/** `func+0x10` / `func+16` -> func and offset. */
function splitOffset(target: string): { func: string; offset: number | null } {
  const plus = target.indexOf('+');
  if (plus <= 0) return { func: target, offset: null };
  const off = intOf(target.slice(plus + 1));
  return { func: target.slice(0, plus), offset: off };
}

/**
 * Decode one record. `probe` is the probe as printed (or a CSV `event`), `args` the event's own
 * fields (context keys removed), `kindHint` an explicit kind (CSV `kind` column).
 * Unknown probes become kind `bpftrace` {probe, args}; a known event whose fields are missing
 * returns `{error}` so the caller can decide (bpftrace: keep as `bpftrace`; CSV: skip the row).
 */
export function decodeRecord(probe: string, args: Record<string, string>, ctx: EventContext, kindHint?: string): Decoded {
  const parts = probe.split(':');
  let type = parts.length > 1 ? (Object.hasOwn(PROBE_TYPES, parts[0]) ? PROBE_TYPES[parts[0]] : parts[0]) : '';
  // The last part is the event or function; `kprobe:module:func`, `fentry:vmlinux:func` keep the module in front.
  let target = parts[parts.length - 1];
  if (kindHint) {
    type = Object.hasOwn(PROBE_TYPES, kindHint) ? PROBE_TYPES[kindHint] : kindHint;
    if (type === 'kretprobe' || type === 'fexit') target = target.replace(/__(return|exit)$/, '');
    if (type === 'fentry') target = target.replace(/__entry$/, '');
  } else if (parts.length === 1) {
    // A bare name (CSV `event` column, a script printing `module_get ...`): a tracepoint we know,
    // or the ftrace probe naming convention `func__return`.
    const tp = decodeTracepoint(target, args, ctx);
    if (tp) return tp;
    if (target.endsWith('__return')) {
      type = 'kretprobe';
      target = target.slice(0, -8);
    }
  }
  switch (type) {
    case 'tracepoint':
    case 'rawtracepoint':
    case 'module_get':
    case 'module_put':
    case 'module_load':
    case 'module_free':
    case 'module_request':
    case 'contention_begin':
    case 'contention_end':
    case 'lock_acquire':
    case 'lock_release':
    case 'lock_contended':
    case 'lock_acquired':
    case 'contended_release':
    case 'sched_switch':
    case 'syscall_enter':
    case 'syscall_exit': {
      const tp = decodeTracepoint(target, args, ctx);
      if (tp) return tp;
      if (type !== 'tracepoint' && type !== 'rawtracepoint') return { error: `kind ${type} does not match event ${target}` };
      break;
    }
    case 'kprobe': {
      const { func, offset } = splitOffset(target);
      return makeEvent('kprobe', func, ctx, { func, offset, address: null, args });
    }
    case 'fentry': {
      const { func } = splitOffset(target);
      return makeEvent('fentry', `${func}__entry`, ctx, { func, offset: null, address: null, args });
    }
    case 'kretprobe':
    case 'fexit': {
      const { func } = splitOffset(target);
      const retText = args.retval ?? args.ret;
      const ret = retText === undefined ? null : parseSignedInt(retText.trim());
      const name = type === 'fexit' ? `${func}__exit` : `${func}__return`;
      return makeEvent(type, name, ctx, { func, caller: args.caller ?? null, args, ret });
    }
    default:
      break;
  }
  // uprobes, usdt, interval, BEGIN/END, labels a script chose: kept with their fields as printed.
  // (A uprobe on a user function named luo_* must not look like a kernel LUO call.)
  return makeEvent('bpftrace', parts.length > 1 ? target : probe, ctx, { probe, args });
}
