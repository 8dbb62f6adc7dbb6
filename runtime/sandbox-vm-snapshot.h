/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Whole-VM checkpoint/restore of vm-sandboxed containers (sandbox-vm-snapshot.c). */
#ifndef SILO_SANDBOX_VM_SNAPSHOT_H
#define SILO_SANDBOX_VM_SNAPSHOT_H

#include <stdbool.h>
#include "../checkpoint/checkpoint.h"

/* `silo checkpoint` of a vm container; 1 (nothing done) when o->id is not one, so the caller
 * goes on with CRIU. */
int silo_vm_checkpoint(const struct silo_context *ctx, const struct silo_criu_opts *o, silo_error_t *err);
/* Does this image dir hold a VM snapshot (vm.json)? */
bool silo_vm_snapshot_in(const char *image_path);
/* `silo restore` of a VM snapshot in o->image_path; net_ip: the recorded address (network.status)
 * that a bridge-mode guest has configured, or NULL. */
int silo_vm_restore(const struct silo_context *ctx, const struct silo_criu_opts *o, const char *net_ip,
                    int *ret_status, silo_error_t *err);
/* migrate: the running VM's vm.json (kernel and initramfs hashes, RAM, vCPUs, NIC, address) */
int silo_vm_snapshot_meta(struct silo_container *c, char **ret_json, silo_error_t *err);
/* migrate's pre-flight at the destination: qemu is here and this host would load the snapshot
 * of image_path (its vm.json) into the very same guest kernel and initramfs for bundle */
int silo_vm_snapshot_host_check(const char *data_root, const char *bundle, const char *image_path,
                                silo_error_t *err);

#endif
