/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Per-container image bundles: create (dirs, overlay mount, config.json) and remove.
 * See the invariants at the top of bundle.c; removal is also the delete hook of the runtime.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <sys/stat.h>
#include <unistd.h>
#include "image.h"
#include "json.h"
#include "../runtime/fault.h"
#include "../runtime/log.h"
#include "../runtime/spec.h"
#include "../runtime/sync.h"
#include "../runtime/util.h"

#define MARKER ".silo-container"

/* config.User of an image config (NULL when unset or unparsable: the config was verified) */
static char *config_user(const char *cfg)
{
        yajl_val root = NULL;
        char *u = NULL;

        if (silo_json_parse("image config", cfg, &root, NULL) < 0)
                return NULL;
        u = silo_xstrdup(silo_json_string(silo_json_get(root, "config", NULL, yajl_t_object), "User", NULL));
        yajl_tree_free(root);
        return u;
}

/*
 * Where the overlay lives.  It is built as a *detached* mount (fsopen/fsconfig/fsmount) and
 * handed to the container init, which attaches it on the rootfs path inside its own mount
 * namespace (runtime/rootfs.c).  So the host's mount table never holds it: it goes away with
 * the container's mount namespace, in the same RCU grace period as the container's other
 * mounts.  A host-side mount would cost an umount at delete (one synchronize_rcu_expedited,
 * 0.5-25 ms measured here; most of what `run --image` added over a plain bundle) and would
 * outlive a SIGKILLed silo.  The parent uses the same detached mount (an fd on its root) to
 * resolve the image user before the container exists.
 *
 * Layers go in as one "lowerdir+" each (kernel >= 6.8: no page-size limit on the option
 * string); older kernels get "lowerdir=a:b:c" in a fresh context.  Without fsopen (< 5.2) the
 * overlay is mounted on the host path as before (fd -1), and delete unmounts it.
 */
static int overlay_fd(char **lowers, const char *upper, const char *work, bool vol, silo_error_t *err)
{
        size_t n = silo_strv_len(lowers);
        int e = 0;

        for (int pass = 0; pass < 2; pass++) {
                _cleanup_close_ int fs = fsopen("overlay", FSOPEN_CLOEXEC);
                bool ok = true;
                int mnt;

                if (fs < 0)
                        return -errno == -ENOSYS ? -ENOSYS : silo_error_set(err, errno, "fsopen overlay");
                if (pass == 0) {
                        for (size_t i = n; ok && i > 0; i--) /* top layer first */
                                ok = fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", lowers[i - 1], 0) == 0;
                } else {
                        struct silo_buf b = {0};
                        for (size_t i = n; i > 0; i--)
                                silo_buf_printf(&b, "%s%s", lowers[i - 1], i > 1 ? ":" : "");
                        if (b.len >= 4096) {
                                silo_buf_free(&b);
                                return silo_error_set(err, E2BIG, "overlay: too many layers for this kernel");
                        }
                        ok = fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir", b.data, 0) == 0;
                        silo_buf_free(&b);
                }
                /* volatile (--rm only): no sync of the upper fs when the overlay goes away, ~1 ms of
                 * the container's teardown here; the upper dir is deleted with the container anyway */
                if (ok && vol && fsconfig(fs, FSCONFIG_SET_FLAG, "volatile", NULL, 0) < 0)
                        silo_debug("overlay: no 'volatile' option (%m), going on without");
                ok = ok && fsconfig(fs, FSCONFIG_SET_STRING, "source", "silo", 0) == 0 &&
                     fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) == 0 &&
                     fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) == 0 &&
                     fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0;
                if (ok && (mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0)) >= 0)
                        return mnt;
                e = errno;
                silo_debug("overlay (%s) failed: %s", pass == 0 ? "lowerdir+" : "lowerdir", strerror(e));
        }
        return silo_error_set(err, e, "mount overlay (upper '%s')", upper);
}

