// The `luotrace record` setup plan: what this kernel has, and every tracefs write that follows.
//
// Read first, write later: available_filter_functions (what can be probed: static LUO functions may
// be inlined, docs/luo-model.md §2 and open question 4), available_events (module:*, lock:* and lockdep,
// syscalls), trace_clock, kprobe_events/dynamic_events, and kallsyms for the LUO rwsem addresses and
// lock names that tell the kernel model (docs/luo-model.md "Recognising the version"). The plan then
// creates kprobe/kretprobe (or fprobe) events in a group of our own, a tracing instance of our own
// (so the user's top-level buffer, clock and options are never touched unless asked), sets the
// options, enables the events, and finally turns tracing on. Every step says why, so `--dry-run`
// output can be checked line by line against docs/luo-model.md.
import type { KernelModelId } from '../../analyses/kernel/kernel-models.js';
import { detectModel, hasReturnValue, LOCKDEP_EVENTS, LOCKDEP_FILTER, LUO_PROBES, RWSEM_FUNCS, RWSEM_SYMBOLS, SESSION_GLOBAL, TRACEPOINTS } from './luo-probes.js';
import type { Step, TracefsIO } from './tracefs.js';

export const PROBE_GROUP = 'luotrace';
export const RECORD_FORMAT_VERSION = 1;

export interface RecordSettings {
  /** Tracing instance to create; '' = the top-level buffer (its state is saved and put back). */
  instance: string;
  clock: string;
  bufferSizeKb: number;
  /** Filter for lock:contention_begin/end (events.rst §5 syntax); null = none. */
  contentionFilter: string | null;
  /** Enable lock:lock_acquire/lock_release (lockdep kernels only) filtered to LUO lock names. */
  lockdep: boolean;
  /**
   * Threads of luotrace itself, whose events are not traced (set_event_notrace_pid): reading
   * trace_pipe and writing the file makes lock contention of its own, which would be recorded,
   * read and written again (a feedback loop seen in the lab run: 2.2 M contention events of `node`).
   */
  selfTids: number[];
  probeType: 'kprobe' | 'fprobe';
}

export const DEFAULT_SETTINGS: RecordSettings = {
  instance: 'luotrace',
  clock: 'mono',
  bufferSizeKb: 16384,
  contentionFilter: null,
  lockdep: true,
  selfTids: [],
  probeType: 'kprobe',
};

export interface KernelFacts {
  release: string;
  functions: Set<string>;
  events: Set<string>;
  /** kallsyms name -> address; null when not readable or all zero (not root, kptr_restrict). */
  symbols: Map<string, bigint> | null;
  /** Sorted addresses, to find where a data symbol ends. */
  addresses: bigint[];
  clocks: string[];
  hasKprobeEvents: boolean;
  hasDynamicEvents: boolean;
  /** Which of the optional control files exist (checked at the top level; instances mirror them). */
  optional: Set<string>;
  model: KernelModelId | null;
  modelEvidence: string[];
}

export function parseKallsyms(text: string): { symbols: Map<string, bigint>; addresses: bigint[] } | null {
  const symbols = new Map<string, bigint>();
  const addresses: bigint[] = [];
  let nonZero = false;
  for (const line of text.split('\n')) {
    const sp1 = line.indexOf(' ');
    const sp2 = line.indexOf(' ', sp1 + 1);
    if (sp1 < 0 || sp2 < 0) continue;
    const hex = line.slice(0, sp1);
    if (!/^[0-9a-f]+$/i.test(hex)) continue;
    let name = line.slice(sp2 + 1);
    const tab = name.indexOf('\t');
    if (tab >= 0) name = name.slice(0, tab);
    const addr = BigInt(`0x${hex}`);
    if (addr !== 0n) nonZero = true;
    if (!symbols.has(name)) symbols.set(name, addr);
    addresses.push(addr);
  }
  if (!nonZero) return null;
  addresses.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { symbols, addresses };
}

