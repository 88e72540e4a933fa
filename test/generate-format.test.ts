// The generator's lines against the real 7.2.13 captures: for every event the real kernel printed,
// the synthetic line of the same event must cut into the same columns (tokenizer) and decode to the
// same shape (kind, name, field and argument keys) in luotrace's own parser; header blocks must be
// byte-identical; the synthetic lifecycle and abort runs must print the same events as the real
// runs, as many times each (background mutex noise aside).
import { describe, expect, it } from 'vitest';
import { newContextTokens, tokenizeFtraceLine } from '../parsers/ftrace-line.js';
import type { InputFormat, TraceEvent } from '../parsers/event.js';
import { makeRenderer } from '../samples/generate/renderers.js';
import { renderOptions, resolveOptions, scenarioOptions } from '../samples/generate/core.js';
import { startScenario } from '../samples/generate/scenarios.js';
import { World } from '../samples/generate/world.js';
import type { GenerateOptions } from '../samples/generate/core.js';
import { gen, realLines } from './generate-helpers.js';
import { parseText, realEvents } from './helpers.js';

interface LineShape {
  tgid: 'none' | 'number';
  flags: number | null;
  /** Column where the `[cpu]` field starts, and where the text after the timestamp starts. */
  cpuCol: number;
  restCol: number;
  intDigits: number;
  fracDigits: number;
  kind: string;
  name: string;
  fieldKeys: string[];
  argKeys: string[] | null;
}

async function eventsOf(lines: string[], format: InputFormat): Promise<Array<{ ev: TraceEvent; text: string }>> {
  const r = await parseText(`${lines.join('\n')}\n`, format);
  return realEvents(r.events).map((ev) => ({ ev, text: lines[ev.line - 1] }));
}

function shape(text: string, ev: TraceEvent): LineShape {
  const t = newContextTokens();
  expect(tokenizeFtraceLine(text, t), text).toBeNull();
  const fields = ev.fields as Record<string, unknown>;
  return {
    tgid: t.tgid === null ? 'none' : 'number',
    flags: t.flags === null ? null : t.flags.length,
    cpuCol: text.indexOf('['),
    restCol: t.restStart,
    intDigits: t.tsDot - t.tsStart,
    fracDigits: t.tsEnd - t.tsDot - 1,
    kind: ev.kind,
    name: ev.name,
    fieldKeys: Object.keys(fields).sort(),
    argKeys: fields.args && typeof fields.args === 'object' ? Object.keys(fields.args as object).sort() : null,
  };
}

/** Event name → (a) the first line of it, (b) the set of values of its identifying fields. */
function byName(evs: Array<{ ev: TraceEvent; text: string }>) {
  const first = new Map<string, { ev: TraceEvent; text: string }>();
  const values = new Map<string, Set<string>>();
  for (const e of evs) {
    if (!first.has(e.ev.name)) first.set(e.ev.name, e);
    const f = e.ev.fields as Record<string, unknown>;
    const id =
      e.ev.kind === 'module_get' || e.ev.kind === 'module_put'
        ? `${f.module} ${f.callSite}`
        : e.ev.kind === 'kretprobe'
          ? `caller=${f.caller}`
          : e.ev.kind === 'lock_acquire' || e.ev.kind === 'lock_release'
            ? `${f.lockName}${f.read ? ' read' : ''}`
            : e.ev.kind === 'contention_begin'
              ? String(f.flagNames)
              : e.ev.kind === 'syscall_exit'
                ? `ret=${f.ret}`
                : e.ev.kind === 'kprobe'
                  ? Object.entries((f.args as Record<string, string>) ?? {})
                      .filter(([k]) => k === 'handler' || k === 'flb' || k === 'name')
                      .map(([k, v]) => `${k}=${v}`)
                      .join(' ')
                  : '';
    let set = values.get(e.ev.name);
    if (!set) {
      set = new Set();
      values.set(e.ev.name, set);
    }
    set.add(id);
  }
  return { first, values };
}

