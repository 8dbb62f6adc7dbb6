#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Network setup/teardown benchmark: silo's netns/ module vs the CNI reference plugins
# (Debian containernetworking-plugins: bridge + host-local + portmap), doing the same work:
#   ADD  bridge (kept between iterations by both), veth pair into the container netns, an
#        address from a file-based IPAM, default route, outbound masquerade, 1 published port
#        (8080 -> 80/tcp, DNAT from outside and from the host);
#   DEL  the veth, the port rules, the lease.
#
# Usage (as root, after `make check` or `make bench/silo-net-bench`):
#     bench/net-bench.sh                 # ITER=30 WARMUP=3 bench/net-bench.sh
#
# Method: everything runs inside a throw-away "host" netns, against a throw-away "container"
# netns held open by a sleep process; the machine's root namespace is never touched.  Each
# operation is a separate process, as in real use: silo's side is bench/silo-net-bench (the
# same library code `silo create`/`silo delete` call, without the container around it: one
# process for ADD, one for DEL); the CNI side is the plugin chain a CNI runtime executes
# (bridge ADD, portmap ADD with bridge's result; portmap DEL, bridge DEL).  Each iteration's
# ADD+DEL wall time is taken with date +%s%N; the two sides alternate per iteration so that
# background load on the (shared) machine hits both alike.  The report gives the mean and median
# per side and the ratio of the means.
#
# Invariants: the two netns are named silo-nb-<pid>-{host,ctr}; the EXIT trap kills the sleep
# holder by pid, deletes both netns (which takes every link and rule created inside with them)
# and the temporary directory.  Nothing else is touched.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${NET_BENCH_BIN:=$HERE/silo-net-bench}"
: "${CNI_DIR:=/usr/lib/cni}"
ITER=${ITER:-30}
WARMUP=${WARMUP:-3}

[ "$(id -u)" -eq 0 ] || { echo "net-bench: must run as root" >&2; exit 1; }
[ -x "$NET_BENCH_BIN" ] || { echo "net-bench: build $NET_BENCH_BIN first (make bench/silo-net-bench)" >&2; exit 1; }
for p in bridge host-local portmap; do
	[ -x "$CNI_DIR/$p" ] || { echo "net-bench: $CNI_DIR/$p missing (apt-get install containernetworking-plugins)" >&2; exit 1; }
done
command -v iptables >/dev/null || { echo "net-bench: the CNI plugins need iptables" >&2; exit 1; }

HOST_NS=silo-nb-$$-host
CTR_NS=silo-nb-$$-ctr
TMP=$(mktemp -d /tmp/silo-net-bench.XXXXXX)
HOLDER=

cleanup() {
	if [ -n "$HOLDER" ]; then
		kill "$HOLDER" 2>/dev/null || true
		wait "$HOLDER" 2>/dev/null || true
	fi
	ip netns del "$HOST_NS" 2>/dev/null || true
	ip netns del "$CTR_NS" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

ip netns add "$HOST_NS"
ip netns add "$CTR_NS"
hx() { nsenter --net="/run/netns/$HOST_NS" "$@"; }
hx ip link set lo up
nsenter --net="/run/netns/$CTR_NS" sleep 100000 &
HOLDER=$!
# the holder must really sit in the container netns (never wire silo's own namespace)
for _ in $(seq 50); do
	[ "$(stat -L -c %i "/proc/$HOLDER/ns/net")" = "$(stat -L -c %i "/run/netns/$CTR_NS")" ] && break
	sleep 0.02
done
[ "$(stat -L -c %i "/proc/$HOLDER/ns/net")" = "$(stat -L -c %i "/run/netns/$CTR_NS")" ] ||
	{ echo "net-bench: holder not in $CTR_NS" >&2; exit 1; }

cat >"$TMP/bridge.json" <<EOF
{"cniVersion": "1.0.0", "name": "silobench", "type": "bridge", "bridge": "cni-bench0",
 "isGateway": true, "ipMasq": true,
 "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.98.0.0/16"}]],
          "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$TMP/cni-ipam"}}
