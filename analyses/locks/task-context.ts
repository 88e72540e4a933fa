// What each task is doing, as the lock analysis attributes holds and waits: the LUO call it is in
// (and the phase of its outermost one), its session (stream/task-session.ts), the syscall it is in, and,
// outside LUO calls, the LUO call it returned from last within the same syscall (the session close
// path has no probed function of its own). The interval tracker asks for it when an interval opens.
import type { TraceEvent } from '../../parsers/event.js';
import type { LuoCallTracker } from '../stream/luo-calls.js';
import type { TaskContext } from './lock-intervals.js';
import { type SessionRef, SessionTracker } from '../stream/task-session.js';
import { type TaskKey, taskKey } from '../stream/task-key.js';

/** The same session: one name (or none), or one file_set binding (a new object each time it is asked). */
function sameSession(a: SessionRef, b: SessionRef): boolean {
  if (a === b) return true;
  return a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && a.fileSet === b.fileSet && a.binding === b.binding;
}

/** The context of a task doing nothing LUO tells of (most tasks): one object for all (contexts are values, never mutated). */
const NO_CONTEXT: TaskContext = Object.freeze({ func: null, phase: null, session: null, syscall: null, after: null, sid: 0 });

/** Session names numbered for the statistics (TaskContext.sid); the statistics keep figures for 1000 sessions. */
const SESSION_IDS = 1024;

export class TaskContexts {
  readonly sessions = new SessionTracker();
  private readonly syscalls = new Map<TaskKey, string>();
  /** Per task: the outermost LUO call it returned from last (until its next syscall boundary). */
  private readonly lastCall = new Map<TaskKey, string>();

  constructor(private readonly calls: LuoCallTracker | null) {}

  /**
   * The context of a task now (an arrow: handed to the interval tracker as a callback); `prev`, the
   * task's previous context, is answered again when nothing changed (contexts are values, never
   * mutated or compared by identity): no object per interval while a task stays where it is.
   */
  readonly context = (src: number, pid: number | null, prev: TaskContext | null = null): TaskContext => {
    const c = this.calls ? this.calls.innermost(src, pid) : null;
    const func = c?.func ?? null;
    const phase = c?.phase ?? null;
    const session = this.sessions.current(src, pid);
    const syscall = this.syscalls.size ? (this.syscalls.get(taskKey(src, pid)) ?? null) : null;
    const after = c === null && this.lastCall.size ? (this.lastCall.get(taskKey(src, pid)) ?? null) : null;
    if (prev !== null && prev.func === func && prev.phase === phase && prev.syscall === syscall && prev.after === after && sameSession(prev.session, session)) return prev;
    if (func === null && phase === null && session === null && syscall === null && after === null) return NO_CONTEXT;
    const sid = prev !== null && prev.session === session && prev.sid !== undefined ? prev.sid : this.sessionId(session);
    return { func, phase, session, syscall, after, sid };
  };

  /** Session names with a number (TaskContext.sid), in the order first seen; bounded (a trace can name any number of sessions). */
  private readonly sessionIds = new Map<string, number>();

  /** TaskContext.sid of a session: 0 for none, 1.. for the first SESSION_IDS names, -1 for the others and for file_sets not named yet. */
  private sessionId(session: SessionRef): number {
    if (session === null) return 0;
    if (typeof session !== 'string') return -1;
    const id = this.sessionIds.get(session);
    if (id !== undefined) return id;
    if (this.sessionIds.size >= SESSION_IDS) return -1;
    this.sessionIds.set(session, this.sessionIds.size + 1);
    return this.sessionIds.size;
  }

  /** The task (by taskKey) left its outermost LUO call `func`. */
  returnedFrom(key: TaskKey, func: string): void {
    this.lastCall.set(key, func);
  }

  /**
   * Follow syscall boundaries and session naming (LUO function entries); other events are ignored.
   * Returns whether the event can have changed its task's session or syscall: a syscall boundary,
   * or a probe with a `name` or `file_set` argument (the only ones SessionTracker.push follows).
   */
  push(ev: TraceEvent): boolean {
    switch (ev.kind) {
      case 'kprobe':
      case 'fentry':
      case 'bpftrace':
        this.sessions.push(ev);
        return ev.fields.args.name !== undefined || ev.fields.args.file_set !== undefined;
      case 'syscall_enter':
        this.syscalls.set(taskKey(ev.src, ev.pid), ev.fields.syscall);
        this.lastCall.delete(taskKey(ev.src, ev.pid));
        return true;
      case 'syscall_exit':
        this.syscalls.delete(taskKey(ev.src, ev.pid));
        this.lastCall.delete(taskKey(ev.src, ev.pid));
        return true;
      default:
        return false;
    }
  }
}
