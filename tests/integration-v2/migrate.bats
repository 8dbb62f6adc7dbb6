#!/usr/bin/env bats
# silo migrate (issue 6), in the cgroup v2 guest (CRIU does not work on the CI host's kernel).
#
# Two "nodes" = two network namespaces, N1 and N2, each running silo with its own --root (and so
# its own leases and its own NAT bridge silo0, both 10.99.0.0/16), joined by a veth link
# 10.200.0.1 <-> 10.200.0.2.  The tcp: transport goes over that link to a `migrate --listen
# --once` receiver in N2; the rsh transport is a two-line "ssh" that nsenters the node's
# namespace (--rsh RSH, host = the namespace's name).  silo runs under nsenter --net, not
# `ip netns exec`, which remounts /sys and so hides /sys/fs/cgroup.  Both nodes share the
# guest's file system, so a bundle path means the same rootfs on both (what a real node needs to have too: pre-flight checks it).
#
# For connections that must survive, a third namespace C is the client "outside": linked to N1
# (10.201.1.0/24) and N2 (10.201.2.0/24), it reaches the container's address through N1 and,
# once the container moved, through N2 (its route is switched, as a real network would learn).

load ../integration/helpers

criu_ok() {
	[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] || skip "test requires unified cgroup v2"
	command -v criu >/dev/null || skip "test requires criu"
	criu check >/dev/null 2>&1 || skip "criu check fails on this kernel"
	command -v ip >/dev/null || skip "iproute2 needed"
}

setup() {
	requires root
	criu_ok
	setup_bundle
	local key=$$-${BATS_SUITE_TEST_NUMBER:-$BATS_TEST_NUMBER}
	N1=silo-m1-$key N2=silo-m2-$key
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
	# the "ssh" of the rsh transport: RSH NODE CMD... runs CMD in that node's namespace
	# (nsenter, not `ip netns exec`: that one remounts /sys, and /sys/fs/cgroup with it)
	RSH=$TESTDIR/netns-rsh
	printf '#!/bin/sh\nn=$1; shift\nexec nsenter --net=/run/netns/$n "$@"\n' >"$RSH"
	chmod +x "$RSH"
	cp /bin/busybox "$BUNDLE/rootfs/busybox"
	mkdir -p "$BUNDLE/rootfs/bin"
	ln -s /busybox "$BUNDLE/rootfs/bin/cat"
	update_config '.process.args = ["/busybox", "sh", "-c",
		"exec </dev/null >/dev/null 2>&1; i=0; while :; do i=$((i+1)); echo $i >/tmp/c; /busybox usleep 50000; done"]
		| .linux.resources = {"memory": {"limit": 134217728}, "pids": {"limit": 32}}'
}

