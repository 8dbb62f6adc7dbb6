#!/bin/bash
# mkimage-busybox.sh OUT.tar [TAG]: a small image built from the machine's busybox-static
# package, as a `docker save` archive (silo image import, ctr image import and podman load all
# accept it).  One layer: /bin/busybox + its applet symlinks, /etc/passwd and /etc/group.
# Reproducible: same busybox, same bytes.
set -euo pipefail
out=$1
tag=${2:-localhost/busybox:latest}
[ -x /bin/busybox ] || { echo "mkimage-busybox.sh: /bin/busybox missing (apt-get install busybox-static)" >&2; exit 1; }
work=$(mktemp -d /tmp/silo-mkimage.XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
mkdir -p "$rootfs"/{bin,dev,etc,proc,sys,tmp,root,var,run}
chmod 1777 "$rootfs/tmp"
cp /bin/busybox "$rootfs/bin/busybox"
for a in $(/bin/busybox --list); do
	[ "$a" = busybox ] || ln -s busybox "$rootfs/bin/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
mkdir -p "$work/archive"
tar -C "$rootfs" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$work/layer.tar" .
layer_sha=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
mkdir -p "$work/archive/$layer_sha"
mv "$work/layer.tar" "$work/archive/$layer_sha/layer.tar"
jq -cn --arg diff "sha256:$layer_sha" '{
	architecture: "amd64", os: "linux", created: "1970-01-01T00:00:00Z",
	config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
		 Cmd: ["sh"], WorkingDir: "/"},
	rootfs: {type: "layers", diff_ids: [$diff]},
	history: [{created: "1970-01-01T00:00:00Z", created_by: "silo: busybox-static"}]
}' >"$work/config.json"
cfg_sha=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mv "$work/config.json" "$work/archive/$cfg_sha.json"
jq -cn --arg cfg "$cfg_sha.json" --arg layer "$layer_sha/layer.tar" --arg tag "$tag" \
	'[{Config: $cfg, RepoTags: [$tag], Layers: [$layer]}]' >"$work/archive/manifest.json"
tar -C "$work/archive" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$out" .
