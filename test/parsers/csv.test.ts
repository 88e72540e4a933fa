// CSV input: the documented column set (README "CSV input"), round-tripped from a real bpftrace
// capture, and every kind of bad row skipped with a reason and its line number.
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../parsers/event.js';
import { InputError } from '../../parsers/input.js';
import { splitKeyValues } from '../../parsers/kv-record.js';
import { parseFiles, parseText, realEvents, sample } from '../helpers.js';
import { bpftraceAsCsv } from '../bench/repeat-real.js';

const csvCell = (v: string | undefined) => (v === undefined ? '' : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** The printf lines of a real bpftrace capture, as CSV rows with one column per key (synthetic, made here). */
async function bpftraceCaptureAsCsv(file: string): Promise<string> {
  const rows: Array<Record<string, string>> = [];
  const columns = new Set<string>(['ts', 'cpu', 'pid', 'tid', 'comm', 'event']);
  const rl = createInterface({ input: createReadStream(file).pipe(createGunzip()) });
  for await (const line of rl) {
    const sp = line.indexOf(' ');
    if (sp < 0 || !/^(kprobe|kretprobe|tracepoint):/.test(line)) continue;
    const kv = splitKeyValues(line, sp + 1);
    if (!kv) continue;
    const row = { event: line.slice(0, sp), ...kv };
    for (const k of Object.keys(row)) columns.add(k);
    rows.push(row);
  }
  const cols = [...columns];
  return [
    `# synthetic: the printf lines of ${file.replace(/^.*samples\//, 'samples/')} as luotrace CSV (test/parsers/csv.test.ts)`,
    cols.join(','),
    ...rows.map((r) => cols.map((c) => csvCell(r[c])).join(',')),
    '',
  ].join('\n');
}

const strip = (e: TraceEvent) => ({ kind: e.kind, name: e.name, time: e.time, cpu: e.cpu, pid: e.pid, tgid: e.tgid, comm: e.comm, fields: e.fields });

describe('CSV input', () => {
  it('a real bpftrace capture written as CSV gives exactly the events the bpftrace parser gives', async () => {
    const file = sample('real/lifecycle/stage2/bpftrace-events.txt.gz');
    const csv = await bpftraceCaptureAsCsv(file);
    const fromCsv = await parseText(csv);
    expect(fromCsv.sources[0].format).toBe('csv');
    expect(fromCsv.quality.lines.skipped).toEqual({});
    const fromBpftrace = realEvents((await parseFiles([file])).events);
    expect(fromCsv.events.map(strip)).toEqual(fromBpftrace.map(strip));
    expect(fromCsv.events.length).toBe(736);
  });

  it("bpftrace's own lines among the rows: `Lost N events` is a gap where it was (the real lossy capture as CSV)", async () => {
    const file = sample('real/lossy-bpftrace/stage1/bpftrace-events.txt.gz');
    const raw = gunzipSync(readFileSync(file)).toString('latin1');
    const fromCsv = await parseText(bpftraceAsCsv(raw, 'samples/real/lossy-bpftrace/stage1/bpftrace-events.txt.gz'));
    const fromText = await parseFiles([file]);
    expect(fromCsv.quality.lines.skipped).toEqual({});
    const seq = (evs: TraceEvent[]) => evs.map((e) => (e.kind === 'lost' ? `lost ${e.fields.count} after ${e.time}` : `${e.name} ${e.time}`));
    expect(seq(fromCsv.events)).toEqual(seq(fromText.events));
    // The capture's README: 138 `Lost N events` lines, 9938 events lost in total.
    expect(fromCsv.quality.lost.all).toMatchObject({ events: 9938, markers: 138 });
    expect(fromCsv.quality.incomplete).toBe(true);
  });

  it('a gap stays between the rows it came between when a quoted row is held for csv-parse; banners are known lines', async () => {
    const csv = [
      'time_ns,pid,comm,event,name',
      'Attaching 3 probes...',
      '5,1,a,kprobe:luo_session_create,"s, 1"',
      'Lost 7 events',
      '9,1,a,kprobe:luo_session_create,s2',
      '',
    ].join('\n');
    const r = await parseText(csv);
    expect(r.events.map((e) => (e.kind === 'lost' ? `lost ${e.fields.count}` : `${(e.fields as { args: Record<string, string> }).args.name} ${e.time}`))).toEqual(['s, 1 5', 'lost 7', 's2 9']);
    expect(r.quality.lines.known).toMatchObject({ 'csv-header': 1, 'bpftrace-info': 1, 'lost-marker': 1 });
    expect(r.quality.lines.skipped).toEqual({});
  });

  it('bare tracepoint names, ftrace probe names, a `kind` column and `time` in seconds', async () => {
    const csv = [
      'time,cpu,pid,comm,event,kind,module,call_site,refcnt,token,ret',
      '86.770538,1,317,luo_ctl,module_get,,luo_demo,luo_preserve_file,3,,',
      '86.770601,1,317,luo_ctl,luo_preserve_file,kprobe,,,,0x101,',
      '86.770700,1,317,luo_ctl,luo_preserve_file__return,,,,,,-5',
      '',
    ].join('\n');
    const r = await parseText(csv);
    expect(r.events.map((e) => `${e.kind} ${e.name} ${e.time}`)).toEqual([
      'module_get module_get 86770538000',
      'kprobe luo_preserve_file 86770601000',
      'kretprobe luo_preserve_file__return 86770700000',
    ]);
    expect(r.events[0].fields).toEqual({ module: 'luo_demo', callSite: 'luo_preserve_file', refcnt: 3 });
    expect(r.events[1].fields).toMatchObject({ func: 'luo_preserve_file', args: { token: '0x101' } });
    expect(r.events[2].fields).toMatchObject({ func: 'luo_preserve_file', ret: -5 });
  });

  it('quoted fields with commas, doubled quotes and newlines; a comm with spaces', async () => {
    const csv = ['time_ns,pid,comm,event,name', '5,1,"Web Content",kprobe:luo_session_create,"a, ""b""', 'c"', ''].join('\n');
    const r = await parseText(csv);
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({ comm: 'Web Content', line: 2, fields: { args: { name: 'a, "b"\nc' } } });
    expect(r.quality.lines.known).toMatchObject({ 'csv-header': 1, continuation: 1 });
  });

  it('bad rows are skipped with a reason and their line number; good rows around them are kept', async () => {
    const csv = [
      'time_ns,cpu,pid,comm,event,module,call_site,refcnt',
      '100,0,1,a,module_get,m,luo_preserve_file,2', // 2 ok
      '1.5,0,1,a,module_get,m,luo_preserve_file,3', // 3 time_ns not an integer
      '101,zero,1,a,module_get,m,luo_preserve_file,3', // 4 cpu not an integer
      '102,0,1,a,,m,luo_preserve_file,3', // 5 no event
      '103,0,1,a,module_get,m,luo_preserve_file', // 6 too few cells
      '104,0,1,a,module_get,m,luo_preserve_file,', // 7 module_get without refcnt
      '105,0,1,a,module_put,m,__fput,1', // 8 ok
      '',
    ].join('\n');
    const skipped: string[] = [];
    const r = await parseText(csv);
    expect(realEvents(r.events).map((e) => e.line)).toEqual([2, 8]);
    expect(r.quality.lines.skipped).toEqual({
      'csv-invalid-time_ns': 1,
      'csv-invalid-cpu': 1,
      'csv-invalid-event': 1,
      'csv-column-count': 1,
      'csv-missing-field': 1,
    });
    for (const [reason, pos] of Object.entries(r.quality.firstLines)) if (reason.startsWith('csv-') && reason !== 'csv-header') skipped.push(`${reason}@${pos[0].line}`);
    expect(skipped.sort()).toEqual(['csv-column-count@6', 'csv-invalid-cpu@4', 'csv-invalid-event@5', 'csv-invalid-time_ns@3', 'csv-missing-field@7']);
  });

  it('an unterminated quote at the end is one skipped row, not a crash', async () => {
    const r = await parseText('time_ns,event,comm\n1,module_free,"oops\n');
    expect(r.quality.lines.skipped).toEqual({ 'csv-malformed-row': 1 });
  });

  it('a header without an `event` column is unusable input (exit 2, one line)', async () => {
    await expect(parseText('time_ns,cpu,name\n1,0,x\n', 'csv')).rejects.toThrow(InputError);
    await expect(parseText('time_ns,cpu,name\n1,0,x\n', 'csv')).rejects.toThrow(/no `event` column/);
  });

  it('rows cut at their commas (no quote in them) give exactly what csv-parse gives, bad rows included', async () => {
    // The contention-no-writer bpftrace capture as CSV, then rows that fail each check (synthetic);
    // read as it is (plain rows cut directly) and with every row's first cell quoted (csv-parse).
    const file = sample('real/contention-no-writer/stage1/bpftrace-events.txt.gz');
    const csv = await bpftraceCaptureAsCsv(file);
    const bad = ['1.5,0,1,1,a,tracepoint:module:module_get', '2,zero,1,1,a,tracepoint:module:module_get', '7,0,1,1,a,', '8,0,1', '9,0,1,1,a,tracepoint:module:module_get'];
    const cols = csv.split('\n')[1].split(',').length;
    const rows = bad.map((r, i) => (i === 3 ? r : r + ','.repeat(cols - r.split(',').length)));
    const plain = `${csv}${rows.join('\n')}\n`;
    const lines = plain.split('\n');
    const quoted = lines.map((l, i) => (i < 2 || l === '' ? l : l.replace(/^([^,"]*),/, '"$1",'))).join('\n');
    expect(quoted).not.toBe(plain);
    const a = await parseText(plain);
    const b = await parseText(quoted);
    expect(a.events.length).toBeGreaterThan(12000);
    expect(a.events).toEqual(b.events);
    expect(a.quality.lines).toEqual(b.quality.lines);
    expect(Object.keys(a.quality.lines.skipped).sort()).toEqual(['csv-column-count', 'csv-invalid-cpu', 'csv-invalid-event', 'csv-invalid-ts', 'csv-missing-field']);
    const where = (r: typeof a) => Object.entries(r.quality.firstLines).map(([k, v]) => `${k}@${v.map((p) => p.line).join(',')}`);
    expect(where(a)).toEqual(where(b));
  });

  it('large inputs are read in batches: 5000 rows, line numbers kept across batch boundaries', async () => {
    const lines = ['ts,event,module,call_site,refcnt'];
    for (let i = 0; i < 5000; i++) lines.push(`${i},module_get,m,x,${i}`);
    lines.push('oops,module_get,m,x,1');
    const r = await parseText(`${lines.join('\n')}\n`);
    expect(r.events).toHaveLength(5000);
    expect(r.events[4999]).toMatchObject({ line: 5001, fields: { refcnt: 4999 } });
    expect(r.quality.firstLines['csv-invalid-ts']).toEqual([{ file: '<stdin>', line: 5002 }]);
  });
});
