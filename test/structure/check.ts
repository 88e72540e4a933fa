// The repository's structure, measured with the TypeScript compiler API (the project's own
// devDependency): which file imports which (type imports included), import cycles, imports that run
// against the layers, folder sizes in analyses/, long functions and long files.
//
// The layers, from the bottom: parsers/ (text -> events), analyses/ (events -> report), reports/
// (consumers of a finished report: check rules, diff, fleet, Chrome trace, CSV tables), cli/
// (commands, renderers, the TUI). A file may import its own layer or a lower one, never a higher one,
// and no layer imports test/ or samples/. Inside analyses/, kernel/ (knowledge of the kernel code)
// and stream/ (order, boots, LUO calls, the reducer interface) sit under luo/ and locks/, which do
// not import each other: a fact both need goes down into stream/ or kernel/.
//
// Run it: `npm run structure` (test/structure/main.ts) or the vitest test test/structure.test.ts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const MAX_FUNCTION_LINES = 150;
export const MAX_FILE_LINES = 800;
export const MAX_FILES_PER_ANALYSES_FOLDER = 12;

/** Top-level folders holding TypeScript, the layers in order from the bottom. */
export const LAYERS = ['parsers', 'analyses', 'reports', 'cli'] as const;
/** Also read for imports (cycles, and so that no layer imports them). */
const OTHER_ROOTS = ['samples', 'test'] as const;
/** Rooms of analyses/ that must not import one another (either direction). */
const SIBLING_ROOMS: Array<[string, string]> = [['analyses/luo', 'analyses/locks']];
/** Rooms of analyses/ and the only other parts of analyses/ each may import. */
const ROOM_MAY_IMPORT: Record<string, string[]> = {
  'analyses/kernel': [],
  'analyses/stream': ['analyses/kernel'],
};

export interface SourceFile {
  /** Repository-relative, with forward slashes. */
  path: string;
  lines: number;
  /** Repository-relative paths of the repository files it imports. */
  imports: string[];
  functions: Array<{ name: string; line: number; lines: number }>;
}

export interface Structure {
  files: SourceFile[];
  /** Every folder under analyses/ (and analyses/ itself) -> how many files it holds directly. */
  analysesFolders: Record<string, number>;
}

const posix = (p: string): string => p.split(sep).join('/');

/** The repository root: the nearest folder above this file with a package.json (works from dist/ too). */
export function repoRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  let d = from;
  while (!existsSync(join(d, 'package.json')) || !existsSync(join(d, 'tsconfig.json'))) {
    const up = dirname(d);
    if (up === d) throw new Error(`no package.json above ${from}`);
    d = up;
  }
  return d;
}

function walk(dir: string, out: string[]): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (/\.tsx?$/.test(e.name)) out.push(p);
  }
}

function compilerOptions(root: string): ts.CompilerOptions {
  const cfg = ts.readConfigFile(join(root, 'tsconfig.json'), (p) => ts.sys.readFile(p));
  if (cfg.error) throw new Error(ts.flattenDiagnosticMessageText(cfg.error.messageText, '\n'));
  return ts.parseJsonConfigFileContent(cfg.config, ts.sys, root).options;
}

/** Lines as `wc -l` counts them (a last line without a newline counts too). */
function lineCount(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return text.length > 0 && !text.endsWith('\n') ? n + 1 : n;
}

/** Module specifiers of every import in the file: import/export ... from, import type, import('x') in types and code. */
function specifiers(sf: ts.SourceFile): string[] {
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) out.push(n.moduleSpecifier.text);
    else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) out.push(n.argument.literal.text);
    else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0] && ts.isStringLiteral(n.arguments[0])) out.push(n.arguments[0].text);
    else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference) && ts.isStringLiteral(n.moduleReference.expression)) out.push(n.moduleReference.expression.text);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

type FunctionLike = ts.FunctionDeclaration | ts.MethodDeclaration | ts.ConstructorDeclaration | ts.GetAccessorDeclaration | ts.SetAccessorDeclaration | ts.FunctionExpression | ts.ArrowFunction;

