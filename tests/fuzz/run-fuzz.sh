#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build a fuzz target with clang + libFuzzer + ASan + UBSan, then fuzz for SECONDS (default 60):
#   FUZZ_TARGET=spec (default)  tests/fuzz/fuzz-spec.c: runtime/spec.c + runtime/validate.c
#   FUZZ_TARGET=unpack          tests/fuzz/fuzz-unpack.c: image/unpack.c (tar reader/unpacker)
#
#   tests/fuzz/run-fuzz.sh [SECONDS]      0 = only replay the seed corpus once (a quick regression run)
#
# Environment:
#   FUZZ_BUILD_DIR  where the binary, the working corpus, the log and artifacts go (/tmp/silo-fuzz)
#   CLANG           the compiler (default: clang, else the newest clang-NN found)
#   SILO_CONFIG_H   the config.h to build with (default: the source tree's; without one, a minimal
#                   config.h is generated, so a fresh clone needs no ./configure)
#
# The seed corpus in tests/fuzz/corpus/spec is copied first: libFuzzer adds every input that finds
# new coverage to its corpus directory, and that must never be the source tree.
#
# Exit status: 0 nothing found; 1 a crash, leak, timeout or OOM (the input's path is printed);
# 2 build or usage error; 77 clang or libFuzzer is not installed (a skip, as in automake tests).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
target=${FUZZ_TARGET:-spec}
BUILD=${FUZZ_BUILD_DIR:-/tmp/silo-fuzz}/$target
secs=${1:-60}
case "$target" in
spec | unpack) ;;
*) echo "run-fuzz: unknown FUZZ_TARGET '$target' (spec or unpack)" >&2; exit 2 ;;
esac

if ! [[ $secs =~ ^[0-9]+$ ]]; then
        echo "usage: $0 [SECONDS]" >&2
        exit 2
fi

skip() {
        echo "run-fuzz: $*" >&2
        echo "run-fuzz: on Debian 12 install clang and the libFuzzer/sanitizer runtimes with" >&2
        echo "run-fuzz:     apt-get install clang libclang-rt-dev   (clang-14 + libclang-rt-14-dev)" >&2
        echo "run-fuzz: SKIP" >&2
        exit 77
}

cc=${CLANG:-}
if [ -z "$cc" ]; then
        for c in clang clang-19 clang-18 clang-17 clang-16 clang-15 clang-14; do
                if command -v "$c" >/dev/null 2>&1; then
                        cc=$c
                        break
                fi
        done
fi
if [ -z "$cc" ] || ! command -v "$cc" >/dev/null 2>&1; then
        skip "clang not found"
fi

for pc in yajl libcap; do
        if ! pkg-config --exists "$pc"; then
                echo "run-fuzz: pkg-config cannot find $pc: run scripts/install-deps.sh" >&2
                exit 2
        fi
done

mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)

# clang alone does not bring libFuzzer: it is in libclang-rt-NN-dev, which clang only recommends.
# shellcheck disable=SC2054 # one clang flag, not a list
sanitize=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return 0; }' >"$BUILD/probe.c"
if ! "$cc" "${sanitize[@]}" "$BUILD/probe.c" -o "$BUILD/probe" >"$BUILD/probe.log" 2>&1; then
        sed 's/^/run-fuzz:   /' "$BUILD/probe.log" | head -5 >&2
        skip "$cc cannot link a libFuzzer target with ASan and UBSan"
fi

if [ -n "${SILO_CONFIG_H:-}" ]; then
        config_h=$SILO_CONFIG_H
elif [ -f "$ROOT/config.h" ]; then
        config_h=$ROOT/config.h
else
        # spec.c and friends need only _GNU_SOURCE from it
        config_h=$BUILD/config/config.h
        mkdir -p "$BUILD/config"
        printf '#ifndef _GNU_SOURCE\n#define _GNU_SOURCE 1\n#endif\n' >"$config_h"
