/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The container's tmpfs mounts archived by silo instead of CRIU (checkpoint/tmpfs.c). */
#ifndef SILO_CKPT_TMPFS_H
#define SILO_CKPT_TMPFS_H

#include "criu-dl.h"
#include "../runtime/error.h"
#include "../runtime/sandbox.h"
#include "../runtime/spec.h"

#ifdef HAVE_CRIU
/* dump (not pre-dump): the config's tmpfs mounts become external for CRIU; ckpt_tmpfs_notify()
 * with each of CRIU's notifications archives them into imgfd at the first of "network-lock" and
 * "post-dump" (0, or -1 to fail the dump: CRIU then resumes the tasks); ckpt_tmpfs_dump_end()
 * after.  lazy (post-copy): only when "network-lock" is sure to come (its own netns).
 * freeze_cgroup: the cgroup CRIU freezes the tree through (NULL: none). */
int ckpt_tmpfs_dump_setup(criu_opts *co, const struct silo_container *c, int imgfd, bool lazy,
                          const char *freeze_cgroup, silo_error_t *err);
int ckpt_tmpfs_notify(const char *action);
void ckpt_tmpfs_dump_end(void);
/* restore: the tmpfs mounts listed in imgfd's silo-tmpfs.json rebuilt under base (tmpfs-N, in
 * the restore's private mount namespace) and handed to CRIU; ckpt_tmpfs_restore_end() after. */
int ckpt_tmpfs_restore_setup(criu_opts *co, const struct silo_spec *spec, int imgfd, const char *base,
                             silo_error_t *err);
void ckpt_tmpfs_restore_end(const char *base);
#endif

#endif
