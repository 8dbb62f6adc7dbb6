#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Fault injection (runtime/fault.h): silo SIGKILLs itself at each named point of create, start,
# exec, delete, network setup, image import and run --image.  After every kill:
#   - the killed command exited 137 (so the point was really reached: a point that no scenario
#     reaches fails here instead of silently testing nothing);
#   - `delete --force ID` exits 0;
#   - the leak checker (tests/lib/leakcheck.sh) finds nothing: no state dir, cgroup, mount,
#     process, veth, nft rule, lease, container overlay dir or half-imported layer is left.
# The first test checks that SILO_FAULT=list, the SILO_FAULT_POINT() lines in the sources and the
# scenarios below cover the same points.
#
# silo-specific (SILO_FAULT is silo's): skipped for runc.

load helpers

SRC_ROOT=$(cd "$INTEGRATION_ROOT/../.." && pwd)

setup_file() {
	is_silo || return 0
	FIX=$BATS_FILE_TMPDIR/fix
	export FIX
	mkdir -p "$FIX"
	"$SRC_ROOT/scripts/mkimage-busybox.sh" "$FIX/busybox.tar" localhost/fault:latest >"$FIX/build.log" 2>&1 ||
		{ cat "$FIX/build.log" >&3; return 1; }
}

setup() {
	is_silo || skip "SILO_FAULT is a silo extension"
	requires root
	setup_bundle
	set_cmd pause
	DATA=$TESTDIR/data
	export DATA
	REAL_SILO=$SILO_BIN
}

teardown() {
	teardown_bundle
}

# all_points: what the binary lists
all_points() {
	SILO_FAULT=list "$REAL_SILO"
}

# point_kind POINT: which scenario reaches it
point_kind() {
	case "$1" in
	create.after-network-* | net.*) echo create-net ;;
	create.*) echo create ;;
	start.*) echo start ;;
	exec.*) echo exec ;;
	delete.*) echo delete ;;
	image.ctr-*) echo run-image ;;
	image.*) echo import ;;
	restore.import-* | restore.after-cgroup) echo restore-import ;;
	checkpoint.* | restore.*) echo criu ;; # tests/integration-v2/checkpoint-fault.bats (guest)
	migrate.*) echo migrate ;;            # tests/integration-v2/migrate.bats (guest)
	*) echo unknown ;;
	esac
}

points_of() {
	local p
	for p in $(all_points); do
		[ "$(point_kind "$p")" = "$1" ] && echo "$p"
	done
	return 0
}

# faulted POINT CMD...: run silo CMD with SILO_FAULT=POINT; assert it was SIGKILLed there.
faulted() {
	local point=$1
	shift
	export SILO_FAULT=$point
	"$@"
	unset SILO_FAULT
	if [ "$status" -ne 137 ]; then
		echo "SILO_FAULT=$point: expected silo to be SIGKILLed (137), got status $status" >&2
		return 1
	fi
}

# recover ID: delete --force must succeed, and nothing may be left
recover() {
	silo delete --force "$1"
	assert_success
	run silo state "$1"
	check_no_leaks
}

# use_netns: run every silo invocation in a throw-away network namespace named with this test's
# leak key, so that bridge networking never touches the machine's namespace and the leak
# checker inspects the veths and nft rules there.
use_netns() {
	NET_NS=silo-fn-$(leakcheck_key)
	ip netns add "$NET_NS"
	on_teardown "ip netns del $NET_NS"
	ip -n "$NET_NS" link set lo up
	SILO_BIN=$TESTDIR/silo-in-ns
	printf '#!/bin/sh\nexec nsenter --net=/run/netns/%s %s "$@"\n' "$NET_NS" "$REAL_SILO" >"$SILO_BIN"
	chmod +x "$SILO_BIN"
	export SILO_BIN
}

@test "fault: every point in the sources is listed, and every listed point has a scenario" {
	run all_points
	assert_success
	local listed in_src p
	listed=$(echo "$output" | sort)
	[ -n "$listed" ]
	in_src=$(grep -rhoE 'SILO_FAULT_POINT\("[^"]+"\)' --include='*.c' "$SRC_ROOT"/runtime "$SRC_ROOT"/image \
		"$SRC_ROOT"/netns "$SRC_ROOT"/cgroups "$SRC_ROOT"/cmd "$SRC_ROOT"/checkpoint | sed 's/.*("//; s/")$//' | sort -u)
	diff <(echo "$listed") <(echo "$in_src")
	for p in $listed; do
		[ "$(point_kind "$p")" != unknown ] || fail "fault point '$p' has no scenario in fault.bats"
	done
	# a typo in SILO_FAULT is an error, not a silent no-op
	SILO_FAULT=create.no-such-point run "$REAL_SILO" --root "$ROOT" list
	assert_failure
	assert_output --partial "unknown fault point 'create.no-such-point'"
}