const OPTIONAL_FILES = ['options/record-tgid', 'set_event_notrace_pid'];

/** Read what this kernel offers. `kallsyms` is the text of /proc/kallsyms (or null). */
export function readKernelFacts(io: TracefsIO, kallsyms: string | null, release: string): KernelFacts {
  const functions = new Set<string>();
  for (const line of io.read('available_filter_functions').split('\n')) {
    const name = line.split(/\s/, 1)[0];
    if (name) functions.add(name);
  }
  const events = new Set(io.read('available_events').split('\n').map((l) => l.trim()).filter(Boolean));
  const clocks = io.exists('trace_clock') ? io.read('trace_clock').replace(/[[\]]/g, '').trim().split(/\s+/) : [];
  const ks = kallsyms === null ? null : parseKallsyms(kallsyms);
  const names = new Set(ks ? ks.symbols.keys() : []);
  const { model, evidence } = detectModel(functions, names);
  return {
    release,
    functions,
    events,
    symbols: ks?.symbols ?? null,
    addresses: ks?.addresses ?? [],
    clocks,
    hasKprobeEvents: io.exists('kprobe_events'),
    hasDynamicEvents: io.exists('dynamic_events'),
    optional: new Set(OPTIONAL_FILES.filter((f) => io.exists(f))),
    model,
    modelEvidence: evidence,
  };
}

export interface Plan {
  facts: KernelFacts;
  settings: RecordSettings;
  /** Setup, in order; the last step turns tracing on. */
  steps: Step[];
  /** Instance directory ('' for top level), prefix of every per-buffer file. */
  base: string;
  /** Probe event names created (`luotrace/<name>`). */
  probes: string[];
  /** What this kernel lacks (not probed), and other things a user should know. */
  missing: string[];
  warnings: string[];
  /** The rwsem filter used for the down/up probes, or null when they are not set. */
  rwsemFilter: string | null;
}

/** The address ranges of the LUO rwsems from kallsyms (docs/luo-model.md §3): exact symbols, and luo_session_global. */
export function rwsemRanges(facts: KernelFacts): Array<{ name: string; from: bigint; to: bigint | null }> {
  const out: Array<{ name: string; from: bigint; to: bigint | null }> = [];
  if (!facts.symbols) return out;
  for (const s of RWSEM_SYMBOLS) {
    const a = facts.symbols.get(s);
    if (a !== undefined) out.push({ name: s, from: a, to: null });
  }
  const g = facts.symbols.get(SESSION_GLOBAL);
  if (g !== undefined) {
    // The incoming and outgoing session-list rwsems live inside it at config-dependent offsets:
    // take the whole object, up to the next symbol.
    const next = facts.addresses.find((a) => a > g);
    out.push({ name: SESSION_GLOBAL, from: g, to: next ?? null });
  }
  return out;
}

function hex(a: bigint): string {
  return `0x${a.toString(16)}`;
}

