#!/usr/bin/env bats
# delete: removes stopped (and created) containers; --force kills first.

load helpers

setup() {
	setup_bundle
}

teardown() {
	teardown_bundle
}

@test "delete: stopped container, nothing left behind" {
	snapshot_host
	create_ctr c1
	silo start c1
	assert_success
	wait_for_container 50 0.1 c1 stopped
	silo delete c1
	assert_success
	silo state c1
	assert_failure
	assert_output --partial "does not exist"
	check_no_leaks
}

@test "delete: a created container is killed and deleted" {
	snapshot_host
	set_cmd pause
	create_ctr c1
	pid=$(state_field c1 pid)
	silo delete c1
	assert_success
	wait_pid_gone "$pid"
	check_no_leaks
}

@test "delete: a running container is refused, with no effect" {
	set_cmd pause
	run_detached c1
	pid=$(state_field c1 pid)
	silo delete c1
	assert_failure
	assert_output --partial "not stopped"
	[ "$(state_field c1 status)" = running ]
	kill -0 "$pid"
}

@test "delete: --force kills a running container" {
	snapshot_host
	set_cmd pause
	run_detached c1
	pid=$(state_field c1 pid)
	silo delete --force c1
	assert_success
	wait_pid_gone "$pid"
	check_no_leaks
}

@test "delete: -f short form, and --force on a stopped container" {
	create_ctr c1
	silo start c1
	wait_for_container 50 0.1 c1 stopped
	silo delete -f c1
	assert_success
	silo state c1
	assert_failure
}

@test "delete: --force kills every process when there is no pid namespace" {
	snapshot_host
	update_config '.linux.namespaces |= map(select(.type != "pid"))'
	set_cmd spawn 2
	run_detached c1
	wait_for_output 50 0.1 '^spawned 2$'
	pids=$(grep -E '^[0-9]+$' "$CTR_OUT")
	silo delete --force c1
	assert_success
	for p in $pids; do
		wait_pid_gone "$p"
	done
	check_no_leaks
}

@test "delete: the cgroup is removed" {
	requires cgroups_pids
	set_cmd pause
	create_ctr c1
	[ -d "$(cgroup_dir pids)" ]
	silo delete --force c1
	assert_success
	[ ! -e "$(cgroup_dir pids)" ]
}

@test "delete: unknown container fails" {
	silo delete nosuch
	assert_failure
	assert_output --partial "does not exist"
}

@test "delete: without an ID fails" {
	silo delete
	assert_failure
}

@test "delete: --force recovers from a runtime SIGKILLed in the middle of create" {
	snapshot_host
	# a prestart hook holds create at a known point: init cloned, cgroup made, state "creating"
	update_config '.hooks.prestart = [{"path": "/bin/sleep", "args": ["sleep", "7.123"]}]'
	set_cmd pause
	silo_bg create --bundle "$BUNDLE" c1
	retry 50 0.1 pgrep -f -P "$SILO_BG_PID" "sleep 7.123"
	kill -9 "$SILO_BG_PID"
	wait_bg 5 || true
	silo delete --force c1
	assert_success
	silo state c1
	assert_failure
	# the init died with its parent (pdeathsig), the hook too; cgroup and state are gone
	check_no_leaks
	run pgrep -f "^sleep 7.123$"
	[ "$status" -ne 0 ] || ! is_silo
}
