#!/usr/bin/env bats
# Namespaces: uts, pid, user, mount, ipc, cgroup, net (by path), time.

load helpers

setup() {
	setup_bundle
}

teardown() {
	teardown_bundle
}

# ns_of PID NS: the namespace identity ("net:[4026531840]").
ns_of() {
	readlink "/proc/$1/ns/$2"
}

@test "namespaces: hostname and domainname" {
	update_config '.hostname = "box.example" | .domainname = "example.org"'
	set_cmd hostname
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output box.example
	# domainname is runtime-spec 1.1; runc supports it since 1.2
	ref_older_than 1.2 && skip "runc < 1.2 ignores domainname"
	set_cmd domainname
	silo run --bundle "$BUNDLE" c2
	assert_success
	assert_output example.org
}

@test "namespaces: pid namespace, the process is pid 1 and its ppid 0" {
	set_cmd pid
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output 1
	set_cmd ppid
	silo run --bundle "$BUNDLE" c2
	assert_success
	assert_output 0
}

@test "namespaces: without a pid namespace the process sees host pids" {
	update_config '.linux.namespaces |= map(select(.type != "pid"))'
	set_cmd pid
	silo run --bundle "$BUNDLE" c1
	assert_success
	[ "$output" -gt 1 ]
}

@test "namespaces: every requested namespace differs from the host's" {
	requires cgroupns
	update_config '.linux.namespaces += [{"type": "cgroup"}]'
	set_cmd pause
	create_ctr c1
	pid=$(state_field c1 pid)
	local ns
	for ns in pid net ipc uts mnt cgroup; do
		[ "$(ns_of "$pid" "$ns")" != "$(ns_of $$ "$ns")" ]
	done
	# not requested: shared with the host
	[ "$(ns_of "$pid" user)" = "$(ns_of $$ user)" ]
}

@test "namespaces: a namespace not listed is shared with the runtime" {
	# a hostname needs a private UTS namespace
	update_config '.linux.namespaces |= map(select(.type != "ipc" and .type != "uts")) | del(.hostname)'
	set_cmd pause
	create_ctr c1
	pid=$(state_field c1 pid)
	[ "$(ns_of "$pid" ipc)" = "$(ns_of $$ ipc)" ]
	[ "$(ns_of "$pid" uts)" = "$(ns_of $$ uts)" ]
	[ "$(ns_of "$pid" net)" != "$(ns_of $$ net)" ]
}

@test "namespaces: mount namespace has the container's mounts only" {
	set_cmd mounts
	silo run --bundle "$BUNDLE" c1
	assert_success
	# fields: id parent major:minor root mountpoint options ... - fstype source superopts
	assert_line --regexp '^[0-9]+ [0-9]+ [0-9]+:[0-9]+ [^ ]+ / '
	assert_line --regexp ' /proc [^-]*- proc '
	assert_line --regexp ' /dev [^-]*- tmpfs '
	assert_line --regexp ' /dev/pts [^-]*- devpts '
	assert_line --regexp ' /sys [^-]*- sysfs '
	# the host's mount points are not visible
	refute_line --regexp ' /work '
	refute_line --regexp " $TESTDIR "
	# and nothing of the container leaks to the host
	run grep -c "$BUNDLE/rootfs" /proc/self/mountinfo
	assert_output 0
}

@test "namespaces: cgroup namespace makes the container's cgroup its root" {
	requires cgroupns
	update_config '.linux.namespaces += [{"type": "cgroup"}]'
	set_cmd cgroup
	silo run --bundle "$BUNDLE" c1
	assert_success
	refute_output --partial "silo-test"
	assert_line --regexp '^[0-9]+:[^:]*:/$'
}

@test "namespaces: without a cgroup namespace the cgroup path is visible" {
	update_config '.linux.namespaces |= map(select(.type != "cgroup"))'
	set_cmd cgroup
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output --partial "$CGROUP_PATH"
}

@test "namespaces: user namespace with uid/gid mappings" {
	requires userns
	update_config '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	set_cmd pause
	create_ctr c1
	pid=$(state_field c1 pid)
	run cat "/proc/$pid/uid_map"
	assert_output --regexp '^ *0 +100000 +65536$'
	run cat "/proc/$pid/gid_map"
	assert_output --regexp '^ *0 +100000 +65536$'
	silo delete --force c1

	set_cmd id
	silo run --bundle "$BUNDLE" c2
	assert_success
	assert_output --regexp '^uid=0 gid=0 '
}

@test "namespaces: user namespace, process user is mapped" {
	requires userns
	update_config '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .process.user = {"uid": 1000, "gid": 1000}'
	set_cmd pause
	create_ctr c1
	silo start c1
	assert_success
	pid=$(state_field c1 pid)
	# seen from the host, the process runs as 100000 + 1000
	run awk '/^Uid:/ {print $2}' "/proc/$pid/status"
	assert_output 101000
	silo delete --force c1
	set_cmd id
	silo run --bundle "$BUNDLE" c2
	assert_success
	assert_output --regexp '^uid=1000 gid=1000'
}

@test "namespaces: join a network namespace by path; it survives delete" {
	requires ip
	local name=silo-test-$$-${BATS_TEST_NUMBER}
	ip netns add "$name"
	on_teardown "ip netns del $name"
	update_config --arg p "/run/netns/$name" '.linux.namespaces |= map(if .type == "network" then .path = $p else . end)'
	set_cmd pause
	create_ctr c1
	pid=$(state_field c1 pid)
	[ "$(stat -L -c %i "/proc/$pid/ns/net")" = "$(stat -L -c %i "/run/netns/$name")" ]
	silo delete --force c1
	assert_success
	# a namespace joined by path is not the container's to remove (runtime-spec delete)
	[ -e "/run/netns/$name" ]
	ip netns exec "$name" true
}

@test "namespaces: join an ipc namespace of another container by path" {
	set_cmd pause
	create_ctr c1
	pid1=$(state_field c1 pid)
	update_config --arg p "/proc/$pid1/ns/ipc" --arg cg "$CGROUP_PATH/c2" \
		'.linux.namespaces |= map(if .type == "ipc" then .path = $p else . end) | .linux.cgroupsPath = $cg'
	create_ctr c2
	pid2=$(state_field c2 pid)
	[ "$(ns_of "$pid1" ipc)" = "$(ns_of "$pid2" ipc)" ]
	[ "$(ns_of "$pid1" uts)" != "$(ns_of "$pid2" uts)" ]
}

@test "namespaces: a namespace path of the wrong type fails create" {
	snapshot_host
	update_config '.linux.namespaces |= map(if .type == "ipc" then .path = "/proc/self/ns/uts" else . end)'
	silo_detached create --bundle "$BUNDLE" c1
	assert_failure
	check_no_leaks
}

@test "namespaces: time namespace offsets" {
	requires timens
	requires_ref_feature '.linux.namespaces | index("time") != null' "time namespaces"
	update_config '.linux.namespaces += [{"type": "time"}]
		| .linux.timeOffsets = {"boottime": {"secs": 31536000, "nanosecs": 0}, "monotonic": {"secs": 31536000, "nanosecs": 0}}'
	set_cmd cat /proc/uptime
	silo run --bundle "$BUNDLE" c1
	assert_success
	up=${output%%.*}
	[ "$up" -ge 31536000 ]
}
