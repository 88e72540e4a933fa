// Text rendering of the LUO sections of the analyze report: verdicts, boots and kexec, sessions
// with their phases, modules with refcounts and pin windows.
import { isLuoPin, isPutMaybeLost, PUT_MAYBE_LOST, pinOwner } from '../analyses/luo/pin-kinds.js';
import { missingFromTrace } from '../analyses/luo/verdicts/evidence.js';
import { formatDuration as fmtDuration, formatSeconds as fmtTime, shortFile } from '../analyses/format.js';
import { countedPast, type LuoSection, type PhaseJson, type PhaseTallyJson, type PinWindowJson, phaseResultText, registrationCount, rmmodCount, sessionTotals } from '../analyses/luo/schema.js';
import { table } from './table.js';

export interface RenderOptions {
  /** Rows shown per list before "… N more" (sessions, pin windows, rmmod calls, a module's registered names). */
  limit: number;
  /** Chart lines drawn under a module's refcnt line (the text report's refcnt over time), if any. */
  refcountChart?: (m: { name: string; boot: number }) => string[];
  /** Locks: list every lock, not only the LUO-related ones (cli/render-locks.ts). */
  allLocks?: boolean;
}

const MARK = { ok: '✔', error: '✘', warning: '!', info: '·', inconclusive: '?', na: '–' };




export function renderVerdicts(s: LuoSection): string {
  const out = ['VERDICTS'];
  for (const v of s.verdicts) {
    const mark = v.status === 'inconclusive' ? MARK.inconclusive : v.status === 'n/a' ? MARK.na : !v.ok ? MARK.error : v.severity === 'warning' ? MARK.warning : v.severity === 'info' && v.id !== 'modules-unpinned-after-finish' && v.id !== 'refcounts-balanced' ? MARK.info : MARK.ok;
    out.push(`  ${mark} ${v.id.padEnd(30)} ${v.message}`);
  }
  return out.join('\n');
}

