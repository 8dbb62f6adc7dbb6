#!/usr/bin/env bats
# Checkpoint/restore of vm-sandboxed containers through qemu's migration (the whole guest, no
# CRIU): runtime/sandbox-vm-snapshot.c.  TCG on this host: two VM boots for the whole file; the
# first test leaves its snapshot in the file's data dir for the failure tests that follow.
# silo-only (runc has no VM sandbox).

load helpers

setup_file() {
	VM_DATA=$(mktemp -d /tmp/silo-vmdata.XXXXXX)
	export VM_DATA
}

teardown_file() {
	rm -rf "$VM_DATA"
}

setup() {
	is_silo || skip "the vm sandbox is silo's own (runc has none)"
	command -v qemu-system-x86_64 >/dev/null || skip "test requires qemu-system-x86_64 (package qemu-system-x86)"
	command -v mkfs.erofs >/dev/null || skip "test requires mkfs.erofs (package erofs-utils)"
	compgen -G "/boot/vmlinuz-*" >/dev/null || skip "test requires a kernel in /boot (linux-image-amd64)"
	[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || skip "test requires busybox-static"
	setup_bundle
	mkdir -p "$BUNDLE/rootfs/bin" "$BUNDLE/rootfs/work"
	cp /bin/busybox "$BUNDLE/rootfs/bin/busybox"
	for c in sh cat echo sleep touch; do ln -s busybox "$BUNDLE/rootfs/bin/$c"; done
	export SILO_DATA_ROOT=$VM_DATA/data
	# a counter in /work/c (the guest's tmpfs upper); exits 7 once /work/stop exists
	update_config '.process.terminal = false | .process.args = ["/bin/sh", "-c",
		"i=0; while [ ! -e /work/stop ]; do i=$((i+1)); echo $i >/work/c; sleep 0.2; done; exit 7"]'
}

teardown() {
	teardown_bundle
}

# vm_gone: no VMM and no supervisor of this test left, the state root empty, no cgroup
vm_gone() {
	local p
	for p in /proc/[0-9]*; do
		if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF "$TESTDIR/root"; then
			echo "left behind: ${p#/proc/} $(tr '\0' ' ' <"$p/cmdline")" >&2
			return 1
		fi
	done
	[ -z "$(ls -A "$ROOT")" ] || { ls -la "$ROOT" >&2; return 1; }
	[ -z "$(__our_cgroup_dirs)" ] || { echo "cgroup left: $(__our_cgroup_dirs)" >&2; return 1; }
}

# counter ID: the guest counter's value (via exec)
counter() {
	"$SILO_BIN" --root "$ROOT" exec "$1" cat /work/c 3>&-
}

# counter_runs ID MIN: the counter is at least MIN and still moving
counter_runs() {
	local a b i
	for ((i = 0; i < 50; i++)); do
		a=$(counter "$1") && [ -n "$a" ] && [ "$a" -ge "$2" ] && break
		sleep 0.2
	done
	[ -n "$a" ] && [ "$a" -ge "$2" ] || { echo "counter of $1: '$a' (want >= $2)" >&2; return 1; }
	sleep 1
	b=$(counter "$1")
	[ "$b" -gt "$a" ] || { echo "counter of $1 stuck at $a ($b)" >&2; return 1; }
	echo "$b"
}