@test "fault: create killed at each point, then delete --force cleans up" {
	snapshot_host
	local p n=0
	for p in $(points_of create); do
		n=$((n + 1))
		faulted "$p" silo_detached create --bundle "$BUNDLE" "c$n"
		recover "c$n"
	done
	[ "$n" -ge 5 ]
}

@test "fault: create with bridge networking killed at each point" {
	command -v nft >/dev/null || skip "nft CLI (used by the leak checker) not installed"
	use_netns
	update_config '.annotations = {"run.silo.network": "bridge"}'
	snapshot_host
	local p n=0
	for p in $(points_of create-net); do
		n=$((n + 1))
		faulted "$p" silo_detached create --bundle "$BUNDLE" "n$n"
		recover "n$n"
		leakcheck_netns_check
	done
	[ "$n" -ge 3 ]
	# the network still works for the next container: no address or veth was lost
	create_ctr ok
	silo start ok
	assert_success
	silo delete --force ok
	assert_success
	leakcheck_netns_check
}

@test "fault: start killed at each point" {
	snapshot_host
	local p n=0
	for p in $(points_of start); do
		n=$((n + 1))
		create_ctr "s$n"
		faulted "$p" silo start "s$n"
		recover "s$n"
	done
	[ "$n" -ge 2 ]
}

@test "fault: exec killed at each point; the container survives" {
	snapshot_host
	local p n=0
	create_ctr e
	silo start e
	assert_success
	for p in $(points_of exec); do
		n=$((n + 1))
		faulted "$p" silo exec e /silo-testinit true
		# the killed exec does not take the container with it
		[ "$(state_field e status)" = running ]
		silo exec e /silo-testinit true
		assert_success
	done
	[ "$n" -ge 2 ]
	recover e
}

@test "fault: delete killed at each point, then delete --force finishes the job" {
	snapshot_host
	local p n=0
	for p in $(points_of delete); do
		n=$((n + 1))
		create_ctr "d$n"
		silo start "d$n"
		assert_success
		faulted "$p" silo delete --force "d$n"
		recover "d$n"
	done
	[ "$n" -ge 3 ]
}