teardown() {
	# node 2's containers go first: the leak check of teardown_bundle looks at both nodes
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

counter() { cat "$BUNDLE/rootfs/tmp/c" 2>/dev/null || echo 0; }

wait_counter() {
	local i
	for ((i = 0; i < 300; i++)); do
		[ "$(counter)" -ge "$1" ] && return 0
		sleep 0.1
	done
	fail "counter stuck at $(counter), wanted $1"
}

# listen_n2: a one-shot tcp receiver on node 2 at 10.200.0.2:7000, ready when this returns
listen_n2() {
	nsenter --net=/run/netns/"$N2" "$REAL_SILO" --root "$ROOT2" ${1:-} migrate --listen 10.200.0.2:7000 --once \
		</dev/null >"$TESTDIR/listen.out" 2>"$TESTDIR/listen.err" 3>&- &
	LISTENER=$!
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q listening "$TESTDIR/listen.err" && return 0
		sleep 0.1
	done
	fail "receiver did not start: $(cat "$TESTDIR/listen.err")"
}

# migrate_n1 ARGS: `silo migrate` on node 1, output in $output
migrate_n1() {
	run timeout -k 5 600 "$SILO_BIN" --root "$ROOT" migrate "$@" </dev/null 3>&-
	echo "migrate $* (status=$status): $output" >&2
}

# moved_to_n2: the receiver finished well, c1 is gone from node 1 and runs on node 2; its state
# JSON there in $N2_STATE
moved_to_n2() {
	wait "$LISTENER" || fail "receiver failed: $(cat "$TESTDIR/listen.err")"
	silo state c1
	assert_failure
	N2_STATE=$(n2 state c1) || fail "not on node 2"
	[ "$(echo "$N2_STATE" | jq -r .status)" = running ] || fail "node 2: $N2_STATE"
}

# nothing of a migration left on either node
assert_no_tmp() {
	[ -z "$(ls -A "$ROOT" | grep '^@migrate')" ] || fail "node 1 temporary dir left: $(ls -A "$ROOT")"
	[ ! -d "$ROOT2" ] || [ -z "$(ls -A "$ROOT2" | grep '^@migrate')" ] ||
		fail "node 2 temporary dir left: $(ls -A "$ROOT2")"
}

@test "migrate: a counter moves over tcp: and back over the rsh transport, and keeps counting" {
	run_detached c1
	wait_counter 3
	listen_n2
	migrate_n1 --rounds 3 c1 tcp:10.200.0.2:7000
	assert_success
	assert_output --partial "migrated 'c1' to 'tcp:10.200.0.2:7000'"
	assert_output --regexp "downtime [0-9]+ ms"
	# gone at the source, running at the destination, from where it was
	moved_to_n2
	local frozen
	frozen=$(counter)
	wait_counter $((frozen + 3))
	assert_no_tmp

	# and back: node 2 -> node 1 through `RSH N1 silo --root ROOT migrate --receive`
	run timeout -k 5 600 nsenter --net=/run/netns/"$N2" "$REAL_SILO" --root "$ROOT2" migrate --rsh "$RSH" \
		--remote-silo "$REAL_SILO --root $ROOT" c1 "$N1" </dev/null 3>&-
	echo "$output" >&2
	assert_success
	assert_output --partial "migrated 'c1' to '$N1'"
	n2 state c1 && fail "still on node 2"
	[ "$(state_field c1 status)" = running ] || fail "node 1: status $(state_field c1 status)"
	frozen=$(counter)
	wait_counter $((frozen + 3))
	assert_no_tmp
	silo delete --force c1
	assert_success
}

# memcheck_gen: the generation silo-testinit memcheck last checked (fails on a bad word)
memcheck_gen() {
	local m
	m=$(cat "$BUNDLE/rootfs/tmp/m" 2>/dev/null || echo "gen 0 ok")
	case $m in "BAD"*) fail "memcheck: $m" ;; esac
	echo "$m" | awk '{print $2}'
}

wait_memcheck() {
	local i
	for ((i = 0; i < 600; i++)); do
		[ "$(memcheck_gen)" -ge "$1" ] && return 0
		sleep 0.1
	done
	fail "memcheck stuck at generation $(memcheck_gen), wanted $1"
}

@test "migrate: pre-copy restores lazily at the destination, and every word of a checked memory is right there" {
	# 48 MiB written once and checked word by word, 64 pages rewritten every generation (dirty in
	# each dump), 64 KiB more every 10 generations (newer than the first round): the destination
	# starts from the first round's pages patched with every newer copy, and fills them in lazily
	update_config '.process.args = ["/busybox", "sh", "-c",
		"exec </dev/null >/dev/null 2>&1; /silo-testinit memcheck 48 /tmp/m & i=0; while :; do i=$((i+1)); echo $i >/tmp/c; /busybox usleep 50000; done"]'
	run_detached c1
	wait_counter 3
	wait_memcheck 12
	listen_n2
	migrate_n1 --rounds 2 c1 tcp:10.200.0.2:7000
	assert_success
	assert_output --regexp "lazy restore: [0-9.]+ MiB of the pre-copy filled in at the destination"
	moved_to_n2
	local gen
	# the receiver returned once the fill was through: the checker goes on with every word right
	gen=$(memcheck_gen)
	wait_memcheck $((gen + 12))
	pgrep -f "criu lazy-pages" && fail "criu lazy-pages left"
	assert_no_tmp
	n2 delete --force c1
}

@test "migrate: SILO_MIGRATE_EAGER=1 at the destination restores the pre-copy eagerly, as before" {
	update_config '.process.args = ["/busybox", "sh", "-c",
		"exec </dev/null >/dev/null 2>&1; /silo-testinit memcheck 16 /tmp/m & i=0; while :; do i=$((i+1)); echo $i >/tmp/c; /busybox usleep 50000; done"]'
	run_detached c1
	wait_memcheck 2
	SILO_MIGRATE_EAGER=1 listen_n2
	migrate_n1 --rounds 1 c1 tcp:10.200.0.2:7000
	assert_success
	refute_output --partial "lazy restore"
	wait "$LISTENER" || fail "receiver failed: $(cat "$TESTDIR/listen.err")"
	local gen
	gen=$(memcheck_gen)
	wait_memcheck $((gen + 5))
	assert_no_tmp
	n2 delete --force c1
}

