// Fault injection: every fault shows where the generator says it put it, in the form the kernel or
// the tools print it, and luotrace's parser sees it as such. Model faults (leak, put without get,
// pre-series pins, forced unload, unregister errors) have their real consequences on refcnt and on
// later operations (rmmod refused, module freed with references outstanding).
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../parsers/event.js';
import { readTraces } from '../parsers/index.js';
import type { GenerateOptions } from '../samples/generate/core.js';
import { gen } from './generate-helpers.js';
import { realEvents } from './helpers.js';

interface Parsed {
  events: TraceEvent[];
  quality: Awaited<ReturnType<typeof readTraces>>['quality'];
  /** line number → parser's reason for a non-event line */
  reasons: Map<number, string>;
}

async function parse(buf: Buffer): Promise<Parsed> {
  const events: TraceEvent[] = [];
  const reasons = new Map<number, string>();
  const r = await readTraces(['-'], (e) => events.push(e), {
    stdin: Readable.from([buf]),
    onLedger: (l) => {
      l.listener = (what, reason, _f, line) => reasons.set(line, `${what}:${reason}`);
    },
  });
  return { events, quality: r.quality, reasons };
}

function refs(evs: TraceEvent[], kind: 'module_get' | 'module_put', site?: string): TraceEvent[] {
  return evs.filter((e) => e.kind === kind && (site === undefined || (e.fields as { callSite: string }).callSite === site));
}

const lastRefcnt = (evs: TraceEvent[]) => {
  const r = evs.filter((e) => e.kind === 'module_get' || e.kind === 'module_put');
  return (r[r.length - 1].fields as { refcnt: number }).refcnt;
};

