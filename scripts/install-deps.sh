#!/bin/bash
# Install what silo needs to build, test and demo on Debian 12.  Idempotent: installs only what
# is missing.  The single list of packages the project depends on.
set -euo pipefail
BUILD=(autoconf automake libtool pkg-config gcc make libc6-dev libyajl-dev libseccomp-dev libcap-dev libmnl-dev
       libnftables-dev libarchive-dev libssl-dev libarchive13 libssl3
       libsystemd-dev                       # systemd cgroup driver (libsystemd is dlopen()ed)
       liblzma-dev                          # vm sandbox: xz kernel payloads (liblzma is dlopen()ed)
       criu libprotobuf-c-dev protobuf-c-compiler) # checkpoint/restore: criu.h + rpc.proto, protoc-c, criu
TEST=(bats bats-assert bats-support jq iproute2 busybox-static python3 util-linux procps
      qemu-system-x86 linux-image-amd64    # these two: the cgroup v2 guest (tests/vm)
      erofs-utils                          # vm sandbox: the rootfs image (mkfs.erofs)
      nftables                             # network.bats inspects silo's rules with `nft list`
      containernetworking-plugins iptables # bench/net-bench.sh: the CNI reference plugins
      umoci skopeo zstd gzip attr)         # image tests build OCI layouts / docker archives
FUZZ=(clang libclang-rt-dev)                # `make fuzz` only (opt-in: scripts/install-deps.sh --fuzz)
TEST+=(containerd podman)                    # tests/e2e (podman pulls conmon, containers-common)
want=("${BUILD[@]}" "${TEST[@]}")
[ "${1:-}" = --fuzz ] && want+=("${FUZZ[@]}")
missing=()
for p in "${want[@]}"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
        echo "installing: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
