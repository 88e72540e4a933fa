// Lost-event markers on forged CPU numbers (`CPU:N [LOST n EVENTS]`, the ring buffer's own marker):
// the kernel numbers CPUs below NR_CPUS (at most 8192), a forged file can name any number. Entries
// are kept for the first 8192 CPUs named and the rest counted under `other`; the marker records kept
// are bounded too. Counts stay exact. Synthetic lines in the kernel's format.
import { describe, expect, it } from 'vitest';
import { LOST_OTHER_CPUS, QualityLedger } from '../../parsers/quality.js';
import { parseText } from '../helpers.js';

describe('lost-event entries', () => {
  it('keeps 8192 CPUs, counts the others under "other", and every event and marker', () => {
    const ledger = new QualityLedger();
    const n = 9000;
    for (let cpu = 0; cpu < n; cpu++) ledger.lostEvents(String(cpu), { file: 'f', line: cpu + 1, count: 2, marker: 'lost', after: null });
    const q = ledger.snapshot();
    expect(Object.keys(q.lost)).toHaveLength(8193);
    expect(q.lost[LOST_OTHER_CPUS]).toMatchObject({ events: 2 * (n - 8192), markers: n - 8192 });
    const events = Object.values(q.lost).reduce((a, l) => a + l.events, 0);
    const markers = Object.values(q.lost).reduce((a, l) => a + l.markers, 0);
    expect([events, markers]).toEqual([2 * n, n]);
    // The first records, in input order, bounded over all entries.
    const kept = Object.values(q.lost).flatMap((l) => l.at);
    expect(kept).toHaveLength(4096);
    expect(q.lost['0'].at[0].line).toBe(1);
  });

  it('reads forged CPU numbers from an ftrace file the same way', async () => {
    const lines = ['# synthetic: lost markers on forged CPUs (test/parsers/lost-cap.test.ts)'];
    for (let i = 0; i < 8300; i++) {
      lines.push(`CPU:${100000 + i} [LOST 3 EVENTS]`);
      lines.push(`          insmod-1000 [000] ..... ${(1 + i * 1e-6).toFixed(6).padStart(12)}: module_get: demo call_site=luo_file_get refcnt=${2 + i}`);
    }
    const read = await parseText(`${lines.join('\n')}\n`);
    expect(read.quality.lost[LOST_OTHER_CPUS]).toMatchObject({ events: 3 * 108, markers: 108 });
    expect(Object.values(read.quality.lost).reduce((a, l) => a + l.events, 0)).toBe(3 * 8300);
    expect(read.quality.incomplete).toBe(true);
  });

  it('keeps the first 100 overwritten-buffer headers of a file that repeats them', async () => {
    const header = (i: number) => `# entries-in-buffer/entries-written: ${i}/${i + 5}   #P:2`;
    const read = await parseText(`# tracer: nop\n#\n${Array.from({ length: 300 }, (_, i) => header(i + 1)).join('\n')}\n`);
    expect(read.quality.overwritten).toHaveLength(100);
    expect(read.quality.overwritten[0]).toMatchObject({ line: 3, inBuffer: 1, written: 6 });
  });
});
