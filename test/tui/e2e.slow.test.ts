// End to end: the real binary in a real pseudo-terminal (tmux, 80x24) on each real capture, as a
// new user would try it: `luotrace FILES` on a terminal opens the TUI; Enter on the verdict line
// shows the raw module_get line of a pin; Enter twice more opens it in the Events list; every
// screen; resize; q. Each screen's text is compared with the dump committed in samples/tui/
// (LUOTRACE_UPDATE_SAMPLES=1 rewrites the dumps instead; see samples/tui/README.md).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { CLI } from '../cli/run.js';
import { CAPTURES } from './helpers.js';
import { repeatCapture } from '../bench/repeat-real.js';

const SOCKET = `luotrace-e2e-${process.pid}`;
const UPDATE = process.env.LUOTRACE_UPDATE_SAMPLES === '1';
const SAMPLES = join(ROOT, 'samples', 'tui');
/** The machine may be busy (2 shared cores): wait long, never guess. */
const WAIT_MS = 90_000;

// Ink renders nothing until exit when it thinks it runs in CI (is-in-ci); a user's terminal is not CI.
const env: NodeJS.ProcessEnv = {};
for (const [k, v] of Object.entries(process.env)) if (k !== 'CI' && k !== 'CONTINUOUS_INTEGRATION' && !k.startsWith('CI_') && k !== 'NO_COLOR' && k !== 'FORCE_COLOR') env[k] = v;
env.TERM = 'xterm-256color';

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, ...args], { env, encoding: 'utf8' });
}

/** The pane as text, without trailing blanks. */
function capture(name: string): string {
  return tmux('capture-pane', '-p', '-t', name)
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .join('\n')
    .replace(/\n+$/, '\n');
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Wait until the screen shows `what` and has stopped changing (two equal captures 300 ms apart). */
async function settle(name: string, what: string | RegExp): Promise<string> {
  const start = Date.now();
  let last = '';
  for (;;) {
    const now = capture(name);
    // Raw lines still being read show as `… reading` (proofs) or a bare `…` (Events rows).
    const reading = now.includes('… reading') || /[│◆]…$/m.test(now);
    const has = (typeof what === 'string' ? now.includes(what) : what.test(now)) && !reading;
    if (has && now === last) return now;
    if (Date.now() - start > WAIT_MS) throw new Error(`timed out waiting for ${String(what)}; screen:\n${now}`);
    last = has ? now : '';
    await sleep(300);
  }
}

async function keys(name: string, ...ks: string[]): Promise<void> {
  for (const k of ks) {
    tmux('send-keys', '-t', name, k);
    await sleep(150);
  }
}

function start(name: string, files: string[], extraEnv: string[] = [], size: [number, number] = [80, 24]): void {
  const quoted = files.map((f) => `'${f}'`).join(' ');
  const envArgs = extraEnv.flatMap((e) => ['-e', e]);
  tmux('new-session', '-d', '-s', name, '-x', String(size[0]), '-y', String(size[1]), ...envArgs, '-c', ROOT, `node '${CLI}' ${quoted}; echo "luotrace exited: $?"; sleep 600`);
}

/** Poll (without waiting for the screen to settle: while loading it changes four times a second). */
async function poll(name: string, what: (screen: string) => boolean, label: string): Promise<string> {
  const startAt = Date.now();
  for (;;) {
    const now = capture(name);
    if (what(now)) return now;
    if (Date.now() - startAt > WAIT_MS) throw new Error(`timed out waiting for ${label}; screen:\n${now}`);
    await sleep(50);
  }
}

/** SGR sequences that set a foreground color (tmux re-encodes what the program wrote). */
const COLOR_SGR = /\x1b\[(?:[0-9;]*;)?(?:3[0-7]|9[0-7]|38;[0-9;]+)m/;

/** Compare a screen with its committed dump (or write it when updating). */
function dump(capture: string, file: string, screen: string): void {
  const dir = join(SAMPLES, capture);
  const path = join(dir, file);
  if (UPDATE) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, screen);
    return;
  }
  expect(existsSync(path), `${path} is missing: run LUOTRACE_UPDATE_SAMPLES=1 npm test`).toBe(true);
  expect(screen).toBe(readFileSync(path, 'utf8'));
}

beforeAll(() => {
  try {
    execFileSync('tmux', ['-V'], { env });
  } catch {
    throw new Error('tmux is needed for the end-to-end test (apt-get install tmux; .ci/run installs it)');
  }
});
afterAll(() => {
  try {
    tmux('kill-server');
  } catch {
    // already gone
  }
});

const rel = (files: string[]) => files.map((f) => f.slice(ROOT.length));

