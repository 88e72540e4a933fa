// bpftrace text output (the default output mode): printf lines of the shape `<probe> key=value ...`,
// `Lost N events`, the `Attaching N probes...` / `Attached N probes` banner, warnings, and the maps
// printed at exit.
//
// Grammar: docs/trace-formats.md §3.1 (BT src/output/text.cpp) and the real captures (real README §2,
// O8): the lab's `luo_events.bt` prints one line per event, `<probe> ts=<ns> cpu= pid= tid= comm=`
// then the event's own fields, and the bundled `cli/record/luotrace.bt` prints the same shape.
// Any script a user writes that prints `printf("<probe> key=value ...\n")` is understood the same
// way (parsers/kv-record.ts maps it onto the ftrace kinds). Map output goes to parsers/bpftrace-maps.ts.
//
// bpftrace drains its per-CPU buffers in turn, so lines are NOT in time order across CPUs (they
// are within one CPU): the parser measures by how much and leaves a note; the analyze pipeline
// re-orders (analyses/stream/order.ts). `Lost N events` names no CPU and no position: it becomes a
// gap marker for the whole source.
import { BPFTRACE_INFO, BPFTRACE_LOST, hasContextKey, newPrintfTokens, PrintfMemo, tokenizePrintf } from './bpftrace-line.js';
import { MapCollector } from './bpftrace-maps.js';
import { interned } from './intern.js';
import { CONTEXT_KEYS, decodeRecord, splitKeyValues } from './kv-record.js';
import { type LineParser, type ParserEnv, isForeignText } from './parser.js';
import type { EventContext } from './payloads.js';
import { makeEvent } from './payloads.js';

/** Start/end markers of the lab's scripts and of the bundled script (`luo-bpftrace-start ts=...`). */
const MARKER = /^luo-bpftrace-(start|end)\b/;
/** A probe printed alone by bpftrace's `probe` builtin: a probe type (bpftrace(8) "Probes"), `:`, a target. */
const PROBE_TOKEN =
  /^(tracepoint|t|rawtracepoint|rt|kprobe|k|kretprobe|kr|uprobe|u|uretprobe|ur|usdt|U|fentry|f|fexit|fr|kfunc|kretfunc|software|s|hardware|h|profile|p|interval|i|watchpoint|w|asyncwatchpoint|aw|iter|it):[^\s=/][^\s=]*$/;

/** `@name[` or `@name[comm, ` at the end of a line: a key that continues with one stack frame per line. */
const OPEN_KEY = /^@\w*\[(?:[^\]]*, )?$/;
/** Frames held for one multi-line key (bpftrace prints up to 127 per stack, a key may hold two stacks). */
const MAX_KEY_LINES = 512;

/** Tracks how far out of time order a source is, overall and per CPU. */
class OrderStats {
  private newest = -Infinity;
  private readonly lastByCpu = new Map<number, number>();
  late = 0;
  maxLagNs = 0;
  cpuLate = 0;

  see(time: number, cpu: number | null): void {
    if (time < this.newest) {
      this.late++;
      if (this.newest - time > this.maxLagNs) this.maxLagNs = this.newest - time;
    } else {
      this.newest = time;
    }
    if (cpu !== null) {
      const last = this.lastByCpu.get(cpu);
      if (last !== undefined && time < last) this.cpuLate++;
      this.lastByCpu.set(cpu, time);
    }
  }
}

export class BpftraceTextParser implements LineParser {
  private readonly maps: MapCollector;
  private readonly order = new OrderStats();
  private undecodable = 0;
  /** Inside the `#` header `luotrace record` writes before bpftrace's output. */
  private inHeader = false;
  private firstUndecodable = '';
  /** The lines of a map key printed over several lines (`@name[` then frames), while it is open. */
  private stackKey: Array<{ text: string; lineNo: number }> | null = null;
  private readonly tok = newPrintfTokens();
  private readonly memo = new PrintfMemo();
  /** One context object, refilled per line of the fast path: makeEvent copies its fields. */
  private readonly ctx: EventContext;

  constructor(private readonly env: ParserEnv) {
    this.ctx = env.context(0);
    this.maps = new MapCollector(
      (ev) => env.emit(ev),
      (line) => env.context(line),
    );
  }

