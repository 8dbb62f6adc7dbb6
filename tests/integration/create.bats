#!/usr/bin/env bats
# create: the container is set up but its process does not run until start.

load helpers

setup() {
	setup_bundle
}

teardown() {
	teardown_bundle
}

@test "create: container is created, process not yet run" {
	set_cmd write /ran yes
	create_ctr c1
	[ "$(state_field c1 status)" = created ]
	pid=$(state_field c1 pid)
	[ "$pid" -gt 0 ]
	kill -0 "$pid"
	[ ! -e "$BUNDLE/rootfs/ran" ]

	silo start c1
	assert_success
	wait_for_container 50 0.1 c1 stopped
	[ "$(cat "$BUNDLE/rootfs/ran")" = yes ]
}

@test "create: --bundle defaults to the current directory" {
	cd "$BUNDLE"
	silo_detached create c1
	assert_success
	[ "$(state_field c1 bundle)" = "$BUNDLE" ]
}

@test "create: -b short form and --bundle=VALUE" {
	silo_detached create -b "$BUNDLE" c1
	assert_success
	silo_detached create --bundle="$BUNDLE" c2
	assert_success
	[ "$(state_field c1 status)" = created ]
	[ "$(state_field c2 status)" = created ]
}

@test "create: relative --bundle is recorded as an absolute path" {
	cd "$TESTDIR"
	silo_detached create --bundle bundle c1
	assert_success
	[ "$(state_field c1 bundle)" = "$BUNDLE" ]
}

@test "create: changes to config.json after create do not affect the container" {
	set_cmd write /ran original
	create_ctr c1
	set_cmd write /ran changed
	silo start c1
	assert_success
	wait_for_container 50 0.1 c1 stopped
	[ "$(cat "$BUNDLE/rootfs/ran")" = original ]
}

@test "create: the init process is a child of the caller's subreaper, not of a silo monitor" {
	set_cmd pause
	create_ctr c1
	pid=$(state_field c1 pid)
	# the runtime exited: no process of it remains between us and the container
	ppid=$(awk '{print $4}' "/proc/$pid/stat")
	run cat "/proc/$ppid/cmdline"
	refute_output --partial "$BUNDLE"
	refute_output --partial "create"
}

@test "create: no process keeps an inherited non-stdio fd of the runtime open" {
	set_cmd pause
	# fd 3 of the runtime is a pipe; `cat` sees EOF only once every holder has closed it.  The
	# container's stdio is /dev/null and fds above 2 are not passed without --preserve-fds.
	run timeout 10 bash -c '"$SILO_BIN" --root "$ROOT" create --bundle "$BUNDLE" c1 </dev/null 3>&1 >/dev/null 2>/dev/null | cat'
	assert_success
	[ "$(state_field c1 status)" = created ]
}

@test "create: two containers from the same bundle" {
	set_cmd pause
	# two containers do not share a cgroup: nest them under this test's prefix
	update_config --arg cg "$CGROUP_PATH/c1" '.linux.cgroupsPath = $cg'
	create_ctr c1
	update_config --arg cg "$CGROUP_PATH/c2" '.linux.cgroupsPath = $cg'
	create_ctr c2
	[ "$(state_field c1 pid)" != "$(state_field c2 pid)" ]
	silo delete --force c1
	assert_success
	silo delete --force c2
	assert_success
}

@test "create: --pidfd-socket receives a pidfd of the init" {
	requires python3
	if ref_older_than 1.2; then skip "runc < 1.2 has no --pidfd-socket"; fi
	cat >"$TESTDIR/recvpidfd.py" <<'EOF_PY'
import array, socket, sys
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sys.argv[1])
srv.listen(1)
conn, _ = srv.accept()
msg, anc, _, _ = conn.recvmsg(4096, socket.CMSG_SPACE(4 * 4))
fds = array.array("i")
for level, typ, data in anc:
    fds.frombytes(data[: len(data) - len(data) % 4])
# the pid a pidfd refers to is in its fdinfo
pid = [l.split()[1] for l in open("/proc/self/fdinfo/%d" % fds[0]) if l.startswith("Pid:")][0]
open(sys.argv[2], "w").write("%d %s" % (len(fds), pid))
EOF_PY
	python3 "$TESTDIR/recvpidfd.py" "$TESTDIR/pidfd.sock" "$TESTDIR/pidfd.out" &
	retry 50 0.1 test -S "$TESTDIR/pidfd.sock"
	set_cmd pause
	create_ctr --pidfd-socket "$TESTDIR/pidfd.sock" c1
	retry 50 0.1 test -s "$TESTDIR/pidfd.out"
	run cat "$TESTDIR/pidfd.out"
	assert_output "1 $(state_field c1 pid)"
}
