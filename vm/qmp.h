/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A minimal QMP client for the VM sandbox's snapshots (vm/qmp.c explains the design). */
#ifndef SILO_VM_QMP_H
#define SILO_VM_QMP_H

#include <yajl/yajl_tree.h>
#include "../runtime/error.h"

/* Connect to qemu's QMP socket at path (retrying while it does not exist yet, up to timeout_ms;
 * pidfd >= 0: give up as soon as that process exits), read the greeting and leave the
 * capabilities negotiation mode.  Returns the fd. */
int silo_qmp_connect(const char *path, int timeout_ms, int pidfd, silo_error_t *err);

/* Run one command (a JSON object, e.g. {"execute":"stop"}); with pass_fd >= 0 that fd goes along
 * as SCM_RIGHTS (getfd).  Events are skipped.  On success *ret (if not NULL) is the parsed reply
 * (free with yajl_tree_free); a QMP error becomes a silo error naming the command. */
int silo_qmp_exec(int fd, const char *cmd, int pass_fd, int timeout_ms, yajl_val *ret, silo_error_t *err);

/* A string under the reply's "return" object, or NULL. */
const char *silo_qmp_return_str(yajl_val reply, const char *key);

#endif
