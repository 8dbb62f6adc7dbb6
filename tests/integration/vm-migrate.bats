#!/usr/bin/env bats
# silo migrate of vm-sandboxed containers (checkpoint/migrate-vm.c): qemu's own live migration
# relayed through the migrate protocol, restored through the VM snapshot path.  No CRIU: this
# runs on the host (TCG).  One VM boot per test.
#
# Two "nodes" = two network namespaces N1 and N2 on this host, each running silo with its own
# --root (its own leases, its own NAT bridge silo0 10.99.0.0/16), joined by a veth link
# 10.200.0.1 <-> 10.200.0.2 (as tests/integration-v2/migrate.bats builds them).  tcp: goes
# to a `migrate --listen --once` receiver in N2; rsh is a two-line "ssh" that nsenters the
# node's namespace.  silo runs under nsenter --net, not `ip netns exec` (that remounts /sys).
# Node 2 also has a mount namespace of its own in which the bundle's config.json is node 2's
# copy with another cgroupsPath: the two nodes share this host's cgroup tree, and the source
# removes its container's cgroup (killing what is in it) only after the destination runs.

load vm-common

setup_file() { vm_setup_file; }
teardown_file() { vm_teardown_file; }

setup() {
	vm_skip
	requires root ip
	vm_bundle sh cat echo sleep touch
	export SILO_DATA_ROOT=$VM_DATA/data
	vm_counter_cmd
	update_config '.annotations["run.silo.network"] = "bridge"'
	local key=$$-${BATS_SUITE_TEST_NUMBER:-$BATS_TEST_NUMBER}
	N1=silo-vm1-$key N2=silo-vm2-$key
	ROOT2=$TESTDIR/root2
	REAL_SILO=$SILO_BIN
	ip netns add "$N1"
	on_teardown "ip netns del $N1"
	ip netns add "$N2"
	on_teardown "ip netns del $N2"
	ip link add m1 netns "$N1" type veth peer name m2 netns "$N2"
	ip -n "$N1" link set lo up
	ip -n "$N2" link set lo up
	ip -n "$N1" addr add 10.200.0.1/24 dev m1
	ip -n "$N2" addr add 10.200.0.2/24 dev m2
	ip -n "$N1" link set m1 up
	ip -n "$N2" link set m2 up
	# node 1 is where helpers' `silo` runs (and teardown deletes)
	SILO_BIN=$TESTDIR/silo-n1
	printf '#!/bin/sh\nexec nsenter --net=/run/netns/%s %s "$@"\n' "$N1" "$REAL_SILO" >"$SILO_BIN"
	chmod +x "$SILO_BIN"
	export SILO_BIN
	# node 2's prefix: its netns + a mount namespace with its own config.json (n2_config)
	N2ENV=$TESTDIR/n2-env
	printf '#!/bin/sh\nexec nsenter --net=/run/netns/%s unshare -m --propagation private %s "$@"\n' \
		"$N2" "$TESTDIR/n2-inner" >"$N2ENV"
	printf '#!/bin/sh\nmount --bind %s %s || exit 1\nexec "$@"\n' "$TESTDIR/config-n2.json" \
		"$BUNDLE/config.json" >"$TESTDIR/n2-inner"
	chmod +x "$N2ENV" "$TESTDIR/n2-inner"
	RSH=$TESTDIR/netns-rsh
	# (node 1 is this test's own mount namespace: node 2's source must not pass its own on)
	printf '#!/bin/sh\nn=$1; shift\n[ "$n" = %s ] && exec %s "$@"\nexec nsenter --net=/run/netns/$n --mount=%s "$@"\n' \
		"$N2" "$N2ENV" "/proc/$$/ns/mnt" >"$RSH"
	chmod +x "$RSH"
	n2_config
}

# n2_config: node 2's copy of the bundle's config (after every update_config)
n2_config() {
	jq --arg cg "$CGROUP_PATH-n2" '.linux.cgroupsPath = $cg' "$BUNDLE/config.json" >"$TESTDIR/config-n2.json"
}

teardown() {
	local id
	if [ -n "${ROOT2:-}" ] && [ -d "$ROOT2" ]; then
		for id in $(n2 list -q 2>/dev/null); do
			n2 delete --force "$id" >/dev/null 2>&1 || true
		done
	fi
	teardown_bundle
}

# n2 ARGS: silo on node 2
n2() { timeout -k 5 300 nsenter --net=/run/netns/"$N2" "$REAL_SILO" --root "$ROOT2" "$@" </dev/null 3>&-; }

