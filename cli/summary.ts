// `luotrace events --summary`: per-event-name counts and the data-quality table.
import { formatSeconds } from '../analyses/format.js';
import { z } from 'zod';
import { SourceInfoSchema } from '../parsers/event.js';
import { DataQualitySchema } from '../parsers/quality.js';
import type { ReadResult } from '../parsers/index.js';
import { table } from './table.js';

/** JSON contract of `events --summary --json` (issue #2): lines.*, kinds, lost are stable names. */
export const EventsSummarySchema = z.object({
  sources: z.array(SourceInfoSchema),
  lines: DataQualitySchema.shape.lines,
  kinds: DataQualitySchema.shape.kinds,
  types: DataQualitySchema.shape.types,
  lost: DataQualitySchema.shape.lost,
  dataQuality: DataQualitySchema,
});
export type EventsSummary = z.infer<typeof EventsSummarySchema>;

export function buildSummary(r: ReadResult): EventsSummary {
  const q = r.quality;
  return { sources: r.sources, lines: q.lines, kinds: q.kinds, types: q.types, lost: q.lost, dataQuality: q };
}

export function renderSummaryText(s: EventsSummary): string {
  const out: string[] = [];
  out.push('Sources');
  out.push(
    table(
      [
        ['file', 'format', 'lines', 'events', 'time span', 'detected by'],
        ...s.sources.map((src) => [
          src.file,
          src.format + (src.compressed ? ' (gz)' : ''),
          String(src.lines),
          String(src.events),
          span(src.firstTime, src.lastTime, src.timeUnit),
          src.detectedBy,
        ]),
      ],
      new Set([2, 3]),
    ),
  );
  out.push('');
  out.push('Events by name');
  const kinds = Object.entries(s.kinds).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  out.push(table([['event', 'count'], ...kinds.map(([k, n]) => [k || '(unnamed)', String(n)])], new Set([1])));
  out.push('');
  out.push('Events by decoded type');
  const types = Object.entries(s.types).sort((a, b) => b[1] - a[1]);
  out.push(table([['type', 'count'], ...types.map(([k, n]) => [k, String(n)])], new Set([1])));
  out.push('');
  out.push(renderQualityText(s.dataQuality));
  return `${out.join('\n')}\n`;
}

export function renderQualityText(q: EventsSummary['dataQuality']): string {
  const out: string[] = [];
  out.push(`Data quality${q.incomplete ? ' (INCOMPLETE: some data is missing)' : ''}`);
  const rows: string[][] = [['lines', 'count', 'first at']];
  const first = (r: string) => (q.firstLines[r] ?? []).map((p) => `${p.file}:${p.line}`).slice(0, 3).join(', ');
  rows.push(['total', String(q.lines.total), '']);
  rows.push(['events', String(q.lines.events), '']);
  for (const [r, n] of Object.entries(q.lines.known)) rows.push([`known: ${r}`, String(n), first(r)]);
  for (const [r, n] of Object.entries(q.lines.skipped)) rows.push([`skipped: ${r}`, String(n), first(r)]);
  out.push(table(rows, new Set([1])));
  const lostCpus = Object.entries(q.lost);
  if (lostCpus.length) {
    out.push('');
    out.push('Lost events');
    out.push(
      table(
        [
          ['cpu', 'events lost', 'markers', 'first marker'],
          ...lostCpus.map(([cpu, l]) => [
            cpu,
            `${l.events}${l.countUnknown ? '+' : ''}`,
            String(l.markers),
            l.at[0] ? `${l.at[0].file}:${l.at[0].line} (${l.at[0].marker})` : '',
          ]),
        ],
        new Set([1, 2]),
      ),
    );
  }
  for (const o of q.overwritten) {
    out.push(`ring buffer overwritten: ${o.file}:${o.line} says ${o.written} written, ${o.inBuffer} kept (${o.written - o.inBuffer} lost)`);
  }
  for (const n of q.notes) out.push(`note: ${n}`);
  return out.join('\n');
}

export function span(first: number | null, last: number | null, unit: 'ns' | 'tick'): string {
  if (first === null || last === null) return '-';
  if (unit === 'tick') return `${first}..${last} ticks`;
  return `${formatSeconds(first)}..${formatSeconds(last)} s`;
}
