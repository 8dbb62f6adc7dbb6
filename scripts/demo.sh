#!/bin/bash
# The newcomer's first command: install dependencies, build silo, build a small image from the
# machine's own busybox-static package, and run a container with a memory and a pids limit in its
# own namespaces.  Everything it creates lives under $DEMO_DIR and is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root: sudo $0" >&2; exit 1; }
scripts/install-deps.sh
[ -x ./silo ] || scripts/build.sh
SILO="$(pwd)/silo"
DEMO_DIR=${DEMO_DIR:-/var/tmp/silo-demo}
ROOT="$DEMO_DIR/state"
ID=silo-demo
cleanup() { "$SILO" --root "$ROOT" delete --force "$ID" >/dev/null 2>&1 || true; rm -rf "$DEMO_DIR"; }
trap cleanup EXIT
cleanup
mkdir -p "$DEMO_DIR/bundle/rootfs"/{bin,proc,sys,dev,tmp,etc,root}
cp /bin/busybox "$DEMO_DIR/bundle/rootfs/bin/busybox"
for app in $(/bin/busybox --list); do
	[ "$app" = busybox ] || ln -sf busybox "$DEMO_DIR/bundle/rootfs/bin/$app"
done
echo "root:x:0:0:root:/root:/bin/sh" >"$DEMO_DIR/bundle/rootfs/etc/passwd"
cd "$DEMO_DIR/bundle"
"$SILO" spec
script='echo "hello from $(hostname): pid $$, uid $(id -u)";
echo "memory limit: $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)";
echo "pids limit:   $(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max)";
echo "processes:"; ps -o pid,user,comm'
jq --arg s "$script" '.process.terminal = false | .process.args = ["sh", "-c", $s]
  | .linux.cgroupsPath = "/silo/silo-demo"
  | .linux.resources.memory = {limit: 67108864} | .linux.resources.pids = {limit: 32}' \
  config.json >config.json.new && mv config.json.new config.json
echo "+ silo run $ID   (busybox-static rootfs, 64 MiB memory, 32 pids, own pid/net/ipc/uts/mount/cgroup namespaces)"
"$SILO" --root "$ROOT" run "$ID"
