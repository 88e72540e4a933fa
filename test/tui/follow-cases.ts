// Checks of --follow shared by follow.test.ts (fast set, the small real captures) and
// follow.slow.test.ts (the same checks on the 100 000-line contention capture).
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { createAnalysis } from '../../analyses/pipeline.js';
import type { AnalyzeReport } from '../../analyses/report.js';
import { LiveSource } from '../../cli/tui/follow.js';
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

/**
 * The --follow path (LiveSource -> createAnalysis, cli/tui/model.ts followFile) over `data` on
 * stdin, taking a snapshot report after every `every` events (none when 0); the final report and
 * the snapshots taken.
 */
async function followReports(data: Buffer, every: number): Promise<{ final: AnalyzeReport; snapshots: AnalyzeReport[] }> {
  const pipeline = await createAnalysis({});
  const snapshots: AnalyzeReport[] = [];
  let events = 0;
  const source: LiveSource = new LiveSource('-', {
    stdin: Readable.from([data]),
    onFormat: (format) => pipeline.sourceFormat(format),
    sink: (ev) => {
      pipeline.push(ev);
      if (every > 0 && ++events % every === 0) snapshots.push(pipeline.report({ sources: [source.info()], quality: source.ledger.snapshot() }, { snapshot: true }));
    },
    onLine: () => undefined,
    onIdle: () => undefined,
  });
  await (await source.start()).done;
  pipeline.flush();
  return { final: pipeline.report({ sources: [source.info()], quality: source.ledger.snapshot() }), snapshots };
}

/**
 * Snapshot reports taken while following (every `every` events) leave no trace in the final report:
 * the whole JSON equals that of the same stream followed without snapshots, and its LUO and lock
 * parts equal the batch report's. Returns the snapshots for the caller's own checks.
 */
export async function expectSnapshotsHarmless(file: string, every: number): Promise<AnalyzeReport[]> {
  const data = gunzipSync(readFileSync(file));
  const { final, snapshots } = await followReports(data, every);
  const plain = (await followReports(data, 0)).final;
  expect(snapshots.length).toBeGreaterThan(2);
  const pipeline = await createAnalysis({});
  const read = await readTraces(['-'], pipeline.push, { stdin: Readable.from([data]), onSourceStart: (_s, _f, _c, format) => pipeline.sourceFormat(format) });
  pipeline.flush();
  const batch = pipeline.report(read);
  const { sources: _s, dataQuality: _q, ...batchBody } = batch;
  const { sources: _fs, dataQuality: _fq, ...finalBody } = final;
  expect(finalBody).toEqual(batchBody);
  expect(JSON.stringify(final)).toBe(JSON.stringify(plain));
  expect(final.dataQuality.notes.filter((n) => n.startsWith('locks so far'))).toEqual([]);
  return snapshots;
}

/** A snapshot says its lock figures are so far and how many holds and waits are open now; the holds it lists. */
export function expectSnapshotSaysSoFar(r: AnalyzeReport): number {
  const note = r.dataQuality.notes.find((n) => n.startsWith('locks so far'));
  const m = note?.match(/; (\d+) holds and (\d+) waits open now/);
  expect(m, 'the snapshot note').toBeTruthy();
  expect(r.lockDetails.heldAtEnd.length).toBe(Math.min(20, Number(m![1])));
  expect(r.lockDetails.totals.openAtEnd).toBe(0);
  return r.lockDetails.heldAtEnd.length;
}
