// bpftrace text and JSON parsers, on the real captures (samples/real/*/stage*/bpftrace-*) and on
// bpftrace's own outputs (samples/formats/bpftrace_*), plus the grammar corners of docs/trace-formats.md §3.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createLockAnalysis } from '../../analyses/locks/locks.js';
import { LuoCallTracker } from '../../analyses/stream/luo-calls.js';
import { ReorderBuffer } from '../../analyses/stream/order.js';
import { runAnalysis } from '../../analyses/pipeline.js';
import type { EventOf, TraceEvent } from '../../parsers/event.js';
import { TraceEventSchema } from '../../parsers/event.js';
import type { DataQuality } from '../../parsers/quality.js';
import { parseHistRow, parseMapLine, parseTextValue } from '../../parsers/bpftrace-maps.js';
import { parseFiles, parseText, realEvents, sample } from '../helpers.js';

const STAGES = ['lifecycle/stage1', 'lifecycle/stage2', 'abort/stage1', 'contention-no-writer/stage1'];

function accounted(q: DataQuality): number {
  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  return q.lines.events + sum(q.lines.known) + sum(q.lines.skipped);
}

const maps = (evs: TraceEvent[]) => evs.filter((e): e is EventOf<'bpftrace_map'> => e.kind === 'bpftrace_map');

