#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Test driver for `make check`: runs the unit test binaries (TAP) and then the bats integration
# suite (TAP), prints everything, and ends with exactly one summary line:
#
#     N passed, N failed
#
# exiting 1 when anything failed.  Skipped tests count as passed and are reported separately
# on the line before the summary.
#
# Environment:
#   UNIT_TESTS     space-separated unit test binaries, relative to the current (build) directory
#   SILO_BIN       the runtime under test (default: ./silo); SILO_TESTINIT: the payload
#   TESTS_FILTER   regex passed to `bats --filter` (only matching integration tests run)
#   BATS_FILES     space-separated .bats files (names relative to tests/integration, or paths);
#                  default: the whole tests/integration directory
#   SKIP_UNIT=1 / SKIP_INTEGRATION=1   run only one half
#
# Invariant: every test result is one TAP line "ok ..." or "not ok ..."; a unit test binary
# that exits non-zero without reporting a failure (crash, bad plan) counts as one failure, and
# so does an integration suite that cannot run (bats or bats-support missing).

# `make check` runs this with $(SHELL), which may be dash: re-exec under bash.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi

set -u
shopt -s lastpipe

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
INTEGRATION_DIR=$SCRIPT_DIR/integration

passed=0
failed=0
skipped=0

# count_tap: copy TAP from stdin to stdout, counting results.  Sets tap_failed for the caller.
count_tap() {
	local line
	tap_failed=0
	while IFS= read -r line; do
		printf '%s\n' "$line"
		case "$line" in
		"not ok"*)
			# "# TODO" failures are expected failures: TAP counts them as passing
			if [[ "$line" =~ \#[[:space:]]*[Tt][Oo][Dd][Oo] ]]; then
				passed=$((passed + 1))
			else
				failed=$((failed + 1))
				tap_failed=$((tap_failed + 1))
			fi
			;;
		"ok"*)
			passed=$((passed + 1))
			if [[ "$line" =~ \#[[:space:]]*[Ss][Kk][Ii][Pp] ]]; then
				skipped=$((skipped + 1))
			fi
			;;
		"1..0 # "[Ss][Kk][Ii][Pp]*)
			# a whole binary skipped (tap.h skip_all): one skipped result
			passed=$((passed + 1))
			skipped=$((skipped + 1))
			;;
		esac
	done
}

# fail_synthetic DESC: record a failure that produced no TAP line of its own.
fail_synthetic() {
	echo "not ok - $1"
	failed=$((failed + 1))
}

run_unit_tests() {
	local t rc
	for t in ${UNIT_TESTS:-}; do
		echo "# unit: $t"
		if [ ! -x "$t" ]; then
			fail_synthetic "$t: not built (run make check)"
			continue
		fi
		"./${t#./}" 2>&1 | count_tap
		rc=${PIPESTATUS[0]}
		if [ "$rc" -ne 0 ] && [ "$tap_failed" -eq 0 ]; then
			fail_synthetic "$t exited with status $rc without reporting a failure"
		fi
	done
}

run_integration_tests() {
	local args=() f rc
	if ! command -v bats >/dev/null 2>&1; then
		echo "# ERROR: bats is not installed (Debian: apt-get install bats bats-support bats-assert)" >&2
		fail_synthetic "integration suite: bats not installed"
		return
	fi
	if [ ! -f /usr/lib/bats/bats-support/load.bash ] || [ ! -f /usr/lib/bats/bats-assert/load.bash ]; then
		echo "# ERROR: bats-support/bats-assert not found under /usr/lib/bats" \
			"(Debian: apt-get install bats-support bats-assert)" >&2
		fail_synthetic "integration suite: bats-support or bats-assert missing"
		return
	fi
	args=(--tap)
	[ -n "${TESTS_FILTER:-}" ] && args+=(--filter "$TESTS_FILTER")
	if [ -n "${BATS_FILES:-}" ]; then
		local nfiles=0
		for f in $BATS_FILES; do
			if [ -e "$f" ]; then
				args+=("$f")
			elif [ -e "$INTEGRATION_DIR/$f" ]; then
				args+=("$INTEGRATION_DIR/$f")
			else
				fail_synthetic "integration suite: no such test file '$f'"
				continue
			fi
			nfiles=$((nfiles + 1))
		done
		[ "$nfiles" -gt 0 ] || return
	else
		args+=("$INTEGRATION_DIR")
	fi
	: "${SILO_BIN:=$PWD/silo}"
	: "${SILO_TESTINIT:=$PWD/tests/payload/silo-testinit}"
	export SILO_BIN SILO_TESTINIT
	echo "# integration: bats ${args[*]} (SILO_BIN=$SILO_BIN)"
	bats "${args[@]}" 2>&1 | count_tap
	rc=${PIPESTATUS[0]}
	if [ "$rc" -ne 0 ] && [ "$tap_failed" -eq 0 ]; then
		fail_synthetic "integration suite: bats exited with status $rc without reporting a failure"
	fi
}

# The tests must never change the machine's own network namespace (network tests make their
# own): what silo would create there (bridge silo0, nft table `ip silo`, ip_forward) is compared
# before and after the run, and any difference is one failure.
host_net_snapshot() {
	{
		ip -br link show silo0 2>/dev/null | awk '{print $1}'
		nft list table ip silo >/dev/null 2>&1 && echo "nft table ip silo"
		echo "ip_forward=$(cat /proc/sys/net/ipv4/ip_forward 2>/dev/null)"
	} 2>/dev/null
}
net_before=$(host_net_snapshot)

[ -n "${SKIP_UNIT:-}" ] || run_unit_tests
[ -n "${SKIP_INTEGRATION:-}" ] || run_integration_tests

net_after=$(host_net_snapshot)
if [ "$net_before" != "$net_after" ]; then
	fail_synthetic "the suite changed the machine's network namespace: before [${net_before//$'\n'/; }] after [${net_after//$'\n'/; }]"
fi

[ "$skipped" -gt 0 ] && echo "# $skipped skipped (counted as passed)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
