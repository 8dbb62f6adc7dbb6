#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run.sh [BUILDDIR]: the systemd cgroup driver suite (tests/integration-systemd) inside the
# micro-VM of tests/vm/run-in-guest with systemd as PID 1 (SILO_VM_INIT=systemd), cgroup v2.
# Same contract, environment and single "N passed, N failed" summary line as
# tests/integration-v2/run.sh, which does the work.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SILO_VM_INIT=systemd SILO_VM_SUITE=$HERE exec "$HERE/../integration-v2/run.sh" "$@"
