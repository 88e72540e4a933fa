# lossy-bpftrace: lifecycle-like stage 1 without the kexec: 2 sessions x (3 luo_demo + 1 memfd)
# preserved and held while a luo_ctl stress load runs (NPROC workers x DUR s, each loop: create
# session / preserve 1 luo_demo + 1 memfd / close), rmmod refused while held, then both sessions
# closed (abort) and rmmod OK.  The bpftrace text script gets a 1-page perf ring buffer per CPU
# (BPFTRACE_PERF_RB_PAGES=1, bpftrace 0.17), so it prints `Lost N events` and loses more than it
# keeps, while the ftrace instances (16 MB per CPU) and trace-cmd record the same run in full.
# Only the text bpftrace runs (the -f json and stats processes are skipped: each bpftrace costs
# minutes of start-up and shutdown under TCG on a loaded host).
export BPFTRACE_PERF_RB_PAGES=1
: "${DUR:=15}"; : "${NPROC:=4}"
INSTANCES="main pipe tgid"
SPEC1="lossy-s1:3:1 lossy-s2:3:1"
bpftrace() {
	case "$*" in
	*"-f json"*|*luo_stats*) echo "bpftrace skipped in scenario lossy-bpftrace" ;;
	*) command bpftrace "$@" ;;
	esac
}

stress_load() {   # $1 = label
	echo "[$(up)] $1: luo_ctl stress $NPROC $DUR 1 1 (load so that bpftrace loses events)"
	luo_ctl stress $NPROC $DUR 1 1 > $W/luo_ctl-stress.log 2>&1
	tail -n $((NPROC + 1)) $W/luo_ctl-stress.log
	echo "[$(up)] $1: stress done; Lost lines so far: $(grep -c '^Lost' $W/bpftrace-events.txt)"
}

run_stage1() {
	echo "BPFTRACE_PERF_RB_PAGES=$BPFTRACE_PERF_RB_PAGES DUR=$DUR NPROC=$NPROC"
	start_tracers
	echo "--- insmod luo_demo"
	insmod /luo/luo_demo.ko; echo "insmod rc=$?"
	save_pids
	echo "DUR=$DUR NPROC=$NPROC" >> /tmp/pids.env
	cat > /tmp/hold.sh <<'EOS'
. /luo/tracing.sh
. /tmp/pids.env
. /luo/scn_lossy-bpftrace.sh
stress_load stress
echo "--- rmmod luo_demo while 2 sessions hold 6 luo_demo files"
rmmod luo_demo; echo "rmmod rc=$? (expected non-zero: in use)"
grep luo_demo /proc/modules
echo "--- hold command ends; luo_ctl closes both session fds (abort)"
EOS
	luo_ctl hold $SPEC1 -- "bash /tmp/hold.sh" 2>&1 | tee $W/luo_ctl.log
	sleep 1
	echo "--- rmmod luo_demo after closing both sessions"
	rmmod luo_demo; echo "rmmod rc=$? (expected 0)"
	grep luo_demo /proc/modules || echo "luo_demo unloaded"
	stop_tracers
	grep '^Lost' $W/bpftrace-events.txt | head -3
	echo "Lost lines: $(grep -c '^Lost' $W/bpftrace-events.txt); lost sum: $(awk '/^Lost/{s+=$2} END{print s+0}' $W/bpftrace-events.txt); kept lines: $(grep -vc '^Lost' $W/bpftrace-events.txt)"
}
