/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Safe unpacking of a (hostile) tar stream into an empty directory.
 *
 * Invariants:
 *  - every entry name is split into components; absolute names, "..", over-long names and
 *    components are refused before anything is created for that entry;
 *  - the parent of an entry is opened beneath the root with openat2(RESOLVE_BENEATH |
 *    RESOLVE_NO_SYMLINKS): a symlink anywhere in a parent fails the whole unpack (a layer's own
 *    symlinks are created, never followed); the entry itself is created relative to that fd
 *    with O_EXCL / O_NOFOLLOW, so nothing is ever written outside the root;
 *  - hard links must name an entry that already exists in the same tree (same lookup rules);
 *  - device nodes only when running as root, setuid/setgid bits only for root, xattrs only
 *    user.* and security.capability (a tar must not forge trusted.overlay.* metadata);
 *  - the stream is hashed twice while it is read: as stored (blob digest) and decompressed
 *    (diff_id), including any trailing bytes after the end-of-archive blocks;
 *  - bounds on entries, total bytes and name length turn zip-bomb-like inputs into errors.
 * On error the caller removes the whole directory (it is a temp dir in the store).
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "dl.h"
#include "image.h"
#include "../runtime/fault.h"
#include "../runtime/log.h"
#include "../runtime/util.h"

#define BUFSZ (128 * 1024)

void silo_unpack_limits_default(struct silo_unpack_limits *l)
{
        uint64_t v;
        const char *e;

        l->max_entries = 1000000;
        l->max_bytes = 64ULL << 30;
        l->max_name = 4096;
        e = getenv("SILO_IMAGE_MAX_ENTRIES");
        if (e && silo_parse_u64(e, &v) == 0)
                l->max_entries = v;
        e = getenv("SILO_IMAGE_MAX_BYTES");
        if (e && silo_parse_u64(e, &v) == 0)
                l->max_bytes = v;
}

int silo_whiteout_kind(const char *base, const char **target)
{
        if (strncmp(base, ".wh.", 4) != 0)
                return 0;
        if (strcmp(base, ".wh..wh..opq") == 0)
                return 1;
        if (base[4] == '\0' || strcmp(base + 4, ".") == 0 || strcmp(base + 4, "..") == 0)
                return -EINVAL;
        *target = base + 4;
        return 2;
}

/* ---- the two-stage reader: fd -> (hash) -> decompressor -> (hash) -> tar parser ---- */

struct reader {
        int fd;
        struct silo_sha256 *blob, *diff;
        struct archive *outer;
        char *buf, *dbuf;
        bool outer_eof;
};

static la_ssize_t outer_read(struct archive *a, void *data, const void **out)
{
        struct reader *r = data;
        ssize_t n;

        do
                n = read(r->fd, r->buf, BUFSZ);
        while (n < 0 && errno == EINTR);
        if (n > 0)
                silo_sha256_update(r->blob, r->buf, (size_t)n);
        *out = r->buf;
        return n;
}

static la_ssize_t inner_read(struct archive *a, void *data, const void **out)
{
        struct reader *r = data;
        la_ssize_t n;

        if (r->outer_eof)
                return 0;
        n = SA(archive_read_data)(r->outer, r->dbuf, BUFSZ);
        if (n > 0)
                silo_sha256_update(r->diff, r->dbuf, (size_t)n);
        else if (n == 0)
                r->outer_eof = true;
        *out = r->dbuf;
        return n;
}

/* ---- path handling ---- */

struct unpacker {
        int rootfd;
        enum silo_unpack_mode mode;
        const struct silo_unpack_limits *lim;
        bool root;
        /* cache of the last parent directory (tar entries come grouped by directory) */
        char *cached;
        int cached_fd;
};

/* Split "a/./b/c" into clean components in place; refuse absolute names and "..". */
static int clean_name(const char *name, size_t max, char **ret, silo_error_t *err)
{
        struct silo_buf b = {0};
        const char *p = name;

        if (strlen(name) > max)
                return silo_error_set(err, ENAMETOOLONG, "entry name longer than %zu bytes", max);
        if (name[0] == '/')
                return silo_error_set(err, 0, "entry '%s': absolute names are not allowed", name);
        while (*p) {
                size_t len = strcspn(p, "/");
                if (len == 2 && p[0] == '.' && p[1] == '.') {
                        silo_buf_free(&b);
                        return silo_error_set(err, 0, "entry '%s': '..' components are not allowed", name);
                }
                if (len > 255) {
                        silo_buf_free(&b);
                        return silo_error_set(err, ENAMETOOLONG, "entry '%.64s...': component too long",
                                              name);
                }
                if (len > 0 && !(len == 1 && p[0] == '.')) {
                        if (b.len)
                                silo_buf_putc(&b, '/');
                        silo_buf_put(&b, p, len);
                }
                p += len;
                while (*p == '/')
                        p++;
        }
        *ret = b.data ? b.data : silo_xstrdup("");
        return 0;
}

