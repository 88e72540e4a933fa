// Every key of the TUI, in one place: which key does what (keyToAction) and what that does to the
// navigation state (applyAction). Screens never read keys themselves; they only describe their rows
// and where Enter on a row leads (views.ts `Row.open`).
import type { Key } from 'ink';
import { SCREENS, type ScreenId, type View, rootView } from './views.js';

/** ink's Key with nothing pressed: the base for keys made from raw input (and for tests). */
export const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

export interface Frame {
  view: View;
  /** Index of the selected row in the (filtered, sorted) list; -1 = not placed yet (the page decides). */
  cursor: number;
  /** First visible row; null = let the list place it around the cursor. */
  scroll: number | null;
  filter: string;
  sort: number;
  /** Events: columns scrolled to the right. */
  hscroll: number;
}

export type Mode = 'normal' | 'filter' | 'jump' | 'help';

export interface NavState {
  screen: ScreenId;
  stack: Frame[];
  /** Each screen's stack as it was left, so Tab back returns to the same place. */
  saved: Partial<Record<ScreenId, Frame[]>>;
  mode: Mode;
  /** Text being typed after `/` or `:`. */
  input: string;
  /** The filter to restore when `/` editing is cancelled with Esc. */
  filterBefore: string;
}

export type Action =
  | { type: 'quit' }
  | { type: 'screen'; screen: ScreenId }
  | { type: 'nextScreen'; delta: 1 | -1 }
  | { type: 'move'; delta: number }
  | { type: 'page'; delta: 1 | -1 }
  | { type: 'home' }
  | { type: 'end' }
  | { type: 'enter' }
  | { type: 'back' }
  | { type: 'startFilter' }
  | { type: 'startJump' }
  | { type: 'type'; text: string }
  | { type: 'erase' }
  | { type: 'submit' }
  | { type: 'cancel' }
  | { type: 'sort' }
  | { type: 'help' }
  | { type: 'file'; delta: 1 | -1 }
  | { type: 'hscroll'; delta: number };

/** What the state machine needs to know about the page on screen. */
export interface PageInfo {
  count: number;
  /** The cursor as shown (a page may place a cursor of -1). */
  cursor: number;
  listHeight: number;
  sorts: number;
  /** Where Enter on each row goes. */
  openAt(i: number): View | null | undefined;
  /** Input files, for `[` `]` on the Events screen. */
  files: string[];
  /** Events screen: line number of row 0 (rows are consecutive lines when not filtered). */
  firstLine: number | null;
  /** The page filters as the user presses Enter, not as they type (file searches). */
  filterOnSubmit: boolean;
}

/** The key one character stands for (a pasted chunk, or raw input read before Ink has loaded). */
export function keyOf(ch: string): Key {
  return { ...NO_KEY, return: ch === '\r' || ch === '\n', tab: ch === '\t', backspace: ch === '\x7f' || ch === '\b', shift: ch >= 'A' && ch <= 'Z' };
}

/** Escape sequences of the keys the TUI uses, as terminals send them (xterm, VT220, tmux). */
const SEQUENCES: Record<string, Partial<Key>> = {
  '[A': { upArrow: true },
  '[B': { downArrow: true },
  '[C': { rightArrow: true },
  '[D': { leftArrow: true },
  OA: { upArrow: true },
  OB: { downArrow: true },
  OC: { rightArrow: true },
  OD: { leftArrow: true },
  '[H': { home: true },
  '[F': { end: true },
  OH: { home: true },
  OF: { end: true },
  '[1~': { home: true },
  '[4~': { end: true },
  '[5~': { pageUp: true },
  '[6~': { pageDown: true },
  '[3~': { delete: true },
  '[Z': { tab: true, shift: true },
};

/**
 * Raw terminal input as (input, key) pairs, the way Ink's useInput gives them: the splash
 * (splash.ts) takes keys with this before Ink has loaded. Unknown sequences are dropped.
 */
