#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# podman (Debian's 4.3, conmon, cgroupfs manager, file events) driving the runtime under test with
# `--runtime <runtime>`; storage, configuration and state are private to this file (setup_file),
# containers have no network (`--network none`: no netavark/CNI plugin is needed).  The image is
# `podman load`ed from the busybox-static tarball the helpers build.  Each test names its
# containers "p<test number>..." and teardown removes all containers.

load e2e-helpers

setup_file() {
	e2e_setup_dir podman
	e2e_start_ns
	e2e_podman_setup
	e2e_build_image "$E2E_DIR/busybox.tar"
	e2e_podman load -q -i "$E2E_DIR/busybox.tar" >/dev/null
}

teardown_file() {
	e2e_podman_teardown
}

setup() {
	NAME=p$BATS_TEST_NUMBER
	e2e_mark_log
}

teardown() {
	e2e_show_log_on_failure
	E2E_TIMEOUT=20 e2e_podman rm -a -f -t 0 >/dev/null 2>&1 || true
}

# state NAME: podman's view of the container state (running, paused, exited, ...).
state() {
	e2e_podman inspect --format '{{.State.Status}}' "$1"
}

# wait_state NAME STATE: poll for 5 s.
wait_state() {
	local i
	for i in $(seq 1 50); do
		[ "$(state "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	echo "container $1 is '$(state "$1")', expected '$2'" >&2
	return 1
}

# runtime_has_state NAME: the runtime still has state for the container.
runtime_has_state() {
	local id
	id=$(e2e_podman inspect --format '{{.ID}}' "$1") || return 1
	[ -e "$E2E_DIR/runtime-root/$id" ]
}

@test "podman: image loaded from the busybox-static tarball" {
	run -0 e2e_podman images --format '{{.Repository}}:{{.Tag}}'
	assert_line "$E2E_IMAGE"
}

@test "podman run: foreground output, stdin and exit status" {
	run -0 e2e_podman_run --rm "$E2E_IMAGE" echo hello from busybox
	assert_output "hello from busybox"
	run -3 e2e_podman_run --rm "$E2E_IMAGE" sh -c 'echo out; echo err >&2; exit 3'
	assert_line out
	assert_line err
	run -0 e2e_podman_run --rm -i "$E2E_IMAGE" cat <<<piped-input
	assert_output piped-input
	# the container's settings: pid 1, ulimits from containers.conf, its cgroup
	run -0 e2e_podman_run --rm "$E2E_IMAGE" sh -c 'echo pid=$$; ulimit -n; cat /proc/self/cgroup'
	assert_line pid=1
	assert_line 1024
	assert_output --partial ":$E2E_CGROUP_PARENT/libpod-"
}

@test "podman run: exit codes 125/126/127 for runtime errors, 128+N for signals" {
	# podman maps the runtime's error text: not found -> 127, not executable -> 126
	# (podman reads the runtime's --log-format=json log and passes the message on)
	run -127 e2e_podman_run --rm "$E2E_IMAGE" /no/such/binary
	assert_output --partial 'stat /no/such/binary: no such file or directory'
	run -127 e2e_podman_run --rm "$E2E_IMAGE" no-such-command-in-path
	assert_output --partial 'executable file not found in $PATH'
	run -126 e2e_podman_run --rm "$E2E_IMAGE" /etc/passwd
	assert_output --partial 'permission denied'
	run -125 e2e_podman_run --rm --no-such-flag "$E2E_IMAGE" true
	# a container killed by a signal (from outside: pid 1 cannot kill itself)
	run -0 e2e_podman_run -d --name "$NAME" "$E2E_IMAGE" sleep 100
	run -0 e2e_podman kill -s KILL "$NAME"
	run -0 e2e_podman wait "$NAME"
	assert_output 137
}

@test "podman run -d: detached container, ps, logs, inspect, conmon is the parent" {
	run -0 e2e_podman_run -d --name "$NAME" "$E2E_IMAGE" sh -c 'echo started; while :; do sleep 0.1; done'
	wait_state "$NAME" running
	run -0 e2e_podman ps --format '{{.Names}} {{.Status}}'
	assert_line --regexp "^$NAME Up"
	run -0 e2e_retry 20 0.1 bash -c '[ -n "$1" ]' _ "$(e2e_podman logs "$NAME")"
	run -0 e2e_podman logs "$NAME"
	assert_output started

	local pid ppid
	pid=$(e2e_podman inspect --format '{{.State.Pid}}' "$NAME")
	[ -d "/proc/$pid" ]
	ppid=$(awk '{ print $4 }' "/proc/$pid/stat")
	run -0 cat "/proc/$ppid/comm"
	assert_output conmon
	runtime_has_state "$NAME"
}

@test "podman run -t: foreground with a terminal, typed input" {
	run -5 e2e_pty bash -c "$(declare -f e2e_podman e2e_podman_run e2e_in_ns); \
		e2e_podman_run --rm -t $E2E_IMAGE sh -c 'tty; test -t 0 && test -t 1 && echo is-a-tty; exit 5'"
	assert_output --partial /dev/pts/0
	assert_output --partial is-a-tty

	E2E_PTY_INPUT=$'echo typed-$((6*7))\nexit 4\n' \
		run -4 e2e_pty bash -c "$(declare -f e2e_podman e2e_podman_run e2e_in_ns); \
		e2e_podman_run --rm -it $E2E_IMAGE sh"
	assert_output --partial typed-42
}

@test "podman exec: output, exit status, env, workdir, user" {
	run -0 e2e_podman_run -d --name "$NAME" "$E2E_IMAGE" sleep 100
	wait_state "$NAME" running

	run -0 e2e_podman exec "$NAME" sh -c 'echo exec-out; echo exec-err >&2'
	assert_line exec-out
	assert_line exec-err
	run -6 e2e_podman exec "$NAME" sh -c 'exit 6'
	run -0 e2e_podman exec -e FOO=bar -w /tmp -u 65534 "$NAME" sh -c 'echo $FOO; pwd; id -u'
	assert_line bar
	assert_line /tmp
	assert_line 65534
	run -0 e2e_podman exec "$NAME" sh -c 'ps -o pid,comm; cat /proc/self/cgroup'
	assert_line --regexp '^[[:space:]]*1[[:space:]]+sleep$'
	assert_output --partial ":$E2E_CGROUP_PARENT/libpod-"
	run -0 e2e_podman exec -i "$NAME" cat <<<exec-stdin
	assert_output exec-stdin
	run -127 e2e_podman exec "$NAME" /no/such/binary
	run -126 e2e_podman exec "$NAME" /etc/passwd
	# exec -d: the process runs in the background of the container
	run -0 e2e_podman exec -d "$NAME" sleep 77
	run -0 e2e_retry 20 0.1 e2e_podman exec "$NAME" sh -c 'ps -o comm,args | grep -q "^sleep *sleep 77"'
}

@test "podman exec -t: exec with a terminal" {
	run -0 e2e_podman_run -d --name "$NAME" "$E2E_IMAGE" sleep 100
	wait_state "$NAME" running
	run -3 e2e_pty bash -c "$(declare -f e2e_podman e2e_in_ns); \
		e2e_podman exec -t $NAME sh -c 'tty; test -t 0 && echo exec-tty; exit 3'"
	assert_output --partial exec-tty
	assert_output --regexp '/dev/pts/[0-9]+'

	E2E_PTY_INPUT=$'echo typed-$((6*7))\nexit 2\n' \
		run -2 e2e_pty bash -c "$(declare -f e2e_podman e2e_in_ns); e2e_podman exec -it $NAME sh"
	assert_output --partial typed-42
}

@test "podman stop: SIGTERM handled, then SIGKILL after the timeout" {
	run -0 e2e_podman_run -d --name "$NAME" "$E2E_IMAGE" sh -c 'trap "exit 7" TERM; while :; do sleep 0.1; done'
	wait_state "$NAME" running
	run -0 e2e_podman stop -t 10 "$NAME"
	run -0 e2e_podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$NAME"
	assert_output "exited 7"

	# pid 1 without a TERM handler ignores it: stop escalates to SIGKILL
	run -0 e2e_podman_run -d --name "${NAME}b" "$E2E_IMAGE" sleep 100
	wait_state "${NAME}b" running
	run -0 e2e_podman stop -t 1 "${NAME}b"
	run -0 e2e_podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' "${NAME}b"
	assert_output "exited 137"
	# a stopped container starts again
	run -0 e2e_podman start "$NAME"
	wait_state "$NAME" running
}

@test "podman pause / unpause" {
	run -0 e2e_podman_run -d --name "$NAME" "$E2E_IMAGE" \
		sh -c 'i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.05; done'
	wait_state "$NAME" running
	local id
	id=$(e2e_podman inspect --format '{{.ID}}' "$NAME")
	run -0 e2e_podman pause "$NAME"
	wait_state "$NAME" paused
	run -0 cat "/sys/fs/cgroup/freezer$E2E_CGROUP_PARENT/libpod-$id/freezer.state"
	assert_output FROZEN
	run -0 e2e_podman unpause "$NAME"
	wait_state "$NAME" running
	# read the counter through /proc/<init>/root (not exec: this tests pause alone)
	local pid a b
	pid=$(e2e_podman inspect --format '{{.State.Pid}}' "$NAME")
	a=$(cat "/proc/$pid/root/tmp/count")
	sleep 0.3
	b=$(cat "/proc/$pid/root/tmp/count")
	[ "$a" != "$b" ]
	# a paused container can be removed with -f
	run -0 e2e_podman pause "$NAME"
	run -0 e2e_podman rm -f -t 0 "$NAME"
}

@test "podman rm: removes stopped and (with -f) running containers and the runtime state" {
	run -0 e2e_podman_run --name "$NAME" "$E2E_IMAGE" true
	run -0 e2e_podman rm "$NAME"
	run -0 e2e_podman_run -d --name "$NAME" "$E2E_IMAGE" sleep 100
	wait_state "$NAME" running
	local id
	id=$(e2e_podman inspect --format '{{.ID}}' "$NAME")
	run -2 e2e_podman rm "$NAME"
	run -0 e2e_podman rm -f -t 0 "$NAME"
	[ ! -e "$E2E_DIR/runtime-root/$id" ]
	[ ! -e "/sys/fs/cgroup/pids$E2E_CGROUP_PARENT/libpod-$id" ]
	run -0 e2e_podman ps -a -q
	[ -z "$output" ]
}

@test "podman run --memory: the limit is set and visible inside" {
	run -0 e2e_podman_run --rm --memory 64m "$E2E_IMAGE" cat /sys/fs/cgroup/memory/memory.limit_in_bytes
	assert_output 67108864
}

@test "podman run --pids-limit: the limit is set and visible inside" {
	run -0 e2e_podman_run --rm --pids-limit 32 "$E2E_IMAGE" cat /sys/fs/cgroup/pids/pids.max
	assert_output 32
	# and enforced: sh + 4 sleeps fit in 5, the fifth fork fails
	run e2e_podman_run --rm --pids-limit 5 "$E2E_IMAGE" \
		sh -c 'for i in 1 2 3 4 5; do sleep 1 & done; wait'
	assert_output --partial "can't fork"
	run -0 e2e_podman_run -d --name "$NAME" --pids-limit 7 "$E2E_IMAGE" sleep 100
	local id
	id=$(e2e_podman inspect --format '{{.ID}}' "$NAME")
	run -0 cat "/sys/fs/cgroup/pids$E2E_CGROUP_PARENT/libpod-$id/pids.max"
	assert_output 7
}

@test "podman create + start -a: exit status" {
	run -0 e2e_podman create --network none --cgroup-parent "$E2E_CGROUP_PARENT" --name "$NAME" \
		"$E2E_IMAGE" sh -c 'echo created-then-started; exit 9'
	run -9 e2e_podman start -a "$NAME"
	assert_output --partial created-then-started
	run -0 e2e_podman inspect --format '{{.State.ExitCode}}' "$NAME"
	assert_output 9
}

@test "podman run: --read-only --tmpfs, -v ro, --user, --cap-drop, --hostname, -e" {
	mkdir -p "$E2E_DIR/hostdata"
	echo from-host >"$E2E_DIR/hostdata/file"
	run -0 e2e_podman_run --rm --read-only --tmpfs /scratch -v "$E2E_DIR/hostdata:/data:ro" \
		--user 65534:65534 --cap-drop ALL --hostname e2e-host -e FOO=bar "$E2E_IMAGE" \
		sh -c 'echo $FOO; hostname; id -u; cat /data/file; grep ^CapEff: /proc/self/status;
		       touch /x 2>/dev/null && echo rootfs-writable; touch /scratch/y && echo tmpfs-writable;
		       exit 0'
	assert_line bar
	assert_line e2e-host
	assert_line 65534
	assert_line from-host
	assert_line --regexp '^CapEff:[[:space:]]+0+$'
	refute_line rootfs-writable
	assert_line tmpfs-writable
}

@test "podman run --privileged; podman restart; podman kill -s; run --rm -d + wait" {
	run -0 e2e_podman_run --rm --privileged "$E2E_IMAGE" sh -c 'grep ^CapEff: /proc/self/status; ls /dev'
	# every capability the host's bounding set allows (this host lacks CAP_SYS_RESOURCE)
	assert_line --regexp "^CapEff:[[:space:]]+$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)\$"
	assert_output --partial loop

	run -0 e2e_podman_run -d --name "$NAME" "$E2E_IMAGE" sh -c 'trap "exit 5" USR1; while :; do sleep 0.1; done'
	wait_state "$NAME" running
	local pid1 pid2
	pid1=$(e2e_podman inspect --format '{{.State.Pid}}' "$NAME")
	run -0 e2e_podman restart -t 1 "$NAME"
	wait_state "$NAME" running
	pid2=$(e2e_podman inspect --format '{{.State.Pid}}' "$NAME")
	[ "$pid1" != "$pid2" ]
	run -0 e2e_podman kill -s USR1 "$NAME"
	run -0 e2e_podman wait "$NAME"
	assert_output 5

	run -0 e2e_podman_run --rm -d --name "${NAME}r" "$E2E_IMAGE" sh -c 'sleep 0.5; exit 3'
	run -0 e2e_podman wait "${NAME}r"
	assert_output 3
}
