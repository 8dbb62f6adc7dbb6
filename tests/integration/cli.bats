#!/usr/bin/env bats
# Command-line grammar as real callers use it (interfaces.md §1.1-1.3).

load helpers

setup() {
	setup_bundle
	set_cmd pause
}

teardown() {
	teardown_bundle
}

@test "cli: --root VALUE, --root=VALUE and -root VALUE name the same root" {
	create_ctr c1
	run timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" --root "$ROOT" list -q
	assert_success
	assert_output c1
	run timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" --root="$ROOT" list -q
	assert_success
	assert_output c1
	# single-dash long flags (Go flag package style, sent by go-runc: -no-subreaper)
	run timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" -root "$ROOT" list -q
	assert_success
	assert_output c1
	run timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" -root="$ROOT" state c1
	assert_success
}

@test "cli: subcommand flags in --flag=value and -flag forms" {
	silo_detached create --bundle="$BUNDLE" --pid-file="$TESTDIR/c1.pid" c1
	assert_success
	[ -s "$TESTDIR/c1.pid" ]
	silo_detached create -bundle "$BUNDLE" -pid-file "$TESTDIR/c2.pid" c2
	assert_success
	[ -s "$TESTDIR/c2.pid" ]
}

@test "cli: repeated boolean flags are accepted" {
	# podman repeats some booleans; containerd may pass both global and local forms
	run_detached c1
	silo list -q -q
	assert_success
	assert_output c1
	silo delete --force --force c1
	assert_success
	run timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" --debug --debug --root "$ROOT" list -q
	assert_success
}

@test "cli: flags may come in any order before the container ID" {
	silo_detached create --pid-file "$TESTDIR/c1.pid" --bundle "$BUNDLE" c1
	assert_success
	silo_detached create --bundle "$BUNDLE" --pid-file "$TESTDIR/c2.pid" c2
	assert_success
}

@test "cli: go-runc style global prefix with --log and --log-format json" {
	run_detached c1
	run --separate-stderr timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" --root "$ROOT" --log "$TESTDIR/log.json" --log-format json state c1
	assert_success
	assert_equal "$stderr" ""
	echo "$output" | jq -e '.id == "c1"'
	# podman style: --log-format=json then --log PATH as two words
	run --separate-stderr timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" --root="$ROOT" --log-format=json --log "$TESTDIR/log.json" state c1
	assert_success
	assert_equal "$stderr" ""
}

@test "cli: errors go to the json log, one object per line, and to stderr" {
	run --separate-stderr timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" --root "$ROOT" --log "$TESTDIR/log.json" --log-format json state nosuch
	assert_failure
	[[ "$stderr" == *"does not exist"* ]]
	[ -s "$TESTDIR/log.json" ]
	while read -r line; do
		echo "$line" | jq -e 'type == "object" and (.level | type == "string") and (.msg | type == "string") and (.time | type == "string")'
	done <"$TESTDIR/log.json"
	run jq -r 'select(.level == "error") | .msg' "$TESTDIR/log.json"
	assert_output --partial "does not exist"
}

@test "cli: --log appends" {
	echo '{"level":"info","msg":"previous","time":"2020-01-01T00:00:00Z"}' >"$TESTDIR/log.json"
	run timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" --root "$ROOT" --log "$TESTDIR/log.json" --log-format json state nosuch
	assert_failure
	run head -1 "$TESTDIR/log.json"
	assert_output --partial previous
	[ "$(wc -l <"$TESTDIR/log.json")" -ge 2 ]
}

@test "cli: --version" {
	run timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" --version
	assert_success
	assert_line --index 0 --regexp '^(silo|runc|crun) version [0-9]+\.[0-9]+'
	assert_line --regexp '^spec: 1\.[0-9]+\.[0-9]+'
	run timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" -v
	assert_success
	assert_line --index 0 --regexp ' version '
}

@test "cli: --help and COMMAND --help exit 0" {
	run timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" --help
	assert_success
	assert_output --partial create
	run timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" -h
	assert_success
	local cmd
	for cmd in create start run state kill delete list spec features; do
		run timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" "$cmd" --help
		assert_success
		run timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" help "$cmd"
		assert_success
	done
}

@test "cli: unknown command fails" {
	run timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" --root "$ROOT" nosuchcommand
	assert_failure
}

@test "cli: unknown flag fails, globally and for a command" {
	run timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" --root "$ROOT" --no-such-flag list
	assert_failure
	run timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" --root "$ROOT" list --no-such-flag
	assert_failure
	run timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" --root "$ROOT" create --no-such-flag --bundle "$BUNDLE" c1
	assert_failure
	silo state c1
	assert_failure
}

@test "cli: missing or extra positional arguments fail" {
	run timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" --root "$ROOT" state
	assert_failure
	run timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" --root "$ROOT" start
	assert_failure
	run timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" --root "$ROOT" delete
	assert_failure
	run timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" --root "$ROOT" kill
	assert_failure
	run timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" --root "$ROOT" create --bundle "$BUNDLE"
	assert_failure
}

@test "cli: --rootless is accepted globally, in both value forms" {
	run timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" --rootless=false --root "$ROOT" list -q
	assert_success
	run timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" --rootless false --root "$ROOT" list -q
	assert_success
}

@test "cli: kill stops parsing options at the container ID" {
	run_detached c1
	# `kill ID SIG`: the signal after the ID is positional, as go-runc sends it
	silo kill c1 9
	assert_success
	wait_for_container 50 0.1 c1 stopped
}

@test "cli: features prints JSON with the required fields, nothing on stderr" {
	run --separate-stderr timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" features
	assert_success
	assert_equal "$stderr" ""
	echo "$output" | jq -e '.ociVersionMin | test("^1\\.")'
	echo "$output" | jq -e '.ociVersionMax | test("^1\\.")'
	echo "$output" | jq -e '.hooks | index("prestart") != null'
	echo "$output" | jq -e '.linux.namespaces | index("mount") != null'
}
