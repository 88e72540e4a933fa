// --follow on the 100 000-line real contention capture (about 4 s of CPU): the checks of
// follow.test.ts that the fast set runs on the small captures.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { TuiModel } from '../../cli/tui/model.js';
import { expectRepeatableReport, expectSnapshotSaysSoFar, expectSnapshotsHarmless, expectStreamFollowed } from './follow-cases.js';
import { CAPTURES } from './helpers.js';

let model: TuiModel | null = null;
afterEach(() => model?.stop());

describe('--follow', () => {
  it('rests on report() giving the same report when called again (each analysis finish() is repeatable)', async () => {
    await expectRepeatableReport(CAPTURES.contention);
  });

  it('snapshot reports taken while following the 100 000-line capture change nothing in the final one', async () => {
    const snapshots = await expectSnapshotsHarmless(CAPTURES.contention[0], 10_000);
    expect(Math.max(...snapshots.map(expectSnapshotSaysSoFar))).toBeGreaterThan(0);
  }, 180_000);

  it('keeps statistics for a 100 000-line stream while holding 1 000 raw lines; report equals the batch one', async () => {
    const data = gunzipSync(readFileSync(CAPTURES.contention[0]));
    await expectStreamFollowed(data, 256 * 1024, 1000, 542, (m) => (model = m));
  }, 180_000);
});
