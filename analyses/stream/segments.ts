// Which kernel (boot) is each event from?
//
// A live update spans two kernels: the old one (sessions created, files preserved, frozen by
// `liveupdate_reboot` inside `kexec -e`) and the new one (deserialize, retrieve, finish). A run's
// inputs are several files: one trace per kernel, plus a serial console log that holds both kernels'
// messages and the freeze phase, which survives only there as tp_printk lines (real README §3.1
// step 5, O12). Pointers such as `file_set=` are valid within one boot only.
//
// Events are first cut into segments: a source, split where a new kernel starts (`boot` event,
// `Linux version …` on the console) or the clock jumps back (a `clock-reset` gap). At the end the
// segments are grouped into boots:
// - a segment that shares a `file_set` pointer with a boot belongs to it when one of them is a
//   console log (its freeze phase names the file sets the old kernel's trace preserved) or both
//   come from the same file (concatenated dumps);
// - a trace segment without such evidence joins the latest boot known only from a console segment
//   that started with a boot line, when the times fit (the trace of the kernel that console shows);
// - a trace segment from a later file continues the boot of the trace file before it when the
//   evidence says it is the same running kernel (continuity.ts: later times on the same clock, no
//   kexec or boot between, a shared hashed pointer or a module refcount that goes on);
// - otherwise it starts a new boot. Inputs are taken in the order given (old kernel first).
import type { EventOf, TraceEvent } from '../../parsers/event.js';
import { KIND_SLOTS, kindId, kindNumber } from './kinds.js';
import { type Identity, continuation, newIdentity, noteIdentity } from './continuity.js';

export interface Segment {
  id: number;
  src: number;
  /** Index of the segment within its source. */
  index: number;
  startedByBoot: boolean;
  /** The `Linux version …` line of a console boot, when there is one. */
  bootText: string | null;
  firstTime: number | null;
  lastTime: number | null;
  firstLine: number;
  lastLine: number;
  fileSets: Set<string>;
  /** Non-printk events seen (trace data rather than plain kernel log). */
  traceEvents: number;
  printks: number;
  /** `liveupdate_reboot` entered, or the kernel said it was starting a new kernel. */
  kexecOut: boolean;
  /** `luo: Retrieved live update data, liveupdate number: N` (LUO found incoming data). */
  liveupdateNumber: number | null;
  /** What identifies the running kernel (continuity.ts). */
  identity: Identity;
}

/** A later file's segment that continues a boot, the segment it continues and why. */
export interface Join {
  seg: Segment;
  after: Segment;
  why: string[];
}

export interface Boot {
  id: number;
  segments: Segment[];
  /** Sources (files) that contributed, in order. */
  srcs: number[];
  /** Later files joined to this boot by continuity (rule 4 of the file comment). */
  joins: Join[];
}

const BOOT = kindNumber('boot');
const LOST = kindNumber('lost');

/** What a segment counts of each kind (by kind number): trace data, probes (file sets, kexec), log lines, or neither. */
const TRACE_ROLE = 0;
const PROBE_ROLE = 1;
const PRINTK_ROLE = 2;
/** Lost-event markers and boots: counted as neither, and they may start a segment (segmentOf). */
const LOST_ROLE = 3;
const ROLE = new Uint8Array(KIND_SLOTS);
ROLE[kindNumber('kprobe')] = PROBE_ROLE;
ROLE[kindNumber('fentry')] = PROBE_ROLE;
ROLE[kindNumber('printk')] = PRINTK_ROLE;
ROLE[LOST] = LOST_ROLE;
ROLE[BOOT] = LOST_ROLE;

export class SegmentTracker {
  readonly segments: Segment[] = [];
  private readonly current = new Map<number, Segment>();

  /** The segment of the source seen last (most events follow one of the same source). */
  private lastSrc = -1;
  private last: Segment | null = null;

  /** Assign the event to its segment and return the segment. `kind`: its number (kinds.ts), when the caller has it. */
  push(ev: TraceEvent, kind: number = kindId(ev.kind)): Segment {
    const role = ROLE[kind];
    // Most events are of the source of the event before and of a kind that starts nothing: the
    // segment of the event before, without a lookup (issue 17).
    const seg = ev.src === this.lastSrc && this.last !== null && role < LOST_ROLE ? this.last : this.segmentOf(ev, kind);
    seg.lastLine = ev.line;
    const t = ev.time;
    if (t !== null) {
      if (seg.firstTime === null) seg.firstTime = t;
      seg.lastTime = t;
    }
    noteIdentity(seg.identity, ev, kind);
    if (role === TRACE_ROLE) seg.traceEvents++;
    else if (role === PROBE_ROLE) {
      seg.traceEvents++;
      const probe = ev as EventOf<'kprobe' | 'fentry'>;
      const fs = probe.fields.args.file_set;
      if (fs) seg.fileSets.add(fs);
      if (ev.name === 'liveupdate_reboot' || probe.fields.func === 'liveupdate_reboot') seg.kexecOut = true;
    } else if (role === PRINTK_ROLE) {
      seg.printks++;
      const text = (ev as EventOf<'printk'>).fields.text;
      if (text.startsWith('kexec_core: Starting new kernel')) seg.kexecOut = true;
      const m = /Retrieved live update data, liveupdate number: (\d+)/.exec(text);
      if (m) seg.liveupdateNumber = Number(m[1]);
    }
    return seg;
  }

