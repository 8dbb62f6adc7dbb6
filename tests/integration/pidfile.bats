#!/usr/bin/env bats
# --pid-file: decimal host pid, no newline, written atomically before create returns.

load helpers

setup() {
	setup_bundle
	set_cmd pause
}

teardown() {
	teardown_bundle
}

@test "pidfile: create --pid-file, absolute path" {
	create_ctr --pid-file "$TESTDIR/c1.pid" c1
	[ -f "$TESTDIR/c1.pid" ]
	# digits only, no trailing newline (go-runc does strconv.Atoi on the whole file)
	run cat "$TESTDIR/c1.pid"
	assert_output --regexp '^[0-9]+$'
	[ "$(tail -c 1 "$TESTDIR/c1.pid" | od -An -c | tr -d ' ')" != '\n' ]
	[ "$(cat "$TESTDIR/c1.pid")" = "$(state_field c1 pid)" ]
	# no temporary file left next to it
	run ls -A "$TESTDIR"
	refute_output --regexp '(^|\s)\.c1\.pid'
	refute_output --partial ".tmp"
}

@test "pidfile: relative --pid-file is relative to the caller's cwd" {
	mkdir "$TESTDIR/cwd"
	cd "$TESTDIR/cwd"
	silo_detached create --pid-file rel.pid --bundle "$BUNDLE" c1
	assert_success
	[ -f "$TESTDIR/cwd/rel.pid" ]
	[ ! -e "$BUNDLE/rel.pid" ]
	[ "$(cat "$TESTDIR/cwd/rel.pid")" = "$(state_field c1 pid)" ]
}

@test "pidfile: --pid-file=VALUE form" {
	create_ctr --pid-file="$TESTDIR/c1.pid" c1
	[ "$(cat "$TESTDIR/c1.pid")" = "$(state_field c1 pid)" ]
}

@test "pidfile: run -d --pid-file" {
	run_detached --pid-file "$TESTDIR/c1.pid" c1
	[ "$(cat "$TESTDIR/c1.pid")" = "$(state_field c1 pid)" ]
	pid=$(cat "$TESTDIR/c1.pid")
	run cat "/proc/$pid/cmdline"
	assert_output --partial /silo-testinit
}

@test "pidfile: replaces an existing file" {
	echo garbage >"$TESTDIR/c1.pid"
	create_ctr --pid-file "$TESTDIR/c1.pid" c1
	[ "$(cat "$TESTDIR/c1.pid")" = "$(state_field c1 pid)" ]
}

@test "pidfile: not written when create fails" {
	set_cmd
	update_config '.process.args = ["/does-not-exist"]'
	silo_detached create --pid-file "$TESTDIR/c1.pid" --bundle "$BUNDLE" c1
	assert_failure
	[ ! -e "$TESTDIR/c1.pid" ]
}
