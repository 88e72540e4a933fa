// The first frame, drawn straight to the terminal while Ink, React and the pages load (a second or
// more on a busy machine, during which the read has already started): the same loading screen Ink
// draws next (loading.ts), redrawn as the model reports progress, and q or Ctrl+C quit at once.
import { initialNav } from './keys.js';
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

export interface Splash {
  /** Stop drawing and listening (Ink takes the terminal and the keyboard next). */
  stop(): void;
}

/** Draw the loading screen now and on every model change until stop(); `onQuit` on q or Ctrl+C. */
export function showSplash(model: SplashModel, out: NodeJS.WriteStream, keys: NodeJS.ReadStream, opts: { noColor: boolean; onQuit: () => void }): Splash {
  const draw = () => {
    // The size App uses (app.tsx useTerminalSize), so Ink's first frame lands on the same cells.
    const width = Math.max(40, out.columns || 80);
    const height = Math.max(10, (out.rows || 24) - 1);
    out.write(`\x1b[?25l\x1b[H${splashLines(model, width, height).map((l) => `${ansiLine(l, opts.noColor)}\x1b[K`).join('\r\n')}`);
  };
  const onData = (d: Buffer | string) => {
    const s = d.toString();
    if (s.includes('q') || s.includes('\x03')) opts.onQuit();
  };
  draw();
  const off = model.subscribe(draw);
  out.on('resize', draw);
  const raw = Boolean(keys.isTTY);
  if (raw) keys.setRawMode(true);
  keys.on('data', onData);
  return {
    stop() {
      off();
      out.off('resize', draw);
      keys.off('data', onData);
      // Not keys.pause(): a paused terminal stream lets the event loop run empty for a moment before
      // Ink listens, and Ink unmounts on 'beforeExit' (the TUI then quit by itself, exit 0).
      if (raw) keys.setRawMode(false);
    },
  };
}