function isFunctionLike(n: ts.Node): n is FunctionLike {
  return ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n) || ts.isConstructorDeclaration(n) || ts.isGetAccessorDeclaration(n) || ts.isSetAccessorDeclaration(n) || ts.isFunctionExpression(n) || ts.isArrowFunction(n);
}

/** A readable name: `f`, `Class.method`, `const x = () => ...` -> `x`, else `<anonymous>` inside its nearest named function. */
function functionName(n: FunctionLike, enclosing: string | null): string {
  const own = (): string | null => {
    if (ts.isConstructorDeclaration(n)) return 'constructor';
    if (n.name && (ts.isIdentifier(n.name) || ts.isStringLiteral(n.name) || ts.isPrivateIdentifier(n.name))) return n.name.text;
    const p = n.parent;
    if (ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
    if (ts.isPropertyAssignment(p) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) return p.name.text;
    if (ts.isPropertyDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
    return null;
  };
  const name = own();
  const cls = n.parent && (ts.isClassDeclaration(n.parent) || ts.isClassExpression(n.parent)) ? n.parent.name?.text : undefined;
  if (name !== null) return cls ? `${cls}.${name}` : name;
  return enclosing ? `${enclosing}/<anonymous>` : '<anonymous>';
}

function functionsOf(sf: ts.SourceFile): SourceFile['functions'] {
  const out: SourceFile['functions'] = [];
  const lineOf = (pos: number): number => sf.getLineAndCharacterOfPosition(pos).line;
  const visit = (n: ts.Node, enclosing: string | null): void => {
    let inner = enclosing;
    if (isFunctionLike(n)) {
      const name = functionName(n, enclosing);
      const first = lineOf(n.getStart(sf));
      out.push({ name, line: first + 1, lines: lineOf(n.getEnd()) - first + 1 });
      if (!name.endsWith('<anonymous>')) inner = name;
    }
    ts.forEachChild(n, (c) => visit(c, inner));
  };
  visit(sf, null);
  return out;
}

/** Read every TypeScript file of the layers, samples/ and test/ and measure it. */
export function measure(root = repoRoot()): Structure {
  const options = compilerOptions(root);
  const abs: string[] = [];
  for (const d of [...LAYERS, ...OTHER_ROOTS]) walk(join(root, d), abs);
  const files: SourceFile[] = abs.sort().map((file) => {
    const text = readFileSync(file, 'utf8');
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
    const imports = new Set<string>();
    for (const spec of specifiers(sf)) {
      const r = ts.resolveModuleName(spec, file, options, ts.sys).resolvedModule;
      if (!r || r.isExternalLibraryImport) continue;
      const rel = posix(relative(root, r.resolvedFileName));
      if (!rel.startsWith('..')) imports.add(rel);
    }
    return { path: posix(relative(root, file)), lines: lineCount(text), imports: [...imports].sort(), functions: functionsOf(sf) };
  });
  const analysesFolders: Record<string, number> = {};
  const count = (dir: string): void => {
    const entries = readdirSync(join(root, dir), { withFileTypes: true });
    analysesFolders[dir] = entries.filter((e) => e.isFile()).length;
    for (const e of entries) if (e.isDirectory()) count(`${dir}/${e.name}`);
  };
  if (existsSync(join(root, 'analyses'))) count('analyses');
  return { files, analysesFolders };
}

/** Import cycles: strongly connected components of more than one file, or a file importing itself (Tarjan). */
export function importCycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) connect(v);
  return cycles;
}

const under = (path: string, dir: string): boolean => path.startsWith(`${dir}/`);
const layerOf = (path: string): number => LAYERS.findIndex((l) => under(path, l));

