// Payload decoders shared by every container format (ftrace text, trace-cmd report, console
// tp_printk lines, function_graph comments, perf script): the text after `event_name: ` becomes
// typed fields. Grammar: docs/trace-formats.md §1.6, §1.7, §1.10, §1.11; what the real 7.2.13 kernel
// printed: traces/real/README.md §4. Unknown events, and known events whose payload does not parse,
// are kept as `generic` with their raw payload, never dropped.
import type { EventKind, TraceEvent } from './event.js';
import { interned } from './intern.js';

/** Where an event came from; the decoder only fills in kind, name and fields. */
export interface EventContext {
  time: number | null;
  cpu: number | null;
  pid: number | null;
  tgid: number | null;
  comm: string | null;
  src: number;
  line: number;
}

// Every event object is built by this one function so they all share a hidden class (V8 keeps the
// consumers monomorphic) and the property order of the zod schema.
export function makeEvent(kind: EventKind, name: string, ctx: EventContext, fields: object): TraceEvent {
  return {
    kind,
    name,
    time: ctx.time,
    cpu: ctx.cpu,
    pid: ctx.pid,
    tgid: ctx.tgid,
    comm: ctx.comm,
    src: ctx.src,
    line: ctx.line,
    fields,
  } as TraceEvent;
}

/** LCB_F_* bits of lock:contention_begin (include/trace/events/lock.h, docs/luo-model.md §5). */
export const LCB_FLAGS: Record<string, number> = { SPIN: 1, READ: 2, WRITE: 4, RT: 8, PERCPU: 16, MUTEX: 32 };

const FLAG_NAMES_CACHE: string[] = [];

export function lcbFlagNames(mask: number): string {
  if (mask >= 0 && mask < 64) {
    const cached = FLAG_NAMES_CACHE[mask];
    if (cached !== undefined) return cached;
    return (FLAG_NAMES_CACHE[mask] = lcbFlagNamesUncached(mask));
  }
  return lcbFlagNamesUncached(mask);
}

function lcbFlagNamesUncached(mask: number): string {
  const names: string[] = [];
  for (const [n, bit] of Object.entries(LCB_FLAGS)) if (mask & bit) names.push(n);
  const rest = mask & ~63;
  if (rest) names.push(`0x${rest.toString(16)}`);
  return names.join('|');
}

const FLAGS_TEXT_CACHE = new Map<string, number>();

function parseLcbFlags(text: string): number {
  const cached = FLAGS_TEXT_CACHE.get(text);
  if (cached !== undefined) return cached;
  const mask = parseLcbFlagsUncached(text);
  if (FLAGS_TEXT_CACHE.size < 256) FLAGS_TEXT_CACHE.set(text, mask);
  return mask;
}

function parseLcbFlagsUncached(text: string): number {
  if (text === '') return 0;
  if (/^(0x[0-9a-fA-F]+|\d+)$/.test(text)) return Number(text);
  let mask = 0;
  for (const part of text.split('|')) {
    const bit = Object.hasOwn(LCB_FLAGS, part) ? LCB_FLAGS[part] : undefined;
    if (bit !== undefined) mask |= bit;
    else if (/^0x[0-9a-f]+$/i.test(part)) mask |= Number(part);
    else return NaN;
  }
  return mask;
}

/**
 * A lock pointer in any of its renderings (docs/trace-formats.md §1.11, real README O2): hashed
 * `00000000610328f2` (tracefs default), raw `ffff888012345678` (hash-ptr=0), `0xffff…`
 * (trace-cmd, perf, bpftrace). Raw addresses get a `0x` prefix so all raw forms share one key.
 */
// Lock pointers repeat (the same few locks, millions of events): remember their normal form.
const POINTER_CACHE = new Map<string, { lock: string; hashed: boolean } | null>();

export function normalizePointer(text: string): { lock: string; hashed: boolean } | null {
  let hit = POINTER_CACHE.get(text);
  if (hit === undefined) {
    hit = normalizePointerUncached(text);
    if (POINTER_CACHE.size >= 50_000) POINTER_CACHE.clear();
    POINTER_CACHE.set(text, hit);
  }
  return hit;
}

