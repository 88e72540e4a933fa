// Freeze and unfreeze calls of a kexec retry loop (analyses/lists.ts AttemptPhases, docs/luo-model.md
// §4 "Freeze calls on hostile input"): each `kexec -e` attempt freezes every session, so a session's
// phases (or the calls on a file set no session owns in the segment) would grow with the attempts
// (2·10^5 attempts took 422 MB). Kept: the calls of the segment's last attempt, and the last freeze,
// the last freeze that did not fail and the last unfreeze of each file set; the others are tallied by
// name and function. Exact counts, and the same session states, kexec facts, verdicts and check rules as
// the full list, on the real freeze-fail capture and on its attempt repeated (test/bench/hostile.ts).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { type AttemptPhase, AttemptPhases } from '../../analyses/lists.js';
import { countedPast, type LuoSectionBody, SessionSchema } from '../../analyses/luo/schema.js';
import { evaluateVerdicts } from '../../analyses/luo/verdicts/registry.js';
import { runAnalysis } from '../../analyses/pipeline.js';
import type { AnalyzeReport } from '../../analyses/report.js';
import { renderSessions } from '../../cli/render-luo.js';
import { effectiveRules, evaluateRules, parseRulesFile } from '../../reports/rules.js';
import { hostileLines } from '../bench/hostile.js';
import { luoSections, parseFiles, sample } from '../helpers.js';

type Read = Awaited<ReturnType<typeof parseFiles>>;

