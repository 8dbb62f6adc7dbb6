#!/usr/bin/env bats
# Security properties observable from the outside: fd hygiene, the runtime binary, isolation.

load helpers

setup() {
	setup_bundle
}

teardown() {
	teardown_bundle
}

@test "security: the container process has only fds 0, 1 and 2 (foreground run)" {
	set_cmd fds
	# extra fds in the caller must not reach the container without --preserve-fds
	exec 7</dev/null 8>"$TESTDIR/extra"
	silo run --bundle "$BUNDLE" c1
	exec 7<&- 8>&-
	assert_success
	[ "${#lines[@]}" -eq 3 ]
	assert_line --index 0 --regexp '^0 '
	assert_line --index 1 --regexp '^1 '
	assert_line --index 2 --regexp '^2 '
}

@test "security: the container process has only fds 0, 1 and 2 (create + start)" {
	set_cmd fds
	exec 7</dev/null
	create_ctr c1
	exec 7<&-
	silo start c1
	assert_success
	wait_for_container 50 0.1 c1 stopped
	run ctr_out
	[ "${#lines[@]}" -eq 3 ]
	assert_line --index 0 "0 /dev/null"
	assert_line --index 1 "1 $CTR_OUT"
	assert_line --index 2 "2 $CTR_ERR"
}

@test "security: the created container's init cannot be opened for writing" {
	# CVE-2019-5736: the process waiting for start runs the runtime's code; its /proc/PID/exe
	# must not be a writable handle on the host binary.  Only the open is attempted, with
	# O_WRONLY and no O_TRUNC, so nothing is modified even if the check fails.
	set_cmd pause
	create_ctr c1
	pid=$(state_field c1 pid)
	run "$SILO_TESTINIT" open-write "/proc/$pid/exe"
	assert_failure
	refute_output ok
	# and the runtime binary itself is unchanged and still usable
	"$SILO_BIN" --version
}

@test "security: after start, /proc/self/exe is the payload" {
	set_cmd readlink /proc/self/exe
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output /silo-testinit
}

@test "security: the container cannot write its own /proc/self/exe through the host binary" {
	# from inside, /proc/self/exe is the running payload: ETXTBSY, never the runtime
	set_cmd open-write /proc/self/exe
	silo run --bundle "$BUNDLE" c1
	assert_failure
	assert_output ETXTBSY
}

@test "security: the container does not see host processes" {
	set_cmd ls /proc
	silo run --bundle "$BUNDLE" c1
	assert_success
	# numeric entries: the container's own pid 1 only
	run bash -c "grep -E '^[0-9]+\$' <<<\"\$0\"" "$output"
	assert_output 1
}

@test "security: runtime environment does not leak into the container" {
	set_cmd env
	SILO_SECRET=leak silo run --bundle "$BUNDLE" c1
	assert_success
	refute_output --partial SILO_SECRET
	refute_output --partial BATS_
}

@test "security: default mounts are nosuid/noexec where the template says so" {
	set_cmd mounts
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_line --regexp ' /dev/shm [^ ]*nosuid,nodev,noexec'
	assert_line --regexp ' /sys [^ ]*ro,nosuid,nodev,noexec'
}

@test "security: state directory is not world-writable" {
	set_cmd pause
	create_ctr c1
	# fifos excepted: runc's exec.fifo is 0622 by design (its directory is not world-writable)
	run find "$ROOT" -perm -o+w -not -type l -not -type p
	assert_output ""
}

@test "security: the process is non-dumpable until exec" {
	skip "not observable from outside without racing the runtime's init"
}