# listen_n2: a one-shot tcp receiver on node 2 at 10.200.0.2:7000, ready when this returns
listen_n2() {
	"$N2ENV" "$REAL_SILO" --root "$ROOT2" migrate --listen 10.200.0.2:7000 --once \
		</dev/null >"$TESTDIR/listen.out" 2>"$TESTDIR/listen.err" 3>&- &
	LISTENER=$!
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q listening "$TESTDIR/listen.err" && return 0
		sleep 0.1
	done
	fail "receiver did not start: $(cat "$TESTDIR/listen.err")"
}

# migrate_rsh FROM_NODE_ROOT TO_NODE TO_ROOT ID [REMOTE_PREFIX]: migrate through the rsh transport
migrate_rsh() {
	local from=$1 to=$2 root=$3 id=$4 pre=${5:-}
	local env=(nsenter --net=/run/netns/"$N1")
	[ "$from" = "$ROOT2" ] && env=("$N2ENV")
	run timeout -k 5 600 "${env[@]}" "$REAL_SILO" --root "$from" migrate --rsh "$RSH" \
		--remote-silo "$pre$REAL_SILO --root $root" "$id" "$to" </dev/null 3>&-
	echo "migrate $id -> $to (status=$status): $output" >&2
}

# no temporary dir of a migration on either node
assert_no_tmp() {
	[ -z "$(ls -A "$ROOT" | grep '^@migrate')" ] || fail "node 1 temporary dir left: $(ls -A "$ROOT")"
	[ ! -d "$ROOT2" ] || [ -z "$(ls -A "$ROOT2" | grep '^@migrate')" ] ||
		fail "node 2 temporary dir left: $(ls -A "$ROOT2")"
}

# ping_from NODE IP: the guest answers on its address inside that node
ping_from() {
	local i
	for ((i = 0; i < 20; i++)); do
		nsenter --net=/run/netns/"$1" busybox ping -c 1 -W 2 "$2" >/dev/null 2>&1 && return 0
		sleep 0.3
	done
	fail "no answer from $2 in $1"
}

@test "vm migrate: a bridge-mode counter VM moves over tcp: and back over rsh, keeps its address and counting" {
	local n ip
	silo_detached run -d --sandbox vm --bundle "$BUNDLE" c1
	assert_success
	n=$(counter_runs c1 3)
	ip=$(sed -n 's/^ip=//p' "$ROOT/c1/network")
	[ -n "$ip" ]
	ping_from "$N1" "$ip"

	listen_n2
	run timeout -k 5 600 "$SILO_BIN" --root "$ROOT" migrate c1 tcp:10.200.0.2:7000 </dev/null 3>&-
	echo "$output" >&2
	assert_success
	assert_output --partial "migrated 'c1' to 'tcp:10.200.0.2:7000': qemu live migration"
	assert_output --regexp "downtime [0-9]+ ms \(qemu stop-and-copy [0-9]+ ms, restore [0-9]+ ms"
	wait "$LISTENER" || fail "receiver failed: $(cat "$TESTDIR/listen.err")"
	# the source has nothing left: no VMM, state, lease, veth; the destination runs it
	vm_gone "$ROOT"
	[ -z "$(ip -n "$N1" -o link show | grep ' sv')" ] || fail "veth left on node 1: $(ip -n "$N1" -o link show)"
	[ "$(n2 state c1 | jq -r .status)" = running ] || fail "node 2: $(n2 state c1)"
	[ "$(sed -n 's/^ip=//p' "$ROOT2/c1/network")" = "$ip" ] || fail "node 2 lease: $(cat "$ROOT2/c1/network")"
	n=$(VM_ROOT=$ROOT2 counter_runs c1 "$n")
	ping_from "$N2" "$ip"
	assert_no_tmp

	# and back: node 2 -> node 1 through `RSH N1 silo --root ROOT migrate --receive`
	migrate_rsh "$ROOT2" "$N1" "$ROOT" c1
	assert_success
	assert_output --partial "migrated 'c1' to '$N1'"
	vm_gone "$ROOT2"
	[ "$(state_field c1 status)" = running ] || fail "node 1: status $(state_field c1 status)"
	counter_runs c1 "$n"
	ping_from "$N1" "$ip"
	assert_no_tmp
	silo delete --force c1
	assert_success
	vm_gone
}

