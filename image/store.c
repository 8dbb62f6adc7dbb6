/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The image store (layout in image.h).  images.json is only rewritten under index.lock
 * (atomic rename); prune holds gc.lock exclusively while imports hold it shared, so a layer an
 * import just committed but not yet registered is never collected.
 */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include "image.h"
#include "json.h"
#include "../runtime/log.h"
#include "../runtime/util.h"

const char *silo_data_root_default(void)
{
        const char *e = getenv("SILO_DATA_ROOT");
        return e && *e ? e : SILO_DATA_ROOT_DEFAULT;
}

/* ---- references ---- */

static bool name_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
               c == '/' || c == ':';
}

char *silo_image_ref_normalize(const char *ref, silo_error_t *err)
{
        const char *colon, *slash;
        size_t nlen;

        if (ref == NULL || *ref == '\0')
                return silo_error_set(err, 0, "empty image name"), NULL;
        if (strlen(ref) > 255)
                return silo_error_set(err, 0, "image name '%.32s...' is longer than 255 bytes", ref), NULL;
        slash = strrchr(ref, '/');
        colon = strrchr(ref, ':');
        if (colon && slash && colon < slash) /* registry:port/name */
                colon = NULL;
        nlen = colon ? (size_t)(colon - ref) : strlen(ref);
        if (nlen == 0 || ref[0] == '/' || ref[nlen - 1] == '/' || ref[0] == '.' || ref[0] == '-')
                return silo_error_set(err, 0, "invalid image name '%s'", ref), NULL;
        for (size_t i = 0; i < nlen; i++)
                if (!name_char(ref[i]) || (ref[i] == '/' && ref[i + 1] == '/') ||
                    (ref[i] == '.' && ref[i + 1] == '.'))
                        return silo_error_set(err, 0,
                                              "invalid image name '%s' (lowercase letters, digits, "
                                              "'._-/' only)",
                                              ref),
                               NULL;
        {
                /* a ':' inside the name is a registry port: first component, digits only */
                const char *pc = memchr(ref, ':', nlen), *fs = memchr(ref, '/', nlen);
                if (pc &&
                    (!fs || pc > fs || (size_t)(fs - pc - 1) != strspn(pc + 1, "0123456789") || fs == pc + 1))
                        return silo_error_set(err, 0, "invalid image name '%s'", ref), NULL;
        }
        if (colon) {
                const char *t = colon + 1;
                size_t tl = strlen(t);
                if (tl == 0 || tl > 128 || !(isalnum((unsigned char)t[0]) || t[0] == '_'))
                        return silo_error_set(err, 0, "invalid tag in image name '%s'", ref), NULL;
                for (size_t i = 0; i < tl; i++)
                        if (!(isalnum((unsigned char)t[i]) || t[i] == '_' || t[i] == '.' || t[i] == '-'))
                                return silo_error_set(err, 0, "invalid tag in image name '%s'", ref), NULL;
                return silo_xstrdup(ref);
        }
        return silo_xasprintf("%s:latest", ref);
}

/* ---- store ---- */

int silo_store_open(struct silo_store *s, const char *root, bool create, silo_error_t *err)
{
        static const char *const dirs[] = {"blobs", "blobs/sha256", "blobmap", "layers", "tmp", "containers"};

        s->dirfd = -1;
        s->gc_lock = -1;
        s->root = silo_xstrdup(root);
        if (root[0] != '/')
                return silo_error_set(err, 0, "--data-root '%s' must be an absolute path", root);
        if (create) {
                /* mkdir -p of the root itself; the store dirs are private (0700) */
                _cleanup_free_ char *p = silo_xstrdup(root);
                for (char *c = p + 1;; c++) {
                        if (*c == '/' || *c == '\0') {
                                char saved = *c;
                                *c = '\0';
                                if (mkdir(p, 0700) < 0 && errno != EEXIST)
                                        return silo_error_set(err, errno, "create data root '%s'", p);
                                *c = saved;
                                if (saved == '\0')
                                        break;
                        }
                }
        }
        s->dirfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->dirfd < 0)
                return silo_error_set(err, errno, "open data root '%s'", root);
        {
                /* canonical: container dirs recorded in configs are checked against their
                 * realpath() when they are removed */
                char *real = realpath(root, NULL);
                if (real) {
                        free(s->root);
                        s->root = real;
                }
        }
        for (size_t i = 0; create && i < ARRAY_SIZE(dirs); i++)
                if (mkdirat(s->dirfd, dirs[i], 0700) < 0 && errno != EEXIST)
                        return silo_error_set(err, errno, "create '%s/%s'", root, dirs[i]);
        s->gc_lock = openat(s->dirfd, "gc.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (s->gc_lock < 0 && (create || errno != ENOENT))
                return silo_error_set(err, errno, "open '%s/gc.lock'", root);
        return 0;
}

