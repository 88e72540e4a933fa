// test/bench/repeat-real.ts, the bench's real-derived traces (issue 17): in every input shape, a
// trace of two copies parses to twice the events of its capture, the second copy's times all after
// the first's, the same events otherwise, and the header written once.
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../parsers/event.js';
import { bpftraceAsCsv, REAL_FORMATS, type RealFormat, readCapture, repeatCapture } from './repeat-real.js';
import { parseText, sample } from '../helpers.js';

/** What a copy must repeat: everything but the time and the line. */
const same = (e: TraceEvent) => ({ kind: e.kind, name: e.name, cpu: e.cpu, pid: e.pid, tgid: e.tgid, comm: e.comm, fields: e.fields });

function twoCopies(format: RealFormat): { source: string; derived: string } {
  const raw = readCapture(sample(REAL_FORMATS[format].replace(/^samples\//, '')));
  const source = format === 'csv' ? bpftraceAsCsv(raw, REAL_FORMATS[format]) : raw;
  const parts: string[] = [];
  // Past one copy's size and short of two: exactly two copies.
  const r = repeatCapture(source, Math.floor(source.length * 1.5), (s) => parts.push(s), format);
  expect(r.copies).toBe(2);
  return { source, derived: parts.join('') };
}

const headerLines = (text: string) => text.split('\n').filter((l) => l.startsWith('#') || /^(cpus=|Attaching |\{"type": "attached_probes"|ts,)/.test(l));

describe('repeat-real: a real capture repeated with shifted timestamps', () => {
  // `ftrace` (ftrace-main.txt.gz, 11 MB) is the same code as trace-pipe; the TUI's loading test reads it.
  const formats = (Object.keys(REAL_FORMATS) as RealFormat[]).filter((f) => f !== 'ftrace');
  for (const format of formats) {
    it(format, async () => {
      const { source, derived } = twoCopies(format);
      const one = await parseText(source);
      const two = await parseText(derived);
      expect(two.sources[0].format).toBe(one.sources[0].format);
      const n = one.events.length;
      expect(n).toBeGreaterThan(5000);
      expect(two.events.length).toBe(2 * n);
      const first = two.events.slice(0, n);
      const second = two.events.slice(n);
      expect(second.map(same)).toEqual(first.map(same));
      // Every timed event of the second copy comes after every one of the first (bpftrace's are not
      // in order within a copy), by the same shift.
      const times = (evs: TraceEvent[]) => evs.flatMap((e) => (e.time === null || e.kind === 'lost' ? [] : [e.time]));
      const t1 = times(first);
      const t2 = times(second);
      expect(t2.length).toBe(t1.length);
      expect(Math.min(...t2)).toBeGreaterThan(Math.max(...t1));
      const shift = t2[0] - t1[0];
      expect(t2.every((t, i) => t - t1[i] === shift)).toBe(true);
      // The header once, at the top.
      expect(headerLines(derived)).toEqual(headerLines(source));
      expect(derived.split('\n', 1)[0]).toBe(headerLines(source)[0]);
    });
  }

  it('csv: one row per bpftrace printf event and its `Lost N events` lines where they were, labelled as derived', async () => {
    const raw = readCapture(sample(REAL_FORMATS.bpftrace.replace(/^samples\//, '')));
    const csv = bpftraceAsCsv(raw, REAL_FORMATS.bpftrace);
    expect(csv.split('\n', 1)[0]).toMatch(/^# real-derived: /);
    const fromCsv = await parseText(csv);
    const fromText = await parseText(raw);
    expect(fromCsv.sources[0].format).toBe('csv');
    expect(fromCsv.quality.lines.skipped).toEqual({});
    // The same events, lost-events gaps included, in the same order and with the same times.
    const all = (evs: TraceEvent[]) => evs.map((e) => ({ ...same(e), time: e.time }));
    expect(all(fromCsv.events)).toEqual(all(fromText.events));
    expect(fromCsv.events.filter((e) => e.kind === 'lost').length).toBeGreaterThan(50);
    const lost = (q: typeof fromCsv.quality) => ({ events: q.lost.all?.events, markers: q.lost.all?.markers });
    expect(lost(fromCsv.quality)).toEqual(lost(fromText.quality));
  });
});
