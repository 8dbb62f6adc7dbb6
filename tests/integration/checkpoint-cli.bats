#!/usr/bin/env bats
# checkpoint / restore: the command-line contract that does not need a working CRIU (CRIU itself
# fails on this host's kernel; the dump/restore behaviour is proven in the v2 guest by
# tests/integration-v2/checkpoint.bats).  Callers probe `checkpoint --help` (podman, CRI-O) and
# the features annotation org.opencontainers.runc.checkpoint.enabled (interfaces.md §5.1).

load helpers

setup() {
	setup_bundle
	set_cmd pause
}

teardown() {
	teardown_bundle
}

@test "checkpoint --help and restore --help exit 0 and list runc's flags" {
	run "$SILO_BIN" checkpoint --help
	assert_success
	for f in --image-path --work-path --leave-running --tcp-established --ext-unix-sk --shell-job \
		--file-locks --pre-dump --parent-path --manage-cgroups-mode --empty-ns --auto-dedup --page-server; do
		assert_output --partial -- "$f"
	done
	run "$SILO_BIN" restore --help
	assert_success
	for f in --image-path --bundle --detach --pid-file --console-socket --no-pivot --no-subreaper; do
		assert_output --partial -- "${f#-}"
	done
}

@test "features: the checkpoint annotation says whether silo-criu.so and criu are installed" {
	requires_ref_feature '.annotations["org.opencontainers.runc.checkpoint.enabled"]' "the checkpoint annotation"
	run "$SILO_BIN" features
	assert_success
	local v
	v=$(echo "$output" | jq -r '.annotations["org.opencontainers.runc.checkpoint.enabled"]')
	if is_silo; then
		# built with CRIU support (configure found criu.pc), its plugin next to silo, criu installed
		if grep -q '^#define HAVE_CRIU 1' "$INTEGRATION_ROOT/../../config.h" 2>/dev/null &&
			[ -e "$(dirname "$SILO_BIN")/silo-criu.so" ] && command -v criu >/dev/null; then
			[ "$v" = true ] || fail "criu installed but the annotation says '$v'"
		else
			[ "$v" = false ] || fail "no criu but the annotation says '$v'"
		fi
	else
		[ "$v" = true ] || [ "$v" = false ] || fail "annotation '$v'"
	fi
}

@test "checkpoint: an unknown id, a created container: runc's errors, exit 1, nothing created" {
	silo checkpoint --image-path "$TESTDIR/img" nosuch
	assert_failure 1
	assert_output --partial "does not exist"
	create_ctr c1
	silo checkpoint --image-path "$TESTDIR/img" c1
	assert_failure 1
	assert_output --partial "Container cannot be checkpointed in created state"
	[ ! -e "$TESTDIR/img" ] || fail "image dir created for a refused checkpoint"
}

@test "checkpoint/restore: invalid flags are refused before anything happens" {
	is_silo || skip "silo's own validation messages"
	create_ctr c1
	silo checkpoint --parent-path /abs/pre --image-path "$TESTDIR/img" c1
	assert_failure 1
	assert_output --partial "--parent-path: '/abs/pre' must be relative to --image-path"
	silo checkpoint --manage-cgroups-mode bogus --image-path "$TESTDIR/img" c1
	assert_failure 1
	assert_output --partial "--manage-cgroups-mode: invalid value 'bogus'"
	silo checkpoint --empty-ns pid --image-path "$TESTDIR/img" c1
	assert_failure 1
	assert_output --partial "--empty-ns: only 'network'"
	silo checkpoint --lazy-pages --image-path "$TESTDIR/img" c1
	assert_failure 1
	assert_output --partial "--lazy-pages"
	[ ! -e "$TESTDIR/img" ] || fail "image dir created for a refused checkpoint"
	# restore of a missing checkpoint: clear error, no state, no cgroup
	snapshot_host
	silo_detached restore -d --bundle "$BUNDLE" --image-path "$TESTDIR/none" c2
	assert_failure 1
	assert_output --partial "--image-path"
	silo state c2
	assert_failure
	check_no_leaks
}

