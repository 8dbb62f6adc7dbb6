#!/usr/bin/env bats
# The systemd cgroup driver (--systemd-cgroup): a transient scope per container.
#
# Needs systemd as PID 1 on a cgroup v2 host: on this project's hybrid CI host (no systemd) it
# runs inside the micro-VM of tests/vm/run-in-guest booted with SILO_VM_INIT=systemd, through
# tests/integration-systemd/run.sh (`make check-systemd`); every test skips elsewhere.
#
# Each test's cgroupsPath is "system.slice:silotest:tN-PID": unit silotest-tN-PID.scope, cgroup
# /sys/fs/cgroup/system.slice/silotest-tN-PID.scope (CGROUP_PATH, so that the shared teardown
# cleans it); teardown also stops the unit.  Expected values are runc's (the same conversions
# as cgroup-v2.bats): what systemd shows for the unit, and what the cgroup files say.

load ../integration/helpers

setup() {
	requires root cgroups_v2
	[ -d /run/systemd/system ] || skip "systemd is not running (make check-systemd boots it in a VM)"
	setup_bundle
	set_cmd pause
	SD_NAME="t${BATS_TEST_NUMBER}-$$"
	UNIT="silotest-$SD_NAME.scope"
	CGROUP_PATH="/system.slice/$UNIT"
	update_config --arg p "system.slice:silotest:$SD_NAME" '.linux.cgroupsPath = $p'
	SILO_GLOBAL_OPTS="--systemd-cgroup"
	on_teardown "systemctl stop $UNIT; systemctl reset-failed $UNIT"
}

teardown() {
	teardown_bundle
}

cg() {
	echo "/sys/fs/cgroup${CGROUP_PATH}"
}

# unit_prop NAME: systemctl show -p NAME --value $UNIT
unit_prop() {
	systemctl show -p "$1" --value "$UNIT"
}

# assert_unit_props NAME=VALUE...: one `systemctl show` (each exec costs ~0.6 s in the TCG guest)
assert_unit_props() {
	local show kv got
	show=$(systemctl show "$UNIT") || fail "systemctl show $UNIT failed"
	for kv in "$@"; do
		got=$(grep -m1 "^${kv%%=*}=" <<<"$show") || got="(${kv%%=*} missing)"
		[ "$got" = "$kv" ] || fail "$UNIT: expected $kv, systemd says '$got'"
	done
}

assert_cg_file() {
	local got
	got=$(cat "$(cg)/$1") || fail "cannot read $(cg)/$1"
	[ "$got" = "$2" ] || fail "$(cg)/$1: expected '$2', found '$got'"
}

limits() {
	update_config '.linux.resources = {
		"memory": {"limit": 67108864, "reservation": 33554432, "swap": 100663296},
		"cpu": {"shares": 1024, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"},
		"pids": {"limit": 32}}'
}

@test "systemd: run creates the scope in its slice with the limits, the init is in it before it runs" {
	limits
	run_detached c1
	assert_unit_props ActiveState=active Slice=system.slice ControlGroup="$CGROUP_PATH" Delegate=yes \
		MemoryMax=67108864 MemoryLow=33554432 MemorySwapMax=33554432 CPUWeight=39 \
		CPUQuotaPerSecUSec=500ms CPUQuotaPeriodUSec=100ms TasksMax=32 AllowedCPUs=0
	assert_cg_file memory.max 67108864
	assert_cg_file memory.low 33554432
	assert_cg_file memory.swap.max 33554432
	assert_cg_file cpu.weight 39
	assert_cg_file cpu.max "50000 100000"
	assert_cg_file pids.max 32
	assert_cg_file cpuset.cpus 0
	local pid
	pid=$(state_field c1 pid)
	grep -qx "$pid" "$(cg)/cgroup.procs"
	[ "$(cat /proc/"$pid"/cgroup)" = "0::$CGROUP_PATH" ]
	grep -q "\"systemdCgroup\": *true" "$ROOT/c1/state.json"
}

@test "systemd: create places the waiting init in the scope; start runs it there" {
	create_ctr c1
	local pid
	pid=$(state_field c1 pid)
	assert_unit_props ActiveState=active
	grep -qx "$pid" "$(cg)/cgroup.procs"
	silo start c1
	assert_success
	wait_for_container 50 0.1 c1 running
	grep -qx "$pid" "$(cg)/cgroup.procs"
}

@test "systemd: exec runs the process in the scope" {
	run_detached c1
	silo_detached exec -d c1 /silo-testinit sleep 30
	assert_success
	[ "$(wc -l <"$(cg)/cgroup.procs")" -eq 2 ]
	silo exec c1 /silo-testinit true
	assert_success
}

