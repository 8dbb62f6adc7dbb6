/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Images: a content-addressed store, import of OCI layouts / OCI archives / `docker save`
 * tarballs, and the image -> bundle step used by `run --image` (interfaces.md §4).
 *
 * Store layout under a data root (default /var/lib/silo, --data-root, SILO_DATA_ROOT):
 *   images.json                 the image index (names -> config digest, manifest, diff_ids)
 *   blobs/sha256/<hex>          config and manifest blobs (verified), i.e. an OCI blob store
 *   blobmap/<hex>               compressed layer digest -> "sha256:<diff_id>" (skip re-unpacking)
 *   layers/<diffid-hex>/diff    one unpacked layer in overlayfs form (a lowerdir), stored once
 *   layers/<diffid-hex>/size    its unpacked size in bytes
 *   tmp/                        in-flight unpacks; renamed into layers/ when complete
 *   containers/<id>/            per-container bundle: config.json, rootfs (overlay), upper, work
 *   index.lock, gc.lock         flock(2): index updates (EX) / imports (SH) vs prune (EX)
 *
 * Invariants: nothing is visible in layers/ or images.json before it was fully unpacked and
 * verified (sha256 of the blob and of the uncompressed tar); a failed import leaves only what a
 * concurrent import could have added.  Tar entry names are resolved beneath the layer dir with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) on fds, never through plain paths.
 */
#ifndef SILO_IMAGE_H
#define SILO_IMAGE_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "../runtime/error.h"

#define SILO_DATA_ROOT_DEFAULT "/var/lib/silo"
#define SILO_ANNOT_IMAGE_DIR "run.silo.image.dir"
#define SILO_ANNOT_IMAGE_NAME "run.silo.image"

/* ---- dl.c: lazily loaded libarchive and libcrypto ---- */
int silo_image_dl_load(silo_error_t *err);

/* ---- digest.c ---- */
struct silo_sha256;
struct silo_sha256 *silo_sha256_new(void); /* needs silo_image_dl_load() first */
void silo_sha256_update(struct silo_sha256 *h, const void *p, size_t n);
/* "sha256:<64 hex>" into out[72]; frees h */
void silo_sha256_final(struct silo_sha256 *h, char out[72]);
/* "sha256:" followed by exactly 64 lowercase hex digits */
bool silo_digest_valid(const char *d);
/* compare a computed digest with an expected one: error names what and both digests */
int silo_digest_check(const char *what, const char *expected, const char *got, silo_error_t *err);

/* ---- ref.c (pure) ---- */
/* NAME[:TAG] -> "name:tag" (tag defaults to latest); NULL + err when invalid */
char *silo_image_ref_normalize(const char *ref, silo_error_t *err);

/* ---- unpack.c ---- */
struct silo_unpack_limits {
        uint64_t max_entries, max_bytes;
        size_t max_name;
};
void silo_unpack_limits_default(struct silo_unpack_limits *l); /* env SILO_IMAGE_MAX_ENTRIES/_BYTES */
enum silo_unpack_mode {
        SILO_UNPACK_LAYER, /* OCI layer: whiteouts -> overlay form, owners, xattrs, devices (root) */
        SILO_UNPACK_PLAIN, /* outer image archive: regular files, dirs, symlinks only */
        SILO_UNPACK_TREE,  /* a file tree as it was (a checkpointed tmpfs): like LAYER, no whiteouts */
};
struct silo_unpack_result {
        char blob_digest[72]; /* sha256 of the bytes read (possibly compressed) */
        char diff_id[72];     /* sha256 of the uncompressed tar */
        uint64_t size, entries;
};
/* Unpack the (possibly gzip/zstd compressed) tar read from fd into the empty directory dirfd. */
int silo_unpack_fd(int fd, int dirfd, enum silo_unpack_mode mode, const struct silo_unpack_limits *lim,
                   struct silo_unpack_result *res, silo_error_t *err);
/* Whiteout names (pure): 1 = ".wh..wh..opq", 2 = ".wh.NAME" (*target = NAME), 0 = plain name,
 * -EINVAL for a bare ".wh." */
