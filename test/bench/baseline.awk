# The "what a user would otherwise do" baseline for `npm run bench`: one awk pass over ftrace text
# that pairs module_get/module_put per module (balance) and lock contention_begin/end per task and
# lock (wait time), printing totals. It is deliberately what an experienced user would type, not a
# strawman: field splitting on whitespace, associative arrays, one pass.
# Usage: awk -f test/bench/baseline.awk trace.txt
{
  # find the event name: the field after the timestamp ("12.345678:")
  for (i = 3; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+:$/) break
  if (i >= NF) next
  ev = $(i + 1); ts = substr($i, 1, length($i) - 1)
  if (ev == "module_get:") { get[$(i + 2)]++ }
  else if (ev == "module_put:") { put[$(i + 2)]++ }
  else if (ev == "contention_begin:") {
    task = $1; lock = $(i + 2)
    if (!((task, lock) in start)) start[task, lock] = ts
  } else if (ev == "contention_end:") {
    task = $1; lock = $(i + 2)
    if ((task, lock) in start) { wait += ts - start[task, lock]; waits++; delete start[task, lock] }
  }
}
END {
  for (m in get) printf "%s gets=%d puts=%d\n", m, get[m], put[m]
  printf "contended=%d total_wait_s=%.6f\n", waits, wait
}
