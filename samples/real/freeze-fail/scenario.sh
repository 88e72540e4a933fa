# freeze-fail: luo_demo fail_freeze=0x202; 2 sessions as in lifecycle (3 luo_demo fds + 1 memfd
# each, tokens 0x101.., 0x201..); kexec -s -l, then kexec -e with every tracer still running:
# liveupdate_reboot -> luo_session_serialize -> luo_file_freeze fails for token 0x202 -> rollback
# (unfreeze) -> reboot() returns the error, the OLD kernel keeps running (ring buffers survive).
# Then both session fds are closed (abort -> unpreserve -> module_put), rmmod luo_demo, dump.
SPEC1="freeze-s1:3:1 freeze-s2:3:1"
# This copy (wave 3): no bpftrace. The first run with bpftrace hit capture.sh's 1500 s QEMU
# timeout on this loaded host while bpftrace was still exiting (nothing was dumped).
bpftrace() { echo "bpftrace skipped in scenario freeze-fail"; }
FAIL_ID=0x202
TCMD_EXTRA="-e syscalls:sys_enter_reboot -e syscalls:sys_exit_reboot -e syscalls:sys_enter_kexec_file_load -e syscalls:sys_exit_kexec_file_load"

run_stage1() {
	start_tracers
	echo "--- insmod luo_demo fail_freeze=$FAIL_ID"
	insmod /luo/luo_demo.ko fail_freeze=$FAIL_ID; echo "insmod rc=$?"
	cat /sys/module/luo_demo/parameters/fail_freeze
	cat > /tmp/hold.sh <<'EOS'
W=/tmp/w
up() { cut -d' ' -f1 /proc/uptime; }
grep luo_demo /proc/modules
NEWCL=$(sed 's/luo_stage=1/luo_stage=2/' /proc/cmdline)
echo "--- [$(up)] kexec -s -l /boot/bzImage --append=\"$NEWCL\""
kexec -s -l /boot/bzImage --append="$NEWCL"; echo "kexec load rc=$?"
cat /sys/kernel/kexec_loaded 2>/dev/null | sed 's/^/kexec_loaded=/'
sync
echo "--- [$(up)] kexec -e with all tracers running (expected: freeze of token 0x202 fails, reboot() returns -EIO)"
kexec -e > $W/kexec-e.out 2>&1
rc=$?
echo "[$(up)] kexec -e returned $rc"
echo "kexec -e output: $(cat $W/kexec-e.out)"
echo "kexec -e rc=$rc" >> $W/kexec-e.out
cat /sys/kernel/kexec_loaded 2>/dev/null | sed 's/^/kexec_loaded after failure=/'
dmesg | grep -iE 'freeze|luo|liveupdate' | tail -30
grep luo_demo /proc/modules
echo "--- [$(up)] hold command ends; luo_ctl now closes both session fds (abort)"
EOS
	luo_ctl hold $SPEC1 -- "bash /tmp/hold.sh" 2>&1 | tee $W/luo_ctl.log
	echo "--- luo_ctl exited (uptime $(up))"
	sleep 2
	grep luo_demo /proc/modules
	echo "--- rmmod luo_demo after the failed kexec and the aborted sessions"
	rmmod luo_demo; echo "rmmod rc=$? (expected 0)"
	grep luo_demo /proc/modules || echo "luo_demo unloaded"
	stop_tracers
}

# only reached if kexec -e unexpectedly succeeded
run_stage2() {
	echo "UNEXPECTED: kexec -e succeeded; new kernel booted (freeze did not fail)"
	dmesg | grep -iE 'freeze|luo|liveupdate|KHO' | tee $W/unexpected.txt
}
