#!/usr/bin/env bats
# restore --import on another "node" (a fresh state root + data root holding the same image):
# the container's rootfs changes travel in the archive (rootfs-diff.tar, deleted.files) and are
# applied into a new overlay upper dir before CRIU runs (issue 6).  Guest only, as checkpoint.bats.

load ../integration/helpers
load checkpoint-common

setup() {
	requires root
	criu_ok
	setup_bundle
	"$INTEGRATION_ROOT/../../scripts/mkimage-busybox.sh" "$TESTDIR/bb.tar" bb:1 >/dev/null ||
		skip "cannot build the busybox image"
	SRC_DATA=$TESTDIR/data-a
	DST_DATA=$TESTDIR/data-b
	DST_ROOT=$TESTDIR/root-b
	SRC_ROOT=$ROOT
}

teardown() {
	# the second node's containers, then the first's
	ROOT=$DST_ROOT SILO_GLOBAL_OPTS="--data-root $DST_DATA" __silo delete --force c1 >/dev/null 2>&1
	ROOT=$SRC_ROOT SILO_GLOBAL_OPTS="--data-root $SRC_DATA" __silo delete --force c1 >/dev/null 2>&1
	ROOT=$SRC_ROOT
	unset DATA SILO_GLOBAL_OPTS
	teardown_bundle
}

on_node() { # on_node a|b: the state root and data root the next silo calls use
	if [ "$1" = a ]; then
		ROOT=$SRC_ROOT
		DATA=$SRC_DATA
	else
		ROOT=$DST_ROOT
		DATA=$DST_DATA
	fi
	SILO_GLOBAL_OPTS="--data-root $DATA"
}

import_image() {
	silo image import "$TESTDIR/bb.tar"
	assert_success
}

# counter DIR / wait_counter DIR N: the payload's counter in container dir DIR's upper dir
counter() { counter_at "$1/upper/tmp/c"; }
wait_counter() { wait_counter_at "$1/upper/tmp/c" "$2"; }

# run_image_ctr: c1 from bb:1 on node a, with a file written and a lower-layer file deleted
run_image_ctr() {
	on_node a
	import_image
	silo_detached run --image bb:1 --net none -d c1 sh -c 'exec </dev/null >/dev/null 2>&1
		echo kept >/note; rm /etc/group; mkdir -p /var/d; echo x >/var/d/f
		i=0; while :; do i=$((i+1)); echo $i >/tmp/c; usleep 50000; done'
	assert_success
	wait_counter "$SRC_DATA/containers/c1" 3
}

@test "rootfs changes survive export -> delete -> import on a fresh node" {
	run_image_ctr
	silo checkpoint --export "$TESTDIR/c1.tar" c1
	assert_success
	tar -xOf "$TESTDIR/c1.tar" rootfs-diff.tar | tar -t >"$TESTDIR/diff.list"
	grep -qx note "$TESTDIR/diff.list" || fail "rootfs-diff.tar lacks note: $(cat "$TESTDIR/diff.list")"
	grep -qx 'etc/.wh.group' "$TESTDIR/diff.list" || fail "no whiteout for /etc/group: $(cat "$TESTDIR/diff.list")"
	tar -xOf "$TESTDIR/c1.tar" deleted.files | jq -e 'index("/etc/group") != null' >/dev/null ||
		fail "deleted.files: $(tar -xOf "$TESTDIR/c1.tar" deleted.files)"
	local frozen
	frozen=$(counter "$SRC_DATA/containers/c1")
	# the source node forgets the container: its kept container dir goes with delete --force
	silo delete --force c1
	assert_success
	[ ! -e "$SRC_DATA/containers/c1" ] || fail "source container dir left"

	on_node b
	import_image
	snapshot_host
	silo_detached restore -d --import "$TESTDIR/c1.tar" c1
	assert_success
	local dir=$DST_DATA/containers/c1
	[ -d "$dir/upper" ] || fail "no container dir on the new node"
	wait_counter "$dir" $((frozen + 3))
	jq -e --arg d "$dir" '.annotations["run.silo.image.dir"] == $d' "$dir/config.json" >/dev/null ||
		fail "image dir annotation not rewritten: $(jq -c .annotations "$dir/config.json")"
	silo exec c1 sh -c 'cat /note; test ! -e /etc/group && echo gone; cat /var/d/f; test -e /etc/passwd && echo lower'
	assert_success
	assert_output "kept
gone
x
lower"
	silo delete --force c1
	assert_success
	[ ! -e "$dir" ] || fail "container dir left after delete"
	check_no_leaks
}

