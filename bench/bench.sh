#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Container start-up benchmark: the time of a foreground `RUNTIME run` of the static payload's
# `true` command, for silo, crun and runc in the same session, on identical bundles.
#
# Usage (as root):  bench/bench.sh [run|exec]     # or: RUNS=100 WARMUP=10 bench/bench.sh
#
#   run   (default) the time of a foreground `run` of the payload's `true`
#   exec  the time of `RUNTIME exec ID /silo-testinit true` into a running container (started
#         once per runtime with the payload's `pause`)
#
# Environment:
#   SILO_BIN        silo binary (default: the built ./silo next to bench/); missing = row "TBD"
#   CRUN_BIN/RUNC_BIN  reference runtimes (default: from $PATH)
#   SILO_TESTINIT   static payload (default: tests/payload/silo-testinit; built here with
#                   gcc -static if missing)
#   RUNS, WARMUP    hyperfine runs (default 50) and warm-up runs (default 5)
#   RSS_RUNS        runs used for the peak-RSS measurement (default 10)
#   NO_HYPERFINE=1  time with the plain shell loop even if hyperfine is installed
#
# Fairness: the whole benchmark re-executes itself once inside a private mount namespace in
# which /sys/fs/cgroup/unified is unmounted (crun refuses this host's hybrid cgroup layout
# otherwise), so all three runtimes see the same v1 layout and no per-iteration wrapper cost is
# added to any of them; hyperfine runs each command directly (-N, no shell).
# Each runtime has its own --root under one temporary directory and a bundle that differs only
# in its cgroupsPath.  `run` in the foreground deletes the container when it exits (runc, crun,
# silo), so one container ID per runtime is reused across iterations.
#
# Invariants: everything is created under one mktemp directory and cgroups named
# /silo-bench-<pid>-<runtime>; the EXIT trap force-deletes the containers, removes exactly those
# cgroup directories and the temporary directory.  Nothing else on the host is touched.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
MODE=${1:-run}
case "$MODE" in run | exec) ;; *) echo "usage: bench.sh [run|exec]" >&2; exit 2 ;; esac
RUNS=${RUNS:-50}
WARMUP=${WARMUP:-5}
RSS_RUNS=${RSS_RUNS:-10}
: "${SILO_BIN:=$TOP/silo}"
: "${CRUN_BIN:=$(command -v crun || true)}"
: "${RUNC_BIN:=$(command -v runc || true)}"
: "${SILO_TESTINIT:=$TOP/tests/payload/silo-testinit}"

if [ "$(id -u)" -ne 0 ]; then
	echo "bench.sh: must run as root" >&2
	exit 1
fi
if [ -z "${SILO_BENCH_IN_NS:-}" ] && [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null || true)" = cgroup2fs ]; then
	exec unshare -m --propagation private env SILO_BENCH_IN_NS=1 bash -c \
		'umount /sys/fs/cgroup/unified && exec bash "$0" "$@"' "${BASH_SOURCE[0]}" "$@"
fi
for tool in unshare jq python3; do
	command -v "$tool" >/dev/null || {
		echo "bench.sh: $tool is required" >&2
		exit 1
	}
done

WORK=$(mktemp -d /tmp/silo-bench.XXXXXX)
chmod 0755 "$WORK"
CG_PREFIX=silo-bench-$$
declare -A BIN=()
NAMES=()

