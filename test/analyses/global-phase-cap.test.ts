// Global phases past their cap (analyses/lists.ts CappedPhases, docs/luo-model.md §4 "Global phases on
// hostile input"): a kexec retry loop makes one liveupdate_reboot per attempt (2·10^5 of them took
// 818 MB and wrote an 88 MB report), so each segment lists its first global phases and tallies the
// rest by name and function; its last liveupdate_reboot stays listed, since it decides the kexec. The
// counts stay exact, and the verdicts, the kexec facts and the phase rules answer as the full list
// does. Real captures with tiny caps, and the hostile synthetic trace of test/bench/hostile.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CappedPhases, type CappablePhase } from '../../analyses/lists.js';
import { BootSchema, globalPhaseCount, type LuoSectionBody } from '../../analyses/luo/schema.js';
import { evaluateVerdicts } from '../../analyses/luo/verdicts/registry.js';
import { runAnalysis } from '../../analyses/pipeline.js';
import type { AnalyzeReport } from '../../analyses/report.js';
import { renderBoots } from '../../cli/render-luo.js';
import { effectiveRules, evaluateRules, parseRulesFile } from '../../reports/rules.js';
import { hostileLines } from '../bench/hostile.js';
import { luoSections, parseFiles, sample } from '../helpers.js';

type Read = Awaited<ReturnType<typeof parseFiles>>;

