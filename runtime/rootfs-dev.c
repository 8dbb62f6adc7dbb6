/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * /dev inside the container (split from rootfs.c): the default devices (runtime-spec "Default
 * Devices"), linux.devices, the /dev/{fd,stdin,stdout,stderr,core,ptmx} symlinks and the
 * /dev/console placeholder.  Runs in silo_rootfs_prepare, after the spec mounts (so usually on
 * the /dev tmpfs) and before pivot_root.
 *
 * Invariants:
 *   - nodes are created with mknodat on a directory fd resolved inside the root, never through a
 *     path; existing entries are kept (runc), ownership set with AT_SYMLINK_NOFOLLOW;
 *   - in a user namespace (or without CAP_MKNOD) the host node is bound onto an empty file
 *     instead, after checking that the host path is the expected char/block device with the
 *     expected rdev (security.md 0.2), and a bound host node is never chown'ed;
 *   - the umask is 0 while nodes are created, so the modes are exactly the requested ones.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "fd.h"
#include "log.h"
#include "rootfs.h"
#include "rootfs-internal.h"
#include "util.h"


struct dev_node {
        const char *path;
        char type;
        unsigned major, minor;
        mode_t mode;
        uid_t uid;
        gid_t gid;
};

static const struct dev_node default_devices[] = {
    {"/dev/null", 'c', 1, 3, 0666, 0, 0},    {"/dev/zero", 'c', 1, 5, 0666, 0, 0},
    {"/dev/full", 'c', 1, 7, 0666, 0, 0},    {"/dev/random", 'c', 1, 8, 0666, 0, 0},
    {"/dev/urandom", 'c', 1, 9, 0666, 0, 0}, {"/dev/tty", 'c', 5, 0, 0666, 0, 0},
};

static bool dev_matches(const struct stat *st, const struct dev_node *d)
{
        if (d->type == 'b')
                return S_ISBLK(st->st_mode) && st->st_rdev == makedev(d->major, d->minor);
        if (d->type == 'p')
                return S_ISFIFO(st->st_mode);
        return S_ISCHR(st->st_mode) && st->st_rdev == makedev(d->major, d->minor);
}

/* In a user namespace mknod is refused: bind the host's node onto an empty file, as runc. */
static int bind_host_device(int rootfd, const struct dev_node *d, const char *path, const char *ctx,
                            silo_error_t *err)
{
        _cleanup_close_ int hostfd = -1, tfd = -1;
        struct stat st;
        int r;

        hostfd = open(d->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (hostfd < 0)
                return silo_error_set(err, errno, "%s: open host device '%s'", ctx, d->path);
        if (fstat(hostfd, &st) < 0)
                return silo_error_set(err, errno, "%s: fstat host device '%s'", ctx, d->path);
        if (!dev_matches(&st, d))
                return silo_error_set(err, ENODEV, "%s: host '%s' is not the device %c %u:%u", ctx, d->path,
                                      d->type, d->major, d->minor);
        tfd = silo_mkfile_in_root(rootfd, path, 0644, err);
        if (tfd < 0)
                return silo_error_wrap(err, "%s", ctx);
        r = silo_rootfs_bind_fd(hostfd, tfd, false);
        if (r < 0)
                return silo_error_set(err, -r, "%s: bind host device '%s'", ctx, d->path);
        return silo_rootfs_reopen_mounted(rootfd, path, tfd, hostfd, ctx, NULL, err);
}

static int create_device(int rootfd, const struct dev_node *d, const struct silo_rootfs_opts *o,
                         const char *ctx, silo_error_t *err)
{
        _cleanup_free_ char *path = silo_rootfs_clean_path(d->path), *dir = NULL;
        _cleanup_close_ int dirfd = -1;
        const char *base;
        mode_t fmt;
        int r;

        base = strrchr(path, '/') + 1;
        if (*base == '\0')
                return silo_error_set(err, EINVAL, "%s: invalid device path '%s'", ctx, d->path);
        dir = silo_xasprintf("%.*s", (int)(base - path), path);
        fmt = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;

        if (o->in_userns && d->type != 'p')
                return bind_host_device(rootfd, d, path, ctx, err);
        dirfd = silo_mkdir_in_root(rootfd, dir, 0755, err);
        if (dirfd < 0)
                return silo_error_wrap(err, "%s", ctx);
        r = mknodat(dirfd, base, fmt | (d->mode & 07777), d->type == 'p' ? 0 : makedev(d->major, d->minor));
        if (r < 0 && errno == EPERM && d->type != 'p') /* no CAP_MKNOD (e.g. a restricted parent) */
                return bind_host_device(rootfd, d, path, ctx, err);
        if (r < 0 && errno == EEXIST) {
                silo_debug("%s: '%s' exists, keeping it", ctx, path);
                return 0;
        }
        if (r < 0)
                return silo_error_set(err, errno, "%s: mknod '%s'", ctx, path);
        if (fchownat(dirfd, base, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
                return silo_error_set(err, errno, "%s: chown '%s'", ctx, path);
        return 0;
}

static int create_devices(int rootfd, const struct silo_spec *spec, const struct silo_rootfs_opts *o,
                          silo_error_t *err)
{
        const struct silo_linux *l = spec->linux_;
        size_t k, j;
        int r;

        for (k = 0; k < ARRAY_SIZE(default_devices); k++) {
                bool overridden = false;
                for (j = 0; l && j < l->n_devices; j++) {
                        _cleanup_free_ char *p =
                            l->devices[j].path ? silo_rootfs_clean_path(l->devices[j].path) : NULL;
                        if (p && strcmp(p, default_devices[k].path) == 0)
                                overridden = true;
                }
                if (overridden)
                        continue;
                r = create_device(rootfd, &default_devices[k], o, default_devices[k].path, err);
                if (r < 0)
                        return r;
        }
        for (j = 0; l && j < l->n_devices; j++) {
                const struct silo_device *sd = &l->devices[j];
                struct dev_node d = {
                    .path = sd->path,
                    .type = sd->type == 'u' ? 'c' : sd->type,
                    .major = sd->major == SILO_UNSET ? 0 : (unsigned)sd->major,
                    .minor = sd->minor == SILO_UNSET ? 0 : (unsigned)sd->minor,
                    .mode = sd->file_mode == SILO_UNSET ? 0666 : (mode_t)sd->file_mode,
                    .uid = sd->uid == SILO_UNSET ? 0 : (uid_t)sd->uid,
                    .gid = sd->gid == SILO_UNSET ? 0 : (gid_t)sd->gid,
                };
                _cleanup_free_ char *ctx = silo_xasprintf("/linux/devices/%zu", j);
                if (!sd->path || sd->path[0] != '/')
                        return silo_error_set(err, EINVAL, "%s/path: must be absolute", ctx);
                if (!strchr("cbp", d.type))
                        return silo_error_set(err, EINVAL, "%s/type: unknown type '%c'", ctx, sd->type);
                r = create_device(rootfd, &d, o, ctx, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int silo_rootfs_dev_setup(int rootfd, const struct silo_spec *spec, const struct silo_rootfs_opts *o,
                          silo_error_t *err)
{
        static const char *const links[][2] = {
            {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
            {"stderr", "/proc/self/fd/2"}, {"core", "/proc/kcore"},
        };
        _cleanup_close_ int devfd = -1;
        struct stat st;
        mode_t old_umask;
        size_t k;
        int r;

        /* Device modes are exact (0666 for the defaults), whatever the runtime's umask. */
        old_umask = umask(0);
        r = create_devices(rootfd, spec, o, err);
        if (r < 0)
                goto out;
        devfd = silo_open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY, err);
        if (devfd < 0) {
                r = devfd;
                goto out;
        }
        for (k = 0; k < ARRAY_SIZE(links); k++) {
                /* runc: /dev/core only when there is a kcore (CONFIG_PROC_KCORE); host /proc here. */
                if (strcmp(links[k][0], "core") == 0 && access("/proc/kcore", F_OK) < 0)
                        continue;
                if (symlinkat(links[k][1], devfd, links[k][0]) < 0 && errno != EEXIST) {
                        r = silo_error_set(err, errno, "symlink '/dev/%s' in rootfs", links[k][0]);
                        goto out;
                }
        }
        /* /dev/ptmx must point at the private devpts instance (runc removes a node it finds). */
        if (fstatat(devfd, "ptmx", &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISLNK(st.st_mode))
                (void)unlinkat(devfd, "ptmx", 0);
        if (symlinkat("pts/ptmx", devfd, "ptmx") < 0 && errno != EEXIST) {
                r = silo_error_set(err, errno, "symlink '/dev/ptmx' in rootfs");
                goto out;
        }
        if (spec->process && spec->process->terminal) {
                /* The mount target for the pty slave (bound by the terminal code). */
                _cleanup_close_ int cfd = silo_mkfile_in_root(rootfd, "/dev/console", 0600, err);
                if (cfd < 0) {
                        r = cfd;
                        goto out;
                }
        }
        r = 0;
out:
        umask(old_umask);
        return r;
}

bool silo_rootfs_dev_is_host_bind(const struct silo_spec *spec)
{
        size_t i;

        for (i = 0; i < spec->n_mounts; i++) {
                const struct silo_mount *m = &spec->mounts[i];
                _cleanup_free_ char *d = m->destination ? silo_rootfs_clean_path(m->destination) : NULL;
                if (d && strcmp(d, "/dev") == 0 &&
                    (m->bind || (m->flags & MS_BIND) || (m->type && strcmp(m->type, "bind") == 0)))
                        return true;
        }
        return false;
}