function normalizePointerUncached(text: string): { lock: string; hashed: boolean } | null {
  if (text === '(null)') return { lock: '0x0', hashed: false };
  let hex = text;
  if (hex.startsWith('0x') || hex.startsWith('0X')) {
    hex = hex.slice(2);
    if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) return null;
    return { lock: `0x${hex.toLowerCase().replace(/^0+(?=.)/, '')}`, hashed: false };
  }
  if (!/^[0-9a-fA-F]{8,16}$/.test(hex)) return null;
  // Kernel addresses are in the top half (ffff…); hashed %p output has its top 32 bits zero.
  if (hex.length === 16 && /^ff/i.test(hex)) return { lock: `0x${hex.toLowerCase()}`, hashed: false };
  return { lock: hex.toLowerCase(), hashed: true };
}

/** Parse a signed decimal or hex integer as printed (hex wider than 32 bits is read as a 64-bit signed value). */
export function parseSignedInt(text: string): number | null {
  if (/^-?\d+$/.test(text)) return Number(text);
  if (/^0x[0-9a-fA-F]+$/.test(text)) {
    if (text.length <= 10) return Number(text); // up to 32 bits: as is (0xffffffff is a valid value)
    return Number(BigInt.asIntN(64, BigInt(text)));
  }
  return null;
}

/**
 * Probe arguments ` name=value ...` (trace_probe_print_args). Strings are printed in quotes without
 * escaping (`arg1="echo "hello world""`), so a string ends at the quote that is followed by
 * ` key=` or the end of the line (§1.10, §5 item 14).
 */
export function parseProbeArgs(text: string, from: number): Record<string, string> {
  const args: Record<string, string> = {};
  let i = from;
  const n = text.length;
  while (i < n) {
    while (i < n && text.charCodeAt(i) === 32) i++;
    if (i >= n) break;
    const eq = text.indexOf('=', i);
    const sp = text.indexOf(' ', i);
    if (eq < 0 || (sp >= 0 && sp < eq)) {
      // Not key=value: keep the remainder verbatim.
      args['_'] = text.slice(i);
      break;
    }
    const key = interned.slice(text, i, eq);
    let v = eq + 1;
    if (text.charCodeAt(v) === 34 /* " */) {
      let q = text.indexOf('"', v + 1);
      while (q >= 0 && q !== n - 1 && !(text.charCodeAt(q + 1) === 32 && looksLikeKeyAt(text, q + 2))) {
        q = text.indexOf('"', q + 1);
      }
      if (q < 0) {
        args[key] = text.slice(v + 1);
        break;
      }
      args[key] = interned.slice(text, v + 1, q);
      i = q + 1;
    } else if (text.charCodeAt(v) === 123 /* { */) {
      const close = text.indexOf('}', v);
      const end = close < 0 ? n : close + 1;
      args[key] = text.slice(v, end);
      i = end;
    } else {
      let e = v;
      while (e < n && text.charCodeAt(e) !== 32) e++;
      // `(fault)` and the like stay as printed.
      args[key] = interned.slice(text, v, e);
      i = e;
    }
  }
  return args;
}

function looksLikeKeyAt(text: string, i: number): boolean {
  let j = i;
  for (; j < text.length; j++) {
    const c = text.charCodeAt(j);
    const ident = c === 95 || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 46;
    if (!ident) break;
  }
  return j > i && text.charCodeAt(j) === 61; /* = */
}

