#!/usr/bin/env bats
# checkpoint / restore through CRIU (issue 6), in the cgroup v2 guest (CRIU 3.17 fails on the CI
# host's kernel: "vdso: Unexpected rt vDSO area bounds"; it works in tests/vm's guest).
#
# The payload is a busybox-static shell counting into /tmp/c of the rootfs (readable from here
# through the bundle), its stdio moved onto the container's own /dev/null first: CRIU cannot
# dump files opened on mounts outside the container (the host's /dev/null, bats' files), the
# same constraint runc has (containerd hands it pipes, which are mapped back at restore).
#
# Every test skips unless this is a cgroup v2 host where `criu check` passes.

load ../integration/helpers

criu_ok() {
	[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] || skip "test requires unified cgroup v2"
	command -v criu >/dev/null || skip "test requires criu"
	criu check >/dev/null 2>&1 || skip "criu check fails on this kernel"
}

setup() {
	requires root
	criu_ok
	setup_bundle
	cp /bin/busybox "$BUNDLE/rootfs/busybox"
	update_config '.process.args = ["/busybox", "sh", "-c",
		"exec </dev/null >/dev/null 2>&1; i=0; while :; do i=$((i+1)); echo $i >/tmp/c; /busybox usleep 50000; done"]
		| .linux.resources = {"memory": {"limit": 67108864}, "pids": {"limit": 32}}'
	IMG=$TESTDIR/img
}

teardown() {
	teardown_bundle
}

counter() { cat "$BUNDLE/rootfs/tmp/c" 2>/dev/null || echo 0; }

# wait_counter N: until the counter reached N (the payload runs).
wait_counter() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(counter)" -ge "$1" ] && return 0
		sleep 0.1
	done
	fail "counter stuck at $(counter), wanted $1"
}

# assert_cg_file FILE EXPECTED: the container's v2 cgroup FILE holds EXPECTED.
assert_cg_file() {
	local got
	got=$(cat "/sys/fs/cgroup${CGROUP_PATH}/$1") || fail "cannot read ${CGROUP_PATH}/$1"
	[ "$got" = "$2" ] || fail "${CGROUP_PATH}/$1: expected '$2', got '$got'"
}

@test "checkpoint: a counter resumes where it stopped, limits back, delete works, nothing left" {
	snapshot_host
	run_detached c1
	wait_counter 3
	silo checkpoint --image-path "$IMG" c1
	assert_success
	[ -f "$IMG/inventory.img" ] || fail "no inventory.img"
	[ -f "$IMG/dump.log" ] || fail "no dump.log"
	jq -e 'length == 3' "$IMG/descriptors.json" || fail "descriptors.json: $(cat "$IMG/descriptors.json")"
	# runc: the checkpointed container is gone, its cgroup too
	silo state c1
	assert_failure
	[ ! -d "/sys/fs/cgroup${CGROUP_PATH}" ] || fail "cgroup left after checkpoint"
	local frozen
	frozen=$(counter)
	sleep 0.5
	[ "$(counter)" = "$frozen" ] || fail "counter moved after the dump: $frozen -> $(counter)"

	silo_detached restore -d --bundle "$BUNDLE" --image-path "$IMG" --pid-file "$TESTDIR/pid" c1
	assert_success
	[ "$(state_field c1 status)" = running ] || fail "status $(state_field c1 status)"
	[ "$(state_field c1 pid)" = "$(cat "$TESTDIR/pid")" ] || fail "pid file != state pid"
	wait_counter $((frozen + 3))
	# the counter went on from the dumped value (a fresh start would be back near 1)
	[ -f "$IMG/restore.log" ] || fail "no restore.log"
	grep -qw "$(cat "$TESTDIR/pid")" "/sys/fs/cgroup${CGROUP_PATH}/cgroup.procs" || fail "init not in its cgroup"
	assert_cg_file memory.max 67108864
	assert_cg_file pids.max 32

	silo kill c1 KILL
	assert_success
	wait_pid_gone "$(cat "$TESTDIR/pid")"
	silo delete c1
	assert_success
	check_no_leaks
}

