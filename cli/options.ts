// Options shared by several commands.
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { InvalidArgumentError, Option } from 'commander';
import { INPUT_FORMATS, type InputFormat } from '../parsers/event.js';

export function formatOption(): Option {
  return new Option('-f, --format <format>', 'input format instead of sniffing it').choices([...INPUT_FORMATS]);
}

export function parseFormat(value: string | undefined): InputFormat | undefined {
  if (value === undefined) return undefined;
  if (!(INPUT_FORMATS as readonly string[]).includes(value)) throw new InvalidArgumentError(`unknown format ${value}`);
  return value as InputFormat;
}

/** Inputs at least this large (bytes on disk, all files) are read on a second thread under `--threads auto`. */
export const THREADED_MIN_BYTES = 8_000_000;

export function threadsOption(): Option {
  return new Option(
    '--threads <n>',
    `threads: 1 = read and analyze on one; 2 = read and decode the inputs on a second thread while the analyses run; auto = 2 for inputs of ${THREADED_MIN_BYTES / 1e6} MB and more on a machine with 2+ CPUs (stdin is always read on one)`,
  )
    .choices(['auto', '1', '2'])
    .default('auto');
}

/** How many threads `--threads` means for these inputs (stdin, a pipe or a missing file: 1). */
export function resolveThreads(setting: string | undefined, files: string[]): 1 | 2 {
  if (setting === undefined || setting === '1' || files.includes('-')) return 1;
  if (setting === '2') return 2;
  if (availableParallelism() < 2) return 1;
  let bytes = 0;
  for (const f of files) {
    try {
      const st = statSync(f);
      if (st.isFile()) bytes += st.size;
    } catch {
      // Unreadable here: readTraces reports it, on either path.
    }
  }
  return bytes >= THREADED_MIN_BYTES ? 2 : 1;
}