  line(text: string, lineNo: number, unterminated: boolean): void {
    const env = this.env;
    if (text.trim().length === 0) {
      this.maps.blank();
      env.ledger.knownLine('blank', env.file, lineNo);
      return;
    }
    if (lineNo === 1 && text.startsWith('# luotrace record')) this.inHeader = true;
    if (text.charCodeAt(0) === 35 /* # */ && (this.inHeader || text.startsWith('# luotrace'))) {
      // The header `luotrace record` writes (kernel, model, probes) and its closing `# luotrace: stopped` line.
      this.maps.flush();
      env.ledger.knownLine('header', env.file, lineNo, text);
      return;
    }
    this.inHeader = false;
    if (this.stackKey) {
      this.stackKeyLine(text, lineNo, unterminated);
      return;
    }
    if (this.maps.inBlock && this.maps.rowLine(text)) {
      env.ledger.knownLine('bpftrace-map-row', env.file, lineNo, text);
      return;
    }
    if (text.charCodeAt(0) === 64 /* @ */) {
      const wasOpen = this.maps.open;
      const before = this.maps.currentLine;
      if (this.maps.mapLine(text, lineNo)) {
        // The first line of a map is the map's event (emitted when the map ends); later lines are rows.
        if (wasOpen && this.maps.currentLine === before) env.ledger.knownLine('bpftrace-map-row', env.file, lineNo, text);
        return;
      }
      if (OPEN_KEY.test(text)) {
        this.stackKey = [{ text, lineNo }];
        return;
      }
    }
    this.maps.flush();
    this.printfLine(text, lineNo, unterminated);
  }

