// The same run given twice: two inputs that record the same events at the same times.
//
// A lab capture (samples/real/README.md §2) keeps one run in many renderings: ftrace instances
// (`main`, `trace_pipe`, `tgid`...), `trace-cmd report`, function_graph with the module events as
// comments. Each instance has its own ring buffer, so the copies of an event differ by a few
// microseconds (up to tens of ms when an interrupt delays one instance's write: real contention
// capture, analyses/luo/refcounts.ts RefcntCheck). Read together, every count doubles and every
// session, pin and verdict appears twice, with nothing to say why (issue 14 case 6).
//
// Detection: per source, the first SAMPLE events that identify themselves (module references with
// call site and refcnt, probes with their arguments, syscalls, lock events by task) are kept as
// fingerprints with their times. A later source matches an earlier one when most of its sample has
// a copy there within MATCH_NS. Printed forms that differ between renderings (trace-cmd prints lock
// addresses raw where ftrace hashes them, syscall arguments zero-padded) are left out of the
// fingerprint. Two runs of the same workload never match: their times differ by far more than
// MATCH_NS; nor does a later file of the same kernel (it starts after the first ends).
//
// The inputs are refused, not de-duplicated (README "Several inputs"): the renderings come from
// different ring buffers, so either may hold events the other lost; merging them would make a record
// of neither, and there is no rule for which copy's time and line to report.
import type { TraceEvent } from '../../parsers/event.js';

/** Fingerprinted events kept per source (memory bound: a few hundred kB). */
const SAMPLE = 4000;
/** Two copies of one event are at most this far apart (an instance's write delayed by an interrupt). */
const MATCH_NS = 50_000_000;
/** Fewer matches than this prove nothing (a short file of a few events). */
const MIN_MATCHES = 20;
/** Share of the smaller sample that must match. */
const MIN_SHARE = 0.8;

export interface DuplicateRendering {
  /** The input that repeats an earlier one (file index). */
  src: number;
  /** The earlier input it repeats. */
  of: number;
  matched: number;
  sampled: number;
}

/** The identity of an event, the same in every rendering; null for events that do not identify a run. */
function fingerprint(ev: TraceEvent): string | null {
  const who = `${ev.pid ?? ''}\u0000${ev.name}`;
  switch (ev.kind) {
    case 'module_get':
    case 'module_put':
      return `${who}\u0000${ev.fields.module}\u0000${ev.fields.callSite}\u0000${ev.fields.refcnt}`;
    case 'module_load':
    case 'module_free':
      return `${who}\u0000${ev.fields.module}`;
    case 'kprobe':
    case 'fentry':
      return `${who}\u0000${argsKey(ev.fields.args)}`;
    case 'kretprobe':
    case 'fexit':
      return `${who}\u0000${ev.fields.ret ?? ''}`;
    case 'syscall_enter':
      return `${ev.pid ?? ''}\u0000${ev.fields.syscall}`;
    case 'syscall_exit':
      return `${ev.pid ?? ''}\u0000${ev.fields.syscall}\u0000${ev.fields.ret}`;
    case 'lock_acquire':
    case 'lock_release':
      return `${who}\u0000${ev.fields.lockName}`;
    case 'contention_begin':
      return `${who}\u0000${ev.fields.flags}`;
    case 'contention_end':
      return `${who}\u0000${ev.fields.ret}`;
    default:
      return null;
  }
}

/** Probe arguments, hex values without leading zeros (renderings pad differently). */
function argsKey(args: Record<string, string>): string {
  return Object.keys(args)
    .sort()
    .map((k) => `${k}=${args[k].replace(/^0x0*(?=[0-9a-f])/i, '0x')}`)
    .join(' ');
}

interface SourceSample {
  times: Map<string, number[]>;
  count: number;
}

export class RenderingMatcher {
  private readonly samples = new Map<number, SourceSample>();

  /** The source of the event pushed last, once its sample is full: nothing more to do for it. */
  private fullSrc = -1;

  push(ev: TraceEvent): void {
    if (ev.src === this.fullSrc || ev.time === null) return;
    let s = this.samples.get(ev.src);
    if (!s) this.samples.set(ev.src, (s = { times: new Map(), count: 0 }));
    if (s.count >= SAMPLE) {
      this.fullSrc = ev.src;
      return;
    }
    const f = fingerprint(ev);
    if (f === null) return;
    s.count++;
    const list = s.times.get(f);
    if (list) list.push(ev.time);
    else s.times.set(f, [ev.time]);
  }

  /** Each later input that repeats an earlier one, with the earliest one it repeats. */
  duplicates(): DuplicateRendering[] {
    const srcs = [...this.samples.keys()].sort((a, b) => a - b);
    const out: DuplicateRendering[] = [];
    for (let j = 1; j < srcs.length; j++) {
      const b = this.samples.get(srcs[j]) as SourceSample;
      for (let i = 0; i < j; i++) {
        const a = this.samples.get(srcs[i]) as SourceSample;
        const matched = matchCount(a, b);
        if (matched >= MIN_MATCHES && matched >= MIN_SHARE * Math.min(a.count, b.count)) {
          out.push({ src: srcs[j], of: srcs[i], matched, sampled: b.count });
          break;
        }
      }
    }
    return out;
  }
}

/** Events of `b` with a copy in `a` (same fingerprint, within MATCH_NS; each copy used once). */
function matchCount(a: SourceSample, b: SourceSample): number {
  let n = 0;
  for (const [f, tb] of b.times) {
    const ta = a.times.get(f);
    if (!ta) continue;
    // Both lists are in input order, which is time order up to small skews: a greedy two-pointer walk.
    const xa = [...ta].sort((x, y) => x - y);
    const xb = [...tb].sort((x, y) => x - y);
    let i = 0;
    for (const t of xb) {
      while (i < xa.length && xa[i] < t - MATCH_NS) i++;
      if (i < xa.length && Math.abs(xa[i] - t) <= MATCH_NS) {
        n++;
        i++;
      }
    }
  }
  return n;
}
