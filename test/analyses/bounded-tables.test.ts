// Tables keyed by names from the trace are bounded (issue #15): past a cap, names fold into one
// "(other N)" row whose counts stay true totals, the names the verdicts need are kept, and a
// data-quality note says what was folded. Synthetic lines in the kernel's exact trace_pipe format,
// with small caps (the caps are parameters); the memory itself is measured by `npm run bench --
// --hostile` (test/bench/hostile.ts), not here.
import { describe, expect, it } from 'vitest';
import { TaskTable } from '../../analyses/locks/lock-tasks.js';
import { LuoAnalysis } from '../../analyses/luo/luo.js';
import type { TraceEvent } from '../../parsers/event.js';
import { LuoCallTracker } from '../../analyses/stream/luo-calls.js';
import { BoundedTable, FOLD_KEY, FoldTally, limits, NameBudget } from '../../parsers/name-table.js';
import { QualityLedger } from '../../parsers/quality.js';
import { hostileLines } from '../bench/hostile.js';
import { parseText } from '../helpers.js';
import { ADDR, analyzeLines, ftraceLine as L, P, symbolsFromText } from './locks-harness.js';

describe('the bounded-table primitive (parsers/name-table.ts)', () => {
  it('admits up to the cap, protected names up to the hard cap, and folds the rest with true counts', () => {
    const t = new BoundedTable<string, { n: number }>(limits(2, 3), () => ({ n: 0 }));
    for (const k of ['a', 'b', 'c', 'a', 'd']) t.row(k).n++;
    t.row('luo', true).n++;
    t.row('luo2', true).n++; // past the hard cap: folded too
    expect([...t.keys()]).toEqual(['a', 'b', 'luo']);
    expect(t.get('a')?.n).toBe(2);
    expect(t.other?.n).toBe(3); // c, d, luo2
    expect(t.budget.folded.events).toBe(3);
    expect(t.budget.folded.names).toBe(3);
    expect(t.note('things')).toMatch(/^things: more than 2 distinct \(3 for names the verdicts need\); 3 events of about 3 more were counted in one "\(other 3\)" row/);
    expect(new BoundedTable<string, number>(limits(2), () => 0).note('x')).toBeNull();
  });

  it('estimates distinct folded names within 2% in fixed memory, and merges tallies', () => {
    const a = new FoldTally();
    const b = new FoldTally();
    for (let i = 0; i < 200_000; i++) a.add(`lock_${i}`);
    for (let i = 100_000; i < 300_000; i++) b.add(`lock_${i}`);
    expect(Math.abs(a.names - 200_000) / 200_000).toBeLessThan(0.02);
    a.merge(b);
    expect(a.events).toBe(400_000);
    expect(Math.abs(a.names - 300_000) / 300_000).toBeLessThan(0.02);
  });

  it('NameBudget refuses past the cap unless protected', () => {
    const b = new NameBudget(limits(1, 2));
    expect([b.admit(), b.admit(), b.admit(true), b.admit(true)]).toEqual([true, false, true, false]);
  });

  it("event names (`kinds`) are bounded, decoded ones protected, and the counts add up", () => {
    const q = new QualityLedger(limits(2, 3));
    for (const n of ['e1', 'e2', 'e3', 'e4', 'e1']) q.event(n, 'generic');
    q.event('module_get', 'module_get');
    q.event('e5', 'generic');
    const s = q.snapshot();
    expect(s.kinds).toEqual({ e1: 2, e2: 1, module_get: 1, [FOLD_KEY]: 3 });
    expect(Object.values(s.kinds).reduce((x, y) => x + y, 0)).toBe(7);
    expect(s.notes.some((n) => n.startsWith('event names: more than 2 distinct'))).toBe(true);
  });
});

