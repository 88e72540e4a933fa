// The key of a task: a pid within one source (pids are reused across boots and machines, so the
// source is part of it). Every reducer that keeps per-task state uses this key.

/** A number on the hot path; a string only for a pid no kernel prints (hostile or broken input). */
export type TaskKey = number | string;

/** pids stay below 2^22 (PID_MAX_LIMIT, include/linux/threads.h): one number per task, no string per event. */
const PID_SLOTS = 8_388_608;
const NO_PID = PID_SLOTS - 1;

export function taskKey(src: number, pid: number | null): TaskKey {
  if (pid === null) return src * PID_SLOTS + NO_PID;
  // Out of range, a pid would collide with a pid of the next source: keep it apart.
  return Number.isInteger(pid) && pid >= 0 && pid < NO_PID ? src * PID_SLOTS + pid : `${src}:${pid}`;
}
