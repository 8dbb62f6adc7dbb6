#!/usr/bin/env bats
# spec: the generated default config.json.

load helpers

setup() {
	setup_bundle
	rm "$BUNDLE/config.json"
}

teardown() {
	teardown_bundle
}

@test "spec: writes a valid config.json in the current directory" {
	cd "$BUNDLE"
	silo spec
	assert_success
	jq -e . config.json
	jq -e '.ociVersion | test("^1\\.")' config.json
	jq -e '.root.path == "rootfs"' config.json
	jq -e '.process.args | length > 0' config.json
	jq -e '.process.cwd == "/"' config.json
	jq -e '[.linux.namespaces[].type] | index("mount") != null' config.json
	jq -e '[.linux.namespaces[].type] | index("pid") != null' config.json
	jq -e '[.mounts[].destination] | index("/proc") != null' config.json
}

@test "spec: --bundle DIR and -b DIR" {
	silo spec --bundle "$BUNDLE"
	assert_success
	jq -e . "$BUNDLE/config.json"
	mkdir "$TESTDIR/other"
	silo spec -b "$TESTDIR/other"
	assert_success
	jq -e . "$TESTDIR/other/config.json"
}

@test "spec: refuses to overwrite an existing config.json" {
	echo '{"keep": true}' >"$BUNDLE/config.json"
	silo spec --bundle "$BUNDLE"
	assert_failure
	jq -e '.keep' "$BUNDLE/config.json"
}

@test "spec: --rootless adds a user namespace with mappings" {
	silo spec --rootless --bundle "$BUNDLE"
	assert_success
	jq -e '[.linux.namespaces[].type] | index("user") != null' "$BUNDLE/config.json"
	jq -e '.linux.uidMappings | length > 0' "$BUNDLE/config.json"
	jq -e '.linux.gidMappings | length > 0' "$BUNDLE/config.json"
}

@test "spec: the default config runs the payload" {
	silo spec --bundle "$BUNDLE"
	assert_success
	update_config --arg cg "$CGROUP_PATH" \
		'.process.terminal = false | .process.args = ["/silo-testinit", "echo", "spec works"] | .linux.cgroupsPath = $cg'
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output "spec works"
}