static int open_beneath(int dirfd, const char *path)
{
        struct open_how how = {
            .flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
            .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
        return fd < 0 ? -errno : fd;
}

/* Open the directory `dir` (clean, relative) beneath the root; create missing components
 * with mode 0755 when `create`.  Returns an fd the caller must not close (cached). */
static int open_parent(struct unpacker *u, const char *dir, bool create, silo_error_t *err)
{
        int fd;

        if (*dir == '\0')
                return u->rootfd;
        if (u->cached && strcmp(u->cached, dir) == 0)
                return u->cached_fd;
        fd = open_beneath(u->rootfd, dir);
        if (fd == -ENOENT && create) {
                /* walk and create the missing components one by one */
                _cleanup_free_ char *copy = silo_xstrdup(dir);
                int cur = -1;
                char *save = NULL;
                for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                        int next = open_beneath(cur < 0 ? u->rootfd : cur, c);
                        if (next == -ENOENT) {
                                if (mkdirat(cur < 0 ? u->rootfd : cur, c, 0755) < 0 && errno != EEXIST) {
                                        next = -errno;
                                } else
                                        next = open_beneath(cur < 0 ? u->rootfd : cur, c);
                        }
                        if (cur >= 0)
                                close(cur);
                        if (next < 0) {
                                cur = next;
                                break;
                        }
                        cur = next;
                }
                fd = cur;
        }
        if (fd == -ELOOP || fd == -ENOTDIR || fd == -EXDEV)
                return silo_error_set(err, -fd, "parent directory '%s' is a symlink or not a directory", dir);
        if (fd < 0)
                return silo_error_set(err, -fd, "open parent directory '%s'", dir);
        if (u->cached_fd >= 0)
                close(u->cached_fd);
        free(u->cached);
        u->cached = silo_xstrdup(dir);
        u->cached_fd = fd;
        return fd;
}

static void drop_cache(struct unpacker *u)
{
        if (u->cached_fd >= 0)
                close(u->cached_fd);
        u->cached_fd = -1;
        free(u->cached);
        u->cached = NULL;
}

/* Remove whatever is at parent/base (a later entry replaces an earlier one). */
static int remove_existing(struct unpacker *u, int parent, const char *base, bool keep_dir)
{
        struct stat st;

        if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (S_ISDIR(st.st_mode)) {
                if (keep_dir)
                        return 1;
                /* forget the cached path but keep its fd open: it may be `parent` itself; the
                 * next open_parent() closes it */
                free(u->cached);
                u->cached = NULL;
                return silo_rm_rf_at(parent, base);
        }
        return unlinkat(parent, base, 0) < 0 ? -errno : 0;
}

static mode_t entry_perm(struct unpacker *u, mode_t mode)
{
        if (u->mode == SILO_UNPACK_PLAIN)
                return (mode & 0111) ? 0755 : 0644;
        return mode & (u->root ? 07777 : 01777);
}

static void apply_xattrs(struct unpacker *u, struct archive_entry *e, int fd, const char *name)
{
        const char *k;
        const void *v;
        size_t len;

        if (u->mode == SILO_UNPACK_PLAIN || SA(archive_entry_xattr_reset)(e) == 0)
                return;
        while (SA(archive_entry_xattr_next)(e, &k, &v, &len) == ARCHIVE_OK) {
                if (strncmp(k, "user.", 5) != 0 && strcmp(k, "security.capability") != 0) {
                        silo_debug("layer entry '%s': xattr '%s' not allowed, ignoring", name, k);
                        continue;
                }
                if (fsetxattr(fd, k, v, len, 0) < 0)
                        silo_debug("layer entry '%s': set xattr '%s': %m, ignoring", name, k);
        }
}

