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
 *   dump.log            CRIU's log
 *
 * Invariants:
 *   - reading accepts only those names, as regular files, one level under checkpoint/ at most:
 *     no links, no devices, no "..", no absolute names, each name at most once; sizes bounded;
 *   - files are created with O_EXCL|O_NOFOLLOW in a fresh directory the caller removes on any
 *     failure, so a corrupt or truncated archive leaves nothing behind;
 *   - a truncated archive is an error (libarchive reports the short read), never a partial
 *     restore: the CRIU images are only used once the whole archive was read.
 */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "archive.h"
#include "../image/dl.h"
#include "../image/image.h"
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
                /* written next to the target and renamed: a failed export leaves no half file */
                tmp = silo_xasprintf("%s.tmp-XXXXXX", out);
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
                as = strcmp(de->d_name, "dump.log") == 0 || strcmp(de->d_name, "rootfs-diff.tar") == 0
                         ? silo_xstrdup(de->d_name)
                         : silo_xasprintf("checkpoint/%s", de->d_name);
                r = add_file(a, imgfd, de->d_name, as, err);
        }
        if (r == 0 && SA(archive_write_close)(a) != ARCHIVE_OK)
                r = silo_error_set(err, SA(archive_errno)(a), "--export: %s", SA(archive_error_string)(a));
        if (r == 0 && tmp && (fsync(outfd) < 0 || rename(tmp, out) < 0))
                r = silo_error_set(err, errno, "--export: '%s'", out);
out:
        SA(archive_write_free)(a);
        if (r < 0 && tmp)
                unlink(tmp);
        return r;
}

/* Names an archive may carry; anything else is refused. */
static bool name_allowed(const char *p)
{
        static const char *const top[] = {
            "spec.dump", "config.dump", "network.status", "dump.log", "stats-dump", "rootfs-diff.tar", NULL};
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
                if (p && strcmp(p, "checkpoint/") == 0 && SA(archive_entry_filetype)(e) == AE_IFDIR)
                        continue;
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
