#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Shared helpers for the silo integration suite (bats).  Loaded by every *.bats file with
# `load helpers`.
#
# The suite is written against the reference behaviour: every test must pass with
#     SILO_BIN=$(command -v runc) bats tests/integration
# and silo is then measured against it.  Where silo intentionally differs from runc, the test
# says so in a comment and branches on `is_runc` / `is_silo`.
#
# Environment: SILO_BIN (runtime under test), SILO_TESTINIT (static payload), SILO_TIMEOUT
# (seconds allowed per runtime invocation, default 60), SILO_GLOBAL_OPTS (extra global flags,
# word-split on purpose, e.g. "--debug").
#
# Invariants:
#  - Each test gets its own directory TESTDIR (mode 0755 so that user-namespaced containers can
#    traverse it), holding the state root ROOT and the bundle BUNDLE; nothing is shared between
#    tests, so container IDs can be fixed strings.
#  - Each test gets a unique cgroupsPath CGROUP_PATH (/silo-test-N-PID); teardown only ever
#    removes cgroup directories under that exact path, never anything else under /sys/fs/cgroup
#    (and never the host's process_api hierarchy).
#  - teardown_bundle always runs (bats calls teardown even after a failure) and force-deletes
#    every container of ROOT, so a failed test cannot leak into the next one.
#  - Container stdio: the foreground `silo` wrapper captures output with bats `run`; anything
#    that leaves a container running after the runtime exits (create, run -d) must go through
#    `silo_detached`, which gives the container files instead of bats' pipe (otherwise bats
#    would wait for EOF on a pipe the container holds open).

bats_require_minimum_version 1.5.0

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

# bats-assert's assert_success/assert_failure show only $output: after `run --separate-stderr`
# the reason a command failed is in $stderr, so it is shown too (a CI failure must say why)
eval "__bats_assert_success() $(declare -f assert_success | tail -n +2)"
eval "__bats_assert_failure() $(declare -f assert_failure | tail -n +2)"
assert_success() {
	__bats_assert_success "$@" || { [ -z "${stderr:-}" ] || echo "stderr: $stderr" >&2; return 1; }
}
assert_failure() {
	__bats_assert_failure "$@" || { [ -z "${stderr:-}" ] || echo "stderr: $stderr" >&2; return 1; }
}

INTEGRATION_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/leakcheck.sh
. "$INTEGRATION_ROOT/../lib/leakcheck.sh"

: "${SILO_BIN:=${INTEGRATION_ROOT}/../../silo}"
: "${SILO_TESTINIT:=${INTEGRATION_ROOT}/../payload/silo-testinit}"
SILO_BIN=$(readlink -f "$SILO_BIN" 2>/dev/null || echo "$SILO_BIN")
SILO_TESTINIT=$(readlink -f "$SILO_TESTINIT" 2>/dev/null || echo "$SILO_TESTINIT")
export SILO_BIN SILO_TESTINIT

# Which implementation is under test: "silo", "runc" or "crun" (from the binary's name).
SILO_IMPL=$(basename "$SILO_BIN")
case "$SILO_IMPL" in
runc* | crun*) SILO_IMPL=${SILO_IMPL:0:4} ;;
*) SILO_IMPL=silo ;;
esac

# Every runtime invocation is bounded, so that a hanging runtime fails its test instead of
# hanging the suite (timeout exits 124; a container's own status passes through unchanged).
: "${SILO_TIMEOUT:=60}"
export SILO_TIMEOUT

is_runc() { [ "$SILO_IMPL" = runc ]; }
is_silo() { [ "$SILO_IMPL" = silo ]; }

# ---------------------------------------------------------------------------------------------
# Running the runtime

# silo ARGS...: run "$SILO_BIN --root $ROOT ARGS" under bats `run`; $status and $output are set.
# The command line and its output are echoed, so they are shown when (and only when) the test fails.
silo() {
	run __silo "$@"
	echo "silo $* (status=$status):" >&2
	[ -z "$output" ] || echo "$output" >&2
}

__silo() {
	timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" ${SILO_GLOBAL_OPTS:-} --root "$ROOT" "$@"
}