export function renderKernelModel(s: LuoSection): string {
  const k = s.kernelModel;
  if (!k.id) return 'Kernel model: unknown (no LUO call sites, functions or lock names in the inputs)';
  return [
    `Kernel model: ${k.id}${k.forced ? ' (forced with --kernel-model)' : ''}: ${k.title}`,
    `  module refs: ${k.pinning}`,
    k.evidence.length ? `  evidence: ${k.evidence.slice(0, 6).join('; ')}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

/** Several functions share a phase (liveupdate_reboot, luo_session_serialize... all freeze): name both. */
const globalLabel = (p: { name: string; func: string }): string => (p.name.startsWith(p.func) ? p.name : `${p.name} (${p.func})`);

/** Phases counted, not listed, in words: `label ×count, n failed ERRNO, longest d`. */
const tallyText = (t: PhaseTallyJson, label: string): string =>
  `${label} ×${t.count}${Object.entries(t.errors).map(([e, n]) => `, ${n} failed ${e}`).join('')}${t.maxNs !== null ? `, longest ${fmtDuration(t.maxNs)}` : ''}`;

/**
 * A boot's global phases: the first --limit, and its last liveupdate_reboot (the attempt that decides
 * the kexec) when it is past them; those past the report's cap as one line of tallies. A kexec retry
 * loop makes one liveupdate_reboot per attempt.
 */
function globalPhaseLines(b: LuoSection['boots'][number], limit: number): string[] {
  const shown = b.globalPhases.filter((p) => !(p.func === 'luo_session_deserialize' && b.role !== 'incoming'));
  const line = (p: PhaseJson) => `    ${globalLabel(p).padEnd(38)} ${fmtTime(p.start)}  ${(p.acrossLoss ? '? (loss)' : fmtDuration(p.durationNs)).padStart(12)}  ${phaseResultText(p)}  ${shortFile(p.file)}:${p.line}`;
  const out = shown.slice(0, limit).map(line);
  if (shown.length > limit) {
    const last = [...shown].reverse().find((p) => p.func === 'liveupdate_reboot');
    const after = last && shown.indexOf(last) >= limit ? last : undefined;
    const more = shown.length - limit - (after ? 1 : 0);
    if (more > 0) out.push(`    … ${more} more global phases (--limit N, or --json)`);
    if (after) out.push(line(after));
  }
  const past = b.globalPhasesOmitted ?? [];
  if (past.length) out.push(`    … and ${countedPast(past)} more global phases counted, not listed (${past.map((t) => tallyText(t, globalLabel(t))).join('; ')}; in --json: globalPhasesOmitted)`);
  return out;
}

export function renderBoots(s: LuoSection, opts: Pick<RenderOptions, 'limit'>): string {
  const out = ['BOOTS'];
  for (const b of s.boots) {
    out.push(`  boot ${b.id}  ${b.role.padEnd(8)}  ${fmtTime(b.start)}..${fmtTime(b.end)} s  ${b.files.map(shortFile).join(', ')}${b.liveupdateNumber !== null ? `  (liveupdate number ${b.liveupdateNumber})` : ''}`);
    // A later file of the same running kernel was read as part of this boot: say so, and why.
    for (const jn of b.joined ?? []) out.push(`    joined: ${shortFile(jn.file)} continues ${shortFile(jn.continues)} (same kernel: ${jn.evidence.join('; ')})`);
    out.push(...globalPhaseLines(b, opts.limit));
    const k = b.kexec;
    if (k && k.result !== null && k.result < 0) {
      // A failed live update (docs/luo-model.md §6 "Freeze failure variant"): where it shows, what failed.
      const f = k.failure;
      const why = f ? `; freeze() of token ${f.token ?? '?'}${f.handler ? ` (${f.handler})` : ''} failed ${f.result ?? '?'}${f.error ? ` ${f.error}` : ''} at ${shortFile(f.file)}:${f.line}` : '';
      const sys = k.syscall ? `, reboot() ${k.syscall.result} at ${shortFile(k.syscall.file)}:${k.syscall.line}` : '';
      out.push(`    kexec -e FAILED: liveupdate_reboot ${k.result} ${k.error ?? ''} at ${shortFile(k.file)}:${k.endLine ?? k.line}${sys}${why}; the old kernel ran on`);
    }
    // A long trace (an insmod/rmmod loop) holds thousands: the first --limit, the rest in --json.
    for (const r of b.rmmod.slice(0, opts.limit)) {
      out.push(`    rmmod ${r.module ?? '?'}${r.forced ? ' -f' : ''}  -> ${r.result === null ? '?' : r.result}${r.error ? ` ${r.error}` : ''}${r.refcntBefore !== null ? `  (refcnt ${r.refcntBefore})` : ''}  ${shortFile(r.file)}:${r.line}`);
    }
    if (b.rmmod.length > opts.limit) out.push(`    … ${b.rmmod.length - opts.limit} more rmmod calls (--limit N, or --json)`);
    const rmmodPast = rmmodCount(b) - b.rmmod.length;
    if (rmmodPast > 0) out.push(`    … and ${rmmodPast} more rmmod calls counted, not listed (by module and result in --json: rmmodOmitted)`);
    // Caps bound the list, never the count (analyses/luo/registry.ts): say what the JSON does not list.
    const regOmitted = registrationCount(b) - b.registrations.length;
    if (regOmitted > 0) {
      const all = b.registrationsOmitted ?? [];
      const classes = all.slice(0, 8).map((c) => `${c.action} ${c.what}${c.module !== null ? ` of ${c.module}` : ''} ${c.outcome === 'failed' ? `failed${c.error ? ` ${c.error}` : ''}` : c.outcome} ${c.count}`);
      out.push(`    registrations: ${registrationCount(b)} calls; ${b.registrations.length} listed in --json, ${regOmitted} more counted, not listed (${classes.join(', ')}${all.length > 8 ? `, … ${all.length - 8} more classes in --json` : ''})${b.registrationNamesOmitted ? `; ${b.registrationNamesOmitted} with names not kept` : ''}`);
    }
  }
  return out.join('\n');
}


/** "3120 aborted: …": sessions per outcome, the ones past the listing cap (counted by state) included. */
function outcomeCounts(s: LuoSection): string[] {
  const byOutcome = new Map<string, number>();
  const outcomesOf = new Map<string, Set<string>>();
  for (const x of s.sessions) {
    byOutcome.set(x.outcome, (byOutcome.get(x.outcome) ?? 0) + 1);
    outcomesOf.set(x.state, (outcomesOf.get(x.state) ?? new Set()).add(x.outcome));
  }
  for (const [state, n] of Object.entries(s.sessionsOmitted ?? {})) {
    const outs = [...(outcomesOf.get(state) ?? [])];
    const key = outs.length === 1 ? outs[0] : `${state} (not listed)`;
    byOutcome.set(key, (byOutcome.get(key) ?? 0) + n);
  }
  return [...byOutcome].map(([k, n]) => `${n} ${k}`);
}

export function renderSessions(s: LuoSection, opts: RenderOptions): string {
  // Caps bound the list, never the count: sessions past the cap are counted by state (sessionsOmitted).
  const t = sessionTotals(s);
  const out = [t.omitted > 0 ? `SESSIONS (${t.total}; ${t.listed} listed, ${t.omitted} more counted by state: ${t.byState})` : `SESSIONS (${t.total})`];
  if (s.sessions.length === 0) {
    out.push(s.probedFunctions.length ? '  none seen' : '  none seen: the inputs have no probes on LUO functions (sessions cannot be seen from module events alone)');
    return out.join('\n');
  }
  if (s.sessions.length > opts.limit) out.push(`  ${outcomeCounts(s).join('; ')}`);
  for (const x of s.sessions.slice(0, opts.limit)) {
    const peer = x.peer ? `; ${x.side === 'outgoing' ? 'continues as' : 'continued from'} #${x.peer.id} in boot ${x.peer.boot}` : '';
    out.push(`  #${x.id} ${x.name ?? '(unnamed)'}  ${x.side}, boot ${x.boot}: ${x.outcome}${peer}`);
    out.push(`     ${x.comm ?? '?'}-${x.pid ?? '?'}, file_set ${x.fileSet ?? '?'}, LUO pins ${x.pins.taken} taken / ${x.pins.released} released / ${x.pins.open} open`);
    const rows = [['phase', 'start s', 'duration', 'result', 'detail', 'line']];
    for (const p of x.phases) {
      const file = x.files.find((f) => f.token === p.token);
      const detail = [p.token ? `token ${p.token}` : '', file?.handler ?? '', file?.fd !== null && file?.fd !== undefined && p.name === 'preserve' ? `fd ${file.fd}` : '', p.via ? `by ${p.via}` : '']
        .filter(Boolean)
        .join(', ');
      rows.push([p.name, fmtTime(p.start), p.acrossLoss ? '? (events lost in between)' : fmtDuration(p.durationNs), phaseResultText(p), detail, `${shortFile(p.file)}:${p.line}`]);
    }
    out.push(indent(table(rows, new Set([2])), 5));
    const past = x.phasesOmitted ?? [];
    if (past.length) out.push(`     … and ${countedPast(past)} more calls of earlier kexec attempts counted, not listed (${past.map((t) => tallyText(t, t.name)).join('; ')}; in --json: phasesOmitted)`);
    for (const u of x.unseen) out.push(`     not seen: ${u}`);
  }
  if (s.sessions.length > opts.limit) {
    const t = sessionTotals(s);
    out.push(`  … ${t.total - opts.limit} more sessions (${t.omitted ? `${t.listed - opts.limit} with --limit N or --json; ${t.omitted} counted by state only` : '--limit N, or --json'})`);
  }
  return out.join('\n');
}

