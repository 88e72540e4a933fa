// perf script text: the real LKML sample (lock:contention_begin with callchains) and a rendering of
// a real ftrace capture in perf script's exact layout (synthetic, made here from
// tools/perf/builtin-script.c's formats, docs/trace-formats.md §4).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../parsers/event.js';
import { probedFunction } from '../../analyses/kernel/kernel-models.js';
import { tokenizePerfLine } from '../../parsers/perf-script.js';
import { parseFiles, parseText, realEvents, sample } from '../helpers.js';

describe('perf script: real sample', () => {
  it('lock:contention_begin with 0x pointers and -g callchains (LKML, powerpc)', async () => {
    const r = await parseFiles([sample('formats/perf_script_lock_contention_lkml.txt')]);
    expect(r.sources[0].format).toBe('perf-script');
    expect(r.quality.lines.skipped).toEqual({});
    expect(r.events.map((e) => `${e.kind}@${e.line}`)).toEqual(['contention_begin@1', 'stack@2', 'contention_begin@11', 'stack@12']);
    expect(r.events[0]).toMatchObject({
      comm: 'sched-messaging',
      pid: 3409,
      cpu: 1,
      time: 7_152_904_029_000,
      fields: { lock: '0xc00000c80904ef00', hashed: false, flags: 1, flagNames: 'SPIN' },
    });
    const stack = r.events[1];
    expect(stack.kind === 'stack' && stack.fields.frames).toHaveLength(8);
    expect(stack.kind === 'stack' && stack.fields.frames[2]).toBe('native_queued_spin_lock_slowpath+0x1f8 ([kernel.kallsyms])');
    const total = r.quality.lines.events + Object.values(r.quality.lines.known).reduce((a, b) => a + b, 0);
    expect(total).toBe(r.quality.lines.total);
  });
});

describe('perf script: the sample prefix', () => {
  it('comm with spaces, pid/tid, no cpu column, --ns timestamps', () => {
    expect(tokenizePerfLine('  Web Content  4242/4250  [003]  123.456789012: module:module_put: m call_site=__fput refcnt=1')).toMatchObject({
      comm: 'Web Content',
      pid: 4242,
      tid: 4250,
      cpu: 3,
    });
    const t = tokenizePerfLine('            rmmod   812  5012.000001:  module:module_free: luo_demo');
    expect(t).toMatchObject({ comm: 'rmmod', pid: 812, tid: null, cpu: null });
    expect(tokenizePerfLine('just prose: not a sample')).toBeNull();
  });

  it('pid/tid maps to ftrace pid (thread) and tgid (process); PERF_RECORD_LOST is a gap on that CPU', async () => {
    const text = [
      '         luo_ctl  342/343   [001]   111.715952:  module:module_get: luo_demo call_site=luo_file_deserialize refcnt=2',
      '            perf  900/900   [001]   111.716000: PERF_RECORD_LOST lost 17',
      '         luo_ctl  342/343   [001]   111.716100: 1 probe:luo_retrieve_file: (ffffffff81303a10) file_set=0xff11000022673c58 token=0x101',
      '         luo_ctl  342/343   [001]   111.716200: probe:luo_retrieve_file__return: (ffffffff81304b12 <- ffffffff81303a10) ret=0',
      '',
    ].join('\n');
    const r = await parseText(text, 'perf-script');
    const evs = realEvents(r.events);
    expect(evs[0]).toMatchObject({ kind: 'module_get', pid: 343, tgid: 342, fields: { module: 'luo_demo', callSite: 'luo_file_deserialize', refcnt: 2 } });
    expect(r.quality.lost['1']).toMatchObject({ events: 17, markers: 1 });
    expect(evs[1]).toMatchObject({ kind: 'kprobe', name: 'luo_retrieve_file', fields: { func: null, address: '0xffffffff81303a10', args: { token: '0x101' } } });
    expect(evs[2]).toMatchObject({ kind: 'kretprobe', name: 'luo_retrieve_file__return', fields: { ret: 0 } });
    // perf probe prints addresses, not symbols: the function comes from the event name.
    expect(probedFunction(evs[1])).toBe('luo_retrieve_file');
    expect(probedFunction(evs[2])).toBe('luo_retrieve_file');
  });
});

/** kallsyms-luo.txt: `ffffffff81301f30 t luo_release` -> address by name. */
function kallsyms(file: string): Map<string, bigint> {
  const m = new Map<string, bigint>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [addr, , name] = line.split(' ');
    if (name) m.set(name, BigInt(`0x${addr}`));
  }
  return m;
}

