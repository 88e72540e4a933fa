// refcounts-balanced: refcnt= agrees with the gets and puts seen, and no put comes without a get
// (docs/luo-model.md §4 "The refcnt field").
import { defineVerdict, plural, result } from './verdict.js';

const refcountsBalancedMeta = {
  id: 'refcounts-balanced',
  severity: 'error',
  reasons: ['unbalanced', 'balanced', 'no-module-events'],
  rule: { description: 'refcnt= agrees with the gets and puts seen; no put without a get' },
} as const;

export const refcountsBalanced = defineVerdict(refcountsBalancedMeta, (s) => {
  const def = refcountsBalancedMeta;
  const mism = s.modules.filter((m) => m.refcntMismatchCount > 0);
  const orphanPuts = s.modules.flatMap((m) => m.putsWithoutGet.map((p) => ({ ...p, module: m.name })));
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
  return [result(def, 'no-module-events', true, 'no module reference events in these inputs', [], 'info')];
});
