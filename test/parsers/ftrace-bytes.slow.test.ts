// parsers/ftrace-bytes.ts on the 100 000-line real contention capture (about 2 s of CPU): the same
// events as the string path. The other captures and the synthetic shapes: ftrace-bytes.test.ts.
import { describe, it } from 'vitest';
import { expectSameBothWays } from './ftrace-bytes-both-ways.js';

describe('ftrace fast path: the same events as the string path', () => {
  const rel = 'real/contention-no-writer/stage1/ftrace-main.txt.gz';
  it(rel, () => expectSameBothWays(rel));
});
