#!/usr/bin/env bats
# run: create + start; in the foreground it waits and returns the container's status.

load helpers

setup() {
	setup_bundle
}

teardown() {
	teardown_bundle
}

@test "run: foreground, output passed through" {
	set_cmd echo hello world
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output "hello world"
}

@test "run: exit status of the container is returned" {
	set_cmd exit 42
	silo run --bundle "$BUNDLE" c1
	assert_equal "$status" 42
	set_cmd false
	silo run --bundle "$BUNDLE" c2
	assert_equal "$status" 1
}

@test "run: foreground container is deleted after it exits" {
	snapshot_host
	silo run --bundle "$BUNDLE" c1
	assert_success
	silo state c1
	assert_failure
	assert_output --partial "does not exist"
	check_no_leaks
}

@test "run: stdin is passed through" {
	set_cmd cat -
	run __silo run --bundle "$BUNDLE" c1 <<<"data on stdin"
	assert_success
	assert_output "data on stdin"
}

@test "run: stderr of the container is the runtime's stderr" {
	set_cmd cat /nonexistent
	run --separate-stderr __silo run --bundle "$BUNDLE" c1
	assert_failure
	assert_equal "$output" ""
	[[ "$stderr" == *"/nonexistent"* ]]
}

@test "run: detached with -d" {
	set_cmd pause
	run_detached c1
	[ "$(state_field c1 status)" = running ]
	silo kill c1 TERM
	assert_success
	wait_for_container 50 0.1 c1 stopped
	silo delete c1
	assert_success
}

@test "run: --detach long form and the output goes to the given stdio" {
	set_cmd echo detached output
	silo_detached run --detach --bundle "$BUNDLE" c1
	assert_success
	wait_for_container 50 0.1 c1 stopped
	run ctr_out
	assert_output "detached output"
}

@test "run: killed container gives 128+signal" {
	set_cmd pause
	silo_bg run --bundle "$BUNDLE" c1
	wait_for_container 50 0.1 c1 running
	silo kill c1 KILL
	assert_success
	wait_bg
	assert_equal "$BG_STATUS" 137
}

@test "run: SIGTERM to the foreground runtime is forwarded to the container" {
	set_cmd signal-report
	silo_bg run --bundle "$BUNDLE" c1
	wait_for_container 50 0.1 c1 running
	wait_for_output 50 0.1 '^ready$'
	kill -USR1 "$SILO_BG_PID"
	wait_for_output 50 0.1 '^SIGUSR1$'
	kill -TERM "$SILO_BG_PID"
	wait_bg
	assert_equal "$BG_STATUS" 0
	run ctr_out
	assert_line SIGTERM
}

@test "run: --keep keeps the stopped container" {
	silo run --keep --bundle "$BUNDLE" c1
	assert_success
	[ "$(state_field c1 status)" = stopped ]
	silo delete c1
	assert_success
}

@test "run: the process runs as pid 1 of its pid namespace" {
	set_cmd pid
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output 1
}
