// test/bench/hot-path-floor.ts, the bench's Node floors (issue 17): `awk-job` must do the awk
// baseline's job, or its row beside awk compares unequal work. On the real capture (ftrace and
// trace-cmd shapes), repeated twice, it prints what `awk -f test/bench/baseline.awk` prints; the
// `hot-path` prototype does that too and pairs the holds and calls the capture has. `hot-path2`,
// the prototype on two threads, must print what `hot-path` prints and reach the same tables: on a
// small trace split between the begins, acquires and calls of part 1 and their ends in part 2 (the
// replay), on the real capture with its probes that never return left out (exactly), and on the
// whole capture but for the one thing hot-path2 documents (which calls the depth cap drops).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { floorPart, floorReport, type Part } from './hot-path-floor.js';
import { REAL_FORMATS, readCapture, repeatCapture } from './repeat-real.js';
import { ROOT, sample } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'luotrace-floor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The real capture in `format` repeated to `copies` copies (its middle mid-capture when odd). */
function repeated(format: 'ftrace' | 'trace-cmd', copies = 2, keep: (line: string) => boolean = () => true): string {
  const raw = readCapture(sample(REAL_FORMATS[format].replace(/^samples\//, '')));
  const text = raw.split('\n').filter(keep).join('\n');
  const parts: string[] = [];
  repeatCapture(text, Math.floor(text.length * (copies - 0.5)), (s) => parts.push(s), format);
  const file = join(dir, `${format}-${copies}${keep.length ? '-kept' : ''}.txt`);
  writeFileSync(file, parts.join(''));
  return file;
}

const twoCopies = (format: 'ftrace' | 'trace-cmd') => repeated(format, 2);

const line = (task: string, t: number, event: string) => `${task.padStart(16)}     [000] .....    ${t.toFixed(6)}: ${event}\n`;

/**
 * A trace whose middle falls in 400 filler lines, between part 1's open waits, holds and calls and
 * their ends in part 2: each replay path of Floor.merge, with what the whole file gives known.
 */
function splitTrace(): string {
  const a = [
    line('a-1', 10.000001, 'contention_begin: 00000000000000a1 (flags=SPIN)'),
    line('c-3', 10.000002, 'contention_begin: 00000000000000c3 (flags=SPIN)'),
    line('a-1', 10.000003, 'lock_acquire: 000000000000aaaa lock_x'),
    line('a-1', 10.000004, 'lock_acquire: 000000000000bbbb lock_y'),
    line('b-2', 10.000005, 'luo_preserve_file: (luo_preserve_file+0x4/0x2d0) token=0x1'),
    line('b-2', 10.000006, 'luo_flb_file_preserve: (luo_flb_file_preserve+0x4/0x190) handler="h"'),
    line('b-2', 10.000007, "luo_flb_file_preserve__return: ([unknown/kretprobe'd] <- luo_flb_file_preserve) ret=0"),
    line('m-7', 10.000008, 'module_get: luo_demo call_site=misc_open refcnt=2'),
  ];
  const filler = Array.from({ length: 400 }, (_, i) => line('f-9', 10.1 + i / 1000, 'sys_ioctl -> 0x0'));
  const b = [
    line('c-3', 11.000001, 'contention_begin: 00000000000000c3 (flags=SPIN)'), // a no-op: c-3 waits since 10.000002
    line('a-1', 11.000002, 'contention_end: 00000000000000a1 (ret=0)'), // 1.000001 s
    line('c-3', 11.000003, 'contention_end: 00000000000000c3 (ret=0)'), // 1.000001 s
    line('d-4', 11.000004, 'contention_end: 00000000000000d4 (ret=0)'), // nothing open
    line('e-5', 11.000005, 'contention_begin: 00000000000000e5 (flags=SPIN)'),
    line('e-5', 11.000011, 'contention_end: 00000000000000e5 (ret=0)'), // 6 µs
    line('a-1', 11.000006, 'lock_release: 000000000000aaaa lock_x'), // below lock_y, from part 1
    line('a-1', 11.000007, 'lock_acquire: 000000000000cccc lock_z'),
    line('a-1', 11.000008, 'lock_release: 000000000000bbbb lock_y'), // from part 1, under lock_z
    line('a-1', 11.000009, 'lock_release: 000000000000cccc lock_z'),
    line('b-2', 11.000010, "luo_preserve_file__return: ([unknown/kretprobe'd] <- luo_preserve_file) ret=0"),
    line('b-2', 11.000012, "luo_session_create__return: ([unknown/kretprobe'd] <- luo_session_create) ret=0"), // nothing open
    line('m-7', 11.000013, 'module_put: luo_demo call_site=misc_release refcnt=1'),
  ];
  const file = join(dir, 'split.txt');
  writeFileSync(file, [...a, ...filler, ...b].join(''));
  return file;
}

/** The names of the capture's probes that have no `__return` (down_read, up_read, ...): they fill the call stacks. */
function neverReturn(text: string): Set<string> {
  const names = new Set(Array.from(text.matchAll(/\d: (\w+): \(/g), (m) => m[1]));
  return new Set([...names].filter((n) => !n.endsWith('__return') && !names.has(`${n}__return`) && !/^(sys_|module_|lock_|contention_)/.test(n)));
}

/** How many calls `b` gives to another function than `a` does (fnStats by name, the same names). */
function callsMoved(a: Part, b: Part): number {
  let moved = 0;
  for (let n = 0; n < a.names.length; n++) moved += Math.abs(a.fnStats[2 * n] - b.fnStats[2 * n]);
  return moved / 2;
}

const sorted = (text: string) => text.trim().split('\n').sort();

describe('hot-path-floor: the Node floors beside awk in the bench', () => {
  for (const format of ['ftrace', 'trace-cmd'] as const) {
    it(`awk-job prints what baseline.awk prints (${format})`, async () => {
      const file = twoCopies(format);
      const awk = spawnSync('awk', ['-f', join(ROOT, 'test/bench/baseline.awk'), file], { encoding: 'utf8' });
      expect(awk.status).toBe(0);
      const awkLines = sorted(awk.stdout);
      expect(awkLines.some((l) => /^contended=[1-9]/.test(l))).toBe(true);
      expect(sorted(await floorReport('awk-job', file))).toEqual(awkLines);
      const hot = (await floorReport('hot-path', file)).trim().split('\n');
      expect(hot.slice(0, -1).sort()).toEqual(awkLines);
      const counts = /holds=(\d+) calls=(\d+)/.exec(hot[hot.length - 1]);
      expect(Number(counts?.[1])).toBeGreaterThan(1000);
      expect(Number(counts?.[2])).toBeGreaterThan(1000);
    });
  }

  it('hot-path2 replays part 2 against what part 1 left open, as one thread reads the whole file', async () => {
    const file = splitTrace();
    const one = await floorReport('hot-path', file);
    expect(one).toContain('contended=3 total_wait_s=2.000008\n');
    expect(one).toContain(' holds=3 calls=2 ');
    expect(await floorReport('hot-path2', file)).toBe(one);
    expect(await floorPart('hot-path2', file)).toEqual(await floorPart('hot-path', file));
  });

  it('hot-path2 reaches what hot-path reaches on the real capture, its never-returning probes left out', async () => {
    const raw = readCapture(sample(REAL_FORMATS.ftrace.replace(/^samples\//, '')));
    const skip = neverReturn(raw);
    expect(skip).toContain('down_read');
    const file = repeated('ftrace', 3, (l) => !skip.has(/\d: (\w+): /.exec(l)?.[1] ?? ''));
    expect(await floorReport('hot-path2', file)).toBe(await floorReport('hot-path', file));
    expect(await floorPart('hot-path2', file)).toEqual(await floorPart('hot-path', file));
  });

  for (const format of ['ftrace', 'trace-cmd'] as const) {
    it(`hot-path2 prints what hot-path prints on the whole real capture; only the depth cap moves calls (${format})`, async () => {
      const file = repeated(format, 3);
      expect(await floorReport('hot-path2', file)).toBe(await floorReport('hot-path', file));
      const [one, two] = [await floorPart('hot-path', file), await floorPart('hot-path2', file)];
      expect({ ...two, fnStats: null }).toEqual({ ...one, fnStats: null });
      // The same number of calls (totals), but the call stacks of the tasks taking rwsems are full
      // (DEPTH) at the split: part 2 keeps pushes the whole file drops, so a few returns pop another
      // function's call than in hot-path (20 of 24,420 calls in ftrace, 21 of 4,470 in trace-cmd).
      expect(callsMoved(one, two)).toBeGreaterThan(0);
      expect(callsMoved(one, two)).toBeLessThan(one.totals[3] / 100);
    });
  }
});
