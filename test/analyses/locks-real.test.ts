// Acceptance on the real captures (samples/real, Linux 7.2.13 under QEMU, real README §3).
// Expected counts are recomputed here from the events by simple independent scans, and checked
// against the figures the capture's README states; hold times of a subset are computed by hand from
// the printed lines (quoted in the comments).
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../parsers/event.js';
import type { LocksSection } from '../../analyses/locks/locks.js';
import { LocksSectionSchema } from '../../analyses/locks/locks.js';
import { parseFiles, sample } from '../helpers.js';
import { ADDR, type Analyzed, analyzeEvents, row, symbolsFromText } from './locks-harness.js';

const DIR = 'real/contention-no-writer/stage1';
const kallsyms = (dir: string) => symbolsFromText(readFileSync(sample(`${dir}/kallsyms-luo.txt`), 'utf8'));

/** Contended acquisitions by the simplest reading of O7: begins on an open (task, lock) pair continue it. */
function episodesOf(events: TraceEvent[]): { episodes: number; rebegins: number; afterAcquire: Map<string, number> } {
  const open = new Set<string>();
  const prev = new Map<number, TraceEvent>();
  const afterAcquire = new Map<string, number>();
  let episodes = 0;
  let rebegins = 0;
  for (const ev of events) {
    if (ev.pid === null) continue;
    if (ev.kind === 'contention_begin') {
      const k = `${ev.pid}/${ev.fields.lock}`;
      if (open.has(k)) rebegins++;
      else {
        open.add(k);
        episodes++;
        const p = prev.get(ev.pid);
        if (p?.kind === 'lock_acquire') afterAcquire.set(p.fields.lockName, (afterAcquire.get(p.fields.lockName) ?? 0) + 1);
      }
    } else if (ev.kind === 'contention_end') open.delete(`${ev.pid}/${ev.fields.lock}`);
    prev.set(ev.pid, ev);
  }
  return { episodes, rebegins, afterAcquire };
}

describe('contention-no-writer (full ftrace-main.txt: 542 sessions, 13 740 contention_begin)', () => {
  let events: TraceEvent[];
  let a: Analyzed;
  let s: LocksSection;
  beforeAll(async () => {
    events = (await parseFiles([sample(`${DIR}/ftrace-main.txt.gz`)])).events;
    a = analyzeEvents(events, { symbols: kallsyms(DIR) });
    s = a.section;
  });

  it('turns 13 740 begins and 12 839 ends into 12 839 contended acquisitions (O7), none lost', () => {
    const scan = episodesOf(events);
    expect(events.filter((e) => e.kind === 'contention_begin')).toHaveLength(13740); // README §3.4
    expect(events.filter((e) => e.kind === 'contention_end')).toHaveLength(12839);
    expect(scan).toMatchObject({ episodes: 12839, rebegins: 901 });
    expect(s.totals).toMatchObject({ contentionBegins: 13740, contentionEnds: 12839, reBegins: 901, contendedAcquisitions: 12839, orphanEnds: 0, openAtEnd: 0, failedWaits: 0 });
    // every contended acquisition is in exactly one row, with a complete wait
    expect(s.locks.reduce((n, l) => n + l.contended, 0)).toBe(12839);
    expect(s.locks.reduce((n, l) => n + l.wait.count, 0)).toBe(12839);
    expect(a.waits.filter((w) => w.incomplete !== null)).toHaveLength(0);
  });

  it('names the outgoing session rwsem and counts its 88 write contentions exactly', () => {
    const writes = events.filter((e) => e.kind === 'contention_begin' && e.fields.flags === 4);
    expect(writes).toHaveLength(88);
    expect(new Set(writes.map((e) => (e.kind === 'contention_begin' ? e.fields.lock : '')))).toEqual(new Set(['00000000e743fd1d']));
    const r = row(s, 'luo_session_global.outgoing.rwsem', 'rwsem:W');
    expect(r).toMatchObject({ address: ADDR.outgoing, acquisitions: 1084, contended: 88, slept: 88, namedByAdjacency: 88, wait: { count: 88 } });
    expect(r?.luo?.role).toBe('outgoing session list');
    expect(s.identities.find((i) => i.name === 'luo_session_global.outgoing.rwsem')?.hashedPointers).toEqual(['00000000e743fd1d']);
    expect(s.locks.some((l) => l.address === '00000000e743fd1d' && l.name === null)).toBe(false);
  });

  it('counts luo_register_rwlock acquisitions per mode like lockdep does, with no contention (no writer ran)', () => {
    const reads = events.filter((e) => e.kind === 'lock_acquire' && e.fields.lockName === 'luo_register_rwlock' && e.fields.read).length;
    expect(reads).toBe(3252); // bpftrace-stats.txt: @lockdep_acquire[luo_register_rwlock, 2]: 3252
    expect(row(s, 'luo_register_rwlock', 'rwsem:R')).toMatchObject({ address: ADDR.register, symbol: 'luo_register_rwlock', acquisitions: 3252, contended: 0, hold: { count: 3252 } });
    expect(row(s, 'luo_register_rwlock', 'rwsem:R')?.luo).not.toBeNull();
  });

  it('matches hand-computed luo_register_rwlock write holds (insmod registration, rmmod unregister)', () => {
    // down_write -> up_write, lines 136/138, 143/145, 149/151, 155/157, 161/163, 170/172, 100991/100993, 100997/101001:
    // 75.739439-75.734161 = 5278 us, 434, 370, 403, 356, 382, 111.935229-111.934653 = 576, 111.938582-111.936476 = 2106
    const r = row(s, 'luo_register_rwlock', 'rwsem:W');
    expect(r).toMatchObject({ acquisitions: 8, contended: 0 });
    expect(r?.hold).toMatchObject({ count: 8, total: 9_905_000, min: 356_000, max: 5_278_000, p50: 403_000, quantiles: 'exact' });
    expect(r?.phases.map((p) => p.key).sort()).toEqual(['register', 'unregister']);
  });

  it('matches hand-computed intervals of the outgoing rwsem (lines 222-230 and 682-691)', () => {
    const outgoing = (lo: number) => a.holds.find((h) => h.lock.name === 'luo_session_global.outgoing.rwsem' && h.start === lo);
    // 76.540525 down_write ... 76.548841 up_write, with an unrelated SPIN|MUTEX contention in between
    expect(outgoing(76_540_525_000)).toMatchObject({ end: 76_548_841_000, contended: false, incomplete: null });
    // 76.856448 contention_begin (flags=WRITE) -> 76.858650 contention_end -> 76.880292 up_write
    expect(outgoing(76_858_650_000)).toMatchObject({ end: 76_880_292_000, contended: true, pid: 320 });
    expect(a.waits.find((w) => w.begin === 76_856_448_000)).toMatchObject({ end: 76_858_650_000, pid: 320, incomplete: null });
  });

  it('counts every mutex contention right after its lockdep acquire in that lock\'s row', () => {
    const { afterAcquire } = episodesOf(events);
    expect(afterAcquire.get('&private->outgoing.lock')).toBe(7588);
    expect(row(s, '&private->outgoing.lock', 'mutex')).toMatchObject({ instances: 4, acquisitions: 7588, contended: 7588 });
    expect(row(s, '&session->mutex', 'mutex')?.contended).toBe(afterAcquire.get('&session->mutex'));
    expect(row(s, 'luo_preserved_files.xa_lock', 'spinlock')?.contended).toBe(afterAcquire.get('luo_preserved_files.xa_lock'));
  });

  it('attributes waits to sessions and LUO phases, and fits the JSON contract', () => {
    const r = row(s, '&private->outgoing.lock', 'mutex');
    expect(r?.phases.map((p) => p.key).sort()).toEqual(['preserve', 'unpreserve']);
    expect(r?.sessionsTotal).toBe(542);
    expect(r?.sessions[0].key).toMatch(/^stress-32\d-\d+$/);
    expect(s.stallSessionsTotal).toBeGreaterThanOrEqual(542);
    // 99.298620 contention_begin -> 99.486619 contention_end (line 75024), luo_ctl-326 on &private->outgoing.lock
    expect(s.slowestWaits[0]).toMatchObject({ duration: 187_999_000, lock: '&private->outgoing.lock', line: 75024 });
    expect(() => LocksSectionSchema.parse(s)).not.toThrow();
    for (const l of s.locks) {
      for (const k of ['count', 'total', 'min', 'max', 'avg', 'p50', 'p90', 'p99', 'p999'] as const) {
        expect(l.wait).toHaveProperty(k);
        expect(l.hold).toHaveProperty(k);
      }
    }
  });
});

