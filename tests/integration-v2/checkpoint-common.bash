# Shared by checkpoint*.bats (guest only: CRIU 3.17 fails on the CI host's kernel): the checks
# that CRIU works here and the busybox counter payload.
#
# The payload is a busybox-static shell counting into /tmp/c of its rootfs every 50 ms (readable
# from here through the bundle), its stdio moved onto the container's own /dev/null first: CRIU
# cannot dump files opened on mounts outside the container (the host's /dev/null, bats' files),
# the same constraint runc has (containerd hands it pipes, which are mapped back at restore).

# criu_ok: skip unless this is a cgroup v2 host where `criu check` passes.
criu_ok() {
	[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] || skip "test requires unified cgroup v2"
	command -v criu >/dev/null || skip "test requires criu"
	criu check >/dev/null 2>&1 || skip "criu check fails on this kernel"
}

# setup_counter [EXTRA]: a bundle whose payload counts into /tmp/c every 50 ms; EXTRA is shell
# run in each iteration (e.g. printing to a terminal).  stdio moves to the container's own
# /dev/null unless COUNTER_TTY is set (the container has a terminal).  IMG: an image dir.
setup_counter() {
	local redir='exec </dev/null >/dev/null 2>&1;'
	[ -n "${COUNTER_TTY:-}" ] && redir=''
	setup_bundle
	cp /bin/busybox "$BUNDLE/rootfs/busybox"
	update_config '.process.args = ["/busybox", "sh", "-c",
		"'"$redir"' i=0; while :; do i=$((i+1)); echo $i >/tmp/c; '"${1:-}"' /busybox usleep 50000; done"]'
	IMG=$TESTDIR/img
}

# counter_limits: memory and pids limits on the counter, to see them written again at restore.
counter_limits() {
	update_config '.linux.resources = {"memory": {"limit": 67108864}, "pids": {"limit": 32}}'
}

# counter_at FILE: the value a counter wrote into FILE (0 before its first write).
counter_at() { cat "$1" 2>/dev/null || echo 0; }

# wait_counter_at FILE N: until the counter in FILE reached N; COUNTER_TRIES polls of 0.1 s
# (default 200).
wait_counter_at() {
	local i
	for ((i = 0; i < ${COUNTER_TRIES:-200}; i++)); do
		[ "$(counter_at "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	fail "counter in $1 stuck at $(counter_at "$1"), wanted $2"
}

# counter / wait_counter N: the same for setup_counter's bundle.
counter() { counter_at "$BUNDLE/rootfs/tmp/c"; }
wait_counter() { wait_counter_at "$BUNDLE/rootfs/tmp/c" "$1"; }

# counter_still [WHAT]: the counter does not move for 0.5 s (WHAT: the failure's message).
counter_still() {
	local n
	n=$(counter)
	sleep 0.5
	[ "$(counter)" = "$n" ] || fail "${1:-counter moved}: $n -> $(counter)"
}