describe('bpftrace: every real capture', () => {
  for (const stage of STAGES) {
    for (const file of ['bpftrace-events.txt.gz', 'bpftrace-events.json.gz', 'bpftrace-stats.txt']) {
      it(`${stage}/${file}: every line is an event or a known line, no skips`, async () => {
        const r = await parseFiles([sample(`real/${stage}/${file}`)]);
        expect(r.sources[0].format).toBe(file.includes('json') ? 'bpftrace-json' : 'bpftrace');
        expect(r.quality.lines.skipped).toEqual({});
        expect(accounted(r.quality)).toBe(r.quality.lines.total);
        for (const ev of r.events) expect(TraceEventSchema.safeParse(ev).success).toBe(true);
        // No printf line fell back to the catch-all kind: every probe of the lab's script is understood.
        expect(r.events.filter((e) => e.kind === 'bpftrace' || e.kind === 'generic')).toEqual([]);
      });
    }
  }

  it('lifecycle stage2: a tracepoint module_get decodes exactly like the ftrace line of the same event', async () => {
    const r = await parseFiles([sample('real/lifecycle/stage2/bpftrace-events.txt.gz')]);
    const get = r.events.find((e) => e.kind === 'module_get');
    // tracepoint:module:module_get ts=111715952478 cpu=1 pid=342 tid=342 comm=luo_ctl module=luo_demo refcnt=2 call_site=luo_file_deserialize
    expect(get).toMatchObject({
      name: 'module_get',
      time: 111_715_952_478,
      cpu: 1,
      pid: 342,
      tgid: 342,
      comm: 'luo_ctl',
      fields: { module: 'luo_demo', callSite: 'luo_file_deserialize', refcnt: 2 },
    });
    const load = r.events.find((e) => e.kind === 'module_load');
    // bpftrace prints mod->taints as a number (4096 = 1 << TAINT_OOT_MODULE); ftrace prints `O`.
    expect(load?.fields).toEqual({ module: 'luo_demo', taints: 'O' });
  });

  it('contention, lockdep and probe lines map onto the ftrace kinds, with raw pointers and the lock symbol', async () => {
    const r = await parseFiles([sample('real/lifecycle/stage2/bpftrace-events.txt.gz')]);
    const begin = r.events.find((e) => e.kind === 'contention_begin');
    expect(begin?.fields).toEqual({ lock: '0xffffffff81ef0dc0', hashed: false, flags: 0x21, flagNames: 'SPIN|MUTEX', sym: 'delayed_uprobe_lock' });
    const end = r.events.find((e) => e.kind === 'contention_end');
    expect(end?.fields).toEqual({ lock: '0xffffffff81ef0dc0', hashed: false, ret: 0, sym: 'delayed_uprobe_lock' });
    const acq = r.events.find((e) => e.kind === 'lock_acquire');
    expect(acq?.fields).toEqual({ lock: '0xffffffff81ed23c8', hashed: false, lockName: 'luo_register_rwlock', read: false, try: false });
    const readAcq = r.events.find((e) => e.kind === 'lock_acquire' && e.fields.read);
    expect(readAcq).toBeDefined();
    const down = r.events.find((e) => e.kind === 'kprobe' && e.name === 'down_write');
    expect(down?.fields).toEqual({
      func: 'down_write',
      offset: null,
      address: null,
      args: { sem: '0xffffffff81ed2360', sym: 'luo_register_rwlock', caller: 'liveupdate_register_file_handler' },
    });
    const ret = r.events.find((e) => e.kind === 'kretprobe' && e.name === 'liveupdate_register_file_handler__return');
    expect(ret?.fields).toEqual({ func: 'liveupdate_register_file_handler', caller: null, args: { retval: '0' }, ret: 0 });
    const retrieve = r.events.find((e) => e.kind === 'kprobe' && e.name === 'luo_retrieve_file');
    expect(retrieve?.kind === 'kprobe' && retrieve.fields.args).toEqual({ file_set: '0xff11000022673c58', token: '0x101' });
  });

  it('contention-no-writer: every `Lost N events` line is a gap marker; the README total is 33 209 (text)', async () => {
    const text = await parseFiles([sample('real/contention-no-writer/stage1/bpftrace-events.txt.gz')]);
    expect(text.quality.lost.all.events).toBe(33_209);
    expect(text.quality.lost.all.markers).toBe(968);
    expect(text.quality.incomplete).toBe(true);
    expect(text.events.filter((e) => e.kind === 'lost')).toHaveLength(968);
    const json = await parseFiles([sample('real/contention-no-writer/stage1/bpftrace-events.json.gz')]);
    // The JSON run is a second bpftrace process in the same window: it lost a different amount.
    expect(json.quality.lost.all.events).toBe(35_227);
    expect(json.quality.lost.all.markers).toBe(612);
  });

  it('says how far out of time order the output is (per-CPU drains, real README O8)', async () => {
    const r = await parseFiles([sample('real/lifecycle/stage2/bpftrace-events.txt.gz')]);
    expect(r.quality.notes.join('\n')).toMatch(/not in time order across CPUs: 384 events came after later ones, by up to 5\.224 s \(each CPU is in order\)/);
    const lc1 = await parseFiles([sample('real/lifecycle/stage1/bpftrace-events.txt.gz')]);
    expect(lc1.quality.notes.join('\n')).not.toMatch(/time order/);
  });

  for (const stage of ['lifecycle/stage1', 'lifecycle/stage2', 'abort/stage1']) {
    it(`${stage}: text and -f json of the same script decode to the same events (times aside: two bpftrace processes)`, async () => {
      const key = (e: TraceEvent) => `${e.kind} ${e.name} ${e.pid} ${e.comm} ${JSON.stringify(e.fields)}`;
      const text = realEvents((await parseFiles([sample(`real/${stage}/bpftrace-events.txt.gz`)])).events).map(key).sort();
      const json = realEvents((await parseFiles([sample(`real/${stage}/bpftrace-events.json.gz`)])).events).map(key).sort();
      expect(json).toEqual(text);
    });
  }
});

/** What an analysis sees of module references: per event, the LUO function the task is in. */
async function moduleRefsInContext(file: string): Promise<string[]> {
  const calls = new LuoCallTracker();
  const out: string[] = [];
  // bpftrace is out of order by up to 5 s here (measured above): sort the whole (small) source.
  const ordered = new ReorderBuffer(
    (ev) => {
      calls.push(ev);
      if (ev.kind === 'module_get' || ev.kind === 'module_put') {
        const inner = calls.innermost(ev.src, ev.pid);
        out.push(`${ev.kind} ${ev.fields.module} ${ev.fields.callSite} refcnt=${ev.fields.refcnt} phase=${inner?.phase ?? '-'}`);
      }
    },
    Number.MAX_SAFE_INTEGER,
  );
  const r = await parseFiles([file]);
  for (const ev of r.events) ordered.push(ev);
  ordered.flush();
  return out;
}

