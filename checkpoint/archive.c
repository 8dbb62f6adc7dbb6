/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The portable checkpoint archive (`checkpoint --export`, `restore --import`): an uncompressed
 * pax tar, mode 0600, with podman's / checkpointctl's names (interfaces.md §5.2):
 *
 *   checkpoint/<file>   the CRIU images (flat), descriptors.json
 *   spec.dump           the config.json the container was created with
 *   config.dump         {"id", "runtime", "bundle", "rootfsImageName", "checkpointedTime", ...}
 *   network.status      silo's network attachment (bridge, address, published ports), when any
 *   rootfs-diff.tar     a container run from an image: its overlay upper dir as an OCI layer
 *   checkpoint/vm.json  instead of CRIU images: a VM snapshot (vm.state, rootfs.erofs beside it;
 *                       config.dump says "sandbox":"vm"), restored by sandbox-vm-snapshot.c
 *   deleted.files       a JSON array of the container paths deleted (the whiteouts of the diff;
 *                       podman/CRI-O write only this form, silo both)
 *   dump.log            CRIU's log
 *
 * Invariants:
 *   - reading accepts only those names, as regular files, one level under checkpoint/ at most:
 *     no links, no devices, no "..", no absolute names, each name at most once; sizes bounded;
 *   - files are created with O_EXCL|O_NOFOLLOW in a fresh directory the caller removes on any
 *     failure, so a corrupt or truncated archive leaves nothing behind;
 *   - rootfs-diff.tar is applied only into a freshly made, empty upper dir, with the image
 *     unpacker's protections (image/unpack.c: names resolved beneath the dir without symlinks,
 *     no "..", whiteouts -> overlay form, forged overlay xattrs refused, entry/byte bounds);
 *     deleted.files paths are removed through the container's own overlay, resolved with
 *     RESOLVE_IN_ROOT: nothing outside the container's dir can be touched;
 *   - a truncated archive is an error (libarchive reports the short read), never a partial
 *     restore: the CRIU images are only used once the whole archive was read.
 */
#include "config.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "archive.h"
#include "../image/dl.h"
#include "../image/image.h"
#include "../image/json.h"
#include "../runtime/fault.h"
#include "../runtime/fd.h"
#include "../runtime/log.h"
#include "../runtime/spec.h"
#include "../runtime/util.h"

#define ARCHIVE_MAX_FILE (64ULL << 30)
#define ARCHIVE_MAX_ENTRIES 100000

static int add_file(struct archive *a, int dirfd, const char *name, const char *as, silo_error_t *err)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        struct archive_entry *e;
        struct stat st;
        char buf[65536];
        ssize_t n;
        int r = 0;

        if (fd < 0 || fstat(fd, &st) < 0)
                return silo_error_set(err, errno, "export: read '%s'", name);
        if (!S_ISREG(st.st_mode))
                return 0;
        e = SA(archive_entry_new)();
        SA(archive_entry_set_pathname)(e, as);
        SA(archive_entry_set_size)(e, st.st_size);
        SA(archive_entry_set_filetype)(e, AE_IFREG);
        SA(archive_entry_set_perm)(e, 0600);
        SA(archive_entry_set_mtime)(e, st.st_mtime, 0);
        if (SA(archive_write_header)(a, e) != ARCHIVE_OK)
                r = silo_error_set(err, SA(archive_errno)(a), "export: '%s': %s", as,
                                   SA(archive_error_string)(a));
        while (r == 0 && (n = read(fd, buf, sizeof(buf))) > 0)
                if (SA(archive_write_data)(a, buf, (size_t)n) != n)
                        r = silo_error_set(err, SA(archive_errno)(a), "export: '%s': %s", as,
                                           SA(archive_error_string)(a));
        if (r == 0 && n < 0)
                r = silo_error_set(err, errno, "export: read '%s'", name);
        SA(archive_entry_free)(e);
        return r;
}

static int add_mem(struct archive *a, const char *as, const char *data, silo_error_t *err)
{
        struct archive_entry *e = SA(archive_entry_new)();
        size_t len = strlen(data);
        int r = 0;

        SA(archive_entry_set_pathname)(e, as);
        SA(archive_entry_set_size)(e, (la_int64_t)len);
        SA(archive_entry_set_filetype)(e, AE_IFREG);
        SA(archive_entry_set_perm)(e, 0600);
        if (SA(archive_write_header)(a, e) != ARCHIVE_OK ||
            SA(archive_write_data)(a, data, len) != (ssize_t)len)
                r = silo_error_set(err, SA(archive_errno)(a), "export: '%s': %s", as,
                                   SA(archive_error_string)(a));
        SA(archive_entry_free)(e);
        return r;
}

