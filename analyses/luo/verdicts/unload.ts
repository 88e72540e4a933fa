// no-forced-unload-with-pins: module_free while references beyond the base remain (docs/luo-model.md
// §7(b)); rmmod (information): delete_module refused with -EWOULDBLOCK while sessions pin the module
// is the correct POST behaviour (§7 "rmmod M during an active session"), and successful unloads.
import { countedPast, type LuoSectionBody } from '../schema.js';
import { countByKind, isLuoPin } from '../pin-kinds.js';
import { groupBy } from '../../lists.js';
import { lossBetween, overwritten, RECORD_MORE, rmmodBefore } from './evidence.js';
import { LatestBefore } from './latest-before.js';
import { defineVerdict, joinNamed, plural, result } from './verdict.js';

const noForcedUnloadWithPinsMeta = {
  id: 'no-forced-unload-with-pins',
  severity: 'error',
  reasons: ['freed-while-referenced', 'refcnt-may-be-stale', 'normal-rmmod', 'forced-rmmod-nothing-freed', 'none'],
  rule: { description: 'no module freed while references beyond the base remained (luo-model.md §7(b))' },
} as const;

type Free = { file: string; line: number; refcnt: number; module: string; open: number };

const rmmodOf = (s: LuoSectionBody, f: Free): Rmmod | null => rmmodBefore(s, f.module, f.file, f.line);

export const noForcedUnloadWithPins = defineVerdict(noForcedUnloadWithPinsMeta, (s, quality) => {
  const def = noForcedUnloadWithPinsMeta;
  const frees: Free[] = s.modules.flatMap((m) =>
    m.freed.filter((f) => f.refcnt !== null && f.refcnt > 1).map((f) => ({ ...f, refcnt: f.refcnt as number, module: m.name, open: m.openPins })),
  );
  const forcedRmmod = s.boots.flatMap((b) => b.rmmod.filter((r) => r.forced));
  const text = (f: Free) => `${f.module} freed at ${f.file}:${f.line} while its last refcnt seen was ${f.refcnt}`;
  // A normal rmmod succeeded: the kernel dropped every reference first, the refcnt seen is stale.
  const normal = frees.filter((f) => rmmodOf(s, f)?.forced === false && rmmodOf(s, f)?.result === 0);
  const isNormal = new Set(normal);
  const rest = frees.filter((f) => !isNormal.has(f));
  // Without a normal rmmod to prove it either way, events lost before the free may hold the puts.
  const lost = (f: Free) => lossBetween(quality, f.file, 0, f.line) ?? (overwritten(quality, f.file) ? { file: f.file, line: f.line } : null);
  const sure = rest.filter((f) => lost(f) === null);
  if (sure.length) {
    return [
      result(
        def,
        'freed-while-referenced',
        false,
        joinNamed(
          sure,
          (f) => `${f.module} freed at ${f.file}:${f.line} while its refcnt was ${f.refcnt} (${f.refcnt - 1} references beyond the base${f.open ? `, ${plural(f.open, 'LUO pin')} open` : ''}): forced unload leaves LUO pointing at freed handler code`,
          'modules freed while referenced',
        ),
        [...sure.map((f) => ({ file: f.file, line: f.line })), ...forcedRmmod.map((r) => ({ file: r.file, line: r.line }))],
      ),
    ];
  }
  if (rest.length) {
    const at = lost(rest[0]);
    return [
      result(
        def,
        'refcnt-may-be-stale',
        'inconclusive',
        `${joinNamed(rest, text, 'frees alike')}, but events were lost before it (${at ? `${at.file}:${at.line}` : 'ring buffer overwritten'}): the puts that brought it to the base may be among them, and no normal rmmod in the trace proves it either way; ${RECORD_MORE}`,
        [...rest.map((f) => ({ file: f.file, line: f.line })), ...(at ? [at] : [])],
      ),
    ];
  }
  if (normal.length) {
    const r = rmmodOf(s, normal[0]) as Rmmod;
    return [
      result(
        def,
        'normal-rmmod',
        true,
        `${joinNamed(normal, text, 'frees alike')}, after a normal rmmod (${r.file}:${r.line}, no O_TRUNC: the kernel refuses that while references remain): no references were left, and the refcnt seen is stale: module_puts are missing from the trace`,
        normal.flatMap((f) => [{ file: f.file, line: f.line }, { file: (rmmodOf(s, f) as Rmmod).file, line: (rmmodOf(s, f) as Rmmod).line }]),
        'warning',
      ),
    ];
  }
  // Forced calls past the report's list freed nothing (the rmmod of every traced free is listed: refcounts.ts DeleteList).
  const forcedPast = s.boots.reduce((a, b) => a + countedPast(b.rmmodOmitted, (c) => c.forced), 0);
  const pastText = forcedPast ? `${forcedRmmod.length ? '; and ' : ''}${forcedPast} forced rmmod calls counted past the report's list, none followed by a module_free` : '';
  return forcedRmmod.length || forcedPast
    ? [result(def, 'forced-rmmod-nothing-freed', true, joinNamed(forcedRmmod, (r) => forcedText(s, r), 'forced rmmods') + pastText, forcedRmmod.map((r) => ({ file: r.file, line: r.line })), 'info')]
    : [result(def, 'none', true, 'no module was unloaded while referenced', [], 'info')];
});

