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
/* `silo restore` of a VM snapshot in o->image_path. */
int silo_vm_restore(const struct silo_context *ctx, const struct silo_criu_opts *o, int *ret_status,
                    silo_error_t *err);

#endif
