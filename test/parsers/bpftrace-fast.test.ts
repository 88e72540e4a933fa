// The fast paths of bpftrace output (issue 17): parsers/bpftrace-line.ts (printf lines of the common
// shape, cut in place and decoded once per distinct text) and the plain printf records of `-f json`
// (bpftrace-json.ts plainPrintf). Each real capture is read as it is and as a copy that both paths
// decline but the string path reads the same (one more space before `ts=`, and in JSON before
// `"data"`): the events and the data-quality ledger must be equal.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { newPrintfTokens, tokenizePrintf } from '../../parsers/bpftrace-line.js';
import { parseText, sample } from '../helpers.js';

const text = (rel: string) => gunzipSync(readFileSync(sample(rel))).toString('latin1');

/** The same output in a spacing only the string paths read. */
function declined(t: string): string {
  return t
    .split('\n')
    .map((l) => l.replace(' ts=', '  ts=').replace('{"type": "printf", "data": ', '{"type": "printf",  "data": '))
    .join('\n');
}

async function sameBothWays(t: string): Promise<number> {
  const slowText = declined(t);
  expect(slowText).not.toBe(t);
  const fast = await parseText(t);
  const slow = await parseText(slowText);
  expect(fast.events).toEqual(slow.events);
  // Notes quote a line: the copy's extra space aside, the same.
  const sameSpacing = (q: typeof fast.quality) => ({ ...q, notes: q.notes.map((n) => n.replace('  ts=', ' ts=')) });
  expect(sameSpacing(fast.quality)).toEqual(sameSpacing(slow.quality));
  expect(fast.sources[0].timeBase).toBe(slow.sources[0].timeBase);
  return fast.events.length;
}

describe('bpftrace fast paths: the same events as the string path', () => {
  const captures = [
    'real/contention-no-writer/stage1/bpftrace-events.txt.gz',
    'real/contention-no-writer/stage1/bpftrace-events.json.gz',
    'real/lifecycle/stage1/bpftrace-events.txt.gz',
    'real/lifecycle/stage1/bpftrace-events.json.gz',
    'real/lifecycle/stage2/bpftrace-events.json.gz',
    'real/abort/stage1/bpftrace-events.txt.gz',
    'real/abort/stage1/bpftrace-events.json.gz',
    'real/lossy-bpftrace/stage1/bpftrace-events.txt.gz',
  ];
  for (const rel of captures) {
    it(rel, async () => {
      const t = text(rel);
      expect(await sameBothWays(t)).toBeGreaterThan(100);
      if (rel.endsWith('.txt.gz')) {
        // Nearly every event line of the real captures has the shape the fast path takes.
        const probes = t.split('\n').filter((l) => /^(tracepoint|kprobe|kretprobe):\S+ /.test(l));
        const tok = newPrintfTokens();
        expect(probes.filter((l) => tokenizePrintf(l, tok)).length / probes.length).toBeGreaterThan(0.98);
      }
    });
  }

  it('declines what the string path reads differently, and reads the rest the same (synthetic lines)', async () => {
    const ctx = 'ts=74786135263 cpu=1 pid=317 tid=317';
    const lines = [
      'Attaching 3 probes...',
      `tracepoint:lock:contention_begin ${ctx} comm=insmod lock=0xffffffff81ef0dc0 sym=delayed_uprobe_lock flags=0x21`,
      `tracepoint:lock:contention_begin ${ctx} comm=insmod lock=0xffffffff81ef0dc0 sym=delayed_uprobe_lock flags=0x21`,
      `tracepoint:lock:contention_begin ${ctx} comm=Web Content lock=0xffffffff81ef0dc0 sym=x flags=0x21`, // a comm with a space
      `tracepoint:lock:contention_begin ${ctx} comm="Web Content" lock=0xffffffff81ef0dc0 sym=x flags=0x21`, // quoted
      `tracepoint:lock:contention_end ${ctx} comm=insmod lock=0xffffffff81ef0dc0 sym=x ret=0 cpu=3`, // a context key again
      `tracepoint:lock:contention_end ${ctx} comm=insmod lock=0xffffffff81ef0dc0 sym=x`, // no ret=: undecodable
      `tracepoint:module:module_get ts=74786135264 cpu=-1 pid=317 tid=317 comm=insmod module=m call_site=x refcnt=2`, // a sign
      `kprobe:luo_preserve_file ${ctx} comm=luo_ctl file_set=0xff1 token=0x1 fd=5`,
      `kprobe:luo_preserve_file ${ctx} comm=luo_ctl file_set=0xff1 token=0x1 fd=5`,
      `kretprobe:luo_preserve_file ${ctx} comm=luo_ctl retval=0`,
      `kretprobe:luo_flb_file_unpreserve ${ctx} comm=luo_ctl`, // nothing after the comm
      `kretprobe:luo_flb_file_unpreserve ${ctx} comm=luo_ctl `, // nor after its space
      `kprobe:luo_preserve_file ${ctx} comm=`, // an empty comm
      `kprobe:luo_preserve_file ${ctx} comm=luo_ctl 5=x`, // not a key after the comm
      `kprobe:luo_preserve_file ts=99999999999999999999 cpu=1 pid=1 tid=1 comm=a fd=5`, // past 15 digits of ns
      `kprobe:luo_preserve_file ${ctx} comm=a fd=5 Hit Ctrl-C to end.`,
      'Lost 12 events',
      `uprobe:/bin/sh:main ${ctx} comm=sh x=1`,
    ];
    const t = `${lines.join('\n')}\n`;
    await sameBothWays(t);
    const json = `${lines.map((l) => JSON.stringify({ type: 'printf', data: `${l}\n` }).replace('"type":', '"type": ').replace(',"data":', ', "data": ')).join('\n')}\n`;
    expect(json.split('\n', 1)[0]).toBe('{"type": "printf", "data": "Attaching 3 probes...\\n"}');
    await sameBothWays(json);
  });
});