/** Real capture ↔ generator options that reproduce the same run in the same rendering. */
const PAIRS: Array<{ real: string; format: InputFormat; opts: GenerateOptions }> = [
  { real: 'real/lifecycle/stage1/ftrace-main.txt.gz', format: 'ftrace', opts: { scenario: 'lifecycle' } },
  { real: 'real/lifecycle/stage1/ftrace-tgid.txt.gz', format: 'ftrace', opts: { scenario: 'lifecycle', tgid: true } },
  { real: 'real/lifecycle/stage1/ftrace-noirq.txt.gz', format: 'ftrace', opts: { scenario: 'lifecycle', irqInfo: false, lockdep: false } },
  { real: 'real/lifecycle/stage1/ftrace-mono.txt.gz', format: 'ftrace', opts: { scenario: 'lifecycle', clock: 'mono', lockdep: false } },
  { real: 'real/lifecycle/stage1/ftrace-trace_pipe.txt.gz', format: 'trace-pipe', opts: { scenario: 'lifecycle', format: 'trace-pipe' } },
  { real: 'real/lifecycle/stage1/trace-cmd-report.txt.gz', format: 'trace-cmd', opts: { scenario: 'lifecycle', format: 'trace-cmd' } },
  { real: 'real/lifecycle/stage2/ftrace-main.txt.gz', format: 'ftrace', opts: { scenario: 'lifecycle', stage: 2 } },
  { real: 'real/lifecycle/stage2/ftrace-tgid.txt.gz', format: 'ftrace', opts: { scenario: 'lifecycle', stage: 2, tgid: true } },
  { real: 'real/lifecycle/stage2/trace-cmd-report.txt.gz', format: 'trace-cmd', opts: { scenario: 'lifecycle', stage: 2, format: 'trace-cmd' } },
  { real: 'real/abort/stage1/ftrace-main.txt.gz', format: 'ftrace', opts: { scenario: 'abort' } },
  { real: 'real/abort/stage1/trace-cmd-report.txt.gz', format: 'trace-cmd', opts: { scenario: 'abort', format: 'trace-cmd' } },
];

