// SYNTHETIC EDITS of real 7.2.13 captures: a failed live update (a handler's freeze() returns -EIO),
// made while the lab's real `freeze-fail` capture was not ready. Each keeps the real files and the
// kernel's exact line formats and inserts or edits only the lines of the failed kexec, as
// docs/luo-model.md §6 "Freeze failure variant" says the kernel writes them: the luo kprobes and
// return probes, the syscall events of reboot(), and the luo_file_freeze / luo_demo log lines. Every
// edited file starts with a `# synthetic:` (trace) or non-kernel (console) line saying how it was made.
import { readSample } from '../cli/check-fixtures.js';
import { labelSynthetic, parseLine } from '../cli/check-fixtures.js';

const ABORT = 'real/abort/stage1/ftrace-main.txt.gz';
const ABORT_CONSOLE = 'real/abort/console.log.gz';
const LIFECYCLE_CONSOLE = 'real/lifecycle/console.log.gz';

/** The abort capture's one session (abort-s1) and the file set its luo_* probes print. */
export const ABORT_FILE_SET = '0xff110000114cfc58';

/**
 * The abort capture with `kexec -e` run after the preserves and before the close (real README §3.2):
 * freeze() of token 0x102 fails with -EIO, liveupdate_reboot and reboot() return -5, then the real
 * close of the session fd follows (the abort: unpreserve and module_puts, unchanged). The console gets
 * the luo_demo and luo_file_freeze log lines at the same times.
 */
export function abortWithFailedKexec(): { trace: string; console: string; returnLine: number; sysExitLine: number; freezeReturnLine: number; logLine: number } {
  const lines = readSample(ABORT).split('\n');
  // After luo_ctl's last PRESERVE_FD ioctl returns (115.238178), before it closes the session fd.
  const at = lines.findIndex((l) => parseLine(l)?.payload === 'sys_ioctl -> 0x0' && parseLine(l)!.ts === '115.238178') + 1;
  if (at <= 0) throw new Error('the abort capture changed: no last PRESERVE_FD return at 115.238178');
  const k = (ts: string, payload: string) => `           kexec-350     [000] .....   ${ts}: ${payload}`;
  const inserted = [
    k('115.238210', 'sys_reboot(magic1: fffffffffee1dead, magic2: 28121969, cmd: 45584543, arg: 0)'),
    k('115.238300', 'liveupdate_reboot: (liveupdate_reboot+0x4/0x30)'),
    k('115.238340', 'luo_session_serialize: (luo_session_serialize+0x4/0x1e0)'),
    k('115.238400', `luo_file_freeze: (luo_file_freeze+0x4/0x190) file_set=${ABORT_FILE_SET}`),
    k('115.238560', 'luo_file_freeze__return: (luo_session_serialize+0x9b/0x1e0 <- luo_file_freeze) ret=-5'),
    k('115.238600', 'luo_session_serialize__return: (liveupdate_reboot+0x1a/0x30 <- luo_session_serialize) ret=-5'),
    k('115.238640', 'liveupdate_reboot__return: (kernel_kexec+0x90/0xc0 <- liveupdate_reboot) ret=-5'),
    k('115.238700', 'sys_reboot -> 0xfffffffffffffffb'),
  ];
  lines.splice(at, 0, ...inserted);
  const trace = labelSynthetic(lines, `made from samples/${ABORT}: a failed kexec -e (freeze() of token 0x102 returns -EIO) inserted before the close of the session fd`);
  // +2: 1-based line numbers, and the `# synthetic:` line first.
  const lineOf = (i: number) => at + i + 2;

  const con = readSample(ABORT_CONSOLE).split('\n');
  const before = con.findIndex((l) => l.startsWith('[  115.319759] luo_demo: unpreserve id=259'));
  if (before < 0) throw new Error('the abort console changed: no unpreserve id=259 line');
  con.splice(
    before,
    0,
    '[  115.238450] luo_demo: freeze id=257',
    '[  115.238480] luo_demo: freeze id=258: failing on purpose (fail_freeze)',
    '[  115.238500] luo: Freeze failed for token[0x102] handler[luo-demo-v1] err[-5]',
    '[  115.238520] luo_demo: unfreeze id=257',
  );
  con.unshift(`synthetic: made from samples/${ABORT_CONSOLE}: the log lines of a failed freeze of token 0x102 inserted at 115.2385`);
  // +2: the label line, and 1-based numbers; the Freeze failed line is the third inserted.
  return { trace, console: con.join('\n'), returnLine: lineOf(6), sysExitLine: lineOf(7), freezeReturnLine: lineOf(4), logLine: before + 2 + 2 };
}

