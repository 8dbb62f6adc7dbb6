/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Checkpoint and restore of a container through CRIU (issue 6, interfaces.md §5.1).  The CLI
 * verbs (cmd/checkpoint.c, cmd/restore.c) fill one silo_criu_opts with runc's flags and call one
 * of the two functions below.  CRIU's RPC client silo-criu.so is dlopen()ed by them only
 * (criu-dl.h).
 *
 * What silo adds to CRIU, as runc does: bind mounts and masked files are passed as external
 * mounts keyed by their container path; a network or pid namespace given by path, or a network
 * namespace silo wires itself (run.silo.network=bridge, --empty-ns network), is external and
 * re-created / re-joined at restore; the restored tree lands in the container's cgroup (created
 * by restore exactly as by create) and linux.resources are written again afterwards, because
 * CRIU 3.17 restores cgroup v2 directories but not their limits.
 */
#ifndef SILO_CHECKPOINT_H
#define SILO_CHECKPOINT_H

#include <stdbool.h>
#include <sys/types.h>
#include "../runtime/container.h"
#include "../runtime/error.h"

struct silo_criu_opts {
        const char *id;
        const char *image_path;  /* absolute; created if missing */
        const char *work_path;   /* absolute; NULL = image_path */
        const char *parent_path; /* relative to image_path (runc), implies memory tracking */
        bool leave_running;
        bool tcp_established;
        bool ext_unix_sk;
        bool shell_job;
        bool file_locks;
        bool pre_dump;
        bool auto_dedup;
        bool lazy_pages;
        const char *page_server;         /* ADDR:PORT */
        const char *manage_cgroups_mode; /* soft|full|strict|ignore, NULL = soft */
        char **empty_ns;                 /* only "network" */
        int status_fd;                   /* -1 = none */
        const char *export_path;         /* checkpoint --export FILE|- (image_path may be NULL: temporary) */
        const char *import_path;         /* restore --import FILE|- (replaces image_path) */
        const char *data_root;           /* restore --import of an image container: the image store */
        /* restore only */
        const char *bundle; /* absolute */
        bool detach;
        const char *pid_file;
        const char *console_socket;
        bool no_pivot;
        bool no_subreaper;
        bool ignore_static_ip; /* podman's --ignore-static-ip: lease any address, not the recorded one */
        /* lazy_pages without page_server: silo starts `criu lazy-pages` on the local images and
         * hands its pid to *lazy_daemon (the caller waits for it: it ends once every page is in;
         * it must not outlive the images).  Without it, runc's way: the caller runs the daemon. */
        pid_t *lazy_daemon;
};

int silo_checkpoint(const struct silo_context *ctx, const struct silo_criu_opts *o, silo_error_t *err);
/* Foreground (no --detach): waits for the restored init and returns its status in *ret_status. */
int silo_restore(const struct silo_context *ctx, const struct silo_criu_opts *o, int *ret_status,
                 silo_error_t *err);
/* network.status of a bridge container (bridge, ip, mac, ports; JSON) or NULL: restore and
 * migrate lease the same address from it. */
char *silo_ckpt_network_status(struct silo_container *c);
/* An image container's dir made on this node from data_root's image: spec_json (its image dir
 * annotation rewritten to the new dir) and the rootfs changes in srcfd (rootfs-diff.tar,
 * deleted.files).  *ret_dir is the caller's to remove if what follows fails (import.c). */
int silo_ckpt_image_dir_make(const char *data_root, const char *state_root, const char *image, const char *id,
                             const char *spec_json, int srcfd, char **ret_dir, silo_error_t *err);

#endif
