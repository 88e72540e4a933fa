// tracefs access for `luotrace record`: finding the mount, reading and writing its control files,
// and a journal that puts back every change it made.
//
// Everything `record` changes in tracefs goes through `TracefsSession.apply()`, which first reads
// what was there and remembers how to undo the change; `restore()` undoes the journal in reverse
// order, best effort (one failure does not stop the rest) and says what it could not undo. The
// writes follow Documentation/trace/ftrace.rst and kprobetrace.rst: control files are written with
// O_TRUNC (and never created), `kprobe_events` only appended to (O_TRUNC would delete every probe
// on the system), probes are removed with `-:group/name`, an instance is removed with rmdir (which
// disables its events). `--dry-run` uses the same code with writes printed instead of made.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmdirSync, constants as FS, writeSync } from 'node:fs';
import { join } from 'node:path';

/** The file operations record needs, relative to the tracefs root. */
export interface TracefsIO {
  readonly root: string;
  read(rel: string): string;
  exists(rel: string): boolean;
  /** O_WRONLY|O_TRUNC, never O_CREAT: tracefs files exist or the write is wrong. */
  write(rel: string, value: string): void;
  /** O_WRONLY|O_APPEND (kprobe_events, dynamic_events). */
  append(rel: string, value: string): void;
  mkdir(rel: string): void;
  rmdir(rel: string): void;
}

export class NodeTracefs implements TracefsIO {
  constructor(readonly root: string) {}
  read(rel: string): string {
    return readFileSync(join(this.root, rel), 'utf8');
  }
  exists(rel: string): boolean {
    return existsSync(join(this.root, rel));
  }
  write(rel: string, value: string): void {
    writeFd(join(this.root, rel), FS.O_WRONLY | FS.O_TRUNC, value);
  }
  append(rel: string, value: string): void {
    writeFd(join(this.root, rel), FS.O_WRONLY | FS.O_APPEND, value);
  }
  mkdir(rel: string): void {
    mkdirSync(join(this.root, rel));
  }
  rmdir(rel: string): void {
    rmdirSync(join(this.root, rel));
  }
}

function writeFd(path: string, flags: number, value: string): void {
  const fd = openSync(path, flags);
  try {
    // One write call: tracefs parses each write(2) as a unit.
    if (value.length > 0) writeSync(fd, value);
  } finally {
    closeSync(fd);
  }
}

/** Where tracefs is mounted: /sys/kernel/tracing, else debugfs's tracing/, else /proc/mounts. */
export function findTracefs(exists: (p: string) => boolean = existsSync, mounts: () => string = () => readFileSync('/proc/mounts', 'utf8')): string | null {
  for (const dir of ['/sys/kernel/tracing', '/sys/kernel/debug/tracing']) {
    if (exists(join(dir, 'trace'))) return dir;
  }
  let text = '';
  try {
    text = mounts();
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const [, dir, type] = line.split(' ');
    if (type === 'tracefs' && exists(join(dir, 'trace'))) return dir;
    if (type === 'debugfs' && exists(join(dir, 'tracing', 'trace'))) return join(dir, 'tracing');
  }
  return null;
}

export type Step =
  | { op: 'mkdir'; path: string; why: string }
  | { op: 'write'; path: string; value: string; why: string }
  | { op: 'append'; path: string; value: string; why: string };

/** A failure while changing tracefs, with the step it happened at. */
export class TracefsStepError extends Error {
  constructor(
    readonly step: Step,
    cause: unknown,
  ) {
    super(`${describeStep(step)}: ${errorText(cause)}`);
  }
}

export function errorText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'no such file (this kernel does not have it)';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied (run as root)';
  if (code === 'EBUSY') return 'device or resource busy';
  if (code === 'EINVAL') return 'invalid argument (the kernel refused the value)';
  if (code === 'EEXIST') return 'already exists';
  return (e as Error)?.message ?? String(e);
}

export function describeStep(s: Step): string {
  if (s.op === 'mkdir') return `mkdir ${s.path}`;
  return `${s.op === 'append' ? 'append' : 'write'} ${s.path}: ${JSON.stringify(s.value.replace(/\n$/, ''))}`;
}

