// The rules of stream/continuity.ts, one at a time, on small SYNTHETIC identities (the real cases are
// in split-boot.test.ts): what makes a later file the same running kernel, and what rules it out.
import { describe, expect, it } from 'vitest';
import { type Identity, type ModuleFacts, continuation, newIdentity } from '../../analyses/stream/continuity.js';

const ADDR = '0xffffffffa04022c0';
function seg(first: number, last: number, mods: Record<string, Partial<ModuleFacts>> = {}, hashed: string[] = [], extra: { startedByBoot?: boolean; kexecOut?: boolean } = {}) {
  const identity: Identity = newIdentity();
  for (const h of hashed) identity.hashed.add(h);
  for (const [name, m] of Object.entries(mods)) identity.modules.set(name, { address: ADDR, firstRef: null, loadedHere: false, lastRefcnt: null, freed: false, ...m });
  return { firstTime: first * 1e9, lastTime: last * 1e9, startedByBoot: extra.startedByBoot ?? false, kexecOut: extra.kexecOut ?? false, identity };
}

describe('continuation: a later file of the same kernel (synthetic identities)', () => {
  const earlier = seg(80, 95, { luo_demo: { lastRefcnt: 8 } }, ['00000000da04d8b9']);

  it('references held across the gap that go on at the same address are evidence', () => {
    const later = seg(100, 110, { luo_demo: { firstRef: { refcnt: 7, delta: -1 }, lastRefcnt: 1 } });
    expect(continuation(earlier, later)).toEqual(['it starts 5.000 s after the earlier file ends (same clock)', `luo_demo at ${ADDR} goes on from refcnt 8 to 7`]);
  });

  it('a shared hashed pointer is evidence', () => {
    expect(continuation(earlier, seg(100, 110, {}, ['00000000da04d8b9']))?.[1]).toMatch(/^1 hashed pointer in both \(00000000da04d8b9: the hash key is per boot\)$/);
  });

  it('an idle module (refcnt 1) that goes on is not: a new kernel\'s freshly loaded module reads the same', () => {
    const idle = seg(80, 95, { luo_demo: { lastRefcnt: 1 } });
    expect(continuation(idle, seg(100, 110, { luo_demo: { firstRef: { refcnt: 2, delta: 1 }, lastRefcnt: 2 } }))).toBeNull();
  });

  it('ruled out: earlier times, a boot line, a kexec in the earlier file, a module loaded again, another address', () => {
    const goesOn = { luo_demo: { firstRef: { refcnt: 7, delta: -1 as const }, lastRefcnt: 1 } };
    expect(continuation(earlier, seg(90, 110, goesOn))).toBeNull();
    expect(continuation(earlier, seg(100, 110, goesOn, [], { startedByBoot: true }))).toBeNull();
    expect(continuation(seg(80, 95, { luo_demo: { lastRefcnt: 8 } }, [], { kexecOut: true }), seg(100, 110, goesOn))).toBeNull();
    expect(continuation(earlier, seg(100, 110, { luo_demo: { loadedHere: true, lastRefcnt: 2 } }, ['00000000da04d8b9']))).toBeNull();
    expect(continuation(earlier, seg(100, 110, { luo_demo: { ...goesOn.luo_demo, address: '0xffffffffa0500000' } }))).toBeNull();
  });

  it('no identity in common: not joined on time alone', () => {
    expect(continuation(earlier, seg(100, 110))).toBeNull();
  });
});
