#!/usr/bin/env bats
# start: runs the user process of a created container, once.

load helpers

setup() {
	setup_bundle
}

teardown() {
	teardown_bundle
}

@test "start: runs the process, whose stdio is the one given to create" {
	set_cmd echo hello from the container
	create_ctr c1
	silo start c1
	assert_success
	# start itself prints nothing
	assert_output ""
	wait_for_container 50 0.1 c1 stopped
	run ctr_out
	assert_output "hello from the container"
}

@test "start: a long-running process is running after start" {
	set_cmd pause
	create_ctr c1
	pid=$(state_field c1 pid)
	silo start c1
	assert_success
	[ "$(state_field c1 status)" = running ]
	[ "$(state_field c1 pid)" = "$pid" ]
	run cat "/proc/$pid/cmdline"
	assert_output --partial "/silo-testinit"
}

@test "start: fails on a running container, with no effect" {
	set_cmd pause
	create_ctr c1
	silo start c1
	assert_success
	pid=$(state_field c1 pid)
	silo start c1
	assert_failure
	[ "$(state_field c1 status)" = running ]
	[ "$(state_field c1 pid)" = "$pid" ]
}

@test "start: fails on a stopped container" {
	create_ctr c1
	silo start c1
	assert_success
	wait_for_container 50 0.1 c1 stopped
	silo start c1
	assert_failure
	[ "$(state_field c1 status)" = stopped ]
}

@test "start: fails for an unknown container" {
	silo start nosuch
	assert_failure
	assert_output --partial "does not exist"
}

@test "start: fails without an ID" {
	silo start
	assert_failure
}

@test "start: the process exit code does not make start fail" {
	set_cmd exit 3
	create_ctr c1
	silo start c1
	assert_success
	wait_for_container 50 0.1 c1 stopped
}