/** A forced rmmod that freed nothing still referenced: what forced it and what it held (docs/luo-model.md §4 "Unload behaviour"). */
function forcedText(s: LuoSectionBody, r: Rmmod): string {
  const beyond = r.refcntBefore !== null ? r.refcntBefore - 1 : 0;
  const held = beyond > 0 ? ` with refcnt ${r.refcntBefore} (${plural(beyond, 'reference')} beyond the base)` : '';
  const flags = r.flags ? ` (delete_module flags ${r.flags} include O_TRUNC)` : '';
  // try_stop_module forces only while references remain: at refcnt 1 (the base) it unloads as a
  // plain rmmod would, and nothing is forced or tainted (the real split-rmmod-f capture).
  if (r.result === 0 && r.refcntBefore === 1) {
    return `rmmod -f ${r.module ?? '?'} at ${r.file}:${r.line}${flags} had nothing to force: refcnt 1, no reference beyond the base, so it unloaded as a plain rmmod would and no module was freed while referenced`;
  }
  const outcome =
    r.result !== 0
      ? `it returned ${r.result ?? '?'}${r.error ? ` ${r.error}` : ''}`
      : beyond > 0
        ? releasedText(s, r, beyond)
        : 'no module was freed while referenced';
  return `rmmod -f ${r.module ?? '?'} at ${r.file}:${r.line} forced the unload${flags}${held}: ${outcome}`;
}

/**
 * The references a successful forced rmmod found, and what put them before module_free: a pre-series
 * handler's exit puts its registration pin (docs/luo-model.md §4 "Unload behaviour"; real preseries).
 */
function releasedText(s: LuoSectionBody, r: Rmmod, beyond: number): string {
  const put = openAt(s, r).filter((w) => w.putLine !== null);
  const named = put.slice(0, 3).map((w) => `${w.class === 'luo-registration' ? 'the registration pin' : `a ${w.class} reference`} (got at ${w.file}:${w.getLine}) was put by ${w.putCallSite ?? '?'} at ${w.putFile ?? w.file}:${w.putLine}`);
  if (!named.length) return `${beyond === 1 ? 'it was' : 'they were'} released before module_free, so no module was freed while referenced`;
  return `${named.join(', ')}${put.length > 3 ? `, and ${put.length - 3} more` : ''} before module_free, so no module was freed while referenced`;
}

const rmmodMeta = {
  id: 'rmmod',
  severity: 'info',
  reasons: ['refused', 'unloaded'],
} as const;

type Rmmod = LuoSectionBody['boots'][number]['rmmod'][number];
type Window = LuoSectionBody['modules'][number]['pinWindows'][number];

/**
 * Pin windows of `r.module` open at the rmmod line. Lines order events within a file, and the files
 * of a boot are in reading order (a later file of the same kernel continues it: boots[].joined).
 * Called once per refused rmmod: each window costs a few lookups, no list or closure of its own
 * (on 100 MB of repeated capture, 72 refusals each scanned 5000 windows: issue 17).
 */
function openAt(s: LuoSectionBody, r: Rmmod, boot = bootOf(s, r)): Window[] {
  const files = bootFiles(boot, r);
  const before = beforeIn(r, files);
  const out: Window[] = [];
  for (const m of s.modules) {
    if (m.name !== r.module) continue;
    for (const w of m.pinWindows) {
      if (files.has(w.file) && before(w.file, w.getLine) && (w.putLine === null || !before(w.putFile ?? w.file, w.putLine))) out.push(w);
    }
  }
  return out;
}

