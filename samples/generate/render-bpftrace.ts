// The bpftrace renderers of the generator (render.ts has the others): the lab's luo_events.bt
// printf lines as bpftrace 0.17 prints them, as text or as `-f json` records (O8), with the script's
// own filters (lockdep only for the four LUO rwsems, no syscalls, its two kretprobe blocks).
import { F_PRE_INT, type Fn, type Lock } from './kernel.js';
import { Renderer } from './render.js';
import {
  K_CONT_BEGIN,
  K_CONT_END,
  K_KPROBE,
  K_KRETPROBE,
  K_LOCK_ACQUIRE,
  K_LOCK_RELEASE,
  K_MODFREE,
  K_MODLOAD,
  K_MODPROBE,
  K_MODREF,
  K_PRINTK,
  K_RWPROBE,
  K_SYS_ENTER,
  K_SYS_EXIT,
  type ModuleState,
  type Rec,
  type Task,
} from './sim.js';

/** bpftrace `nsecs` is CLOCK_MONOTONIC: the mono instance's value, a few hundred ns earlier. */
const BPF_MONO_OFFSET_NS = -68_738_355;

/** Functions luo_events.bt has a kretprobe for, with or without `retval=` (its two kretprobe blocks). */
const BT_KRET_RETVAL = new Set([
  'luo_session_create',
  'luo_session_retrieve',
  'luo_session_deserialize',
  'luo_session_serialize',
  'luo_preserve_file',
  'luo_retrieve_file',
  'luo_file_freeze',
  'luo_file_finish',
  'luo_file_deserialize',
  'liveupdate_register_file_handler',
  'liveupdate_register_flb',
  'luo_flb_file_preserve',
  'liveupdate_flb_get_incoming',
  'liveupdate_reboot',
  'luo_session_quiesce',
]);
const BT_KRET_VOID = new Set([
  'luo_file_unpreserve_files',
  'liveupdate_unregister_file_handler',
  'liveupdate_unregister_flb',
  'luo_flb_file_unpreserve',
  'luo_flb_file_finish',
  'luo_session_resume',
]);
const BT_KPROBE_NONE = new Set(['luo_file_unfreeze']);

export class BpftraceRenderer extends Renderer {
  /** Approximate count of probes the script attaches (the real run printed 59). */
  private static readonly PROBES = 59;

  include(r: Rec): boolean {
    switch (r.kind) {
      case K_SYS_ENTER:
      case K_SYS_EXIT:
      case K_PRINTK:
        return false;
      case K_LOCK_ACQUIRE:
      case K_LOCK_RELEASE: {
        // luo_events.bt filters lockdep events to the four LUO rwsems (not their wait_locks).
        const l = r.lock as Lock;
        return this.o.lockdep && l.type === 'rwsem';
      }
      case K_KRETPROBE: {
        const n = (r.a as Fn).name;
        return BT_KRET_RETVAL.has(n) || BT_KRET_VOID.has(n) || (this.o.pre && F_PRE_INT.has(n));
      }
      case K_KPROBE:
        return !BT_KPROBE_NONE.has((r.a as Fn).name);
      default:
        return true;
    }
  }

  eventName(r: Rec): string {
    switch (r.kind) {
      case K_KPROBE:
        return `kprobe:${(r.a as Fn).name}`;
      case K_KRETPROBE:
        return `kretprobe:${(r.a as Fn).name}`;
      case K_RWPROBE:
      case K_MODPROBE:
        return `kprobe:${r.a as string}`;
      case K_MODREF:
        return `tracepoint:module:${r.a as string}`;
      case K_MODLOAD:
        return 'tracepoint:module:module_load';
      case K_MODFREE:
        return 'tracepoint:module:module_free';
      case K_LOCK_ACQUIRE:
        return 'tracepoint:lock:lock_acquire';
      case K_LOCK_RELEASE:
        return 'tracepoint:lock:lock_release';
      case K_CONT_BEGIN:
        return 'tracepoint:lock:contention_begin';
      case K_CONT_END:
        return 'tracepoint:lock:contention_end';
      default:
        return 'other';
    }
  }

