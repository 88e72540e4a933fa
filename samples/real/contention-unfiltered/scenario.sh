# contention-unfiltered: the `contention` scenario (NPROC luo_ctl stress workers + insmod/rmmod
# loop of luo_demo2 for DUR s) with lock:contention_begin/end NOT filtered by comm in the ftrace
# instances and trace-cmd, so unrelated tasks (kworkers, bpftrace, init.sh, ...) contend too.
# (The bpftrace script luo_events.bt keeps its own comm filter.)
. /luo/scn_contention.sh
CONT_FILTER=""
# No bpftrace in this run (bpftrace start-up/shutdown takes many minutes under TCG on a loaded
# host); start_tracers then sees the 3 "bpftrace" jobs exit at once.
bpftrace() { echo "bpftrace skipped in scenario contention-unfiltered"; }
