# contention: NPROC luo_ctl workers share one /dev/liveupdate fd and loop
# create-session / preserve(1 luo_demo fd + 1 memfd) / close(abort) for DUR s, while a shell loop
# does insmod/rmmod of a second module, luo_demo2 (register/unregister of its file handler and FLB
# take luo_register_rwlock for write; the workers' preserve/unpreserve take it for read).
: "${DUR:=30}"; : "${NPROC:=6}"
INSTANCES="main pipe tgid"
CONT_FILTER='comm ~ "luo_ctl*" || comm == "insmod" || comm == "rmmod"'
run_stage1() {
	start_tracers
	insmod /luo/luo_demo.ko; echo "insmod luo_demo rc=$?"
	luo_ctl stress $NPROC $DUR 1 1 > $W/luo_ctl.log 2>&1 &
	SP=$!
	end=$(( $(cut -d. -f1 /proc/uptime) + DUR ))
	n=0; ins=0; ok=0; busy=0
	while [ $(cut -d. -f1 /proc/uptime) -lt $end ]; do
		insmod /luo/luo_demo2.ko && ins=$((ins+1))
		if rmmod luo_demo2; then ok=$((ok+1)); else busy=$((busy+1)); fi
		n=$((n+1))
	done
	echo "--- rmmod luo_demo while the stress workers run (expected: in use)"
	rmmod luo_demo; echo "rmmod luo_demo rc=$?"
	wait $SP
	echo "luo_demo2 insmod/rmmod loop: iterations=$n insmod_ok=$ins rmmod_ok=$ok rmmod_fail=$busy" | tee $W/modloop.log
	cat $W/luo_ctl.log
	grep luo_demo /proc/modules
	rmmod luo_demo; echo "final rmmod luo_demo rc=$?"
	stop_tracers
}
# This copy (wave 3): no bpftrace (start-up/shutdown takes many minutes under TCG on a loaded host).
bpftrace() { echo "bpftrace skipped in scenario contention"; }