@test "fault: image import killed at each point leaves no partial layer; a retry succeeds" {
	local p d before
	for p in $(points_of import); do
		rm -rf "$DATA"
		faulted "$p" run timeout -k 5 "$SILO_TIMEOUT" "$REAL_SILO" --root "$ROOT" --data-root "$DATA" \
			image import "$FIX/busybox.tar"
		# every layer in layers/ is complete (diff and size present): nothing half-written
		for d in "$DATA"/layers/*/; do
			[ -d "$d" ] || continue
			[ -d "$d/diff" ] && [ -s "$d/size" ] || fail "$p: partial layer $d"
		done
		# the image is not listed
		before=$("$REAL_SILO" --data-root "$DATA" image ls -q 2>/dev/null || true)
		[ -z "$before" ] || fail "$p: image listed after a killed import: $before"
		# the retry succeeds and sweeps the killed import's tmp/ leftovers
		run timeout -k 5 "$SILO_TIMEOUT" "$REAL_SILO" --root "$ROOT" --data-root "$DATA" \
			image import "$FIX/busybox.tar"
		assert_success
		[ -z "$(ls -A "$DATA/tmp")" ] || fail "$p: left in tmp/: $(ls -A "$DATA/tmp")"
	done
}

@test "fault: run --image killed after the overlay mount" {
	run timeout -k 5 "$SILO_TIMEOUT" "$REAL_SILO" --data-root "$DATA" image import "$FIX/busybox.tar"
	assert_success
	snapshot_host
	local p n=0
	for p in $(points_of run-image); do
		n=$((n + 1))
		faulted "$p" run timeout -k 5 "$SILO_TIMEOUT" unshare -m -n --propagation private \
			"$REAL_SILO" --root "$ROOT" --data-root "$DATA" run --image localhost/fault:latest --net none \
			-d "r$n" /bin/true
		run timeout -k 5 "$SILO_TIMEOUT" unshare -m -n --propagation private \
			"$REAL_SILO" --root "$ROOT" --data-root "$DATA" delete --force "r$n"
		assert_success
		# run --image makes <data-root>/containers/ID before the state dir: a kill in between
		# leaves a dir no state names, which delete --force reclaims through the owner recorded
		# in its marker (image/ctr.c silo_image_reclaim_orphan)
		[ ! -e "$DATA/containers/r$n" ]
		check_no_leaks
	done
	[ "$n" -ge 1 ]
	# and the id of such a killed create can be used again right away, without a delete
	faulted image.ctr-after-mount run timeout -k 5 "$SILO_TIMEOUT" unshare -m -n --propagation private \
		"$REAL_SILO" --root "$ROOT" --data-root "$DATA" run --image localhost/fault:latest --net none -d again /bin/true
	[ -d "$DATA/containers/again" ]
	run timeout -k 5 "$SILO_TIMEOUT" unshare -m -n --propagation private \
		"$REAL_SILO" --root "$ROOT" --data-root "$DATA" run --image localhost/fault:latest --net none --rm again /bin/true
	assert_success
	[ ! -e "$DATA/containers/again" ]
	check_no_leaks
}

# A checkpoint archive of an image container, made without CRIU: the config of a created (never
# started) container plus a placeholder inventory.img; every point of restore --import before
# CRIU runs is reached with it (CRIU itself then fails on this host, or in the guest on the fake
# images).  The CRIU-side points are killed in tests/integration-v2/checkpoint-fault.bats.
@test "fault: restore --import killed at each point before CRIU; delete --force cleans up" {
	local p n=0 x=$TESTDIR/arc
	run timeout -k 5 "$SILO_TIMEOUT" "$REAL_SILO" --data-root "$DATA" image import "$FIX/busybox.tar"
	assert_success
	# (the created init would hold `run`'s output pipe open: no `run` here)
	timeout -k 5 "$SILO_TIMEOUT" unshare -m -n --propagation private "$REAL_SILO" --root "$ROOT" \
		--data-root "$DATA" create --image localhost/fault:latest --net none c0 /bin/true \
		</dev/null >/dev/null 2>"$TESTDIR/err" 3>&- || fail "create --image: $(cat "$TESTDIR/err")"
	mkdir -p "$x/checkpoint" "$TESTDIR/diff/etc"
	cp "$DATA/containers/c0/config.json" "$x/spec.dump"
	run timeout -k 5 "$SILO_TIMEOUT" "$REAL_SILO" --root "$ROOT" --data-root "$DATA" delete --force c0
	assert_success
	echo x >"$x/checkpoint/inventory.img"
	echo kept >"$TESTDIR/diff/note"
	: >"$TESTDIR/diff/etc/.wh.group"
	tar -C "$TESTDIR/diff" -cf "$x/rootfs-diff.tar" .
	echo '["/etc/passwd"]' >"$x/deleted.files"
	tar -C "$x" -cf "$TESTDIR/c.tar" .
	snapshot_host
	for p in $(points_of restore-import); do
		n=$((n + 1))
		faulted "$p" run timeout -k 5 "$SILO_TIMEOUT" unshare -m -n --propagation private \
			"$REAL_SILO" --root "$ROOT" --data-root "$DATA" restore -d --import "$TESTDIR/c.tar" "r$n"
		run timeout -k 5 "$SILO_TIMEOUT" "$REAL_SILO" --root "$ROOT" --data-root "$DATA" delete --force "r$n"
		assert_success
		[ ! -e "$DATA/containers/r$n" ] || fail "$p: container dir left"
		[ -z "$(ls -A "$ROOT" | grep '^@')" ] || fail "$p: temporary dir left: $(ls -A "$ROOT")"
		check_no_leaks
	done
	# not killed: restore fails in CRIU (fake images) and leaves nothing either
	run timeout -k 5 "$SILO_TIMEOUT" unshare -m -n --propagation private \
		"$REAL_SILO" --root "$ROOT" --data-root "$DATA" restore -d --import "$TESTDIR/c.tar" r0
	assert_failure
	assert_output --partial "criu"
	# a truncated and a corrupt archive: refused before anything is made
	head -c 5000 "$TESTDIR/c.tar" >"$TESTDIR/trunc.tar"
	head -c 3000 /dev/urandom >"$TESTDIR/corrupt.tar"
	for f in trunc corrupt; do
		run timeout -k 5 "$SILO_TIMEOUT" unshare -m -n --propagation private \
			"$REAL_SILO" --root "$ROOT" --data-root "$DATA" restore -d --import "$TESTDIR/$f.tar" r0
		assert_failure
		assert_output --partial "--import"
	done
	run "$REAL_SILO" --root "$ROOT" state r0
	assert_failure
	[ ! -e "$DATA/containers/r0" ] || fail "container dir left"
	check_no_leaks
}