/* mount(2) on the host path: kernels without fsopen */
static int mount_overlay_legacy(char **lowers, const char *upper, const char *work, const char *target,
                                silo_error_t *err)
{
        struct silo_buf b = {0};
        size_t n = silo_strv_len(lowers);
        int r = 0;

        silo_buf_puts(&b, "lowerdir=");
        for (size_t i = n; i > 0; i--)
                silo_buf_printf(&b, "%s%s", lowers[i - 1], i > 1 ? ":" : "");
        silo_buf_printf(&b, ",upperdir=%s,workdir=%s", upper, work);
        if (b.len >= 4096)
                r = silo_error_set(err, E2BIG, "mount overlay on '%s': too many layers for this kernel", target);
        else if (mount("overlay", target, "overlay", 0, b.data) < 0)
                r = silo_error_set(err, errno, "mount overlay on '%s'", target);
        silo_buf_free(&b);
        return r;
}

/* The overlay of container dir `dir`: *ret_fd = a detached mount, or -1 when it was mounted on
 * dir/rootfs instead (no fsopen). */
static int container_overlay(const char *dir, char **lowers, bool vol, int *ret_fd, silo_error_t *err)
{
        _cleanup_free_ char *upper = silo_xasprintf("%s/upper", dir), *work = silo_xasprintf("%s/work", dir),
                            *rootfs = silo_xasprintf("%s/rootfs", dir);
        int fd = overlay_fd(lowers, upper, work, vol, err);

        *ret_fd = -1;
        if (fd == -ENOSYS)
                return mount_overlay_legacy(lowers, upper, work, rootfs, err);
        if (fd < 0)
                return fd;
        *ret_fd = fd;
        return 0;
}

/* Push the lower dir of each layer, skipping a layer that appears again higher up: overlayfs
 * refuses the same lowerdir twice (old docker images repeat the empty layer).  Exact: an
 * identical layer applied later overrides every path the lower copy touches. */
static void push_lowers(const char *root, char *const *diff_ids, char ***lowers)
{
        for (size_t j = 0; diff_ids[j]; j++) {
                bool again = false;
                for (size_t k = j + 1; diff_ids[k] && !again; k++)
                        again = strcmp(diff_ids[k], diff_ids[j]) == 0;
                if (!again)
                        silo_strv_push(lowers, silo_xasprintf("%s/layers/%s/diff", root, diff_ids[j] + 7));
        }
}

/*
 * A small file of the image (etc/passwd, etc/group) read straight from the layer dirs, top
 * layer first, the way overlayfs resolves it: a whiteout (0:0 char device) deletes the path, an
 * opaque dir hides the layers below it, a non-directory hides everything below its path.  This
 * lets `run --image` resolve the image user without the overlay, which is then built in
 * parallel (silo_image_mount).  Returns 0 with *ret, -ENOENT when the image has no such regular
 * file, or -EMLINK when a symlink (or anything else this walk does not model) is in the way: the
 * caller then reads it through the mounted overlay, with RESOLVE_IN_ROOT.
 */
static bool dir_opaque(int dfd)
{
        char v[2] = {0}, u[2] = {0}; /* "y"; ("x" marks a dir holding xattr whiteouts: not opaque) */
        return (fgetxattr(dfd, "trusted.overlay.opaque", v, sizeof(v)) > 0 && v[0] == 'y') ||
               (fgetxattr(dfd, "user.overlay.opaque", u, sizeof(u)) > 0 && u[0] == 'y');
}

static int layer_lookup(const char *layer, const char *rel, char **ret)
{
        _cleanup_free_ char *copy = silo_xstrdup(rel);
        _cleanup_close_ int cur = open(layer, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        char *save = NULL, *comp = strtok_r(copy, "/", &save);
        struct stat st;

        if (cur < 0)
                return -EMLINK;
        while (comp) {
                char *next = strtok_r(NULL, "/", &save);
                if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT)
                                return -EMLINK;
                        return dir_opaque(cur) ? -ENOENT : 1; /* 1: not in this layer, look below */
                }
                if (S_ISCHR(st.st_mode) && st.st_rdev == 0)
                        return -ENOENT; /* whiteout */
                if (S_ISLNK(st.st_mode))
                        return -EMLINK;
                if (next == NULL) {
                        _cleanup_close_ int fd = -1;
                        if (!S_ISREG(st.st_mode))
                                return -ENOENT;
                        fd = openat(cur, comp, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
                        if (fd < 0 || silo_read_fd(fd, 4 << 20, ret, NULL) < 0)
                                return -EMLINK;
                        return 0;
                }
                if (!S_ISDIR(st.st_mode))
                        return -ENOENT;
                int d = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (d < 0)
                        return -EMLINK;
                close(cur);
                cur = d;
                comp = next;
        }
        return -ENOENT;
}

