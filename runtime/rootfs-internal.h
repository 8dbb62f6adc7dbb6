/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by rootfs.c and rootfs-dev.c only. */
#ifndef SILO_ROOTFS_INTERNAL_H
#define SILO_ROOTFS_INTERNAL_H

#include <stdbool.h>
#include "rootfs.h"

char *silo_rootfs_clean_path(const char *p);
int silo_rootfs_bind_fd(int srcfd, int dstfd, bool recursive);
int silo_rootfs_reopen_mounted(int rootfd, const char *path, int oldfd, int srcfd, const char *ctx, int *ret,
                               silo_error_t *err);
int silo_rootfs_dev_setup(int rootfd, const struct silo_spec *spec, const struct silo_rootfs_opts *o,
                          silo_error_t *err);
bool silo_rootfs_dev_is_host_bind(const struct silo_spec *spec);

#endif
