// CSV events: a header row, then one event per row; columns are mapped to the normalized event by
// name. For users' own scripts (bpftrace `printf("%llu,%d,...\n")`, a perf-script post-processor, a
// spreadsheet export). The column set is documented in README.md "CSV input":
//
//   event (or probe)  required: `module_get`, `tracepoint:module:module_get`, `kprobe:luo_preserve_file`,
//                     `kretprobe:luo_preserve_file`, `luo_preserve_file__return`, ... (as bpftrace names probes)
//   kind              optional: force the kind (`kprobe`, `kretprobe`, `fentry`, `fexit`, a tracepoint kind)
//   time_ns or ts     integer nanoseconds; or `time`: seconds with a fraction, as ftrace prints it
//   cpu, pid, tid, tgid, comm   the context (with a `tid` column, `pid` is the process as in bpftrace)
//   anything else     the event's own fields, by the names bpftrace scripts print (parsers/kv-record.ts):
//                     module, call_site, refcnt, lock, sym, flags, ret, retval, lockdep_addr, name, taints...
//
// Rows are cut with csv-parse (RFC 4180: quoted fields, doubled quotes, newlines inside quotes), in
// batches so the file is never held whole; a row without a quote or a CR (nearly all of them) is cut
// at its commas directly, which is what csv-parse makes of it at a fraction of the cost. Context
// columns are validated (the zod schema, or its checks written out for a row that passes them); a
// row that fails, or names a known event without the fields its kind needs, is skipped with a reason
// and its line number (`luotrace events --skipped`). Events are then exactly those of the bpftrace
// parser.
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { InputError } from './input.js';
import { BPFTRACE_INFO, BPFTRACE_LOST, PrintfMemo } from './bpftrace-line.js';
import { CONTEXT_KEYS, decodeRecord } from './kv-record.js';
import { type EventContext, makeEvent } from './payloads.js';
import type { LineParser, ParserEnv } from './parser.js';

const BATCH_RECORDS = 1000;
/** A quoted field left open this many lines is a broken file, not a multi-line value. */
const MAX_RECORD_LINES = 1000;

/** The patterns of the context columns: the schema's, and plainContext's written-out checks. */
const INT = /^-?\d+$/;
const NS = /^\d+$/;
const SECONDS = /^\d+(\.\d+)?$/;

const IntText = z.string().regex(INT, 'not an integer');
const NsText = z.string().regex(NS, 'not integer nanoseconds');

/** The context columns of one row (empty cells removed first). */
export const CsvRowSchema = z.object({
  event: z.string().min(1, 'empty event'),
  kind: z.string().optional(),
  time_ns: NsText.optional(),
  ts: NsText.optional(),
  time: z.string().regex(SECONDS, 'not seconds (e.g. 86.770538)').optional(),
  cpu: IntText.optional(),
  pid: IntText.optional(),
  tid: IntText.optional(),
  tgid: IntText.optional(),
  comm: z.string().optional(),
});

type CsvRow = z.infer<typeof CsvRowSchema>;

/**
 * The context of a row that CsvRowSchema accepts as it is (the checks of the schema, written out):
 * such a row is used without running zod, which then only explains a row that fails.
 */
function plainContext(v: Record<string, string>): boolean {
  const { event, time_ns, ts, time, cpu, pid, tid, tgid } = v;
  return (
    event !== undefined &&
    event.length > 0 &&
    (time_ns === undefined || NS.test(time_ns)) &&
    (ts === undefined || NS.test(ts)) &&
    (time === undefined || SECONDS.test(time)) &&
    (cpu === undefined || INT.test(cpu)) &&
    (pid === undefined || INT.test(pid)) &&
    (tid === undefined || INT.test(tid)) &&
    (tgid === undefined || INT.test(tgid))
  );
}

/** A row csv-parse would cut at its commas and nowhere else: no quote, no CR (a record delimiter to it). */
function isPlainRow(text: string): boolean {
  return text.indexOf('"') < 0 && text.indexOf('\r') < 0;
}