export function renderModules(s: LuoSection, opts: RenderOptions): string {
  const out = ['MODULES'];
  if (s.modules.length === 0) {
    out.push('  no module_get/module_put events (built-in handlers such as memfd take no module references)');
    return out.join('\n');
  }
  for (const m of s.modules) {
    const sites = (r: Record<string, number>) =>
      Object.entries(r)
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} ×${n}`)
        .join(', ');
    out.push(`  ${m.name} (boot ${m.boot}): refcnt ${m.firstRefcnt ?? '?'} → ${m.finalRefcnt ?? '?'} (raw, 1 = idle), max ${m.maxRefcnt ?? '?'}; LUO pins open at the end: ${m.openPins}`);
    for (const l of opts.refcountChart?.(m) ?? []) out.push(`     ${l}`);
    out.push(`     gets ${m.gets}: ${sites(m.getsBySite) || '-'}`);
    out.push(`     puts ${m.puts}: ${sites(m.putsBySite) || '-'}${m.untracedLoadRefPuts ? ` (do_init_module drops the untraced load-time ref)` : ''}`);
    if (m.handlers.length || m.flbs.length) {
      // A hostile trace can register thousands of names (analyses/luo/registry.ts): one readable line, the rest in --json.
      const names = [...m.handlers.map((h) => `handler ${h}`), ...m.flbs.map((f) => `FLB ${f}`)];
      out.push(`     registers: ${names.slice(0, opts.limit).join(', ')}${names.length > opts.limit ? `, … ${names.length - opts.limit} more in --json` : ''}`);
    }
    for (const mm of m.refcntMismatches.slice(0, 3)) out.push(`     refcnt disagrees at ${shortFile(mm.file)}:${mm.line}: expected ${mm.expected}, trace says ${mm.actual} (${mm.callSite}): ${missingFromTrace({ ...mm, file: shortFile(mm.file) }).text}`);
    for (const p of m.putsWithoutGet.slice(0, 3)) out.push(`     put without get at ${shortFile(p.file)}:${p.line} (${p.callSite}, ${p.reason})`);
    const luo = m.pinWindows.filter(isLuoPin);
    if (luo.length) {
      const sorted = [...luo].sort((a, b) => Number(a.putLine !== null) - Number(b.putLine !== null) || a.getLine - b.getLine);
      out.push(`     LUO pin windows (${luo.length}; open first):`);
      const rows = [['get line', 'get call site', 'put line', 'put call site', 'session', 'held', 'state']];
      for (const w of sorted.slice(0, opts.limit)) rows.push(pinRow(w));
      out.push(indent(table(rows, new Set([0, 2, 5])), 7));
      if (luo.length > opts.limit) out.push(`       … ${luo.length - opts.limit} more`);
    }
    // PRE kernels: the registration pin is LUO's, but no session's (analyses/luo/pin-kinds.ts).
    const reg = m.pinWindows.filter((w) => w.class === 'luo-registration');
    if (reg.length) {
      const gets = reg.slice(0, opts.limit).map((w) => `${shortFile(w.file)}:${w.getLine}`).join(', ');
      out.push(`     registration pins (held while registered, not session pins): ${reg.length} taken, ${reg.filter((w) => w.putLine !== null).length} released; got at ${gets}${reg.length > opts.limit ? ', …' : ''}`);
    }
    const vfs = m.pinWindows.filter((w) => w.class === 'vfs');
    if (vfs.length) out.push(`     VFS references (not LUO pins): ${vfs.length} taken, ${vfs.filter((w) => w.putLine !== null).length} released`);
  }
  return out.join('\n');
}

function pinRow(w: PinWindowJson): string[] {
  const state = w.putLine !== null ? (w.incomplete ? 'released (gap: incomplete)' : 'released') : w.expectedOpen ? `open: ${w.expectedOpen.split(':')[0]}` : isPutMaybeLost(w) ? PUT_MAYBE_LOST.text : 'OPEN: LEAK';
  return [
    String(w.getLine),
    w.getCallSite,
    w.putLine === null ? '-' : w.putFile !== undefined ? `${shortFile(w.putFile)}:${w.putLine}` : String(w.putLine),
    w.putCallSite ?? '-',
    pinOwner(w),
    fmtDuration(w.durationNs),
    state,
  ];
}

function indent(text: string, n: number): string {
  const pad = ' '.repeat(n);
  return text
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}

export function renderLuoText(s: LuoSection, opts: RenderOptions): string[] {
  return [renderVerdicts(s), renderKernelModel(s), renderBoots(s, opts), renderSessions(s, opts), renderModules(s, opts)];
}
