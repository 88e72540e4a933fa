// bpftrace `-f json` output: one JSON object per record (docs/trace-formats.md §3.2, BT src/output/json.cpp).
//
// Real `-f json` output is one object per line (NDJSON, real README O8: `{"type": "printf", "data":
// "...\n"}`, first `{"type": "attached_probes", "data": {"probes": 59}}`); bpftrace's own test
// expectations (samples/formats/bpftrace_testout_*.json) are the same objects pretty-printed over
// several lines, so objects are read by brace depth, not by line. Record types:
//   printf          data = the formatted text: cut at newlines and decoded like text output
//                   (parsers/bpftrace-text.ts); text without a newline waits for the next printf
//   map/hist/stats/tseries   -> `bpftrace_map` events (parsers/bpftrace-maps.ts)
//   lost_events     {"data": {"events": N}} (v0.24.x adds "count": N) -> a gap marker
//   attached_probes {"data": {"probes": N}} (v0.24.x adds "count")   -> banner
//   errorf/warnf/helper_error/runtime_error -> diagnostics (kept as notes)
// Anything that is not JSON (stderr captured into the same file) goes through the text parser.
import { z } from 'zod';
import { jsonMapEvents } from './bpftrace-maps.js';
import { BpftraceTextParser } from './bpftrace-text.js';
import type { LineParser, ParserEnv } from './parser.js';

/** The envelope every record shares; `data` is checked per type below. */
const JsonRecordSchema = z
  .object({
    type: z.string(),
    data: z.unknown().optional(),
    count: z.number().optional(),
    msg: z.string().optional(),
  })
  .passthrough();

const LostDataSchema = z.object({ events: z.number().int() }).passthrough();

/**
 * Deeper nesting than this is not bpftrace output (its deepest values, a tuple of records inside a
 * keyed map, are a handful of levels): skipped as `json-too-deep`, because re-serializing such a
 * value (jsonScalar) or any recursive walk of it would overflow the stack.
 */
const MAX_JSON_DEPTH = 64;

/** True when `v` nests objects/arrays deeper than `limit`; iterative, stops at the first too-deep path. */
export function jsonDeeperThan(v: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[v, 0]];
  while (stack.length > 0) {
    const [x, d] = stack.pop()!;
    if (typeof x !== 'object' || x === null) continue;
    if (d >= limit) return true;
    for (const child of Array.isArray(x) ? x : Object.values(x)) {
      if (typeof child === 'object' && child !== null) stack.push([child, d + 1]);
    }
  }
  return false;
}

/** How bpftrace prints a printf record (BT src/output/json.cpp), around its text. */
const PRINTF_HEAD = '{"type": "printf", "data": "';
const PRINTF_TAIL = '\\n"}';

/** printf text without a newline kept for the next record, at most (as parsers/input.ts caps a line). */
const MAX_PRINTF_CARRY = 1 << 20;

/** A pretty-printed object longer than this many lines is not bpftrace output we can hold. */
const MAX_RECORD_LINES = 200_000;

export class BpftraceJsonParser implements LineParser {
  private readonly text: BpftraceTextParser;
  /** Lines of an object that spans several lines, while its braces are open. */
  private pending: string[] | null = null;
  private pendingStart = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** printf text not ended by a newline yet, and the line of the record it came from. */
  private carry = '';
  private carryLine = 0;
  /** carryLine was already accounted for (the record also held complete lines): the carry adds none. */
  private carryAccounted = false;

  constructor(private readonly env: ParserEnv) {
    this.text = new BpftraceTextParser(env);
  }

