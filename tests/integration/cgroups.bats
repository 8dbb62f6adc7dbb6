#!/usr/bin/env bats
# cgroups on this host's layout (v1 controllers; hybrid host with an empty cgroup2 at unified/).

load helpers

setup() {
	requires root cgroups_v1
	setup_bundle
	set_cmd pause
}

teardown() {
	teardown_bundle
}

@test "cgroups: init is in its cgroup when create returns" {
	create_ctr c1
	pid=$(state_field c1 pid)
	local c
	for c in memory pids cpu; do
		requires "cgroups_$c"
		run cat "/proc/$pid/cgroup"
		assert_line --regexp "^[0-9]+:([^:]*,)?$c(,[^:]*)?:$CGROUP_PATH\$"
		grep -qx "$pid" "$(cgroup_dir "$c")/cgroup.procs"
	done
}

@test "cgroups: the container sees its cgroup path without a cgroup namespace" {
	requires cgroups_pids
	set_cmd cgroup
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_line --regexp "^[0-9]+:pids:$CGROUP_PATH\$"
}

@test "cgroups: memory limit" {
	requires cgroups_memory
	update_config '.linux.resources.memory = {"limit": 67108864, "reservation": 33554432}'
	create_ctr c1
	[ "$(cat "$(cgroup_dir memory)/memory.limit_in_bytes")" = 67108864 ]
	[ "$(cat "$(cgroup_dir memory)/memory.soft_limit_in_bytes")" = 33554432 ]
}

@test "cgroups: cpu shares, quota and period" {
	requires cgroups_cpu
	update_config '.linux.resources.cpu = {"shares": 512, "quota": 50000, "period": 100000}'
	create_ctr c1
	[ "$(cat "$(cgroup_dir cpu)/cpu.shares")" = 512 ]
	[ "$(cat "$(cgroup_dir cpu)/cpu.cfs_quota_us")" = 50000 ]
	[ "$(cat "$(cgroup_dir cpu)/cpu.cfs_period_us")" = 100000 ]
}

@test "cgroups: cpuset" {
	requires cgroups_cpuset
	update_config '.linux.resources.cpu = {"cpus": "0", "mems": "0"}'
	create_ctr c1
	[ "$(cat "$(cgroup_dir cpuset)/cpuset.cpus")" = 0 ]
	[ "$(cat "$(cgroup_dir cpuset)/cpuset.mems")" = 0 ]
	pid=$(state_field c1 pid)
	run awk '/^Cpus_allowed_list:/ {print $2}' "/proc/$pid/status"
	assert_output 0
}

@test "cgroups: pids limit" {
	requires cgroups_pids
	update_config '.linux.resources.pids = {"limit": 100}'
	create_ctr c1
	[ "$(cat "$(cgroup_dir pids)/pids.max")" = 100 ]
}

@test "cgroups: pids limit is enforced" {
	requires cgroups_pids
	# init plus 2 children fit under 3; a 4th process does not
	update_config '.linux.resources.pids = {"limit": 3}'
	set_cmd spawn 3
	run_detached c1
	retry 50 0.1 grep -q "fork: Resource temporarily unavailable" "$CTR_ERR"
}

@test "cgroups: the cgroup is removed on delete" {
	create_ctr c1
	local dirs
	dirs=$(ls -d /sys/fs/cgroup/*"$CGROUP_PATH")
	[ -n "$dirs" ]
	silo delete --force c1
	assert_success
	run ls -d /sys/fs/cgroup/*"$CGROUP_PATH"
	assert_failure
}

@test "cgroups: the cgroup is removed after a failed create" {
	update_config '.process.args = ["/no/such/binary"]'
	silo_detached create --bundle "$BUNDLE" c1
	assert_failure
	run ls -d /sys/fs/cgroup/*"$CGROUP_PATH"
	assert_failure
}

@test "cgroups: nested cgroupsPath is created" {
	update_config --arg cg "$CGROUP_PATH/a/b" '.linux.cgroupsPath = $cg'
	create_ctr c1
	pid=$(state_field c1 pid)
	requires cgroups_pids
	grep -qx "$pid" "/sys/fs/cgroup/pids$CGROUP_PATH/a/b/cgroup.procs"
}

@test "cgroups: an invalid value fails create and leaves nothing" {
	requires cgroups_cpuset
	snapshot_host
	update_config '.linux.resources.cpu = {"cpus": "9999"}'
	silo_detached create --bundle "$BUNDLE" c1
	assert_failure
	check_no_leaks
}

@test "cgroups: device rules of the default config allow /dev/null and deny others" {
	requires cgroups_devices
	create_ctr c1
	run cat "$(cgroup_dir devices)/devices.list"
	assert_success
	assert_line --regexp '^c 1:3 rwm$'
	refute_line 'a *:* rwm'
}
