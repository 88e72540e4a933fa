// Many rmmods (an insmod/rmmod loop, or a hostile trace: test/bench/hostile.ts kind 'rmmods'): the
// verdicts that ask "which rmmod came before" answer from an index, not a scan per rmmod or free
// (analyses/luo/verdicts/latest-before.ts; 500 000 refused rmmods took more than 10 minutes), and
// the messages and the text report name the first ones and count the rest.
import { describe, expect, it } from 'vitest';
import { LuoAnalysis } from '../../analyses/luo/luo.js';
import type { LuoSectionBody } from '../../analyses/luo/schema.js';
import { rmmodBefore } from '../../analyses/luo/verdicts/evidence.js';
import { LatestBefore } from '../../analyses/luo/verdicts/latest-before.js';
import { evaluateVerdicts } from '../../analyses/luo/verdicts/registry.js';
import { MESSAGE_CAP } from '../../analyses/luo/verdicts/verdict.js';
import { LuoCallTracker } from '../../analyses/stream/luo-calls.js';
import { feedInOrder } from '../../analyses/stream/reducer.js';
import { renderBoots } from '../../cli/render-luo.js';
import { hostileLines, REG_FAIL_EVERY } from '../bench/hostile.js';
import { parseText } from '../helpers.js';

describe('LatestBefore', () => {
  it('answers the latest in list order among the items before a bound, as a scan of the list does', () => {
    // Lines out of list order (an input sorted by time need not be in line order).
    const list = [{ line: 5 }, { line: 2 }, { line: 9 }, { line: 3 }, { line: 7 }, { line: 3 }];
    const ix = new LatestBefore(list, (a, b) => a.line - b.line);
    for (let bound = 0; bound <= 10; bound++) {
      const scan = list.filter((x) => x.line < bound).at(-1) ?? null;
      expect(ix.latest((x) => x.line < bound)).toBe(scan);
    }
    expect(new LatestBefore<{ line: number }>([], (a, b) => a.line - b.line).latest(() => true)).toBeNull();
  });
});

/** The LUO section of a synthetic trace's lines. */
async function sectionOf(lines: string[]): Promise<{ body: LuoSectionBody; quality: Awaited<ReturnType<typeof parseText>>['quality'] }> {
  const read = await parseText(`${lines.join('\n')}\n`);
  const calls = new LuoCallTracker();
  const luo = new LuoAnalysis({ calls });
  const feed = feedInOrder(calls, [luo]);
  for (const ev of read.events) feed(ev);
  const quality = { ...read.quality, notes: [...read.quality.notes] };
  return { body: luo.finish({ sources: read.sources, quality }), quality };
}

// hostile_mod_6 is unloaded by the trace's 7th rmmod (every REG_FAIL_EVERY-th succeeds), then asked again.
const at = (t: number) => `          hostile-1000 [000] .....   ${t.toFixed(6)}: `;
const againSix = [`${at(200)}sys_delete_module(name_user: 0x7ffdd5161ac8 "hostile_mod_6", flags: 0x880)`, `${at(200.000002)}sys_delete_module -> 0xfffffffffffffffe`];

describe('an -ENOENT after a successful rmmod of the module', async () => {
  const { body, quality } = await sectionOf([...hostileLines('rmmods', 7), ...againSix]);
  const v = evaluateVerdicts(body, quality).find((x) => x.id === 'rmmod')!;
  const unloaded = body.boots[0].rmmod.find((r) => r.module === 'hostile_mod_6' && r.result === 0)!;

  it('names the rmmod that unloaded it', () => {
    // Its call is line 14 (the header is line 1, two lines per rmmod).
    expect(unloaded.line).toBe(14);
    expect(v.message).toContain(`rmmod hostile_mod_6 refused with -2 ENOENT (first at ${unloaded.file}:16): the module was not loaded: rmmod at ${unloaded.file}:14 had already unloaded it`);
  });

  it('rmmodBefore gives the last rmmod of the module before a line', () => {
    expect(rmmodBefore(body, 'hostile_mod_6', unloaded.file, 10_000)?.result).toBe(-2);
    expect(rmmodBefore(body, 'hostile_mod_6', unloaded.file, 15)).toBe(unloaded);
    expect(rmmodBefore(body, 'hostile_mod_6', unloaded.file, 14)).toBeNull();
  });
});

describe('the hostile rmmods trace (synthetic, test/bench/hostile.ts)', async () => {
  const N = 300;
  const { body, quality } = await sectionOf([...hostileLines('rmmods', N), ...againSix]);
  const done = Math.floor(N / REG_FAIL_EVERY);
  const v = evaluateVerdicts(body, quality).find((x) => x.id === 'rmmod')!;

  it('lists every rmmod in --json', () => {
    expect(body.boots[0].rmmod).toHaveLength(N + 1);
    expect(body.boots[0].rmmod.filter((r) => r.result === 0)).toHaveLength(done);
  });

  it('the rmmod verdict names the first kinds of refusal and the first unloads, and counts the rest', () => {
    const refusedKinds = N - done + 1; // one per module (every name is distinct), and hostile_mod_6's -ENOENT after its unload
    expect(v.message).toContain(`; and ${refusedKinds - MESSAGE_CAP} more kinds of refusal (module, errno, reason)`);
    expect(v.message).toContain(`, and ${done - MESSAGE_CAP} more modules succeeded at `);
    expect(v.message).toMatch(new RegExp(`, and ${done - MESSAGE_CAP} more rmmods$`));
    expect(v.message.length).toBeLessThan(5000);
  });

  it('the text report lists the first --limit rmmods and counts the rest', () => {
    const text = renderBoots({ ...body, verdicts: [] } as never, { limit: 20 });
    expect(text.split('\n').filter((l) => l.startsWith('    rmmod '))).toHaveLength(20);
    expect(text).toContain(`    … ${N + 1 - 20} more rmmod calls (--limit N, or --json)`);
  });
});
