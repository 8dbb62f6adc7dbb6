#!/usr/bin/env bats
# The VM sandbox (--sandbox vm / io.silo.sandbox=vm): the container's process runs in a qemu
# microvm guest.  Here under TCG (this host's /dev/kvm cannot boot a stock guest), so every
# VM costs 2-6 s: the file keeps to about a dozen boots.  silo-only (runc has no VM sandbox).
#
# The guest kernel is the host's newest /boot/vmlinuz-*; the extracted vmlinux and the
# initramfs are cached in one data root shared by the whole file (VM_DATA).

load vm-common

setup_file() { vm_setup_file; }
teardown_file() { vm_teardown_file; }

setup() {
	vm_skip
	vm_bundle sh cat echo id hostname pwd sleep tty stty
	export SILO_DATA_ROOT=$VM_DATA
	vm_timeout_wrapper
}

teardown() {
	teardown_bundle
}

sh_cmd() {
	update_config --arg s "$1" '.process.args = ["/bin/sh", "-c", $s]'
}

@test "vm: host bind mounts go into the guest (9p): rw and ro dirs, a ro file, nothing beside them; a tmpfs mount" {
	mkdir -p "$TESTDIR/vol" "$TESTDIR/files"
	echo host-data >"$TESTDIR/vol/in"
	echo 42 >"$TESTDIR/files/value"
	echo secret >"$TESTDIR/files/secret" # beside the file source: must not reach the guest
	update_config --arg v "$TESTDIR/vol" --arg f "$TESTDIR/files/value" '.mounts += [
		{"destination": "/data", "type": "bind", "source": $v, "options": ["rbind"]},
		{"destination": "/cfg/value", "type": "bind", "source": $f, "options": ["bind", "ro"]},
		{"destination": "/mnt/deep/ro", "type": "bind", "source": $v, "options": ["rbind", "ro"]},
		{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "size=1m", "mode=0750"]}]'
	sh_cmd 'cat /data/in; echo guest >/data/out; cat /cfg/value; ls -a /cfg | tr "\n" " "; echo
		(echo x >/cfg/value) 2>/dev/null || echo value-ro
		(echo y >/mnt/deep/ro/z) 2>/dev/null || echo dir-ro
		cat /mnt/deep/ro/in; ls /binds 2>/dev/null || echo no-binds
		while read -r d m t o r; do [ "$m" = /scratch ] && case $o in *nosuid*size=1024k*mode=750*) echo "scratch $t";; esac; done </proc/mounts; true'
	ln -s busybox "$BUNDLE/rootfs/bin/ls"
	ln -s busybox "$BUNDLE/rootfs/bin/tr"
	run --separate-stderr "$SILO_BIN" --root "$ROOT" run --sandbox vm --bundle "$BUNDLE" v1
	assert_success
	assert_output "host-data
42
. .. value 
value-ro
dir-ro
host-data
no-binds
scratch tmpfs"
	[ "$(cat "$TESTDIR/vol/out")" = guest ] || fail "the guest's write did not reach the host"
	[ ! -e "$TESTDIR/vol/z" ] || fail "a write through the read-only bind reached the host"
	[ "$(cat "$TESTDIR/files/value")" = 42 ] || fail "the read-only file changed"
	# nothing of the shares is mounted on the host
	! grep -q "$TESTDIR" /proc/self/mountinfo || fail "a bind is mounted on the host"
	# qemu cannot migrate a guest that mounts a 9p share: checkpoint says so and the VM goes on
	sh_cmd 'echo up; while :; do sleep 1; done'
	run_detached --sandbox vm v2
	wait_for_output 150 0.1 '^up$'
	silo checkpoint --image-path "$TESTDIR/ckpt" v2
	assert_failure
	assert_output --partial "host bind mounts (virtio-9p shares)"
	[ "$(state_field v2 status)" = running ] || fail "v2 after the refused checkpoint: $(state_field v2 status)"
	silo delete --force v2
	assert_success
	vm_gone
}

