// Issue 15 case 2 through fleet's worker threads (its default; they load the built CLI from dist/):
// a host whose file name and trace names carry terminal escapes puts no ESC, BEL or CSI byte on
// stdout or stderr. The other commands, and fleet -j 0: hostile.test.ts.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/run.js';
import { escapeTrace } from './hostile-fixtures.js';

describe('case 2: terminal escapes in comms, session, module, call-site and lock names', () => {
  it('fleet: no ESC, BEL or CSI byte reaches stdout or stderr', async () => {
    const fleet = join(mkdtempSync(join(tmpdir(), 'luotrace-hostile-')), 'fleet');
    mkdirSync(fleet);
    writeFileSync(join(fleet, 'host\x1b[2J.txt'), escapeTrace());
    const r = await runCli(['fleet', fleet, '--limit', '50']);
    expect([0, 1]).toContain(r.code);
    expect(r.stdout + r.stderr).not.toMatch(/[\x1b\x07\x9b]/);
  });
});
