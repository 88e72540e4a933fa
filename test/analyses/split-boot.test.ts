// Issue 14 case 5: one boot in two files. A later file recorded on the same running kernel continues
// its boot (stream/continuity.ts): before, it made a second boot, its puts had "no matching get" and
// the first file's pins stayed open.
//
// Inputs: LABELLED CUTS of a real capture. The real lifecycle stage-2 trace (new kernel: retrieve,
// finish s1 by ioctl, s2 by close, rmmod) is cut at a line boundary into two files, the second with
// the same `# tracer` header, as a second window of the same kernel would be. Cut A ends after
// lifecycle-s1 finished: lifecycle-s2's 3 file pins and the incoming FLB pin, taken in the first
// file, are released in the second (luo_file_finish, liveupdate_flb_put_incoming). Cut B puts only
// the rmmod in the second file; its variant edits that rmmod's delete_module flags from busybox's
// 0x880 to rmmod -f's 0xa80 (docs/luo-model.md §4 "Unload behaviour"): an edited real line, labelled.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';
import { sample } from '../helpers.js';
import { runCli } from '../cli/run.js';

const STAGE1 = sample('real/lifecycle/stage1/ftrace-main.txt.gz');
const STAGE2 = sample('real/lifecycle/stage2/ftrace-main.txt.gz');
const lines = gunzipSync(readFileSync(STAGE2)).toString().split('\n');
const HEADER = lines.findIndex((l) => !l.startsWith('#'));
const dir = mkdtempSync(join(tmpdir(), 'luotrace-split-'));

/** Lines 1..at of the real trace, and its header + the lines after `at` (1-based), as two files. */
function cut(name: string, at: number, edit: (l: string) => string = (l) => l): [string, string] {
  const a = join(dir, `${name}-1.cut-of-real.txt`);
  const b = join(dir, `${name}-2.cut-of-real.txt`);
  writeFileSync(a, lines.slice(0, at).join('\n') + '\n');
  writeFileSync(b, [...lines.slice(0, HEADER), ...lines.slice(at).map(edit)].join('\n'));
  return [a, b];
}

// Cut A: after line 597 (s1 finished and its files closed; lifecycle-s2 retrieved at line 599).
expect(lines[598]).toContain('luo_session_retrieve: (luo_session_retrieve+0x4/0xd0) name="lifecycle-s2"');
const [A1, A2] = cut('sessions', 597);
// Cut B: after line 897, the last module_put; the rmmod at line 906 opens the second file.
expect(lines[905]).toContain('sys_delete_module(name_user: 0x7fff0bb623c8 "luo_demo", flags: 0x880)');
const [B1, B2] = cut('rmmod', 897);
const [F1, F2] = cut('rmmod-f', 897, (l) => l.replace('"luo_demo", flags: 0x880)', '"luo_demo", flags: 0xa80)'));