void silo_store_close(struct silo_store *s)
{
        if (s->dirfd >= 0)
                close(s->dirfd);
        if (s->gc_lock >= 0)
                close(s->gc_lock);
        free(s->root);
        s->root = NULL;
        s->dirfd = s->gc_lock = -1;
}

int silo_store_lock_index(struct silo_store *s, silo_error_t *err)
{
        int fd = openat(s->dirfd, "index.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);

        if (fd < 0)
                return silo_error_set(err, errno, "open '%s/index.lock'", s->root);
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR) {
                        close(fd);
                        return silo_error_set(err, errno, "lock '%s/index.lock'", s->root);
                }
        return fd;
}

void silo_image_recs_free(struct silo_image_rec *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(v[i].name);
                free(v[i].id);
                free(v[i].manifest);
                free(v[i].created);
                silo_strv_free(v[i].layers);
        }
        free(v);
}

int silo_store_read_index(struct silo_store *s, struct silo_image_rec **ret, size_t *n, silo_error_t *err)
{
        _cleanup_free_ char *buf = NULL;
        yajl_val root = NULL, arr;
        struct silo_image_rec *v = NULL;
        int r;

        *ret = NULL;
        *n = 0;
        r = silo_read_file_at(s->dirfd, "images.json", 64 << 20, &buf, NULL, err);
        if (r == -ENOENT) {
                silo_error_free(err);
                return 0;
        }
        if (r < 0)
                return r;
        r = silo_json_parse("images.json", buf, &root, err);
        if (r < 0)
                return r;
        arr = silo_json_get(root, "images", NULL, yajl_t_array);
        size_t len = arr ? YAJL_GET_ARRAY(arr)->len : 0;
        v = silo_xmalloc0(sizeof(*v) * (len + 1));
        for (size_t i = 0; i < len; i++) {
                yajl_val o = YAJL_GET_ARRAY(arr)->values[i],
                         l = silo_json_get(o, "layers", NULL, yajl_t_array);
                yajl_val sz = silo_json_get(o, "size", NULL, yajl_t_number);
                if (!silo_json_string(o, "name", NULL) || !silo_digest_valid(silo_json_string(o, "id", NULL)))
                        continue;
                struct silo_image_rec *x = &v[(*n)++];
                x->name = silo_xstrdup(silo_json_string(o, "name", NULL));
                x->id = silo_xstrdup(silo_json_string(o, "id", NULL));
                x->manifest = silo_xstrdup(silo_json_string(o, "manifest", NULL) ?: "");
                x->created = silo_xstrdup(silo_json_string(o, "created", NULL) ?: "");
                x->size = sz && YAJL_IS_INTEGER(sz) ? (uint64_t)YAJL_GET_INTEGER(sz) : 0;
                x->layers = silo_xmalloc0(sizeof(char *));
                for (size_t j = 0; l && j < YAJL_GET_ARRAY(l)->len; j++)
                        if (YAJL_IS_STRING(YAJL_GET_ARRAY(l)->values[j]) &&
                            silo_digest_valid(YAJL_GET_STRING(YAJL_GET_ARRAY(l)->values[j])))
                                silo_strv_push(&x->layers,
                                               silo_xstrdup(YAJL_GET_STRING(YAJL_GET_ARRAY(l)->values[j])));
        }
        yajl_tree_free(root);
        *ret = v;
        return 0;
}

