import { describe, expect, it } from 'vitest';
import { parseText } from '../helpers.js';

describe('smoke', () => {
  it('parses one real module_get line', async () => {
    const r = await parseText('         luo_ctl-317     [001] .....    86.770538: module_get: luo_demo call_site=luo_preserve_file refcnt=3\n');
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({ kind: 'module_get', comm: 'luo_ctl', pid: 317, cpu: 1, time: 86_770_538_000 });
  });
});