/**
 * The value to write back to put a control file as it was, from what reading it gave.
 * trace_clock reads `[local] global ...`; buffer_size_kb reads `1408` or `7 (expanded: 1408)`;
 * an empty filter reads `none` and is cleared by writing `0` (Documentation/trace/events.rst §5).
 */
export function restoreValue(path: string, previous: string): string {
  const t = previous.trim();
  if (path.endsWith('trace_clock')) {
    const m = /\[(\S+)\]/.exec(t);
    return m ? m[1] : t;
  }
  if (path.endsWith('buffer_size_kb')) {
    const m = /(\d+)/.exec(t.replace(/^\d+ \(expanded: (\d+)\)$/, '$1'));
    return m ? m[1] : t;
  }
  if (path.endsWith('/filter') || path === 'filter') return t === 'none' || t === '' ? '0' : t;
  return t;
}

interface Undo {
  step: Step;
  run: (io: TracefsIO) => void;
}

export class TracefsSession {
  private readonly journal: Undo[] = [];
  /** Instances this session created: their files go away with rmdir, no per-file undo needed. */
  private readonly createdDirs: string[] = [];

  constructor(
    private readonly io: TracefsIO,
    private readonly log: ((line: string) => void) | null = null,
  ) {}

  get changes(): number {
    return this.journal.length;
  }

  /** Apply one step and journal its undo. Throws TracefsStepError; nothing is journaled then. */
  apply(step: Step): void {
    const io = this.io;
    try {
      if (step.op === 'mkdir') {
        io.mkdir(step.path);
        this.createdDirs.push(`${step.path}/`);
        this.journal.push({ step: { op: 'write', path: step.path, value: '', why: 'remove the instance' }, run: (x) => x.rmdir(step.path) });
      } else if (step.op === 'append') {
        io.append(step.path, step.value);
        const removal = probeRemoval(step.value);
        if (removal) {
          this.journal.push({ step: { op: 'append', path: step.path, value: removal, why: 'remove the probe' }, run: (x) => x.append(step.path, removal) });
        }
      } else {
        const inCreated = this.createdDirs.some((d) => step.path.startsWith(d));
        let previous: string | null = null;
        if (!inCreated) previous = io.read(step.path);
        io.write(step.path, step.value);
        if (previous !== null) {
          const back = restoreValue(step.path, previous);
          this.journal.push({ step: { op: 'write', path: step.path, value: back, why: 'put back' }, run: (x) => x.write(step.path, back) });
        }
      }
    } catch (e) {
      throw new TracefsStepError(step, e);
    }
    this.log?.(`${describeStep(step)}    # ${step.why}`);
  }

  /** Undo everything, newest first. Returns what could not be undone (each as a one-line message). */
  restore(): string[] {
    const failed: string[] = [];
    while (this.journal.length > 0) {
      const u = this.journal.pop() as Undo;
      const what = u.step.op === 'write' && u.step.why === 'remove the instance' ? `rmdir ${u.step.path}` : describeStep(u.step);
      try {
        u.run(this.io);
        this.log?.(`${what}    # restore`);
      } catch (e) {
        failed.push(`${what}: ${errorText(e)}`);
      }
    }
    return failed;
  }
}

/** `p:luotrace/foo foo ...` -> `-:luotrace/foo` (kprobetrace.rst "-:[GRP/]EVENT"). */
export function probeRemoval(definition: string): string | null {
  const m = /^[prf]\d*:(\S+)\s/.exec(definition);
  return m ? `-:${m[1]}\n` : null;
}

/**
 * Reads like the real tracefs and prints every write instead of making it (`record --dry-run`).
 * mkdir/append/write never touch the disk; reads of files inside a directory it "created" fail.
 */
export class DryRunTracefs implements TracefsIO {
  readonly lines: string[] = [];
  constructor(private readonly inner: TracefsIO) {}
  get root(): string {
    return this.inner.root;
  }
  read(rel: string): string {
    return this.inner.read(rel);
  }
  exists(rel: string): boolean {
    return this.inner.exists(rel);
  }
  write(_rel: string, _value: string): void {}
  append(_rel: string, _value: string): void {}
  mkdir(_rel: string): void {}
  rmdir(_rel: string): void {}
}
