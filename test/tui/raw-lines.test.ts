// cli/raw-lines.ts: the raw text of given lines, numbered as the parsers number them, from .gz and
// plain files, with early stops and the sparse offset index.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { RawLineFile } from '../../cli/raw-lines.js';
import { readTraces } from '../../parsers/index.js';
import { CAPTURES } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'luotrace-raw-'));
const gz = CAPTURES.contention[0];
const text = gunzipSync(readFileSync(gz)).toString('utf8');
const all = text.split('\n');
if (all[all.length - 1] === '') all.pop();
const plain = join(tmp, 'contention.txt');
writeFileSync(plain, text);

describe('RawLineFile', () => {
  it('gives the lines of a real .gz capture exactly as zcat has them', async () => {
    const f = new RawLineFile(gz);
    const got = await f.fetch([
      { from: 1, to: 3 },
      { from: 6696, to: 6696 },
      { from: 50_000, to: 50_010 },
    ]);
    expect(got.size).toBe(3 + 1 + 11);
    expect(got.get(1)).toBe(all[0]);
    expect(got.get(6696)).toBe(all[6695]);
    for (let n = 50_000; n <= 50_010; n++) expect(got.get(n)).toBe(all[n - 1]);
  });

  it('numbers lines as the parsers do: every event line number points at its own text', async () => {
    const events: Array<{ line: number; stamp: string }> = [];
    await readTraces([gz], (ev) => {
      if (events.length < 5000 && ev.kind !== 'lost' && ev.time !== null) events.push({ line: ev.line, stamp: `${(ev.time / 1e9).toFixed(6)}: ` });
    });
    expect(events.length).toBe(5000);
    const f = new RawLineFile(gz);
    const got = await f.fetch(events.map((e) => ({ from: e.line, to: e.line })));
    for (const e of events) expect(got.get(e.line)).toContain(e.stamp);
  });

  it('uses and extends its offset index on plain files, and knows the line count at the end', async () => {
    const f = new RawLineFile(plain, 100);
    const far = await f.fetch([{ from: 90_000, to: 90_002 }]);
    expect([...far.values()]).toEqual(all.slice(89_999, 90_002));
    expect(f.totalLines).toBeNull(); // stopped early
    // Going back starts from a checkpoint before the line, not from the top, and still gives the right text.
    const back = await f.fetch([{ from: 12_345, to: 12_345 }]);
    expect(back.get(12_345)).toBe(all[12_344]);
    const end = await f.fetch([{ from: all.length - 1, to: all.length + 5 }]);
    expect([...end.keys()]).toEqual([all.length - 1, all.length]);
    expect(f.totalLines).toBe(all.length);
  });

  it('handles CRLF, a BOM, NUL padding and a last line without newline like parsers/input.ts', async () => {
    const p = join(tmp, 'odd.txt');
    writeFileSync(p, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('first\r\nsecond\n\nfourth\0\0\0\nlast')]));
    const f = new RawLineFile(p);
    const got = await f.fetch([{ from: 1, to: 10 }]);
    expect([...got.entries()]).toEqual([
      [1, 'first'],
      [2, 'second'],
      [3, ''],
      [4, 'fourth'],
      [5, 'last'],
    ]);
    expect(f.totalLines).toBe(5);
  });

  it('scan visits lines in order and stops when asked', async () => {
    const f = new RawLineFile(gz);
    const seen: number[] = [];
    await f.scan(10, (n) => {
      seen.push(n);
      return n < 14;
    });
    expect(seen).toEqual([10, 11, 12, 13, 14]);
  });
});
