// Vitest configuration. It lives in test/ because the design card fixes the top level of the repo.
// Two projects, both run by `npm test`:
// - fast: everything but `*.slow.test.ts`, from the TypeScript source (no build needed; the CLI runs
//   in-process, test/cli/run.ts). `npm run test:fast` runs only these. Worker threads without
//   per-file isolation: each worker imports the modules (commander, zod, ink, the analyses) once
//   instead of once per file, which halves the CPU time of the set, and the files of a worker share
//   test/analysis-cache.ts (one frozen analysis of a capture several files read). No test of this
//   set changes module state another file could see (no mocks, no env changes; in-process CLI runs
//   restore what they lend).
// - slow: `*.slow.test.ts`, the end-to-end tests (the TUI in tmux, record's restore at every step,
//   memory limits, signals, worker threads, the built CLI in child processes; they need dist/), and
//   the heavy half of checks the fast set runs on a small case (X.slow.test.ts beside X.test.ts,
//   sharing a helper): the captures of more than 10 MB of text, every rendering of a run, the full
//   fuzz and property counts, DuckDB on whole real hosts, the 49 MB stress run of the caps. Each file
//   in a process of its own as vitest does by default. They start once the fast set is done
//   (groupOrder), so their timings (signals, tmux, child processes) do not share the CPUs with the
//   fast set's two workers.
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const SLOW = 'test/**/*.slow.test.ts';

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The threads pool is the fast project's only. Vitest takes its worker options from here, not
    // from the project, and by default starts one worker fewer than there are CPUs: 1 on a 2-CPU box.
    poolOptions: { threads: { isolate: false, maxThreads: 2 } },
    projects: [
      { extends: true, test: { name: 'fast', include: ['test/**/*.test.ts', 'test/**/*.test.tsx'], exclude: [...configDefaults.exclude, SLOW], pool: 'threads', sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'slow', include: [SLOW], sequence: { groupOrder: 1 } } },
    ],
  },
});