int silo_store_write_index(struct silo_store *s, const struct silo_image_rec *v, size_t n, silo_error_t *err)
{
        struct silo_buf b = {0};
        int r;

        silo_buf_puts(&b, "{\"images\":[");
        for (size_t i = 0; i < n; i++) {
                silo_buf_puts(&b, i ? ",\n{\"name\":" : "\n{\"name\":");
                silo_json_str(&b, v[i].name);
                silo_buf_puts(&b, ",\"id\":");
                silo_json_str(&b, v[i].id);
                silo_buf_puts(&b, ",\"manifest\":");
                silo_json_str(&b, v[i].manifest);
                silo_buf_puts(&b, ",\"created\":");
                silo_json_str(&b, v[i].created);
                silo_buf_printf(&b, ",\"size\":%llu,\"layers\":[", (unsigned long long)v[i].size);
                for (size_t j = 0; v[i].layers && v[i].layers[j]; j++) {
                        if (j)
                                silo_buf_putc(&b, ',');
                        silo_json_str(&b, v[i].layers[j]);
                }
                silo_buf_puts(&b, "]}");
        }
        silo_buf_puts(&b, "\n]}\n");
        r = silo_write_file_atomic_at(s->dirfd, "images.json", b.data, b.len, 0600, err);
        silo_buf_free(&b);
        return r;
}

int silo_store_find(const struct silo_image_rec *v, size_t n, const char *ref, silo_error_t *err)
{
        _cleanup_free_ char *norm = silo_image_ref_normalize(ref, NULL);
        const char *hex = silo_str_has_prefix(ref, "sha256:") ? ref + 7 : ref;
        size_t hl = strlen(hex);
        int found = -1;

        for (size_t i = 0; norm && i < n; i++)
                if (strcmp(v[i].name, norm) == 0)
                        return (int)i;
        if (hl >= 12 && hl <= 64 && strspn(hex, "0123456789abcdef") == hl)
                for (size_t i = 0; i < n; i++)
                        if (strncmp(v[i].id + 7, hex, hl) == 0) {
                                if (found >= 0 && strcmp(v[found].id, v[i].id) != 0)
                                        return silo_error_set(err, 0, "image id prefix '%s' is ambiguous",
                                                              ref);
                                if (found < 0)
                                        found = (int)i;
                        }
        if (found >= 0)
                return found;
        return silo_error_set(err, ENOENT, "image '%s' not found", ref);
}

char *silo_store_layer_path(struct silo_store *s, const char *diff_id)
{
        return silo_xasprintf("%s/layers/%s/diff", s->root, diff_id + 7);
}