@test "vm checkpoint: the counter continues after checkpoint -> restore, --leave-running, export -> import" {
	local n pid
	silo_detached run -d --sandbox vm --bundle "$BUNDLE" v1
	assert_success
	n=$(counter_runs v1 3)

	silo_detached checkpoint --image-path "$TESTDIR/img" v1
	assert_success
	# the container is gone (runc semantics without --leave-running), the snapshot is there
	vm_gone
	[ -s "$TESTDIR/img/vm.state" ] && [ -s "$TESTDIR/img/rootfs.erofs" ]
	jq -e '.sandbox == "vm" and (.kernelSha256 | startswith("sha256:")) and .memoryMiB > 0' "$TESTDIR/img/vm.json"
	cp -r "$TESTDIR/img" "$VM_DATA/snap" # for the tests below

	silo_detached restore -d --image-path "$TESTDIR/img" --bundle "$BUNDLE" v1
	assert_success
	run state_field v1 status
	assert_output running
	pid=$(state_field v1 pid)
	[ "$(cat /proc/"$pid"/comm)" = qemu-system-x86 ]
	grep -q ":$CGROUP_PATH\$" /proc/"$pid"/cgroup
	n=$(counter_runs v1 "$n")

	# the same id is busy now
	silo_detached restore -d --image-path "$TESTDIR/img" --bundle "$BUNDLE" v1
	assert_failure
	assert_output --partial "already exists"

	# --leave-running + --export: the VM goes on; the archive is a VM snapshot
	silo_detached checkpoint --leave-running --export "$TESTDIR/ck.tar" v1
	assert_success
	[ "$(state_field v1 pid)" = "$pid" ]
	n=$(counter_runs v1 "$n")
	tar -tf "$TESTDIR/ck.tar" | grep -qx checkpoint/vm.json
	tar -xOf "$TESTDIR/ck.tar" config.dump | jq -e '.sandbox == "vm"'
	silo delete --force v1
	assert_success
	vm_gone

	silo_detached restore -d --import "$TESTDIR/ck.tar" --bundle "$BUNDLE" v2
	assert_success
	counter_runs v2 "$n"
	[ -z "$(ls -A "$ROOT" | grep -v '^v2$')" ] # the unpacked archive is gone
	silo delete --force v2
	assert_success
	vm_gone
}

@test "vm checkpoint: a foreground restore ends with the container's exit status" {
	[ -d "$VM_DATA/snap" ] || skip "needs the snapshot of the first test"
	silo_bg restore --image-path "$VM_DATA/snap" --bundle "$BUNDLE" v1
	wait_for_container 100 0.1 v1 running
	counter_runs v1 1
	# an exec'd process still running when the container's process ends dies with it (as in a
	# pid namespace): its client gets 128+9, not a lost VM
	"$SILO_BIN" --root "$ROOT" exec v1 sh -c 'touch /work/started; exec sleep 1000' \
		</dev/null >/dev/null 2>"$TESTDIR/exec.err" 3>&- &
	local epid=$! erc=0 i
	for ((i = 0; i < 100; i++)); do
		"$SILO_BIN" --root "$ROOT" exec v1 cat /work/started 3>&- && break
		sleep 0.2
	done
	# the touch itself races the loop that sees its file: 0, or 137 when it was killed in between
	silo exec v1 touch /work/stop
	[ "$status" -eq 0 ] || [ "$status" -eq 137 ] || { echo "touch: $status $output"; false; }
	wait "$SILO_BG_PID" || rc=$?
	[ "${rc:-0}" -eq 7 ]
	wait "$epid" || erc=$?
	[ "$erc" -eq 137 ] || { echo "exec sleep: $erc $(cat "$TESTDIR/exec.err")"; false; }
	vm_gone
}

@test "vm checkpoint: restore refuses another guest kernel or a broken stream; nothing is left" {
	[ -d "$VM_DATA/snap" ] || skip "needs the snapshot of the first test"
	cp -r "$VM_DATA/snap" "$TESTDIR/k"
	jq '.kernelSha256 = "sha256:" + ("0" * 64)' "$VM_DATA/snap/vm.json" >"$TESTDIR/k/vm.json"
	silo_detached restore -d --image-path "$TESTDIR/k" --bundle "$BUNDLE" v1
	assert_failure
	assert_output --partial "the snapshot was taken with another guest kernel"
	vm_gone

	cp -r "$VM_DATA/snap" "$TESTDIR/t"
	truncate -s 1000000 "$TESTDIR/t/vm.state"
	silo_detached restore -d --image-path "$TESTDIR/t" --bundle "$BUNDLE" v1
	assert_failure
	assert_output --partial "the VMM exited while loading the snapshot"
	vm_gone

	# the bundle must describe the same machine: here it adds a NIC
	update_config '.annotations["run.silo.network"] = "bridge"'
	silo_detached restore -d --image-path "$VM_DATA/snap" --bundle "$BUNDLE" v1
	assert_failure
	assert_output --partial "the snapshot's VM has no network device"
	vm_gone
}
