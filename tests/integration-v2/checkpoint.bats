#!/usr/bin/env bats
# checkpoint / restore through CRIU (issue 6), in the cgroup v2 guest (CRIU 3.17 fails on the CI
# host's kernel: "vdso: Unexpected rt vDSO area bounds"; it works in tests/vm's guest).
#
# The payload is checkpoint-common.bash's busybox counter, with memory and pids limits.
#
# Every test skips unless this is a cgroup v2 host where `criu check` passes.

load ../integration/helpers
load checkpoint-common

setup() {
	requires root
	criu_ok
	setup_counter
	counter_limits
}

teardown() {
	teardown_bundle
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
	counter_still "counter moved after the dump"

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

@test "checkpoint: /dev and /dev/shm come back from silo's own tmpfs archive, masked dirs stay masked" {
	snapshot_host
	update_config '.process.args = ["/busybox", "sh", "-c", "exec </dev/null >/dev/null 2>&1;
		echo shm-data >/dev/shm/x; /busybox mkdir /dev/extra; echo dev-data >/dev/extra/y; i=0;
		while :; do i=$((i+1)); echo $i >/tmp/c; /busybox usleep 50000; done"]'
	run_detached c1
	wait_counter 3
	silo checkpoint --image-path "$IMG" c1
	assert_success
	# silo archived the config's tmpfs mounts (checkpoint/tmpfs.c), CRIU none of them
	jq -e '(.tmpfs | map(.destination)) as $d | ($d | index("/dev")) != null and ($d | index("/dev/shm")) != null
		and (.masked | index("/proc/acpi")) != null' "$IMG/silo-tmpfs.json" ||
		fail "silo-tmpfs.json: $(cat "$IMG/silo-tmpfs.json")"
	[ -z "$(ls "$IMG" | grep '^tmpfs-dev-')" ] || fail "CRIU archived a tmpfs: $(ls "$IMG" | grep '^tmpfs-dev-')"
	local frozen
	frozen=$(counter)

	silo_detached restore -d --bundle "$BUNDLE" --image-path "$IMG" c1
	[ "$status" = 0 ] || { grep -E "mnt-v2|external|Error|mount" "$IMG/restore.log" | tail -60 >&2; grep -E "mnt|moun" "$IMG/dump.log" | tail -40 >&2; }
	assert_success
	wait_counter $((frozen + 3))
	[ "$(__silo exec c1 /busybox cat /dev/shm/x)" = shm-data ] || fail "/dev/shm lost its file"
	[ "$(__silo exec c1 /busybox cat /dev/extra/y)" = dev-data ] || fail "/dev lost its file"
	[ "$(__silo exec c1 /busybox sh -c 'echo x >/dev/null && /busybox stat -c %t:%T:%a /dev/null')" = 1:3:666 ] ||
		fail "/dev/null: $(__silo exec c1 /busybox stat -c %t:%T:%a /dev/null)"
	__silo exec c1 /busybox grep -q " /dev/shm .* - tmpfs " /proc/self/mountinfo || fail "/dev/shm is no tmpfs"
	[ -z "$(__silo exec c1 /busybox ls -A /proc/acpi)" ] || fail "/proc/acpi not masked"
	__silo exec c1 /busybox touch /proc/acpi/x 2>/dev/null && fail "the mask is writable"
	[ -z "$(ls -A "$ROOT/c1" | grep -E '^(tmpfs-|masked|criu-root)')" ] || fail "restore left: $(ls -A "$ROOT/c1")"

	silo delete --force c1
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

	# the init is killed while CRIU dumps: the dump fails (or completes first, or, on a loaded
	# host, the kill lands before the dump starts: refused as stopped), the container's state
	# stays until `delete`, and nothing leaks
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
		[[ $output == *"criu dump failed"* || $output == *"cannot be checkpointed in stopped state"* ]] ||
			fail "checkpoint of a killed init: $output"
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

@test "checkpoint --export FILE, restore --import FILE: the counter resumes; podman's archive names" {
	snapshot_host
	run_detached c1
	wait_counter 3
	silo checkpoint --export "$TESTDIR/c1.tar" c1
	assert_success
	[ "$(stat -c %a "$TESTDIR/c1.tar")" = 600 ] || fail "archive mode $(stat -c %a "$TESTDIR/c1.tar")"
	tar -tf "$TESTDIR/c1.tar" >"$TESTDIR/list"
	for f in spec.dump config.dump dump.log checkpoint/inventory.img checkpoint/descriptors.json; do
		grep -qx "$f" "$TESTDIR/list" || fail "archive lacks $f: $(cat "$TESTDIR/list")"
	done
	tar -xOf "$TESTDIR/c1.tar" config.dump | jq -e '.id == "c1" and .runtime == "silo"'
	[ -z "$(ls -A "$ROOT" | grep '^@')" ] || fail "temporary dir left: $(ls -A "$ROOT")"
	local frozen
	frozen=$(counter)
	silo_detached restore -d --bundle "$BUNDLE" --import "$TESTDIR/c1.tar" c1
	assert_success
	[ "$(state_field c1 status)" = running ] || fail "status $(state_field c1 status)"
	wait_counter $((frozen + 3))
	[ -z "$(ls -A "$ROOT" | grep '^@')" ] || fail "unpacked archive left: $(ls -A "$ROOT")"
	silo delete --force c1
	assert_success
	check_no_leaks
}

@test "checkpoint --export - | restore --import -: through a pipe" {
	run_detached c1
	wait_counter 2
	timeout 120 "$SILO_BIN" --root "$ROOT" checkpoint --export - c1 >"$TESTDIR/c1.tar" 2>"$TESTDIR/err" ||
		fail "checkpoint: $(cat "$TESTDIR/err")"
	local frozen
	frozen=$(counter)
	timeout 120 "$SILO_BIN" --root "$ROOT" restore -d --bundle "$BUNDLE" --import - c1 \
		<"$TESTDIR/c1.tar" >/dev/null 2>"$TESTDIR/err" 3>&- || fail "restore: $(cat "$TESTDIR/err")"
	wait_counter $((frozen + 2))
}

@test "a bridge-network container: restore re-wires eth0 (address, route) and the counter goes on" {
	command -v ip >/dev/null || skip "iproute2 needed"
	local ns=silo-ck-$$-$BATS_TEST_NUMBER real=$SILO_BIN
	ip netns add "$ns"
	on_teardown "ip netns del $ns"
	SILO_BIN=$TESTDIR/silo-in-ns
	printf '#!/bin/sh\nexec nsenter --net=/run/netns/%s %s "$@"\n' "$ns" "$real" >"$SILO_BIN"
	chmod +x "$SILO_BIN"
	update_config '.annotations = {"run.silo.network": "bridge"}'
	run_detached c1
	wait_counter 2
	local pid addr
	pid=$(state_field c1 pid)
	addr=$(nsenter -t "$pid" -n ip -4 -o addr show dev eth0 | awk '{print $4}')
	[ -n "$addr" ] || fail "no address on eth0 before the checkpoint"
	silo checkpoint --image-path "$IMG" c1
	assert_success
	local frozen
	frozen=$(counter)
	silo_detached restore -d --bundle "$BUNDLE" --image-path "$IMG" c1
	assert_success
	wait_counter $((frozen + 2))
	pid=$(state_field c1 pid)
	nsenter -t "$pid" -n ip -4 -o addr show dev eth0 | grep -q . || fail "no address on eth0 after restore"
	nsenter -t "$pid" -n ip route show default | grep -q "dev eth0" || fail "no default route after restore"
	silo delete --force c1
	assert_success
	[ -z "$(ip netns exec "$ns" ip -o link show | grep -v 'lo:\|silo0')" ] || fail "links left: $(ip netns exec "$ns" ip -o link)"
}

@test "restore without --detach waits for the container and exits with its status" {
	run_detached c1
	wait_counter 2
	silo checkpoint --image-path "$IMG" c1
	assert_success
	local frozen rpid rc=0
	frozen=$(counter)
	timeout 300 "$SILO_BIN" --root "$ROOT" restore --bundle "$BUNDLE" --image-path "$IMG" c1 \
		</dev/null >/dev/null 2>"$TESTDIR/err" 3>&- &
	rpid=$!
	wait_counter $((frozen + 2))
	[ "$(state_field c1 status)" = running ] || fail "status $(state_field c1 status)"
	silo kill c1 KILL
	assert_success
	wait "$rpid" || rc=$?
	[ "$rc" = 137 ] || fail "restore exited $rc, want 137: $(cat "$TESTDIR/err")"
	silo state c1
	assert_failure
}

@test "a container run from an image: export carries rootfs-diff.tar, import on the same node resumes it" {
	local data=$TESTDIR/data
	"$INTEGRATION_ROOT/../../scripts/mkimage-busybox.sh" "$TESTDIR/bb.tar" bb:1 >/dev/null ||
		skip "cannot build the busybox image"
	timeout 120 "$SILO_BIN" --root "$ROOT" --data-root "$data" image import "$TESTDIR/bb.tar" >/dev/null ||
		fail "image import"
	timeout 120 "$SILO_BIN" --root "$ROOT" --data-root "$data" run --image bb:1 --net none -d c1 \
		sh -c 'exec </dev/null >/dev/null 2>&1; echo kept >/note; i=0; while :; do i=$((i+1)); echo $i >/tmp/c; usleep 50000; done' \
		</dev/null >/dev/null 2>"$TESTDIR/err" 3>&- || fail "run --image: $(cat "$TESTDIR/err")"
	local dir=$data/containers/c1
	local n
	wait_counter_at "$dir/upper/tmp/c" 2
	silo checkpoint --export "$TESTDIR/c1.tar" c1
	assert_success
	tar -tf "$TESTDIR/c1.tar" | grep -qx rootfs-diff.tar || fail "no rootfs-diff.tar"
	tar -xOf "$TESTDIR/c1.tar" rootfs-diff.tar | tar -t | grep -qx note || fail "rootfs-diff.tar lacks /note"
	[ -f "$dir/upper/note" ] || fail "the container's upper dir was removed by checkpoint"
	n=$(counter_at "$dir/upper/tmp/c")
	silo_detached restore -d --import "$TESTDIR/c1.tar" c1
	assert_success
	wait_counter_at "$dir/upper/tmp/c" $((n + 2))
	silo delete --force c1
	assert_success
	[ ! -e "$dir" ] || fail "image container dir left after delete"
}
