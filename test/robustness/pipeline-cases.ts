// Inputs for the whole-pipeline fuzzing (pipeline.ts): windows of real captures of every format with
// some lines mutated (mutate.ts's byte edits, plus what a hostile or broken machine writes: names
// that are Object.prototype properties or terminal escapes, timestamps moved, lines swapped,
// repeated or dropped), and random bytes. Seeded, so a failure can be replayed by its case number.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { seededRandom } from '../helpers.js';
import { type Mutation, mutate } from './mutate.js';
import { PipelineFailure, referenceReport, runPipeline } from './pipeline.js';

/** Real captures of each format (and a few labelled synthetic ones): the seeds. */
export const SEED_FILES = [
  'samples/real/lifecycle/stage1/ftrace-main.txt.gz',
  'samples/real/lifecycle/stage2/ftrace-main.txt.gz',
  'samples/real/lifecycle/console.log.gz',
  'samples/real/abort/stage1/ftrace-main.txt.gz',
  'samples/real/contention-no-writer/stage1/ftrace-main.txt.gz',
  'samples/real/lifecycle/stage1/trace-cmd-report.txt.gz',
  'samples/real/lifecycle/stage1/ftrace-fgraph.txt',
  'samples/synthetic/synthetic-lifecycle.bpftrace.txt.gz',
  'samples/synthetic/synthetic-leak.txt.gz',
  'samples/formats/perf_script_lock_contention_lkml.txt',
  'samples/formats/bpftrace_testout_multiple_maps.ndjson',
  'samples/formats/perftools_funcgraph_example.txt',
];

export function seedTexts(root: string): string[][] {
  return SEED_FILES.map((f) => {
    const buf = readFileSync(`${root}${f}`);
    return (f.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8').split('\n');
  });
}

const HOSTILE = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', '\x1b]0;t\x07', '\x1b[2J', '=cmd|x', '\u202e', '-1', '0', 'NaN', '1e400', '99999999999999999999', '0x'];
// Where names sit in a line: the comm of an ftrace line, name="...", the module of module_get and
// friends, call_site=..., the lock name of lock_acquire/release/contended.
const NAME_AT = /^\s*(\S+)-\d+\s+\[|name="([^"]*)"|module_(?:get|put|load|free): (\S+)|call_site=(\S+)|lock_\w+: \S+ (?:read )?(\S+)$/dgm;
const CHARS = [' ', ':', '[', ']', '(', ')', '-', '=', '"', '0', '9', 'x', '.', '|', '\t', '\r', '\0', '\u00ff', '{', '}', '/', '*'];
const KINDS: Mutation['kind'][] = ['delete', 'insert', 'replace', 'truncate', 'duplicate', 'swapdigit'];

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: Rand, n: number): number => Math.floor(r() * n);

/** One line changed the way a hostile or broken machine would. */
function mutateLine(r: Rand, line: string): string {
  switch (int(r, 5)) {
    case 4: {
      // A name the analyses key tables by (comm, session, module, call site, lock) made hostile.
      const all = [...line.matchAll(NAME_AT)];
      const at = all.length ? pick(r, all).indices?.find((ix, i) => i > 0 && ix !== undefined) : undefined;
      return at ? line.slice(0, at[0]) + pick(r, HOSTILE).replace(/ /g, '') + line.slice(at[1]) : line;
    }
    case 0: {
      // A word (name, number, call site) replaced by a hostile one.
      const words = [...line.matchAll(/[A-Za-z_][\w.-]*|\d+/g)];
      if (!words.length) return line;
      const w = pick(r, words);
      return line.slice(0, w.index) + pick(r, HOSTILE) + line.slice((w.index ?? 0) + w[0].length);
    }
    case 1:
      // The timestamp moved back or forward a little (calls returning before they start).
      return line.replace(/(\d+)\.(\d{6})/, (_m, s: string, us: string) => `${Math.max(0, Number(s) + int(r, 3) - 1)}.${us}`);
    default: {
      const muts: Mutation[] = Array.from({ length: 1 + int(r, 3) }, () => ({ kind: pick(r, KINDS), at: int(r, 200), char: pick(r, CHARS) }));
      return mutate(line, muts);
    }
  }
}

/** Case `n` of the seeded sequence: a mutated window of a real capture, or random bytes. */
export function makeCase(seeds: string[][], seed: number, n: number): { bytes: Buffer; what: string } {
  const r = seededRandom(seed * 1_000_003 + n);
  if (r() < 0.15) {
    const bytes = Buffer.alloc(int(r, 4000));
    for (let i = 0; i < bytes.length; i++) bytes[i] = r() < 0.7 ? 32 + int(r, 95) : r() < 0.5 ? 10 : int(r, 256);
    return { bytes, what: 'random bytes' };
  }
  const s = int(r, seeds.length);
  const src = seeds[s];
  const from = int(r, src.length);
  const lines = src.slice(from, from + 5 + int(r, 300));
  const edits = int(r, 6);
  for (let i = 0; i < edits && lines.length; i++) {
    const at = int(r, lines.length);
    switch (int(r, 5)) {
      case 0:
        lines.splice(at, 1);
        break;
      case 1:
        lines.splice(at, 0, lines[int(r, lines.length)]);
        break;
      case 2: {
        const b = int(r, lines.length);
        [lines[at], lines[b]] = [lines[b], lines[at]];
        break;
      }
      default:
        lines[at] = mutateLine(r, lines[at]);
    }
  }
  // Keep the header of the capture sometimes: the format detection and clock come from it.
  const head = r() < 0.5 ? src.slice(0, 12).filter((l) => l.startsWith('#')) : [];
  return { bytes: Buffer.from([...head, ...lines].join('\n') + (r() < 0.8 ? '\n' : '')), what: `${SEED_FILES[s]} lines ${from + 1}.. (${lines.length}), ${edits} edits` };
}

export interface FuzzTally {
  runs: number;
  refused: number;
  lines: number;
  /** Internal errors by signature: how many, and the first case that hit each. */
  failures: Map<string, { count: number; firstCase: number; what: string; message: string }>;
}

/** Run cases first..first+runs-1 of `seed`; failures are tallied, not thrown. */
export async function fuzzPipeline(root: string, seed: number, runs: number, first = 0, keepDir?: string): Promise<FuzzTally> {
  const seeds = seedTexts(root);
  const reference = await referenceReport(`${root}${SEED_FILES[0]}`);
  const dir = mkdtempSync(join(tmpdir(), 'luotrace-fuzz-'));
  const tally: FuzzTally = { runs: 0, refused: 0, lines: 0, failures: new Map() };
  try {
    for (let n = first; n < first + runs; n++) {
      const c = makeCase(seeds, seed, n);
      const file = join(dir, `case-${n}.txt`);
      writeFileSync(file, c.bytes);
      tally.runs++;
      try {
        const res = await runPipeline(file, reference);
        if (res.refused) tally.refused++;
        tally.lines += res.lines;
      } catch (e) {
        const f = e instanceof PipelineFailure ? e : new PipelineFailure('harness', e);
        const prev = tally.failures.get(f.signature);
        if (prev) prev.count++;
        else {
          tally.failures.set(f.signature, { count: 1, firstCase: n, what: c.what, message: f.message });
          if (keepDir) writeFileSync(join(keepDir, `fuzz-seed${seed}-case${n}.txt`), c.bytes);
        }
      }
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return tally;
}
