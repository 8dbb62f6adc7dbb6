#!/usr/bin/env bats
# pause / resume / ps / update on a live container (cgroup freezer, pid listing, limits).

load helpers

setup() {
	setup_bundle
}

teardown() {
	teardown_bundle
}

@test "ps: --format json lists the host pids of every process in the container" {
	set_cmd spawn 2
	run_detached c1
	retry 50 0.1 bash -c "[ \$($SILO_BIN --root $ROOT ps --format json c1 | jq length) -eq 3 ]"
	silo ps --format json c1
	assert_success
	run jq -e --argjson p "$(state_field c1 pid)" 'index($p) != null' <<<"$output"
	assert_success
}

@test "ps: table output keeps the header and only the container's rows" {
	set_cmd pause
	run_detached c1
	silo ps c1
	assert_success
	assert_line --index 0 --regexp '^UID +PID +PPID'
	[ "${#lines[@]}" -eq 2 ]
	assert_line --index 1 --regexp "^root +$(state_field c1 pid) "
	silo ps c1 -o pid,comm
	assert_success
	assert_line --index 0 --regexp '^ *PID +COMMAND'
}

@test "pause / resume: state follows the freezer, and the processes really stop" {
	set_cmd pause
	run_detached c1
	silo pause c1
	assert_success
	[ "$(state_field c1 status)" = paused ]
	if [ -d "$(cgroup_dir freezer)" ]; then
		[ "$(cat "$(cgroup_dir freezer)/freezer.state")" = FROZEN ]
	else
		[ "$(cat "/sys/fs/cgroup${CGROUP_PATH}/cgroup.freeze")" = 1 ]
	fi
	silo pause c1
	assert_failure
	silo resume c1
	assert_success
	[ "$(state_field c1 status)" = running ]
	silo resume c1
	assert_failure
	assert_output --partial "not paused"
}

@test "pause: a stopped container is not running" {
	set_cmd true
	run_detached c1
	wait_for_container 50 0.1 c1 stopped
	silo pause c1
	assert_failure
	assert_output --partial "not running"
}

@test "delete --force of a paused container" {
	snapshot_host
	set_cmd pause
	run_detached c1
	silo pause c1
	assert_success
	silo delete --force c1
	assert_success
	check_no_leaks
}

@test "kill --all KILL of a paused container: the processes die (containerd's delete -f)" {
	set_cmd pause
	run_detached c1
	silo pause c1
	assert_success
	silo kill --all c1 KILL
	assert_success
	wait_for_container 50 0.1 c1 stopped
	silo delete c1
	assert_success
}

@test "update: flags and a resources document change the limits" {
	requires cgroups_v1
	update_config '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 20}'
	set_cmd pause
	run_detached c1
	silo update --memory 128M --pids-limit 64 --cpu-share 512 c1
	assert_success
	[ "$(cat "$(cgroup_dir memory)/memory.limit_in_bytes")" = 134217728 ]
	[ "$(cat "$(cgroup_dir pids)/pids.max")" = 64 ]
	[ "$(cat "$(cgroup_dir cpu)/cpu.shares")" = 512 ]
	echo '{"memory": {"limit": 100663296}, "cpu": {"quota": 50000, "period": 100000}}' >"$TESTDIR/res.json"
	silo update --resources "$TESTDIR/res.json" c1
	assert_success
	[ "$(cat "$(cgroup_dir memory)/memory.limit_in_bytes")" = 100663296 ]
	[ "$(cat "$(cgroup_dir cpu)/cpu.cfs_quota_us")" = 50000 ]
	silo update --memory banana c1
	assert_failure
}
