#!/usr/bin/env bats
# exec: a process joining a running container (runc's flags, exit codes and error strings).
# Written against runc as the reference: `SILO_BIN=$(command -v runc) make check` passes too.

load helpers

setup() {
	setup_bundle
	set_cmd pause
}

teardown() {
	teardown_bundle
}

@test "exec: runs in the container, stdout and exit status are the process's" {
	run_detached c1
	silo exec c1 /silo-testinit echo hello exec
	assert_success
	assert_output "hello exec"
	silo exec c1 /silo-testinit exit 7
	[ "$status" -eq 7 ]
}

@test "exec: joins every namespace and the cgroup of the container" {
	run_detached c1
	for ns in pid net ipc uts mnt cgroup; do
		silo exec c1 /silo-testinit readlink /proc/1/ns/$ns
		want=$output
		silo exec c1 /silo-testinit readlink /proc/self/ns/$ns
		assert_output "$want"
	done
	silo exec c1 /silo-testinit hostname
	assert_output silotest
	# pid namespace: not pid 1, parent outside the namespace (0)
	silo exec c1 /silo-testinit pid
	[ "$output" -gt 1 ]
	silo exec c1 /silo-testinit ppid
	assert_output 0
	silo exec c1 /silo-testinit cat /proc/1/cgroup
	want=$output
	silo exec c1 /silo-testinit cgroup
	assert_output "$want"
}

@test "exec: process settings come from the config (env, user, rlimits, caps, nnp)" {
	update_config '.process.env += ["FROM_CONFIG=1"]'
	run_detached c1
	silo exec c1 /silo-testinit getenv FROM_CONFIG
	assert_output 1
	silo exec c1 /silo-testinit rlimit NOFILE
	assert_output "1024 1024"
	silo exec c1 /silo-testinit nonewprivs
	assert_output 1
	silo exec c1 /silo-testinit caps
	# the config's CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE
	assert_line --regexp '^CapEff:\s*0*20000420$'
}

@test "exec: --env overrides and adds, --cwd, --user, --additional-gids" {
	update_config '.process.env += ["A=config"]'
	run_detached c1
	silo exec --env A=flag --env B=2 c1 /silo-testinit env
	assert_line A=flag
	assert_line B=2
	refute_line A=config
	silo exec --cwd /tmp c1 /silo-testinit cwd
	assert_output /tmp
	silo exec --user 1000:1001 --additional-gids 5 --additional-gids 7 c1 /silo-testinit id
	assert_line --regexp '^uid=1000 gid=1001'
	assert_output --partial "groups=5,7"
}

@test "exec: --cap adds a capability to the effective set" {
	run_detached c1
	silo exec c1 /silo-testinit caps
	before=$(echo "$output" | sed -n 's/^CapEff:\s*//p')
	silo exec --cap CAP_SYS_ADMIN c1 /silo-testinit caps
	after=$(echo "$output" | sed -n 's/^CapEff:\s*//p')
	[ "$before" != "$after" ]
	# CAP_SYS_ADMIN is bit 21
	[ $(( 0x$after & (1 << 21) )) -ne 0 ]
	[ $(( 0x$before & (1 << 21) )) -eq 0 ]
}

@test "exec: --process FILE replaces the flags" {
	run_detached c1
	cat >"$TESTDIR/process.json" <<'EOF_JSON'
{"args": ["/silo-testinit", "env"], "env": ["ONLY=this"], "cwd": "/", "user": {"uid": 0, "gid": 0}}
EOF_JSON
	silo exec --process "$TESTDIR/process.json" c1
	assert_success
	assert_line ONLY=this
	refute_line --partial FROM_CONFIG
}

@test "exec: --detach --pid-file: the process runs in the container, silo is gone" {
	run_detached c1
	silo_detached exec -d --pid-file "$TESTDIR/exec.pid" c1 /silo-testinit sleep 30
	assert_success
	pid=$(cat "$TESTDIR/exec.pid")
	[ -d "/proc/$pid" ]
	[ "$(readlink /proc/$pid/ns/pid)" = "$(readlink /proc/$(state_field c1 pid)/ns/pid)" ]
	[ "$(readlink /proc/$pid/ns/mnt)" = "$(readlink /proc/$(state_field c1 pid)/ns/mnt)" ]
	# no runtime process left between the caller and the exec'd process
	ppid=$(awk '/^PPid:/ {print $2}' /proc/$pid/status)
	! grep -q "$(basename "$SILO_BIN")" /proc/$ppid/comm 2>/dev/null || [ "$ppid" -eq 1 ]
	kill -9 "$pid"
}

@test "exec: only stdio reaches the process, --preserve-fds passes more" {
	run_detached c1
	silo exec c1 /silo-testinit fds
	assert_success
	refute_line --regexp '^[3-9]'
	run bash -c "exec 3</dev/null; timeout 20 $SILO_BIN --root $ROOT exec --preserve-fds 1 c1 /silo-testinit fds 3>&3"
	assert_success
	assert_line --regexp '^3 '
}

