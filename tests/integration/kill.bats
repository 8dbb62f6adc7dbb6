#!/usr/bin/env bats
# kill: signal names and numbers, created and running containers, --all.

load helpers

setup() {
	setup_bundle
	set_cmd signal-report
}

teardown() {
	teardown_bundle
}

start_reporter() {
	create_ctr c1
	silo start c1
	assert_success
	wait_for_output 50 0.1 '^ready$'
}

@test "kill: default signal is SIGTERM" {
	start_reporter
	silo kill c1
	assert_success
	wait_for_container 50 0.1 c1 stopped
	run ctr_out
	assert_line SIGTERM
}

@test "kill: signal names with and without SIG, any case, and numbers" {
	start_reporter
	local sig want
	for sig in USR1 SIGUSR2 hup sigint 10 12 WINCH; do
		silo kill c1 "$sig"
		assert_success
	done
	for want in SIGUSR1 SIGUSR2 SIGHUP SIGINT SIGWINCH; do
		wait_for_output 50 0.1 "^$want\$"
	done
	# the numbers 10 and 12 are SIGUSR1 and SIGUSR2 on every Linux architecture silo targets
	[ "$(grep -c '^SIGUSR1$' "$CTR_OUT")" -eq 2 ]
	[ "$(grep -c '^SIGUSR2$' "$CTR_OUT")" -eq 2 ]
	[ "$(state_field c1 status)" = running ]
}

@test "kill: KILL stops a running container" {
	start_reporter
	silo kill c1 KILL
	assert_success
	wait_for_container 50 0.1 c1 stopped
}

@test "kill: 9 stops a created container" {
	create_ctr c1
	pid=$(state_field c1 pid)
	silo kill c1 9
	assert_success
	wait_for_container 50 0.1 c1 stopped
	wait_pid_gone "$pid"
}

@test "kill: an invalid signal fails with no effect" {
	start_reporter
	silo kill c1 NOTASIGNAL
	assert_failure
	silo kill c1 1000
	assert_failure
	[ "$(state_field c1 status)" = running ]
}

@test "kill: unknown container fails" {
	silo kill nosuch KILL
	assert_failure
	assert_output --partial "does not exist"
}

@test "kill: --all signals every process of the container" {
	# without a pid namespace, killing init does not take its children with it
	update_config '.linux.namespaces |= map(select(.type != "pid"))'
	set_cmd spawn 3
	run_detached c1
	wait_for_output 50 0.1 '^spawned 3$'
	pids=$(grep -E '^[0-9]+$' "$CTR_OUT")
	[ "$(echo "$pids" | wc -l)" -eq 3 ]
	for p in $pids; do kill -0 "$p"; done
	silo kill --all c1 KILL
	assert_success
	wait_for_container 50 0.1 c1 stopped
	for p in $pids; do
		wait_pid_gone "$p"
	done
}

@test "kill: -a short form for --all" {
	set_cmd pause
	run_detached c1
	silo kill -a c1 KILL
	assert_success
	wait_for_container 50 0.1 c1 stopped
}
