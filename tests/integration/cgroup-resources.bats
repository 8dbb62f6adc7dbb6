#!/usr/bin/env bats
# linux.resources fields beyond the basic ones, read back from the cgroup files, with the v2
# conversions: reservation -> memory.low, swap -> memory.swap.max = swap - limit, burst, idle,
# realtime, blockIO weight/throttles, hugepageLimits, checkBeforeUpdate, kernel fields and the
# `unified` map.
#
# Like cgroup-limits.bats, one file for both layouts: tests/integration-v2/cgroup-resources.bats
# is a symlink to it (run in the pure v2 guest by `make check-v2`).

load ../integration/helpers

setup() {
	requires root
	setup_bundle
	set_cmd pause
}

teardown() {
	teardown_bundle
}

# A block device "MAJ MIN" of this machine, or skip.
block_dev() {
	local d
	for d in /sys/block/*; do
		[ -r "$d/dev" ] || continue
		case "${d##*/}" in loop* | ram* | zram*) continue ;; esac
		tr ':' ' ' <"$d/dev"
		return 0
	done
	return 1
}

@test "resources: memory reservation, swap, swappiness and disableOOMKiller" {
	requires cgroups_memory
	update_config '.linux.resources.memory = {"limit": 67108864, "reservation": 33554432,
		"swap": 100663296, "swappiness": 10, "disableOOMKiller": true}'
	create_ctr c1
	if is_v2; then
		[ "$(cat "$(cgf - - memory.max)")" = 67108864 ]
		[ "$(cat "$(cgf - - memory.low)")" = 33554432 ]
		# memory+swap 96 MiB with a 64 MiB limit: 32 MiB of swap
		[ "$(cat "$(cgf - - memory.swap.max)")" = 33554432 ]
		if is_silo; then
			grep -q "swappiness: not supported on cgroup v2, ignoring" "$CTR_ERR"
			grep -q "disableOOMKiller: not supported on cgroup v2, ignoring" "$CTR_ERR"
		fi
	else
		[ "$(cat "$(cgf memory memory.limit_in_bytes -)")" = 67108864 ]
		[ "$(cat "$(cgf memory memory.soft_limit_in_bytes -)")" = 33554432 ]
		[ "$(cat "$(cgf memory memory.memsw.limit_in_bytes -)")" = 100663296 ]
		[ "$(cat "$(cgf memory memory.swappiness -)")" = 10 ]
		grep -qx 'oom_kill_disable 1' "$(cgf memory memory.oom_control -)"
	fi
}

@test "resources: kernel memory limits are ignored with a warning" {
	requires cgroups_memory
	update_config '.linux.resources.memory = {"limit": 67108864, "kernel": 33554432}'
	create_ctr c1
	if is_silo; then
		grep -q "/linux/resources/memory/kernel: .*ignoring" "$CTR_ERR"
	fi
	if ! is_v2; then
		# never written: the kernel's own default stays
		[ "$(cat "$(cgf memory memory.kmem.limit_in_bytes -)")" != 33554432 ]
	fi
}

@test "resources: cpu burst, idle and realtime" {
	requires cgroups_cpu
	ref_older_than 1.2 && skip "runc < 1.2 has no cpu burst / idle"
	update_config '.linux.resources.cpu = {"quota": 50000, "period": 100000, "burst": 20000, "idle": 1}'
	create_ctr c1
	if is_v2; then
		[ "$(cat "$(cgf - - cpu.max)")" = "50000 100000" ]
		[ "$(cat "$(cgf - - cpu.max.burst)")" = 20000 ]
		[ "$(cat "$(cgf - - cpu.idle)")" = 1 ]
	else
		[ "$(cat "$(cgf cpu cpu.cfs_quota_us -)")" = 50000 ]
		[ "$(cat "$(cgf cpu cpu.cfs_burst_us -)")" = 20000 ]
		[ "$(cat "$(cgf cpu cpu.idle -)")" = 1 ]
	fi
}

@test "resources: cpu realtime runtime/period (v1), ignored with a warning on v2" {
	requires cgroups_cpu
	update_config '.linux.resources.cpu = {"realtimePeriod": 100000, "realtimeRuntime": 1000}'
	if is_v2; then
		create_ctr c1
		! is_silo || grep -q "realtimeRuntime: .*not supported on cgroup v2, ignoring" "$CTR_ERR"
	else
		[ -e /sys/fs/cgroup/cpu/cpu.rt_runtime_us ] || skip "no CONFIG_RT_GROUP_SCHED"
		create_ctr c1
		[ "$(cat "$(cgf cpu cpu.rt_period_us -)")" = 100000 ]
		[ "$(cat "$(cgf cpu cpu.rt_runtime_us -)")" = 1000 ]
	fi
}

