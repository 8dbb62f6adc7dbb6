#!/bin/bash
# The test command: install dependencies, build from scratch, run the unit + integration tests
# on this host (`make check`), containerd/podman end to end (`make check-e2e`, skipped with
# SILO_SKIP_E2E=1), the cgroup v2 suite in a QEMU guest (`make check-v2`) and the systemd
# cgroup driver suite in a guest booting systemd (`make check-systemd`, SILO_SKIP_SYSTEMD=1).
# Ends with one line "N passed, N failed" summing both.  Must run as root.
set -uo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root: sudo $0" >&2; exit 1; }
scripts/install-deps.sh || exit 1
scripts/build.sh "$@" || exit 1
log=$(mktemp /tmp/silo-check.XXXXXX)
rc=0
make check 2>&1 | tee "$log" || rc=1
[ "${SILO_SKIP_E2E:-}" = 1 ] || { make check-e2e 2>&1 | tee -a "$log" || rc=1; }
[ "${SILO_SKIP_V2:-}" = 1 ] || { make check-v2 2>&1 | tee -a "$log" || rc=1; }
[ "${SILO_SKIP_SYSTEMD:-}" = 1 ] || { make check-systemd 2>&1 | tee -a "$log" || rc=1; }
read -r pass fail < <(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" |
        awk '{p += $1; f += $3} END {print p + 0, f + 0}')
runs=$(grep -cE '^[0-9]+ passed, [0-9]+ failed' "$log")
rm -f "$log"
expected=$((1 + (${SILO_SKIP_V2:-0} != 1) + (${SILO_SKIP_E2E:-0} != 1) + (${SILO_SKIP_SYSTEMD:-0} != 1)))
# a suite that died before printing its summary counts as a failure
[ "$runs" -ge "$expected" ] || fail=$((fail + 1))
[ "$fail" -eq 0 ] || rc=1
echo "$pass passed, $fail failed"
exit "$rc"
