// The stored synthetic samples are what their README line says: regenerating each one with its
// documented command gives the same bytes, the first line labels it synthetic, and luotrace reads
// it with no unexplained lines.
import { readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildCommand, cliToOptions } from '../samples/generate.js';
import { gen } from './generate-helpers.js';
import { parseFiles, sample } from './helpers.js';

const README = readFileSync(sample('synthetic/README.md'), 'utf8');
const ROWS = [...README.matchAll(/^\| `([^`]+)` \|.*\| `node dist\/samples\/generate\.js ([^`]*) -o samples\/synthetic\/([^`]+)` \|$/gm)].map((m) => ({
  file: m[1],
  args: m[2].split(' '),
  out: m[3],
}));

describe('samples/synthetic', () => {
  it('every file in the folder has a README line with its command, and only synthetic names', () => {
    const all = readdirSync(sample('synthetic')).filter((f) => f !== 'README.md');
    for (const f of all) expect(f).toMatch(/synthetic/);
    // `check-*` files are made by test code (test/cli/check-fixtures.ts) and checked by diff.test.ts.
    const files = all.filter((f) => !f.startsWith('check-'));
    expect(files.sort()).toEqual(ROWS.map((r) => r.file).sort());
    for (const f of all.filter((x) => x.startsWith('check-'))) expect(README).toContain(`\`${f}\``);
  });

  for (const row of ROWS) {
    it(`${row.file} is what \`generate ${row.args.join(' ')}\` writes`, async () => {
      expect(row.file === row.out || row.file === `${row.out}.gz`).toBe(true);
      const cmd = buildCommand().exitOverride();
      cmd.parse(row.args, { from: 'user' });
      const g = gen(cliToOptions(cmd.opts()));
      const raw = readFileSync(sample(`synthetic/${row.file}`));
      const stored = row.file.endsWith('.gz') ? gunzipSync(raw) : raw;
      expect(stored.equals(g.buf)).toBe(true);
      expect(g.lines[0]).toMatch(/^(# |\{"type": "synthetic", "data": ")synthetic: luotrace generate --scenario /);
      if (!row.file.includes('bpftrace')) {
        const r = await parseFiles([sample(`synthetic/${row.file}`)]);
        const skipped = r.quality.lines.skipped;
        // Only what the file is meant to contain: the console's userspace lines, the damaged capture's faults.
        for (const reason of Object.keys(skipped)) expect(['console-text', 'foreign-text', 'binary-garbage', 'truncated-last-line']).toContain(reason);
        if (!row.args.includes('--fault') && !row.file.includes('console')) expect(skipped).toEqual({});
        expect(r.quality.lines.events).toBe(g.stats.events);
      }
    });
  }
});
