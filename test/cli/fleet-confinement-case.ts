// Issue 15, item 3: `fleet` never quotes a file from outside a host folder, in its report or on
// stderr. Shared by fleet-confinement.test.ts (-j 0, in this thread) and fleet-confinement.slow.test.ts
// (worker threads, the default; they run the built CLI from dist/).
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { sample } from '../helpers.js';
import { runCli } from './run.js';

/** A fleet in `fleet` (made here): a host whose manifest names ../../secret beside a good host. */
export async function expectNothingQuoted(fleet: string, jobs: string[]): Promise<void> {
  const h = join(fleet, 'h');
  mkdirSync(h, { recursive: true });
  writeFileSync(join(fleet, '..', 'secret'), 'root:TOPSECRET-HASH:19000:0:99999:7:::\n');
  writeFileSync(join(h, 'luotrace-inputs.txt'), '../../secret\n');
  symlinkSync(sample('synthetic/synthetic-leak.txt.gz'), join(fleet, 'good.txt.gz'));
  for (const args of [['fleet', fleet, '--json', ...jobs], ['fleet', fleet, ...jobs]]) {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).not.toContain('TOPSECRET');
    expect(r.stdout).toContain('names a path outside the host folder');
  }
}
