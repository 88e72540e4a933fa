// refcounts-balanced: refcnt= agrees with the gets and puts seen, and no put comes without a get
// (docs/luo-model.md §4 "The refcnt field").
import { lossBetween, overwritten, RECORD_MORE } from './evidence.js';
import { defineVerdict, plural, result } from './verdict.js';

const refcountsBalancedMeta = {
  id: 'refcounts-balanced',
  severity: 'error',
  reasons: ['unbalanced', 'may-be-lost', 'balanced', 'no-module-events'],
  rule: { description: 'refcnt= agrees with the gets and puts seen; no put without a get' },
} as const;

export const refcountsBalanced = defineVerdict(refcountsBalancedMeta, (s, quality) => {
  const def = refcountsBalancedMeta;
  const mism = s.modules.filter((m) => m.refcntMismatchCount > 0);
  const orphanPuts = s.modules.flatMap((m) => m.putsWithoutGet.map((p) => ({ ...p, module: m.name })));
  // A disagreement after lost events, in an overwritten buffer, or a put whose get fell in a gap is
  // what missing events look like: it proves nothing about the kernel's counts.
  const lostBefore = (file: string, line: number) => lossBetween(quality, file, 0, line) ?? (overwritten(quality, file) ? { file, line } : null);
  const explained =
    mism.every((m) => m.refcntMismatches.length > 0 && m.refcntMismatches.every((x) => lostBefore(x.file, x.line) !== null)) &&
    orphanPuts.every((p) => p.reason === 'after-gap' || lostBefore(p.file, p.line) !== null);
  if ((mism.length || orphanPuts.length) && explained) {
    const first = [...mism.map((m) => m.refcntMismatches[0]), ...orphanPuts][0];
    const lost = lossBetween(quality, first.file, 0, first.line);
    return [
      result(
        def,
        'may-be-lost',
        'inconclusive',
        `${mism.length ? `refcnt= disagrees with the events seen in ${mism.map((m) => m.name).join(', ')}` : ''}${mism.length && orphanPuts.length ? '; ' : ''}${orphanPuts.length ? `${plural(orphanPuts.length, 'module_put')} without a matching get` : ''}, all after events were lost (${lost ? `first at ${lost.file}:${lost.line}` : 'ring buffer overwritten'}): the missing events can account for ${mism.length + orphanPuts.length === 1 ? 'it' : 'them'}; ${RECORD_MORE}`,
        [...mism.flatMap((m) => m.refcntMismatches.map((x) => ({ file: x.file, line: x.line }))), ...orphanPuts.map((p) => ({ file: p.file, line: p.line })), ...(lost ? [lost] : [])],
      ),
    ];
  }
  if (mism.length || orphanPuts.length) {
    const parts: string[] = [];
    for (const m of mism) {
      const f = m.refcntMismatches[0];
      parts.push(`${m.name}: refcnt=${f.actual} where the events seen give ${f.expected} at ${f.file}:${f.line} (call_site=${f.callSite}; ${plural(m.refcntMismatchCount, 'disagreement')}: lost events or an untraced __module_get)`);
    }
    for (const p of orphanPuts.slice(0, 5)) {
      parts.push(`${p.module}: module_put call_site=${p.callSite} at ${p.file}:${p.line} has no matching get${p.reason === 'after-gap' ? ' (probably lost in a gap)' : ''}`);
    }
    return [
      result(def, 'unbalanced', false, parts.join('; '), [
        ...mism.flatMap((m) => m.refcntMismatches.map((x) => ({ file: x.file, line: x.line }))),
        ...orphanPuts.map((p) => ({ file: p.file, line: p.line })),
      ]),
    ];
  }
  if (s.modules.length) {
    return [
      result(
        def,
        'balanced',
        true,
        `refcounts add up: ${s.modules.map((m) => `${m.name}${s.boots.length > 1 ? ` (boot ${m.boot})` : ''} ${m.gets} gets, ${m.puts} puts, refcnt ${m.firstRefcnt ?? '?'}→${m.finalRefcnt ?? '?'}`).join('; ')}`,
        [],
        'info',
      ),
    ];
  }
  return [result(def, 'no-module-events', 'n/a', 'no module reference events in these inputs', [], 'info')];
});
