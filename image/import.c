/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Import of an OCI image layout (directory), an OCI archive (tar of a layout) and `docker save`
 * tarballs of every generation (interfaces.md §4.4): an archive is first unpacked in PLAIN mode
 * into a temp dir of the store, then read like a directory.  Every file of the source is opened
 * with RESOLVE_IN_ROOT beneath the source dir (docker archives use symlinks between entries).
 *
 * Algorithm (§4.4): manifest.json wins; otherwise index.json + oci-layout.  Each config and
 * manifest blob is checked against its digest; each layer is unpacked into tmp/, its blob
 * digest (when the source names one) and its diff_id (from the config) are verified, and only
 * then it is renamed into layers/<diff_id>.  A layer already in the store is not read at all.
 */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include "image.h"
#include "json.h"
#include "../runtime/fd.h"
#include "../runtime/fault.h"
#include "../runtime/util.h"

#define BLOB_MAX (16 << 20)

struct source {
        int dirfd;
        char *config, *config_digest, *manifest, *manifest_digest, *name;
        size_t config_len, manifest_len;
        char **layer_paths;   /* relative to dirfd */
        char **layer_digests; /* expected blob digest or "" */
};

static void source_free(struct source *src)
{
        if (src->dirfd >= 0)
                close(src->dirfd);
        free(src->config);
        free(src->config_digest);
        free(src->manifest);
        free(src->manifest_digest);
        free(src->name);
        silo_strv_free(src->layer_paths);
        silo_strv_free(src->layer_digests);
}

static char *digest_of(const char *buf, size_t len)
{
        char d[72];
        struct silo_sha256 *h = silo_sha256_new();
        silo_sha256_update(h, buf, len);
        silo_sha256_final(h, d);
        return silo_xstrdup(d);
}

/* Read a small file of the source; when `expected` is set, verify its digest. */
static int read_src(struct source *src, const char *path, const char *expected, char **ret, size_t *len,
                    char **ret_digest, silo_error_t *err)
{
        _cleanup_close_ int fd = silo_open_in_root(src->dirfd, path, O_RDONLY, err);
        _cleanup_free_ char *d = NULL;
        int r;

        if (fd < 0)
                return fd;
        r = silo_read_fd(fd, BLOB_MAX, ret, len);
        if (r < 0)
                return silo_error_set(err, -r, "read '%s' (at most %d bytes)", path, BLOB_MAX);
        d = digest_of(*ret, *len);
        if (expected && (r = silo_digest_check(path, expected, d, err)) < 0) {
                free(TAKE_PTR(*ret));
                return r;
        }
        if (ret_digest)
                *ret_digest = TAKE_PTR(d);
        return 0;
}

static char *blob_path(const char *digest, silo_error_t *err)
{
        if (!silo_digest_valid(digest))
                return silo_error_set(err, 0, "unsupported or invalid digest '%s' (sha256 only)",
                                      digest ? digest : ""),
                       NULL;
        return silo_xasprintf("blobs/sha256/%s", digest + 7);
}

/* "blobs/sha256/<hex>" names its own digest (docker >= 25 manifest.json) */
static char *digest_from_path(const char *p)
{
        const char *b = strrchr(p, '/');
        _cleanup_free_ char *d = NULL;

        if (!b || !strstr(p, "sha256/"))
                return silo_xstrdup("");
        d = silo_xasprintf("sha256:%s", b + 1);
        return silo_digest_valid(d) ? TAKE_PTR(d) : silo_xstrdup("");
}

