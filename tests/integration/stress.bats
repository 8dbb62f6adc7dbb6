#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Concurrency: many lifecycles at once on distinct ids, and commands racing on one id.
# The contract: every command either succeeds or fails with a clean error (exit status 1 and a
# message; never a signal, a hang or a corrupt state.json), and when the dust settles nothing is
# left (leak checker in teardown, plus explicit checks).
#
# In `make check` the cycle test runs SILO_STRESS_CYCLES=24 at SILO_STRESS_PARALLEL=4;
# `make check-stress` runs 200 at 8 (and more rounds of the races).

load helpers

: "${SILO_STRESS_CYCLES:=24}"
: "${SILO_STRESS_PARALLEL:=4}"
: "${SILO_STRESS_ROUNDS:=5}"

setup() {
	requires root
	setup_bundle
	set_cmd pause
	KEY=$(leakcheck_key)
}

teardown() {
	teardown_bundle
}

# one_cycle ID: create, start, kill, wait for stopped, delete; prints "ID FAIL step status msg"
# for the first step that fails.  Runs in a background job: no bats helpers (they use `run`).
one_cycle() {
	local id=$1 out st i
	local S=("$SILO_BIN" --root "$ROOT")
	# the container inherits create's stdio: files, never the pipe of a command substitution
	timeout -k 5 60 "${S[@]}" create --bundle "$BUNDLE" "$id" </dev/null >/dev/null 2>"$TESTDIR/$id.err" 3>&- ||
		{ echo "$id FAIL create $? $(cat "$TESTDIR/$id.err")"; return; }
	out=$(timeout -k 5 60 "${S[@]}" start "$id" 2>&1 3>&-) || { echo "$id FAIL start $? $out"; return; }
	out=$(timeout -k 5 60 "${S[@]}" kill "$id" KILL 2>&1 3>&-) || { echo "$id FAIL kill $? $out"; return; }
	for ((i = 0; i < 100; i++)); do
		st=$(timeout -k 5 60 "${S[@]}" state "$id" 2>/dev/null 3>&- | jq -r .status) || true
		[ "$st" = stopped ] && break
		sleep 0.05
	done
	[ "$st" = stopped ] || { echo "$id FAIL wait-stopped status=$st"; return; }
	out=$(timeout -k 5 60 "${S[@]}" delete "$id" 2>&1 3>&-) || { echo "$id FAIL delete $? $out"; return; }
	echo "$id ok"
}
export -f one_cycle

@test "stress: ${SILO_STRESS_CYCLES} create/start/kill/delete cycles, ${SILO_STRESS_PARALLEL} at a time" {
	# distinct ids, default cgroup /silo/<id>: the ids end with the leak key, so the leak checker
	# sees their cgroups
	update_config 'del(.linux.cgroupsPath)'
	export ROOT BUNDLE SILO_BIN TESTDIR
	local t0 t1 results
	t0=$(date +%s%N)
	results=$(seq "$SILO_STRESS_CYCLES" | sed "s/.*/c&-$KEY/" |
		xargs -P "$SILO_STRESS_PARALLEL" -I{} bash -c 'one_cycle "$@"' _ {})
	t1=$(date +%s%N)
	echo "# $SILO_STRESS_CYCLES cycles, $SILO_STRESS_PARALLEL parallel: $(((t1 - t0) / 1000000)) ms" >&3
	run grep -v ' ok$' <<<"$results"
	[ -z "$output" ] || fail "failed cycles: $output"
	[ "$(grep -c ' ok$' <<<"$results")" -eq "$SILO_STRESS_CYCLES" ]
	silo list -q
	assert_success
	assert_output ""
	[ -z "$(ls -A "$ROOT")" ]
}

# bg_rc NAME CMD...: run CMD (meant for `&`) with stdin </dev/null, output to $TESTDIR/NAME.out
# (a file: a container may inherit it) and its exit status to $TESTDIR/NAME.rc.  Immune to
# bats' errexit, which would otherwise end the subshell before the status is written.
bg_rc() {
	local name=$1 rc=0
	shift
	"$@" </dev/null >"$TESTDIR/$name.out" 2>&1 3>&- || rc=$?
	echo "$rc" >"$TESTDIR/$name.rc"
}