describe('bpftrace and ftrace captures of the same run agree', () => {
  for (const stage of ['lifecycle/stage1', 'lifecycle/stage2', 'abort/stage1']) {
    it(`${stage}: the same module references, in the same LUO phases, in the same order`, async () => {
      const ftrace = await moduleRefsInContext(sample(`real/${stage}/ftrace-main.txt.gz`));
      const bpf = await moduleRefsInContext(sample(`real/${stage}/bpftrace-events.txt.gz`));
      expect(ftrace.length).toBeGreaterThan(0);
      expect(bpf).toEqual(ftrace);
    });

    it(`${stage}: analyze gives the same verdicts, sessions and module windows from either capture`, async () => {
      const pick = (r: Awaited<ReturnType<typeof runAnalysis>>) => ({
        kernelModel: r.kernelModel.id,
        sessions: r.sessions.map((s) => [s.name, s.side, s.state, s.files.map((f) => [f.token, f.preserved])]),
        modules: r.modules.map((m) => [m.name, m.getsBySite, m.putsBySite, m.finalRefcnt, m.openPins]),
        // `rmmod` is a fact from the delete_module syscall events, which the lab's bpftrace script
        // does not probe (samples/real README §2): it is the one verdict only ftrace can give.
        verdicts: r.verdicts.filter((v) => v.id !== 'rmmod').map((v) => `${v.id} ${v.ok}`).sort(),
      });
      const ftrace = await runAnalysis([sample(`real/${stage}/ftrace-main.txt.gz`)], {});
      const bpf = await runAnalysis([sample(`real/${stage}/bpftrace-events.txt.gz`)], {});
      expect(pick(bpf)).toEqual(pick(ftrace));
    });
  }

  it('the lab script has no return probe on void LUO functions, so their calls stay open (the bundled script probes them)', async () => {
    const count = (evs: TraceEvent[], name: string) => evs.filter((e) => e.name === name).length;
    const ftrace = (await parseFiles([sample('real/lifecycle/stage2/ftrace-main.txt.gz')])).events;
    const bpf = (await parseFiles([sample('real/lifecycle/stage2/bpftrace-events.txt.gz')])).events;
    expect(count(ftrace, 'liveupdate_flb_put_incoming__return')).toBe(31);
    expect(count(bpf, 'liveupdate_flb_put_incoming')).toBe(31);
    expect(count(bpf, 'liveupdate_flb_put_incoming__return')).toBe(0);
  });

  it('the lock reducer accepts the bpftrace stream (raw pointers, symbols)', async () => {
    const locks = createLockAnalysis({});
    const r = await parseFiles([sample('real/lifecycle/stage1/bpftrace-events.txt.gz')]);
    for (const ev of r.events) locks.push(ev);
    expect(() => locks.finish({ sources: r.sources, quality: r.quality })).not.toThrow();
  });
});

