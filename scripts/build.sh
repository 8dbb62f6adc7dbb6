#!/bin/bash
# Build silo from scratch in the source tree (autotools).
set -euo pipefail
cd "$(dirname "$0")/.."
./autogen.sh >/dev/null 2>&1
./configure -q "$@"
make -j"$(nproc)" >/dev/null
echo "built $(pwd)/silo"
