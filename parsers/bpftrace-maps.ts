// bpftrace map output: the maps printed at exit (or by `print(@map)`), in text and in `-f json`,
// into one `bpftrace_map` event per map (parsers/event.ts BpftraceMapFields).
//
// Grammar: docs/trace-formats.md §3.1 and §3.2 (BT src/output/text.cpp, json.cpp, types_format.cpp):
//   scalar          `@name: 5`                  keyed         `@name[k1, k2]: 5`
//   hist/lhist      `@name:` / `@name[key]:` header (bpftrace 0.17 prints `@name: ` with a trailing
//                   space, real captures' bpftrace-stats.txt), then rows `%-16s%8d |%-52s|` with labels
//                   `[N]`, `[lo, hi)`, `(..., X)`, `[lo, ...)`, powers of 1024 as `K M G T P E`
//   stats           `@s: count 3, average 2, total 6` (before v0.24) / `@s: { .count = 3, ... }` (v0.24+)
//   tseries (v0.23) header, an axis block, rows `<time> |  *  | <value or ->`, a closing axis block
//   JSON            {"type": "map"|"hist"|"stats"|"tseries", "data": {"@name": value | {key: value}}}
// Keys are printed unquoted in text, so a key may contain `]: `: the value is taken after the LAST
// `]: ` of the line (§3.1). Rows of one map are consecutive; blank lines between the hist blocks of
// one map (0.17 prints them) do not end the map, a line of any other kind does.
import type { BpftraceMapValue, HistBucket, TraceEvent } from './event.js';
import type { EventContext } from './payloads.js';
import { makeEvent } from './payloads.js';

/** Entries kept per map; a larger map is reported with `truncated` (memory stays bounded per map). */
export const MAX_MAP_ENTRIES = 100_000;

type Entry = { key: string | null; value: BpftraceMapValue };

/** A parsed `@name...` line. */
export type MapLine =
  | { type: 'header'; map: string; key: string | null }
  | { type: 'entry'; map: string; key: string | null; value: BpftraceMapValue };

const SUFFIX: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4, P: 1024 ** 5, E: 1024 ** 6 };

/** `512`, `1K`, `-3` -> number (types_format.cpp suffixes); NaN if not one. */
function boundValue(text: string): number {
  const t = text.trim();
  const last = t.charAt(t.length - 1);
  const mul = SUFFIX[last];
  const digits = mul ? t.slice(0, -1) : t;
  if (!/^-?\d+$/.test(digits)) return NaN;
  return Number(digits) * (mul ?? 1);
}

/**
 * A histogram row: `[2, 4)   2 |@@@  |`. Bounds are returned inclusive, like bpftrace's JSON
 * (`[2, 4)` -> 2..3; `(..., 0)` -> ..-1; `[10, ...)` -> 10..). Null when the line is not a row.
 */
export function parseHistRow(line: string): HistBucket | null {
  const bar = line.indexOf(' |');
  if (bar < 0 || line.charCodeAt(line.length - 1) !== 124 /* | */) return null;
  const head = line.slice(0, bar);
  const m = /^(\[[^\]]*\]|\[[^)]*\)|\(\.\.\., [^)]*\))\s+(\d+)$/.exec(head);
  if (!m) return null;
  const label = m[1];
  const count = Number(m[2]);
  if (label.startsWith('(...')) {
    const hi = boundValue(label.slice(6, -1));
    return Number.isNaN(hi) ? null : { min: null, max: hi - 1, count };
  }
  const inner = label.slice(1, -1);
  const comma = inner.indexOf(', ');
  if (comma < 0) {
    const v = boundValue(inner);
    return Number.isNaN(v) ? null : { min: v, max: v, count };
  }
  const lo = boundValue(inner.slice(0, comma));
  const hiText = inner.slice(comma + 2);
  if (Number.isNaN(lo)) return null;
  if (hiText === '...') return { min: lo, max: null, count };
  const hi = boundValue(hiText);
  return Number.isNaN(hi) ? null : { min: lo, max: hi - 1, count };
}

/** A tseries data row: `%H:00:00.500 |   *   | 9` (value `-` when the interval has no data). */
export function parseTseriesRow(line: string): { interval: string; value: number | null } | null {
  const sp = line.indexOf(' ');
  if (sp <= 0) return null;
  const c = line.charCodeAt(sp + 1);
  if (c !== 124 /* | */ && c !== 42 /* * */) return null;
  const lastSp = line.lastIndexOf(' ');
  const end = line.charCodeAt(lastSp - 1);
  if (end !== 124 && end !== 42) return null;
  const v = line.slice(lastSp + 1);
  if (v === '-') return { interval: line.slice(0, sp), value: null };
  const n = Number(v);
  return Number.isFinite(n) && v !== '' ? { interval: line.slice(0, sp), value: n } : null;
}