describe('generator lines have the real kernel format', () => {
  for (const pair of PAIRS) {
    it(`every event of ${pair.real} has a synthetic twin with the same columns and decoded shape`, async () => {
      const real = byName(await eventsOf(realLines(pair.real), pair.format));
      const g = gen(pair.opts);
      const syn = byName(await eventsOf(g.lines, pair.format));
      expect([...syn.first.keys()].sort()).toEqual([...real.first.keys()].sort());
      for (const [name, r] of real.first) {
        const s = syn.first.get(name);
        expect(s, name).toBeDefined();
        expect(shape(s!.text, s!.ev), `${name}\nreal: ${r.text}\nsyn:  ${s!.text}`).toEqual(shape(r.text, r.ev));
      }
      // Identifying values (module+call site, kretprobe caller, lock names, LCB flags, errno,
      // handler/FLB/session names): the synthetic run prints the same ones (background mutex
      // contention is random noise, so its flag set may be a subset).
      for (const [name, set] of real.values) {
        const mine = syn.values.get(name) ?? new Set();
        if (name === 'contention_begin') {
          for (const v of mine) expect(set.has(v), `${name} ${v}`).toBe(true);
        } else expect([...mine].sort(), name).toEqual([...set].sort());
      }
    });
  }

  it('prints the same events as many times as the real lifecycle and abort runs (contention noise aside)', async () => {
    for (const pair of PAIRS.filter((p) => p.real.includes('ftrace-main') || p.real.includes('trace-cmd'))) {
      const real = await parseText(`${realLines(pair.real).join('\n')}\n`, pair.format);
      const g = gen(pair.opts);
      const strip = (k: Record<string, number>) => Object.fromEntries(Object.entries(k).filter(([n]) => !n.startsWith('contention_')));
      expect(strip(g.stats.kinds), pair.real).toEqual(strip(real.quality.kinds));
    }
  });

  it('writes the header blocks of the real `trace` files byte for byte (main, record-tgid, irq-info=0)', () => {
    const cases: Array<[string, GenerateOptions]> = [
      ['real/lifecycle/stage1/ftrace-main.txt.gz', {}],
      ['real/lifecycle/stage1/ftrace-tgid.txt.gz', { tgid: true }],
      ['real/lifecycle/stage1/ftrace-noirq.txt.gz', { irqInfo: false, lockdep: false }],
    ];
    for (const [rel, o] of cases) {
      const real = realLines(rel);
      const syn = gen({ scenario: 'lifecycle', ...o }).lines.slice(1); // after the synthetic label
      const n = real.findIndex((l) => !l.startsWith('#'));
      const mask = (l: string) => l.replace(/\d+\/\d+/, 'N/N');
      expect(syn.slice(0, n).map(mask), rel).toEqual(real.slice(0, n).map(mask));
    }
  });

  it('old 4-flag kernels: the perf-tools header block and %-5d pids', async () => {
    const real = realLines('formats/perftools_kprobe_example.txt');
    const start = real.findIndex((l) => l.includes('_-----=> irqs-off'));
    const g = gen({ scenario: 'lifecycle', flagCols: 4 });
    const sStart = g.lines.findIndex((l) => l.includes('_-----=> irqs-off'));
    expect(g.lines.slice(sStart, sStart + 7)).toEqual(real.slice(start, start + 7));
    // `          kprobe-26042 [001] d... 6910441.001452:` — pid %-5d, 4 flags
    const line = g.lines.find((l) => l.includes('luo_preserve_file:'))!;
    expect(line).toMatch(/^ {9}luo_ctl-\d{3}   \[\d{3}\] [.dN][.lBN][.h][.\d] {4}\d+\.\d{6}: luo_preserve_file: /);
    const r = await parseText(`${g.lines.join('\n')}\n`);
    expect(r.quality.lines.skipped).toEqual({});
  });

  it('bpftrace lines carry the keys of luo_events.bt in the same order as the real output', () => {
    const keys = (l: string) => l.split(' ').slice(1).map((kv) => kv.split('=')[0]);
    const real = new Map<string, string[]>();
    for (const l of realLines('real/lifecycle/stage1/bpftrace-events.txt.gz')) {
      const probe = l.split(' ')[0];
      if (probe.includes(':') && !real.has(probe)) real.set(probe, keys(l));
    }
    const syn = new Map<string, string[]>();
    const g = gen({ scenario: 'lifecycle', format: 'bpftrace' });
    for (const l of g.lines.slice(1)) {
      const probe = l.split(' ')[0];
      if (probe.includes(':') && !syn.has(probe)) syn.set(probe, keys(l));
    }
    expect([...syn.keys()].sort()).toEqual([...real.keys()].sort());
    for (const [probe, k] of real) expect(syn.get(probe), probe).toEqual(k);
    expect(g.lines[1]).toBe(realLines('real/lifecycle/stage1/bpftrace-events.txt.gz')[0]); // Attaching 59 probes...
  });

  it('bpftrace -f json wraps the same lines the way the real JSON output does', () => {
    const real = realLines('real/lifecycle/stage1/bpftrace-events.json.gz');
    const g = gen({ scenario: 'lifecycle', format: 'bpftrace-json' });
    expect(g.lines[1]).toBe(real[0]);
    const shapeOf = (l: string) => {
      const o = JSON.parse(l) as { type: string; data: string };
      return { type: o.type, probe: o.data.split(' ')[0], nl: o.data.endsWith('\n') };
    };
    expect(shapeOf(g.lines[3])).toEqual(shapeOf(real[2]));
    expect(JSON.parse(g.lines[0]).type).toBe('synthetic');
  });

  it('console tp_printk freeze-phase lines decode like the real console lines', async () => {
    const real = realLines('real/lifecycle/console.log.gz').filter((l) => /\] (liveupdate_reboot|luo_session_serialize|luo_file_freeze|luo_flb_serialize)/.test(l));
    const g = gen({ scenario: 'freeze', format: 'console' });
    expect(g.text.split('\n').slice(0, -1).every((l) => l.endsWith('\r'))).toBe(true); // serial CRLF, as the real log
    const synLines = g.lines.filter((l) => /\] (liveupdate_reboot|luo_session_serialize|luo_file_freeze|luo_flb_serialize)/.test(l));
    const decode = async (lines: string[]) =>
      realEvents((await parseText(`${lines.join('\n')}\n`, 'console')).events).map((e) => {
        const f = e.fields as Record<string, unknown>;
        return `${e.kind} ${e.name} ${Object.keys(f).sort().join(',')} caller=${String(f.caller ?? '')}`;
      });
    expect(await decode(synLines)).toEqual(await decode(real));
    // The same text apart from the timestamp and file_set addresses.
    const mask = (l: string) => l.replace(/^\[\s*[\d.]+\]/, '[T]').replace(/0xff11[0-9a-f]{12}/, 'ADDR');
    expect(synLines.map(mask)).toEqual(real.map(mask));
  });

  it('the byte-level fast path writes exactly the bytes of the string renderer', () => {
    const variants: GenerateOptions[] = [
      { scenario: 'lifecycle' },
      { scenario: 'lifecycle', stage: 2, tgid: true },
      { scenario: 'abort', flagCols: 4, tgid: true },
      { scenario: 'preseries', irqInfo: false, clock: 'global' },
      { scenario: 'stress', cycles: 2, cpus: 4, format: 'trace-pipe' },
    ];
    const buf = Buffer.alloc(1 << 16);
    for (const v of variants) {
      const o = resolveOptions(v);
      const w = new World(o.seed, o.kernel as 'post' | 'pre', o.testFlbs, o.speed, o.noise, o.cpus, { leak: 0, putWithoutGet: 0 });
      const r = makeRenderer(renderOptions(o));
      expect(r.fast).toBe(true);
      startScenario(w, scenarioOptions(o));
      let n = 0;
      for (let rec = w.sched.next(); rec !== null; rec = w.sched.next()) {
        if (!r.include(rec)) continue;
        const end = r.writeBytes(rec, buf, 0);
        expect(buf.toString('latin1', 0, end)).toBe(r.line(rec));
        n++;
      }
      expect(n).toBeGreaterThan(100);
    }
  });
});