static int layers_read_file(char *const *lowers, const char *rel, char **ret)
{
        *ret = NULL;
        for (size_t i = silo_strv_len(lowers); i > 0; i--) { /* top layer first */
                int r = layer_lookup(lowers[i - 1], rel, ret);
                if (r <= 0)
                        return r;
        }
        return -ENOENT;
}

/*
 * The overlay is built by a short-lived child process while `run --image` goes on with the
 * config, the state dir and the cgroups: overlayfs' mount probes the upper fs (a work dir, a
 * whiteout rename, a tmpfile, an xattr), ~0.4 ms here, and create only needs the mount right
 * before it clones the init (silo_create_opts.image_mount).  The child dies with silo
 * (PDEATHSIG) and sends the detached mount back over a socketpair; with one CPU it is built
 * in place instead.
 */
static int mount_start(const char *dir, char **lowers, bool vol, struct silo_image_mount *m, silo_error_t *err)
{
        int sock;
        pid_t parent = getpid(), pid;

        m->fd = -1;
        m->pid = 0;
        m->sock = -1;
        if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
                return container_overlay(dir, lowers, vol, &m->fd, err);
        pid = silo_fork_socketpair(SOCK_SEQPACKET, &sock);
        if (pid < 0)
                return silo_error_set(err, -pid, "fork the overlay builder");
        if (pid == 0) {
                silo_error_t e = NULL;
                int fd = -1;

                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                        _exit(1);
                if (container_overlay(dir, lowers, vol, &fd, &e) < 0)
                        silo_sync_send_error(sock, e);
                else
                        silo_sync_send(sock, SYNC_READY, 0, NULL, 0, fd);
                _exit(0);
        }
        m->pid = pid;
        m->sock = sock;
        return 0;
}

int silo_image_mount_take(struct silo_image_mount *m, int *ret_fd, silo_error_t *err)
{
        struct silo_sync_msg msg = {.fd = -1};
        int r = 0;

        if (m->pid > 0) {
                r = silo_sync_expect(m->sock, SYNC_READY, &msg, err);
                if (r < 0)
                        silo_error_wrap(err, "image overlay");
                (void)waitpid(m->pid, NULL, 0);
                m->pid = 0;
                close(TAKE_FD(m->sock));
                m->fd = r < 0 ? -1 : TAKE_FD(msg.fd);
                silo_sync_msg_clear(&msg);
        }
        *ret_fd = TAKE_FD(m->fd);
        return r;
}

void silo_image_mount_release(struct silo_image_mount *m)
{
        if (m->pid > 0) {
                kill(m->pid, SIGKILL);
                (void)waitpid(m->pid, NULL, 0);
                m->pid = 0;
        }
        if (m->sock >= 0)
                close(TAKE_FD(m->sock));
        if (m->fd >= 0)
                close(TAKE_FD(m->fd));
}

/*
 * <root>/containers/<id>/ with upper/, work/, rootfs/, the owner marker and the layer list:
 * everything but the overlay and config.json.  *ret_dir is set as soon as the dir exists (the
 * caller removes it on a later failure); on failure with *ret_dir == NULL nothing was made.
 */
