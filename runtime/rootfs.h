/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Child side of the filesystem setup, run by the container init in its new mount namespace.
 *
 *   silo_rootfs_prepare  before pivot_root: set "/" propagation (rslave unless rootfsPropagation
 *                        says otherwise), bind the rootfs onto itself, perform every mount of
 *                        spec->mounts in order (targets resolved inside the rootfs with fd.h,
 *                        never following a symlink out), default /dev (tmpfs + default devices +
 *                        linux.devices, bind-mounted from the host when in a user namespace),
 *                        /dev/pts, /dev/shm, /dev/mqueue, /dev/{fd,stdin,stdout,stderr,ptmx,core}
 *                        symlinks, and an empty /dev/console placeholder when process.terminal.
 *   silo_rootfs_pivot    pivot_root into the rootfs and detach the old root (or MS_MOVE+chroot
 *                        for --no-pivot).
 *   silo_rootfs_finalize after pivot_root: readonly root, maskedPaths, readonlyPaths, and the
 *                        final rootfsPropagation.
 */
#ifndef SILO_ROOTFS_H
#define SILO_ROOTFS_H

#include <stdbool.h>
#include "spec.h"

struct silo_rootfs_opts {
        const char *rootfs; /* absolute host path of the root filesystem */
        const char *bundle; /* absolute bundle path: relative mount sources are relative to it */
        bool in_userns;     /* running inside a new user namespace: no mknod, bind devices */
        bool new_netns;     /* sysfs may be mounted fresh only with a new netns */
        bool no_pivot;
        int mount_fd;       /* > 0: a detached mount (fsmount) to attach on rootfs instead of a bind */
};

int silo_rootfs_prepare(const struct silo_spec *spec, const struct silo_rootfs_opts *o, silo_error_t *err);
int silo_rootfs_pivot(const struct silo_rootfs_opts *o, silo_error_t *err);
int silo_rootfs_finalize(const struct silo_spec *spec, silo_error_t *err);

#endif
