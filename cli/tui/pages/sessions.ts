// Screen 2, Sessions: every LUO session with its side, boot, outcome and pins; the selected one's
// phases below. Enter opens a session: phases, files, modules it pinned, its pin windows, its peer
// across kexec.
import { type ModuleJson, type PhaseJson, type PinWindowJson, type SessionJson, phaseResultText, sessionTotals } from '../../../analyses/luo/schema.js';
import { moduleKey, pinKey, pinOrder } from '../relations.js';
import { columns, fmtDuration, fmtSeconds, type Line, seg, shortFile, wrap } from '../text.js';
import { lazyRows, type Page, type Row } from '../views.js';
import { blank, memo, type PageCtx } from './common.js';
import { pinRowLine, proofOf } from './overview.js';

export const SESSION_SORTS = ['id', 'name', 'duration', 'open pins', 'errors first'];

function sessionSpan(s: SessionJson): number | null {
  const starts = s.phases.map((p) => p.start).filter((t): t is number => t !== null);
  const ends = s.phases.map((p) => p.end ?? p.start).filter((t): t is number => t !== null);
  return starts.length && ends.length ? Math.max(...ends) - Math.min(...starts) : null;
}

const failedPhases = (s: SessionJson) => s.phases.filter((p) => p.result !== null && p.result < 0).length;


function phaseDetail(s: SessionJson, p: PhaseJson): string {
  const f = p.token ? s.files.find((x) => x.token === p.token) : undefined;
  return [p.token ? `token ${p.token}` : '', f?.handler ?? '', p.via ? `by ${p.via}` : ''].filter(Boolean).join(', ');
}

export function phaseLine(s: SessionJson, p: PhaseJson, width: number): Line {
  const failed = p.result !== null && p.result < 0;
  // The file too: a session's phases come from several inputs (trace, console log).
  const where = `${shortFile(p.file)}:${p.line}`;
  const whereWidth = Math.min(where.length, 34);
  return columns([
    { text: p.name, width: 16 },
    { text: fmtSeconds(p.start), width: 11, align: 'right' },
    { text: p.acrossLoss ? '? (loss)' : fmtDuration(p.durationNs), width: 9, align: 'right' },
    { text: phaseResultText(p), width: 9, style: failed ? { color: 'red', bold: true } : {} },
    { text: phaseDetail(s, p), width: Math.max(8, width - 16 - 11 - 9 - 9 - whereWidth - 5 - 2) },
    { text: where, width: whereWidth, style: { color: 'gray' } },
  ]);
}

export function sessionsPage(ctx: PageCtx): Page {
  const r = ctx.report;
  const sort = SESSION_SORTS[ctx.frame.sort];
  const list = memo(r, `sessions by ${sort}`, () => {
    const l = [...r.sessions];
    switch (sort) {
      case 'name':
        l.sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.id - b.id);
        break;
      case 'duration':
        l.sort((a, b) => (sessionSpan(b) ?? -1) - (sessionSpan(a) ?? -1));
        break;
      case 'open pins':
        l.sort((a, b) => b.pins.open - a.pins.open || a.id - b.id);
        break;
      case 'errors first':
        l.sort((a, b) => failedPhases(b) - failedPhases(a) || a.id - b.id);
        break;
    }
    return l;
  });
  const outcomeWidth = Math.max(10, ctx.width - 2 - 5 - 17 - 4 - 3 - 9 - 10 - 7);
  const make = (s: SessionJson): Row => ({
    key: `session ${s.id}`,
    line: columns([
      { text: `#${s.id}`, width: 5, align: 'right' },
      { text: s.name ?? '(unnamed)', width: 17, style: { bold: true } },
      { text: s.side === 'outgoing' ? 'out' : 'in', width: 4 },
      { text: `b${s.boot}`, width: 3 },
      { text: `${s.pins.taken}/${s.pins.released}/${s.pins.open}`, width: 9, align: 'right', style: s.pins.open > 0 ? { color: 'yellow' } : {} },
      { text: fmtDuration(sessionSpan(s)), width: 10, align: 'right' },
      { text: s.outcome, width: outcomeWidth, style: failedPhases(s) > 0 || s.state === 'failed' ? { color: 'red' } : {} },
    ]),
    open: { kind: 'session', id: s.id },
  });
  const search = (s: SessionJson) => `#${s.id} ${s.name ?? ''} ${s.side} boot ${s.boot} ${s.outcome} ${s.comm ?? ''}-${s.pid ?? ''}`;
  const rows = lazyRows(list.length, (i) => make(list[i]), (i) => search(list[i]), ctx.frame.filter);
  // Past its listing cap the report keeps only counts of further ended sessions (sessionsOmitted).
  const t = sessionTotals(r);
  const header: Line = [
    seg('SESSIONS', { bold: true }),
    seg(`  ${t.total}${t.omitted ? ` (${t.listed} listed; ${t.omitted} more counted by state: ${t.byState})` : ''} · sorted by ${SESSION_SORTS[ctx.frame.sort]} (s) · pins taken/released/open`, { color: 'gray' }),
  ];
  return {
    title: 'Sessions',
    top: [header],
    rows,
    ownFilter: true,
    sorts: SESSION_SORTS,
    empty: r.probedFunctions.length ? 'no sessions seen' : 'no sessions seen: the inputs have no probes on LUO functions (sessions cannot be seen from module events alone)',
    bottomWants: 9,
    bottom: (sel, budget) => {
      const s = sel ? r.sessions.find((x) => `session ${x.id}` === sel.key) : undefined;
      if (!s || budget < 3) return [];
      const out: Line[] = [blank(), [seg(`#${s.id} ${s.name ?? ''} phases`, { bold: true }), seg(`  ${s.comm ?? '?'}-${s.pid ?? '?'} · Enter for files, pins and raw lines`, { color: 'gray' })]];
      for (const p of s.phases) out.push(phaseLine(s, p, ctx.width));
      for (const u of s.unseen) out.push([seg(`not seen: ${u}`, { color: 'gray' })]);
      return out.slice(0, budget);
    },
  };
}