@test "stress: two creates of one id: one wins, the other fails cleanly" {
	local r a b
	for ((r = 0; r < SILO_STRESS_ROUNDS * 2; r++)); do
		bg_rc a timeout -k 5 60 "$SILO_BIN" --root "$ROOT" create --bundle "$BUNDLE" x &
		bg_rc b timeout -k 5 60 "$SILO_BIN" --root "$ROOT" create --bundle "$BUNDLE" x &
		wait
		a=$(cat "$TESTDIR/a.rc")
		b=$(cat "$TESTDIR/b.rc")
		[ $((a + b)) -eq 1 ] || fail "round $r: create statuses $a and $b (want one 0, one 1): $(cat "$TESTDIR"/?.out)"
		[ -s "$TESTDIR/$([ "$a" = 1 ] && echo a || echo b).out" ]
		# the winner's state is whole
		[ "$(state_field x status)" = created ]
		silo delete x
		assert_success
	done
}

@test "stress: delete racing start: either order, clean errors, state never corrupt" {
	local r
	for ((r = 0; r < SILO_STRESS_ROUNDS * 2; r++)); do
		create_ctr y
		bg_rc s timeout -k 5 60 "$SILO_BIN" --root "$ROOT" start y &
		bg_rc d timeout -k 5 60 "$SILO_BIN" --root "$ROOT" delete y &
		wait
		for f in s d; do
			[ "$(cat "$TESTDIR/$f.rc")" -le 1 ] || fail "round $r: $f exited $(cat "$TESTDIR/$f.rc"): $(cat "$TESTDIR/$f.out")"
		done
		# whatever happened, state is either gone or valid JSON
		run __silo state y
		if [ "$status" -eq 0 ]; then
			echo "$output" | jq -e .status >/dev/null || fail "round $r: corrupt state: $output"
		fi
		silo delete --force y
		assert_success
		[ -z "$(ls -A "$ROOT")" ] || fail "round $r: left in the state root: $(ls -A "$ROOT")"
	done
}

@test "stress: kill during exec: exec returns, the container stops, delete cleans up" {
	local r
	for ((r = 0; r < SILO_STRESS_ROUNDS; r++)); do
		create_ctr z
		silo start z
		assert_success
		bg_rc e timeout -k 5 60 "$SILO_BIN" --root "$ROOT" exec z /silo-testinit sleep 30 &
		sleep 0.$((RANDOM % 3))
		silo kill z KILL
		assert_success
		wait
		# the exec'd process died with the container: 137 (its status) or 255 (exec failed)
		grep -qE '^(1|137|255)$' "$TESTDIR/e.rc" || fail "round $r: exec exited $(cat "$TESTDIR/e.rc"): $(cat "$TESTDIR/e.out")"
		wait_for_container 50 0.1 z stopped
		silo delete z
		assert_success
	done
}

@test "stress: state and list stay valid while containers churn" {
	update_config 'del(.linux.cgroupsPath)'
	export ROOT BUNDLE SILO_BIN TESTDIR
	seq 8 | sed "s/.*/w&-$KEY/" | xargs -P 4 -I{} bash -c 'one_cycle "$@"' _ {} >"$TESTDIR/churn.out" &
	local churn=$! bad=0 i out
	for ((i = 0; i < 30; i++)); do
		out=$(timeout -k 5 30 "$SILO_BIN" --root "$ROOT" list --format json 2>&1 3>&-) || { bad=1; break; }
		# runc prints null for no containers
		echo "$out" | jq -e 'type == "array" or type == "null"' >/dev/null || { bad=1; break; }
	done
	wait "$churn"
	[ "$bad" -eq 0 ] || fail "list returned an error or invalid JSON during churn: $out"
	run grep -v ' ok$' "$TESTDIR/churn.out"
	[ -z "$output" ] || fail "failed cycles: $output"
}