@test "checkpoint --leave-running: the container keeps running and is checkpointed again" {
	run_detached c1
	wait_counter 2
	silo checkpoint --leave-running --image-path "$IMG" c1
	assert_success
	[ -f "$IMG/inventory.img" ] || fail "no inventory.img"
	[ "$(state_field c1 status)" = running ] || fail "status $(state_field c1 status)"
	local n
	n=$(counter)
	wait_counter $((n + 3))
	silo checkpoint --leave-running --image-path "$TESTDIR/img2" --work-path "$TESTDIR/work" c1
	assert_success
	[ -f "$TESTDIR/work/dump.log" ] || fail "--work-path: no dump.log there"
	[ -f "$TESTDIR/img2/inventory.img" ] || fail "no inventory.img"
}

@test "checkpoint --pre-dump, then a final dump with --parent-path, restores" {
	run_detached c1
	wait_counter 2
	silo checkpoint --pre-dump --image-path "$TESTDIR/pre" c1
	assert_success
	[ "$(state_field c1 status)" = running ] || fail "pre-dump stopped the container"
	silo checkpoint --image-path "$TESTDIR/final" --parent-path /abs c1
	assert_failure
	assert_output --partial "--parent-path"
	silo checkpoint --image-path "$TESTDIR/final" --parent-path ../pre c1
	assert_success
	[ -L "$TESTDIR/final/parent" ] || fail "no parent link in the final image"
	local frozen
	frozen=$(counter)
	silo_detached restore -d --bundle "$BUNDLE" --image-path "$TESTDIR/final" c1
	assert_success
	wait_counter $((frozen + 2))
}

@test "restore refuses a busy id and leaves the running container alone" {
	run_detached c1
	wait_counter 2
	silo checkpoint --leave-running --image-path "$IMG" c1
	assert_success
	local pid
	pid=$(state_field c1 pid)
	silo_detached restore -d --bundle "$BUNDLE" --image-path "$IMG" c1
	assert_failure
	assert_output --partial "already exists"
	[ "$(state_field c1 pid)" = "$pid" ] || fail "pid changed"
	[ "$(state_field c1 status)" = running ] || fail "status $(state_field c1 status)"
	# a restore that fails inside CRIU (no checkpoint there) leaves nothing behind
	snapshot_host
	silo_detached restore -d --bundle "$BUNDLE" --image-path "$TESTDIR/none" c2
	assert_failure
	assert_output --partial "--image-path"
	silo state c2
	assert_failure
	check_no_leaks
}

@test "checkpoint of a created or stopped container fails with runc's message; killed mid-dump loses nothing" {
	create_ctr c1
	silo checkpoint --image-path "$IMG" c1
	assert_failure
	assert_output --partial "Container cannot be checkpointed in created state"
	silo start c1
	assert_success
	wait_counter 2
	silo kill c1 KILL
	assert_success
	wait_pid_gone "$(state_field c1 pid)"
	silo checkpoint --image-path "$IMG" c1
	assert_failure
	assert_output --partial "Container cannot be checkpointed in stopped state"
	silo delete c1
	assert_success

	# the init is killed while CRIU dumps: the dump fails (or completes first), the container's
	# state stays until `delete`, and nothing leaks
	snapshot_host
	run_detached c2
	wait_counter 2
	local pid
	pid=$(state_field c2 pid)
	(sleep 0.3; kill -9 "$pid") &
	local killer=$!
	silo checkpoint --image-path "$TESTDIR/img-k" c2
	wait "$killer" # not a bare `wait`: bats runs its own background watchdog
	if [ "$status" -ne 0 ]; then
		assert_output --partial "criu dump failed"
		silo state c2
		assert_success
		silo delete --force c2
		assert_success
	fi
	check_no_leaks
}

@test "checkpoint/restore flags: bad --manage-cgroups-mode, --empty-ns other than network" {
	run_detached c1
	silo checkpoint --manage-cgroups-mode bogus --image-path "$IMG" c1
	assert_failure
	assert_output --partial "--manage-cgroups-mode"
	silo checkpoint --empty-ns pid --image-path "$IMG" c1
	assert_failure
	assert_output --partial "--empty-ns"
	for m in soft full strict ignore; do
		silo checkpoint --leave-running --manage-cgroups-mode "$m" --image-path "$TESTDIR/img-$m" c1
		assert_success
	done
}
