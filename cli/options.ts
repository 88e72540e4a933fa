// Options shared by several commands.
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
