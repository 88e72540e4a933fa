// Issue 15, item 12: a module_get/module_put whose refcnt a double cannot hold exactly is skipped
// with a reason in every format, instead of turning silently into a generic event (which the module
// verdicts never see). The lines are the real lifecycle capture's, with the refcnt replaced (synthetic).
import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../../analyses/pipeline.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseText } from '../helpers.js';

const HEADER = '# tracer: nop\n#\n';
const ftrace = (refcnt: string) => `         luo_ctl-317     [001] .....    86.770538: module_get: luo_demo call_site=luo_preserve_file refcnt=${refcnt}\n`;
const bpftrace = (refcnt: string) =>
  `tracepoint:module:module_get ts=111715952478 cpu=1 pid=342 tid=342 comm=luo_ctl module=luo_demo refcnt=${refcnt} call_site=luo_file_deserialize\n`;
const HUGE = ['9007199254740992', '18446744073709551615', '1'.repeat(400), '-9007199254740993'];

describe('refcnt beyond 2^53 (item 12)', () => {
  it('ftrace text: skipped as refcnt-out-of-range, not a generic event; 2^53-1 still decodes', async () => {
    const r = await parseText(HEADER + HUGE.map(ftrace).join('') + ftrace('9007199254740991'));
    expect(r.quality.lines.skipped).toEqual({ 'refcnt-out-of-range': 4 });
    expect(r.quality.firstLines['refcnt-out-of-range'].map((p) => p.line)).toEqual([3, 4, 5, 6]);
    expect(r.events.map((e) => `${e.kind}:${e.line}`)).toEqual(['module_get:7']);
  });

  it('bpftrace text and CSV: the same', async () => {
    const bt = await parseText(`Attaching 59 probes...\n${HUGE.map(bpftrace).join('')}${bpftrace('3')}`);
    expect(bt.quality.lines.skipped).toEqual({ 'refcnt-out-of-range': 4 });
    expect(bt.events.map((e) => e.kind)).toEqual(['module_get']);
    const csv = await parseText(`event,ts,cpu,pid,comm,module,call_site,refcnt\n${[...HUGE, '0x20000000000000', '3'].map((n) => `module_get,1000,0,7,a,luo_demo,x,${n}\n`).join('')}`, 'csv');
    expect(csv.quality.lines.skipped).toEqual({ 'refcnt-out-of-range': 5 });
    expect(csv.events.map((e) => e.kind)).toEqual(['module_get']);
  });

  it('the report says the reference was not used', async () => {
    const f = join(mkdtempSync(join(tmpdir(), 'luotrace-refcnt-')), 'huge.txt');
    writeFileSync(f, HEADER + ftrace('3') + ftrace('18446744073709551615'));
    const report = await runAnalysis([f], {});
    expect(report.dataQuality.lines.skipped).toEqual({ 'refcnt-out-of-range': 1 });
    expect(report.dataQuality.kinds).toEqual({ module_get: 1 });
  });
});