/** `(sym+0xO/0xS)`, `(ffffffff813024a4)`, `(caller+0x9b/0x1e0 <- func)`, `([unknown/kretprobe'd] <- func)`. */
function decodeProbe(name: string, payload: string, ctx: EventContext): TraceEvent | null {
  if (payload.charCodeAt(0) !== 40 /* ( */) return null;
  const close = payload.indexOf(')');
  if (close < 0) return null;
  const loc = payload.slice(1, close);
  if (loc.length === 0) return null;
  const args = parseProbeArgs(payload, close + 1);
  const arrow = loc.indexOf(' <- ');
  if (arrow >= 0) {
    // kretprobe / fexit (K-kprobe print_kretprobe_event, K-fprobe print_fexit_event)
    const callerText = loc.slice(0, arrow);
    const func = loc.slice(arrow + 4);
    const caller = callerText.startsWith('[unknown') ? null : callerText;
    const retText = args.ret ?? args.arg1 ?? args.retval;
    const ret = retText === undefined ? null : parseSignedInt(retText);
    const kind = name.endsWith('__exit') ? 'fexit' : 'kretprobe';
    return makeEvent(kind, name, ctx, { func: func || null, caller, args, ret });
  }
  const kind = name.endsWith('__entry') ? 'fentry' : 'kprobe';
  const plus = loc.indexOf('+0x');
  if (plus > 0) {
    const slash = loc.indexOf('/', plus);
    const offset = parseInt(loc.slice(plus + 3, slash < 0 ? undefined : slash), 16);
    return makeEvent(kind, name, ctx, { func: loc.slice(0, plus), offset: Number.isFinite(offset) ? offset : null, address: null, args });
  }
  if (/^(0x)?[0-9a-fA-F]+$/.test(loc)) {
    const address = loc.startsWith('0x') ? loc.toLowerCase() : `0x${loc.toLowerCase()}`;
    return makeEvent(kind, name, ctx, { func: null, offset: null, address, args });
  }
  // eprobe `(syscalls.sys_enter_openat)` or a bare symbol
  if (/^[\w.]+$/.test(loc)) return makeEvent(kind, name, ctx, { func: loc, offset: null, address: null, args });
  return null;
}

