// SYNTHETIC fault variants of the real 7.2.13 captures, for the check / diff / export tests.
//
// Each variant is a copy of a real ftrace `trace` file with a few lines removed, inserted or edited,
// keeping the kernel's exact line formats (real README §2: the `luo` kprobes, the `luomod`
// try_module_get/module_put kprobes that precede each module:module_get/put tracepoint, the
// `r:` return probes with `ret=`). Every variant starts with a `# synthetic:` header line that says
// how it was made; `entries-in-buffer/entries-written` is recomputed and `refcnt=` is re-simulated
// so the refcount arithmetic stays what the kernel would print (MODULE_REF_BASE = 1, plus the
// loader's untraced reference during module init, dropped by do_init_module: docs/luo-model.md §4,
// real README O11).
//
// The generator's own fault samples (samples/synthetic/synthetic-*, made by samples/generate.ts)
// are checked too (test/cli/check.test.ts); these variants stay because they are the real lines
// with one thing changed, so each failure is the fault and nothing else.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { sample } from '../helpers.js';

export function readSample(rel: string): string {
  const buf = readFileSync(sample(rel));
  return (buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf).toString('utf8');
}

/** `  comm-pid  [cpu] flags  ts: payload` split at the timestamp (comm may contain spaces: anchor on `[cpu]`). */
const EVENT_LINE = /^(.*\[\d{3}\] \S+\s+)(\d+\.\d{6}): (.*)$/;

interface Parsed {
  prefix: string;
  ts: string;
  payload: string;
}
export function parseLine(line: string): Parsed | null {
  const m = EVENT_LINE.exec(line);
  return m ? { prefix: m[1], ts: m[2], payload: m[3] } : null;
}
const build = (p: Parsed) => `${p.prefix}${p.ts}: ${p.payload}`;

const MOD_EVENT = /^(module_get|module_put): (\S+) call_site=(\S+) refcnt=(\d+)$/;

/** Re-simulate `refcnt=` of every module_get/module_put (after lines were dropped or inserted). */
export function resimulateRefcnt(lines: string[]): string[] {
  const value = new Map<string, number>();
  return lines.map((line) => {
    const p = parseLine(line);
    if (!p) return line;
    const load = /^module_load: (\S+)/.exec(p.payload);
    if (load) {
      // MODULE_REF_BASE + the loader's reference held during init (atomic_inc, no tracepoint).
      value.set(load[1], 2);
      return line;
    }
    const m = MOD_EVENT.exec(p.payload);
    if (!m) return line;
    const before = value.get(m[2]) ?? Number(m[4]) - (m[1] === 'module_get' ? 1 : -1);
    const after = before + (m[1] === 'module_get' ? 1 : -1);
    value.set(m[2], after);
    return build({ ...p, payload: `${m[1]}: ${m[2]} call_site=${m[3]} refcnt=${after}` });
  });
}

