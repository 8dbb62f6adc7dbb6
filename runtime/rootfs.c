/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Child side of the filesystem setup (see rootfs.h), run as root in the container's new mount
 * namespace, possibly inside a new user namespace.
 *
 * Invariants:
 *   - every path from config.json is cleaned lexically (runc's CleanPath) and then resolved
 *     ONCE inside the root with fd.h; mounts go onto that fd (move_mount or the legacy
 *     "/proc/self/fd/N" form), never onto a path string the container could swap;
 *   - after every mount the destination is resolved again and checked (CVE-2025-52881: a racing
 *     symlink must not redirect a mount, or the flags applied after it, elsewhere): a bind
 *     must show the source's st_dev/st_ino, any mount a new mount id (statx, Linux 5.8) or, on
 *     older kernels, a new st_dev;
 *   - flag changes after a bind use mount_setattr (Linux 5.12), which only touches the named
 *     flags, so flags locked by a user namespace (nosuid, nodev, ro, ...) are kept; the legacy
 *     remount fallback ORs in the current flags from fstatvfs for the same reason.  Flags that
 *     the spec does not name are kept too (runc's remount drops them unless locked);
 *   - host files bound into the container (devices in a user namespace, /dev/null for masked
 *     paths) are fstat'ed first: right type and rdev, else an error (CVE-2025-31133);
 *   - "/" is made rslave (or rprivate) before anything is mounted, so nothing propagates to the
 *     host; a shared rootfsPropagation is applied only in finalize.
 * /dev (devices, symlinks, console placeholder) lives in rootfs-dev.c.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <linux/magic.h>
#include <unistd.h>
#include "fd.h"
#include "log.h"
#include "rootfs.h"
#include "rootfs-internal.h"
#include "util.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC 0x19800202
#endif

/* MS_* flags that describe a mount (vfsmount) rather than the filesystem or the operation. */
#define MNT_ATTR_MS                                                                                          \
        (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME |           \
         MS_STRICTATIME | MS_NOSYMFOLLOW)
#define ATIME_MS (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)
#define PROPAGATION_MS (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)


/* ---- paths ------------------------------------------------------------------------------ */

/* Lexically clean a spec path: absolute, no "//", "." or ".." (clamped at "/"). */
char *silo_rootfs_clean_path(const char *p)
{
        char *out = silo_xmalloc0(strlen(p) + 2);
        size_t n = 0;

        while (*p) {
                size_t len;
                while (*p == '/')
                        p++;
                len = strcspn(p, "/");
                if (len == 0)
                        break;
                if (len == 1 && p[0] == '.') {
                } else if (len == 2 && p[0] == '.' && p[1] == '.') {
                        while (n > 0 && out[n - 1] != '/')
                                n--;
                        if (n > 0)
                                n--;
                } else {
                        out[n++] = '/';
                        memcpy(out + n, p, len);
                        n += len;
                }
                p += len;
        }
        if (n == 0)
                out[n++] = '/';
        out[n] = '\0';
        return out;
}

/* ---- mount primitives on fds ------------------------------------------------------------ */

static uint64_t ms_to_attr(unsigned long ms)
{
        uint64_t a = 0;

        if (ms & MS_RDONLY)
                a |= MOUNT_ATTR_RDONLY;
        if (ms & MS_NOSUID)
                a |= MOUNT_ATTR_NOSUID;
        if (ms & MS_NODEV)
                a |= MOUNT_ATTR_NODEV;
        if (ms & MS_NOEXEC)
                a |= MOUNT_ATTR_NOEXEC;
        if (ms & MS_NODIRATIME)
                a |= MOUNT_ATTR_NODIRATIME;
        if (ms & MS_NOSYMFOLLOW)
                a |= MOUNT_ATTR_NOSYMFOLLOW;
        if (ms & MS_NOATIME)
                a |= MOUNT_ATTR_NOATIME;
        else if (ms & MS_STRICTATIME)
                a |= MOUNT_ATTR_STRICTATIME;
        return a; /* MS_RELATIME is MOUNT_ATTR_RELATIME == 0 */
}

static unsigned long statvfs_to_ms(unsigned long f)
{
        unsigned long ms = 0;

        if (f & ST_RDONLY)
                ms |= MS_RDONLY;
        if (f & ST_NOSUID)
                ms |= MS_NOSUID;
        if (f & ST_NODEV)
                ms |= MS_NODEV;
        if (f & ST_NOEXEC)
                ms |= MS_NOEXEC;
        if (f & ST_NOATIME)
                ms |= MS_NOATIME;
        if (f & ST_NODIRATIME)
                ms |= MS_NODIRATIME;
        if (f & ST_RELATIME)
                ms |= MS_RELATIME;
        return ms;
}

/* Bind srcfd onto dstfd (both O_PATH).  open_tree+move_mount need no /proc (after pivot_root
 * the container's /proc may be missing); Linux < 5.2 gets the /proc/self/fd form.  -errno. */
int silo_rootfs_bind_fd(int srcfd, int dstfd, bool recursive)
{
        char s[64], d[64];
        int tree = open_tree(
            srcfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0));

        if (tree >= 0) {
                int r = move_mount(tree, "", dstfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
                int e = errno;
                close(tree);
                return r < 0 ? -e : 0;
        }
        if (errno != ENOSYS)
                return -errno;
        if (mount(silo_fd_path(srcfd, s), silo_fd_path(dstfd, d), NULL, MS_BIND | (recursive ? MS_REC : 0),
                  NULL) < 0)
                return -errno;
        return 0;
}

/* Set the mount flags `set` and clear `clr` (MS_* values) on the mount whose root is fd.
 * Flags not named are kept, locked or not.  -errno. */
static int setattr_fd(int fd, unsigned long set, unsigned long clr, bool recursive)
{
        struct mount_attr attr = {.attr_set = ms_to_attr(set), .attr_clr = ms_to_attr(clr & ~ATIME_MS)};
        struct statvfs sv;
        unsigned long cur;
        char p[64];

        set &= MNT_ATTR_MS;
        clr &= MNT_ATTR_MS;
        if (set & ATIME_MS) {
                attr.attr_clr |= MOUNT_ATTR__ATIME;
        } else if (clr & ATIME_MS) { /* "atime"/"norelatime"...: back to the default relatime */
                attr.attr_clr |= MOUNT_ATTR__ATIME;
                attr.attr_set |= MOUNT_ATTR_RELATIME;
        }
        if (mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof(attr)) == 0)
                return 0;
        if (errno != ENOSYS)
                return -errno;
        /* FIXME: drop once 5.12 is the minimal baseline. */
        if (recursive)
                return -EOPNOTSUPP;
        if (fstatvfs(fd, &sv) < 0)
                return -errno;
        cur = statvfs_to_ms(sv.f_flag);
        if (set & ATIME_MS)
                cur &= ~ATIME_MS;
        if (mount(NULL, silo_fd_path(fd, p), NULL, MS_REMOUNT | MS_BIND | ((cur | set) & ~clr), NULL) < 0)
                return -errno;
        return 0;
}

/* Apply propagation (MS_SHARED|MS_SLAVE|MS_PRIVATE|MS_UNBINDABLE, maybe |MS_REC), one type per call. */
static int propagate_fd(int fd, unsigned long prop)
{
        static const unsigned long types[] = {MS_PRIVATE, MS_SLAVE, MS_SHARED, MS_UNBINDABLE};
        size_t k;
        char p[64];

        for (k = 0; k < ARRAY_SIZE(types); k++) {
                struct mount_attr attr = {.propagation = types[k]};
                if (!(prop & types[k]))
                        continue;
                if (mount_setattr(fd, "", AT_EMPTY_PATH | ((prop & MS_REC) ? AT_RECURSIVE : 0), &attr,
                                  sizeof(attr)) == 0)
                        continue;
                if (errno != ENOSYS)
                        return -errno;
                if (mount(NULL, silo_fd_path(fd, p), NULL, types[k] | (prop & MS_REC), NULL) < 0)
                        return -errno;
        }
        return 0;
}

struct mnt_id {
        struct stat st;
        uint64_t id;
        bool has_id;
};

static int mnt_id_of(int fd, struct mnt_id *m)
{
        struct statx stx;

        if (fstat(fd, &m->st) < 0)
                return -errno;
        m->has_id = statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) == 0 &&
                    (stx.stx_mask & STATX_MNT_ID);
        m->id = m->has_id ? stx.stx_mnt_id : 0;
        return 0;
}

