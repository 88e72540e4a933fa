// `npm run structure`: the structure check (test/structure/check.ts) as a report for people. Prints
// the long functions and files still waiting to be split, the files per folder of analyses/, then
// every problem; exit code 1 when there is one.
import { LONG_FILES_ALLOWED, LONG_FUNCTIONS_ALLOWED, MAX_FILE_LINES, MAX_FUNCTION_LINES, longFiles, longFunctions, measure, structureProblems } from './check.js';

const s = measure();
const problems = structureProblems(s);
const out: string[] = [`${s.files.length} TypeScript files; ${s.files.reduce((n, f) => n + f.imports.length, 0)} imports between them`];
const fns = longFunctions(s).sort((a, b) => b.lines - a.lines);
out.push(`functions over ${MAX_FUNCTION_LINES} lines: ${fns.length} (allow-listed: ${Object.keys(LONG_FUNCTIONS_ALLOWED).length})`);
for (const f of fns) out.push(`  ${String(f.lines).padStart(5)}  ${f.key}`);
const files = longFiles(s).sort((a, b) => b.lines - a.lines);
out.push(`files over ${MAX_FILE_LINES} lines: ${files.length} (allow-listed: ${Object.keys(LONG_FILES_ALLOWED).length})`);
for (const f of files) out.push(`  ${String(f.lines).padStart(5)}  ${f.key}`);
out.push('files per folder of analyses/:');
for (const [d, n] of Object.entries(s.analysesFolders)) out.push(`  ${String(n).padStart(5)}  ${d}/`);
out.push(problems.length === 0 ? 'structure: ok' : `structure: ${problems.length} problem(s)`);
for (const p of problems) out.push(`  ${p}`);
process.stdout.write(`${out.join('\n')}\n`);
process.exitCode = problems.length === 0 ? 0 : 1;