/** A signed decimal integer in text[start, end), spaces around allowed; NaN otherwise. */
function intAt(text: string, start: number, end: number): number {
  while (start < end && text.charCodeAt(start) === 32) start++;
  while (end > start && text.charCodeAt(end - 1) === 32) end--;
  let neg = false;
  if (text.charCodeAt(start) === 45 /* - */) {
    neg = true;
    start++;
  }
  if (start >= end || end - start > 15) return NaN;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

/** Index just past the `)` that closes the payload, ignoring trailing spaces; -1 if none. */
function closingParen(payload: string): number {
  let end = payload.length;
  while (end > 0 && payload.charCodeAt(end - 1) === 32) end--;
  return end > 0 && payload.charCodeAt(end - 1) === 41 ? end - 1 : -1;
}

/** `module_get`/`module_put`: `"%s call_site=%ps refcnt=%d"` (include/trace/events/module.h). */
function decodeModuleRef(kind: 'module_get' | 'module_put', name: string, payload: string, ctx: EventContext): TraceEvent | null {
  const cs = payload.indexOf(' call_site=');
  const rc = payload.lastIndexOf(' refcnt=');
  if (cs <= 0 || rc < cs) return null;
  let refcnt = intAt(payload, rc + 8, payload.length);
  if (Number.isNaN(refcnt)) {
    // More digits than intAt reads: still a module_get/put, which ParserEnv.emit skips as out of range.
    const digits = payload.slice(rc + 8).trim();
    if (!/^-?\d+$/.test(digits)) return null;
    refcnt = Number(digits);
  }
  return makeEvent(kind, name, ctx, { module: interned.slice(payload, 0, cs), callSite: interned.slice(payload, cs + 11, rc), refcnt });
}

/** `"%p (flags=%s)"` (include/trace/events/lock.h) */
function decodeContentionBegin(name: string, payload: string, ctx: EventContext): TraceEvent | null {
  const sp = payload.indexOf(' ');
  if (sp < 0) return null;
  let open = sp + 1;
  while (payload.charCodeAt(open) === 32) open++;
  const close = closingParen(payload);
  if (close < 0 || !payload.startsWith('(flags=', open)) return null;
  const ptr = normalizePointer(interned.slice(payload, 0, sp));
  if (!ptr) return null;
  const flags = parseLcbFlags(payload.slice(open + 7, close));
  if (Number.isNaN(flags)) return null;
  return makeEvent('contention_begin', name, ctx, { lock: ptr.lock, hashed: ptr.hashed, flags, flagNames: lcbFlagNames(flags) });
}

/** `"%p (ret=%d)"` */
function decodeContentionEnd(name: string, payload: string, ctx: EventContext): TraceEvent | null {
  const sp = payload.indexOf(' ');
  if (sp < 0) return null;
  let open = sp + 1;
  while (payload.charCodeAt(open) === 32) open++;
  const close = closingParen(payload);
  if (close < 0 || !payload.startsWith('(ret=', open)) return null;
  const ret = intAt(payload, open + 5, close);
  if (Number.isNaN(ret)) return null;
  const ptr = normalizePointer(interned.slice(payload, 0, sp));
  if (!ptr) return null;
  return makeEvent('contention_end', name, ctx, { lock: ptr.lock, hashed: ptr.hashed, ret });
}

/** lockdep events: `"%p %s%s%s"` (acquire: `try `, `read ` prefixes) and `"%p %s"` (§1.11). */
function decodeLockdep(
  kind: 'lock_acquire' | 'lock_release' | 'lock_contended' | 'lock_acquired' | 'contended_release',
  name: string,
  payload: string,
  ctx: EventContext,
): TraceEvent | null {
  const sp = payload.indexOf(' ');
  const ptr = normalizePointer(sp < 0 ? payload : interned.slice(payload, 0, sp));
  if (!ptr) return null;
  if (kind === 'contended_release') return makeEvent(kind, name, ctx, { lock: ptr.lock, hashed: ptr.hashed });
  if (sp < 0) return null;
  let nameStart = sp + 1;
  if (kind !== 'lock_acquire') return makeEvent(kind, name, ctx, { lock: ptr.lock, hashed: ptr.hashed, lockName: interned.slice(payload, nameStart, payload.length) });
  let isTry = false;
  let read = false;
  if (payload.startsWith('try ', nameStart)) {
    isTry = true;
    nameStart += 4;
  }
  if (payload.startsWith('read ', nameStart)) {
    read = true;
    nameStart += 5;
  }
  return makeEvent(kind, name, ctx, { lock: ptr.lock, hashed: ptr.hashed, lockName: interned.slice(payload, nameStart, payload.length), read, try: isTry });
}

/**
 * sched_switch: kernel TP_printk form (`prev_comm=a prev_pid=1 prev_prio=120 prev_state=R ==> next_comm=b
 * next_pid=2 next_prio=120`; before 3.x the ` ==>` was absent and trace-cmd without its sched plugin
 * still prints such old formats: `prev_state=64 next_comm=swapper/6 …`), or trace-cmd's sched plugin
 * `a:1 [120] R ==> b:2 [120]`.
 */
function decodeSchedSwitch(name: string, payload: string, ctx: EventContext): TraceEvent | null {
  if (payload.startsWith('prev_comm=')) {
    const pp = payload.indexOf(' prev_pid=');
    const pr = payload.indexOf(' prev_prio=', pp);
    const ps = payload.indexOf(' prev_state=', pr);
    const nc = payload.indexOf(' next_comm=', ps);
    if (pp < 0 || pr < 0 || ps < 0 || nc < 0) return null;
    const np = payload.indexOf(' next_pid=', nc);
    const nr = payload.indexOf(' next_prio=', np);
    if (np < 0) return null;
    // The state ends at ` ==>` when the arrow is printed, at ` next_comm=` otherwise.
    const arrow = payload.lastIndexOf(' ==>', nc);
    const stateEnd = arrow > ps ? arrow : nc;
    return makeEvent('sched_switch', name, ctx, {
      prevComm: payload.slice(10, pp),
      prevPid: Number(payload.slice(pp + 10, pr)),
      prevState: payload.slice(ps + 12, stateEnd),
      nextComm: payload.slice(nc + 11, np),
      nextPid: Number(payload.slice(np + 10, nr < 0 ? undefined : nr)),
    });
  }
  const arrow = payload.indexOf(' ==> ');
  if (arrow < 0) return null;
  const side = (s: string): { comm: string; pid: number; state: string } | null => {
    const br = s.indexOf(' [');
    const head = br < 0 ? s : s.slice(0, br);
    const colon = head.lastIndexOf(':');
    if (colon < 0) return null;
    const close = s.indexOf('] ', br);
    return { comm: head.slice(0, colon), pid: Number(head.slice(colon + 1)), state: close < 0 ? '' : s.slice(close + 2).trim() };
  };
  const prev = side(payload.slice(0, arrow));
  const next = side(payload.slice(arrow + 5));
  if (!prev || !next || !Number.isInteger(prev.pid) || !Number.isInteger(next.pid)) return null;
  return makeEvent('sched_switch', name, ctx, {
    prevComm: prev.comm,
    prevPid: prev.pid,
    prevState: prev.state,
    nextComm: next.comm,
    nextPid: next.pid,
  });
}

/** `fd: 3, cmd: 0xba00, uargs: 0x55b998e152a0 ""` -> {fd: "3", ...} (K-sys print_syscall_enter). */
export function parseSyscallArgs(text: string): Record<string, string> {
  const args: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(': ', i);
    if (colon < 0) break;
    const key = text.slice(i, colon).trim();
    // The value runs to the next ", key: ".
    let next = text.indexOf(', ', colon + 2);
    while (next >= 0 && !/^[A-Za-z_]\w*: /.test(text.slice(next + 2, next + 40))) next = text.indexOf(', ', next + 2);
    const end = next < 0 ? text.length : next;
    args[key] = text.slice(colon + 2, end);
    i = next < 0 ? text.length : next + 2;
  }
  return args;
}