static int set_owner_mode(struct unpacker *u, struct archive_entry *e, int fd, const char *name,
                          silo_error_t *err)
{
        if (u->mode != SILO_UNPACK_PLAIN && u->root &&
            fchown(fd, (uid_t)SA(archive_entry_uid)(e), (gid_t)SA(archive_entry_gid)(e)) < 0)
                return silo_error_set(err, errno, "entry '%s': chown", name);
        /* after chown, which clears setuid bits */
        if (fchmod(fd, entry_perm(u, SA(archive_entry_mode)(e))) < 0)
                return silo_error_set(err, errno, "entry '%s': chmod", name);
        return 0;
}

static int write_file(struct unpacker *u, struct archive *a, struct archive_entry *e, int parent,
                      const char *base, const char *name, silo_error_t *err)
{
        _cleanup_close_ int fd =
            openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        const void *buf;
        size_t len;
        la_int64_t off;
        int r;

        if (fd < 0)
                return silo_error_set(err, errno, "entry '%s': create", name);
        while ((r = SA(archive_read_data_block)(a, &buf, &len, &off)) == ARCHIVE_OK) {
                const char *p = buf;
                while (len > 0) {
                        ssize_t n = pwrite(fd, p, len, off);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                return silo_error_set(err, errno, "entry '%s': write", name);
                        p += n;
                        len -= (size_t)n;
                        off += n;
                }
        }
        if (r != ARCHIVE_EOF)
                return silo_error_set(err, SA(archive_errno)(a), "entry '%s': read: %s", name,
                                      SA(archive_error_string)(a));
        if (ftruncate(fd, SA(archive_entry_size)(e)) < 0) /* sparse tails */
                return silo_error_set(err, errno, "entry '%s': truncate", name);
        r = set_owner_mode(u, e, fd, name, err);
        if (r < 0)
                return r;
        apply_xattrs(u, e, fd, name);
        if (u->mode != SILO_UNPACK_PLAIN) {
                struct timespec ts[2] = {{SA(archive_entry_mtime)(e), SA(archive_entry_mtime_nsec)(e)}};
                ts[1] = ts[0];
                futimens(fd, ts);
        }
        return 0;
}

