// How the report's objects point at each other, for drilling down: which pin windows, sessions and
// modules a verdict is about, and which objects a raw line is evidence of. Everything here derives
// from the report (file + line on every verdict, phase and window), so it works the same on a
// snapshot taken while --follow is running.
import type { ModuleJson, PhaseJson, PinWindowJson, SessionJson } from '../../analyses/luo/schema.js';
import type { AnalyzeReport } from '../../analyses/report.js';
import { isLuoPin as isLuoPinKind, pinOwner } from '../../analyses/luo/pin-kinds.js';
import type { View } from './views.js';

export type Verdict = AnalyzeReport['verdicts'][number];
export interface At {
  file: string;
  line: number;
}

export const pinKey = (w: Pick<PinWindowJson, 'file' | 'getLine'>): string => `${w.file}:${w.getLine}`;
export const moduleKey = (m: Pick<ModuleJson, 'name' | 'boot'>): string => `${m.name}@${m.boot}`;
const atKey = (file: string, line: number) => `${file}\n${line}`;

export interface PinRef {
  module: ModuleJson;
  window: PinWindowJson;
}

export function allPins(r: AnalyzeReport): PinRef[] {
  return r.modules.flatMap((module) => module.pinWindows.map((window) => ({ module, window })));
}

const pinIndexes = new WeakMap<AnalyzeReport, Map<string, PinRef>>();

/** The pin window whose module_get is at `file:line` (an index per report: runs can have 10^5 windows). */
export function findPin(r: AnalyzeReport, key: string): PinRef | null {
  let index = pinIndexes.get(r);
  if (!index) {
    index = new Map();
    for (const module of r.modules) for (const window of module.pinWindows) index.set(pinKey(window), { module, window });
    pinIndexes.set(r, index);
  }
  return index.get(key) ?? null;
}

export function findModule(r: AnalyzeReport, key: string): ModuleJson | null {
  return r.modules.find((m) => moduleKey(m) === key) ?? null;
}

/** A session or FLB pin (analyses/luo/pin-kinds.ts): registration pins and VFS references are not. */
export const isLuoPin = (w: PinWindowJson): boolean => isLuoPinKind(w);

/** Open windows first (LUO pins before VFS references), then in trace order. */
export function pinOrder(a: PinWindowJson, b: PinWindowJson): number {
  return (
    Number(a.putLine !== null) - Number(b.putLine !== null) ||
    Number(!isLuoPin(a)) - Number(!isLuoPin(b)) ||
    a.boot - b.boot ||
    a.file.localeCompare(b.file) ||
    a.getLine - b.getLine
  );
}

export interface VerdictRelations {
  pins: PinRef[];
  /** Why each pin window (by pinKey) is listed. */
  why: Map<string, string>;
  sessions: SessionJson[];
  /** Phases whose start or end line is evidence (a failed preserve, a retrieve...). */
  phases: Array<{ session: SessionJson; phase: PhaseJson; at: At }>;
  modules: ModuleJson[];
  lines: At[];
}

/** Does `name` appear in `text` as a whole word (names hold `_`, `-` and `.`)? */
function mentions(text: string, name: string | null): boolean {
  if (!name) return false;
  let i = text.indexOf(name);
  while (i >= 0) {
    const before = i === 0 ? '' : text[i - 1];
    const after = text[i + name.length] ?? '';
    if (!/[\w.-]/.test(before) && !/[\w-]/.test(after)) return true;
    i = text.indexOf(name, i + 1);
  }
  return false;
}

/**
 * What a verdict is about. Evidence lines name pin windows (their get or put line), phases
 * (sessions) and refused rmmods (the windows still open at that line are the references that made
 * it fail); verdicts about pins in general take every LUO pin window; names in the message add
 * sessions and modules.
 */
const relationsCache = new WeakMap<AnalyzeReport, Map<string, VerdictRelations>>();

/** verdictRelations, computed once per report and verdict (screens are rebuilt on every key). */
export function relationsOf(r: AnalyzeReport, v: Verdict): VerdictRelations {
  let byId = relationsCache.get(r);
  if (!byId) relationsCache.set(r, (byId = new Map()));
  let rel = byId.get(v.id);
  if (!rel) byId.set(v.id, (rel = verdictRelations(r, v)));
  return rel;
}

