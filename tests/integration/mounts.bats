#!/usr/bin/env bats
# Mounts: binds, tmpfs, recursive read-only, masked/readonly paths, read-only root, /dev.

load helpers

setup() {
	setup_bundle
	mkdir -p "$TESTDIR/src"
	echo "host data" >"$TESTDIR/src/file"
}

teardown() {
	teardown_bundle
}

add_mount() {
	update_config --argjson m "$1" '.mounts += [$m]'
}

@test "mounts: bind mount, read-write" {
	add_mount "{\"destination\": \"/mnt\", \"type\": \"bind\", \"source\": \"$TESTDIR/src\", \"options\": [\"bind\"]}"
	set_cmd write /mnt/new "from the container"
	silo run --bundle "$BUNDLE" c1
	assert_success
	[ "$(cat "$TESTDIR/src/new")" = "from the container" ]
}

@test "mounts: bind mount, read-only" {
	add_mount "{\"destination\": \"/mnt\", \"type\": \"bind\", \"source\": \"$TESTDIR/src\", \"options\": [\"bind\", \"ro\"]}"
	set_cmd cat /mnt/file
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output "host data"
	set_cmd open-write /mnt/file
	silo run --bundle "$BUNDLE" c2
	assert_failure
	assert_output EROFS
}

@test "mounts: bind mount of a single file onto a path that does not exist yet" {
	add_mount "{\"destination\": \"/etc/myfile\", \"type\": \"bind\", \"source\": \"$TESTDIR/src/file\", \"options\": [\"bind\", \"ro\"]}"
	set_cmd cat /etc/myfile
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output "host data"
}

@test "mounts: destination directories are created" {
	add_mount '{"destination": "/a/b/c", "type": "tmpfs", "source": "tmpfs"}'
	set_cmd stat /a/b/c
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output --regexp '^type=dir '
}

@test "mounts: tmpfs with size and mode" {
	add_mount '{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=700", "nosuid"]}'
	set_cmd mounts
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_line --regexp ' /scratch [^ ]*nosuid[^ ]* .*- tmpfs [^ ]+ .*size=1024k'
	assert_line --regexp ' /scratch .*mode=700'
}

@test "mounts: rbind with rro makes submounts read-only too" {
	requires_ref_feature '.mountOptions | index("rro") != null' "rro"
	mkdir -p "$TESTDIR/src/sub"
	add_mount "{\"destination\": \"/mnt\", \"type\": \"bind\", \"source\": \"$TESTDIR/src\", \"options\": [\"rbind\", \"rro\"]}"
	set_cmd syscall-errno mkdir /mnt/sub/newdir
	# The submount is made in a private mount namespace, with the runtime running there in the
	# foreground: nothing is mounted in the host's namespace.
	run unshare -m --propagation private bash -c '
		mount -t tmpfs -o size=1m tmpfs "$TESTDIR/src/sub" &&
		timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" --root "$ROOT" run --bundle "$BUNDLE" c1'
	assert_success
	assert_output EROFS
	[ ! -e "$TESTDIR/src/sub/newdir" ]
}

@test "mounts: rbind without rro keeps submounts writable (control)" {
	mkdir -p "$TESTDIR/src/sub"
	add_mount "{\"destination\": \"/mnt\", \"type\": \"bind\", \"source\": \"$TESTDIR/src\", \"options\": [\"rbind\", \"ro\"]}"
	set_cmd syscall-errno mkdir /mnt/sub/newdir
	run unshare -m --propagation private bash -c '
		mount -t tmpfs -o size=1m tmpfs "$TESTDIR/src/sub" &&
		timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" --root "$ROOT" run --bundle "$BUNDLE" c1'
	assert_success
	# plain "ro" applies to the top mount only
	assert_output 0
}

