// parsers/ftrace-bytes.ts, the fast path of ftrace text (issue 17): every line it accepts must come
// out exactly as the string path (ftrace-line.ts, ftrace.ts, payloads.ts) makes it, and every line it
// declines must still reach the string path. Each input is read twice, once with the byte path
// offered and cut into chunks at arbitrary places, once with the string path alone; events, the
// data-quality ledger and the clock must be equal (ftrace-bytes-both-ways.ts).
import { describe, expect, it } from 'vitest';
import { newByteTokens, tokenizeBytes } from '../../parsers/ftrace-bytes.js';
import { ByteInterner } from '../../parsers/intern.js';
import { expectSameBothWays, sameBothWays } from './ftrace-bytes-both-ways.js';

describe('ftrace fast path: the same events as the string path', () => {
  const captures = [
    // real/contention-no-writer/stage1/ftrace-main.txt.gz (100 000 lines): ftrace-bytes.slow.test.ts
    'real/contention-no-writer/stage1/trace-cmd-report.trimmed.txt.gz',
    'real/contention-no-writer/stage1/ftrace-tgid.trimmed.txt.gz',
    'real/lifecycle/stage1/ftrace-main.txt.gz',
    'real/lifecycle/stage1/ftrace-tgid.txt.gz',
    'real/lifecycle/stage1/ftrace-mono.txt.gz',
    'real/lifecycle/stage1/ftrace-noirq.txt.gz',
    'real/lifecycle/stage2/ftrace-trace_pipe.txt.gz',
    'real/abort/stage1/trace-cmd-report.txt.gz',
    'synthetic/synthetic-stress-4cpu.txt.gz',
    'synthetic/synthetic-lifecycle.trace-cmd.txt.gz',
  ];
  for (const rel of captures) it(rel, () => expectSameBothWays(rel));

  it('sends the unusual shapes to the string path (synthetic lines)', () => {
    const lines = [
      '# tracer: nop',
      '          insmod-317     [001] ...1.    74.824739: contention_begin: 00000000439e4ab9 (flags=SPIN|MUTEX)',
      '          insmod-317     [001] ...1.    74.824740: contention_begin: 00000000439e4ab8 (flags=SPIN|MUTEX)',
      '          insmod-317     [001] ...1.    74.824741: contention_begin: 00000000439e4ab9 (flags=SPIN|MUTEX)',
      '          insmod-317     [001] ...1.    74.828788: contention_end: 00000000439e4ab9 (ret=0)',
      '   kworker/[1]-12  [000] d..2.  75.000001: lock_acquire: 0000000087631697 read luo_register_rwlock', // `[` in the comm
      '          insmod-317  (    317) [001] ..... 75.000002: module_get: luo_demo call_site=x refcnt=2', // tgid
      '          insmod-317  (-------) [001] ..... 75.000003: module_put: luo_demo call_site=x refcnt=1',
      '          insmod-317  (  317) [001] ..... 75.000003: module_put: luo_demo call_site=x refcnt=1', // older (%5d)
      '          insmod-317  (-----) [001] ..... 75.000003: module_put: luo_demo call_site=x refcnt=1',
      '          insmod-317  ( 31 7) [001] ..... 75.000003: module_put: luo_demo call_site=x refcnt=1', // not a tgid
      '          insmod-317  () [001] ..... 75.000003: module_put: luo_demo call_site=x refcnt=1',
      '          insmod-317  (  -5) [001] ..... 75.000003: module_put: luo_demo call_site=x refcnt=1',
      '          insmod-317  (--3--) [001] ..... 75.000003: module_put: luo_demo call_site=x refcnt=1',
      '     (sd-pam)-317  (    317) [001] ..... 75.000003: module_put: luo_demo call_site=x refcnt=1', // parentheses in the comm
      '(    317) [001] ..... 75.000003: module_put: luo_demo call_site=x refcnt=1', // no comm-pid
      '          insmod-317     [001] .....316.196720: tracing_mark_write: glued flags',
      '          insmod-317     [001] ..... 123456789012: lock_release: 0000000087631697 luo_register_rwlock', // integer clock
      'trace.dat:          insmod-317     [001] 75.000004: lock_release: 0000000087631697 luo_register_rwlock',
      // trace-cmd report -i a.dat -i b.dat: the file prefix is cut on both paths, or left to the string path
      'b.dat: insmod-317     [001] 75.000004: lock_release: 0000000087631697 luo_register_rwlock',
      'host-a/trace.dat:          insmod-317     [001] 75.000004: lock_release: 0000000087631697 luo_register_rwlock',
      'a:b.dat:        insmod-317     [001] 75.000004: lock_release: 0000000087631697 luo_register_rwlock',
      'x: insmod-317     [001] 75.000004: lock_release: 0000000087631697 luo_register_rwlock', // short: no prefix
      'trace.dat :     insmod-317     [001] 75.000004: lock_release: 0000000087631697 luo_register_rwlock', // not a prefix
      'trace.dat:\t     insmod-317     [001] 75.000004: lock_release: 0000000087631697 luo_register_rwlock', // tab
      'trace.dat:   a comm of far more than sixteen-317 [001] 75.000004: lock_release: 0000000087631697 luo_register_rwlock',
      'trace.dat:                 -317 [001] 75.000004: lock_release: 0000000087631697 luo_register_rwlock', // empty comm
      '          insmod-317     [001] ..... 75.000005: ',
      '          insmod-317     [001] ..... 75.000006: sys_ioctl(fd: 3, cmd: 0xba00, arg: 0x7ffc232315d0)',
      '          insmod-317     [001] ..... 75.000007: sys_ioctl -> 0x0',
      '          insmod-317     [001] ..... 75.000008: tracing_mark_write: a marker',
      'that continues here',
      '          insmod-317     [001] ..... 75.000009: <stack trace>',
      ' => luo_preserve_file+0x4/0x2d0',
      '          insmod-317     [001] ..... 75.000010: luo_preserve_file: (luo_preserve_file+0x4/0x2d0) file_set=0xff1 token=0x1 fd=5',
      '          insmod-317     [001] ..... 75.000011: luo_preserve_file__return: ([unknown/kretprobe\'d] <- luo_preserve_file) ret=0',
      '          insmod-317     [001] ..... 75.000012: module_put: luo_demo call_site=x refcnt=99999999999999999999',
      '          insmod-317     [001] ..... 75.000013: contention_end: 00000000439e4ab9 (ret=zz)',
      'CPU:1 [LOST 12 EVENTS]',
      '"          insmod-317     [001] ..... 75.000014: lock_release: 0000000087631697 luo_register_rwlock"',
      '          insmod-317     [001] ..... 75.000015: func_a <-func_b',
      '          insmod-317     [001] ..... 75.000016: lock_release: 0000000087631697 luo_register_rwlock\r',
      '          insmod-317     [001] ..... 9000000.000017: lock_release: 0000000087631697 luo_register_rwlock', // past the clock's safe range
      '   insmod-üü-317     [001] ..... 75.000018: lock_release: 0000000087631697 luo_register_rwlock', // not ASCII
      '          insmod-317     [001] ..... 75.000019: lock_release: 0000000087631697 luo_register_rwlock',
    ];
    const text = Buffer.from(`${lines.join('\n')}\n`);
    for (let seed = 1; seed <= 5; seed++) sameBothWays(text, seed);
    // A last line without a newline goes to the string path (it may be cut).
    sameBothWays(Buffer.from(`${lines.slice(0, 3).join('\n')}\n${lines[4]}`));
  });

  it('cuts a line that repeats the last prefix as the string path does, or declines it (synthetic lines)', () => {
    // Each line starts with the bytes of the line before up to its timestamp (the prefix the fast
    // path reuses), then something the timestamp reader must check again.
    const lock = 'lock_release: 0000000087631697 luo_register_rwlock';
    const lines = [
      '# tracer: nop',
      `          insmod-317     [001] ...1.    75.000020: ${lock}`,
      `          insmod-317     [001] ...1.    75.000021: ${lock}`,
      `          insmod-317     [001] ...1.     75.000022: ${lock}`, // one more space: a new prefix
      `          insmod-317     [001] ...1.     75.000022 : ${lock}`, // space before the colon
      `          insmod-317     [001] ...1.     75: ${lock}`, // no fraction
      `          insmod-317     [001] ...1.     75.000023:`, // nothing after the colon
      `          insmod-317     [001] ...1.     75.000024: ${lock}`,
      `          insmod-317     [001] ...1.     1234567890123456.000025: ${lock}`, // 16 digits of seconds
      `          insmod-317     [001] ...1.     75.0000261234: ${lock}`, // past ns
      // No flag column: a token before the timestamp is a flag column on the string path.
      `          insmod-317     [001] 75.000027: ${lock}`,
      `          insmod-317     [001] 75.0028 75.000028: ${lock}`,
      `          insmod-317     [001] 75.000029: ${lock}`,
      `          insmod-317     [001] 7x.000030: ${lock}`,
      `          insmod-317     [002] 75.000031: ${lock}`, // the cpu differs after equal first words
      `          insmod-318     [002] 75.000032: ${lock}`, // the pid
      `          insmod-31     [002] 75.000033: ${lock}`,
      // A prefix longer than the fast path keeps (64 bytes), twice.
      `a-trace-cmd-input-file-with-a-long-name.dat:          insmod-317     [001] 75.000034: ${lock}`,
      `a-trace-cmd-input-file-with-a-long-name.dat:          insmod-317     [001] 75.000035: ${lock}`,
      `          insmod-317  (    317) [001] ..... 75.000036: ${lock}`,
      `          insmod-317  (    317) [001] ..... 75.000037: ${lock}`,
      `          insmod-317  (-------) [001] ..... 75.000038: ${lock}`,
      `          insmod-317  (-------) [001] ..... 75.000039: ${lock}`,
    ];
    const text = Buffer.from(`${lines.join('\n')}\n`);
    for (let seed = 1; seed <= 5; seed++) sameBothWays(text, seed);
    const r = sameBothWays(text);
    // Declined: the space before the colon, no fraction, nothing after the colon, 16 digits of
    // seconds, `7x` (as before the prefix was reused).
    expect(r.taken).toBe(lines.length - 1 - 5);
  });

  it('takes repeated syscall texts from the memo, never a text whose event depends on the line (synthetic lines)', () => {
    const lines = ['# tracer: nop'];
    for (let i = 0; i < 3; i++) {
      const t = `75.00004${i}`;
      lines.push(`          luo_ctl-321     [002] ..... ${t}: sys_ioctl(fd: 3, cmd: 0xba00, arg: 0x7ffc232315d0)`);
      lines.push(`          luo_ctl-321     [002] ..... ${t}: sys_ioctl -> 0x0`);
      lines.push(`          luo_ctl-321     [002] ..... ${t}: sys_ioctl -> 0xfffffffffffffff2`);
      lines.push(`            trace-cmd-${400 + i}   [001] ${t}: sys_enter_ioctl:      fd: 0x00000003, cmd: 0x0000ba00, arg: 0x7ffc232315d0`);
      lines.push(`            trace-cmd-${400 + i}   [001] ${t}: sys_exit_ioctl:       0x0`);
      // The wakeup tracers' switch record names the line's task as the previous one (payloads.ts
      // decodeCtxWake): the same text from another task is another event.
      lines.push(`          task${i}-${10 + i}     [003] d..3. ${t}:      0:120:R ==> [003]  5882: 94:R sleep`);
    }
    const r = sameBothWays(Buffer.from(`${lines.join('\n')}\n`));
    expect(r.taken).toBe(lines.length - 1);
  });

  it('keeps lines with different text apart when the memo of decoded texts starts over (synthetic)', () => {
    // More distinct lock pointers than the memo holds: each event keeps its own pointer.
    const lines = ['# tracer: nop'];
    for (let i = 0; i < 40_000; i++) {
      const ptr = ((i * 2654435761) >>> 0).toString(16).padStart(16, '0');
      lines.push(`          insmod-317     [001] ...1.    74.${String(i).padStart(6, '0')}: contention_begin: ${ptr} (flags=SPIN)`);
      if (i % 3 === 0) lines.push(`          insmod-317     [001] ...1.    74.${String(i).padStart(6, '0')}: lock_acquire: 0000000087631697 read luo_register_rwlock`);
    }
    const r = sameBothWays(Buffer.from(`${lines.join('\n')}\n`));
    expect(r.events).toBe(40_000 + 13_334);
  });
});