/**
 * The lifecycle console log (its freeze phase is real tp_printk output of `kexec -e`, real README §3.1
 * step 5) edited into a failed freeze: session lifecycle-s1 freezes, freeze() of token 0x202 in
 * lifecycle-s2 fails with -EIO, s1 is rolled back (luo_file_unfreeze), serialize and liveupdate_reboot
 * return -5; the new kernel's part of the log is cut (it never booted). Use with the real stage 1 trace.
 */
export function lifecycleConsoleWithFailedFreeze(): { console: string; returnLine: number; logLine: number; unfreezeLine: number } {
  const con = readSample(LIFECYCLE_CONSOLE).split('\n');
  const start = con.findIndex((l) => l.includes('] liveupdate_reboot: (liveupdate_reboot+0x4/0x30)'));
  const end = con.findIndex((l) => l.includes('] kexec_core: Starting new kernel'));
  if (start < 0 || end < start) throw new Error('the lifecycle console changed: no freeze phase');
  const edited = [
    '[  120.478501] liveupdate_reboot: (liveupdate_reboot+0x4/0x30)',
    '[  120.478818] luo_session_serialize: (luo_session_serialize+0x4/0x1e0)',
    '[  120.479080] luo_file_freeze: (luo_file_freeze+0x4/0x190) file_set=0xff110000229e7a58',
    '[  120.479369] luo_demo: freeze id=257',
    '[  120.479502] luo_demo: freeze id=258',
    '[  120.479599] luo_demo: freeze id=259',
    '[  120.479803] luo_file_freeze__return: (luo_session_serialize+0x9b/0x1e0 <- luo_file_freeze) ret=0',
    '[  120.480054] luo_file_freeze: (luo_file_freeze+0x4/0x190) file_set=0xff110000229e7c58',
    '[  120.480244] luo_demo: freeze id=513',
    '[  120.480339] luo_demo: freeze id=514: failing on purpose (fail_freeze)',
    '[  120.480350] luo: Freeze failed for token[0x202] handler[luo-demo-v1] err[-EIO]',
    '[  120.480360] luo_demo: unfreeze id=513',
    '[  120.480495] luo_file_freeze__return: (luo_session_serialize+0x9b/0x1e0 <- luo_file_freeze) ret=-5',
    '[  120.480500] luo_file_unfreeze: (luo_file_unfreeze+0x4/0x60) file_set=0xff110000229e7a58',
    '[  120.480510] luo_demo: unfreeze id=259',
    '[  120.480520] luo_demo: unfreeze id=258',
    '[  120.480530] luo_demo: unfreeze id=257',
    '[  120.480540] luo_file_unfreeze__return: (luo_session_serialize+0x1a0/0x1e0 <- luo_file_unfreeze)',
    '[  120.480682] luo_session_serialize__return: (liveupdate_reboot+0x1a/0x30 <- luo_session_serialize) ret=-5',
    '[  120.481491] liveupdate_reboot__return: (kernel_kexec+0x90/0xc0 <- liveupdate_reboot) ret=-5',
  ].map((l) => `${l}\r`);
  const out = [`synthetic: made from samples/${LIFECYCLE_CONSOLE}: the freeze phase edited into a failed freeze of token 0x202 (err printed as CONFIG_SYMBOLIC_ERRNAME does), the new kernel cut\r`, ...con.slice(0, start), ...edited];
  const lineOf = (i: number) => 1 + start + i + 1;
  return { console: out.join('\n') + '\n', returnLine: lineOf(19), logLine: lineOf(10), unfreezeLine: lineOf(13) };
}
