#!/bin/bash
# The test command: install dependencies, build from scratch, run unit + integration tests.
# Ends with one line "N passed, N failed".  Must run as root (containers, cgroups, mounts).
set -uo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root: sudo $0" >&2; exit 1; }
scripts/install-deps.sh || exit 1
scripts/build.sh "$@" || exit 1
make check 2>&1 | tee /tmp/silo-check.$$.log
rc=${PIPESTATUS[0]}
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' /tmp/silo-check.$$.log | tail -n1)
rm -f /tmp/silo-check.$$.log
[ -n "$summary" ] || summary="0 passed, 1 failed"
echo "$summary"
exit "$rc"
