// Which named LUO session a task is working on, by name, at the current point of the stream: what
// lock waits and holds are attributed to (analyses/locks/), and the type of TaskContext.session.
//
// It lives in stream/ beside the call tracker so that any room can ask it. The LUO session analysis
// (analyses/luo/sessions.ts) answers a richer question from the same kernel facts: which session
// record, named or not yet, owns the file set of a task's open LUO calls (SessionReducer.sessionOfTask,
// over LuoCallTracker.openCalls). Kept deliberately small: session names
// are only printed by the lab's kprobes on luo_session_create / luo_session_retrieve (`name=`,
// real README §2); the per-file functions print the session's `file_set=` pointer instead
// (luo_preserve_file, luo_file_unpreserve_files, luo_retrieve_file, luo_file_finish,
// luo_file_deserialize...). The first file_set a task uses after creating or retrieving a named
// session is that session's file set (docs/luo-model.md §6: PRESERVE_FD / RETRIEVE_FD go through the
// session just created or retrieved). Session objects are freed and their memory reused, so a
// file_set pointer is re-bound every time: a binding holds from the moment it is made. A task
// keeps its last session after the LUO call returns, because the session close path
// (luo_session_release -> luo_session_remove, outgoing rwsem W) has no probed LUO function of its own.
import type { TraceEvent } from '../../parsers/event.js';
import { probedFunction } from '../kernel/kernel-models.js';
import { type TaskKey, taskKey } from './task-key.js';

const NAMING_FUNCTIONS = new Set(['luo_session_create', 'luo_session_retrieve']);

interface TaskSession {
  current: string | null;
  /** A named session was created/retrieved; the next new file_set belongs to it. */
  pendingName: string | null;
  /** file_set of the call the task is in, when it is not bound to a name yet. */
  unboundFileSet: string | null;
}

/**
 * The session names one file_set was bound to, in order. A pointer is re-bound for every session
 * that reuses it, so the full list grows with the trace; only the last name (what the pointer means
 * now) and the names at the positions a deferred SessionRef points to (what `resolve` reads) are kept.
 */
interface FileSetBindings {
  /** How many names the file_set has been bound to so far (the index of the next one). */
  count: number;
  /** The name at index 0, what a ref taken before the file_set was ever bound (the usual case) reads. */
  first: string;
  last: string;
  /** binding index -> the name bound there (null until it is), for the indices handed out in refs. */
  wanted: Map<number, string | null> | null;
}

export class SessionTracker {
  private readonly tasks = new Map<TaskKey, TaskSession>();
  /** `${src}:${file_set}` -> its bindings. */
  private readonly bindings = new Map<string, FileSetBindings>();

  private task(src: number, pid: number | null): TaskSession {
    const key = taskKey(src, pid);
    let t = this.tasks.get(key);
    if (!t) this.tasks.set(key, (t = { current: null, pendingName: null, unboundFileSet: null }));
    return t;
  }

  /** Update with one event (only LUO function entries matter). */
  push(ev: TraceEvent): void {
    if (ev.kind !== 'kprobe' && ev.kind !== 'fentry' && ev.kind !== 'bpftrace') return;
    const args = ev.fields.args;
    const name = args.name;
    const fileSet = args.file_set;
    // Neither a name nor a file set (most probes, e.g. of rwsem functions): nothing to follow.
    if (name === undefined && fileSet === undefined) return;
    const func = ev.kind === 'bpftrace' ? ev.fields.probe.slice(ev.fields.probe.lastIndexOf(':') + 1) : probedFunction(ev);
    if (!func) return;
    if (ev.kind === 'bpftrace' && !/^(kprobe|fentry|k|f):/.test(ev.fields.probe)) return;
    if (NAMING_FUNCTIONS.has(func) && name !== undefined) {
      const t = this.task(ev.src, ev.pid);
      t.current = name;
      t.pendingName = name;
      t.unboundFileSet = null;
      return;
    }
    if (fileSet === undefined) return;
    const t = this.task(ev.src, ev.pid);
    const key = `${ev.src}:${fileSet}`;
    if (t.pendingName !== null) {
      const b = this.bindings.get(key);
      if (!b) this.bindings.set(key, { count: 1, first: t.pendingName, last: t.pendingName, wanted: null });
      else if (b.last !== t.pendingName) {
        if (b.wanted?.has(b.count)) b.wanted.set(b.count, t.pendingName);
        b.count++;
        b.last = t.pendingName;
      }
      t.current = t.pendingName;
      t.pendingName = null;
      t.unboundFileSet = null;
      return;
    }
    const bound = this.bindings.get(key);
    if (bound) {
      t.current = bound.last;
      t.unboundFileSet = null;
    } else {
      // luo_file_deserialize runs before RETRIEVE_SESSION names the session (docs/luo-model.md §6 step 8).
      t.current = null;
      t.unboundFileSet = key;
    }
  }

  /** The session a task works on now: a name, or a deferred reference resolved in `resolve`. */
  current(src: number, pid: number | null): SessionRef {
    const t = this.tasks.get(taskKey(src, pid));
    if (!t) return null;
    if (t.current !== null) return t.current;
    if (t.unboundFileSet !== null) return { fileSet: t.unboundFileSet, binding: this.wantNext(t.unboundFileSet) };
    return null;
  }

  /** The index the next binding of `fileSet` will get, remembered so that `resolve` can read its name. */
  private wantNext(fileSet: string): number {
    const b = this.bindings.get(fileSet);
    if (!b) return 0;
    if (!b.wanted) b.wanted = new Map();
    if (!b.wanted.has(b.count)) b.wanted.set(b.count, null);
    return b.count;
  }

  /** A deferred reference becomes the name its file_set got next, if it ever did. */
  resolve(ref: SessionRef): string | null {
    if (ref === null || typeof ref === 'string') return ref;
    const b = this.bindings.get(ref.fileSet);
    if (!b || ref.binding >= b.count) return null;
    if (ref.binding === 0) return b.first;
    return b.wanted?.get(ref.binding) ?? null;
  }
}

/** A session name, a file_set not yet bound to a name (resolved at the end), or none. */
export type SessionRef = string | { fileSet: string; binding: number } | null;

export function sessionRefKey(ref: SessionRef): string {
  if (ref === null) return '';
  if (typeof ref === 'string') return `n:${ref}`;
  return `f:${ref.fileSet}#${ref.binding}`;
}
