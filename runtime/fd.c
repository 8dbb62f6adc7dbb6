/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Path resolution inside an untrusted root (see fd.h).
 *
 * Invariants:
 *   - every lookup below the root goes through openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS)
 *     or through walk(), which opens one component at a time with O_PATH|O_NOFOLLOW and
 *     never asks the kernel to resolve ".." or a symlink: ".." pops the lexical stack of
 *     already-resolved (symlink-free) components and re-walks it from the root, and symlink
 *     targets are spliced into the remaining path (absolute ones restart at the root).  A
 *     concurrent rename can therefore make a lookup fail, never escape;
 *   - at most SILO_MAXSYMLINKS (40, the kernel's MAXSYMLINKS) symlinks per lookup -> ELOOP;
 *   - creation is O_CREAT|O_EXCL|O_NOFOLLOW or mkdirat followed by an O_NOFOLLOW re-open, so an
 *     entry swapped for a symlink between the two steps is resolved again inside the root
 *     (CVE-2024-45310 created files through a racing symlink);
 *   - the final open with the caller's flags uses openat(parent, name, flags|O_NOFOLLOW) and
 *     checks st_dev/st_ino against what the walk found.
 * Every fd is O_CLOEXEC.  Errors name the path as given, "inside the root".
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef HAVE_LINUX_OPENAT2_H
#include <linux/openat2.h>
#else
struct open_how {
        unsigned long long flags, mode, resolve;
};
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_IN_ROOT 0x10
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#include "fd.h"
#include "log.h"
#include "util.h"

#define SILO_MAXSYMLINKS 40
/* Creation races (mkdirat/O_EXCL losing against a concurrent creator) retried this often. */
#define SILO_MAX_RETRIES 64
/* Mode for files created by silo_open_in_root(..., O_CREAT): fd.h has no mode parameter. */
#define SILO_OPEN_CREAT_MODE 0644

static bool force_fallback;
static int openat2_state;       /* 0 unknown, 1 works, -1 missing (ENOSYS/E2BIG) */
static int env_no_openat2 = -1; /* SILO_NO_OPENAT2=1 seen: sticky, whatever force_fallback says */

void silo_fd_force_fallback(bool on)
{
        force_fallback = on;
}

static bool use_openat2(void)
{
        if (env_no_openat2 < 0) {
                const char *e = getenv("SILO_NO_OPENAT2");
                env_no_openat2 = e && strcmp(e, "1") == 0;
        }
        return !force_fallback && !env_no_openat2 && openat2_state >= 0;
}

const char *silo_fd_path(int fd, char buf[64])
{
        snprintf(buf, 64, "/proc/self/fd/%d", fd);
        return buf;
}

/* Returns fd >= 0, -errno on a lookup error, or -ENOSYS when openat2 is unavailable. */
static int try_openat2(int rootfd, const char *path, int flags)
{
        struct open_how how = {
            .flags = (unsigned long long)(flags | O_CLOEXEC),
            .mode = ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) ? SILO_OPEN_CREAT_MODE : 0,
            .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        int i, fd = -1;

        /* RESOLVE_IN_ROOT returns EAGAIN when a rename raced with a ".." step: retry. */
        for (i = 0; i < SILO_MAX_RETRIES; i++) {
                fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
                if (fd >= 0 || errno != EAGAIN)
                        break;
        }
        if (fd >= 0) {
                openat2_state = 1;
                return fd;
        }
        /* ENOSYS: kernel < 5.6 (or a seccomp profile that hides it); E2BIG: struct mismatch. */
        if (errno == ENOSYS || errno == E2BIG) {
                silo_debug("openat2 unavailable (%s), using the userspace walk", strerror(errno));
                openat2_state = -1;
                return -ENOSYS;
        }
        return -errno;
}

enum {
        WALK_MKDIR_PARENTS = 1 << 0, /* create missing intermediate directories */
        WALK_MKDIR_LAST = 1 << 1,    /* create the last component as a directory */
        WALK_MKFILE_LAST = 1 << 2,   /* create the last component as an empty file */
};

struct walk_err {
        int code;
        char *what; /* optional detail, e.g. "'/a/b' is not a directory" */
};

static int walk_fail(struct walk_err *we, int code, char *what)
{
        we->code = code;
        free(we->what);
        we->what = what;
        return -code;
}

/* Open the symlink-free, lexically clean path `resolved` ("" or "/a/b") from the root. */
static int reopen_resolved(int rootfd, const char *resolved)
{
        _cleanup_close_ int cur = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *copy = silo_xstrdup(resolved);
        char *save = NULL, *c;

        if (cur < 0)
                return -errno;
        for (c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                int fd = openat(cur, c, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return -(errno == ELOOP ? EAGAIN : errno); /* raced into a symlink */
                close(cur);
                cur = fd;
        }
        return TAKE_FD(cur);
}

static bool same_inode(int a, int b)
{
        struct stat sa, sb;

        if (fstat(a, &sa) < 0 || fstat(b, &sb) < 0)
                return false;
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/*
 * The userspace resolver.  flags are the caller's open flags (used for the final open and
 * O_NOFOLLOW/O_CREAT semantics); wflags the WALK_* creation modes, with dmode for created
 * directories and fmode for a created file.  Returns an fd or -errno with *we filled.
 */
static int walk(int rootfd, const char *path, int flags, unsigned wflags, mode_t dmode, mode_t fmode,
                struct walk_err *we)
{
        _cleanup_free_ char *rem = silo_xstrdup(path), *resolved = silo_xstrdup("");
        _cleanup_close_ int cur = -1, last_fd = -1;
        char name[NAME_MAX + 1];
        const char *p = rem;
        int nlinks = 0, retries = 0, r;
        size_t plen = strlen(path);

        /* "dir/" must be a directory, as for the kernel's own lookup. */
        if (plen > 0 && path[plen - 1] == '/' && strspn(path, "/") != plen)
                flags |= O_DIRECTORY;

        cur = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (cur < 0)
                return walk_fail(we, errno, NULL);

        for (;;) {
                const char *next;
                size_t len;
                bool last;
                int fd;
                struct stat st;

                while (*p == '/')
                        p++;
                if (*p == '\0')
                        break; /* the result is the directory cur itself */
                len = strcspn(p, "/");
                if (len > NAME_MAX)
                        return walk_fail(we, ENAMETOOLONG, NULL);
                memcpy(name, p, len);
                name[len] = '\0';
                next = p + len;
                last = next[strspn(next, "/")] == '\0';

                if (strcmp(name, ".") == 0) {
                        p = next;
                        continue;
                }
                if (strcmp(name, "..") == 0) {
                        char *slash = strrchr(resolved, '/');
                        if (slash) /* at the root ".." stays at the root */
                                *slash = '\0';
                        fd = reopen_resolved(rootfd, resolved);
                        if (fd < 0)
                                return walk_fail(we, -fd, NULL);
                        close(cur);
                        cur = fd;
                        p = next;
                        continue;
                }

                fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 && errno == ENOENT) {
                        if ((!last && (wflags & WALK_MKDIR_PARENTS)) ||
                            (last && (wflags & WALK_MKDIR_LAST))) {
                                if (++retries > SILO_MAX_RETRIES)
                                        return walk_fail(we, EAGAIN, NULL);
                                if (mkdirat(cur, name, dmode) < 0 && errno != EEXIST)
                                        return walk_fail(we, errno,
                                                         silo_xasprintf("mkdir '%s/%s'", resolved, name));
                                continue; /* look again: whatever is there now, maybe a racing symlink */
                        }
                        if (last && (wflags & WALK_MKFILE_LAST)) {
                                int nfd;
                                if (++retries > SILO_MAX_RETRIES)
                                        return walk_fail(we, EAGAIN, NULL);
                                nfd = openat(cur, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_RDONLY | O_CLOEXEC,
                                             fmode);
                                if (nfd < 0 && errno != EEXIST)
                                        return walk_fail(we, errno, NULL);
                                if (nfd >= 0)
                                        close(nfd);
                                continue;
                        }
                        if (last && (flags & O_CREAT) && wflags == 0) {
                                fd = openat(cur, name, flags | O_NOFOLLOW | O_CLOEXEC, SILO_OPEN_CREAT_MODE);
                                return fd < 0 ? walk_fail(we, errno, NULL) : fd;
                        }
                        errno = ENOENT;
                }
                if (fd < 0)
                        return walk_fail(we, errno, NULL);
                if (fstat(fd, &st) < 0) {
                        r = errno;
                        close(fd);
                        return walk_fail(we, r, NULL);
                }

                if (S_ISLNK(st.st_mode) && !(last && (flags & O_NOFOLLOW) && wflags == 0)) {
                        char target[PATH_MAX];
                        ssize_t n;
                        char *nrem;

                        if (++nlinks > SILO_MAXSYMLINKS) {
                                close(fd);
                                return walk_fail(we, ELOOP, NULL);
                        }
                        /* An O_PATH fd of the link itself with "" reads the link (Linux 2.6.39). */
                        n = readlinkat(fd, "", target, sizeof(target) - 1);
                        r = errno;
                        close(fd);
                        if (n < 0)
                                return walk_fail(we, r, NULL);
                        if (n == 0)
                                return walk_fail(we, ENOENT, NULL);
                        target[n] = '\0';
                        /* Absolute targets restart at the root, relative ones at cur. */
                        if (target[0] == '/') {
                                fd = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
                                if (fd < 0)
                                        return walk_fail(we, errno, NULL);
                                close(cur);
                                cur = fd;
                                resolved[0] = '\0';
                        }
                        nrem = silo_xasprintf("%s/%s", target, next);
                        free(rem);
                        rem = nrem;
                        p = rem;
                        continue;
                }

                if (!last) {
                        char *nres;
                        if (!S_ISDIR(st.st_mode)) {
                                close(fd);
                                return walk_fail(
                                    we, ENOTDIR,
                                    silo_xasprintf("'%s/%s' is not a directory", resolved, name));
                        }
                        close(cur);
                        cur = fd;
                        nres = silo_xasprintf("%s/%s", resolved, name);
                        free(resolved);
                        resolved = nres;
                        p = next;
                        continue;
                }

                /* Last component: fd is its O_PATH handle, cur its parent, name its name. */
                last_fd = fd;
                break;
        }

        if (wflags != 0) {
                /* Creation modes return O_PATH handles; the caller checks the file type. */
                if (last_fd >= 0)
                        return TAKE_FD(last_fd);
                return TAKE_FD(cur);
        }

        if (last_fd < 0) {
                /* The result is a directory reached via "/", "." or "..". */
                if (flags & O_PATH)
                        return TAKE_FD(cur);
                r = openat(cur, ".", (flags & ~O_CREAT) | O_CLOEXEC);
                return r < 0 ? walk_fail(we, errno, NULL) : r;
        }
        if (flags & O_PATH) {
                struct stat st;
                if ((flags & O_DIRECTORY) && (fstat(last_fd, &st) < 0 || !S_ISDIR(st.st_mode)))
                        return walk_fail(we, ENOTDIR, NULL);
                return TAKE_FD(last_fd);
        }
        r = openat(cur, name, (flags & ~O_CREAT) | O_NOFOLLOW | O_CLOEXEC);
        if (r < 0)
                return walk_fail(we, errno, NULL);
        if (!same_inode(r, last_fd)) {
                close(r);
                return walk_fail(we, EAGAIN, silo_xstrdup("changed during the lookup"));
        }
        return r;
}

static int walk_error(silo_error_t *err, struct walk_err *we, const char *verb, const char *path)
{
        int r;

        if (we->what)
                r = silo_error_set(err, we->code, "%s '%s' in rootfs: %s", verb, path, we->what);
        else
                r = silo_error_set(err, we->code, "%s '%s' in rootfs", verb, path);
        free(we->what);
        we->what = NULL;
        return r;
}

int silo_open_in_root(int rootfd, const char *path, int flags, silo_error_t *err)
{
        struct walk_err we = {0};
        int fd;

        if (path == NULL || *path == '\0')
                path = ".";
        if (use_openat2()) {
                fd = try_openat2(rootfd, path, flags);
                if (fd >= 0)
                        return fd;
                if (fd != -ENOSYS)
                        return silo_error_set(err, -fd, "open '%s' in rootfs", path);
        }
        fd = walk(rootfd, path, flags, 0, 0, 0, &we);
        if (fd < 0)
                return walk_error(err, &we, "open", path);
        return fd;
}

static int stat_fd(int fd, struct stat *st, silo_error_t *err, const char *verb, const char *path)
{
        if (fstat(fd, st) < 0)
                return silo_error_set(err, errno, "%s '%s' in rootfs: fstat", verb, path);
        return 0;
}

int silo_mkdir_in_root(int rootfd, const char *path, mode_t mode, silo_error_t *err)
{
        struct walk_err we = {0};
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        if (path == NULL || *path == '\0')
                path = "/";
        /* Fast path: it already exists (openat2 when available). */
        if (use_openat2()) {
                fd = try_openat2(rootfd, path, O_PATH | O_DIRECTORY);
                if (fd >= 0)
                        return TAKE_FD(fd);
                if (fd == -ELOOP)
                        return silo_error_set(err, -fd, "mkdir '%s' in rootfs", path);
                /* ENOENT: create below; ENOTDIR: the walk names the offending component. */
                fd = -1;
        }
        fd = walk(rootfd, path, 0, WALK_MKDIR_PARENTS | WALK_MKDIR_LAST, mode, 0, &we);
        if (fd < 0)
                return walk_error(err, &we, "mkdir", path);
        r = stat_fd(fd, &st, err, "mkdir", path);
        if (r < 0)
                return r;
        if (!S_ISDIR(st.st_mode))
                return silo_error_set(err, ENOTDIR, "mkdir '%s' in rootfs", path);
        return TAKE_FD(fd);
}

int silo_mkfile_in_root(int rootfd, const char *path, mode_t mode, silo_error_t *err)
{
        struct walk_err we = {0};
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        if (path == NULL || *path == '\0' || strspn(path, "/") == strlen(path))
                return silo_error_set(err, EISDIR, "create '%s' in rootfs", path ? path : "");
        if (use_openat2()) {
                fd = try_openat2(rootfd, path, O_PATH);
                if (fd < 0 && fd != -ENOENT && fd != -ENOSYS)
                        return silo_error_set(err, -fd, "create '%s' in rootfs", path);
        }
        if (fd < 0) {
                fd = walk(rootfd, path, 0, WALK_MKDIR_PARENTS | WALK_MKFILE_LAST, 0755, mode, &we);
                if (fd < 0)
                        return walk_error(err, &we, "create", path);
        }
        /* Files are created with `mode`; missing parents get 0755. */
        r = stat_fd(fd, &st, err, "create", path);
        if (r < 0)
                return r;
        if (S_ISDIR(st.st_mode))
                return silo_error_set(err, EISDIR, "create '%s' in rootfs", path);
        return TAKE_FD(fd);
}