describe('lock table past its cap (synthetic contention and lockdep lines)', async () => {
  // 8 unrelated locks (1 task), then the LUO rwsem by its lockdep name, then an address contended
  // inside luo_preserve_file: caps of 3 (6 for what the verdicts need).
  const lines = [...hostileLines('locks', 8)].slice(1);
  let t = 200;
  const at = () => (t += 0.001);
  lines.push(
    L('luo_ctl', 320, 1, at(), P.acquire('00000000aaaa0001', 'luo_register_rwlock')),
    L('luo_ctl', 320, 1, at(), P.release('00000000aaaa0001', 'luo_register_rwlock')),
    L('luo_ctl', 320, 1, at(), P.enter('luo_preserve_file', '0x2d0', 'file_set=0xff1100002093b858 token=0x1 fd=5')),
    L('luo_ctl', 320, 1, at(), P.begin('00000000bbbb0001', 'WRITE')),
    L('luo_ctl', 320, 1, at(), P.end('00000000bbbb0001')),
    L('luo_ctl', 320, 1, at(), P.exit('luo_preserve_file', 0)),
    L('other', 400, 0, at(), P.begin('00000000cccc0001', 'WRITE')),
    L('other', 400, 0, at(), P.end('00000000cccc0001')),
  );
  const { section } = await analyzeLines(lines, { limits: limits(3, 6) });
  const fold = section.locks.filter((r) => r.folded);

  it('keeps the first locks, the LUO lock and the lock taken inside a LUO call; folds the rest into one row', () => {
    expect(section.locks.find((r) => r.name === 'luo_register_rwlock')?.luo).not.toBeNull();
    expect(section.locks.find((r) => r.address === '00000000bbbb0001')?.contended).toBe(1);
    expect(section.locks.find((r) => r.address === '00000000cccc0001')).toBeUndefined();
    expect(fold).toHaveLength(1);
    expect(fold[0].name).toBe('(other 6)'); // hostile locks 3..7 and cccc0001
    expect(fold[0].folded).toEqual({ names: 6, events: 6 });
    expect(section.locks.filter((r) => !r.folded && r.evidence.includes('contention'))).toHaveLength(4);
  });

  it('keeps a raw address kallsyms names as a LUO lock, contended outside LUO calls', async () => {
    const symbols = symbolsFromText('ffffffff81ed2360 D luo_register_rwlock\n');
    const more = [...lines, L('insmod', 401, 0, at(), P.begin(ADDR.register, 'WRITE')), L('insmod', 401, 0, at(), P.end(ADDR.register))];
    const r = await analyzeLines(more, { limits: limits(3, 6), symbols });
    expect(r.section.locks.find((x) => x.name === 'luo_register_rwlock')?.contended).toBe(1);
    const without = await analyzeLines(more, { limits: limits(3, 6) });
    expect(without.section.locks.find((x) => x.address === ADDR.register)).toBeUndefined();
  });

  it('counts every contention in the totals and in the rows (true totals)', () => {
    expect(section.totals.contentionBegins).toBe(10);
    expect(section.locks.reduce((a, r) => a + r.contended, 0)).toBe(10);
    expect(fold[0].wait.count).toBe(6);
    expect(section.notes.some((n) => n.startsWith('locks: more than 3 distinct (6 for names the verdicts need); 6 events of about 6 more'))).toBe(true);
  });
});

describe('module table past its cap (synthetic module_get lines)', async () => {
  // 8 modules loaded by insmod (not LUO references), then a LUO pin on luo_demo: caps of 3 (5).
  const lines = [...hostileLines('modules', 8)];
  lines.push(
    L('luo_ctl', 346, 0, 300, P.enter('luo_preserve_file', '0x2d0', 'file_set=0xff1100002093b858 token=0x1 fd=5')),
    L('luo_ctl', 346, 0, 300.001, 'module_get: luo_demo call_site=luo_preserve_file refcnt=2'),
    L('luo_ctl', 346, 0, 300.002, P.exit('luo_preserve_file', 0)),
    L('insmod', 500, 0, 300.003, 'module_put: hostile_mod_7 call_site=do_init_module refcnt=1'),
  );
  const read = await parseText(`${lines.join('\n')}\n`);
  const calls = new LuoCallTracker();
  const luo = new LuoAnalysis({ calls, moduleLimits: limits(3, 5) });
  for (const ev of read.events) {
    calls.push(ev);
    luo.push(ev);
  }
  const quality = { ...read.quality, notes: [...read.quality.notes] };
  const body = luo.finish({ sources: read.sources, quality });

  it('keeps the first modules and the LUO-pinned one, folds the rest with true gets and puts', () => {
    expect(body.modules.map((m) => m.name).sort()).toEqual(['(other 5)', 'hostile_mod_0', 'hostile_mod_1', 'hostile_mod_2', 'luo_demo']);
    const fold = body.modules.find((m) => m.folded)!;
    expect(fold.folded).toEqual({ names: 5, events: 6 });
    expect([fold.gets, fold.puts]).toEqual([5, 1]);
    expect(fold.getsBySite).toEqual({ do_init_module: 5 });
    expect(fold.refcntMismatchCount).toBe(0);
    expect(body.modules.reduce((a, m) => a + m.gets, 0)).toBe(9);
    expect(body.modules.find((m) => m.name === 'luo_demo')?.openPins).toBe(1);
  });

  it('says so in the data-quality notes', () => {
    expect(quality.notes.find((n) => n.startsWith('modules: more than 3 distinct (5 for names the verdicts need); 6 events of about 5 more'))).toBeDefined();
  });
});

describe('lock tasks: idle tasks are dropped once the table is large', () => {
  const ev = (pid: number) => ({ src: 0, pid, cpu: 0, comm: `t${pid}` }) as unknown as TraceEvent;
  it('keeps a task that holds a lock, drops idle ones, and stays bounded', () => {
    const tasks = new TaskTable(4);
    const holder = tasks.task(ev(1))!;
    holder.held.push({} as never);
    for (let pid = 2; pid < 1000; pid++) tasks.task(ev(pid));
    expect(tasks.count).toBeLessThanOrEqual(8);
    expect(tasks.task(ev(1))).toBe(holder);
    expect([...tasks.all()].length).toBe(tasks.count);
  });
});
