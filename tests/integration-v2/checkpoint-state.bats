#!/usr/bin/env bats
# checkpoint/restore of a paused container and of a terminal container (issue 6), in the guest.

load ../integration/helpers
load checkpoint-common

setup() {
	requires root
	criu_ok
}

teardown() {
	teardown_bundle
}

@test "checkpoint of a paused container: --leave-running keeps it paused; the restored one resumes" {
	setup_counter
	run_detached c1
	wait_counter 3
	silo pause c1
	assert_success
	counter_still
	# CRIU freezes through the container's freezer cgroup (runc's FreezeCgroup): a paused
	# container is dumped as it is and stays paused afterwards
	silo checkpoint --leave-running --image-path "$TESTDIR/img0" c1
	assert_success
	[ "$(state_field c1 status)" = paused ] || fail "status $(state_field c1 status) after --leave-running"
	counter_still
	silo resume c1
	assert_success
	local n
	n=$(counter)
	wait_counter $((n + 2))

	silo pause c1
	assert_success
	silo checkpoint --image-path "$IMG" c1
	assert_success
	silo state c1
	assert_failure
	n=$(counter)
	silo_detached restore -d --bundle "$BUNDLE" --image-path "$IMG" c1
	assert_success
	# the state silo reports matches the cgroup: paused (CRIU restored the frozen cgroup) or
	# running; either way the counter goes on from where it was once it runs
	local st
	st=$(state_field c1 status)
	echo "restored status: $st" >&2
	case $st in
	paused)
		counter_still
		silo resume c1
		assert_success
		;;
	running) ;;
	*) fail "restored status '$st'" ;;
	esac
	wait_counter $((n + 2))
	[ "$(state_field c1 status)" = running ] || fail "status $(state_field c1 status)"
	silo delete --force c1
	assert_success
}

@test "checkpoint/restore of a terminal container: restore sends a new pty master over --console-socket" {
	requires python3
	COUNTER_TTY=1 setup_counter 'echo tick $i;'
	update_config '.process.terminal = true'
	python3 "$INTEGRATION_ROOT/recvtty.py" "$TESTDIR/c1.sock" "$TESTDIR/tty1" &
	local r1=$! r2
	retry 50 0.1 test -S "$TESTDIR/c1.sock"
	run_detached --console-socket "$TESTDIR/c1.sock" c1
	wait_counter 3
	retry 50 0.1 grep -q tick "$TESTDIR/tty1"
	silo checkpoint --image-path "$IMG" c1
	assert_success
	local n
	n=$(counter)
	wait "$r1" || true # the old master's slave side is gone: the receiver ends

	python3 "$INTEGRATION_ROOT/recvtty.py" "$TESTDIR/c2.sock" "$TESTDIR/tty2" &
	r2=$!
	retry 50 0.1 test -S "$TESTDIR/c2.sock"
	silo_detached restore -d --bundle "$BUNDLE" --image-path "$IMG" --console-socket "$TESTDIR/c2.sock" c1
	assert_success
	retry 50 0.1 test -s "$TESTDIR/tty2.json"
	jq -e '.nfds == 1 and .isatty == [true]' "$TESTDIR/tty2.json" || fail "$(cat "$TESTDIR/tty2.json")"
	wait_counter $((n + 3))
	# the restored shell writes to the new pty, and what it writes picks up after n
	retry 50 0.1 grep -q "tick $((n + 2))" "$TESTDIR/tty2"
	# without a console socket a detached restore of a terminal container is refused (runc)
	silo_detached restore -d --bundle "$BUNDLE" --image-path "$IMG" c2
	assert_failure
	assert_output --partial "console socket"
	silo delete --force c1
	assert_success
	wait "$r2" || true
}