@test "restore: a busy id is refused and the existing container is untouched" {
	create_ctr c1
	local pid
	pid=$(state_field c1 pid)
	silo_detached restore -d --bundle "$BUNDLE" --image-path "$TESTDIR/img" c1
	assert_failure 1
	assert_output --partial "c1"
	[ "$(state_field c1 pid)" = "$pid" ] || fail "pid changed"
	[ "$(state_field c1 status)" = created ] || fail "status $(state_field c1 status)"
}

# __archive NAME...: an uncompressed tar of the named files of $TESTDIR/arc
__archive() {
	tar -C "$TESTDIR/arc" -cf "$TESTDIR/a.tar" "$@"
}

@test "restore --import: corrupt, truncated or hostile archives fail cleanly with nothing left" {
	is_silo || skip "silo's archive format"
	mkdir -p "$TESTDIR/arc/checkpoint"
	cp "$BUNDLE/config.json" "$TESTDIR/arc/spec.dump"
	head -c 300000 /dev/urandom >"$TESTDIR/arc/checkpoint/pages-1.img"
	: >"$TESTDIR/arc/checkpoint/inventory.img"
	snapshot_host

	head -c 4096 /dev/urandom >"$TESTDIR/junk"
	silo_detached restore -d --bundle "$BUNDLE" --import "$TESTDIR/junk" c1
	assert_failure 1
	assert_output --partial "--import"

	__archive spec.dump checkpoint/pages-1.img checkpoint/inventory.img
	truncate -s 150000 "$TESTDIR/a.tar"
	silo_detached restore -d --bundle "$BUNDLE" --import "$TESTDIR/a.tar" c1
	assert_failure 1
	assert_output --regexp "--import: .*(runcated|EOF|short)"

	ln -s /etc/passwd "$TESTDIR/arc/checkpoint/core-1.img"
	__archive spec.dump checkpoint/inventory.img checkpoint/core-1.img
	silo_detached restore -d --bundle "$BUNDLE" --import "$TESTDIR/a.tar" c1
	assert_failure 1
	assert_output --partial "unexpected entry"
	rm "$TESTDIR/arc/checkpoint/core-1.img"

	(cd "$TESTDIR/arc" && tar -cf "$TESTDIR/a.tar" spec.dump checkpoint/inventory.img --transform 's,^spec.dump,../evil,')
	silo_detached restore -d --bundle "$BUNDLE" --import "$TESTDIR/a.tar" c1
	assert_failure 1
	assert_output --partial "unexpected entry"

	__archive spec.dump
	silo_detached restore -d --bundle "$BUNDLE" --import - c1 <"$TESTDIR/a.tar"
	assert_failure 1

	__archive checkpoint/inventory.img
	silo_detached restore -d --bundle "$BUNDLE" --import "$TESTDIR/a.tar" c1
	assert_failure 1
	assert_output --partial "not a checkpoint archive"

	silo state c1
	assert_failure
	check_no_leaks
}

@test "checkpoint --export: refused with --pre-dump / --parent-path, nothing written" {
	is_silo || skip "silo's archive format"
	create_ctr c1
	silo checkpoint --pre-dump --export "$TESTDIR/a.tar" c1
	assert_failure 1
	assert_output --partial "--export"
	silo checkpoint --parent-path ../p --export "$TESTDIR/a.tar" c1
	assert_failure 1
	[ ! -e "$TESTDIR/a.tar" ] || fail "archive written"
	silo checkpoint --export "$TESTDIR/a.tar" c1
	assert_failure 1
	assert_output --partial "Container cannot be checkpointed in created state"
	[ ! -e "$TESTDIR/a.tar" ] || fail "archive written"
	[ -z "$(ls -A "$ROOT" | grep '^@ckpt')" ] || fail "temporary image dir left: $(ls -A "$ROOT")"
}
