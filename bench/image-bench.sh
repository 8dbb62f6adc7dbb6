#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Image benchmarks (hyperfine), run as root from the build directory:
#   1. import of a multi-layer OCI layout into an empty data root (`silo image import`) vs
#      `umoci unpack` of the same image into an empty bundle (target: silo >= 2x faster);
#   2. `silo run --image IMG --net none --rm ID /bin/true` vs `silo run` of a plain bundle with
#      the same rootfs and the same namespaces (target: <= 1 ms added), with state and data root
#      in WORK, then again with both on a journaled ext4 (a 1 GiB loop image in WORK).  This VM's
#      root fs is ext4 *without* a journal: there every inode allocation skips the inodes freed
#      in the last 60-360 s of its group one by one (fs/ext4/ialloc.c recently_deleted()), and
#      `run --image` creates and frees ~15 inodes (its dirs, and overlayfs' mount probes in the
#      work dir) where a bundle run creates ~5: the difference then depends on how much was
#      deleted in the last minutes (measured 1.3-2.2 ms), while a journaled ext4 -- what
#      /var/lib is on a Debian install -- does not scan (0.77 ms; tmpfs 0.75 ms).
# Everything runs in one private mount namespace; nothing outside WORK is touched.
#
# Environment: SILO_BIN (default ./silo), WORK (default a mktemp dir, removed at the end),
# RUNS (default 10 for imports, 5x that for runs), EXTRA (a host directory copied in as the
# big layer, default /usr/lib/python3 or /usr/share/doc).
set -euo pipefail

if [ "${SILO_BENCH_INNER:-}" != 1 ]; then
	export SILO_BENCH_INNER=1
	exec unshare -m --propagation private "$0" "$@"
fi

SILO_BIN=$(readlink -f "${SILO_BIN:-./silo}")
RUNS=${RUNS:-10}
KEEP_WORK=${WORK:+1}
WORK=${WORK:-$(mktemp -d /tmp/silo-image-bench.XXXXXX)}
EXTRA=${EXTRA:-}
[ -n "$EXTRA" ] || for d in /usr/lib/python3 /usr/share/doc; do [ -d "$d" ] && EXTRA=$d && break; done
command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 77; }
command -v umoci >/dev/null || { echo "umoci is needed" >&2; exit 77; }
[ -z "$KEEP_WORK" ] && trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK" && cd "$WORK"

echo "# building a 3-layer image (busybox, $EXTRA, deletions) in $WORK"
if [ ! -d oci ]; then
	umoci init --layout oci
	umoci new --image oci:b
	umoci unpack --image oci:b b >/dev/null
	mkdir -p b/rootfs/bin b/rootfs/etc b/rootfs/proc b/rootfs/sys b/rootfs/dev
	cp /bin/busybox b/rootfs/bin/
	for c in sh true ls cat; do ln -s busybox b/rootfs/bin/$c; done
	echo 'root:x:0:0:root:/root:/bin/sh' >b/rootfs/etc/passwd
	umoci repack --image oci:b b
	rm -rf b
	umoci unpack --image oci:b b >/dev/null
	mkdir -p b/rootfs/extra && cp -a "$EXTRA"/. b/rootfs/extra/
	umoci repack --image oci:b b
	rm -rf b
	umoci unpack --image oci:b b >/dev/null
	find b/rootfs/extra -maxdepth 1 -mindepth 1 | head -3 | xargs rm -rf
	umoci repack --image oci:b b
	umoci config --image oci:b --config.cmd /bin/true
	rm -rf b
fi
echo "# image: $(du -sh oci | cut -f1) compressed, $(find oci -type f | wc -l) blobs"

echo "## 1. import: silo image import vs umoci unpack"
# The previous run's output is renamed aside, not deleted, before each run: on ext4 without a
# journal (this project's VM) the inode allocator skips inodes freed in the last 5-300 s one by
# one (fs/ext4/ialloc.c recently_deleted()), so `rm -rf` of 3000 files right before a run makes
# every file creation of that run several times slower, for both tools alike.  Everything is
# removed at the end.
mkdir -p "$WORK/trash"
printf '#!/bin/sh\n[ ! -e "$1" ] || mv -T "$1" "$(mktemp -u -p %s)"\n' "$WORK/trash" >"$WORK/aside"
chmod +x "$WORK/aside"
hyperfine -N -w 1 -r "$RUNS" --export-json import.json \
	-p "$WORK/aside $WORK/dr" -n "silo image import" "$SILO_BIN --data-root $WORK/dr image import $WORK/oci:b --name bench:b" \
	-p "$WORK/aside $WORK/bundle" -n "umoci unpack" "umoci unpack --image $WORK/oci:b $WORK/bundle"
jq -r '.results[] | "\(.command): \(.mean * 1000 | floor) ms"' import.json
jq -r '"ratio umoci/silo: \((.results[1].mean / .results[0].mean) * 100 | floor / 100)"' import.json

echo "## 2. silo run --image vs a plain bundle (same rootfs, --net none namespaces)"
rm -rf dr bundle
"$SILO_BIN" --data-root "$WORK/dr" image import "$WORK/oci:b" --name bench:b >/dev/null
umoci unpack --image "$WORK/oci:b" bundle >/dev/null
# the plain bundle gets exactly the config `run --image` generates (minus the image annotations)
"$SILO_BIN" --root "$WORK/state" --data-root "$WORK/dr" create --image bench:b --net none probe </dev/null >/dev/null
jq 'del(.annotations["run.silo.image.dir"]) | .root.path = "rootfs"' dr/containers/probe/config.json >bundle/config.json
"$SILO_BIN" --root "$WORK/state" --data-root "$WORK/dr" delete --force probe
hyperfine -N -w 5 -r $((RUNS * 5)) --export-json run.json \
	-n "run --image" "$SILO_BIN --root $WORK/state --data-root $WORK/dr run --image bench:b --net none --rm c1" \
	-n "run (bundle)" "$SILO_BIN --root $WORK/state run -b $WORK/bundle c2"
jq -r '.results[] | "\(.command): mean \(.mean * 1000 * 100 | floor / 100) ms, median \(.median * 1000 * 100 | floor / 100) ms"' run.json
jq -r '"added by --image (median): \(((.results[0].median - .results[1].median) * 1000 * 100 | floor) / 100) ms"' run.json

echo "## 2b. the same with state and data root on a journaled ext4 (loop image)"
if command -v mkfs.ext4 >/dev/null && truncate -s 1G "$WORK/j.img" && mkfs.ext4 -q -F "$WORK/j.img" &&
	mkdir -p "$WORK/j" && mount -o loop "$WORK/j.img" "$WORK/j"; then
	"$SILO_BIN" --data-root "$WORK/j/dr" image import "$WORK/oci:b" --name bench:b >/dev/null
	cp -a "$WORK/bundle" "$WORK/j/bundle"
	hyperfine -N -w 5 -r $((RUNS * 5)) --export-json run-j.json \
		-n "run --image" "$SILO_BIN --root $WORK/j/state --data-root $WORK/j/dr run --image bench:b --net none --rm c1" \
		-n "run (bundle)" "$SILO_BIN --root $WORK/j/state run -b $WORK/j/bundle c2" >/dev/null
	jq -r '.results[] | "\(.command): median \(.median * 1000 * 100 | floor / 100) ms"' run-j.json
	jq -r '"added by --image on journaled ext4 (median): \(((.results[0].median - .results[1].median) * 1000 * 100 | floor) / 100) ms"' run-j.json
	umount "$WORK/j"
else
	echo "(skipped: no loop device or mkfs.ext4)"
fi
