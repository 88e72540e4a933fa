// parsers/event-codec.ts on the largest real capture the analyses read in one run (100 000 events):
// every event comes back as the same JSON text. The other captures: event-codec.test.ts.
import { describe, it } from 'vitest';
import { sample } from '../helpers.js';
import { expectCaptureRoundTrip } from './event-codec-roundtrip.js';

describe('event codec', () => {
  it.each(['real/contention-no-writer/stage1/ftrace-main.txt.gz'])('gives back every event of %s as the same JSON', (file) => expectCaptureRoundTrip(sample(file)));
});
