#!/usr/bin/env bats
# state: the runtime-spec state JSON.

load helpers

setup() {
	setup_bundle
}

teardown() {
	teardown_bundle
}

@test "state: created container, all fields" {
	update_config '.annotations = {"org.example.a": "1", "org.example.b": "two"}'
	set_cmd pause
	create_ctr c1
	run --separate-stderr __silo state c1
	assert_success
	# nothing on stderr when it succeeds (go-runc merges stderr into the JSON it parses)
	assert_equal "$stderr" ""
	echo "$output" | jq -e .
	[ "$(echo "$output" | jq -r .id)" = c1 ]
	[ "$(echo "$output" | jq -r .status)" = created ]
	[ "$(echo "$output" | jq -r .bundle)" = "$BUNDLE" ]
	[ "$(echo "$output" | jq -r '.ociVersion | type')" = string ]
	[ "$(echo "$output" | jq -r .annotations[\"org.example.b\"])" = two ]
	pid=$(echo "$output" | jq -r .pid)
	[ "$pid" -gt 1 ]
	kill -0 "$pid"
}

@test "state: created is an RFC 3339 timestamp close to now" {
	create_ctr c1
	created=$(state_field c1 created)
	[[ "$created" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$ ]]
	ts=$(date -d "$created" +%s)
	now=$(date +%s)
	[ $((now - ts)) -ge 0 ] && [ $((now - ts)) -lt 60 ]
}

@test "state: running, then stopped with pid 0" {
	set_cmd pause
	create_ctr c1
	silo start c1
	assert_success
	[ "$(state_field c1 status)" = running ]
	silo kill c1 KILL
	assert_success
	wait_for_container 50 0.1 c1 stopped
	[ "$(state_field c1 pid)" = 0 ]
}

@test "state: a process that exits by itself makes the container stopped" {
	set_cmd true
	create_ctr c1
	silo start c1
	wait_for_container 50 0.1 c1 stopped
	[ "$(state_field c1 pid)" = 0 ]
}

@test "state: unknown container fails" {
	silo state nosuch
	assert_failure
	assert_output --partial "does not exist"
}

@test "state: without an ID fails" {
	silo state
	assert_failure
}

@test "state: created timestamp is stable across calls" {
	create_ctr c1
	a=$(state_field c1 created)
	sleep 0.1
	b=$(state_field c1 created)
	[ "$a" = "$b" ]
}
