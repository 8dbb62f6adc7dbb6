/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A container's changes as an OCI layer: walk the overlay upper dir and write a pax tar with
 * whiteouts back in OCI form (interfaces.md §4.6, reverse direction):
 *   0/0 char device      -> empty regular file ".wh.<name>", mode 0
 *   opaque dir (xattr y) -> the dir, then "<dir>/.wh..wh..opq"
 * The walk opens every entry relative to its parent fd with O_NOFOLLOW and never follows
 * symlinks; hard links inside the upper dir are kept as tar hard links.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "dl.h"
#include "image.h"
#include "../runtime/util.h"

struct link_seen {
        dev_t dev;
        ino_t ino;
        char *name;
};

struct walker {
        struct archive *a;
        struct link_seen *links;
        size_t nlinks;
        bool tree; /* silo_image_tar_tree: no whiteout forms, one file system (dev) */
        dev_t dev;
};

static int put(struct walker *w, const char *name, const struct stat *st, mode_t type, const char *symlink,
               const char *hardlink, int datafd, silo_error_t *err)
{
        struct archive_entry *e = SA(archive_entry_new)();
        int r = 0;

        SA(archive_entry_set_pathname)(e, name);
        SA(archive_entry_set_filetype)(e, type);
        SA(archive_entry_set_perm)(e, st ? st->st_mode & 07777 : 0);
        SA(archive_entry_set_uid)(e, st ? st->st_uid : 0);
        SA(archive_entry_set_gid)(e, st ? st->st_gid : 0);
        SA(archive_entry_set_mtime)(e, st ? st->st_mtim.tv_sec : 0, st ? st->st_mtim.tv_nsec : 0);
        SA(archive_entry_set_size)(e, datafd >= 0 ? st->st_size : 0);
        if (symlink)
                SA(archive_entry_set_symlink)(e, symlink);
        if (hardlink)
                SA(archive_entry_set_hardlink)(e, hardlink);
        if (st && (type == AE_IFCHR || type == AE_IFBLK)) {
                SA(archive_entry_set_rdevmajor)(e, major(st->st_rdev));
                SA(archive_entry_set_rdevminor)(e, minor(st->st_rdev));
        }
        if (SA(archive_write_header)(w->a, e) != ARCHIVE_OK) {
                r = silo_error_set(err, 0, "write tar header '%s': %s", name, SA(archive_error_string)(w->a));
                goto out;
        }
        if (datafd >= 0) {
                char buf[65536];
                ssize_t n;
                off_t left = st->st_size;
                while (left > 0 && (n = read(datafd, buf, sizeof(buf))) > 0) {
                        if (n > left)
                                n = (ssize_t)left;
                        if (SA(archive_write_data)(w->a, buf, (size_t)n) < 0) {
                                r = silo_error_set(err, 0, "write '%s': %s", name,
                                                   SA(archive_error_string)(w->a));
                                goto out;
                        }
                        left -= n;
                }
                if (left > 0) /* the file shrank while we read it: pad with zeros */
                        memset(buf, 0, sizeof(buf));
                while (left > 0) {
                        size_t k = left > (off_t)sizeof(buf) ? sizeof(buf) : (size_t)left;
                        SA(archive_write_data)(w->a, buf, k);
                        left -= (off_t)k;
                }
        }
out:
        SA(archive_entry_free)(e);
        return r;
}

