// `luotrace diff BEFORE AFTER`: compare two runs (e.g. before and after a kernel patch).
//
// Each side is one or more trace files (comma-separated, or --before/--after with several files),
// or a report saved with `luotrace analyze --json` (a CI baseline). The comparison itself is
// reports/diff.ts. Exit codes: 0 no regression beyond --threshold, 1 regressions, 2 unusable input.
import { open, readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { InputError } from '../parsers/index.js';
import { AnalyzeReportSchema, type AnalyzeReport } from '../analyses/report.js';
import { fmtRate } from '../reports/diff-rates.js';
import { type Cmp, DEFAULT_DIFF_OPTIONS, type DiffOptions, type DiffReport, diffReports, ROLE_WORDS } from '../reports/diff.js';
import { parseDuration } from '../reports/rules.js';
import { assertUsable, runAnalysis } from '../analyses/pipeline.js';
import type { AnalyzeOptions } from './analyze.js';
import { ResultFailure } from './check.js';
import { formatOption, threadsOption } from './options.js';
import { BufferedWriter } from './output.js';
import { formatDuration as fmtDuration, shortFile } from '../analyses/format.js';
import { table } from './table.js';
import { visibleText } from './visible.js';

interface DiffCliOptions extends AnalyzeOptions {
  before?: string[];
  after?: string[];
  threshold?: string;
  minDelta?: string;
  limit?: string;
}

/** `20%`, `0.2` -> 0.2. */
export function parseThreshold(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(v.trim());
  if (!m) throw new InputError('--threshold', `not a ratio or percentage: ${v} (e.g. 20% or 0.2)`);
  const n = Number(m[1]);
  return m[2] ? n / 100 : n;
}

/** Is this file a report saved by `luotrace analyze --json`? (Its first key is "tool".) */
async function isSavedReport(file: string): Promise<boolean> {
  if (file === '-') return false;
  let fh;
  try {
    fh = await open(file, 'r');
  } catch {
    return false; // readTraces gives the proper error
  }
  try {
    const buf = Buffer.alloc(64);
    const { bytesRead } = await fh.read(buf, 0, 64, 0);
    return /^\{\s*"tool"\s*:/.test(buf.subarray(0, bytesRead).toString('utf8'));
  } finally {
    await fh.close();
  }
}

async function loadSavedReport(file: string): Promise<AnalyzeReport> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new InputError(file, `not a valid analyze report: ${(e as Error).message}`);
  }
  const r = AnalyzeReportSchema.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new InputError(file, `not a valid \`luotrace analyze --json\` report: ${first.path.join('.')}: ${first.message}`);
  }
  return r.data;
}

/** One side of the comparison: trace files analysed now, or one saved report. */
export async function loadSide(files: string[], opts: AnalyzeOptions): Promise<AnalyzeReport> {
  if (files.length === 1 && (await isSavedReport(files[0]))) return loadSavedReport(files[0]);
  for (const f of files) if (await isSavedReport(f)) throw new InputError(f, 'a saved analyze report must be the only input of its side');
  const report = await runAnalysis(files, opts);
  assertUsable(report);
  return report;
}

const splitList = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

// ---- text --------------------------------------------------------------------------------------

function ratio(c: Cmp): string {
  if (c.ratio === null) return c.before === null || c.after === null ? '' : c.after === c.before ? '=' : 'new';
  if (Math.abs(c.ratio - 1) < 0.005) return '=';
  return `×${c.ratio.toFixed(2)}`;
}
const num = (v: number | null) => (v === null ? '-' : Number.isInteger(v) ? String(v) : v.toFixed(1));
const dur = (v: number | null) => fmtDuration(v === null ? null : Math.round(v));
const delta = (c: Cmp, f: (v: number | null) => string) => (c.delta === null ? '' : c.delta === 0 ? '0' : `${c.delta > 0 ? '+' : '-'}${f(Math.abs(c.delta))}`);

