#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run.sh [BUILDDIR]: run the cgroup v2 bats suite (tests/integration-v2) inside the micro-VM of
# tests/vm/run-in-guest, against an existing build, and end with exactly one summary line:
#
#     N passed, N failed
#
# exiting 1 when anything failed.  Builds nothing: BUILDDIR (default: $SILO_BUILDDIR, else the
# current directory when it holds ./silo, else the source tree) must already contain silo and
# tests/payload/silo-testinit (`make && make tests/payload/silo-testinit`, or `make check`).
# BUILDDIR is shared read-write with the guest; the source tree is seen through the guest's
# read-only view of the host root (so neither may live under /tmp, which is the guest's own
# tmpfs, unless the source tree is BUILDDIR itself).
#
# Environment: SILO_BIN, SILO_TESTINIT (default: in BUILDDIR), TESTS_FILTER (bats --filter),
# SILO_VM_SUITE (the bats directory, default tests/integration-v2; tests/integration-systemd/run.sh),
# SILO_VM_TIMEOUT (whole run, default 3600 s: the checkpoint and migrate suites under TCG), SILO_VM_MEM (MB, default 1024), and the
# SILO_VM_* variables of run-in-guest.
#
# Invariant: every test result is one TAP line; a VM that fails to boot, a timeout, or a bats
# that dies without reporting counts as one failure, so the summary never says "0 failed" for a
# suite that did not run.

set -u
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
suite=${SILO_VM_SUITE:-$SRC/tests/integration-v2}

build=${1:-${SILO_BUILDDIR:-}}
if [ -z "$build" ]; then
	if [ -x ./silo ]; then build=$PWD; else build=$SRC; fi
fi
build=$(cd "$build" && pwd) || { echo "run.sh: no such build dir" >&2; echo "0 passed, 1 failed"; exit 1; }
: "${SILO_BIN:=$build/silo}"
: "${SILO_TESTINIT:=$build/tests/payload/silo-testinit}"

passed=0 failed=0 skipped=0
summary() {
	[ "$skipped" -eq 0 ] || echo "# $skipped skipped (counted as passed)"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}
for f in "$SILO_BIN" "$SILO_TESTINIT"; do
	if [ ! -x "$f" ]; then
		echo "run.sh: '$f' is not built (make && make tests/payload/silo-testinit)" >&2
		echo "not ok - $f missing"
		failed=1
		summary
	fi
done

# --timing: each TAP line ends with the test's duration, so a slow CI run shows where its time went
args=(--tap --timing)
[ -z "${TESTS_FILTER:-}" ] || args+=(--filter "$TESTS_FILTER")
echo "# ${suite##*/}: bats ${args[*]} $suite in a VM (SILO_BIN=$SILO_BIN)"

tap_seen=0 last='' planned=0
while IFS= read -r line; do
	printf '%s\n' "$line"
	last=$line
	case $line in
	"not ok"*)
		if [[ $line =~ \#[[:space:]]*[Tt][Oo][Dd][Oo] ]]; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
		fi
		tap_seen=1
		;;
	1..[0-9]*)
		planned=${line#1..}
		planned=${planned%% *}
		;;
	"ok"*)
		passed=$((passed + 1))
		[[ ! $line =~ \#[[:space:]]*[Ss][Kk][Ii][Pp] ]] || skipped=$((skipped + 1))
		tap_seen=1
		;;
	esac
done < <("$SRC/tests/vm/run-in-guest" --share-rw "$build" --timeout "${SILO_VM_TIMEOUT:-3600}" \
	--mem "${SILO_VM_MEM:-1024}" --env "SILO_BIN=$SILO_BIN" --env "SILO_TESTINIT=$SILO_TESTINIT" \
	--env "BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-300}" \
	-- bats "${args[@]}" "$suite" 2>&1
	echo "# run-in-guest exit status $?")

# the last line read is our own status marker (printed above with the rest)
rc=${last##* }
missing=$((planned - passed - failed))
if [ "$missing" -gt 0 ]; then
	echo "not ok - integration-v2: $missing planned test(s) did not report (VM exit status $rc)"
	failed=$((failed + missing))
elif [ "$rc" != 0 ] && { [ "$failed" -eq 0 ] || [ "$tap_seen" -eq 0 ]; }; then
	echo "not ok - integration-v2: the VM run failed (exit status $rc) without reporting a failing test"
	failed=$((failed + 1))
fi
summary