  /** The segment of an event of another source, or of a kind that may start one (boot, lost). */
  private segmentOf(ev: TraceEvent, kind: number): Segment {
    let seg = ev.src === this.lastSrc ? this.last : (this.current.get(ev.src) ?? null);
    const startsNew = kind === BOOT || (kind === LOST && (ev as EventOf<'lost'>).fields.marker === 'clock-reset');
    if (seg === null || (startsNew && (seg.traceEvents > 0 || seg.printks > 0))) seg = this.open(ev, seg);
    else if (kind === BOOT) {
      seg.startedByBoot = true;
      seg.bootText = (ev as EventOf<'boot'>).fields.text;
    }
    this.lastSrc = ev.src;
    this.last = seg;
    return seg;
  }

  /** A new segment of the event's source, after `prev` (its source's current one, if any). */
  private open(ev: TraceEvent, prev: Segment | null): Segment {
    const seg: Segment = {
      id: this.segments.length,
      src: ev.src,
      index: prev ? prev.index + 1 : 0,
      startedByBoot: ev.kind === 'boot',
      bootText: ev.kind === 'boot' ? ev.fields.text : null,
      firstTime: null,
      lastTime: null,
      firstLine: ev.line,
      lastLine: ev.line,
      fileSets: new Set(),
      traceEvents: 0,
      printks: 0,
      kexecOut: false,
      liveupdateNumber: null,
      identity: newIdentity(),
    };
    this.segments.push(seg);
    this.current.set(ev.src, seg);
    return seg;
  }

  /** Group segments into boots (see the file comment for the rules). */
  boots(): Boot[] {
    const boots: Boot[] = [];
    const ordered = [...this.segments].sort((a, b) => a.src - b.src || a.index - b.index);
    for (const seg of ordered) {
      let target: Boot | undefined;
      // 1. shared file_set pointers, for a console log (the freeze phase) or another part of the
      // same file. Two trace files never join this way: after kexec an identical kernel can hand
      // out the same heap addresses again (the generator's pre-series stages do).
      if (seg.fileSets.size > 0) {
        target = boots.find((b) =>
          b.segments.some((s) => (seg.printks > 0 || s.printks > 0 || s.src === seg.src) && [...seg.fileSets].some((f) => s.fileSets.has(f))),
        );
      }
      // 2. a trace segment joins the latest boot known only from console boots whose time span covers it
      if (!target && !seg.startedByBoot && seg.traceEvents > 0) {
        const latest = boots[boots.length - 1];
        if (latest && latest.segments.every((s) => s.startedByBoot) && latest.segments.some((s) => covers(s, seg))) target = latest;
      }
      // 3. a console boot joins the earliest boot known only from traces whose times it covers
      if (!target && seg.startedByBoot) {
        target = boots.find((b) => b.segments.every((s) => !s.startedByBoot && covers(seg, s)));
      }
      // 4. a trace segment of a later file continues the boot of the trace file before it
      if (!target && !seg.startedByBoot && seg.traceEvents > 0) target = continuedBoot(boots, seg);
      if (!target) {
        target = { id: boots.length, segments: [], srcs: [], joins: [] };
        boots.push(target);
      }
      target.segments.push(seg);
      if (!target.srcs.includes(seg.src)) target.srcs.push(seg.src);
    }
    return boots;
  }
}

/**
 * Rule 4: the latest boot, when its last trace segment is from an earlier file and the evidence says
 * `seg` continues that kernel (continuity.ts). The join is recorded with its reasons for the report.
 */
function continuedBoot(boots: Boot[], seg: Segment): Boot | undefined {
  const latest = boots[boots.length - 1];
  if (!latest) return undefined;
  const traces = latest.segments.filter((s) => s.traceEvents > 0);
  const after = traces[traces.length - 1];
  if (!after || after.src >= seg.src) return undefined;
  const why = continuation(after, seg);
  if (!why) return undefined;
  latest.joins.push({ seg, after, why });
  return latest;
}

/** Does the console segment `outer` span the times of `inner` (same clock: printk time = local trace clock)? */
function covers(outer: Segment, inner: Segment): boolean {
  if (outer.firstTime === null || outer.lastTime === null || inner.firstTime === null) return false;
  // The console goes on after the trace stops (e.g. the freeze phase comes later), so only the
  // start of the trace needs to fall inside it; it may also end before the console's last line.
  return inner.firstTime >= outer.firstTime && inner.firstTime <= outer.lastTime + 1e9;
}
