/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgroups: mode detection, hierarchy discovery, path rules and dispatch to the v1/v2 drivers.
 *
 * Invariants:
 *   - Every directory silo touches is <hierarchy mountpoint><normalised path>; the path can never
 *     be "/" or contain "..", so silo never writes into, or removes, the hierarchy roots or
 *     anything beside its own cgroup (except enabling controllers in the v2 parents).
 *   - Hybrid hosts: limits go to the v1 hierarchies, the process is placed in the unified tree
 *     too (cgroup.kill, process tracking), as systemd does; the O_PATH dirfd handed to
 *     clone3(CLONE_INTO_CGROUP) is the unified directory's.
 *   - Parents: "silo delete" runs in another process than "silo create", so create's record of
 *     which parents it made (silo_cgroup_existed) is kept in the container state and restored
 *     with silo_cgroup_set_existed: those are removed when empty.  Without a record (opened from
 *     an older state), only empty parents under a top-level "silo" directory (the default
 *     "/silo/<id>" layout, "/silo" included) are removed.  (runc leaves every parent in place.)
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include "cgroup-internal.h"
#include "../runtime/log.h"
#include "../runtime/util.h"

#define DESTROY_TIMEOUT_MS 5000
#define RMDIR_RETRY_MS 1000

/* ---------------------------------------------------------------- small helpers */

void silo_cg_sleep_ms(unsigned ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

uint64_t silo_cg_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void silo_pidset_add(struct silo_pidset *set, pid_t pid)
{
        for (size_t i = 0; i < set->n; i++)
                if (set->pids[i] == pid)
                        return;
        if (set->n == set->cap) {
                set->cap = set->cap ? set->cap * 2 : 16;
                set->pids = silo_xrealloc(set->pids, set->cap * sizeof(pid_t));
        }
        set->pids[set->n++] = pid;
}

void silo_pidset_free(struct silo_pidset *set)
{
        free(set->pids);
        set->pids = NULL;
        set->n = set->cap = 0;
}

int silo_cg_write(const char *dir, const char *file, const char *value, const char *field, silo_error_t *err)
{
        _cleanup_free_ char *p = silo_xasprintf("%s/%s", dir, file);
        _cleanup_close_ int fd = -1;
        int r;

        /* no O_CREAT: a missing file means a missing controller, never something to create */
        fd = open(p, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        r = fd < 0 ? -errno : silo_write_all(fd, value, strlen(value));
        if (r == 0)
                return 0;
        if (field)
                return silo_error_set(err, -r, "%s: write '%s' in '%s'", field, file, dir);
        return silo_error_set(err, -r, "write '%s' in '%s'", file, dir);
}

int silo_cg_writef(const char *dir, const char *file, const char *field, silo_error_t *err, const char *fmt,
                   ...)
{
        _cleanup_free_ char *v = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&v, fmt, ap) < 0)
                abort();
        va_end(ap);
        return silo_cg_write(dir, file, v, field, err);
}

int silo_cg_read(const char *dir, const char *file, char **ret)
{
        _cleanup_free_ char *p = silo_xasprintf("%s/%s", dir, file);
        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        char *s = NULL;
        size_t n = 0;
        int r;

        if (fd < 0)
                return -errno;
        r = silo_read_fd(fd, 1 << 20, &s, &n);
        if (r < 0)
                return r;
        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
                s[--n] = '\0';
        *ret = s;
        return 0;
}

bool silo_cg_has(const char *dir, const char *file)
{
        _cleanup_free_ char *p = silo_xasprintf("%s/%s", dir, file);
        return access(p, F_OK) == 0;
}

int silo_cg_enter_dir(const char *dir, pid_t pid, silo_error_t *err)
{
        return silo_cg_writef(dir, "cgroup.procs", NULL, err, "%d", (int)pid);
}

/* ---------------------------------------------------------------- paths */

char *silo_cgroup_normalize_path(const char *path)
{
        struct silo_buf b = {0};
        const char *p = path;

        if (path == NULL)
                return NULL;
        while (*p) {
                const char *e;
                size_t n;

                while (*p == '/')
                        p++;
                if (*p == '\0')
                        break;
                e = strchrnul(p, '/');
                n = (size_t)(e - p);
                if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
                        silo_buf_free(&b);
                        return NULL;
                }
                silo_buf_putc(&b, '/');
                silo_buf_put(&b, p, n);
                p = e;
        }
        return b.data; /* NULL for "/" or "" */
}

