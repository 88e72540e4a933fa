// Text rendering of the bpftrace maps section (analyses/bpftrace-maps.ts): keyed values as a table,
// histograms as bars the way bpftrace draws them (label, count, `@` bar), with their total, median
// and 99th-percentile buckets; stats as count/average/total; tseries as one row per interval.
import type { BpftraceMapsSection } from '../analyses/bpftrace-maps.js';
import type { BpftraceMapValue, HistBucket } from '../parsers/event.js';

const BAR = 40;
const MAX_ROWS = 50;

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(3);
}

/** Powers of 1024 with bpftrace's suffixes (BT types_format.cpp: `K M G T P E`). */
function bound(n: number): string {
  let v = n;
  let i = 0;
  while (i < 6 && v !== 0 && Number.isInteger(v / 1024) && Math.abs(v) >= 1024) {
    v /= 1024;
    i++;
  }
  return i === 0 ? fmt(n) : `${v}${'KMGTPE'[i - 1]}`;
}

/** A bucket labelled the way bpftrace labels it (`[1K, 2K)`, `[0]`, `(..., 0)`, `[10, ...)`). */
export function bucketLabel(b: HistBucket): string {
  if (b.min === null) return `(..., ${bound((b.max as number) + 1)})`;
  if (b.max === null) return `[${bound(b.min)}, ...)`;
  if (b.min === b.max) return `[${bound(b.min)}]`;
  return `[${bound(b.min)}, ${bound(b.max + 1)})`;
}

function table(rows: string[][], right: Set<number>): string[] {
  const w: number[] = [];
  for (const r of rows) r.forEach((c, i) => (w[i] = Math.max(w[i] ?? 0, c.length)));
  return rows.map((r) => `  ${r.map((c, i) => (right.has(i) ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ').trimEnd()}`);
}

function histLines(buckets: HistBucket[]): string[] {
  const max = Math.max(0, ...buckets.map((b) => b.count));
  const rows = buckets.map((b) => [bucketLabel(b), String(b.count), `|${'@'.repeat(max ? Math.floor((b.count / max) * BAR) : 0).padEnd(BAR)}|`]);
  return table(rows, new Set([1]));
}

function scalar(v: BpftraceMapValue): string {
  switch (v.type) {
    case 'number':
      return fmt(v.value);
    case 'text':
      return v.value;
    case 'stats':
      return `count ${v.count}, average ${v.average}, total ${v.total}`;
    case 'hist':
      return `histogram of ${v.buckets.reduce((a, b) => a + b.count, 0)}`;
    case 'tseries':
      return `${v.points.length} intervals`;
  }
}

export function renderBpftraceMapsText(section: BpftraceMapsSection): string {
  if (section.bpftraceMaps.length === 0) return '';
  const out: string[] = ['bpftrace maps'];
  for (const m of section.bpftraceMaps) {
    out.push('');
    const n = m.entries.length + m.truncated;
    out.push(`${m.map}  (${m.file}:${m.line}, ${n} ${n === 1 ? 'entry' : 'entries'}${m.truncated ? `, ${m.truncated} not kept` : ''})`);
    const simple = m.entries.every((e) => e.value.type === 'number' || e.value.type === 'text' || e.value.type === 'stats');
    if (simple) {
      const stats = m.entries.some((e) => e.value.type === 'stats');
      const rows = m.entries.slice(0, MAX_ROWS).map((e) => {
        const key = e.key ?? '(value)';
        if (e.value.type === 'stats') return [key, String(e.value.count), String(e.value.average), String(e.value.total)];
        return stats ? [key, scalar(e.value), '', ''] : [key, scalar(e.value)];
      });
      out.push(...table([stats ? ['key', 'count', 'average', 'total'] : ['key', 'value'], ...rows], new Set([1, 2, 3])));
      if (m.entries.length > MAX_ROWS) out.push(`  ... ${m.entries.length - MAX_ROWS} more (see --json)`);
      continue;
    }
    m.entries.forEach((e, i) => {
      const v = e.value;
      const key = e.key === null ? '' : `[${e.key}]`;
      if (v.type === 'hist') {
        const s = m.histSummaries[i];
        const sum = s && s.total > 0 ? `: ${s.total} samples, median in ${bucketLabel(s.p50 as HistBucket)}, p99 in ${bucketLabel(s.p99 as HistBucket)}` : ': empty';
        out.push(` ${m.map}${key}${sum}`);
        out.push(...histLines(v.buckets));
      } else if (v.type === 'tseries') {
        out.push(` ${m.map}${key}: time series`);
        const max = Math.max(0, ...v.points.map((p) => Math.abs(p.value ?? 0)));
        out.push(
          ...table(
            v.points.slice(0, MAX_ROWS).map((p) => [p.interval, p.value === null ? '-' : fmt(p.value), `|${'*'.repeat(max && p.value !== null ? Math.round((Math.abs(p.value) / max) * BAR) : 0).padEnd(BAR)}|`]),
            new Set([1]),
          ),
        );
      } else {
        out.push(` ${m.map}${key}: ${scalar(v)}`);
      }
    });
  }
  return `${out.join('\n')}\n`;
}