int silo_whiteout_kind(const char *base, const char **target);

/* ---- store.c ---- */
struct silo_store {
        char *root;
        int dirfd;
        int gc_lock; /* held LOCK_SH during an import, LOCK_EX during prune */
};
struct silo_image_rec {
        char *name;     /* "name:tag" */
        char *id;       /* config digest */
        char *manifest; /* manifest digest or "" */
        char *created;
        char **layers; /* diff_ids, base first */
        uint64_t size;
};
const char *silo_data_root_default(void); /* $SILO_DATA_ROOT or /var/lib/silo */
int silo_store_open(struct silo_store *s, const char *root, bool create, silo_error_t *err);
void silo_store_close(struct silo_store *s);
int silo_store_lock_index(struct silo_store *s, silo_error_t *err); /* returns a locked fd */
int silo_store_read_index(struct silo_store *s, struct silo_image_rec **ret, size_t *n, silo_error_t *err);
int silo_store_write_index(struct silo_store *s, const struct silo_image_rec *v, size_t n, silo_error_t *err);
void silo_image_recs_free(struct silo_image_rec *v, size_t n);
/* find by name[:tag], full id or id prefix (>= 12 hex digits); -ENOENT */
int silo_store_find(const struct silo_image_rec *v, size_t n, const char *ref, silo_error_t *err);
/* layers/<hex>/diff path for a diff_id (allocated) */
char *silo_store_layer_path(struct silo_store *s, const char *diff_id);
bool silo_store_has_layer(struct silo_store *s, const char *diff_id);
int silo_store_put_blob(struct silo_store *s, const char *digest, const void *data, size_t len,
                        silo_error_t *err);
int silo_store_read_blob(struct silo_store *s, const char *digest, char **ret, size_t *len,
                         silo_error_t *err);
/* register image (replacing a record with the same name) under the index lock */
int silo_store_add_image(struct silo_store *s, const struct silo_image_rec *rec, silo_error_t *err);
int silo_store_remove_image(struct silo_store *s, const char *ref, silo_error_t *err);
/* remove layers and blobs no image or container references; returns what was freed */
int silo_store_prune(struct silo_store *s, uint64_t *ret_layers, uint64_t *ret_bytes, silo_error_t *err);
/* mkdtemp-like directory under tmp/; returns its name relative to the store root */
int silo_store_mktemp(struct silo_store *s, char **ret_rel, silo_error_t *err);
/* remove tmp/ entries whose importer is dead (a SIGKILLed import's half-unpacked layer) */
void silo_store_sweep_tmp(struct silo_store *s);

/* ---- import.c ---- */
struct silo_import_opts {
        const char *path;
        const char *name; /* NAME[:TAG] or NULL */
        const char *ref;  /* selects one image of a multi-image source (tag or full name), or NULL */
        bool progress;
};
int silo_image_import(struct silo_store *s, const struct silo_import_opts *o, char **ret_name,
                      silo_error_t *err);

/* ---- bundle.c ---- */
struct silo_image_run_opts {
        const char *image, *id;
        char **args; /* CMD ARGS... replacing Cmd, may be NULL */
        char **env;  /* K=V */
        const char *entrypoint, *workdir, *user, *hostname, *net, *memory, *cpus;
        char **publish;
        int64_t pids_limit; /* 0 = none */
        bool read_only, tty;
        bool ephemeral; /* --rm: the upper dir dies with the container, so the overlay is "volatile" */
        const char *netns_path; /* resolved for --net container:ID */
        const char *state_root; /* the runtime's --root: recorded as the owner of the container dir */
};
struct silo_user_spec {
        uint32_t uid, gid;
        uint32_t *gids;
        size_t ngids;
        char *home;
};
/* pure: generate config.json text from an image config JSON and options */
int silo_image_gen_config(const char *image_config, size_t len, const struct silo_image_run_opts *o,
                          const struct silo_user_spec *user, const char *container_dir, char **ret,
                          silo_error_t *err);