function syscallRet(text: string): number | null {
  const t = text.trim();
  return parseSignedInt(t);
}

/** `tracing_mark_write: text` and trace-cmd's `print: tracing_mark_write: text`. */
function decodeMarker(name: string, payload: string, ctx: EventContext): TraceEvent {
  let text = payload;
  if (name === 'print' && text.startsWith('tracing_mark_write: ')) text = text.slice(20);
  return makeEvent('marker', name, ctx, { text });
}

/** Function tracer: `sym <-parent` with optional ` (repeats: N, last_ts: T)` (K-out print_fn_trace). */
export function decodeFunction(name: string, text: string, ctx: EventContext): TraceEvent {
  let body = text;
  let repeats: number | null = null;
  const rp = body.indexOf(' (repeats: ');
  if (rp >= 0) {
    const comma = body.indexOf(',', rp);
    const n = Number(body.slice(rp + 11, comma < 0 ? undefined : comma));
    if (Number.isInteger(n)) repeats = n;
    body = body.slice(0, rp);
  }
  const arrow = body.indexOf(' <-');
  let func = arrow < 0 ? body.trim() : body.slice(0, arrow);
  let parent: string | null = null;
  if (arrow >= 0) {
    let rest = body.slice(arrow + 3);
    if (rest.startsWith('- ')) rest = rest.slice(2); // trace-cmd -O parent prints ` <-- parent`
    const sp = rest.indexOf(' ');
    parent = sp < 0 ? rest : rest.slice(0, sp); // objtrace triggers append text after the parent
  }
  if (func === '') func = text;
  return makeEvent('function', name, ctx, { func, parent, repeats });
}