EOF

export CNI_CONTAINERID=silobench CNI_NETNS=/run/netns/$CTR_NS CNI_IFNAME=eth0 CNI_PATH=$CNI_DIR

silo_cycle() {
	hx "$NET_BENCH_BIN" add "$TMP/leases" "$HOLDER"
	hx "$NET_BENCH_BIN" del "$TMP/leases"
}

cni_cycle() {
	CNI_COMMAND=ADD hx "$CNI_DIR/bridge" <"$TMP/bridge.json" >"$TMP/result.json"
	jq -n --slurpfile r "$TMP/result.json" '{cniVersion: "1.0.0", name: "silobench", type: "portmap",
		capabilities: {portMappings: true},
		runtimeConfig: {portMappings: [{hostPort: 8080, containerPort: 80, protocol: "tcp"}]},
		prevResult: $r[0]}' >"$TMP/portmap.json"
	CNI_COMMAND=ADD hx "$CNI_DIR/portmap" <"$TMP/portmap.json" >/dev/null
	CNI_COMMAND=DEL hx "$CNI_DIR/portmap" <"$TMP/portmap.json" >/dev/null
	CNI_COMMAND=DEL hx "$CNI_DIR/bridge" <"$TMP/bridge.json" >/dev/null
}

# jq builds the portmap config in the CNI runtime's place: time it separately, and subtract it
timed() {
	local t0 t1
	t0=$(date +%s%N)
	"$@"
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
}
jq_cost() {
	jq -n --slurpfile r "$TMP/result.json" '{prevResult: $r[0]}' >/dev/null
}

# sanity: one ADD each, check what it built, then DEL
hx "$NET_BENCH_BIN" add "$TMP/leases" "$HOLDER"
nsenter --net="/run/netns/$CTR_NS" ip -4 -o addr show eth0 | grep -q "10.99.0.2/16" ||
	{ echo "net-bench: silo ADD did not configure eth0" >&2; exit 1; }
hx nft list table ip silo | grep -q "dport 8080 dnat to 10.99.0.2:80" ||
	{ echo "net-bench: silo ADD did not publish the port" >&2; exit 1; }
hx "$NET_BENCH_BIN" del "$TMP/leases"
cni_cycle

for ((i = 0; i < WARMUP; i++)); do silo_cycle; cni_cycle; done
: >"$TMP/silo.us"
: >"$TMP/cni.us"
: >"$TMP/jq.us"
for ((i = 0; i < ITER; i++)); do
	timed silo_cycle >>"$TMP/silo.us"
	timed cni_cycle >>"$TMP/cni.us"
	timed jq_cost >>"$TMP/jq.us"
done

stats() { # file -> "mean median" in ms
	sort -n "$1" | awk '{ v[NR] = $1; s += $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
		printf "%.1f %.1f\n", s / NR / 1000, m / 1000 }'
}
read -r silo_mean silo_med < <(stats "$TMP/silo.us")
read -r cni_mean cni_med < <(stats "$TMP/cni.us")
read -r jq_mean _ < <(stats "$TMP/jq.us")
cni_mean=$(awk -v a="$cni_mean" -v b="$jq_mean" 'BEGIN { printf "%.1f", a - b }')
cni_med=$(awk -v a="$cni_med" -v b="$jq_mean" 'BEGIN { printf "%.1f", a - b }')
printf 'network ADD+DEL (bridge + veth + IP + masquerade + 1 published port), %d iterations\n' "$ITER"
printf '  %-34s mean %7s ms   median %7s ms\n' "silo (netns/, 2 processes)" "$silo_mean" "$silo_med"
printf '  %-34s mean %7s ms   median %7s ms   (minus jq %s ms)\n' "CNI bridge+host-local+portmap" \
	"$cni_mean" "$cni_med" "$jq_mean"
awk -v s="$silo_mean" -v c="$cni_mean" 'BEGIN { printf "  silo is %.1fx faster (target >= 5x)\n", c / s }'