static int load_docker(struct source *src, const char *want, const char *sel, silo_error_t *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;
        yajl_val root = NULL, entry = NULL, tags, layers;
        int r;

        r = read_src(src, "manifest.json", NULL, &buf, &len, NULL, err);
        if (r < 0)
                return r;
        r = silo_json_parse("manifest.json", buf, &root, err);
        if (r < 0)
                return r;
        if (!YAJL_IS_ARRAY(root) || YAJL_GET_ARRAY(root)->len == 0) {
                r = silo_error_set(err, 0, "manifest.json: expected a non-empty array");
                goto out;
        }
        for (size_t i = 0; i < YAJL_GET_ARRAY(root)->len && !entry; i++) {
                yajl_val e = YAJL_GET_ARRAY(root)->values[i];
                tags = silo_json_get(e, "RepoTags", NULL, yajl_t_array);
                for (size_t j = 0; (want || sel) && tags && j < YAJL_GET_ARRAY(tags)->len; j++) {
                        yajl_val t = YAJL_GET_ARRAY(tags)->values[j];
                        _cleanup_free_ char *n =
                            YAJL_IS_STRING(t) ? silo_image_ref_normalize(YAJL_GET_STRING(t), NULL) : NULL;
                        if (n && ((sel && (strcmp(n, sel) == 0 || strcmp(strrchr(n, ':') + 1, sel) == 0)) ||
                                  (!sel && strcmp(n, want) == 0)))
                                entry = e;
                }
        }
        if (!entry) {
                if (sel || (want && YAJL_GET_ARRAY(root)->len > 1)) {
                        r = silo_error_set(err, 0, "manifest.json: no image tagged '%s'", sel ? sel : want);
                        goto out;
                }
                entry = YAJL_GET_ARRAY(root)->values[0];
        }
        tags = silo_json_get(entry, "RepoTags", NULL, yajl_t_array);
        if (tags && YAJL_GET_ARRAY(tags)->len > 0 && YAJL_IS_STRING(YAJL_GET_ARRAY(tags)->values[0]))
                src->name = silo_xstrdup(YAJL_GET_STRING(YAJL_GET_ARRAY(tags)->values[0]));
        const char *cfg = silo_json_string(entry, "Config", NULL);
        layers = silo_json_get(entry, "Layers", NULL, yajl_t_array);
        if (!cfg || !layers) {
                r = silo_error_set(err, 0, "manifest.json: entry without 'Config' or 'Layers'");
                goto out;
        }
        {
                _cleanup_free_ char *cd = digest_from_path(cfg);
                if (*cd == '\0' && strlen(cfg) == 69 && strcmp(cfg + 64, ".json") == 0) {
                        free(cd);
                        cd = silo_xasprintf("sha256:%.64s", cfg);
                        if (!silo_digest_valid(cd))
                                cd[0] = '\0';
                }
                r = read_src(src, cfg, *cd ? cd : NULL, &src->config, &src->config_len, &src->config_digest,
                             err);
                if (r < 0)
                        goto out;
        }
        src->layer_paths = silo_xmalloc0(sizeof(char *));
        src->layer_digests = silo_xmalloc0(sizeof(char *));
        for (size_t i = 0; i < YAJL_GET_ARRAY(layers)->len; i++) {
                yajl_val l = YAJL_GET_ARRAY(layers)->values[i];
                if (!YAJL_IS_STRING(l)) {
                        r = silo_error_set(err, 0, "manifest.json: /Layers/%zu is not a string", i);
                        goto out;
                }
                silo_strv_push(&src->layer_paths, silo_xstrdup(YAJL_GET_STRING(l)));
                silo_strv_push(&src->layer_digests, digest_from_path(YAJL_GET_STRING(l)));
        }
        src->manifest_digest = silo_xstrdup("");
out:
        yajl_tree_free(root);
        return r;
}

static bool platform_ok(yajl_val d)
{
        const char *os = silo_json_string(d, "platform", "os"),
                   *arch = silo_json_string(d, "platform", "architecture");
        return (!os || strcmp(os, "linux") == 0) && (!arch || strcmp(arch, "amd64") == 0);
}

