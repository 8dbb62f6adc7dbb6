#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/ckpt-bench.sh [RUNS]: checkpoint + restore of a container holding 256 MiB of dirty
# anonymous memory, silo vs runc, in the same cgroup v2 guest run (CRIU does not work on the CI
# host's kernel).  Run from the build dir (needs ./silo and tests/payload/silo-testinit):
#
#     tests/vm/run-in-guest --mem 2048 --share-rw "$PWD" -- bench/ckpt-bench.sh 3
#
# (or `bench/ckpt-bench.sh --vm [RUNS]`, which does exactly that).  Prints one line per run and
# the median per runtime:  RUNTIME  dump_s  restore_s  total_s.  Images go to the guest's tmpfs.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BENCH=ckpt-bench
. "$SRC/bench/guest-common.sh"
if [ "${1:-}" = --vm ]; then
	shift
	guest_reexec "$SRC/bench/ckpt-bench.sh" --env "CKPT_BENCH_LOGS=${CKPT_BENCH_LOGS:-}" -- "$@"
fi
RUNS=${1:-3}
MB=${CKPT_BENCH_MB:-256}
SILO=${SILO_BIN:-$PWD/silo}
TESTINIT=${SILO_TESTINIT:-$PWD/tests/payload/silo-testinit}
RUNC=$(command -v runc || true)
guest_check

W=$(mktemp -d /tmp/ckpt-bench.XXXXXX)
trap 'for r in silo runc; do "$SILO" --root "$W/root-silo" delete -f b 2>/dev/null; [ -z "$RUNC" ] || "$RUNC" --root "$W/root-runc" delete -f b 2>/dev/null; done; rm -rf "$W"' EXIT
B=$W/bundle
memhog_bundle "$B"

one() { # RUNTIME_NAME BIN
	local name=$1 bin=$2 root=$W/root-$1 cg=/ckpt-bench-$1 t0 t1 t2
	jq --arg cg "$cg" '.linux.cgroupsPath = $cg' "$B/config.json" >"$B/c" && cp "$B/c" "$B/config.json"
	(cd "$B" && "$bin" --root "$root" run -d b </dev/null >/dev/null 2>&1)
	wait_mem "$cg"
	rm -rf "$W/img"
	t0=$(now)
	"$bin" --root "$root" checkpoint --image-path "$W/img" b
	t1=$(now)
	(cd "$B" && "$bin" --root "$root" restore -d --image-path "$W/img" b </dev/null >/dev/null 2>&1)
	t2=$(now)
	"$bin" --root "$root" delete -f b
	# CKPT_BENCH_LOGS=DIR keeps CRIU's logs (DIR/RUNTIME-{dump,restore}.log) to compare phases
	if [ -n "${CKPT_BENCH_LOGS:-}" ]; then
		mkdir -p "$CKPT_BENCH_LOGS"
		cp "$W/img/dump.log" "$CKPT_BENCH_LOGS/$name-dump.log" 2>/dev/null || true
		cp "$W/img/restore.log" "$CKPT_BENCH_LOGS/$name-restore.log" 2>/dev/null || true
	fi
	rm -rf "$W/img"
	awk -v n="$name" -v a="$t0" -v b="$t1" -v c="$t2" \
		'BEGIN { printf "%-5s dump %6.2f s  restore %6.2f s  total %6.2f s\n", n, b - a, c - b, c - a }'
}

echo "# ckpt-bench: $MB MiB dirty, $RUNS runs, $(criu --version | head -1), $(nproc) vCPU(s)"
for ((i = 0; i < RUNS; i++)); do
	one silo "$SILO"
	[ -z "$RUNC" ] || one runc "$RUNC"
done | tee "$W/results"
for r in silo runc; do
	grep "^$r " "$W/results" | awk '{print $9}' | sort -n |
		awk -v r="$r" '{v[NR] = $1} END { if (NR) printf "median %-5s total %.2f s (%d runs)\n", r, v[int((NR + 1) / 2)], NR }'
done
