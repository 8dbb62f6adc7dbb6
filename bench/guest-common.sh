# SPDX-License-Identifier: GPL-2.0-or-later
#
# Sourced by the CRIU benchmarks (ckpt-bench.sh, lazy-bench.sh): the --vm re-run in the cgroup v2
# guest, the checks that CRIU works there, and the 256 MiB memhog bundle.  The caller sets
# BENCH (its name, for messages) and SRC (the source tree) first.

# guest_reexec SCRIPT [RUN-IN-GUEST OPTIONS...] -- ARGS: run SCRIPT ARGS again in the guest,
# sharing the build dir (the cwd) read-write, with SILO_BIN and SILO_TESTINIT defaulting to it.
guest_reexec() {
	local script=$1 opts=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	exec "$SRC/tests/vm/run-in-guest" --mem "${SILO_VM_MEM:-2048}" --timeout 1800 --share-rw "$PWD" \
		"${opts[@]}" --env "SILO_BIN=${SILO_BIN:-$PWD/silo}" \
		--env "SILO_TESTINIT=${SILO_TESTINIT:-$PWD/tests/payload/silo-testinit}" \
		-- "$script" "$@"
}

# guest_check: exit 2 unless this is a cgroup v2 host where `criu check` passes.
guest_check() {
	[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] || { echo "$BENCH: needs cgroup v2 (run it with --vm)" >&2; exit 2; }
	criu check >/dev/null 2>&1 || { echo "$BENCH: criu check fails here" >&2; exit 2; }
}

# memhog_bundle DIR: a bundle whose payload touches MB MiB of anonymous memory and pauses
# (busybox + $TESTINIT in the rootfs, stdio on the container's own /dev/null for CRIU).
memhog_bundle() {
	local b=$1
	mkdir -p "$b/rootfs"/{proc,sys,dev,tmp,etc}
	cp /bin/busybox "$b/rootfs/busybox"
	cp "$TESTINIT" "$b/rootfs/silo-testinit"
	(cd "$b" && "$SILO" spec)
	jq --arg mb "$MB" '.process.terminal = false | .root.readonly = false |
		.process.args = ["/busybox", "sh", "-c", "exec </dev/null >/dev/null 2>&1; exec /silo-testinit memhog \($mb) pause"]' \
		"$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
}

now() { date +%s.%N; }

# wait_mem CGROUP: until the payload touched its memory (memory.current of its v2 cgroup).
wait_mem() {
	local i
	for ((i = 0; i < 600; i++)); do
		[ "$(cat "/sys/fs/cgroup$1/memory.current" 2>/dev/null || echo 0)" -ge $((MB * 1024 * 1024)) ] && return 0
		sleep 0.1
	done
	echo "$BENCH: payload never reached $MB MiB" >&2
	return 1
}