cleanup() {
	local n d
	for n in "${NAMES[@]}"; do
		"${BIN[$n]}" --root "$WORK/$n/root" delete --force "bench-$n" >/dev/null 2>&1 || true
	done
	for d in /sys/fs/cgroup/*/"$CG_PREFIX"-*; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

# The payload: the tests' static binary, or build one from the source.
if [ ! -x "$SILO_TESTINIT" ]; then
	echo "# payload not built, compiling $TOP/tests/payload/silo-testinit.c" >&2
	gcc -static -O2 -o "$WORK/silo-testinit" "$TOP/tests/payload/silo-testinit.c"
	SILO_TESTINIT=$WORK/silo-testinit
fi

add_runtime() {
	local name=$1 bin=$2
	if [ -z "$bin" ] || [ ! -x "$bin" ]; then
		echo "# $name: not available ($bin), row will read TBD" >&2
		return
	fi
	BIN[$name]=$bin
	NAMES+=("$name")
}
add_runtime silo "$SILO_BIN"
add_runtime crun "$CRUN_BIN"
add_runtime runc "$RUNC_BIN"
[ "${#NAMES[@]}" -gt 0 ] || {
	echo "bench.sh: no runtime to measure" >&2
	exit 1
}

# Identical bundles (runc's default spec, no terminal, the payload's `true`).
make_bundle() {
	local name=$1 dir=$WORK/$1
	mkdir -p "$dir/root" "$dir/bundle/rootfs"/{proc,sys,dev,tmp,etc}
	cp "$SILO_TESTINIT" "$dir/bundle/rootfs/silo-testinit"
	local payload=true
	[ "$MODE" = run ] || payload=pause
	jq -n --arg cg "/$CG_PREFIX-$name" --arg payload "$payload" '{
	  ociVersion: "1.0.2",
	  process: {terminal: false, user: {uid: 0, gid: 0}, args: ["/silo-testinit", $payload],
	    env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], cwd: "/",
	    capabilities: {bounding: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
	      effective: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
	      permitted: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]},
	    rlimits: [{type: "RLIMIT_NOFILE", hard: 1024, soft: 1024}], noNewPrivileges: true},
	  root: {path: "rootfs", readonly: true},
	  hostname: "bench",
	  mounts: [
	    {destination: "/proc", type: "proc", source: "proc"},
	    {destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]},
	    {destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
	    {destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
	    {destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]},
	    {destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]},
	    {destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"]}],
	  linux: {
	    cgroupsPath: $cg,
	    resources: {devices: [{allow: false, access: "rwm"}]},
	    namespaces: [{type: "pid"}, {type: "network"}, {type: "ipc"}, {type: "uts"}, {type: "mount"}],
	    maskedPaths: ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	      "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
	    readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]}
	}' >"$dir/bundle/config.json"
}

# The command measured for runtime NAME (run directly by hyperfine -N: no spaces in paths).
cmd_for() {
	local name=$1
	if [ "$MODE" = exec ]; then
		printf "%s --root %s exec %s /silo-testinit true" "${BIN[$name]}" "$WORK/$name/root" "bench-$name"
	else
		printf "%s --root %s run --bundle %s %s" "${BIN[$name]}" "$WORK/$name/root" "$WORK/$name/bundle" \
			"bench-$name"
	fi
}

for n in "${NAMES[@]}"; do
	make_bundle "$n"
	if [ "$MODE" = exec ]; then
		"${BIN[$n]}" --root "$WORK/$n/root" run -d --bundle "$WORK/$n/bundle" "bench-$n" \
			</dev/null >/dev/null 2>"$WORK/$n/run.err" || {
			echo "bench.sh: $n failed to start the container:" >&2
			cat "$WORK/$n/run.err" >&2
			exit 1
		}
	fi
	# one checked run each: a runtime that fails here would only measure its error path
	if ! out=$(sh -c "$(cmd_for "$n")" 2>&1); then
		echo "bench.sh: $n failed to run the payload:" >&2
		echo "$out" >&2
		exit 1
	fi
done

# --- time ---------------------------------------------------------------------------------
declare -A MEAN=() STDDEV=()
if [ -z "${NO_HYPERFINE:-}" ] && command -v hyperfine >/dev/null; then
	args=(-N --warmup "$WARMUP" --runs "$RUNS" --export-json "$WORK/hyperfine.json" --style basic)
	for n in "${NAMES[@]}"; do
		args+=(-n "$n" "$(cmd_for "$n")")
	done
	hyperfine "${args[@]}" >&2
	for n in "${NAMES[@]}"; do
		MEAN[$n]=$(jq -r --arg n "$n" '.results[] | select(.command == $n) | .mean * 1000' "$WORK/hyperfine.json")
		STDDEV[$n]=$(jq -r --arg n "$n" '.results[] | select(.command == $n) | .stddev * 1000' "$WORK/hyperfine.json")
	done
else
	echo "# hyperfine not used: timing with a shell loop ($WARMUP warm-up, $RUNS runs)" >&2
	for n in "${NAMES[@]}"; do
		c=$(cmd_for "$n")
		for ((i = 0; i < WARMUP; i++)); do sh -c "$c" >/dev/null 2>&1; done
		samples=()
		for ((i = 0; i < RUNS; i++)); do
			t0=$(date +%s%N)
			sh -c "$c" >/dev/null 2>&1
			t1=$(date +%s%N)
			samples+=($(((t1 - t0) / 1000)))
		done
		read -r MEAN[$n] STDDEV[$n] < <(printf '%s\n' "${samples[@]}" | python3 -c '
import statistics, sys
v = [int(x) / 1000 for x in sys.stdin]
print(statistics.mean(v), statistics.stdev(v) if len(v) > 1 else 0)')
	done
fi

# --- peak RSS -------------------------------------------------------------------------------
# wait4() reports ru_maxrss of the child and of the descendants it reaped, i.e. the largest
# single process of the tree (wrapper, runtime, its init helper, the payload), in KiB.  The
# forking process must itself be tiny: a child's high-water mark starts with the pages it
# shares with its parent at fork and is carried across exec, so measuring from python3 would
# report python's own RSS.  Hence a small C wrapper (python3 fallback, flagged as an upper bound).
cat >"$WORK/maxrss.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv)
{
        int runs = atoi(argv[1]), status;
        long peak = 0;
        struct rusage ru;
        for (int i = 0; i < runs; i++) {
                pid_t p = fork();
                if (p == 0) {
                        execvp(argv[2], argv + 2);
                        _exit(127);
                }
                if (p < 0 || wait4(p, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
                        return fprintf(stderr, "maxrss: command failed\n"), 1;
                if (ru.ru_maxrss > peak)
                        peak = ru.ru_maxrss;
        }
        printf("%ld\n", peak);
        return 0;
}
EOF
RSS_NOTE=""
if command -v gcc >/dev/null && gcc -O2 -o "$WORK/maxrss" "$WORK/maxrss.c" 2>/dev/null; then
	maxrss() { "$WORK/maxrss" "$1" sh -c "$2" </dev/null >"$WORK/rss.out" 2>/dev/null && cat "$WORK/rss.out"; }
else
	RSS_NOTE=" (python3 fallback: upper bound including python's own RSS)"
	maxrss() {
		python3 - "$1" "$2" <<'EOF'
import os, subprocess, sys
peak = 0
for _ in range(int(sys.argv[1])):
    p = subprocess.Popen(["sh", "-c", sys.argv[2]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("command failed: " + sys.argv[2])
    peak = max(peak, ru.ru_maxrss)
print(peak)
EOF
	}
fi
declare -A RSS=()
for n in "${NAMES[@]}"; do
	RSS[$n]=$(maxrss "$RSS_RUNS" "$(cmd_for "$n") >/dev/null 2>&1")
done

# --- report ---------------------------------------------------------------------------------
echo
what="runtime start-up: foreground run of /silo-testinit true"
[ "$MODE" = run ] || what="exec of /silo-testinit true into a running container"
echo "$what ($RUNS runs, $WARMUP warm-up, $(nproc) CPUs, $(uname -r))"
printf '%-6s %-28s %12s %10s %14s\n' runtime version "mean (ms)" "± (ms)" "peak RSS (KiB)"
[ -z "$RSS_NOTE" ] || echo "# peak RSS$RSS_NOTE"
for n in silo crun runc; do
	if [ -n "${BIN[$n]:-}" ]; then
		v=$("${BIN[$n]}" --version 2>/dev/null | head -1 | awk '{print $3}')
		printf '%-6s %-28s %12.2f %10.2f %14s\n' "$n" "${v:-?}" "${MEAN[$n]}" "${STDDEV[$n]}" "${RSS[$n]}"
	else
		printf '%-6s %-28s %12s %10s %14s\n' "$n" "-" TBD TBD TBD
	fi
done
ratio() {
	if [ -n "${MEAN[$1]:-}" ] && [ -n "${MEAN[$2]:-}" ]; then
		python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) / float(sys.argv[2])))" "${MEAN[$1]}" "${MEAN[$2]}"
	else
		echo TBD
	fi
}
echo "silo/crun: $(ratio silo crun)   silo/runc: $(ratio silo runc)   crun/runc: $(ratio crun runc)"