@test "resources: blockIO throttles (and the weight where the scheduler has one)" {
	if is_v2; then
		grep -qw io /sys/fs/cgroup/cgroup.controllers || skip "no io controller"
	else
		requires cgroups_blkio
	fi
	local maj min
	read -r maj min < <(block_dev) || skip "no block device"
	update_config --argjson maj "$maj" --argjson min "$min" '.linux.resources.blockIO = {
		"throttleReadBpsDevice": [{"major": $maj, "minor": $min, "rate": 1048576}],
		"throttleWriteIOPSDevice": [{"major": $maj, "minor": $min, "rate": 100}]}'
	create_ctr c1
	if is_v2; then
		run cat "$(cgf - - io.max)"
		assert_output "$maj:$min rbps=1048576 wbps=max riops=max wiops=100"
	else
		grep -qx "$maj:$min 1048576" "$(cgf blkio blkio.throttle.read_bps_device -)"
		grep -qx "$maj:$min 100" "$(cgf blkio blkio.throttle.write_iops_device -)"
	fi
}

@test "resources: blockIO weight (v2: io.weight 1 + (w - 10) * 9999 / 990, or io.bfq.weight)" {
	local f
	if is_v2; then
		grep -qw io /sys/fs/cgroup/cgroup.controllers || skip "no io controller"
	else
		[ -e /sys/fs/cgroup/blkio/blkio.weight ] || [ -e /sys/fs/cgroup/blkio/blkio.bfq.weight ] ||
			skip "no blkio weight (no CFQ/BFQ scheduler)"
	fi
	update_config '.linux.resources.blockIO = {"weight": 500}'
	create_ctr c1
	if is_v2; then
		if [ -e "$(cgf - - io.bfq.weight)" ]; then
			grep -qE '^default 500$' "$(cgf - - io.bfq.weight)"
		else
			[ -e "$(cgf - - io.weight)" ] || skip "no io.weight (no iocost)"
			grep -qE '^default 4950$' "$(cgf - - io.weight)"
		fi
	else
		f=$(cgf blkio blkio.weight -)
		[ -e "$f" ] || f=$(cgf blkio blkio.bfq.weight -)
		grep -qE '^(default )?500$' "$f"
	fi
}

@test "resources: hugepageLimits" {
	requires cgroups_hugetlb
	[ -d /sys/kernel/mm/hugepages/hugepages-2048kB ] || skip "no 2 MB huge pages"
	update_config '.linux.resources.hugepageLimits = [{"pageSize": "2MB", "limit": 4194304}]'
	create_ctr c1
	[ "$(cat "$(cgf hugetlb hugetlb.2MB.limit_in_bytes hugetlb.2MB.max)")" = 4194304 ]
}

@test "resources: checkBeforeUpdate refuses a memory limit below the current usage" {
	requires cgroups_memory
	update_config '.linux.resources.memory = {"limit": 134217728}'
	set_cmd memhog 24 pause
	run_detached c1
	wait_for_output 100 0.1 '^memhog done'
	echo '{"memory": {"limit": 8388608, "checkBeforeUpdate": true}}' >"$TESTDIR/res.json"
	silo update -r "$TESTDIR/res.json" c1
	assert_failure
	[ "$(cat "$(cgf memory memory.limit_in_bytes memory.max)")" = 134217728 ]
	# a limit above the usage passes
	echo '{"memory": {"limit": 100663296, "checkBeforeUpdate": true}}' >"$TESTDIR/res.json"
	silo update -r "$TESTDIR/res.json" c1
	assert_success
	[ "$(cat "$(cgf memory memory.limit_in_bytes memory.max)")" = 100663296 ]
}

@test "resources: the unified map needs cgroup v2, and its keys are validated" {
	if is_v2; then
		update_config '.linux.resources.unified = {"memory.max/../cgroup.procs": "1"}'
		silo_detached create --bundle "$BUNDLE" c1
		assert_failure
		# (the key is escaped as a JSON pointer: "/" is "~1")
		! is_silo || assert_output --partial "/linux/resources/unified/memory.max~1..~1cgroup.procs"
		update_config '.linux.resources.unified = {"nosuchctrl.max": "1"}'
		silo_detached create --bundle "$BUNDLE" c2
		assert_failure
	else
		update_config '.linux.resources.unified = {"memory.max": "67108864"}'
		silo_detached create --bundle "$BUNDLE" c1
		assert_failure
		! is_silo || assert_output --partial "/linux/resources/unified: requires cgroup v2"
	fi
	run ls -d /sys/fs/cgroup/*"$CGROUP_PATH" "/sys/fs/cgroup$CGROUP_PATH"
	assert_failure
}

@test "resources: --systemd-cgroup without a running systemd fails clearly and leaves nothing" {
	[ ! -d /run/systemd/system ] || skip "systemd is running on this host"
	snapshot_host
	update_config '.linux.cgroupsPath = "system.slice:silo-test:c1"'
	silo_detached --systemd-cgroup create --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial "systemd"
	! is_silo || assert_output --partial "systemd is not running on this host"
	silo state c1
	assert_failure
	check_no_leaks
}