@test "migrate: a bridge container keeps its IP, MAC and published port; an established TCP connection survives" {
	local C=silo-mc-$$-${BATS_SUITE_TEST_NUMBER:-$BATS_TEST_NUMBER}
	ip netns add "$C"
	on_teardown "ip netns del $C"
	ip link add c1 netns "$C" type veth peer name x1 netns "$N1"
	ip link add c2 netns "$C" type veth peer name x2 netns "$N2"
	ip -n "$C" link set lo up
	ip -n "$C" addr add 10.201.1.2/24 dev c1
	ip -n "$C" addr add 10.201.2.2/24 dev c2
	ip -n "$C" link set c1 up
	ip -n "$C" link set c2 up
	ip -n "$N1" addr add 10.201.1.1/24 dev x1
	ip -n "$N1" link set x1 up
	ip -n "$N2" addr add 10.201.2.1/24 dev x2
	ip -n "$N2" link set x2 up
	ip -n "$C" route add 10.99.0.0/16 via 10.201.1.1

	update_config '.annotations = {"run.silo.network": "bridge", "run.silo.ports": "8080:7777"}
		| .process.args = ["/busybox", "sh", "-c",
		"exec </dev/null >/dev/null 2>&1; /busybox nc -ll -p 7777 -e /bin/cat & i=0; while :; do i=$((i+1)); echo $i >/tmp/c; /busybox usleep 50000; done"]'
	run_detached c1
	wait_counter 3
	local pid addr mac
	pid=$(state_field c1 pid)
	addr=$(nsenter -t "$pid" -n ip -4 -o addr show dev eth0 | awk '{print $4}')
	mac=$(nsenter -t "$pid" -n ip -o link show dev eth0 | grep -o 'link/ether [0-9a-f:]*')
	[ "$addr" = 10.99.0.2/16 ] || fail "address before: $addr"

	# the client: one connection, one echo before and one after the migration
	ip netns exec "$C" bash -c '
		exec 5<>/dev/tcp/10.99.0.2/7777 || exit 1
		echo one >&5; read -r -t 20 a <&5; echo "$a" >"$1/before"
		while [ ! -e "$1/go" ]; do sleep 0.1; done
		echo two >&5; read -r -t 60 b <&5; echo "$b" >"$1/after"' client "$TESTDIR" </dev/null 3>&- &
	local client=$! i
	for ((i = 0; i < 100; i++)); do [ -s "$TESTDIR/before" ] && break; sleep 0.1; done
	[ "$(cat "$TESTDIR/before" 2>/dev/null)" = one ] || fail "no echo before the migration"

	# node 2 knows the way to the client already: the restored socket's first packet (the
	# window probe the kernel sends when CRIU ends TCP repair) goes out through it, and
	# conntrack picks the connection up mid-stream; the bridge's masquerade rule must leave
	# such a connection's address alone (it NATs only what starts with a SYN), or the client
	# answers the unknown source with a reset
	ip -n "$N2" route add 10.201.1.0/24 via 10.201.2.2
	listen_n2
	migrate_n1 --tcp-established c1 tcp:10.200.0.2:7000
	assert_success
	wait "$LISTENER" || fail "receiver failed: $(cat "$TESTDIR/listen.err")"
	pid=$(n2 state c1 | jq -r .pid)
	[ "$(nsenter -t "$pid" -n ip -4 -o addr show dev eth0 | awk '{print $4}')" = "$addr" ] ||
		fail "address after: $(nsenter -t "$pid" -n ip -4 -o addr show dev eth0)"
	[ "$(nsenter -t "$pid" -n ip -o link show dev eth0 | grep -o 'link/ether [0-9a-f:]*')" = "$mac" ] ||
		fail "MAC changed: $mac -> $(nsenter -t "$pid" -n ip -o link show dev eth0)"
	[ "$mac" = "link/ether 02:53:0a:63:00:02" ] || fail "MAC not derived from the address: $mac"
	# node 1 holds nothing of it any more; node 2 has the lease and the DNAT rule
	[ -z "$(ip -n "$N1" -o link show | grep ' sv0a630002')" ] || fail "veth left on node 1"
	[ -e "$ROOT2/@net/silo0/10.99.0.2" ] || fail "no lease on node 2"
	ip netns exec "$N2" nft list table ip silo | grep -q "dnat to 10.99.0.2:7777" || fail "no DNAT on node 2"

	# the client's network learns the new place; the same connection goes on
	ip -n "$C" route replace 10.99.0.0/16 via 10.201.2.1
	touch "$TESTDIR/go"
	wait "$client" || fail "client failed"
	[ "$(cat "$TESTDIR/after")" = two ] || fail "no echo on the migrated connection: '$(cat "$TESTDIR/after")'"
	# the published port, from the client, through node 2's address
	run ip netns exec "$C" bash -c 'exec 5<>/dev/tcp/10.201.2.1/8080 && echo three >&5 && read -r -t 20 c <&5 && echo "$c"'
	assert_output three
	n2 delete --force c1
	assert_no_tmp
}