export function buildPlan(facts: KernelFacts, settings: RecordSettings): Plan {
  const steps: Step[] = [];
  const missing: string[] = [];
  const warnings: string[] = [];
  const probes: string[] = [];
  const base = settings.instance ? `instances/${settings.instance}/` : '';
  const g = PROBE_GROUP;

  // 1. Probe events (global: dynamic events live at the top level and show up in every instance).
  const useFprobe = settings.probeType === 'fprobe';
  const probeFile = useFprobe ? 'dynamic_events' : 'kprobe_events';
  if (useFprobe ? !facts.hasDynamicEvents : !facts.hasKprobeEvents) {
    warnings.push(`${probeFile} is missing (kernel without ${useFprobe ? 'CONFIG_FPROBE_EVENTS' : 'CONFIG_KPROBE_EVENTS'}): no LUO function probes`);
  } else {
    for (const p of LUO_PROBES) {
      if (!facts.functions.has(p.func)) {
        missing.push(p.func);
        continue;
      }
      const args = p.args.map((a) => ` ${a.name}=${a.ftrace}`).join('');
      const entry = useFprobe ? `f:${g}/${p.func} ${p.func}${args}` : `p:${g}/${p.func} ${p.func}${args}`;
      const ret = hasReturnValue(p, facts.model) ? ' ret=$retval:s32' : '';
      const exit = useFprobe ? `f:${g}/${p.func}__return ${p.func}%return${ret}` : `r:${g}/${p.func}__return ${p.func}${ret}`;
      steps.push({ op: 'append', path: probeFile, value: `${entry}\n`, why: `${p.func}: ${p.role}` });
      steps.push({ op: 'append', path: probeFile, value: `${exit}\n`, why: `${p.func} returns${ret ? ' (ret)' : ' (void)'}` });
      probes.push(`${g}/${p.func}`, `${g}/${p.func}__return`);
    }
  }
  // rwsem down/up with the lock pointer, filtered to the LUO rwsems by address (docs/luo-model.md §3).
  let rwsemFilter: string | null = null;
  const ranges = rwsemRanges(facts);
  const haveRwsemFuncs = RWSEM_FUNCS.every((f) => facts.functions.has(f));
  if (!haveRwsemFuncs) missing.push('down_read/up_read/down_write/up_write (not traceable)');
  else if (ranges.length === 0) warnings.push('no LUO rwsem address in kallsyms (not root, or no CONFIG_KALLSYMS_ALL): rwsem down/up not probed');
  else if (facts.hasKprobeEvents) {
    rwsemFilter = ranges.map((r) => (r.to === null ? `sem == ${hex(r.from)}` : `(sem >= ${hex(r.from)} && sem < ${hex(r.to)})`)).join(' || ');
    for (const f of RWSEM_FUNCS) {
      steps.push({ op: 'append', path: 'kprobe_events', value: `p:${g}/${f} ${f} sem=$arg1:x64\n`, why: `rwsem ${f} with the lock pointer (${ranges.map((r) => r.name).join(', ')})` });
      probes.push(`${g}/${f}`);
    }
  }

  // 2. Our own buffer.
  if (settings.instance) steps.push({ op: 'mkdir', path: `instances/${settings.instance}`, why: 'a tracing instance of our own: the top-level buffer, clock and options stay as they are' });
  steps.push({ op: 'write', path: `${base}tracing_on`, value: '0', why: 'nothing is recorded until setup is complete' });
  if (!settings.instance) steps.push({ op: 'write', path: 'current_tracer', value: 'nop', why: 'event tracing only' });
  if (facts.clocks.includes(settings.clock)) {
    steps.push({ op: 'write', path: `${base}trace_clock`, value: settings.clock, why: settings.clock === 'mono' ? 'CLOCK_MONOTONIC, the clock of bpftrace nsecs (real README O9)' : 'clock asked for' });
  } else {
    warnings.push(`trace_clock ${settings.clock} not offered by this kernel (${facts.clocks.join(' ')}): left as it is`);
  }
  steps.push({ op: 'write', path: `${base}buffer_size_kb`, value: String(settings.bufferSizeKb), why: 'per-CPU ring buffer; bigger loses fewer events under load' });
  if (facts.optional.has('options/record-tgid')) steps.push({ op: 'write', path: `${base}options/record-tgid`, value: '1', why: 'TGID column: process as well as thread' });
  else missing.push('options/record-tgid');
  if (settings.selfTids.length > 0) {
    if (facts.optional.has('set_event_notrace_pid')) {
      steps.push({ op: 'write', path: `${base}set_event_notrace_pid`, value: settings.selfTids.join(' '), why: 'not luotrace itself: its own lock contention would feed back into the trace' });
    } else {
      warnings.push('set_event_notrace_pid missing (kernel < 5.8): luotrace\'s own lock contention is recorded too');
    }
  }

  // 3. Events.
  const ev = (name: string) => `${base}events/${name.replace(':', '/')}`;
  for (const t of TRACEPOINTS) {
    if (!facts.events.has(t.event)) {
      missing.push(t.event);
      continue;
    }
    if (t.event.startsWith('lock:contention_') && settings.contentionFilter) {
      steps.push({ op: 'write', path: `${ev(t.event)}/filter`, value: settings.contentionFilter, why: 'only the contention asked for (--contention-filter; unfiltered is noisy, real README O6)' });
    }
    steps.push({ op: 'write', path: `${ev(t.event)}/enable`, value: '1', why: t.why });
  }
  if (facts.events.has('lock:contention_begin') && !settings.contentionFilter) {
    warnings.push('lock contention is not filtered: expect many unrelated events (real README O6); see --contention-filter');
  }
  if (settings.lockdep) {
    for (const e of LOCKDEP_EVENTS) {
      if (!facts.events.has(e)) continue;
      steps.push({ op: 'write', path: `${ev(e)}/filter`, value: LOCKDEP_FILTER, why: 'lockdep names of the LUO locks only (real README O10)' });
      steps.push({ op: 'write', path: `${ev(e)}/enable`, value: '1', why: 'lockdep acquire/release: lock names and read/write mode (CONFIG_LOCKDEP)' });
    }
  }
  if (rwsemFilter) {
    for (const f of RWSEM_FUNCS) steps.push({ op: 'write', path: `${base}events/${g}/${f}/filter`, value: rwsemFilter, why: `${f} of the LUO rwsems only` });
  }
  if (probes.length > 0) steps.push({ op: 'write', path: `${base}events/${g}/enable`, value: '1', why: `the ${probes.length} probe events of group ${g}` });
  steps.push({ op: 'write', path: `${base}tracing_on`, value: '1', why: 'start recording' });
  return { facts, settings, steps, base, probes, missing, warnings, rwsemFilter };
}

