#!/usr/bin/env bats
# Checkpoint/restore of vm-sandboxed containers through qemu's migration (the whole guest, no
# CRIU): runtime/sandbox-vm-snapshot.c.  TCG on this host: two VM boots for the whole file; the
# first test leaves its snapshot in the file's data dir for the failure tests that follow.
# silo-only (runc has no VM sandbox).

load vm-common

setup_file() { vm_setup_file; }
teardown_file() { vm_teardown_file; }

setup() {
	vm_skip
	vm_bundle sh cat echo sleep touch
	export SILO_DATA_ROOT=$VM_DATA/data
	vm_counter_cmd
}

teardown() {
	teardown_bundle
}

@test "vm checkpoint: the counter continues after checkpoint -> restore, --leave-running, export -> import" {
	local n pid
	silo_detached run -d --sandbox vm --bundle "$BUNDLE" v1
	assert_success
	n=$(counter_runs v1 3)

	silo_detached checkpoint --image-path "$TESTDIR/img" v1
	assert_success
	# the container is gone (runc semantics without --leave-running), the snapshot is there
	vm_gone
	[ -s "$TESTDIR/img/vm.state" ] && [ -s "$TESTDIR/img/rootfs.erofs" ]
	jq -e '.sandbox == "vm" and (.kernelSha256 | startswith("sha256:")) and .memoryMiB > 0' "$TESTDIR/img/vm.json"
	cp -r "$TESTDIR/img" "$VM_DATA/snap" # for the tests below

	silo_detached restore -d --image-path "$TESTDIR/img" --bundle "$BUNDLE" v1
	assert_success
	run state_field v1 status
	assert_output running
	pid=$(state_field v1 pid)
	[ "$(cat /proc/"$pid"/comm)" = qemu-system-x86 ]
	grep -q ":$CGROUP_PATH\$" /proc/"$pid"/cgroup
	n=$(counter_runs v1 "$n")

	# the same id is busy now
	silo_detached restore -d --image-path "$TESTDIR/img" --bundle "$BUNDLE" v1
	assert_failure
	assert_output --partial "already exists"

	# --leave-running + --export: the VM goes on; the archive is a VM snapshot
	silo_detached checkpoint --leave-running --export "$TESTDIR/ck.tar" v1
	assert_success
	[ "$(state_field v1 pid)" = "$pid" ]
	n=$(counter_runs v1 "$n")
	tar -tf "$TESTDIR/ck.tar" | grep -qx checkpoint/vm.json
	tar -xOf "$TESTDIR/ck.tar" config.dump | jq -e '.sandbox == "vm"'
	silo delete --force v1
	assert_success
	vm_gone

	silo_detached restore -d --import "$TESTDIR/ck.tar" --bundle "$BUNDLE" v2
	assert_success
	counter_runs v2 "$n"
	[ -z "$(ls -A "$ROOT" | grep -v '^v2$')" ] # the unpacked archive is gone
	silo delete --force v2
	assert_success
	vm_gone
}

@test "vm checkpoint: a foreground restore ends with the container's exit status" {
	[ -d "$VM_DATA/snap" ] || skip "needs the snapshot of the first test"
	silo_bg restore --image-path "$VM_DATA/snap" --bundle "$BUNDLE" v1
	wait_for_container 100 0.1 v1 running
	counter_runs v1 1
	# an exec'd process still running when the container's process ends dies with it (as in a
	# pid namespace): its client gets 128+9, not a lost VM
	"$SILO_BIN" --root "$ROOT" exec v1 sh -c 'touch /work/started; exec sleep 1000' \
		</dev/null >/dev/null 2>"$TESTDIR/exec.err" 3>&- &
	local epid=$! erc=0 i
	for ((i = 0; i < 100; i++)); do
		"$SILO_BIN" --root "$ROOT" exec v1 cat /work/started 3>&- && break
		sleep 0.2
	done
	# the touch itself races the loop that sees its file: 0, or 137 when it was killed in between
	silo exec v1 touch /work/stop
	[ "$status" -eq 0 ] || [ "$status" -eq 137 ] || { echo "touch: $status $output"; false; }
	wait "$SILO_BG_PID" || rc=$?
	[ "${rc:-0}" -eq 7 ]
	wait "$epid" || erc=$?
	[ "$erc" -eq 137 ] || { echo "exec sleep: $erc $(cat "$TESTDIR/exec.err")"; false; }
	vm_gone
}