static int make_container_dir(struct silo_store *s, const char *id, const char *state_root, const char *layers,
                              char **ret_dir, int *ret_dfd, silo_error_t *err)
{
        _cleanup_free_ char *dir = silo_xasprintf("%s/containers/%s", s->root, id);
        _cleanup_close_ int dfd = -1;
        int r;

        *ret_dir = NULL;
        r = mkdir(dir, 0700);
        if (r < 0 && errno == EEXIST && state_root) { /* left by a killed create of this id? */
                silo_image_reclaim_orphan(s->root, state_root, id);
                r = mkdir(dir, 0700);
        }
        if (r < 0)
                return silo_error_set(err, errno, "create container dir '%s'%s", dir,
                                      errno == EEXIST ? " (a container with this ID exists in the data root)" : "");
        *ret_dir = silo_xstrdup(dir);
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0 || mkdirat(dfd, "upper", 0755) < 0 || mkdirat(dfd, "work", 0700) < 0 ||
            mkdirat(dfd, "rootfs", 0755) < 0)
                return silo_error_set(err, errno, "populate '%s'", dir);
        {
                /* One file, written once: the owner (state root + creator pid and start time, see
                 * silo_image_reclaim_orphan), then the image's layers, one diff_id per line, for
                 * the store's gc and for silo_image_container_mount_fd.  (Dirs made before
                 * 2026-11-25 have the layers in a separate "layers" file: still read.)  Every
                 * inode created here costs ~60 us on this VM's ext4 (see import.c mark_topdir). */
                _cleanup_close_ int m = openat(dfd, MARKER, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                _cleanup_free_ char *owner = silo_xasprintf("%s\n%d %llu\n%s", state_root ? state_root : "",
                                                            (int)getpid(), silo_proc_start_time(getpid()),
                                                            layers ? layers : "");
                if (m < 0 || write(m, owner, strlen(owner)) != (ssize_t)strlen(owner))
                        return silo_error_set(err, errno, "create '%s/" MARKER "'", dir);
        }
        *ret_dfd = TAKE_FD(dfd);
        return 0;
}

int silo_image_bundle_create(struct silo_store *s, const struct silo_image_run_opts *o, char **ret_dir,
                             struct silo_image_mount *ret_mount, silo_error_t *err)
{
        struct silo_image_rec *v = NULL;
        struct silo_user_spec user = {0};
        _cleanup_free_ char *dir = NULL, *cfg = NULL, *out = NULL, *image_name = NULL;
        _cleanup_strv_free_ char **lowers = silo_xmalloc0(sizeof(char *));
        _cleanup_close_ int dfd = -1, rootfd = -1;
        struct silo_image_mount mnt = {.fd = -1, .sock = -1};
        struct silo_buf layers = {0};
        size_t n = 0, cfglen;
        int r, i;

        *ret_mount = mnt;
        if (!silo_id_valid(o->id))
                return silo_error_set(err, 0, "invalid container ID format: '%s'", o->id);
        r = silo_store_read_index(s, &v, &n, err);
        if (r < 0)
                return r;
        i = silo_store_find(v, n, o->image, err);
        if (i < 0) {
                silo_image_recs_free(v, n);
                return i;
        }
        for (size_t j = 0; v[i].layers[j]; j++) {
                if (!silo_store_has_layer(s, v[i].layers[j])) {
                        r = silo_error_set(err, ENOENT, "image '%s': layer '%s' is missing from the store",
                                           o->image, v[i].layers[j]);
                        silo_image_recs_free(v, n);
                        return r;
                }
                silo_buf_printf(&layers, "%s\n", v[i].layers[j]);
        }
        push_lowers(s->root, v[i].layers, &lowers);
        r = silo_store_read_blob(s, v[i].id, &cfg, &cfglen, err);
        image_name = silo_xstrdup(v[i].name);
        silo_image_recs_free(v, n);
        if (r < 0)
                goto early;
        if (!lowers[0]) { /* overlay needs a lowerdir: an empty image gets an empty one */
                r = silo_error_set(err, 0, "image '%s' has no layers", o->image);
                goto early;
        }

