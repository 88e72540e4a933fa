// Reading progress on stderr for the long batch commands (a 1 GB trace takes half a minute):
// which file, how far through it, events so far and the rate. On a terminal it is one line
// redrawn in place, shown only once a run has taken a second (short runs print nothing), and
// erased before the report is written; `--progress` forces it (one line per update when stderr is
// not a terminal, for logs), `--no-progress` turns it off.
import type { ReadProgress } from '../parsers/index.js';
import { fmtBytes } from './tui/text.js';
import { visible } from './visible.js';

export interface ProgressOptions {
  /** true: always; false: never; undefined: when stderr is a terminal. */
  progress?: boolean;
}

export interface ProgressLine {
  onProgress?: (p: ReadProgress) => void;
  /** Erase the line (call before writing the report). */
  done(): void;
}

const REDRAW_MS = 250;
const QUIET_MS = 1000;

export function progressLine(opts: ProgressOptions, files: number, err: NodeJS.WriteStream = process.stderr): ProgressLine {
  const tty = Boolean(err.isTTY);
  if (opts.progress === false || (opts.progress === undefined && !tty)) return { done() {} };
  const started = Date.now();
  let last = 0;
  let shown = false;
  const draw = (line: string): void => {
    const text = visible(line);
    if (tty) err.write(`\r\x1b[K${text}`);
    else err.write(`${text}\n`);
    shown = true;
  };
  return {
    onProgress(p) {
      const now = Date.now();
      if (tty && opts.progress === undefined && now - started < QUIET_MS) return;
      if (!p.done && now - last < REDRAW_MS) return;
      last = now;
      const pct = p.size ? ` ${Math.min(100, Math.floor((100 * p.bytesRead) / p.size))}%` : '';
      const of = p.size ? `/${fmtBytes(p.size)}` : '';
      const secs = (now - started) / 1000;
      const rate = secs > 0 ? `, ${fmtBytes(Math.round(p.bytesRead / secs))}/s` : '';
      const which = files > 1 ? ` (${p.src + 1}/${files})` : '';
      draw(`luotrace: reading ${p.file}${which}${pct} ${fmtBytes(p.bytesRead)}${of}, ${p.lines.toLocaleString('en-US')} lines, ${p.events.toLocaleString('en-US')} events${rate}${p.done ? ', done' : ''}`);
    },
    done() {
      if (shown && tty) err.write('\r\x1b[K');
    },
  };
}
