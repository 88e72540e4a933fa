// Every `docs/FILE.md §N` citation in the code lands: the file exists, it has a heading numbered N,
// and what the citation adds is there too (a lettered subsection `§7(a)`, an item `§5 item 16` or
// step `§6 step 8`, a quoted phrase `§4 "The refcnt field"` the section contains, or a quoted
// heading `docs/luo-model.md "Recognising the version"`). The convention is in docs/README.md.
// Also: comment lines name the docs with their docs/ prefix, and nothing points outside the
// repository. This file itself is not scanned: its examples are citations that must not land.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git']);

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || SKIP_DIRS.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) sourceFiles(path, out);
    else if (/\.tsx?$/.test(entry.name)) out.push(path);
  }
  return out;
}

interface Section {
  number: string | null;
  level: number;
  heading: string;
  /** Raw lines from the heading to the next heading of the same or a higher level. */
  lines: string[];
}

/** Headings of a markdown file (fenced code blocks skipped: `# tracer:` lines are not headings). */
export function parseDoc(text: string): Section[] {
  const lines = text.split('\n');
  const heads: Array<{ at: number; level: number; heading: string }> = [];
  let fenced = false;
  lines.forEach((line, at) => {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^(#{1,6})\s+(.*)$/.exec(line);
    if (m) heads.push({ at, level: m[1].length, heading: m[2].trim() });
  });
  return heads.map((h, i) => {
    let end = lines.length;
    for (const next of heads.slice(i + 1)) {
      if (next.level <= h.level) {
        end = next.at;
        break;
      }
    }
    const num = /^§?(\d+(?:\.\d+)*)\.?(?:\s|$)/.exec(h.heading);
    return { number: num ? num[1] : null, level: h.level, heading: h.heading, lines: lines.slice(h.at, end) };
  });
}

/** Markdown emphasis and code marks removed, whitespace collapsed, lower case. */
function normalize(s: string): string {
  return s.replace(/[`*_]/g, '').replace(/\s+/g, ' ').trim().toLowerCase();
}

/** A quoted phrase as a pattern: `...` / `…` stand for any text. */
function phrase(quote: string): RegExp {
  const parts = normalize(quote).split(/\s*(?:\.\.\.|…)\s*/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(parts.join('.*'));
}

export interface Citation {
  file: string;
  line: number;
  doc: string;
  /** What the citation asks for, e.g. `§5 item 16`. */
  what: string;
  section?: string;
  letter?: string;
  item?: number;
  quote?: string;
}

// `docs/FILE.md`, then optionally a quoted heading, or a run of `§N` references.
const CITE = /docs\/([\w.-]+\.md)(\s*"[^"]+")?/g;
const SECTION =
  /§(\d+(?:\.\d+)*)(?:\s?\(([a-z])\)|([a-z])\b)?(?:\s+\(?(?:items?|steps?)\s+(\d+)(?:\s*[-–]\s*(\d+))?)?(?::?\s*"([^"]+)")?/g;

/** The citations of one source text: each `docs/...md` and the `§` references that follow it on its line. */
export function citationsIn(file: string, text: string): Citation[] {
  const out: Citation[] = [];
  text.split('\n').forEach((lineText, i) => {
    const starts = [...lineText.matchAll(CITE)];
    starts.forEach((m, k) => {
      const doc = m[1];
      const line = i + 1;
      const base = { file, line, doc };
      if (m[2]) {
        out.push({ ...base, what: m[2].trim(), quote: m[2].trim().slice(1, -1) });
        return;
      }
      // The `§` run belongs to this citation up to the next citation or a mention of another
      // document ("real README §2" is samples/real/README.md, not this file).
      let rest = lineText.slice(m.index! + m[0].length, k + 1 < starts.length ? starts[k + 1].index : undefined);
      const other = /README|\b\w[\w-]*\.md\b/.exec(rest);
      if (other) rest = rest.slice(0, other.index);
      const refs = [...rest.matchAll(SECTION)];
      if (refs.length === 0) out.push({ ...base, what: '(whole file)' });
      for (const r of refs) {
        const letter = r[2] ?? r[3];
        const items = r[4] ? (r[5] ? [Number(r[4]), Number(r[5])] : [Number(r[4])]) : [undefined];
        for (const item of items) {
          out.push({ ...base, what: r[0].trim(), section: r[1], letter, item, quote: r[6] });
        }
      }
    });
  });
  return out;
}

/** Why a citation does not land, or null when it does. */
export function problem(c: Citation, docs: Map<string, Section[]>): string | null {
  const sections = docs.get(c.doc);
  if (!sections) return `docs/${c.doc} does not exist`;
  if (!c.section) {
    if (c.quote && !sections.some((s) => phrase(c.quote!).test(normalize(s.heading)))) return `no heading "${c.quote}"`;
    return null;
  }
  const s = sections.find((x) => x.number === c.section);
  if (!s) return `no heading numbered ${c.section}`;
  if (c.letter) {
    const lettered = new RegExp(`^\\s*(#+\\s*|[-*]\\s*(\\*\\*)?)\\(${c.letter}\\)`);
    if (!s.lines.some((l) => lettered.test(l))) return `§${c.section} has no (${c.letter})`;
  }
  if (c.item !== undefined) {
    const numbered = new RegExp(`^\\s*${c.item}\\.\\s`);
    if (!s.lines.some((l) => numbered.test(l))) return `§${c.section} has no item ${c.item}`;
  }
  if (c.quote && !phrase(c.quote).test(normalize(s.lines.join(' ')))) return `§${c.section} does not contain "${c.quote}"`;
  return null;
}

function loadDocs(): Map<string, Section[]> {
  const docs = new Map<string, Section[]>();
  for (const name of readdirSync(join(ROOT, 'docs'))) {
    if (name.endsWith('.md')) docs.set(name, parseDoc(readFileSync(join(ROOT, 'docs', name), 'utf8')));
  }
  return docs;
}

const SELF = fileURLToPath(import.meta.url);
const files = sourceFiles(ROOT)
  .filter((path) => path !== SELF)
  .map((path) => ({ rel: relative(ROOT, path), text: readFileSync(path, 'utf8') }));
const docs = loadDocs();

describe('docs/ citations in the code', () => {
  const all = files.flatMap((f) => citationsIn(f.rel, f.text));

  it('finds the citations (the scanner works)', () => {
    expect(all.length).toBeGreaterThan(100);
    const cited = new Set(all.map((c) => c.doc));
    expect(cited.has('luo-model.md') && cited.has('trace-formats.md')).toBe(true);
  });

  it('every cited file, section, item and phrase exists', () => {
    const bad = all.map((c) => ({ c, why: problem(c, docs) })).filter((x) => x.why);
    expect(bad.map(({ c, why }) => `${c.file}:${c.line} docs/${c.doc} ${c.what}: ${why}`)).toEqual([]);
  });

  it('rejects citations that do not land', () => {
    const wrong = citationsIn(
      'x.ts',
      [
        '// docs/luo-model.md §99',
        '// docs/luo-model.md §7(z)',
        '// docs/trace-formats.md §5 item 42',
        '// docs/luo-model.md §4 "no such phrase"',
        '// docs/luo-model.md "No such heading"',
        '// docs/no-such-file.md §1',
      ].join('\n'),
    );
    expect(wrong.map((c) => problem(c, docs))).toEqual([
      'no heading numbered 99',
      '§7 has no (z)',
      '§5 has no item 42',
      '§4 does not contain "no such phrase"',
      'no heading "No such heading"',
      'docs/no-such-file.md does not exist',
    ]);
  });

  it('comments cite docs/FILE.md, not a bare file name the clone does not have', () => {
    const bare = /(^|[^\w/.-])(luo-model|trace-formats|real-captures|style)\.md/;
    const hits = files.flatMap((f) =>
      f.text
        .split('\n')
        .map((l, i) => ({ l, at: `${f.rel}:${i + 1}` }))
        .filter(({ l }) => /^\s*(\/\/|\/\*|\*)/.test(l) && bare.test(l))
        .map(({ at }) => at),
    );
    expect(hits).toEqual([]);
  });

  it('no source file points outside the repository', () => {
    const outside = ['..' + '/shared', '..' + '/lab/', '/work' + '/'];
    const hits = files.filter((f) => outside.some((p) => f.text.includes(p))).map((f) => f.rel);
    expect(hits).toEqual([]);
  });
});