type Boot = LuoSectionBody['boots'][number];

/** The boot whose rmmod list holds `r` (a scan of every boot: verdicts over many rmmods use bootsOfRmmods). */
function bootOf(s: LuoSectionBody, r: Rmmod): Boot | undefined {
  return s.boots.find((b) => b.rmmod.includes(r));
}

/** Each rmmod's boot, in one pass (asking bootOf for each of many rmmods was quadratic in them). */
function bootsOfRmmods(s: LuoSectionBody): Map<Rmmod, Boot> {
  const out = new Map<Rmmod, Boot>();
  for (const b of s.boots) for (const r of b.rmmod) if (!out.has(r)) out.set(r, b);
  return out;
}

/** The files of `r`'s boot in reading order (file -> index), or only its own file. */
function bootFiles(boot: Boot | undefined, r: Rmmod): Map<string, number> {
  const list = boot?.files ?? [r.file];
  const index = new Map<string, number>();
  // indexOf's answer: the first position of a name given twice.
  list.forEach((f, i) => {
    if (!index.has(f)) index.set(f, i);
  });
  return index;
}

/** Is (file, line) before the rmmod `r` in its boot (the boot's files in reading order, lines within a file)? */
function beforeIn(r: Rmmod, files: Map<string, number>): (file: string, line: number) => boolean {
  const at = files.get(r.file) ?? -1;
  return (file, line) => (files.get(file) ?? -1) < at || (file === r.file && line < r.line);
}

/** -ENOENT: which successful rmmod of the same boot had unloaded the module, when the trace shows it. */
function notLoadedWhy(r: Rmmod, boot: Boot | undefined): string {
  const last = unloadBefore(r, boot);
  return last
    ? `the module was not loaded: ${last.forced ? 'rmmod -f' : 'rmmod'} at ${last.file}:${last.line} had already unloaded it`
    : 'the module was not loaded (never loaded, or unloaded before the trace began)';
}

/** Successful rmmods by boot and module, by position in the boot (its files in reading order, lines within a file). */
const unloadIndex = new WeakMap<Boot, Map<string | null, LatestBefore<Rmmod>>>();

/** The last successful rmmod of `r`'s module before `r` in its boot (each -ENOENT asked this of every rmmod of the boot: quadratic). */
function unloadBefore(r: Rmmod, boot: Boot | undefined): Rmmod | null {
  const files = bootFiles(boot, r);
  const at = files.get(r.file) ?? -1;
  if (boot === undefined || at < 0) {
    // Not in the boot's files (no index by position): the scan, for this rare case.
    const before = beforeIn(r, files);
    return (boot?.rmmod ?? []).filter((d) => d.result === 0 && d.module === r.module && before(d.file, d.line)).at(-1) ?? null;
  }
  let byModule = unloadIndex.get(boot);
  if (!byModule) {
    const pos = (d: Rmmod) => files.get(d.file) ?? -1;
    const lists = groupBy(boot.rmmod.filter((d) => d.result === 0), (d) => d.module);
    byModule = new Map([...lists].map(([m, list]) => [m, new LatestBefore(list, (a, b) => pos(a) - pos(b) || a.line - b.line)]));
    unloadIndex.set(boot, byModule);
  }
  // Before r: an earlier file of the boot, or r's file at an earlier line (a file given twice has its first index).
  return byModule.get(r.module)?.latest((d) => (files.get(d.file) ?? -1) < at || (d.file === r.file && d.line < r.line)) ?? null;
}

/**
 * Why delete_module refused, by errno (kernel/module/main.c, SYSCALL_DEFINE2(delete_module)):
 * -ENOENT no such module loaded (an earlier rmmod already unloaded it); -EWOULDBLOCK (= -EAGAIN)
 * from try_stop_module while references above the base remain; -EBUSY another module uses it, or it
 * is still initializing or already going. For -EWOULDBLOCK the open pins say who holds it: session
 * pins (correct, docs/luo-model.md §7 "while a session holds M's files") or the pre-series
 * registration pin (the bug of §7(a), (c): pinned for as long as it is registered).
 */
