#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/lazy-bench.sh [RUNS]: restore time of a container holding 256 MiB of dirty anonymous
# memory, full restore vs lazy (post-copy) restore over CRIU's page server on the loopback, in
# the cgroup v2 guest (CRIU does not work on the CI host's kernel).  From the build dir:
#
#     bench/lazy-bench.sh --vm [RUNS]
#
# One line per run and mode:  MODE  dump_s  restore_s  [pages_in_s]
#   full: checkpoint, then restore -d (restore_s: until the restored container runs);
#   lazy: checkpoint --lazy-pages (dump_s: until the status fd says the page server is ready),
#         restore -d --lazy-pages --page-server (restore_s: until it runs), pages_in_s: until the
#         source's checkpoint returned, i.e. the last page was fetched.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BENCH=lazy-bench
. "$SRC/bench/guest-common.sh"
if [ "${1:-}" = --vm ]; then
	shift
	guest_reexec "$SRC/bench/lazy-bench.sh" -- "$@"
fi
RUNS=${1:-3}
MB=${CKPT_BENCH_MB:-256}
SILO=${SILO_BIN:-$PWD/silo}
TESTINIT=${SILO_TESTINIT:-$PWD/tests/payload/silo-testinit}
PORT=27391
guest_check

W=$(mktemp -d /tmp/lazy-bench.XXXXXX)
R=$W/root
trap '"$SILO" --root "$R" delete -f a 2>/dev/null; "$SILO" --root "$R" delete -f b 2>/dev/null; rm -rf "$W"' EXIT
B=$W/bundle
memhog_bundle "$B"

cg() { jq --arg cg "$1" '.linux.cgroupsPath = $cg' "$B/config.json" >"$B/c" && cp "$B/c" "$B/config.json"; }

full() {
	local t0 t1 t2
	cg /lazy-bench-a
	(cd "$B" && "$SILO" --root "$R" run -d a </dev/null >/dev/null 2>&1)
	wait_mem /lazy-bench-a
	rm -rf "$W/img"
	t0=$(now)
	"$SILO" --root "$R" checkpoint --image-path "$W/img" a
	t1=$(now)
	(cd "$B" && "$SILO" --root "$R" restore -d --image-path "$W/img" a </dev/null >/dev/null 2>&1)
	t2=$(now)
	"$SILO" --root "$R" delete -f a
	rm -rf "$W/img"
	awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "full  dump %6.2f s  restore %6.2f s\n", b - a, c - b }'
}

lazy() {
	local t0 t1 t2 t3 st pid
	cg /lazy-bench-a
	(cd "$B" && "$SILO" --root "$R" run -d a </dev/null >/dev/null 2>&1)
	wait_mem /lazy-bench-a
	rm -rf "$W/img" "$W/st"
	mkfifo "$W/st"
	exec {st}<>"$W/st"
	t0=$(now)
	"$SILO" --root "$R" checkpoint --lazy-pages --page-server "127.0.0.1:$PORT" --status-fd "$st" \
		--image-path "$W/img" --work-path "$W/work-src" a &
	pid=$!
	exec {st}>&-
	dd if="$W/st" bs=1 count=1 status=none >/dev/null
	t1=$(now)
	cg /lazy-bench-b
	(cd "$B" && "$SILO" --root "$R" restore -d --lazy-pages --page-server "127.0.0.1:$PORT" \
		--image-path "$W/img" --work-path "$W/work-dst" b </dev/null >/dev/null 2>&1)
	t2=$(now)
	wait "$pid"
	t3=$(now)
	"$SILO" --root "$R" delete -f b
	rm -rf "$W/img" "$W/work-src" "$W/work-dst"
	awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" \
		'BEGIN { printf "lazy  dump %6.2f s  restore %6.2f s  pages_in %6.2f s\n", b - a, c - b, d - b }'
}

echo "# lazy-bench: $MB MiB dirty, $RUNS runs, $(criu --version | head -1), $(nproc) vCPU(s)"
for ((i = 0; i < RUNS; i++)); do
	full
	lazy
done