describe('bpftrace map output (samples/formats, from bpftrace itself)', () => {
  const files = readdirSync(sample('formats')).filter((f) => f.startsWith('bpftrace_') && !f.endsWith('.origin.txt'));

  it('covers every bpftrace sample', () => {
    expect(files.length).toBe(30);
  });

  for (const f of files) {
    it(`${f}: every line accounted for; skips only for the prose and shell prompts of tool example files`, async () => {
      const r = await parseFiles([sample(`formats/${f}`)]);
      expect(r.sources[0].format).toBe(/\.(nd)?json$/.test(f) ? 'bpftrace-json' : 'bpftrace');
      expect(accounted(r.quality)).toBe(r.quality.lines.total);
      const skipped = Object.keys(r.quality.lines.skipped);
      if (f.startsWith('bpftrace_tool_')) {
        for (const reason of skipped) expect(['bpftrace-free-text', 'foreign-text']).toContain(reason);
      } else {
        expect(skipped).toEqual([]);
      }
      // Each file shows at least one map (loads.bt prints only printf text).
      if (f !== 'bpftrace_tool_loads_example.txt') expect(maps(r.events).length).toBeGreaterThan(0);
      else expect(r.events).toEqual([]);
      for (const ev of r.events) expect(TraceEventSchema.safeParse(ev).success).toBe(true);
    });
  }

  it('hist text: labels with K suffixes, single-value and open buckets become inclusive bounds', async () => {
    const r = await parseFiles([sample('formats/bpftrace_testout_hist.txt')]);
    const [m] = maps(r.events);
    expect(m.fields.map).toBe('@');
    expect(m.fields.entries[0].value).toEqual({
      type: 'hist',
      buckets: [
        { min: null, max: -1, count: 1 },
        { min: 0, max: 0, count: 0 },
        { min: 1, max: 1, count: 0 },
        { min: 2, max: 3, count: 2 },
        { min: 4, max: 7, count: 1 },
        { min: 8, max: 15, count: 0 },
        { min: 16, max: 31, count: 1 },
      ],
    });
    const bio = maps((await parseFiles([sample('formats/bpftrace_tool_biolatency_example.txt')])).events)[0];
    const b = bio.fields.entries[0].value;
    expect(b.type === 'hist' && b.buckets[1]).toEqual({ min: 512, max: 1023, count: 10 });
    expect(b.type === 'hist' && b.buckets[9]).toEqual({ min: 128 * 1024, max: 256 * 1024 - 1, count: 10 });
  });

  it('lhist text and JSON give the same bucket shape (the overflow bucket has only a lower bound)', async () => {
    const txt = maps((await parseFiles([sample('formats/bpftrace_testout_lhist.txt')])).events)[0].fields.entries[0].value;
    expect(txt.type === 'hist' && txt.buckets.at(-1)).toEqual({ min: 10, max: null, count: 1 });
    const json = maps((await parseFiles([sample('formats/bpftrace_testout_lhist.json')])).events)[0].fields.entries[0].value;
    expect(json.type === 'hist' && json.buckets.at(-1)).toEqual({ min: 100, max: null, count: 1 });
  });

  it('keyed hists of one map stay one map across the blank lines bpftrace 0.17 prints between them', async () => {
    const r = await parseFiles([sample('real/lifecycle/stage1/bpftrace-stats.txt')]);
    const hold = maps(r.events).find((m) => m.fields.map === '@rwsem_hold_ns');
    expect(hold?.fields.entries.map((e) => e.key)).toEqual([
      'luo_session_global, kprobe:up_write',
      'luo_register_rwlock, kprobe:up_write',
      'luo_session_serialize_rwsem, kprobe:up_read',
      'luo_register_rwlock, kprobe:up_read',
    ]);
    // `@contention_wait_ns: ` (trailing space in 0.17) is a hist header, not an empty scalar.
    const wait = maps(r.events).find((m) => m.fields.map === '@contention_wait_ns');
    expect(wait?.fields.entries[0].value.type).toBe('hist');
    // Three locks with the same ksym() print as three entries with the same key: all kept.
    const contention = maps(r.events).find((m) => m.fields.map === '@contention');
    expect(contention?.fields.entries.filter((e) => e.key === 'test_flbs, 33')).toHaveLength(3);
    expect(maps(r.events).map((m) => m.fields.map)).toEqual([
      '@calls', '@contention', '@contention_wait_ns', '@lockdep_acquire', '@module_get', '@module_lifecycle', '@module_put',
      '@preserve_ns', '@refcnt_last', '@refcnt_max', '@ret', '@rwsem_hold_ns', '@rwsem_ops', '@session_create_ns',
    ]);
  });

  it('stats in the old (< v0.24) and new text forms and in JSON, keyed and not', async () => {
    expect(parseTextValue('count 3, average 2, total 6')).toEqual({ type: 'stats', count: 3, average: 2, total: 6 });
    expect(parseTextValue('{ .count = 3, .average = 2, .total = 6 }')).toEqual({ type: 'stats', count: 3, average: 2, total: 6 });
    const r = await parseText('@stats[curl]: count 1, average 2, total 2\n@stats[zsh]: { .count = 1, .average = 10, .total = 10 }\n', 'bpftrace');
    expect(maps(r.events)[0].fields.entries).toEqual([
      { key: 'curl', value: { type: 'stats', count: 1, average: 2, total: 2 } },
      { key: 'zsh', value: { type: 'stats', count: 1, average: 10, total: 10 } },
    ]);
    const j = maps((await parseFiles([sample('formats/bpftrace_testout_stats_multiple.json')])).events)[0];
    expect(j.fields.entries).toEqual([
      { key: 'curl', value: { type: 'stats', count: 1, average: 2, total: 2 } },
      { key: 'zsh', value: { type: 'stats', count: 1, average: 10, total: 10 } },
    ]);
  });

  it('tseries text rows, `-` for intervals without data', async () => {
    const m = maps((await parseFiles([sample('formats/bpftrace_testout_tseries_multiple.txt')])).events)[0];
    expect(m.fields.entries.map((e) => e.key)).toEqual(['one', 'two']);
    const one = m.fields.entries[0].value;
    expect(one.type === 'tseries' && one.points.slice(0, 2)).toEqual([
      { interval: '%H:00:00.000', value: 0 },
      { interval: '%H:00:00.100', value: 5 },
    ]);
    expect(one.type === 'tseries' && one.points[5]).toEqual({ interval: '%H:00:00.500', value: null });
  });

  it('map line grammar: the value comes after the LAST `]: ` (keys are printed unquoted)', () => {
    expect(parseMapLine('@x[a]: b]: 5')).toEqual({ type: 'entry', map: '@x', key: 'a]: b', value: { type: 'number', value: 5 } });
    expect(parseMapLine('@h[k]:')).toEqual({ type: 'header', map: '@h', key: 'k' });
    expect(parseMapLine('@: 5')).toEqual({ type: 'entry', map: '@', key: null, value: { type: 'number', value: 5 } });
    expect(parseMapLine('@s: a b')).toEqual({ type: 'entry', map: '@s', key: null, value: { type: 'text', value: 'a b' } });
    expect(parseMapLine('@nothing')).toBeNull();
    expect(parseHistRow('[1K, 2K)             426 |@@@@|')).toEqual({ min: 1024, max: 2047, count: 426 });
    expect(parseHistRow('[4, 8)')).toBeNull();
  });
});

