// Registration rows past their cap (analyses/luo/registry.ts RegistryLimits, docs/luo-model.md §4
// "Registrations on hostile input"): a trace can hold any number of liveupdate_register_* calls
// (1.5 M of them once took 3.7 GB), so each segment lists the first rows and counts the rest by
// class. The counts stay exact, and the verdicts and module facts that read registrations give the
// same answers with the cap as without it. A real capture with a tiny cap, and the hostile
// synthetic trace of test/bench/hostile.ts.
import { describe, expect, it } from 'vitest';
import type { RegistryLimits } from '../../analyses/luo/registry.js';
import { BootSchema, type LuoSectionBody, registrationCount } from '../../analyses/luo/schema.js';
import { filterLuoSection } from '../../analyses/luo/filters.js';
import { evaluateVerdicts } from '../../analyses/luo/verdicts/registry.js';
import { MESSAGE_CAP } from '../../analyses/luo/verdicts/verdict.js';
import { renderBoots, renderModules } from '../../cli/render-luo.js';
import { hostileLines, REG_FAIL_EVERY } from '../bench/hostile.js';
import { luoSections, parseFiles, parseText, sample } from '../helpers.js';

type Read = Awaited<ReturnType<typeof parseFiles>>;

/** The LUO section of `read` with each of `limits`, from one stream. */
function analyze(read: Read, limits: RegistryLimits[]): LuoSectionBody[] {
  return luoSections(read, limits.map((registryLimits) => ({ registryLimits })));
}

const ALL: RegistryLimits = { rows: 1e9, names: 1e9 };
const byId = (b: LuoSectionBody, read: Read) => new Map(evaluateVerdicts(b, { ...read.quality, notes: [] }).map((v) => [v.id, v]));
const sorted = (xs: string[]) => [...xs].sort();

describe('a real capture with the registration list capped at 2 rows (abort, ftrace trace_pipe)', async () => {
  // 6 register calls (one -17 EEXIST: the built-in test FLB registered twice) and 2 POST unregisters.
  const read = await parseFiles([sample('real/abort/stage1/ftrace-trace_pipe.txt.gz')]);
  const [capped, full] = analyze(read, [{ rows: 2, names: 1e9 }, ALL]);
  const [cb, fb] = [capped.boots[0], full.boots[0]];

  it('lists 2 rows and counts the other 6 by class, the total exact', () => {
    expect(fb.registrations).toHaveLength(8);
    expect(cb.registrations).toEqual(fb.registrations.slice(0, 2));
    expect(registrationCount(cb)).toBe(8);
    const failed = cb.registrationsOmitted!.filter((c) => c.outcome === 'failed');
    const eexist = fb.registrations.find((r) => r.result === -17)!;
    expect(failed).toEqual([{ module: eexist.module, action: 'register', what: eexist.what, outcome: 'failed', error: 'EEXIST', count: 1 }]);
    expect(eexist.module).toBe('luo_demo');
    // POST unregister returns void: no return value, as in the listed rows.
    expect(cb.registrationsOmitted!.filter((c) => c.action === 'unregister').reduce((a, c) => a + c.count, 0)).toBe(2);
    expect(fb.registrations.filter((r) => r.action === 'unregister').every((r) => r.result === null)).toBe(true);
    BootSchema.parse(JSON.parse(JSON.stringify(cb)));
  });

  it('gives the same verdicts, module handlers and FLBs, and pin-window FLB names as the full list', () => {
    const [cv, fv] = [byId(capped, read), byId(full, read)];
    for (const id of ['no-unregister-errors', 'registration-errors']) expect([id, cv.get(id)?.status]).toEqual([id, fv.get(id)?.status]);
    expect(cv.get('registration-errors')?.message).toContain('1 liveupdate_register_* calls returned an error (EEXIST');
    for (const [c, f] of capped.modules.map((m, i) => [m, full.modules[i]] as const)) {
      expect(sorted(c.handlers)).toEqual(sorted(f.handlers));
      expect(sorted(c.flbs)).toEqual(sorted(f.flbs));
      expect(c.pinWindows.map((w) => w.flb)).toEqual(f.pinWindows.map((w) => w.flb));
    }
    expect(full.modules.some((m) => m.flbs.length > 0)).toBe(true);
  });

  it('the text report says how many calls were counted past the list', () => {
    expect(renderBoots({ ...capped, verdicts: [] } as never, { limit: 20 })).toContain('registrations: 8 calls; 2 listed in --json, 6 more counted, not listed (');
    expect(renderBoots({ ...full, verdicts: [] } as never, { limit: 20 })).not.toContain('more counted, not listed');
  });
});