/* pure: validate a -p spec "[HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp]" */
int silo_publish_validate(const char *p, silo_error_t *err);
/* pure: "512m" -> bytes; cpus "0.5" -> quota per 100000 period */
int silo_parse_bytes(const char *s, int64_t *ret);
int silo_parse_cpus(const char *s, int64_t *ret_quota);
/* resolve the image User against etc/passwd + etc/group of rootfd (RESOLVE_IN_ROOT) */
int silo_image_resolve_user(int rootfd, const char *user, struct silo_user_spec *ret, silo_error_t *err);
/* the same on the text of passwd and group (either may be NULL: the file is missing) */
int silo_image_resolve_user_text(char *passwd, char *group, const char *user, struct silo_user_spec *ret,
                                 silo_error_t *err);
void silo_user_spec_free(struct silo_user_spec *u);
/* The container's overlay as a detached mount: ready (fd), or still being built by a child
 * process (pid > 0).  take = wait for it and move the fd out (-1: mounted on <dir>/rootfs on a
 * kernel without fsopen); release = stop the builder and close what is left.  Idempotent. */
struct silo_image_mount {
        int fd;
        pid_t pid;
        int sock;
};
int silo_image_mount_take(struct silo_image_mount *m, int *ret_fd, silo_error_t *err);
void silo_image_mount_release(struct silo_image_mount *m);
/* build <data-root>/containers/<id>/; ret_dir = bundle path, ret_mount = its overlay, for
 * silo_create_opts.image_mount (silo_image_mount_take); the caller releases it afterwards */
int silo_image_bundle_create(struct silo_store *s, const struct silo_image_run_opts *o, char **ret_dir,
                             struct silo_image_mount *ret_mount, silo_error_t *err);
/* restore --import: <data-root>/containers/<id> for image (found in s; its layers present) with
 * config_json as config.json and an empty upper dir; no overlay mounted.  Removed on failure. */
int silo_image_container_dir_create(struct silo_store *s, const char *image, const char *id,
                                    const char *state_root, const char *config_json, char **ret_dir,
                                    silo_error_t *err);
/* delete --force of an id without state: remove <data_root>/containers/<id> if state_root owns it
 * and its creator is gone (a create killed before its state dir existed).  Never fails. */
void silo_image_reclaim_orphan(const char *data_root, const char *state_root, const char *id);
/* A container dir that another state root on this machine handed over (migrate between two
 * roots sharing one data root): its marker names state_root as the owner from now on. */
int silo_image_container_dir_adopt(const char *dir, const char *state_root, silo_error_t *err);
/* Undo silo_image_bundle_create: unmount + remove.  Validates dir is a silo container dir. */
int silo_image_bundle_remove(const char *dir, silo_error_t *err);
/* The same on a failure path: what cannot be removed is said as a warning. */
void silo_image_bundle_discard(const char *dir);
/* Delete hook: for a config with the run.silo.image.dir annotation, remove the bundle dir. */
struct silo_spec;
void silo_image_container_cleanup(const struct silo_spec *spec, const char *id);
/* For a config with the run.silo.image.dir annotation (of container id): its overlay as a
 * detached mount for the init to attach (*ret_fd), or -1 when none is needed. */
int silo_image_container_mount_fd(const struct silo_spec *spec, const char *id, int *ret_fd, silo_error_t *err);
/* Append the layer diff_ids of container dir containers_fd/id to *ids (its marker, or the
 * "layers" file of dirs made by older versions).  err may be NULL. */
int silo_image_container_layers(int containers_fd, const char *id, char ***ids, silo_error_t *err);

/* ---- diff.c ---- */
/* Write the container's upper dir as an OCI layer tar (whiteouts in .wh. form) to fd. */
int silo_image_diff(const char *container_dir, int out_fd, silo_error_t *err);
/* The tree at dirfd as a plain pax tar into out_fd (SILO_UNPACK_TREE reads it back): no
 * whiteout forms, one file system (a mount on top is only its mount point, empty). */
int silo_image_tar_tree(int dirfd, int out_fd, silo_error_t *err);

#endif
