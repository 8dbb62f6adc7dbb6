/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Per-container image bundles: create (dirs, overlay mount, config.json) and remove.
 * See the invariants at the top of bundle.c; removal is also the delete hook of the runtime.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "image.h"
#include "json.h"
#include "../runtime/fault.h"
#include "../runtime/log.h"
#include "../runtime/spec.h"
#include "../runtime/util.h"

#define MARKER ".silo-container"

/* config.User of an image config (NULL when unset or unparsable: the config was verified) */
static char *config_user(const char *cfg)
{
        yajl_val root = NULL;
        char *u = NULL;

        if (silo_json_parse("image config", cfg, &root, NULL) < 0)
                return NULL;
        u = silo_xstrdup(silo_json_string(silo_json_get(root, "config", NULL, yajl_t_object), "User", NULL));
        yajl_tree_free(root);
        return u;
}

/* Mount the overlay with the new mount API, one "lowerdir+" per layer (no page-size limit on
 * the option string, kernel >= 6.8); fall back to mount(2) with lowerdir=a:b:c. */
static int mount_overlay(char **lowers, const char *upper, const char *work, const char *target,
                         silo_error_t *err)
{
        _cleanup_close_ int fs = fsopen("overlay", FSOPEN_CLOEXEC), mnt = -1;
        struct silo_buf b = {0};
        size_t n = silo_strv_len(lowers);
        bool ok = fs >= 0;

        for (size_t i = n; ok && i > 0; i--) /* top layer first */
                ok = fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", lowers[i - 1], 0) == 0;
        ok = ok && fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) == 0 &&
             fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) == 0 &&
             fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0;
        if (ok && (mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0)) >= 0 &&
            move_mount(mnt, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) == 0)
                return 0;
        silo_debug("overlay via fsconfig failed (%m), trying mount(2)");
        silo_buf_puts(&b, "lowerdir=");
        for (size_t i = n; i > 0; i--)
                silo_buf_printf(&b, "%s%s", lowers[i - 1], i > 1 ? ":" : "");
        silo_buf_printf(&b, ",upperdir=%s,workdir=%s", upper, work);
        if (b.len >= 4096) {
                silo_buf_free(&b);
                return silo_error_set(err, E2BIG, "mount overlay on '%s': too many layers for this kernel",
                                      target);
        }
        if (mount("overlay", target, "overlay", 0, b.data) < 0) {
                int e = errno;
                silo_buf_free(&b);
                return silo_error_set(err, e, "mount overlay on '%s'", target);
        }
        silo_buf_free(&b);
        return 0;
}

int silo_image_bundle_create(struct silo_store *s, const struct silo_image_run_opts *o, char **ret_dir,
                             silo_error_t *err)
{
        struct silo_image_rec *v = NULL;
        struct silo_user_spec user = {0};
        _cleanup_free_ char *dir = NULL, *cfg = NULL, *out = NULL, *rootfs = NULL, *upper = NULL,
                            *work = NULL, *image_name = NULL;
        _cleanup_strv_free_ char **lowers = silo_xmalloc0(sizeof(char *));
        _cleanup_close_ int dfd = -1, rootfd = -1;
        struct silo_buf layers = {0};
        size_t n = 0, cfglen;
        int r, i;

        if (!silo_id_valid(o->id))
                return silo_error_set(err, 0, "invalid container ID format: '%s'", o->id);
        r = silo_store_read_index(s, &v, &n, err);
        if (r < 0)
                return r;
        i = silo_store_find(v, n, o->image, err);
        if (i < 0) {
                silo_image_recs_free(v, n);
                return i;
        }
        for (size_t j = 0; v[i].layers[j]; j++) {
                if (!silo_store_has_layer(s, v[i].layers[j])) {
                        r = silo_error_set(err, ENOENT, "image '%s': layer '%s' is missing from the store",
                                           o->image, v[i].layers[j]);
                        silo_image_recs_free(v, n);
                        return r;
                }
                silo_buf_printf(&layers, "%s\n", v[i].layers[j]);
                /* overlayfs refuses the same lowerdir twice (old docker images repeat the empty
                 * layer): keep the topmost copy only.  Exact: an identical layer applied later
                 * overrides every path the lower copy touches. */
                bool again = false;
                for (size_t k = j + 1; v[i].layers[k] && !again; k++)
                        again = strcmp(v[i].layers[k], v[i].layers[j]) == 0;
                if (!again)
                        silo_strv_push(&lowers, silo_store_layer_path(s, v[i].layers[j]));
        }
        r = silo_store_read_blob(s, v[i].id, &cfg, &cfglen, err);
        image_name = silo_xstrdup(v[i].name);
        silo_image_recs_free(v, n);
        if (r < 0)
                goto early;
        if (!lowers[0]) { /* overlay needs a lowerdir: an empty image gets an empty one */
                r = silo_error_set(err, 0, "image '%s' has no layers", o->image);
                goto early;
        }

        dir = silo_xasprintf("%s/containers/%s", s->root, o->id);
        if (mkdir(dir, 0700) < 0) {
                r = silo_error_set(err, errno, "create container dir '%s'%s", dir,
                                   errno == EEXIST ? " (a container with this ID exists in the data root)"
                                                   : "");
                goto early;
        }
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0 || mkdirat(dfd, "upper", 0755) < 0 || mkdirat(dfd, "work", 0700) < 0 ||
            mkdirat(dfd, "rootfs", 0755) < 0) {
                r = silo_error_set(err, errno, "populate '%s'", dir);
                goto fail;
        }
        {
                _cleanup_close_ int m = openat(dfd, MARKER, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                if (m < 0) {
                        r = silo_error_set(err, errno, "create '%s/" MARKER "'", dir);
                        goto fail;
                }
        }
        r = silo_write_file_atomic_at(dfd, "layers", layers.data, layers.len, 0600, err);
        if (r < 0)
                goto fail;
        rootfs = silo_xasprintf("%s/rootfs", dir);
        upper = silo_xasprintf("%s/upper", dir);
        work = silo_xasprintf("%s/work", dir);
        r = mount_overlay(lowers, upper, work, rootfs, err);
        if (r < 0)
                goto fail;
        SILO_FAULT_POINT("image.ctr-after-mount");
        rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (rootfd < 0) {
                r = silo_error_set(err, errno, "open '%s'", rootfs);
                goto fail;
        }
        {
                struct silo_image_run_opts o2 = *o;
                o2.image = image_name;
                _cleanup_free_ char *img_user = config_user(cfg);
                r = silo_image_resolve_user(rootfd, o->user ? o->user : img_user, &user, err);
                if (r == 0)
                        r = silo_image_gen_config(cfg, cfglen, &o2, &user, dir, &out, err);
        }
        silo_user_spec_free(&user);
        if (r < 0)
                goto fail;
        r = silo_write_file_atomic_at(dfd, "config.json", out, strlen(out), 0600, err);
        if (r < 0)
                goto fail;
        silo_buf_free(&layers);
        *ret_dir = TAKE_PTR(dir);
        return 0;
fail : {
        silo_error_t e = NULL;
        if (silo_image_bundle_remove(dir, &e) < 0) {
                silo_warn("%s, ignoring", e->msg);
                silo_error_free(&e);
        }
}
early:
        silo_buf_free(&layers);
        return r;
}

