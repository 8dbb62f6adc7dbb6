/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The container's tmpfs mounts (the config's /dev, /dev/shm, ...) archived by silo instead of
 * CRIU (issue 6, migration downtime).  CRIU 3.17 saves every tmpfs superblock by running
 * `tar | gzip` at dump and `gzip -d | tar` at restore: four process executions per mount, the
 * largest fixed cost of a dump and of a restore under TCG (measured in dump.log: /dev 0.5 s,
 * /dev/shm 1.2 s of an 8 s dump, about as much again at restore).  /dev holds a few nodes and
 * /dev/shm is usually empty: silo writes them in-process (libarchive, no compression) in
 * microseconds.
 *
 * How:
 *   dump     each tmpfs mount of the config that the container's mount table has at exactly
 *            its destination is an external mount for CRIU (key: the destination, as silo's
 *            bind mounts); at CRIU's "post-dump" notification (every task still frozen: CRIU
 *            runs it before it resumes or kills them) silo archives each one, reached through
 *            /proc/PID/root with RESOLVE_IN_ROOT and checked to be a tmpfs mount root, into
 *            silo-tmpfs-N.tar in the images, and lists them in silo-tmpfs.json (see "when").  A failure
 *            there fails the notification, and CRIU then resumes the tasks: nothing is lost.
 *   restore  for each entry of silo-tmpfs.json, a fresh tmpfs with the config's flags and
 *            options is mounted next to the state (in restore's private mount namespace),
 *            the archive is unpacked into it (owners, modes, device nodes: SILO_UNPACK_TREE),
 *            and CRIU bind-mounts it at the destination as the external mount.  Images
 *            without silo-tmpfs.json (older silo, pre-dumps) restore as before.
 *   when     at CRIU's "network-lock" notification if it comes (the container has a network
 *            namespace of its own: CRIU 3.17 sends it right after the freeze, before any memory
 *            is dumped), else at "post-dump".  The init must be stopped by then (checked: a
 *            CRIU that asked earlier gets a failed dump, not a torn archive).
 *   lazy     --lazy-pages only with a network namespace of its own: post-dump comes after the
 *            last page went over, long after the destination needed the archives; without
 *            network-lock CRIU keeps the tmpfs.
 * Mounts on top of a tmpfs (/dev/pts, /dev/mqueue, a bound /dev/console) stay CRIU's: the
 * archive holds only their mount points, empty.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include "criu-dl.h"
#include "tmpfs.h"
#include "../image/image.h"
#include "../image/json.h"
#include "../runtime/fd.h"
#include "../runtime/log.h"
#include "../runtime/spec.h"
#include "../runtime/util.h"

#define INDEX "silo-tmpfs.json"
#define MAX_TMPFS 64

#ifdef HAVE_CRIU

static bool is_tmpfs_mount(const struct silo_mount *m)
{
        return m->destination && m->type && strcmp(m->type, "tmpfs") == 0 && !m->bind;
}

/* How many mounts of `pid`'s table (mount points relative to its root) are at dest, counting
 * 1 for the root of a tmpfs and more for anything else there (a bind of a file out of a tmpfs,
 * as the masked files from /dev/null; another filesystem; a mount on top): 1 = only a whole
 * tmpfs is at dest. */
static int mountinfo_tmpfs_count(pid_t pid, const char *dest)
{
        char path[64], *line = NULL;
        size_t cap = 0;
        int n = 0;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
        f = fopen(path, "re");
        if (f == NULL)
                return 0;
        while (getline(&line, &cap, f) > 0) {
                char root[PATH_MAX], mp[PATH_MAX], *sep = strstr(line, " - ");
                char fstype[64];
                if (sep == NULL || sscanf(line, "%*s %*s %*s %4095s %4095s", root, mp) != 2 ||
                    sscanf(sep + 3, "%63s", fstype) != 1)
                        continue;
                silo_mountinfo_unescape(mp);
                if (strcmp(mp, dest) == 0)
                        n += strcmp(fstype, "tmpfs") == 0 && strcmp(root, "/") == 0 ? 1 : 100;
        }
        free(line);
        fclose(f);
        return n;
}

/* The dump in flight (CRIU's notify callback has no user pointer; one dump per process). */
static struct {
        pid_t pid;
        bool archived;
        char *freezer; /* the freeze cgroup's state file (cgroup.events / freezer.state) or NULL */
        int imgfd;
        const char *dests[MAX_TMPFS];
        size_t n;
        const char *masked[MAX_TMPFS]; /* masked dirs: silo's empty read-only tmpfs (rootfs.c) */
        size_t n_masked;
} dump = {.imgfd = -1};

