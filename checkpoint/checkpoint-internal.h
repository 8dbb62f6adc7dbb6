/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by the two halves of checkpoint/restore: checkpoint.c (CRIU dump and restore, the
 * CLI entry points) and import.c (the records silo keeps besides CRIU's images: the archive of
 * --export / --import and the network record network.status).
 *
 * Invariant: nothing here talks to CRIU, so import.c builds without it (HAVE_CRIU unset).
 */
#ifndef SILO_CHECKPOINT_INTERNAL_H
#define SILO_CHECKPOINT_INTERNAL_H

#include <stdbool.h>
#include "checkpoint.h"
#include "../runtime/container.h"
#include "../runtime/error.h"

/* checkpoint.c: a private, locked directory "@WHAT-ID-XXXXXX" under the state root (never a
 * container id), for --export's images and --import's unpacked archive.  NULL + *err on failure. */
char *ckpt_state_tmpdir(const struct silo_context *ctx, const char *what, const char *id, silo_error_t *err);

/* import.c: network.status of a bridge container (its state dir's "network" record, the MAC and
 * published ports) as JSON, allocated; NULL when the container has no such record. */
char *ckpt_network_json(struct silo_container *c);

/* import.c: checkpoint --export: the archive of the images in o->image_path, the config and the
 * metadata (and an image container's rootfs changes) at o->export_path. */
int ckpt_export_archive(struct silo_container *c, const struct silo_criu_opts *o, silo_error_t *err);

/* import.c: restore --import: the archive unpacked into a state tmpdir (*ret_tmp, its images in
 * checkpoint/); an image container's dir in *ret_bundle (NULL: the --bundle given), *ret_made
 * when it was made here and is the caller's to remove if the restore fails. */
int ckpt_import_archive(const struct silo_context *ctx, const struct silo_criu_opts *o, char **ret_tmp,
                        char **ret_bundle, bool *ret_made, silo_error_t *err);

/* import.c: the address recorded in DIR/network.status, allocated, or *ret = NULL (none). */
int ckpt_recorded_ip(const char *dir, char **ret, silo_error_t *err);

#endif
