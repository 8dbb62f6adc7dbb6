#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Bridge networking (run.silo.network=bridge, run.silo.ports).  silo-specific: skipped for runc.
#
# Each test builds its own world and never touches the machine's root network namespace:
#   HOST_NS  the "host" silo runs in (SILO_BIN is replaced by a wrapper that nsenter's it, so
#            every helper, teardown's `delete --force` included, runs silo there);
#   OUT_NS   the "internet", wired to HOST_NS by a veth: 198.51.100.1 (host) <-> 198.51.100.2 (out),
#            default route of HOST_NS via 198.51.100.2; servers run there with busybox.
# The container rootfs is busybox-static (sh, ip, nc, httpd).

load helpers

REAL_SILO=$SILO_BIN

setup() {
	is_silo || skip "bridge networking is a silo extension"
	requires root
	command -v busybox >/dev/null || skip "busybox-static not installed"
	command -v nft >/dev/null || skip "nftables (nft CLI, used to inspect rules) not installed"
	setup_bundle
	HOST_NS=silo-nh-$$-${BATS_TEST_NUMBER}
	OUT_NS=silo-no-$$-${BATS_TEST_NUMBER}
	ip netns add "$HOST_NS"
	on_teardown "ip netns del $HOST_NS"
	ip netns add "$OUT_NS"
	on_teardown "ip netns del $OUT_NS"
	ip link add vout netns "$HOST_NS" type veth peer name vin netns "$OUT_NS"
	hx ip link set lo up
	hx ip addr add 198.51.100.1/24 dev vout
	hx ip link set vout up
	hx ip route add default via 198.51.100.2
	ox ip link set lo up
	ox ip addr add 198.51.100.2/24 dev vin
	ox ip link set vin up
	# every silo invocation (helpers, teardown) runs inside HOST_NS
	SILO_BIN=$TESTDIR/silo-in-host
	printf '#!/bin/sh\nexec nsenter --net=/run/netns/%s %s "$@"\n' "$HOST_NS" "$REAL_SILO" >"$SILO_BIN"
	chmod +x "$SILO_BIN"
	export SILO_BIN
	# busybox rootfs
	mkdir -p "$BUNDLE/rootfs/bin" "$BUNDLE/rootfs/www"
	cp /bin/busybox "$BUNDLE/rootfs/bin/busybox"
	for c in sh cat ip nc httpd sleep hostname printf; do ln -s busybox "$BUNDLE/rootfs/bin/$c"; done
	echo "hello from the container" >"$BUNDLE/rootfs/www/index.html"
	update_config '.annotations = {"run.silo.network": "bridge"}'
}

teardown() {
	teardown_bundle
}

hx() { nsenter --net=/run/netns/"$HOST_NS" "$@"; }
ox() { nsenter --net=/run/netns/"$OUT_NS" "$@"; }

# set_sh SCRIPT: the container runs /bin/sh -c SCRIPT
set_sh() {
	update_config --arg s "$1" '.process.args = ["/bin/sh", "-c", $s]'
}

# annotate KEY VALUE
annotate() {
	update_config --arg k "$1" --arg v "$2" '.annotations[$k] = $v'
}

# http_get NS-RUNNER IP PORT PATH: GET through busybox nc, prints the body
http_get() {
	printf 'GET %s HTTP/1.0\r\n\r\n' "$4" | $1 busybox nc -w 3 "$2" "$3" | sed '1,/^\r*$/d'
}

# the lease files of ROOT's default bridge
leases() {
	ls "$ROOT/@net/silo0" 2>/dev/null | grep -v '^lock$' || true
}

# assert_clean: no veth, no container rule, no lease left in HOST_NS / ROOT (the bridge and
# its shared rules are kept, by design: netns/netns.h)
assert_clean() {
	run hx ip -o link show
	refute_output --partial "sv"
	run hx nft list ruleset
	refute_output --partial "dnat"
	refute_output --regexp 'comment "silo [0-9]'
	run leases
	assert_output ""
}

# ctr_bundle ID: a bundle of its own for container ID (same rootfs, config copied as it is now,
# cgroup $CGROUP_PATH/ID: containers sharing a cgroup would kill each other on delete)
ctr_bundle() {
	local b=$TESTDIR/b-$1
	mkdir -p "$b"
	jq --arg r "$BUNDLE/rootfs" --arg cg "$CGROUP_PATH/$1" '.root.path = $r | .linux.cgroupsPath = $cg' \
		"$BUNDLE/config.json" >"$b/config.json"
	echo "$b"
}

# start_web ID: a detached container serving /www on port 80
start_web() {
	set_sh "exec httpd -f -p 80 -h /www"
	silo_detached run -d --bundle "$(ctr_bundle "$1")" "$1"
	assert_success
}