static int walk(struct walker *w, int dfd, const char *prefix, silo_error_t *err)
{
        _cleanup_closedir_ DIR *d = fdopendir(dfd);
        struct dirent *de;
        int r = 0;

        if (!d) {
                close(dfd);
                return silo_error_set(err, errno, "read dir '%s'", prefix);
        }
        while ((de = readdir(d)) != NULL) {
                _cleanup_free_ char *name = NULL;
                struct stat st;
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                name = silo_xasprintf("%s%s", prefix, de->d_name);
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return silo_error_set(err, errno, "stat '%s'", name);
                if (w->tree && st.st_dev != w->dev) {
                        /* another mount on top (/dev/pts, /dev/shm, a bound /dev/console): only
                         * the mount point itself, empty, for whoever mounts there again */
                        r = put(w, name, &st, S_ISDIR(st.st_mode) ? AE_IFDIR : AE_IFREG, NULL, NULL, -1, err);
                } else if (!w->tree && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
                        _cleanup_free_ char *wh = silo_xasprintf("%s.wh.%s", prefix, de->d_name);
                        struct stat z = {.st_mode = 0, .st_mtim = st.st_mtim};
                        r = put(w, wh, &z, AE_IFREG, NULL, NULL, -1, err);
                } else if (S_ISDIR(st.st_mode)) {
                        char v[4];
                        int fd =
                            openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        _cleanup_free_ char *sub = silo_xasprintf("%s/", name);
                        if (fd < 0)
                                return silo_error_set(err, errno, "open '%s'", name);
                        r = put(w, name, &st, AE_IFDIR, NULL, NULL, -1, err);
                        if (r == 0 && !w->tree &&
                            (fgetxattr(fd, "trusted.overlay.opaque", v, sizeof(v)) == 1 ||
                             fgetxattr(fd, "user.overlay.opaque", v, sizeof(v)) == 1) &&
                            v[0] == 'y') {
                                _cleanup_free_ char *opq = silo_xasprintf("%s.wh..wh..opq", sub);
                                struct stat z = {.st_mode = 0, .st_mtim = st.st_mtim};
                                r = put(w, opq, &z, AE_IFREG, NULL, NULL, -1, err);
                        }
                        if (r == 0)
                                r = walk(w, fd, sub, err);
                        else
                                close(fd);
                } else if (S_ISREG(st.st_mode)) {
                        const char *hl = NULL;
                        for (size_t i = 0; st.st_nlink > 1 && i < w->nlinks; i++)
                                if (w->links[i].dev == st.st_dev && w->links[i].ino == st.st_ino)
                                        hl = w->links[i].name;
                        if (hl) {
                                r = put(w, name, &st, AE_IFREG, NULL, hl, -1, err);
                        } else {
                                _cleanup_close_ int fd =
                                    openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                                if (fd < 0)
                                        return silo_error_set(err, errno, "open '%s'", name);
                                r = put(w, name, &st, AE_IFREG, NULL, NULL, fd, err);
                                if (st.st_nlink > 1) {
                                        w->links =
                                            silo_xrealloc(w->links, sizeof(*w->links) * (w->nlinks + 1));
                                        w->links[w->nlinks++] =
                                            (struct link_seen){st.st_dev, st.st_ino, silo_xstrdup(name)};
                                }
                        }
                } else if (S_ISLNK(st.st_mode)) {
                        char t[4097];
                        ssize_t n = readlinkat(dirfd(d), de->d_name, t, sizeof(t) - 1);
                        if (n < 0)
                                return silo_error_set(err, errno, "readlink '%s'", name);
                        t[n] = '\0';
                        r = put(w, name, &st, AE_IFLNK, t, NULL, -1, err);
                } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
                        r = put(w, name, &st,
                                S_ISCHR(st.st_mode)   ? AE_IFCHR
                                : S_ISBLK(st.st_mode) ? AE_IFBLK
                                                      : AE_IFIFO,
                                NULL, NULL, -1, err);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The tar of the tree at fd (consumed) into out_fd. */
static int write_tar(struct walker *w, int fd, int out_fd, silo_error_t *err)
{
        int r = silo_image_dl_load(err);

        if (r < 0) {
                close(fd);
                return r;
        }
        w->a = SA(archive_write_new)();
        SA(archive_write_set_format_pax)(w->a);
        SA(archive_write_set_bytes_in_last_block)(w->a, 1);
        if (SA(archive_write_open_fd)(w->a, out_fd) != ARCHIVE_OK) {
                r = silo_error_set(err, 0, "open output: %s", SA(archive_error_string)(w->a));
                close(fd);
        } else {
                struct stat st;
                /* a tree's root keeps its owner and mode ("./", which unpack applies to its root) */
                r = w->tree && fstat(fd, &st) == 0 ? put(w, "./", &st, AE_IFDIR, NULL, NULL, -1, err) : 0;
                if (r == 0)
                        r = walk(w, fd, "", err);
                else
                        close(fd);
        }
        if (SA(archive_write_close)(w->a) != ARCHIVE_OK && r == 0)
                r = silo_error_set(err, 0, "finish tar: %s", SA(archive_error_string)(w->a));
        SA(archive_write_free)(w->a);
        for (size_t i = 0; i < w->nlinks; i++)
                free(w->links[i].name);
        free(w->links);
        return r;
}

int silo_image_tar_tree(int dirfd, int out_fd, silo_error_t *err)
{
        struct walker w = {.tree = true};
        struct stat st;
        int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);

        if (fd < 0 || fstat(fd, &st) < 0) {
                if (fd >= 0)
                        close(fd);
                return silo_error_set(err, errno, "tar: the tree's root");
        }
        w.dev = st.st_dev;
        return write_tar(&w, fd, out_fd, err);
}

int silo_image_diff(const char *container_dir, int out_fd, silo_error_t *err)
{
        _cleanup_free_ char *upper = silo_xasprintf("%s/upper", container_dir);
        struct walker w = {0};
        int fd;

        fd = open(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return silo_error_set(err, errno, "open '%s'", upper);
        return write_tar(&w, fd, out_fd, err);
}
