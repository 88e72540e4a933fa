// Renderers: one record → one line, in the exact text each tool prints.
//
// - ftrace `trace` / `trace_pipe` (kernel/trace/trace_output.c trace_print_context; docs/trace-formats.md
//   §1.2–§1.5, §1.10, §1.11): comm `%16s`, pid `%-7d` (`%-5d` on old 4-flag kernels), TGID
//   `(%7d) ` / old `(%5d) `, `[%03d] `, the flag column, ` %5lu.%06lu` or ` %12llu`, `: `, payload.
//   Lock pointers are hashed `%p` (O2); kprobes print `(func+0x4/0xSIZE)`, kretprobes
//   `([unknown/kretprobe'd] <- func)` (O3); syscalls `sys_ioctl(fd: 3, …)` / `sys_ioctl -> 0x0`.
// - trace-cmd report 3.1.6 (docs/trace-formats.md §2, and the real trace-cmd-report.txt): `cpus=N`,
//   pid `%-5d`, no flag column, event name + `:` padded to 21 columns, raw `0x` pointers, entry
//   kprobes `(ffffffff813024a4)`, return probes `(ffffffff813024a4 <- ffffffff81252c00)`,
//   `sys_enter_ioctl: fd: 0x00000003, …`.
// - bpftrace 0.17 text / `-f json` with the lab's luo_events.bt (its printf formats, its filters:
//   lockdep only for the four LUO rwsems, no syscalls).
// - console with tp_printk: `[%5lu.%06lu] payload` (real README §3.1 step 5, O12).
import { F_PRE_INT, type Fn, KFN, KRETPROBE_TRAMPOLINE, type Lock, RETURN_TO_HANDLER, type SysDef, hash32 } from './kernel.js';
import {
  K_CONT_BEGIN,
  K_CONT_END,
  K_KPROBE,
  K_KRETPROBE,
  K_LOCK_ACQUIRE,
  K_LOCK_RELEASE,
  K_MODFREE,
  K_MODLOAD,
  K_MODPROBE,
  K_MODREF,
  K_PRINTK,
  K_RWPROBE,
  K_SYS_ENTER,
  K_SYS_EXIT,
  FLAG_COUNT,
  FLAG_STRINGS,
  type ModuleState,
  type Rec,
  type Task,
} from './sim.js';

