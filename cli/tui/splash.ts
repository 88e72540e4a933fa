// The screens, drawn straight to the terminal until Ink and React have loaded: first the loading
// screen (loading.ts; the pages are not loaded yet), then, once layout.ts is there (useScreens),
// every screen as buildScreen gives it, with the keys of keys.ts. Ink and React cost ~0.6 s of CPU
// (more on a busy machine): cli/tui.ts loads them only once the report is there, so they never take
// CPU from the read, and hands them the place the user is at and the keys typed meanwhile (handover()).
import type { Key } from 'ink';
import { applyAction, initialNav, keyToAction, type NavState, type PageInfo, parseKeys } from './keys.js';
import { type LoadingState, loadingLines, statusLine, tabBar } from './loading.js';
import type { Color, Line } from './text.js';

const SGR: Record<Color, number> = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90 };

/** One screen line as terminal text (the segments are already cut to the width and made safe by fit()). */
export function ansiLine(line: Line, noColor: boolean): string {
  let s = '';
  for (const x of line) {
    const codes: number[] = [];
    if (x.bold) codes.push(1);
    if (x.dim) codes.push(2);
    if (x.inverse) codes.push(7);
    if (x.color && !noColor) codes.push(SGR[x.color]);
    s += codes.length ? `\x1b[${codes.join(';')}m${x.text}\x1b[0m` : x.text;
  }
  return s;
}

/** The loading screen as buildScreen (layout.ts) gives it before the report: tab bar, page, status line. */
export function splashLines(state: LoadingState, width: number, height: number): Line[] {
  const nav = initialNav();
  return [tabBar(nav, state, width), ...loadingLines(state, width, Math.max(1, height - 2)), statusLine(nav, ['Loading'], null, width)];
}

export interface SplashModel extends LoadingState {
  subscribe(fn: () => void): () => void;
}

/** layout.ts buildScreen, for the model the splash was given. */
export type ScreenBuilder = (nav: NavState, width: number, height: number) => { lines: Line[]; info: PageInfo };

export interface Splash {
  /** Draw every screen with this from now on, and take the keys. */
  useScreens(build: ScreenBuilder): void;
  /** Stop drawing and listening (the user quit before Ink was there). */
  stop(): void;
  /**
   * Stop drawing and hand the screen to Ink, rendered next: where the user is, and release() (call
   * it after render()) to give Ink the keys typed until it listens.
   */
  handover(): { nav: NavState; release(): void };
}

/** Draw the loading screen now and on every model change until stop() or handover(); `onQuit` on q or Ctrl+C. */
export function showSplash(model: SplashModel, out: NodeJS.WriteStream, keys: NodeJS.ReadStream, opts: { noColor: boolean; onQuit: () => void }): Splash {
  let nav = initialNav();
  let build: ScreenBuilder | null = null;
  let stopped = false;
  // The size App uses (app.tsx useTerminalSize), so Ink's first frame lands on the same cells.
  const size = () => ({ width: Math.max(40, out.columns || 80), height: Math.max(10, (out.rows || 24) - 1) });
  /** The rows on the terminal: only the rows that changed are written (while loading, a few numbers). */
  let shown: string[] = [];
  const draw = () => {
    const { width, height } = size();
    const lines = build ? build(nav, width, height).lines : splashLines(model, width, height);
    const rows = lines.map((l) => `${ansiLine(l, opts.noColor)}\x1b[K`);
    let text = '\x1b[?25l';
    rows.forEach((r, i) => {
      if (shown[i] !== r) text += `\x1b[${i + 1};1H${r}`;
    });
    shown = rows;
    out.write(text);
  };
  const redrawAll = () => {
    shown = [];
    draw();
  };
  /** Keys typed before the pages have loaded: they act once the pages are there (useScreens). */
  const early: Array<[string, Key]> = [];
  const onKeys = (typed: Array<[string, Key]>) => {
    for (const [input, key] of typed) {
      if (key.ctrl && input === 'c') return opts.onQuit();
      if (!build) {
        if (input === 'q') return opts.onQuit();
        early.push([input, key]);
        continue;
      }
      const { width, height } = size();
      const action = keyToAction(input, key, nav.mode);
      if (!action) continue;
      if (action.type === 'quit') return opts.onQuit();
      nav = applyAction(nav, action, build(nav, width, height).info);
    }
    draw();
  };
  const onData = (d: Buffer | string) => onKeys(parseKeys(d.toString()));
  draw();
  const off = model.subscribe(draw);
  out.on('resize', redrawAll);
  const raw = Boolean(keys.isTTY);
  if (raw) keys.setRawMode(true);
  keys.on('data', onData);
  return {
    useScreens(b) {
      if (stopped) return;
      build = b;
      onKeys(early.splice(0));
    },
    handover() {
      stopped = true;
      off();
      out.off('resize', redrawAll);
      keys.off('data', onData);
      // Ink listens from its first effect, a moment after render(): keys typed meanwhile are held
      // (the stream stays flowing and raw: paused, the event loop could run empty and Ink would
      // unmount on 'beforeExit'), then put back in front of the stream for Ink to read.
      const held: Buffer[] = [];
      const inkListens = () => keys.listenerCount('readable') > 0;
      const hold = (d: Buffer | string) => {
        if (!inkListens()) held.push(Buffer.from(d));
      };
      keys.on('data', hold);
      return {
        nav,
        release() {
          const give = (tries: number) => {
            if (!inkListens() && tries < 500) return void setTimeout(() => give(tries + 1), 10);
            keys.off('data', hold);
            if (held.length) keys.unshift(Buffer.concat(held));
          };
          give(0);
        },
      };
    },
    stop() {
      stopped = true;
      off();
      out.off('resize', redrawAll);
      keys.off('data', onData);
      if (raw) keys.setRawMode(false);
    },
  };
}