/** Imports that run against the layers (a lower layer importing a higher one, a layer importing test/ or samples/) or between rooms of analyses/. */
export function layerViolations(graph: Map<string, string[]>): string[] {
  const out: string[] = [];
  for (const [from, targets] of graph) {
    const lf = layerOf(from);
    if (lf < 0) continue;
    for (const to of targets) {
      const lt = layerOf(to);
      if (lt < 0) out.push(`${from} imports ${to}: ${LAYERS[lf]}/ must not import test/ or samples/`);
      else if (lt > lf) out.push(`${from} imports ${to}: ${LAYERS[lf]}/ must not import ${LAYERS[lt]}/ (data flows ${LAYERS.join(' -> ')})`);
      for (const [a, b] of SIBLING_ROOMS) {
        if ((under(from, a) && under(to, b)) || (under(from, b) && under(to, a))) out.push(`${from} imports ${to}: ${a}/ and ${b}/ must not import each other`);
      }
      for (const [room, allowed] of Object.entries(ROOM_MAY_IMPORT)) {
        if (under(from, room) && under(to, 'analyses') && !under(to, room) && !allowed.some((d) => under(to, d))) {
          const may = allowed.length ? `may import only ${allowed.map((d) => `${d}/`).join(', ')} of analyses/` : 'must not import the rest of analyses/';
          out.push(`${from} imports ${to}: ${room}/ ${may}`);
        }
      }
    }
  }
  return out;
}

/** Where the size limits apply: everything but the tests. */
export const sizeChecked = (path: string): boolean => !under(path, 'test');

export interface Offender {
  /** `path` for a file, `path#name` for a function (a second function of the same name: `#name#2`). */
  key: string;
  lines: number;
}

export function longFunctions(s: Structure, limit = MAX_FUNCTION_LINES): Offender[] {
  const out: Offender[] = [];
  for (const f of s.files.filter((x) => sizeChecked(x.path))) {
    const seen = new Map<string, number>();
    for (const fn of f.functions) {
      const n = (seen.get(fn.name) ?? 0) + 1;
      seen.set(fn.name, n);
      if (fn.lines > limit) out.push({ key: `${f.path}#${fn.name}${n > 1 ? `#${n}` : ''}`, lines: fn.lines });
    }
  }
  return out;
}

export function longFiles(s: Structure, limit = MAX_FILE_LINES): Offender[] {
  return s.files.filter((f) => sizeChecked(f.path) && f.lines > limit).map((f) => ({ key: f.path, lines: f.lines }));
}

/**
 * Offenders against an allow-list of today's (key -> lines when listed). New offenders and listed
 * ones that grew fail; a listed one that is no longer over the limit must leave the list, so the list
 * only shrinks.
 */
export function againstAllowList(found: Offender[], allowed: Record<string, number>, what: string, limit: number): string[] {
  const out: string[] = [];
  const byKey = new Map(found.map((o) => [o.key, o.lines]));
  for (const o of found) {
    const max = allowed[o.key];
    if (max === undefined) out.push(`${what} ${o.key}: ${o.lines} lines, over ${limit} (split it; the allow-list is only for what was long before)`);
    else if (o.lines > max) out.push(`${what} ${o.key}: ${o.lines} lines, grew beyond its allowed ${max}`);
  }
  for (const key of Object.keys(allowed)) {
    if (!byKey.has(key)) out.push(`${what} ${key} is no longer over ${limit} lines (or was renamed): remove it from the allow-list`);
  }
  return out;
}

/** Functions over the limit when this check was written (lines as measured then); split them and remove them here. */
export const LONG_FUNCTIONS_ALLOWED: Record<string, number> = {
};

/** Files over the limit when this check was written. */
export const LONG_FILES_ALLOWED: Record<string, number> = {
};

export const importGraph = (s: Structure): Map<string, string[]> => new Map(s.files.map((f) => [f.path, f.imports]));

/** Everything the structure check fails on, one line each (empty: the structure holds). */
export function structureProblems(s: Structure): string[] {
  const graph = importGraph(s);
  return [
    ...importCycles(graph).map((c) => `import cycle: ${c.join(' <-> ')}`),
    ...layerViolations(graph),
    ...Object.entries(s.analysesFolders)
      .filter(([, n]) => n > MAX_FILES_PER_ANALYSES_FOLDER)
      .map(([d, n]) => `${d}/ holds ${n} files, over ${MAX_FILES_PER_ANALYSES_FOLDER}: give some of them a room of their own`),
    ...againstAllowList(longFunctions(s), LONG_FUNCTIONS_ALLOWED, 'function', MAX_FUNCTION_LINES),
    ...againstAllowList(longFiles(s), LONG_FILES_ALLOWED, 'file', MAX_FILE_LINES),
  ];
}