fi
[ -f "$config_h" ] || { echo "run-fuzz: $config_h: no such file" >&2; exit 2; }

# spec.c and validate.c call into error.c, util.c and log.c only; capabilities are looked up
# with libcap's cap_from_name() directly.
pcs=(yajl libcap)
if [ "$target" = spec ]; then
        srcs=(tests/fuzz/fuzz-spec.c runtime/spec.c runtime/validate.c runtime/error.c runtime/util.c runtime/log.c)
        dict=(-dict="$ROOT/tests/fuzz/spec.dict")
else
        # unpack.c + its helpers; libarchive and libcrypto are dlopen()ed (image/dl.c)
        srcs=(tests/fuzz/fuzz-unpack.c image/unpack.c image/dl.c image/digest.c runtime/error.c runtime/util.c
              runtime/log.c runtime/fault.c)
        pcs=(yajl libcap libarchive)
        dict=()
fi
cflags=(-std=gnu11 -g -O1 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
        -I"$(dirname "$config_h")" -I"$ROOT" -I"$ROOT/runtime")
echo "run-fuzz: building $BUILD/fuzz-$target with $cc"
# shellcheck disable=SC2046 # pkg-config output is meant to be split
if ! (cd "$ROOT" && "$cc" "${cflags[@]}" "${sanitize[@]}" $(pkg-config --cflags "${pcs[@]}") "${srcs[@]}" \
        -o "$BUILD/fuzz-$target" $(pkg-config --libs yajl libcap) -ldl); then
        echo "run-fuzz: build failed" >&2
        exit 2
fi

work=$BUILD/run
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
cp "$ROOT"/tests/fuzz/corpus/"$target"/* "$work/corpus/"

if [ "$secs" -eq 0 ]; then
        mode=(-runs=0)
        echo "run-fuzz: replaying $(find "$work/corpus" -type f | wc -l) seed inputs"
else
        mode=(-max_total_time="$secs")
        echo "run-fuzz: fuzzing for ${secs}s; log: $work/fuzz.log; corpus: $work/corpus"
fi

# libFuzzer's own default exit status for a leak is 77, which make would take for "skipped"
rc=0
"$BUILD/fuzz-$target" "${mode[@]}" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -error_exitcode=1 -timeout_exitcode=1 \
        "${dict[@]}" -artifact_prefix="$work/artifacts/" \
        "$work/corpus" >"$work/fuzz.log" 2>&1 || rc=$?

mapfile -t found < <(find "$work/artifacts" -type f | sort)
if [ "$rc" -ne 0 ] || [ "${#found[@]}" -gt 0 ]; then
        echo "run-fuzz: FAILED (libFuzzer exit status $rc); end of $work/fuzz.log:" >&2
        # the sanitizer or libFuzzer report, without ASan's shadow-byte dump
        awk '/ERROR: |runtime error:|deadly signal|out-of-memory|ALARM: working on the last Unit/ { p = 1 }
             /^Shadow bytes around/ { s = 1 } /^==[0-9]+==ABORTING/ { s = 0 }
             p && !s' "$work/fuzz.log" | head -n 80 >"$work/report.txt"
        if [ -s "$work/report.txt" ]; then
                cat "$work/report.txt" >&2
        else
                tail -n 40 "$work/fuzz.log" >&2
        fi
        for f in "${found[@]}"; do
                echo "run-fuzz: crashing input: $f" >&2
        done
        if [ "${#found[@]}" -gt 0 ]; then
                echo "run-fuzz: reproduce with: $BUILD/fuzz-$target ${found[0]}" >&2
        fi
        exit 1
fi

grep -E '^#[0-9]+[[:space:]]+(INITED|DONE|NEW|REDUCE|pulse)' "$work/fuzz.log" | tail -n 1 || true
grep -E '^stat::' "$work/fuzz.log" || true
echo "run-fuzz: OK"