describe('tokenizeBytes: trace-cmd report of several inputs', () => {
  // `trace-cmd report -i a.dat -i b.dat` prefixes every record with `"%*s: "` and the input's name
  // (tracecmd/trace-read.c print_handle_file): those lines stay on the byte path, comm without it.
  const cut = (line: string) => {
    const t = newByteTokens();
    const buf = Buffer.from(line);
    return tokenizeBytes(buf, 0, buf.length, t) ? t.comm : null;
  };
  it('reads the comm after the file name (synthetic lines in the report layout)', () => {
    expect(cut('trace.dat:          insmod-317     [001] 75.000004: lock_release: 0000000087631697 x')).toBe('insmod');
    expect(cut('b.dat: kworker/u8:3-317 [001] 75.000004: lock_release: 0000000087631697 x')).toBe('kworker/u8:3');
  });
  it('leaves what is not that prefix to the string path', () => {
    expect(cut('trace.dat :     insmod-317     [001] 75.000004: lock_release: 0000000087631697 x')).toBeNull();
    expect(cut('trace.dat:   a comm of far more than sixteen-317 [001] 75.000004: lock_release: 0000000087631697 x')).toBeNull();
  });
});

describe('ByteInterner', () => {
  it('always gives the latin1 text of the bytes, across collisions and a start-over (synthetic keys)', () => {
    const interner = new ByteInterner();
    const keys: Buffer[] = [];
    for (let i = 0; i < 70_000; i++) keys.push(Buffer.from(`xx${((i * 2654435761) >>> 0).toString(16)}-${i % 7}yy`));
    const wrong: string[] = [];
    for (let round = 0; round < 2; round++) {
      for (const k of keys) if (interner.get(k, 2, k.length - 2) !== k.toString('latin1', 2, k.length - 2)) wrong.push(k.toString());
    }
    expect(wrong).toEqual([]);
    const long = Buffer.from('a'.repeat(100));
    expect(interner.get(long, 0, 100)).toBe('a'.repeat(100));
    expect(interner.get(long, 5, 5)).toBe('');
  });
});