describe('luotrace in a terminal (tmux 80x24), real captures', () => {
  it('lifecycle: verdict -> raw module_get line of a pin held across kexec in 1 key; every screen; resize; q', async () => {
    const t = 'lifecycle';
    start(t, rel(CAPTURES.lifecycle));
    let s = await settle(t, 'TIMELINE');
    expect(s).toContain('▸ ✔ modules-unpinned-after-finish');
    dump(t, '1-overview.txt', s);

    await keys(t, 'Enter'); // 1 key: the raw module_get line of the first open pin
    s = await settle(t, 'call_site=luo_preserve_file refcnt=3');
    expect(s).toMatch(/▸ luo_demo b0 +252 luo_preserve_file +→ - +lifecycle-s1 +open across kexec/);
    expect(s).toContain('module_get  stage1/ftrace-main.txt.gz:252');
    expect(s).toContain('86.770538: module_get: luo_demo');
    dump(t, '1a-verdict.txt', s);

    await keys(t, 'Enter');
    s = await settle(t, /▶252│.*module_get: luo_demo/);
    expect(s).toContain('state: held across kexec');
    dump(t, '1b-pin-window.txt', s);

    await keys(t, 'Enter');
    s = await settle(t, /▸ +252◆ +luo_ctl-317 .*86\.770538: module_get: luo_demo/);
    dump(t, '1c-events-at-pin.txt', s);

    await keys(t, 'Escape', 'Escape', 'Escape');
    await settle(t, '▸ ✔ modules-unpinned-after-finish');

    const screens: Array<[string, string, string | RegExp]> = [
      ['2', '2-sessions.txt', 'SESSIONS  4'],
      ['3', '3-modules.txt', 'refcnt over time'],
      ['4', '4-locks.txt', '4.53 ms  luo_ctl-342 (lifecycle-s1) waited'],
      ['5', '5-events.txt', /13│ +insmod-315/],
      ['6', '6-quality.txt', 'DATA QUALITY'],
      ['?', '7-help.txt', 'KEYS'],
    ];
    for (const [key, file, what] of screens) {
      await keys(t, key);
      dump(t, file, await settle(t, what));
    }
    await keys(t, 'x', '1');
    await settle(t, 'TIMELINE');

    // Resize: the screens follow the terminal.
    tmux('resize-window', '-t', t, '-x', '110', '-y', '30');
    s = await settle(t, /^ 1 Overview .{90,}3 files$/m);
    expect(s.split('\n').filter((l) => l.length > 80).length).toBeGreaterThan(5);
    tmux('resize-window', '-t', t, '-x', '80', '-y', '24');
    s = await settle(t, /^ 1 Overview .{50,70}3 files$/m);

    await keys(t, 'q');
    s = await settle(t, 'luotrace exited: 0');
    expect(s).not.toContain('VERDICTS'); // the alternate screen is gone
  }, 600_000);

  it('colors on a color terminal, none with NO_COLOR (bold and inverse stay)', async () => {
    start('colors', rel(CAPTURES.abort));
    start('nocolor', rel(CAPTURES.abort), ['NO_COLOR=1']);
    for (const t of ['colors', 'nocolor']) await settle(t, 'TIMELINE');
    const withColors = tmux('capture-pane', '-p', '-e', '-t', 'colors');
    const without = tmux('capture-pane', '-p', '-e', '-t', 'nocolor');
    expect(withColors).toMatch(COLOR_SGR);
    expect(without).not.toMatch(COLOR_SGR);
    expect(without).toMatch(/\x1b\[[0-9;]*7[0-9;]*m/); // the selected row is still shown in inverse
    expect(capture('nocolor')).toBe(capture('colors'));
    for (const t of ['colors', 'nocolor']) await keys(t, 'q');
  }, 300_000);

  it('an input that turns out unusable while loading: the error on screen, then one line on stderr and exit 2', async () => {
    const t = 'unusable';
    start(t, ['package-lock.json']);
    const s = await settle(t, 'press q to quit');
    expect(s).toContain('luotrace: package-lock.json: cannot tell the trace format');
    await keys(t, 'q');
    const after = await settle(t, 'luotrace exited: 2');
    expect(after).toMatch(/^luotrace: package-lock\.json: cannot tell the trace format/m);
  }, 300_000);

  it('abort: the failed preserves lead to the aborted session; a pin window and its raw lines in 2 keys', async () => {
    const t = 'abort';
    start(t, rel(CAPTURES.abort));
    let s = await settle(t, 'TIMELINE');
    // Warnings come first: the failed preserves.
    expect(s).toMatch(/▸ ! phase-errors +preserve of token 0x1ee in session abort-s1/);
    dump(t, '1-overview.txt', s);
    await keys(t, 'Enter');
    s = await settle(t, /▸ phase preserve 0x1ee +-5 EIO +session #0 abort-s1 +line 469/);
    expect(s).toContain('<- luo_preserve_file) ret=-5');
    dump(t, '1a-verdict.txt', s);
    await keys(t, 'Escape', 'j', 'Enter'); // the pins verdict: its first pin and the module_get
    s = await settle(t, 'call_site=luo_preserve_file refcnt=');
    expect(s).toMatch(/▸ luo_demo b0 +256 luo_preserve_file +→ 617 +abort-s1 +put after/);
    dump(t, '1b-verdict-pins.txt', s);
    await keys(t, '2');
    dump(t, '2-sessions.txt', await settle(t, 'SESSIONS  1'));
    await keys(t, '3');
    dump(t, '3-modules.txt', await settle(t, 'refcnt over time'));
    await keys(t, 'q');
    await settle(t, 'luotrace exited: 0');
  }, 600_000);

  it('contention: 542 sessions, 569 pins; the pins held when rmmod was refused, from the verdict line', async () => {
    const t = 'contention';
    start(t, rel(CAPTURES.contention));
    let s = await settle(t, 'TIMELINE');
    expect(s).toContain('open sessions');
    dump(t, '1-overview.txt', s);
    await keys(t, 'Enter');
    s = await settle(t, 'call_site=luo_preserve_file refcnt=');
    expect(s).toContain('569 pin windows · 542 sessions');
    dump(t, '1a-verdict.txt', s);
    // The rmmod verdict is the 7th of 8: G (last), k, Enter.
    await keys(t, 'Escape', 'G', 'k', 'Enter');
    s = await settle(t, 'listed because: held when rmmod luo_demo was refused at line 6696 (refcnt 10: 9');
    expect(s).toContain('65 pin windows');
    expect(s).toMatch(/module_get  stage1\/ftrace-main\.txt\.gz:\d+/);
    dump(t, '1b-verdict-rmmod.txt', s);
    await keys(t, '2');
    dump(t, '2-sessions.txt', await settle(t, 'SESSIONS  542'));
    await keys(t, '3');
    dump(t, '3-modules.txt', await settle(t, 'refcnt over time'));
    await keys(t, '4');
    s = await settle(t, 'LOCKS  24 LUO-related, 50 other in one row');
    expect(s).toMatch(/▸ &private->outgoing\.lock +mutex +7,588 +7,588 +18\.8 s/);
    dump(t, '4-locks.txt', s);
    await keys(t, 'Enter');
    s = await settle(t, 'longest waits and who held the lock');
    expect(s).toContain('wait over time (ms)');
    dump(t, '4a-lock.txt', s);
    await keys(t, '5', 'G');
    s = await settle(t, /▸ 101075│[^\n]*\n(.*\n)*.*101,075\/101,075/);
    dump(t, '5-events-end.txt', s);
    await keys(t, 'q');
    await settle(t, 'luotrace exited: 0');
  }, 600_000);
});

describe('luotrace in a terminal (tmux 100x30), a big input (issue 17)', () => {
  let dir = '';
  let big = '';
  beforeAll(() => {
    // 3 copies of the contention capture with shifted timestamps (test/bench/repeat-real.ts), gzipped: ~33 MB of text.
    dir = mkdtempSync(join(tmpdir(), 'luotrace-e2e-big-'));
    big = join(dir, 'contention.repeated.txt.gz');
    const text = gunzipSync(readFileSync(CAPTURES.contention[0])).toString('latin1');
    const parts: string[] = [];
    repeatCapture(text, 3 * text.length - 1, (x) => parts.push(x));
    writeFileSync(big, gzipSync(Buffer.from(parts.join(''), 'latin1'), { level: 6 }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fills in while reading (progress, events by kind, module references; the Events screen at once), then the report', async () => {
    const t = 'big';
    start(t, [big], [], [100, 30]);
    const loading = (x: string) => /^ 1 Overview .* loading$/m.test(x);
    let s = await poll(t, (x) => loading(x) && x.includes('MODULE REFERENCES SO FAR'), 'module references while loading');
    expect(s).toMatch(/luotrace-e2e-big-.* +[█░]{20} +\d+%/);
    expect(s).toMatch(/EVENTS BY KIND SO FAR\n  kprobe +[\d,]+/);
    expect(s).toMatch(/  luo_demo +[\d,]+ +[\d,]+ +\d+ \([\d,]+\)/);
    // The raw lines need no report: Events while the read goes on.
    await keys(t, '5');
    s = await poll(t, (x) => x.includes('# tracer: nop') || !loading(x), 'the Events screen');
    expect(s).toMatch(/^ 1 Overview .* loading$/m);
    expect(s).toMatch(/file 1\/1 \S*contention\.repeated\.txt\.gz +[\d,]+ lines/);
    expect(s).toMatch(/▸ +1│# tracer: nop/);
    // The report: the tab bar says so, the Events screen counts every line, Overview has the verdicts.
    s = await settle(t, /^ 1 Overview .* 1 file$/m);
    expect(s).toContain('303,201 lines');
    await keys(t, '1');
    s = await settle(t, 'TIMELINE');
    expect(s).toMatch(/refcounts-balanced +refcounts add up: luo_demo \d+ gets/);
    await keys(t, 'q');
    await settle(t, 'luotrace exited: 0');
  }, 600_000);

  it('q while reading: the read stops and the process ends at once, exit 0', async () => {
    const t = 'bigquit';
    start(t, [big], [], [100, 30]);
    await poll(t, (x) => x.includes('Reading 1 file') && /\d+,\d{3} events so far/.test(x), 'the read under way');
    const at = Date.now();
    await keys(t, 'q');
    await poll(t, (x) => x.includes('luotrace exited:'), 'the exit');
    expect(capture(t)).toContain('luotrace exited: 0');
    // The read of ~33 MB takes seconds; quitting does not wait for it.
    expect(Date.now() - at).toBeLessThan(3000);
  }, 300_000);
});
