/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The container's tmpfs mounts archived by silo instead of CRIU (checkpoint/tmpfs.c). */
#ifndef SILO_CKPT_TMPFS_H
#define SILO_CKPT_TMPFS_H

#include "criu-dl.h"
#include "../runtime/error.h"
#include "../runtime/sandbox.h"
#include "../runtime/spec.h"

#ifdef HAVE_CRIU
/* dump (not pre-dump, not --lazy-pages): the config's tmpfs mounts become external for CRIU;
 * ckpt_tmpfs_post_dump() from CRIU's "post-dump" notification archives them into imgfd
 * (0, or -1 to fail the dump: CRIU then resumes the tasks); ckpt_tmpfs_dump_end() after. */
int ckpt_tmpfs_dump_setup(criu_opts *co, const struct silo_container *c, int imgfd, silo_error_t *err);
int ckpt_tmpfs_post_dump(void);
void ckpt_tmpfs_dump_end(void);
/* restore: the tmpfs mounts listed in imgfd's silo-tmpfs.json rebuilt under base (tmpfs-N, in
 * the restore's private mount namespace) and handed to CRIU; ckpt_tmpfs_restore_end() after. */
int ckpt_tmpfs_restore_setup(criu_opts *co, const struct silo_spec *spec, int imgfd, const char *base,
                             silo_error_t *err);
void ckpt_tmpfs_restore_end(const char *base);
#endif

#endif
