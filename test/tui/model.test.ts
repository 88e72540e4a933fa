// Loading progress (honest bytes/lines/events), the verdict relations on the real captures, the
// key map, and NO_COLOR.
import { describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import type { Key } from 'ink';
import { colorsOff } from '../../cli/tui.js';
import { applyAction, initialNav, keyToAction, NO_KEY, type PageInfo, topFrame } from '../../cli/tui/keys.js';
import { buildScreen } from '../../cli/tui/layout.js';
import { FileLineStore } from '../../cli/tui/lines.js';
import { TuiModel } from '../../cli/tui/model.js';
import { verdictRelations } from '../../cli/tui/relations.js';
import { lineText } from '../../cli/tui/text.js';
import { type ReadProgress, readTraces } from '../../parsers/index.js';
import { sharedAnalysis } from '../analysis-cache.js';
import { CAPTURES } from './helpers.js';

describe('loading progress', () => {
  it('readTraces reports bytes as stored, lines and events, and a final done per source', async () => {
    const seen: ReadProgress[] = [];
    const r = await readTraces(CAPTURES.contention, () => {}, { onProgress: (p) => seen.push({ ...p }) });
    const size = statSync(CAPTURES.contention[0]).size;
    const mid = seen.filter((p) => !p.done);
    expect(mid.length).toBeGreaterThan(10);
    for (let i = 1; i < mid.length; i++) {
      expect(mid[i].lines).toBeGreaterThan(mid[i - 1].lines);
      expect(mid[i].bytesRead).toBeGreaterThanOrEqual(mid[i - 1].bytesRead);
      expect(mid[i].events).toBeGreaterThanOrEqual(mid[i - 1].events);
    }
    expect(mid.some((p) => p.bytesRead < size)).toBe(true);
    const last = seen[seen.length - 1];
    expect(last).toMatchObject({ done: true, size, bytesRead: size, lines: r.sources[0].lines, events: r.sources[0].events });
  });

  it('the loading screen shows a bar, bytes of the stored size, lines and events per file', () => {
    const m = new TuiModel(CAPTURES.lifecycle, new FileLineStore());
    m.progress[0] = { src: 0, file: CAPTURES.lifecycle[0], bytesRead: 6754, size: 6754, lines: 709, events: 697, done: true };
    m.progress[1] = { src: 1, file: CAPTURES.lifecycle[1], bytesRead: 5000, size: 10_000, lines: 300, events: 250, done: false };
    const text = buildScreen(m, initialNav(), 80, 23).lines.map(lineText).join('\n');
    expect(text).toContain('Reading 3 files');
    expect(text).toMatch(/stage1\/ftrace-main\.txt\.gz +█{20} 100%/);
    expect(text).toMatch(/lifecycle\/console\.log\.gz +█{10}░{10} +50%/);
    expect(text).toContain('4.9 KiB of 9.8 KiB · 300 lines · 250 events');
    expect(text).toContain('947 events so far');
    expect(text).toMatch(/stage2\/ftrace-main\.txt\.gz +░{20} +0%/);
  });
});

describe('verdict relations on the real captures', () => {
  it('a refused rmmod is explained by exactly refcnt - 1 references held at that line (contention capture, 7 refusals)', async () => {
    const r = await sharedAnalysis(CAPTURES.contention);
    const rmmod = r.verdicts.find((v) => v.id === 'rmmod')!;
    const rel = verdictRelations(r, rmmod);
    const refused = r.boots.flatMap((b) => b.rmmod).filter((x) => x.result !== 0);
    expect(refused).toHaveLength(7);
    for (const x of refused) {
      const held = rel.pins.filter((p) => rel.why.get(`${p.window.file}:${p.window.getLine}`)?.includes(`refused at line ${x.line} `));
      expect(held.length).toBe((x.refcntBefore as number) - 1);
      for (const p of held) expect(p.window.getLine).toBeLessThan(x.line);
    }
  });

  it('lifecycle: the pins verdict lists the 7 pins held across kexec first, each with its module_get line', async () => {
    const r = await sharedAnalysis(CAPTURES.lifecycle);
    const rel = verdictRelations(r, r.verdicts.find((v) => v.id === 'modules-unpinned-after-finish')!);
    const open = rel.pins.filter((p) => p.window.putLine === null);
    expect(open).toHaveLength(7);
    expect(rel.pins.slice(0, 7)).toEqual(open);
    expect(open.every((p) => p.window.expectedOpen?.startsWith('held across kexec'))).toBe(true);
    expect(rel.sessions.map((s) => s.id)).toEqual([0, 1, 2, 3]);
  });

  it('abort: the phase-errors verdict leads to the aborted session', async () => {
    const r = await sharedAnalysis(CAPTURES.abort);
    const rel = verdictRelations(r, r.verdicts.find((v) => v.id === 'phase-errors')!);
    expect(rel.sessions.map((s) => s.name)).toEqual(['abort-s1']);
    expect(rel.lines.map((l) => l.line)).toEqual([469, 489]);
    expect(rel.phases.map((p) => [p.phase.name, p.phase.token, p.phase.error, p.at.line])).toEqual([
      ['preserve', '0x1ee', 'EIO', 469],
      ['preserve', '0x1ff', 'ENOENT', 489],
    ]);
  });
});

const k = (over: Partial<Key> = {}): Key => ({ ...NO_KEY, ...over });

describe('keys', () => {
  const page = (over: Partial<PageInfo> = {}): PageInfo => ({
    count: 50,
    cursor: 0,
    listHeight: 10,
    sorts: 3,
    openAt: (i) => ({ kind: 'session', id: i }),
    files: ['a', 'b'],
    firstLine: null,
    filterOnSubmit: false,
    ...over,
  });

  it('maps the documented keys', () => {
    expect(keyToAction('', k({ tab: true }), 'normal')).toEqual({ type: 'nextScreen', delta: 1 });
    expect(keyToAction('', k({ tab: true, shift: true }), 'normal')).toEqual({ type: 'nextScreen', delta: -1 });
    expect(keyToAction('4', k(), 'normal')).toEqual({ type: 'screen', screen: 'locks' });
    expect(keyToAction('j', k(), 'normal')).toEqual({ type: 'move', delta: 1 });
    expect(keyToAction('k', k(), 'normal')).toEqual({ type: 'move', delta: -1 });
    expect(keyToAction('', k({ return: true }), 'normal')).toEqual({ type: 'enter' });
    expect(keyToAction('', k({ escape: true }), 'normal')).toEqual({ type: 'back' });
    expect(keyToAction('/', k(), 'normal')).toEqual({ type: 'startFilter' });
    expect(keyToAction('s', k(), 'normal')).toEqual({ type: 'sort' });
    expect(keyToAction('?', k(), 'normal')).toEqual({ type: 'help' });
    expect(keyToAction('q', k(), 'normal')).toEqual({ type: 'quit' });
    // While typing a filter, letters are text, not commands.
    expect(keyToAction('q', k(), 'filter')).toEqual({ type: 'type', text: 'q' });
    expect(keyToAction('x', k(), 'jump')).toBeNull();
    expect(keyToAction('7', k(), 'jump')).toEqual({ type: 'type', text: '7' });
  });

  it('moves within the list, pages, drills down and comes back; the cursor is restored', () => {
    let s = initialNav('sessions');
    s = applyAction(s, { type: 'move', delta: 1 }, page());
    expect(topFrame(s).cursor).toBe(1);
    s = applyAction(s, { type: 'page', delta: 1 }, page({ cursor: 1 }));
    expect(topFrame(s).cursor).toBe(10);
    expect(topFrame(s).scroll).toBe(1);
    s = applyAction(s, { type: 'end' }, page({ cursor: 10 }));
    expect(topFrame(s).cursor).toBe(49);
    s = applyAction(s, { type: 'enter' }, page({ cursor: 49 }));
    expect(topFrame(s).view).toEqual({ kind: 'session', id: 49 });
    s = applyAction(s, { type: 'back' }, page());
    expect(topFrame(s)).toMatchObject({ view: { kind: 'sessions' }, cursor: 49 });
  });

  it('Tab keeps each screen where it was; the filter is live and Esc restores the one before', () => {
    let s = initialNav('overview');
    s = applyAction(s, { type: 'enter' }, page());
    s = applyAction(s, { type: 'nextScreen', delta: 1 }, page());
    expect(s.screen).toBe('sessions');
    s = applyAction(s, { type: 'startFilter' }, page());
    s = applyAction(s, { type: 'type', text: 'ab' }, page());
    expect(topFrame(s).filter).toBe('ab');
    s = applyAction(s, { type: 'cancel' }, page());
    expect(topFrame(s).filter).toBe('');
    s = applyAction(s, { type: 'screen', screen: 'overview' }, page());
    expect(s.stack).toHaveLength(2);
    s = applyAction(s, { type: 'sort' }, page());
    s = applyAction(s, { type: 'sort' }, page());
    s = applyAction(s, { type: 'sort' }, page());
    expect(topFrame(s).sort).toBe(0);
  });
});

describe('NO_COLOR', () => {
  it('is on when NO_COLOR is set and not empty (no-color.org)', () => {
    expect(colorsOff({ NO_COLOR: '1' })).toBe(true);
    expect(colorsOff({ NO_COLOR: '' })).toBe(false);
    expect(colorsOff({})).toBe(false);
  });
});

describe('refcount series', () => {
  it('stays bounded and keeps the lowest and highest values when it compacts', async () => {
    const { RefcountSeries } = await import('../../analyses/luo/refcount-series.js');
    const s = new RefcountSeries();
    const ev = (i: number, refcnt: number) =>
      ({ kind: 'module_get', name: 'module_get', time: i * 1000, cpu: 0, pid: 1, tgid: null, comm: 'x', src: 0, line: i + 1, fields: { module: 'm', callSite: 'c', refcnt } }) as const;
    // 10 000 events swinging between 1 and 14.
    for (let i = 0; i < 10_000; i++) s.push(ev(i, i % 2 ? 14 : 1));
    const pts = s.points(0, 'm');
    expect(pts.length).toBeLessThanOrEqual(2048);
    expect(Math.max(...pts.map((p) => p.max))).toBe(14);
    expect(Math.min(...pts.map((p) => p.min))).toBe(1);
    expect(pts.every((p, i) => i === 0 || p.time >= pts[i - 1].time)).toBe(true);
  });
});
