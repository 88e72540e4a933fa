// `luotrace check FILE... [--rules FILE] [--json] [--junit FILE]`: a pass/fail verdict for CI.
//
// The trace is analysed exactly as `analyze` does (runAnalysis); reports/rules.ts then applies the
// rules (built-in defaults, overridden by a rules file) to the report. Exit codes (cli/main.ts):
// 0 every enforced rule passed, 1 a rule was violated, 2 unusable input, bad rules file or usage.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { InputError } from '../parsers/index.js';
import { type CheckReport, effectiveRules, evaluateRules, parseRulesFile, type RuleConfig, RulesError, rulesAsFile } from '../reports/rules.js';
import { assertUsable, runAnalysis } from '../analyses/pipeline.js';
import type { AnalyzeOptions } from './analyze.js';
import { renderJUnit } from './export/junit.js';
import { formatOption, threadsOption } from './options.js';
import { BufferedWriter, writeOutputFile } from './output.js';
import { shortFile } from '../analyses/format.js';
import { visibleText } from './visible.js';

/** A command finished and printed its result, and that result is a failure (exit 1, nothing more on stderr). */
export class ResultFailure extends Error {
  constructor(message = 'failed') {
    super(message);
  }
}

interface CheckOptions extends AnalyzeOptions {
  rules?: string;
  junit?: string;
  strict?: boolean;
  printRules?: boolean;
}

/** Read and validate a rules file; every problem becomes one line of an exit-2 error. */
export async function loadRules(path: string | undefined): Promise<RuleConfig[]> {
  if (path === undefined) return effectiveRules(null);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new InputError(path, `cannot read rules file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(path, `not valid JSON: ${(e as Error).message}`);
  }
  try {
    return effectiveRules(parseRulesFile(json));
  } catch (e) {
    if (e instanceof RulesError) throw new InputError(path, `invalid rules: ${e.problems.join('; ')}`);
    throw e;
  }
}

const MARK: Record<CheckReport['rules'][number]['status'], string> = { pass: '✔ pass', fail: '✘ FAIL', warn: '! warn', inconclusive: '? inconclusive', off: '- off ', 'n/a': '– n/a ' };

/** Does the check fail: a violated error rule; with --strict also warnings and inconclusive rules. */
export function checkFails(c: CheckReport, strict = false): boolean {
  return c.status === 'fail' || (strict && (c.summary.warnings > 0 || c.summary.inconclusive > 0));
}

export function renderCheckText(c: CheckReport, strict = false): string {
  const out: string[] = [];
  const inconclusive = c.summary.inconclusive ? `, ${c.summary.inconclusive} inconclusive` : '';
  out.push(
    `luotrace check: ${checkFails(c, strict) ? 'FAIL' : 'PASS'} — ${c.summary.passed} passed, ${c.summary.failed} failed, ${c.summary.warnings} warnings${inconclusive}, ${c.summary.notApplicable} not applicable, ${c.summary.off} off` +
      (c.kernelModel.id ? `  (kernel model: ${c.kernelModel.id})` : ''),
  );
  for (const f of c.files) out.push(`  ${f}`);
  out.push('');
  for (const r of c.rules) {
    out.push(`${MARK[r.status]}  ${r.id.padEnd(30)} ${r.message}`);
    if (r.status === 'fail' || r.status === 'warn' || r.status === 'inconclusive') {
      const ev = r.evidence.slice(0, 8).map((a) => `${shortFile(a.file)}:${a.line}`);
      if (ev.length) out.push(`        evidence: ${ev.join(', ')}${r.evidence.length > 8 ? `, … (${r.evidence.length} in all)` : ''}`);
    }
  }
  if (c.dataQuality.incomplete) out.push('', 'note: the inputs are incomplete (lost events or truncation): see `luotrace analyze` for where.');
  return `${out.join('\n')}\n`;
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('pass/fail verdict for CI: apply rules (defaults or --rules FILE) to the analysis of a run')
    .argument('[files...]', 'trace files of one run (as for analyze)')
    .option('--rules <file>', 'rules file (JSON, see `luotrace schema rules`); named rules replace their defaults')
    .option('--json', 'print the result as one JSON document (see `luotrace schema check`)')
    .option('--junit <file>', 'also write the result as JUnit XML to this file (one testcase per rule)')
    .option('--strict', 'warnings and inconclusive rules (data possibly missing) fail the check too')
    .option('--print-rules', 'print the effective rules (defaults merged with --rules) as a rules file and exit')
    .option('--kallsyms <file>', 'a copy of /proc/kallsyms or System.map to name raw addresses')
    .option('--kernel-model <model>', 'force the LUO code version: pre-series, v1, merged, later')
    .addOption(formatOption())
    .addOption(threadsOption())
    .addHelpText(
      'after',
      '\nRules: ' +
        'modules-unpinned-after-finish, refcounts-balanced, no-pins-outside-sessions, no-unregister-errors,\n' +
        'no-forced-unload-with-pins, no-lost-events, kexec-freeze (verdicts of the analysis), max-hold, max-wait,\n' +
        'p99-wait (per lock and mode), max-phase-duration (per LUO phase). Severity per rule: error, warning, off.\n' +
        '\nExit codes: 0 every rule passed (warnings and inconclusive rules allowed unless --strict), 1 a rule was violated,\n' +
        '2 unusable input (missing/unreadable/empty trace, invalid rules file) or bad usage, 3 internal error.',
    )
    .action(async (files: string[], opts: CheckOptions) => {
      const rules = await loadRules(opts.rules);
      const out = new BufferedWriter();
      if (opts.printRules) {
        out.write(`${JSON.stringify(rulesAsFile(rules), null, 2)}\n`);
        await out.flush();
        return;
      }
      if (files.length === 0) throw new InputError('check', 'no trace files given (usage: luotrace check FILE... [--rules FILE])');
      const report = await runAnalysis(files, opts);
      assertUsable(report);
      const result = evaluateRules(report, rules);
      if (opts.junit) {
        const junit = renderJUnit(result, { strict: Boolean(opts.strict) });
        writeOutputFile(opts.junit, (out) => out.write(junit), 'cannot write JUnit file');
      }
      out.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : visibleText(renderCheckText(result, opts.strict)));
      await out.flush();
      if (checkFails(result, opts.strict)) throw new ResultFailure('check failed');
    });
}