@test "systemd: update changes the unit's properties and the cgroup files" {
	limits
	run_detached c1
	silo update --memory 134217728 --pids-limit 64 --cpu-quota 25000 c1
	assert_success
	assert_unit_props MemoryMax=134217728 TasksMax=64 CPUQuotaPerSecUSec=250ms
	assert_cg_file memory.max 134217728
	assert_cg_file pids.max 64
	assert_cg_file cpu.max "25000 100000"
}

@test "systemd: pause and resume freeze the scope" {
	run_detached c1
	silo pause c1
	assert_success
	[ "$(state_field c1 status)" = paused ]
	assert_cg_file cgroup.freeze 1
	silo resume c1
	assert_success
	[ "$(state_field c1 status)" = running ]
	assert_cg_file cgroup.freeze 0
}

@test "systemd: ps and events --stats read the scope's cgroup" {
	update_config '.linux.resources = {"memory": {"limit": 67108864}, "pids": {"limit": 50}}'
	set_cmd spawn 2
	run_detached c1
	wait_for_output 50 0.1 '^spawned 2$'
	silo ps --format json c1
	assert_success
	[ "$(jq length <<<"$output")" -eq 3 ]
	jq -e --argjson p "$(state_field c1 pid)" 'index($p) != null' <<<"$output"
	silo events --stats c1
	assert_success
	jq -e '.type == "stats" and .id == "c1"' <<<"$output"
	jq -e '.data.pids.current == 3 and .data.pids.limit == 50' <<<"$output"
	jq -e '.data.memory.usage.limit == 67108864' <<<"$output"
}

@test "systemd: kill --all kills every process of the scope" {
	set_cmd spawn 2
	run_detached c1
	wait_for_output 50 0.1 '^spawned 2$'
	[ "$(wc -l <"$(cg)/cgroup.procs")" -eq 3 ]
	silo kill --all c1 KILL
	assert_success
	wait_for_container 50 0.1 c1 stopped
	retry 50 0.1 bash -c "[ ! -s '$(cg)/cgroup.procs' ]"
	silo delete c1
	assert_success
}

@test "systemd: delete stops the unit and the cgroup is gone" {
	run_detached c1
	assert_unit_props ActiveState=active
	silo delete --force c1
	assert_success
	[ ! -d "$(cg)" ]
	local st
	st=$(unit_prop LoadState)
	[ "$st" = not-found ] || [ "$(unit_prop ActiveState)" = inactive ] || fail "unit still there: $st"
	silo list -q
	assert_output ""
}

@test "systemd: nested slices expand as systemd defines them (a-b.slice in a.slice)" {
	local slice="silotest-n${SD_NAME//-/_}.slice"
	update_config --arg p "$slice:p:$SD_NAME" '.linux.cgroupsPath = $p'
	UNIT="p-$SD_NAME.scope"
	CGROUP_PATH="/silotest.slice/$slice/$UNIT"
	on_teardown "systemctl stop $UNIT $slice silotest.slice; systemctl reset-failed $UNIT"
	run_detached c1
	[ -d "$(cg)" ]
	assert_unit_props Slice="$slice" ControlGroup="$CGROUP_PATH"
	silo delete --force c1
	assert_success
	[ ! -d "$(cg)" ]
}

@test "systemd: a bad cgroupsPath fails clearly and leaves nothing behind" {
	local units_before p
	units_before=$(systemctl list-units --all --plain --no-legend 'silotest-*' | wc -l)
	for p in "/silo/abc" "a:b" "system.slice:p:" "notaslice:p:n" "-x.slice:p:n" "system.slice:p:a/b"; do
		update_config --arg p "$p" '.linux.cgroupsPath = $p'
		silo_detached create --bundle "$BUNDLE" c1
		assert_failure
		assert_output --partial "/linux/cgroupsPath"
		silo list -q
		assert_output ""
		[ ! -e "$ROOT/c1" ]
	done
	[ "$(systemctl list-units --all --plain --no-legend 'silotest-*' | wc -l)" -eq "$units_before" ]
}

@test "systemd: a failing create (bad process) stops the unit it started" {
	set_cmd pause
	update_config '.process.args = ["/does-not-exist"]'
	silo_detached create --bundle "$BUNDLE" c1
	assert_failure
	[ ! -d "$(cg)" ]
	local st
	st=$(unit_prop LoadState)
	[ "$st" = not-found ] || [ "$(unit_prop ActiveState)" = inactive ] || fail "unit left: $st"
	silo list -q
	assert_output ""
}
