// The lock tracker finds a probe's function once per event name and probe location
// (interval-tracker.ts probeOf): one event name can sit on several locations (a probe defined again
// on another function, or printed as an address), and each location must be read as its own
// function. Synthetic events, in the layout the ftrace parser makes of the real kprobe lines.
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../parsers/event.js';
import { makeEvent } from '../../parsers/payloads.js';
import { ADDR, analyzeEvents, row } from './locks-harness.js';

const at = (t: number, line: number) => ({ time: t, cpu: 0, pid: 9, tgid: 9, comm: 'x', src: 0, line });
const entry = (name: string, func: string | null, t: number, line: number): TraceEvent =>
  makeEvent('kprobe', name, at(t, line), { func, offset: 4, address: null, args: { sem: ADDR.register } });
const exit = (name: string, func: string | null, ret: number, t: number, line: number): TraceEvent =>
  makeEvent('kretprobe', name, at(t, line), { func, caller: null, args: {}, ret });

describe('probes of one event name on several locations (synthetic)', () => {
  it('reads each location as its own lock function', () => {
    // `lk` on down_write, then on up_write: one complete hold (read as down_write twice, it stays open).
    const { section } = analyzeEvents([entry('lk', 'down_write', 1000, 1), entry('lk', 'up_write', 3000, 2), entry('lk', 'down_write', 5000, 3), entry('lk', 'up_write', 6000, 4)]);
    expect(row(section, ADDR.register, 'rwsem:W')).toMatchObject({ acquisitions: 2, hold: { count: 2, total: 3000 } });
  });

  it('falls back to the event name when the location is an address, per event', () => {
    // `down_write` probes printed with their address as location: the name says the function.
    const { section } = analyzeEvents([entry('down_write', 'ffffffff813024a4', 1000, 1), entry('up_write', 'up_write', 1500, 2), entry('down_write', 'down_write', 2000, 3), entry('up_write', 'ffffffff81302aa0', 2700, 4)]);
    expect(row(section, ADDR.register, 'rwsem:W')).toMatchObject({ acquisitions: 2, hold: { count: 2, total: 1200 } });
  });

  it('a return probe is a lock function return or not by its own location', () => {
    // `ret` on a LUO function, then on down_write_trylock (ret=0: failed, then 1: held from its
    // return at 2100 to the release at 2600).
    const { section } = analyzeEvents([
      entry('try', 'down_write_trylock', 1000, 1),
      exit('ret', 'luo_session_create', 0, 1100, 2),
      exit('ret', 'down_write_trylock', 0, 1200, 3),
      entry('try', 'down_write_trylock', 2000, 4),
      exit('ret', 'down_write_trylock', 1, 2100, 5),
      entry('un', 'up_write', 2600, 6),
    ]);
    expect(row(section, ADDR.register, 'rwsem:W')).toMatchObject({ acquisitions: 1, failed: 1, trylockFailed: 1, hold: { count: 1, total: 500 } });
  });
});
