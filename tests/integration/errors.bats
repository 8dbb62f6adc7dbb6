#!/usr/bin/env bats
# Error paths: messages callers match on, and nothing left behind after a failure.

load helpers

setup() {
	setup_bundle
	set_cmd pause
}

teardown() {
	teardown_bundle
}

@test "errors: missing bundle" {
	snapshot_host
	silo_detached create --bundle "$TESTDIR/nonexistent" c1
	assert_failure
	assert_output --partial "no such file or directory"
	check_no_leaks
}

@test "errors: missing config.json" {
	snapshot_host
	rm "$BUNDLE/config.json"
	silo_detached create --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial "config.json"
	check_no_leaks
}

@test "errors: config.json that is not JSON" {
	snapshot_host
	echo '{ "ociVersion": "1.0.2", "process": ' >"$BUNDLE/config.json"
	silo_detached create --bundle "$BUNDLE" c1
	assert_failure
	check_no_leaks
}

@test "errors: a field of the wrong type is named in the error" {
	snapshot_host
	update_config '.process.args = "not an array"'
	silo_detached create --bundle "$BUNDLE" c1
	assert_failure
	# runc: "...Go struct field Process.process.args of type []string"; silo: "/process/args"
	assert_output --partial "args"
	check_no_leaks
}

@test "errors: invalid container IDs" {
	snapshot_host
	local id
	for id in "a/b" ".." "with space" "semi;colon" "star*"; do
		silo_detached create --bundle "$BUNDLE" "$id"
		assert_failure
		assert_output --partial "invalid container ID format"
	done
	check_no_leaks
}

@test "errors: duplicate ID" {
	create_ctr c1
	pid=$(state_field c1 pid)
	snapshot_host
	silo_detached create --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial "already exists"
	# the first container is untouched
	[ "$(state_field c1 status)" = created ]
	[ "$(state_field c1 pid)" = "$pid" ]
	check_no_leaks
}

@test "errors: unknown ID for state, start, kill and delete" {
	local cmd
	for cmd in state start "kill" delete; do
		silo $cmd nosuch
		assert_failure
		assert_output --partial "does not exist"
	done
}

@test "errors: args[0] not found in PATH fails at create" {
	snapshot_host
	update_config '.process.args = ["no-such-binary"]'
	silo_detached create --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial 'executable file not found in $PATH'
	check_no_leaks
}

@test "errors: absolute args[0] that does not exist fails at create" {
	snapshot_host
	update_config '.process.args = ["/no/such/binary"]'
	silo_detached create --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial "no such file or directory"
	check_no_leaks
}

@test "errors: non-executable args[0] fails at create with permission denied" {
	snapshot_host
	echo "not a program" >"$BUNDLE/rootfs/notexec"
	chmod 0644 "$BUNDLE/rootfs/notexec"
	update_config '.process.args = ["/notexec"]'
	silo_detached create --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial "permission denied"
	check_no_leaks
}

@test "errors: run of a missing binary fails and leaves nothing" {
	snapshot_host
	update_config '.process.args = ["no-such-binary"]'
	silo run --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial 'executable file not found in $PATH'
	check_no_leaks
}

@test "errors: delete --force of an unknown ID exits 0" {
	silo delete --force nosuch
	assert_success
}

@test "errors: kill of a stopped container fails, kill --all of it exits 0" {
	set_cmd true
	create_ctr c1
	silo start c1
	wait_for_container 50 0.1 c1 stopped
	silo kill c1 TERM
	assert_failure
	assert_output --regexp "not running|no such process"
	silo kill --all c1 TERM
	assert_success
	[ "$(state_field c1 status)" = stopped ]
}

@test "errors: state of a stopped container shows pid 0" {
	set_cmd true
	create_ctr c1
	silo start c1
	wait_for_container 50 0.1 c1 stopped
	[ "$(state_field c1 pid)" = 0 ]
}

@test "errors: created timestamp is RFC 3339" {
	create_ctr c1
	created=$(state_field c1 created)
	date -d "$created"
	[[ "$created" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$ ]]
}

@test "errors: terminal without console socket fails create and leaves nothing" {
	snapshot_host
	update_config '.process.terminal = true'
	silo_detached create --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial "console"
	check_no_leaks
}

@test "errors: an unknown namespace type fails create" {
	snapshot_host
	update_config '.linux.namespaces += [{"type": "nosuchns"}]'
	silo_detached create --bundle "$BUNDLE" c1
	assert_failure
	check_no_leaks
}

@test "errors: a mount that cannot be made fails create and leaves nothing" {
	snapshot_host
	update_config '.mounts += [{"destination": "/mnt", "type": "bind", "source": "/nonexistent/source", "options": ["bind"]}]'
	silo_detached create --bundle "$BUNDLE" c1
	assert_failure
	check_no_leaks
}