        r = make_container_dir(s, o->id, o->state_root, layers.data, &dir, &dfd, err);
        if (r < 0) {
                if (dir == NULL)
                        goto early;
                goto fail;
        }
        r = mount_start(dir, lowers, o->ephemeral, &mnt, err);
        if (r < 0)
                goto fail;
        {
                struct silo_image_run_opts o2 = *o;
                _cleanup_free_ char *img_user = config_user(cfg), *passwd = NULL, *group = NULL;
                int rp = layers_read_file(lowers, "etc/passwd", &passwd),
                    rg = layers_read_file(lowers, "etc/group", &group);

                if (rp == -EMLINK || rg == -EMLINK) { /* a symlink in the way: ask the overlay */
                        int fd;
                        r = silo_image_mount_take(&mnt, &fd, err);
                        if (r < 0)
                                goto fail;
                        mnt.fd = fd;
                        if (fd >= 0) {
                                rootfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                        } else {
                                _cleanup_free_ char *rootfs = silo_xasprintf("%s/rootfs", dir);
                                rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        }
                        if (rootfd < 0) {
                                r = silo_error_set(err, errno, "open the rootfs of '%s'", dir);
                                goto fail;
                        }
                        r = silo_image_resolve_user(rootfd, o->user ? o->user : img_user, &user, err);
                } else {
                        r = silo_image_resolve_user_text(passwd, group, o->user ? o->user : img_user, &user,
                                                         err);
                }
                o2.image = image_name;
                if (r == 0)
                        r = silo_image_gen_config(cfg, cfglen, &o2, &user, dir, &out, err);
        }
        SILO_FAULT_POINT("image.ctr-after-mount");
        silo_user_spec_free(&user);
        if (r < 0)
                goto fail;
        {
                /* a fresh dir that only this create writes: no temp file + rename needed */
                _cleanup_close_ int cf = openat(dfd, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                int w = cf < 0 ? -errno : silo_write_all(cf, out, strlen(out));
                if (w < 0) {
                        r = silo_error_set(err, -w, "write '%s/config.json'", dir);
                        goto fail;
                }
        }
        silo_buf_free(&layers);
        *ret_dir = TAKE_PTR(dir);
        *ret_mount = mnt;
        return 0;
fail : {
        silo_image_mount_release(&mnt); /* the overlay (or its builder) goes first, then its dirs */
        silo_image_bundle_discard(dir);
}
early:
        silo_buf_free(&layers);
        return r;
}

/*
 * restore --import on a node that has the image: the container dir as run --image makes it, with
 * the config given (the checkpointed one, image dir annotation already pointing here) and an
 * empty upper dir the caller fills with the archived rootfs changes.  No overlay is mounted:
 * restore builds it from <dir>/layers like any other create.
 */
int silo_image_container_dir_create(struct silo_store *s, const char *image, const char *id,
                                    const char *state_root, const char *config_json, char **ret_dir,
                                    silo_error_t *err)
{
        struct silo_image_rec *v = NULL;
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int dfd = -1;
        struct silo_buf layers = {0};
        size_t n = 0;
        int r, i;

        if (!silo_id_valid(id))
                return silo_error_set(err, 0, "invalid container ID format: '%s'", id);
        r = silo_store_read_index(s, &v, &n, err);
        if (r < 0)
                return r;
        i = silo_store_find(v, n, image, err);
        if (i < 0) {
                silo_image_recs_free(v, n);
                return i;
        }
        for (size_t j = 0; r == 0 && v[i].layers[j]; j++) {
                if (!silo_store_has_layer(s, v[i].layers[j]))
                        r = silo_error_set(err, ENOENT, "image '%s': layer '%s' is missing from the store", image,
                                           v[i].layers[j]);
                silo_buf_printf(&layers, "%s\n", v[i].layers[j]);
        }
        if (r == 0 && layers.len == 0)
                r = silo_error_set(err, 0, "image '%s' has no layers", image);
        silo_image_recs_free(v, n);
        if (r == 0)
                r = make_container_dir(s, id, state_root, layers.data, &dir, &dfd, err);
        if (r == 0)
                r = silo_write_file_atomic_at(dfd, "config.json", config_json, strlen(config_json), 0600, err);
        silo_buf_free(&layers);
        if (r < 0 && dir) {
                silo_image_bundle_discard(dir);
                return r;
        }
        if (r == 0)
                *ret_dir = TAKE_PTR(dir);
        return r;
}

/* Is `dir` a container dir of some data root?  Canonical, <root>/containers/<id>, marker present,
 * and <root> holds the store's layers/ and gc.lock. */
static int validate_dir(const char *dir, int *ret_parent, char **ret_id, silo_error_t *err)
{
        char real[PATH_MAX];
        _cleanup_free_ char *copy = NULL;
        _cleanup_close_ int parent = -1, root = -1;
        char *slash, *id;
        struct stat st;

        if (!dir || dir[0] != '/' || !realpath(dir, real) || strcmp(real, dir) != 0)
                return silo_error_set(err, EINVAL, "'%s' is not a canonical absolute path", dir ? dir : "");
        copy = silo_xstrdup(dir);
        slash = strrchr(copy, '/');
        id = slash + 1;
        *slash = '\0';
        if (!silo_id_valid(id) || strlen(copy) < 11 || strcmp(copy + strlen(copy) - 11, "/containers") != 0)
                return silo_error_set(err, EINVAL, "'%s' is not <data-root>/containers/<id>", dir);
        parent = open(copy, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (parent < 0)
                return silo_error_set(err, errno, "open '%s'", copy);
        root = openat(parent, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0 || fstatat(root, "layers", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
            fstatat(root, "gc.lock", &st, AT_SYMLINK_NOFOLLOW) < 0)
                return silo_error_set(err, EINVAL, "'%s' is not inside a silo data root", dir);
        {
                _cleanup_free_ char *m = silo_xasprintf("%s/" MARKER, id);
                if (fstatat(parent, m, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        return silo_error_set(err, EINVAL, "'%s' is not a silo container dir (no " MARKER ")",
                                              dir);
        }
        *ret_parent = TAKE_FD(parent);
        *ret_id = silo_xstrdup(id);
        return 0;
}

/*
 * `run --image` makes <data-root>/containers/<id> before the state dir exists, so a silo killed
 * in between leaves a dir that no state names (and the id could not be used again).  The marker
 * names the owning state root and the creating process: delete --force (and the next create of
 * the id) removes the dir when that state root has no container <id> and the creator is gone.
 * Another state root's container, or a create still in flight, is never touched.
 */
void silo_image_reclaim_orphan(const char *data_root, const char *state_root, const char *id)
{
        char real[PATH_MAX];
        _cleanup_free_ char *dir = NULL, *marker = NULL, *buf = NULL, *state = NULL;
        silo_error_t e = NULL;
        unsigned long long start = 0;
        char *nl;
        int pid = 0;
        struct stat st;

        if (!data_root || !state_root || !silo_id_valid(id) || !realpath(data_root, real))
                return;
        dir = silo_xasprintf("%s/containers/%s", real, id);
        marker = silo_xasprintf("%s/" MARKER, dir);
        if (silo_read_file_at(AT_FDCWD, marker, 8192, &buf, NULL, NULL) < 0 || (nl = strchr(buf, '\n')) == NULL)
                return;
        *nl = '\0';
        state = silo_xasprintf("%s/%s", state_root, id);
        if (strcmp(buf, state_root) != 0 || lstat(state, &st) == 0 || errno != ENOENT)
                return;
        if (sscanf(nl + 1, "%d %llu", &pid, &start) != 2 || (pid > 0 && silo_proc_alive(pid, start)))
                return;
        silo_debug("removing '%s': left by a create of '%s' that was killed", dir, id);
        if (silo_image_bundle_remove(dir, &e) < 0)
                silo_error_free(&e);
}

int silo_image_container_dir_adopt(const char *dir, const char *state_root, silo_error_t *err)
{
        _cleanup_close_ int parent = -1, dfd = -1;
        _cleanup_free_ char *id = NULL, *buf = NULL, *owner = NULL;
        const char *rest;
        int r = validate_dir(dir, &parent, &id, err);

        if (r < 0)
                return r;
        dfd = openat(parent, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return silo_error_set(err, errno, "'%s'", dir);
        r = silo_read_file_at(dfd, MARKER, 1 << 20, &buf, NULL, err);
        if (r < 0)
                return r;
        rest = strchr(buf, '\n');
        rest = rest ? strchr(rest + 1, '\n') : NULL; /* after the owner's two lines: the layers */
        owner = silo_xasprintf("%s\n%d %llu\n%s", state_root, (int)getpid(), silo_proc_start_time(getpid()),
                               rest ? rest + 1 : "");
        return silo_write_file_atomic_at(dfd, MARKER, owner, strlen(owner), 0600, err);
}

void silo_image_bundle_discard(const char *dir)
{
        silo_error_t e = NULL;

        if (silo_image_bundle_remove(dir, &e) < 0) {
                silo_warn("%s, ignoring", e->msg);
                silo_error_free(&e);
        }
}

int silo_image_bundle_remove(const char *dir, silo_error_t *err)
{
        _cleanup_close_ int parent = -1;
        _cleanup_free_ char *id = NULL, *rootfs = NULL;
        struct stat st;
        int r;

        if (dir && stat(dir, &st) < 0 && errno == ENOENT)
                return 0; /* already removed (e.g. by the delete hook) */
        r = validate_dir(dir, &parent, &id, err);
        if (r < 0)
                return r;
        rootfs = silo_xasprintf("%s/rootfs", dir);
        for (int i = 0; i < 8 && umount2(rootfs, MNT_DETACH | UMOUNT_NOFOLLOW) == 0; i++)
                ;
        r = silo_rm_rf_at(parent, id);
        if (r < 0)
                return silo_error_set(err, -r, "remove '%s'", dir);
        return 0;
}

/* the image dir annotation of this container, or NULL; the annotation comes from a config file,
 * so it must name THIS container's dir (validate_dir checks the rest) */
static const char *own_image_dir(const struct silo_spec *spec, const char *id, bool *foreign)
{
        const char *dir = spec ? silo_spec_annotation(spec, SILO_ANNOT_IMAGE_DIR) : NULL;
        const char *base = dir ? strrchr(dir, '/') : NULL;

        *foreign = dir && (base == NULL || strcmp(base + 1, id) != 0);
        return *foreign ? NULL : dir;
}

int silo_image_container_layers(int containers_fd, const char *id, char ***ids, silo_error_t *err)
{
        static const char *const files[] = {"layers", MARKER}; /* old dirs: "layers"; now: the marker */
        int r = -ENOENT;

        for (size_t f = 0; f < ARRAY_SIZE(files) && r == -ENOENT; f++) {
                _cleanup_free_ char *rel = silo_xasprintf("%s/%s", id, files[f]), *buf = NULL;
                char *save = NULL;

                r = silo_read_file_at(containers_fd, rel, 1 << 20, &buf, NULL, NULL);
                if (r < 0)
                        continue;
                /* the marker's owner lines are never digests */
                for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                        if (silo_digest_valid(l))
                                silo_strv_push(ids, silo_xstrdup(l));
        }
        if (r < 0 && err)
                return silo_error_set(err, -r, "read the layer list of container dir '%s'", id);
        return r;
}

int silo_image_container_mount_fd(const struct silo_spec *spec, const char *id, int *ret_fd, silo_error_t *err)
{
        _cleanup_close_ int parent = -1;
        _cleanup_free_ char *cid = NULL, *root = NULL;
        _cleanup_strv_free_ char **ids = silo_xmalloc0(sizeof(char *)),
                                 **lowers = silo_xmalloc0(sizeof(char *));
        bool foreign;
        const char *dir = own_image_dir(spec, id, &foreign);
        struct stat st, pst;
        int r;

        *ret_fd = -1;
        if (foreign)
                return silo_error_set(err, EINVAL, "annotation " SILO_ANNOT_IMAGE_DIR ": not the dir of container '%s'", id);
        if (dir == NULL)
                return 0;
        r = validate_dir(dir, &parent, &cid, err);
        if (r < 0)
                return silo_error_wrap(err, "annotation " SILO_ANNOT_IMAGE_DIR);
        /* already mounted on the host (kernels without fsopen, or a restore that did it) */
        {
                _cleanup_free_ char *rootfs = silo_xasprintf("%s/rootfs", dir);
                if (stat(rootfs, &st) == 0 && stat(dir, &pst) == 0 && st.st_dev != pst.st_dev)
                        return 0;
        }
        r = silo_image_container_layers(parent, cid, &ids, err);
        if (r < 0)
                return silo_error_wrap(err, "image container '%s'", id);
        if (!ids[0])
                return silo_error_set(err, EINVAL, "'%s': its layer list is empty", dir);
        root = silo_xstrdup(dir);
        *strrchr(root, '/') = '\0'; /* <root>/containers */
        *strrchr(root, '/') = '\0';
        push_lowers(root, ids, &lowers);
        return container_overlay(dir, lowers, false, ret_fd, err);
}

void silo_image_container_cleanup(const struct silo_spec *spec, const char *id)
{
        bool foreign;
        const char *dir = own_image_dir(spec, id, &foreign);
        silo_error_t e = NULL;

        if (foreign) {
                silo_warn("image container dir '%s' does not belong to container '%s', not removing it",
                          silo_spec_annotation(spec, SILO_ANNOT_IMAGE_DIR), id);
                return;
        }
        if (dir == NULL)
                return;
        if (silo_image_bundle_remove(dir, &e) < 0) {
                silo_warn("image container dir: %s, ignoring", e->msg);
                silo_error_free(&e);
        }
}