  line(text: string, lineNo: number, unterminated: boolean): void {
    const env = this.env;
    if (this.pending) {
      this.pending.push(text);
      this.scan(text);
      if (this.depth === 0) {
        const whole = this.pending.join('\n');
        this.pending = null;
        env.ledger.knownLine('continuation', env.file, lineNo);
        this.record(whole, this.pendingStart, unterminated);
      } else if (this.pending.length > MAX_RECORD_LINES) {
        env.ledger.knownLine('continuation', env.file, lineNo);
        env.ledger.skip('malformed-json', env.file, this.pendingStart);
        this.pending = null;
        this.depth = 0;
      } else {
        env.ledger.knownLine('continuation', env.file, lineNo);
      }
      return;
    }
    if (this.carry === '' && this.plainPrintf(text, lineNo)) return;
    const t = text.trimStart();
    if (t.length === 0) {
      env.ledger.knownLine('blank', env.file, lineNo);
      return;
    }
    if (t.charCodeAt(0) !== 123 /* { */) {
      // stderr in the same file (`Attaching 59 probes...`, `Lost 5 events`, warnings).
      this.text.printfLine(text, lineNo, unterminated);
      return;
    }
    const tt = t.trimEnd();
    if (tt.charCodeAt(tt.length - 1) === 125 /* } */) {
      // Fast path: one object per line (real `-f json` output).
      let rec: unknown;
      try {
        rec = JSON.parse(tt);
      } catch {
        rec = undefined;
      }
      if (rec !== undefined) {
        this.handle(rec, lineNo);
        return;
      }
    }
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.scan(text);
    if (this.depth <= 0) {
      env.ledger.skip(unterminated ? 'truncated-last-line' : 'malformed-json', env.file, lineNo, text);
      if (unterminated) env.ledger.truncated = true;
      this.depth = 0;
      return;
    }
    this.pending = [text];
    this.pendingStart = lineNo;
  }

