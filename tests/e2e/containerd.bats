#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# containerd (Debian's 1.6, its runc shim io.containerd.runc.v2) driving the runtime under test:
# `ctr run --runc-binary <runtime>` and the task verbs.  One private containerd per file
# (setup_file), one image imported from a tarball built from busybox-static; each test uses its
# own container id "c<test number>" and teardown deletes whatever it left.

load e2e-helpers

setup_file() {
	e2e_setup_dir ctr
	e2e_start_ns
	e2e_containerd_start
	e2e_build_image "$E2E_DIR/busybox.tar"
	e2e_ctr image import "$E2E_DIR/busybox.tar" >/dev/null
}

teardown_file() {
	e2e_containerd_stop
}

setup() {
	ID=c$BATS_TEST_NUMBER
	e2e_mark_log
}

teardown() {
	e2e_show_log_on_failure
	e2e_ctr_cleanup_all
}

# task_status ID: the STATUS column of `ctr task ls` for ID.
task_status() {
	e2e_ctr task ls | awk -v id="$1" '$1 == id { print $3 }'
}

# wait_status ID STATUS: poll until the task reaches STATUS (5 s).
wait_status() {
	local i
	for i in $(seq 1 50); do
		[ "$(task_status "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	echo "task $1 is '$(task_status "$1")', expected '$2'" >&2
	return 1
}

# runtime_has_state ID: the runtime still has state for ID under the private --root.
runtime_has_state() {
	[ -e "$E2E_DIR/runc-root/silo-e2e/$1" ]
}

@test "ctr: image imported from the busybox-static tarball" {
	run -0 e2e_ctr image ls -q
	assert_line "$E2E_IMAGE"
}

@test "ctr run: foreground output and exit status" {
	run -0 e2e_ctr_run --rm "$ID" echo hello from busybox
	assert_output "hello from busybox"

	run -3 e2e_ctr_run --rm "$ID" sh -c 'echo out; echo err >&2; exit 3'
	assert_line out
	assert_line err

	! runtime_has_state "$ID"
}

@test "ctr run: foreground ctr exits 128+N when the task is killed by signal N" {
	# (a container's pid 1 cannot kill itself with a signal it does not handle: kill it from
	# outside while the foreground `ctr run` waits)
	e2e_ctr_run --rm "$ID" sleep 100 </dev/null >/dev/null 2>&1 &
	local ctr_pid=$!
	wait_status "$ID" RUNNING
	run -0 e2e_ctr task kill -s SIGKILL "$ID"
	local rc=0
	wait "$ctr_pid" || rc=$?
	assert_equal "$rc" 137
}

@test "ctr run: the container sees its namespaces, cgroup and rootfs" {
	run -0 e2e_ctr_run --rm "$ID" sh -c 'echo pid=$$; ls /bin/busybox; cat /proc/self/cgroup'
	assert_line pid=1
	assert_line /bin/busybox
	assert_output --partial ":$E2E_CGROUP_PARENT/$ID"
}

@test "ctr run --memory-limit: the limit is set in the container's cgroup" {
	run -0 e2e_ctr_run -d --memory-limit 67108864 "$ID" sleep 100
	wait_status "$ID" RUNNING
	run -0 cat "/sys/fs/cgroup/memory$E2E_CGROUP_PARENT/$ID/memory.limit_in_bytes"
	assert_output 67108864
}

@test "ctr run -t: foreground with a terminal" {
	run -5 e2e_pty bash -c "$(declare -f e2e_ctr e2e_ctr_run); e2e_ctr_run --rm -t $ID \
		sh -c 'tty; test -t 0 && test -t 1 && echo is-a-tty; stty size; exit 5'"
	assert_output --partial /dev/pts/0
	assert_output --partial is-a-tty
}

@test "ctr run -t: input typed on the terminal reaches the container" {
	E2E_PTY_INPUT=$'echo typed-$((6*7))\nexit 4\n' \
		run -4 e2e_pty bash -c "$(declare -f e2e_ctr e2e_ctr_run); e2e_ctr_run --rm -t $ID sh"
	assert_output --partial typed-42
}

@test "ctr run -d: detached task runs, ps lists it, kill + delete report the status" {
	run -0 e2e_ctr_run -d "$ID" sh -c 'trap "exit 7" TERM; while :; do sleep 0.1; done'
	wait_status "$ID" RUNNING
	runtime_has_state "$ID"

	local pid
	pid=$(e2e_ctr task ls | awk -v id="$ID" '$1 == id { print $2 }')
	[ -n "$pid" ] && [ -d "/proc/$pid" ]
	# the init is a child of the shim (the runtime did not stay in between)
	local ppid
	ppid=$(awk '{ print $4 }' "/proc/$pid/stat")
	run -0 cat "/proc/$ppid/comm"
	assert_output containerd-shim

	run -0 e2e_ctr task ps "$ID"
	assert_line --regexp "^$pid[[:space:]]"

	run -0 e2e_ctr task kill "$ID"
	wait_status "$ID" STOPPED
	# `ctr task delete` reports the task's exit status (as a warning, exiting 0)
	run -0 e2e_ctr task delete "$ID"
	assert_output --partial "exit code 7"
	! runtime_has_state "$ID"
	run -0 e2e_ctr container delete "$ID"
}

@test "ctr run -d -t: detached task with a terminal" {
	# ctr wants a console even to detach (it reads its size)
	run -0 e2e_pty bash -c "$(declare -f e2e_ctr e2e_ctr_run); e2e_ctr_run -d -t $ID \
		sh -c 'while :; do sleep 0.1; done'"
	wait_status "$ID" RUNNING
	local pid
	pid=$(e2e_ctr task ls | awk -v id="$ID" '$1 == id { print $2 }')
	run -0 readlink "/proc/$pid/fd/0"
	assert_output --regexp '^/dev/pts/[0-9]+$'
	run -0 e2e_ctr task kill -s SIGKILL "$ID"
	wait_status "$ID" STOPPED
	run -0 e2e_ctr task delete "$ID"
	assert_output --partial "exit code 137"
}

@test "ctr task kill: signals by name, --all, and a signal the task ignores" {
	run -0 e2e_ctr_run -d "$ID" sh -c 'trap "" TERM; trap "exit 9" USR1; while :; do sleep 0.1; done'
	wait_status "$ID" RUNNING
	run -0 e2e_ctr task kill -s SIGTERM "$ID"
	sleep 0.3
	[ "$(task_status "$ID")" = RUNNING ]
	run -0 e2e_ctr task kill -s SIGUSR1 "$ID"
	wait_status "$ID" STOPPED
	run -0 e2e_ctr task delete "$ID"
	assert_output --partial "exit code 9"
	run -0 e2e_ctr container delete "$ID"

	# --all: every process of the container
	run -0 e2e_ctr_run -d "$ID" sh -c 'sleep 100 & sleep 100 & wait'
	wait_status "$ID" RUNNING
	run -0 e2e_ctr task kill -a -s SIGKILL "$ID"
	wait_status "$ID" STOPPED
	run -0 e2e_ctr task delete "$ID"
	assert_output --partial "exit code 137"
}

@test "ctr task pause / resume" {
	run -0 e2e_ctr_run -d "$ID" sh -c 'i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.05; done'
	wait_status "$ID" RUNNING
	run -0 e2e_ctr task pause "$ID"
	wait_status "$ID" PAUSED
	run -0 cat "/sys/fs/cgroup/freezer$E2E_CGROUP_PARENT/$ID/freezer.state"
	assert_output FROZEN
	# read the counter through /proc/<init>/root (not exec: this tests pause alone)
	local pid before after
	pid=$(e2e_ctr task ls | awk -v id="$ID" '$1 == id { print $2 }')
	before=$(cat "/proc/$pid/root/tmp/count")
	sleep 0.3
	[ "$(cat "/proc/$pid/root/tmp/count")" = "$before" ]
	run -0 e2e_ctr task resume "$ID"
	wait_status "$ID" RUNNING
	sleep 0.3
	after=$(cat "/proc/$pid/root/tmp/count")
	[ "$before" != "$after" ]
	run -0 e2e_ctr task kill -s SIGKILL "$ID"
	wait_status "$ID" STOPPED
}

@test "ctr task pause: kill and delete of a paused task" {
	run -0 e2e_ctr_run -d "$ID" sleep 100
	wait_status "$ID" RUNNING
	run -0 e2e_ctr task pause "$ID"
	wait_status "$ID" PAUSED
	run -0 e2e_ctr task delete -f "$ID"
	! runtime_has_state "$ID"
}

@test "ctr task metrics: cgroup statistics of a running task" {
	run -0 e2e_ctr_run -d --memory-limit 134217728 "$ID" sh -c 'sleep 100 & sleep 100'
	wait_status "$ID" RUNNING
	run -0 e2e_ctr task metrics "$ID"
	assert_output --regexp 'memory\.usage_in_bytes[[:space:]]+[1-9][0-9]*'
	assert_output --regexp 'memory\.limit_in_bytes[[:space:]]+134217728'
	assert_output --regexp 'pids\.current[[:space:]]+2'
	assert_output --regexp 'cpuacct\.usage[[:space:]]+[1-9]'
	run -0 e2e_ctr task metrics --format json "$ID"
	run -0 jq -e '.memory.usage.usage > 0 and .pids.current == 2' <<<"$output"
}

@test "ctr task exec: output, exit status, environment, cwd and user" {
	run -0 e2e_ctr_run -d "$ID" sleep 100
	wait_status "$ID" RUNNING

	run -0 e2e_ctr_exec --exec-id e1 "$ID" sh -c 'echo exec-out; echo exec-err >&2'
	assert_line exec-out
	assert_line exec-err
	run -6 e2e_ctr_exec --exec-id e2 "$ID" sh -c 'exit 6'
	run -0 e2e_ctr_exec --exec-id e3 --cwd /tmp --user 65534 "$ID" sh -c 'pwd; id -u'
	assert_line /tmp
	assert_line 65534
	# the exec'd process is in the container's pid namespace and cgroup
	run -0 e2e_ctr_exec --exec-id e4 "$ID" sh -c 'echo $$ > /dev/null; ps -o pid,comm; cat /proc/self/cgroup'
	assert_line --regexp '^[[:space:]]*1[[:space:]]+sleep$'
	assert_output --partial ":$E2E_CGROUP_PARENT/$ID"
	run -0 e2e_ctr_exec --exec-id e5 "$ID" cat <<<exec-stdin
	assert_output exec-stdin
	run -137 e2e_ctr_exec --exec-id e6 "$ID" sh -c 'kill -KILL $$'
}

@test "ctr task exec -t: exec with a terminal" {
	run -0 e2e_ctr_run -d "$ID" sleep 100
	wait_status "$ID" RUNNING
	run -3 e2e_pty bash -c "$(declare -f e2e_ctr e2e_ctr_exec); e2e_ctr_exec -t --exec-id t1 $ID \
		sh -c 'tty; test -t 0 && echo exec-tty; exit 3'"
	assert_output --partial exec-tty
	assert_output --regexp '/dev/pts/[0-9]+'
}

@test "ctr task exec -d + ctr task ps: detached exec shows up in ps" {
	run -0 e2e_ctr_run -d "$ID" sleep 100
	wait_status "$ID" RUNNING
	run -0 e2e_ctr_exec -d --exec-id bg "$ID" sleep 77
	local i
	for i in $(seq 1 30); do
		run -0 e2e_ctr task ps "$ID"
		[ "${#lines[@]}" -ge 3 ] && break
		sleep 0.1
	done
	assert_equal "${#lines[@]}" 3
	run -0 e2e_ctr task kill -s SIGKILL "$ID"
	wait_status "$ID" STOPPED
}

@test "ctr task delete: the runtime's state and cgroup are gone" {
	run -0 e2e_ctr_run -d "$ID" sleep 100
	wait_status "$ID" RUNNING
	run -0 e2e_ctr task kill -s SIGKILL "$ID"
	wait_status "$ID" STOPPED
	run -0 e2e_ctr task delete "$ID"
	assert_output --partial "exit code 137"
	! runtime_has_state "$ID"
	[ ! -e "/sys/fs/cgroup/memory$E2E_CGROUP_PARENT/$ID" ]
	[ ! -e "/sys/fs/cgroup/pids$E2E_CGROUP_PARENT/$ID" ]
	run -0 e2e_ctr container delete "$ID"
	run -0 e2e_ctr container ls -q
	[[ "$output" != *"$ID"* ]]
}

@test "ctr run: --seccomp, --read-only, --env, --cwd, a read-only bind --mount" {
	mkdir -p "$E2E_DIR/hostdata"
	echo from-host >"$E2E_DIR/hostdata/file"
	run -0 e2e_ctr_run --rm --seccomp --read-only --env FOO=bar --cwd /tmp \
		--mount "type=bind,src=$E2E_DIR/hostdata,dst=/data,options=rbind:ro" "$ID" \
		sh -c 'echo $FOO; pwd; cat /data/file; grep ^Seccomp: /proc/self/status;
		       touch /x 2>/dev/null && echo rootfs-writable; touch /data/y 2>/dev/null && echo bind-writable;
		       exit 0'
	assert_line bar
	assert_line /tmp
	assert_line from-host
	assert_line --regexp '^Seccomp:[[:space:]]+2$'
	refute_line rootfs-writable
	refute_line bind-writable
}

@test "ctr run --privileged: all capabilities and the host's devices" {
	run -0 e2e_ctr_run --rm --privileged "$ID" sh -c 'grep ^CapEff: /proc/self/status; ls /dev'
	# every capability the host's bounding set allows (this host lacks CAP_SYS_RESOURCE)
	assert_line --regexp "^CapEff:[[:space:]]+$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)\$"
	assert_output --partial loop
	run -0 e2e_ctr_run --rm "$ID" sh -c 'grep ^CapEff: /proc/self/status'
	refute_output --partial "$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)"
}
