// Issue 15, item 3 with worker threads (fleet's default; they load the built CLI from dist/): the
// report and stderr never quote the file outside the folder. The same in this thread (-j 0) and the
// confinement rules themselves: fleet-confinement.test.ts.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { expectNothingQuoted } from './fleet-confinement-case.js';

describe('fleet confinement (item 3)', () => {
  it('the report and stderr never quote the file outside the folder', async () => {
    await expectNothingQuoted(join(mkdtempSync(join(tmpdir(), 'luotrace-confine-')), 'cli'), []);
  });
});