export function renderDiffText(d: DiffReport, limit = 20): string {
  const out: string[] = [];
  const files = (fs: string[]) => fs.map(shortFile).join(', ');
  out.push(`luotrace diff — before: ${d.before.kernelModel ?? 'unknown model'}, after: ${d.after.kernelModel ?? 'unknown model'}`);
  out.push(`  before: ${files(d.before.files)}`, `  after:  ${files(d.after.files)}`, '');
  out.push('HEADLINE');
  for (const h of d.headline) out.push(`  • ${h}`);

  out.push(...runLines(d));

  out.push('', 'MODULE REFERENCES by role (gets / puts, all boots)');
  const refRows: string[][] = [['module', 'role', 'gets before', 'gets after', 'Δ', 'puts before', 'puts after', 'Δ']];
  for (const m of d.moduleRefs) {
    for (const r of m.roles) refRows.push([m.module, ROLE_WORDS[r.role], num(r.gets.before), num(r.gets.after), delta(r.gets, num), num(r.puts.before), num(r.puts.after), delta(r.puts, num)]);
  }
  out.push(indent(table(refRows, new Set([2, 3, 4, 5, 6, 7]))));
  const siteRows: string[][] = [['module', 'call site', 'role', 'get/put', 'before', 'after']];
  for (const m of d.moduleRefs) for (const s of m.sites) if (s.count.before !== s.count.after) siteRows.push([m.module, s.site, s.role, s.direction, num(s.count.before), num(s.count.after)]);
  if (siteRows.length > 1) out.push('', '  call sites that changed:', indent(table(siteRows, new Set([4, 5])), 4));

  out.push('', 'MODULES per boot');
  const modRows: string[][] = [['module', 'boot', 'LUO gets', 'LUO puts', 'open pins', 'final refcnt', 'pin held avg', 'rmmod before', 'rmmod after']];
  for (const m of d.modules) {
    modRows.push([
      m.module,
      `${m.boot} ${m.bootRole.after ?? m.bootRole.before ?? ''}`,
      `${num(m.luoGets.before)} → ${num(m.luoGets.after)}`,
      `${num(m.luoPuts.before)} → ${num(m.luoPuts.after)}`,
      `${num(m.openPins.before)} → ${num(m.openPins.after)}`,
      `${num(m.finalRefcnt.before)} → ${num(m.finalRefcnt.after)}`,
      `${dur(m.pinHeldAvgNs.before)} → ${dur(m.pinHeldAvgNs.after)}`,
      m.rmmod.before ?? '-',
      m.rmmod.after ?? '-',
    ]);
  }
  out.push(indent(table(modRows)));

  out.push('', 'PHASES (durations of complete phases)');
  const phRows: string[][] = [['side', 'phase', 'n', 'avg before', 'avg after', 'ratio', 'max before', 'max after', 'ratio']];
  for (const p of d.phases) {
    phRows.push([p.side, p.phase, `${num(p.count.before)}/${num(p.count.after)}`, dur(p.avgNs.before), dur(p.avgNs.after), ratio(p.avgNs), dur(p.maxNs.before), dur(p.maxNs.after), ratio(p.maxNs)]);
  }
  out.push(indent(table(phRows, new Set([2, 3, 4, 5, 6, 7, 8]))));

  out.push('', `SESSIONS (${d.sessions.length})`);
  const sRows: string[][] = [['session', 'matched', 'state before', 'state after', 'phases', 'phase time before', 'after', 'ratio', 'pins', 'open pins']];
  for (const s of d.sessions.slice(0, limit)) {
    sRows.push([s.key, s.matchedBy, s.state.before ?? '-', s.state.after ?? '-', `${num(s.phases.before)}/${num(s.phases.after)}`, dur(s.phaseTimeNs.before), dur(s.phaseTimeNs.after), ratio(s.phaseTimeNs), `${num(s.pinsTaken.before)}/${num(s.pinsTaken.after)}`, `${num(s.pinsOpen.before)}/${num(s.pinsOpen.after)}`]);
  }
  out.push(indent(table(sRows, new Set([5, 6, 7]))));
  if (d.sessions.length > limit) out.push(`  … ${d.sessions.length - limit} more (--limit)`);

  out.push('', `LOCKS (${d.locks.length} named)`);
  if (d.locks.length === 0) out.push('  no named lock in either report');
  else {
    const lRows: string[][] = [['lock', 'mode', 'acquired', 'contended', 'per acq.', 'max wait before', 'after', 'ratio', 'p99 wait before', 'after', 'max hold before', 'after', 'ratio']];
    for (const l of d.locks.slice(0, limit)) {
      lRows.push([
        l.matchedBy === 'address' ? `${l.lock} (by address)` : l.lock,
        l.mode,
        `${num(l.acquisitions.before)}/${num(l.acquisitions.after)}`,
        `${num(l.contended.before)}/${num(l.contended.after)}`,
        `${fmtRate(l.contendedPerAcquisition.before)}/${fmtRate(l.contendedPerAcquisition.after)}`,
        dur(l.wait.max.before),
        dur(l.wait.max.after),
        ratio(l.wait.max),
        dur(l.wait.p99.before),
        dur(l.wait.p99.after),
        dur(l.hold.max.before),
        dur(l.hold.max.after),
        ratio(l.hold.max),
      ]);
    }
    out.push(indent(table(lRows, new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]))));
    if (d.locks.length > limit) out.push(`  … ${d.locks.length - limit} more (--limit)`);
  }
  const unnamed = (xs: DiffReport['unnamedLocks']['before']) =>
    xs.length ? xs.map((u) => `${u.locks} ${u.mode} (${u.acquisitions} acquired, ${u.contended} contended, longest wait ${dur(u.waitMaxNs)})`).join(', ') : 'none';
  if (d.unnamedLocks.before.length || d.unnamedLocks.after.length) {
    out.push('  locks without a name, not compared (pointers are per boot):', `    before: ${unnamed(d.unnamedLocks.before)}`, `    after:  ${unnamed(d.unnamedLocks.after)}`);
  }

  const changed = d.verdicts.filter((v) => v.changed);
  out.push('', 'VERDICTS');
  if (!changed.length) out.push('  no verdict changed');
  for (const v of changed) out.push(`  ${v.id}: ${v.before ? 'pass' : 'FAIL'} → ${v.after ? 'pass' : 'FAIL'}`, `    before: ${v.beforeMessage}`, `    after:  ${v.afterMessage}`);

  if (d.notComparable.length) {
    out.push('', 'NOT COMPARABLE');
    for (const n of d.notComparable) out.push(`  - ${n}`);
  }
  out.push('', `REGRESSIONS (threshold +${Math.round(d.options.threshold * 100)}%, increases under ${fmtDuration(d.options.minDeltaNs)} ignored)`);
  if (!d.regressions.length) out.push('  none');
  for (const r of d.regressions) out.push(`  ✘ ${r.message}`);
  return `${out.join('\n')}\n`;
}