/* Does pid live in another network namespace than this process (CRIU's root_ns_mask test)? */
static bool own_netns(pid_t pid)
{
        char p[64];
        struct stat a, b;

        snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)pid);
        return stat(p, &a) == 0 && stat("/proc/self/ns/net", &b) == 0 && a.st_ino != b.st_ino;
}

int ckpt_tmpfs_dump_setup(criu_opts *co, const struct silo_container *c, int imgfd, bool lazy,
                          const char *freeze_cgroup, silo_error_t *err)
{
        const struct silo_spec *spec = c->spec;

        ckpt_tmpfs_dump_end();
        const char *who = getenv("SILO_CRIU_TMPFS");
        if (who && strcmp(who, "criu") == 0) /* leave every tmpfs to CRIU (bench comparison) */
                return 0;
        if (lazy && !own_netns(c->state->pid))
                return 0; /* no network-lock notification: the archives would come too late */
        for (size_t i = 0; i < spec->n_mounts && dump.n < MAX_TMPFS; i++) {
                const struct silo_mount *m = &spec->mounts[i];
                if (!is_tmpfs_mount(m) || mountinfo_tmpfs_count(c->state->pid, m->destination) != 1)
                        continue;
                if (CR(criu_local_add_ext_mount)(co, m->destination, m->destination) < 0)
                        return silo_error_set(err, ENOMEM, "criu: external mount '%s'", m->destination);
                dump.dests[dump.n++] = m->destination;
        }
        /* masked directories: one empty read-only tmpfs (rootfs.c mask_dir), nothing to archive */
        for (size_t i = 0; spec->linux_ && spec->linux_->masked_paths && spec->linux_->masked_paths[i] &&
                           dump.n_masked < MAX_TMPFS;
             i++) {
                const char *p = spec->linux_->masked_paths[i];
                if (mountinfo_tmpfs_count(c->state->pid, p) != 1)
                        continue;
                if (CR(criu_local_add_ext_mount)(co, p, p) < 0)
                        return silo_error_set(err, ENOMEM, "criu: external mount '%s'", p);
                dump.masked[dump.n_masked++] = p;
        }
        if (dump.n == 0 && dump.n_masked == 0)
                return 0;
        dump.pid = c->state->pid;
        if (freeze_cgroup)
                dump.freezer = silo_xasprintf("%s/%s", freeze_cgroup,
                                              strstr(freeze_cgroup, "/freezer/") ? "freezer.state" : "cgroup.events");
        dump.imgfd = fcntl(imgfd, F_DUPFD_CLOEXEC, 3);
        return dump.imgfd < 0 ? silo_error_set(err, errno, "dup") : 0;
}

void ckpt_tmpfs_dump_end(void)
{
        if (dump.imgfd >= 0)
                close(dump.imgfd);
        dump.imgfd = -1;
        dump.n = dump.n_masked = 0;
        dump.pid = 0;
        dump.archived = false;
        free(dump.freezer);
        dump.freezer = NULL;
}

/* One tmpfs of the frozen container into silo-tmpfs-I.tar. */
static int archive_one(int rootfd, size_t i, silo_error_t *err)
{
        const char *dest = dump.dests[i];
        _cleanup_close_ int fd = -1, out = -1;
        char name[32];
        struct statfs sf;
        struct stat st, parent;
        int r;

        fd = silo_open_in_root(rootfd, dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, err);
        if (fd < 0)
                return fd;
        /* the root of a tmpfs mount: a tmpfs whose ".." is on another device */
        if (fstatfs(fd, &sf) < 0 || fstat(fd, &st) < 0 || fstatat(fd, "..", &parent, 0) < 0)
                return silo_error_set(err, errno, "'%s'", dest);
        if (sf.f_type != TMPFS_MAGIC || (parent.st_dev == st.st_dev && strcmp(dest, "/") != 0))
                return silo_error_set(err, EINVAL, "'%s' is no longer a tmpfs mount", dest);
        snprintf(name, sizeof(name), "silo-tmpfs-%zu.tar", i);
        out = openat(dump.imgfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
                return silo_error_set(err, errno, "create '%s'", name);
        r = silo_image_tar_tree(fd, out, err);
        return r < 0 ? silo_error_wrap(err, "archive of the tmpfs at '%s'", dest) : 0;
}

/* CRIU holds the tree: the init in a ptrace or job-control stop ("t"/"T" in its stat), or the
 * freeze cgroup frozen (a paused container, which CRIU dumps as it is) */
static bool tree_held(void)
{
        _cleanup_free_ char *buf = NULL, *fz = NULL;
        char path[64];
        const char *p;

        if (dump.freezer && silo_read_file_at(AT_FDCWD, dump.freezer, 4096, &fz, NULL, NULL) == 0 &&
            (strstr(fz, "frozen 1") || strncmp(fz, "FROZEN", 6) == 0))
                return true;
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)dump.pid);
        if (silo_read_file_at(AT_FDCWD, path, 4096, &buf, NULL, NULL) < 0 || (p = strrchr(buf, ')')) == NULL)
                return false;
        return p[1] == ' ' && (p[2] == 't' || p[2] == 'T');
}