const tmp = mkdtempSync(join(tmpdir(), 'luotrace-freeze-attempt-cap-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The LUO section of `read` with each cap on the freeze calls kept per file set, from one stream. */
function analyze(read: Read, caps: number[]): LuoSectionBody[] {
  return luoSections(read, caps.map((attemptPhaseRows) => ({ attemptPhaseRows })));
}

const ALL = Number.POSITIVE_INFINITY;
const verdictsOf = (b: LuoSectionBody, read: Read) => evaluateVerdicts(b, { ...read.quality, notes: [] });
const reportWith = (shell: AnalyzeReport, body: LuoSectionBody): AnalyzeReport => ({ ...shell, ...body });
/** A freeze limit of `limit` and the default phase-errors rule. */
const phaseRules = (limit: string) => effectiveRules(parseRulesFile({ rules: { 'max-phase-duration': { limits: [{ phase: 'freeze', limit }] } } })).filter((r) => r.kind === 'phase' || r.kind === 'phase-error');
/** A session without what the caps change: its phases and the tallies of those let go. */
const sessionFacts = ({ phases: _p, phasesOmitted: _o, ...rest }: LuoSectionBody['sessions'][number]) => rest;
/** The real freeze-fail capture up to its `kexec -e` (ftrace-main.txt:1-733): two sessions created and preserved. */
const realPrefix = () => gunzipSync(readFileSync(sample('real/freeze-fail/stage1/ftrace-main.txt.gz'))).toString().split('\n').slice(0, 733);

/** What both cases check: the same facts as the full list, exact counts, the tallies equal to the calls let go. */
function sameAsFull(capped: LuoSectionBody, full: LuoSectionBody, read: Read, shell: AnalyzeReport): void {
  expect(capped.sessions.map(sessionFacts)).toEqual(full.sessions.map(sessionFacts));
  expect(capped.boots).toEqual(full.boots);
  // The same figures (those let go come first: they were counted when let go).
  const byPhase = (b: LuoSectionBody) => [...b.phaseStats].sort((x, y) => x.phase.localeCompare(y.phase));
  expect(byPhase(capped)).toEqual(byPhase(full));
  // The same verdicts; phase-errors names the failed calls it lists (its count: see below).
  const [cv, fv] = [capped, full].map((b) => verdictsOf(b, read).map((v) => (v.id === 'phase-errors' ? { ...v, message: '', evidence: [], evidenceAt: [] } : v)));
  expect(cv).toEqual(fv);
  const rules = [...effectiveRules(null), ...phaseRules('5s')];
  const [cr, fr] = [capped, full].map((b) => evaluateRules(reportWith(shell, b), rules).rules);
  expect(cr.map((r) => [r.id, r.status, r.checked])).toEqual(fr.map((r) => [r.id, r.status, r.checked]));
  for (const [i, fs] of full.sessions.entries()) {
    const cs = capped.sessions[i];
    SessionSchema.parse(JSON.parse(JSON.stringify(cs)));
    expect(cs.phases.length + countedPast(cs.phasesOmitted)).toBe(fs.phases.length);
    const listed = new Set(cs.phases.map((p) => p.line));
    expect(fs.phases.filter((p) => listed.has(p.line))).toEqual(cs.phases);
    for (const t of cs.phasesOmitted ?? []) {
      const mine = fs.phases.filter((p) => !listed.has(p.line) && p.name === t.name && p.func === t.func);
      const failed = mine.filter((p) => p.result !== null && p.result < 0);
      expect(t).toEqual({
        name: t.name,
        func: t.func,
        count: mine.length,
        errors: failed.length ? { EIO: failed.length } : {},
        measured: mine.length,
        totalNs: mine.reduce((a, p) => a + (p.durationNs as number), 0),
        maxNs: Math.max(...mine.map((p) => p.durationNs as number)),
        acrossLoss: 0,
      });
    }
  }
}

describe('the real freeze-fail capture (one attempt): the caps change nothing', async () => {
  const files = [sample('real/freeze-fail/stage1/ftrace-main.txt.gz')];
  const read = await parseFiles(files);
  const [none, one, full] = analyze(read, [0, 1, ALL]);
  const shell = await runAnalysis(files, {});

  it('lists every freeze call with caps 0 and 1, and answers as the full list', () => {
    expect(full.sessions.flatMap((s) => s.phases).filter((p) => p.name === 'freeze' || p.name === 'unfreeze')).toHaveLength(3);
    for (const capped of [none, one]) {
      expect(capped).toEqual(full);
      expect(capped.sessions.some((s) => s.phasesOmitted)).toBe(false);
      sameAsFull(capped, full, read, shell);
    }
    expect(full.boots[0].kexec).toMatchObject({ result: -5, frozenSets: 1, failure: { token: null, result: -5 }, rolledBack: [0] });
  });
});

describe('the real capture with its attempt repeated 30 times (synthetic): sessions that own their freeze calls', async () => {
  const N = 30;
  const file = join(tmp, 'owned.synthetic.txt');
  writeFileSync(file, `${[...realPrefix(), ...[...hostileLines('freezes', N)].slice(1)].join('\n')}\n`);
  const read = await parseFiles([file]);
  const [none, one, full] = analyze(read, [0, 1, ALL]);
  const shell = await runAnalysis([file], {});

  it('keeps the last attempt and the last of each kind, and counts the others exactly', () => {
    // freeze-s1: a freeze and an unfreeze per attempt; freeze-s2: a failed freeze per attempt.
    const calls = (b: LuoSectionBody, i: number) => b.sessions[i].phases.filter((p) => p.func === 'luo_file_freeze' || p.func === 'luo_file_unfreeze');
    expect([calls(full, 0).length, calls(full, 1).length]).toEqual([2 * N, N]);
    for (const capped of [none, one]) {
      expect(calls(capped, 0).map((p) => p.line)).toEqual(calls(full, 0).slice(-2).map((p) => p.line));
      expect(calls(capped, 1).map((p) => p.line)).toEqual(calls(full, 1).slice(-1).map((p) => p.line));
      expect(capped.sessions[1].phasesOmitted).toEqual([{ name: 'freeze', func: 'luo_file_freeze', count: N - 1, errors: { EIO: N - 1 }, measured: N - 1, totalNs: (N - 1) * 3000, maxNs: 3000, acrossLoss: 0 }]);
      sameAsFull(capped, full, read, shell);
    }
  });

  it("gives the last attempt's kexec facts: its reboot() result, the failed freeze's return, the rollback", () => {
    const last = 733 + 12 * N; // the last attempt's reboot() exit
    expect(none.boots[0].kexec).toMatchObject({
      result: -5,
      endLine: last - 1,
      syscall: { line: last, result: -5 },
      frozenSets: 1,
      failure: { result: -5, sessionId: 1, freezeReturn: { line: last - 5 } },
      rolledBack: [0],
    });
    expect(none.sessions.map((s) => [s.state, s.outcome])).toEqual(full.sessions.map((s) => [s.state, s.outcome]));
    expect(none.sessions[0].state).toBe('open');
  });

  it('the phase-errors rule and verdict give the true count of failed calls', () => {
    const [c, f] = [none, full].map((b) => evaluateRules(reportWith(shell, b), phaseRules('5s')).rules.find((r) => r.id === 'phase-errors')!);
    expect(c.message.match(/^(\d+) failed phases/)?.[1]).toBe(f.message.match(/^(\d+) failed phases/)?.[1]);
    expect(c.message).toContain(`${N - 1} more failed freeze in outgoing session freeze-s2 (boot 0) counted, not listed in the report (EIO ×${N - 1})`);
    const [cv, fv] = [none, full].map((b) => verdictsOf(b, read).find((v) => v.id === 'phase-errors')!);
    expect(cv.message).toContain(`${N - 1} more (${N - 1} counted, not listed: freeze calls of earlier kexec attempts)`);
    expect(fv.message).toContain(`; ${N - 6} more`);
  });

  it('a freeze limit applies to the calls counted, not listed, through their longest', () => {
    const rule = (b: LuoSectionBody) => evaluateRules(reportWith(shell, b), phaseRules('2us')).rules.find((r) => r.id === 'max-phase-duration')!;
    const [c, f] = [rule(none), rule(full)];
    expect([c.status, c.checked]).toEqual([f.status, f.checked]);
    expect(c.status).toBe('fail');
  });

  it('the text report prints one line for the calls counted', () => {
    const text = renderSessions({ ...none, verdicts: [] } as never, { limit: 10 } as never);
    expect(text).toContain(`… and ${N - 1} more calls of earlier kexec attempts counted, not listed (freeze ×${N - 1}, ${N - 1} failed EIO, longest 3.00 µs; in --json: phasesOmitted)`);
  });
});

describe('the hostile freezes trace (synthetic): sessions created before the trace, 100 attempts', async () => {
  const N = 100;
  const file = join(tmp, 'freezes.synthetic.txt');
  writeFileSync(file, `${[...hostileLines('freezes', N)].join('\n')}\n`);
  const read = await parseFiles([file]);
  const [none, full] = analyze(read, [0, ALL]);

  it("keeps the last attempt's reboot() result past 64 attempts, and the kexec facts of the full list", () => {
    expect(none.boots).toEqual(full.boots);
    expect(none.boots[0].kexec).toMatchObject({ result: -5, syscall: { line: 1 + 12 * N, result: -5 }, frozenSets: 1, rolledBack: [] });
    expect(verdictsOf(none, read)).toEqual(verdictsOf(full, read));
  });
});

describe('AttemptPhases', () => {
  type P = AttemptPhase & { line: number };
  const call = (line: number, name: 'freeze' | 'unfreeze', start = line): P => ({ line, name, func: `luo_file_${name}`, start, endLine: null, result: null, error: null, durationNs: null });
  const ret = (p: P, result: number | null) => Object.assign(p, { endLine: p.line + 1, result, error: result !== null && result < 0 ? 'EIO' : null, durationNs: 1 });

  it('keeps the last freeze that did not fail while later ones fail, and lets go of earlier attempts', () => {
    const list = new AttemptPhases<P>(0);
    const ok = ret(call(10, 'freeze'), 0);
    list.add(ok, 5);
    const bad = call(20, 'freeze');
    list.add(bad, 15); // open: `ok` stays the last that did not fail
    expect(list.kept).toEqual([ok, bad]);
    ret(bad, -5);
    const bad2 = ret(call(30, 'freeze'), -5);
    list.add(bad2, 25);
    expect(list.kept).toEqual([ok, bad2]);
    expect(list.tallies.get('freeze\u0000luo_file_freeze')).toMatchObject({ count: 1, errors: { EIO: 1 } });
    expect(list.count('freeze')).toBe(3);
  });

  it('keeps the calls of the current attempt up to the cap, then lets the oldest go even without a return', () => {
    const gone: P[] = [];
    const list = new AttemptPhases<P>(2, (p) => gone.push(p));
    const ps = [1, 2, 3, 4, 5].map((l) => call(l, 'unfreeze'));
    for (const p of ps) list.add(p, null);
    expect(list.kept).toEqual(ps.slice(2));
    expect(gone).toEqual(ps.slice(0, 2));
    expect(list.tallies.get('unfreeze\u0000luo_file_unfreeze')).toMatchObject({ count: 2, measured: 0 });
  });

  it('takes the calls it lets go out of the list given (a session phases)', () => {
    const list = new AttemptPhases<P>(0);
    const phases: P[] = [];
    for (const l of [1, 2, 3]) {
      const p = ret(call(l * 10, 'unfreeze'), null);
      phases.push(p);
      list.add(p, l * 10 - 1, phases);
    }
    expect(phases.map((p) => p.line)).toEqual([30]);
  });
});
