// Vitest configuration. It lives in test/ because the design card fixes the top level of the repo.
// Two sets: `*.slow.test.ts` are the end-to-end tests (the TUI in tmux, record's restore at every
// step, memory limits, signals, worker threads, the built CLI in child processes; they need dist/);
// the others are the fast set (`npm run test:fast`, no build needed). `npm test` runs both.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
