// Many rmmods (an insmod/rmmod loop, or a hostile trace: test/bench/hostile.ts kind 'rmmods'): the
// verdicts that ask "which rmmod came before" answer from an index, not a scan per rmmod or free
// (analyses/luo/verdicts/latest-before.ts; 500 000 refused rmmods took more than 10 minutes), and
// the messages and the text report name the first ones and count the rest.
import { describe, expect, it } from 'vitest';
import { LuoAnalysis } from '../../analyses/luo/luo.js';
import { BootSchema, type LuoSectionBody, rmmodCount } from '../../analyses/luo/schema.js';
import { filterLuoSection } from '../../analyses/luo/filters.js';
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

type Quality = Awaited<ReturnType<typeof parseText>>['quality'];

/** The LUO sections of a synthetic trace's lines, one per cap on the listed rmmods. */
async function sectionsOf(lines: string[], caps: Array<number | undefined>): Promise<{ bodies: LuoSectionBody[]; quality: Quality }> {
  const read = await parseText(`${lines.join('\n')}\n`);
  const calls = new LuoCallTracker();
  const luos = caps.map((deleteRows) => new LuoAnalysis({ calls, deleteRows }));
  const feed = feedInOrder(calls, luos);
  for (const ev of read.events) feed(ev);
  const bodies = luos.map((l) => l.finish({ sources: read.sources, quality: { ...read.quality, notes: [...read.quality.notes] } }));
  return { bodies, quality: { ...read.quality, notes: [...read.quality.notes] } };
}

/** The LUO section of a synthetic trace's lines. */
async function sectionOf(lines: string[]): Promise<{ body: LuoSectionBody; quality: Quality }> {
  const { bodies, quality } = await sectionsOf(lines, [undefined]);
  return { body: bodies[0], quality };
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

describe('rmmod calls past the list cap (DeleteList, analyses/luo/refcounts.ts)', async () => {
  // 12 refused or successful rmmods of distinct modules, then a module loaded, referenced (a get
  // never put: its refcnt seen stays 2) and unloaded by a normal rmmod; then one loaded, referenced
  // and freed by `rmmod -f` (O_TRUNC, 0xa80) while referenced. The last two rmmods are past a cap of 3.
  const c = (comm: string, pid: number, t: number) => `${`${comm}-${pid}`.padStart(22)} [000] ..... ${t.toFixed(6).padStart(12)}: `;
  const lines = [
    ...hostileLines('rmmods', 12),
    `${c('insmod', 500, 300)}module_load: stale_mod O`,
    `${c('insmod', 500, 300.001)}module_get: stale_mod call_site=do_init_module refcnt=2`,
    `${c('rmmod', 501, 301)}sys_delete_module(name_user: 0x7ffdd5161ac8 "stale_mod", flags: 0x880)`,
    `${c('rmmod', 501, 301.001)}module_free: stale_mod`,
    `${c('rmmod', 501, 301.002)}sys_delete_module -> 0x0`,
    `${c('insmod', 502, 302)}module_load: forced_mod O`,
    `${c('insmod', 502, 302.001)}module_get: forced_mod call_site=do_init_module refcnt=2`,
    `${c('insmod', 502, 302.002)}module_get: forced_mod call_site=do_init_module refcnt=3`,
    `${c('rmmod', 503, 303)}sys_delete_module(name_user: 0x7ffdd5161ac8 "forced_mod", flags: 0xa80)`,
    `${c('rmmod', 503, 303.001)}module_free: forced_mod`,
    `${c('rmmod', 503, 303.002)}sys_delete_module -> 0x0`,
  ];
  const { bodies, quality } = await sectionsOf(lines, [3, undefined]);
  const [capped, full] = bodies;
  const verdicts = (b: LuoSectionBody) => new Map(evaluateVerdicts(b, quality).map((v) => [v.id, v]));
  const [cv, fv] = [verdicts(capped), verdicts(full)];

  it('lists the first 3 and the rmmods that freed a module, and counts the others by module and result', () => {
    expect(full.boots[0].rmmod).toHaveLength(14);
    expect(capped.boots[0].rmmod.map((r) => r.module)).toEqual(['hostile_mod_0', 'hostile_mod_1', 'hostile_mod_2', 'stale_mod', 'forced_mod']);
    expect(rmmodCount(capped.boots[0])).toBe(14);
    const past = capped.boots[0].rmmodOmitted!;
    expect(past.reduce((a, x) => a + x.count, 0)).toBe(9);
    expect(past.find((x) => x.module === 'hostile_mod_6')).toEqual({ module: 'hostile_mod_6', forced: false, result: 0, error: null, count: 1 });
    expect(past.find((x) => x.module === 'hostile_mod_3')).toEqual({ module: 'hostile_mod_3', forced: false, result: -2, error: 'ENOENT', count: 1 });
    BootSchema.parse(JSON.parse(JSON.stringify(capped.boots[0])));
  });

  it('the unload verdicts give the answers of the full list: the normal rmmod proves the stale refcnt, the forced one fails', () => {
    for (const id of ['no-forced-unload-with-pins', 'refcounts-balanced']) {
      expect([id, cv.get(id)?.status, cv.get(id)?.reason, cv.get(id)?.message]).toEqual([id, fv.get(id)?.status, fv.get(id)?.reason, fv.get(id)?.message]);
    }
    expect(fv.get('no-forced-unload-with-pins')).toMatchObject({ status: 'fail', reason: 'freed-while-referenced' });
    expect(rmmodBefore(capped, 'stale_mod', capped.boots[0].rmmod[3].file, 10_000)).toMatchObject({ module: 'stale_mod', result: 0, forced: false });
  });

  it('the rmmod verdict counts the calls past the list', () => {
    const v = cv.get('rmmod')!;
    expect([v.status, v.reason]).toEqual([fv.get('rmmod')!.status, fv.get('rmmod')!.reason]);
    const refusedPast = capped.boots[0].rmmodOmitted!.filter((x) => x.result !== null && x.result < 0).reduce((a, x) => a + x.count, 0);
    expect(v.message).toContain(`; 9 more rmmod calls counted past the report's list: ${refusedPast} refused, ${9 - refusedPast} succeeded`);
    expect(renderBoots({ ...capped, verdicts: [] } as never, { limit: 20 })).toContain('    … and 9 more rmmod calls counted, not listed (by module and result in --json: rmmodOmitted)');
  });

  it('--module keeps the counted calls of that module only', () => {
    const only = filterLuoSection(capped, { module: 'hostile_mod_3' });
    expect(rmmodCount(only.boots[0])).toBe(1);
    expect(filterLuoSection(capped, { module: 'nothing' }).boots[0].rmmodOmitted).toBeUndefined();
  });
});