const tmp = mkdtempSync(join(tmpdir(), 'luotrace-global-phase-cap-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The LUO section of `read` with each cap on the global phases listed per segment, from one stream. */
function analyze(read: Read, caps: number[]): LuoSectionBody[] {
  return luoSections(read, caps.map((globalPhaseRows) => ({ globalPhaseRows })));
}

const ALL = 1e9;
const verdictsOf = (b: LuoSectionBody, read: Read) => evaluateVerdicts(b, { ...read.quality, notes: [] });

/** The whole report of `files` (default cap), with the LUO section replaced by `body`: what the check rules read. */
const reportWith = (shell: AnalyzeReport, body: LuoSectionBody): AnalyzeReport => ({ ...shell, ...body });

/** A freeze limit of `limit` and the default phase-errors rule. */
const phaseRules = (limit: string) => effectiveRules(parseRulesFile({ rules: { 'max-phase-duration': { limits: [{ phase: 'freeze', limit }] } } })).filter((r) => r.kind === 'phase' || r.kind === 'phase-error');

describe.each([
  ['freeze-fail (a failed kexec -e, ftrace trace_pipe)', ['real/freeze-fail/stage1/ftrace-main.txt.gz']],
  ['lifecycle (two boots, the console between them)', ['real/lifecycle/stage1/ftrace-main.txt.gz', 'real/lifecycle/console.log.gz', 'real/lifecycle/stage2/ftrace-main.txt.gz']],
])('a real capture with the global phases capped at 0 and 1 per segment: %s', async (_name, rel) => {
  const files = rel.map(sample);
  const read = await parseFiles(files);
  const [none, one, full] = analyze(read, [0, 1, ALL]);
  const shell = await runAnalysis(files, {});

  it('counts every global phase, and lists the last liveupdate_reboot of each boot whatever the cap', () => {
    expect(full.boots.some((b) => b.globalPhases.length > 1)).toBe(true);
    for (const capped of [none, one]) {
      for (const [i, fb] of full.boots.entries()) {
        const cb = capped.boots[i];
        expect(globalPhaseCount(cb)).toBe(fb.globalPhases.length);
        const lastReboot = fb.globalPhases.filter((p) => p.func === 'liveupdate_reboot').at(-1);
        if (lastReboot) expect(cb.globalPhases).toContainEqual(lastReboot);
        // The listed ones are the full list's, in its order.
        expect(fb.globalPhases.filter((p) => cb.globalPhases.some((q) => q.line === p.line && q.file === p.file))).toEqual(cb.globalPhases);
        BootSchema.parse(JSON.parse(JSON.stringify(cb)));
      }
    }
    expect(none.boots.flatMap((b) => b.globalPhases).every((p) => p.func === 'liveupdate_reboot')).toBe(true);
  });

  it('tallies the phases past the cap by name and function, with their errors and durations', () => {
    for (const [i, fb] of full.boots.entries()) {
      const listed = new Set(none.boots[i].globalPhases.map((p) => `${p.file}:${p.line}`));
      const past = fb.globalPhases.filter((p) => !listed.has(`${p.file}:${p.line}`));
      for (const t of none.boots[i].globalPhasesOmitted ?? []) {
        const mine = past.filter((p) => p.name === t.name && p.func === t.func);
        const measured = mine.filter((p) => p.durationNs !== null);
        expect(t).toEqual({
          name: t.name,
          func: t.func,
          count: mine.length,
          errors: Object.fromEntries(mine.filter((p) => p.result !== null && p.result < 0).map((p) => [p.error, mine.filter((q) => q.error === p.error).length])),
          measured: measured.length,
          totalNs: measured.reduce((a, p) => a + (p.durationNs as number), 0),
          maxNs: measured.length ? Math.max(...measured.map((p) => p.durationNs as number)) : null,
          acrossLoss: mine.filter((p) => p.acrossLoss).length,
        });
      }
    }
  });

  it('gives the same kexec facts, verdicts and check rules as the full list', () => {
    const fv = verdictsOf(full, read);
    const rules = [...effectiveRules(null), ...phaseRules('9900us')];
    const fr = evaluateRules(reportWith(shell, full), rules).rules;
    for (const capped of [none, one]) {
      expect(capped.boots.map((b) => b.kexec)).toEqual(full.boots.map((b) => b.kexec));
      expect(verdictsOf(capped, read)).toEqual(fv);
      const cr = evaluateRules(reportWith(shell, capped), rules).rules;
      expect(cr.map((r) => [r.id, r.status, r.checked])).toEqual(fr.map((r) => [r.id, r.status, r.checked]));
      expect(cr.find((r) => r.id === 'phase-errors')!.message).toBe(fr.find((r) => r.id === 'phase-errors')!.message);
    }
  });
});

describe('the hostile kexecs trace (synthetic, test/bench/hostile.ts): 60 failed attempts, 5 listed', async () => {
  const N = 60;
  const file = join(tmp, 'kexecs.synthetic.txt');
  writeFileSync(file, `${[...hostileLines('kexecs', N)].join('\n')}\n`);
  const read = await parseFiles([file]);
  const [capped, full] = analyze(read, [5, ALL]);
  const shell = await runAnalysis([file], {});
  const [cb, fb] = [capped.boots[0], full.boots[0]];

  it('lists the first 5 and the last attempt, and counts the other 54 exactly', () => {
    expect(fb.globalPhases).toHaveLength(N);
    expect(cb.globalPhases).toEqual([...fb.globalPhases.slice(0, 5), fb.globalPhases[N - 1]]);
    expect(cb.globalPhasesOmitted).toEqual([{ name: 'freeze', func: 'liveupdate_reboot', count: 54, errors: { EIO: 54 }, measured: 54, totalNs: 54 * 3000, maxNs: 3000, acrossLoss: 0 }]);
    expect(globalPhaseCount(cb)).toBe(N);
    expect(cb.kexec).toEqual(fb.kexec);
    expect(cb.kexec).toMatchObject({ result: -5, error: 'EIO', line: 4 * N - 1, endLine: 4 * N });
    expect(verdictsOf(capped, read)).toEqual(verdictsOf(full, read));
    BootSchema.parse(JSON.parse(JSON.stringify(cb)));
  });

  it('the phase-errors rule fails with the message of the full list: the first 5 named, the true count', () => {
    const [c, f] = [capped, full].map((b) => evaluateRules(reportWith(shell, b), phaseRules('5s')).rules.find((r) => r.id === 'phase-errors')!);
    expect(c.status).toBe('fail');
    expect(c.message).toBe(f.message);
    expect(c.message).toMatch(/^60 failed phases \(error\): (freeze \(liveupdate_reboot, boot 0\) returned -5 EIO \([^)]*\); ){5}55 more$/);
  });

  it('the text report lists --limit phases, the last attempt, and one line for those counted', () => {
    const text = renderBoots({ ...capped, verdicts: [] } as never, { limit: 3 }).split('\n');
    expect(text.filter((l) => l.startsWith('    freeze (liveupdate_reboot)'))).toHaveLength(4);
    expect(text).toContain('    … 2 more global phases (--limit N, or --json)');
    expect(text).toContain('    … and 54 more global phases counted, not listed (freeze (liveupdate_reboot) ×54, 54 failed EIO, longest 3.00 µs; in --json: globalPhasesOmitted)');
    expect(text.at(-1)).toContain(`kexec -e FAILED: liveupdate_reboot -5 EIO at `);
    expect(text).toHaveLength(9);
  });
});

describe('the hostile kexecs trace edited: attempt 40 (past the cap) alone fails, and takes 5 µs', async () => {
  const N = 60;
  const lines = [...hostileLines('kexecs', N)].map((l, i) => {
    const attempt = Math.floor((i - 1) / 4);
    if (attempt !== 40) return l.replace('ret=-5', 'ret=0').replace('-> 0xfffffffffffffffb', '-> 0x0');
    // Its entry 2 µs earlier (at 100.000481 instead of 100.000483): 5 µs to its return.
    return l.includes('liveupdate_reboot: (') ? l.replace('100.000483', '100.000481') : l;
  });
  const file = join(tmp, 'kexecs-edited.synthetic.txt');
  writeFileSync(file, `${lines.join('\n')}\n`);
  const read = await parseFiles([file]);
  const [capped, full] = analyze(read, [5, ALL]);
  const shell = await runAnalysis([file], {});

  it('is counted past the cap, with its error and its duration', () => {
    const failed = full.boots[0].globalPhases.filter((p) => p.result === -5);
    expect(failed.map((p) => [p.line, p.durationNs])).toEqual([[4 * 40 + 3, 5000]]);
    expect(capped.boots[0].globalPhases.some((p) => p.result === -5)).toBe(false);
    expect(capped.boots[0].globalPhasesOmitted).toEqual([{ name: 'freeze', func: 'liveupdate_reboot', count: 54, errors: { EIO: 1 }, measured: 54, totalNs: 53 * 3000 + 5000, maxNs: 5000, acrossLoss: 0 }]);
    expect(verdictsOf(capped, read)).toEqual(verdictsOf(full, read));
  });

  it('still fails the phase-errors rule and a phase-duration limit', () => {
    const [c, f] = [capped, full].map((b) => evaluateRules(reportWith(shell, b), phaseRules('4us')).rules);
    const errors = c.find((r) => r.id === 'phase-errors')!;
    expect([errors.status, f.find((r) => r.id === 'phase-errors')!.status]).toEqual(['fail', 'fail']);
    expect(errors.message).toBe('1 failed phase (error): 1 more failed freeze (liveupdate_reboot, boot 0) counted, not listed in the report (EIO ×1)');
    const duration = c.find((r) => r.id === 'max-phase-duration')!;
    expect([duration.status, duration.checked]).toEqual(['fail', N]);
    expect(f.find((r) => r.id === 'max-phase-duration')!.status).toBe('fail');
    expect(duration.measurements[0]).toEqual({ subject: 'freeze (boot 0; longest of 54 counted, not listed in the report)', value: 5000, limit: 4000, ok: false, at: [] });
    // Within a limit above it, as the full list is.
    const ok = evaluateRules(reportWith(shell, capped), phaseRules('6us')).rules.find((r) => r.id === 'max-phase-duration')!;
    expect([ok.status, ok.checked]).toEqual(['pass', N]);
  });
});

describe('CappedPhases', () => {
  const phase = (segment: number, line: number, func = 'liveupdate_reboot'): CappablePhase & { line: number } => ({ segment, line, name: 'freeze', func, result: null, error: null, durationNs: null });
  const end = (p: CappablePhase, result: number, durationNs: number) => Object.assign(p, { result, error: result < 0 ? `E${-result}` : null, durationNs });

  it('tallies a kept last phase replaced before its return once it returns, and one never returned as it is', () => {
    const list = new CappedPhases<ReturnType<typeof phase>>(1, (p) => p.func === 'liveupdate_reboot');
    const [a, b, c, d] = [phase(0, 1), phase(0, 2), phase(0, 3), phase(0, 4, 'luo_session_serialize')];
    list.add(a);
    list.add(b); // past the cap: kept as the last
    list.add(c); // the last now; b is still open
    list.add(d); // past the cap, never returns
    expect(list.listed(new Set([0]))).toEqual([a, c]);
    expect(list.omitted(new Set([0])).map((t) => [t.func, t.count, t.measured])).toEqual([
      ['liveupdate_reboot', 1, 0],
      ['luo_session_serialize', 1, 0],
    ]);
    list.closed(end(b, -5, 10));
    list.closed(end(c, -5, 20));
    list.closed(end(b, -5, 10)); // twice: counted once
    expect(list.omitted(new Set([0]))).toEqual([
      { name: 'freeze', func: 'liveupdate_reboot', count: 1, errors: { E5: 1 }, measured: 1, totalNs: 10, maxNs: 10, acrossLoss: 0 },
      { name: 'freeze', func: 'luo_session_serialize', count: 1, errors: {}, measured: 0, totalNs: 0, maxNs: null, acrossLoss: 0 },
    ]);
  });

  it('keeps the order the phases came in across segments, and sums the tallies of a boot\'s segments', () => {
    const list = new CappedPhases<ReturnType<typeof phase>>(1, (p) => p.func === 'liveupdate_reboot');
    const ps = [phase(0, 1), phase(0, 2), phase(1, 3), phase(0, 4), phase(1, 5), phase(1, 6), phase(2, 7)];
    for (const p of ps) {
      list.add(p);
      list.closed(end(p, 0, p.line));
    }
    // Segment 0: 1 listed, 4 kept last (2 tallied); segment 1: 3 listed, 6 kept last (5 tallied).
    expect(list.listed(new Set([0, 1, 2])).map((p) => p.line)).toEqual([1, 3, 4, 6, 7]);
    expect(list.listed(new Set([1])).map((p) => p.line)).toEqual([3, 6]);
    expect(list.omitted(new Set([0, 1]))).toEqual([{ name: 'freeze', func: 'liveupdate_reboot', count: 2, errors: {}, measured: 2, totalNs: 7, maxNs: 5, acrossLoss: 0 }]);
  });
});