describe('model faults', () => {
  it('leak: one luo_file_unpreserve_files put never happens; refcnt stays up and rmmod is refused', async () => {
    const ok = realEvents((await parse(gen({ scenario: 'abort' }).buf)).events);
    const g = gen({ scenario: 'abort', faults: ['leak'] });
    const evs = realEvents((await parse(g.buf)).events);
    expect(g.stats.faults.filter((f) => f.fault === 'leak')).toHaveLength(1);
    expect(refs(evs, 'module_get', 'luo_preserve_file')).toHaveLength(refs(ok, 'module_get', 'luo_preserve_file').length);
    expect(refs(evs, 'module_put', 'luo_file_unpreserve_files')).toHaveLength(refs(ok, 'module_put', 'luo_file_unpreserve_files').length - 1);
    expect(lastRefcnt(ok)).toBe(1);
    expect(lastRefcnt(evs)).toBe(2);
    const exit = evs.filter((e) => e.kind === 'syscall_exit' && e.name === 'sys_exit_delete_module');
    expect(exit.map((e) => (e.fields as { ret: number }).ret)).toEqual([-11]);
    expect(evs.some((e) => e.kind === 'module_free')).toBe(false);
    expect(g.stats.modules.luo_demo).toEqual({ refcnt: 2, loaded: true });
  });

  it('leak in the new kernel: a luo_file_finish put is missing', async () => {
    const g = gen({ scenario: 'lifecycle', stage: 2, faults: ['leak'] });
    const evs = realEvents((await parse(g.buf)).events);
    expect(refs(evs, 'module_get', 'luo_file_deserialize')).toHaveLength(6);
    expect(refs(evs, 'module_put', 'luo_file_finish')).toHaveLength(5);
    expect(lastRefcnt(evs)).toBe(2);
  });

  it('put-without-get: the first luo_preserve_file get is skipped but its put happens', async () => {
    const g = gen({ scenario: 'abort', faults: ['put-without-get'] });
    const evs = realEvents((await parse(g.buf)).events);
    expect(refs(evs, 'module_get', 'luo_preserve_file')).toHaveLength(3); // 3 good + 1 failing, minus the skipped one
    expect(refs(evs, 'module_put', 'luo_file_unpreserve_files')).toHaveLength(3);
    // The count ends one below MODULE_REF_BASE; rmmod is refused (try_release_module_ref needs exactly 1).
    expect(lastRefcnt(evs)).toBe(0);
    expect(evs.filter((e) => e.name === 'sys_exit_delete_module').map((e) => (e.fields as { ret: number }).ret)).toEqual([-11]);
  });

  it('preseries: refs taken at registration, no session, rmmod refused (luo-model §7(a))', async () => {
    const g = gen({ scenario: 'preseries' });
    const evs = realEvents((await parse(g.buf)).events);
    expect(refs(evs, 'module_get').map((e) => (e.fields as { callSite: string }).callSite)).toEqual(['liveupdate_register_file_handler', 'liveupdate_register_flb']);
    expect(evs.some((e) => e.name === 'luo_session_create')).toBe(false);
    expect(evs.filter((e) => e.name === 'sys_exit_delete_module').map((e) => (e.fields as { ret: number }).ret)).toEqual([-11, -11]);
    expect(evs.some((e) => e.name === 'luo_session_quiesce')).toBe(true);
    expect(evs.some((e) => e.kind === 'lock_acquire' && (e.fields as { lockName: string }).lockName === 'luo_register_rwlock')).toBe(false);
    expect(lastRefcnt(evs)).toBe(3);
  });

  it('pre-series lifecycle: no per-file refs, registration refs instead (the diff against the real merged-series run)', async () => {
    const pre = realEvents((await parse(gen({ scenario: 'lifecycle', kernel: 'pre' }).buf)).events);
    const post = realEvents((await parse(gen({ scenario: 'lifecycle' }).buf)).events);
    const sites = (evs: TraceEvent[]) => [...new Set(refs(evs, 'module_get').map((e) => (e.fields as { callSite: string }).callSite))].sort();
    expect(sites(pre)).toEqual(['liveupdate_register_file_handler', 'liveupdate_register_flb', 'misc_open']);
    expect(sites(post)).toEqual(['luo_flb_file_preserve', 'luo_preserve_file', 'misc_open']);
  });

  it('forced-unload: delete_module with O_TRUNC frees the module while files pin it (§7(b))', async () => {
    const g = gen({ scenario: 'forced-unload' });
    const evs = realEvents((await parse(g.buf)).events);
    const enters = evs.filter((e) => e.name === 'sys_enter_delete_module').map((e) => (e.fields as unknown as { args: { flags: string } }).args.flags);
    expect(enters).toEqual(['0x880', '0xa80']);
    const free = evs.findIndex((e) => e.kind === 'module_free');
    expect(free).toBeGreaterThan(0);
    const before = evs.slice(0, free).filter((e) => e.kind === 'module_get' || e.kind === 'module_put');
    expect((before[before.length - 1].fields as { refcnt: number }).refcnt).toBeGreaterThan(1);
    expect(g.stats.faults.some((f) => f.fault === 'forced-unload')).toBe(true);
  });

  it('unregister-error: liveupdate_unregister_flb/_file_handler return -16 and the module is freed anyway', async () => {
    const g = gen({ scenario: 'unregister-error' });
    const evs = realEvents((await parse(g.buf)).events);
    const rets = evs
      .filter((e) => e.kind === 'kretprobe' && /^liveupdate_unregister_/.test(e.name))
      .map((e) => `${e.name} ${(e.fields as { ret: number | null }).ret}`);
    expect(rets).toEqual(['liveupdate_unregister_flb__return -16', 'liveupdate_unregister_file_handler__return -16']);
    expect(evs.some((e) => e.kind === 'module_free')).toBe(true);
    expect(refs(evs, 'module_put', 'liveupdate_unregister_file_handler')).toHaveLength(0);
  });
});

