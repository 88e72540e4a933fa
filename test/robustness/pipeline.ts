// The whole pipeline in one process, on one input file, as the commands run it: analyze (text and
// JSON), check, diff against a real report both ways, export (chrome-json and CSV), a host summary
// merged into a fleet summary, and the TUI model on every screen with a few keys. Shared by the CI
// tests (pipeline-fuzz.test.ts: 20 cases, pipeline-fuzz.slow.test.ts: 120) and
// `npm run fuzz -- --pipeline` (10^5).
//
// A case may end in one clean refusal (InputError: "unusable input", exit 2); anything else thrown
// is an internal error (exit 3 for a user). The text reports are only rendered here: the commands
// escape them on the way out (cli/visible.ts), which hostile.test.ts checks byte by byte. Besides
// not throwing, every case checks: every line is accounted for exactly once, the JSON report
// matches its schema, and no TUI frame carries a control character (the TUI's own boundary,
// cli/tui/text.ts fit()).
import { diffReports } from '../../reports/diff.js';
import { buildHostSummary, HostSummarySchema, mergeSummaries } from '../../reports/fleet.js';
import { type AnalysisResult, AnalyzeReportSchema, type AnalyzeReport } from '../../analyses/report.js';
import { defaultRules, evaluateRules } from '../../reports/rules.js';
import { assertUsable, runAnalysisWithDistributions } from '../../analyses/pipeline.js';
import { renderCheckText } from '../../cli/check.js';
import { renderDiffText } from '../../cli/diff.js';
import { chromeTraceOf, writeChromeTrace } from '../../cli/export.js';
import { reportTables, tableToCsv } from '../../reports/csv.js';
import { renderFleetText } from '../../cli/fleet/render.js';
import { renderReportText } from '../../cli/render-report.js';
import { buildSummary, renderSummaryText } from '../../cli/summary.js';
import { applyAction, initialNav, type Action } from '../../cli/tui/keys.js';
import { buildScreen } from '../../cli/tui/layout.js';
import { TuiModel } from '../../cli/tui/model.js';
import { lineText } from '../../cli/tui/text.js';
import { SCREENS } from '../../cli/tui/views.js';
import { InputError, readTraces } from '../../parsers/index.js';

/** A failure of one stage, with the stage's name (the error that escaped is `cause`). */
export class PipelineFailure extends Error {
  constructor(
    readonly stage: string,
    override readonly cause: unknown,
  ) {
    super(`${stage}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
  /** One line per distinct bug: the stage, the message without numbers, and the first frame. */
  get signature(): string {
    const e = this.cause instanceof Error ? this.cause : null;
    const frame = e?.stack?.split('\n').find((l) => l.includes(' at ')) ?? '';
    return `${this.stage}: ${(e?.message ?? String(this.cause)).replace(/\d+/g, 'N').slice(0, 160)} ${frame.trim()}`;
  }
}

async function stage<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof InputError || e instanceof PipelineFailure) throw e;
    throw new PipelineFailure(name, e);
  }
}

function invariant(name: string, ok: boolean, what: string): void {
  if (!ok) throw new PipelineFailure(name, new Error(what));
}

const TERMINAL_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

const sum = (rec: Record<string, number>): number => Object.values(rec).reduce((a, b) => a + b, 0);

/** The TUI on every screen, then Enter, down, Enter, Esc on each: all frames built, none unsafe. */
function driveTui(report: AnalyzeReport): void {
  const model = TuiModel.ready(report);
  const keys: Action[] = [{ type: 'enter' }, { type: 'move', delta: 1 }, { type: 'enter' }, { type: 'sort' }, { type: 'end' }, { type: 'back' }, { type: 'back' }];
  try {
    for (const screen of SCREENS) {
      let nav = initialNav(screen);
      for (const key of [null, ...keys]) {
        const shown = buildScreen(model, nav, 100, 30);
        for (const l of shown.lines) invariant('tui', !TERMINAL_CONTROL.test(lineText(l)), `control character on the ${screen} screen`);
        if (key) nav = applyAction(nav, key, shown.info);
      }
    }
  } finally {
    model.stop();
  }
}

export interface PipelineResult {
  refused: boolean;
  lines: number;
  events: number;
}

/**
 * Run everything on `file`. `reference` is a report of a real capture (the other side of the diffs).
 * Returns refused=true when the input was refused cleanly; throws PipelineFailure on a bug.
 */
export async function runPipeline(file: string, referenceResult: AnalysisResult): Promise<PipelineResult> {
  const reference = referenceResult.report;
  let result: AnalysisResult;
  let report: AnalyzeReport;
  try {
    result = await stage('analyze', () => runAnalysisWithDistributions([file], {}));
    report = result.report;
    await stage('analyze', () => assertUsable(report));
  } catch (e) {
    if (e instanceof InputError) return { refused: true, lines: 0, events: 0 };
    throw e;
  }
  const q = report.dataQuality.lines;
  invariant('lines', q.events + sum(q.known) + sum(q.skipped) === q.total, `line accounting: ${q.events} events + ${sum(q.known)} known + ${sum(q.skipped)} skipped != ${q.total} lines`);

  await stage('analyze --json', () => {
    const parsed = AnalyzeReportSchema.safeParse(JSON.parse(JSON.stringify(report)));
    invariant('analyze --json', parsed.success, `report does not match its schema: ${parsed.error?.issues[0]?.path.join('.')} ${parsed.error?.issues[0]?.message}`);
  });
  await stage('analyze', () => renderReportText(report, { limit: 20 }));
  await stage('events --summary', async () => {
    const read = await readTraces([file], () => {});
    renderSummaryText(buildSummary(read));
  });
  await stage('check', () => {
    const c = evaluateRules(report, defaultRules());
    JSON.stringify(c);
    renderCheckText(c);
  });
  await stage('diff', () => {
    for (const d of [diffReports(reference, report), diffReports(report, reference), diffReports(report, report)]) {
      JSON.stringify(d);
      renderDiffText(d);
    }
  });
  await stage('export chrome-json', async () => {
    const { trace } = await chromeTraceOf([file], {});
    let out = '';
    writeChromeTrace({ write: (s: string) => (out += s) }, trace);
    JSON.parse(out);
  });
  await stage('export csv', () => {
    for (const t of reportTables(report)) tableToCsv(t);
  });
  await stage('merge', () => {
    const host = HostSummarySchema.parse(JSON.parse(JSON.stringify(buildHostSummary('fuzz', [file], result))));
    const ref = HostSummarySchema.parse(JSON.parse(JSON.stringify(buildHostSummary('reference', ['reference'], referenceResult))));
    const fleet = mergeSummaries([{ from: 'fuzz.json', doc: host }, { from: 'reference.json', doc: ref }], report.tool);
    renderFleetText(fleet, { limit: 20 });
  });
  await stage('tui', () => driveTui(report));
  return { refused: false, lines: q.total, events: q.events };
}

/** The analysis of `file` for the reference side of the diffs and the merge. */
export const referenceReport = (file: string): Promise<AnalysisResult> => runAnalysisWithDistributions([file], {});
