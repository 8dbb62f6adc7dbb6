#!/usr/bin/env bats
# CRIU's RPC options (silo-criu.so, issue 6): lazy migration on one node (runc's checkpoint.bats
# "checkpoint --lazy-pages and restore" flow), a dump into a page server, --empty-ns network and
# the clear errors of the lazy flags.  In the cgroup v2 guest (CRIU 3.17 fails on the CI host's
# kernel), on its loopback only; every test skips unless `criu check` passes.
#
# The payload is checkpoint-common.bash's busybox counter, with memory and pids limits.

load ../integration/helpers
load checkpoint-common

setup() {
	requires root
	criu_ok
	setup_counter
	counter_limits
	COUNTER_TRIES=300 # restores from a page server are slower to resume
	# a port of its own per test run (the guest's loopback only)
	PORT=$((27000 + ($$ + ${BATS_TEST_NUMBER:-0}) % 1000))
}

teardown() {
	__silo delete -f c2 >/dev/null 2>&1 || true
	[ -z "${AUX_PID:-}" ] || { kill -9 "$AUX_PID" 2>/dev/null; wait "$AUX_PID" 2>/dev/null; } || true
	teardown_bundle
	[ ! -d "/sys/fs/cgroup${CGROUP_PATH}-lazy" ] || rmdir "/sys/fs/cgroup${CGROUP_PATH}-lazy" || true
}

@test "checkpoint --lazy-pages --page-server --status-fd, restore --lazy-pages: the counter goes on elsewhere" {
	run_detached c1
	wait_counter 3
	mkfifo "$TESTDIR/status"
	exec {st}<>"$TESTDIR/status"
	# the source side: dumps all but memory, serves the pages, returns after the last one
	__silo checkpoint --lazy-pages --page-server "0.0.0.0:$PORT" --status-fd "$st" \
		--image-path "$IMG" --work-path "$TESTDIR/work-src" c1 >"$TESTDIR/cpt.out" 2>&1 3>&- &
	AUX_PID=$!
	exec {st}>&-
	local out
	out=$(timeout 120 dd if="$TESTDIR/status" bs=1 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')
	[ "$out" = 00 ] || fail "status fd: got '$out' instead of one zero byte; $(cat "$TESTDIR/cpt.out"; grep -B2 Error "$TESTDIR/work-src/dump.log")"
	[ -f "$IMG/inventory.img" ] || fail "no inventory.img"
	# until the pages are fetched the source container exists (frozen)
	[ -d "$ROOT/c1" ] || fail "source gone before the pages were fetched"
	local frozen
	frozen=$(counter)

	# the target side: another id and cgroup; silo starts `criu lazy-pages` itself
	update_config --arg cg "${CGROUP_PATH}-lazy" '.linux.cgroupsPath = $cg'
	silo_detached restore -d --lazy-pages --page-server "127.0.0.1:$PORT" --bundle "$BUNDLE" \
		--image-path "$IMG" --work-path "$TESTDIR/work-dst" --pid-file "$TESTDIR/pid" c2
	assert_success
	[ "$(state_field c2 status)" = running ] || fail "status $(state_field c2 status)"
	wait_counter $((frozen + 3))
	# the dump returns once every page went over, and only then the source is destroyed
	local i
	for ((i = 0; i < 600; i++)); do
		kill -0 "$AUX_PID" 2>/dev/null || break
		sleep 0.1
	done
	wait "$AUX_PID"
	local rc=$?
	AUX_PID=
	[ "$rc" = 0 ] || fail "checkpoint exited $rc: $(cat "$TESTDIR/cpt.out")"
	__silo state c1 && fail "the source container is still there after the lazy dump"
	[ -f "$TESTDIR/work-dst/lazy-pages.log" ] || fail "no lazy-pages.log"
	grep -qw "$(cat "$TESTDIR/pid")" "/sys/fs/cgroup${CGROUP_PATH}-lazy/cgroup.procs" || fail "init not in its cgroup"
	local n
	n=$(counter)
	wait_counter $((n + 3))
	silo delete -f c2
	assert_success
}

@test "checkpoint --page-server: memory goes to 'criu page-server' on the target side, restore from there" {
	run_detached c1
	wait_counter 3
	mkdir -p "$TESTDIR/target"
	criu page-server -D "$TESTDIR/target" --address 127.0.0.1 --port "$PORT" -d \
		--pidfile "$TESTDIR/ps.pid" -o ps.log ||
		fail "criu page-server: $(cat "$TESTDIR/target/ps.log")"
	silo checkpoint --page-server "127.0.0.1:$PORT" --image-path "$IMG" c1
	assert_success
	ls "$TESTDIR/target"/pages-*.img >/dev/null 2>&1 || fail "no pages on the page server's side"
	ls "$IMG"/pages-*.img >/dev/null 2>&1 && fail "pages in the source images"
	local frozen
	frozen=$(counter)
	# the rest of the images joins the pages on the target side
	cp -n "$IMG"/* "$TESTDIR/target/"
	silo_detached restore -d --bundle "$BUNDLE" --image-path "$TESTDIR/target" c1
	assert_success
	wait_counter $((frozen + 3))
	silo delete -f c1
	assert_success
}

@test "checkpoint/restore --empty-ns network: CRIU leaves the netns alone; the restored one has only lo" {
	run_detached c1
	wait_counter 3
	silo checkpoint --empty-ns network --image-path "$IMG" c1
	assert_success
	local frozen
	frozen=$(counter)
	silo_detached restore -d --empty-ns network --bundle "$BUNDLE" --image-path "$IMG" --pid-file "$TESTDIR/pid" c1
	assert_success
	wait_counter $((frozen + 3))
	local links
	links=$(nsenter -t "$(cat "$TESTDIR/pid")" -n ip -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')
	[ "$links" = "lo " ] || fail "links in the restored netns: '$links'"
	silo delete -f c1
	assert_success
}

@test "lazy flags: clear errors before anything happens" {
	run_detached c1
	wait_counter 1
	silo checkpoint --lazy-pages --image-path "$IMG" c1
	assert_failure 1
	assert_output --partial "--lazy-pages: needs --page-server"
	silo checkpoint --lazy-pages --pre-dump --page-server 127.0.0.1:1 --image-path "$IMG" c1
	assert_failure 1
	assert_output --partial "--lazy-pages: not supported with --pre-dump"
	silo checkpoint --page-server nocolon --image-path "$IMG" c1
	assert_failure 1
	assert_output --partial "--page-server: 'nocolon' is not ADDRESS:PORT"
	silo checkpoint --status-fd 77 --image-path "$IMG" c1
	assert_failure 1
	assert_output --partial "--status-fd: 77 is not an open descriptor"
	[ ! -e "$IMG" ] || fail "image dir created for a refused checkpoint"
}

@test "silo-criu.so: VERSION, FEATURE_CHECK (lazy pages here), a page server daemon, failures named" {
	local t
	t="$(dirname "$SILO_BIN")/tests/unit/test-criu-rpc"
	[ -x "$t" ] || skip "tests/unit/test-criu-rpc not built"
	run "$t"
	echo "$output" >&2
	assert_success
	assert_output --partial "lazy_pages 1"
	refute_output --partial "not ok"
	refute_output --partial "skipping the page server"
}