@test "migrate: a refused pre-flight (id busy, IP busy, image missing) leaves both sides as they were" {
	update_config '.annotations = {"run.silo.network": "bridge"}'
	run_detached c1
	wait_counter 2
	local pid
	pid=$(state_field c1 pid)

	# id busy: node 2 already has a c1
	local b2=$TESTDIR/b2
	mkdir -p "$b2"
	jq --arg r "$BUNDLE/rootfs" --arg cg "$CGROUP_PATH-n2" '.root.path = $r | .linux.cgroupsPath = $cg
		| .annotations = {"run.silo.network": "bridge", "run.silo.network.ip": "10.99.0.2"}
		| .process.args = ["/busybox", "sleep", "1000"]' "$BUNDLE/config.json" >"$b2/config.json"
	n2 run -d --bundle "$b2" c1 >/dev/null 2>&1 || fail "node 2 container"
	local pid2
	pid2=$(n2 state c1 | jq -r .pid)
	run timeout -k 5 300 "$SILO_BIN" --root "$ROOT" migrate --rsh "$RSH" \
		--remote-silo "$REAL_SILO --root $ROOT2" c1 "$N2" </dev/null 3>&-
	assert_failure
	assert_output --partial "container 'c1' already exists here"
	assert_output --partial "keeps running here"
	[ "$(state_field c1 status)" = running ] && [ "$(state_field c1 pid)" = "$pid" ] || fail "source changed"

	# IP busy: the same node 2 container holds 10.99.0.2 under another id
	n2 delete --force c1
	n2 run -d --bundle "$b2" other >/dev/null 2>&1 || fail "node 2 container"
	pid2=$(n2 state other | jq -r .pid)
	run timeout -k 5 300 "$SILO_BIN" --root "$ROOT" migrate --rsh "$RSH" \
		--remote-silo "$REAL_SILO --root $ROOT2" c1 "$N2" </dev/null 3>&-
	assert_failure
	assert_output --partial "address '10.99.0.2' is held by container 'other' here"
	[ "$(state_field c1 status)" = running ] && [ "$(state_field c1 pid)" = "$pid" ] || fail "source changed"
	[ "$(n2 state other | jq -r .pid)" = "$pid2" ] || fail "node 2 container changed"
	[ "$(n2 list -q)" = other ] || fail "node 2 has: $(n2 list -q)"
	assert_no_tmp
	local frozen
	frozen=$(counter)
	wait_counter $((frozen + 2))

	# image missing: an image container on node 1, node 2's data root has no such image
	"$INTEGRATION_ROOT/../../scripts/mkimage-busybox.sh" "$TESTDIR/bb.tar" bb:1 >/dev/null ||
		skip "cannot build the busybox image"
	timeout 120 "$SILO_BIN" --root "$ROOT" --data-root "$TESTDIR/data1" image import "$TESTDIR/bb.tar" \
		>/dev/null 2>&1 3>&- || fail "image import"
	timeout 120 "$SILO_BIN" --root "$ROOT" --data-root "$TESTDIR/data1" run --image bb:1 --net none -d img1 \
		sh -c 'exec </dev/null >/dev/null 2>&1; while :; do usleep 50000; done' </dev/null >/dev/null 2>&1 3>&- ||
		fail "run --image"
	run timeout -k 5 300 "$SILO_BIN" --root "$ROOT" migrate --rsh "$RSH" \
		--remote-silo "$REAL_SILO --root $ROOT2 --data-root $TESTDIR/data2" img1 "$N2" </dev/null 3>&-
	assert_failure
	assert_output --partial "image 'bb:1' is not here"
	[ "$(state_field img1 status)" = running ] || fail "image container: $(state_field img1 status)"
	assert_no_tmp
	silo delete --force img1
}