/*
 * Resolve `path` inside the root again after a mount onto `oldfd` (the target as resolved
 * before; its mount and inode do not change when something is mounted on top) and check that
 * it is the new mount: a new mount id (or st_dev), and for binds the source's inode.  ctx names
 * the field for errors.
 */
int silo_rootfs_reopen_mounted(int rootfd, const char *path, int oldfd, int srcfd, const char *ctx, int *ret,
                               silo_error_t *err)
{
        _cleanup_close_ int fd = -1;
        struct mnt_id old, now;
        struct stat src;
        bool okay;
        int r;

        r = mnt_id_of(oldfd, &old);
        if (r < 0)
                return silo_error_set(err, -r, "%s: fstat '%s'", ctx, path);
        fd = silo_open_in_root(rootfd, path, O_PATH, err);
        if (fd < 0)
                return silo_error_wrap(err, "%s", ctx);
        r = mnt_id_of(fd, &now);
        if (r < 0)
                return silo_error_set(err, -r, "%s: fstat '%s'", ctx, path);
        if (now.has_id && old.has_id)
                okay = now.id != old.id;
        else
                okay = srcfd >= 0 || now.st.st_dev != old.st.st_dev;
        if (okay && srcfd >= 0)
                okay = fstat(srcfd, &src) == 0 && src.st_dev == now.st.st_dev && src.st_ino == now.st.st_ino;
        if (!okay)
                return silo_error_set(err, EXDEV, "%s: '%s' is not the new mount (changed while mounting?)",
                                      ctx, path);
        if (ret)
                *ret = TAKE_FD(fd);
        return 0;
}

