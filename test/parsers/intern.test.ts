// parsers/intern.ts: an interned slice always says what text.slice says, whatever the fixed-size
// cache holds (collisions, evictions, long and empty ranges). (Which string object comes back is
// not observable from JavaScript: strings compare by value; the saving shows in the bench.)
import { describe, expect, it } from 'vitest';
import { SliceInterner } from '../../parsers/intern.js';
import { parseText } from '../helpers.js';

describe('SliceInterner', () => {
  it('cuts the same characters from different lines and offsets', () => {
    const interner = new SliceInterner();
    expect(interner.slice('lock_acquire: 00000000bac84fd7 read luo_register_rwlock', 36, 55)).toBe('luo_register_rwlock');
    expect(interner.slice('xx lock_release: 00000000bac84fd7 luo_register_rwlock', 34, 53)).toBe('luo_register_rwlock');
    // Same length and hash slot can only be returned when the characters match.
    expect(interner.slice('luo_register_rwlocK', 0, 19)).toBe('luo_register_rwlocK');
  });

  it('always equals text.slice, whatever the cache holds (20 000 distinct keys through 4096 slots)', () => {
    const interner = new SliceInterner();
    const texts: string[] = [];
    for (let i = 0; i < 20_000; i++) texts.push(`  ptr=${(i * 2654435761 >>> 0).toString(16).padStart(16, '0')} end`);
    for (let round = 0; round < 2; round++) {
      for (const t of texts) expect(interner.slice(t, 6, 22)).toBe(t.slice(6, 22));
    }
  });

  it('cuts long and empty ranges like slice', () => {
    const interner = new SliceInterner();
    const long = `name=${'x'.repeat(200)}`;
    expect(interner.slice(long, 5, long.length)).toBe('x'.repeat(200));
    expect(interner.slice(long, 3, 3)).toBe('');
    expect(interner.slice(long, 4, 2)).toBe('');
  });

  it('decodes lockdep names after the read/try prefixes through the interner', async () => {
    const text = [
      '          luo_ctl-315     [001] .....    86.700001: lock_acquire: 00000000bac84fd7 read luo_register_rwlock',
      '          luo_ctl-316     [000] .....    86.700002: lock_acquire: 00000000bac84fd7 luo_register_rwlock',
      '          luo_ctl-316     [000] .....    86.700003: lock_release: 00000000bac84fd7 luo_register_rwlock',
    ].join('\n');
    const { events } = await parseText(text);
    const names = events.map((e) => (e.kind === 'lock_acquire' || e.kind === 'lock_release' ? e.fields.lockName : null));
    expect(names).toEqual(['luo_register_rwlock', 'luo_register_rwlock', 'luo_register_rwlock']);
    expect(events.map((e) => e.kind === 'lock_acquire' && e.fields.read)).toEqual([true, false, false]);
  });
});
