// no-lost-events: the trace says events were lost (ring-buffer markers, bpftrace `Lost N events`),
// the buffer was overwritten or the input truncated; results across those gaps are incomplete.
import { defineVerdict, plural, result } from './verdict.js';

const noLostEventsMeta = {
  id: 'no-lost-events',
  severity: 'warning',
  reasons: ['data-lost', 'complete'],
  rule: { description: 'the trace reports no lost events, no overwritten buffer and no truncation' },
} as const;

export const noLostEvents = defineVerdict(noLostEventsMeta, (s, quality) => {
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
        lostCpus.length ? `${lostTotal}${lostCpus.some(([, l]) => l.countUnknown) ? '+' : ''} events lost (${lostCpus.map(([c, l]) => `CPU ${c}: ${l.events}${l.countUnknown ? '+' : ''}`).join(', ')})` : null,
        quality.overwritten.length ? `ring buffer overwritten in ${quality.overwritten.map((o) => o.file).join(', ')}` : null,
        quality.truncated ? 'input truncated' : null,
        incompleteWindows.length ? `${plural(incompleteWindows.length, 'pin window')} cross a gap and are marked incomplete` : null,
      ]
        .filter(Boolean)
        .join('; '),
      lostCpus.flatMap(([, l]) => l.at.map((a) => ({ file: a.file, line: a.line }))),
    ),
  ];
});