/* ---- spec mounts ------------------------------------------------------------------------ */

/* runc checkProcMount: below /proc only the files lxcfs emulates may be mounted over. */
static const char *const proc_allowed[] = {
    "/proc/cpuinfo",
    "/proc/diskstats",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/swaps",
    "/proc/uptime",
    "/proc/loadavg",
    "/proc/slabinfo",
    "/proc/sys/kernel/ns_last_pid",
    "/proc/sys/crypto/fips_enabled",
};

static int check_proc_dest(int rootfd, const char *dest, const char *type, bool bind, int srcfd, size_t i,
                           silo_error_t *err)
{
        size_t k;

        if (silo_str_has_prefix(dest, "/proc/")) {
                for (k = 0; k < ARRAY_SIZE(proc_allowed); k++)
                        if (strcmp(dest, proc_allowed[k]) == 0)
                                return 0;
                return silo_error_set(err, EPERM, "/mounts/%zu/destination: '%s' is inside /proc", i, dest);
        }
        if (strcmp(dest, "/proc") == 0 && bind) {
                struct statfs sfs;
                if (fstatfs(srcfd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
                        return silo_error_set(err, EPERM,
                                              "/mounts/%zu/source: a bind onto /proc must be a procfs", i);
        }
        /* /proc and /sys must be real directories (CVE-2023-27561, CVE-2019-19921). */
        if (strcmp(dest, "/proc") == 0 || strcmp(dest, "/sys") == 0 || strcmp(type, "proc") == 0 ||
            strcmp(type, "sysfs") == 0) {
                silo_error_t e = NULL;
                struct stat st;
                _cleanup_close_ int fd = silo_open_in_root(rootfd, dest, O_PATH | O_NOFOLLOW, &e);
                silo_error_free(&e);
                if (fd >= 0 && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode))
                        return silo_error_set(err, ELOOP, "/mounts/%zu/destination: '%s' is a symlink", i,
                                              dest);
        }
        return 0;
}

/* devpts: a private instance with a usable ptmx, as runc adds. */
static char *devpts_data(const char *data)
{
        struct silo_buf b = {0};

        if (data && *data)
                silo_buf_puts(&b, data);
        if (!data || !strstr(data, "newinstance"))
                silo_buf_printf(&b, "%snewinstance", b.len ? "," : "");
        if (!data || !strstr(data, "ptmxmode="))
                silo_buf_printf(&b, "%sptmxmode=0666", b.len ? "," : "");
        return b.data;
}

static bool host_is_cgroup2(void)
{
        struct statfs sfs;

        return statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
}

/*
 * Our own cgroup in the hierarchy mounted as /sys/fs/cgroup/<name>, from /proc/self/cgroup
 * ("4:memory:/silo/c1", "1:name=systemd:/x", "0::/silo/c1" for the unified one).  The init has
 * not entered its cgroup namespace yet (init.c unshares it after the rootfs is prepared), so
 * these are host paths.  NULL when not found.
 */
static char *own_cgroup_path(const char *selfcg, const char *name)
{
        const char *line = selfcg;

        while (line && *line) {
                const char *end = strchrnul(line, '\n');
                const char *c1 = memchr(line, ':', (size_t)(end - line));
                const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
                if (c2) {
                        size_t clen = (size_t)(c2 - c1 - 1);
                        const char *ctl = c1 + 1;
                        bool match = (clen == strlen(name) && strncmp(ctl, name, clen) == 0) ||
                                     (clen == 0 && strcmp(name, "unified") == 0) ||
                                     (clen > 5 && strncmp(ctl, "name=", 5) == 0 && clen - 5 == strlen(name) &&
                                      strncmp(ctl + 5, name, clen - 5) == 0);
                        if (match && c2[1] == '/')
                                return strndup(c2 + 1, (size_t)(end - c2 - 1));
                }
                line = *end ? end + 1 : NULL;
        }
        return NULL;
}

/*
 * cgroup v1 / hybrid hosts, type "cgroup": a tmpfs (already mounted at tfd) holding, for each
 * host hierarchy, a read-only bind of the container's OWN cgroup directory in it (as runc does),
 * plus "cpu" -> "cpu,cpuacct" style links.  So /sys/fs/cgroup/memory/memory.limit_in_bytes is the
 * container's limit, and nothing of the host's tree is visible.
 */
static int populate_cgroup_v1(int tfd, size_t i, silo_error_t *err)
{
        _cleanup_free_ char *info = NULL, *selfcg = NULL;
        char *line, *save = NULL;
        int r;

        r = silo_read_file_at(AT_FDCWD, "/proc/self/mountinfo", 4u << 20, &info, NULL, err);
        if (r == 0)
                r = silo_read_file_at(AT_FDCWD, "/proc/self/cgroup", 1u << 20, &selfcg, NULL, err);
        if (r < 0)
                return silo_error_wrap(err, "/mounts/%zu", i);
        for (line = strtok_r(info, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[5], *sep, *fstype, *name, *c, *tok_save = NULL;
                _cleanup_close_ int hostfd = -1, subfd = -1, mfd = -1;
                int k;

                sep = strstr(line, " - ");
                if (!sep)
                        continue;
                *sep = '\0';
                fstype = sep + 3;
                fstype[strcspn(fstype, " ")] = '\0';
                if (strcmp(fstype, "cgroup") != 0 && strcmp(fstype, "cgroup2") != 0)
                        continue;
                for (k = 0, c = strtok_r(line, " ", &tok_save); k < 5 && c;
                     k++, c = strtok_r(NULL, " ", &tok_save))
                        f[k] = c;
                if (k < 5)
                        continue;
                silo_mountinfo_unescape(f[4]);
                if (!silo_str_has_prefix(f[4], "/sys/fs/cgroup/"))
                        continue;
                name = f[4] + strlen("/sys/fs/cgroup/");
                if (*name == '\0' || strchr(name, '/') || strcmp(name, "..") == 0 || strcmp(name, ".") == 0)
                        continue;
                {
                        _cleanup_free_ char *own = own_cgroup_path(selfcg, name);
                        _cleanup_free_ char *dir = silo_xasprintf("%s%s", f[4], own ? own : "");
                        hostfd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
                if (hostfd < 0) {
                        silo_warn("cgroup hierarchy '%s': %s, ignoring", f[4], strerror(errno));
                        continue;
                }
                if (mkdirat(tfd, name, 0755) < 0 && errno != EEXIST)
                        return silo_error_set(err, errno, "/mounts/%zu: mkdir '%s'", i, name);
                subfd = openat(tfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (subfd < 0)
                        return silo_error_set(err, errno, "/mounts/%zu: open '%s'", i, name);
                r = silo_rootfs_bind_fd(hostfd, subfd, false);
                if (r < 0)
                        return silo_error_set(err, -r, "/mounts/%zu: bind cgroup hierarchy '%s'", i, f[4]);
                /* tfd is our fresh tmpfs: nothing else can swap entries in it. */
                mfd = openat(tfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (mfd < 0)
                        return silo_error_set(err, errno, "/mounts/%zu: open '%s'", i, name);
                r = setattr_fd(mfd, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, false);
                if (r < 0)
                        return silo_error_set(err, -r, "/mounts/%zu: remount '%s' read-only", i, name);
                if (strchr(name, ',')) {
                        _cleanup_free_ char *parts = silo_xstrdup(name);
                        char *ps = NULL, *pn;
                        for (pn = strtok_r(parts, ",", &ps); pn; pn = strtok_r(NULL, ",", &ps))
                                if (symlinkat(name, tfd, pn) < 0 && errno != EEXIST)
                                        return silo_error_set(err, errno, "/mounts/%zu: symlink '%s'", i, pn);
                }
        }
        return 0;
}

enum mount_kind { MK_FS, MK_BIND, MK_SYSFS_BIND, MK_CGROUP_V1, MK_HOST_BIND };

static int mount_one(int rootfd, const struct silo_mount *m, size_t i, const struct silo_rootfs_opts *o,
                     silo_error_t *err)
{
        _cleanup_free_ char *dest = NULL, *src_path = NULL, *data = NULL, *ctx = NULL;
        _cleanup_close_ int srcfd = -1, dstfd = -1, newfd = -1;
        const char *type = m->type ? m->type : "";
        const char *fstype = type;
        unsigned long fsflags;
        enum mount_kind kind = MK_FS;
        bool src_dir = true, rec_bind = false;
        char tgt[64];
        int r;

        if (!m->destination || !*m->destination)
                return silo_error_set(err, EINVAL, "/mounts/%zu/destination: empty", i);
        dest = silo_rootfs_clean_path(m->destination);
        ctx = silo_xasprintf("/mounts/%zu/destination '%s'", i, dest);
        if (strcmp(dest, "/") == 0)
                return silo_error_set(err, EINVAL, "%s: cannot mount over the root", ctx);
        if (m->idmap || m->ridmap)
                return silo_error_set(err, EOPNOTSUPP,
                                      "/mounts/%zu/options: idmapped mounts are not supported", i);
        if (m->tmpcopyup)
                silo_warn("/mounts/%zu/options: 'tmpcopyup' is not supported, ignoring", i);

        if (m->bind || (m->flags & MS_BIND) || strcmp(type, "bind") == 0) {
                kind = MK_BIND;
                rec_bind = (m->flags & MS_REC) != 0;
                if (!m->source || !*m->source)
                        return silo_error_set(err, EINVAL, "/mounts/%zu/source: a bind mount needs a source",
                                              i);
                if (m->source[0] != '/' && o->bundle)
                        src_path = silo_xasprintf("%s/%s", o->bundle, m->source);
                else
                        src_path = silo_xstrdup(m->source);
        } else if (strcmp(type, "sysfs") == 0 && o->in_userns && !o->new_netns) {
                /* sysfs can only be mounted by the owner of the netns: rbind the host's, as runc. */
                kind = MK_SYSFS_BIND;
                rec_bind = true;
                src_path = silo_xstrdup("/sys");
        } else if (strcmp(type, "cgroup") == 0) {
                if (host_is_cgroup2()) {
                        fstype = "cgroup2";
                } else {
                        kind = MK_CGROUP_V1;
                        fstype = "tmpfs";
                }
        }
        if (src_path) {
                struct stat st;
                srcfd = open(src_path, O_PATH | O_CLOEXEC);
                if (srcfd < 0 || fstat(srcfd, &st) < 0)
                        return silo_error_set(err, errno, "/mounts/%zu/source: '%s'", i, src_path);
                src_dir = S_ISDIR(st.st_mode);
        }
        r = check_proc_dest(rootfd, dest, type, kind == MK_BIND, srcfd, i, err);
        if (r < 0)
                return r;

        dstfd = src_dir ? silo_mkdir_in_root(rootfd, dest, 0755, err)
                        : silo_mkfile_in_root(rootfd, dest, 0644, err);
        if (dstfd < 0)
                return silo_error_wrap(err, "/mounts/%zu/destination", i);

        fsflags = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT | PROPAGATION_MS);
        if (kind == MK_BIND || kind == MK_SYSFS_BIND) {
                r = silo_rootfs_bind_fd(srcfd, dstfd, rec_bind);
                if (r < 0)
                        return silo_error_set(err, -r, "%s: bind mount '%s'", ctx, src_path);
        } else {
                const char *source = m->source && *m->source ? m->source : fstype;
                if (strcmp(fstype, "devpts") == 0)
                        data = devpts_data(m->data);
                else if (kind == MK_CGROUP_V1)
                        data = silo_xstrdup("mode=755");
                else
                        data = silo_xstrdup(m->data);
                if (kind == MK_CGROUP_V1) /* made read-only after it is populated */
                        fsflags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
                r = mount(source, silo_fd_path(dstfd, tgt), fstype, fsflags, data);
                if (r < 0 && errno == EPERM && o->in_userns &&
                    (strcmp(fstype, "mqueue") == 0 || strcmp(fstype, "cgroup2") == 0 ||
                     strcmp(fstype, "sysfs") == 0)) {
                        /* Not owner of the ipc/cgroup/net namespace: bind the host's instead, as runc. */
                        const char *h = strcmp(fstype, "mqueue") == 0  ? "/dev/mqueue"
                                        : strcmp(fstype, "sysfs") == 0 ? "/sys"
                                                                       : "/sys/fs/cgroup";
                        silo_debug("%s: mounting %s: EPERM, binding the host's '%s'", ctx, fstype, h);
                        kind = MK_HOST_BIND;
                        srcfd = open(h, O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (srcfd < 0)
                                return silo_error_set(err, errno, "%s: open host '%s'", ctx, h);
                        r = silo_rootfs_bind_fd(srcfd, dstfd, true);
                        errno = -r;
                }
                if (r < 0)
                        return silo_error_set(err, errno, "%s: mount %s", ctx, fstype);
        }

        r = silo_rootfs_reopen_mounted(rootfd, dest, dstfd,
                                       kind == MK_FS || kind == MK_CGROUP_V1 ? -1 : srcfd, ctx, &newfd, err);
        if (r < 0)
                return r;

        if (kind == MK_CGROUP_V1) {
                r = populate_cgroup_v1(newfd, i, err);
                if (r < 0)
                        return r;
                if (m->flags & MS_RDONLY) {
                        r = setattr_fd(newfd, MS_RDONLY, 0, false);
                        if (r < 0)
                                return silo_error_set(err, -r, "%s: remount read-only", ctx);
                }
        } else if (kind != MK_FS && (m->flags & MNT_ATTR_MS)) {
                /* A bind ignores the flags given with it: apply them now (runc remounts). */
                r = setattr_fd(newfd, m->flags & MNT_ATTR_MS, m->clear_flags & MNT_ATTR_MS, kind != MK_BIND);
                if (r < 0)
                        return silo_error_set(err, -r, "%s: set mount flags", ctx);
        }
        if (m->propagation & PROPAGATION_MS) {
                r = propagate_fd(newfd, m->propagation);
                if (r < 0)
                        return silo_error_set(err, -r, "%s: set propagation", ctx);
        }
        if (m->rec_attr_set || m->rec_attr_clr) {
                struct mount_attr attr = {.attr_set = m->rec_attr_set, .attr_clr = m->rec_attr_clr};
                /* The atime mode is one field: mount_setattr wants all of MOUNT_ATTR__ATIME cleared
                 * when any part of it changes ("ratime" then means the default, relatime). */
                if ((attr.attr_set | attr.attr_clr) & MOUNT_ATTR__ATIME)
                        attr.attr_clr |= MOUNT_ATTR__ATIME;
                if (mount_setattr(newfd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
                        return silo_error_set(
                            err, errno == ENOSYS ? EOPNOTSUPP : errno,
                            "/mounts/%zu/options: recursive mount attributes (Linux >= 5.12)", i);
        }
        silo_debug("mounted %s on '%s'", kind == MK_FS ? fstype : "bind", dest);
        return 0;
}


/* ---- the three steps -------------------------------------------------------------------- */

int silo_rootfs_prepare(const struct silo_spec *spec, const struct silo_rootfs_opts *o, silo_error_t *err)
{
        _cleanup_close_ int rootfd = -1;
        size_t i;
        int r;

        /*
         * rslave first, whatever rootfsPropagation says: nothing mounted below may reach the host
         * (a non-recursive "private" would leave submounts shared).  A private variant is then
         * applied on top; shared and unbindable only in finalize (pivot_root refuses a shared
         * root, and an unbindable one cannot be bound onto itself).
         */
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                return silo_error_set(err, errno, "make '/' rslave");
        if (spec->linux_ && (spec->linux_->rootfs_propagation_flags & MS_PRIVATE) &&
            mount(NULL, "/", NULL, spec->linux_->rootfs_propagation_flags & (MS_REC | MS_PRIVATE), NULL) < 0)
                return silo_error_set(err, errno, "/linux/rootfsPropagation: make '/' private");
        /* pivot_root needs the new root to be a mount point; the bind also isolates it.  An image
         * container's overlay arrives as a detached mount: attached here, it exists only in the
         * container's mount namespace (image/ctr.c says why). */
        if (o->mount_fd > 0) {
                if (move_mount(o->mount_fd, "", AT_FDCWD, o->rootfs, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                        return silo_error_set(err, errno, "attach the image overlay on rootfs '%s'", o->rootfs);
        } else if (mount(o->rootfs, o->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
                return silo_error_set(err, errno, "bind mount rootfs '%s'", o->rootfs);
        /* Opened after the bind so that the fd is on the new mount. */
        rootfd = open(o->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return silo_error_set(err, errno, "open rootfs '%s'", o->rootfs);

        for (i = 0; i < spec->n_mounts; i++) {
                r = mount_one(rootfd, &spec->mounts[i], i, o, err);
                if (r < 0)
                        return r;
        }
        if (!silo_rootfs_dev_is_host_bind(spec)) {
                r = silo_rootfs_dev_setup(rootfd, spec, o, err);
                if (r < 0)
                        return r;
        }
        if (spec->linux_ && spec->linux_->mount_label && *spec->linux_->mount_label)
                silo_debug("mountLabel '%s' ignored: no SELinux support", spec->linux_->mount_label);
        return 0;
}

int silo_rootfs_pivot(const struct silo_rootfs_opts *o, silo_error_t *err)
{
        _cleanup_close_ int oldroot = -1, newroot = -1;

        if (o->no_pivot) {
                /* --no-pivot (e.g. a ramfs root where pivot_root is EINVAL): move + chroot. */
                if (chdir(o->rootfs) < 0)
                        return silo_error_set(err, errno, "chdir '%s'", o->rootfs);
                if (mount(o->rootfs, "/", NULL, MS_MOVE, NULL) < 0)
                        return silo_error_set(err, errno, "move rootfs '%s' to '/'", o->rootfs);
                if (chroot(".") < 0)
                        return silo_error_set(err, errno, "chroot '%s'", o->rootfs);
                if (chdir("/") < 0)
                        return silo_error_set(err, errno, "chdir '/'");
                return 0;
        }
        oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (oldroot < 0)
                return silo_error_set(err, errno, "open '/'");
        newroot = open(o->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (newroot < 0)
                return silo_error_set(err, errno, "open rootfs '%s'", o->rootfs);
        if (fchdir(newroot) < 0)
                return silo_error_set(err, errno, "chdir '%s'", o->rootfs);
        /*
         * pivot_root(".", ".") stacks the old root on top of the new one at "/", so no directory
         * has to be created inside the (untrusted, maybe read-only) rootfs to hold it.  Then
         * the old root is unmounted from under us (MNT_DETACH, it is our cwd).
         */
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return silo_error_set(err, errno, "pivot_root into '%s'", o->rootfs);
        /* The kernel leaves cwd on the old root, but do not rely on it. */
        if (fchdir(oldroot) < 0)
                return silo_error_set(err, errno, "chdir to the old root");
        /* rslave first: the detach below must not propagate an unmount to the host. */
        if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
                return silo_error_set(err, errno, "make the old root rslave");
        if (umount2(".", MNT_DETACH) < 0)
                return silo_error_set(err, errno, "detach the old root");
        if (chdir("/") < 0)
                return silo_error_set(err, errno, "chdir '/'");
        return 0;
}

/*
 * A directory is masked by an empty read-only tmpfs: one per container, the first masked dir
 * gets it and the others a clone of that mount (*shared keeps its fd).  One superblock instead
 * of one per dir: CRIU archives each tmpfs it dumps with tar + gzip (~0.8 s per tmpfs under TCG,
 * at the dump and again at the restore), and mounts of one superblock are dumped as binds.
 */
static int mask_dir(int fd, int *shared)
{
        char p[64];
        int fsfd, mfd, r = 0;

        if (*shared >= 0) /* a clone keeps the mount flags: read-only, nosuid, nodev, noexec */
                return silo_rootfs_bind_fd(*shared, fd, false);
        fsfd = fsopen("tmpfs", FSOPEN_CLOEXEC);
        if (fsfd < 0 && errno == ENOSYS) {
                /* FIXME: drop once 5.2 is the minimal baseline (needs /proc in the container). */
                if (mount("tmpfs", silo_fd_path(fd, p), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                          "nr_blocks=1,nr_inodes=1,mode=755") < 0)
                        return -errno;
                return 0;
        }
        if (fsfd < 0)
                return -errno;
        if (fsconfig(fsfd, FSCONFIG_SET_STRING, "nr_blocks", "1", 0) < 0 ||
            fsconfig(fsfd, FSCONFIG_SET_STRING, "nr_inodes", "1", 0) < 0 ||
            fsconfig(fsfd, FSCONFIG_SET_STRING, "mode", "755", 0) < 0 ||
            fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
                r = -errno;
                close(fsfd);
                return r;
        }
        mfd = fsmount(fsfd, FSMOUNT_CLOEXEC,
                      MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
        r = mfd < 0 ? -errno : 0;
        close(fsfd);
        if (r < 0)
                return r;
        if (move_mount(mfd, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                r = -errno;
        if (r < 0)
                close(mfd);
        else
                *shared = mfd; /* the attached mount: the next masked dirs clone it */
        return r;
}

/*
 * maskedPaths / readonlyPaths below /proc and /sys are resolved inside the procfs and sysfs that
 * the config mounted there, held by fd from one lookup, not through whatever the names "/proc"
 * and "/sys" of the (container-owned) rootfs lead to at each lookup.  A /proc swapped for a
 * symlink into a volume between the procfs mount and the masks (CVE-2019-19921/16884, and
 * cve-race.bats catching it: /proc/keys resolved to /vol/fake/keys, ENOENT, skipped; /proc/sys
 * to /vol/fake/sys, bound read-only there) would take the masks and leave the real files bare.
 * The lookup of the mount itself refuses a symlink (O_NOFOLLOW) and anything that is not the
 * filesystem the config put there: the container does not start.  Without such a mount in the
 * config, paths resolve in the rootfs as before.
 */
struct kernel_fs {
        int proc, sys; /* the mount roots, or -1 */
};

static bool spec_mounts_at(const struct silo_spec *spec, const char *dest)
{
        for (size_t i = 0; i < spec->n_mounts; i++)
                if (spec->mounts[i].destination && strcmp(spec->mounts[i].destination, dest) == 0)
                        return true;
        return false;
}

static int open_kernel_fs(int rootfd, const struct silo_spec *spec, const char *dest, long magic,
                          const char *what, int *ret, silo_error_t *err)
{
        struct statfs sfs;
        int fd;

        *ret = -1;
        if (!spec_mounts_at(spec, dest))
                return 0;
        fd = silo_open_in_root(rootfd, dest, O_PATH | O_DIRECTORY | O_NOFOLLOW, err);
        if (fd < 0)
                return silo_error_wrap(err, "masked and read-only paths: '%s' is not the %s mounted there", dest,
                                       what);
        if (fstatfs(fd, &sfs) < 0 || sfs.f_type != magic) {
                close(fd);
                return silo_error_set(err, EXDEV,
                                      "masked and read-only paths: '%s' is not the %s mounted there (swapped?)",
                                      dest, what);
        }
        *ret = fd;
        return 0;
}

/* Where path resolves: *ret_base and the path relative to it. */
static const char *kernel_fs_rel(int rootfd, const struct kernel_fs *k, const char *path, int *ret_base)
{
        const char *p = path;

        while (*p == '/')
                p++;
        if (k->proc >= 0 && strncmp(p, "proc/", 5) == 0) {
                *ret_base = k->proc;
                return p + 5;
        }
        if (k->sys >= 0 && strncmp(p, "sys/", 4) == 0) {
                *ret_base = k->sys;
                return p + 4;
        }
        *ret_base = rootfd;
        return path;
}

static int mask_paths(int rootfd, const struct kernel_fs *k, char **paths, silo_error_t *err)
{
        _cleanup_close_ int nullfd = -1, tmpfs = -1;
        size_t i;
        int r;

        for (i = 0; paths && paths[i]; i++) {
                _cleanup_close_ int fd = -1;
                _cleanup_free_ char *ctx = silo_xasprintf("/linux/maskedPaths/%zu", i);
                struct stat st;

                int base;
                const char *rel = kernel_fs_rel(rootfd, k, paths[i], &base);

                fd = silo_open_in_root(base, rel, O_PATH, err);
                if (fd == -ENOENT) {
                        silo_error_free(err);
                        continue;
                }
                if (fd < 0)
                        return silo_error_wrap(err, "%s", ctx);
                if (fstat(fd, &st) < 0)
                        return silo_error_set(err, errno, "%s: fstat '%s'", ctx, paths[i]);
                if (S_ISDIR(st.st_mode)) {
                        r = mask_dir(fd, &tmpfs);
                        if (r < 0)
                                return silo_error_set(err, -r, "%s: mount tmpfs over '%s'", ctx, paths[i]);
                        r = silo_rootfs_reopen_mounted(base, rel, fd, -1, ctx, NULL, err);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (nullfd < 0) {
                        /* The container's /dev/null, checked: an image could plant anything there. */
                        nullfd = silo_open_in_root(rootfd, "/dev/null", O_PATH, err);
                        if (nullfd < 0)
                                return silo_error_wrap(err, "%s", ctx);
                        if (fstat(nullfd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
                                return silo_error_set(err, ENODEV, "%s: '/dev/null' is not the null device",
                                                      ctx);
                }
                r = silo_rootfs_bind_fd(nullfd, fd, false);
                if (r < 0)
                        return silo_error_set(err, -r, "%s: bind /dev/null over '%s'", ctx, paths[i]);
                r = silo_rootfs_reopen_mounted(base, rel, fd, nullfd, ctx, NULL, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int readonly_paths(int rootfd, const struct kernel_fs *k, char **paths, silo_error_t *err)
{
        size_t i;
        int r;

        for (i = 0; paths && paths[i]; i++) {
                _cleanup_close_ int fd = -1, newfd = -1;
                _cleanup_free_ char *ctx = silo_xasprintf("/linux/readonlyPaths/%zu", i);

                int base;
                const char *rel = kernel_fs_rel(rootfd, k, paths[i], &base);

                fd = silo_open_in_root(base, rel, O_PATH, err);
                if (fd == -ENOENT) {
                        silo_error_free(err);
                        continue;
                }
                if (fd < 0)
                        return silo_error_wrap(err, "%s", ctx);
                r = silo_rootfs_bind_fd(fd, fd, true);
                if (r < 0)
                        return silo_error_set(err, -r, "%s: bind '%s' onto itself", ctx, paths[i]);
                r = silo_rootfs_reopen_mounted(base, rel, fd, fd, ctx, &newfd, err);
                if (r < 0)
                        return r;
                /* Recursive, so that nothing mounted below (e.g. binfmt_misc) stays writable. */
                r = setattr_fd(newfd, MS_RDONLY, 0, true);
                if (r == -EOPNOTSUPP)
                        r = setattr_fd(newfd, MS_RDONLY, 0, false);
                if (r < 0)
                        return silo_error_set(err, -r, "%s: remount '%s' read-only", ctx, paths[i]);
        }
        return 0;
}

int silo_rootfs_finalize(const struct silo_spec *spec, silo_error_t *err)
{
        const struct silo_linux *l = spec->linux_;
        _cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        int r;

        if (rootfd < 0)
                return silo_error_set(err, errno, "open '/'");
        if (spec->root.readonly) {
                r = setattr_fd(rootfd, MS_RDONLY, 0, false);
                if (r < 0)
                        return silo_error_set(err, -r, "/root/readonly: remount '/' read-only");
        }
        if (l && (l->masked_paths || l->readonly_paths)) {
                struct kernel_fs k = {-1, -1};
                r = open_kernel_fs(rootfd, spec, "/proc", PROC_SUPER_MAGIC, "procfs", &k.proc, err);
                if (r == 0)
                        r = open_kernel_fs(rootfd, spec, "/sys", SYSFS_MAGIC, "sysfs", &k.sys, err);
                if (r == 0)
                        r = mask_paths(rootfd, &k, l->masked_paths, err);
                if (r == 0)
                        r = readonly_paths(rootfd, &k, l->readonly_paths, err);
                if (k.proc >= 0)
                        close(k.proc);
                if (k.sys >= 0)
                        close(k.sys);
                if (r < 0)
                        return r;
        }
        if (l) {
                if (l->rootfs_propagation_flags & PROPAGATION_MS) {
                        r = propagate_fd(rootfd, l->rootfs_propagation_flags);
                        if (r < 0)
                                return silo_error_set(err, -r, "/linux/rootfsPropagation: '%s'",
                                                      l->rootfs_propagation ? l->rootfs_propagation : "");
                }
        }
        return 0;
}
