# split-rmmod-f: one boot, two trace files.
# File 1 (the usual tracers: ftrace instances main/pipe/tgid, trace-cmd, bpftrace):
#   insmod luo_demo; session split-a (2 luo_demo + 1 memfd) preserved and closed (abort, all pins
#   released inside file 1); session split-b (3 luo_demo + 1 memfd) preserved and still held;
#   rmmod luo_demo refused (-EAGAIN); tracers stopped and dumped while split-b still pins the module.
# File 2 (recorded later on the same kernel, same clock): a new ftrace instance "later" with the
#   same event set (ftrace-later.txt) and a second trace-cmd record (trace-cmd-report-later.txt):
#   luo_ctl closes split-b (unpreserve -> module_put), then `rmmod -f luo_demo` (busybox: flags
#   O_NONBLOCK|O_EXCL|O_TRUNC), then a second `rmmod luo_demo` (-ENOENT, already unloaded).
INSTANCES="main pipe tgid"
# no bpftrace in this scenario (it is about the ftrace/trace-cmd files; saves ~5 min of
# bpftrace start-up under TCG): start_tracers then sees the 3 "bpftrace" jobs exit at once.
bpftrace() { echo "bpftrace skipped in scenario split-rmmod-f"; }

start_later() {   # second window: ftrace instance "later" + trace-cmd record -> *-later.*
	local i=$T/instances/later
	mkdir -p $i; echo 0 > $i/tracing_on; echo 16384 > $i/buffer_size_kb
	enable_set $i
	echo 1 > $i/tracing_on
	trace-cmd record -q -o $W/trace-cmd-later.dat -b 16384 \
		-e module:module_get -e module:module_put -e module:module_load -e module:module_free \
		-e lock:contention_begin ${CONT_FILTER:+-f "$CONT_FILTER"} \
		-e lock:contention_end ${CONT_FILTER:+-f "$CONT_FILTER"} \
		-e lock:lock_acquire -f "$LOCKNAME_FILTER" -e lock:lock_release -f "$LOCKNAME_FILTER" \
		-e luo -e luomod -f 'mod != 0' -e luorw -f "$SEM_FILTER" \
		-e syscalls:sys_enter_delete_module -e syscalls:sys_exit_delete_module \
		-e syscalls:sys_enter_finit_module -e syscalls:sys_exit_finit_module \
		-e syscalls:sys_enter_ioctl -f 'comm == "luo_ctl"' -e syscalls:sys_exit_ioctl -f 'comm == "luo_ctl"' \
		> $W/trace-cmd-later-record.log 2>&1 &
	echo "TCMD2_PID=$!" > /tmp/later.env
	local t=0
	while [ $t -lt 120 ] && ! grep -q '^1' $T/events/luo/enable 2>/dev/null; do sleep 1; t=$((t+1)); done
	sleep 2
	echo "[$(up)] second window up (instance later + trace-cmd, after ${t}s)"
}

stop_later() {
	. /tmp/later.env
	sleep 1
	kill -INT $TCMD2_PID; wait_pid $TCMD2_PID; echo "[$(up)] trace-cmd (later) done"
	echo 0 > $T/instances/later/tracing_on
	cat $T/instances/later/trace > $W/ftrace-later.txt
	echo 0 > $T/events/enable
	trace-cmd report -i $W/trace-cmd-later.dat > $W/trace-cmd-report-later.txt 2> $W/trace-cmd-report-later.err
	cat /proc/modules > $W/proc-modules-later.txt
	echo "[$(up)] second window stopped and dumped"
}

run_stage1() {
	start_tracers
	echo "--- insmod luo_demo"
	insmod /luo/luo_demo.ko; echo "insmod rc=$?"
	echo "--- session split-a: preserve 2 luo_demo + 1 memfd, then close (abort)"
	luo_ctl hold split-a:2:1 -- "grep luo_demo /proc/modules" 2>&1 | tee $W/luo_ctl-a.log
	save_pids
	cat > /tmp/hold.sh <<'EOS'
. /luo/tracing.sh
. /tmp/pids.env
. /luo/scn_split-rmmod-f.sh
grep luo_demo /proc/modules
echo "--- rmmod luo_demo while split-b holds 3 luo_demo files"
rmmod luo_demo; echo "rmmod rc=$? (expected non-zero: in use)"
stop_tracers
echo "=== [$(up)] file 1 dumped; split-b still held; starting the second window"
start_later
echo "--- [$(up)] hold command ends; luo_ctl now closes split-b (abort)"
EOS
	echo "--- session split-b: preserve 3 luo_demo + 1 memfd, held across the end of file 1"
	luo_ctl hold split-b:3:1 -- "bash /tmp/hold.sh" 2>&1 | tee $W/luo_ctl-b.log
	sleep 1
	grep luo_demo /proc/modules
	echo "--- [$(up)] rmmod -f luo_demo (forced)"
	rmmod -f luo_demo; echo "rmmod -f rc=$?"
	grep luo_demo /proc/modules || echo "luo_demo unloaded"
	echo "--- [$(up)] rmmod luo_demo again (expected -ENOENT)"
	rmmod luo_demo; echo "rmmod rc=$? (expected non-zero: not loaded)"
	cat /proc/sys/kernel/tainted | sed 's/^/tainted=/'
	stop_later
}
