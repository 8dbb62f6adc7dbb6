# Shared by the VM sandbox suites (vm.bats, vm-checkpoint.bats, vm-migrate.bats): skip checks, a
# busybox-static rootfs, one data root per file (the extracted vmlinux and the initramfs are
# cached there: built once per file), and the "nothing left" check.  TCG on this host: every
# VM boot costs 2-6 s, so each file keeps its boots few.

load helpers

vm_setup_file() {
	VM_DATA=$(mktemp -d /tmp/silo-vmdata.XXXXXX)
	export VM_DATA
}

vm_teardown_file() {
	rm -rf "$VM_DATA"
}

# vm_skip: skip unless this host can run a VM container (qemu, mkfs.erofs, a kernel, busybox)
vm_skip() {
	is_silo || skip "the vm sandbox is silo's own (runc has none)"
	command -v qemu-system-x86_64 >/dev/null || skip "test requires qemu-system-x86_64 (package qemu-system-x86)"
	command -v mkfs.erofs >/dev/null || skip "test requires mkfs.erofs (package erofs-utils)"
	compgen -G "/boot/vmlinuz-*" >/dev/null || skip "test requires a kernel in /boot (linux-image-amd64)"
	[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || skip "test requires busybox-static"
}

# vm_timeout_wrapper: $SILO_BIN becomes a wrapper giving each call at most SILO_VM_CALL_TIMEOUT
# seconds (default 300): a guest that stops answering fails its test instead of hanging the
# suite (seen once under TCG at load 6: the guest idle after START, the foreground run waiting)
vm_timeout_wrapper() {
	local real=$SILO_BIN
	SILO_BIN=$TESTDIR/silo-timeout
	printf '#!/bin/sh\nexec timeout --foreground -k 5 %s %s "$@"\n' "${SILO_VM_CALL_TIMEOUT:-300}" "$real" \
		>"$SILO_BIN"
	chmod +x "$SILO_BIN"
}

# vm_bundle APPLET...: setup_bundle with a busybox rootfs (/bin/busybox, the applets as links,
# an empty /work)
vm_bundle() {
	local c
	setup_bundle
	mkdir -p "$BUNDLE/rootfs/bin" "$BUNDLE/rootfs/work"
	cp /bin/busybox "$BUNDLE/rootfs/bin/busybox"
	for c in "$@"; do ln -s busybox "$BUNDLE/rootfs/bin/$c"; done
}

# vm_gone [ROOT...]: no VMM and no supervisor of this test left (nothing whose command line
# names $TESTDIR, or one of the ROOTs), each state root empty but for @net without leases, no
# cgroup of the test (unless ROOTs are given: another node may use it)
vm_gone() {
	local f r pats=$TESTDIR
	[ $# -eq 0 ] || pats=$(printf '%s/\n' "$@")
	# one grep over every command line (patterns on stdin, so grep's own does not match)
	while read -r f; do
		echo "left behind: ${f//[!0-9]/} $(tr '\0' ' ' <"$f" 2>/dev/null)" >&2
		return 1
	done < <(grep -lsF -f - /proc/[0-9]*/cmdline <<<"$pats" 2>/dev/null)
	for r in "${@:-$ROOT}"; do
		[ -d "$r" ] || continue
		[ -z "$(ls -A "$r" | grep -vx '@net')" ] || { ls -la "$r" >&2; return 1; }
		[ -z "$(find "$r/@net" -type f -name '[0-9]*' 2>/dev/null)" ] ||
			{ echo "lease left: $(find "$r/@net" -type f)" >&2; return 1; }
	done
	[ $# -gt 0 ] || [ -z "$(__our_cgroup_dirs)" ] || { echo "cgroup left: $(__our_cgroup_dirs)" >&2; return 1; }
}

# vm_counter_cmd: process.args of a counter in /work/c (the guest's tmpfs upper) every 0.2 s;
# it exits 7 once /work/stop exists
vm_counter_cmd() {
	update_config '.process.terminal = false | .process.args = ["/bin/sh", "-c",
		"i=0; while [ ! -e /work/stop ]; do i=$((i+1)); echo $i >/work/c; sleep 0.2; done; exit 7"]'
}

# counter ID: the guest counter's value (via exec; VM_ROOT: another --root than $ROOT)
counter() {
	"$SILO_BIN" --root "${VM_ROOT:-$ROOT}" exec "$1" cat /work/c 3>&-
}

# counter_runs ID MIN: the counter is at least MIN and still moving; prints the last value
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
