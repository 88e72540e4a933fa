// parsers/quality.ts eventOfPair: the ftrace fast path counts events by a (name, kind) number
// instead of by the name (issue 17). The ledger must come out exactly as counting by name does:
// past the cap of event names (folded, and folded again on each event), across a snapshot (which
// folds the counters), for a name seen with a second kind, and inside fromSameLine.
import { describe, expect, it } from 'vitest';
import { limits } from '../../parsers/name-table.js';
import { QualityLedger, eventPairId } from '../../parsers/quality.js';
import { seededRandom } from '../helpers.js';

describe('QualityLedger.eventOfPair', () => {
  it('counts as event() does, names past the cap and snapshots included (synthetic names)', () => {
    const byName = new QualityLedger(limits(3, 6));
    const byPair = new QualityLedger(limits(3, 6));
    const rnd = seededRandom(7);
    const kinds = ['generic', 'lock_acquire', 'kprobe'];
    for (let i = 0; i < 5000; i++) {
      const name = `ev${Math.floor(rnd() * 12)}`;
      // Mostly one kind per name, sometimes another (counted apart in the name's cell).
      const kind = rnd() < 0.9 ? kinds[Number(name.slice(2)) % 3] : kinds[Math.floor(rnd() * 3)];
      const numbered = rnd() < 0.8;
      byName.event(name, kind);
      if (i % 997 === 0) {
        byName.fromSameLine(() => byName.event(name, kind));
        byPair.fromSameLine(() => byPair.eventOfPair(eventPairId(name, kind), name, kind));
      }
      byPair.eventOfPair(numbered ? eventPairId(name, kind) : -1, name, kind);
      if (i === 2500) expect(byPair.snapshot()).toEqual(byName.snapshot());
    }
    const want = byName.snapshot();
    expect(byPair.snapshot()).toEqual(want);
    // The cap was reached: some names were folded, so the check above covered the fold.
    expect(want.kinds['(other)']).toBeGreaterThan(0);
    expect(Object.keys(want.kinds).length).toBeGreaterThan(3);
  });

  it('numbers each (name, kind) once, and the same in every ledger', () => {
    expect(eventPairId('lock_acquire', 'lock_acquire')).toBe(eventPairId('lock_acquire', 'lock_acquire'));
    expect(eventPairId('x', 'generic')).not.toBe(eventPairId('x', 'kprobe'));
  });
});