  private ctx(task: Task, cpu: number): string {
    let s = task.scache[cpu];
    if (s === undefined) {
      s = ` cpu=${cpu} pid=${task.tgid} tid=${task.pid} comm=${task.comm}`;
      task.scache[cpu] = s;
    }
    return s;
  }

  line(r: Rec): string {
    const head = `${this.eventName(r)} ts=${r.t + BPF_MONO_OFFSET_NS}${this.ctx(r.task, r.cpu)}`;
    switch (r.kind) {
      case K_KPROBE: {
        const args = (r.b as string).replace(/"/g, '');
        return args === '' ? head : `${head} ${args}`;
      }
      case K_KRETPROBE: {
        const fn = r.a as Fn;
        return BT_KRET_VOID.has(fn.name) && !(this.o.pre && F_PRE_INT.has(fn.name)) ? head : `${head} retval=${r.n}`;
      }
      case K_RWPROBE: {
        const l = r.lock as Lock;
        return `${head} sem=${l.addr} sym=${l.sym} caller=${r.b as string}`;
      }
      case K_MODPROBE:
        return `${head} module=${(r.mod as ModuleState).name} caller=${r.b as string}`;
      case K_MODREF:
        return `${head} module=${(r.mod as ModuleState).name} refcnt=${r.n} call_site=${r.b as string}`;
      case K_MODLOAD:
        // TAINT_OOT_MODULE (bit 12) for the out-of-tree `O` taint.
        return `${head} module=${(r.mod as ModuleState).name} taints=4096`;
      case K_MODFREE:
        return `${head} module=${(r.mod as ModuleState).name}`;
      case K_LOCK_ACQUIRE: {
        const l = r.lock as Lock;
        return `${head} lockdep_addr=${l.dep} name=${l.name} flags=${r.n}`;
      }
      case K_LOCK_RELEASE: {
        const l = r.lock as Lock;
        return `${head} lockdep_addr=${l.dep} name=${l.name}`;
      }
      case K_CONT_BEGIN: {
        const l = r.lock as Lock;
        return `${head} lock=${l.addr} sym=${l.sym} flags=0x${r.n.toString(16)}`;
      }
      case K_CONT_END: {
        const l = r.lock as Lock;
        return `${head} lock=${l.addr} sym=${l.sym} ret=${r.n}`;
      }
      default:
        return head;
    }
  }

  override header(_c: unknown, firstTime: number): string[] {
    return [`Attaching ${BpftraceRenderer.PROBES} probes...`, `luo-bpftrace-start ts=${Math.max(0, firstTime - 15_800_000_000) + BPF_MONO_OFFSET_NS}`];
  }

  override footer(lastTime: number): string[] {
    // END prints its marker; the (empty) map dump at exit leaves two blank lines.
    return [`luo-bpftrace-end ts=${lastTime + 13_000_000_000 + BPF_MONO_OFFSET_NS}`, '', ''];
  }

  override lostMarker(_cpu: number, count: number | null): string | null {
    return count === null ? null : `Lost ${count} events`;
  }

  override get labelIsHeader(): boolean {
    return false;
  }
}

/** bpftrace -f json: every printf becomes `{"type": "printf", "data": "<line>\n"}` (O8). */
export class BpftraceJsonRenderer extends BpftraceRenderer {
  override line(r: Rec): string {
    return json(super.line(r));
  }
  override header(c: unknown, firstTime: number): string[] {
    const [, start] = super.header(c, firstTime);
    return ['{"type": "attached_probes", "data": {"probes": 59}}', json(start)];
  }
  override footer(lastTime: number): string[] {
    const [end] = super.footer(lastTime);
    return [json(end), '', ''];
  }
  override lostMarker(_cpu: number, count: number | null): string | null {
    return count === null ? null : `{"type": "lost_events", "data": {"events": ${count}}}`;
  }
}

function json(line: string): string {
  return `{"type": "printf", "data": ${JSON.stringify(`${line}\n`)}}`;
}