/** Tracepoint decoders by event name (the TP_printk formats of §1.11). */
type Decoder = (name: string, payload: string, ctx: EventContext) => TraceEvent | null;
const DECODERS: Record<string, Decoder> = {
  module_get: (n, p, c) => decodeModuleRef('module_get', n, p, c),
  module_put: (n, p, c) => decodeModuleRef('module_put', n, p, c),
  module_load: (n, p, c) => {
    const t = p.trim();
    if (!t) return null;
    const sp = t.indexOf(' ');
    // `"%s %s"`: trailing space when the taint set is empty (§1.11).
    return makeEvent('module_load', n, c, { module: sp < 0 ? t : t.slice(0, sp), taints: sp < 0 ? '' : t.slice(sp + 1) });
  },
  module_free: (n, p, c) => (p.trim() ? makeEvent('module_free', n, c, { module: p.trim() }) : null),
  module_request: (n, p, c) => {
    const m = /^(\S+) wait=(-?\d+) call_site=(.+)$/.exec(p);
    return m ? makeEvent('module_request', n, c, { module: m[1], wait: Number(m[2]), callSite: m[3] }) : null;
  },
  contention_begin: decodeContentionBegin,
  contention_end: decodeContentionEnd,
  lock_acquire: (n, p, c) => decodeLockdep('lock_acquire', n, p, c),
  lock_release: (n, p, c) => decodeLockdep('lock_release', n, p, c),
  lock_contended: (n, p, c) => decodeLockdep('lock_contended', n, p, c),
  lock_acquired: (n, p, c) => decodeLockdep('lock_acquired', n, p, c),
  contended_release: (n, p, c) => decodeLockdep('contended_release', n, p, c),
  sched_switch: decodeSchedSwitch,
  // trace-cmd names the stack entries by their ftrace event (`kernel_stack: <stack trace>`); the
  // frames follow on `=> sym (addr)` lines, as after the trace file's bare `<stack trace>`.
  kernel_stack: (n, p, c) => (p.trim() === '<stack trace>' ? makeEvent('stack', n, c, { frames: [] }) : null),
  user_stack: (n, p, c) => (p.trim() === '<user stack trace>' ? makeEvent('stack', n, c, { frames: [] }) : null),
  tracing_mark_write: (n, p, c) => decodeMarker(n, p, c),
  print: (n, p, c) => decodeMarker(n, p, c),
  function: (n, p, c) => decodeFunction(n, p.trim(), c),
  sys_enter: (n, p, c) => {
    // raw_syscalls: `NR %ld (%lx, ...)`
    const m = /^NR (-?\d+) \((.*)\)$/.exec(p);
    return m ? makeEvent('syscall_enter', n, c, { syscall: `NR ${m[1]}`, args: { args: m[2] } }) : null;
  },
  sys_exit: (n, p, c) => {
    const m = /^NR (-?\d+) = (-?\d+)$/.exec(p);
    return m ? makeEvent('syscall_exit', n, c, { syscall: `NR ${m[1]}`, ret: Number(m[2]) }) : null;
  },
};

/**
 * Decode `name: payload`. Known tracepoints first; a payload in probe shape `(…)` is a dynamic
 * probe even when its name is a tracepoint's: the lab's kprobe on `module_put` prints
 * `module_put: (module_put+0x4/0x90) mod=…` beside the tracepoint's `module_put: luo_demo call_site=…`
 * (real README §4, O3). Everything else is `generic`.
 */
export function decodeNamedEvent(name: string, payload: string, ctx: EventContext): TraceEvent {
  const decoder = Object.hasOwn(DECODERS, name) ? DECODERS[name] : undefined;
  if (decoder) {
    const ev = decoder(name, payload, ctx);
    if (ev) return ev;
  }
  if (payload.charCodeAt(0) === 40 /* ( */) {
    const probe = decodeProbe(name, payload, ctx);
    if (probe) return probe;
  }
  // A known event whose payload did not parse falls through to `generic` below.
  if (decoder === undefined && name.startsWith('sys_enter_')) {
    // trace-cmd renders syscall events with their print fmt: `sys_enter_ioctl: fd: 0x00000003, ...`
    return makeEvent('syscall_enter', name, ctx, { syscall: name.slice(10), args: parseSyscallArgs(payload) });
  } else if (decoder === undefined && name.startsWith('sys_exit_')) {
    const ret = syscallRet(payload);
    if (ret !== null) return makeEvent('syscall_exit', name, ctx, { syscall: name.slice(9), ret });
  }
  return makeEvent('generic', name, ctx, { payload });
}

/**
 * Tracefs prints syscall events without the `sys_enter_x: ` prefix (real README §4):
 * `sys_ioctl(fd: 3, cmd: 0xba00, arg: 0x7ffe1f35c010)` and `sys_ioctl -> 0x0`. The event is named
 * as the kernel names it (`sys_enter_ioctl`, `sys_exit_ioctl`) so all renderings count alike.
 */