function refusalWhy(s: LuoSectionBody, r: Rmmod, boot: Boot | undefined): { kind: string; text: string } {
  if (r.error === 'ENOENT') return { kind: 'not-loaded', text: notLoadedWhy(r, boot) };
  if (r.error === 'EBUSY') return { kind: 'busy', text: 'another module depends on it, or it was still initializing or unloading' };
  if (r.error !== 'EAGAIN' && r.error !== 'EWOULDBLOCK') return { kind: 'other', text: 'refused by delete_module' };
  const open = openAt(s, r, boot);
  const luoPins = open.filter(isLuoPin);
  if (luoPins.length > 0) return { kind: 'session-pins', text: `correct while sessions pin the module (${countByKind(luoPins)} open)` };
  const reg = open.find((w) => w.class === 'luo-registration');
  if (reg) {
    const where = `taken by ${reg.getCallSite} at ${reg.file}:${reg.getLine}`;
    return { kind: 'registration-pin', text: `no session pinned it: the registration pin ${where} keeps it (pre-series kernel: a handler's module is pinned for as long as it is registered, docs/luo-model.md §7(a))` };
  }
  return { kind: 'other-references', text: 'references held by something other than a LUO session' };
}

type RefusalGroup = { r: Rmmod; why: string; n: number };

/** One group per module, errno and kind of reason (not its figures: the open pin count differs between refusals), the first refusal of each. */
function refusalGroups(s: LuoSectionBody, refused: Rmmod[]): RefusalGroup[] {
  const groups = new Map<string, RefusalGroup>();
  const boots = bootsOfRmmods(s);
  for (const r of refused) {
    const { kind, text } = refusalWhy(s, r, boots.get(r));
    const key = `${r.module}\u0000${r.result}\u0000${kind}`;
    const g = groups.get(key);
    if (g) g.n++;
    else groups.set(key, { r, why: text, n: 1 });
  }
  return [...groups.values()];
}

const refusalText = ({ r, why, n }: RefusalGroup): string =>
  `rmmod ${r.module ?? '?'} refused ${n > 1 ? `${n}× ` : ''}with ${r.result} ${r.error === 'EAGAIN' ? 'EAGAIN/EWOULDBLOCK' : r.error} (first at ${r.file}:${r.line}${r.refcntBefore !== null ? `, refcnt ${r.refcntBefore}: ${plural(r.refcntBefore - 1, 'reference')} held` : ''}): ${why}`;

/** The successful rmmods: which modules, and where (the first MESSAGE_CAP of each named, the rest counted). */
function doneText(done: Rmmod[]): string {
  const modules = [...new Set(done.map((d) => `${d.forced ? '-f ' : ''}${d.module ?? '?'}`))];
  const where = joinNamed(done, (d) => `${d.file}:${d.line}${d.forced ? ` (-f: flags ${d.flags ?? '?'})` : ''}`, 'rmmods', ', ');
  return `rmmod ${joinNamed(modules, (m) => m, 'modules', ', ')} succeeded at ${where}`;
}

/** The calls past the report's list (schema.ts rmmodOmitted): how many were refused, succeeded, or have no return. */
function pastByOutcome(s: LuoSectionBody): { refused: number; done: number; open: number } {
  const n = { refused: 0, done: 0, open: 0 };
  for (const c of s.boots.flatMap((b) => b.rmmodOmitted ?? [])) n[c.result === null ? 'open' : c.result < 0 ? 'refused' : 'done'] += c.count;
  return n;
}

export const rmmod = defineVerdict(rmmodMeta, (s) => {
  const refused = s.boots.flatMap((b) => b.rmmod.filter((r) => r.result !== null && r.result < 0));
  const done = s.boots.flatMap((b) => b.rmmod.filter((r) => r.result === 0));
  const past = pastByOutcome(s);
  if (!refused.length && !done.length && !past.refused && !past.done) return [];
  // One sentence per module, errno and reason, then the successes; a long trace names the first ones.
  const parts = refused.length ? [joinNamed(refusalGroups(s, refused), refusalText, 'kinds of refusal (module, errno, reason)')] : [];
  if (done.length) parts.push(doneText(done));
  if (past.refused + past.done + past.open) {
    parts.push(`${past.refused + past.done + past.open} more rmmod calls counted past the report's list: ${past.refused} refused, ${past.done} succeeded${past.open ? `, ${past.open} without a return seen` : ''}`);
  }
  return [result(rmmodMeta, refused.length || past.refused ? 'refused' : 'unloaded', true, parts.join('; '), [...refused, ...done].map((r) => ({ file: r.file, line: r.line })), 'info')];
});
