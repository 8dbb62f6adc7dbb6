/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Path resolution inside an untrusted root (the container rootfs).
 *
 * Invariant: a path that comes from config.json or the image is resolved ONCE, relative to an
 * fd of the root, with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) so that symlinks and
 * ".." can never leave the root; everything after that works on the returned fd (mount on
 * /proc/self/fd/N or move_mount, fchown, fchmod).  Kernels without openat2 (< 5.6) get a
 * userspace walk that opens one component at a time with O_NOFOLLOW and resolves symlinks
 * itself, clamped to the root (FIXME: drop once 5.6 is the minimal baseline).
 *
 * New files and directories are created with O_EXCL / mkdirat + O_NOFOLLOW re-open, never
 * with a plain O_CREAT through a path the container could change (CVE-2024-45310).
 */
#ifndef SILO_FD_H
#define SILO_FD_H

#include <stdbool.h>
#include <sys/types.h>
#include "error.h"

/* Open `path` (absolute or relative; always interpreted inside root) beneath rootfd.
 * flags are open(2) flags (O_CLOEXEC is always added).  Returns the fd or -errno with err set. */
int silo_open_in_root(int rootfd, const char *path, int flags, silo_error_t *err);
/* mkdir -p inside root (each missing component with `mode`); returns an O_PATH|O_DIRECTORY fd. */
int silo_mkdir_in_root(int rootfd, const char *path, mode_t mode, silo_error_t *err);
/* Make sure a non-directory exists at path for use as a bind-mount target (creating parents);
 * an existing entry is reused if it is not a directory.  Returns an O_PATH fd. */
int silo_mkfile_in_root(int rootfd, const char *path, mode_t mode, silo_error_t *err);
/* "/proc/self/fd/N": the path form of an fd for syscalls that only take paths (legacy mount). */
const char *silo_fd_path(int fd, char buf[64]);
/* Force the userspace fallback (tests of the pre-openat2 path); set from SILO_NO_OPENAT2=1. */
void silo_fd_force_fallback(bool on);

#endif
