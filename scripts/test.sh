#!/bin/bash
# The test command: install dependencies, build from scratch, run the unit + integration tests
# on this host (`make check`), containerd/podman end to end (`make check-e2e`, skipped with
# SILO_SKIP_E2E=1), the cgroup v2 suite in a QEMU guest (`make check-v2`), the systemd cgroup
# driver suite in a guest booting systemd (`make check-systemd`, SILO_SKIP_SYSTEMD=1), a short
# libFuzzer run of both fuzz targets (30 s each, SILO_SKIP_FUZZ=1 skips) and the host suite once
# more built with ASan + UBSan in a copy of the tree (SILO_SKIP_ASAN=1 skips).
# The two guest suites run in the background while the host suites run (their output follows).
# Ends with one line "N passed, N failed" summing all.  Must run as root.
set -uo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root: sudo $0" >&2; exit 1; }
# CI gives .ci/run 90 min in all.  Every phase prints its start time, and the guest suites are
# given timeouts that end them by SILO_TEST_BUDGET seconds after this script started (default
# 80 min), so that a slow or hung guest fails with its partial output shown instead of taking
# the whole run down with it.
t0=$SECONDS
budget=${SILO_TEST_BUDGET:-4800}
phase() { printf '# [%dm%02ds] %s\n' $(((SECONDS - t0) / 60)) $(((SECONDS - t0) % 60)) "$*"; }
phase "install dependencies"
scripts/install-deps.sh --fuzz || exit 1
phase "build"
scripts/build.sh "$@" || exit 1
log=$(mktemp /tmp/silo-check.XXXXXX)
rc=0
# Everything the suites run is built first, so that the guest suites can run in the background
# while the host suites run here: the guests (QEMU TCG, ~40 min for check-v2 with checkpoint
# and migrate) are the long pole, and two cores carry both (measured: host suite 9 min beside
# the v2 guest, both green).  The guests' output is shown after the host suites.
make -j"$(nproc)" all tests/payload/silo-testinit >/dev/null && make -j"$(nproc)" check SKIP_UNIT=1 \
	SKIP_INTEGRATION=1 >/dev/null 2>&1 || { echo "build of the test programs failed" >&2; exit 1; }
guest_log=$(mktemp /tmp/silo-guests.XXXXXX)
# the short systemd suite first, then the long v2 suite with what is left of the budget
guest_timeout() { echo $((budget - (SECONDS - t0) > 600 ? budget - (SECONDS - t0) : 600)); }
(
	grc=0
	if [ "${SILO_SKIP_SYSTEMD:-}" != 1 ]; then
		phase "guest: make check-systemd" >>"$guest_log"
		t=$(guest_timeout)
		SILO_VM_TIMEOUT=$((t < 1200 ? t : 1200)) make check-systemd >>"$guest_log" 2>&1 || grc=1
	fi
	if [ "${SILO_SKIP_V2:-}" != 1 ]; then
		phase "guest: make check-v2" >>"$guest_log"
		SILO_VM_TIMEOUT=$(guest_timeout) make check-v2 >>"$guest_log" 2>&1 || grc=1
	fi
	phase "guests done: $grc" >>"$guest_log"
	exit "$grc"
) &
guests=$!
phase "host: make check"
make check 2>&1 | tee "$log" || rc=1
phase "host: make check-e2e"
[ "${SILO_SKIP_E2E:-}" = 1 ] || { make check-e2e 2>&1 | tee -a "$log" || rc=1; }
# fuzzing: one result line per target (exit 77 = clang/libFuzzer missing: a skip, counted passed)
phase "fuzz"
if [ "${SILO_SKIP_FUZZ:-}" != 1 ]; then
	for t in spec unpack; do
		frc=0
		make fuzz FUZZ_TARGET=$t FUZZ_SECONDS="${SILO_FUZZ_SECONDS:-30}" 2>&1 | tee -a "$log" || frc=1
		if [ "$frc" = 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; rc=1; fi | tee -a "$log"
	done
fi
# the host suite under ASan + UBSan, built in a copy of the tree (this one is configured without)
phase "host: make check under ASan + UBSan"
if [ "${SILO_SKIP_ASAN:-}" != 1 ]; then
	asan=$(mktemp -d /tmp/silo-asan.XXXXXX)
	cp -a . "$asan/src"
	# detect_leaks=0: LeakSanitizer's exit-time check stops the world with a tracer it clones,
	# which spins forever in a silo that has setns()ed into a container's pid namespace for its
	# children (exec): every exec test then ran into its 60 s timeout.  ASan and UBSan stay on.
	( cd "$asan/src" && { make distclean >/dev/null 2>&1 || true; } && ./autogen.sh >/dev/null 2>&1 &&
		./configure -q --enable-asan && make -j"$(nproc)" >/dev/null &&
		ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} make check ) 2>&1 | tee -a "$log" || rc=1
	rm -rf "$asan"
fi
phase "waiting for the guest suites"
wait "$guests" || rc=1
phase "guest suites' output follows"
tee -a "$log" <"$guest_log"
rm -f "$guest_log"
read -r pass fail < <(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" |
        awk '{p += $1; f += $3} END {print p + 0, f + 0}')
runs=$(grep -cE '^[0-9]+ passed, [0-9]+ failed' "$log")
rm -f "$log"
expected=$((1 + (${SILO_SKIP_V2:-0} != 1) + (${SILO_SKIP_E2E:-0} != 1) + (${SILO_SKIP_SYSTEMD:-0} != 1) +
	2 * (${SILO_SKIP_FUZZ:-0} != 1) + (${SILO_SKIP_ASAN:-0} != 1)))
# a suite that died before printing its summary counts as a failure
[ "$runs" -ge "$expected" ] || fail=$((fail + 1))
[ "$fail" -eq 0 ] || rc=1
phase "done"
echo "$pass passed, $fail failed"
exit "$rc"
