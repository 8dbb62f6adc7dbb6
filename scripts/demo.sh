#!/bin/bash
# The newcomer's first command: install dependencies, build silo, build a small image from the
# machine's own busybox-static package, import it into silo's image store, and run a web server
# container from it with a memory, pids and CPU limit, a NAT bridge network and a published port;
# then show the limits from inside (exec), fetch the page through the published port, and clean
# up.  Everything it creates lives under $DEMO_DIR and is removed at the end.
#
# Networking runs in a throw-away network namespace ("the host" for the demo), so the demo leaves
# your machine's links and firewall exactly as they were.  DEMO_HOST_NET=1 runs it in the real
# host namespace instead: silo then creates bridge silo0 (kept afterwards, like CNI's bridge) and
# nftables table `ip silo`, and http://127.0.0.1:8080 is reachable from your shell meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root: sudo $0" >&2; exit 1; }
scripts/install-deps.sh
[ -x ./silo ] || scripts/build.sh
SILO_BIN="$(pwd)/silo"
DEMO_DIR=${DEMO_DIR:-/var/tmp/silo-demo}
NETNS=silo-demo-$$
ID=silo-demo
in_net() { if [ -n "${DEMO_HOST_NET:-}" ]; then "$@"; else nsenter --net="/run/netns/$NETNS" "$@"; fi; }
silo() { in_net "$SILO_BIN" --root "$DEMO_DIR/state" --data-root "$DEMO_DIR/data" "$@"; }
cleanup() {
	silo delete --force "$ID" >/dev/null 2>&1 || true
	[ -n "${DEMO_HOST_NET:-}" ] || ip netns delete "$NETNS" 2>/dev/null || true
	rm -rf "$DEMO_DIR"
}
trap cleanup EXIT
rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"
if [ -z "${DEMO_HOST_NET:-}" ]; then
	ip netns add "$NETNS"
	ip -n "$NETNS" link set lo up
fi
step() { printf '\n\033[1m+ %s\033[0m\n' "$*"; }

step "build an image from busybox-static and import it"
scripts/mkimage-busybox.sh "$DEMO_DIR/busybox.tar" demo/busybox:latest
silo image import "$DEMO_DIR/busybox.tar"
silo image ls

step "silo run --image demo/busybox -d --memory 64m --pids-limit 32 --cpus 0.5 -p 8080:80 $ID httpd"
silo run --image demo/busybox -d --memory 64m --pids-limit 32 --cpus 0.5 -p 8080:80 "$ID" \
	sh -c 'mkdir -p /www && echo "hello from $(hostname) in silo" >/www/index.html && exec httpd -f -p 80 -h /www'
silo list

step "inside (silo exec): address, limits, processes"
silo exec "$ID" sh -c '
echo "eth0:         $(ip -4 -o addr show eth0 | awk "{print \$4}")"
echo "memory limit: $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)"
echo "pids limit:   $(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max)"
echo "cpu quota:    $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/cpu.max)"
ps -o pid,user,comm'

step "the published port, from the host side: wget http://127.0.0.1:8080/"
for _ in $(seq 50); do in_net busybox wget -q -O - http://127.0.0.1:8080/ 2>/dev/null && break; sleep 0.1; done

step "events --stats (what containerd reads for metrics)"
silo events --stats "$ID" | jq -c '{memory: .data.memory.usage.usage, pids: .data.pids.current}'

step "silo delete --force $ID: processes, cgroups, veth, nft rules, IP lease and overlay are gone"
silo delete --force "$ID"
silo list
