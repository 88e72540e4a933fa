// Shared by the fuzz test (few cases, in CI) and the fuzz script (10^5 cases, `npm run fuzz`):
// random bytes and mutations of real trace lines, fed to every parser.
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { TraceEventSchema, INPUT_FORMATS, type InputFormat } from '../../parsers/event.js';
import { readTraces } from '../../parsers/index.js';
import { InputError } from '../../parsers/input.js';

/** Real lines of several formats, the seeds of the mutations. */
export function realLines(root: string): string[] {
  const files = [
    'samples/real/lifecycle/stage1/ftrace-main.txt.gz',
    'samples/real/lifecycle/stage1/ftrace-tgid.txt.gz',
    'samples/real/lifecycle/stage1/ftrace-noirq.txt.gz',
    'samples/real/lifecycle/stage1/trace-cmd-report.txt.gz',
    'samples/real/lifecycle/stage1/ftrace-fgraph.txt',
    'samples/real/lifecycle/console.log.gz',
    'samples/formats/perftools_funcgraph_example.txt',
    'samples/formats/snippets_verbatim_lines.txt',
  ];
  const out: string[] = [];
  for (const f of files) {
    const buf = readFileSync(`${root}${f}`);
    const text = (f.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8');
    out.push(...text.split('\n').filter((l) => l.length > 0).slice(0, 400));
  }
  return out;
}

export type Mutation = { kind: 'delete' | 'insert' | 'replace' | 'truncate' | 'duplicate' | 'swapdigit'; at: number; char: string };

export function mutate(line: string, muts: Mutation[]): string {
  let s = line;
  for (const m of muts) {
    const at = s.length ? m.at % (s.length + 1) : 0;
    switch (m.kind) {
      case 'delete':
        s = s.slice(0, at) + s.slice(at + 1);
        break;
      case 'insert':
        s = s.slice(0, at) + m.char + s.slice(at);
        break;
      case 'replace':
        s = s.slice(0, at) + m.char + s.slice(at + 1);
        break;
      case 'truncate':
        s = s.slice(0, at);
        break;
      case 'duplicate':
        s = s.slice(0, at) + s.slice(at, at + 8) + s.slice(at);
        break;
      case 'swapdigit':
        s = s.replace(/\d/, m.char);
        break;
    }
  }
  return s;
}

export const mutationArb = fc.record({
  kind: fc.constantFrom<Mutation['kind']>('delete', 'insert', 'replace', 'truncate', 'duplicate', 'swapdigit'),
  at: fc.nat(200),
  char: fc.constantFrom(' ', ':', '[', ']', '(', ')', '-', '=', '"', '0', '9', 'x', '.', '|', '\t', '\r', '\0', '\u00ff', '{', '}', '/', '*'),
});

/**
 * Parse `input` with the given format (or sniffing). Returns null when the input was refused with
 * an InputError (a clean one-line refusal is fine); throws on anything else. Checks the invariants:
 * every line accounted for, every event schema-valid.
 */
export async function checkInput(input: Buffer, format?: InputFormat): Promise<null | { lines: number; events: number }> {
  const events: unknown[] = [];
  try {
    const r = await readTraces(['-'], (e) => events.push(e), { stdin: Readable.from([input]), format });
    const q = r.quality;
    const known = Object.values(q.lines.known).reduce((a, b) => a + b, 0);
    const skipped = Object.values(q.lines.skipped).reduce((a, b) => a + b, 0);
    if (q.lines.events + known + skipped !== q.lines.total) {
      throw new Error(`line accounting broken: ${q.lines.events} + ${known} + ${skipped} != ${q.lines.total}`);
    }
    for (const e of events) TraceEventSchema.parse(e);
    return { lines: q.lines.total, events: q.lines.events };
  } catch (e) {
    if (e instanceof InputError) return null;
    throw e;
  }
}

export const FORMATS: Array<InputFormat | undefined> = [undefined, ...INPUT_FORMATS];

/** Property: random bytes, any format (shared by the CI test and `npm run fuzz`). */
export function randomBytesProperty(maxLength: number) {
  return fc.asyncProperty(fc.uint8Array({ maxLength }), fc.constantFrom(...FORMATS), async (bytes, format) => {
    await checkInput(Buffer.from(bytes), format);
  });
}

/** Property: up to `maxLines` real lines, each mutated a few times, any format. */
export function mutatedLinesProperty(seeds: string[], maxLines: number) {
  return fc.asyncProperty(
    fc.array(fc.tuple(fc.nat(seeds.length - 1), fc.array(mutationArb, { maxLength: 4 })), { minLength: 1, maxLength: maxLines }),
    fc.constantFrom(...FORMATS),
    fc.boolean(),
    async (picks, format, finalNewline) => {
      const text = picks.map(([i, muts]) => mutate(seeds[i], muts)).join('\n') + (finalNewline ? '\n' : '');
      await checkInput(Buffer.from(text, 'utf8'), format);
    },
  );
}