export function sessionPage(ctx: PageCtx, id: number): Page {
  const r = ctx.report;
  const s = r.sessions.find((x) => x.id === id);
  if (!s) return { title: `#${id}`, top: [[seg(`session #${id} is not in this report`)]], rows: [] };
  const peer = s.peer ? r.sessions.find((x) => x.id === s.peer?.id) : undefined;
  const files = s.files
    .map((f) => `${f.token} ${f.handler ?? '(no handler)'}${f.fd !== null ? ` fd ${f.fd}` : ''}${f.preserveError ? ` preserve ${f.preserveError}` : ''}${f.retrieveError ? ` retrieve ${f.retrieveError}` : ''}`)
    .join(' · ');
  const top: Line[] = [
    [seg(`#${s.id} ${s.name ?? '(unnamed)'}`, { bold: true }), seg(`  ${s.side} · boot ${s.boot} · ${s.outcome}`)],
    [
      seg(
        `${s.comm ?? '?'}-${s.pid ?? '?'} · file_set ${s.fileSet ?? '?'} · LUO pins ${s.pins.taken} taken / ${s.pins.released} released / ${s.pins.open} open`,
        { color: 'gray' },
      ),
    ],
    ...(files ? wrap(`files: ${files}`, ctx.width, 2).map((l) => [seg(l, { color: 'gray' })]) : []),
  ];
  for (const u of s.unseen) top.push([seg(`not seen: ${u}`, { color: 'gray' })]);
  const rows: Row[] = [];
  for (const p of s.phases) {
    rows.push({ key: `phase ${p.file}:${p.line}`, line: [seg('phase ', { color: 'gray' }), ...phaseLine(s, p, ctx.width - 6)], open: { kind: 'events', file: p.file, line: p.line, mark: p.line } });
  }
  const windows = memo(r, `windows of session ${s.id}`, () => {
    const bySession = memo(r, 'windows by session', () => {
      const map = new Map<number, Array<{ m: ModuleJson; w: PinWindowJson }>>();
      for (const m of r.modules) {
        for (const w of m.pinWindows) {
          if (w.sessionId === null) continue;
          let list = map.get(w.sessionId);
          if (!list) map.set(w.sessionId, (list = []));
          list.push({ m, w });
        }
      }
      return map;
    });
    return [...(bySession.get(s.id) ?? [])].sort((a, b) => pinOrder(a.w, b.w));
  });
  const mods = new Map(windows.map(({ m }) => [moduleKey(m), m]));
  for (const m of mods.values()) {
    rows.push({
      key: `module ${moduleKey(m)}`,
      line: [seg('module ', { color: 'gray' }), seg(`${m.name} (boot ${m.boot})`, { bold: true }), seg(`  pinned ${windows.filter((x) => x.m === m).length}× by this session`)],
      open: { kind: 'module', key: moduleKey(m) },
    });
  }
  for (const { w } of windows) {
    rows.push({ key: `pin ${pinKey(w)}`, line: pinRowLine(w), open: { kind: 'pin', key: pinKey(w) } });
  }
  if (peer) {
    rows.push({
      key: `session ${peer.id}`,
      line: [seg(s.side === 'outgoing' ? 'continues as ' : 'continued from ', { color: 'gray' }), seg(`#${peer.id} ${peer.name ?? ''}`, { bold: true }), seg(`  boot ${peer.boot}: ${peer.outcome}`)],
      open: { kind: 'session', id: peer.id },
    });
  }
  return {
    title: `session #${s.id} ${s.name ?? ''}`.trim(),
    top,
    rows,
    bottomWants: 5,
    bottom: (sel, budget) => proofOf(ctx, sel, budget),
  };
}

