#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vm-bench.sh [RUNS]: time from `silo run --sandbox vm` to the exit of a no-op process
# (silo-testinit true), against a bare qemu direct-kernel boot of the same kernel image with a
# minimal static /init that runs the same program and powers off -- in the same session, with
# the same machine type, accelerator, CPU model, memory and kernel command line (hyperfine).
#
# What the ratio measures: everything silo adds on top of "boot this kernel and run one
# program": building the erofs image of the rootfs, the agent's module loading (virtio-mmio,
# virtio-blk, virtio-console, erofs + crc32c; overlay only for a writable root -- `silo spec`'s
# root is read-only, so here the erofs image is the root), the cgroup setup, the
# virtio-serial round trips, create/start/delete bookkeeping.  Both sides use the cached
# vmlinux; the first silo run (not timed: --warmup) fills the cache.
#
# Needs: a built tree (./silo, vm/silo-vm-agent, tests/payload/silo-testinit), hyperfine, cpio,
# gcc, qemu-system-x86_64, erofs-utils.  Runs as root; state and cache under a temporary dir.
set -euo pipefail
RUNS=${1:-10}
top=$(cd "$(dirname "$0")/.." && pwd)
silo=$top/silo
testinit=$top/tests/payload/silo-testinit
for x in "$silo" "$testinit" "$top/vm/silo-vm-agent"; do
	[ -x "$x" ] || { echo "vm-bench: build first (make && make tests/payload/silo-testinit): $x" >&2; exit 1; }
done
for c in hyperfine cpio gcc qemu-system-x86_64 mkfs.erofs jq; do
	command -v "$c" >/dev/null || { echo "vm-bench: needs $c" >&2; exit 1; }
done

work=$(mktemp -d /tmp/silo-vm-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
export SILO_DATA_ROOT=$work/data
mkdir -p "$work/bundle/rootfs" "$work/root" "$work/ird"
cp "$testinit" "$work/bundle/rootfs/silo-testinit"
mkdir -p "$work/bundle/rootfs/proc" "$work/bundle/rootfs/sys" "$work/bundle/rootfs/dev" # as in any image
"$silo" spec --bundle "$work/bundle"
jq '.process.terminal = false | .process.args = ["/silo-testinit", "true"] | .linux.cgroupsPath = "/silo-vm-bench"' \
	"$work/bundle/config.json" >"$work/c.json" && mv "$work/c.json" "$work/bundle/config.json"

# one silo run fills the cache; its qemu command line is the template for the bare boot
"$silo" --root "$work/root" run --sandbox vm --bundle "$work/bundle" warm 2>/dev/null
vmlinux=$(ls "$work"/data/vm/vmlinux-* | head -1)

# the bare side: /init = fork + exec /silo-testinit true + wait + reboot (qemu -no-reboot exits)
cat >"$work/init.c" <<'EOF'
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
        pid_t p = fork();
        if (p == 0) {
                execl("/silo-testinit", "silo-testinit", "true", (char *)0);
                _exit(127);
        }
        waitpid(p, 0, 0);
        reboot(RB_AUTOBOOT);
        return 0;
}
EOF
gcc -static -O2 -s -o "$work/ird/init" "$work/init.c"
cp "$testinit" "$work/ird/silo-testinit"
mkdir -p "$work/ird/dev"
(cd "$work/ird" && find . | cpio -o -H newc --quiet) >"$work/initrd"
khz=$(awk '/^cpu MHz/ {printf "%d", $4 * 1000; exit}' /proc/cpuinfo)
bare="qemu-system-x86_64 -M microvm -accel tcg,tb-size=64 -cpu max -smp 1 -m 256 -nodefaults -no-user-config"
bare+=" -display none -no-reboot -kernel $vmlinux -initrd $work/initrd -serial none"
bare+=" -append 'console=ttyS0 quiet loglevel=4 reboot=t panic=-1 pci=off rdinit=/init tsc_early_khz=$khz'"

echo "# kernel: $(ls /boot/vmlinuz-* | sort -V | tail -1), accel: $( [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo && [ ! -d /sys/module/kvm_pvm ] && echo kvm || echo tcg)"
hyperfine -N ${VM_BENCH_SHOW:+--show-output} --warmup 1 --runs "$RUNS" --export-json "$work/h.json" \
	-n "silo run --sandbox vm" "$silo --root $work/root run --sandbox vm --bundle $work/bundle b" \
	-n "bare qemu + minimal init" "$bare" 2>&1 | grep -v '^ *$'
jq -r '.results as $r | "ratio silo/bare: \($r[0].mean / $r[1].mean * 100 | round / 100) (\($r[0].mean * 1000 | round) ms vs \($r[1].mean * 1000 | round) ms)"' "$work/h.json"
# the median too: a shared TCG host throws the odd 10+ s boot into either side
jq -r '.results as $r | "median ratio silo/bare: \($r[0].median / $r[1].median * 100 | round / 100) (\($r[0].median * 1000 | round) ms vs \($r[1].median * 1000 | round) ms)"' "$work/h.json"