@test "migrate: an image container moves between data roots with its rootfs changes, and back onto a shared one" {
	"$INTEGRATION_ROOT/../../scripts/mkimage-busybox.sh" "$TESTDIR/bb.tar" bb:1 >/dev/null ||
		skip "cannot build the busybox image"
	local d
	for d in data1 data2; do
		timeout 120 "$SILO_BIN" --root "$ROOT" --data-root "$TESTDIR/$d" image import "$TESTDIR/bb.tar" \
			>/dev/null 2>&1 3>&- || fail "image import into $d"
	done
	# a counter in the rootfs (the overlay's upper dir), a file added and one of the image deleted
	timeout 120 "$SILO_BIN" --root "$ROOT" --data-root "$TESTDIR/data1" run --image bb:1 --net none -d img1 \
		sh -c 'exec </dev/null >/dev/null 2>&1; echo kept >/added; rm /etc/group; i=0
			while :; do i=$((i+1)); echo $i >/c; usleep 50000; done' </dev/null >/dev/null 2>&1 3>&- ||
		fail "run --image"
	img_counter() { "$@" exec img1 cat /c 2>/dev/null || echo 0; }
	local i c0 c1
	for ((i = 0; i < 100; i++)); do
		[ "$(img_counter __silo)" -ge 3 ] && break
		sleep 0.1
	done
	[ -d "$TESTDIR/data1/containers/img1/upper" ] || fail "no container dir in data1"

	# the receiver's worker killed once it made the container dir, before the restore: the source
	# restores the container in place, node 2 keeps no dir (its receiver reclaims it)
	SILO_FAULT=migrate.before-restore nsenter --net=/run/netns/"$N2" "$REAL_SILO" --root "$ROOT2" \
		--data-root "$TESTDIR/data2" migrate --listen 10.200.0.2:7000 --once </dev/null \
		>"$TESTDIR/listen.out" 2>"$TESTDIR/listen2.err" 3>&- &
	LISTENER=$!
	for ((i = 0; i < 100; i++)); do
		grep -q listening "$TESTDIR/listen2.err" && break
		sleep 0.1
	done
	migrate_n1 img1 tcp:10.200.0.2:7000
	assert_failure
	assert_output --partial "runs here again"
	wait "$LISTENER" && fail "the receiver reported success"
	[ "$(state_field img1 status)" = running ] || fail "node 1 after the rollback: $(state_field img1 status)"
	[ ! -e "$TESTDIR/data2/containers/img1" ] || fail "node 2 kept the container dir it made"
	[ -d "$TESTDIR/data1/containers/img1/upper" ] || fail "node 1 lost its container dir"
	[ "$(__silo exec img1 cat /added 2>/dev/null)" = kept ] || fail "the rollback lost the added file"
	assert_no_tmp

	listen_n2 "--data-root $TESTDIR/data2"
	migrate_n1 img1 tcp:10.200.0.2:7000
	assert_success
	wait "$LISTENER" || fail "receiver failed: $(cat "$TESTDIR/listen.err")"
	n2 state img1 | jq -e '.status == "running"' >/dev/null || fail "not running on node 2"
	# node 2 runs it from a dir of its own data root, made from its image and the changes
	[ -d "$TESTDIR/data2/containers/img1/upper" ] || fail "no container dir in data2"
	[ ! -e "$TESTDIR/data1/containers/img1" ] || fail "node 1 kept its container dir"
	c0=$(img_counter n2)
	[ "$c0" -ge 3 ] || fail "counter restarted at node 2: $c0"
	[ "$(n2 exec img1 cat /added)" = kept ] || fail "the added file did not move"
	n2 exec img1 test -e /etc/group && fail "the deleted file is back"
	n2 exec img1 test -e /etc/passwd || fail "the image's files are missing"
	sleep 0.5
	c1=$(img_counter n2)
	[ "$c1" -gt "$c0" ] || fail "counter not moving at node 2: $c0 -> $c1"
	assert_no_tmp

	# back to node 1, whose receiver now uses data2 too: the very same dir, kept and used there
	run timeout -k 5 600 nsenter --net=/run/netns/"$N2" "$REAL_SILO" --root "$ROOT2" \
		--data-root "$TESTDIR/data2" migrate --rsh "$RSH" \
		--remote-silo "$REAL_SILO --root $ROOT --data-root $TESTDIR/data2" img1 "$N1" </dev/null 3>&-
	echo "$output" >&2
	assert_success
	[ "$(state_field img1 status)" = running ] || fail "node 1: $(state_field img1 status)"
	[ -d "$TESTDIR/data2/containers/img1/upper" ] || fail "the shared dir is gone"
	[ "$(__silo exec img1 cat /added 2>/dev/null)" = kept ] || fail "added file lost on the way back"
	c0=$(img_counter __silo)
	[ "$c0" -ge "$c1" ] || fail "counter went back: $c1 -> $c0"
	assert_no_tmp
	silo delete --force img1
	assert_success
	[ ! -e "$TESTDIR/data2/containers/img1" ] || fail "delete left the container dir"
	[ -z "$(ls -A "$TESTDIR/data1/containers" 2>/dev/null)" ] || fail "data1: $(ls -A "$TESTDIR/data1/containers")"
}