describe('the hostile registrations trace (synthetic, test/bench/hostile.ts)', async () => {
  const N = 100;
  const read = await parseText(`${[...hostileLines('registrations', N)].join('\n')}\n`);
  const failing = Math.floor(N / REG_FAIL_EVERY);
  const [capped, namesCapped, full] = analyze(read, [{ rows: 5, names: 1e9 }, { rows: 5, names: 6 }, ALL]);

  it('counts every call, lists only the first 5, and keeps the failures by errno', () => {
    expect(full.boots[0].registrations).toHaveLength(N);
    for (const b of [capped, namesCapped]) {
      expect(b.boots[0].registrations).toHaveLength(5);
      expect(registrationCount(b.boots[0])).toBe(N);
      const omitted = b.boots[0].registrationsOmitted!;
      expect(omitted.find((c) => c.outcome === 'failed')).toMatchObject({ module: 'hostile_mod', error: 'EEXIST', count: failing });
      expect(omitted.find((c) => c.outcome === 'ok')?.count).toBe(N - 5 - failing);
    }
  });

  it('the registration-errors verdict counts the failures past the list', () => {
    const [c, f] = [byId(capped, read).get('registration-errors')!, byId(full, read).get('registration-errors')!];
    expect(c.status).toBe(f.status);
    // The full list names the first MESSAGE_CAP failures (one line of the text report) and counts the rest.
    expect(failing).toBeGreaterThan(MESSAGE_CAP);
    expect(f.message.split('; ')).toHaveLength(MESSAGE_CAP + 1);
    expect(f.message).toContain(`; and ${failing - MESSAGE_CAP} more listed in the report (EEXIST`);
    expect(f.evidence).toHaveLength(failing);
    expect(c.message).toMatch(new RegExp(`^${failing} liveupdate_register_\\* calls returned an error \\(EEXIST`));
  });

  it('keeps the names of the successful registers (not the failed ones), up to the name cap', () => {
    const flbs = (b: LuoSectionBody) => sorted(b.modules.find((m) => m.name === 'hostile_mod')?.flbs ?? []);
    expect(flbs(capped)).toEqual(flbs(full));
    expect(flbs(full)).toHaveLength(N - failing);
    // Six names kept past the rows: 5 rows + at most 6; the calls whose name was dropped are counted.
    expect(flbs(namesCapped).length).toBeLessThanOrEqual(5 + 6);
    expect(flbs(namesCapped).every((n) => flbs(full).includes(n))).toBe(true);
    expect(namesCapped.boots[0].registrationNamesOmitted).toBeGreaterThan(0);
    expect(capped.boots[0].registrationNamesOmitted).toBeUndefined();
  });

  it("the text report names a module's first registered names (the list limit) and counts the rest", () => {
    const text = renderModules({ ...full, verdicts: [] } as never, { limit: 12 });
    expect(text).toContain(`registers: FLB hostile-flb-0, FLB hostile-flb-1,`);
    expect(text).toContain(`, … ${N - failing - 12} more in --json`);
  });

  it('--module keeps the counted classes of that module only', () => {
    const f = { module: 'hostile_mod' } as never;
    expect(registrationCount(filterLuoSection({ ...capped, verdicts: [] } as never, f).boots[0])).toBe(N);
    const other = filterLuoSection({ ...capped, verdicts: [] } as never, { module: 'other' } as never).boots[0];
    expect(registrationCount(other)).toBe(0);
  });
});