@test "mounts: masked paths" {
	update_config '.linux.maskedPaths += ["/etc/secret-dir", "/etc/secret-file"]'
	mkdir "$BUNDLE/rootfs/etc/secret-dir"
	echo hidden >"$BUNDLE/rootfs/etc/secret-dir/x"
	echo hidden >"$BUNDLE/rootfs/etc/secret-file"
	# a masked file reads as /dev/null (/proc/keys: a default masked path present on every kernel)
	set_cmd stat /proc/keys
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output --regexp '^type=chr .*rdev=1:3 '
	set_cmd cat /etc/secret-file
	silo run --bundle "$BUNDLE" c2
	assert_success
	assert_output ""
	# a masked directory is empty (a read-only tmpfs)
	set_cmd ls /etc/secret-dir
	silo run --bundle "$BUNDLE" c3
	assert_success
	assert_output ""
	set_cmd ls /sys/firmware
	silo run --bundle "$BUNDLE" c4
	assert_success
	assert_output ""
}

@test "mounts: masked path that does not exist is ignored" {
	update_config '.linux.maskedPaths += ["/does/not/exist"]'
	silo run --bundle "$BUNDLE" c1
	assert_success
}

@test "mounts: readonly paths" {
	set_cmd open-write /proc/sys/kernel/hostname
	silo run --bundle "$BUNDLE" c1
	assert_failure
	assert_output EROFS
	set_cmd open-write /proc/irq/default_smp_affinity
	silo run --bundle "$BUNDLE" c2
	assert_failure
	assert_output EROFS
}

@test "mounts: root.readonly" {
	update_config '.root.readonly = true'
	set_cmd syscall-errno mkdir /newdir
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output EROFS
	# mounts on top of the root keep their own flags
	set_cmd syscall-errno mkdir /dev/newdir
	silo run --bundle "$BUNDLE" c2
	assert_success
	assert_output 0
}

@test "mounts: root.readonly false keeps the root writable" {
	set_cmd mkdir /newdir
	silo run --bundle "$BUNDLE" c1
	assert_success
	[ -d "$BUNDLE/rootfs/newdir" ]
}

@test "mounts: default devices" {
	local dev want
	for dev in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
		set_cmd stat "/dev/${dev%%:*}"
		silo run --bundle "$BUNDLE" "c-${dev%%:*}"
		assert_success
		want=${dev#*:}
		assert_output --regexp "^type=chr mode=0666 rdev=$want "
	done
}

@test "mounts: /dev symlinks and ptmx" {
	local l
	for l in fd:/proc/self/fd stdin:/proc/self/fd/0 stdout:/proc/self/fd/1 stderr:/proc/self/fd/2; do
		set_cmd readlink "/dev/${l%%:*}"
		silo run --bundle "$BUNDLE" "c-${l%%:*}"
		assert_success
		assert_output "${l#*:}"
	done
	set_cmd readlink /dev/ptmx
	silo run --bundle "$BUNDLE" c-ptmx
	assert_success
	assert_output "pts/ptmx"
}

@test "mounts: /dev/pts, /dev/shm and /dev/mqueue are mounted" {
	set_cmd mounts
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_line --regexp ' /dev/pts .* - devpts '
	assert_line --regexp ' /dev/shm .* - tmpfs '
	assert_line --regexp ' /dev/mqueue .* - mqueue '
}

@test "mounts: linux.devices creates a custom device node" {
	update_config '.linux.devices = [{"path": "/dev/mydev", "type": "c", "major": 1, "minor": 3, "fileMode": 384, "uid": 0, "gid": 0}]
		| .linux.resources.devices += [{"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]'
	set_cmd stat /dev/mydev
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output "type=chr mode=0600 rdev=1:3 uid=0 gid=0"
	set_cmd write /dev/mydev data
	silo run --bundle "$BUNDLE" c2
	assert_success
}

@test "mounts: device cgroup denies a device that is not allowed" {
	requires cgroups_devices
	# 1:11 is /dev/kmsg: neither in the default allow list nor allowed by the config
	update_config '.linux.devices = [{"path": "/dev/denied", "type": "c", "major": 1, "minor": 11, "fileMode": 384}]'
	set_cmd open-write /dev/denied
	silo run --bundle "$BUNDLE" c1
	assert_failure
	assert_output EPERM
}

@test "mounts: sysfs mounted with the ro option is read-only" {
	set_cmd syscall-errno mkdir /sys/newdir
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output EROFS
}