export function verdictRelations(r: AnalyzeReport, v: Verdict): VerdictRelations {
  const evidence = new Set(v.evidenceAt.map((a) => atKey(a.file, a.line)));
  const pins = new Map<string, PinRef>();
  const why = new Map<string, string>();
  const add = (p: PinRef, reason: string) => {
    const k = pinKey(p.window);
    if (!pins.has(k)) why.set(k, reason);
    pins.set(k, p);
  };
  const everyPin = allPins(r);
  for (const p of everyPin) {
    const w = p.window;
    if (evidence.has(atKey(w.file, w.getLine))) add(p, 'its module_get is evidence of this verdict');
    else if (w.putLine !== null && evidence.has(atKey(w.putFile ?? w.file, w.putLine))) add(p, 'its module_put is evidence of this verdict');
  }
  if (v.id === 'modules-unpinned-after-finish' || v.id === 'no-pins-outside-sessions') {
    for (const p of everyPin) if (isLuoPin(p.window)) add(p, 'a LUO pin window (the verdict covers all of them)');
  }
  for (const b of r.boots) {
    for (const rm of b.rmmod) {
      if (!evidence.has(atKey(rm.file, rm.line)) || rm.result === 0) continue;
      for (const p of everyPin) {
        const w = p.window;
        if (w.module === rm.module && w.file === rm.file && w.getLine < rm.line && (w.putLine === null || w.putLine > rm.line)) {
          add(p, `held when rmmod ${rm.module} was refused at line ${rm.line}${rm.refcntBefore !== null ? ` (refcnt ${rm.refcntBefore}: ${rm.refcntBefore - 1} references)` : ''}`);
        }
      }
    }
    if (v.id === 'kexec-freeze' && b.kexec && evidence.has(atKey(b.kexec.file, b.kexec.line))) {
      for (const p of everyPin) if (p.window.boot === b.id && p.window.putLine === null && isLuoPin(p.window)) add(p, 'held by a session frozen for kexec');
    }
    // A failed live update is about the sessions it tried to freeze: their pins stayed held through it.
    if (v.id === 'kexec-freeze' && b.kexec && !v.ok && evidence.has(atKey(b.kexec.file, b.kexec.endLine ?? b.kexec.line))) {
      const mine = new Set(r.sessions.filter((s) => s.boot === b.id && s.side === 'outgoing').map((s) => s.id));
      for (const p of everyPin) {
        const w = p.window;
        if (w.boot !== b.id || w.sessionId === null || !mine.has(w.sessionId) || !isLuoPin(w)) continue;
        add(p, w.putLine === null ? 'held through the failed live update (a freeze rollback changes no reference)' : `held through the failed live update, released at line ${w.putLine} when its session was closed`);
      }
    }
  }

  const phases: VerdictRelations['phases'] = [];
  for (const s of r.sessions) {
    for (const ph of s.phases) {
      if (evidence.has(atKey(ph.file, ph.line))) phases.push({ session: s, phase: ph, at: { file: ph.file, line: ph.line } });
      else if (ph.endLine !== null && evidence.has(atKey(ph.file, ph.endLine))) phases.push({ session: s, phase: ph, at: { file: ph.file, line: ph.endLine } });
    }
  }
  const sessions = new Map<number, SessionJson>();
  for (const s of r.sessions) {
    const byPhase = s.phases.some((ph) => evidence.has(atKey(ph.file, ph.line)) || (ph.endLine !== null && evidence.has(atKey(ph.file, ph.endLine))));
    if (byPhase || mentions(v.message, s.name)) sessions.set(s.id, s);
  }
  const byId = new Map(r.sessions.map((s) => [s.id, s]));
  for (const p of pins.values()) {
    const id = p.window.sessionId;
    const s = id === null ? undefined : byId.get(id);
    if (s) sessions.set(s.id, s);
  }

  const modules = new Map<string, ModuleJson>();
  for (const m of r.modules) if (mentions(v.message, m.name) || v.id === 'refcounts-balanced') modules.set(moduleKey(m), m);
  for (const p of pins.values()) modules.set(moduleKey(p.module), p.module);

  return {
    pins: [...pins.values()].sort((a, b) => pinOrder(a.window, b.window)),
    why,
    sessions: [...sessions.values()].sort((a, b) => a.id - b.id),
    phases,
    modules: [...modules.values()].sort((a, b) => a.boot - b.boot || a.name.localeCompare(b.name)),
    lines: v.evidenceAt,
  };
}

export interface LineRef {
  label: string;
  view: View;
}

/** For the Events screen: which report objects each raw line is evidence of. */
export function lineReferences(r: AnalyzeReport): Map<string, LineRef[]> {
  const out = new Map<string, LineRef[]>();
  const add = (file: string, line: number | null, label: string, view: View) => {
    if (line === null) return;
    const k = atKey(file, line);
    const list = out.get(k) ?? [];
    if (!list.some((x) => x.label === label)) list.push({ label, view });
    out.set(k, list);
  };
  for (const v of r.verdicts) for (const a of v.evidenceAt) add(a.file, a.line, `evidence of verdict ${v.id}`, { kind: 'verdict', id: v.id });
  for (const m of r.modules) {
    for (const w of m.pinWindows) {
      const who = w.class === 'luo-flb' ? ` (${pinOwner(w)})` : w.session ? ` (session ${w.session})` : '';
      add(w.file, w.getLine, `module_get opening pin window ${m.name} ${w.getCallSite}${who}`, { kind: 'pin', key: pinKey(w) });
      add(w.putFile ?? w.file, w.putLine, `module_put closing pin window ${m.name} ${w.putCallSite ?? ''}${who}`, { kind: 'pin', key: pinKey(w) });
    }
  }
  for (const s of r.sessions) {
    for (const p of s.phases) {
      add(p.file, p.line, `start of ${p.name} in session #${s.id} ${s.name ?? ''}`, { kind: 'session', id: s.id });
      add(p.file, p.endLine, `end of ${p.name} in session #${s.id} ${s.name ?? ''}`, { kind: 'session', id: s.id });
    }
  }
  return out;
}

export function lineRefsAt(index: Map<string, LineRef[]>, file: string, line: number): LineRef[] {
  return index.get(atKey(file, line)) ?? [];
}