has_lease() {
	[ -n "$(leases)" ]
}

@test "bridge: eth0 address, default route, lo up, /etc/hosts and /etc/hostname" {
	set_sh 'ip -4 -o addr show; ip route; echo ---; cat /etc/hosts; echo ---; cat /etc/hostname'
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output --regexp "lo +inet 127.0.0.1/8"
	assert_output --regexp "eth0 +inet 10.99.0.2/16"
	assert_output --partial "default via 10.99.0.1 dev eth0"
	assert_output --partial "127.0.0.1	localhost"
	assert_output --partial "10.99.0.1	host.containers.internal"
	assert_output --partial "10.99.0.2	silotest"
	assert_output --regexp $'---\nsilotest$'
	# foreground run removed everything once the container exited; the bridge stays
	assert_clean
	run hx ip -o link show silo0
	assert_success
}

@test "bridge: resolv.conf drops loopback and IPv6 nameservers, keeps search and options" {
	printf 'search example.test\nnameserver 127.0.0.1\nnameserver 198.51.100.53\nnameserver fe80::1%%vout\noptions ndots:2\n' \
		>"$TESTDIR/resolv.conf"
	printf 'nameserver 127.0.0.1\nnameserver ::1\n' >"$TESTDIR/resolv-local.conf"
	# silo reads the host's /etc/resolv.conf: give it ours in a private mount namespace
	printf '#!/bin/sh\nf=$1; shift\nexec unshare -m --propagation private sh -c "mount --bind $f /etc/resolv.conf && exec %s \\"\\$@\\"" sh "$@"\n' \
		"$SILO_BIN" >"$TESTDIR/silo-resolv"
	chmod +x "$TESTDIR/silo-resolv"
	set_sh 'cat /etc/resolv.conf'
	run "$TESTDIR/silo-resolv" "$TESTDIR/resolv.conf" --root "$ROOT" run --bundle "$BUNDLE" c1
	assert_success
	assert_output $'search example.test\nnameserver 198.51.100.53\noptions ndots:2'
	run "$TESTDIR/silo-resolv" "$TESTDIR/resolv-local.conf" --root "$ROOT" run --bundle "$BUNDLE" c2
	assert_success
	assert_output $'nameserver 8.8.8.8\nnameserver 8.8.4.4'
}

@test "bridge: the etc files are read-write bind mounts, a user mount wins" {
	echo "10.1.1.1 mine" >"$TESTDIR/hosts"
	update_config --arg h "$TESTDIR/hosts" \
		'.mounts += [{"destination": "/etc/hosts", "type": "bind", "source": $h, "options": ["bind", "ro"]}]'
	set_sh 'cat /etc/hosts; echo 1.2.3.4 x >>/etc/resolv.conf && echo resolv-writable'
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output --partial "10.1.1.1 mine"
	refute_output --partial "localhost"
	assert_output --partial "resolv-writable"
}

@test "bridge: outbound traffic is masqueraded to the host's address" {
	mkdir -p "$TESTDIR/www/cgi-bin"
	printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "peer=$REMOTE_ADDR"\n' >"$TESTDIR/www/cgi-bin/ip"
	chmod +x "$TESTDIR/www/cgi-bin/ip"
	ox busybox httpd -f -p 198.51.100.2:80 -h "$TESTDIR/www" 3>&- &
	on_teardown "kill $!"
	set_sh "printf 'GET /cgi-bin/ip HTTP/1.0\r\n\r\n' | nc -w 3 198.51.100.2 80"
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output --partial "peer=198.51.100.1"
}

@test "bridge: a published port is reachable from outside, from the host's address and from 127.0.0.1" {
	annotate run.silo.ports "8080:80,127.0.0.1:8081:80,5353:53/udp"
	start_web web
	retry 20 0.1 http_get ox 198.51.100.1 8080 /index.html
	assert_output "hello from the container"
	run http_get hx 198.51.100.1 8080 /index.html
	assert_output "hello from the container"
	run http_get hx 127.0.0.1 8080 /index.html
	assert_output "hello from the container"
	run http_get hx 127.0.0.1 8081 /index.html
	assert_output "hello from the container"
	# 8081 is bound to 127.0.0.1 only: not published on the outside address
	run http_get ox 198.51.100.1 8081 /index.html
	refute_output --partial "hello"
	run hx nft list table ip silo
	assert_output --partial 'udp dport 5353 dnat to 10.99.0.2:53 comment "silo 10.99.0.2 web"'
	assert_output --partial 'ip daddr 127.0.0.1 fib daddr type local tcp dport 8081 dnat to 10.99.0.2:80'
	run hx cat /proc/sys/net/ipv4/conf/silo0/route_localnet /proc/sys/net/ipv4/ip_forward
	assert_output $'1\n1'
	silo delete --force web
	assert_success
	assert_clean
}