/** The `#` header written at the top of the output file: what was recorded, on what, how. */
export function headerLines(plan: Plan, extra: { backend: string; command: string[] | null; started: Date }): string[] {
  const f = plan.facts;
  const s = plan.settings;
  const bpf = extra.backend === 'bpftrace';
  const functions = plan.probes.filter((p) => !p.endsWith('__return')).map((p) => p.slice(PROBE_GROUP.length + 1));
  return [
    `# luotrace record format=${RECORD_FORMAT_VERSION} backend=${extra.backend}`,
    ...(bpf ? [] : ['# tracer: nop']),
    `# kernel: ${f.release}`,
    `# luo model: ${f.model ?? 'unknown'}${f.modelEvidence.length ? ` (${f.modelEvidence.join('; ')})` : ''}`,
    bpf ? '# clock: bpftrace nsecs (CLOCK_MONOTONIC, as trace_clock mono)' : `# clock: ${f.clocks.includes(s.clock) ? s.clock : 'unchanged'}`,
    ...(bpf
      ? []
      : [
          `# options: instance=${s.instance || '(top level)'} buffer_size_kb=${s.bufferSizeKb}${f.optional.has('options/record-tgid') ? ' record-tgid=1' : ''}${plan.steps.some((x) => x.path.endsWith('set_event_notrace_pid')) ? ` set_event_notrace_pid=${s.selfTids.join(',')}` : ''}${s.contentionFilter ? ` contention-filter=${JSON.stringify(s.contentionFilter)}` : ''}`,
        ]),
    `# probes: ${functions.length ? `${bpf ? 'kprobe+kretprobe' : `${PROBE_GROUP}/ entry+return`} on ${functions.join(' ')}` : 'none'}`,
    ...(plan.rwsemFilter ? [`# rwsem filter: ${plan.rwsemFilter}`] : []),
    ...(plan.missing.length ? [`# not on this kernel: ${plan.missing.join(' ')}`] : []),
    `# command: ${extra.command ? extra.command.map((a) => (/[\s"'$]/.test(a) ? JSON.stringify(a) : a)).join(' ') : '(none: until Ctrl-C)'}`,
    `# started: ${extra.started.toISOString()}`,
  ];
}
