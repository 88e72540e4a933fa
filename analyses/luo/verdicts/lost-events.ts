// no-lost-events: the trace says events were lost (ring-buffer markers, bpftrace `Lost N events`),
// the buffer was overwritten or the input truncated; results across those gaps are incomplete. With
// no marker at all, a module's refcnt= moving by more than the events seen proves events missing
// just the same (a record cut mid-stream): the run is as incomplete as a lossy one.
import { missingFromTrace } from './evidence.js';
import { defineVerdict, joinNamed, plural, result } from './verdict.js';

const noLostEventsMeta = {
  id: 'no-lost-events',
  severity: 'warning',
  reasons: ['data-lost', 'events-missing', 'complete'],
  rule: { description: 'the trace reports no lost events, no overwritten buffer and no truncation' },
} as const;

export const noLostEvents = defineVerdict(noLostEventsMeta, (s, quality) => {
  const gaps = s.modules.filter((m) => m.refcntMismatches.length > 0);
  if (!quality.incomplete && gaps.length) {
    const first = gaps[0].refcntMismatches[0];
    return [
      result(
        noLostEventsMeta,
        'events-missing',
        false,
        `no events were reported lost, but refcnt= proves some missing: ${joinNamed(gaps, (m) => `${m.name}: ${missingFromTrace(m.refcntMismatches[0]).text}`, 'modules')}`,
        [...(first.prevLine !== null ? [{ file: first.file, line: first.prevLine }] : []), { file: first.file, line: first.line }],
      ),
    ];
  }
  if (!quality.incomplete) return [result(noLostEventsMeta, 'complete', true, 'no events were reported lost', [], 'info')];
  const lostCpus = Object.entries(quality.lost);
  const lostTotal = lostCpus.reduce((a, [, l]) => a + l.events, 0);
  const incompleteWindows = s.modules.flatMap((m) => m.pinWindows).filter((w) => w.incomplete);
  return [
    result(
      noLostEventsMeta,
      'data-lost',
      false,
      [
        lostCpus.length ? `${lostTotal}${lostCpus.some(([, l]) => l.countUnknown) ? '+' : ''} events lost (${joinNamed(lostCpus, ([c, l]) => `CPU ${c}: ${l.events}${l.countUnknown ? '+' : ''}`, 'CPUs', ', ')})` : null,
        quality.overwritten.length ? `ring buffer overwritten in ${joinNamed(quality.overwritten, (o) => o.file, 'files', ', ')}` : null,
        quality.truncated ? 'input truncated' : null,
        incompleteWindows.length ? `${plural(incompleteWindows.length, 'pin window')} cross a gap and are marked incomplete` : null,
      ]
        .filter(Boolean)
        .join('; '),
      lostCpus.flatMap(([, l]) => l.at.map((a) => ({ file: a.file, line: a.line }))),
    ),
  ];
});