char *silo_cgroup_path_for(const char *cgroups_path, const char *id)
{
        if (cgroups_path == NULL || *cgroups_path == '\0')
                return silo_xasprintf("/silo/%s", id);
        if (cgroups_path[0] != '/')
                return silo_xasprintf("/%s", cgroups_path);
        return silo_xstrdup(cgroups_path);
}

bool silo_cgroup_parent_removable(const char *path, int depth)
{
        return depth >= 1 && path && (strcmp(path, "/silo") == 0 || silo_str_has_prefix(path, "/silo/"));
}

static int path_depth(const char *path)
{
        int n = 0;
        for (const char *p = path; *p; p++)
                if (*p == '/')
                        n++;
        return n;
}

/* mountpoint + the first depth components of path */
static char *level_dir(const char *mountpoint, const char *path, int depth)
{
        const char *p = path;
        for (int i = 0; i < depth && p; i++)
                p = strchr(p + 1, '/');
        if (p == NULL)
                return silo_xasprintf("%s%s", mountpoint, path);
        return silo_xasprintf("%s%.*s", mountpoint, (int)(p - path), path);
}

int silo_cg_mkdir_path(struct silo_cgroup *cg, struct silo_cgroup_hier *h, silo_cg_level_fn on_level,
                       silo_error_t *err)
{
        int depth = path_depth(cg->path), first_created = 0, r = 0;
        bool retry = true;

        /* A concurrent "silo delete" may remove an empty "/silo" between our mkdirs: start over. */
        for (int attempt = 0; attempt < 5 && retry; attempt++) {
                retry = false;
                for (int d = 1; d <= depth; d++) {
                        _cleanup_free_ char *dir = level_dir(h->mountpoint, cg->path, d);
                        _cleanup_free_ char *parent = level_dir(h->mountpoint, cg->path, d - 1);
                        bool created = false;

                        if (mkdir(dir, 0755) == 0) {
                                created = true;
                                if (first_created == 0 || d < first_created)
                                        first_created = d;
                        } else if (errno == ENOENT && d > 1) {
                                retry = true;
                                break;
                        } else if (errno != EEXIST) {
                                r = silo_error_set(err, errno, "mkdir '%s'", dir);
                                goto fail;
                        }
                        if (on_level) {
                                r = on_level(parent, dir, created, err);
                                if (r < 0)
                                        goto fail;
                        }
                }
        }
        h->n_existed = first_created ? first_created - 1 : depth;
        if (retry)
                return silo_error_set(err, EAGAIN, "mkdir '%s': parent removed concurrently", h->dir);
        return 0;
fail:
        h->n_existed = first_created ? first_created - 1 : depth;
        silo_cg_remove_path(cg, h, true, NULL);
        return r;
}

