/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The portable checkpoint archive: layout and invariants in archive.c. */
#ifndef SILO_CKPT_ARCHIVE_H
#define SILO_CKPT_ARCHIVE_H

#include "../runtime/error.h"

struct silo_ckpt_meta {
        const char *spec_json;    /* spec.dump */
        const char *config_json;  /* config.dump */
        const char *network_json; /* network.status, or NULL */
};

/* Write image_dir's files and the metadata as a tar to out ("-" = stdout; a file is written
 * beside and renamed into place). */
int silo_ckpt_export(const char *image_dir, const struct silo_ckpt_meta *m, const char *out,
                     silo_error_t *err);
/* config.dump, one JSON line with podman's names: id (also as name), runtime, sandbox (NULL: none;
 * "vm" marks a VM snapshot), bundle, rootfsImageName (NULL: none), createdTime and
 * checkpointedTime (now); allocated. */
char *silo_ckpt_config_json(const char *id, const char *sandbox, const char *bundle, const char *image,
                            const char *created);
/* Read the archive in ("-" = stdin) into the empty directory dirfd (checkpoint/, spec.dump, ...).
 * On failure the caller removes dirfd's contents. */
int silo_ckpt_import(const char *in, int dirfd, silo_error_t *err);

/* The rootfs changes of an image container: rootfs-diff.tar (its upper dir as an OCI layer) and
 * deleted.files (JSON array of the deleted paths) written into image_path. */
int silo_ckpt_rootfs_export(const char *container_dir, const char *image_path, silo_error_t *err);
/* Apply srcfd's rootfs-diff.tar (if any) into container_dir's fresh, empty upper dir, then remove
 * deleted.files' paths through the container's overlay (spec: its config, image dir annotation
 * naming container_dir). */
struct silo_spec;
int silo_ckpt_rootfs_import(int srcfd, const char *container_dir, const struct silo_spec *spec, const char *id,
                            silo_error_t *err);
/* spec.dump's text with the run.silo.image.dir annotation set to dir (NULL + err if it has not
 * exactly one); allocated. */
char *silo_ckpt_spec_set_image_dir(const char *spec_json, const char *dir, silo_error_t *err);
/* delete --force ID: remove root's @ckpt-ID-* / @import-ID-* dirs whose silo is gone (unlocked). */
void silo_ckpt_reclaim_tmp(const char *root, const char *id);

#endif
