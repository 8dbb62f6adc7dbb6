#!/usr/bin/env bats
# Fault injection (runtime/fault.h) in checkpoint and restore's CRIU steps, in the guest (the
# points of restore --import before CRIU run on the host: tests/integration/fault.bats).  After
# each SIGKILL of silo: `delete --force` exits 0 and nothing is left; the source container of a
# killed checkpoint keeps running (killed before the dump) or is restorable from its complete
# images (killed after it).

load ../integration/helpers
load checkpoint-common

setup() {
	requires root
	criu_ok
	setup_counter
}

teardown() {
	teardown_bundle
}

# faulted POINT ARGS...: silo ARGS with SILO_FAULT=POINT, which must SIGKILL it (137)
faulted() {
	local point=$1
	shift
	SILO_FAULT=$point silo "$@"
	[ "$status" -eq 137 ] || fail "SILO_FAULT=$point: want 137, got $status: $output"
}

faulted_detached() {
	local point=$1
	shift
	SILO_FAULT=$point silo_detached "$@"
	[ "$status" -eq 137 ] || fail "SILO_FAULT=$point: want 137, got $status: $output"
}

no_tmp_left() {
	[ -z "$(ls -A "$ROOT" | grep '^@')" ] || fail "temporary dir left: $(ls -A "$ROOT")"
	[ -z "$(ls -A "$TESTDIR" | grep '\.tmp-')" ] || fail "half archive left: $(ls -A "$TESTDIR")"
}

@test "checkpoint killed before the dump: the container keeps running, a later checkpoint works" {
	snapshot_host
	run_detached c1
	wait_counter 2
	faulted checkpoint.before-dump checkpoint --image-path "$IMG" c1
	[ "$(state_field c1 status)" = running ] || fail "status $(state_field c1 status)"
	local n
	n=$(counter)
	wait_counter $((n + 2))
	faulted checkpoint.before-dump checkpoint --export "$TESTDIR/c1.tar" c1
	[ ! -e "$TESTDIR/c1.tar" ] || fail "archive written"
	silo checkpoint --leave-running --image-path "$TESTDIR/img2" c1
	assert_success
	silo delete --force c1
	assert_success
	no_tmp_left
	check_no_leaks
}

@test "checkpoint killed after the dump: delete --force cleans up, the images restore" {
	snapshot_host
	run_detached c1
	wait_counter 2
	faulted checkpoint.after-dump checkpoint --image-path "$IMG" c1
	silo delete --force c1
	assert_success
	check_no_leaks
	local n
	n=$(counter)
	silo_detached restore -d --bundle "$BUNDLE" --image-path "$IMG" c1
	assert_success
	wait_counter $((n + 2))
	silo delete --force c1
	assert_success
	check_no_leaks
}

@test "checkpoint --export killed mid-archive: no half archive, nothing left after delete --force" {
	snapshot_host
	run_detached c1
	wait_counter 2
	# with --image-path the images survive the kill and restore
	faulted checkpoint.mid-export checkpoint --image-path "$IMG" --export "$TESTDIR/c1.tar" c1
	[ ! -e "$TESTDIR/c1.tar" ] || fail "half archive at the target"
	silo delete --force c1
	assert_success
	no_tmp_left
	check_no_leaks
	silo_detached restore -d --bundle "$BUNDLE" --image-path "$IMG" c1
	assert_success
	# without: the images lived in a temporary dir under the state root, which delete --force
	# removes once the killed silo no longer holds it
	faulted checkpoint.mid-export checkpoint --export "$TESTDIR/c2.tar" c1
	silo delete --force c1
	assert_success
	no_tmp_left
	check_no_leaks
}

@test "restore killed after CRIU restored the tree: delete --force kills it and cleans up" {
	snapshot_host
	run_detached c1
	wait_counter 2
	silo checkpoint --image-path "$IMG" c1
	assert_success
	local n
	n=$(counter)
	faulted_detached restore.after-criu restore -d --bundle "$BUNDLE" --image-path "$IMG" c1
	silo delete --force c1
	assert_success
	sleep 0.3
	counter_still "the restored tree still runs after delete --force"
	no_tmp_left
	check_no_leaks
	# restore.after-cgroup in the guest too (before CRIU): the same
	faulted_detached restore.after-cgroup restore -d --bundle "$BUNDLE" --image-path "$IMG" c1
	silo delete --force c1
	assert_success
	no_tmp_left
	check_no_leaks
}
