#!/usr/bin/env bats
# process.terminal: --console-socket protocol (interfaces.md §1.7) and foreground terminals.

load helpers

setup() {
	requires python3
	setup_bundle
	update_config '.process.terminal = true'
	CONSOLE_SOCKET=$TESTDIR/console.sock
}

teardown() {
	teardown_bundle
}

start_receiver() {
	python3 "$BATS_TEST_DIRNAME/recvtty.py" "$CONSOLE_SOCKET" "$TESTDIR/tty" &
	RECV_PID=$!
	retry 50 0.1 test -S "$CONSOLE_SOCKET"
}

@test "terminal: console socket receives exactly one pty master fd" {
	set_cmd isatty 0
	start_receiver
	create_ctr --console-socket "$CONSOLE_SOCKET" c1
	retry 50 0.1 test -s "$TESTDIR/tty.json"
	cat "$TESTDIR/tty.json"
	jq -e '.ncmsg == 1 and .nfds == 1 and (.truncated | not)' "$TESTDIR/tty.json"
	jq -e '.cmsgs == [[1, 1]]' "$TESTDIR/tty.json"
	# a non-empty payload under 4096 bytes (go-runc recvFd)
	jq -e '.payload_len > 0 and .payload_len < 4096' "$TESTDIR/tty.json"
	jq -e '.isatty == [true]' "$TESTDIR/tty.json"
	silo start c1
	assert_success
	wait_for_container 50 0.1 c1 stopped
	wait "$RECV_PID"
	run cat "$TESTDIR/tty"
	assert_output --partial "tty"
}

@test "terminal: stdin, stdout and stderr are the same pty, /dev/console is it too" {
	set_cmd fds
	start_receiver
	create_ctr --console-socket "$CONSOLE_SOCKET" c1
	silo start c1
	assert_success
	wait_for_container 50 0.1 c1 stopped
	wait "$RECV_PID"
	run tr -d '\r' <"$TESTDIR/tty"
	assert_line --regexp '^0 /dev/pts/[0-9]+$'
	pts=$(sed -n 's/^0 \(\/dev\/pts\/[0-9]*\)\r*$/\1/p' "$TESTDIR/tty")
	assert_line "1 $pts"
	assert_line "2 $pts"
	[ "${#lines[@]}" -eq 3 ]
}

@test "terminal: /dev/console is a pty" {
	set_cmd stat /dev/console
	start_receiver
	create_ctr --console-socket "$CONSOLE_SOCKET" c1
	silo start c1
	wait_for_container 50 0.1 c1 stopped
	wait "$RECV_PID"
	run tr -d '\r' <"$TESTDIR/tty"
	# Unix98 pty slaves have majors 136-143
	assert_output --regexp '^type=chr mode=0[0-7]+ rdev=13[6-9]:'
}

@test "terminal: consoleSize is applied" {
	update_config '.process.consoleSize = {"height": 40, "width": 120}'
	set_cmd ttysize
	start_receiver
	create_ctr --console-socket "$CONSOLE_SOCKET" c1
	silo start c1
	wait_for_container 50 0.1 c1 stopped
	wait "$RECV_PID"
	run tr -d '\r' <"$TESTDIR/tty"
	assert_output "40 120"
}

@test "terminal: run -d with terminal and console socket" {
	set_cmd pause
	start_receiver
	silo_detached run -d --console-socket "$CONSOLE_SOCKET" --bundle "$BUNDLE" c1
	assert_success
	retry 50 0.1 test -s "$TESTDIR/tty.json"
	jq -e '.nfds == 1' "$TESTDIR/tty.json"
	[ "$(state_field c1 status)" = running ]
}

@test "terminal: create with terminal but without --console-socket fails" {
	snapshot_host
	silo_detached create --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial "console socket"
	check_no_leaks
}

@test "terminal: --console-socket without terminal fails" {
	snapshot_host
	update_config '.process.terminal = false'
	start_receiver
	silo_detached create --console-socket "$CONSOLE_SOCKET" --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial "console socket"
	kill "$RECV_PID" 2>/dev/null || true
	wait "$RECV_PID" 2>/dev/null || true
	check_no_leaks
}

@test "terminal: a console socket that does not exist fails create" {
	snapshot_host
	silo_detached create --console-socket "$TESTDIR/nosuch.sock" --bundle "$BUNDLE" c1
	assert_failure
	check_no_leaks
}

@test "terminal: foreground run allocates a pty and copies its output" {
	set_cmd isatty 1
	run script -qec "timeout --foreground -k 5 $SILO_TIMEOUT '$SILO_BIN' --root '$ROOT' run --bundle '$BUNDLE' c1" /dev/null
	assert_success
	assert_output --partial "tty"
}

@test "terminal: foreground run returns the exit status" {
	set_cmd exit 7
	run script -qec "timeout --foreground -k 5 $SILO_TIMEOUT '$SILO_BIN' --root '$ROOT' run --bundle '$BUNDLE' c1" /dev/null
	assert_equal "$status" 7
}
