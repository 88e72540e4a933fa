// Checks of --follow shared by follow.test.ts (fast set, the small real captures) and
// follow.slow.test.ts (the same checks on the 100 000-line contention capture).
import { Readable } from 'node:stream';
import { expect } from 'vitest';
import { createAnalysis } from '../../analyses/pipeline.js';
import type { AnalyzeReport } from '../../analyses/report.js';
import { followFile, type TuiModel } from '../../cli/tui/model.js';
import { readTraces } from '../../parsers/index.js';
import { until } from './helpers.js';

/** What must not depend on how the events arrived. */
export const core = (r: AnalyzeReport) => ({ boots: r.boots, sessions: r.sessions, modules: r.modules, verdicts: r.verdicts, kernelModel: r.kernelModel });

/** report() called twice on one analysis gives the same JSON (each analysis finish() is repeatable). */
export async function expectRepeatableReport(files: string[]): Promise<void> {
  const pipeline = await createAnalysis({});
  const read = await readTraces(files, pipeline.push, { onSourceStart: (_s, _f, _c, format) => pipeline.sourceFormat(format) });
  pipeline.flush();
  const first = JSON.stringify(pipeline.report(read));
  expect(JSON.stringify(pipeline.report(read))).toBe(first);
}

/**
 * Follow `data` given on stdin in `chunk`-byte pieces, keeping `keepLines` raw lines: the report
 * equals the batch one, with `sessions` sessions, and only the newest `keepLines` lines are kept.
 * `started` receives the model as soon as it exists, for the caller to stop it.
 */
export async function expectStreamFollowed(data: Buffer, chunk: number, keepLines: number, sessions: number, started: (m: TuiModel) => void): Promise<void> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunk) chunks.push(data.subarray(i, i + chunk));
  const m = followFile('-', { keepLines, stdin: Readable.from(chunks) });
  started(m);
  await until('the end of the stream', () => m.live?.ended && m.report, 120_000);
  const pipeline = await createAnalysis({});
  const read = await readTraces(['-'], pipeline.push, { stdin: Readable.from([data]) });
  pipeline.flush();
  const batch = pipeline.report(read);
  expect(core(m.report!)).toEqual(core(batch));
  expect(m.report!.sessions).toHaveLength(sessions);
  const total = m.live!.lines;
  expect(total).toBe(read.sources[0].lines);
  expect(total).toBeGreaterThan(keepLines);
  expect(m.lines.firstLine('<stdin>')).toBe(total - keepLines + 1);
  expect(m.live!.keptLines).toBe(keepLines);
}
