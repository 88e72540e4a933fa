// Text rendering of a fleet summary (`luotrace fleet`, `luotrace merge`): what failed where first,
// then one line per host, then the merged phase, module and lock figures.
import type { FleetSummary, HostEntry } from '../../reports/fleet.js';
import { formatDuration as fmtNs } from '../../analyses/format.js';
import { table } from '../table.js';

export interface FleetTextOptions {
  limit: number;
}

const RIGHT = (...cols: number[]): Set<number> => new Set(cols);

function names(list: string[], limit = 5): string {
  return list.length <= limit ? list.join(', ') : `${list.slice(0, limit).join(', ')} and ${list.length - limit} more`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

function hostLine(h: HostEntry): string[] {
  if (h.error !== null) return [h.host, 'UNUSABLE', '-', '-', '-', '-', '-', h.error];
  const open = h.modules.reduce((a, m) => a + m.openPins, 0);
  const leaked = h.modules.reduce((a, m) => a + m.leakedPins, 0);
  const waits = h.locks.reduce((a, l) => a + l.wait.total, 0);
  const lost = h.dataQuality.lostMarkers ? `${h.dataQuality.lostEvents} lost` : '';
  return [
    h.host,
    h.failed.length ? `FAIL ${h.failed.join(', ')}` : 'pass',
    h.kernelModel ?? '?',
    String(h.sessions.total),
    leaked ? `${open} (${leaked} leaked)` : String(open),
    fmtNs(waits),
    String(h.dataQuality.events),
    [lost, h.dataQuality.truncated ? 'truncated' : ''].filter(Boolean).join(', '),
  ];
}

export function renderFleetText(s: FleetSummary, opts: FleetTextOptions = { limit: 20 }): string {
  const f = s.fleet;
  const out: string[] = [];
  out.push(`luotrace ${s.tool.version} fleet: ${f.hosts} hosts, ${f.analyzed} analyzed${f.unusable.length ? `, ${f.unusable.length} unusable` : ''}`);
  const models = Object.entries(f.kernelModels).map(([k, n]) => `${k} ×${n}`);
  if (models.length) out.push(`  kernel models: ${models.join(', ')}`);
  out.push('');

  out.push('VERDICTS (hosts passing / failing)');
  const vrows = f.verdicts.map((v) => {
    const mark = v.severity === 'error' ? '✘' : v.severity === 'warning' ? '!' : '✔';
    const who = [v.fail ? `FAIL on ${names(v.failingHosts)}` : '', v.warn ? `warning on ${names(v.warningHosts)}` : '', v.inconclusive ? `inconclusive on ${names(v.inconclusiveHosts)}` : ''].filter(Boolean).join('; ');
    const detail = who ? `${who}${v.example ? `; e.g. ${v.example.host}: ${v.example.message}` : ''}` : '';
    const more = [v.inconclusive ? `${v.inconclusive} inconclusive` : '', v.notApplicable ? `${v.notApplicable} n/a` : ''].filter(Boolean).join(', ');
    return [mark, v.id, `${v.pass} pass`, v.warn ? `${v.warn} warn` : '', v.fail ? `${v.fail} FAIL` : '', more, detail];
  });
  out.push(vrows.length ? indent(table(vrows, RIGHT(2, 3, 4))) : '  (no host could be analyzed)', '');

  out.push(`HOSTS (${f.hosts})`);
  const hrows = [['host', 'verdicts', 'kernel model', 'sessions', 'open pins', 'lock wait', 'events', 'data'], ...s.hosts.slice(0, opts.limit).map(hostLine)];
  out.push(indent(table(hrows, RIGHT(3, 5, 6))));
  if (s.hosts.length > opts.limit) out.push(`  … ${s.hosts.length - opts.limit} more hosts (--limit, or --json for all)`);
  out.push('');

  if (f.phases.length) {
    out.push(`PHASES (${f.sessions.total} sessions${f.sessions.omitted ? `; percentiles over the ${f.sessions.total - f.sessions.omitted} sessions listed in full` : ''})`);
    const prows = [
      ['phase', 'hosts', 'count', 'errors', 'p50', 'p90', 'p99', 'max', 'avg'],
      ...f.phases.map((p) => [p.phase, String(p.hosts), String(p.count), String(p.errors), fmtNs(p.durations.p50), fmtNs(p.durations.p90), fmtNs(p.durations.p99), fmtNs(p.maxNs), fmtNs(p.avgNs)]),
    ];
    out.push(indent(table(prows, RIGHT(1, 2, 3, 4, 5, 6, 7, 8))), '');
  }

  if (f.modules.length) {
    out.push('MODULES');
    const mrows = [
      ['module', 'hosts', 'gets', 'puts', 'open pins', 'leaked', 'hosts with leaks / refcount mismatches / puts without get'],
      ...f.modules.map((m) => [
        m.name,
        String(m.hosts),
        String(m.gets),
        String(m.puts),
        String(m.openPins),
        String(m.leakedPins),
        [m.hostsWithLeakedPins, m.hostsWithRefcntMismatches, m.hostsWithPutsWithoutGet].map((l) => (l.length ? names(l) : '-')).join(' / '),
      ]),
    ];
    out.push(indent(table(mrows, RIGHT(1, 2, 3, 4, 5))), '');
  }

  if (f.locks.length) {
    out.push('LOCKS (merged across hosts by lock name × type; percentiles from merged distributions)');
    const lrows = [
      ['lock', 'type', 'hosts', 'acquired', 'contended', 'total wait', 'p50 wait', 'p99 wait', 'max wait', 'p99 hold', 'max hold', 'worst host'],
      ...f.locks
        .slice(0, opts.limit)
        .map((l) => [
          l.name === null ? `(unnamed, ${l.instances} locks)` : l.luoRole ? `${l.name} [LUO]` : l.name,
          l.type,
          String(l.hosts),
          String(l.acquisitions),
          String(l.contended),
          fmtNs(l.wait.count ? l.wait.total : null),
          fmtNs(l.wait.p50),
          fmtNs(l.wait.p99),
          fmtNs(l.wait.max),
          fmtNs(l.hold.p99),
          fmtNs(l.hold.max),
          l.worstWait ? l.worstWait.host : '-',
        ]),
    ];
    out.push(indent(table(lrows, RIGHT(2, 3, 4, 5, 6, 7, 8, 9, 10))));
    if (f.locks.length > opts.limit) out.push(`  … ${f.locks.length - opts.limit} more locks`);
    out.push('');
  }

  const q = f.dataQuality;
  out.push('DATA QUALITY');
  out.push(`  ${q.lines} lines, ${q.events} events, ${q.skipped} skipped lines`);
  if (q.hostsWithLostEvents.length) out.push(`  lost events (${q.lostEvents} stated) on: ${names(q.hostsWithLostEvents, 10)}`);
  if (q.hostsTruncated.length) out.push(`  truncated inputs on: ${names(q.hostsTruncated, 10)}`);
  for (const u of f.unusable) out.push(`  unusable: ${u.host}: ${u.error}`);
  return `${out.join('\n')}\n`;
}