# silo_detached ARGS...: like silo, for commands that leave a container behind (create, run -d).
# The runtime (and so the container) gets stdin </dev/null and stdout/stderr appended to
# $CTR_OUT / $CTR_ERR.  $output is set to what was appended to $CTR_ERR during the command
# (the runtime's own error messages; the container cannot print before `start`).
silo_detached() {
	local before
	before=$(stat -c %s "$CTR_ERR")
	run __silo_detached "$@"
	local rc=$status
	output=$(tail -c +$((before + 1)) "$CTR_ERR")
	status=$rc
	echo "silo $* [detached] (status=$status):" >&2
	[ -z "$output" ] || echo "$output" >&2
}

# fd 3 is bats' own output channel: closed so that a runtime or container leaking it cannot
# keep bats waiting.  (security.bats checks the container's fds explicitly.)
__silo_detached() {
	timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" ${SILO_GLOBAL_OPTS:-} --root "$ROOT" "$@" \
		</dev/null >>"$CTR_OUT" 2>>"$CTR_ERR" 3>&-
}

# Container output collected by silo_detached.
ctr_out() { cat "$CTR_OUT"; }
ctr_err() { cat "$CTR_ERR"; }

# wait_for_output ATTEMPTS DELAY REGEX: wait until $CTR_OUT has a line matching REGEX.
wait_for_output() {
	local attempts=$1 delay=$2 re=$3 i
	for ((i = 0; i < attempts; i++)); do
		grep -qE "$re" "$CTR_OUT" && return 0
		sleep "$delay"
	done
	echo "timed out waiting for /$re/ in container output:" >&2
	cat "$CTR_OUT" >&2
	return 1
}

# create_ctr ID / start_ctr ID: the usual create (detached, bundle given) and start, asserted.
create_ctr() {
	silo_detached create --bundle "$BUNDLE" "$@"
	assert_success
}

run_detached() {
	silo_detached run -d --bundle "$BUNDLE" "$@"
	assert_success
}

# state_field ID FIELD: print one field of `state ID` (jq expression without the dot).
state_field() {
	__silo state "$1" | jq -r ".$2"
}

# ---------------------------------------------------------------------------------------------
# Bundle and config

# update_config [jq options] EXPR: edit $BUNDLE/config.json in place.
update_config() {
	local tmp=$BUNDLE/.config.json.$BASHPID # not mktemp: a fork is ~0.2 s in the TCG guests
	if jq "$@" "$BUNDLE/config.json" >"$tmp"; then
		mv "$tmp" "$BUNDLE/config.json"
	else
		rm -f "$tmp"
		echo "update_config failed: $*" >&2
		return 1
	fi
}

# set_cmd CMD [ARGS...]: make the container run `/silo-testinit CMD ARGS...`.
set_cmd() {
	local args
	args=$(printf '%s\n' /silo-testinit "$@" | jq -R . | jq -sc .)
	update_config --argjson a "$args" '.process.args = $a'
}

