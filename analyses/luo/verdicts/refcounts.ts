// refcounts-balanced: refcnt= agrees with the gets and puts seen, and no put comes without a get
// (docs/luo-model.md §4 "The refcnt field"). refcnt= is the kernel's own count: where it moves by
// more than the events seen, events are missing from the trace (lost, or cut without a marker). That
// proves the trace incomplete, not the kernel's counts wrong: inconclusive, never a failure.
import { lossBetween, missingFromTrace, overwritten, RECORD_MORE, RECORD_WHOLE, rmmodBefore } from './evidence.js';
import { putsWithoutGetCount } from '../schema.js';
import { defineVerdict, joinNamed, plural, result } from './verdict.js';

const refcountsBalancedMeta = {
  id: 'refcounts-balanced',
  severity: 'error',
  reasons: ['unbalanced', 'may-be-lost', 'events-missing', 'balanced', 'no-module-events'],
  rule: { description: 'refcnt= agrees with the gets and puts seen; no put without a get' },
} as const;

export const refcountsBalanced = defineVerdict(refcountsBalancedMeta, (s, quality) => {
  const def = refcountsBalancedMeta;
  const mism = s.modules.filter((m) => m.refcntMismatchCount > 0);
  const orphanPuts = s.modules.flatMap((m) => m.putsWithoutGet.map((p) => ({ ...p, module: m.name })));
  // The listed puts without a get, and those past the list's cap (counted only): the true count.
  const orphanCount = s.modules.reduce((a, m) => a + putsWithoutGetCount(m), 0);
  // A disagreement after lost events, in an overwritten buffer, or a put whose get fell in a gap is
  // what missing events look like: it proves nothing about the kernel's counts.
  const lostBefore = (file: string, line: number) => lossBetween(quality, file, 0, line) ?? (overwritten(quality, file) ? { file, line } : null);
  const mismatchesLost = mism.every((m) => m.refcntMismatches.length > 0 && m.refcntMismatches.every((x) => lostBefore(x.file, x.line) !== null));
  const orphansLost = orphanPuts.every((p) => p.reason === 'after-gap' || lostBefore(p.file, p.line) !== null);
  // A put whose get the kernel's count shows missing (refcnt rose by more than the gets seen before it).
  const getMissingBefore = (p: (typeof orphanPuts)[number]) =>
    s.modules.some((m) => m.name === p.module && m.refcntMismatches.some((x) => x.file === p.file && x.line < p.line && x.actual > x.expected));
  const orphansUnexplained = orphanPuts.filter((p) => p.reason !== 'after-gap' && lostBefore(p.file, p.line) === null && !getMissingBefore(p));
  const mismatchAt = mism.flatMap((m) => m.refcntMismatches.map((x) => ({ file: x.file, line: x.line })));
  if ((mism.length || orphanPuts.length) && mismatchesLost && orphansLost) {
    const first = [...mism.map((m) => m.refcntMismatches[0]), ...orphanPuts][0];
    const lost = lossBetween(quality, first.file, 0, first.line);
    return [
      result(
        def,
        'may-be-lost',
        'inconclusive',
        `${mism.length ? `refcnt= disagrees with the events seen in ${joinNamed(mism, (m) => m.name, 'modules', ', ')}` : ''}${mism.length && orphanPuts.length ? '; ' : ''}${orphanPuts.length ? `${plural(orphanCount, 'module_put')} without a matching get` : ''}, all after events were lost (${lost ? `first at ${lost.file}:${lost.line}` : 'ring buffer overwritten'}): the missing events can account for ${mism.length + orphanCount === 1 ? 'it' : 'them'}; ${RECORD_MORE}`,
        [...mismatchAt, ...orphanPuts.map((p) => ({ file: p.file, line: p.line })), ...(lost ? [lost] : [])],
      ),
    ];
  }
  if (orphansUnexplained.length) {
    const parts = orphansUnexplained
      .slice(0, 5)
      .map((p) => `${p.module}: module_put call_site=${p.callSite} at ${p.file}:${p.line} has no matching get${p.reason === 'after-gap' ? ' (probably lost in a gap)' : ''}`);
    for (const m of mism) parts.push(`${m.name}: ${missingFromTrace(m.refcntMismatches[0]).text}`);
    return [result(def, 'unbalanced', false, parts.join('; '), [...orphansUnexplained.map((p) => ({ file: p.file, line: p.line })), ...mismatchAt])];
  }
  if (mism.length) {
    // No marker explains it: the kernel's count still proves which events the trace is missing.
    const part = (m: (typeof mism)[number]) =>
      `${m.name}: ${missingFromTrace(m.refcntMismatches[0]).text}${m.refcntMismatchCount > 1 ? ` (${plural(m.refcntMismatchCount, 'discontinuity', 'discontinuities')} in all)` : ''}`;
    return [
      result(
        def,
        'events-missing',
        'inconclusive',
        `${joinNamed(mism, part, 'modules')}${orphanPuts.length ? `; ${plural(orphanCount, 'module_put')} without a matching get follow from it` : ''}: the trace is incomplete although it reports no loss, so the counts cannot be checked; ${RECORD_WHOLE}`,
        mism.flatMap((m) => m.refcntMismatches.flatMap((x) => [...(x.prevLine !== null ? [{ file: x.file, line: x.prevLine }] : []), { file: x.file, line: x.line }])),
      ),
    ];
  }
  // A module freed while the last refcnt= seen was above the base, after a rmmod that was not
  // forced (or, with events lost, by a rmmod not traced): the kernel had dropped every reference,
  // so the puts that did it are missing. A forced one is no-forced-unload-with-pins' to judge.
  const staleFrees = s.modules.flatMap((m) =>
    m.freed
      .filter((f) => f.refcnt !== null && f.refcnt > 1)
      .filter((f) => rmmodBefore(s, m.name, f.file, f.line)?.forced === false || (rmmodBefore(s, m.name, f.file, f.line) === null && lostBefore(f.file, f.line) !== null))
      .map((f) => ({ ...f, refcnt: f.refcnt as number, module: m.name })),
  );
  if (staleFrees.length) {
    const f = staleFrees[0];
    const lost = lostBefore(f.file, f.line);
    const r = rmmodBefore(s, f.module, f.file, f.line);
    const why = r ? `after a rmmod without O_TRUNC (${r.file}:${r.line}), which the kernel refuses while references remain` : 'by a rmmod the trace does not show';
    return [
      result(
        def,
        lost ? 'may-be-lost' : 'events-missing',
        'inconclusive',
        `${f.module} was freed at ${f.file}:${f.line} ${why}, while the last refcnt= seen was ${f.refcnt}: ${plural(f.refcnt - 1, 'module_put')} ${f.refcnt - 1 === 1 ? 'is' : 'are'} missing from the trace before the free${lost ? ` (events lost, first at ${lost.file}:${lost.line})` : ''}; ${lost ? RECORD_MORE : RECORD_WHOLE}`,
        [{ file: f.file, line: f.line }, ...(r ? [{ file: r.file, line: r.line }] : []), ...(lost ? [lost] : [])],
      ),
    ];
  }
  if (s.modules.length) {
    return [
      result(
        def,
        'balanced',
        true,
        `refcounts add up: ${joinNamed(s.modules, (m) => `${m.name}${s.boots.length > 1 ? ` (boot ${m.boot})` : ''} ${m.gets} gets, ${m.puts} puts, refcnt ${m.firstRefcnt ?? '?'}→${m.finalRefcnt ?? '?'}`, 'modules')}`,
        [],
        'info',
      ),
    ];
  }
  return [result(def, 'no-module-events', 'n/a', 'no module reference events in these inputs', [], 'info')];
});