/* Is `dir` a container dir of some data root?  Canonical, <root>/containers/<id>, marker present,
 * and <root> holds the store's layers/ and gc.lock. */
static int validate_dir(const char *dir, int *ret_parent, char **ret_id, silo_error_t *err)
{
        char real[PATH_MAX];
        _cleanup_free_ char *copy = NULL;
        _cleanup_close_ int parent = -1, root = -1;
        char *slash, *id;
        struct stat st;

        if (!dir || dir[0] != '/' || !realpath(dir, real) || strcmp(real, dir) != 0)
                return silo_error_set(err, EINVAL, "'%s' is not a canonical absolute path", dir ? dir : "");
        copy = silo_xstrdup(dir);
        slash = strrchr(copy, '/');
        id = slash + 1;
        *slash = '\0';
        if (!silo_id_valid(id) || strlen(copy) < 11 || strcmp(copy + strlen(copy) - 11, "/containers") != 0)
                return silo_error_set(err, EINVAL, "'%s' is not <data-root>/containers/<id>", dir);
        parent = open(copy, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (parent < 0)
                return silo_error_set(err, errno, "open '%s'", copy);
        root = openat(parent, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0 || fstatat(root, "layers", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
            fstatat(root, "gc.lock", &st, AT_SYMLINK_NOFOLLOW) < 0)
                return silo_error_set(err, EINVAL, "'%s' is not inside a silo data root", dir);
        {
                _cleanup_free_ char *m = silo_xasprintf("%s/" MARKER, id);
                if (fstatat(parent, m, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        return silo_error_set(err, EINVAL, "'%s' is not a silo container dir (no " MARKER ")",
                                              dir);
        }
        *ret_parent = TAKE_FD(parent);
        *ret_id = silo_xstrdup(id);
        return 0;
}

int silo_image_bundle_remove(const char *dir, silo_error_t *err)
{
        _cleanup_close_ int parent = -1;
        _cleanup_free_ char *id = NULL, *rootfs = NULL;
        struct stat st;
        int r;

        if (dir && stat(dir, &st) < 0 && errno == ENOENT)
                return 0; /* already removed (e.g. by the delete hook) */
        r = validate_dir(dir, &parent, &id, err);
        if (r < 0)
                return r;
        rootfs = silo_xasprintf("%s/rootfs", dir);
        for (int i = 0; i < 8 && umount2(rootfs, MNT_DETACH | UMOUNT_NOFOLLOW) == 0; i++)
                ;
        r = silo_rm_rf_at(parent, id);
        if (r < 0)
                return silo_error_set(err, -r, "remove '%s'", dir);
        return 0;
}

void silo_image_container_cleanup(const struct silo_spec *spec, const char *id)
{
        const char *dir = spec ? silo_spec_annotation(spec, SILO_ANNOT_IMAGE_DIR) : NULL;
        const char *base = dir ? strrchr(dir, '/') : NULL;
        silo_error_t e = NULL;

        if (dir == NULL)
                return;
        /* the annotation comes from a config file: only ever remove the dir of THIS container,
         * never another container's (validate_dir checks the rest) */
        if (base == NULL || strcmp(base + 1, id) != 0) {
                silo_warn("image container dir '%s' does not belong to container '%s', not removing it", dir, id);
                return;
        }
        if (silo_image_bundle_remove(dir, &e) < 0) {
                silo_warn("image container dir: %s, ignoring", e->msg);
                silo_error_free(&e);
        }
}
