// The shared facts of the event stream (analyses/stream/): the task key and the --since/--until
// window. Synthetic values, chosen at the edges each rule is about.
import { describe, expect, it } from 'vitest';
import { taskKey } from '../../analyses/stream/task-key.js';
import { inWindow, overlapsWindow } from '../../analyses/stream/time-window.js';

describe('taskKey', () => {
  it('tells tasks apart by source and pid, and a missing pid from pid 0', () => {
    expect(taskKey(0, 42)).toBe(taskKey(0, 42));
    expect(taskKey(0, 42)).not.toBe(taskKey(1, 42));
    expect(taskKey(0, null)).not.toBe(taskKey(0, 0));
    expect(typeof taskKey(3, 4_194_304)).toBe('number');
  });

  it('keeps a pid no kernel prints apart from the pids of the next source', () => {
    const big = 8_388_608 + 5;
    expect(taskKey(0, big)).not.toBe(taskKey(1, 5));
    expect(taskKey(0, -1)).not.toBe(taskKey(0, null));
    expect(taskKey(0, 1.5)).not.toBe(taskKey(0, 1));
  });
});

describe('the --since/--until window', () => {
  it('keeps a point inside the bounds, both inclusive, and an unknown time only without bounds', () => {
    expect(inWindow(5, 5, 10)).toBe(true);
    expect(inWindow(10, 5, 10)).toBe(true);
    expect(inWindow(11, 5, 10)).toBe(false);
    expect(inWindow(4, 5, undefined)).toBe(false);
    expect(inWindow(null, undefined, undefined)).toBe(true);
    expect(inWindow(null, 5, null)).toBe(false);
  });

  it('keeps an interval that overlaps the window, using the known end for an unknown one', () => {
    expect(overlapsWindow(1, 5, 5, 10)).toBe(true);
    expect(overlapsWindow(1, 4, 5, 10)).toBe(false);
    expect(overlapsWindow(null, 7, 5, 10)).toBe(true);
    expect(overlapsWindow(12, null, 5, 10)).toBe(false);
    expect(overlapsWindow(null, null, 5, null)).toBe(false);
    expect(overlapsWindow(null, null, null, undefined)).toBe(true);
  });
});