# The config template.  Deliberately written here rather than taken from `silo spec`, whose
# output is itself under test (spec.bats).  It follows runc's default spec, with a unique
# cgroupsPath, no terminal and a writable rootfs (tests that need read-only set it).
# __config_template JQ-ARGS...: the default config.json through jq (one process, no pipeline)
__config_template() {
	jq "$@" <<'EOF'
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": { "uid": 0, "gid": 0 },
    "args": [ "/silo-testinit", "true" ],
    "env": [ "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" ],
    "cwd": "/",
    "capabilities": {
      "bounding": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
      "effective": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
      "permitted": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ]
    },
    "rlimits": [ { "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 } ],
    "noNewPrivileges": true
  },
  "root": { "path": "rootfs", "readonly": false },
  "hostname": "silotest",
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
      "options": [ "nosuid", "strictatime", "mode=755", "size=65536k" ] },
    { "destination": "/dev/pts", "type": "devpts", "source": "devpts",
      "options": [ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" ] },
    { "destination": "/dev/shm", "type": "tmpfs", "source": "shm",
      "options": [ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" ] },
    { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
      "options": [ "nosuid", "noexec", "nodev" ] },
    { "destination": "/sys", "type": "sysfs", "source": "sysfs",
      "options": [ "nosuid", "noexec", "nodev", "ro" ] },
    { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
      "options": [ "nosuid", "noexec", "nodev", "relatime", "ro" ] }
  ],
  "linux": {
    "resources": { "devices": [ { "allow": false, "access": "rwm" } ] },
    "namespaces": [
      { "type": "pid" }, { "type": "network" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" }
    ],
    "maskedPaths": [
      "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
      "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"
    ],
    "readonlyPaths": [
      "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"
    ]
  }
}
EOF
}

# setup_bundle: per-test TESTDIR, ROOT, BUNDLE (rootfs = /silo-testinit + empty dirs), config.json.
setup_bundle() {
	[ -x "$SILO_BIN" ] || fail "SILO_BIN '$SILO_BIN' is not executable (build silo or set SILO_BIN)"
	[ -x "$SILO_TESTINIT" ] || fail "SILO_TESTINIT '$SILO_TESTINIT' is not executable (make check builds it)"
	TESTDIR=$(mktemp -d /tmp/silo-t.XXXXXX)
	ROOT=$TESTDIR/root
	BUNDLE=$TESTDIR/bundle
	CTR_OUT=$TESTDIR/ctr.out
	CTR_ERR=$TESTDIR/ctr.err
	TEARDOWN_FILE=$TESTDIR/teardown.cmds
	CGROUP_PATH="/silo-test-${BATS_SUITE_TEST_NUMBER:-$BATS_TEST_NUMBER}-$$"
	: >"$CTR_OUT"
	: >"$CTR_ERR"
	: >"$TEARDOWN_FILE"
	# few forks: each costs ~0.2 s in the TCG guests
	mkdir -p "$ROOT" "$BUNDLE/rootfs/"{proc,sys,dev,tmp,etc}
	chmod 0755 "$TESTDIR" "$BUNDLE" "$BUNDLE/rootfs"
	install -m 0755 "$SILO_TESTINIT" "$BUNDLE/rootfs/silo-testinit"
	__config_template --arg cg "$CGROUP_PATH" '.linux.cgroupsPath = $cg' >"$BUNDLE/config.json"
	export TESTDIR ROOT BUNDLE CTR_OUT CTR_ERR CGROUP_PATH
	leakcheck_snapshot teardown
}

# on_teardown CMD: run CMD (a string, through bash) at teardown, in reverse order of registration.
on_teardown() {
	echo "$1" >>"$TEARDOWN_FILE"
}

# teardown_bundle: force-delete every container of ROOT, run the leak checker
# (tests/lib/leakcheck.sh: what is still there now was leaked by the runtime or the test, and
# fails the test), then clean up regardless: kill what is left in our cgroup, remove our cgroup
# directories, run the registered cleanups, remove TESTDIR.
teardown_bundle() {
	[ -n "${TESTDIR:-}" ] && [ -d "$TESTDIR" ] || return 0
	local id pid dir i leaked=0
	if [ -d "$ROOT" ]; then
		for id in $(timeout -k 1 10 "$SILO_BIN" --root "$ROOT" list -q 2>/dev/null 3>&-); do
			timeout -k 1 10 "$SILO_BIN" --root "$ROOT" delete --force "$id" >/dev/null 2>&1 3>&- || true
		done
	fi
	leakcheck_netns_check || leaked=1
	# the test's own helpers (servers, stuck foreground runtimes: descendants of the test naming
	# TESTDIR) go first, as they always did; what the leak check sees after that is silo's
	for pid in $(__testdir_pids); do
		! __lc_descends_from_test "$pid" || kill -9 "$pid" 2>/dev/null || true
	done
	if [ -s "$TEARDOWN_FILE" ]; then
		tac "$TEARDOWN_FILE" | while read -r cmd; do
			bash -c "$cmd" >/dev/null 2>&1 || true
		done
	fi
	leakcheck_check teardown || leaked=1
	# Anything still running from this test: processes in our cgroup, and processes whose
	# command line names TESTDIR (a runtime stuck in the foreground).  They are all ours.
	for pid in $(__our_cgroup_pids) $(__testdir_pids); do
		kill -9 "$pid" 2>/dev/null || true
	done
	# cgroup dirs: depth first, rmdir only (cgroupfs does not allow rm -r), retry while the
	# killed processes are being reaped.
	for ((i = 0; i < 20; i++)); do
		__our_cgroup_dirs | sort -r | while read -r dir; do rmdir "$dir" 2>/dev/null; done
		[ -z "$(__our_cgroup_dirs)" ] && break
		sleep 0.1
	done
	# A broken runtime may have left mounts under TESTDIR in our namespace.
	awk -v d="$TESTDIR" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r dir; do umount -l "$dir" 2>/dev/null; done
	rm -rf "$TESTDIR"
	return "$leaked"
}

__our_cgroup_dirs() {
	local base
	for base in /sys/fs/cgroup/*/; do
		[ -d "$base${CGROUP_PATH#/}" ] && find "$base${CGROUP_PATH#/}" -depth -type d
	done
	[ -d "/sys/fs/cgroup${CGROUP_PATH}" ] && [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] &&
		find "/sys/fs/cgroup${CGROUP_PATH}" -depth -type d
	return 0
}

__our_cgroup_pids() {
	local d
	for d in $(__our_cgroup_dirs); do
		cat "$d/cgroup.procs" 2>/dev/null
	done
}

# Processes whose command line mentions TESTDIR (bundle, root, pid files...).  One grep over
# every command line: a fork per process cost ~0.2 s each in the TCG guests (a minute per
# teardown).  The pattern goes through stdin, so that grep's own command line does not name it.
__testdir_pids() {
	local f pid
	while read -r f; do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		[ "$pid" = "$$" ] || echo "$pid"
	done < <(grep -lsF -f - /proc/[0-9]*/cmdline <<<"$TESTDIR" 2>/dev/null)
}

# ---------------------------------------------------------------------------------------------
# Leak checks

# snapshot_host [NAME]: record host resources that a container operation may leak.
snapshot_host() {
	__host_resources >"$TESTDIR/snapshot.${1:-default}"
}

# check_no_leaks [NAME]: compare with the snapshot; fail listing what appeared.  Retries briefly
# because processes killed by the runtime may take a moment to disappear.
check_no_leaks() {
	local snap="$TESTDIR/snapshot.${1:-default}" i diffs
	for ((i = 0; i < 20; i++)); do
		diffs=$(diff <(cat "$snap") <(__host_resources) | grep '^>') || return 0
		sleep 0.1
	done
	echo "leaked resources (not present in the snapshot):" >&2
	echo "$diffs" >&2
	return 1
}

# The scoped resource list of tests/lib/leakcheck.sh (TESTDIR, CGROUP_PATH and the test's key:
# concurrently running suites do not show up).
__host_resources() {
	leakcheck_list
}

# ---------------------------------------------------------------------------------------------
# Waiting

# silo_bg ARGS...: start the runtime in the background (stdin </dev/null, stdout/stderr to
# $CTR_OUT/$CTR_ERR, fd 3 closed) without a timeout wrapper, so that signals sent to $SILO_BG_PID
# reach the runtime itself.  Collect it with wait_bg.
silo_bg() {
	"$SILO_BIN" ${SILO_GLOBAL_OPTS:-} --root "$ROOT" "$@" </dev/null >>"$CTR_OUT" 2>>"$CTR_ERR" 3>&- &
	SILO_BG_PID=$!
}

# wait_bg [SECONDS]: wait for $SILO_BG_PID with a bound; sets BG_STATUS.  Kills it on timeout.
wait_bg() {
	local limit=${1:-$SILO_TIMEOUT} i
	for ((i = 0; i < limit * 10; i++)); do
		kill -0 "$SILO_BG_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$SILO_BG_PID" 2>/dev/null; then
		kill -9 "$SILO_BG_PID" 2>/dev/null
		echo "background runtime $SILO_BG_PID did not exit within ${limit}s" >&2
		wait "$SILO_BG_PID" 2>/dev/null
		BG_STATUS=124
		return 1
	fi
	BG_STATUS=0
	wait "$SILO_BG_PID" || BG_STATUS=$?
}

# retry ATTEMPTS DELAY CMD...: run CMD until it succeeds.
retry() {
	local attempts=$1 delay=$2 i
	shift 2
	for ((i = 0; i < attempts; i++)); do
		run "$@"
		[ "$status" -eq 0 ] && return 0
		sleep "$delay"
	done
	echo "command \"$*\" failed $attempts times. Output: $output" >&2
	false
}

# wait_for_container ATTEMPTS DELAY ID STATUS
wait_for_container() {
	local attempts=$1 delay=$2 id=$3 want=$4 i st
	for ((i = 0; i < attempts; i++)); do
		st=$(timeout -k 1 10 "$SILO_BIN" --root "$ROOT" state "$id" 2>/dev/null | jq -r .status 2>/dev/null)
		[ "$st" = "$want" ] && return 0
		sleep "$delay"
	done
	echo "container $id: status '$st', wanted '$want'" >&2
	return 1
}

# ---------------------------------------------------------------------------------------------
# Requirements

# requires FEATURE...: skip the test unless every feature is available.
requires() {
	local f
	for f in "$@"; do
		case "$f" in
		root) [ "$(id -u)" -eq 0 ] || skip "test requires root" ;;
		cgroups_v1)
			grep -qE '^[^ ]+ /sys/fs/cgroup/[^ ]+ cgroup ' /proc/self/mounts ||
				skip "test requires cgroup v1" ;;
		cgroups_v2)
			[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] || skip "test requires unified cgroup v2" ;;
		cgroups_hybrid)
			[ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ] &&
				[ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] ||
				skip "test requires a hybrid cgroup host" ;;
		cgroups_*)
			# cgroups_<controller>: a v1 hierarchy for it, or v2 with it enabled
			local c=${f#cgroups_}
			[ -d "/sys/fs/cgroup/$c" ] && grep -q " /sys/fs/cgroup/$c cgroup " /proc/self/mounts ||
				grep -qw "$c" /sys/fs/cgroup/cgroup.controllers 2>/dev/null ||
				skip "test requires the $c cgroup controller" ;;
		userns)
			[ -e /proc/self/ns/user ] && [ "$(cat /proc/sys/user/max_user_namespaces)" -gt 0 ] ||
				skip "test requires user namespaces" ;;
		timens) [ -e /proc/self/ns/time ] || skip "test requires time namespaces" ;;
		cgroupns) [ -e /proc/self/ns/cgroup ] || skip "test requires cgroup namespaces" ;;
		ip) command -v ip >/dev/null || skip "test requires iproute2" ;;
		python3) command -v python3 >/dev/null || skip "test requires python3" ;;
		smp) [ "$(nproc)" -gt 1 ] || skip "test requires more than one CPU" ;;
		*) fail "requires: unknown feature '$f'" ;;
		esac
	done
}

