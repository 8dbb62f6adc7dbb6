#!/usr/bin/env bats
# list: table, -q and --format json.

load helpers

setup() {
	setup_bundle
}

teardown() {
	teardown_bundle
}

@test "list: no containers" {
	silo list -q
	assert_success
	assert_output ""
	silo list --format json
	assert_success
	# runc prints "null" for an empty list; an empty array is as good for go-runc
	[ "$(echo "$output" | jq 'length')" -eq 0 ]
}

@test "list: table with header and one row per container" {
	set_cmd pause
	create_ctr c1
	run_detached c2
	silo list
	assert_success
	assert_line --index 0 --regexp '^ID +PID +STATUS +BUNDLE +CREATED +OWNER'
	assert_line --regexp "^c1 +[0-9]+ +created +$BUNDLE "
	assert_line --regexp "^c2 +[0-9]+ +running +$BUNDLE "
	[ "${#lines[@]}" -eq 3 ]
}

@test "list: -q prints the IDs only" {
	set_cmd pause
	create_ctr c1
	create_ctr c2
	silo list -q
	assert_success
	[ "$(echo "$output" | sort | tr '\n' ' ')" = "c1 c2 " ]
	silo list --quiet
	assert_success
	[ "${#lines[@]}" -eq 2 ]
}

@test "list: --format json and -f json" {
	set_cmd pause
	create_ctr c1
	run --separate-stderr __silo list --format json
	assert_success
	assert_equal "$stderr" ""
	[ "$(echo "$output" | jq -r '.[0].id')" = c1 ]
	[ "$(echo "$output" | jq -r '.[0].status')" = created ]
	[ "$(echo "$output" | jq -r '.[0].bundle')" = "$BUNDLE" ]
	[ "$(echo "$output" | jq -r '.[0].pid')" = "$(state_field c1 pid)" ]
	date -d "$(echo "$output" | jq -r '.[0].created')"
	silo list -f json
	assert_success
	[ "$(echo "$output" | jq length)" -eq 1 ]
	silo list --format=json
	assert_success
	[ "$(echo "$output" | jq length)" -eq 1 ]
}

@test "list: stopped containers are listed as stopped with pid 0" {
	create_ctr c1
	silo start c1
	wait_for_container 50 0.1 c1 stopped
	silo list --format json
	assert_success
	[ "$(echo "$output" | jq -r '.[0].status')" = stopped ]
	[ "$(echo "$output" | jq -r '.[0].pid')" = 0 ]
}

@test "list: a missing root directory is an empty list" {
	ROOT=$TESTDIR/does-not-exist
	silo list -q
	assert_success
	assert_output ""
}