@test "bridge: two containers talk over the bridge; delete removes exactly one container's rules" {
	annotate run.silo.ports "8080:80"
	start_web web1
	annotate run.silo.ports "8090:80"
	start_web web2
	set_sh "printf 'GET /index.html HTTP/1.0\r\n\r\n' | nc -w 3 10.99.0.2 80; printf 'GET /index.html HTTP/1.0\r\n\r\n' | nc -w 3 10.99.0.3 80"
	annotate run.silo.ports ""
	silo run --bundle "$(ctr_bundle client)" client
	assert_success
	assert_equal "$(grep -c 'hello from the container' <<<"$output")" 2
	silo delete --force web1
	assert_success
	run hx nft list table ip silo
	refute_output --partial "web1"
	assert_output --partial 'tcp dport 8090 dnat to 10.99.0.3:80 comment "silo 10.99.0.3 web2"'
	assert_output --partial 'comment "silo bridge silo0"'
	run hx ip -o link show
	refute_output --partial "sv0a630002"
	assert_output --partial "sv0a630003"
	assert_output --partial "silo0"
	run http_get ox 198.51.100.1 8090 /index.html
	assert_output "hello from the container"
	silo delete --force web2
	assert_success
	assert_clean
}

@test "bridge: a host port published twice is refused, naming the holder" {
	annotate run.silo.ports "8080:80"
	start_web web1
	silo_detached run -d --bundle "$(ctr_bundle web2)" web2
	assert_failure
	assert_output --partial "host port 8080 is already published by container 'web1'"
	run leases
	assert_output "10.99.0.2"
}

@test "bridge: a static address (run.silo.network.ip) with its derived MAC; a busy one is refused, naming the holder" {
	annotate run.silo.network.ip "10.99.0.50"
	start_web web1
	run hx ip -o link show sv0a630032
	assert_success
	set_sh 'ip -4 -o addr show eth0; ip -o link show eth0'
	silo run --bundle "$(ctr_bundle probe)" probe
	assert_failure
	assert_output --partial "address '10.99.0.50' is held by container 'web1'"
	run leases
	assert_output "10.99.0.50"
	annotate run.silo.network.ip "10.99.0.51"
	silo run --bundle "$(ctr_bundle probe2)" probe2
	assert_success
	assert_output --regexp "eth0 +inet 10.99.0.51/16"
	assert_output --partial "link/ether 02:53:0a:63:00:33"
	annotate run.silo.network.ip "10.99.0.1"
	silo run --bundle "$(ctr_bundle probe3)" probe3
	assert_failure
	assert_output --partial "address '10.99.0.1' is not a container address of subnet '10.99.0.0/16'"
	http_get hx 10.99.0.50 80 /index.html
	silo delete --force web1
	assert_clean
}

@test "bridge: 20 parallel creates get 20 distinct leases; all released on delete" {
	set_sh "sleep 1000"
	local i pids=()
	for i in $(seq 1 20); do
		"$SILO_BIN" --root "$ROOT" create --bundle "$(ctr_bundle "p$i")" "p$i" </dev/null >>"$CTR_OUT" 2>>"$CTR_ERR" 3>&- &
		pids+=($!)
	done
	local failed=0
	for i in "${pids[@]}"; do wait "$i" || failed=$((failed + 1)); done
	cat "$CTR_ERR" >&2
	assert_equal "$failed" 0
	run leases
	assert_equal "$(echo "$output" | sort -u | wc -l)" 20
	# each container really has its address on eth0
	local seen=""
	for i in $(seq 1 20); do
		pid=$(state_field "p$i" pid)
		seen+="$(nsenter -t "$pid" -n ip -4 -o addr show eth0 | awk '{print $4}')"$'\n'
	done
	assert_equal "$(echo -n "$seen" | sort -u | wc -l)" 20
	pids=()
	for i in $(seq 1 20); do
		"$SILO_BIN" --root "$ROOT" delete --force "p$i" 3>&- &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	assert_clean
}

@test "bridge: a lease whose container is gone is reclaimed" {
	set_sh "sleep 1000"
	silo_detached create --bundle "$(ctr_bundle c1)" c1
	assert_success
	pid=$(state_field c1 pid)
	kill -9 "$pid"
	wait_pid_gone "$pid"
	# c1 is stopped and still holds 10.99.0.2 on disk: the next create reclaims it
	silo_detached create --bundle "$(ctr_bundle c2)" c2
	assert_success
	run leases
	assert_output "10.99.0.2"
	grep -q '^id=c2$' "$ROOT/@net/silo0/10.99.0.2"
	silo delete c1
	assert_success
	run leases
	assert_output "10.99.0.2"
	silo delete --force c2
	assert_success
	assert_clean
}