# cgroup_dir CONTROLLER: the container's v1 cgroup directory for CONTROLLER.
cgroup_dir() {
	echo "/sys/fs/cgroup/$1${CGROUP_PATH}"
}

# requires_ref_feature JQ_FILTER DESCRIPTION: when the runtime under test is a reference runtime
# (runc/crun) whose `features` output does not satisfy JQ_FILTER, skip: the installed reference
# predates the feature.  silo is never skipped this way: it must implement what the test checks.
requires_ref_feature() {
	is_silo && return 0
	"$SILO_BIN" features 2>/dev/null | jq -e "$1" >/dev/null 2>&1 ||
		skip "$SILO_IMPL $("$SILO_BIN" --version | head -1 | awk '{print $3}') lacks $2"
}

# wait_pid_gone PID: wait until PID has exited (gone, or a zombie not yet reaped by its parent).
wait_pid_gone() {
	local i st
	for ((i = 0; i < 100; i++)); do
		st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
		[ -z "$st" ] || [ "$st" = Z ] && return 0
		sleep 0.1
	done
	echo "process $1 still alive" >&2
	return 1
}

# ref_older_than MAJOR.MINOR: true when the runtime under test is runc older than that version
# (for features the installed reference predates; silo and crun are never "older").
ref_older_than() {
	is_runc || return 1
	local v
	v=$("$SILO_BIN" --version | awk 'NR == 1 {print $3}')
	[ "$(printf '%s\n%s\n' "$1" "$v" | sort -V | head -1)" != "$1" ]
}

# Pure cgroup v2 (the guest of `make check-v2`), not this host's hybrid layout.
is_v2() { [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; }

# cgf V1CONTROLLER V1FILE V2FILE: the container's cgroup file for this layout (v1
# controller hierarchies, or the single v2 tree).
cgf() {
	if is_v2; then
		echo "/sys/fs/cgroup${CGROUP_PATH}/$3"
	else
		echo "/sys/fs/cgroup/$1${CGROUP_PATH}/$2"
	fi
}