static int do_entry(struct unpacker *u, struct archive *a, struct archive_entry *e, silo_error_t *err)
{
        _cleanup_free_ char *name = NULL, *dir = NULL;
        const char *raw = SA(archive_entry_pathname)(e), *base, *hl = SA(archive_entry_hardlink)(e), *wt;
        mode_t type = SA(archive_entry_filetype)(e);
        int parent, kind = 0, r;
        char *slash;

        if (raw == NULL)
                return silo_error_set(err, 0, "entry without a name");
        r = clean_name(raw, u->lim->max_name, &name, err);
        if (r < 0)
                return r;
        if (*name == '\0') { /* the root itself ("./") */
                if (type == AE_IFDIR && u->mode != SILO_UNPACK_PLAIN)
                        return set_owner_mode(u, e, u->rootfd, ".", err);
                return 0;
        }
        slash = strrchr(name, '/');
        dir = slash ? strndup(name, (size_t)(slash - name)) : silo_xstrdup("");
        base = slash ? slash + 1 : name;
        if (u->mode == SILO_UNPACK_LAYER) {
                kind = silo_whiteout_kind(base, &wt);
                if (kind < 0)
                        return silo_error_set(err, 0, "entry '%s': invalid whiteout name", raw);
        }
        parent = open_parent(u, dir, true, err);
        if (parent < 0)
                return parent;

        if (kind == 1) {
                const char *x = u->root ? "trusted.overlay.opaque" : "user.overlay.opaque";
                if (fsetxattr(parent, x, "y", 1, 0) < 0)
                        return silo_error_set(err, errno, "entry '%s': set %s", raw, x);
                return 0;
        }
        if (kind == 2) {
                r = remove_existing(u, parent, wt, false);
                if (r < 0)
                        return silo_error_set(err, -r, "entry '%s': remove '%s'", raw, wt);
                if (mknodat(parent, wt, S_IFCHR | 0, makedev(0, 0)) < 0)
                        return silo_error_set(err, errno,
                                              "entry '%s': create the overlay whiteout for '%s'%s", raw, wt,
                                              errno == EPERM ? " (whiteouts need root)" : "");
                if (fchownat(parent, wt, (uid_t)SA(archive_entry_uid)(e), (gid_t)SA(archive_entry_gid)(e),
                             AT_SYMLINK_NOFOLLOW) < 0 &&
                    u->root)
                        return silo_error_set(err, errno, "entry '%s': chown whiteout", raw);
                return 0;
        }

        if (hl) {
                _cleanup_free_ char *target = NULL, *tdir = NULL;
                const char *tbase;
                int tparent;
                r = clean_name(hl, u->lim->max_name, &target, err);
                if (r < 0)
                        return silo_error_wrap(err, "hard link '%s'", raw);
                if (*target == '\0')
                        return silo_error_set(err, 0, "hard link '%s': invalid target '%s'", raw, hl);
                slash = strrchr(target, '/');
                tdir = slash ? strndup(target, (size_t)(slash - target)) : silo_xstrdup("");
                tbase = slash ? slash + 1 : target;
                r = remove_existing(u, parent, base, false);
                if (r < 0)
                        return silo_error_set(err, -r, "entry '%s': replace", raw);
                /* resolve the target directory without the cache (the parent fd must stay valid) */
                tparent = *tdir ? open_beneath(u->rootfd, tdir) : u->rootfd;
                if (tparent < 0)
                        return silo_error_set(err, -tparent,
                                              "hard link '%s': target '%s' is not inside the layer", raw, hl);
                r = linkat(tparent, tbase, parent, base, 0);
                int e2 = errno;
                if (tparent != u->rootfd)
                        close(tparent);
                if (r < 0)
                        return silo_error_set(
                            err, e2, "hard link '%s': target '%s' is not a file of this layer", raw, hl);
                return 0;
        }

        switch (type) {
        case AE_IFDIR: {
                _cleanup_close_ int fd = -1;
                r = remove_existing(u, parent, base, true);
                if (r < 0)
                        return silo_error_set(err, -r, "entry '%s': replace", raw);
                if (r == 0 && mkdirat(parent, base, 0700) < 0)
                        return silo_error_set(err, errno, "entry '%s': mkdir", raw);
                fd = open_beneath(parent, base);
                if (fd < 0)
                        return silo_error_set(err, -fd, "entry '%s': open", raw);
                r = set_owner_mode(u, e, fd, raw, err);
                if (r < 0)
                        return r;
                apply_xattrs(u, e, fd, raw);
                return 0;
        }
        case AE_IFREG:
                r = remove_existing(u, parent, base, false);
                if (r < 0)
                        return silo_error_set(err, -r, "entry '%s': replace", raw);
                return write_file(u, a, e, parent, base, raw, err);
        case AE_IFLNK: {
                const char *t = SA(archive_entry_symlink)(e);
                if (t == NULL || strlen(t) > u->lim->max_name)
                        return silo_error_set(err, 0, "symlink '%s': missing or over-long target", raw);
                r = remove_existing(u, parent, base, false);
                if (r < 0)
                        return silo_error_set(err, -r, "entry '%s': replace", raw);
                if (symlinkat(t, parent, base) < 0)
                        return silo_error_set(err, errno, "entry '%s': symlink", raw);
                if (u->mode != SILO_UNPACK_PLAIN) {
                        struct timespec ts[2] = {{SA(archive_entry_mtime)(e), 0}};
                        ts[1] = ts[0];
                        if (u->root)
                                fchownat(parent, base, (uid_t)SA(archive_entry_uid)(e),
                                         (gid_t)SA(archive_entry_gid)(e), AT_SYMLINK_NOFOLLOW);
                        utimensat(parent, base, ts, AT_SYMLINK_NOFOLLOW);
                }
                return 0;
        }
        case AE_IFCHR:
        case AE_IFBLK:
        case AE_IFIFO: {
                mode_t m = type == AE_IFCHR ? S_IFCHR : type == AE_IFBLK ? S_IFBLK : S_IFIFO;
                if (u->mode == SILO_UNPACK_PLAIN)
                        return silo_error_set(err, 0, "entry '%s': special files are not allowed here", raw);
                if (m != S_IFIFO && !u->root)
                        return silo_error_set(err, EPERM, "entry '%s': device nodes in a layer need root",
                                              raw);
                r = remove_existing(u, parent, base, false);
                if (r < 0)
                        return silo_error_set(err, -r, "entry '%s': replace", raw);
                if (mknodat(parent, base, m | 0600,
                            makedev(SA(archive_entry_rdevmajor)(e), SA(archive_entry_rdevminor)(e))) < 0)
                        return silo_error_set(err, errno, "entry '%s': mknod", raw);
                if (u->root && fchownat(parent, base, (uid_t)SA(archive_entry_uid)(e),
                                        (gid_t)SA(archive_entry_gid)(e), AT_SYMLINK_NOFOLLOW) < 0)
                        return silo_error_set(err, errno, "entry '%s': chown", raw);
                if (fchmodat(parent, base, entry_perm(u, SA(archive_entry_mode)(e)), 0) < 0)
                        return silo_error_set(err, errno, "entry '%s': chmod", raw);
                return 0;
        }
        default:
                silo_debug("entry '%s': unsupported file type 0%o, ignoring", raw, (unsigned)type);
                return 0;
        }
}

