// Shared by real-captures.test.ts (fast set) and real-captures.slow.test.ts (the captures of more
// than 10 MB of text): every ftrace-family sample parses with every line accounted for, and per-event
// counts equal what an independent `grep -c` of the event name finds in the same file.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { LARGE_CAPTURES, parseFiles, sample } from '../helpers.js';

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}
const text = (p: string) => (p.endsWith('.gz') ? gunzipSync(readFileSync(p)) : readFileSync(p)).toString('utf8');
const lines = (t: string) => t.split('\n').slice(0, t.endsWith('\n') ? -1 : undefined);
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** An independent count, the way a user would `grep -c`, for one event name. */
export function grepCount(all: string[], name: string, kind: 'ftrace' | 'graph' | 'console'): number {
  let re: RegExp;
  if (name === 'funcgraph_entry') re = /\) \{$/;
  else if (name === 'funcgraph_exit') re = /(\||\d\))\s+\}/;
  else if (name === 'funcgraph_leaf') re = /\);( \/\*.*\*\/)?$/;
  else if (kind === 'graph') {
    re = new RegExp(`/\\* ${esc(name)}: `);
  } else if (kind === 'console') {
    re = new RegExp(`\\] ${esc(name)}: `);
  } else if (name.startsWith('sys_enter_')) {
    re = new RegExp(`\\d: (sys_${esc(name.slice(10))}\\(|${esc(name)}: )`);
  } else if (name.startsWith('sys_exit_')) {
    re = new RegExp(`\\d: (sys_${esc(name.slice(9))} -> |${esc(name)}: )`);
  } else {
    re = new RegExp(`\\d: ${esc(name)}:( |$)`);
  }
  return all.filter((l) => re.test(l)).length;
}

/** Parse a file and check that every line of it is accounted for. */
export async function parseAccounted(file: string) {
  const all = lines(text(file));
  const r = await parseFiles([file]);
  const q = r.quality;
  const known = Object.values(q.lines.known).reduce((a, b) => a + b, 0);
  const skipped = Object.values(q.lines.skipped).reduce((a, b) => a + b, 0);
  expect(q.lines.total).toBe(all.length);
  expect(q.lines.events + known + skipped).toBe(q.lines.total);
  return { all, r, q };
}

/** Every text capture of samples/real (bpftrace has its own test), by path. */
export const realFiles = walk(sample('real')).filter((p) => /(ftrace-|trace-cmd-report|dmesg|console)/.test(p) && !p.includes('bpftrace'));
export const isLargeCapture = (file: string): boolean => LARGE_CAPTURES.some((rel) => file === sample(rel));

/** One real capture: every line accounted for, the counts of each event equal to grep's. */
export async function checkRealCapture(file: string): Promise<void> {
  const { all, r, q } = await parseAccounted(file);
  const isConsole = /dmesg|console/.test(file);
  const isGraph = file.includes('fgraph');
  // Zero unexplained skips: only userspace text on a serial console is skipped.
  expect(Object.keys(q.lines.skipped).filter((k) => k !== 'console-text')).toEqual([]);
  if (!isConsole) expect(q.lines.skipped['console-text']).toBeUndefined();
  const expectedFormat = isConsole
    ? 'console'
    : isGraph
      ? 'function-graph'
      : file.includes('trace-cmd')
        ? 'trace-cmd'
        : file.includes('trace_pipe')
          ? 'trace-pipe'
          : 'ftrace';
  expect(r.sources[0].format).toBe(expectedFormat);
  for (const [name, n] of Object.entries(q.kinds)) {
    if (name === 'printk' || name === 'boot') continue;
    expect({ name, n }).toEqual({ name, n: grepCount(all, name, isGraph ? 'graph' : isConsole ? 'console' : 'ftrace') });
  }
  if (!isConsole && !isGraph && !file.includes('trimmed')) {
    // The `trace` header says how many entries the buffer held: every one is an event.
    const hdr = all.find((l) => l.startsWith('# entries-in-buffer/entries-written:'));
    if (hdr) expect(q.lines.events).toBe(Number(/: (\d+)\//.exec(hdr)![1]));
  }
}
