/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VM sandbox's host-side pieces (runtime/sandbox-vm.c drives them):
 *   assets.c      guest kernel (vmlinux extracted once) + initramfs (agent + modules), cached
 *   supervisor.c  the per-container process that owns the VMM and the agent channel
 * Protocol with the guest agent: vm/proto.h.
 */
#ifndef SILO_VM_H
#define SILO_VM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "../runtime/error.h"

struct silo_vm_assets {
        char *vmlinux; /* cached, ELF (PVH) or the bzImage as it is */
        char *initrd;  /* cached newc cpio */
        char *kver;
};

/* Resolve the kernel (kernel_opt, or the newest /boot/vmlinuz-*) and make sure its vmlinux and
 * an initramfs with `agent` as /init are in <data_root>/vm. */
int silo_vm_assets(const char *data_root, const char *kernel_opt, const char *agent,
                   struct silo_vm_assets *ret, silo_error_t *err);
void silo_vm_assets_free(struct silo_vm_assets *a);

/* One frame of vm/proto.h: send (0 or negative), receive (payload NUL-terminated, caller frees;
 * NULL when the peer is gone or sent garbage). */
struct silo_vm_hdr;
int silo_vm_send(int fd, uint32_t type, uint32_t id, const void *data, uint32_t len);
char *silo_vm_recv(int fd, struct silo_vm_hdr *h);

#endif
