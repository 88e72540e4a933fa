// Hostile traces for issue 15, all synthetic: the real lifecycle capture (stage 1, ftrace) with the
// names a process on the machine under test controls (its comm, its session names; module names and
// call sites for a broken machine) replaced by hostile ones, or with one timestamp moved back.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { sample } from '../helpers.js';

export const REAL_STAGE1 = sample('real/lifecycle/stage1/ftrace-main.txt.gz');
export const realStage1 = (): string => gunzipSync(readFileSync(REAL_STAGE1)).toString('utf8');

/** Window title, clear screen, blink: what a hostile comm or session name would send a terminal. */
export const ESCAPES = '\x1b]0;title\x07\x1b[2J\x1b[5m';

/** Every name a trace carries, renamed with `rename(original)`. Comms cannot contain spaces or '-'. */
export function renamed(text: string, rename: (what: 'comm' | 'session' | 'module' | 'site' | 'lock', orig: string) => string): string {
  return text
    .replace(/^( *)(luo_ctl|insmod)-(\d+) /gm, (_m, pad: string, comm: string, pid: string) => `${pad}${rename('comm', comm)}-${pid} `)
    .replace(/name="(lifecycle-s\d)"/g, (_m, n: string) => `name="${rename('session', n)}"`)
    .replace(/(module_(?:get|put|load|free): )luo_demo/g, (_m, head: string) => `${head}${rename('module', 'luo_demo')}`)
    .replace(/call_site=(\w+)/g, (_m, site: string) => `call_site=${rename('site', site)}`)
    .replace(/ luo_session_serialize_rwsem$/gm, () => ` ${rename('lock', 'luo_session_serialize_rwsem')}`);
}

/** The capture with terminal escapes in every comm, session name, module name, call site and lock name. */
export const escapeTrace = (): string => renamed(realStage1(), (what, orig) => (what === 'comm' ? `${orig}${ESCAPES.replace(/ /g, '')}` : `${orig}${ESCAPES}`));

/** Names that are Object.prototype properties, in every name-keyed place. */
export const protoTrace = (name: string): string => renamed(realStage1(), (what, orig) => (what === 'comm' ? orig : what === 'site' && orig !== 'do_init_module' ? orig : name));

/** luo_session_create at 86.721686 whose return is stamped 86.701523 (issue 15, case 4). */
export function backwardsTrace(): string {
  const lines = realStage1().split('\n');
  const call = lines.findIndex((l) => l.includes('86.721686: luo_session_create:'));
  const ret = lines.findIndex((l) => l.includes(': luo_session_create__return:'));
  if (call < 0 || ret < 0) throw new Error('the capture changed: no luo_session_create at 86.721686');
  return [...lines.filter((l) => l.startsWith('#')), lines[call], lines[ret].replace(/\d+\.\d+: luo_session_create__return/, '86.701523: luo_session_create__return')].join('\n') + '\n';
}

/** Formula-looking names (OWASP "CSV injection"), and a first preserve failing with -22 (a number cell). */
export const formulaTrace = (): string =>
  renamed(realStage1(), (what, orig) => {
    if (what === 'comm') return orig === 'luo_ctl' ? '=cmd|calc' : '@SUM(A1)';
    if (what === 'session') return `+${orig}`;
    if (what === 'module') return '-2+3';
    if (what === 'site') return orig === 'luo_preserve_file' ? '=HYPERLINK("x")' : orig;
    return orig;
  }).replace(/(luo_preserve_file__return: .*) ret=0$/m, '$1 ret=-22');