@test "migrate: the receiver killed mid-transfer leaves the source running and the destination clean" {
	# enough memory for the rounds to take a while
	update_config '.process.args = ["/busybox", "sh", "-c",
		"exec </dev/null >/dev/null 2>&1; /silo-testinit memhog 48 pause & i=0; while :; do i=$((i+1)); echo $i >/tmp/c; /busybox usleep 50000; done"]'
	run_detached c1
	wait_counter 3
	sleep 2
	listen_n2
	timeout -k 5 600 "$SILO_BIN" --root "$ROOT" migrate --rounds 8 c1 tcp:10.200.0.2:7000 \
		</dev/null >"$TESTDIR/mig.out" 2>"$TESTDIR/mig.err" 3>&- &
	local mig=$! w=""
	# the worker's dir appears with the first round's pages: kill the worker there
	SECONDS=0
	while [ "$SECONDS" -lt 200 ] && kill -0 "$mig" 2>/dev/null; do
		w=$(echo "$ROOT2"/@migrate-in-*/pre1)
		[ -d "$w" ] && break
		sleep 0.05
	done
	[ -d "$w" ] || fail "no round reached node 2: $(cat "$TESTDIR/mig.err" "$TESTDIR/listen.err")"
	w=${w%/pre1}
	kill -9 "${w##*-}"
	local rc=0
	wait "$mig" || rc=$?
	[ "$rc" != 0 ] || fail "migrate succeeded: $(cat "$TESTDIR/mig.out")"
	grep -q "runs here again\|keeps running here" "$TESTDIR/mig.err" || fail "migrate said: $(cat "$TESTDIR/mig.err")"
	wait "$LISTENER" && fail "the receiver reported success"
	[ "$(state_field c1 status)" = running ] || fail "source: $(state_field c1 status)"
	local frozen
	frozen=$(counter)
	wait_counter $((frozen + 2))
	[ -z "$(n2 list -q)" ] || fail "node 2 has: $(n2 list -q)"
	assert_no_tmp
}

