// `luotrace record` restoration: a fault injected at every single setup step, and SIGINT arriving
// at several of them, each on a fresh fake tracefs (test/cli/fake-tracefs.ts); the tracefs state
// found at start must be there again afterwards, file by file.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ownThreads, RecordError, type RecordCliOptions, type RecordEnv, runRecord } from '../../cli/record.js';
import { StopController } from '../../cli/record/lifecycle.js';
import { buildPlan, DEFAULT_SETTINGS, readKernelFacts } from '../../cli/record/plan.js';
import { FakeTracefs, realKallsyms, scratch } from './fake-tracefs.js';

const { tmp, fake } = scratch('luotrace-restore-test-', afterEach);

const kallsyms = join(mkdtempSync(join(tmpdir(), 'luotrace-restore-ks-')), 'kallsyms');
writeFileSync(kallsyms, realKallsyms());

function options(over: Partial<RecordCliOptions> = {}): RecordCliOptions {
  return { backend: 'ftrace', instance: DEFAULT_SETTINGS.instance, clock: DEFAULT_SETTINGS.clock, bufferSizeKb: DEFAULT_SETTINGS.bufferSizeKb, lockdep: true, bpftrace: 'bpftrace', kallsyms, ...over };
}

function env(err: string[] = []): RecordEnv {
  return { stdout: () => {}, stderr: (s) => err.push(s), tty: false, now: () => new Date('2026-05-01T12:00:00Z'), release: '7.2.13', isRoot: true };
}

const SHORT_COMMAND = [process.execPath, '-e', 'setTimeout(() => {}, 300)'];

describe('record: restoration after a fault or a signal at every setup step', () => {
  // How many mutating operations a full setup makes on this kernel (then tracing_on=1).
  const probe = new FakeTracefs();
  const steps = buildPlan(readKernelFacts(probe, realKallsyms(), '7.2.13'), { ...DEFAULT_SETTINGS, selfTids: ownThreads() }).steps.length;
  probe.cleanup();

  it(`the setup has ${steps} steps`, () => {
    expect(steps).toBeGreaterThan(60);
  });

  for (let i = 0; i < steps; i++) {
    it(`fault at step ${i}: record fails with the step named, tracefs as found`, async () => {
      const f = fake({ failAt: i });
      const before = f.snapshot();
      const output = join(tmp(), 'o.txt');
      const p = runRecord(options({ output }), SHORT_COMMAND, env(), f);
      await expect(p).rejects.toThrow(RecordError);
      await expect(p).rejects.toThrow(/^setup failed at (write|append|mkdir) .*: invalid argument \(the kernel refused the value\) \(tracefs restored\)$/);
      expect(f.snapshot()).toEqual(before);
      expect(readFileSync(output, 'utf8')).toMatch(/; tracefs restored$/m);
    });
  }

  for (const i of [0, 1, Math.floor(steps / 2), steps - 2, steps - 1]) {
    it(`SIGINT arriving at step ${i}: setup stops, tracefs as found`, async () => {
      const ctl = new StopController();
      const f = fake({ onOp: (n) => n === i && ctl.stop('SIGINT') });
      const before = f.snapshot();
      const p = runRecord(options({ output: join(tmp(), 'o.txt') }), SHORT_COMMAND, env(), f, ctl);
      if (i === steps - 1) await expect(p).resolves.toBe(0); // the last step starts tracing: a normal stop
      else await expect(p).rejects.toThrow(/stopped by SIGINT during setup/);
      expect(f.snapshot()).toEqual(before);
    });
  }

  it('a restore that cannot undo a change says so, names it, and exits 3', async () => {
    const f = fake();
    const ctl = new StopController();
    setTimeout(() => ctl.stop('SIGINT'), 150);
    // Something else enables our probe in another instance: the kernel refuses to remove it (EBUSY).
    const origAppend = f.append.bind(f);
    f.append = (rel: string, value: string) => {
      if (value.startsWith('-:luotrace/luo_preserve_file\n')) {
        const e = new Error('busy') as NodeJS.ErrnoException;
        e.code = 'EBUSY';
        throw e;
      }
      origAppend(rel, value);
    };
    const err: string[] = [];
    const code = await runRecord(options({ output: join(tmp(), 'o.txt') }), null, env(err), f, ctl);
    expect(code).toBe(3);
    expect(err.join('')).toContain('tracefs NOT fully restored; undo by hand:\n  append kprobe_events: "-:luotrace/luo_preserve_file": device or resource busy');
  });
});

