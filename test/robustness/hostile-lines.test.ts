// Issue 15, item 6: a line that reaches the reader in three or more pieces (a pipe read while the
// tracer is still writing it) must come out exactly as it was written, on stdin (`-`) and under
// `tui --follow`, which share parsers/input.ts LineSplitter.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readTraces } from '../../parsers/index.js';
import { LineSplitter } from '../../parsers/input.js';
import { QualityLedger } from '../../parsers/quality.js';
import { LiveSource } from '../../cli/tui/follow.js';
import type { TraceEvent } from '../../parsers/event.js';
import { parseFiles, parseText, sample } from '../helpers.js';

const stage1 = gunzipSync(readFileSync(sample('real/lifecycle/stage1/ftrace-main.txt.gz'))).toString('latin1');
const lines = stage1.split('\n').slice(0, -1);
// Line 252 of the capture: `luo_ctl-317 ... module_get: luo_demo call_site=luo_preserve_file refcnt=3`.
const MODULE_GET = 251;

/** The capture as chunks: everything before line 252, that line in `pieces` reads, then the rest. */
function chunked(pieces: number): Buffer[] {
  const before = `${lines.slice(0, MODULE_GET).join('\n')}\n`;
  const line = `${lines[MODULE_GET]}\n`;
  const after = `${lines.slice(MODULE_GET + 1).join('\n')}\n`;
  const cut = Array.from({ length: pieces }, (_, i) => line.slice(Math.floor((i * line.length) / pieces), Math.floor(((i + 1) * line.length) / pieces)));
  return [before, ...cut, after].map((s) => Buffer.from(s, 'latin1'));
}

function split(chunks: Buffer[]): string[] {
  const out: string[] = [];
  const s = new LineSplitter((text) => out.push(text), new QualityLedger(), 'x');
  for (const c of chunks) s.push(c);
  s.end();
  return out;
}

describe('a line read in several pieces', () => {
  it('LineSplitter keeps the carry once, whatever the number of pieces', () => {
    expect(lines[MODULE_GET]).toContain('module_get: luo_demo call_site=luo_preserve_file refcnt=3');
    for (const pieces of [1, 2, 3, 4, 7, 40]) expect(split(chunked(pieces))).toEqual(lines);
    // Every cut point at once: one byte per read.
    const text = Buffer.from(`${lines.slice(240, 260).join('\n')}\n`, 'latin1');
    expect(split([...text].map((b) => Buffer.from([b])))).toEqual(lines.slice(240, 260));
  });

  it('stdin (`-`): the module_get read in 3 pieces after the sniffed head gives the same events', async () => {
    // Past the 64 KiB read ahead for format detection, so the pieces reach the splitter one by one.
    const pad = `${'# padding comment line to push the capture past the sniffed head\n'.repeat(1100)}`;
    const whole = await parseText(pad + stage1, 'ftrace');
    const events: TraceEvent[] = [];
    const stdin = Readable.from([Buffer.from(pad, 'latin1'), ...chunked(3)]);
    await readTraces(['-'], (e) => events.push(e), { stdin, format: 'ftrace' });
    const get = events.find((e) => e.kind === 'module_get' && e.line === 1100 + MODULE_GET + 1);
    expect(get?.kind === 'module_get' ? get.fields : null).toEqual({ module: 'luo_demo', callSite: 'luo_preserve_file', refcnt: 3 });
    expect(JSON.stringify(events)).toBe(JSON.stringify(whole.events));
  });

  it('tui --follow on a pipe: the line read in 3 pieces is the line written', async () => {
    const got: string[] = [];
    const stdin = Readable.from(chunked(3));
    const src = new LiveSource('-', { sink: () => {}, onLine: (_n, text) => got.push(text), onIdle: () => {}, stdin });
    await (await src.start()).done;
    expect(got).toEqual(lines);
  });
});

describe('a .gz with bytes after the gzip stream (issue 15, small points)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'luotrace-gz-trailer-'));
  // A small one (decoded in the read-ahead for format detection) and a large one (decoded while
  // lines are read: 2 MB of text, more than the first 1 MiB piece the read-ahead decodes, so the
  // trailer is met after it): both read whole, accepted with the same note.
  const small = gzipSync(Buffer.from(`${lines.slice(0, 100).join('\n')}\n`, 'latin1'));
  const large = readFileSync(sample('real/contention-no-writer/stage1/ftrace-main.trimmed.txt.gz'));

  it('every event is read, and the data quality says what was ignored', async () => {
    for (const [name, gz] of [['small', small], ['large', large]] as const) {
      const clean = join(tmp, `${name}.txt.gz`);
      writeFileSync(clean, gz);
      const expected = await parseFiles([clean]);
      // (NUL padding after the stream is no error for zlib: nothing to say then.)
      for (const trailer of ['GARBAGE\n', 'xy', 'PK\x03\x04 appended by a broken upload']) {
        const f = join(tmp, `${name}-trailer.txt.gz`);
        writeFileSync(f, Buffer.concat([gz, Buffer.from(trailer, 'latin1')]));
        const r = await parseFiles([f]);
        expect(r.events.length).toBe(expected.events.length);
        expect(r.quality.lines.total).toBe(expected.quality.lines.total);
        expect(r.quality.notes).toContain(`${f}: input ended early after line ${expected.quality.lines.total}: data after the end of the gzip stream ignored`);
        expect(r.quality.truncated).toBe(true);
      }
    }
  });
});