@test "vm: a shell script: exit code, stdout and stderr kept apart" {
	sh_cmd 'echo hello; echo err >&2; exit 3'
	run --separate-stderr "$SILO_BIN" --root "$ROOT" run --sandbox vm --bundle "$BUNDLE" v1
	[ "$status" -eq 3 ]
	[ "$output" = hello ]
	echo "$stderr" | grep -qx err
	! echo "$stderr" | grep -qx hello
	vm_gone
}

# the privilege part of a process's settings, from its /proc/self/status, and whether the
# seccomp filter below (kill(2) -> EPERM) holds
PRIV_CMD='while read -r k v; do case $k in CapEff:|CapBnd:|CapAmb:|NoNewPrivs:|Seccomp:) echo "$k $v";; esac; done </proc/self/status; kill -0 $$ 2>/dev/null && echo kill-allowed || echo kill-denied'
KILL_DENIED='{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO"}]}'

@test "vm: process settings (env, cwd, uid/gid, hostname, rlimits, read-only root, caps, noNewPrivileges, seccomp) and stdin" {
	# caps for a non-root user: CHOWN|KILL|NET_RAW bounding, KILL through the ambient set
	update_config '.process.env += ["FOO=bar baz"] | .process.cwd = "/work" |
		.process.user = {"uid": 1000, "gid": 1001} | .hostname = "vmhost" |
		.process.rlimits = [{"type": "RLIMIT_NOFILE", "hard": 321, "soft": 123}] | .root.readonly = true |
		.process.capabilities = {"bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
			"effective": ["CAP_KILL"], "permitted": ["CAP_KILL"], "inheritable": ["CAP_KILL"],
			"ambient": ["CAP_KILL"]} | .process.noNewPrivileges = true | .linux.seccomp = '"$KILL_DENIED"
	sh_cmd 'echo "$FOO"; pwd; id -u; id -g; hostname; ulimit -n; ulimit -Hn; while read -r d m t o r; do [ "$m" = / ] && [ "$t" = erofs ] && echo "root ${o%%,*}"; done </proc/mounts; '"$PRIV_CMD"'; cat'
	run bash -c 'echo from-stdin | "$SILO_BIN" --root "$ROOT" run --sandbox vm --bundle "$BUNDLE" v1 2>/dev/null'
	assert_success
	assert_output "bar baz
/work
1000
1001
vmhost
123
321
root ro
CapEff: 0000000000000020
CapBnd: 0000000000002021
CapAmb: 0000000000000020
NoNewPrivs: 1
Seccomp: 2
kill-denied
from-stdin"
}

@test "vm: a signal ends the process: 128+N" {
	sh_cmd 'kill -TERM $$'
	silo run --sandbox vm --bundle "$BUNDLE" v1
	[ "$status" -eq 143 ]
}

@test "vm: memory limit is enforced in the guest (OOM kill: 137)" {
	update_config '.linux.resources.memory = {"limit": 33554432}'
	set_cmd memhog 96
	silo run --sandbox vm --bundle "$BUNDLE" v1
	[ "$status" -eq 137 ]
	refute_output --partial "memhog done"
	vm_gone
}

