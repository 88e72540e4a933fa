// --follow: a growing file, a FIFO (as trace_pipe is read) and a stream that ends. The report built
// while following must equal the batch report of the same data, and the raw lines kept for the
// Events screen stay bounded (old ones dropped) while the statistics cover everything.
import { execFileSync } from 'node:child_process';
import { appendFileSync, createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';
import type { AnalyzeReport } from '../../analyses/report.js';
import { AT_END } from '../../analyses/luo/pin-kinds.js';
import { buildScreen } from '../../cli/tui/layout.js';
import { initialNav } from '../../cli/tui/keys.js';
import { followFile, type TuiModel } from '../../cli/tui/model.js';
import { lineText } from '../../cli/tui/text.js';
import { core, expectRepeatableReport, expectSnapshotSaysSoFar, expectSnapshotsHarmless, expectStreamFollowed } from './follow-cases.js';
import { CAPTURES, until } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'luotrace-follow-'));
const stage1 = gunzipSync(readFileSync(CAPTURES.lifecycle[0])).toString('utf8');
const stage1Lines = stage1.split('\n').slice(0, -1);

let model: TuiModel | null = null;
afterEach(() => model?.stop());

function screenText(m: TuiModel, screen: Parameters<typeof initialNav>[0]): string {
  return buildScreen(m, initialNav(screen), 80, 23).lines.map(lineText).join('\n');
}

describe('--follow', () => {
  it('rests on report() giving the same report when called again (each analysis finish() is repeatable)', async () => {
    // The 100 000-line contention capture: follow.slow.test.ts.
    for (const files of [CAPTURES.lifecycle, CAPTURES.abort]) await expectRepeatableReport(files);
  });

  it('gives the same report again when the trace ends inside a LUO call (a phase still open)', async () => {
    // The real lifecycle capture cut right after luo_preserve_file's entry (line 246): its preserve
    // phase is open at the end and closes as incomplete, once however often the report is taken.
    const cut = join(tmp, 'cut-in-preserve.txt');
    writeFileSync(cut, `${stage1Lines.slice(0, 246).join('\n')}\n`);
    const first = await runAnalysis([cut], {});
    expect(first.lockDetails.stalls.flatMap((s) => s.slowest).filter((p) => p.phase === 'preserve' && p.incomplete)).toHaveLength(1);
    await expectRepeatableReport([cut]);
  });

  it('snapshot reports taken while following change nothing in the later ones (locks held or waited on at a snapshot stay open)', async () => {
    // Locks held and waited on across snapshots (ftrace); refcounts read within the refcnt check's
    // look-ahead window of a snapshot (the trace-cmd rendering). The 100 000-line capture: follow.slow.test.ts.
    const held: number[] = [];
    for (const [file, every] of [[CAPTURES.contentionTrimmed, 500], [CAPTURES.contentionTrimmedTraceCmd, 211]] as const) {
      for (const s of await expectSnapshotsHarmless(file, every)) held.push(expectSnapshotSaysSoFar(s));
    }
    expect(Math.max(...held)).toBeGreaterThan(0);
  });

  it('a snapshot says what is open so far, not at the end of the trace; the final report says the end', async () => {
    // The lifecycle capture's sessions are open, retrieved or creating for most of the stream, and
    // luo_demo's pins stay open across kexec: mid-stream the report sees them open now.
    const words = (r: AnalyzeReport) => [...r.sessions.map((x) => x.outcome), ...r.modules.flatMap((m) => m.pinWindows.map((w) => w.expectedOpen ?? ''))];
    const snapshots = await expectSnapshotsHarmless(CAPTURES.lifecycle[0], 50);
    const said = snapshots.flatMap(words);
    expect(said.filter((w) => w.includes(AT_END.snapshot)).length).toBeGreaterThan(0);
    expect(said.filter((w) => w.includes(AT_END.final))).toEqual([]);
  });

  it('follows a file as a tracer appends to it; the final report equals the batch report', async () => {
    const file = join(tmp, 'growing.txt');
    writeFileSync(file, `${stage1Lines.slice(0, 300).join('\n')}\n`);
    model = followFile(file, { keepLines: 100 });
    const m = model;
    await until('the first 300 lines', () => m.report && m.live?.lines === 300 && !m.live.streaming);
    expect(m.report!.sessions.map((s) => s.name)).toEqual(['lifecycle-s1']);
    expect(screenText(m, 'overview')).toContain('live: idle');
    appendFileSync(file, `${stage1Lines.slice(300).join('\n')}\n`);
    await until('all 709 lines', () => m.live?.lines === 709 && !m.live.streaming && m.report!.sessions.length === 2);
    const batch = await runAnalysis([file], {});
    // A growing file has no end: its report is a snapshot, which says "as of this report" where the
    // batch report says "at the end of the trace" (open sessions, pins held); the rest is equal.
    const live = JSON.stringify(core(m.report!));
    expect(live).toContain(AT_END.snapshot);
    expect(JSON.parse(live.replaceAll(AT_END.snapshot, AT_END.final))).toEqual(core(batch));
    expect(m.report!.modules[0].gets).toBe(13);
    // Memory: only the newest 100 raw lines are kept; the statistics above cover all 709.
    expect(m.lines.firstLine(file)).toBe(610);
    expect(m.lines.get(file, 609)).toBeNull();
    expect(m.lines.get(file, 709)).toBe(stage1Lines[708]);
    expect(m.live?.droppedLines).toBe(609);
    const events = screenText(m, 'events');
    expect(events).toContain('lines 610–709 (609 older dropped)');
    expect(events).toMatch(/▸  610◆ +luo_ctl-317/);
    expect(events).toMatch(/611│ +luo_ctl-317/);
  });

  it('reads a FIFO the way trace_pipe is read (blocking reads, no header), until the writer closes it', async () => {
    const fifo = join(tmp, 'trace_pipe');
    execFileSync('mkfifo', [fifo]);
    model = followFile(fifo, {});
    const m = model;
    const body = stage1Lines.filter((l) => !l.startsWith('#'));
    const w = createWriteStream(fifo);
    for (let i = 0; i < body.length; i += 50) {
      w.write(`${body.slice(i, i + 50).join('\n')}\n`);
      await new Promise((r) => setTimeout(r, 5));
    }
    w.end();
    await until('the end of the pipe', () => m.live?.ended && m.report);
    expect(m.report!.sources[0]).toMatchObject({ format: 'trace-pipe', lines: body.length, events: 697 });
    expect(m.report!.sessions.map((s) => s.name)).toEqual(['lifecycle-s1', 'lifecycle-s2']);
    expect(screenText(m, 'overview')).toContain('live: ended');
  });

  it('keeps statistics for a stream while holding fewer raw lines; report equals the batch one', async () => {
    // The lifecycle capture in 4 KiB pieces, 100 of its 709 lines kept; the 100 000-line contention
    // capture with 1 000 lines kept: follow.slow.test.ts.
    await expectStreamFollowed(Buffer.from(stage1), 4096, 100, 2, (m) => (model = m));
  });

  it('refuses a .gz file (it cannot grow) with a one-line reason', async () => {
    model = followFile(CAPTURES.abort[0], {});
    const m = model;
    await until('the error', () => m.phase === 'error');
    expect(m.error).toMatch(/ftrace-main\.txt\.gz: gzip-compressed: a compressed file does not grow; open it without --follow/);
  });
});
