// `luotrace check`: passes on the real captures with the default rules; on synthetic faulty traces
// (made from real lines, test/cli/check-fixtures.ts) the matching rule fails with its evidence and
// exit code 1; output as text, JSON (published schema) and JUnit XML; exit 2 for unusable input.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { CheckReportSchema, effectiveRules, parseRulesFile } from '../../reports/rules.js';
import { sample } from '../helpers.js';
import { expectPasses, expectTrimmedIncomplete, isFastRealSet, REAL_SETS, realSetName, TRIMMED, trimmedName } from './check-real-sets.js';
import { readSample, syntheticLeak, syntheticLostEvents, syntheticRegistrationPin, syntheticUnregisterError } from './check-fixtures.js';
import { schemaErrors } from './check-jsonschema.js';
import { runCli } from './run.js';

const tmp = mkdtempSync(join(tmpdir(), 'luotrace-check-'));
const write = (name: string, text: string) => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};
const LIFECYCLE = ['real/lifecycle/stage1/ftrace-main.txt.gz', 'real/lifecycle/console.log.gz', 'real/lifecycle/stage2/ftrace-main.txt.gz'].map(sample);

describe('check on the real captures passes with the default rules', () => {
  it('lifecycle (both kernels + console): exit 0, text report', async () => {
    const r = await runCli(['check', ...LIFECYCLE]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^luotrace check: PASS — 12 passed, 0 failed, 0 warnings, 0 not applicable, 0 off {2}\(kernel model: later\)/);
    expect(r.stdout).toMatch(/✔ pass {2}kexec-freeze +boot 0: liveupdate_reboot froze 2 sessions/);
    expect(r.stdout).toMatch(/✔ pass {2}max-hold +11 locks within limits; closest to its limit: luo_session_serialize_rwsem rwsem:R longest hold 356 ms ≤ 2\.00 s/);
  });

  // Every capture of samples/real (check-real-sets.ts): here one of each kind; the other renderings
  // of the same runs in check.slow.test.ts.
  for (const set of REAL_SETS.filter(isFastRealSet)) it(realSetName(set), () => expectPasses(set));

  // The trimmed captures (cut at 2 MB by the lab) are incomplete input; the other three renderings
  // in check.slow.test.ts.
  it(trimmedName(TRIMMED[0]), () => expectTrimmedIncomplete(TRIMMED[0]));
});