static int load_oci(struct source *src, const char *want, const char *sel, const char *path,
                    silo_error_t *err)
{
        _cleanup_free_ char *buf = NULL, *mpath = NULL, *cpath = NULL, *tag = NULL;
        const char *want_tag = sel ? sel : want ? strrchr(want, ':') + 1 : NULL;
        yajl_val root = NULL, mans, chosen = NULL, m = NULL, layers;
        size_t len;
        int r;

        r = read_src(src, "index.json", NULL, &buf, &len, NULL, err);
        if (r < 0)
                return r;
        r = silo_json_parse("index.json", buf, &root, err);
        if (r < 0)
                return r;
        for (int depth = 0;; depth++) {
                mans = silo_json_get(root, "manifests", NULL, yajl_t_array);
                size_t n = mans ? YAJL_GET_ARRAY(mans)->len : 0, cands = 0;
                chosen = NULL;
                for (size_t i = 0; i < n; i++) {
                        yajl_val d = YAJL_GET_ARRAY(mans)->values[i];
                        const char *mt = silo_json_string(d, "mediaType", NULL);
                        const char *ref =
                            silo_json_string(d, "annotations", "org.opencontainers.image.ref.name");
                        const char *full = silo_json_string(d, "annotations", "io.containerd.image.name");
                        if (mt && !strstr(mt, "manifest") && !strstr(mt, "index"))
                                continue; /* unknown media types are not errors (§4.1) */
                        if (!platform_ok(d))
                                continue;
                        if (depth == 0 && want_tag && (n > 1 || sel)) {
                                _cleanup_free_ char *nf = full ? silo_image_ref_normalize(full, NULL) : NULL;
                                if (!((ref && strcmp(ref, want_tag) == 0) ||
                                      (nf && want && strcmp(nf, want) == 0) ||
                                      (full && strcmp(full, want_tag) == 0)))
                                        continue;
                        }
                        cands++;
                        if (!chosen)
                                chosen = d;
                        if (depth == 0 && !tag && (full || ref))
                                tag = silo_xstrdup(full ? full : ref);
                }
                if (!chosen) {
                        r = silo_error_set(err, 0, "index.json: no linux/amd64 image%s%s%s%s",
                                           want_tag ? " tagged '" : "", want_tag ? want_tag : "",
                                           want_tag ? "'" : "",
                                           sel ? "" : " (select one with PATH:TAG or --ref TAG)");
                        goto out;
                }
                if (depth == 0 && cands > 1) {
                        r = silo_error_set(
                            err, 0, "index.json: %zu images: choose one with PATH:TAG or --ref TAG", cands);
                        goto out;
                }
                const char *dg = silo_json_string(chosen, "digest", NULL);
                free(mpath);
                mpath = blob_path(dg, err);
                if (!mpath) {
                        r = -EINVAL;
                        goto out;
                }
                free(src->manifest);
                free(src->manifest_digest);
                src->manifest = NULL;
                r = read_src(src, mpath, dg, &src->manifest, &src->manifest_len, &src->manifest_digest, err);
                if (r < 0)
                        goto out;
                yajl_tree_free(root);
                root = NULL;
                r = silo_json_parse(mpath, src->manifest, &m, err);
                if (r < 0)
                        goto out;
                if (silo_json_get(m, "manifests", NULL, yajl_t_array) && depth < 2) {
                        root = m; /* a nested index: choose by platform */
                        m = NULL;
                        continue;
                }
                break;
        }
        const char *cd = silo_json_string(m, "config", "digest");
        cpath = blob_path(cd, err);
        if (!cpath) {
                r = -EINVAL;
                goto out;
        }
        r = read_src(src, cpath, cd, &src->config, &src->config_len, &src->config_digest, err);
        if (r < 0)
                goto out;
        layers = silo_json_get(m, "layers", NULL, yajl_t_array);
        src->layer_paths = silo_xmalloc0(sizeof(char *));
        src->layer_digests = silo_xmalloc0(sizeof(char *));
        for (size_t i = 0; layers && i < YAJL_GET_ARRAY(layers)->len; i++) {
                const char *ld = silo_json_string(YAJL_GET_ARRAY(layers)->values[i], "digest", NULL);
                char *lp = blob_path(ld, err);
                if (!lp) {
                        r = silo_error_wrap(err, "%s: /layers/%zu", mpath, i);
                        goto out;
                }
                silo_strv_push(&src->layer_paths, lp);
                silo_strv_push(&src->layer_digests, silo_xstrdup(ld));
        }
        /* name: the full reference, else <layout dir name>:<ref.name tag> */
        if (tag && strchr(tag, '/') == NULL && strchr(tag, ':') == NULL) {
                _cleanup_free_ char *copy = silo_xstrdup(path);
                char *b = basename(copy), *dot = strchr(b, '.');
                if (dot && dot != b)
                        *dot = '\0';
                for (char *c = b; *c; c++) /* image names are lowercase */
                        *c = (char)tolower((unsigned char)*c);
                src->name = silo_xasprintf("%s:%s", b, tag);
        } else if (tag)
                src->name = TAKE_PTR(tag);
out:
        yajl_tree_free(root);
        yajl_tree_free(m);
        return r;
}