@test "exec: errors exit 255 with runc's messages" {
	run_detached c1
	silo exec c1 nonexistent-binary
	[ "$status" -eq 255 ]
	assert_output --partial 'executable file not found in $PATH'
	silo exec c1 /nonexistent
	[ "$status" -eq 255 ]
	assert_output --partial 'no such file or directory'
	silo exec --cwd /nonexistent c1 /silo-testinit true
	[ "$status" -eq 255 ]
	silo exec no-such-ctr /silo-testinit true
	[ "$status" -eq 255 ]
	assert_output --partial "does not exist"
	silo exec c1
	[ "$status" -eq 255 ]
	assert_output --partial "args cannot be empty"
}

@test "exec: a stopped container refuses" {
	set_cmd true
	run_detached c1
	wait_for_container 50 0.1 c1 stopped
	silo exec c1 /silo-testinit true
	[ "$status" -eq 255 ]
	assert_output --partial "cannot exec in a stopped container"
}

@test "exec: into a created (not started) container" {
	create_ctr c1
	silo exec c1 /silo-testinit echo early
	assert_success
	assert_output early
	[ "$(state_field c1 status)" = created ]
}

@test "exec: paused container refuses, --ignore-paused runs it once resumed" {
	run_detached c1
	silo pause c1
	assert_success
	silo exec c1 /silo-testinit true
	[ "$status" -eq 255 ]
	assert_output --partial "paused"
	# runc 1.1.5 hangs here (its process joins the frozen cgroup before it is set up); silo sets
	# the process up outside and moves it in just before execve
	! is_runc || skip "runc hangs on exec --ignore-paused into a frozen container"
	silo_detached exec --ignore-paused -d --pid-file "$TESTDIR/p.pid" c1 /silo-testinit echo after-resume
	assert_success
	pid=$(cat "$TESTDIR/p.pid")
	[ -d /proc/$pid ]
	! grep -q after-resume "$CTR_OUT"
	silo resume c1
	assert_success
	wait_for_output 50 0.1 after-resume
}

@test "exec: --tty with --console-socket hands over a pty" {
	requires python3
	run_detached c1
	python3 "$BATS_TEST_DIRNAME/recvtty.py" "$TESTDIR/console.sock" "$TESTDIR/tty" &
	recv=$!
	retry 50 0.1 test -S "$TESTDIR/console.sock"
	silo_detached exec -d --tty --console-socket "$TESTDIR/console.sock" c1 /silo-testinit isatty 0
	assert_success
	retry 50 0.1 test -s "$TESTDIR/tty.json"
	jq -e '.nfds == 1 and .isatty == [true]' "$TESTDIR/tty.json"
	wait "$recv"
	run tr -d '\r' <"$TESTDIR/tty"
	assert_output --partial tty
}

@test "exec: --tty without a console socket in the foreground" {
	requires python3
	run_detached c1
	# a pty for silo itself, as a shell would have
	run python3 -c 'import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)' \
		"$SILO_BIN" --root "$ROOT" exec -t c1 /silo-testinit isatty 0
	assert_success
	assert_output --partial tty
}

@test "exec: signals reach a foreground exec'd process" {
	run_detached c1
	silo_bg exec c1 /silo-testinit signal-report
	wait_for_output 50 0.1 '^ready$'
	kill -USR1 "$SILO_BG_PID"
	wait_for_output 50 0.1 '^SIGUSR1$'
	kill -TERM "$SILO_BG_PID"
	wait_bg 10
	[ "$BG_STATUS" -eq 0 ]
}

@test "exec: kill --all and delete --force remove exec'd processes" {
	snapshot_host
	run_detached c1
	silo_detached exec -d --pid-file "$TESTDIR/e.pid" c1 /silo-testinit sleep 60
	assert_success
	pid=$(cat "$TESTDIR/e.pid")
	silo delete --force c1
	assert_success
	wait_pid_gone "$pid"
	check_no_leaks
}

@test "exec: into a container with its own user namespace" {
	requires userns
	update_config '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	run_detached c1
	silo exec c1 /silo-testinit readlink /proc/1/ns/user
	want=$output
	silo exec c1 /silo-testinit readlink /proc/self/ns/user
	assert_output "$want"
	silo exec c1 /silo-testinit id
	assert_output --regexp '^uid=0 gid=0 '
	silo exec --user 1000:1000 c1 /silo-testinit id
	assert_output --regexp '^uid=1000 gid=1000 '
	# seen from the host: the mapped ids
	silo_detached exec -d --pid-file "$TESTDIR/u.pid" --user 1000:1000 c1 /silo-testinit sleep 30
	assert_success
	run awk '/^Uid:/ {print $2}' /proc/$(cat "$TESTDIR/u.pid")/status
	assert_output 101000
}