/* rmdir dir after its sub-cgroups (created inside the container, e.g. by a nested systemd) */
static int rmdir_tree(const char *dir)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        /* the common case, a leaf with no sub-cgroups: one syscall */
        if (rmdir(dir) == 0 || errno == ENOENT)
                return 0;
        d = opendir(dir);
        if (d == NULL)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d)) != NULL) {
                if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                _cleanup_free_ char *sub = silo_xasprintf("%s/%s", dir, de->d_name);
                int r = rmdir_tree(sub);
                if (r < 0)
                        return r;
        }
        if (rmdir(dir) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int silo_cg_remove_path(struct silo_cgroup *cg, struct silo_cgroup_hier *h, bool rollback, silo_error_t *err)
{
        int depth = path_depth(cg->path);

        if (!rollback || h->n_existed < depth) {
                uint64_t deadline = silo_cg_now_ms() + RMDIR_RETRY_MS;
                int r;

                /* EBUSY: tasks that were just killed leave the cgroup asynchronously */
                while ((r = rmdir_tree(h->dir)) == -EBUSY && silo_cg_now_ms() < deadline)
                        silo_cg_sleep_ms(10);
                if (r < 0)
                        return silo_error_set(err, -r, "rmdir '%s'", h->dir);
        }
        for (int d = depth - 1; d >= 1; d--) {
                bool ours = h->n_existed >= 0 && d > h->n_existed;
                if (!ours && (rollback || !silo_cgroup_parent_removable(cg->path, d)))
                        break;
                _cleanup_free_ char *dir = level_dir(h->mountpoint, cg->path, d);
                /* in use by another container (EBUSY) or not empty: keep it and its parents */
                if (rmdir(dir) < 0 && errno != ENOENT)
                        break;
        }
        return 0;
}

int silo_cg_read_procs_recursive(const char *dir, struct silo_pidset *set, silo_error_t *err)
{
        _cleanup_free_ char *procs = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r;

        r = silo_cg_read(dir, "cgroup.procs", &procs);
        if (r == -ENOENT)
                return 0; /* gone, or removed while we walked */
        if (r < 0)
                return silo_error_set(err, -r, "read 'cgroup.procs' in '%s'", dir);
        for (char *line = procs, *next; line && *line; line = next) {
                int64_t pid;
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (silo_parse_i64(line, &pid) == 0 && pid > 0)
                        silo_pidset_add(set, (pid_t)pid);
        }
        d = opendir(dir);
        if (d == NULL)
                return errno == ENOENT ? 0 : silo_error_set(err, errno, "opendir '%s'", dir);
        while ((de = readdir(d)) != NULL) {
                if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                _cleanup_free_ char *sub = silo_xasprintf("%s/%s", dir, de->d_name);
                r = silo_cg_read_procs_recursive(sub, set, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---------------------------------------------------------------- mode and discovery */

static const char *cgroup_root(void)
{
        const char *r = getenv("SILO_CGROUP_ROOT");
        return r && *r ? r : SILO_CGROUP_DEFAULT_ROOT;
}

enum silo_cgroup_mode silo_cgroup_detect_mode_at(const char *root)
{
        _cleanup_free_ char *unified = silo_xasprintf("%s/unified", root);
        struct statfs st;

        if (statfs(root, &st) == 0 && st.f_type == SILO_CGROUP2_SUPER_MAGIC)
                return SILO_CGROUP_V2;
        if (statfs(unified, &st) == 0 && st.f_type == SILO_CGROUP2_SUPER_MAGIC)
                return SILO_CGROUP_HYBRID;
        return SILO_CGROUP_V1;
}

enum silo_cgroup_mode silo_cgroup_detect_mode(void)
{
        return silo_cgroup_detect_mode_at(cgroup_root());
}

const char *silo_cgroup_mode_name(enum silo_cgroup_mode m)
{
        switch (m) {
        case SILO_CGROUP_V1:
                return "v1";
        case SILO_CGROUP_HYBRID:
                return "hybrid";
        case SILO_CGROUP_V2:
                return "v2";
        }
        return "unknown";
}

/* Controller names the kernel knows (/proc/cgroups), to tell them from mount options. */
static char **kernel_controllers(void)
{
        _cleanup_free_ char *buf = NULL;
        char **v = NULL;

        if (silo_read_file_at(AT_FDCWD, "/proc/cgroups", 1 << 16, &buf, NULL, NULL) < 0)
                return NULL;
        for (char *line = buf, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (*line == '#')
                        continue;
                size_t n = strcspn(line, " \t");
                if (n > 0)
                        silo_strv_push(&v, silo_xasprintf("%.*s", (int)n, line));
        }
        return v;
}

static bool strv_contains(char *const *v, const char *s)
{
        for (; v && *v; v++)
                if (strcmp(*v, s) == 0)
                        return true;
        return false;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void unescape_octal(char *s)
{
        char *w = s;
        for (char *p = s; *p; p++) {
                if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' &&
                    p[3] <= '7') {
                        *w++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
                        p += 3;
                } else {
                        *w++ = *p;
                }
        }
        *w = '\0';
}

/* Every v1 hierarchy with at least one controller mounted under root, each real mount once
 * (co-mounted controllers such as "cpu,cpuacct" form one hierarchy; the symlinks "cpu" and
 * "cpuacct" that point to it are not in mountinfo).  Named hierarchies (name=systemd) carry no
 * controller and are skipped. */
static int discover_v1(struct silo_cgroup *cg, silo_error_t *err)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        _cleanup_strv_free_ char **known = kernel_controllers();
        _cleanup_free_ char *line = NULL;
        size_t cap = 0, rootlen = strlen(cg->root);
        struct {
                char devnum[32];
                bool whole;
        } *seen = NULL;
        size_t n_seen = 0;

        if (f == NULL)
                return silo_error_set(err, errno, "open '/proc/self/mountinfo'");
        while (getline(&line, &cap, f) > 0) {
                char *fields[6], *sep, *fstype, *superopts, *save = NULL, *tok;
                char **ctrls = NULL;
                int i;

                sep = strstr(line, " - ");
                if (sep == NULL)
                        continue;
                *sep = '\0';
                fstype = strtok_r(sep + 3, " ", &save);
                (void)strtok_r(NULL, " ", &save); /* source */
                superopts = strtok_r(NULL, " \n", &save);
                if (fstype == NULL || superopts == NULL || strcmp(fstype, "cgroup") != 0)
                        continue;
                save = NULL;
                for (i = 0, tok = strtok_r(line, " ", &save); i < 6 && tok;
                     i++, tok = strtok_r(NULL, " ", &save))
                        fields[i] = tok;
                if (i < 5)
                        continue;
                unescape_octal(fields[3]);
                unescape_octal(fields[4]);
                if (strncmp(fields[4], cg->root, rootlen) != 0 || fields[4][rootlen] != '/')
                        continue;
                save = NULL;
                for (tok = strtok_r(superopts, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
                        if (strv_contains(known, tok))
                                silo_strv_push(&ctrls, silo_xstrdup(tok));
                if (ctrls == NULL)
                        continue;

                /* the same hierarchy mounted twice: keep one, preferring a mount of its root */
                bool whole = strcmp(fields[3], "/") == 0, dup = false;
                for (size_t k = 0; k < n_seen; k++) {
                        if (strcmp(seen[k].devnum, fields[2]) != 0)
                                continue;
                        dup = true;
                        if (whole && !seen[k].whole) {
                                struct silo_cgroup_hier *h = &cg->v1[k];
                                free(h->mountpoint);
                                h->mountpoint = silo_xstrdup(fields[4]);
                                seen[k].whole = true;
                        }
                }
                if (dup) {
                        silo_strv_free(ctrls);
                        continue;
                }
                cg->v1 = silo_xrealloc(cg->v1, (cg->n_v1 + 1) * sizeof(*cg->v1));
                seen = silo_xrealloc(seen, (n_seen + 1) * sizeof(*seen));
                snprintf(seen[n_seen].devnum, sizeof(seen[n_seen].devnum), "%s", fields[2]);
                seen[n_seen++].whole = whole;
                cg->v1[cg->n_v1++] = (struct silo_cgroup_hier){
                    .mountpoint = silo_xstrdup(fields[4]),
                    .controllers = ctrls,
                    .n_existed = -1,
                };
        }
        free(seen);
        for (size_t k = 0; k < cg->n_v1; k++)
                cg->v1[k].dir = silo_xasprintf("%s%s", cg->v1[k].mountpoint, cg->path);
        return 0;
}

static int cg_new(const char *path, struct silo_cgroup **ret, silo_error_t *err)
{
        struct silo_cgroup *cg;
        char *norm = silo_cgroup_normalize_path(path);
        int r;

        if (norm == NULL)
                return silo_error_set(err, EINVAL, "/linux/cgroupsPath: invalid cgroup path '%s'",
                                      path ? path : "");
        cg = silo_xmalloc0(sizeof(*cg));
        cg->path = norm;
        cg->root = silo_xstrdup(cgroup_root());
        cg->dirfd = -1;
        cg->mode = silo_cgroup_detect_mode_at(cg->root);
        if (cg->mode != SILO_CGROUP_V2) {
                r = discover_v1(cg, err);
                if (r < 0)
                        goto fail;
        }
        if (cg->mode != SILO_CGROUP_V1) {
                cg->has_unified = true;
                cg->unified.mountpoint = cg->mode == SILO_CGROUP_V2 ? silo_xstrdup(cg->root)
                                                                    : silo_xasprintf("%s/unified", cg->root);
                cg->unified.dir = silo_xasprintf("%s%s", cg->unified.mountpoint, cg->path);
                cg->unified.n_existed = -1;
        }
        *ret = cg;
        return 0;
fail:
        silo_cgroup_free(cg);
        return r;
}

/* ---------------------------------------------------------------- dispatch */

static size_t drivers_for(const struct silo_cgroup *cg, const struct silo_cgroup_driver *d[2])
{
        switch (cg->mode) {
        case SILO_CGROUP_V1:
                d[0] = &silo_cgroup_v1_driver;
                return 1;
        case SILO_CGROUP_HYBRID:
                d[0] = &silo_cgroup_v1_driver;
                d[1] = &silo_cgroup_v2_driver;
                return 2;
        case SILO_CGROUP_V2:
                d[0] = &silo_cgroup_v2_driver;
                return 1;
        }
        return 0;
}

/* Limits live in v1 on v1 and hybrid hosts, in the unified tree only on pure v2 hosts. */
static const struct silo_cgroup_driver *limits_driver(const struct silo_cgroup *cg)
{
        return cg->mode == SILO_CGROUP_V2 ? &silo_cgroup_v2_driver : &silo_cgroup_v1_driver;
}

static const struct silo_cgroup_driver *freezer_driver(struct silo_cgroup *cg)
{
        if (cg->mode != SILO_CGROUP_V2 && silo_cgroup_v1_driver.has_freezer(cg))
                return &silo_cgroup_v1_driver;
        if (cg->has_unified && silo_cgroup_v2_driver.has_freezer(cg))
                return &silo_cgroup_v2_driver;
        return NULL;
}

int silo_cgroup_create(const char *path, const struct silo_resources *r, struct silo_cgroup **ret,
                       silo_error_t *err)
{
        const struct silo_cgroup_driver *d[2];
        struct silo_cgroup *cg = NULL;
        size_t n, i;
        int rc;

        rc = cg_new(path, &cg, err);
        if (rc < 0)
                return rc;
        n = drivers_for(cg, d);
        for (i = 0; i < n; i++) {
                rc = d[i]->create(cg, err);
                if (rc < 0)
                        goto fail;
        }
        if (r) {
                rc = silo_cgroup_apply(cg, r, err);
                if (rc < 0)
                        goto fail;
        }
        silo_debug("cgroup '%s' created (%s)", cg->path, silo_cgroup_mode_name(cg->mode));
        *ret = cg;
        return 0;
fail:
        while (i-- > 0)
                d[i]->remove(cg, true, NULL);
        silo_cgroup_free(cg);
        return rc;
}

int silo_cgroup_open(const char *path, struct silo_cgroup **ret, silo_error_t *err)
{
        struct silo_cgroup *cg = NULL;
        int r = cg_new(path, &cg, err);

        if (r < 0)
                return r;
        if (cg->has_unified)
                cg->dirfd = open(cg->unified.dir, O_PATH | O_DIRECTORY | O_CLOEXEC); /* -1 when gone */
        *ret = cg;
        return 0;
}

int silo_cgroup_dirfd(const struct silo_cgroup *cg)
{
        return cg ? cg->dirfd : -1;
}

int silo_cgroup_enter(struct silo_cgroup *cg, pid_t pid, silo_error_t *err)
{
        const struct silo_cgroup_driver *d[2];
        size_t n = drivers_for(cg, d);

        /* Writing a pid that is already there (CLONE_INTO_CGROUP) is a no-op for the kernel. */
        for (size_t i = 0; i < n; i++) {
                int r = d[i]->enter(cg, pid, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int silo_cgroup_self_enter_fds(struct silo_cgroup *cg, int *fds, size_t max, size_t *ret_n, silo_error_t *err)
{
        size_t n = 0;

        *ret_n = 0;
        for (size_t i = 0; i < cg->n_v1; i++) {
                _cleanup_free_ char *path = silo_xasprintf("%s/tasks", cg->v1[i].dir);
                int fd;

                if (n >= max) {
                        silo_error_set(err, E2BIG, "too many cgroup hierarchies");
                        goto fail;
                }
                fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0) {
                        silo_error_set(err, errno, "open '%s'", path);
                        goto fail;
                }
                fds[n++] = fd;
        }
        *ret_n = n;
        return 0;
fail:
        while (n > 0)
                close(fds[--n]);
        return silo_error_ret(*err);
}

int silo_cgroup_apply(struct silo_cgroup *cg, const struct silo_resources *r, silo_error_t *err)
{
        if (r == NULL)
                return 0;
        /* systemd first: its own writes must not undo the exact values written below */
        if (cg->systemd_unit && silo_systemd_set_properties(cg, r, err) < 0)
                return silo_error_ret(*err);
        return limits_driver(cg)->apply(cg, r, err);
}

static int collect_pids(struct silo_cgroup *cg, struct silo_pidset *set, silo_error_t *err)
{
        const struct silo_cgroup_driver *d[2];
        size_t n = drivers_for(cg, d);

        for (size_t i = 0; i < n; i++) {
                int r = d[i]->pids(cg, set, err);
                if (r < 0) {
                        silo_pidset_free(set);
                        return r;
                }
        }
        return 0;
}

int silo_cgroup_pids(struct silo_cgroup *cg, pid_t **ret, size_t *ret_n, silo_error_t *err)
{
        struct silo_pidset set = {0};
        int r = collect_pids(cg, &set, err);

        if (r < 0)
                return r;
        *ret = set.pids;
        *ret_n = set.n;
        return 0;
}

static int signal_pids(struct silo_cgroup *cg, int sig, silo_error_t *err)
{
        struct silo_pidset set = {0};
        int r = collect_pids(cg, &set, err);

        if (r < 0)
                return r;
        for (size_t i = 0; i < set.n; i++) {
                if (kill(set.pids[i], sig) < 0 && errno != ESRCH) {
                        r = silo_error_set(err, errno, "kill %d (cgroup '%s')", (int)set.pids[i], cg->path);
                        break;
                }
        }
        silo_pidset_free(&set);
        return r;
}

int silo_cgroup_kill_all(struct silo_cgroup *cg, int sig, silo_error_t *err)
{
        const struct silo_cgroup_driver *fd;
        bool frozen_by_us = false, was_frozen = false;
        int r;

        /* cgroup.kill (5.14+) kills the whole subtree atomically, forks included. */
        if (sig == SIGKILL && cg->has_unified) {
                r = silo_cgroup_v2_driver.kill(cg, err);
                if (r == 0) {
                        if (cg->mode != SILO_CGROUP_HYBRID)
                                return 0;
                        /* hybrid: anything placed only in v1 (not through silo) gets a signal too,
                         * and a paused container is thawed: the v1 freezer holds killed tasks
                         * frozen, so the kill would never land (containerd: delete -f of a
                         * paused task) */
                        r = signal_pids(cg, sig, err);
                        fd = freezer_driver(cg);
                        if (fd && fd->is_frozen(cg) > 0) {
                                silo_error_t e = NULL;
                                int t = fd->freeze(cg, false, &e);
                                if (t < 0 && r == 0)
                                        r = silo_error_set(err, e ? e->code : 0, "%s",
                                                           e ? e->msg : "thaw failed");
                                silo_error_free(&e);
                        }
                        return r;
                }
                if (r != -EOPNOTSUPP)
                        return r;
        }

        /* Freeze so that nothing forks between reading the pids and signalling them. */
        fd = freezer_driver(cg);
        if (fd) {
                was_frozen = fd->is_frozen(cg) > 0;
                if (!was_frozen) {
                        silo_error_t e = NULL;
                        if (fd->freeze(cg, true, &e) == 0)
                                frozen_by_us = true;
                        else
                                silo_debug("kill: freezing '%s' failed, signalling anyway", cg->path);
                        silo_error_free(&e);
                }
        }
        r = signal_pids(cg, sig, err);
        /* Thaw what we froze; a paused cgroup is thawed for SIGKILL, or the kill never lands. */
        if (fd && (frozen_by_us || (was_frozen && sig == SIGKILL))) {
                silo_error_t e = NULL;
                int t = fd->freeze(cg, false, &e);
                if (t < 0 && r == 0)
                        r = silo_error_set(err, e ? e->code : 0, "%s", e ? e->msg : "thaw failed");
                silo_error_free(&e);
        }
        return r;
}

int silo_cgroup_freeze(struct silo_cgroup *cg, bool frozen, silo_error_t *err)
{
        const struct silo_cgroup_driver *d = freezer_driver(cg);

        if (d == NULL)
                return silo_error_set(err, EOPNOTSUPP, "%s cgroup '%s': no freezer available",
                                      frozen ? "freezing" : "thawing", cg->path);
        return d->freeze(cg, frozen, err);
}

bool silo_cgroup_is_frozen(struct silo_cgroup *cg)
{
        const struct silo_cgroup_driver *d = freezer_driver(cg);
        return d && d->is_frozen(cg) > 0;
}

int silo_cgroup_destroy(struct silo_cgroup *cg, silo_error_t *err)
{
        const struct silo_cgroup_driver *d[2];
        size_t n = drivers_for(cg, d);
        uint64_t deadline = silo_cg_now_ms() + DESTROY_TIMEOUT_MS;
        silo_error_t e = NULL;
        int ret = 0;

        if (silo_cgroup_kill_all(cg, SIGKILL, &e) < 0)
                silo_debug("destroy '%s': kill failed (%s), removing anyway", cg->path, e ? e->msg : "");
        silo_error_free(&e);
        /* try to remove right away (the usual case: nothing left); only when a hierarchy is
         * still busy, wait for the killed tasks to leave and let remove retry */
        for (size_t i = 0; i < n; i++) {
                silo_error_t busy = NULL;
                if (d[i]->remove(cg, false, &busy) == 0)
                        continue;
                silo_error_free(&busy);
                for (;;) {
                        struct silo_pidset set = {0};
                        if (collect_pids(cg, &set, &e) < 0 || set.n == 0) {
                                silo_error_free(&e);
                                silo_pidset_free(&set);
                                break;
                        }
                        silo_pidset_free(&set);
                        if (silo_cg_now_ms() >= deadline)
                                break; /* rmdir below reports EBUSY */
                        silo_cg_sleep_ms(10);
                }
                break;
        }
        for (size_t i = 0; i < n; i++) {
                int r = d[i]->remove(cg, false, ret < 0 ? NULL : err);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        if (ret == 0 && cg->dirfd >= 0) {
                close(cg->dirfd);
                cg->dirfd = -1;
        }
        /* after the kill: StopUnit's own SIGTERM + timeout would only slow this down */
        if (cg->systemd_unit) {
                int r = silo_systemd_stop(cg, ret < 0 ? NULL : err);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}

int silo_cgroup_existed(const struct silo_cgroup *cg)
{
        int n = -1;

        for (size_t i = 0; i < cg->n_v1; i++)
                n = cg->v1[i].n_existed > n ? cg->v1[i].n_existed : n;
        if (cg->has_unified)
                n = cg->unified.n_existed > n ? cg->unified.n_existed : n;
        return n;
}

void silo_cgroup_set_existed(struct silo_cgroup *cg, int n)
{
        if (n < 0)
                return;
        for (size_t i = 0; i < cg->n_v1; i++)
                cg->v1[i].n_existed = n;
        if (cg->has_unified)
                cg->unified.n_existed = n;
}

const char *silo_cgroup_path(const struct silo_cgroup *cg)
{
        return cg->path;
}

enum silo_cgroup_mode silo_cgroup_mode(const struct silo_cgroup *cg)
{
        return cg->mode;
}

static void hier_free(struct silo_cgroup_hier *h)
{
        free(h->mountpoint);
        free(h->dir);
        silo_strv_free(h->controllers);
}

void silo_cgroup_free(struct silo_cgroup *cg)
{
        if (cg == NULL)
                return;
        for (size_t i = 0; i < cg->n_v1; i++)
                hier_free(&cg->v1[i]);
        free(cg->v1);
        if (cg->has_unified)
                hier_free(&cg->unified);
        if (cg->dirfd >= 0)
                close(cg->dirfd);
        free(cg->systemd_unit);
        free(cg->path);
        free(cg->root);
        free(cg);
}
