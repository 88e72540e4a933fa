// Options shared by several commands.
import { Option } from 'commander';
import { INPUT_FORMATS } from '../parsers/event.js';
import { THREADED_MIN_BYTES } from '../parsers/threaded.js';

export function formatOption(): Option {
  return new Option('-f, --format <format>', 'input format instead of sniffing it').choices([...INPUT_FORMATS]);
}

export function threadsOption(): Option {
  return new Option(
    '--threads <n>',
    `threads: 1 = read and analyze on one; 2 = read and decode the inputs on a second thread while the analyses run; auto = 2 for inputs of ${THREADED_MIN_BYTES / 1e6} MB and more on a machine with 2+ CPUs (stdin is always read on one)`,
  )
    .choices(['auto', '1', '2'])
    .default('auto');
}