int silo_ckpt_export(const char *image_dir, const struct silo_ckpt_meta *m, const char *out,
                     silo_error_t *err)
{
        _cleanup_close_ int imgfd = -1, outfd = -1;
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_free_ char *tmp = NULL;
        struct archive *a = NULL;
        struct dirent *de;
        bool unnamed = false;
        int r;

        r = silo_image_dl_load(err);
        if (r < 0)
                return r;
        imgfd = open(image_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (imgfd < 0)
                return silo_error_set(err, errno, "export: '%s'", image_dir);
        if (strcmp(out, "-") == 0) {
                outfd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
        } else {
                /* an unnamed file in the target's dir, linked in once complete: neither a failed
                 * nor a SIGKILLed export leaves a half file (a named temp file where the fs has
                 * no O_TMPFILE) */
                _cleanup_free_ char *dir = silo_xstrdup(out);
                char *slash = strrchr(dir, '/');
                if (slash)
                        *(slash == dir ? slash + 1 : slash) = '\0';
                outfd = open(slash ? dir : ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
                unnamed = outfd >= 0;
                tmp = silo_xasprintf("%s.tmp-XXXXXX", out);
                if (outfd < 0)
                        outfd = mkostemp(tmp, O_CLOEXEC);
                if (outfd >= 0)
                        fchmod(outfd, 0600);
        }
        if (outfd < 0)
                return silo_error_set(err, errno, "--export: '%s'", out);
        a = SA(archive_write_new)();
        SA(archive_write_set_format_pax)(a);
        SA(archive_write_set_bytes_in_last_block)(a, 1);
        if (SA(archive_write_open_fd)(a, outfd) != ARCHIVE_OK) {
                r = silo_error_set(err, SA(archive_errno)(a), "--export: %s", SA(archive_error_string)(a));
                goto out;
        }
        r = add_mem(a, "spec.dump", m->spec_json, err);
        if (r == 0)
                r = add_mem(a, "config.dump", m->config_json, err);
        if (r == 0 && m->network_json)
                r = add_mem(a, "network.status", m->network_json, err);
        d = fdopendir(dup(imgfd));
        if (r == 0 && d == NULL)
                r = silo_error_set(err, errno, "export: '%s'", image_dir);
        while (r == 0 && (de = readdir(d)) != NULL) {
                _cleanup_free_ char *as = NULL;
                if (de->d_name[0] == '.')
                        continue;
                /* CRIU's log and the rootfs changes sit beside the images in the archive */
                as = strcmp(de->d_name, "dump.log") == 0 || strcmp(de->d_name, "rootfs-diff.tar") == 0 ||
                             strcmp(de->d_name, "deleted.files") == 0
                         ? silo_xstrdup(de->d_name)
                         : silo_xasprintf("checkpoint/%s", de->d_name);
                r = add_file(a, imgfd, de->d_name, as, err);
                SILO_FAULT_POINT("checkpoint.mid-export"); /* part of the archive is written */
        }
        if (r == 0 && SA(archive_write_close)(a) != ARCHIVE_OK)
                r = silo_error_set(err, SA(archive_errno)(a), "--export: %s", SA(archive_error_string)(a));
        if (r == 0 && tmp && fsync(outfd) < 0)
                r = silo_error_set(err, errno, "--export: '%s'", out);
        if (r == 0 && unnamed) { /* a name of its own first: linkat cannot replace `out` */
                char fdpath[64];
                snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", outfd);
                for (int i = 0; i < 100; i++) {
                        free(tmp);
                        tmp = silo_xasprintf("%s.tmp-%08x", out, (unsigned)random());
                        if (linkat(AT_FDCWD, fdpath, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) == 0 || errno != EEXIST)
                                break;
                }
                if (access(tmp, F_OK) < 0)
                        r = silo_error_set(err, errno, "--export: link '%s'", tmp);
                unnamed = false;
        }
        if (r == 0 && tmp && rename(tmp, out) < 0)
                r = silo_error_set(err, errno, "--export: '%s'", out);
out:
        SA(archive_write_free)(a);
        if (r < 0 && tmp && !unnamed)
                unlink(tmp);
        return r;
}

char *silo_ckpt_config_json(const char *id, const char *sandbox, const char *bundle, const char *image,
                            const char *created)
{
        struct silo_buf b = {0};
        char now[64];

        silo_rfc3339_now(now, sizeof(now));
        silo_buf_puts(&b, "{\"id\":");
        silo_json_str(&b, id);
        silo_buf_puts(&b, ",\"name\":");
        silo_json_str(&b, id);
        silo_buf_puts(&b, ",\"runtime\":\"silo\",\"runtimeVersion\":\"" SILO_VERSION "\"");
        if (sandbox) {
                silo_buf_puts(&b, ",\"sandbox\":");
                silo_json_str(&b, sandbox);
        }
        silo_buf_puts(&b, ",\"bundle\":");
        silo_json_str(&b, bundle);
        if (image) {
                silo_buf_puts(&b, ",\"rootfsImageName\":");
                silo_json_str(&b, image);
        }
        silo_buf_puts(&b, ",\"createdTime\":");
        silo_json_str(&b, created);
        silo_buf_puts(&b, ",\"checkpointedTime\":");
        silo_json_str(&b, now);
        silo_buf_puts(&b, "}\n");
        return b.data;
}

/* Names an archive may carry; anything else is refused. */
static bool name_allowed(const char *p)
{
        static const char *const top[] = {
            "spec.dump", "config.dump", "network.status", "dump.log", "stats-dump", "rootfs-diff.tar",
            "deleted.files", NULL};
        const char *base;

        for (size_t i = 0; top[i]; i++)
                if (strcmp(p, top[i]) == 0)
                        return true;
        if (!silo_str_has_prefix(p, "checkpoint/"))
                return false;
        base = p + strlen("checkpoint/");
        return *base && *base != '.' && strchr(base, '/') == NULL && strlen(base) < NAME_MAX;
}

int silo_ckpt_import(const char *in, int dirfd, silo_error_t *err)
{
        struct archive *a;
        struct archive_entry *e;
        uint64_t entries = 0;
        int r = 0, ar;

        r = silo_image_dl_load(err);
        if (r < 0)
                return r;
        if (mkdirat(dirfd, "checkpoint", 0700) < 0)
                return silo_error_set(err, errno, "import: mkdir checkpoint");
        a = SA(archive_read_new)();
        SA(archive_read_support_filter_all)(a);
        SA(archive_read_support_format_tar)(a);
        /* a NULL file name is libarchive's stdin */
        ar = SA(archive_read_open_filename)(a, strcmp(in, "-") == 0 ? NULL : in, 65536);
        if (ar != ARCHIVE_OK) {
                r = silo_error_set(err, SA(archive_errno)(a), "--import: '%s': %s", in,
                                   SA(archive_error_string)(a));
                goto out;
        }
        while (r == 0 && (ar = SA(archive_read_next_header)(a, &e)) == ARCHIVE_OK) {
                const char *p = SA(archive_entry_pathname)(e);
                _cleanup_close_ int fd = -1;
                la_int64_t size = SA(archive_entry_size)(e);
                const void *blk;
                size_t len;
                la_int64_t off;

                if (p && silo_str_has_prefix(p, "./"))
                        p += 2;
                /* the directories themselves (`tar -C dir -cf x .` writes "./" first) */
                if (p && (strcmp(p, "") == 0 || strcmp(p, "checkpoint/") == 0 || strcmp(p, "checkpoint") == 0) &&
                    SA(archive_entry_filetype)(e) == AE_IFDIR)
                        continue;
                if (entries == 2)
                        SILO_FAULT_POINT("restore.import-mid-unpack"); /* some files are written */
                if (++entries > ARCHIVE_MAX_ENTRIES)
                        r = silo_error_set(err, E2BIG, "--import: more than %d entries", ARCHIVE_MAX_ENTRIES);
                else if (p == NULL || !name_allowed(p) || SA(archive_entry_filetype)(e) != AE_IFREG)
                        r = silo_error_set(err, EINVAL,
                                           "--import: '%s': unexpected entry in a checkpoint archive",
                                           p ? p : "");
                else if (size < 0 || (uint64_t)size > ARCHIVE_MAX_FILE)
                        r = silo_error_set(err, EFBIG, "--import: '%s': too large", p);
                if (r < 0)
                        break;
                fd = openat(dirfd, p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0) {
                        r = silo_error_set(err, errno, "--import: '%s'%s", p,
                                           errno == EEXIST ? ": duplicate entry" : "");
                        break;
                }
                while ((ar = SA(archive_read_data_block)(a, &blk, &len, &off)) == ARCHIVE_OK) {
                        if (pwrite(fd, blk, len, off) != (ssize_t)len) {
                                r = silo_error_set(err, errno, "--import: write '%s'", p);
                                break;
                        }
                }
                if (r == 0 && ar != ARCHIVE_EOF)
                        r = silo_error_set(err, SA(archive_errno)(a), "--import: '%s': %s", p,
                                           SA(archive_error_string)(a));
                if (r == 0 && ftruncate(fd, size) < 0)
                        r = silo_error_set(err, errno, "--import: '%s'", p);
        }
        if (r == 0 && ar != ARCHIVE_EOF)
                r = silo_error_set(err, SA(archive_errno)(a), "--import: '%s': %s", in,
                                   SA(archive_error_string)(a));
        /* checkpoint/vm.json marks a VM snapshot (runtime/sandbox-vm-snapshot.c): no CRIU images */
        if (r == 0 && (faccessat(dirfd, "spec.dump", F_OK, 0) < 0 ||
                       (faccessat(dirfd, "checkpoint/inventory.img", F_OK, 0) < 0 &&
                        faccessat(dirfd, "checkpoint/vm.json", F_OK, 0) < 0)))
                r = silo_error_set(err, EINVAL,
                                   "--import: '%s' is not a checkpoint archive "
                                   "(no spec.dump, or neither checkpoint/inventory.img nor checkpoint/vm.json)",
                                   in);
out:
        SA(archive_read_free)(a);
        return r;
}

/* ---- the rootfs changes of an image container ------------------------------------------- */

#define DELETED_MAX (16 << 20)
#define DELETED_MAX_PATHS 100000

/* deleted.files from the whiteouts of the rootfs-diff.tar just written (podman's form: the
 * absolute container paths, a JSON array). */
static int write_deleted(int imgfd, const char *image_path, silo_error_t *err)
{
        _cleanup_free_ char *tar = silo_xasprintf("%s/rootfs-diff.tar", image_path);
        struct archive *a;
        struct archive_entry *e;
        struct silo_buf b = {0};
        int r = 0, ar = ARCHIVE_EOF, n = 0;

        a = SA(archive_read_new)();
        SA(archive_read_support_format_tar)(a);
        silo_buf_putc(&b, '[');
        if (SA(archive_read_open_filename)(a, tar, 65536) != ARCHIVE_OK)
                r = silo_error_set(err, SA(archive_errno)(a), "'rootfs-diff.tar': %s", SA(archive_error_string)(a));
        while (r == 0 && (ar = SA(archive_read_next_header)(a, &e)) == ARCHIVE_OK) {
                const char *p = SA(archive_entry_pathname)(e), *base, *target = NULL;
                _cleanup_free_ char *path = NULL;

                base = p ? strrchr(p, '/') : NULL;
                base = base ? base + 1 : p;
                if (base == NULL || silo_whiteout_kind(base, &target) != 2)
                        continue;
                path = silo_xasprintf("/%.*s%s", (int)(base - p), p, target);
                if (n++)
                        silo_buf_putc(&b, ',');
                silo_json_str(&b, path);
        }
        if (r == 0 && ar != ARCHIVE_EOF)
                r = silo_error_set(err, SA(archive_errno)(a), "'rootfs-diff.tar': %s", SA(archive_error_string)(a));
        SA(archive_read_free)(a);
        silo_buf_puts(&b, "]\n");
        if (r == 0)
                r = silo_write_file_atomic_at(imgfd, "deleted.files", b.data, b.len, 0600, err);
        silo_buf_free(&b);
        return r;
}

int silo_ckpt_rootfs_export(const char *container_dir, const char *image_path, silo_error_t *err)
{
        _cleanup_close_ int imgfd = open(image_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd = -1;
        int r;

        if (imgfd < 0)
                return silo_error_set(err, errno, "'%s'", image_path);
        fd = openat(imgfd, "rootfs-diff.tar", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return silo_error_set(err, errno, "'%s/rootfs-diff.tar'", image_path);
        r = silo_image_diff(container_dir, fd, err);
        if (r == 0)
                r = write_deleted(imgfd, image_path, err);
        return r;
}

/* One deleted.files path, removed through the container's overlay (rootfd). */
static int remove_in_root(int rootfd, const char *path, silo_error_t *err)
{
        _cleanup_free_ char *p = NULL;
        _cleanup_close_ int parent = -1;
        char *slash, *base;
        const char *dir;

        while (*path == '/')
                path++;
        p = silo_xstrdup(path);
        while (*p && p[strlen(p) - 1] == '/')
                p[strlen(p) - 1] = '\0';
        if (*p == '\0' || strlen(p) >= PATH_MAX)
                return silo_error_set(err, EINVAL, "deleted.files: bad path '%s'", path);
        for (char *c = p; c; c = strchr(c, '/') ? strchr(c, '/') + 1 : NULL)
                if (strncmp(c, "..", 2) == 0 && (c[2] == '/' || c[2] == '\0'))
                        return silo_error_set(err, EINVAL, "deleted.files: '%s': '..' is not allowed", path);
        slash = strrchr(p, '/');
        if (slash) {
                *slash = '\0';
                dir = p;
                base = slash + 1;
        } else {
                dir = ".";
                base = p;
        }
        if (strcmp(base, ".") == 0)
                return silo_error_set(err, EINVAL, "deleted.files: bad path '%s'", path);
        parent = silo_open_in_root(rootfd, dir, O_RDONLY | O_DIRECTORY, NULL);
        if (parent < 0)
                return 0; /* its parent is gone already (deleted with it, or a whiteout) */
        if (unlinkat(parent, base, 0) == 0 || errno == ENOENT)
                return 0;
        if (errno == EISDIR || errno == EPERM) {
                int r = silo_rm_rf_at(parent, base);
                if (r == 0 || r == -ENOENT)
                        return 0;
                errno = -r;
        }
        return silo_error_set(err, errno, "deleted.files: remove '%s'", path);
}

static int apply_deleted(int srcfd, const struct silo_spec *spec, const char *id, silo_error_t *err)
{
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int mnt = -1;
        yajl_val root = NULL;
        size_t len;
        int r;

        r = silo_read_file_at(srcfd, "deleted.files", DELETED_MAX, &buf, &len, err);
        if (r == -ENOENT) {
                silo_error_free(err);
                return 0;
        }
        if (r < 0)
                return r;
        r = silo_json_parse("deleted.files", buf, &root, err);
        if (r < 0)
                return r;
        if (!YAJL_IS_ARRAY(root) || YAJL_GET_ARRAY(root)->len > DELETED_MAX_PATHS) {
                yajl_tree_free(root);
                return silo_error_set(err, EINVAL, "deleted.files: want a JSON array of at most %d paths",
                                      DELETED_MAX_PATHS);
        }
        if (YAJL_GET_ARRAY(root)->len == 0) {
                yajl_tree_free(root);
                return 0;
        }
        /* through the overlay itself: a path of a lower layer needs a whiteout, a copied-up
         * parent, an opaque dir... exactly what unlink on the merged view makes */
        r = silo_image_container_mount_fd(spec, id, &mnt, err);
        if (r == 0 && mnt < 0)
                r = silo_error_set(err, EINVAL, "deleted.files: the container's overlay is already mounted");
        for (size_t i = 0; r == 0 && i < YAJL_GET_ARRAY(root)->len; i++) {
                yajl_val v = YAJL_GET_ARRAY(root)->values[i];
                if (!YAJL_IS_STRING(v))
                        r = silo_error_set(err, EINVAL, "deleted.files: entry %zu is not a string", i);
                else
                        r = remove_in_root(mnt, YAJL_GET_STRING(v), err);
        }
        yajl_tree_free(root);
        return r;
}

int silo_ckpt_rootfs_import(int srcfd, const char *container_dir, const struct silo_spec *spec, const char *id,
                            silo_error_t *err)
{
        _cleanup_close_ int tarfd = -1, upper = -1;
        _cleanup_free_ char *up = silo_xasprintf("%s/upper", container_dir);
        struct silo_unpack_limits lim;
        struct silo_unpack_result res;
        int r;

        upper = open(up, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (upper < 0)
                return silo_error_set(err, errno, "'%s'", up);
        tarfd = openat(srcfd, "rootfs-diff.tar", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (tarfd < 0 && errno != ENOENT)
                return silo_error_set(err, errno, "--import: rootfs-diff.tar");
        if (tarfd >= 0) {
                silo_unpack_limits_default(&lim);
                r = silo_unpack_fd(tarfd, upper, SILO_UNPACK_LAYER, &lim, &res, err);
                if (r < 0)
                        return silo_error_wrap(err, "--import: rootfs-diff.tar");
                silo_debug("rootfs-diff.tar: %llu entries, %llu bytes into '%s'", (unsigned long long)res.entries,
                           (unsigned long long)res.size, up);
        }
        SILO_FAULT_POINT("restore.import-after-diff");
        r = apply_deleted(srcfd, spec, id, err);
        return r < 0 ? silo_error_wrap(err, "--import") : 0;
}

/*
 * spec.dump with the image dir annotation set to dir (the container dir at the destination):
 * the one "run.silo.image.dir" key's string value is replaced in the text, so the rest of the
 * config stays byte for byte what the container was created with; the result is parsed again
 * and checked.
 */
char *silo_ckpt_spec_set_image_dir(const char *spec_json, const char *dir, silo_error_t *err)
{
        static const char key[] = "\"" SILO_ANNOT_IMAGE_DIR "\"";
        const char *val = NULL, *end = NULL;
        struct silo_buf b = {0};
        struct silo_spec *spec = NULL;
        const char *got;
        int n = 0;

        for (const char *p = strstr(spec_json, key); p; p = strstr(p + 1, key)) {
                const char *q = p + strlen(key);
                if (p > spec_json && p[-1] == '\\')
                        continue; /* inside some other string */
                while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
                        q++;
                if (*q++ != ':')
                        continue; /* a value, not a key */
                while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
                        q++;
                if (*q != '"')
                        continue;
                val = q;
                for (q++; *q && *q != '"'; q++)
                        if (*q == '\\' && q[1])
                                q++;
                if (*q != '"')
                        break;
                end = q + 1;
                n++;
        }
        if (n != 1 || val == NULL || end == NULL) {
                silo_error_set(err, EINVAL, "spec.dump: want exactly one annotation '%s'", SILO_ANNOT_IMAGE_DIR);
                return NULL;
        }
        silo_buf_printf(&b, "%.*s", (int)(val - spec_json), spec_json);
        silo_json_str(&b, dir);
        silo_buf_puts(&b, end);
        if (silo_spec_parse(b.data, b.len, &spec, err) < 0) {
                silo_buf_free(&b);
                return NULL;
        }
        got = silo_spec_annotation(spec, SILO_ANNOT_IMAGE_DIR);
        if (got == NULL || strcmp(got, dir) != 0) {
                silo_error_set(err, EINVAL, "spec.dump: cannot rewrite annotation '%s'", SILO_ANNOT_IMAGE_DIR);
                silo_buf_free(&b);
                b.data = NULL;
        }
        silo_spec_free(spec);
        return b.data;
}

/* ---- temporary dirs of a killed checkpoint / restore ------------------------------------ */

void silo_ckpt_reclaim_tmp(const char *root, const char *id)
{
        static const char *const kinds[] = {"@ckpt-", "@import-"};
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        if (root == NULL || !silo_id_valid(id) || (d = opendir(root)) == NULL)
                return;
        while ((de = readdir(d)) != NULL) {
                _cleanup_close_ int fd = -1;
                const char *rest = NULL;

                for (size_t i = 0; i < 2 && !rest; i++)
                        if (silo_str_has_prefix(de->d_name, kinds[i]))
                                rest = de->d_name + strlen(kinds[i]);
                /* "<id>-XXXXXX" exactly: another id's dir never matches */
                if (rest == NULL || strncmp(rest, id, strlen(id)) != 0 || rest[strlen(id)] != '-' ||
                    strlen(rest + strlen(id) + 1) != 6)
                        continue;
                fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                /* locked: a checkpoint or restore of this id is still running */
                if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
                        continue;
                silo_debug("removing '%s/%s': left by a killed checkpoint or restore", root, de->d_name);
                silo_rm_rf_at(dirfd(d), de->d_name);
        }
}
