#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Regression tests for historic container-runtime escapes (/work/shared/docs/security.md §1)
# that apply to silo.  Black box: each test builds the attacker's config/rootfs, runs the
# runtime, and checks the host (a hash of the silo binary, a sentinel file, host sysctls) and the
# container's view.  Every test says in a comment which change to silo would make it fail: a
# regression test that cannot fail proves nothing.
#
# Runs against runc too (SILO_BIN=$(command -v runc)): an old runc is expected to fail some.

load helpers

setup() {
	requires root
	setup_bundle
}

teardown() {
	teardown_bundle
}

# busybox_rootfs: /bin/sh and friends in the bundle's rootfs (busybox-static)
busybox_rootfs() {
	command -v busybox >/dev/null || skip "busybox-static not installed"
	mkdir -p "$BUNDLE/rootfs/bin"
	cp /bin/busybox "$BUNDLE/rootfs/bin/busybox"
	local c
	for c in sh cat ls readlink echo stat sha256sum true; do ln -sf busybox "$BUNDLE/rootfs/bin/$c"; done
}

set_sh() {
	update_config --arg s "$1" '.process.args = ["/bin/sh", "-c", $s] | .process.env += ["PATH=/bin"]'
}

# CVE-2019-5736: before execve, the init's /proc/PID/exe is the host runtime binary.  A second
# container in the same pid namespace (no CAP_SYS_PTRACE) must not be able to read, open or
# follow it: silo's init is non-dumpable until execve.
# Breaks if: the init is dumpable while it waits on exec.fifo.  Mutation-tested: adding
# prctl(PR_SET_DUMPABLE, 1) before the fifo open in runtime/init.c makes it fail (READLINK-OK,
# READ-OK, LINK-OK for every fd).  Removing only the early prctl(PR_SET_DUMPABLE, 0) does NOT
# break it: the init's capability drop (commit_creds) also clears dumpable, a second line of
# defence this test cannot tell apart.
@test "cve-2019-5736: a created init's /proc/PID/exe (the host binary) is out of reach" {
	busybox_rootfs
	local sum_before pid
	sum_before=$(sha256sum "$SILO_BIN" | cut -d' ' -f1)
	set_cmd pause
	create_ctr victim
	pid=$(state_field victim pid)
	[ -n "$pid" ] && [ "$pid" -gt 0 ]
	# the attacker joins the victim's pid namespace: the pre-exec init is its pid 1
	update_config --arg p "/proc/$pid/ns/pid" \
		'.linux.namespaces = [.linux.namespaces[] | if .type == "pid" then .path = $p else . end]'
	update_config '.linux.cgroupsPath += "-attacker"'
	set_sh 'readlink /proc/1/exe && echo READLINK-OK; cat /proc/1/exe >/dev/null && echo READ-OK;
		for f in /proc/1/fd/* /proc/1/cwd /proc/1/root; do readlink $f && echo LINK-OK; done;
		echo x >>/proc/1/exe && echo WRITE-OK;
		cat /proc/1/cmdline >/dev/null; echo done'
	silo run --bundle "$BUNDLE" attacker
	assert_success
	assert_output --partial done
	refute_output --partial READLINK-OK
	refute_output --partial READ-OK
	refute_output --partial LINK-OK
	refute_output --partial WRITE-OK
	# the host side agrees: the pre-exec init is not dumpable (its /proc files are root-owned)
	[ "$(sha256sum "$SILO_BIN" | cut -d' ' -f1)" = "$sum_before" ]
	silo delete --force victim
	assert_success
}

# CVE-2024-21626: a host directory fd leaked into the init + process.cwd=/proc/self/fd/N gave
# the container a cwd outside its rootfs.  Every fd number a runtime could leak is tried: the
# container must fail to start (no such fd) or run with a cwd inside the container.
# Breaks if: any host directory fd (state dir, cgroup dir, rootfs fd) survives into the process
# (e.g. a missing O_CLOEXEC or close-range before execve), or the cwd is entered before
# pivot_root.
@test "cve-2024-21626: process.cwd=/proc/self/fd/N never escapes the rootfs" {
	local fd
	for fd in 3 4 5 6 7 8 9 10 11 12 13 14 15; do
		update_config --arg c "/proc/self/fd/$fd" '.process.cwd = $c | .process.args = ["/silo-testinit", "cwd"]'
		silo run --bundle "$BUNDLE" "c$fd"
		if [ "$status" -eq 0 ]; then
			# inside the container: a path in its own tree, never the host's
			[[ "$output" != *"$TESTDIR"* ]] || fail "cwd /proc/self/fd/$fd escaped: $output"
			[[ "$output" != *"/sys/fs/cgroup"* ]] || fail "cwd /proc/self/fd/$fd is a cgroup dir: $output"
			[[ "$output" != "(unreachable)"* ]] || fail "cwd /proc/self/fd/$fd is outside the root: $output"
		fi
		silo delete --force "c$fd"
	done
}

# The same through exec --cwd into a running container.
# Breaks if: silo exec leaks an fd (container state dir, /proc/PID/ns/*, cgroup fds) into the
# process it starts.
@test "cve-2024-21626: exec --cwd /proc/self/fd/N never escapes the rootfs" {
	set_cmd pause
	create_ctr c
	silo start c
	assert_success
	local fd
	for fd in 3 4 5 6 7 8 9 10 11 12; do
		silo exec --cwd "/proc/self/fd/$fd" c /silo-testinit cwd
		if [ "$status" -eq 0 ]; then
			[[ "$output" != *"$TESTDIR"* && "$output" != "(unreachable)"* && "$output" != /sys/* ]] ||
				fail "exec cwd /proc/self/fd/$fd escaped: $output"
		fi
	done
}

# a masked file the running kernel has (kcore, sysrq-trigger... may be configured out)
masked_file() {
	local f
	for f in /proc/kcore /proc/keys /proc/timer_list; do
		[ -e "$f" ] && { echo "$f"; return; }
	done
	skip "none of the template's masked /proc files exists on this kernel"
}

# CVE-2025-31133: maskedPaths bind the container's /dev/null over files; an image whose
# /dev/null is a symlink (no /dev tmpfs mounted) could turn "masking" into exposing or making
# writable whatever the symlink names.  Here it names /victim: /proc/kcore must still read empty
# (masked by a real 1:3 device) or create must fail cleanly; never show the victim's content.
# Breaks if: mask_paths (runtime/rootfs.c) opens /dev/null by path following symlinks, or binds
# it without checking it is a character device 1:3.
@test "cve-2025-31133: masked paths with a rootfs /dev/null symlink" {
	update_config '.mounts = [.mounts[] | select(.destination | startswith("/dev") | not)]'
	mkdir -p "$BUNDLE/rootfs/dev"
	echo "victim-secret" >"$BUNDLE/rootfs/victim"
	ln -s /victim "$BUNDLE/rootfs/dev/null"
	local mf
	mf=$(masked_file)
	update_config --arg f "$mf" '.linux.maskedPaths += [$f] | .process.args = ["/silo-testinit", "cat", $f]'
	silo run --bundle "$BUNDLE" m
	refute_output --partial "victim-secret"
	if [ "$status" -eq 0 ]; then
		assert_output ""
	fi
	[ "$(cat "$BUNDLE/rootfs/victim")" = victim-secret ]
}

# Masked and read-only paths hold from inside: kcore reads empty, /sys/firmware is an empty
# dir, /proc/sysrq-trigger and /proc/sys cannot be written (a write to sysrq-trigger can crash
# the host; /proc/sys/kernel/core_pattern is a host-root code execution path).
# Breaks if: maskedPaths/readonlyPaths handling is skipped or made non-recursive, or proc is
# mounted read-write over them afterwards.
@test "masked and readonly paths cannot be read or written from inside" {
	local before mf
	before=$(sha256sum /proc/sys/kernel/core_pattern | cut -d' ' -f1)
	mf=$(masked_file)
	update_config --arg f "$mf" '.linux.maskedPaths += [$f]'
	if [ -e /proc/sysrq-trigger ]; then
		set_cmd open-write /proc/sysrq-trigger
		silo run --bundle "$BUNDLE" a
		assert_failure
	fi
	set_cmd open-write /proc/sys/kernel/core_pattern
	silo run --bundle "$BUNDLE" b
	assert_failure
	set_cmd cat "$mf"
	silo run --bundle "$BUNDLE" c
	assert_success
	assert_output ""
	set_cmd ls /sys/firmware
	silo run --bundle "$BUNDLE" d
	assert_success
	assert_output ""
	[ "$(sha256sum /proc/sys/kernel/core_pattern | cut -d' ' -f1)" = "$before" ]
}

# CVE-2025-52881: sysctls and other procfs writes redirected by a mount over /proc/sys (here:
# a bind of an attacker directory over /proc/sys/net, whose ipv4/ip_forward is a symlink to a
# victim file, and a plain file).  The write must reach the real procfs or fail; neither the
# fake file nor the symlink's target may be written.
# silo's first line of defence is refusing any mount destination inside /proc (runc's check:
# "/mounts/N/destination: ... is inside /proc"), so create fails here; apply_sysctl
# (runtime/init.c) also opens with O_NOFOLLOW.
# Breaks if: the /proc destination check is dropped AND apply_sysctl keeps writing by path
# after the user's mounts (it does today, with O_NOFOLLOW on the last component only: the plain
# file case would then be written).  Not mutation-tested yet; hardening idea: open /proc/sys
# before the user's mounts or check fstatfs() == PROC_SUPER_MAGIC on the opened fd.
@test "cve-2025-52881: a sysctl write is not redirected by a mount over /proc/sys" {
	mkdir -p "$BUNDLE/fake/ipv4" "$BUNDLE/rootfs/etc"
	echo 0 >"$BUNDLE/fake/ipv4/ip_forward"
	echo "victim" >"$BUNDLE/rootfs/etc/victim"
	echo 0 >"$BUNDLE/fake/ipv4/tcp_syncookies"
	update_config --arg src "$BUNDLE/fake" '.mounts += [{"destination": "/proc/sys/net", "type": "bind",
		"source": $src, "options": ["rbind"]}] | .linux.sysctl = {"net.ipv4.ip_forward": "1"}'
	set_cmd true
	silo run --bundle "$BUNDLE" s1
	[ "$status" -ne 0 ] || [ "$(cat "$BUNDLE/fake/ipv4/ip_forward")" = 0 ]
	[ "$(cat "$BUNDLE/fake/ipv4/ip_forward")" = 0 ] || fail "sysctl written to the fake file"
	# a symlink in the fake tree pointing at a container file
	rm "$BUNDLE/fake/ipv4/ip_forward"
	ln -s /etc/victim "$BUNDLE/fake/ipv4/ip_forward"
	silo run --bundle "$BUNDLE" s2
	[ "$(cat "$BUNDLE/rootfs/etc/victim")" = victim ] || fail "sysctl followed a symlink into the rootfs"
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$(cat /proc/sys/net/ipv4/ip_forward)" ]
}

# CVE-2022-29162 (runc) / CVE-2022-27650 (crun): the process must get exactly the inheritable set
# of the config (none here), even when the runtime's own caller has inheritable caps: otherwise
# executing a file with inheritable file caps grants them.
# Breaks if: silo leaves the inheritable set it was started with instead of setting it from
# process.capabilities (runtime/caps.c), or fills it from the bounding set.
@test "cve-2022-29162: no inheritable or ambient capabilities unless configured" {
	command -v setpriv >/dev/null || skip "setpriv (util-linux) not installed"
	set_cmd caps
	run setpriv --inh-caps +net_raw,+sys_admin -- "$SILO_BIN" --root "$ROOT" run --bundle "$BUNDLE" i1
	assert_success
	assert_line "CapInh:	0000000000000000"
	assert_line "CapAmb:	0000000000000000"
	set_cmd pause
	create_ctr i2
	silo start i2
	assert_success
	run setpriv --inh-caps +net_raw -- "$SILO_BIN" --root "$ROOT" exec i2 /silo-testinit caps
	assert_success
	assert_line "CapInh:	0000000000000000"
	assert_line "CapAmb:	0000000000000000"
}
