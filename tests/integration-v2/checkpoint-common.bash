# Shared by checkpoint-*.bats (guest only, as checkpoint.bats): the busybox counter payload
# writing into /tmp/c of the bundle's rootfs, and the checks that CRIU works here.

criu_ok() {
	[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] || skip "test requires unified cgroup v2"
	command -v criu >/dev/null || skip "test requires criu"
	criu check >/dev/null 2>&1 || skip "criu check fails on this kernel"
}

# setup_counter [EXTRA]: a bundle whose payload counts into /tmp/c every 50 ms; EXTRA is shell
# run in each iteration (e.g. printing to a terminal).  stdio moves to the container's own
# /dev/null unless the container has a terminal.
setup_counter() {
	local redir='exec </dev/null >/dev/null 2>&1;'
	[ -n "${COUNTER_TTY:-}" ] && redir=''
	setup_bundle
	cp /bin/busybox "$BUNDLE/rootfs/busybox"
	update_config '.process.args = ["/busybox", "sh", "-c",
		"'"$redir"' i=0; while :; do i=$((i+1)); echo $i >/tmp/c; '"${1:-}"' /busybox usleep 50000; done"]'
	IMG=$TESTDIR/img
}

counter() { cat "$BUNDLE/rootfs/tmp/c" 2>/dev/null || echo 0; }

wait_counter() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(counter)" -ge "$1" ] && return 0
		sleep 0.1
	done
	fail "counter stuck at $(counter), wanted $1"
}

# counter_still: the counter does not move for 0.5 s
counter_still() {
	local n
	n=$(counter)
	sleep 0.5
	[ "$(counter)" = "$n" ] || fail "counter moved: $n -> $(counter)"
}