/** Prepend the `# synthetic:` line and fix the entries header to the number of event lines. */
export function labelSynthetic(lines: string[], how: string): string {
  const events = lines.filter((l) => l.trim() !== '' && !l.startsWith('#') && !/^CPU:\d+ \[LOST/.test(l)).length;
  const fixed = lines.map((l) => l.replace(/^# entries-in-buffer\/entries-written: \d+\/\d+/, `# entries-in-buffer/entries-written: ${events}/${events}`));
  return [`# synthetic: ${how}`, ...fixed].join('\n');
}

/** Drop a module_get/module_put tracepoint line and the luomod kprobe line right before it. */
export function dropRef(lines: string[], index: number): void {
  const p = parseLine(lines[index]);
  const prev = index > 0 ? parseLine(lines[index - 1]) : null;
  const task = (x: Parsed) => x.prefix.slice(0, x.prefix.indexOf(']') + 1);
  const kprobe = p && prev && task(prev) === task(p) && /^(try_module_get|module_put): \(/.test(prev.payload);
  lines.splice(kprobe ? index - 1 : index, kprobe ? 2 : 1);
}

function findLast(lines: string[], pred: (p: Parsed) => boolean): number {
  for (let i = lines.length - 1; i >= 0; i--) {
    const p = parseLine(lines[i]);
    if (p && pred(p)) return i;
  }
  return -1;
}

function findFirst(lines: string[], pred: (p: Parsed) => boolean, from = 0): number {
  for (let i = from; i < lines.length; i++) {
    const p = parseLine(lines[i]);
    if (p && pred(p)) return i;
  }
  return -1;
}

/**
 * `rmmod M` refused with -EAGAIN/EWOULDBLOCK (what delete_module returns while references remain,
 * docs/luo-model.md §4 "Unload behaviour"): keep `sys_delete_module(...)`, drop what the rmmod task did
 * until the syscall returned (unregister, module_free...), and make it return 0xfffffffffffffff5.
 */
function refuseRmmod(lines: string[]): void {
  const enter = findFirst(lines, (p) => p.payload.startsWith('sys_delete_module('));
  if (enter < 0) throw new Error('no sys_delete_module in this trace');
  const task = parseLine(lines[enter])!.prefix.split('[')[0];
  const exit = findFirst(lines, (p) => p.payload.startsWith('sys_delete_module -> '), enter);
  for (let i = exit - 1; i > enter; i--) if (parseLine(lines[i])?.prefix.split('[')[0] === task) lines.splice(i, 1);
  const exitAt = findFirst(lines, (p) => p.payload.startsWith('sys_delete_module -> '), enter);
  const p = parseLine(lines[exitAt])!;
  lines[exitAt] = build({ ...p, payload: 'sys_delete_module -> 0xfffffffffffffff5' });
}

const ABORT = 'real/abort/stage1/ftrace-main.txt.gz';

/** Leak: the last `module_put call_site=luo_file_unpreserve_files` of the abort capture never happens. */
export function syntheticLeak(): string {
  const lines = readSample(ABORT).split('\n');
  const i = findLast(lines, (p) => /^module_put: luo_demo call_site=luo_file_unpreserve_files /.test(p.payload));
  dropRef(lines, i);
  refuseRmmod(lines);
  return labelSynthetic(resimulateRefcnt(lines), `made from samples/${ABORT} by dropping the last module_put call_site=luo_file_unpreserve_files (a leaked pin); rmmod then refused with -EAGAIN; refcnt= re-simulated`);
}

/** Pin outside a session: PRE-style pin at registration (the lab's pre-series emulation, real README §1). */
export function syntheticRegistrationPin(): string {
  const lines = readSample(ABORT).split('\n');
  insertRegistrationPins(lines);
  refuseRmmod(lines);
  return labelSynthetic(resimulateRefcnt(lines), `made from samples/${ABORT} by adding module_get call_site=liveupdate_register_file_handler / liveupdate_register_flb at insmod (PRE pinning on top of the merged per-file refs, as the lab's pre-series kernel does); rmmod then refused; refcnt= re-simulated`);
}

/** Unregister error: liveupdate_unregister_file_handler returns -EBUSY (PRE, docs/luo-model.md §7(c)). */
export function syntheticUnregisterError(): string {
  const lines = readSample(ABORT).split('\n');
  const i = findFirst(lines, (p) => p.payload.startsWith('liveupdate_unregister_file_handler__return: '));
  const p = parseLine(lines[i])!;
  lines[i] = build({ ...p, payload: `${p.payload} ret=-16` });
  return labelSynthetic(lines, `made from samples/${ABORT} by giving liveupdate_unregister_file_handler__return ret=-16 (EBUSY, as a PRE kernel returns it)`);
}

/** Lost events: `CPU:0 [LOST 5 EVENTS]` before a CPU 0 event after the session was aborted. */
export function syntheticLostEvents(): { text: string; markerLine: number } {
  const lines = readSample(ABORT).split('\n');
  const lastPut = findLast(lines, (p) => p.payload.startsWith('module_put: luo_demo call_site=__fput'));
  const at = findFirst(lines, (p) => p.prefix.includes('[000]') && p.payload.startsWith('contention_begin'), lastPut);
  lines.splice(at, 0, 'CPU:0 [LOST 5 EVENTS]');
  // +2: the 1-based line number, and the `# synthetic:` line labelSynthetic puts first.
  return { text: labelSynthetic(lines, `made from samples/${ABORT} by inserting "CPU:0 [LOST 5 EVENTS]" before a CPU 0 event after the abort`), markerLine: at + 2 };
}

/**
 * PRE pinning at registration: one module_get inside liveupdate_register_file_handler(luo-demo-v1)
 * and one inside liveupdate_register_flb(luo-demo-flb-v1) (the module's own FLB; the test FLBs are
 * built in, owner NULL, no event: docs/luo-model.md §4 "try_module_get(m) for m == NULL ... no event").
 * Each get is the luomod kprobe line plus the tracepoint, on the registering task, at the entry's time.
 */
function insertRegistrationPins(lines: string[]): void {
  const kprobeLine = lines.find((l) => parseLine(l)?.payload.startsWith('try_module_get: ('));
  if (!kprobeLine) throw new Error('no try_module_get kprobe line to copy');
  const kprobePayload = parseLine(kprobeLine)!.payload;
  const sites: Array<[RegExp, string]> = [
    [/^liveupdate_register_file_handler: \(.*handler="luo-demo-v1"/, 'liveupdate_register_file_handler'],
    [/^liveupdate_register_flb: \(.*flb="luo-demo-flb-v1"/, 'liveupdate_register_flb'],
  ];
  for (const [re, site] of sites) {
    const i = findFirst(lines, (p) => re.test(p.payload));
    if (i < 0) throw new Error(`no ${site} call for the demo module`);
    const p = parseLine(lines[i])!;
    lines.splice(i + 1, 0, build({ ...p, payload: kprobePayload }), build({ ...p, payload: `module_get: luo_demo call_site=${site} refcnt=0` }));
  }
}

/** The per-file and per-FLB LUO refs a PRE kernel does not take (docs/luo-model.md §4: "no module refcount calls in PRE"). */
const POST_SITES = /^module_(get|put): luo_demo call_site=(luo_preserve_file|luo_flb_file_preserve|luo_file_unpreserve_files|liveupdate_flb_put_outgoing|luo_file_deserialize|luo_flb_retrieve_one|luo_file_finish|liveupdate_flb_put_incoming) /;

/**
 * A pre-series run of the lifecycle scenario: the same real stage, with the merged series' per-file
 * and per-FLB refs removed and the PRE registration pins added; in stage 2 the final rmmod is refused
 * (PRE: a handler module stays pinned while registered, docs/luo-model.md §7(a)).
 */
export function syntheticPreSeriesLifecycle(stage: 'stage1' | 'stage2'): string {
  const rel = `real/lifecycle/${stage}/ftrace-main.txt.gz`;
  const lines = readSample(rel).split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const p = parseLine(lines[i]);
    if (p && POST_SITES.test(p.payload)) dropRef(lines, i);
  }
  insertRegistrationPins(lines);
  if (stage === 'stage2') refuseRmmod(lines);
  return labelSynthetic(
    resimulateRefcnt(lines),
    `pre-series (PRE) module pinning made from samples/${rel}: per-file/per-FLB module_get/put removed, module_get call_site=liveupdate_register_file_handler and liveupdate_register_flb added at insmod${stage === 'stage2' ? ', final rmmod refused with -EAGAIN' : ''}; refcnt= re-simulated; lock and function events unchanged (POST code)`,
  );
}
