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
/* Read the archive in ("-" = stdin) into the empty directory dirfd (checkpoint/, spec.dump, ...).
 * On failure the caller removes dirfd's contents. */
int silo_ckpt_import(const char *in, int dirfd, silo_error_t *err);

#endif