@test "vm migrate: refused pre-flight (busy id, other guest kernel) and failures after the stream leave the VM running here" {
	local n pid
	silo_detached run -d --sandbox vm --bundle "$BUNDLE" c1
	assert_success
	n=$(counter_runs c1 3)
	pid=$(state_field c1 pid)

	# id busy: node 2 has a c1 already (a namespace container: no second VM boot)
	local b2=$TESTDIR/b2
	mkdir -p "$b2"
	jq --arg r "$BUNDLE/rootfs" --arg cg "$CGROUP_PATH-n2" '.root.path = $r | .linux.cgroupsPath = $cg
		| .annotations = {} | .process.args = ["/bin/sleep", "1000"]' "$BUNDLE/config.json" >"$b2/config.json"
	n2 run -d --bundle "$b2" c1 >/dev/null 2>&1 || fail "node 2 container"
	migrate_rsh "$ROOT" "$N2" "$ROOT2" c1
	assert_failure
	assert_output --partial "container 'c1' already exists here"
	assert_output --partial "keeps running here"
	n2 delete --force c1

	# another guest kernel at the destination: its data root's kernel hash differs
	cp -a "$VM_DATA/data" "$TESTDIR/data2"
	local sha
	sha=$(find "$TESTDIR/data2" -name '*.sha256' | head -1)
	[ -n "$sha" ] || fail "no cached kernel hash in $(find "$TESTDIR/data2")"
	printf 'sha256:%064d' 0 >"$sha"
	migrate_rsh "$ROOT" "$N2" "$ROOT2" c1 "env SILO_DATA_ROOT=$TESTDIR/data2 "
	assert_failure
	assert_output --partial "the snapshot was taken with another guest kernel"
	assert_output --partial "keeps running here"
	[ "$(state_field c1 status)" = running ] && [ "$(state_field c1 pid)" = "$pid" ] || fail "source changed"
	n=$(counter_runs c1 "$n")
	assert_no_tmp

	# the destination's VMM cannot start (address space too small) after the whole stream was
	# sent: the guest, stopped here by qemu's completion, is resumed in place.  Not with an
	# ASan build: the limit stops the receiving silo itself (its shadow memory) before qemu.
	if ! ldd "$REAL_SILO" 2>/dev/null | grep -q libasan; then
		migrate_rsh "$ROOT" "$N2" "$ROOT2" c1 "prlimit --as=200000000 "
		assert_failure
		assert_output --partial "the container runs here again"
		[ "$(state_field c1 status)" = running ] && [ "$(state_field c1 pid)" = "$pid" ] || fail "source changed"
		n=$(counter_runs c1 "$n")
		[ -z "$(n2 list -q)" ] || fail "node 2 has: $(n2 list -q)"
		vm_gone "$ROOT2"
	fi
	assert_no_tmp
	silo delete --force c1
	assert_success
	vm_gone
}

@test "vm migrate: the receiver killed mid-transfer: the VM goes on here, the destination is clean" {
	local n pid w="" rc=0
	silo_detached run -d --sandbox vm --bundle "$BUNDLE" c1
	assert_success
	n=$(counter_runs c1 3)
	pid=$(state_field c1 pid)
	listen_n2
	timeout -k 5 600 "$SILO_BIN" --root "$ROOT" migrate c1 tcp:10.200.0.2:7000 \
		</dev/null >"$TESTDIR/mig.out" 2>"$TESTDIR/mig.err" 3>&- &
	local mig=$!
	# the worker's dir gets vm/vm.state when qemu's stream starts: kill the worker there
	SECONDS=0
	while [ "$SECONDS" -lt 200 ] && kill -0 "$mig" 2>/dev/null; do
		w=$(echo "$ROOT2"/@migrate-in-*/vm/vm.state)
		[ -e "$w" ] && break
		sleep 0.02
	done
	[ -e "$w" ] || fail "no stream reached node 2: $(cat "$TESTDIR/mig.err" "$TESTDIR/listen.err")"
	w=${w%/vm/vm.state}
	kill -9 "${w##*-}"
	wait "$mig" || rc=$?
	[ "$rc" != 0 ] || fail "migrate succeeded: $(cat "$TESTDIR/mig.out")"
	grep -q "runs here again" "$TESTDIR/mig.err" || fail "migrate said: $(cat "$TESTDIR/mig.err")"
	wait "$LISTENER" && fail "the receiver reported success"
	[ "$(state_field c1 status)" = running ] && [ "$(state_field c1 pid)" = "$pid" ] || fail "source changed"
	counter_runs c1 "$n"
	[ -z "$(n2 list -q)" ] || fail "node 2 has: $(n2 list -q)"
	vm_gone "$ROOT2"
	assert_no_tmp
	silo delete --force c1
	assert_success
	vm_gone
}
