// The splash (cli/tui/splash.ts) draws the screens and takes the keys until Ink has loaded, which
// `luotrace tui` does only once the report is there (issue 17): raw terminal input is read as Ink
// reads it (parseKeys), keys act as in the Ink app (keys.ts), q in a filter is text, and the keys
// typed while Ink mounts are handed to it.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildScreen } from '../../cli/tui/layout.js';
import { type NavState, NO_KEY, parseKeys, topFrame } from '../../cli/tui/keys.js';
import { TuiModel } from '../../cli/tui/model.js';
import { showSplash } from '../../cli/tui/splash.js';
import { sharedAnalysis } from '../analysis-cache.js';
import { CAPTURES } from './helpers.js';

describe('parseKeys: raw terminal input as Ink gives it', () => {
  it('arrows, paging, Home/End, Shift+Tab, Esc, Ctrl+letters, Enter, Backspace and text', () => {
    const keys = parseKeys('\x1b[A\x1b[B\x1bOC\x1b[D\x1b[5~\x1b[6~\x1b[H\x1b[4~\x1b[Z\x1b\x15\x04\r\x7fj:4\t');
    const on = (k: (typeof keys)[number][1]) => Object.entries(k).filter(([n, v]) => v && NO_KEY[n as keyof typeof NO_KEY] === false).map(([n]) => n);
    expect(keys.map(([input, k]) => [input, on(k)])).toEqual([
      ['', ['upArrow']],
      ['', ['downArrow']],
      ['', ['rightArrow']],
      ['', ['leftArrow']],
      ['', ['pageUp']],
      ['', ['pageDown']],
      ['', ['home']],
      ['', ['end']],
      ['', ['shift', 'tab']],
      ['', ['escape', 'meta']],
      ['u', ['ctrl']],
      ['d', ['ctrl']],
      ['\r', ['return']],
      ['\x7f', ['backspace']],
      ['j', []],
      [':', []],
      ['4', []],
      ['\t', ['tab']],
    ]);
  });

  it('drops sequences it does not know, keeps what follows', () => {
    expect(parseKeys('\x1b[99Xq').map(([i]) => i)).toEqual(['q']);
  });
});

/** A terminal for the splash: the rows it shows (it writes each changed row at its place), and a keyboard to type on. */
function terminal() {
  const out = new PassThrough() as PassThrough & { columns: number; rows: number };
  out.columns = 80;
  out.rows = 24;
  const rows: string[] = [];
  let writes = 0;
  out.on('data', (d: Buffer) => {
    writes++;
    const parts = d.toString().split(/\x1b\[(\d+);1H/);
    for (let i = 1; i < parts.length; i += 2) rows[Number(parts[i]) - 1] = parts[i + 1].replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  });
  const keys = new PassThrough();
  return { out: out as unknown as NodeJS.WriteStream, keys, kb: keys as unknown as NodeJS.ReadStream, screenText: () => rows.join('\n'), writes: () => writes };
}

const tick = () => new Promise((r) => setTimeout(r, 10));

describe('the splash before Ink', () => {
  it('keys typed before the pages are there act once they are; keys act as in the app, and q in a filter is text', async () => {
    const model = TuiModel.ready(await sharedAnalysis(CAPTURES.abort));
    const t = terminal();
    let quits = 0;
    const splash = showSplash(model, t.out, t.kb, { noColor: true, onQuit: () => quits++ });
    t.keys.write('3');
    await tick();
    expect(quits).toBe(0);
    expect(t.screenText()).toContain('Reading 1 file');
    splash.useScreens((nav, w, h) => buildScreen(model, nav, w, h));
    expect(t.screenText()).toContain('MODULES  1');
    t.keys.write('2');
    await tick();
    expect(t.screenText()).toContain('SESSIONS  1');
    t.keys.write('/q');
    await tick();
    expect(quits).toBe(0);
    expect(t.screenText()).toContain('/q▏');
    t.keys.write('\x1b');
    await tick();
    t.keys.write('q');
    await tick();
    expect(quits).toBe(1);
    t.keys.write('\x03');
    await tick();
    expect(quits).toBe(2);
    splash.stop();
  });

  it('handover: Ink starts where the user is, and gets the keys typed before it listens', async () => {
    const model = TuiModel.ready(await sharedAnalysis(CAPTURES.abort));
    const t = terminal();
    const splash = showSplash(model, t.out, t.kb, { noColor: true, onQuit: () => {} });
    splash.useScreens((nav, w, h) => buildScreen(model, nav, w, h));
    t.keys.write('3');
    await tick();
    expect(t.screenText()).toContain('MODULES  1');
    const hand = splash.handover();
    expect(topFrame(hand.nav as NavState).view.kind).toBe('modules');
    // Typed after the handover, before Ink listens: held, not lost, not acted on by the splash.
    const before = t.writes();
    t.keys.write('j4');
    await tick();
    expect(t.writes()).toBe(before);
    hand.release();
    await tick();
    // Ink listens ('readable') and reads them.
    let read = '';
    t.keys.on('readable', () => {
      let c: Buffer | null;
      while ((c = t.keys.read() as Buffer | null) !== null) read += c.toString();
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(read).toBe('j4');
  });
});
