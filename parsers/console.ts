// Serial console / dmesg logs, with `tp_printk` trace lines among the printk messages.
//
// With `tp_printk` on the kernel command line and `kernel.tracepoint_printk=1`, trace events are
// written to the kernel log instead of the ring buffer: `[  120.478501] liveupdate_reboot:
// (liveupdate_reboot+0x4/0x30)`. The freeze phase inside `kexec -e` survives only there (real
// README §3.1 step 5, O12): the ring buffer is gone once the new kernel runs. A console log also
// holds ordinary printk lines (kept as `printk` events), userspace output written to the same
// serial line (skipped as `console-text`), and every boot of the machine: `Linux version …` at
// time 0 starts a new kernel, emitted as a `boot` event so analyses can split the log per boot.
import type { TraceEvent } from './event.js';
import { type EventContext, decodeRest, makeEvent } from './payloads.js';

// `[  120.478501] text`, optionally after a syslog `<6>` level; anchored, no backtracking.
const KMSG = /\[\s*(\d+)\.(\d+)\] ?/;

/** Kinds a tp_printk line can decode to; anything else is an ordinary printk message. */
const TRACE_KINDS = new Set([
  'module_get', 'module_put', 'module_load', 'module_free', 'module_request',
  'contention_begin', 'contention_end', 'lock_acquire', 'lock_release', 'lock_contended',
  'lock_acquired', 'contended_release', 'kprobe', 'kretprobe', 'fentry', 'fexit', 'sched_switch',
]);

export type ConsoleLineResult = { event: TraceEvent; glued: boolean } | null;

export function looksLikeConsoleLine(line: string): boolean {
  return /^(<\d+>)?\[\s*\d+\.\d+\] /.test(line);
}

/**
 * Decode one console line. Returns null when the line holds no kernel message. `glued` is set when
 * the kernel message starts mid-line, after userspace output that had no newline.
 */
export function parseConsoleLine(
  line: string,
  ctxBase: EventContext,
  toNs: (text: string, start: number, dot: number, end: number) => number,
): ConsoleLineResult {
  const m = KMSG.exec(line);
  if (!m) return null;
  const prefix = line.slice(0, m.index);
  const glued = !(prefix === '' || /^<\d+>$/.test(prefix));
  const start = m.index + m[0].indexOf(m[1]);
  const dot = start + m[1].length;
  const time = toNs(line, start, dot, dot + 1 + m[2].length);
  const text = line.slice(m.index + m[0].length);
  const ctx: EventContext = { ...ctxBase, time };
  if (text.startsWith('Linux version ')) return { event: makeEvent('boot', 'boot', ctx, { text }), glued };
  if (text.length > 0 && text.charCodeAt(0) !== 32) {
    const ev = decodeRest(text, ctx);
    if (TRACE_KINDS.has(ev.kind)) return { event: ev, glued };
  }
  return { event: makeEvent('printk', 'printk', ctx, { text }), glued };
}

/** Line parser for console and dmesg logs. */
export class ConsoleParser {
  private readonly toNs: (text: string, start: number, dot: number, end: number) => number;
  constructor(private readonly env: import('./parser.js').ParserEnv) {
    this.toNs = (text, start, dot, end) => env.clock.decimal(text, start, dot, end);
  }

  line(text: string, lineNo: number, unterminated: boolean): void {
    const env = this.env;
    if (text.trim().length === 0) {
      env.ledger.knownLine('blank', env.file, lineNo);
      return;
    }
    const r = parseConsoleLine(text, env.context(lineNo), this.toNs);
    if (!r) {
      // Userspace output on the serial line (init scripts, the test program): not kernel log.
      env.ledger.skip('console-text', env.file, lineNo, text);
      return;
    }
    if (unterminated && r.event.kind !== 'printk' && r.event.kind !== 'boot') {
      env.ledger.note(`${env.file}: the last line has no newline; it decoded completely and was kept`);
    }
    if (r.glued) env.ledger.note(`${env.file}: some kernel messages start mid-line after userspace output (first at line ${lineNo})`);
    env.emit(r.event);
  }

  finish(): void {}
}
