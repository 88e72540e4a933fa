// Issue 15, item 3 (and issue 14's README/INDEX point): `fleet` reads only files inside each host
// folder, and never quotes a file from elsewhere. The "secret" is a stand-in for /etc/shadow.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostInputs, listHosts } from '../../cli/fleet/hosts.js';
import { sample } from '../helpers.js';
import { expectNothingQuoted } from './fleet-confinement-case.js';

const tmp = mkdtempSync(join(tmpdir(), 'luotrace-confine-'));
const secret = join(tmp, 'secret');
writeFileSync(secret, 'root:TOPSECRET-HASH:19000:0:99999:7:::\n');
const LEAK = sample('synthetic/synthetic-leak.txt.gz');

/** A fleet folder with one host folder `h` made by `make`. */
function hostFolder(name: string, make: (h: string) => void): string {
  const fleet = join(tmp, name);
  const h = join(fleet, 'h');
  mkdirSync(h, { recursive: true });
  make(h);
  return fleet;
}

describe('fleet confinement (item 3)', () => {
  it('a manifest line with .. or an absolute path, or a symlink leaving the folder: the host is unusable, nothing read', () => {
    const cases: Array<[string, (h: string) => void, RegExp]> = [
      ['dotdot', (h) => writeFileSync(join(h, 'luotrace-inputs.txt'), '../../secret\n'), /names a path outside the host folder: "\.\.\/\.\.\/secret"/],
      ['absolute', (h) => writeFileSync(join(h, 'luotrace-inputs.txt'), `${secret}\n`), /names a path outside the host folder/],
      ['manifest-link', (h) => (symlinkSync(secret, join(h, 'trace.txt')), writeFileSync(join(h, 'luotrace-inputs.txt'), 'trace.txt\n')), /trace\.txt resolves outside the host folder/],
      ['file-link', (h) => symlinkSync(secret, join(h, 'trace.txt')), /trace\.txt resolves outside the host folder/],
      ['stage-link', (h) => (mkdirSync(join(tmp, 'elsewhere'), { recursive: true }), writeFileSync(join(tmp, 'elsewhere', 'x.txt'), 'x'), symlinkSync(join(tmp, 'elsewhere'), join(h, 'stage1'))), /x\.txt resolves outside the host folder/],
      ['manifest-itself', (h) => (writeFileSync(join(tmp, 'm.txt'), 'a.txt\n'), writeFileSync(join(h, 'a.txt'), 'x'), symlinkSync(join(tmp, 'm.txt'), join(h, 'luotrace-inputs.txt'))), /luotrace-inputs\.txt resolves outside/],
    ];
    for (const [name, make, why] of cases) {
      const r = hostInputs(join(hostFolder(name, make), 'h'));
      expect({ name, inputs: r.inputs, error: r.error }).toEqual({ name, inputs: [], error: expect.stringMatching(why) });
      expect(r.error).not.toContain('TOPSECRET');
    }
    // Inside the folder, a manifest and a symlink that stays inside are fine.
    const ok = hostInputs(join(hostFolder('inside', (h) => (writeFileSync(join(h, 'a.txt'), 'x'), symlinkSync('a.txt', join(h, 'b.txt')), writeFileSync(join(h, 'luotrace-inputs.txt'), 'b.txt\n'))), 'h'));
    expect(ok.error).toBeNull();
  });

  it('the report and stderr never quote the file outside the folder (-j 0: the hosts in this thread)', async () => {
    // With worker threads (the default, from dist/): fleet-confinement.slow.test.ts.
    await expectNothingQuoted(join(tmp, 'cli'), ['-j', '0']);
  });
});

describe('notes beside the traces are not hosts (issue 14)', () => {
  it('README*, INDEX* (00-INDEX too) and *.md in the fleet folder or a host folder are skipped', () => {
    const fleet = hostFolder('notes', (h) => (writeFileSync(join(h, 'trace.txt'), 'x'), writeFileSync(join(h, 'README'), 'notes'), writeFileSync(join(h, '00-INDEX'), 'notes')));
    for (const n of ['README.md', 'INDEX.txt', 'index.html', 'notes.md', '00-INDEX']) writeFileSync(join(fleet, n), '# about these captures\n');
    symlinkSync(LEAK, join(fleet, 'web-07.txt.gz'));
    const hosts = listHosts([fleet]);
    expect(hosts.map((h) => h.host)).toEqual(['h', 'web-07']);
    expect(hosts[0].inputs.map((p) => p.slice(fleet.length))).toEqual(['/h/trace.txt']);
  });
});
