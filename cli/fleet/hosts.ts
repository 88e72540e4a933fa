// Which hosts a `luotrace fleet DIR...` run has, and which trace files make each host's run.
//
// Every entry of DIR is one host (hidden entries are skipped):
// - a file (plain or .gz) is a host whose whole run is that file; the host is named after the file
//   without `.gz` and its last extension (`web-07.txt.gz` -> `web-07`);
// - a directory is a host named after the directory; its trace files are, in this order of rules:
//   1. the manifest `luotrace-inputs.txt` if there is one: one path per line, relative to the
//      directory, in reading order (`#` comments and blank lines ignored);
//   2. the lab layout (samples/real/, lab/capture.sh): `stage1/`, `stage2/`... in numeric order, one
//      folder per kernel; the run's serial `console.log[.gz]` goes right after stage 1, because it
//      carries the freeze phase inside `kexec -e` between the two kernels (samples/real/README.md
//      §3.1); other files beside the stage folders (guest-cmdline.txt...) are not traces;
//   3. a folder holding `ftrace-main.txt[.gz]` (a lab stage folder): that file only; the folder's
//      other ftrace/trace-cmd/bpftrace files are renderings of the same ring buffer (README §2) and
//      reading them too would count every event several times;
//   4. otherwise every file directly inside, in name order (`luotrace record` names its output
//      `luotrace-BACKEND-DATE.txt`, so name order is time order).
// Stage folders follow rules 3 and 4.
//
// Notes are not traces: README*, INDEX* (also numbered, as the kernel's `00-INDEX`) and *.md entries
// are neither hosts nor a host's files.
// Confinement: a host folder holds what a host produced, so the host reads only files inside it: a
// manifest line that is absolute or has a `..` component, and any file whose real path (symlinks
// resolved) leaves the folder, make the host unusable with a reason that names the path only:
// nothing of such a file is read, so no error can quote its content. DIR's own entries may be
// symlinks (whoever runs fleet arranges DIR, as they would name files on the command line).
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, sep } from 'node:path';
import { InputError } from '../../parsers/index.js';

export const MANIFEST = 'luotrace-inputs.txt';
const PRIMARY = ['ftrace-main.txt', 'ftrace-main.txt.gz'];
const CONSOLE = ['console.log', 'console.log.gz'];

export interface HostTask {
  host: string;
  inputs: string[];
  /** Set when the host's inputs cannot even be listed (empty folder, manifest naming missing files). */
  error: string | null;
}

/** Not hidden, and not a note beside the traces (README, INDEX, Markdown). */
const visible = (name: string): boolean => !name.startsWith('.') && !/^(\d+-)?(readme|index)([._-]|$)/i.test(name) && !/\.md$/i.test(name);
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function isDir(p: string): boolean {
  return statSync(p).isDirectory();
}

/** Host name of a single-file host: `web-07.txt.gz` -> `web-07`. */
export function hostNameOfFile(file: string): string {
  const name = basename(file).replace(/\.gz$/, '');
  const stripped = name.replace(/\.[A-Za-z0-9_-]+$/, '');
  return stripped || name;
}

function stageFolders(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => /^stage\d+$/.test(n) && isDir(join(dir, n)))
    .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
}

/** Rules 3 and 4: the trace files of a folder that holds one kernel's run. */
function folderInputs(dir: string): string[] {
  for (const p of PRIMARY) if (existsSync(join(dir, p))) return [join(dir, p)];
  return readdirSync(dir)
    .filter(visible)
    .sort(byName)
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isFile());
}

/** The first of `paths` whose real path is not inside `dir`'s (null: all inside, or missing). */
export function outside(dir: string, paths: string[]): string | null {
  const root = realpathSync(dir);
  for (const p of paths) {
    let real: string;
    try {
      real = realpathSync(p);
    } catch {
      continue; // missing: reported as missing
    }
    if (real !== root && !real.startsWith(root + sep)) return p;
  }
  return null;
}