int ckpt_tmpfs_notify(const char *action)
{
        _cleanup_close_ int rootfd = -1;
        struct silo_buf b = {0};
        silo_error_t e = NULL;
        char path[64];
        int r = 0;

        if ((strcmp(action, "network-lock") != 0 && strcmp(action, "post-dump") != 0) || dump.archived ||
            (dump.n == 0 && dump.n_masked == 0))
                return 0;
        dump.archived = true;
        if (!tree_held()) {
                silo_warn("checkpoint: CRIU's '%s' came while pid %d still runs: no tmpfs archive, failing "
                          "the dump",
                          action, (int)dump.pid);
                return -1;
        }
        snprintf(path, sizeof(path), "/proc/%d/root", (int)dump.pid);
        rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                r = silo_error_set(&e, errno, "'%s'", path);
        silo_buf_puts(&b, "{\"version\":1,\"tmpfs\":[");
        for (size_t i = 0; r == 0 && i < dump.n; i++) {
                r = archive_one(rootfd, i, &e);
                silo_buf_printf(&b, "%s{\"destination\":", i ? "," : "");
                silo_json_str(&b, dump.dests[i]);
                silo_buf_printf(&b, ",\"file\":\"silo-tmpfs-%zu.tar\"}", i);
        }
        silo_buf_puts(&b, "],\"masked\":[");
        for (size_t i = 0; i < dump.n_masked; i++) {
                silo_buf_puts(&b, i ? "," : "");
                silo_json_str(&b, dump.masked[i]);
        }
        silo_buf_puts(&b, "]}\n");
        if (r == 0)
                r = silo_write_file_atomic_at(dump.imgfd, INDEX, b.data, b.len, 0600, &e);
        silo_buf_free(&b);
        if (r < 0) {
                /* a non-zero answer makes CRIU resume the tasks and fail the dump */
                silo_warn("checkpoint: %s", e->msg);
                silo_error_free(&e);
                return -1;
        }
        return 0;
}

/* ---- restore ------------------------------------------------------------------------------ */

static const struct silo_mount *spec_tmpfs(const struct silo_spec *spec, const char *dest)
{
        for (size_t i = 0; i < spec->n_mounts; i++)
                if (is_tmpfs_mount(&spec->mounts[i]) && strcmp(spec->mounts[i].destination, dest) == 0)
                        return &spec->mounts[i];
        return NULL;
}

/* A fresh tmpfs at path with m's flags and options, holding the archive `file` of imgfd. */
static int rebuild_one(const struct silo_mount *m, int imgfd, const char *file, const char *path,
                       silo_error_t *err)
{
        unsigned long flags = m->flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME |
                                          MS_RELATIME | MS_STRICTATIME | MS_SYNCHRONOUS | MS_DIRSYNC);
        _cleanup_close_ int tar = -1, dfd = -1;
        struct silo_unpack_limits lim;
        struct silo_unpack_result res;
        int r;

        if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return silo_error_set(err, errno, "mkdir '%s'", path);
        if (mount("tmpfs", path, "tmpfs", flags, m->data && *m->data ? m->data : NULL) < 0)
                return silo_error_set(err, errno, "mount tmpfs for '%s'", m->destination);
        tar = openat(imgfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (tar < 0 || dfd < 0)
                return silo_error_set(err, errno, "'%s'", tar < 0 ? file : path);
        silo_unpack_limits_default(&lim);
        r = silo_unpack_fd(tar, dfd, SILO_UNPACK_TREE, &lim, &res, err);
        if (r < 0)
                return silo_error_wrap(err, "'%s'", file);
        if ((m->flags & MS_RDONLY) && mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | flags, NULL) < 0)
                return silo_error_set(err, errno, "read-only tmpfs for '%s'", m->destination);
        return 0;
}