bool silo_store_has_layer(struct silo_store *s, const char *diff_id)
{
        _cleanup_free_ char *p = silo_xasprintf("layers/%s/diff", diff_id + 7);
        return faccessat(s->dirfd, p, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int silo_store_put_blob(struct silo_store *s, const char *digest, const void *data, size_t len,
                        silo_error_t *err)
{
        _cleanup_free_ char *name = silo_xasprintf("blobs/sha256/%s", digest + 7);

        if (faccessat(s->dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return 0;
        return silo_write_file_atomic_at(s->dirfd, name, data, len, 0600, err);
}

int silo_store_read_blob(struct silo_store *s, const char *digest, char **ret, size_t *len, silo_error_t *err)
{
        _cleanup_free_ char *name = silo_xasprintf("blobs/sha256/%s", digest + 7);
        return silo_read_file_at(s->dirfd, name, 16 << 20, ret, len, err);
}

int silo_store_add_image(struct silo_store *s, const struct silo_image_rec *rec, silo_error_t *err)
{
        _cleanup_close_ int lock = silo_store_lock_index(s, err);
        struct silo_image_rec *v = NULL;
        size_t n = 0, i;
        int r;

        if (lock < 0)
                return lock;
        r = silo_store_read_index(s, &v, &n, err);
        if (r < 0)
                return r;
        for (i = 0; i < n; i++)
                if (strcmp(v[i].name, rec->name) == 0)
                        break;
        if (i < n) {
                free(v[i].id);
                free(v[i].manifest);
                free(v[i].created);
                silo_strv_free(v[i].layers);
        } else {
                v = silo_xrealloc(v, sizeof(*v) * (n + 1));
                v[n++].name = silo_xstrdup(rec->name);
        }
        v[i].id = silo_xstrdup(rec->id);
        v[i].manifest = silo_xstrdup(rec->manifest);
        v[i].created = silo_xstrdup(rec->created);
        v[i].layers = silo_strv_dup(rec->layers);
        v[i].size = rec->size;
        r = silo_store_write_index(s, v, n, err);
        silo_image_recs_free(v, n);
        return r;
}

int silo_store_remove_image(struct silo_store *s, const char *ref, silo_error_t *err)
{
        _cleanup_close_ int lock = silo_store_lock_index(s, err);
        struct silo_image_rec *v = NULL;
        size_t n = 0;
        int r, i;

        if (lock < 0)
                return lock;
        r = silo_store_read_index(s, &v, &n, err);
        if (r < 0)
                return r;
        i = silo_store_find(v, n, ref, err);
        if (i < 0) {
                silo_image_recs_free(v, n);
                return i;
        }
        struct silo_image_rec gone = v[i];
        memmove(&v[i], &v[i + 1], sizeof(*v) * (n - (size_t)i - 1));
        r = silo_store_write_index(s, v, n - 1, err);
        silo_image_recs_free(v, n - 1);
        free(gone.name);
        free(gone.id);
        free(gone.manifest);
        free(gone.created);
        silo_strv_free(gone.layers);
        return r;
}

/* tmp/ entries are named after their owner, unpack-<pid>-<start time>-XXXXXX, so that one left
 * by a killed import (SIGKILL runs no cleanup) can be told from one in use: see sweep_tmp. */
int silo_store_mktemp(struct silo_store *s, char **ret_rel, silo_error_t *err)
{
        _cleanup_free_ char *p = silo_xasprintf("%s/tmp/unpack-%d-%llu-XXXXXX", s->root, (int)getpid(),
                                                silo_proc_start_time(getpid()));

        if (mkdtemp(p) == NULL)
                return silo_error_set(err, errno, "create a temporary directory in '%s/tmp'", s->root);
        *ret_rel = silo_xstrdup(p + strlen(s->root) + 1);
        return 0;
}

static bool strv_has(char **v, const char *s)
{
        for (size_t i = 0; v && v[i]; i++)
                if (strcmp(v[i], s) == 0)
                        return true;
        return false;
}

/* a store subdirectory for readdir (NULL when missing) */
static DIR *store_opendir(struct silo_store *s, const char *sub)
{
        int fd = openat(s->dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

        if (fd >= 0 && d == NULL)
                close(fd);
        return d;
}

/* Layers referenced by existing containers (silo_image_container_layers). */
static void container_layers(struct silo_store *s, char ***refs)
{
        _cleanup_closedir_ DIR *d = store_opendir(s, "containers");
        struct dirent *de;

        if (d == NULL)
                return;
        while ((de = readdir(d)) != NULL)
                if (de->d_name[0] != '.')
                        (void)silo_image_container_layers(dirfd(d), de->d_name, refs, NULL);
}

static uint64_t layer_size(int dirfd, const char *hex)
{
        _cleanup_free_ char *p = silo_xasprintf("%s/size", hex), *buf = NULL;
        uint64_t v = 0;

        if (silo_read_file_at(dirfd, p, 64, &buf, NULL, NULL) == 0) {
                buf[strcspn(buf, "\n")] = '\0';
                silo_parse_u64(buf, &v);
        }
        return v;
}

/* Remove every entry of dir `sub` for which keep(name) is false. */
static void sweep(struct silo_store *s, const char *sub, char **keep, uint64_t *nret, uint64_t *bytes)
{
        _cleanup_closedir_ DIR *d = store_opendir(s, sub);
        struct dirent *de;

        if (d == NULL)
                return;
        while ((de = readdir(d)) != NULL) {
                _cleanup_free_ char *dg = silo_xasprintf("sha256:%s", de->d_name);
                if (de->d_name[0] == '.' || (keep && strv_has(keep, dg)))
                        continue;
                if (bytes)
                        *bytes += layer_size(dirfd(d), de->d_name);
                if (silo_rm_rf_at(dirfd(d), de->d_name) == 0 && nret)
                        (*nret)++;
        }
}

void silo_store_sweep_tmp(struct silo_store *s)
{
        _cleanup_closedir_ DIR *d = store_opendir(s, "tmp");
        struct dirent *de;

        if (d == NULL)
                return;
        while ((de = readdir(d)) != NULL) {
                int pid;
                unsigned long long start;
                if (de->d_name[0] == '.')
                        continue;
                /* unparsable names are an older silo's: only prune (holding gc.lock) removes them */
                if (sscanf(de->d_name, "unpack-%d-%llu-", &pid, &start) != 2 || pid <= 0 ||
                    silo_proc_alive(pid, start))
                        continue;
                silo_debug("removing '%s/tmp/%s' left by a killed import", s->root, de->d_name);
                silo_rm_rf_at(dirfd(d), de->d_name);
        }
}

int silo_store_prune(struct silo_store *s, uint64_t *ret_layers, uint64_t *ret_bytes, silo_error_t *err)
{
        _cleanup_strv_free_ char **layers = silo_xmalloc0(sizeof(char *)),
                                 **blobs = silo_xmalloc0(sizeof(char *));
        _cleanup_close_ int lock = -1;
        struct silo_image_rec *v = NULL;
        size_t n = 0;
        int r;

        *ret_layers = *ret_bytes = 0;
        /* no import in flight from here on: they hold gc.lock shared */
        while (flock(s->gc_lock, LOCK_EX) < 0)
                if (errno != EINTR)
                        return silo_error_set(err, errno, "lock '%s/gc.lock'", s->root);
        lock = silo_store_lock_index(s, err);
        if (lock < 0)
                return lock;
        r = silo_store_read_index(s, &v, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                for (size_t j = 0; v[i].layers[j]; j++)
                        silo_strv_push(&layers, silo_xstrdup(v[i].layers[j]));
                silo_strv_push(&blobs, silo_xstrdup(v[i].id));
                if (silo_digest_valid(v[i].manifest))
                        silo_strv_push(&blobs, silo_xstrdup(v[i].manifest));
        }
        silo_image_recs_free(v, n);
        container_layers(s, &layers);
        sweep(s, "layers", layers, ret_layers, ret_bytes);
        sweep(s, "blobs/sha256", blobs, NULL, NULL);
        sweep(s, "tmp", NULL, NULL, NULL);
        /* blobmap entries whose layer is gone */
        {
                _cleanup_close_ int fd = openat(s->dirfd, "blobmap", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                _cleanup_closedir_ DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
                struct dirent *de;
                if (d)
                        fd = -1;
                while (d && (de = readdir(d)) != NULL) {
                        _cleanup_free_ char *buf = NULL;
                        if (de->d_name[0] == '.')
                                continue;
                        if (silo_read_file_at(dirfd(d), de->d_name, 128, &buf, NULL, NULL) == 0) {
                                buf[strcspn(buf, "\n")] = '\0';
                                if (silo_digest_valid(buf) && silo_store_has_layer(s, buf))
                                        continue;
                        }
                        unlinkat(dirfd(d), de->d_name, 0);
                }
        }
        flock(s->gc_lock, LOCK_UN);
        return 0;
}