/** The trace files of one host folder, in reading order (rules 1-4 above), confined to it. */
export function hostInputs(dir: string): { inputs: string[]; error: string | null } {
  const r = listedInputs(dir);
  if (r.error) return r;
  const out = outside(dir, [join(dir, MANIFEST), ...r.inputs]);
  if (out) return { inputs: [], error: `${out} resolves outside the host folder ${dir} (a symlink?): not read` };
  return r;
}

function listedInputs(dir: string): { inputs: string[]; error: string | null } {
  const manifest = join(dir, MANIFEST);
  if (existsSync(manifest)) {
    const lines = readFileSync(manifest, 'utf8')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    const escaping = lines.find((l) => isAbsolute(l) || l.split(/[\\/]/).includes('..'));
    if (escaping !== undefined) return { inputs: [], error: `${manifest} names a path outside the host folder: ${JSON.stringify(escaping.slice(0, 100))}` };
    const inputs = lines.map((l) => join(dir, l));
    const missing = inputs.filter((p) => !existsSync(p));
    if (missing.length) return { inputs, error: `${manifest} names missing files: ${missing.join(', ')}` };
    if (!inputs.length) return { inputs, error: `${manifest} lists no files` };
    return { inputs, error: null };
  }
  const stages = stageFolders(dir);
  if (stages.length) {
    const inputs: string[] = [];
    const consoleLog = CONSOLE.map((c) => join(dir, c)).find((p) => existsSync(p));
    stages.forEach((s, i) => {
      inputs.push(...folderInputs(join(dir, s)));
      if (i === 0 && consoleLog) inputs.push(consoleLog);
    });
    return inputs.length ? { inputs, error: null } : { inputs, error: `no trace files in the stage folders of ${dir}` };
  }
  const inputs = folderInputs(dir);
  return inputs.length ? { inputs, error: null } : { inputs, error: `no trace files in ${dir}` };
}

/** Does this folder look like one host's run rather than a folder of hosts? */
function looksLikeOneHost(dir: string): string | null {
  if (existsSync(join(dir, MANIFEST))) return MANIFEST;
  const stages = stageFolders(dir);
  if (stages.length) return `${stages[0]}/`;
  for (const p of PRIMARY) if (existsSync(join(dir, p))) return p;
  return null;
}

/**
 * The hosts of `args`: each directory's entries are hosts; a file argument is one host. Throws
 * InputError for a missing argument, a directory that is one host's run, or two hosts of one name.
 */
export function listHosts(args: string[]): HostTask[] {
  const hosts: HostTask[] = [];
  const seen = new Map<string, string>();
  const addHost = (host: string, where: string, t: Omit<HostTask, 'host'>): void => {
    const before = seen.get(host);
    if (before !== undefined) throw new InputError(where, `a second host named ${host} (the first is ${before}); rename one of them`);
    seen.set(host, where);
    hosts.push({ host, ...t });
  };
  for (const arg of args) {
    if (!existsSync(arg)) throw new InputError(arg, 'no such file or directory');
    if (!isDir(arg)) {
      addHost(hostNameOfFile(arg), arg, { inputs: [arg], error: null });
      continue;
    }
    const one = looksLikeOneHost(arg);
    if (one) {
      throw new InputError(arg, `this folder is one host's run (it has ${one}); give the folder that holds one entry per host, e.g. ${join(arg, '..')}`);
    }
    const entries = readdirSync(arg).filter(visible).sort(byName);
    if (!entries.length) throw new InputError(arg, 'no hosts in this folder (every entry is one host: a trace file or a folder)');
    for (const name of entries) {
      const p = join(arg, name);
      if (isDir(p)) addHost(name, p, hostInputs(p));
      else addHost(hostNameOfFile(name), p, { inputs: [p], error: null });
    }
  }
  return hosts;
}
