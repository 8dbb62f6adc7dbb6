#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Resource abuse from inside (and around) a container: memory hog, fork bomb, CPU hog, filling
# /dev/shm and a size-bounded writable dir, a huge environment, thousands of fds in the caller.
# After each: the runtime still answers (state/list/exec), the container is deleted cleanly, a
# fresh container runs, and the leak checker (teardown) finds nothing.  Limits keep the host safe:
# every hog is bounded by a cgroup limit or a tmpfs size, never by the host running out.

load helpers

setup() {
	requires root
	setup_bundle
}

teardown() {
	teardown_bundle
}

# healthy ID: the runtime answers for ID, can exec into it, and deletes it; then a new
# container runs to completion.
healthy() {
	silo state "$1"
	assert_success
	silo list -q
	assert_success
	assert_line "$1"
	silo delete --force "$1"
	assert_success
	update_config '.process.args = ["/silo-testinit", "echo", "alive"]'
	silo run --bundle "$BUNDLE" "after-$1"
	assert_success
	assert_output alive
}

@test "abuse: memory hog is OOM-killed inside its limit; silo and host stay healthy" {
	requires cgroups_memory
	update_config '.linux.resources.memory = {"limit": 33554432, "swap": 33554432}'
	set_cmd memhog 256 pause
	run_detached m
	# the hog dies (OOM) or is held at the limit; either way the host is not touched
	local i st
	for ((i = 0; i < 100; i++)); do
		st=$(state_field m status)
		[ "$st" = stopped ] && break
		sleep 0.1
	done
	[ "$st" = stopped ] || [ "$(cat "$(cgroup_dir memory)/memory.max_usage_in_bytes" 2>/dev/null || echo 0)" -le 33554432 ]
	run grep -c "memhog done" "$CTR_OUT"
	[ "$output" = 0 ]
	healthy m
}

@test "abuse: fork bomb stops at pids.max; exec and delete still work" {
	requires cgroups_pids
	update_config '.linux.resources.pids = {"limit": 32}'
	set_cmd forkbomb 100000
	run_detached f
	wait_for_output 100 0.1 '^forkbomb '
	run grep -E '^forkbomb [0-9]+ EAGAIN$' "$CTR_OUT"
	assert_success
	# the pids limit is full: exec fails cleanly, or succeeds once a slot is free -- never hangs
	silo exec f /silo-testinit true
	[ "$status" -eq 0 ] || [ "$status" -eq 255 ]
	healthy f
}

@test "abuse: CPU hog under a quota; the runtime is not starved" {
	requires cgroups_cpu
	update_config '.linux.resources.cpu = {"quota": 20000, "period": 100000}'
	set_cmd spin 600
	run_detached c
	local t0 t1
	t0=$(date +%s%N)
	silo exec c /silo-testinit true
	assert_success
	t1=$(date +%s%N)
	# generous bound (shared 2-core machine): an exec under a hogged, throttled cgroup finishes
	[ $(((t1 - t0) / 1000000)) -lt 20000 ]
	healthy c
}

@test "abuse: filling /dev/shm and a bounded tmpfs ends in ENOSPC, nothing spills to the host" {
	busybox_bin
	update_config '.mounts += [{"destination": "/fill", "type": "tmpfs", "source": "tmpfs",
		"options": ["size=8m"]}]'
	update_config '.process.args = ["/bin/sh", "-c",
		"cat /dev/zero > /dev/shm/big; echo shm=$?; cat /dev/zero > /fill/big; echo fill=$?; echo done"]'
	silo run --bundle "$BUNDLE" s
	assert_success
	assert_line --regexp '^shm=[1-9]'
	assert_line --regexp '^fill=[1-9]'
	assert_line done
	# nothing was written into the bundle (host) tree
	[ -z "$(find "$BUNDLE/rootfs" -name big)" ]
	update_config '.process.args = ["/silo-testinit", "echo", "alive"]'
	silo run --bundle "$BUNDLE" s2
	assert_success
	assert_output alive
}

busybox_bin() {
	command -v busybox >/dev/null || skip "busybox-static not installed"
	mkdir -p "$BUNDLE/rootfs/bin"
	cp /bin/busybox "$BUNDLE/rootfs/bin/busybox"
	local c
	for c in sh cat echo; do ln -sf busybox "$BUNDLE/rootfs/bin/$c"; done
}

# addenv N SIZE: append N variables of SIZE bytes to the config's env (python: the list is too
# large for a command line)
addenv() {
	python3 -c '
import json, sys
p, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
c = json.load(open(p))
c["process"]["env"] += ["V%d=%s" % (i, "x" * size) for i in range(1, n + 1)]
json.dump(c, open(p, "w"))' "$BUNDLE/config.json" "$1" "$2"
}

@test "abuse: a huge environment is passed whole or refused with a clear error" {
	requires python3
	# 2000 variables of 95 bytes (200 KB): under ARG_MAX, so it must work
	addenv 2000 95
	update_config '.process.args = ["/silo-testinit", "getenv", "V2000"]'
	silo run --bundle "$BUNDLE" e1 >/dev/null
	assert_success
	[ "${#output}" -eq 95 ]
	# 40 MB of environment: beyond what execve takes (E2BIG); a clear error, no crash, no leak
	addenv 10000 4000
	run __silo run --bundle "$BUNDLE" e2
	[ "$status" -ne 0 ]
	[ "$status" -lt 128 ] || fail "silo died of a signal: $status" # an error exit, not a crash
	[ -n "$output" ] && [ "${#output}" -lt 2000 ] || fail "no error message, or an oversized one"
	echo "${output:0:300}" >&2
}

@test "abuse: thousands of fds open in the caller do not reach the container" {
	set_cmd fds
	local fds=()
	ulimit -n 8192 || skip "cannot raise RLIMIT_NOFILE"
	local i fd
	for ((i = 0; i < 3000; i++)); do
		exec {fd}</dev/null
		fds+=("$fd")
	done
	silo run --bundle "$BUNDLE" fd1
	for fd in "${fds[@]}"; do exec {fd}<&-; done
	assert_success
	[ "$(echo "$output" | awk '{print $1}' | tr '\n' ' ')" = "0 1 2 " ]
}