export function parseKeys(chunk: string): Array<[string, Key]> {
  const out: Array<[string, Key]> = [];
  let i = 0;
  while (i < chunk.length) {
    const ch = chunk[i];
    if (ch === '\x1b') {
      const m = /^\x1b(\[[0-9;]*[A-Za-z~]|O[A-Z])/.exec(chunk.slice(i));
      if (!m) {
        out.push(['', { ...NO_KEY, escape: true, meta: true }]);
        i++;
        continue;
      }
      const k = SEQUENCES[m[1]];
      if (k) out.push(['', { ...NO_KEY, ...k }]);
      i += m[0].length;
      continue;
    }
    const code = ch.charCodeAt(0);
    // Ctrl+letter arrives as 1-26 (but Tab, Enter and Backspace are keys of their own).
    if (code >= 1 && code <= 26 && ch !== '\t' && ch !== '\r' && ch !== '\n' && ch !== '\b') out.push([String.fromCharCode(code + 96), { ...NO_KEY, ctrl: true }]);
    else out.push([ch, keyOf(ch)]);
    i++;
  }
  return out;
}

export function keyToAction(input: string, key: Key, mode: Mode): Action | null {
  if (mode === 'help') return input === 'q' ? { type: 'quit' } : { type: 'help' };
  if (mode === 'filter' || mode === 'jump') {
    if (key.return) return { type: 'submit' };
    if (key.escape) return { type: 'cancel' };
    if (key.backspace || key.delete) return { type: 'erase' };
    if (key.ctrl || key.meta || key.tab || key.upArrow || key.downArrow || key.leftArrow || key.rightArrow) return null;
    if (mode === 'jump' && !/^\d+$/.test(input)) return null;
    return input ? { type: 'type', text: input } : null;
  }
  if (key.tab) return { type: 'nextScreen', delta: key.shift ? -1 : 1 };
  if (key.return) return { type: 'enter' };
  if (key.escape || key.backspace || key.delete) return { type: 'back' };
  if (key.upArrow) return { type: 'move', delta: -1 };
  if (key.downArrow) return { type: 'move', delta: 1 };
  if (key.pageUp) return { type: 'page', delta: -1 };
  if (key.pageDown) return { type: 'page', delta: 1 };
  if (key.home) return { type: 'home' };
  if (key.end) return { type: 'end' };
  if (key.leftArrow) return { type: 'hscroll', delta: -20 };
  if (key.rightArrow) return { type: 'hscroll', delta: 20 };
  if (key.ctrl) {
    if (input === 'd' || input === 'f') return { type: 'page', delta: 1 };
    if (input === 'u' || input === 'b') return { type: 'page', delta: -1 };
    return null;
  }
  switch (input) {
    case 'q':
      return { type: 'quit' };
    case 'j':
      return { type: 'move', delta: 1 };
    case 'k':
      return { type: 'move', delta: -1 };
    case ' ':
      return { type: 'page', delta: 1 };
    case 'g':
      return { type: 'home' };
    case 'G':
      return { type: 'end' };
    case '/':
      return { type: 'startFilter' };
    case ':':
      return { type: 'startJump' };
    case 's':
      return { type: 'sort' };
    case '?':
      return { type: 'help' };
    case '[':
      return { type: 'file', delta: -1 };
    case ']':
      return { type: 'file', delta: 1 };
  }
  if (/^[1-6]$/.test(input)) return { type: 'screen', screen: SCREENS[Number(input) - 1] };
  return null;
}

export function newFrame(view: View): Frame {
  const placed = view.kind === 'events' && view.line !== undefined;
  return { view, cursor: placed ? -1 : 0, scroll: null, filter: '', sort: 0, hscroll: 0 };
}

export function initialNav(screen: ScreenId = 'overview'): NavState {
  return { screen, stack: [newFrame(rootView(screen))], saved: {}, mode: 'normal', input: '', filterBefore: '' };
}

export const topFrame = (s: NavState): Frame => s.stack[s.stack.length - 1];

function withTop(s: NavState, f: Partial<Frame>): NavState {
  const stack = s.stack.slice();
  stack[stack.length - 1] = { ...stack[stack.length - 1], ...f };
  return { ...s, stack };
}

/** Keep the cursor inside the list and the list scrolled so the cursor shows. */
export function placeCursor(cursor: number, scroll: number | null, count: number, height: number): { cursor: number; scroll: number } {
  const c = count === 0 ? 0 : Math.max(0, Math.min(count - 1, cursor));
  const h = Math.max(1, height);
  let top = scroll ?? Math.max(0, c - Math.floor(h / 3));
  if (c < top) top = c;
  if (c >= top + h) top = c - h + 1;
  top = Math.max(0, Math.min(top, Math.max(0, count - h)));
  return { cursor: c, scroll: top };
}

function switchScreen(s: NavState, screen: ScreenId): NavState {
  if (screen === s.screen) {
    // The number of the screen you are on goes back to its top level.
    return { ...s, stack: [s.stack[0]], mode: 'normal' };
  }
  const saved = { ...s.saved, [s.screen]: s.stack };
  return { ...s, screen, stack: saved[screen] ?? [newFrame(rootView(screen))], saved, mode: 'normal' };
}

export function applyAction(s: NavState, a: Action, page: PageInfo): NavState {
  const top = topFrame(s);
  const move = (cursor: number): NavState => withTop(s, placeCursor(cursor, top.scroll, page.count, page.listHeight));
  switch (a.type) {
    case 'quit':
      return s;
    case 'screen':
      return switchScreen(s, a.screen);
    case 'nextScreen': {
      const i = SCREENS.indexOf(s.screen);
      return switchScreen(s, SCREENS[(i + a.delta + SCREENS.length) % SCREENS.length]);
    }
    case 'move':
      return move(page.cursor + a.delta);
    case 'page':
      return move(page.cursor + a.delta * Math.max(1, page.listHeight - 1));
    case 'home':
      return move(0);
    case 'end':
      return move(page.count - 1);
    case 'enter': {
      const target = page.count > 0 ? page.openAt(page.cursor) : null;
      if (!target) return s;
      const here = withTop(s, { cursor: page.cursor });
      return { ...here, stack: [...here.stack, newFrame(target)] };
    }
    case 'back':
      if (top.filter) return withTop(s, { filter: '', cursor: 0, scroll: null });
      if (s.stack.length > 1) return { ...s, stack: s.stack.slice(0, -1) };
      return s;
    case 'startFilter':
      return { ...s, mode: 'filter', input: top.filter, filterBefore: top.filter };
    case 'startJump':
      return { ...s, mode: 'jump', input: '' };
    case 'type': {
      const input = s.input + a.text;
      const next = { ...s, input };
      return s.mode === 'filter' && !page.filterOnSubmit ? withTop(next, { filter: input, cursor: 0, scroll: null }) : next;
    }
    case 'erase': {
      const input = s.input.slice(0, -1);
      const next = { ...s, input };
      return s.mode === 'filter' && !page.filterOnSubmit ? withTop(next, { filter: input, cursor: 0, scroll: null }) : next;
    }
    case 'cancel':
      if (s.mode === 'filter') return withTop({ ...s, mode: 'normal', input: '' }, { filter: s.filterBefore, cursor: 0, scroll: null });
      return { ...s, mode: 'normal', input: '' };
    case 'submit': {
      const done = { ...s, mode: 'normal' as Mode, input: '' };
      if (s.mode === 'filter') return withTop(done, { filter: s.input.trim(), cursor: 0, scroll: null });
      const line = Number(s.input);
      if (!Number.isInteger(line) || line < 1) return done;
      if (top.view.kind === 'events' && page.firstLine !== null) {
        return withTop(done, { view: { ...top.view, line, mark: line }, filter: '', cursor: -1, scroll: null });
      }
      return { ...done, stack: [...s.stack, newFrame({ kind: 'events', file: page.files[0], line, mark: line })] };
    }
    case 'sort':
      return page.sorts > 1 ? withTop(s, { sort: (top.sort + 1) % page.sorts, cursor: 0, scroll: null }) : s;
    case 'help':
      return { ...s, mode: s.mode === 'help' ? 'normal' : 'help' };
    case 'file': {
      if (top.view.kind !== 'events' || page.files.length < 2) return s;
      const i = Math.max(0, page.files.indexOf(top.view.file ?? page.files[0]));
      const file = page.files[(i + a.delta + page.files.length) % page.files.length];
      return withTop(s, { view: { kind: 'events', file }, cursor: 0, scroll: null, filter: '', hscroll: 0 });
    }
    case 'hscroll':
      if (top.view.kind !== 'events') return s;
      return withTop(s, { hscroll: Math.max(0, top.hscroll + a.delta) });
  }
}