/**
 * One ftrace event rendered as perf script prints it (builtin-script.c): comm "%16s ", pid "%7d ",
 * "[%03d] ", "%5lu.%06lu: ", the system-qualified name right-aligned to the widest name, then the
 * TP_printk text. Probe locations become addresses (perf-probe events print `(ffffffff…)`).
 */
function asPerfLine(ev: TraceEvent, payload: string, system: string, width: number): string {
  const t = ev.time as number;
  const secs = Math.floor(t / 1e9);
  const usecs = Math.floor((t % 1e9) / 1e3);
  const name = `${system}:${ev.name}`;
  return `${(ev.comm ?? '').padStart(16)} ${String(ev.pid).padStart(7)} [${String(ev.cpu).padStart(3, '0')}] ${String(secs).padStart(5)}.${String(usecs).padStart(6, '0')}: ${name.padStart(width)}: ${payload}`;
}

describe('perf script: a real capture in perf script layout', () => {
  it('lifecycle stage2: module, lock and probe events decode to the same events as the ftrace text', async () => {
    const file = sample('real/lifecycle/stage2/ftrace-main.txt.gz');
    const ftrace = (await parseFiles([file])).events;
    const syms = kallsyms(sample('real/lifecycle/stage2/kallsyms-luo.txt'));
    const systems: Record<string, string> = {
      module_get: 'module', module_put: 'module', module_load: 'module', module_free: 'module',
      contention_begin: 'lock', contention_end: 'lock', lock_acquire: 'lock', lock_release: 'lock',
    };
    const picked: Array<{ ev: TraceEvent; line: string }> = [];
    for (const ev of ftrace) {
      if (systems[ev.kind]) {
        // The TP_printk text of these events, re-rendered from the decoded fields.
        const f = ev.fields as Record<string, unknown>;
        let payload = '';
        if (ev.kind === 'module_get' || ev.kind === 'module_put') payload = `${f.module} call_site=${f.callSite} refcnt=${f.refcnt}`;
        else if (ev.kind === 'module_load') payload = `${f.module} ${f.taints}`;
        else if (ev.kind === 'module_free') payload = `${f.module}`;
        else if (ev.kind === 'contention_begin') payload = `${f.lock} (flags=${f.flagNames})`;
        else if (ev.kind === 'contention_end') payload = `${f.lock} (ret=${f.ret})`;
        else if (ev.kind === 'lock_acquire') payload = `${f.lock} ${f.try ? 'try ' : ''}${f.read ? 'read ' : ''}${f.lockName}`;
        else payload = `${f.lock} ${f.lockName}`;
        picked.push({ ev, line: asPerfLine(ev, payload, systems[ev.kind], 22) });
      } else if (ev.kind === 'kprobe' && ev.fields.func && syms.has(ev.fields.func)) {
        const addr = (syms.get(ev.fields.func) as bigint) + BigInt(ev.fields.offset ?? 0);
        const args = Object.entries(ev.fields.args).map(([k, v]) => ` ${k}=${/^(name|handler|flb)$/.test(k) ? `"${v}"` : v}`).join('');
        picked.push({ ev, line: asPerfLine(ev, `(${addr.toString(16)})${args}`, 'probe', 22) });
      }
    }
    expect(picked.length).toBeGreaterThan(500);
    const text = `${picked.map((p) => p.line).join('\n')}\n`;
    const perf = await parseText(text);
    expect(perf.sources[0].format).toBe('perf-script');
    expect(perf.quality.lines.skipped).toEqual({});
    const evs = realEvents(perf.events);
    expect(evs).toHaveLength(picked.length);
    for (let i = 0; i < evs.length; i++) {
      const want = picked[i].ev;
      const got = evs[i];
      expect({ kind: got.kind, name: got.name, time: got.time, cpu: got.cpu, pid: got.pid, comm: got.comm }).toEqual({
        kind: want.kind, name: want.name, time: want.time, cpu: want.cpu, pid: want.pid, comm: want.comm,
      });
      if (got.kind === 'kprobe' && want.kind === 'kprobe') {
        expect(probedFunction(got)).toBe(want.fields.func);
        expect(got.fields.args).toEqual(want.fields.args);
      } else {
        expect(got.fields).toEqual(want.fields);
      }
    }
  });
});