@test "migrate --lazy-pages: post-copy over tcp:, the counter goes on there before its memory is all in" {
	update_config '.process.args = ["/busybox", "sh", "-c",
		"exec </dev/null >/dev/null 2>&1; /silo-testinit memhog 48 pause & i=0; while :; do i=$((i+1)); echo $i >/tmp/c; /busybox usleep 50000; done"]'
	run_detached c1
	wait_counter 3
	sleep 2
	# post-copy releases the source only after the destination runs, and both "nodes" share
	# this guest's cgroup tree: node 2 sees the bundle with its own cgroupsPath (a bind mount
	# in its receiver's mount namespace), as a real second machine has its own cgroups
	jq --arg cg "$CGROUP_PATH-n2" '.linux.cgroupsPath = $cg' "$BUNDLE/config.json" >"$TESTDIR/config-n2.json"
	nsenter --net=/run/netns/"$N2" unshare -m --propagation private sh -c \
		'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh "$TESTDIR/config-n2.json" "$BUNDLE/config.json" \
		"$REAL_SILO" --root "$ROOT2" migrate --listen 10.200.0.2:7000 --once \
		</dev/null >"$TESTDIR/listen.out" 2>"$TESTDIR/listen.err" 3>&- &
	LISTENER=$!
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q listening "$TESTDIR/listen.err" && break
		sleep 0.1
	done
	migrate_n1 --lazy-pages --rounds 0 c1 tcp:10.200.0.2:7000
	assert_success
	assert_output --partial "migrated 'c1' to 'tcp:10.200.0.2:7000'"
	assert_output --regexp "post-copy: the memory followed in [0-9]+ ms"
	moved_to_n2
	local frozen pid
	pid=$(echo "$N2_STATE" | jq -r .pid)
	# the memory hog's pages came over: its resident set is there again
	local hog rss
	hog=$(pgrep -P "$pid" -f "memhog" | head -1)
	[ -n "$hog" ] || fail "no memory hog under $pid"
	rss=$(awk '/^VmRSS/ {print $2}' /proc/"$hog"/status)
	[ "$rss" -ge $((40 * 1024)) ] || fail "memory hog RSS ${rss} kB after the migration"
	grep -qw "$pid" "/sys/fs/cgroup$CGROUP_PATH-n2/cgroup.procs" || fail "not in node 2's cgroup"
	[ ! -d "/sys/fs/cgroup$CGROUP_PATH" ] || fail "node 1's cgroup left"
	frozen=$(counter)
	wait_counter $((frozen + 3))
	# no page server, no lazy-pages daemon left behind
	pgrep -f "criu lazy-pages" && fail "criu lazy-pages left"
	pgrep -f "criu swrk" && fail "criu swrk left"
	assert_no_tmp
	n2 delete --force c1
	rmdir "/sys/fs/cgroup$CGROUP_PATH-n2" 2>/dev/null || true
}

@test "migrate --lazy-pages: the destination dying before the restart rolls back: the source runs on" {
	run_detached c1
	wait_counter 3
	# the receiver's worker is SIGKILLed with the images in and nothing restored
	SILO_FAULT=migrate.before-restore nsenter --net=/run/netns/"$N2" "$REAL_SILO" --root "$ROOT2" \
		migrate --listen 10.200.0.2:7000 --once </dev/null >"$TESTDIR/listen.out" 2>"$TESTDIR/listen2.err" 3>&- &
	LISTENER=$!
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q listening "$TESTDIR/listen2.err" && break
		sleep 0.1
	done
	migrate_n1 --lazy-pages c1 tcp:10.200.0.2:7000
	assert_failure
	assert_output --partial "keeps running here"
	wait "$LISTENER" && fail "the receiver reported success"
	[ "$(state_field c1 status)" = running ] || fail "source: $(state_field c1 status)"
	local frozen
	frozen=$(counter)
	wait_counter $((frozen + 3))
	pgrep -f "criu swrk" && fail "criu swrk left at the source"
	[ -z "$(n2 list -q)" ] || fail "node 2 has: $(n2 list -q)"
	assert_no_tmp
	silo delete --force c1
}

@test "migrate: usage errors are refused clearly" {
	run "$REAL_SILO" --root "$ROOT" migrate c1
	assert_failure
	assert_output --partial "expects a container id and a destination"
	run "$REAL_SILO" --root "$ROOT" migrate --lazy-pages c1 somehost
	assert_failure
	assert_output --partial "through a remote shell needs --page-server IP:PORT"
	run "$REAL_SILO" --root "$ROOT" migrate --lazy-pages --page-server nocolon c1 tcp:127.0.0.1:1
	assert_failure
	assert_output --partial "--page-server: 'nocolon' is not IP:PORT"
	run "$REAL_SILO" --root "$ROOT" migrate --page-server 127.0.0.1:5 c1 tcp:127.0.0.1:1
	assert_failure
	assert_output --partial "--page-server: only with --lazy-pages"
	run "$REAL_SILO" --root "$ROOT" migrate nosuch tcp:127.0.0.1:1
	assert_failure
	assert_output --partial "nosuch"
	run "$REAL_SILO" --root "$ROOT" migrate --receive --listen 1.2.3.4:5
	assert_failure
}
