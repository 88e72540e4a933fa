// Captures made by `luotrace record` itself on the lab's real 7.2.13 kernel under QEMU
// (samples/recorded/README.md): the ftrace and the bpftrace backend around the same workload, and
// a recording stopped by Ctrl-C. What the guest script ran is known exactly, so the report is too.
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';
import type { AnalyzeReport } from '../../analyses/report.js';
import { AnalyzeReportSchema } from '../../analyses/report.js';
import { sample } from '../helpers.js';

const analyze = (file: string) => runAnalysis([sample(`recorded/${file}`)], {});
const verdict = (r: AnalyzeReport, id: string) => r.verdicts.find((v) => v.id === id);

describe('record --backend ftrace: insmod, 2 sessions x (3 luo_demo + 1 memfd), rmmod refused, close (abort), rmmod', async () => {
  const r = await analyze('luotrace-ftrace.txt.gz');

  it('every line is an event or record\'s own # header/footer: nothing skipped, nothing lost', () => {
    expect(AnalyzeReportSchema.safeParse(r).success).toBe(true);
    const q = r.dataQuality;
    // guest-script.log: "1115 lines, 127.4 KiB, 0 events lost"; 11 header lines and the footer.
    expect(q.lines).toMatchObject({ total: 1127, events: 1115, skipped: {} });
    expect(q.lines.known).toEqual({ header: 12 });
    expect(q.lost.all ?? null).toBeNull();
    expect(verdict(r, 'no-lost-events')?.ok).toBe(true);
  });

  it('both sessions aborted by closing their fd; every LUO pin released by unpreserve', () => {
    expect(r.kernelModel.id).toBe('later');
    expect(r.sessions.map((s) => [s.name, s.state, s.pins])).toEqual([
      ['record-s1', 'aborted', { taken: 3, released: 3, open: 0 }],
      ['record-s2', 'aborted', { taken: 3, released: 3, open: 0 }],
    ]);
    // The FLB's pin: taken with record-s1's first preserve, dropped with the last unpreserve; the FLB's, no session's.
    expect(r.modules[0].pinWindows.filter((w) => w.class === 'luo-flb').map((w) => [w.getCallSite, w.putCallSite, w.session, w.flb])).toEqual([
      ['luo_flb_file_preserve', 'liveupdate_flb_put_outgoing', null, 'luo-demo-flb-v1'],
    ]);
    expect(r.sessions.flatMap((s) => s.files.map((f) => f.token))).toEqual(['0x101', '0x102', '0x103', '0x180', '0x201', '0x202', '0x203', '0x280']);
  });

  it('luo_demo refs per call site, refcnt back to 1, rmmod refused (-EAGAIN) then done', () => {
    const [m] = r.modules;
    expect([m.name, m.gets, m.puts, m.firstRefcnt, m.maxRefcnt, m.finalRefcnt, m.openPins]).toEqual(['luo_demo', 13, 14, 1, 14, 1, 0]);
    expect(m.getsBySite).toEqual({ misc_open: 6, luo_preserve_file: 6, luo_flb_file_preserve: 1 });
    expect(m.putsBySite).toEqual({ do_init_module: 1, luo_file_unpreserve_files: 6, __fput: 6, liveupdate_flb_put_outgoing: 1 });
    expect(r.boots[0].rmmod.map((x) => [x.module, x.result])).toEqual([
      ['luo_demo', -11],
      ['luo_demo', 0],
    ]);
    expect(verdict(r, 'modules-unpinned-after-finish')?.ok).toBe(true);
    expect(verdict(r, 'refcounts-balanced')?.ok).toBe(true);
  });
});

describe('record --backend bpftrace: the same workload; bpftrace under TCG lost 254 events', async () => {
  const r = await analyze('luotrace-bpftrace.txt.gz');

  it('parses with nothing skipped and reports the loss bpftrace printed', () => {
    const q = r.dataQuality;
    expect(q.lines.skipped).toEqual({});
    expect(q.lines.events).toBe(1348);
    // bpftrace printed "Lost 28 events" and "Lost 226 events" at the end; record counted 254 too.
    expect(q.lost.all?.events).toBe(254);
    expect(verdict(r, 'no-lost-events')?.ok).toBe(false);
  });

  it('what arrived before the loss agrees with the ftrace recording; what crossed it is marked incomplete', () => {
    expect(r.sessions.map((s) => [s.name, s.pins.taken])).toEqual([
      ['record-s1', 3],
      ['record-s2', 3],
    ]);
    expect(r.modules[0].getsBySite).toEqual({ misc_open: 6, luo_preserve_file: 6, luo_flb_file_preserve: 1 });
    // The rmmod name comes from the script's name_user= (the kernel's own line has a pointer only).
    expect(r.boots[0].rmmod[0]).toMatchObject({ module: 'luo_demo', result: -11 });
    expect(r.modules[0].pinWindows.filter((w) => w.incomplete).length).toBeGreaterThan(0);
  });
});

describe('record stopped by Ctrl-C (6 s after start, an idle system)', async () => {
  const r = await analyze('luotrace-sigint-6.txt');

  it('the footer says so and is accounted for as a header line; the events before it are kept', () => {
    expect(r.dataQuality.lines).toMatchObject({ events: 60, skipped: {} });
    expect(r.dataQuality.lines.known).toEqual({ header: 12 });
    expect(r.sessions).toHaveLength(0);
  });
});
