// Issue 15: bpftrace `-f json` input shaped as an attacker would shape it (synthetic records).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../../cli/analyze.js';
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
