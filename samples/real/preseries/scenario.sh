# pre-series: kernel with the local edit that pins the handler module at registration
# (try_module_get in liveupdate_register_file_handler, module_put in unregister).
# This copy (wave 3): no bpftrace (saves ~8 min of bpftrace start-up/shutdown under TCG on a
# loaded host); start_tracers then sees the 3 "bpftrace" jobs exit at once.
bpftrace() { echo "bpftrace skipped in scenario preseries"; }
run_stage1() {
	start_tracers
	insmod /luo/luo_demo.ko; echo "insmod rc=$?"
	grep luo_demo /proc/modules
	echo "--- rmmod luo_demo with no session in progress"
	rmmod luo_demo; echo "rmmod rc=$? (pre-series: expected non-zero, in use)"
	grep luo_demo /proc/modules
	sleep 1
	stop_tracers
	# forced unload outside the traced window (a first attempt with rmmod -f inside the
	# window hung the tracer shutdown, see _failed-runs/preseries-hang-after-rmmod-f)
	# second, ftrace-only window (instance "forced": module events, LUO kprobes, syscalls)
	i=$T/instances/forced; mkdir $i
	for e in module/module_get module/module_put module/module_load module/module_free \
		 syscalls/sys_enter_delete_module syscalls/sys_exit_delete_module; do echo 1 > $i/events/$e/enable; done
	echo 1 > $i/events/luo/enable
	for e in try_module_get module_put; do echo 'mod != 0' > $i/events/luomod/$e/filter; echo 1 > $i/events/luomod/$e/enable; done
	echo "--- rmmod -f luo_demo (forced; traced only by ftrace instance 'forced')"
	rmmod -f luo_demo; echo "rmmod -f rc=$?"
	grep luo_demo /proc/modules || echo "luo_demo unloaded"
	echo 0 > $i/tracing_on
	cat $i/trace > $W/ftrace-forced-rmmod.txt
}