export function decodeTracefsSyscall(rest: string, identEnd: number, ctx: EventContext): TraceEvent | null {
  const ident = rest.slice(0, identEnd);
  if (!ident.startsWith('sys_')) return null;
  const syscall = ident.slice(4);
  if (rest.charCodeAt(identEnd) === 40 /* ( */) {
    const close = rest.lastIndexOf(')');
    if (close < identEnd) return null;
    return makeEvent('syscall_enter', `sys_enter_${syscall}`, ctx, { syscall, args: parseSyscallArgs(rest.slice(identEnd + 1, close)) });
  }
  if (rest.startsWith(' -> ', identEnd)) {
    const ret = syscallRet(rest.slice(identEnd + 4));
    if (ret === null) return null;
    return makeEvent('syscall_exit', `sys_exit_${syscall}`, ctx, { syscall, ret });
  }
  return null;
}

/** Length of the event-name identifier at the start of `rest` (letters, digits, `_`, `.`). */
export function identLength(rest: string): number {
  let i = 0;
  for (; i < rest.length; i++) {
    const c = rest.charCodeAt(i);
    if (!(c === 95 || c === 46 || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122))) break;
  }
  return i;
}

/**
 * Decode the text after the context prefix of an ftrace line (or the text of a tp_printk console
 * line): `name: payload`, syscall forms, function-tracer `foo <-bar`, `<stack trace>`.
 */
export function decodeRest(rest: string, ctx: EventContext): TraceEvent {
  const n = identLength(rest);
  if (n > 0) {
    const c = rest.charCodeAt(n);
    if (c === 58 /* : */ && (n + 1 === rest.length || rest.charCodeAt(n + 1) === 32)) {
      const name = interned.slice(rest, 0, n);
      let p = n + 2;
      // trace-cmd pads the event name to 20 columns; the payload starts after the padding.
      while (rest.charCodeAt(p) === 32) p++;
      return decodeNamedEvent(name, p >= rest.length ? '' : rest.slice(p), ctx);
    }
    if (c === 40 /* ( */ || c === 32) {
      const sys = decodeTracefsSyscall(rest, n, ctx);
      if (sys) return sys;
    }
  }
  if (rest === '<stack trace>' || rest === '<user stack trace>') {
    return makeEvent('stack', rest === '<stack trace>' ? 'stack_trace' : 'user_stack_trace', ctx, { frames: [] });
  }
  // Function tracer lines have no `": "` after the function (§1.6).
  if (rest.indexOf(' <-') >= 0 || (n === rest.length && n > 0) || /^\S+\+0x[0-9a-f]+\/0x[0-9a-f]+$/.test(rest)) {
    return decodeFunction('function', rest, ctx);
  }
  const ctxWake = decodeCtxWake(rest, ctx);
  if (ctxWake) return ctxWake;
  const colon = rest.indexOf(': ');
  if (colon > 0) return decodeNamedEvent(rest.slice(0, colon), rest.slice(colon + 2), ctx);
  return makeEvent('generic', '', ctx, { payload: rest });
}

/**
 * The wakeup tracers' own switch and wakeup records (kernel/trace/trace_output.c
 * trace_ctxwake_print: `"%7d:%3d:%c %s [%03d] %7d:%3d:%c %s"`, `%5d` before 5.x), e.g.
 * `     0:120:R ==> [002]  5882: 94:R sleep` (a switch to sleep) and `0:120:R   + [003]  2389: 94:R sleep`
 * (a wakeup of sleep on CPU 3). They are the ftrace events `context_switch` and `wakeup`; the switch
 * is a sched_switch from the line's task.
 */
const CTX_WAKE = /^\s*(\d+):\s*(\d+):(\S) +(==>|\+) \[(\d+)\]\s+(\d+):\s*(\d+):(\S) (.*)$/;

function decodeCtxWake(rest: string, ctx: EventContext): TraceEvent | null {
  const m = CTX_WAKE.exec(rest);
  if (!m) return null;
  if (m[4] === '+') return makeEvent('generic', 'wakeup', ctx, { payload: rest.trim() });
  return makeEvent('sched_switch', 'context_switch', ctx, {
    prevComm: ctx.comm ?? '',
    prevPid: Number(m[1]),
    prevState: m[3],
    nextComm: m[9],
    nextPid: Number(m[6]),
  });
}
