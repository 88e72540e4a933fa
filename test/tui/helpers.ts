// Shared helpers of the TUI tests: the real captures, models loaded the way the TUI loads them, and
// an Ink render with keys and polling for screen text.
import { createElement } from 'react';
import { render } from 'ink-testing-library';
import { App } from '../../cli/tui/app.js';
import { loadFiles, type TuiModel } from '../../cli/tui/model.js';
import { sample } from '../helpers.js';

export const CAPTURES = {
  lifecycle: ['real/lifecycle/stage1/ftrace-main.txt.gz', 'real/lifecycle/console.log.gz', 'real/lifecycle/stage2/ftrace-main.txt.gz'].map(sample),
  abort: [sample('real/abort/stage1/ftrace-main.txt.gz')],
  contention: [sample('real/contention-no-writer/stage1/ftrace-main.txt.gz')],
  /** Its first 18 000 lines. */
  contentionTrimmed: sample('real/contention-no-writer/stage1/ftrace-main.trimmed.txt.gz'),
  contentionTrimmedTraceCmd: sample('real/contention-no-writer/stage1/trace-cmd-report.trimmed.txt.gz'),
};

export async function until<T>(what: string | (() => string), fn: () => T | null | undefined | false, timeoutMs = 20_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Screen text with wrapped lines joined (a long raw line is wrapped over several rows). */
export const flat = (frame: string): string => frame.replace(/\n\s*/g, ' ');

function shows(frame: string, text: string | RegExp): boolean {
  return typeof text === 'string' ? frame.includes(text) || flat(frame).includes(text) : text.test(frame);
}

/** Load files exactly as `luotrace tui` does and wait for the report. */
export async function loaded(files: string[]): Promise<TuiModel> {
  const model = loadFiles(files, {});
  await until('the analysis', () => model.phase !== 'loading');
  if (model.phase === 'error') throw new Error(model.error ?? 'load failed');
  return model;
}

export const KEY = {
  enter: '\r',
  esc: '\x1b',
  tab: '\t',
  down: '\x1b[B',
  up: '\x1b[A',
  right: '\x1b[C',
  end: '\x1b[F',
  backspace: '\x7f',
};

export interface Screen {
  frame(): string;
  press(...keys: string[]): Promise<void>;
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<string>;
  quit(): void;
  exited: () => boolean;
}

/** Render the app at 80x24 (23 rows: the TUI leaves the terminal's last row free). */
export function screen(model: TuiModel, width = 80, height = 23): Screen {
  let quit = false;
  const r = render(createElement(App, { model, width, height, noColor: true, onQuit: () => (quit = true) }));
  const frame = () => r.lastFrame() ?? '';
  return {
    frame,
    async press(...keys: string[]) {
      for (const k of keys) {
        r.stdin.write(k);
        // Ink handles a key on the next tick; give React the time to commit the frame.
        await new Promise((res) => setTimeout(res, 30));
      }
    },
    waitFor: (text, timeoutMs) => until(() => `${String(text)} on screen; last frame:\n${frame()}`, () => shows(frame(), text) && frame(), timeoutMs),
    quit: () => r.unmount(),
    exited: () => quit,
  };
}
