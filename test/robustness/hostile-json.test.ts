// Issue 15: bpftrace `-f json` input shaped as an attacker would shape it (synthetic records).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';
import { parseText } from '../helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'luotrace-hostile-json-'));
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const ATTACHED = '{"type": "attached_probes", "data": {"probes": 1}}';

describe('deeply nested JSON (item 8)', () => {
  const deep = [ATTACHED, `{"type": "map", "data": {"@deep": {"k": ${nested(100_000)}}}}`, '{"type": "map", "data": {"@ok": {"k": 1}}}', ''].join('\n');

  it('a map nested 10^5 levels is skipped with a reason; the records around it are read', async () => {
    const r = await parseText(deep);
    expect(r.quality.lines.skipped).toEqual({ 'json-too-deep': 1 });
    expect(r.quality.firstLines['json-too-deep']).toEqual([{ file: '<stdin>', line: 2 }]);
    expect(r.events.map((e) => e.name)).toEqual(['@ok']);
  });

  it('the same record pretty-printed over several lines, and an errorf record, are skipped the same way', async () => {
    const pretty = [ATTACHED, '{"type": "map",', ` "data": {"@deep": {"k": ${nested(50_000)}}}`, '}', `{"type": "errorf", "data": ${nested(100_000)}}`, ''].join('\n');
    const r = await parseText(pretty);
    expect(r.quality.lines.skipped).toEqual({ 'json-too-deep': 2 });
  });

  it('nesting a real bpftrace value could have (a tuple of records in a keyed map) is still decoded', async () => {
    const r = await parseText([ATTACHED, '{"type": "map", "data": {"@t": {"k": [[{"a": [1, {"b": [2]}]}]]}}}', ''].join('\n'));
    expect(r.quality.lines.skipped).toEqual({});
    expect(r.events).toHaveLength(1);
  });

  it('analyze over the file reports instead of overflowing the stack', async () => {
    const f = join(tmp, 'deep.json');
    writeFileSync(f, deep);
    const report = await runAnalysis([f], {});
    expect(report.dataQuality.lines.skipped['json-too-deep']).toBe(1);
    expect(report.bpftraceMaps.map((m) => m.map)).toEqual(['@ok']);
  });
});

describe('bpftrace -f json line accounting (item 11)', () => {
  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  const once = (q: { lines: { total: number; events: number; known: Record<string, number>; skipped: Record<string, number> } }) =>
    q.lines.events + sum(q.lines.known) + sum(q.lines.skipped) - q.lines.total;
  const GET = 'tracepoint:module:module_get ts=111715952478 cpu=1 pid=342 tid=342 comm=luo_ctl module=luo_demo refcnt=2 call_site=luo_file_deserialize';

  it('a last printf record without a newline is one line: free text, not also a continuation', async () => {
    const r = await parseText([ATTACHED, '{"type": "printf", "data": "some text"}', ''].join('\n'));
    expect(once(r.quality)).toBe(0);
    expect(r.quality.lines).toMatchObject({ total: 2, known: { 'bpftrace-info': 1 }, skipped: { 'bpftrace-free-text': 1 } });
  });

  it('an event printed without its newline before the end is decoded once, at its line', async () => {
    const r = await parseText([ATTACHED, `{"type": "printf", "data": "${GET}"}`, ''].join('\n'));
    expect(once(r.quality)).toBe(0);
    expect(r.events.map((e) => `${e.kind}:${e.line}`)).toEqual(['module_get:2']);
  });

  it('one record holding two maps: two map events, one line', async () => {
    const r = await parseText([ATTACHED, '{"type": "map", "data": {"@a": {"x": 1}, "@b": {"y": 2}}}', ''].join('\n'));
    expect(r.events.map((e) => e.name)).toEqual(['@a', '@b']);
    expect(r.quality.lines).toMatchObject({ total: 2, events: 1 });
    expect(r.quality.kinds).toEqual({ '@a': 1, '@b': 1 });
    expect(r.sources[0].events).toBe(2);
    expect(once(r.quality)).toBe(0);
  });

  it('two lines in one printf record and text carried over several records: every line once', async () => {
    const half = Math.floor(GET.length / 2);
    const r = await parseText(
      [
        ATTACHED,
        `{"type": "printf", "data": "${GET}\\n${GET}\\n"}`,
        `{"type": "printf", "data": "${GET.slice(0, half)}"}`,
        `{"type": "printf", "data": "${GET.slice(half, half + 5)}"}`,
        `{"type": "printf", "data": "${GET.slice(half + 5)}\\n${GET.slice(0, 10)}"}`,
        '{"type": "printf", "data": "\\n"}',
        '',
      ].join('\n'),
    );
    expect(once(r.quality)).toBe(0);
    expect(r.events.filter((e) => e.kind === 'module_get').map((e) => e.line)).toEqual([2, 2, 3]);
    expect(r.quality.lines.known).toEqual({ 'bpftrace-info': 1, continuation: 2 });
    expect(r.quality.lines.skipped).toEqual({ 'bpftrace-free-text': 1 });
  });
});
