#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/migrate-bench.sh [RUNS]: downtime of moving a container that holds 256 MiB of memory,
# dirtied once and then mostly idle (a small hot set: a shell counting every 50 ms), between two
# "nodes" (network namespaces joined by a veth, each with its own silo --root), in the same cgroup
# v2 guest run (CRIU does not work on the CI host's kernel):
#
#   plain     silo migrate --rounds 0                 stop, dump everything, transfer, restore
#   precopy   silo migrate                            pre-dump rounds while it runs, then a short
#                                                     final dump
#   precopy-eager  the same, the destination restoring eagerly (SILO_MIGRATE_EAGER=1): CRIU
#             reads every pre-copied page into the new process inside the downtime (before lazy
#             restore of the pre-copy, checkpoint/criu-lazy.c)
#   postcopy  silo migrate --lazy-pages --rounds 0    final dump without the memory, restore,
#                                                     run; the pages follow (criu lazy-pages)
#
# Node 2's receiver sees the bundle with its own cgroupsPath (a bind-mounted config.json in its
# mount namespace): post-copy releases the source after the destination runs, and both nodes
# share the guest's cgroup tree.
#
# Both over the same tcp: transport.  Run from the build dir (needs ./silo and
# tests/payload/silo-testinit):
#
#     bench/migrate-bench.sh --vm [RUNS]      (= tests/vm/run-in-guest --mem 2048 ... -- this script)
#
# SILO_CRIU_TMPFS=criu leaves the container's tmpfs mounts to CRIU (tar | gzip each, at dump and
# restore) instead of silo's own archive (checkpoint/tmpfs.c): the before/after of that change.
#
# Prints migrate's own report per run (rounds, sizes, downtime split into freeze+dump /
# transfer / restore), the median downtime per mode and the ratios precopy/plain (target <= 0.3)
# and postcopy/plain.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-}" = --vm ]; then
	shift
	exec "$SRC/tests/vm/run-in-guest" --mem "${SILO_VM_MEM:-2048}" --timeout 1800 --share-rw "$PWD" \
		--env "MIG_BENCH_MB=${MIG_BENCH_MB:-}" --env "SILO_CRIU_TMPFS=${SILO_CRIU_TMPFS:-}" \
		--env "SILO_BIN=${SILO_BIN:-$PWD/silo}" \
		--env "SILO_TESTINIT=${SILO_TESTINIT:-$PWD/tests/payload/silo-testinit}" \
		-- "$SRC/bench/migrate-bench.sh" "$@"
fi
RUNS=${1:-1}
MB=${MIG_BENCH_MB:-256}
[ -n "$MB" ] || MB=256
SILO=${SILO_BIN:-$PWD/silo}
TESTINIT=${SILO_TESTINIT:-$PWD/tests/payload/silo-testinit}
[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] || { echo "migrate-bench: needs cgroup v2 (run it with --vm)" >&2; exit 2; }
criu check >/dev/null 2>&1 || { echo "migrate-bench: criu check fails here" >&2; exit 2; }

W=$(mktemp -d /tmp/migrate-bench.XXXXXX)
N1=silo-mb1-$$ N2=silo-mb2-$$
n1() { nsenter --net=/run/netns/$N1 "$SILO" --root "$W/r1" "$@"; }
n2() { nsenter --net=/run/netns/$N2 "$SILO" --root "$W/r2" "$@"; }
cleanup() {
	n1 delete -f b >/dev/null 2>&1 || true
	n2 delete -f b >/dev/null 2>&1 || true
	ip netns del "$N1" 2>/dev/null || true
	ip netns del "$N2" 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT
ip netns add "$N1"
ip netns add "$N2"
ip link add m1 netns "$N1" type veth peer name m2 netns "$N2"
ip -n "$N1" addr add 10.200.0.1/24 dev m1
ip -n "$N2" addr add 10.200.0.2/24 dev m2
for n in "$N1" "$N2"; do ip -n "$n" link set lo up; done
ip -n "$N1" link set m1 up
ip -n "$N2" link set m2 up

B=$W/bundle
mkdir -p "$B/rootfs"/{proc,sys,dev,tmp,etc}
cp /bin/busybox "$B/rootfs/busybox"
cp "$TESTINIT" "$B/rootfs/silo-testinit"
(cd "$B" && "$SILO" spec)
jq --arg mb "$MB" '.process.terminal = false | .root.readonly = false | .linux.cgroupsPath = "/migrate-bench"
	| .process.args = ["/busybox", "sh", "-c", "exec </dev/null >/dev/null 2>&1; /silo-testinit memhog \($mb) pause & i=0; while :; do i=$((i+1)); echo $i >/tmp/c; /busybox usleep 50000; done"]' \
	"$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
jq '.linux.cgroupsPath = "/migrate-bench-n2"' "$B/config.json" >"$W/config-n2.json"

wait_mem() {
	local i
	for ((i = 0; i < 900; i++)); do
		[ "$(cat /sys/fs/cgroup/migrate-bench/memory.current 2>/dev/null || echo 0)" -ge $((MB * 1024 * 1024)) ] && return 0
		sleep 0.1
	done
	echo "migrate-bench: payload never reached $MB MiB" >&2
	return 1
}

one() { # MODE [migrate flags]
	local mode=$1 out eager=
	shift
	[ "$mode" != precopy-eager ] || eager=1
	n1 run -d --bundle "$B" b </dev/null >/dev/null 2>&1
	wait_mem
	sleep 2 # dirtied once, now idle apart from the counter
	rm -f "$W/listen.err"
	SILO_MIGRATE_EAGER=$eager nsenter --net=/run/netns/$N2 unshare -m --propagation private sh -c \
		'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh "$W/config-n2.json" "$B/config.json" \
		"$SILO" --root "$W/r2" migrate --listen 10.200.0.2:7000 --once </dev/null >/dev/null 2>"$W/listen.err" &
	local l=$! i
	for ((i = 0; i < 100; i++)); do grep -q listening "$W/listen.err" && break; sleep 0.1; done
	out=$(n1 migrate "$@" b tcp:10.200.0.2:7000 </dev/null)
	wait "$l"
	n2 delete -f b >/dev/null
	echo "$out" | sed "s/^/$mode: /"
	echo "$out" | sed -n "s/^downtime \([0-9]*\) ms.*/$mode \1/p" >>"$W/results"
}

echo "# migrate-bench: $MB MiB dirtied once + a small hot set, $RUNS run(s), $(criu --version | head -1), $(nproc) vCPU(s)"
for ((r = 0; r < RUNS; r++)); do
	one plain --rounds 0
	one precopy
	one precopy-eager
	one postcopy --lazy-pages --rounds 0
done
for m in plain precopy precopy-eager postcopy; do
	grep "^$m " "$W/results" | awk '{print $2}' | sort -n |
		awk -v m="$m" '{v[NR] = $1} END { if (NR) printf "median %-7s downtime %6d ms (%d runs)\n", m, v[int((NR + 1) / 2)], NR }'
done | tee "$W/medians"
awk '{d[$2] = $4} END { if (d["plain"] > 0) printf "ratio precopy/plain downtime: %.2f (target <= 0.30); precopy-eager/plain: %.2f; postcopy/plain: %.2f\n", d["precopy"] / d["plain"], d["precopy-eager"] / d["plain"], d["postcopy"] / d["plain"] }' "$W/medians"