describe('trace-cmd report of the same run (raw pointers, trimmed at 2 MB)', () => {
  it('sees the raw outgoing rwsem address in contention events and names it from lockdep', async () => {
    const events = (await parseFiles([sample(`${DIR}/trace-cmd-report.trimmed.txt.gz`)])).events;
    const { section } = analyzeEvents(events, { symbols: kallsyms(DIR) });
    const writes = events.filter((e) => e.kind === 'contention_begin' && e.fields.flags === 4);
    expect(writes.every((e) => e.kind === 'contention_begin' && e.fields.lock === ADDR.outgoing)).toBe(true);
    const r = row(section, 'luo_session_global.outgoing.rwsem', 'rwsem:W');
    expect(r).toMatchObject({ instances: 1, address: ADDR.outgoing, symbol: 'luo_session_global+0x110', contended: writes.length });
    // the file is cut at 2 MB: what was open then is counted as incomplete, not as a short interval
    const cut = section.locks.reduce((n, l) => n + l.incomplete.holds['trace-end'] + l.incomplete.waits['trace-end'], 0);
    expect(cut).toBeGreaterThan(0);
  });
});

describe('lifecycle: two boots (stage1 + stage2) as two sources', () => {
  it('merges named locks across sources and keeps per-source pointers apart', async () => {
    const files = ['real/lifecycle/stage1/ftrace-main.txt.gz', 'real/lifecycle/stage2/ftrace-main.txt.gz'].map(sample);
    const events = (await parseFiles(files)).events;
    const { section } = analyzeEvents(events);
    const reg = row(section, 'luo_register_rwlock', 'rwsem:W');
    expect(reg?.sources).toEqual([0, 1]);
    const incoming = row(section, 'luo_session_global.incoming.rwsem', 'rwsem:W');
    expect(incoming?.sources).toEqual([1]);
    expect(row(section, '&luo_file->mutex', 'mutex')).toMatchObject({ acquisitions: 24 }); // README §3.1 stage 2
    expect(section.stalls.map((x) => x.session)).toEqual(expect.arrayContaining(['lifecycle-s1', 'lifecycle-s2']));
    const s1 = section.stalls.find((x) => x.session === 'lifecycle-s1');
    expect(s1?.slowest.map((p) => p.func)).toContain('luo_file_finish');
  });
});