@test "import applies deleted.files alone (podman's form) and refuses hostile rootfs-diff.tar" {
	run_image_ctr
	silo checkpoint --export "$TESTDIR/c1.tar" c1
	assert_success
	silo delete --force c1
	assert_success
	# podman's rootfs-diff.tar has no whiteouts: only deleted.files says what went
	mkdir "$TESTDIR/x" "$TESTDIR/x/d"
	tar -C "$TESTDIR/x" -xf "$TESTDIR/c1.tar"
	tar -C "$TESTDIR/x/d" -xf "$TESTDIR/x/rootfs-diff.tar"
	find "$TESTDIR/x/d" -name '.wh.*' -delete
	tar -C "$TESTDIR/x/d" -cf "$TESTDIR/x/rootfs-diff.tar" .
	rm -rf "$TESTDIR/x/d"
	tar -C "$TESTDIR/x" -cf "$TESTDIR/podman.tar" .

	on_node b
	import_image
	silo_detached restore -d --import "$TESTDIR/podman.tar" c1
	assert_success
	silo exec c1 sh -c 'cat /note; test ! -e /etc/group && echo gone'
	assert_success
	assert_output "kept
gone"
	silo delete --force c1
	assert_success

	# a rootfs-diff.tar escaping with ../ or a deleted.files ".." path: refused, nothing left
	snapshot_host
	python3 -c 'import io, sys, tarfile
t = tarfile.open(sys.argv[1], "w")
i = tarfile.TarInfo("../../../pwned"); d = b"pwned\n"; i.size = len(d)
t.addfile(i, io.BytesIO(d)); t.close()' "$TESTDIR/x/rootfs-diff.tar"
	tar -C "$TESTDIR/x" -cf "$TESTDIR/evil1.tar" .
	silo_detached restore -d --import "$TESTDIR/evil1.tar" c1
	assert_failure
	assert_output --partial "rootfs-diff.tar"
	[ ! -e "$TESTDIR/pwned" ] && [ ! -e "$DST_DATA/pwned" ] && [ ! -e "$DST_DATA/containers/pwned" ] ||
		fail "rootfs-diff.tar escaped its upper dir"
	echo '["/../../etc/passwd"]' >"$TESTDIR/x/deleted.files"
	tar -C "$TESTDIR/x" -cf "$TESTDIR/evil2.tar" --exclude=rootfs-diff.tar .
	silo_detached restore -d --import "$TESTDIR/evil2.tar" c1
	assert_failure
	assert_output --partial "deleted.files"
	[ ! -e "$DST_DATA/containers/c1" ] || fail "container dir left after a refused import"
	silo state c1
	assert_failure
	[ -z "$(ls -A "$ROOT" | grep '^@')" ] || fail "temporary dir left: $(ls -A "$ROOT")"
	check_no_leaks
}

@test "import on a node without the image fails clearly and leaves nothing" {
	run_image_ctr
	silo checkpoint --export "$TESTDIR/c1.tar" c1
	assert_success
	silo delete --force c1 # its kept dir would be found by path (the "same node" case)
	assert_success
	on_node b
	snapshot_host
	# no data root at all
	silo_detached restore -d --import "$TESTDIR/c1.tar" c1
	assert_failure
	assert_output --partial "image 'bb:1'"
	# a data root without that image
	"$INTEGRATION_ROOT/../../scripts/mkimage-busybox.sh" "$TESTDIR/other.tar" other:1 >/dev/null
	silo image import "$TESTDIR/other.tar"
	assert_success
	silo_detached restore -d --import "$TESTDIR/c1.tar" c1
	assert_failure
	assert_output --partial "bb:1"
	[ -z "$(ls -A "$DST_DATA/containers")" ] || fail "container dir left: $(ls -A "$DST_DATA/containers")"
	[ -z "$(ls -A "$ROOT" 2>/dev/null | grep '^@')" ] || fail "temporary dir left: $(ls -A "$ROOT")"
	silo state c1
	assert_failure
	check_no_leaks
}