/** tseries axis lines: `   8      10` (scale), `hh:mm:ss.ms  |___|`, `   v___v`. */
export function isTseriesAxis(line: string): boolean {
  return /^\s+-?[\d.]+(\s+-?[\d.]+)?\s*$/.test(line) || /^hh:mm:ss\S*\s+\|_+\|$/.test(line) || /^\s+v_+v$/.test(line);
}

/** Scalar or entry value as printed in text. */
export function parseTextValue(text: string): BpftraceMapValue {
  const t = text;
  if (/^-?\d+$/.test(t)) return { type: 'number', value: Number(t) };
  // stats: `count 3, average 2, total 6` (< v0.24) or `{ .count = 3, .average = 2, .total = 6 }` (v0.24+)
  let m = /^count (-?\d+), average (-?\d+), total (-?\d+)$/.exec(t);
  if (!m) m = /^\{ \.count = (-?\d+), \.average = (-?\d+), \.total = (-?\d+) \}$/.exec(t);
  if (m) return { type: 'stats', count: Number(m[1]), average: Number(m[2]), total: Number(m[3]) };
  return { type: 'text', value: t };
}

/** Parse a line that starts with `@`. Null when it is not map output. */
export function parseMapLine(line: string): MapLine | null {
  let nameEnd = 1;
  while (nameEnd < line.length) {
    const c = line.charCodeAt(nameEnd);
    if (!(c === 95 || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122))) break;
    nameEnd++;
  }
  const map = line.slice(0, nameEnd);
  const c = line.charCodeAt(nameEnd);
  if (c === 58 /* : */) {
    const rest = line.slice(nameEnd + 1);
    if (rest.trim() === '') return { type: 'header', map, key: null };
    if (rest.charCodeAt(0) !== 32) return null;
    return { type: 'entry', map, key: null, value: parseTextValue(rest.slice(1)) };
  }
  if (c !== 91 /* [ */) return null;
  const trimmed = line.trimEnd();
  if (trimmed.endsWith(']:')) return { type: 'header', map, key: trimmed.slice(nameEnd + 1, -2) };
  const sep = line.lastIndexOf(']: ');
  if (sep < nameEnd) return null;
  return { type: 'entry', map, key: line.slice(nameEnd + 1, sep), value: parseTextValue(line.slice(sep + 3)) };
}

/**
 * Collects the lines of text map output into `bpftrace_map` events. The caller decides, line by
 * line, whether a line is map output (parseMapLine / rows) and calls `flush()` before any other
 * content, so events keep input order.
 */
export class MapCollector {
  private map: string | null = null;
  private line = 0;
  private entries: Entry[] = [];
  private truncated = 0;
  /** The open hist/tseries block (a header seen, rows may follow). */
  private block: { key: string | null; buckets: HistBucket[] | null; points: Array<{ interval: string; value: number | null }> | null } | null = null;

  constructor(
    private readonly emit: (ev: TraceEvent) => void,
    private readonly context: (line: number) => EventContext,
  ) {}

  get inBlock(): boolean {
    return this.block !== null;
  }

  get open(): boolean {
    return this.map !== null;
  }

  /** Line of the map being collected (its event's line), 0 when none. */
  get currentLine(): number {
    return this.map === null ? 0 : this.line;
  }

  /** A `@...` line. Returns false when it is not map output. */
  mapLine(text: string, lineNo: number): boolean {
    const ml = parseMapLine(text);
    if (!ml) return false;
    this.closeBlock();
    if (this.map !== ml.map) {
      this.flush();
      this.map = ml.map;
      this.line = lineNo;
    }
    if (ml.type === 'header') this.block = { key: ml.key, buckets: null, points: null };
    else this.add({ key: ml.key, value: ml.value });
    return true;
  }

  /** A line inside an open hist/tseries block. Returns false when it is not a row of it. */
  rowLine(text: string): boolean {
    const b = this.block;
    if (!b) return false;
    if (b.points === null) {
      const row = parseHistRow(text);
      if (row) {
        (b.buckets ??= []).push(row);
        return true;
      }
    }
    if (b.buckets === null) {
      if (isTseriesAxis(text)) {
        b.points ??= [];
        return true;
      }
      if (b.points !== null) {
        const p = parseTseriesRow(text);
        if (p) {
          b.points.push(p);
          return true;
        }
      }
    }
    return false;
  }

