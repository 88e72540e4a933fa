// Screen 6, Data quality: the sources, every line accounted for (events, known non-event lines,
// skipped lines by reason), lost events and notes. Enter on a reason shows its first line raw.
import { columns, fmtCount, fmtSeconds, type Line, seg, shortFile } from '../text.js';
import type { Page, Row } from '../views.js';
import { blank, heading, type PageCtx, proofBlock } from './common.js';

export function qualityPage(ctx: PageCtx): Page {
  const r = ctx.report;
  const q = r.dataQuality;
  const known = Object.values(q.lines.known).reduce((a, b) => a + b, 0);
  const skipped = Object.values(q.lines.skipped).reduce((a, b) => a + b, 0);
  const lostTotal = Object.values(q.lost).reduce((a, l) => a + l.events, 0);
  const top: Line[] = [
    heading('DATA QUALITY', q.incomplete ? 'INCOMPLETE: some data is missing' : 'every line accounted for'),
    [
      seg(`${fmtCount(q.lines.total)} lines: ${fmtCount(q.lines.events)} events, ${fmtCount(known)} known non-event lines, `),
      seg(`${fmtCount(skipped)} skipped`, skipped ? { color: 'yellow' } : {}),
      seg(lostTotal ? ` · ${fmtCount(lostTotal)} events reported lost` : ' · no events reported lost', lostTotal ? { color: 'red' } : { color: 'gray' }),
    ],
  ];
  const rows: Row[] = [];
  r.sources.forEach((s, i) => {
    rows.push({
      key: `source ${i}`,
      line: columns([
        { text: `source ${i + 1}`, width: 9, style: { color: 'gray' } },
        { text: shortFile(s.file), width: 26, style: { bold: true } },
        { text: `${s.format}${s.compressed ? ' (gz)' : ''}`, width: 13 },
        { text: `${fmtCount(s.lines)} lines`, width: 12, align: 'right' },
        { text: `${fmtCount(s.events)} ev.`, width: 11, align: 'right' },
      ]),
      search: `${s.file} ${s.format} ${s.detectedBy}`,
      open: { kind: 'events', file: s.file },
    });
  });
  const reasonRow = (what: 'known' | 'skipped', reason: string, n: number): Row => {
    const at = q.firstLines[reason]?.[0];
    return {
      key: at ? `reason ${at.file}:${at.line}` : `reason ${what}:${reason}`,
      line: columns([
        { text: what, width: 9, style: { color: what === 'skipped' ? 'yellow' : 'gray' } },
        { text: reason, width: 20 },
        { text: fmtCount(n), width: 8, align: 'right' },
        { text: at ? `first at ${shortFile(at.file)}:${at.line}` : '', width: Math.max(10, ctx.width - 2 - 9 - 20 - 8 - 3), style: { color: 'gray' } },
      ]),
      open: at ? { kind: 'events', file: at.file, line: at.line, mark: at.line } : null,
    };
  };
  for (const [reason, n] of Object.entries(q.lines.skipped)) rows.push(reasonRow('skipped', reason, n));
  for (const [reason, n] of Object.entries(q.lines.known)) rows.push(reasonRow('known', reason, n));
  for (const [cpu, l] of Object.entries(q.lost)) {
    const at = l.at[0];
    rows.push({
      key: at ? `reason ${at.file}:${at.line}` : `lost ${cpu}`,
      line: [seg('lost     ', { color: 'red' }), seg(`cpu ${cpu}: ${fmtCount(l.events)}${l.countUnknown ? '+' : ''} events in ${l.markers} marker${l.markers === 1 ? '' : 's'}`), seg(at ? `  first at ${shortFile(at.file)}:${at.line} (${at.marker})` : '', { color: 'gray' })],
      open: at ? { kind: 'events', file: at.file, line: at.line, mark: at.line } : null,
    });
  }
  for (const o of q.overwritten) {
    rows.push({
      key: `reason ${o.file}:${o.line}`,
      line: [seg('overwritten ', { color: 'red' }), seg(`${shortFile(o.file)}:${o.line}: ${fmtCount(o.written)} written, ${fmtCount(o.inBuffer)} kept (${fmtCount(o.written - o.inBuffer)} lost)`)],
      open: { kind: 'events', file: o.file, line: o.line, mark: o.line },
    });
  }
  q.notes.forEach((n, i) => rows.push({ key: `note ${i}`, line: [seg('note     ', { color: 'gray' }), seg(n)], open: null }));
  return {
    title: 'Data quality',
    top,
    rows,
    bottomWants: 5,
    bottom: (sel, budget) => {
      if (!sel || budget < 3) return [];
      if (sel.key.startsWith('source ')) {
        const s = r.sources[Number(sel.key.slice(7))];
        return [blank(), [seg(`${s.file}`, { bold: true })], [seg(`detected by ${s.detectedBy} · time ${fmtSeconds(s.firstTime)}..${fmtSeconds(s.lastTime)} s${s.tracer ? ` · tracer ${s.tracer}` : ''}`, { color: 'gray' })]].slice(0, budget);
      }
      if (!sel.key.startsWith('reason ') || !sel.key.includes(':')) return [];
      const ref = sel.key.slice(7);
      const i = ref.lastIndexOf(':');
      return [blank(), ...proofBlock(ctx, 'first such line', ref.slice(0, i), Number(ref.slice(i + 1)), budget - 1)];
    },
  };
}