  /**
   * The record nearly every line of real `-f json` output is, `{"type": "printf", "data": "TEXT\n"}`
   * with nothing in TEXT that JSON escapes (no quote, backslash or control character): TEXT is its
   * data's one line, read without JSON.parse and the schema. What handle() and printf() do with that
   * record when no printf text is carried; false for any other line.
   */
  private plainPrintf(text: string, lineNo: number): boolean {
    const end = text.length - PRINTF_TAIL.length;
    if (end < PRINTF_HEAD.length || !text.startsWith(PRINTF_HEAD) || !text.endsWith(PRINTF_TAIL)) return false;
    for (let i = PRINTF_HEAD.length; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c < 32 || c === 34 || c === 92) return false;
    }
    const one = text.slice(PRINTF_HEAD.length, end);
    if (one.trim().length === 0) this.env.ledger.knownLine('blank', this.env.file, lineNo);
    else this.text.printfLine(one, lineNo, false);
    return true;
  }

  /** Brace depth outside JSON strings. */
  private scan(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 92 /* \ */) this.escaped = true;
        else if (c === 34 /* " */) this.inString = false;
      } else if (c === 34) this.inString = true;
      else if (c === 123 || c === 91) this.depth++;
      else if (c === 125 || c === 93) this.depth--;
    }
  }

  private record(whole: string, lineNo: number, unterminated: boolean): void {
    let rec: unknown;
    try {
      rec = JSON.parse(whole);
    } catch {
      this.env.ledger.skip(unterminated ? 'truncated-last-line' : 'malformed-json', this.env.file, lineNo);
      return;
    }
    this.handle(rec, lineNo);
  }

  private handle(raw: unknown, lineNo: number): void {
    const env = this.env;
    if (jsonDeeperThan(raw, MAX_JSON_DEPTH)) {
      env.ledger.skip('json-too-deep', env.file, lineNo);
      return;
    }
    const parsed = JsonRecordSchema.safeParse(raw);
    if (!parsed.success) {
      env.ledger.skip('unknown-json-record', env.file, lineNo);
      return;
    }
    const rec = parsed.data;
    switch (rec.type) {
      case 'printf': {
        if (typeof rec.data !== 'string') break;
        this.printf(rec.data, lineNo);
        return;
      }
      case 'lost_events': {
        const d = LostDataSchema.safeParse(rec.data);
        const n = d.success ? d.data.events : typeof rec.count === 'number' ? rec.count : null;
        env.lost(null, n, 'bpftrace-lost', lineNo);
        return;
      }
      case 'attached_probes':
      case 'test_result':
      case 'benchmark_result':
      case 'benchmark_results':
        env.ledger.knownLine('bpftrace-info', env.file, lineNo);
        return;
      case 'errorf':
      case 'warnf':
      case 'helper_error':
      case 'runtime_error': {
        const msg = rec.msg ?? (typeof rec.data === 'string' ? rec.data : JSON.stringify(rec.data ?? rec));
        env.ledger.note(`${env.file}:${lineNo}: bpftrace ${rec.type}: ${String(msg).slice(0, 200)}`);
        env.ledger.knownLine('bpftrace-info', env.file, lineNo);
        return;
      }
      case 'map':
      case 'hist':
      case 'stats':
      case 'tseries': {
        const events = jsonMapEvents(rec.type, rec.data, env.context(lineNo));
        if (!events) break;
        if (events.length === 0) {
          env.ledger.knownLine('bpftrace-info', env.file, lineNo);
          return;
        }
        // Several maps in one record: one event each, but one line (issue 15 item 11).
        env.emit(events[0]);
        if (events.length > 1) env.ledger.fromSameLine(() => events.slice(1).forEach((ev) => env.emit(ev)));
        return;
      }
      case 'value':
      case 'time':
      case 'cat':
      case 'join':
      case 'syscall':
        // print(expr), time(), cat(), join(), system(): program output without the event shape.
        env.ledger.skip('bpftrace-free-text', env.file, lineNo);
        return;
      default:
        env.ledger.skip('unknown-json-record', env.file, lineNo);
        return;
    }
    env.ledger.skip('malformed-json', env.file, lineNo);
  }

  /**
   * printf data: complete lines go to the text decoder; a tail without newline waits for the next
   * printf record. Each record's line is accounted for once (issue 15 item 11): text completed by a
   * later record is decoded at the line where it began, the later record's line is a continuation,
   * and a second line inside one record is decoded without counting its line again.
   */
  private printf(data: string, lineNo: number): void {
    const env = this.env;
    let text = data;
    const carried = this.carry !== '';
    const carriedLine = this.carryLine;
    const carriedAccounted = this.carryAccounted;
    if (carried) {
      text = this.carry + text;
      this.carry = '';
    }
    let own = false; // this record's line is accounted for
    let from = 0;
    let complete = 0;
    for (;;) {
      const nl = text.indexOf('\n', from);
      if (nl < 0) break;
      const one = text.slice(from, nl);
      from = nl + 1;
      if (complete++ === 0 && carried) {
        this.decode(one, carriedLine, carriedAccounted, false);
        continue;
      }
      // A second line from the same record: a script that prints several lines per event.
      if (own) env.ledger.note(`${env.file}: some printf records hold several lines (first at line ${lineNo}); each line is decoded`);
      this.decode(one, lineNo, own, false);
      own = true;
    }
    if (from < text.length) {
      const tail = text.slice(from);
      if (complete === 0 && carried) {
        // Still the text begun at carriedLine; this record only continues it.
        this.keepCarry(tail, carriedLine, carriedAccounted);
      } else {
        // The tail begins here: if nothing else accounted for this line, the tail will.
        this.keepCarry(tail, lineNo, own);
        own = true;
      }
    }
    if (!own) env.ledger.knownLine(carried ? 'continuation' : 'blank', env.file, lineNo);
  }

  private keepCarry(text: string, line: number, accounted: boolean): void {
    if (text.length > MAX_PRINTF_CARRY) {
      // Records that never print a newline: not lines of trace text; drop instead of growing.
      if (!accounted) this.env.ledger.skip('overlong-line', this.env.file, line);
      return;
    }
    this.carry = text;
    this.carryLine = line;
    this.carryAccounted = accounted;
  }

  /** One line of printf text, at `line`; `accounted`: that line is already counted (its events still are). */
  private decode(one: string, line: number, accounted: boolean, unterminated: boolean): void {
    const run = () => {
      if (one.trim().length === 0) this.env.ledger.knownLine('blank', this.env.file, line);
      else this.text.printfLine(one, line, unterminated);
    };
    if (accounted) this.env.ledger.fromSameLine(run);
    else run();
  }

  finish(): void {
    const env = this.env;
    if (this.pending) {
      env.ledger.skip('truncated-json-record', env.file, this.pendingStart);
      env.ledger.truncated = true;
      this.pending = null;
    }
    if (this.carry) {
      // printf text the program never ended with a newline.
      this.decode(this.carry, this.carryLine, this.carryAccounted, true);
      this.carry = '';
    }
    this.text.finish();
  }
}