static bool is_masked(const struct silo_spec *spec, const char *p)
{
        for (size_t i = 0; spec->linux_ && spec->linux_->masked_paths && spec->linux_->masked_paths[i]; i++)
                if (strcmp(spec->linux_->masked_paths[i], p) == 0)
                        return true;
        return false;
}

/* The masked dirs: one empty read-only tmpfs as mask_dir makes it, bound by CRIU at each. */
static int masked_setup(criu_opts *co, const struct silo_spec *spec, yajl_val list, const char *base,
                        silo_error_t *err)
{
        _cleanup_free_ char *path = silo_xasprintf("%s/masked", base);
        size_t n = list ? YAJL_GET_ARRAY(list)->len : 0;

        if (n == 0)
                return 0;
        if (n > MAX_TMPFS)
                return silo_error_set(err, EINVAL, "%s: more than %d masked paths", INDEX, MAX_TMPFS);
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return silo_error_set(err, errno, "mkdir '%s'", path);
        if (mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "nr_blocks=1,nr_inodes=1,mode=755") < 0)
                return silo_error_set(err, errno, "mount the masking tmpfs");
        for (size_t i = 0; i < n; i++) {
                yajl_val e = YAJL_GET_ARRAY(list)->values[i];
                const char *p = YAJL_IS_STRING(e) ? YAJL_GET_STRING(e) : NULL;
                if (p == NULL || !is_masked(spec, p))
                        return silo_error_set(err, EINVAL, "%s: masked entry %zu is not in /linux/maskedPaths",
                                              INDEX, i);
                if (CR(criu_local_add_ext_mount)(co, p, path) < 0)
                        return silo_error_set(err, ENOMEM, "criu: external mount '%s'", p);
        }
        return 0;
}

int ckpt_tmpfs_restore_setup(criu_opts *co, const struct silo_spec *spec, int imgfd, const char *base,
                             silo_error_t *err)
{
        _cleanup_free_ char *buf = NULL;
        yajl_val v = NULL, list;
        size_t n;
        int r;

        if (faccessat(imgfd, INDEX, F_OK, 0) < 0)
                return 0; /* CRIU archived the tmpfs mounts itself */
        r = silo_read_file_at(imgfd, INDEX, 1 << 20, &buf, NULL, err);
        if (r == 0)
                r = silo_json_parse(INDEX, buf, &v, err);
        if (r < 0)
                return r;
        list = silo_json_get(v, "tmpfs", NULL, yajl_t_array);
        n = list ? YAJL_GET_ARRAY(list)->len : 0;
        if (list == NULL || n > MAX_TMPFS) {
                yajl_tree_free(v);
                return silo_error_set(err, EINVAL, "%s: want a list \"tmpfs\" of at most %d entries", INDEX,
                                      MAX_TMPFS);
        }
        for (size_t i = 0; r == 0 && i < n; i++) {
                yajl_val e = YAJL_GET_ARRAY(list)->values[i];
                const char *dest = silo_json_string(e, "destination", NULL);
                const char *file = silo_json_string(e, "file", NULL);
                const struct silo_mount *m = dest ? spec_tmpfs(spec, dest) : NULL;
                _cleanup_free_ char *path = silo_xasprintf("%s/tmpfs-%zu", base, i);
                char want[32];

                snprintf(want, sizeof(want), "silo-tmpfs-%zu.tar", i);
                if (m == NULL || file == NULL || strcmp(file, want) != 0)
                        r = silo_error_set(err, EINVAL, "%s: entry %zu ('%s') is no tmpfs mount of the config",
                                           INDEX, i, dest ? dest : "");
                else
                        r = rebuild_one(m, imgfd, file, path, err);
                if (r == 0 && CR(criu_local_add_ext_mount)(co, dest, path) < 0)
                        r = silo_error_set(err, ENOMEM, "criu: external mount '%s'", dest);
        }
        if (r == 0)
                r = masked_setup(co, spec, silo_json_get(v, "masked", NULL, yajl_t_array), base, err);
        yajl_tree_free(v);
        return r;
}

void ckpt_tmpfs_restore_end(const char *base)
{
        _cleanup_free_ char *masked = silo_xasprintf("%s/masked", base);

        if (umount2(masked, MNT_DETACH) == 0 || errno != ENOENT)
                rmdir(masked);
        for (size_t i = 0; i < MAX_TMPFS; i++) {
                _cleanup_free_ char *path = silo_xasprintf("%s/tmpfs-%zu", base, i);
                if (umount2(path, MNT_DETACH) < 0 && errno == ENOENT)
                        break;
                rmdir(path);
        }
}

#endif
