// `luotrace diff`: the acceptance (a synthetic pre-series run against the real merged-series capture
// of the same scenario shows where the module refs moved as the headline), saved reports as a
// baseline, regressions and exit codes, the published JSON Schema. Runs of different length (the
// whole 11 MB contention capture against a cut of it): diff.slow.test.ts.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DiffReportSchema } from '../../reports/diff.js';
import { sample } from '../helpers.js';
import { parseLine, readSample, syntheticPreSeriesLifecycle } from './check-fixtures.js';
import { schemaErrors } from './check-jsonschema.js';
import { runCli } from './run.js';

const tmp = mkdtempSync(join(tmpdir(), 'luotrace-diff-'));
const REAL = ['real/lifecycle/stage1/ftrace-main.txt.gz', 'real/lifecycle/console.log.gz', 'real/lifecycle/stage2/ftrace-main.txt.gz'].map(sample);
const PRE = [
  sample('synthetic/check-preseries-lifecycle-stage1.synthetic.txt.gz'),
  sample('real/lifecycle/console.log.gz'),
  sample('synthetic/check-preseries-lifecycle-stage2.synthetic.txt.gz'),
];

describe('the committed synthetic pre-series samples', () => {
  for (const stage of ['stage1', 'stage2'] as const) {
    it(`${stage}: labelled, and exactly what check-fixtures makes from the real capture`, () => {
      const file = sample(`synthetic/check-preseries-lifecycle-${stage}.synthetic.txt.gz`);
      const expected = syntheticPreSeriesLifecycle(stage);
      if (process.env.LUOTRACE_UPDATE_SYNTHETIC) writeFileSync(file, gzipSync(expected, { level: 9 }));
      const text = gunzipSync(readFileSync(file)).toString('utf8');
      expect(text.split('\n')[0]).toMatch(/^# synthetic: pre-series \(PRE\) module pinning made from samples\/real\/lifecycle\//);
      expect(text).toBe(expected);
      // PRE: no per-file refs at all, two registration pins at insmod
      expect(text).not.toMatch(/call_site=(luo_preserve_file|luo_file_deserialize|luo_file_finish)/);
      expect(text.match(/module_get: luo_demo call_site=liveupdate_register_(file_handler|flb) refcnt=\d+/g)).toEqual([
        'module_get: luo_demo call_site=liveupdate_register_file_handler refcnt=3',
        'module_get: luo_demo call_site=liveupdate_register_flb refcnt=4',
      ]);
    });
  }
  it('the samples README describes them', () => {
    expect(readFileSync(sample('synthetic/README.md'), 'utf8')).toContain('check-preseries-lifecycle-stage1.synthetic.txt.gz');
  });
});

describe('diff: pre-series (synthetic) vs merged series (real), same lifecycle scenario', async () => {
  const r = await runCli(['diff', '--json', PRE.join(','), REAL.join(',')]);
  const d = JSON.parse(r.stdout);

  it('exit 0 (no timing regression: same real timings) and a schema-valid document', () => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    DiffReportSchema.parse(d);
    expect(schemaErrors('diff', d)).toEqual([]);
    expect([d.before.kernelModel, d.after.kernelModel, d.sameKernelModel]).toEqual(['pre-series', 'later', false]);
  });

  it('the headline is where the module refs moved: registration -> per preserved file', () => {
    expect(d.headline[0]).toBe(
      'luo_demo: module refs moved from registration (liveupdate_register_file_handler ×2, liveupdate_register_flb ×2) to per preserved file and per FLB in use (luo_preserve_file ×6, luo_file_deserialize ×6, luo_flb_file_preserve ×1, luo_flb_retrieve_one ×1)',
    );
    expect(d.headline).toContain('rmmod luo_demo (boot 1): refused -11 EAGAIN → ok');
    expect(d.headline).toContain('no-pins-outside-sessions: FAIL → pass');
    expect(d.headline[1]).toMatch(/^kernel model: pre-series → later \(module refs: "handler and FLB owner modules pinned at registration/);
  });

  it('module refs side by side by role, and the call sites that changed', () => {
    const refs = d.moduleRefs[0];
    const role = (name: string) => refs.roles.find((x: { role: string }) => x.role === name);
    expect(role('registration').gets).toEqual({ before: 4, after: 0, delta: -4, ratio: 0 });
    expect(role('per-file').gets).toEqual({ before: 0, after: 12, delta: 12, ratio: null });
    expect(role('per-file').puts).toEqual({ before: 0, after: 6, delta: 6, ratio: null });
    expect(role('vfs').gets).toEqual({ before: 12, after: 12, delta: 0, ratio: 1 });
    expect(d.modules.map((m: { boot: number; openPins: unknown; rmmod: unknown }) => [m.boot, m.openPins, m.rmmod])).toEqual([
      [0, { before: 2, after: 7, delta: 5, ratio: 3.5 }, { before: 'refused -11 EAGAIN', after: 'refused -11 EAGAIN' }],
      [1, { before: 2, after: 0, delta: -2, ratio: 0 }, { before: 'refused -11 EAGAIN', after: 'ok' }],
    ]);
  });

  it('what is comparable is compared (same phases, same timings), what is not is said', () => {
    expect(d.phases.length).toBe(11);
    expect(d.phases.every((p: { count: { delta: number }; avgNs: { ratio: number } }) => p.count.delta === 0 && p.avgNs.ratio === 1)).toBe(true);
    expect(d.sessions.every((s: { matchedBy: string }) => s.matchedBy === 'name')).toBe(true);
    expect(d.notComparable).toContain(
      'kernel models differ (pre-series vs later): module references are compared by role, not by call site, and locks that exist in one model only are listed apart',
    );
    expect(d.regressions).toEqual([]);
  });

  it('locks: the named ones compare by name; the only differences are the lines of the rmmod the synthetic stage 2 refuses', () => {
    // What refuseRmmod drops from the real stage 2: rmmod-344's lines inside sys_delete_module.
    const real2 = readSample('real/lifecycle/stage2/ftrace-main.txt.gz').split('\n');
    const enter = real2.findIndex((l) => /^ +rmmod-344 .*: sys_delete_module\(/.test(l));
    const exit = real2.findIndex((l, i) => i > enter && /^ +rmmod-344 .*: sys_delete_module -> /.test(l));
    const dropped = real2.slice(enter + 1, exit).filter((l) => l.includes('rmmod-344')).map((l) => parseLine(l)!.payload);
    const mutexWaits = dropped.filter((p) => /^contention_begin: \S+ \(flags=SPIN\|MUTEX\)$/.test(p)).length;
    const writeWaits = dropped.filter((p) => /^contention_begin: \S+ \(flags=WRITE\)$/.test(p)).length;
    const registerW = dropped.filter((p) => /^lock_acquire: \S+ luo_register_rwlock$/.test(p)).length;
    expect([mutexWaits, writeWaits, registerW]).toEqual([32, 1, 2]);

    expect(d.locks).toHaveLength(12);
    const changed = d.locks.filter((l: { acquisitions: { delta: number }; contended: { delta: number } }) => l.acquisitions.delta !== 0 || l.contended.delta !== 0);
    expect(changed.map((l: { lock: string; mode: string; acquisitions: unknown }) => [l.lock, l.mode, l.acquisitions])).toEqual([
      ['luo_register_rwlock', 'rwsem:W', { before: 14 - registerW, after: 14, delta: registerW, ratio: 14 / 12 }],
    ]);
    // unnamed locks: per side, not compared; the after side has exactly the dropped contention episodes more
    const totals = (side: Array<{ mode: string; acquisitions: number }>) => Object.fromEntries(side.map((u) => [u.mode, u.acquisitions]));
    const before = totals(d.unnamedLocks.before);
    const after = totals(d.unnamedLocks.after);
    expect([after.mutex - before.mutex, after['rwsem:W'] - before['rwsem:W']]).toEqual([mutexWaits, writeWaits]);
    // the 95 ms wait of the rmmod on an rwsem nothing names is no lock regression: it has nothing to compare with
    expect(d.unnamedLocks.after.find((u: { mode: string }) => u.mode === 'rwsem:W').waitMaxNs).toBe(94_786_000);
    expect(d.regressions.filter((r: { area: string }) => r.area === 'lock')).toEqual([]);
    expect(d.notComparable).toContain('locks without a name (64 before, 68 after): a hashed pointer is keyed per boot and a raw address changes with the run, so they cannot be matched across runs; listed per side, not compared');
  });

  it('the text output leads with the headline', async () => {
    const t = await runCli(['diff', PRE.join(','), REAL.join(',')]);
    expect(t.code).toBe(0);
    const lines = t.stdout.split('\n');
    expect(lines[0]).toBe('luotrace diff — before: pre-series, after: later');
    expect(lines[4]).toBe('HEADLINE');
    expect(lines[5]).toMatch(/^ {2}• luo_demo: module refs moved from registration/);
    expect(t.stdout).toMatch(/luo_demo {2}registration \(pinned while registered\) +4 +0 +-4/);
    expect(t.stdout).toContain('  locks without a name, not compared (pointers are per boot):\n    before: 63 mutex (233 acquired, 233 contended, longest wait 4.55 ms), 1 rwsem:W (1 acquired, 1 contended, longest wait 4.33 ms)\n');
    expect(t.stdout).toMatch(/REGRESSIONS \(threshold \+20%, increases under 1\.00 ms ignored\)\n {2}none\n$/);
  });
});

describe('diff inputs, regressions and exit codes', () => {
  it('a saved `analyze --json` report is a baseline; a slower run is a regression (exit 1)', async () => {
    const a = await runCli(['analyze', '--json', ...REAL]);
    const baseline = join(tmp, 'baseline.json');
    writeFileSync(baseline, a.stdout);
    const slower = JSON.parse(a.stdout);
    for (const s of slower.sessions) for (const p of s.phases) if (p.name === 'retrieve') p.durationNs *= 3;
    const slowerFile = join(tmp, 'slower.json');
    writeFileSync(slowerFile, JSON.stringify(slower, null, 2));

    const same = await runCli(['diff', baseline, REAL.join(',')]);
    expect(same.code).toBe(0);
    expect(same.stdout).toMatch(/REGRESSIONS \(threshold \+20%, increases under 1\.00 ms ignored\)\n {2}none/);

    const worse = await runCli(['diff', '--json', baseline, slowerFile]);
    expect(worse.code).toBe(1);
    const d = JSON.parse(worse.stdout);
    expect(d.regressions.map((x: { message: string }) => x.message)).toEqual(['retrieve (incoming) avg 62.0 ms → 186 ms (+200%)', 'retrieve (incoming) max 152 ms → 457 ms (+200%)']);
    // a threshold above the change: no regression
    expect((await runCli(['diff', '--threshold', '250%', baseline, slowerFile])).code).toBe(0);
  });

  it('--before/--after take several files each', async () => {
    const r = await runCli(['diff', '--json', '--before', ...PRE, '--after', ...REAL]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).before.files).toEqual(PRE);
  });

  it('unusable input and bad usage exit 2 with one line', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['diff', REAL[0]], /need two runs/],
      [['diff', '--threshold', 'lots', REAL[0], REAL[2]], /--threshold: not a ratio or percentage: lots/],
      [['diff', '--min-delta', 'soon', REAL[0], REAL[2]], /--min-delta: not a duration: soon/],
      [['diff', join(tmp, 'missing.txt'), REAL[0]], /missing\.txt/],
      [['diff', REAL[1], '--before', REAL[0], '--after', REAL[2]], /unexpected argument/],
    ];
    for (const [args, re] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(re);
    }
    const bad = join(tmp, 'bad-report.json');
    writeFileSync(bad, '{\n  "tool": {"name": "luotrace"}\n}\n');
    const r = await runCli(['diff', bad, REAL[0]]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/bad-report\.json: not a valid `luotrace analyze --json` report: tool\.version/)]);
    expect(existsSync(bad)).toBe(true);
  });
});