const ROW_CONTEXT = new Set([...CONTEXT_KEYS, 'event', 'probe', 'kind', 'time', 'time_ns', 'tgid']);

interface PendingRecord {
  text: string;
  startLine: number;
  /** Last line of this record inside the batch text (1-based), to match csv-parse's info.lines. */
  endInBatch: number;
}

export class CsvParser implements LineParser {
  private header: string[] | null = null;
  private eventColumn = -1;
  private batch: PendingRecord[] = [];
  private batchLines = 0;
  /**
   * Where the event's own columns start when the header puts every context column (ROW_CONTEXT)
   * before them and has no `kind` column; -1 otherwise. Then a plain row's event and the text of its
   * cells from there decide its kind, name and fields (kv-record.ts decodeRecord), decoded once.
   */
  private argsFrom = -1;
  private readonly memo = new PrintfMemo();
  /** Records since the last batch boundary (every BATCH_RECORDS records), those cut directly included. */
  private windowRecords = 0;
  /** Lines of a record whose quoted field spans lines. */
  private open: string[] | null = null;
  private openStart = 0;

  constructor(private readonly env: ParserEnv) {}

  line(text: string, lineNo: number, unterminated: boolean): void {
    const env = this.env;
    if (this.open) {
      this.open.push(text);
      env.ledger.knownLine('continuation', env.file, lineNo);
      if (!endsInsideQuotes(this.open.join('\n')) || this.open.length > MAX_RECORD_LINES) {
        this.add(this.open.join('\n'), this.openStart, this.open.length);
        this.open = null;
      }
      return;
    }
    if (text.trim().length === 0) {
      env.ledger.knownLine('blank', env.file, lineNo);
      return;
    }
    if (this.header === null) {
      if (text.startsWith('#')) {
        env.ledger.knownLine('header', env.file, lineNo); // provenance/comment lines before the header
        return;
      }
      this.readHeader(text, lineNo);
      return;
    }
    if (this.batch.length === 0 && isPlainRow(text)) {
      // Nothing held before it: cut here, in the same order, at the same batch boundaries.
      const rest = this.restOf(text);
      if (rest === null || !this.fromMemo(text, rest, lineNo)) this.row(text.split(','), { text, startLine: lineNo, endInBatch: 0 }, rest);
      this.counted();
      return;
    }
    if (endsInsideQuotes(text) && !unterminated) {
      this.open = [text];
      this.openStart = lineNo;
      return;
    }
    this.add(text, lineNo, 1);
  }

  private readHeader(text: string, lineNo: number): void {
    let cols: string[];
    try {
      cols = (parse(text, { relax_quotes: true }) as string[][])[0] ?? [];
    } catch (e) {
      throw new InputError(this.env.file, `CSV header cannot be read: ${(e as Error).message}`, lineNo);
    }
    this.header = cols.map((c) => c.trim().toLowerCase());
    this.eventColumn = this.header.findIndex((c) => c === 'event' || c === 'probe');
    if (this.eventColumn < 0) {
      throw new InputError(this.env.file, `CSV header has no \`event\` column (columns: ${cols.join(', ')}); see README "CSV input"`, lineNo);
    }
    if (!this.header.some((c) => c === 'time_ns' || c === 'ts' || c === 'time')) {
      this.env.ledger.note(`${this.env.file}: no time column (time_ns, ts or time): events have no time`);
    }
    this.env.ledger.knownLine('csv-header', this.env.file, lineNo);
    const h = this.header;
    const from = h.findIndex((c, i) => i !== this.eventColumn && !ROW_CONTEXT.has(c));
    const layout = from > this.eventColumn && h.slice(from).every((c) => !ROW_CONTEXT.has(c)) && !h.includes('kind');
    this.argsFrom = layout ? from : -1;
  }

  private add(text: string, startLine: number, lines: number): void {
    this.batchLines += lines;
    this.batch.push({ text, startLine, endInBatch: this.batchLines });
    this.counted();
  }

