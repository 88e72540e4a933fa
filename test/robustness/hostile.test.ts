// Issue 15, cases 2, 4, 5 and 9 as a user meets them (the built CLI): terminal escapes in the names a
// trace carries, time going backwards inside a call, names that are Object.prototype properties,
// and spreadsheet formulas in CSV cells. Inputs: hostile-fixtures.ts (the real lifecycle capture,
// renamed).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisResult, AnalyzeReport } from '../../analyses/report.js';
import { runAnalysis } from '../../analyses/pipeline.js';
import { csvCell } from '../../reports/csv.js';
import { visible, visibleText } from '../../cli/visible.js';
import { runCli } from '../cli/run.js';
import { referenceReport, runPipeline } from './pipeline.js';
import { backwardsTrace, ESCAPES, escapeTrace, formulaTrace, protoTrace, REAL_STAGE1 } from './hostile-fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'luotrace-hostile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const f = join(tmp, name);
  writeFileSync(f, text);
  return f;
};
const TERMINAL_CONTROL = /[\x1b\x07\x9b]/;

describe('visible(): one convention for control characters', () => {
  it('shows C0 controls, DEL, C1 controls and bidi overrides as escapes, and nothing else', () => {
    expect(visible(ESCAPES)).toBe('\\e]0;title\\a\\e[2J\\e[5m');
    expect(visible('a\tb\r\n\0\x7f\x9b\u202e\u2066z')).toBe('a\\tb\\r\\n\\0\\x7f\\x9b\\u202e\\u2066z');
    const printable = 'luo_ctl lifecycle-s1 ─│╔ µs → ✔ 日本';
    expect(visible(printable)).toBe(printable);
    expect(visibleText('line 1\nname\x1b[2J\n')).toBe('line 1\nname\\e[2J\n');
  });
});

describe('case 2: terminal escapes in comms, session, module, call-site and lock names', () => {
  const esc = file('esc.txt', escapeTrace());
  // A fleet of one host whose file name is hostile too.
  const fleet = join(tmp, 'fleet');
  mkdirSync(fleet);
  writeFileSync(join(fleet, 'host\x1b[2J.txt'), readFileSync(esc));
  const commands: Array<[string, string[]]> = [
    ['analyze', ['analyze', '--no-progress', esc]],
    ['analyze --progress (stderr)', ['analyze', '--progress', esc]],
    ['check', ['check', esc]],
    ['diff (hostile after)', ['diff', REAL_STAGE1, esc]],
    ['diff (hostile before)', ['diff', esc, REAL_STAGE1]],
    ['events --summary', ['events', '--summary', esc]],
    ['events --skipped', ['events', '--skipped', esc]],
    // In this thread (-j 0); with worker threads (the default, from dist/): hostile.slow.test.ts.
    ['fleet -j 0', ['fleet', fleet, '--limit', '50', '-j', '0']],
  ];
  for (const [what, args] of commands) {
    it(`${what}: no ESC, BEL or CSI byte reaches stdout or stderr`, async () => {
      const r = await runCli(args);
      expect([0, 1]).toContain(r.code);
      expect(r.stdout + r.stderr).not.toMatch(TERMINAL_CONTROL);
    });
  }
  it('analyze shows the names with the escapes spelled out', async () => {
    const r = await runCli(['analyze', esc]);
    expect(r.stdout).toContain('lifecycle-s1\\e]0;title\\a\\e[2J\\e[5m');
    expect(r.stdout).toContain('luo_demo\\e]0;title\\a\\e[2J\\e[5m');
  });
  it('JSON stays exact: the names come back byte for byte', async () => {
    const r = await runCli(['analyze', '--json', esc]);
    const report = JSON.parse(r.stdout) as AnalyzeReport;
    expect(report.sessions.map((s) => s.name)).toContain(`lifecycle-s1${ESCAPES}`);
  });
  it('merge of host summaries prints no escape', async () => {
    const summary = await runCli(['host-summary', '--host', 'evil\x1b[2Jhost', esc]);
    expect(summary.code).toBe(0);
    const r = await runCli(['merge', file('evil.json', summary.stdout)]);
    expect(r.stdout).toContain('evil\\e[2Jhost');
    expect(r.stdout + r.stderr).not.toMatch(TERMINAL_CONTROL);
  });
  it('an error message quoting a file name or a line shows its escapes', async () => {
    const r = await runCli(['analyze', file('bad\x1b[2J.txt', `\x1b]0;pwned\x07 not a trace\n`.repeat(3))]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(TERMINAL_CONTROL);
    expect(r.stderr).toContain('bad\\e[2J.txt');
  });
});

describe('case 4: a return stamped before its call', () => {
  const back = file('back.txt', backwardsTrace());
  it('check runs (no internal error) and cannot measure the phase', async () => {
    const r = await runCli(['check', back]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/max-phase-duration +1 matching phases, none with both ends/);
  });
  it('the phase has no duration and the data-quality notes say why', async () => {
    const r = await runCli(['analyze', '--json', back]);
    const report = JSON.parse(r.stdout) as AnalyzeReport;
    const create = report.sessions[0].phases.find((p) => p.name === 'create')!;
    expect(create.start! - create.end!).toBe(20_163_000);
    expect(create.durationNs).toBeNull();
    expect(report.dataQuality.notes).toContain('1 LUO phases end before they begin (the clock went back between the two events, first at ' + back + ':13): their durations are left out');
  });
});

describe('case 5: names that are Object.prototype properties', () => {
  let reference: AnalysisResult;
  beforeAll(async () => {
    reference = await referenceReport(REAL_STAGE1);
  });
  for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
    const f = file(`proto-${name}.txt`, protoTrace(name));
    it(`${name}: counted like any other name; analyze, check, diff, both exports, merge and the TUI run`, async () => {
      const report = await runAnalysis([f], {});
      const m = report.modules.find((x) => x.name === name)!;
      for (const n of [...Object.values(m.getsBySite), ...Object.values(m.putsBySite)]) expect(typeof n).toBe('number');
      const real = reference.report.modules.find((x) => x.name === 'luo_demo' && x.boot === m.boot)!;
      // do_init_module became `name`; every other site counts as in the real capture.
      expect(m.putsBySite[name]).toBe(real.putsBySite.do_init_module);
      expect({ ...m.getsBySite }).toEqual({ ...real.getsBySite });
      expect(report.sessions.map((s) => s.name)).toEqual([name, name]);
      expect(report.locks.map((l) => l.name)).toContain(name);
      // Every command in process (pipeline.ts): throws on any internal error.
      expect((await runPipeline(f, reference)).refused).toBe(false);
    });
  }
  it('the CLI: diff and the chrome-json export of call_site=constructor exit 0 or 1', async () => {
    const f = join(tmp, 'proto-constructor.txt');
    for (const args of [['diff', REAL_STAGE1, f], ['diff', f, REAL_STAGE1], ['export', '--format', 'chrome-json', f]]) {
      const r = await runCli(args);
      expect(r.stderr, args.join(' ')).not.toContain('internal error');
      expect([0, 1], args.join(' ')).toContain(r.code);
    }
  });
});

