// Test harness for the lock analyses: ftrace lines in the exact layout the real 7.2.13 captures
// print (samples/real/*/stage1/ftrace-main.txt), parsed by the real parser and fed through the same
// pipeline as `luotrace analyze` (reorder buffer -> LUO call tracker -> lock reducer).
import type { TraceEvent } from '../../parsers/event.js';
import { SymbolTable } from '../../parsers/kallsyms.js';
import { type LockOptions, type LocksSection, createLockAnalysis } from '../../analyses/locks/locks.js';
import type { HoldInterval, WaitInterval } from '../../analyses/locks/lock-intervals.js';
import { LuoCallTracker } from '../../analyses/stream/luo-calls.js';
import { ReorderBuffer } from '../../analyses/stream/order.js';
import { parseText } from '../helpers.js';

/** One ftrace line: `           TASK-PID     [CPU] FLAGS   SECONDS: payload` (real README §2 instance `main`). */
export function ftraceLine(comm: string, pid: number, cpu: number, seconds: number, payload: string, flags = '.....'): string {
  const task = `${comm}-${pid}`.padStart(16);
  const ts = seconds.toFixed(6).padStart(12);
  return `${task}     [${String(cpu).padStart(3, '0')}] ${flags} ${ts}: ${payload}`;
}

/** Payloads as the real kernel printed them (real README §2, O2, O7, O10). */
export const P = {
  downRead: (sem: string) => `down_read: (down_read+0x4/0x140) sem=${sem}`,
  upRead: (sem: string) => `up_read: (up_read+0x4/0xd0) sem=${sem}`,
  downWrite: (sem: string) => `down_write: (down_write+0x4/0xe0) sem=${sem}`,
  upWrite: (sem: string) => `up_write: (up_write+0x4/0xc0) sem=${sem}`,
  acquire: (hash: string, name: string, read = false, trylock = false) => `lock_acquire: ${hash} ${trylock ? 'try ' : ''}${read ? 'read ' : ''}${name}`,
  release: (hash: string, name: string) => `lock_release: ${hash} ${name}`,
  begin: (ptr: string, flags: string) => `contention_begin: ${ptr} (flags=${flags})`,
  end: (ptr: string, ret = 0) => `contention_end: ${ptr} (ret=${ret})`,
  enter: (func: string, size: string, args = '') => `${func}: (${func}+0x4/${size})${args ? ` ${args}` : ''}`,
  exit: (func: string, ret?: number) => `${func}__return: ([unknown/kretprobe'd] <- ${func})${ret === undefined ? '' : ` ret=${ret}`}`,
};

export const ADDR = {
  register: '0xffffffff81ed2360',
  incoming: '0xffffffff81ed2558',
  outgoing: '0xffffffff81ed2650',
  serialize: '0xffffffff81ed2740',
};

export interface Analyzed {
  section: LocksSection;
  waits: WaitInterval[];
  holds: HoldInterval[];
  events: TraceEvent[];
}

/** Run the lock analysis over events, as analyses/pipeline.ts does. */
export function analyzeEvents(events: TraceEvent[], opts: Omit<LockOptions, 'calls' | 'onInterval'> = {}): Analyzed {
  const calls = new LuoCallTracker();
  const waits: WaitInterval[] = [];
  const holds: HoldInterval[] = [];
  const reducer = createLockAnalysis({
    ...opts,
    calls,
    onInterval: (iv) => {
      if ('wait' in iv) waits.push(iv.wait);
      else holds.push(iv.hold);
    },
  });
  const ordered = new ReorderBuffer((ev) => {
    calls.push(ev);
    reducer.push(ev);
  });
  for (const ev of events) ordered.push(ev);
  ordered.flush();
  const files = [...new Set(events.map((e) => e.src))];
  const section = reducer.finish({
    sources: files.map((src) => ({
      file: `src${src}`,
      format: 'ftrace',
      detectedBy: 'test',
      compressed: false,
      lines: 0,
      events: 0,
      timeUnit: 'ns',
      timeBase: '0',
      firstTime: null,
      lastTime: null,
      missingFinalNewline: false,
      tracer: null,
    })),
    quality: undefined as never,
  });
  return { section, waits, holds, events };
}

export async function analyzeLines(lines: string[], opts: Omit<LockOptions, 'calls' | 'onInterval'> = {}): Promise<Analyzed> {
  const r = await parseText(`${lines.join('\n')}\n`, 'ftrace');
  return analyzeEvents(r.events, opts);
}

export function symbolsFromText(text: string): SymbolTable {
  const t = new SymbolTable();
  t.addText(text);
  return t;
}

export const row = (s: LocksSection, name: string, type: string) => s.locks.find((l) => (l.name === name || l.address === name) && l.type === type);

/**
 * Synthetic, in the real line format: the chain of issue 14 case 12, a preserve (luo_ctl[320],
 * down_read) waits 48 ms for luo_register_rwlock while insmod[317] registers a handler (down_write).
 */
export const READER_BLOCKED_BY_WRITER: string[] = [
  ftraceLine('insmod', 317, 0, 10.0, P.enter('liveupdate_register_file_handler', '0x130', 'handler="luo-demo-v1"')),
  ftraceLine('insmod', 317, 0, 10.000100, P.downWrite(ADDR.register)),
  ftraceLine('insmod', 317, 0, 10.000105, P.acquire('0000000087631697', 'luo_register_rwlock')),
  ftraceLine('luo_ctl', 320, 1, 10.001, P.enter('luo_session_create', '0x130', 'name="session-A"')),
  ftraceLine('luo_ctl', 320, 1, 10.0015, P.exit('luo_session_create', 0)),
  ftraceLine('luo_ctl', 320, 1, 10.002, P.enter('luo_preserve_file', '0x2d0', 'file_set=0xff1100002093b858 token=0x1 fd=5')),
  ftraceLine('luo_ctl', 320, 1, 10.002100, P.downRead(ADDR.register)),
  ftraceLine('luo_ctl', 320, 1, 10.002105, P.acquire('0000000087631697', 'luo_register_rwlock', true)),
  ftraceLine('luo_ctl', 320, 1, 10.002200, P.begin('00000000a1b2c3d4', 'READ'), 'd..2.'),
  ftraceLine('insmod', 317, 0, 10.050, P.upWrite(ADDR.register)),
  ftraceLine('insmod', 317, 0, 10.050005, P.release('0000000087631697', 'luo_register_rwlock')),
  ftraceLine('insmod', 317, 0, 10.051, P.exit('liveupdate_register_file_handler', 0)),
  ftraceLine('luo_ctl', 320, 1, 10.0502, P.end('00000000a1b2c3d4'), '...1.'),
  ftraceLine('luo_ctl', 320, 1, 10.0503, P.upRead(ADDR.register)),
  ftraceLine('luo_ctl', 320, 1, 10.050305, P.release('0000000087631697', 'luo_register_rwlock')),
  ftraceLine('luo_ctl', 320, 1, 10.06, P.exit('luo_preserve_file', 0)),
];
