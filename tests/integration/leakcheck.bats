#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The leak checker itself (tests/lib/leakcheck.sh), which every other test's teardown runs: it
# must see each kind of resource a runtime can leave - a mount, a cgroup, a state root entry, a
# data root container dir, a network namespace, a process naming TESTDIR, an fd on a file under
# TESTDIR, a container process in a mount namespace of its own - and see nothing once they are
# gone.  A checker that lists nothing would make every other test's leak check unable to fail.

load helpers

setup() {
	requires root
	setup_bundle
}

teardown() {
	teardown_bundle
}

# spawn_detached CMD...: run CMD outside the test's process tree (setsid -f: reparented away, as
# a runtime's leftover would be); prints nothing
spawn_detached() {
	setsid -f "$@" </dev/null >/dev/null 2>&1 3>&-
}

@test "leak checker: sees a mount naming TESTDIR in its mount namespace" {
	# in a mount namespace of its own: the test must not mount in the host's
	mkdir "$TESTDIR/m"
	run unshare -m --propagation private bash -c \
		". '$INTEGRATION_ROOT/../lib/leakcheck.sh' && mount -t tmpfs silo-lc '$TESTDIR/m' && leakcheck_list"
	assert_success
	assert_line "mount $TESTDIR/m (/)"
	run leakcheck_list
	assert_success
	[[ $output != *"mount $TESTDIR/m"* ]] || fail "a mount of another namespace listed: $output"
}

@test "leak checker: sees a leaked cgroup, state entry, data dir, netns, process, fd and container process" {
	local key base cg=0 pid mnt_pid
	key=$(leakcheck_key)
	on_teardown "ip netns del 'silo-lc-$key' 2>/dev/null"
	# nothing yet: the snapshot of setup_bundle and now agree
	run leakcheck_diff teardown
	assert_success
	assert_output ""

	mkdir -p "$ROOT/c1" "$TESTDIR/data/containers/c1"
	# a cgroup: the v2 root, else the first v1 controller hierarchy
	if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
		mkdir "/sys/fs/cgroup${CGROUP_PATH}" && cg=1
	else
		for base in /sys/fs/cgroup/*/; do
			[ ! -L "${base%/}" ] && [ "$(stat -f -c %T "$base")" = cgroupfs ] &&
				mkdir "$base${CGROUP_PATH#/}" 2>/dev/null && cg=1 && break
		done
	fi
	ip netns add "silo-lc-$key"
	# a process naming TESTDIR that holds a file under it open, and one in its own mount
	# namespace whose mounts name TESTDIR (its command line does not)
	: >"$TESTDIR/held"
	spawn_detached tail -f "$TESTDIR/held"
	mkdir -p "$TESTDIR/ns"
	spawn_detached unshare -m --propagation private bash -c \
		"mount -t tmpfs silo-lc-ns '$TESTDIR/ns' && cd / && exec sleep 301"
	retry 50 0.1 pgrep -f "^sleep 301$"
	mnt_pid=$(pgrep -f "^sleep 301$")
	on_teardown "kill -9 $mnt_pid 2>/dev/null"
	retry 50 0.1 pgrep -f "^tail -f $TESTDIR/held\$"
	pid=$(pgrep -f "^tail -f $TESTDIR/held\$")
	on_teardown "kill -9 $pid 2>/dev/null"

	run leakcheck_diff teardown
	assert_failure
	[ "$cg" = 0 ] || assert_line --regexp "^cgroup /sys/fs/cgroup/(.*/)?${CGROUP_PATH#/}\$"
	assert_line "root c1"
	assert_line "data $TESTDIR/data/containers/c1"
	assert_line "netns silo-lc-$key"
	assert_line "process $pid tail -f $TESTDIR/held "
	assert_line "fd $pid $TESTDIR/held"
	assert_line --regexp "^process $mnt_pid \[container\] sleep 301"

	# all gone: nothing is listed any more
	kill -9 "$pid" "$mnt_pid"
	ip netns del "silo-lc-$key"
	rm -rf "$ROOT/c1" "$TESTDIR/data" "$TESTDIR/ns"
	for base in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		rmdir "$base${CGROUP_PATH#/}" 2>/dev/null || true
	done
	retry 50 0.1 bash -c "! kill -0 $pid 2>/dev/null && ! kill -0 $mnt_pid 2>/dev/null"
	run leakcheck_diff teardown
	assert_success
	assert_output ""
}

@test "leak checker: the test's own helpers are not leaks, another test's resources are not listed" {
	# a helper started by the test (its descendant) naming TESTDIR: teardown kills it
	# (tail -F of a file that does not exist: it names TESTDIR and holds no fd under it)
	tail -F "$TESTDIR/absent" 3>&- 2>/dev/null &
	on_teardown "kill -9 $! 2>/dev/null"
	retry 50 0.1 pgrep -f "^tail -F $TESTDIR/absent\$"
	# another test's cgroup name and netns (other key) are out of scope
	ip netns add "silo-lc-other-$$-x"
	on_teardown "ip netns del 'silo-lc-other-$$-x'"
	run leakcheck_diff teardown
	assert_success
	assert_output ""
}