describe('case 9: CSV formula injection', () => {
  it('csvCell neutralizes text that starts a formula, not numbers', () => {
    for (const c of ['=1+1', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1']) expect(csvCell(c)).toBe(`'${c}`);
    for (const c of [-5, -17, 0, 3.5, null, '-5', '+1.5', 'luo_demo', 'a=b']) expect(csvCell(c)).toBe(c);
    expect(csvCell(true)).toBe('true');
  });
  it('export --format csv and analyze --csv: trace names neutralized, negative numbers kept', async () => {
    const f = file('formula.txt', formulaTrace());
    const dirs = [join(tmp, 'csv-export'), join(tmp, 'csv-analyze')];
    expect((await runCli(['export', '--format', 'csv', '-o', dirs[0], f])).code).toBe(0);
    expect((await runCli(['analyze', '--csv', dirs[1], f])).code).toBe(0);
    for (const dir of dirs) {
      const read = (t: string) => parse(readFileSync(join(dir, t), 'utf8'), { columns: true }) as Array<Record<string, string>>;
      const all = ['sessions.csv', 'phases.csv', 'pin_windows.csv', 'refcounts.csv', 'module_refs_by_site.csv', 'waits.csv'].flatMap((t) => read(t).flatMap((row) => Object.values(row)));
      // No cell a spreadsheet would run: every one starting with = + - @ is a plain number.
      for (const c of all) if (/^[=+\-@\t\r]/.test(c)) expect(c).toMatch(/^-\d+$/);
      expect(read('sessions.csv').map((s) => s.name)).toEqual(["'+lifecycle-s1", "'+lifecycle-s2"]);
      expect(read('sessions.csv')[0].comm).toBe("'=cmd|calc");
      expect(read('refcounts.csv')[0].module).toBe("'-2+3");
      expect(read('module_refs_by_site.csv').map((r) => r.call_site)).toContain('\'=HYPERLINK("x")');
      expect(read('phases.csv').map((p) => p.result)).toContain('-22');
    }
  });
});
