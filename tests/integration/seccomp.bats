#!/usr/bin/env bats
# linux.seccomp: errno and kill actions, argument filters.

load helpers

setup() {
	setup_bundle
}

teardown() {
	teardown_bundle
}

@test "seccomp: no profile, no filter" {
	set_cmd seccomp
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output 0
}

@test "seccomp: errno action with the default EPERM" {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
	set_cmd syscall-errno mkdir /tmp/x
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output EPERM
	[ ! -e "$BUNDLE/rootfs/tmp/x" ]
	# the filter is in mode 2
	set_cmd seccomp
	silo run --bundle "$BUNDLE" c2
	assert_success
	assert_output 2
}

@test "seccomp: errno action with errnoRet" {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 95}]}'
	set_cmd syscall-errno getcwd
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output EOPNOTSUPP
}

@test "seccomp: other syscalls are unaffected" {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdirat", "mkdir"], "action": "SCMP_ACT_ERRNO"}]}'
	set_cmd syscall-errno getcwd
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output 0
}

@test "seccomp: kill action kills the process with SIGSYS" {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_KILL"}]}'
	set_cmd syscall-errno getcwd
	silo run --bundle "$BUNDLE" c1
	# 128 + SIGSYS (31)
	assert_equal "$status" 159
}

@test "seccomp: kill_process action" {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_KILL_PROCESS"}]}'
	set_cmd syscall-errno getcwd
	silo run --bundle "$BUNDLE" c1
	assert_equal "$status" 159
}

@test "seccomp: argument filter matches only the given value" {
	# personality(0xffffffff) only queries; personality(8) would set PER_LINUX32
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ERRNO",
			"args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]}'
	set_cmd syscall-errno personality 8
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output EPERM
	set_cmd syscall-errno personality 0xffffffff
	silo run --bundle "$BUNDLE" c2
	assert_success
	assert_output 0
}

@test "seccomp: masked argument filter" {
	# unshare(CLONE_NEWUTS = 0x04000000) refused whatever other flags are set
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
			"args": [{"index": 0, "value": 67108864, "valueTwo": 67108864, "op": "SCMP_CMP_MASKED_EQ"}]}]}'
	update_config '.process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.capabilities.permitted += ["CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_SYS_ADMIN"]'
	set_cmd syscall-errno unshare 0x04000000
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output EPERM
	# CLONE_NEWIPC (0x08000000) alone is allowed
	set_cmd syscall-errno unshare 0x08000000
	silo run --bundle "$BUNDLE" c2
	assert_success
	assert_output 0
}

@test "seccomp: filter applies without noNewPrivileges" {
	update_config '.process.noNewPrivileges = false | .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
	set_cmd syscall-errno mkdir /tmp/x
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output EPERM
}

@test "seccomp: invalid action fails create and leaves nothing" {
	snapshot_host
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_NOSUCH"}'
	silo_detached create --bundle "$BUNDLE" c1
	assert_failure
	check_no_leaks
}

@test "seccomp: SCMP_ACT_NOTIFY hands the listener to listenerPath, and the agent answers" {
	requires python3
	is_silo || skip "runc 1.1's handshake is the same, but this test is written for silo's process model"
	# agent.py SOCKET OUT: receive {state}+fd, answer every notification with -EXDEV
	cat >"$TESTDIR/agent.py" <<'EOF_PY'
import array, fcntl, json, socket, struct, sys
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sys.argv[1])
srv.listen(1)
conn, _ = srv.accept()
data, anc, _, _ = conn.recvmsg(1 << 20, socket.CMSG_SPACE(4))
fds = array.array("i")
for level, typ, d in anc:
    fds.frombytes(d[: len(d) - len(d) % 4])
msg = json.loads(data)
open(sys.argv[2], "w").write(json.dumps({"nfds": len(fds), "fds": msg["fds"], "pid": msg["pid"],
    "metadata": msg.get("metadata"), "id": msg["state"]["id"]}))
RECV, SEND = 0xC0502100, 0xC0182101
while True:
    buf = bytearray(80)
    try:
        fcntl.ioctl(fds[0], RECV, buf)
    except OSError:
        break  # the container is gone
    nid = struct.unpack_from("=Q", buf, 0)[0]
    fcntl.ioctl(fds[0], SEND, bytearray(struct.pack("=QqiI", nid, 0, -18, 0)))
EOF_PY
	python3 "$TESTDIR/agent.py" "$TESTDIR/agent.sock" "$TESTDIR/agent.json" &
	retry 50 0.1 test -S "$TESTDIR/agent.sock"
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"listenerPath": "'"$TESTDIR/agent.sock"'", "listenerMetadata": "hello",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}'
	set_cmd syscall-errno mkdir /tmp/x
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output EXDEV
	run jq -c . "$TESTDIR/agent.json"
	assert_output --partial '"nfds":1,"fds":["seccompFd"]'
	assert_output --partial '"metadata":"hello","id":"c1"'
}
