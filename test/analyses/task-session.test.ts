// SessionTracker (analyses/stream/task-session.ts) keeps, per file_set pointer, only the names a
// deferred SessionRef can still read, not every session that ever reused the pointer; the refs must
// resolve exactly as with the full list. Synthetic kprobe events (the fields the tracker reads).
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../parsers/event.js';
import { SessionTracker } from '../../analyses/stream/task-session.js';

const probe = (pid: number, func: string, args: Record<string, string>): TraceEvent =>
  ({ kind: 'kprobe', src: 0, pid, name: `p_${func}_0`, fields: { func, args } }) as unknown as TraceEvent;
const create = (pid: number, name: string) => probe(pid, 'luo_session_create', { name });
const useFileSet = (pid: number, fileSet: string) => probe(pid, 'luo_file_deserialize', { file_set: fileSet });

describe('SessionTracker bindings', () => {
  it('resolves refs taken before the first and between later bindings of a reused file_set', () => {
    const t = new SessionTracker();
    t.push(useFileSet(1, '0xf1')); // not bound yet: a deferred ref to binding 0
    const before = t.current(0, 1);
    expect(before).toEqual({ fileSet: '0:0xf1', binding: 0 });
    t.push(create(2, 'A'));
    t.push(useFileSet(2, '0xf1')); // binding 0 = A
    const between = t.current(0, 1); // task 1 still on the unbound pointer: the next binding (1)
    expect(between).toEqual({ fileSet: '0:0xf1', binding: 1 });
    for (const [pid, name] of [[3, 'B'], [4, 'C'], [5, 'D']] as const) {
      t.push(create(pid, name));
      t.push(useFileSet(pid, '0xf1'));
    }
    t.push(useFileSet(6, '0xf1')); // an unnamed user of a bound pointer gets its latest name
    expect(t.current(0, 6)).toBe('D');
    expect(t.resolve(before)).toBe('A');
    expect(t.resolve(between)).toBe('B');
    expect(t.resolve({ fileSet: '0:0xf1', binding: 7 })).toBeNull(); // never bound that far
    expect(t.resolve({ fileSet: '0:0xf2', binding: 0 })).toBeNull();
  });

  it('points a ref at the next binding of its file_set, unresolved until that binding happens', () => {
    const t = new SessionTracker();
    t.push(create(2, 'A'));
    t.push(useFileSet(2, '0xf1'));
    t.push(useFileSet(9, '0xf9'));
    const first = t.current(0, 9);
    t.push(create(3, 'B'));
    t.push(useFileSet(3, '0xf9')); // 0xf9: B
    const next = t.current(0, 9); // task 9 never learnt a name: its ref now waits for binding 1
    expect(next).toEqual({ fileSet: '0:0xf9', binding: 1 });
    expect(t.resolve(first)).toBe('B');
    expect(t.resolve(next)).toBeNull();
    t.push(create(4, 'B'));
    t.push(useFileSet(4, '0xf9')); // the same name again is not a new binding
    expect(t.resolve(next)).toBeNull();
    t.push(create(5, 'E'));
    t.push(useFileSet(5, '0xf9'));
    expect(t.resolve(next)).toBe('E');
    expect(t.resolve(first)).toBe('B');
  });
});