@test "vm: create boots, start runs, state pid is the VMM, kill forwards, delete leaves nothing" {
	snapshot_host
	set_cmd signal-report
	create_ctr --sandbox vm v1
	run state_field v1 status
	assert_output created
	local pid
	pid=$(state_field v1 pid)
	[ "$(cat /proc/"$pid"/comm)" = qemu-system-x86 ]
	# the VMM is jailed: no capabilities, no_new_privs, seccomp, its own namespaces, our cgroup
	grep -qx "CapBnd:	0000000000000000" /proc/"$pid"/status
	grep -qx "CapEff:	0000000000000000" /proc/"$pid"/status
	grep -qx "NoNewPrivs:	1" /proc/"$pid"/status
	grep -qx "Seccomp:	2" /proc/"$pid"/status
	[ "$(readlink /proc/"$pid"/ns/net)" != "$(readlink /proc/self/ns/net)" ]
	[ "$(readlink /proc/"$pid"/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ]
	grep -q ":$CGROUP_PATH\$" /proc/"$pid"/cgroup
	jq -e '.sandbox == "vm"' "$ROOT/v1/state.json"
	# the process starts at start, not at create
	! grep -q ready "$CTR_OUT"
	silo exec v1 /silo-testinit true
	assert_failure
	assert_output --partial "cannot exec in a created vm container"
	silo start v1
	assert_success
	wait_for_output 150 0.1 '^ready$'
	run state_field v1 status
	assert_output running
	silo kill v1 USR1
	assert_success
	wait_for_output 100 0.1 '^SIGUSR1$'
	silo kill v1 KILL
	assert_success
	wait_for_container 100 0.1 v1 stopped
	silo delete v1
	assert_success
	check_no_leaks
	vm_gone
}

@test "vm: annotation io.silo.sandbox=vm selects the VM; exec, exec -t, exec -d; kill TERM stops it" {
	# root without noNewPrivileges: the filter goes in before the uid switch (it needs CAP_SYS_ADMIN)
	update_config '.annotations = {"io.silo.sandbox": "vm"} | .process.capabilities = {"bounding": ["CAP_KILL"],
		"effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]} | .process.noNewPrivileges = false |
		.linux.seccomp = '"$KILL_DENIED"
	sh_cmd 'trap "echo got-term; exit 7" TERM; echo up; while :; do sleep 0.1; done'
	run_detached v1
	jq -e '.sandbox == "vm"' "$ROOT/v1/state.json"
	wait_for_output 150 0.1 '^up$'
	# exec: exit code, stdout and stderr apart, env/cwd/user flags, stdin
	run --separate-stderr "$SILO_BIN" --root "$ROOT" exec -e X=1 --cwd /work -u 7:8 v1 \
		sh -c 'echo "out $X $(pwd) $(id -u):$(id -g)"; echo err >&2; exit 5'
	[ "$status" -eq 5 ]
	[ "$output" = "out 1 /work 7:8" ]
	[ "$stderr" = err ]
	run bash -c 'echo piped | "$SILO_BIN" --root "$ROOT" exec v1 sh -c "read l; echo got \$l"'
	assert_success
	assert_output "got piped"
	# stdin that outlasts the process: its end is not a SIGPIPE (status 141) for silo exec
	run bash -c 'yes | "$SILO_BIN" --root "$ROOT" exec v1 sh -c "exit 3"'
	[ "$status" -eq 3 ] || { echo "exec with endless stdin: $status"; false; }
	# two sessions at once, and a command that does not exist
	run bash -c '"$SILO_BIN" --root "$ROOT" exec v1 sh -c "sleep 0.5; echo A" & "$SILO_BIN" --root "$ROOT" exec v1 echo B; wait'
	assert_success
	assert_output "B
A"
	# the container's seccomp filter and its process's capabilities hold for exec'd processes too
	silo exec v1 sh -c "$PRIV_CMD"
	assert_success
	assert_output "CapEff: 0000000000000020
CapBnd: 0000000000000020
CapAmb: 0000000000000000
NoNewPrivs: 0
Seccomp: 2
kill-denied"
	silo exec --no-new-privs v1 sh -c "$PRIV_CMD"
	assert_line "NoNewPrivs: 1"
	silo exec v1 /nonexistent
	[ "$status" -eq 127 ]
	assert_output --partial "exec '/nonexistent': No such file or directory"
	# exec -t: a pty of its own in the guest, sized as ours; input through it; the exit code
	if command -v script >/dev/null; then
		cat >"$TESTDIR/tty.sh" <<-EOF
			stty rows 33 cols 77
			exec "$SILO_BIN" --root "$ROOT" exec -t v1 sh -c 'tty; stty size; read x; echo "got \$x"; exit 6'
		EOF
		run bash -c "(sleep 3; echo typed) | script -qec 'bash $TESTDIR/tty.sh' /dev/null"
		[ "$status" -eq 6 ] || { echo "exec -t: $status $output"; false; }
		assert_line --partial /dev/pts/
		assert_line --partial "33 77"
		assert_line --partial "got typed"
	fi
	# exec -d: back once the guest has exec'd it; it outlives this silo; stdio is /dev/null there
	silo exec -d v1 sh -c 'echo started >/tmp/d; echo lost; sleep 2; echo later >>/tmp/d; : >/tmp/e; exec sleep 1000'
	assert_success
	assert_output ""
	retry 100 0.2 "$SILO_BIN" --root "$ROOT" exec v1 cat /tmp/e
	silo exec v1 cat /tmp/d
	assert_output "started
later"
	silo exec -d v1 /nonexistent
	assert_failure
	assert_output --partial "exec '/nonexistent': No such file or directory"
	silo exec -d --pid-file "$TESTDIR/p" v1 sh
	assert_failure
	assert_output --partial "not supported by the vm sandbox"
	silo exec -d -t v1 sh
	assert_failure
	assert_output --partial "cannot allocate tty if silo will detach without setting console socket"
	# the detached process dies with the container's (like a pid namespace's): the VM stops
	silo kill v1 TERM
	assert_success
	wait_for_output 100 0.1 '^got-term$'
	wait_for_container 100 0.1 v1 stopped
	silo delete v1
	assert_success
	vm_gone
}

@test "vm: pause freezes the whole VM, resume thaws it; delete --force leaves nothing" {
	snapshot_host
	sh_cmd 'echo up; i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.2; done'
	run_detached --sandbox vm v1
	wait_for_output 150 0.1 '^tick 2$'
	silo pause v1
	assert_success
	run state_field v1 status
	assert_output paused
	local n1 n2
	n1=$(wc -l <"$CTR_OUT")
	sleep 1
	n2=$(wc -l <"$CTR_OUT")
	[ "$n1" -eq "$n2" ]
	silo resume v1
	assert_success
	wait_for_output 100 0.1 "^tick $((n2 + 2))\$"
	silo delete --force v1
	assert_success
	check_no_leaks
	vm_gone
}

@test "vm: kill of a created (not started) VM stops it" {
	set_cmd true
	create_ctr --sandbox vm v1
	silo kill v1 TERM
	assert_success
	wait_for_container 100 0.1 v1 stopped
	silo delete v1
	assert_success
	vm_gone
}

@test "vm: missing guest kernel: clear error, nothing left" {
	snapshot_host
	silo run --sandbox vm --vm-kernel /nonexistent/vmlinuz-1.0 --bundle "$BUNDLE" v1
	assert_failure
	assert_output --partial "--vm-kernel: '/nonexistent/vmlinuz-1.0': no such file or directory"
	check_no_leaks
	vm_gone
}

@test "vm: broken guest kernel: qemu's reason, nothing left" {
	snapshot_host
	local k
	k=$(basename "$(ls -1v /boot/vmlinuz-* | tail -1)")
	head -c 200000 /dev/urandom >"$TESTDIR/$k"
	silo run --sandbox vm --vm-kernel "$TESTDIR/$k" --bundle "$BUNDLE" v1
	assert_failure
	assert_output --partial "vm: the VMM exited before the guest was ready: qemu"
	check_no_leaks
	vm_gone
}

@test "vm: bad selection and knobs are refused before anything starts" {
	silo run --sandbox vmm --bundle "$BUNDLE" v1
	assert_failure
	assert_output --partial "--sandbox: unknown sandbox 'vmm' (ns or vm)"
	silo run --sandbox vm --vm-accel fast --bundle "$BUNDLE" v1
	assert_failure
	assert_output --partial "--vm-accel: 'fast' is not kvm, tcg or auto"
	update_config '.annotations = {"io.silo.vm.memory": "lots"}'
	silo run --sandbox vm --bundle "$BUNDLE" v1
	assert_failure
	assert_output --partial "/annotations/io.silo.vm.memory: 'lots'"
	update_config '.annotations = {} | .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"listenerPath": "/nonexistent.sock", "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_NOTIFY"}]}'
	silo run --sandbox vm --bundle "$BUNDLE" v1
	assert_failure
	assert_output --partial "/linux/seccomp: SCMP_ACT_NOTIFY is not supported by the vm sandbox"
	update_config '.linux.seccomp = null | .mounts += [{"destination": "/d", "type": "bind",
		"source": "/nonexistent/vol", "options": ["rbind"]}]'
	silo run --sandbox vm --bundle "$BUNDLE" v1
	assert_failure
	assert_output --partial "source '/nonexistent/vol': no such file or directory"
	vm_gone
}