int silo_unpack_fd(int fd, int dirfd, enum silo_unpack_mode mode, const struct silo_unpack_limits *lim,
                   struct silo_unpack_result *res, silo_error_t *err)
{
        struct reader rd = {.fd = fd};
        struct unpacker u = {
            .rootfd = dirfd, .mode = mode, .lim = lim, .root = geteuid() == 0, .cached_fd = -1};
        struct archive *outer = NULL, *inner = NULL;
        struct archive_entry *e;
        uint64_t total = 0, entries = 0;
        int r = 0, ar;

        memset(res, 0, sizeof(*res));
        r = silo_image_dl_load(err);
        if (r < 0)
                return r;
        rd.buf = silo_xmalloc0(BUFSZ);
        rd.dbuf = silo_xmalloc0(BUFSZ);
        rd.blob = silo_sha256_new();
        rd.diff = silo_sha256_new();
        outer = SA(archive_read_new)();
        SA(archive_read_support_filter_all)(outer);
        SA(archive_read_support_format_raw)(outer);
        if (SA(archive_read_open)(outer, &rd, NULL, outer_read, NULL) != ARCHIVE_OK ||
            SA(archive_read_next_header)(outer, &e) != ARCHIVE_OK) {
                r = silo_error_set(err, SA(archive_errno)(outer), "read archive: %s",
                                   SA(archive_error_string)(outer) ?: "empty or unreadable");
                goto out;
        }
        rd.outer = outer;
        inner = SA(archive_read_new)();
        SA(archive_read_support_format_tar)(inner);
        if (SA(archive_read_open)(inner, &rd, NULL, inner_read, NULL) != ARCHIVE_OK) {
                r = silo_error_set(err, SA(archive_errno)(inner), "read tar: %s",
                                   SA(archive_error_string)(inner));
                goto out;
        }
        for (;;) {
                ar = SA(archive_read_next_header)(inner, &e);
                if (ar == ARCHIVE_EOF)
                        break;
                if (ar != ARCHIVE_OK && ar != ARCHIVE_WARN) {
                        r = silo_error_set(err, SA(archive_errno)(inner), "read tar: %s",
                                           SA(archive_error_string)(inner));
                        goto out;
                }
                if (++entries > lim->max_entries) {
                        r = silo_error_set(err, EFBIG,
                                           "more than %llu entries (limit: SILO_IMAGE_MAX_ENTRIES)",
                                           (unsigned long long)lim->max_entries);
                        goto out;
                }
                if (SA(archive_entry_size)(e) > 0)
                        total += (uint64_t)SA(archive_entry_size)(e);
                if (total > lim->max_bytes) {
                        r = silo_error_set(err, EFBIG, "more than %llu bytes (limit: SILO_IMAGE_MAX_BYTES)",
                                           (unsigned long long)lim->max_bytes);
                        goto out;
                }
                if (entries == 2)
                        SILO_FAULT_POINT("image.unpack-mid-layer"); /* some entries are on disk */
                r = do_entry(&u, inner, e, err);
                if (r < 0) {
                        if (SA(archive_entry_pathname)(e) && !strstr((*err)->msg, "entry"))
                                silo_error_wrap(err, "entry '%s'", SA(archive_entry_pathname)(e));
                        goto out;
                }
        }
        /* hash what follows the end-of-archive blocks too: the digests cover the whole blob */
        while (!rd.outer_eof) {
                const void *p;
                la_ssize_t n = inner_read(inner, &rd, &p);
                if (n < 0) {
                        r = silo_error_set(err, SA(archive_errno)(outer), "decompress: %s",
                                           SA(archive_error_string)(outer));
                        goto out;
                }
        }
        for (;;) {
                const void *p;
                la_ssize_t n = outer_read(outer, &rd, &p);
                if (n <= 0)
                        break;
        }
        res->entries = entries;
        res->size = total;
out:
        drop_cache(&u);
        if (inner)
                SA(archive_read_free)(inner);
        if (outer)
                SA(archive_read_free)(outer);
        silo_sha256_final(rd.blob, res->blob_digest);
        silo_sha256_final(rd.diff, res->diff_id);
        free(rd.buf);
        free(rd.dbuf);
        return r;
}
