/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>
#include "state.h"
#include "util.h"

const char *silo_state_default_root(void)
{
        static char buf[4096];
        const char *xdg = getenv("XDG_RUNTIME_DIR");

        if (geteuid() != 0 && xdg && *xdg) {
                snprintf(buf, sizeof(buf), "%s/silo", xdg);
                return buf;
        }
        return "/run/silo";
}

static int lock_dir(int fd, const char *id, silo_error_t *err)
{
        struct stat st;

        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return silo_error_set(err, errno, "lock state of '%s'", id);
        if (fstat(fd, &st) < 0)
                return silo_error_set(err, errno, "stat state of '%s'", id);
        if (st.st_nlink == 0) { /* deleted while we waited for the lock */
                silo_error_set(err, 0, "container \"%s\" does not exist", id);
                return -ENOENT;
        }
        return 0;
}

/* mkdir -p: callers pass roots whose parents may not exist yet (containerd's runc shim uses
 * <runc-root>/<namespace>, like runc's MkdirAll). */
static int mkdir_parents(const char *root, mode_t mode)
{
        _cleanup_free_ char *path = silo_xstrdup(root);
        char *p;

        for (p = path + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(path, mode) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(path, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int silo_state_create(const char *root, const char *id, int *ret_dirfd, silo_error_t *err)
{
        _cleanup_close_ int rootfd = -1, fd = -1;
        int r;

        r = mkdir_parents(root, 0711);
        if (r < 0)
                return silo_error_set(err, -r, "create state root '%s'", root);
        rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return silo_error_set(err, errno, "open state root '%s'", root);
        if (mkdirat(rootfd, id, 0711) < 0) {
                if (errno == EEXIST) {
                        silo_error_set(err, 0, "container with given ID already exists: '%s'", id);
                        return -EEXIST;
                }
                return silo_error_set(err, errno, "create state dir '%s/%s'", root, id);
        }
        fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return silo_error_set(err, errno, "open state dir '%s/%s'", root, id);
        r = lock_dir(fd, id, err);
        if (r < 0)
                return r;
        *ret_dirfd = TAKE_FD(fd);
        return 0;
}

int silo_state_open(const char *root, const char *id, int *ret_dirfd, silo_error_t *err)
{
        _cleanup_free_ char *path = silo_xasprintf("%s/%s", root, id);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int r;

        if (fd < 0) {
                if (errno == ENOENT || errno == ENOTDIR) {
                        silo_error_set(err, 0, "container \"%s\" does not exist", id);
                        return -ENOENT;
                }
                return silo_error_set(err, errno, "open state of '%s'", id);
        }
        r = lock_dir(fd, id, err);
        if (r < 0)
                return r;
        *ret_dirfd = TAKE_FD(fd);
        return 0;
}

static void gen_str(yajl_gen g, const char *s)
{
        yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void gen_kv_str(yajl_gen g, const char *k, const char *v)
{
        gen_str(g, k);
        gen_str(g, v ? v : "");
}

static char *gen_finish(yajl_gen g)
{
        const unsigned char *buf;
        size_t len;
        char *out;

        yajl_gen_get_buf(g, &buf, &len);
        out = silo_xmalloc0(len + 1);
        memcpy(out, buf, len);
        /* yajl's beautifier ends with a newline; runc prints none */
        while (len > 0 && out[len - 1] == '\n')
                out[--len] = '\0';
        yajl_gen_free(g);
        return out;
}

static void gen_annotations(yajl_gen g, const struct silo_state *s)
{
        gen_str(g, "annotations");
        yajl_gen_map_open(g);
        for (size_t i = 0; i < s->n_annotations; i++)
                gen_kv_str(g, s->annotations[i].key, s->annotations[i].value);
        yajl_gen_map_close(g);
}

static void gen_oci_state(yajl_gen g, const struct silo_state *s, const char *status, pid_t pid)
{
        yajl_gen_map_open(g);
        gen_kv_str(g, "ociVersion", s->oci_version ? s->oci_version : "1.2.1");
        gen_kv_str(g, "id", s->id);
        gen_str(g, "pid");
        yajl_gen_integer(g, pid);
        gen_kv_str(g, "status", status);
        gen_kv_str(g, "bundle", s->bundle);
        gen_kv_str(g, "rootfs", s->rootfs);
        gen_kv_str(g, "created", s->created);
        gen_annotations(g, s);
        gen_kv_str(g, "owner", s->owner);
        yajl_gen_map_close(g);
}

char *silo_state_oci_json(const struct silo_state *s, const char *status, pid_t pid, bool pretty)
{
        yajl_gen g = yajl_gen_alloc(NULL);

        yajl_gen_config(g, yajl_gen_beautify, pretty ? 1 : 0);
        yajl_gen_config(g, yajl_gen_indent_string, "  ");
        gen_oci_state(g, s, status, pid);
        return gen_finish(g);
}

char *silo_state_process_json(const struct silo_state *s, const char *status, pid_t pid, const char *metadata)
{
        yajl_gen g = yajl_gen_alloc(NULL);

        yajl_gen_map_open(g);
        gen_kv_str(g, "ociVersion", s->oci_version ? s->oci_version : "1.2.1");
        gen_str(g, "fds");
        yajl_gen_array_open(g);
        gen_str(g, "seccompFd");
        yajl_gen_array_close(g);
        gen_str(g, "pid");
        yajl_gen_integer(g, pid);
        if (metadata && *metadata)
                gen_kv_str(g, "metadata", metadata);
        gen_str(g, "state");
        gen_oci_state(g, s, status, pid);
        yajl_gen_map_close(g);
        return gen_finish(g);
}

int silo_state_write(int dirfd, const struct silo_state *s, silo_error_t *err)
{
        yajl_gen g = yajl_gen_alloc(NULL);
        _cleanup_free_ char *json = NULL;

        yajl_gen_map_open(g);
        gen_kv_str(g, "ociVersion", s->oci_version);
        gen_kv_str(g, "id", s->id);
        gen_kv_str(g, "status", s->status);
        gen_str(g, "pid");
        yajl_gen_integer(g, s->pid);
        gen_str(g, "pidStartTime");
        yajl_gen_integer(g, (long long)s->pid_start_time);
        gen_kv_str(g, "bundle", s->bundle);
        gen_kv_str(g, "rootfs", s->rootfs);
        gen_kv_str(g, "created", s->created);
        gen_kv_str(g, "owner", s->owner);
        gen_kv_str(g, "cgroupPath", s->cgroup_path);
        gen_str(g, "cgroupExisted1");
        yajl_gen_integer(g, s->cgroup_existed1);
        gen_kv_str(g, "sandbox", s->sandbox ? s->sandbox : "ns");
        gen_str(g, "systemdCgroup");
        yajl_gen_bool(g, s->systemd_cgroup);
        gen_str(g, "started");
        yajl_gen_bool(g, s->started);
        gen_annotations(g, s);
        yajl_gen_map_close(g);
        json = gen_finish(g);
        return silo_write_file_atomic_at(dirfd, "state.json", json, strlen(json), 0600, err);
}

static char *get_str(yajl_val root, const char *key)
{
        const char *path[] = {key, NULL};
        yajl_val v = yajl_tree_get(root, path, yajl_t_string);
        return v ? silo_xstrdup(YAJL_GET_STRING(v)) : NULL;
}

static long long get_int(yajl_val root, const char *key)
{
        const char *path[] = {key, NULL};
        yajl_val v = yajl_tree_get(root, path, yajl_t_number);
        return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0;
}

static bool get_bool(yajl_val root, const char *key)
{
        const char *path[] = {key, NULL};
        yajl_val v = yajl_tree_get(root, path, yajl_t_any);
        return v && YAJL_IS_TRUE(v);
}

int silo_state_read(int dirfd, struct silo_state **ret, silo_error_t *err)
{
        _cleanup_free_ char *buf = NULL;
        char ebuf[256];
        yajl_val root;
        struct silo_state *s;
        int r;

        r = silo_read_file_at(dirfd, "state.json", 1 << 20, &buf, NULL, err);
        if (r < 0)
                return r;
        root = yajl_tree_parse(buf, ebuf, sizeof(ebuf));
        if (root == NULL || !YAJL_IS_OBJECT(root)) {
                yajl_tree_free(root);
                return silo_error_set(err, 0, "state.json is corrupt: %s", ebuf);
        }
        s = silo_xmalloc0(sizeof(*s));
        s->oci_version = get_str(root, "ociVersion");
        s->id = get_str(root, "id");
        s->status = get_str(root, "status");
        s->pid = (pid_t)get_int(root, "pid");
        s->pid_start_time = (unsigned long long)get_int(root, "pidStartTime");
        s->bundle = get_str(root, "bundle");
        s->rootfs = get_str(root, "rootfs");
        s->created = get_str(root, "created");
        s->owner = get_str(root, "owner");
        s->cgroup_path = get_str(root, "cgroupPath");
        s->cgroup_existed1 = (int)get_int(root, "cgroupExisted1");
        s->sandbox = get_str(root, "sandbox");
        s->systemd_cgroup = get_bool(root, "systemdCgroup");
        s->started = get_bool(root, "started");
        {
                const char *path[] = {"annotations", NULL};
                yajl_val a = yajl_tree_get(root, path, yajl_t_object);
                if (a) {
                        size_t n = YAJL_GET_OBJECT(a)->len;
                        s->annotations = silo_xmalloc0((n + 1) * sizeof(*s->annotations));
                        for (size_t i = 0; i < n; i++) {
                                yajl_val v = YAJL_GET_OBJECT(a)->values[i];
                                if (!YAJL_IS_STRING(v))
                                        continue;
                                s->annotations[s->n_annotations].key =
                                        silo_xstrdup(YAJL_GET_OBJECT(a)->keys[i]);
                                s->annotations[s->n_annotations++].value = silo_xstrdup(YAJL_GET_STRING(v));
                        }
                }
        }
        yajl_tree_free(root);
        if (s->id == NULL || s->status == NULL) {
                silo_state_free(s);
                return silo_error_set(err, 0, "state.json is corrupt: missing id or status");
        }
        *ret = s;
        return 0;
}

void silo_state_free(struct silo_state *s)
{
        if (s == NULL)
                return;
        free(s->oci_version);
        free(s->id);
        free(s->status);
        free(s->bundle);
        free(s->rootfs);
        free(s->created);
        free(s->owner);
        free(s->cgroup_path);
        free(s->sandbox);
        for (size_t i = 0; i < s->n_annotations; i++) {
                free(s->annotations[i].key);
                free(s->annotations[i].value);
        }
        free(s->annotations);
        free(s);
}

int silo_state_remove(const char *root, const char *id, silo_error_t *err)
{
        _cleanup_close_ int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r;

        if (rootfd < 0)
                return errno == ENOENT ? 0 : silo_error_set(err, errno, "open state root '%s'", root);
        r = silo_rm_rf_at(rootfd, id);
        if (r < 0)
                return silo_error_set(err, -r, "remove state dir '%s/%s'", root, id);
        return 0;
}
