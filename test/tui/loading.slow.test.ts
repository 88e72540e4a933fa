// Loading a big input in the TUI (issue 17): the first frame shows progress before the analysis is
// done (and is the frame the splash draws before Ink loads), keys work while the read runs, the
// screen fills in (events by kind) as data arrives, q stops the read, and the final screens are
// those of the report `analyze` gives. The input is a real capture repeated with shifted timestamps
// (test/bench/repeat-real.ts), 3 copies, ~33 MB: big enough that the read spans many chunks.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';
import { initialNav } from '../../cli/tui/keys.js';
import { buildScreen } from '../../cli/tui/layout.js';
import { loadFiles, TuiModel } from '../../cli/tui/model.js';
import { ansiLine, splashLines } from '../../cli/tui/splash.js';
import { lineText } from '../../cli/tui/text.js';
import { repeatCapture } from '../bench/repeat-real.js';
import { CAPTURES, screen, until } from './helpers.js';

const plain = (frame: string): string =>
  frame
    .replace(/\x1b\[[0-9;]*m/g, '')
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');

let dir = '';
let big = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'luotrace-loading-'));
  big = join(dir, 'contention.repeated.txt');
  const text = gunzipSync(readFileSync(CAPTURES.contention[0])).toString('latin1');
  const fd = openSync(big, 'w');
  try {
    repeatCapture(text, 3 * text.length - 1, (s) => writeSync(fd, s, null, 'latin1'));
  } finally {
    closeSync(fd);
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loading a big input', () => {
  it('first frame: progress before the analysis is done, the same frame the splash draws', () => {
    const model = loadFiles([big], { threads: '1' });
    try {
      const s = screen(model);
      const first = plain(s.frame());
      expect(model.phase).toBe('loading');
      expect(first).toContain('Reading 1 file');
      expect(first).toMatch(/loading-.*conte… +░{20} +0%\n  waiting/);
      expect(first).toContain('loading');
      expect(first).toBe(plain(splashLines(model, 80, 23).map((l) => ansiLine(l, true)).join('\n')));
      s.quit();
    } finally {
      model.stop();
    }
  });

  it('one thread: fills in and takes keys while reading; the final screen is the one of analyze’s report', async () => {
    const model = loadFiles([big], { threads: '1' });
    const s = screen(model);
    // Mid-read: a part of the file, events by kind, and a key (help) handled before the end.
    await until('progress mid-read', () => model.phase === 'loading' && (model.progress[0]?.events ?? 0) > 0);
    const mid = buildScreen(model, initialNav(), 80, 23).lines.map(lineText).join('\n');
    expect(mid).toMatch(/ +\d{1,2}%/);
    expect(mid).toContain('EVENTS BY KIND SO FAR');
    expect(mid).toMatch(/lock_acquire +[\d,]+/);
    await s.press('?');
    expect(model.phase).toBe('loading');
    await s.waitFor('any key closes this help');
    expect(model.phase).toBe('loading');
    await s.press('x');
    // Module references so far: what the lines read say, short of the end.
    await until('module references mid-read', () => model.soFar.refs.rows.size > 0 || model.phase !== 'loading');
    const refsMid = buildScreen(model, initialNav(), 100, 29).lines.map(lineText).join('\n');
    expect(model.phase).toBe('loading');
    expect(refsMid).toMatch(/MODULE REFERENCES SO FAR +gets +puts +refcnt= now \(line\)\n  luo_demo +[\d,]+ +[\d,]+ +\d+ \([\d,]+\)/);
    await until('the report', () => model.phase !== 'loading', 120_000);
    expect(model.error).toBeNull();
    // At the end the counts so far are the report's: one module in one boot.
    const row = model.soFar.refs.top(5);
    expect(row).toHaveLength(1);
    expect(model.report!.modules.map((m) => [m.name, m.gets, m.puts, m.finalRefcnt])).toEqual([[row[0].module, row[0].gets, row[0].puts, row[0].refcnt]]);
    const final = await s.waitFor('VERDICTS');
    s.quit();
    const today = TuiModel.ready(await runAnalysis([big], {}));
    const ref = screen(today);
    expect(plain(final)).toBe(plain(await ref.waitFor('VERDICTS')));
    ref.quit();
  }, 180_000);

  it('the Events screen while reading: the lines read so far, before the report', async () => {
    const model = loadFiles([big], { threads: '1' });
    try {
      const s = screen(model);
      await until('progress mid-read', () => model.phase === 'loading' && (model.progress[0]?.lines ?? 0) > 20_000);
      await s.press('5');
      const frame = await s.waitFor(/▸ +1│# tracer: nop/);
      expect(model.phase).toBe('loading');
      const shown = Number(/file 1\/1 \S+ +([\d,]+) lines/.exec(frame)?.[1].replace(/,/g, ''));
      expect(shown).toBeGreaterThan(20_000);
      expect(shown).toBeLessThan(3 * 101_075);
      await until('the report', () => model.phase !== 'loading', 120_000);
      // Still on the Events screen, now with every line counted.
      await s.waitFor(/file 1\/1 \S+ +303,201 lines/);
      s.quit();
    } finally {
      model.stop();
    }
  }, 180_000);

  it('two threads: keys go through between the worker’s batches, and stop() ends the read at once', async () => {
    const model = loadFiles([big], { threads: '2' });
    const s = screen(model);
    await until('progress mid-read', () => model.phase === 'loading' && (model.progress[0]?.events ?? 0) > 0);
    await s.press('?');
    await s.waitFor('any key closes this help');
    expect(model.phase).toBe('loading');
    const events = model.progress[0].events;
    model.stop();
    s.quit();
    await new Promise((r) => setTimeout(r, 300));
    // Cancelled: no report, no error shown, and no more events taken.
    expect(model.phase).toBe('loading');
    expect(model.failure).toBeNull();
    expect(model.progress[0].events).toBeLessThan(events + 50_000);
    expect(model.report).toBeNull();
  }, 120_000);
});
