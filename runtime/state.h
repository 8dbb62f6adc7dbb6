/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Per-container state directory: <root>/<id>/ (0711)
 *   state.json   silo's record (OCI state fields + pid start time, cgroup path, sandbox, ...),
 *                always replaced atomically (tmp + rename)
 *   config.json  the spec as it was at create time (later edits of the bundle do not matter)
 *   exec.fifo    create -> start gate (0622, removed by start)
 *
 * Locking: every command that reads or changes a container takes flock(LOCK_EX) on the directory
 * fd itself.  A directory removed by a concurrent delete has st_nlink == 0 after we got the lock,
 * which is reported as "does not exist" — so no lock file has to outlive the container.
 */
#ifndef SILO_STATE_H
#define SILO_STATE_H

#include <stdbool.h>
#include <sys/types.h>
#include "spec.h"

struct silo_state {
        char *oci_version;
        char *id;
        char *status; /* recorded: "creating", "created" (start changes nothing: status is derived) */
        pid_t pid;
        unsigned long long pid_start_time;
        char *bundle;
        char *rootfs;
        char *created; /* RFC 3339 */
        char *owner;
        char *cgroup_path;
        /* 1 + how many leading components of cgroup_path existed before create (0 = unknown):
         * delete then also removes the empty parents this container's create made */
        int cgroup_existed1;
        char *sandbox; /* "ns" */
        bool systemd_cgroup;
        bool started;
        struct silo_kv *annotations;
        size_t n_annotations;
};

/* Default state root: /run/silo, or $XDG_RUNTIME_DIR/silo when not root (runc's rule). */
const char *silo_state_default_root(void);
/* Create <root>/<id> exclusively and lock it.  EEXIST -> "container with given ID already exists". */
int silo_state_create(const char *root, const char *id, int *ret_dirfd, silo_error_t *err);
/* Open and lock an existing container dir.  Missing -> "container \"<id>\" does not exist" (-ENOENT). */
int silo_state_open(const char *root, const char *id, int *ret_dirfd, silo_error_t *err);
int silo_state_write(int dirfd, const struct silo_state *s, silo_error_t *err);
/* Read state.json; a half-created container may have none: -ENOENT with err set. */
int silo_state_read(int dirfd, struct silo_state **ret, silo_error_t *err);
void silo_state_free(struct silo_state *s);
/* The OCI state JSON (for `state`, hooks and `list`).  status/pid as given.  pretty = runc's indent. */
char *silo_state_oci_json(const struct silo_state *s, const char *status, pid_t pid, bool pretty);
/* The seccomp-notify handshake message (runc's ContainerProcessState): {ociVersion, fds,
 * pid, metadata, state}, sent to linux.seccomp.listenerPath with the listener fd. */
char *silo_state_process_json(const struct silo_state *s, const char *status, pid_t pid, const char *metadata);
/* Remove <root>/<id> (the caller holds the lock). */
int silo_state_remove(const char *root, const char *id, silo_error_t *err);

#endif