@test "bridge: silo SIGKILLed in the middle of create leaves nothing delete --force cannot remove" {
	annotate run.silo.ports "8080:80"
	set_sh "sleep 1000"
	# a createRuntime hook holds create after the lease and the clone, before attach
	update_config '.hooks.createRuntime = [{"path": "/bin/sleep", "args": ["sleep", "30"]}]'
	silo_bg create --bundle "$BUNDLE" hooked
	retry 50 0.1 has_lease
	kill -9 "$SILO_BG_PID"
	wait "$SILO_BG_PID" || true
	silo delete --force hooked
	assert_success
	assert_clean
	# then at assorted points of the whole create (attach included)
	update_config 'del(.hooks)'
	local d caught=0
	for d in 0.005 0.01 0.015 0.02 0.03 0.04 0.05 0.07 0.1 0.15; do
		silo_bg create --bundle "$BUNDLE" k
		sleep "$d"
		kill -9 "$SILO_BG_PID" 2>/dev/null || true
		wait "$SILO_BG_PID" || true
		hx ip -o link show | grep -q sv0a && caught=$((caught + 1))
		silo delete --force k
		assert_success
		assert_clean
	done
	echo "# SIGKILL landed with a veth present $caught/10 times" >&3
}

@test "bridge: invalid annotations are refused, naming the annotation, and leave nothing" {
	annotate run.silo.ports "70000:80"
	silo run --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial "run.silo.ports: invalid port '70000'"
	annotate run.silo.ports "8080:80/sctp"
	silo run --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial "run.silo.ports: invalid protocol 'sctp'"
	annotate run.silo.ports "1.2.3:8080:80"
	silo run --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial "run.silo.ports: invalid host IP '1.2.3'"
	annotate run.silo.ports "8080"
	silo run --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial "run.silo.ports: invalid port mapping '8080'"
	annotate run.silo.ports ""
	annotate run.silo.network.subnet "10.99.0.1/16"
	silo run --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial "run.silo.network.subnet: invalid subnet '10.99.0.1/16': host bits set"
	update_config 'del(.annotations["run.silo.network.subnet"])'
	annotate run.silo.network.bridge "a-very-long-bridge-name"
	silo run --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial "run.silo.network.bridge: invalid interface name 'a-very-long-bridge-name'"
	update_config 'del(.annotations["run.silo.network.bridge"])'
	annotate run.silo.network "nat"
	silo run --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial "run.silo.network: invalid value 'nat'"
	update_config '.annotations = {"run.silo.ports": "8080:80"}'
	silo run --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial "run.silo.ports: publishing ports needs run.silo.network=bridge"
	update_config '.annotations = {"run.silo.network": "bridge"} | .linux.namespaces -= [{"type": "network"}]'
	silo run --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial "run.silo.network: 'bridge' needs a new network namespace"
	run ls "$ROOT"
	assert_output ""
	run hx ip -o link show
	refute_output --partial silo0
}

@test "bridge: a custom bridge and subnet" {
	annotate run.silo.network.bridge "silotest1"
	annotate run.silo.network.subnet "172.31.7.0/24"
	set_sh 'ip -4 -o addr show eth0; ip route'
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output --regexp "inet 172.31.7.2/24"
	assert_output --partial "default via 172.31.7.1"
	assert_clean
	run hx ip -4 -o addr show silotest1
	assert_output --partial "inet 172.31.7.1/24"
	run hx nft list table ip silo
	assert_output --partial 'ip saddr 172.31.7.0/24 ip daddr != 172.31.7.0/24 masquerade comment "silo bridge silotest1"'
}

@test "network: a netns given by path or no annotation configures nothing (runc behaviour)" {
	set_sh 'ip -o link show | grep -c eth0; true'
	ip netns add "$HOST_NS-x"
	on_teardown "ip netns del $HOST_NS-x"
	update_config --arg p "/run/netns/$HOST_NS-x" \
		'.linux.namespaces = [.linux.namespaces[] | if .type == "network" then .path = $p else . end]'
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output "0"
	update_config 'del(.annotations)
		| .linux.namespaces = [.linux.namespaces[] | if .type == "network" then del(.path) else . end]'
	set_sh 'ip -o link show'
	silo run --bundle "$BUNDLE" c2
	assert_success
	assert_output --regexp "^1: lo: <LOOPBACK"
	refute_output --partial eth0
	run ls "$ROOT"
	refute_output --partial "@net"
}