@test "vm checkpoint: restore refuses another guest kernel or a broken stream; nothing is left" {
	[ -d "$VM_DATA/snap" ] || skip "needs the snapshot of the first test"
	cp -r "$VM_DATA/snap" "$TESTDIR/k"
	jq '.kernelSha256 = "sha256:" + ("0" * 64)' "$VM_DATA/snap/vm.json" >"$TESTDIR/k/vm.json"
	silo_detached restore -d --image-path "$TESTDIR/k" --bundle "$BUNDLE" v1
	assert_failure
	assert_output --partial "the snapshot was taken with another guest kernel"
	vm_gone

	cp -r "$VM_DATA/snap" "$TESTDIR/t"
	truncate -s 1000000 "$TESTDIR/t/vm.state"
	silo_detached restore -d --image-path "$TESTDIR/t" --bundle "$BUNDLE" v1
	assert_failure
	assert_output --partial "the VMM exited while loading the snapshot"
	vm_gone

	# the bundle must describe the same machine: here it adds a NIC
	update_config '.annotations["run.silo.network"] = "bridge"'
	silo_detached restore -d --image-path "$VM_DATA/snap" --bundle "$BUNDLE" v1
	assert_failure
	assert_output --partial "the snapshot's VM has no network device"
	vm_gone
}

@test "vm checkpoint: a bridge-mode VM keeps its IP, MAC and published port across checkpoint -> restore" {
	requires ip
	command -v curl >/dev/null || skip "test requires curl"
	ln -s busybox "$BUNDLE/rootfs/bin/httpd"
	ln -s busybox "$BUNDLE/rootfs/bin/mkdir"
	# the counter is the web page: it must go on counting behind the same address
	update_config '.annotations["run.silo.network"] = "bridge" |
		.annotations["run.silo.ports"] = "127.0.0.1:18081:80" |
		.process.args = ["/bin/sh", "-c", "mkdir -p /www; httpd -p 80 -h /www;
			i=0; while :; do i=$((i+1)); echo $i >/www/c; sleep 0.2; done"]'
	# a throw-away network namespace plays the host: silo0, the veth and the DNAT rules live there
	cat >"$TESTDIR/net.sh" <<EOF
set -e
ip link set lo up
s() { "$SILO_BIN" --root "$ROOT" "\$@" </dev/null 3>&-; }
# a number from URL (the guest rewrites the file all the time: an empty read is retried)
get() {
	local i v
	for i in \$(seq 1 100); do
		v=\$(curl -sS -m 5 "\$1" 2>/dev/null) && [ -n "\$v" ] && echo "\$v" && return 0
		sleep 0.2
	done
	return 1
}
s run -d --sandbox vm --bundle "$BUNDLE" w1 >/dev/null 2>&1
ip=\$(sed -n 's/^ip=//p' "$ROOT/w1/network")
echo "lease \$ip"
a=\$(get "http://\$ip/c")
echo "before \$a"
mac1=\$(s exec w1 cat /sys/class/net/eth0/address)
s checkpoint --image-path "$TESTDIR/ck" w1
[ ! -e "$ROOT/w1" ] && echo gone
jq -r .ip "$TESTDIR/ck/network.status"
jq -r .ip "$TESTDIR/ck/vm.json"
s restore -d --image-path "$TESTDIR/ck" --bundle "$BUNDLE" w1 >/dev/null
b=\$(get "http://\$ip/c")
echo "after \$b"
[ "\$b" -gt "\$a" ] && echo counting
p=\$(get http://127.0.0.1:18081/c)
[ "\$p" -ge "\$b" ] && echo port-ok
mac2=\$(s exec w1 cat /sys/class/net/eth0/address)
[ "\$mac1" = "\$mac2" ] && echo "same mac \$mac2"
s delete -f w1
EOF
	run unshare -n bash "$TESTDIR/net.sh"
	echo "$output"
	assert_success
	local ip
	ip=$(echo "$output" | sed -n 's/^lease //p')
	[ -n "$ip" ]
	assert_line gone
	[ "$(echo "$output" | grep -cx "$ip")" -eq 2 ] # network.status and vm.json
	assert_line counting
	assert_line port-ok
	assert_line --partial "same mac 52:54:"
	vm_gone
}