export const OUTPUT_FORMATS = ['ftrace', 'trace-pipe', 'trace-cmd', 'bpftrace', 'bpftrace-json', 'console'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
export const CLOCKS = ['local', 'global', 'mono', 'counter', 'uptime', 'x86-tsc'] as const;
export type ClockKind = (typeof CLOCKS)[number];

export interface RenderOptions {
  format: OutputFormat;
  cpus: number;
  /** options/record-tgid. */
  tgid: boolean;
  /** options/irq-info (the flag columns). */
  irqInfo: boolean;
  /** 5 flag columns (≥ 5.13) or the old 4 (3.x … 5.12, with `%-5d` pids and the old header). */
  flagCols: 4 | 5;
  /** lockdep lock_acquire/lock_release enabled (only the lab's main/pipe/tgid instances had them). */
  lockdep: boolean;
  clock: ClockKind;
  /** x86-tsc: counter value at time 0 (decimal; 20 digits allowed). */
  tscBase: bigint;
  /** The function_graph instance was active: some return probes print return_to_handler (O3). */
  fgraph: boolean;
  /** trace-cmd: print the latency flag column (newer trace-cmd does, 3.1.6 did not). */
  tcFlags: boolean;
  /** Seed of the per-boot `%p` hash key. */
  bootSeed: number;
  /** Pre-series kernel: the unregister functions return int. */
  pre: boolean;
}

const P3: string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/** Node's Buffer has a fast latin1Write (what buf.write(s, o, 'latin1') calls); @types/node lacks it. */
export type LatinBuffer = Buffer & { latin1Write(text: string, offset: number): number };

function bytes(s: string): Uint8Array {
  return Buffer.from(s, 'latin1');
}

/** Copy a cached byte string: a loop for tiny ones, TypedArray.set (a memcpy) otherwise. */
function put(src: Uint8Array, b: Uint8Array, off: number): number {
  const n = src.length;
  if (n <= 16) {
    for (let i = 0; i < n; i++) b[off + i] = src[i];
  } else b.set(src, off);
  return off + n;
}

/** Decimal digits of an integer, written in place. */
function putInt(n: number, b: Uint8Array, off: number): number {
  if (n < 0) {
    b[off++] = 45;
    n = -n;
  }
  if (n < 10) {
    b[off] = 48 + n;
    return off + 1;
  }
  let len = 1;
  for (let v = n; v >= 10; v = Math.floor(v / 10)) len++;
  for (let i = len - 1; i >= 0; i--) {
    b[off + i] = 48 + (n % 10);
    n = Math.floor(n / 10);
  }
  return off + len;
}

/** Decimal strings of small integers (refcnt, ret), built once. */
const SMALL: string[] = Array.from({ length: 4096 }, (_, i) => String(i));
function dec(n: number): string {
  return n >= 0 && n < 4096 ? SMALL[n] : String(n);
}

const LCB: Array<[number, string]> = [
  [1, 'SPIN'],
  [2, 'READ'],
  [4, 'WRITE'],
  [8, 'RT'],
  [16, 'PERCPU'],
  [32, 'MUTEX'],
];
function lcbNames(mask: number): string {
  return LCB.filter(([b]) => mask & b)
    .map(([, n]) => n)
    .join('|');
}

/** `-> 0x…` of a syscall return: the unsigned 64-bit value in hex. */
const retHexCache = new Map<number, string>();
export function hex64(v: number): string {
  let s = retHexCache.get(v);
  if (s === undefined) {
    s = BigInt.asUintN(64, BigInt(v)).toString(16);
    retHexCache.set(v, s);
  }
  return s;
}

/** Which clock offsets apply (real README O9: global −19.7 ms, mono −68.7 ms from local). */
const CLOCK_OFFSET_NS: Record<string, number> = { local: 0, global: -19_749_000, mono: -68_738_000 };

export abstract class Renderer {
  constructor(readonly o: RenderOptions) {}
  /** Does this format print the record at all? */
  abstract include(r: Rec): boolean;
  /** The line, without its end-of-line. */
  abstract line(r: Rec): string;
  /** The event name a parser of this format reports (data-quality `kinds`). */
  abstract eventName(r: Rec): string;
  /** Event lines are events, except userspace text on a console (no kernel timestamp). */
  isEvent(_r: Rec): boolean {
    return true;
  }
  /** Renderers with a byte-level fast path say so (see FtraceRenderer.writeBytes). */
  get fast(): boolean {
    return false;
  }
  /** Write the line's bytes at `off` (capacity guaranteed by the caller); returns the end offset. */
  writeBytes(r: Rec, b: Buffer, off: number): number {
    return off + (b as LatinBuffer).latin1Write(this.line(r), off);
  }
  /** Lines before the first event. */
  header(_counts: { inBuffer: number; written: number } | null, _firstTime: number): string[] {
    return [];
  }
  footer(_lastTime: number): string[] {
    return [];
  }
  /** A lost-events marker for `cpu`, or null when the format has no such line. */
  lostMarker(_cpu: number, _count: number | null): string | null {
    return null;
  }
  bufferStarted(_cpu: number): string | null {
    return null;
  }
  /** What the format's parser counts the first-line label as (see core.ts LineClass). */
  get labelIsHeader(): boolean {
    return true;
  }
}

/** ftrace-style names: kprobe events are named after the function, return probes `<func>__return`. */
function ftraceName(r: Rec): string {
  switch (r.kind) {
    case K_KPROBE:
      return (r.a as Fn).name;
    case K_KRETPROBE:
      return (r.a as Fn).retName;
    case K_RWPROBE:
    case K_MODPROBE:
    case K_MODREF:
      return r.a as string;
    case K_MODLOAD:
      return 'module_load';
    case K_MODFREE:
      return 'module_free';
    case K_LOCK_ACQUIRE:
      return 'lock_acquire';
    case K_LOCK_RELEASE:
      return 'lock_release';
    case K_CONT_BEGIN:
      return 'contention_begin';
    case K_CONT_END:
      return 'contention_end';
    case K_SYS_ENTER:
      return (r.a as SysDef).enterName;
    case K_SYS_EXIT:
      return (r.a as SysDef).exitName;
    default:
      return 'printk';
  }
}

/** Slots of the per-lock payload cache (Lock.rc). */
const RC_RW: Record<string, number> = { down_read: 0, up_read: 1, down_write: 2, up_write: 3 };
const RC_ACQ = 4; // + lockdep bits (0..3)
const RC_REL = 8;
const RC_END = 9;
const RC_BEGIN = 16; // + LCB flags (0..63)

function lockCache(l: Lock): string[] {
  let c = l.rc;
  if (c === null) {
    c = [];
    l.rc = c;
  }
  return c;
}

function modCache(m: ModuleState): string[] {
  let c = m.rc;
  if (c === null) {
    c = [];
    m.rc = c;
  }
  return c;
}

/** `module_get: luo_demo call_site=X refcnt=` prefixes per (module, event, call site). */
function modRefPrefix(m: ModuleState, ev: string, site: string, make: () => string): string {
  let map = m.rcSite;
  if (map === null) {
    map = new Map();
    m.rcSite = map;
  }
  const key = ev === 'module_get' ? site : `-${site}`;
  let s = map.get(key);
  if (s === undefined) {
    s = make();
    map.set(key, s);
  }
  return s;
}

/** Shared by ftrace text and trace-cmd: the timestamp column. */
abstract class TextClockRenderer extends Renderer {
  private lastSec = -1;
  private lastSecStr = '';
  private counter = 0;
  protected readonly offsetNs: number;
  constructor(o: RenderOptions) {
    super(o);
    this.offsetNs = CLOCK_OFFSET_NS[o.clock] ?? 0;
  }

  /** ` %5lu.%06lu` for ns clocks, ` %12llu` for counter/uptime/x86-tsc (docs/trace-formats.md §1.5). */
  protected ts(tNs: number): string {
    switch (this.o.clock) {
      case 'counter':
        return ` ${String(++this.counter).padStart(12)}`;
      case 'uptime':
        // trace_clock_jiffies(): jiffies since boot in USER_HZ (100) ticks
        return ` ${String(Math.floor(tNs / 10_000_000)).padStart(12)}`;
      case 'x86-tsc': {
        // 2.4 GHz TSC: ticks = base + ns * 12 / 5 (exact integer arithmetic above 2^53)
        const ticks = this.o.tscBase + (BigInt(tNs) * 12n) / 5n;
        return ` ${ticks.toString().padStart(12)}`;
      }
      default: {
        const t = tNs + this.offsetNs;
        const sec = Math.floor(t / 1e9);
        if (sec !== this.lastSec) {
          this.lastSec = sec;
          this.lastSecStr = ` ${String(sec).padStart(5)}.`;
        }
        const us = Math.floor((t - sec * 1e9) / 1000);
        return this.lastSecStr + P3[Math.floor(us / 1000)] + P3[us % 1000];
      }
    }
  }
}

export class FtraceRenderer extends TextClockRenderer {
  private readonly flags4 = new Map<string, string>();
  private readonly kpHead: string[] = [];
  private readonly krHead: string[] = [];
  private readonly pidWidth: number;
  constructor(o: RenderOptions) {
    super(o);
    this.pidWidth = o.flagCols === 4 ? 5 : 7;
  }

  include(r: Rec): boolean {
    if (r.kind === K_PRINTK) return false;
    if (!this.o.lockdep && (r.kind === K_LOCK_ACQUIRE || r.kind === K_LOCK_RELEASE)) return false;
    return true;
  }

  eventName(r: Rec): string {
    return ftraceName(r);
  }

  private prefix(task: Task, cpu: number): string {
    const o = this.o;
    let s = `${task.comm.padStart(16)}-${String(task.pid).padEnd(this.pidWidth)} `;
    if (o.tgid) s += `(${String(task.tgid).padStart(o.flagCols === 4 ? 5 : 7)}) `;
    return `${s}[${String(cpu).padStart(3, '0')}] `;
  }

  private flagCol(flags: string): string {
    if (this.o.flagCols === 5) return flags;
    let f = this.flags4.get(flags);
    if (f === undefined) {
      // Old kernels: no migrate-disable column and no lazy need-resched chars (6.13 added l/B/L/b).
      const nr = flags[1] === 'B' ? 'N' : flags[1] === 'l' ? '.' : flags[1];
      f = flags[0] + nr + flags.slice(2, 4);
      this.flags4.set(flags, f);
    }
    return f;
  }

  override get fast(): boolean {
    return this.o.clock === 'local' || this.o.clock === 'global' || this.o.clock === 'mono';
  }

  private secStr = '';
  private secOf = -1;
  private epoch = 0;
  private readonly kpHeadB: Uint8Array[] = [];
  private readonly krHeadB: Uint8Array[] = [];
  private static readonly RET = bytes(' ret=');

  /**
   * Byte-level fast path (the bench formats: `trace`, `trace_pipe`): cached byte strings for the
   * context prefix + flags and the payloads, digits written in place. Same bytes as line().
   */
  override writeBytes(r: Rec, b: Buffer, off: number): number {
    const task = r.task;
    const t = r.t + this.offsetNs;
    const sec = Math.floor(t / 1e9);
    if (sec !== this.secOf) {
      // Prefix caches hold `comm-pid [cpu] flags    SSS.`: renew them when the second changes.
      this.secOf = sec;
      this.secStr = ` ${String(sec).padStart(5)}.`;
      this.epoch++;
    }
    if (task.bepoch !== this.epoch) {
      task.bepoch = this.epoch;
      task.bcache = [];
    }
    const key = r.cpu * FLAG_COUNT + r.fl;
    let pre = task.bcache[key];
    if (pre === undefined) {
      let p = task.pcache[r.cpu];
      if (p === undefined) {
        p = this.prefix(task, r.cpu);
        task.pcache[r.cpu] = p;
      }
      pre = bytes((this.o.irqInfo ? p + this.flagCol(FLAG_STRINGS[r.fl]) : p) + this.secStr);
      task.bcache[key] = pre;
    }
    off = put(pre, b, off);
    let us = Math.floor((t - sec * 1e9) / 1000);
    for (let i = 5; i >= 0; i--) {
      b[off + i] = 48 + (us % 10);
      us = Math.floor(us / 10);
    }
    off += 6;
    b[off++] = 58;
    b[off++] = 32;
    switch (r.kind) {
      case K_KPROBE: {
        const fn = r.a as Fn;
        let h = this.kpHeadB[fn.id];
        if (h === undefined) {
          h = bytes(`${fn.name}: (${fn.name}+0x4/0x${fn.size.toString(16)})`);
          this.kpHeadB[fn.id] = h;
        }
        off = put(h, b, off);
        if (r.b !== '') {
          b[off++] = 32;
          off += (b as LatinBuffer).latin1Write(r.b as string, off);
        }
        return off;
      }
      case K_KRETPROBE: {
        const fn = r.a as Fn;
        let h = this.krHeadB[fn.id];
        if (h === undefined) {
          h = bytes(`${fn.retName}: (${kretCaller(fn, this.o.fgraph)} <- ${fn.name})`);
          this.krHeadB[fn.id] = h;
        }
        off = put(h, b, off);
        return returnsInt(fn, this.o.pre) ? putInt(r.n, b, put(FtraceRenderer.RET, b, off)) : off;
      }
      case K_RWPROBE:
      case K_LOCK_ACQUIRE:
      case K_LOCK_RELEASE:
      case K_CONT_BEGIN:
      case K_CONT_END: {
        if (r.kind === K_CONT_END && r.n !== 0) break;
        const l = r.lock as Lock;
        const slot = r.kind === K_RWPROBE ? RC_RW[r.a as string] : r.kind === K_LOCK_ACQUIRE ? RC_ACQ + r.n : r.kind === K_LOCK_RELEASE ? RC_REL : r.kind === K_CONT_END ? RC_END : RC_BEGIN + r.n;
        let c = l.rcb;
        if (c === null) {
          c = [];
          l.rcb = c;
        }
        let v = c[slot];
        if (v === undefined) {
          v = bytes(this.payload(r));
          c[slot] = v;
        }
        return put(v, b, off);
      }
      case K_MODPROBE: {
        const m = r.mod as ModuleState;
        let c = m.rcb;
        if (c === null) {
          c = [];
          m.rcb = c;
        }
        const slot = r.a === 'try_module_get' ? 0 : 1;
        let v = c[slot];
        if (v === undefined) {
          v = bytes(this.payload(r));
          c[slot] = v;
        }
        return put(v, b, off);
      }
      case K_MODREF: {
        const m = r.mod as ModuleState;
        let map = m.rcSiteB;
        if (map === null) {
          map = new Map();
          m.rcSiteB = map;
        }
        const key2 = r.a === 'module_get' ? (r.b as string) : `-${r.b as string}`;
        let v = map.get(key2);
        if (v === undefined) {
          v = bytes(`${r.a as string}: ${m.name} call_site=${r.b as string} refcnt=`);
          map.set(key2, v);
        }
        return putInt(r.n, b, put(v, b, off));
      }
      default:
        break;
    }
    return off + (b as LatinBuffer).latin1Write(this.payload(r), off);
  }

  line(r: Rec): string {
    const task = r.task;
    let pre = task.pcache[r.cpu];
    if (pre === undefined) {
      pre = this.prefix(task, r.cpu);
      task.pcache[r.cpu] = pre;
    }
    // One template literal, written with one latin1Write: measured fastest (a cons string is
    // cheap to flatten once; many small buffer writes are not).
    return this.o.irqInfo ? `${pre}${this.flagCol(FLAG_STRINGS[r.fl])}${this.ts(r.t)}: ${this.payload(r)}` : `${pre}${this.ts(r.t)}: ${this.payload(r)}`;
  }

  private hashOf(addr: string): string {
    return `00000000${hash32(addr, this.o.bootSeed).toString(16).padStart(8, '0')}`;
  }

  private raw(l: Lock): string {
    if (l.hashRaw === '') l.hashRaw = this.hashOf(l.addr);
    return l.hashRaw;
  }

  private dep(l: Lock): string {
    if (l.hashDep === '') l.hashDep = this.hashOf(l.dep);
    return l.hashDep;
  }

  payload(r: Rec): string {
    switch (r.kind) {
      case K_KPROBE: {
        const fn = r.a as Fn;
        const head = (this.kpHead[fn.id] ??= `${fn.name}: (${fn.name}+0x4/0x${fn.size.toString(16)})`);
        return r.b === '' ? head : `${head} ${r.b as string}`;
      }
      case K_KRETPROBE: {
        const fn = r.a as Fn;
        const head = (this.krHead[fn.id] ??= `${fn.retName}: (${kretCaller(fn, this.o.fgraph)} <- ${fn.name})`);
        return returnsInt(fn, this.o.pre) ? `${head} ret=${dec(r.n)}` : head;
      }
      case K_RWPROBE: {
        const op = r.a as keyof typeof KFN;
        const l = r.lock as Lock;
        return (lockCache(l)[RC_RW[op]] ??= `${op}: (${op}+0x4/0x${KFN[op].size.toString(16)}) sem=${l.addr}`);
      }
      case K_MODPROBE: {
        const op = r.a as 'try_module_get' | 'module_put';
        const m = r.mod as ModuleState;
        return (modCache(m)[op === 'try_module_get' ? 0 : 1] ??= `${op}: (${op}+0x4/0x${KFN[op].size.toString(16)}) mod=${m.addr} name="${m.name}"`);
      }
      case K_MODREF: {
        const m = r.mod as ModuleState;
        const ev = r.a as string;
        const site = r.b as string;
        return modRefPrefix(m, ev, site, () => `${ev}: ${m.name} call_site=${site} refcnt=`) + dec(r.n);
      }
      case K_MODLOAD:
        return `module_load: ${(r.mod as ModuleState).name} ${r.b as string}`;
      case K_MODFREE:
        return `module_free: ${(r.mod as ModuleState).name}`;
      case K_LOCK_ACQUIRE: {
        const l = r.lock as Lock;
        return (lockCache(l)[RC_ACQ + r.n] ??= `lock_acquire: ${this.dep(l)} ${r.n & 1 ? 'try ' : ''}${r.n & 2 ? 'read ' : ''}${l.name}`);
      }
      case K_LOCK_RELEASE: {
        const l = r.lock as Lock;
        return (lockCache(l)[RC_REL] ??= `lock_release: ${this.dep(l)} ${l.name}`);
      }
      case K_CONT_BEGIN: {
        const l = r.lock as Lock;
        return (lockCache(l)[RC_BEGIN + r.n] ??= `contention_begin: ${this.raw(l)} (flags=${lcbNames(r.n)})`);
      }
      case K_CONT_END: {
        const l = r.lock as Lock;
        return r.n === 0 ? (lockCache(l)[RC_END] ??= `contention_end: ${this.raw(l)} (ret=0)`) : `contention_end: ${this.raw(l)} (ret=${r.n})`;
      }
      case K_SYS_ENTER: {
        const sys = r.a as SysDef;
        return `sys_${sys.name}(${sysArgs(sys, r.b as unknown[], false)})`;
      }
      case K_SYS_EXIT:
        return `sys_${(r.a as SysDef).name} -> 0x${hex64(r.n)}`;
      default:
        return String(r.b);
    }
  }

  override header(counts: { inBuffer: number; written: number } | null): string[] {
    if (this.o.format !== 'ftrace') return [];
    const o = this.o;
    const c = counts ?? { inBuffer: 0, written: 0 };
    const h = ['# tracer: nop', '#', `# entries-in-buffer/entries-written: ${c.inBuffer}/${c.written}   #P:${o.cpus}`, '#'];
    return h.concat(columnHeader(o));
  }

  override lostMarker(cpu: number, count: number | null): string {
    return count === null ? `CPU:${cpu} [LOST EVENTS]` : `CPU:${cpu} [LOST ${count} EVENTS]`;
  }

  override bufferStarted(cpu: number): string {
    return `##### CPU ${cpu} buffer started ####`;
  }
}

/** The column-header block of the `trace` file (K-trace print_func_help_header[_irq], docs/trace-formats.md §1.2). */
export function columnHeader(o: RenderOptions): string[] {
  if (!o.irqInfo) {
    if (o.tgid) return ['#           TASK-PID       TGID    CPU#     TIMESTAMP  FUNCTION', '#              | |           |       |         |         |'];
    return ['#           TASK-PID     CPU#     TIMESTAMP  FUNCTION', '#              | |         |         |         |'];
  }
  if (o.flagCols === 4) {
    const sp = o.tgid ? '          ' : '  ';
    return [
      `#                          ${sp}  _-----=> irqs-off`,
      `#                          ${sp} / _----=> need-resched`,
      `#                          ${sp}| / _---=> hardirq/softirq`,
      `#                          ${sp}|| / _--=> preempt-depth`,
      `#                          ${sp}||| /     delay`,
      `#           TASK-PID ${o.tgid ? '   TGID   ' : '  '}CPU#  ||||    TIMESTAMP  FUNCTION`,
      `#              | |   ${o.tgid ? '     |    ' : '  '}  |   ||||       |         |`,
    ];
  }
  const sp = o.tgid ? '            ' : '  ';
  return [
    `#                            ${sp}  _-----=> irqs-off/BH-disabled`,
    `#                            ${sp} / _----=> need-resched`,
    `#                            ${sp}| / _---=> hardirq/softirq`,
    `#                            ${sp}|| / _--=> preempt-depth`,
    `#                            ${sp}||| / _-=> migrate-disable`,
    `#                            ${sp}|||| /     delay`,
    `#           TASK-PID  ${o.tgid ? '     TGID   ' : '  '} CPU#  |||||  TIMESTAMP  FUNCTION`,
    `#              | |    ${o.tgid ? '       |    ' : '  '}   |   |||||     |         |`,
  ];
}

function returnsInt(fn: Fn, pre: boolean): boolean {
  return fn.returns === 'int' || (pre && F_PRE_INT.has(fn.name));
}

function kretCaller(fn: Fn, fgraph: boolean): string {
  if (fn.retCaller === 'kretprobe') return "[unknown/kretprobe'd]";
  if (fgraph && FGRAPH_HOOKED.has(fn.name)) return 'return_to_handler+0x0/0x50';
  return fn.retCaller;
}

/** Return probes whose caller is hooked by the fgraph instance (lifecycle/abort captures, O3). */
const FGRAPH_HOOKED = new Set(['liveupdate_flb_put_incoming', 'liveupdate_flb_put_outgoing', 'luo_flb_unregister_all']);

/** Text address of `sym+0xOFF/0xSIZE` callers (trace-cmd prints the raw return address). */
const CALLER_ADDR: Record<string, number> = {
  luo_flb_file_unpreserve: 0x81303b40,
  luo_flb_file_finish: 0x81303b90,
  liveupdate_unregister_file_handler: 0x81302390,
  luo_session_serialize: 0x813047f0,
  liveupdate_reboot: 0x81302210,
  kernel_kexec: 0x81145a00,
};
function kretCallerAddr(fn: Fn, fgraph: boolean): number {
  if (fn.retCaller === 'kretprobe') return KRETPROBE_TRAMPOLINE;
  if (fgraph && FGRAPH_HOOKED.has(fn.name)) return RETURN_TO_HANDLER;
  const m = /^(\w+)\+0x([0-9a-f]+)\//.exec(fn.retCaller);
  return m ? (CALLER_ADDR[m[1]] ?? 0x81000000) + parseInt(m[2], 16) : KRETPROBE_TRAMPOLINE;
}

/**
 * Syscall arguments. tracefs (7.2): unsigned as decimal, hex-typed as `0x%x`, pointers as given, a
 * user string after its pointer (`uargs: 0x55b998e152a0 ""`). trace-cmd renders the event's print
 * fmt instead: every integer as `0x%08x`.
 */
function sysArgs(sys: SysDef, values: unknown[], traceCmd: boolean): string {
  const parts: string[] = [];
  for (let i = 0; i < sys.args.length; i++) {
    const [name, type] = sys.args[i];
    const v = values[i];
    let text: string;
    if (type === 'ps') {
      const [p, s] = v as [string, string];
      text = `${p} "${s}"`;
    } else if (type === 'p') {
      text = v as string;
    } else if (traceCmd) {
      text = `0x${((v as number) >>> 0).toString(16).padStart(8, '0')}`;
    } else if (type === 'x') {
      text = `0x${((v as number) >>> 0).toString(16)}`;
    } else {
      text = String(v);
    }
    parts.push(`${name}: ${text}`);
  }
  return parts.join(', ');
}

export class TraceCmdRenderer extends TextClockRenderer {
  private readonly names = new Map<string, string>();
  private readonly kpHead: string[] = [];
  private readonly krHead: string[] = [];

  include(r: Rec): boolean {
    if (r.kind === K_PRINTK) return false;
    if (!this.o.lockdep && (r.kind === K_LOCK_ACQUIRE || r.kind === K_LOCK_RELEASE)) return false;
    if ((r.kind === K_SYS_ENTER || r.kind === K_SYS_EXIT) && !(r.a as SysDef).inTraceCmd) return false;
    return true;
  }

  eventName(r: Rec): string {
    return ftraceName(r);
  }

  line(r: Rec): string {
    const task = r.task;
    let pre = task.pcache[r.cpu];
    if (pre === undefined) {
      pre = `${task.comm.padStart(16)}-${String(task.pid).padEnd(5)} [${String(r.cpu).padStart(3, '0')}]`;
      task.pcache[r.cpu] = pre;
    }
    const name = ftraceName(r);
    let head = this.names.get(name);
    if (head === undefined) {
      head = `${`${name}:`.padEnd(21)} `;
      this.names.set(name, head);
    }
    return `${pre}${this.o.tcFlags ? ` ${FLAG_STRINGS[r.fl]}` : ''}${this.ts(r.t)}: ${head}${this.payload(r)}`;
  }

  private payload(r: Rec): string {
    switch (r.kind) {
      case K_KPROBE: {
        const fn = r.a as Fn;
        const head = (this.kpHead[fn.id] ??= `(ffffffff${(fn.addr + 4).toString(16)})`);
        return r.b === '' ? head : `${head} ${r.b as string}`;
      }
      case K_KRETPROBE: {
        const fn = r.a as Fn;
        const head = (this.krHead[fn.id] ??= `(ffffffff${(fn.addr + 4).toString(16)} <- ffffffff${kretCallerAddr(fn, this.o.fgraph).toString(16)})`);
        return returnsInt(fn, this.o.pre) ? `${head} ret=${r.n}` : head;
      }
      case K_RWPROBE: {
        const op = r.a as keyof typeof KFN;
        const l = r.lock as Lock;
        return (lockCache(l)[RC_RW[op]] ??= `(ffffffff${(KFN[op].addr + 4).toString(16)}) sem=${l.addr}`);
      }
      case K_MODPROBE: {
        const op = r.a as 'try_module_get' | 'module_put';
        const m = r.mod as ModuleState;
        return (modCache(m)[op === 'try_module_get' ? 0 : 1] ??= `(ffffffff${(KFN[op].addr + 4).toString(16)}) mod=${m.addr} name="${m.name}"`);
      }
      case K_MODREF: {
        const m = r.mod as ModuleState;
        const site = r.b as string;
        return modRefPrefix(m, r.a as string, site, () => `${m.name} call_site=${site} refcnt=`) + r.n;
      }
      case K_MODLOAD:
        return `${(r.mod as ModuleState).name} ${r.b as string}`;
      case K_MODFREE:
        return (r.mod as ModuleState).name;
      case K_LOCK_ACQUIRE: {
        const l = r.lock as Lock;
        return (lockCache(l)[RC_ACQ + r.n] ??= `${l.dep} ${r.n & 1 ? 'try ' : ''}${r.n & 2 ? 'read ' : ''}${l.name}`);
      }
      case K_LOCK_RELEASE: {
        const l = r.lock as Lock;
        return (lockCache(l)[RC_REL] ??= `${l.dep} ${l.name}`);
      }
      case K_CONT_BEGIN: {
        const l = r.lock as Lock;
        return (lockCache(l)[RC_BEGIN + r.n] ??= `${l.addr} (flags=${lcbNames(r.n)})`);
      }
      case K_CONT_END: {
        const l = r.lock as Lock;
        return r.n === 0 ? (lockCache(l)[RC_END] ??= `${l.addr} (ret=0)`) : `${l.addr} (ret=${r.n})`;
      }
      case K_SYS_ENTER:
        return sysArgs(r.a as SysDef, r.b as unknown[], true);
      case K_SYS_EXIT:
        return `0x${hex64(r.n)}`;
      default:
        return String(r.b);
    }
  }

  override header(): string[] {
    return [`cpus=${this.o.cpus}`];
  }

  override lostMarker(cpu: number, count: number | null): string {
    return count === null ? `CPU:${cpu} [EVENTS DROPPED]` : `CPU:${cpu} [${count} EVENTS DROPPED]`;
  }
}

/**
 * Serial console with `tp_printk`: trace events become kernel log lines `[%5lu.%06lu] payload`
 * (the freeze phase inside `kexec -e`, real README §3.1 step 5); printk messages print as is.
 */
export class ConsoleRenderer extends Renderer {
  private readonly ft: FtraceRenderer;
  constructor(o: RenderOptions) {
    super(o);
    // No function_graph instance in the freeze phase: return probes print their real callers.
    this.ft = new FtraceRenderer({ ...o, fgraph: false, clock: 'local' });
  }
  include(r: Rec): boolean {
    return r.kind !== K_LOCK_ACQUIRE && r.kind !== K_LOCK_RELEASE && r.kind !== K_SYS_ENTER && r.kind !== K_SYS_EXIT;
  }
  eventName(r: Rec): string {
    return r.kind === K_PRINTK ? 'printk' : ftraceName(r);
  }
  override isEvent(r: Rec): boolean {
    return !(r.kind === K_PRINTK && r.n === 1);
  }
  line(r: Rec): string {
    const sec = Math.floor(r.t / 1e9);
    const us = Math.floor((r.t - sec * 1e9) / 1000);
    const stamp = `[${String(sec).padStart(5)}.${String(us).padStart(6, '0')}] `;
    if (r.kind === K_PRINTK) return r.n === 1 ? (r.b as string) : stamp + (r.b as string);
    return stamp + this.ft.payload(r);
  }
  override get labelIsHeader(): boolean {
    return false;
  }
}