describe('check on the generator\'s synthetic samples (samples/synthetic/README.md): the intended rules fail, exit 1', () => {
  const failing = (json: { rules: Array<{ id: string; status: string }> }) => json.rules.filter((r) => r.status === 'fail').map((r) => r.id);
  /** evidence: what every evidence line of the failing rules shows; null = the rule cites no line. */
  const cases: Array<{ file: string; fails: string[]; evidence: RegExp | null }> = [
    // a luo_preserve_file get never put after the abort
    { file: 'synthetic-leak.txt.gz', fails: ['modules-unpinned-after-finish'], evidence: /module_get: luo_demo call_site=luo_preserve_file refcnt=\d+$/ },
    // pre-series: pinned at insmod, no session ever exists (docs/luo-model.md §7(a))
    { file: 'synthetic-preseries.txt.gz', fails: ['no-pins-outside-sessions'], evidence: /module_get: luo_demo call_site=liveupdate_register_(file_handler|flb) refcnt=\d+$/ },
    // pre-series (registration pins), unregister -EBUSY, and rmmod -f frees the module under its pins: §7(a), (c), (b)
    { file: 'synthetic-unregister-error.txt.gz', fails: ['no-pins-outside-sessions', 'no-unregister-errors', 'no-forced-unload-with-pins'], evidence: /: liveupdate_unregister_(flb|file_handler): \(|module_free: luo_demo$|call_site=liveupdate_register_(file_handler|flb) |sys_delete_module\(.*flags: 0xa80\)$/ },
    // CPU:N [LOST 7 EVENTS] inside a pin window: the pins are incomplete, not leaked
    { file: 'synthetic-lost-in-pin-window.txt.gz', fails: ['no-lost-events'], evidence: /^CPU:\d+ \[LOST 7 EVENTS\]$/ },
    // rmmod -f with files preserved: module_free with references outstanding (§7(b)); the session is still open, so its pins are not leaks
    { file: 'synthetic-forced-unload.txt.gz', fails: ['no-forced-unload-with-pins'], evidence: /module_free: luo_demo$|sys_delete_module\(.*flags: 0xa80\)$/ },
    // a put whose try_module_get was skipped
    { file: 'synthetic-put-without-get.txt.gz', fails: ['refcounts-balanced'], evidence: /module_put: luo_demo call_site=luo_file_unpreserve_files refcnt=\d+$/ },
    // the pre-series lifecycle stages and its trace-cmd rendering: registration pins
    { file: 'synthetic-lifecycle-preseries.txt.gz', fails: ['no-pins-outside-sessions'], evidence: /call_site=liveupdate_register_(file_handler|flb) / },
    { file: 'synthetic-lifecycle-preseries-stage2.txt.gz', fails: ['no-pins-outside-sessions'], evidence: /call_site=liveupdate_register_(file_handler|flb) / },
    { file: 'synthetic-lifecycle.trace-cmd.txt.gz', fails: ['no-pins-outside-sessions'], evidence: /module_get: +luo_demo call_site=liveupdate_register_(file_handler|flb) / },
    // CRLF, junk and a last line cut inside its timestamp: the input is truncated (no line to cite)
    { file: 'synthetic-abort-damaged.trace-pipe.txt.gz', fails: ['no-lost-events'], evidence: null },
  ];
  for (const c of cases) {
    it(`${c.file}: ${c.fails.join(', ')}`, async () => {
      const file = sample(`synthetic/${c.file}`);
      const r = await runCli(['check', '--json', file]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(1);
      const j = JSON.parse(r.stdout);
      expect(failing(j)).toEqual(c.fails);
      // every evidence line of the failing rules is the line that shows the fault
      const lines = readSample(`synthetic/${c.file}`).split('\n');
      const evidence = j.rules.filter((x: { status: string }) => x.status === 'fail').flatMap((x: { evidence: Array<{ file: string; line: number }> }) => x.evidence);
      if (c.evidence === null) expect(evidence).toEqual([]);
      else expect(evidence.length).toBeGreaterThan(0);
      for (const e of evidence) {
        expect(e.file).toBe(file);
        expect(lines[e.line - 1].replace(/\r$/, ''), `line ${e.line}`).toMatch(c.evidence!);
      }
    });
  }

  it('the generator\'s fault-free samples pass', async () => {
    for (const f of ['synthetic-lifecycle.txt.gz', 'synthetic-stress-4cpu.txt.gz', 'synthetic-freeze.console.txt']) {
      const r = await runCli(['check', sample(`synthetic/${f}`)]);
      expect([f, r.code, r.stderr]).toEqual([f, 0, '']);
      expect(r.stdout).toMatch(/^luotrace check: PASS — \d+ passed, 0 failed, 0 warnings/);
    }
  });
});

describe('check on synthetic faulty traces: each rule fails with its evidence, exit 1', () => {
  const failing = (json: { rules: Array<{ id: string; status: string }> }) => json.rules.filter((r) => r.status === 'fail').map((r) => r.id);

  it('leak: modules-unpinned-after-finish names the pin that was never put', async () => {
    const file = write('check-leak.synthetic.txt', syntheticLeak());
    const r = await runCli(['check', '--json', file]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(failing(j)).toEqual(['modules-unpinned-after-finish']);
    const rule = j.rules.find((x: { id: string }) => x.id === 'modules-unpinned-after-finish');
    expect(rule.message).toMatch(/^1 module pin left after finish\/abort: luo_demo \(session abort-s1, call_site=luo_preserve_file, .*:359\)/);
    // line 359 of the synthetic file is the module_get whose put was removed
    expect(readFileSync(file, 'utf8').split('\n')[358]).toMatch(/module_get: luo_demo call_site=luo_preserve_file refcnt=8$/);
    expect(rule.evidence).toEqual([{ file, line: 359 }]);
  });

  it('pin outside a session: no-pins-outside-sessions points at the registration module_get', async () => {
    const file = write('check-registration-pin.synthetic.txt', syntheticRegistrationPin());
    const r = await runCli(['check', '--json', file]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(failing(j)).toEqual(['no-pins-outside-sessions']);
    const rule = j.rules.find((x: { id: string }) => x.id === 'no-pins-outside-sessions');
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(rule.evidence.map((e: { line: number }) => lines[e.line - 1].replace(/^.*: module_get/, 'module_get'))).toEqual([
      'module_get: luo_demo call_site=liveupdate_register_file_handler refcnt=3',
      'module_get: luo_demo call_site=liveupdate_register_flb refcnt=4',
    ]);
    expect(j.kernelModel.id).toBe('pre-series');
  });

  it('unregister error: no-unregister-errors quotes the -EBUSY return', async () => {
    const file = write('check-unregister-error.synthetic.txt', syntheticUnregisterError());
    const r = await runCli(['check', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✘ FAIL {2}no-unregister-errors {11}liveupdate_unregister_file_handler\(luo-demo-v1\) of luo_demo returned -16 EBUSY at .*check-unregister-error\.synthetic\.txt:728/);
    expect(r.stdout).toMatch(/evidence: .*check-unregister-error\.synthetic\.txt:728/);
    expect(r.stdout.match(/FAIL {2}/g)).toHaveLength(1);
  });

  it('lost events: no-lost-events cites the LOST marker line', async () => {
    const { text, markerLine } = syntheticLostEvents();
    const file = write('check-lost-events.synthetic.txt', text);
    expect(text.split('\n')[markerLine - 1]).toBe('CPU:0 [LOST 5 EVENTS]');
    const r = await runCli(['check', '--json', file]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(failing(j)).toEqual(['no-lost-events']);
    const rule = j.rules.find((x: { id: string }) => x.id === 'no-lost-events');
    expect(rule.message).toBe('5 events lost (CPU 0: 5)');
    expect(rule.evidence).toEqual([{ file, line: markerLine }]);
    expect(j.dataQuality).toMatchObject({ incomplete: true, lostEvents: 5 });
  });

  it('a rules file can downgrade a rule to a warning (exit 0) and --strict makes warnings fail', async () => {
    const file = write('check-lost-events2.synthetic.txt', syntheticLostEvents().text);
    const rules = write('warn-lost.json', JSON.stringify({ rules: { 'no-lost-events': 'warning' } }));
    const r = await runCli(['check', '--rules', rules, file]);
    expect(r.code).toBe(0);
    // the other warning: phase-errors on the abort capture's deliberate -EIO preserve
    expect(r.stdout).toMatch(/^luotrace check: PASS — .* 0 failed, 2 warnings/);
    expect(r.stdout).toMatch(/! warn {2}no-lost-events/);
    expect(r.stdout).toMatch(/! warn {2}phase-errors +2 failed phases \(warning\): preserve of token 0x1ee in outgoing session abort-s1 \(boot 0\) returned -5 EIO/);
    expect((await runCli(['check', '--strict', '--rules', rules, file])).code).toBe(1);
    const off = write('off-lost.json', JSON.stringify({ rules: { 'no-lost-events': 'off' } }));
    expect((await runCli(['check', '--rules', off, file])).code).toBe(0);
  });
});

describe('check outputs', () => {
  it('--json validates against the zod schema and the published JSON Schema', async () => {
    const r = await runCli(['check', '--json', ...LIFECYCLE]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    CheckReportSchema.parse(j);
    expect(schemaErrors('check', j)).toEqual([]);
    expect(j).toMatchObject({ command: 'check', status: 'pass', files: LIFECYCLE, summary: { rules: 12, passed: 12, failed: 0, notApplicable: 0 } });
    // an invalid document is caught by the published schema
    expect(schemaErrors('check', { ...j, status: 'maybe' }).length).toBeGreaterThan(0);
  });

  it('--junit writes well-formed JUnit XML: one testcase per rule, failures carry the evidence', async () => {
    const file = write('check-leak-junit.synthetic.txt', syntheticLeak());
    const xml = join(tmp, 'junit.xml');
    const r = await runCli(['check', '--junit', xml, file]);
    expect(r.code).toBe(1);
    const text = readFileSync(xml, 'utf8');
    expect(XMLValidator.validate(text)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(text);
    const suite = doc.testsuites.testsuite;
    // the abort run has lock statistics; no unregister and no kexec: nothing to check there
    expect([suite.tests, suite.failures, suite.errors, suite.skipped]).toEqual(['12', '1', '0', '2']);
    const cases = suite.testcase as Array<{ name: string; classname: string; failure?: { message: string; '#text': string }; skipped?: unknown }>;
    expect(cases.map((c) => c.name)).toEqual(['modules-unpinned-after-finish', 'refcounts-balanced', 'no-pins-outside-sessions', 'no-unregister-errors', 'no-forced-unload-with-pins', 'no-lost-events', 'kexec-freeze', 'max-hold', 'max-wait', 'p99-wait', 'max-phase-duration', 'phase-errors']);
    const leak = cases[0];
    expect(leak.classname).toBe('luotrace.check.verdict');
    expect(leak.failure!.message).toMatch(/^1 module pin left after finish\/abort/);
    expect(leak.failure!['#text']).toContain(`${file}:359`);
    expect(cases.filter((c) => c.skipped !== undefined).map((c) => c.name)).toEqual(['no-unregister-errors', 'kexec-freeze']);
  });

  it('--print-rules prints the effective rules as a valid rules file', async () => {
    const rules = write('tight.json', JSON.stringify({ rules: { 'max-wait': { limits: [{ lock: 'luo_register_rwlock', mode: 'W', limit: '1500us' }] } } }));
    const r = await runCli(['check', '--print-rules', '--rules', rules]);
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(schemaErrors('rules', printed)).toEqual([]);
    expect(printed.rules['max-wait']).toEqual({ severity: 'error', limits: [{ lock: 'luo_register_rwlock', mode: 'W', limit: '1500us' }] });
    expect(effectiveRules(parseRulesFile(printed))).toEqual(effectiveRules(parseRulesFile(JSON.parse(readFileSync(rules, 'utf8')))));
  });

  it('--help documents the rules and the exit codes', async () => {
    const r = await runCli(['check', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Exit codes: 0 every rule passed .*, 1 a rule was violated,\n2 unusable input/);
    expect(r.stdout).toContain('max-phase-duration');
  });
});

describe('check refuses unusable input with exit 2 and one line', () => {
  const oneLine = (s: string) => expect(s.trim().split('\n')).toHaveLength(1);

  it('bad rules file: every problem on one line, with the file name', async () => {
    const rules = write('bad-rules.json', JSON.stringify({ rules: { 'refcount-balanced': 'error', 'max-wait': { limits: [{ limit: 'soon' }] } } }));
    const r = await runCli(['check', '--rules', rules, ...LIFECYCLE]);
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(/^luotrace: .*bad-rules\.json: invalid rules: /);
    expect(r.stderr).toMatch(/rules: unknown rule "refcount-balanced"; known rules: modules-unpinned-after-finish, /);
    expect(r.stderr).toMatch(/rules\.max-wait\.limits\.0\.limit: expected a duration such as "500ms", "2s", "250us" or a number of nanoseconds, got "soon"/);
  });

  it('rules file that is not JSON, or missing', async () => {
    const notJson = write('rules.txt', 'max-wait = 5ms\n');
    const a = await runCli(['check', '--rules', notJson, ...LIFECYCLE]);
    expect([a.code, a.stderr]).toEqual([2, expect.stringMatching(/^luotrace: .*rules\.txt: not valid JSON/)]);
    const b = await runCli(['check', '--rules', join(tmp, 'nope.json'), ...LIFECYCLE]);
    expect([b.code, b.stderr]).toEqual([2, expect.stringMatching(/cannot read rules file: ENOENT/)]);
  });

  it('missing trace file, empty trace, no files', async () => {
    const missing = await runCli(['check', join(tmp, 'missing.txt')]);
    expect(missing.code).toBe(2);
    oneLine(missing.stderr);
    const empty = await runCli(['check', write('empty.txt', '')]);
    expect([empty.code, empty.stderr]).toEqual([2, expect.stringMatching(/empty\.txt: empty input/)]);
    const headerOnly = await runCli(['check', write('header-only.txt', '# tracer: nop\n#\n# entries-in-buffer/entries-written: 0/0   #P:2\n')]);
    expect([headerOnly.code, headerOnly.stderr]).toEqual([2, expect.stringMatching(/header-only\.txt: no trace events in these inputs: nothing to check\n$/)]);
    const none = await runCli(['check']);
    expect([none.code, none.stderr]).toEqual([2, expect.stringMatching(/no trace files given/)]);
  });

  it('an unwritable --junit path', async () => {
    const r = await runCli(['check', '--junit', join(tmp, 'no/such/dir/j.xml'), ...LIFECYCLE]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/cannot write JUnit file: ENOENT/)]);
  });
});