  private counted(): void {
    if (++this.windowRecords >= BATCH_RECORDS) this.flush();
  }

  private flush(): void {
    this.windowRecords = 0;
    const batch = this.batch;
    if (batch.length === 0) return;
    this.batch = [];
    this.batchLines = 0;
    const env = this.env;
    const byEnd = new Map<number, PendingRecord>();
    for (const r of batch) byEnd.set(r.endInBatch, r);
    const done = new Set<PendingRecord>();
    const recordAt = (line: number): PendingRecord | undefined => batch.find((r) => line <= r.endInBatch && line > r.endInBatch - lineCount(r));
    let rows: Array<{ record: string[]; info: { lines: number } }>;
    try {
      rows = parse(batch.map((r) => r.text).join('\n'), {
        relax_column_count: true,
        relax_quotes: true,
        info: true,
        skip_records_with_error: true,
        on_skip: (err: { message?: string; lines?: number } | undefined) => {
          const r = err?.lines === undefined ? undefined : recordAt(err.lines);
          if (r && !done.has(r)) {
            done.add(r);
            env.ledger.skip('csv-malformed-row', env.file, r.startLine, `${err?.message ?? 'unreadable'}: ${r.text}`);
          }
          return undefined;
        },
      }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
    } catch (e) {
      // csv-parse gave up on the whole batch: every row not yet accounted for is skipped.
      for (const r of batch) if (!done.has(r)) env.ledger.skip('csv-malformed-row', env.file, r.startLine, `${(e as Error).message}: ${r.text}`);
      return;
    }
    for (const row of rows) {
      const r = byEnd.get(row.info.lines);
      if (!r || done.has(r)) continue;
      done.add(r);
      this.row(row.record, r);
    }
    for (const r of batch) if (!done.has(r)) env.ledger.skip('csv-malformed-row', env.file, r.startLine, r.text);
  }

  /**
   * A line bpftrace itself wrote among the rows of a CSV its printf made (docs/trace-formats.md
   * §3.1): `Lost N events` is a lost-events gap for the whole source, as in its text output (without
   * it a lossy capture would read as complete); its banner and warnings are known lines. Rows are
   * handled in input order, so the gap lands between the rows it came between.
   */
  private bpftraceOwnLine(text: string, lineNo: number): boolean {
    const env = this.env;
    const lost = BPFTRACE_LOST.exec(text);
    if (lost) {
      env.lost(null, Number(lost[1]), 'bpftrace-lost', lineNo);
      return true;
    }
    if (!BPFTRACE_INFO.test(text)) return false;
    env.ledger.knownLine('bpftrace-info', env.file, lineNo, text);
    return true;
  }

  /** One row's cells; `rest`: its text after the context (restOf), for the memo, when it is a plain row. */
  private row(cells: string[], r: PendingRecord, rest: string | null = null): void {
    const env = this.env;
    const header = this.header as string[];
    if ((cells.length !== header.length || cells.length === 1) && this.bpftraceOwnLine(r.text, r.startLine)) return;
    if (cells.length !== header.length) {
      env.ledger.skip('csv-column-count', env.file, r.startLine, `${cells.length} cells for ${header.length} columns: ${r.text}`);
      return;
    }
    const values: Record<string, string> = {};
    const args: Record<string, string> = {};
    for (let i = 0; i < header.length; i++) {
      const v = cells[i];
      if (v === '') continue;
      const col = header[i];
      if (i === this.eventColumn) values.event = v;
      else if (ROW_CONTEXT.has(col)) values[col] = v;
      else args[col] = v;
    }
    let row: CsvRow;
    if (plainContext(values)) row = values as CsvRow;
    else {
      const checked = CsvRowSchema.safeParse(values);
      if (!checked.success) {
        const issue = checked.error.issues[0];
        const where = issue.path.join('.') || 'row';
        env.ledger.skip(`csv-invalid-${where}`, env.file, r.startLine, `${where}: ${issue.message}: ${r.text}`);
        return;
      }
      row = checked.data;
    }
    const ctx = this.contextOf(row, r.startLine);
    const ev = decodeRecord(row.event, args, ctx, row.kind);
    if ('error' in ev) {
      env.ledger.skip('csv-missing-field', env.file, r.startLine, `${ev.error}: ${r.text}`);
      return;
    }
    if (rest !== null) this.memo.store(row.event, rest, ev);
    env.emit(ev);
  }

  /**
   * The cells after the context of a plain row (see argsFrom), as one text: with its event, what
   * decides the row's kind, name and fields. Null when the header does not allow it.
   */
  private restOf(text: string): string | null {
    if (this.argsFrom < 0) return null;
    let at = -1;
    for (let i = 0; i < this.argsFrom; i++) {
      at = text.indexOf(',', at + 1);
      if (at < 0) return null;
    }
    return text.slice(at + 1);
  }

  /**
   * A plain row whose event and `rest` (restOf) were decoded before: the event from the memo with
   * this row's context; false (nothing done) when its context needs the schema or it is not there.
   */
  private fromMemo(text: string, rest: string, line: number): boolean {
    const header = this.header as string[];
    const cells = text.slice(0, text.length - rest.length - 1).split(',');
    const values: Record<string, string> = {};
    for (let i = 0; i < cells.length; i++) {
      const v = cells[i];
      if (v === '') continue;
      if (i === this.eventColumn) values.event = v;
      else values[header[i]] = v;
    }
    if (!plainContext(values)) return false;
    const hit = this.memo.find(values.event, rest);
    if (!hit) return false;
    this.env.emit(makeEvent(hit.kind, hit.name, this.contextOf(values as CsvRow, line), hit.fields));
    return true;
  }

  private contextOf(row: CsvRow, line: number): EventContext {
    const env = this.env;
    const ctx = env.context(line);
    const ns = row.time_ns ?? row.ts;
    if (ns !== undefined) ctx.time = env.clock.integer(ns, 0, ns.length, 'ns');
    else if (row.time !== undefined) {
      const dot = row.time.indexOf('.');
      ctx.time = dot < 0 ? env.clock.integer(row.time, 0, row.time.length, 'ns') : env.clock.decimal(row.time, 0, dot, row.time.length);
    }
    ctx.cpu = row.cpu === undefined ? null : Number(row.cpu);
    if (row.tid !== undefined) {
      ctx.pid = Number(row.tid);
      ctx.tgid = row.pid === undefined ? (row.tgid === undefined ? null : Number(row.tgid)) : Number(row.pid);
    } else {
      ctx.pid = row.pid === undefined ? null : Number(row.pid);
      ctx.tgid = row.tgid === undefined ? null : Number(row.tgid);
    }
    ctx.comm = row.comm ?? null;
    return ctx;
  }

  finish(): void {
    if (this.open) {
      this.add(this.open.join('\n'), this.openStart, this.open.length);
      this.open = null;
    }
    this.flush();
    if (this.header === null && this.env.ledger.total > 0) this.env.ledger.note(`${this.env.file}: CSV without a header row`);
  }
}

function lineCount(r: PendingRecord): number {
  let n = 1;
  for (let i = r.text.indexOf('\n'); i >= 0; i = r.text.indexOf('\n', i + 1)) n++;
  return n;
}

/** True when the text ends inside a quoted field (a quote opens only at the start of a field, RFC 4180). */
export function endsInsideQuotes(text: string): boolean {
  let inQuotes = false;
  let fieldStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inQuotes) {
      if (c === 34) {
        if (text.charCodeAt(i + 1) === 34) i++;
        else inQuotes = false;
      }
      continue;
    }
    if (c === 34 && fieldStart) inQuotes = true;
    fieldStart = c === 44 /* , */ || c === 10;
  }
  return inQuotes;
}