# import_busybox: localhost/busybox:latest (scripts/mkimage-busybox.sh) into VM_DATA
import_busybox() {
	command -v tar >/dev/null || skip "test requires tar"
	local img=$TESTDIR/busybox.tar
	"$INTEGRATION_ROOT/../../scripts/mkimage-busybox.sh" "$img" >/dev/null
	run "$SILO_BIN" --data-root "$VM_DATA" image import "$img"
	assert_success
}

@test "vm: run --image --sandbox vm (network defaults to none)" {
	import_busybox
	silo run --rm --sandbox vm --image localhost/busybox:latest i1 sh -c 'echo hi from $(hostname); ls /bin/busybox'
	assert_success
	assert_line "hi from i1"
	assert_line /bin/busybox
	vm_gone
}

@test "vm: bridge network: the guest has the container's IP; ping, TCP and a published port reach it" {
	requires ip
	import_busybox
	command -v curl >/dev/null || skip "test requires curl"
	# a throw-away network namespace plays the host: silo0, the veth and the DNAT rules live there
	cat >"$TESTDIR/net.sh" <<EOF
set -e
ip link set lo up
"$SILO_BIN" --root "$ROOT" run -d --sandbox vm --image localhost/busybox:latest -p 127.0.0.1:18080:80 w1 \
	sh -c 'mkdir /www; echo hello-vm >/www/index.html; ip -4 addr show eth0 | grep -o "inet [0-9./]*";
	       echo up; httpd -f -p 80 -h /www' \
	</dev/null >"$CTR_OUT" 2>"$CTR_ERR"
ip=\$(sed -n 's/^ip=//p' "$ROOT/w1/network")
echo "lease \$ip"
for i in \$(seq 1 300); do grep -q '^up$' "$CTR_OUT" && break; sleep 0.1; done
for i in \$(seq 1 20); do busybox ping -c 1 -W 2 "\$ip" >/dev/null && echo ping-ok && break; sleep 0.5; done
for i in \$(seq 1 50); do curl -sS -m 5 "http://\$ip/" && break; sleep 0.2; done
for i in \$(seq 1 50); do curl -sS -m 5 http://127.0.0.1:18080/ && break; sleep 0.2; done
"$SILO_BIN" --root "$ROOT" delete -f w1
EOF
	run unshare -n bash "$TESTDIR/net.sh"
	assert_success
	assert_line ping-ok
	[ "$(echo "$output" | grep -c '^hello-vm$')" -eq 2 ] # the container IP, then the published port
	local ip
	ip=$(echo "$output" | sed -n 's/^lease //p')
	[ -n "$ip" ]
	run cat "$CTR_OUT"
	assert_line "inet $ip/16"
	vm_gone
}

@test "vm: process.terminal: a pty in the guest, input and exit code through the host's" {
	command -v script >/dev/null || skip "test requires script (util-linux)"
	update_config '.process.terminal = true'
	sh_cmd 'tty; [ -t 0 ] && [ -t 1 ] && echo both-ttys; read x; echo "got $x"; exit 4'
	run bash -c "(sleep 8; echo typed) | script -qec '$SILO_BIN --root $ROOT run --sandbox vm --bundle $BUNDLE v1' /dev/null"
	[ "$status" -eq 4 ]
	assert_line --partial /dev/pts/0
	assert_line --partial both-ttys
	assert_line --partial "got typed"
	vm_gone
}
