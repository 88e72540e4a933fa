// `luotrace check` on the other renderings of the real runs (check-real-sets.ts): each passes with
// the default rules, with exactly the rules it can check; the trimmed ones are incomplete input.
// About 4 s of CPU; check.test.ts checks one rendering of each kind in the fast set.
import { describe, it } from 'vitest';
import { expectPasses, expectTrimmedIncomplete, isFastRealSet, REAL_SETS, realSetName, TRIMMED, trimmedName } from './check-real-sets.js';

describe('check on the real captures passes with the default rules', () => {
  for (const set of REAL_SETS.filter((s) => !isFastRealSet(s))) it(realSetName(set), () => expectPasses(set));
  for (const f of TRIMMED.slice(1)) it(trimmedName(f), () => expectTrimmedIncomplete(f));
});