/** Each run's length and rates (over the LUO-related locks), and what the comparison decides on. */
function runLines(d: DiffReport): string[] {
  const r = d.run;
  const rows: string[][] = [['', 'before', 'after', 'ratio']];
  const add = (what: string, c: Cmp, f: (v: number | null) => string) => rows.push([what, f(c.before), f(c.after), ratio(c)]);
  add('sessions', r.sessions, num);
  add('LUO lock acquisitions', r.lockAcquisitions, num);
  add('contended', r.contended, num);
  add('contended per acquisition', r.contendedPerAcquisition, fmtRate);
  add('timed waits', r.waits, num);
  add('waits per session', r.waitsPerSession, (v) => (v === null ? '-' : v.toFixed(2)));
  add('wait per session', r.waitNsPerSession, dur);
  return ['', 'RUNS: length and rates (LUO locks and locks waited on inside LUO calls)', indent(table(rows, new Set([1, 2, 3]))), `  ${r.basis}`, ...d.rateNotes.map((n) => `  - ${n}`)];
}

function indent(s: string, n = 2): string {
  const pad = ' '.repeat(n);
  return s
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('compare two runs (before/after a patch): sessions, phases, module refs, locks; flags regressions')
    .argument('[before]', 'trace file(s) of the first run, comma-separated, or a saved `analyze --json` report')
    .argument('[after]', 'trace file(s) of the second run, comma-separated, or a saved `analyze --json` report')
    .option('--before <files...>', 'files of the first run (instead of the positional argument)')
    .option('--after <files...>', 'files of the second run (instead of the positional argument)')
    .option('--threshold <ratio>', 'relative increase that is a regression: 20% or 0.2', '20%')
    .option('--min-delta <duration>', 'ignore duration increases smaller than this (timer noise): 1ms, 500us...', '1ms')
    .option('--json', 'print the comparison as one JSON document (see `luotrace schema diff`)')
    .option('--limit <n>', 'rows shown per list in the text output', '20')
    .option('--kallsyms <file>', 'a copy of /proc/kallsyms or System.map to name raw addresses (both runs)')
    .addOption(formatOption())
    .addOption(threadsOption())
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  luotrace diff before.txt after.txt\n' +
        '  luotrace diff stage1.txt,console.log,stage2.txt new-stage1.txt,new-console.log,new-stage2.txt\n' +
        '  luotrace analyze --json base/*.txt > baseline.json; luotrace diff --before baseline.json --after new/*.txt\n' +
        '\nExit codes: 0 no regression beyond --threshold, 1 regressions (slower phases or locks, more contention,\n' +
        'a verdict that passed before and fails after), 2 unusable input or bad usage, 3 internal error.',
    )
    .action(async (beforeArg: string | undefined, afterArg: string | undefined, opts: DiffCliOptions) => {
      const beforeFiles = opts.before ?? (beforeArg !== undefined ? splitList(beforeArg) : []);
      const afterFiles = opts.after ?? (afterArg !== undefined && opts.before === undefined ? splitList(afterArg) : []);
      const extra = opts.before !== undefined || opts.after !== undefined ? [beforeArg, afterArg].filter((x) => x !== undefined) : [];
      if (extra.length) throw new InputError('diff', `unexpected argument ${extra[0]}: give each side either positionally or with --before/--after`);
      if (!beforeFiles.length || !afterFiles.length) throw new InputError('diff', 'need two runs: luotrace diff BEFORE AFTER (or --before FILE... --after FILE...)');
      const minDelta = parseDuration(opts.minDelta ?? '1ms');
      if (minDelta === null) throw new InputError('--min-delta', `not a duration: ${opts.minDelta} (e.g. 1ms, 500us)`);
      const diffOpts: DiffOptions = { ...DEFAULT_DIFF_OPTIONS, threshold: parseThreshold(opts.threshold ?? '20%'), minDeltaNs: minDelta };
      const before = await loadSide(beforeFiles, opts);
      const after = await loadSide(afterFiles, opts);
      const d = diffReports(before, after, diffOpts);
      const out = new BufferedWriter();
      out.write(opts.json ? `${JSON.stringify(d, null, 2)}\n` : visibleText(renderDiffText(d, Math.max(1, Number(opts.limit) || 20))));
      await out.flush();
      if (d.regressions.length) throw new ResultFailure('regressions');
    });
}