  /** A blank line ends a hist block but not the map (0.17 separates keyed hists with blank lines). */
  blank(): void {
    this.closeBlock();
  }

  private closeBlock(): void {
    const b = this.block;
    if (!b) return;
    this.block = null;
    if (b.points !== null) this.add({ key: b.key, value: { type: 'tseries', points: b.points } });
    else if (b.buckets !== null) this.add({ key: b.key, value: { type: 'hist', buckets: b.buckets } });
    // A header with no rows: an empty histogram (after zero()/clear(), docs/trace-formats.md §3.1) or an
    // empty string scalar; bpftrace prints both the same way. Kept as an empty histogram.
    else this.add({ key: b.key, value: { type: 'hist', buckets: [] } });
  }

  private add(e: Entry): void {
    if (this.entries.length < MAX_MAP_ENTRIES) this.entries.push(e);
    else this.truncated++;
  }

  /** Emit the map being collected, if any. */
  flush(): void {
    this.closeBlock();
    if (this.map === null) return;
    const ev = makeEvent('bpftrace_map', this.map, this.context(this.line), { map: this.map, entries: this.entries, truncated: this.truncated });
    this.map = null;
    this.entries = [];
    this.truncated = 0;
    this.emit(ev);
  }
}

// ---- JSON ----

function jsonScalar(v: unknown): BpftraceMapValue {
  if (typeof v === 'number') return { type: 'number', value: v };
  if (typeof v === 'string') return { type: 'text', value: v };
  return { type: 'text', value: JSON.stringify(v) };
}

function jsonBuckets(v: unknown): HistBucket[] | null {
  if (!Array.isArray(v)) return null;
  const out: HistBucket[] = [];
  for (const b of v) {
    if (typeof b !== 'object' || b === null) return null;
    const o = b as { min?: unknown; max?: unknown; count?: unknown };
    if (typeof o.count !== 'number') return null;
    out.push({ min: typeof o.min === 'number' ? o.min : null, max: typeof o.max === 'number' ? o.max : null, count: o.count });
  }
  return out;
}

function jsonStats(v: unknown): BpftraceMapValue | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as { count?: unknown; average?: unknown; total?: unknown };
  if (typeof o.count !== 'number' || typeof o.average !== 'number' || typeof o.total !== 'number') return null;
  return { type: 'stats', count: o.count, average: o.average, total: o.total };
}

function jsonPoints(v: unknown): Array<{ interval: string; value: number | null }> | null {
  if (!Array.isArray(v)) return null;
  const out: Array<{ interval: string; value: number | null }> = [];
  for (const p of v) {
    if (typeof p !== 'object' || p === null) return null;
    const o = p as { interval_start?: unknown; value?: unknown };
    out.push({ interval: String(o.interval_start ?? ''), value: typeof o.value === 'number' ? o.value : null });
  }
  return out;
}

/**
 * One JSON map record's `data` (`{"@name": ...}`, possibly several maps) into events.
 * Returns null when the data does not have the documented shape.
 */
export function jsonMapEvents(type: string, data: unknown, ctx: EventContext): TraceEvent[] | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
  const events: TraceEvent[] = [];
  for (const [map, value] of Object.entries(data as Record<string, unknown>)) {
    const entries: Entry[] = [];
    let truncated = 0;
    const push = (e: Entry) => {
      if (entries.length < MAX_MAP_ENTRIES) entries.push(e);
      else truncated++;
    };
    const one = (v: unknown): BpftraceMapValue | null => {
      if (type === 'hist') {
        const b = jsonBuckets(v);
        return b ? { type: 'hist', buckets: b } : null;
      }
      if (type === 'stats') return jsonStats(v);
      if (type === 'tseries') {
        const p = jsonPoints(v);
        return p ? { type: 'tseries', points: p } : null;
      }
      return jsonScalar(v);
    };
    // Unkeyed: hist/tseries arrays, a stats object, a map scalar. Keyed: an object of the above.
    const unkeyed =
      type === 'hist' || type === 'tseries'
        ? Array.isArray(value)
        : type === 'stats'
          ? jsonStats(value) !== null
          : typeof value !== 'object' || value === null || Array.isArray(value);
    if (unkeyed) {
      const v = one(value);
      if (!v) return null;
      push({ key: null, value: v });
    } else {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
      for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
        const val = one(v);
        if (!val) return null;
        push({ key, value: val });
      }
    }
    events.push(makeEvent('bpftrace_map', map, ctx, { map, entries, truncated }));
  }
  return events;
}
