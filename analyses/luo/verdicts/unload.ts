// no-forced-unload-with-pins: module_free while references beyond the base remain (docs/luo-model.md
// §7(b)); rmmod (information): delete_module refused with -EWOULDBLOCK while sessions pin the module
// is the correct POST behaviour (§7 "rmmod M during an active session"), and successful unloads.
import { defineVerdict, plural, result } from './verdict.js';

const noForcedUnloadWithPinsMeta = {
  id: 'no-forced-unload-with-pins',
  severity: 'error',
  reasons: ['freed-while-referenced', 'forced-rmmod-nothing-freed', 'none'],
  rule: { description: 'no module freed while references beyond the base remained (luo-model.md §7(b))' },
} as const;

export const noForcedUnloadWithPins = defineVerdict(noForcedUnloadWithPinsMeta, (s) => {
  const def = noForcedUnloadWithPinsMeta;
  const forcedFrees = s.modules.flatMap((m) =>
    m.freed.filter((f) => f.refcnt !== null && f.refcnt > 1).map((f) => ({ ...f, refcnt: f.refcnt as number, module: m.name, open: m.openPins })),
  );
  const forcedRmmod = s.boots.flatMap((b) => b.rmmod.filter((r) => r.forced));
  if (forcedFrees.length) {
    return [
      result(
        def,
        'freed-while-referenced',
        false,
        forcedFrees
          .map((f) => `${f.module} freed at ${f.file}:${f.line} while its refcnt was ${f.refcnt} (${f.refcnt - 1} references beyond the base${f.open ? `, ${plural(f.open, 'LUO pin')} open` : ''}): forced unload leaves LUO pointing at freed handler code`)
          .join('; '),
        [...forcedFrees.map((f) => ({ file: f.file, line: f.line })), ...forcedRmmod.map((r) => ({ file: r.file, line: r.line }))],
      ),
    ];
  }
  return forcedRmmod.length
    ? [result(def, 'forced-rmmod-nothing-freed', true, `${plural(forcedRmmod.length, 'forced rmmod')} but no module was freed while referenced`, [], 'info')]
    : [result(def, 'none', true, 'no module was unloaded while referenced', [], 'info')];
});

const rmmodMeta = {
  id: 'rmmod',
  severity: 'info',
  reasons: ['refused', 'unloaded'],
} as const;

export const rmmod = defineVerdict(rmmodMeta, (s) => {
  const refused = s.boots.flatMap((b) => b.rmmod.filter((r) => r.result !== null && r.result < 0));
  const done = s.boots.flatMap((b) => b.rmmod.filter((r) => r.result === 0));
  if (!refused.length && !done.length) return [];
  const parts: string[] = [];
  if (refused.length) {
    const r = refused[0];
    parts.push(
      `rmmod ${r.module ?? '?'} refused ${refused.length > 1 ? `${refused.length}× ` : ''}with ${r.result} ${r.error === 'EAGAIN' ? 'EAGAIN/EWOULDBLOCK' : r.error} (first at ${r.file}:${r.line}${r.refcntBefore !== null ? `, refcnt ${r.refcntBefore}: ${r.refcntBefore - 1} references held` : ''}): correct while sessions pin the module`,
    );
  }
  if (done.length) parts.push(`rmmod ${[...new Set(done.map((d) => d.module ?? '?'))].join(', ')} succeeded at ${done.map((d) => `${d.file}:${d.line}`).join(', ')}`);
  return [result(rmmodMeta, refused.length ? 'refused' : 'unloaded', true, parts.join('; '), [...refused, ...done].map((r) => ({ file: r.file, line: r.line })), 'info')];
});