describe('stream faults', () => {
  it('lost: `CPU:N [LOST n EVENTS]` inside a pin window, on the CPU that lost them', async () => {
    const g = gen({ scenario: 'abort', faults: ['lost'], lostCount: 5 });
    const f = g.stats.faults.find((x) => x.fault === 'lost')!;
    expect(g.lines[(f.line as number) - 1]).toBe(`CPU:${f.cpu} [LOST 5 EVENTS]`);
    const p = await parse(g.buf);
    expect(p.reasons.get(f.line as number)).toBe('known:lost-marker');
    expect(p.quality.lost[String(f.cpu)]).toMatchObject({ events: 5, markers: 1, countUnknown: false });
    // In the window: after the first per-file get, before the first per-file put.
    const evs = realEvents(p.events);
    const get = refs(evs, 'module_get', 'luo_preserve_file')[0];
    const put = refs(evs, 'module_put', 'luo_file_unpreserve_files')[0];
    expect(get.line).toBeLessThan(f.line as number);
    expect(put.line).toBeGreaterThan(f.line as number);
    expect(g.stats.lost[String(f.cpu)]).toEqual({ events: 5, markers: 1 });
  });

  it('lost in other formats: trace-cmd `[n EVENTS DROPPED]`, bpftrace `Lost n events`, no-count `[LOST EVENTS]`', async () => {
    const tc = gen({ scenario: 'abort', format: 'trace-cmd', faults: ['lost'] });
    const ft = tc.stats.faults.find((x) => x.fault === 'lost')!;
    expect(tc.lines[(ft.line as number) - 1]).toBe(`CPU:${ft.cpu} [7 EVENTS DROPPED]`);
    expect((await parse(tc.buf)).quality.lost[String(ft.cpu)].events).toBe(7);
    const bt = gen({ scenario: 'abort', format: 'bpftrace', faults: ['lost'] });
    const fb = bt.stats.faults.find((x) => x.fault === 'lost')!;
    expect(bt.lines[(fb.line as number) - 1]).toBe('Lost 7 events');
    const nc = gen({ scenario: 'lifecycle', format: 'trace-pipe', faults: ['lost-nocount'] });
    const fn = nc.stats.faults.find((x) => x.fault === 'lost')!;
    expect(nc.lines[(fn.line as number) - 1]).toBe(`CPU:${fn.cpu} [LOST EVENTS]`);
    expect((await parse(nc.buf)).quality.lost[String(fn.cpu)]).toMatchObject({ markers: 1, countUnknown: true });
  });

  it('overwrite: `##### CPU n buffer started ####` and entries-written > entries-in-buffer', async () => {
    const g = gen({ scenario: 'lifecycle', stage: 2, faults: ['overwrite'] });
    const f = g.stats.faults.find((x) => x.fault === 'overwrite')!;
    expect(g.lines[(f.line as number) - 1]).toBe(`##### CPU ${f.cpu} buffer started ####`);
    const m = /entries-in-buffer\/entries-written: (\d+)\/(\d+)/.exec(g.text)!;
    expect(Number(m[1])).toBe(g.stats.events);
    expect(Number(m[2]) - Number(m[1])).toBe(g.stats.overwritten?.events);
    const p = await parse(g.buf);
    expect(p.reasons.get(f.line as number)).toBe('known:buffer-started');
    expect(p.quality.overwritten).toEqual([{ file: '<stdin>', line: 4, inBuffer: Number(m[1]), written: Number(m[2]) }]);
    expect(p.quality.incomplete).toBe(true);
    // No event of that CPU before the marker.
    const evs = realEvents(p.events);
    expect(evs.filter((e) => e.cpu === f.cpu && e.line < (f.line as number))).toEqual([]);
  });

  it('truncate: the last line is cut inside its timestamp, without a newline', async () => {
    for (const format of ['ftrace', 'trace-pipe', 'trace-cmd'] as const) {
      const g = gen({ scenario: 'abort', format, faults: ['truncate'] });
      expect(g.buf[g.buf.length - 1]).not.toBe(10);
      const last = g.lines[g.lines.length - 1];
      expect(last).toMatch(/\[\d{3}\]\s+\S*\s*\d+\.\d{3}$/);
      const p = await parse(g.buf);
      expect(p.reasons.get(g.lines.length)).toBe('skipped:truncated-last-line');
      expect(p.quality.incomplete).toBe(true);
    }
  });

  it('garbage: junk text and binary lines where the generator says, skipped as such', async () => {
    const g = gen({ scenario: 'lifecycle', faults: ['garbage'] });
    const junk = g.stats.faults.filter((f) => f.fault === 'garbage');
    expect(junk.length).toBe(6); // three lines after event 17 and after event 101
    const p = await parse(g.buf);
    for (const f of junk) {
      expect(p.reasons.get(f.line as number), `line ${f.line}`).toBe(f.what === 'garbage-binary' ? 'skipped:binary-garbage' : 'skipped:foreign-text');
    }
    expect(g.buf.includes(0)).toBe(true);
  });

  it('crlf, prompt, repeat-header and nul padding', async () => {
    const g = gen({ scenario: 'abort', faults: ['crlf', 'prompt', 'repeat-header', 'nul'] });
    expect(g.text.split('\n').slice(0, -1).every((l) => l.endsWith('\r'))).toBe(true);
    expect(g.lines[1]).toBe('root@luo-guest:~# cat /sys/kernel/tracing/instances/main/trace');
    expect(g.text.endsWith(`^C\r\n${'\u0000'.repeat(4096)}`)).toBe(true);
    const rh = g.stats.faults.find((f) => f.fault === 'repeat-header')!;
    expect(g.lines[(rh.line as number) - 1]).toBe('# tracer: nop');
    expect(g.text.split('# tracer: nop').length).toBe(3);
    const p = await parse(g.buf);
    expect(p.reasons.get(2)).toBe('skipped:foreign-text');
    expect(p.quality.lines.known['nul-padding']).toBe(1);
    const plain = await parse(gen({ scenario: 'abort' }).buf);
    expect(p.quality.kinds).toEqual(plain.quality.kinds);
  });
});