  /**
   * A line while a map key printed over several lines is open: a `kstack`/`ustack` key prints one
   * frame per line between `@name[` and `]: value` (or `]:` and histogram rows), e.g. biostacks.bt's
   * `@usecs[kstack]`. Frames are kept in the key, one per line; anything else ends the attempt and
   * the held lines are read as ordinary lines.
   */
  private stackKeyLine(text: string, lineNo: number, unterminated: boolean): void {
    const held = this.stackKey!;
    const close = /^(.*?)\](:.*)$/.exec(text);
    if (close && (close[1] === '' || close[1].startsWith(', '))) {
      this.stackKey = null;
      const open = held[0].text;
      const frames = held.slice(1).map((h) => h.text.trim());
      const tail = close[1].startsWith(', ') ? frames.concat(close[1].slice(2)) : frames;
      const key = open.slice(open.indexOf('[') + 1) + tail.join('\n');
      const single = `${open.slice(0, open.indexOf('[') + 1)}${key}]${close[2]}`;
      const env = this.env;
      const wasOpen = this.maps.open;
      const before = this.maps.currentLine;
      if (this.maps.mapLine(single, held[0].lineNo)) {
        if (wasOpen && this.maps.currentLine === before) env.ledger.knownLine('bpftrace-map-row', env.file, held[0].lineNo, open);
        for (const h of held.slice(1)) env.ledger.knownLine('continuation', env.file, h.lineNo, h.text);
        env.ledger.knownLine('bpftrace-map-row', env.file, lineNo, text);
        return;
      }
      this.replayHeld(held);
      this.line(text, lineNo, unterminated);
      return;
    }
    if (/^\s+\S/.test(text) && held.length < MAX_KEY_LINES) {
      held.push({ text, lineNo });
      return;
    }
    this.stackKey = null;
    this.replayHeld(held);
    this.line(text, lineNo, unterminated);
  }

  private replayHeld(held: Array<{ text: string; lineNo: number }>): void {
    this.maps.flush();
    for (const h of held) this.printfLine(h.text, h.lineNo, false);
  }

  /** One line of printf output (also used for the `printf` records of `-f json`). */
  printfLine(text: string, lineNo: number, unterminated: boolean): void {
    if (!unterminated && this.commonLine(text, lineNo)) return;
    const env = this.env;
    const lost = BPFTRACE_LOST.exec(text);
    if (lost) {
      env.lost(null, Number(lost[1]), 'bpftrace-lost', lineNo);
      return;
    }
    if (BPFTRACE_INFO.test(text) || MARKER.test(text) || text.startsWith('^C') || /Hit Ctrl-C to end\.?\s*$/.test(text)) {
      if (/^(ERROR|Error)/.test(text) || / ERROR: /.test(text)) env.ledger.note(`${env.file}:${lineNo}: bpftrace said: ${text.slice(0, 200)}`);
      env.ledger.knownLine('bpftrace-info', env.file, lineNo, text);
      return;
    }
    const sp = text.indexOf(' ');
    const probe = sp < 0 ? text : text.slice(0, sp);
    if (probe.length > 0 && probe.indexOf('=') < 0) {
      const kv = sp < 0 ? {} : splitKeyValues(text, sp + 1);
      if (kv && (sp >= 0 || PROBE_TOKEN.test(probe))) {
        if (unterminated && sp >= 0 && !('ts' in kv)) {
          // A cut last line that lost its fields (killed bpftrace): not trusted.
          env.ledger.skip('truncated-last-line', env.file, lineNo, text);
          env.ledger.truncated = true;
          return;
        }
        this.event(probe, kv, lineNo, text);
        return;
      }
    }
    if (isForeignText(text)) {
      env.ledger.skip('foreign-text', env.file, lineNo, text);
      return;
    }
    // printf output without the `probe key=value` shape, or prose around it (tool example files).
    env.ledger.skip('bpftrace-free-text', env.file, lineNo, text);
  }

  private event(probe: string, kv: Record<string, string>, lineNo: number, text: string): void {
    const env = this.env;
    const ctx: EventContext = env.context(lineNo);
    const args: Record<string, string> = {};
    for (const k in kv) {
      if (!CONTEXT_KEYS.has(k)) args[k] = kv[k];
    }
    const ts = kv.ts;
    if (ts !== undefined) {
      const dot = ts.indexOf('.');
      const t = dot < 0 ? env.clock.integer(ts, 0, ts.length, 'ns') : env.clock.decimal(ts, 0, dot, ts.length);
      ctx.time = Number.isNaN(t) ? null : t;
    }
    ctx.cpu = intField(kv.cpu);
    // ftrace's pid is the thread id and tgid the process id (docs/trace-formats.md §1.3); bpftrace's
    // `tid` is the thread and `pid` the process.
    if (kv.tid !== undefined) {
      ctx.pid = intField(kv.tid);
      ctx.tgid = intField(kv.pid);
    } else {
      ctx.pid = intField(kv.pid);
    }
    ctx.comm = kv.comm ?? null;
    if (ctx.time !== null) this.order.see(ctx.time, ctx.cpu);
    const ev = decodeRecord(probe, args, ctx);
    if ('error' in ev) this.undecodableEvent(ev.error, probe, args, ctx, text);
    else env.emit(ev);
  }

  /** A known event without the fields its kind needs: kept, as a bpftrace event, and said once. */
  private undecodableEvent(error: string, probe: string, args: Record<string, string>, ctx: EventContext, text: string): void {
    this.undecodable++;
    if (!this.firstUndecodable) this.firstUndecodable = `${error} (line ${ctx.line}: ${text.slice(0, 120)})`;
    this.env.emit(makeEvent('bpftrace', probe.slice(probe.lastIndexOf(':') + 1), ctx, { probe, args }));
  }

  /**
   * The fast path (bpftrace-line.ts): a line of the common shape, its context read in place and its
   * event taken from the memo when the same `probe` + `key=value ...` text was decoded before. The
   * same event as event() makes; false when the line is not of that shape (printfLine reads it).
   */
  private commonLine(text: string, lineNo: number): boolean {
    const t = this.tok;
    if (!tokenizePrintf(text, t) || text.indexOf('Ctrl-C') >= 0) return false;
    const probe = interned.slice(text, 0, t.probeEnd);
    const rest = text.slice(t.restStart);
    const hit = this.memo.find(probe, rest);
    let args: Record<string, string> | null = null;
    if (!hit) {
      args = t.restStart >= text.length ? {} : splitKeyValues(text, t.restStart);
      if (args === null || hasContextKey(args)) return false;
    }
    const env = this.env;
    const ctx = this.ctx;
    const time = env.clock.integer(text, t.tsStart, t.tsEnd, 'ns');
    ctx.time = Number.isNaN(time) ? null : time;
    ctx.cpu = t.cpu;
    ctx.pid = t.tid;
    ctx.tgid = t.pid;
    ctx.comm = interned.slice(text, t.commStart, t.commEnd);
    ctx.line = lineNo;
    if (ctx.time !== null) this.order.see(ctx.time, ctx.cpu);
    if (hit) {
      env.emit(makeEvent(hit.kind, hit.name, ctx, hit.fields));
      return true;
    }
    const ev = decodeRecord(probe, args as Record<string, string>, ctx);
    if ('error' in ev) {
      this.undecodableEvent(ev.error, probe, args as Record<string, string>, ctx, text);
      return true;
    }
    this.memo.store(probe, rest, ev);
    env.emit(ev);
    return true;
  }

  finish(): void {
    if (this.stackKey) {
      const held = this.stackKey;
      this.stackKey = null;
      this.replayHeld(held);
    }
    this.maps.flush();
    const env = this.env;
    const o = this.order;
    if (o.late > 0) {
      env.ledger.note(
        `${env.file}: bpftrace output is not in time order across CPUs: ${o.late} events came after later ones, by up to ${(o.maxLagNs / 1e9).toFixed(3)} s` +
          (o.cpuLate === 0 ? ' (each CPU is in order)' : `; ${o.cpuLate} are out of order within their CPU`),
      );
    }
    if (this.undecodable > 0) {
      env.ledger.note(`${env.file}: ${this.undecodable} lines name a known event but lack its fields; kept as bpftrace events (first: ${this.firstUndecodable})`);
    }
  }
}

function intField(text: string | undefined): number | null {
  if (text === undefined || !/^-?\d+$/.test(text)) return null;
  return Number(text);
}
