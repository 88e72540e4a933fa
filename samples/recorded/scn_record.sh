# record: `luotrace record` (ftrace and bpftrace backends) around a stage-1 workload, no kexec.
# Added for luotrace issue #5 (not part of the shared lab). The workload: insmod luo_demo, 2 sessions
# x (3 luo_demo + 1 memfd) held while `rmmod luo_demo` is refused, sessions closed (abort), rmmod OK.
# node's V8 needs madvise(): the kernel of this run adds CONFIG_ADVISE_SYSCALLS=y to the lab config
# (tinyconfig leaves it out; the first two runs died in V8 OS::SetPermissions "Check failed: 0 == ret").
LT="/luo/bin/node /luo/luotrace/dist/cli/main.js"
T=/sys/kernel/tracing

cat > /tmp/work.sh <<'EOS'
#!/bin/sh
export PATH=/luo/bin:/usr/sbin:/usr/bin:/sbin:/bin
echo "--- insmod luo_demo"; insmod /luo/luo_demo.ko; echo "insmod rc=$?"
luo_ctl hold record-s1:3:1 record-s2:3:1 -- "rmmod luo_demo; echo rmmod-while-held rc=\$?"
echo "--- rmmod luo_demo after the sessions closed"; rmmod luo_demo; echo "rmmod rc=$?"
EOS
chmod +x /tmp/work.sh

# The tracefs state record must leave as it found it.
tracefs_state() {
	echo "== kprobe_events"; cat $T/kprobe_events
	echo "== dynamic_events"; cat $T/dynamic_events 2>/dev/null
	echo "== instances"; ls $T/instances
	echo "== set_event"; cat $T/set_event
	for f in trace_clock current_tracer tracing_on buffer_size_kb options/record-tgid options/event-fork set_event_pid \
		events/lock/contention_begin/filter events/lock/lock_acquire/filter events/module/module_get/enable; do
		echo "== $f"; cat $T/$f
	done
}

check_restored() {   # $1 = label
	tracefs_state > $W/tracefs-after-$1.txt
	if diff -u $W/tracefs-before.txt $W/tracefs-after-$1.txt > $W/tracefs-diff-$1.txt; then
		echo "tracefs after $1: identical to before"
	else
		echo "tracefs after $1: DIFFERENT"; cat $W/tracefs-diff-$1.txt
	fi
}

save() {   # copy what exists so far to the output disk: a later hang cannot lose it
	cp -a $W/. $OUT/ 2>/dev/null; sync
}

# SIGINT $1 s after start; if luotrace has not ended 60 s later, say where each of its threads is.
sigint_probe() {
	d=$1
	echo "--- SIGINT $d s after start (verbose)  [uptime $(cut -d' ' -f1 /proc/uptime)]"
	$LT record --verbose -o $W/luotrace-sigint-$d.txt > $W/record-sigint-$d.log 2>&1 &
	p=$!; sleep $d; echo "kill -INT at uptime $(cut -d' ' -f1 /proc/uptime)"; kill -INT $p
	i=0; while [ $i -lt 60 ] && [ -d /proc/$p ] && ! grep -q ') Z' /proc/$p/stat 2>/dev/null; do sleep 1; i=$((i+1)); done
	if [ -d /proc/$p ] && ! grep -q ') Z' /proc/$p/stat 2>/dev/null; then
		echo "HANG: luotrace $p still running 60 s after SIGINT"
		for t in /proc/$p/task/*; do
			echo "== thread $(basename $t) $(cat $t/comm) state=$(awk '/^State/{print $2}' $t/status) wchan=$(cat $t/wchan 2>/dev/null)"
			cat $t/stack 2>/dev/null | head -20
		done
		echo "== SigPnd/ShdPnd/SigBlk/SigIgn/SigCgt"; grep -E '^(SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt)' /proc/$p/status
		echo "== fds"; ls -l /proc/$p/fd 2>/dev/null
		echo "== log so far"; cat $W/record-sigint-$d.log
		kill -9 $p
	fi
	wait $p; echo "record rc=$?"
	cat $W/record-sigint-$d.log; tail -2 $W/luotrace-sigint-$d.txt 2>/dev/null
	check_restored sigint-$d
	save
}

run_stage1() {
	echo "--- node $(/luo/bin/node --version), bpftrace $(bpftrace --version)"
	tracefs_state > $W/tracefs-before.txt
	echo "--- luotrace record (ftrace) -- /tmp/work.sh  [uptime $(cut -d' ' -f1 /proc/uptime)]"
	$LT record -o $W/luotrace-ftrace.txt -- /tmp/work.sh > $W/record-ftrace.log 2>&1; echo "record ftrace rc=$?"
	cat $W/record-ftrace.log
	check_restored ftrace
	save
	for d in 6; do sigint_probe $d; done
	echo "--- luotrace record --backend bpftrace -- /tmp/work.sh  [uptime $(cut -d' ' -f1 /proc/uptime)]"
	$LT record --backend bpftrace -o $W/luotrace-bpftrace.txt -- /tmp/work.sh > $W/record-bpftrace.log 2>&1; echo "record bpftrace rc=$?"
	cat $W/record-bpftrace.log
	check_restored bpftrace
	save
	echo "--- kprobe_events at the end:"; cat $T/kprobe_events
}