describe('a later file of the same kernel continues its boot (labelled cuts of the real lifecycle stage 2)', async () => {
  const whole = await runAnalysis([STAGE2], {});
  const split = await runAnalysis([A1, A2], {});

  it('one boot of both files, and the report says why they were joined', () => {
    expect(split.boots).toHaveLength(1);
    expect(split.boots[0].files).toEqual([A1, A2]);
    const j = split.boots[0].joined ?? [];
    expect(j.map((x) => [x.file, x.continues])).toEqual([[A2, A1]]);
    expect(j[0].evidence[0]).toMatch(/^it starts 0\.\d{3} s after the earlier file ends \(same clock\)$/);
    expect(j[0].evidence).toContain('luo_demo at 0xffffffffa04022c0 goes on from refcnt 5 to 6');
    expect(j[0].evidence.some((e) => /hashed pointers? in both/.test(e))).toBe(true);
  });

  it('sessions, pins, refcounts and verdicts are those of the uncut trace', () => {
    const sessions = (r: typeof whole) => r.sessions.map((s) => [s.name, s.state, s.outcome, s.pins]);
    expect(sessions(split)).toEqual(sessions(whole));
    expect(sessions(split)).toEqual([
      ['lifecycle-s1', 'finished', 'finished by the SESSION_FINISH ioctl', { taken: 3, released: 3, open: 0 }],
      ['lifecycle-s2', 'finished', 'finished implicitly when the session fd was closed', { taken: 3, released: 3, open: 0 }],
    ]);
    const m = split.modules[0];
    expect([m.gets, m.puts, m.openPins, m.putsWithoutGet]).toEqual([13, 14, 0, []]);
    const status = (r: typeof whole) => r.verdicts.map((v) => [v.id, v.status, v.reason]);
    expect(status(split)).toEqual(status(whole));
    expect(split.verdicts.find((v) => v.id === 'refcounts-balanced')?.status).toBe('pass');
    // The pins released in the second file say so.
    const crossing = m.pinWindows.filter((w) => w.putFile !== undefined);
    expect(crossing.map((w) => [w.getCallSite, w.putCallSite, w.putFile]).sort()).toEqual([
      ['luo_flb_retrieve_one', 'liveupdate_flb_put_incoming', A2],
      ['luo_file_deserialize', 'luo_file_finish', A2],
      ['luo_file_deserialize', 'luo_file_finish', A2],
      ['luo_file_deserialize', 'luo_file_finish', A2],
    ].sort());
  });

  it('analyze (text) and check: one boot with its "joined" line, check exit 0', async () => {
    const text = await runCli(['analyze', '--no-progress', '--no-charts', A1, A2]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/boot 0 {2}incoming .*sessions-1\.cut-of-real\.txt, \S*sessions-2\.cut-of-real\.txt\n/);
    expect(text.stdout).toMatch(/\n {4}joined: \S*sessions-2\.cut-of-real\.txt continues \S*sessions-1\.cut-of-real\.txt \(same kernel: it starts 0\.\d{3} s after the earlier file ends \(same clock\); luo_demo at 0xffffffffa04022c0 goes on from refcnt 5 to 6; /);
    expect(text.stdout).not.toContain('boot 1');
    expect(text.stdout).not.toContain('no matching get');
    const check = await runCli(['check', A1, A2]);
    expect(check.code).toBe(0);
  });

  it('the rmmod opening the second file gets its refcnt from the first, as in the uncut trace', async () => {
    const r = await runAnalysis([B1, B2], {});
    expect(r.boots).toHaveLength(1);
    expect(r.boots[0].rmmod.map((x) => [x.file, x.result, x.refcntBefore, x.forced])).toEqual([[B2, 0, 1, false]]);
    expect(whole.boots[0].rmmod.map((x) => x.refcntBefore)).toEqual([1]);
  });

  it('a forced rmmod (flags 0xa80 = O_NONBLOCK|O_EXCL|O_TRUNC) is reported as forced; 0x880 is not', async () => {
    const r = await runAnalysis([F1, F2], {});
    const rm = r.boots[0].rmmod[0];
    expect([rm.forced, rm.flags]).toEqual([true, '0xa80']);
    const v = r.verdicts.find((x) => x.id === 'no-forced-unload-with-pins');
    expect([v?.status, v?.reason]).toEqual(['pass', 'forced-rmmod-nothing-freed']);
    // At refcnt 1 try_stop_module has nothing to force (docs/luo-model.md §4 "Unload behaviour").
    expect(v?.message).toBe(`rmmod -f luo_demo at ${F2}:21 (delete_module flags 0xa80 include O_TRUNC) had nothing to force: refcnt 1, no reference beyond the base, so it unloaded as a plain rmmod would and no module was freed while referenced`);
    expect(r.verdicts.find((x) => x.id === 'rmmod')?.message).toBe(`rmmod -f luo_demo succeeded at ${F2}:21 (-f: flags 0xa80)`);
    const text = await runCli(['analyze', '--no-progress', '--no-charts', F1, F2]);
    expect(text.stdout).toMatch(/rmmod luo_demo -f {2}-> 0 {2}\(refcnt 1\) {2}\S*rmmod-f-2\.cut-of-real\.txt:21/);
    const plain = await runAnalysis([B1, B2], {});
    expect(plain.boots[0].rmmod[0].forced).toBe(false);
    expect(plain.boots[0].rmmod[0].flags).toBeUndefined();
  });

  it('a refused rmmod in the later file counts the session pins the earlier file left open (cut of the real stage 1)', async () => {
    const s1 = gunzipSync(readFileSync(STAGE1)).toString().split('\n');
    // After line 667 (luo_ctl's last event); rmmod-321's events, the refused delete_module among them, open file 2.
    expect(s1[669]).toContain('sys_delete_module(name_user: 0x7ffcae7aa0a8 "luo_demo", flags: 0x880)');
    const c1 = join(dir, 'stage1-1.cut-of-real.txt');
    const c2 = join(dir, 'stage1-2.cut-of-real.txt');
    writeFileSync(c1, s1.slice(0, 667).join('\n') + '\n');
    writeFileSync(c2, [...s1.slice(0, s1.findIndex((l) => !l.startsWith('#'))), ...s1.slice(667)].join('\n'));
    const r = await runAnalysis([c1, c2], {});
    expect(r.boots.map((b) => b.files)).toEqual([[c1, c2]]);
    const rm = r.verdicts.find((v) => v.id === 'rmmod')?.message;
    expect(rm).toBe(`rmmod luo_demo refused with -11 EAGAIN/EWOULDBLOCK (first at ${c2}:15, refcnt 14: 13 references held): correct while sessions pin the module (6 session pins, 1 FLB pin open)`);
  });

  it('two kernels are not joined: stage 1 and stage 2 of the live update (same module address, later times)', async () => {
    const r = await runAnalysis([STAGE1, STAGE2], {});
    expect(r.boots.map((b) => [b.role, b.joined])).toEqual([
      ['outgoing', undefined],
      ['incoming', undefined],
    ]);
  });

  it('nor is a later file that starts before the earlier one ends (the cut given in reverse order)', async () => {
    const r = await runAnalysis([A2, A1], {});
    expect(r.boots).toHaveLength(2);
  });
});