/*
 * A layer is an unrelated directory tree, so its root gets FS_TOPDIR_FL (chattr +T): ext4's
 * Orlov allocator then spreads its subdirectories over block groups with free inodes instead of
 * packing them next to the store's other dirs.  On ext4 without a journal (this project's VM)
 * that matters a lot: inode allocation skips, one by one, every inode freed in the last 5-300 s
 * in the parent's group (fs/ext4/ialloc.c recently_deleted()), and a store that just removed a
 * container or a layer is full of them.  Measured: 3,300 creations 380-720 us each -> 83-98 us.
 * Filesystems without the flag (tmpfs, xfs, btrfs) refuse it: ignored.
 */
static void mark_topdir(int dfd)
{
        int flags = 0;
        if (ioctl(dfd, FS_IOC_GETFLAGS, &flags) == 0 && !(flags & FS_TOPDIR_FL)) {
                flags |= FS_TOPDIR_FL;
                (void)ioctl(dfd, FS_IOC_SETFLAGS, &flags);
        }
}

static int import_layer(struct silo_store *s, struct source *src, size_t i, const char *diff_id,
                        const struct silo_unpack_limits *lim, uint64_t *size, silo_error_t *err)
{
        const char *path = src->layer_paths[i], *want_blob = src->layer_digests[i];
        _cleanup_free_ char *tmp = NULL, *diffdir = NULL, *dest = NULL, *sz = NULL;
        _cleanup_close_ int fd = -1, dfd = -1;
        struct silo_unpack_result res;
        int r;

        fd = silo_open_in_root(src->dirfd, path, O_RDONLY, err);
        if (fd < 0)
                return silo_error_wrap(err, "layer %zu", i);
        r = silo_store_mktemp(s, &tmp, err);
        if (r < 0)
                return r;
        diffdir = silo_xasprintf("%s/diff", tmp);
        if (mkdirat(s->dirfd, diffdir, 0755) < 0 ||
            (dfd = openat(s->dirfd, diffdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
                r = silo_error_set(err, errno, "create '%s/%s'", s->root, diffdir);
                goto fail;
        }
        mark_topdir(dfd);
        r = silo_unpack_fd(fd, dfd, SILO_UNPACK_LAYER, lim, &res, err);
        if (r < 0) {
                silo_error_wrap(err, "layer '%s'", path);
                goto fail;
        }
        if (*want_blob && (r = silo_digest_check(path, want_blob, res.blob_digest, err)) < 0)
                goto fail;
        if ((r = silo_digest_check(path, diff_id, res.diff_id, err)) < 0) {
                silo_error_wrap(err, "layer %zu (diff_id from the image config)", i);
                goto fail;
        }
        sz = silo_xasprintf("%llu\n", (unsigned long long)res.size);
        {
                _cleanup_free_ char *szp = silo_xasprintf("%s/size", tmp);
                r = silo_write_file_atomic_at(s->dirfd, szp, sz, strlen(sz), 0600, err);
                if (r < 0)
                        goto fail;
        }
        *size = res.size;
        dest = silo_xasprintf("layers/%s", diff_id + 7);
        SILO_FAULT_POINT("image.before-layer-rename");
        if (renameat(s->dirfd, tmp, s->dirfd, dest) < 0) {
                if (errno != EEXIST && errno != ENOTEMPTY) {
                        r = silo_error_set(err, errno, "commit layer '%s'", diff_id);
                        goto fail;
                }
                silo_rm_rf_at(s->dirfd, tmp); /* a concurrent import committed it first */
        }
        if (*want_blob == '\0')
                want_blob = res.blob_digest;
        if (strcmp(want_blob, diff_id) != 0) {
                _cleanup_free_ char *bm = silo_xasprintf("blobmap/%s", want_blob + 7),
                                    *v = silo_xasprintf("%s\n", diff_id);
                silo_write_file_atomic_at(s->dirfd, bm, v, strlen(v), 0600, NULL);
        }
        return 0;
fail:
        silo_rm_rf_at(s->dirfd, tmp);
        return r;
}

static uint64_t stored_size(struct silo_store *s, const char *diff_id)
{
        _cleanup_free_ char *p = silo_xasprintf("layers/%s/size", diff_id + 7), *buf = NULL;
        uint64_t v = 0;
        if (silo_read_file_at(s->dirfd, p, 64, &buf, NULL, NULL) == 0) {
                buf[strcspn(buf, "\n")] = '\0';
                silo_parse_u64(buf, &v);
        }
        return v;
}

/*
 * Layers are independent until the image record names them, so the missing ones are unpacked by
 * up to one worker process per CPU (max 4).  The cost is file creation in the kernel (on this
 * project's test VM: ~0.2-0.9 ms per inode on ext4 without a journal), so a second CPU is the only
 * real lever for an image with several big layers.  Layers go to workers biggest-first, each
 * to the least loaded worker (by compressed size).  A worker reports a failure as one message
 * line (<= PIPE_BUF, so it is written atomically) and exits 1; the other workers finish their
 * layers, which stay in the store unreferenced until `image prune`, exactly as a sequential
 * import that fails at layer k keeps layers 0..k-1.  Workers die with silo (PDEATHSIG): a
 * killed import leaves only tmp/unpack-<pid>-* dirs, removed by the next import (store.c).
 */
#define IMPORT_WORKERS_MAX 4

static off_t layer_src_size(struct source *src, size_t i)
{
        struct stat st;
        _cleanup_close_ int fd = silo_open_in_root(src->dirfd, src->layer_paths[i], O_RDONLY, NULL);
        return fd >= 0 && fstat(fd, &st) == 0 ? st.st_size : 0;
}

static void import_worker(struct silo_store *s, struct source *src, const char *const *diff_ids,
                          const int *owner, size_t n, int me, const struct silo_unpack_limits *lim, int wfd)
{
        for (size_t i = 0; i < n; i++) {
                silo_error_t e = NULL;
                uint64_t size;
                if (owner[i] != me)
                        continue;
                if (import_layer(s, src, i, diff_ids[i], lim, &size, &e) < 0) {
                        char msg[PIPE_BUF];
                        _cleanup_free_ char *text = silo_error_text(e);
                        int len = snprintf(msg, sizeof(msg), "%zu %d %s\n", i, e ? e->code : 0,
                                           e && e->msg ? e->msg : text);
                        if (write(wfd, msg, (size_t)len < sizeof(msg) ? (size_t)len : sizeof(msg) - 1) < 0)
                                _exit(2);
                        _exit(1);
                }
                if (write(wfd, "+", 1) < 0)
                        _exit(2);
        }
        _exit(0);
}

static int import_layers(struct silo_store *s, struct source *src, const char *const *diff_ids,
                         const struct silo_unpack_limits *lim, bool progress, silo_error_t *err)
{
        size_t n = silo_strv_len((char **)diff_ids), missing = 0, done = 0;
        _cleanup_free_ int *owner = silo_xmalloc0(sizeof(int) * (n + 1));
        _cleanup_free_ off_t *sizes = silo_xmalloc0(sizeof(off_t) * (n + 1));
        off_t load[IMPORT_WORKERS_MAX] = {0};
        pid_t pids[IMPORT_WORKERS_MAX] = {0};
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        int workers, pfd[2] = {-1, -1}, r = 0;
        char buf[PIPE_BUF + 1];
        bool failed = false;

        for (size_t i = 0; i < n; i++) {
                owner[i] = -1;
                if (!silo_store_has_layer(s, diff_ids[i])) {
                        sizes[i] = layer_src_size(src, i);
                        missing++;
                }
        }
        workers = cpus < 1 ? 1 : cpus > IMPORT_WORKERS_MAX ? IMPORT_WORKERS_MAX : (int)cpus;
        if ((size_t)workers > missing)
                workers = (int)missing;
        if (workers <= 1) {
                for (size_t i = 0; i < n; i++) {
                        uint64_t size;
                        if (silo_store_has_layer(s, diff_ids[i]))
                                continue;
                        if (progress) {
                                printf("\rlayer %zu/%zu %.19s", i + 1, n, diff_ids[i]);
                                fflush(stdout);
                        }
                        if ((r = import_layer(s, src, i, diff_ids[i], lim, &size, err)) < 0)
                                return r;
                }
                return 0;
        }
        /* biggest first, each to the least loaded worker */
        for (size_t k = 0; k < missing; k++) {
                size_t best = n;
                int w = 0;
                for (size_t i = 0; i < n; i++)
                        if (owner[i] == -1 && !silo_store_has_layer(s, diff_ids[i]) &&
                            (best == n || sizes[i] > sizes[best]))
                                best = i;
                for (int j = 1; j < workers; j++)
                        if (load[j] < load[w])
                                w = j;
                owner[best] = w;
                load[w] += sizes[best];
        }
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return silo_error_set(err, errno, "pipe");
        fflush(NULL);
        pid_t parent = getpid();
        for (int j = 0; j < workers; j++) {
                pids[j] = fork();
                if (pids[j] < 0) {
                        r = silo_error_set(err, errno, "fork an import worker");
                        break;
                }
                if (pids[j] == 0) {
                        close(pfd[0]);
                        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                                _exit(1);
                        import_worker(s, src, diff_ids, owner, n, j, lim, pfd[1]);
                }
        }
        close(pfd[1]);
        for (;;) {
                ssize_t len = read(pfd[0], buf, sizeof(buf) - 1);
                if (len < 0 && errno == EINTR)
                        continue;
                if (len <= 0)
                        break;
                buf[len] = '\0';
                /* "+" per committed layer; an error message is the only thing its worker writes last */
                size_t plus = strspn(buf, "+");
                done += plus;
                if (progress && plus) {
                        printf("\rlayers %zu/%zu", done + (n - missing), n);
                        fflush(stdout);
                }
                if (buf[plus] != '\0' && !failed && r == 0) {
                        char *msg = buf + plus, *end;
                        unsigned long idx = strtoul(msg, &end, 10);
                        int code = (int)strtol(end, &end, 10);
                        char *nl = strchr(end, '\n'); /* another worker's "+" may follow it */
                        if (nl)
                                *nl = '\0';
                        failed = true;
                        r = silo_error_set(err, code, "%s", *end == ' ' ? end + 1 : end);
                        (void)idx; /* the others finish their layers: nothing half-written is left */
                }
        }
        close(pfd[0]);
        for (int j = 0; j < workers; j++) {
                int status;
                if (pids[j] <= 0)
                        continue;
                while (waitpid(pids[j], &status, 0) < 0 && errno == EINTR)
                        ;
                if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
                        r = silo_error_set(err, 0, "an import worker died (%s %d)",
                                           WIFSIGNALED(status) ? "signal" : "status",
                                           WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        }
        return r;
}

static int import_from(struct silo_store *s, struct source *src, const struct silo_import_opts *o,
                       const char *want, char **ret_name, silo_error_t *err)
{
        struct silo_image_rec rec = {0};
        struct silo_unpack_limits lim;
        yajl_val cfg = NULL, ids;
        _cleanup_free_ char *name = NULL;
        size_t n;
        int r;

        if (faccessat(src->dirfd, "manifest.json", F_OK, 0) == 0)
                r = load_docker(src, want, o->ref, err);
        else if (faccessat(src->dirfd, "index.json", F_OK, 0) == 0 &&
                 faccessat(src->dirfd, "oci-layout", F_OK, 0) == 0)
                r = load_oci(src, want, o->ref, o->path, err);
        else
                return silo_error_set(err, 0,
                                      "'%s': neither a docker archive (manifest.json) nor an OCI layout "
                                      "(index.json + oci-layout)",
                                      o->path);
        if (r < 0)
                return silo_error_wrap(err, "'%s'", o->path);
        if (want)
                name = silo_xstrdup(want);
        else if (src->name && (name = silo_image_ref_normalize(src->name, err)) == NULL)
                return silo_error_wrap(err, "'%s': image name", o->path);
        if (!name)
                return silo_error_set(err, 0, "'%s' names no image: give one with --name NAME[:TAG]",
                                      o->path);

        r = silo_json_parse("image config", src->config, &cfg, err);
        if (r < 0)
                return r;
        ids = silo_json_get(cfg, "rootfs", "diff_ids", yajl_t_array);
        const char *type = silo_json_string(cfg, "rootfs", "type");
        n = silo_strv_len(src->layer_paths);
        if (!type || strcmp(type, "layers") != 0 || !ids) {
                r = silo_error_set(
                    err, 0, "image config: /rootfs must be {\"type\": \"layers\", \"diff_ids\": [...]}");
                goto out;
        }
        if (!silo_json_string(cfg, "os", NULL) || !silo_json_string(cfg, "architecture", NULL)) {
                r = silo_error_set(err, 0, "image config: /os and /architecture are required");
                goto out;
        }
        if (YAJL_GET_ARRAY(ids)->len != n) {
                r = silo_error_set(err, 0, "image config lists %zu diff_ids but the manifest %zu layers",
                                   YAJL_GET_ARRAY(ids)->len, n);
                goto out;
        }
        silo_unpack_limits_default(&lim);
        rec.layers = silo_xmalloc0(sizeof(char *) * (n + 1));
        for (size_t i = 0; i < n; i++) {
                yajl_val d = YAJL_GET_ARRAY(ids)->values[i];
                const char *diff_id = YAJL_IS_STRING(d) ? YAJL_GET_STRING(d) : NULL;
                if (!silo_digest_valid(diff_id)) {
                        r = silo_error_set(err, 0, "image config: /rootfs/diff_ids/%zu: unsupported digest",
                                           i);
                        goto out;
                }
                rec.layers[i] = silo_xstrdup(diff_id);
        }
        r = import_layers(s, src, (const char *const *)rec.layers, &lim, o->progress, err);
        if (r < 0)
                goto out;
        for (size_t i = 0; i < n; i++)
                rec.size += stored_size(s, rec.layers[i]);
        if (o->progress)
                printf("\r\033[K");
        r = silo_store_put_blob(s, src->config_digest, src->config, src->config_len, err);
        if (r == 0 && src->manifest)
                r = silo_store_put_blob(s, src->manifest_digest, src->manifest, src->manifest_len, err);
        if (r < 0)
                goto out;
        char created[64];
        silo_rfc3339_now(created, sizeof(created));
        rec.name = name;
        rec.id = src->config_digest;
        rec.manifest = src->manifest_digest ? src->manifest_digest : (char *)"";
        rec.created = created;
        SILO_FAULT_POINT("image.before-index");
        r = silo_store_add_image(s, &rec, err);
        if (r == 0)
                *ret_name = TAKE_PTR(name);
out:
        silo_strv_free(rec.layers);
        yajl_tree_free(cfg);
        return r;
}

int silo_image_import(struct silo_store *s, const struct silo_import_opts *o, char **ret_name,
                      silo_error_t *err)
{
        struct source src = {.dirfd = -1};
        _cleanup_free_ char *want = NULL, *tmp = NULL;
        struct stat st;
        int r;

        r = silo_image_dl_load(err);
        if (r < 0)
                return r;
        if (o->name && (want = silo_image_ref_normalize(o->name, err)) == NULL)
                return -EINVAL;
        if (stat(o->path, &st) < 0)
                return silo_error_set(err, errno, "image '%s'", o->path);
        while (flock(s->gc_lock, LOCK_SH) < 0)
                if (errno != EINTR)
                        return silo_error_set(err, errno, "lock '%s/gc.lock'", s->root);
        silo_store_sweep_tmp(s);
        if (S_ISDIR(st.st_mode)) {
                src.dirfd = open(o->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (src.dirfd < 0) {
                        r = silo_error_set(err, errno, "open '%s'", o->path);
                        goto out;
                }
        } else {
                struct silo_unpack_limits lim;
                struct silo_unpack_result res;
                _cleanup_close_ int fd = open(o->path, O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        r = silo_error_set(err, errno, "open '%s'", o->path);
                        goto out;
                }
                r = silo_store_mktemp(s, &tmp, err);
                if (r < 0)
                        goto out;
                src.dirfd = openat(s->dirfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (src.dirfd < 0) {
                        r = silo_error_set(err, errno, "open '%s/%s'", s->root, tmp);
                        goto out;
                }
                silo_unpack_limits_default(&lim);
                r = silo_unpack_fd(fd, src.dirfd, SILO_UNPACK_PLAIN, &lim, &res, err);
                if (r < 0) {
                        silo_error_wrap(err, "'%s'", o->path);
                        goto out;
                }
        }
        r = import_from(s, &src, o, want, ret_name, err);
out:
        source_free(&src);
        if (tmp)
                silo_rm_rf_at(s->dirfd, tmp);
        flock(s->gc_lock, LOCK_UN);
        return r;
}
