// Screen text for the TUI: every screen is built as plain lines of styled segments, cut to the
// terminal width here (never by the terminal), so a screen is exactly the size it claims and a text
// dump of it is what the user saw. Colors are optional styling: NO_COLOR drops them at render time.
import { visible } from '../visible.js';
export { formatBytes as fmtBytes, formatDuration as fmtDuration, formatSeconds as fmtSeconds, shortFile } from '../../analyses/format.js';

export type Color = 'red' | 'green' | 'yellow' | 'blue' | 'magenta' | 'cyan' | 'gray';

export interface Seg {
  text: string;
  color?: Color;
  bold?: boolean;
  dim?: boolean;
  inverse?: boolean;
}
export type Line = Seg[];

export const seg = (text: string, style: Omit<Seg, 'text'> = {}): Seg => ({ text, ...style });
export const plain = (text: string): Line => [{ text }];

export function lineText(l: Line): string {
  let s = '';
  for (const x of l) s += x.text;
  return s;
}

/**
 * Trace text made safe to print: tabs expanded (raw lines are laid out as a terminal would), every
 * other control character made visible the one way luotrace shows them everywhere (cli/visible.ts):
 * an ESC in a comm would otherwise drive the terminal.
 */
export function sanitize(text: string): string {
  if (!text.includes('\t')) return visible(text);
  let out = '';
  for (const ch of text) out += ch === '\t' ? ' '.repeat(8 - (out.length % 8)) : visible(ch);
  return out;
}

/** Cut a string to `width` columns, marking the cut with `…`. */
export function trunc(s: string, width: number): string {
  if (width <= 0) return '';
  if (s.length <= width) return s;
  return width === 1 ? '…' : `${s.slice(0, width - 1)}…`;
}

export const padEnd = (s: string, n: number): string => (s.length >= n ? trunc(s, n) : s + ' '.repeat(n - s.length));
export const padStart = (s: string, n: number): string => (s.length >= n ? trunc(s, n) : ' '.repeat(n - s.length) + s);

/** Cut a styled line to `width` columns; the cut is marked with `…`. */
export function fit(l: Line, width: number): Line {
  // Every line of a screen is cut here, so this is where no trace text can reach the terminal
  // unescaped (cells that columns() laid out are already safe and come back unchanged).
  l = l.map((x) => {
    const text = visible(x.text);
    return text === x.text ? x : { ...x, text };
  });
  let total = 0;
  for (const x of l) total += x.text.length;
  if (total <= width) return l;
  const out: Line = [];
  let used = 0;
  for (const x of l) {
    const room = width - used;
    if (room <= 0) break;
    if (x.text.length < room) {
      out.push(x);
      used += x.text.length;
      continue;
    }
    out.push({ ...x, text: `${x.text.slice(0, room - 1)}…` });
    break;
  }
  return out;
}

/** Hard-wrap text at `width` columns (long trace lines have few spaces worth breaking at). */
export function wrap(text: string, width: number, maxLines = Infinity): string[] {
  const out: string[] = [];
  if (width <= 0) return out;
  for (const para of text.split('\n')) {
    let rest = para;
    if (rest.length === 0) out.push('');
    while (rest.length > 0) {
      if (out.length >= maxLines) return markCut(out);
      if (rest.length <= width) {
        out.push(rest);
        break;
      }
      // Prefer a break at a space in the last third of the line.
      let cut = rest.lastIndexOf(' ', width);
      if (cut < width * 0.66) cut = width;
      out.push(rest.slice(0, cut));
      rest = rest.slice(cut).replace(/^ /, '');
    }
  }
  if (out.length > maxLines) return markCut(out.slice(0, maxLines));
  return out;
}

function markCut(lines: string[]): string[] {
  if (lines.length === 0) return lines;
  const last = lines[lines.length - 1];
  lines[lines.length - 1] = last.length > 0 ? `${last.slice(0, -1)}…` : '…';
  return lines;
}




export function fmtCount(n: number): string {
  return n.toLocaleString('en-US');
}


/** Columns laid out left to right, each cut or padded to its width. */
export interface Col {
  text: string;
  width: number;
  align?: 'left' | 'right';
  style?: Omit<Seg, 'text'>;
}
export function columns(cols: Col[], gap = 1): Line {
  const out: Line = [];
  cols.forEach((c, i) => {
    const last = i === cols.length - 1;
    // The last column is not padded: trailing blanks would only push the line past the edge.
    const text = visible(c.text);
    const t = c.align === 'right' ? padStart(text, c.width) : last ? trunc(text, c.width) : padEnd(text, c.width);
    out.push({ text: t, ...c.style });
    if (i < cols.length - 1 && gap > 0) out.push({ text: ' '.repeat(gap) });
  });
  return out;
}