describe('bpftrace printf lines from other scripts', () => {
  it('any `<probe> key=value` line: kprobe/kretprobe/fentry/fexit/uprobe/tracepoint and labels', async () => {
    const text = [
      'Attached 6 probes',
      'kprobe:luo_preserve_file+4 ts=100 cpu=0 pid=7 tid=8 comm=Web Content token=0x101 fd=5',
      'kretprobe:luo_preserve_file ts=200 cpu=0 pid=7 tid=8 comm=x retval=-5',
      'fentry:vmlinux:luo_session_create ts=300 cpu=1 pid=7 comm=x name=s1',
      'fexit:luo_session_create ts=400 cpu=1 pid=7 comm=x retval=0',
      'uprobe:/usr/bin/luo_ctl:luo_main ts=500 cpu=1 pid=7 comm=x',
      'my_marker ts=600 what=phase two',
      't:module:module_put ts=700 cpu=0 pid=7 comm=rmmod module=m caller=__fput refcnt=1',
      'tracepoint:module:module_get ts=800 module=m',
      '',
    ].join('\n');
    const r = await parseText(text, 'bpftrace');
    const [kp, kr, fe, fx, up, label, put, broken] = r.events;
    expect(kp).toMatchObject({ kind: 'kprobe', name: 'luo_preserve_file', pid: 8, tgid: 7, comm: 'Web Content', time: 100, fields: { func: 'luo_preserve_file', offset: 4, args: { token: '0x101', fd: '5' } } });
    expect(kr).toMatchObject({ kind: 'kretprobe', name: 'luo_preserve_file__return', fields: { func: 'luo_preserve_file', ret: -5 } });
    expect(fe).toMatchObject({ kind: 'fentry', name: 'luo_session_create__entry', pid: 7, tgid: null, fields: { func: 'luo_session_create', args: { name: 's1' } } });
    expect(fx).toMatchObject({ kind: 'fexit', name: 'luo_session_create__exit', fields: { func: 'luo_session_create', ret: 0 } });
    // A user-space function must not look like a kernel LUO call.
    expect(up).toMatchObject({ kind: 'bpftrace', name: 'luo_main', fields: { probe: 'uprobe:/usr/bin/luo_ctl:luo_main' } });
    expect(label).toMatchObject({ kind: 'bpftrace', name: 'my_marker', fields: { args: { what: 'phase two' } } });
    expect(put).toMatchObject({ kind: 'module_put', fields: { module: 'm', callSite: '__fput', refcnt: 1 } });
    // A known event without its fields is kept (as bpftrace) and said in a note, not dropped.
    expect(broken).toMatchObject({ kind: 'bpftrace', name: 'module_get' });
    expect(r.quality.notes.join('\n')).toMatch(/1 lines name a known event but lack its fields.*module_get without call_site=/);
    expect(r.quality.lines.known['bpftrace-info']).toBe(1);
  });

  it('v0.24+ banner and stderr lines, warnings and errors are known lines; errors become notes', async () => {
    const text = [
      'Attaching 2 probes...',
      'WARNING: could not attach probe kprobe:luo_session_quiesce, skipping.',
      'cannot attach kprobe, probe entry may not exist',
      'ERROR: Error attaching probe: kprobe:nope',
      'Lost 5 events',
      '^C',
      '',
    ].join('\n');
    const r = await parseText(text, 'bpftrace');
    expect(r.quality.lines.known['bpftrace-info']).toBe(5);
    expect(r.quality.lost.all).toMatchObject({ events: 5, markers: 1 });
    expect(r.quality.notes.join('\n')).toMatch(/bpftrace said: ERROR: Error attaching probe/);
  });

  it('JSON: printf text split across records, several lines in one record, lost_events with and without count', async () => {
    const text = [
      '{"type": "attached_probes", "count": 2, "data": {"probes": 2}}',
      '{"type": "printf", "data": "kprobe:luo_session_create ts=1 cpu=0 "}',
      '{"type": "printf", "data": "pid=3 comm=a name=s\\nkprobe:luo_session_create ts=2 cpu=0 pid=3 comm=a name=t\\n"}',
      '{"type": "lost_events", "count": 7, "data": {"events": 7}}',
      '{"type": "lost_events", "data": {"events": 3}}',
      '{"type": "printf", "data": "tracepoint:lock:contention_end ts=3 cpu=1 pid=4 comm=b lock=0xffffffff81ed2360 sym=luo_register_rwlock ret=0\\n"}',
      '{"type": "helper_error", "msg": "Failed to probe_read_kernel_str", "helper": "probe_read_kernel_str", "retcode": -14}',
      '{"type": "printf", "data": "oops',
      '',
    ].join('\n');
    const r = await parseText(text, 'bpftrace-json');
    const evs = realEvents(r.events);
    expect(evs.map((e) => `${e.kind}:${e.name}:${e.line}`)).toEqual(['kprobe:luo_session_create:2', 'kprobe:luo_session_create:3', 'contention_end:contention_end:6']);
    // Every line once: the text begun on line 2 is line 2's event, line 3 gave the second one.
    expect(accounted(r.quality)).toBe(r.quality.lines.total);
    expect(evs[0].fields).toMatchObject({ args: { name: 's' } });
    expect(r.quality.lost.all).toMatchObject({ events: 10, markers: 2 });
    expect(r.quality.notes.join('\n')).toMatch(/helper_error: Failed to probe_read_kernel_str/);
    expect(r.quality.lines.skipped).toEqual({ 'truncated-json-record': 1 });
  });
});
