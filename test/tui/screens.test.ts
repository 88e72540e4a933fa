// The TUI on the real lifecycle capture (stage 1 + console + stage 2), rendered with
// ink-testing-library at 80x24: every screen, and the main key paths from a verdict down to the
// raw lines that prove it.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RawLineFile } from '../../cli/raw-lines.js';
import type { TuiModel } from '../../cli/tui/model.js';
import { CAPTURES, flat, KEY, loaded, type Screen, screen } from './helpers.js';

let model: TuiModel;
let s: Screen;
beforeAll(async () => {
  model = await loaded(CAPTURES.lifecycle);
});
afterEach(() => s?.quit());

const stage1 = CAPTURES.lifecycle[0];

function lines(frame: string): string[] {
  return frame.split('\n');
}

describe('TUI screens (lifecycle capture, 80x24)', () => {
  it('Overview: verdicts first, then a timeline of sessions and phases across both boots', async () => {
    s = screen(model);
    const f = await s.waitFor('TIMELINE');
    expect(lines(f)).toHaveLength(23);
    for (const l of lines(f)) expect(l.length).toBeLessThanOrEqual(80);
    for (const v of model.report!.verdicts) expect(f).toContain(v.id);
    expect(f).toContain('▸ ✔ modules-unpinned-after-finish');
    expect(f).toMatch(/boot 0 outgoing +║ boot 1 incoming/);
    // Both sessions continue across kexec: one row each, preserve (p) and freeze (z) in boot 0,
    // deserialize (d), retrieve (r) and finish (f) in boot 1, and the kexec (K) itself.
    expect(f).toMatch(/lifecycle-s1 +p─+z +║ d.*r.*f/);
    expect(f).toMatch(/lifecycle-s2 +p─+z +║ d.*r.*f/);
    expect(f).toMatch(/kexec +K/);
    expect(f).toContain('Overview');
  });

  it('one Enter on the verdict line shows the raw module_get line of a pin held across kexec', async () => {
    s = screen(model);
    await s.waitFor('VERDICTS');
    await s.press(KEY.enter);
    const f = await s.waitFor('module_get: luo_demo call_site=luo_preserve_file');
    expect(f).toContain('✔ modules-unpinned-after-finish  info');
    expect(f).toMatch(/▸ luo_demo b0 +252 luo_preserve_file +→ - +lifecycle-s1 +open across kexec/);
    expect(f).toContain('module_get  stage1/ftrace-main.txt.gz:252');
    // The text shown is the file's own line 252.
    const raw = (await new RawLineFile(stage1).fetch([{ from: 252, to: 252 }])).get(252)!;
    expect(raw).toContain('module_get: luo_demo call_site=luo_preserve_file refcnt=3');
    const rows = lines(f);
    const at = rows.findIndex((l) => l.startsWith('module_get  stage1/ftrace-main.txt.gz:252'));
    const shown = rows.slice(at + 1, at + 3).map((l) => l.slice(2)).join(' ');
    expect(shown).toBe(raw);
  });

  it('Enter, Enter, Enter: verdict -> pin window -> the module_get line in Events; Esc walks back', async () => {
    s = screen(model);
    await s.waitFor('VERDICTS');
    await s.press(KEY.enter);
    await s.waitFor('what it is about');
    await s.press(KEY.enter);
    let f = await s.waitFor('pin window of luo_demo (boot 0)');
    expect(f).toContain('released  never, in this trace');
    expect(f).toContain('state: held across kexec');
    await s.waitFor('▶252│');
    await s.press(KEY.enter);
    f = await s.waitFor(/252◆ +luo_ctl-317/);
    expect(f).toContain('file 1/3 stage1/ftrace-main.txt.gz  709 lines');
    expect(f).toMatch(/▸ +252◆/);
    expect(f).toContain('◆ module_get opening pin window luo_demo luo_preserve_file');
    expect(f).toContain('pin luo_demo@b0:252 › stage1/ftrace-main.txt.gz:252');
    await s.press(KEY.esc);
    await s.waitFor('pin window of luo_demo');
    await s.press(KEY.esc);
    await s.waitFor('what it is about');
    await s.press(KEY.esc);
    await s.waitFor('TIMELINE');
  });

  it('the rmmod verdict lists the references held when rmmod was refused: exactly refcnt - 1', async () => {
    s = screen(model);
    await s.waitFor('VERDICTS');
    await s.press('/', ...'rmmod', KEY.enter);
    await s.waitFor('/rmmod');
    await s.press(KEY.enter);
    const f = await s.waitFor('listed because: held when rmmod luo_demo was refused at line 670 (refcnt 14: 13 references)');
    expect(f).toContain('13 pin windows');
  });

  it('Sessions: table, sort with s, filter with /, Enter opens the session; then module -> pin -> raw lines', async () => {
    s = screen(model);
    await s.press('2');
    let f = await s.waitFor('SESSIONS  4 · sorted by id');
    expect(f).toMatch(/▸ +#0 lifecycle-s1 +out +b0 +3\/0\/3/);
    expect(f).toMatch(/#3 lifecycle-s2 +in +b1 +3\/3\/0/);
    await s.press('s');
    f = await s.waitFor('sorted by name');
    expect(f.indexOf('#2 lifecycle-s1')).toBeLessThan(f.indexOf('#1 lifecycle-s2'));
    await s.press('s', 's', 's', 's');
    await s.waitFor('sorted by id');
    await s.press('/', ...'incoming');
    f = await s.waitFor('/incoming');
    expect(f).toContain('#2 lifecycle-s1');
    expect(f).not.toContain('#0 lifecycle-s1');
    await s.press(KEY.enter, KEY.esc);
    f = await s.waitFor('#0 lifecycle-s1');
    await s.press(KEY.enter);
    f = await s.waitFor('file_set 0xff110000229e7a58');
    expect(f).toMatch(/phase preserve +86\.766462/);
    expect(f).toContain('continues as #2 lifecycle-s1');
    // phases (6), then the module row
    await s.press('j', 'j', 'j', 'j', 'j', 'j');
    f = await s.waitFor('▸ module luo_demo (boot 0)');
    await s.press(KEY.enter);
    f = await s.waitFor('refcnt over time');
    expect(f).toContain('pin windows  13 · sorted by open first');
    await s.press(KEY.enter);
    await s.waitFor('pin window of luo_demo (boot 0)');
    await s.press(KEY.enter);
    await s.waitFor(/▸ +252◆/);
  });

  it('Modules: refcount over time (asciichart) and pin windows as bars, open ones reaching the end', async () => {
    s = screen(model);
    await s.press('3');
    const f = await s.waitFor('refcnt over time');
    expect(f).toMatch(/▸ luo_demo +boot 0 +refcnt 1→14 +max 14/);
    expect(f).toMatch(/ 14 ┤/);
    expect(f).toMatch(/ {2}1 ┼─+╯/);
    expect(f).toMatch(/252 luo_preserve_file +lifecycle-s1 +│ *█+▶│ kexec/);
    await s.press('j');
    const g = await s.waitFor('▸ luo_demo         boot 1');
    expect(g).toMatch(/220 luo_file_deserialize +lifecycle-s1 +│ *█+ *│ 983 ms/);
  });

  it('Locks: LUO-related locks first, the others in one row that lists them; a wait and its raw lines', async () => {
    s = screen(model);
    await s.press('4');
    let f = await s.waitFor(/LOCKS {2}15 LUO-related, 65 other in one row · sorted by wait total/);
    expect(f).toMatch(/▸ &session->mutex +mutex +25 +25 +14\.2 ms/);
    expect(f).not.toContain('00000000f7c18e79');
    // rmmod's 94.8 ms wait after liveupdate_unregister_file_handler is not inside a LUO call: behind the summary row
    await s.press('G');
    f = await s.waitFor('▸ 65 other locks · 254 contended · wait 269 ms, max 94.8 ms · Enter: list');
    await s.press(KEY.enter);
    f = await s.waitFor(/LOCKS {2}15 LUO-related, 65 other · sorted by wait total/);
    await s.press('/', ...'f7c18e79', KEY.enter);
    f = await s.waitFor(/▸ 00000000f7c18e79 +rwsem:W +1 +1 +94\.8 ms +94\.8 ms/);
    expect(f).toContain('94.8 ms  rmmod-344 waited as writer; owner not seen');
    await s.press(KEY.enter);
    f = await s.waitFor('longest waits and who held the lock');
    expect(f).toContain('hold total -');
    expect(f).toContain('1 of 1 timed waits · Enter: its raw lines');
    expect(f).toContain('Locks › all locks › 00000000f7c18e79');
    await s.press(KEY.enter);
    f = await s.waitFor(/▸ +940│ +rmmod-344 .*116\.238653: contention_end/);
    expect(f).toContain('file 3/3 stage2/ftrace-main.txt.gz');
    expect(flat(f)).toContain('116.238653: contention_end: 00000000f7c18e79 (ret=0)');
    expect(f).toMatch(/939│ +rmmod-344 .*116\.143867: contention_begin/);
  });

  it('Events: virtual list of raw lines, jump with :, other file with ], search with /', async () => {
    s = screen(model);
    await s.press('5');
    let f = await s.waitFor('# tracer: nop');
    expect(f).toContain('file 1/3 stage1/ftrace-main.txt.gz  709 lines');
    // Typed fast: the keys arrive as one chunk.
    await s.press(`:670${KEY.enter}`);
    f = await s.waitFor(/▸ +670◆/);
    expect(f).toContain('◆ evidence of verdict rmmod');
    await s.press(KEY.enter);
    await s.waitFor('rmmod luo_demo refused with -11 EAGAIN');
    await s.press(KEY.esc);
    await s.waitFor(/▸ +670◆/);
    await s.press('G');
    await s.waitFor('709/709');
    await s.press(']');
    f = await s.waitFor('file 2/3 lifecycle/console.log.gz  725 lines');
    await s.press('[', '/', ...'module_get: luo', KEY.enter);
    f = await s.waitFor('/module_get: luo: 13 matches');
    await s.press('j', KEY.enter);
    f = await s.waitFor('◆ module_get opening pin window luo_demo luo_preserve_file');
    expect(f).toMatch(/▸ +252◆/);
  });

  it('Data quality: every line accounted for, Enter shows the first skipped line', async () => {
    s = screen(model);
    await s.press('6');
    let f = await s.waitFor('DATA QUALITY');
    expect(f).toContain('2,428 lines: 2,290 events, 29 known non-event lines, 109 skipped');
    expect(f).toMatch(/skipped +console-text +109 first at lifecycle\/console\.log\.gz:260/);
    await s.press('j', 'j', 'j');
    f = await s.waitFor('first such line  lifecycle/console.log.gz:260');
    await s.press(KEY.enter);
    await s.waitFor(/▸ +260│/);
  });

  it('Tab cycles the screens, ? shows the help, q quits', async () => {
    s = screen(model);
    await s.waitFor('VERDICTS');
    await s.press(KEY.tab);
    await s.waitFor('SESSIONS');
    await s.press('\x1b[Z');
    await s.waitFor('VERDICTS');
    await s.press('?');
    const f = await s.waitFor('KEYS  any key closes this help');
    expect(f).toContain('drill down: verdict → session → module → pin window → the');
    await s.press('x');
    await s.waitFor('VERDICTS');
    expect(s.exited()).toBe(false);
    await s.press('q');
    expect(s.exited()).toBe(true);
  });

  it('uses the room it gets: 120x40 shows whole verdict messages and more of the timeline', async () => {
    s = screen(model, 120, 39);
    const f = await s.waitFor('TIMELINE');
    expect(lines(f)).toHaveLength(39);
    expect(f).toContain('liveupdate_register_flb(liveupdate-test-flb-v0) returned -17 EEXIST at');
  });
});
