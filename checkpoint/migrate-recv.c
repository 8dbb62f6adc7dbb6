/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * silo migrate, the destination side: `--receive` (rsh) and `--listen ADDR:PORT` (tcp:).  The
 * protocol and the invariants are at the top of migrate.c; here in short: a worker process
 * receives one migration into <root>/@migrate-in-<its pid>, runs the pre-flight checks, restores
 * on RESTORE and answers RUNNING; the process that forked it removes that dir after reaping it,
 * whatever became of the worker.
 */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "checkpoint.h"
#include "criu-dl.h"
#include "migrate.h"
#include "migrate-internal.h"
#include "../image/image.h"
#include "../image/json.h"
#include "../netns/netns.h"
#include "../runtime/fault.h"
#include "../runtime/log.h"
#include "../runtime/util.h"

/* "dir/name" into its two checked halves (pointers into s, which is modified). */
static int split_rel(char *s, char **dir, char **name, silo_error_t *err)
{
        char *slash = strchr(s, '/');

        if (slash == NULL || !mig_name_ok(s, (size_t)(slash - s)) ||
            !mig_name_ok(slash + 1, strlen(slash + 1)))
                return silo_error_set(err, EPROTO, "migrate: refused file name '%s'", s);
        *slash = '\0';
        *dir = s;
        *name = slash + 1;
        return 0;
}

/* ---- destination -------------------------------------------------------------------------- */

struct dst_run {
        const struct silo_context *ctx;
        const char *data_root;
        const char *tmp;
        int tmpfd;
        int rfd, wfd;
        int file; /* the file being received, -1 */
        yajl_val hello;
        const char *rootfs; /* READY's "rootfs": "shared", "diff" (make the dir here) or "bundle" */
        bool restored;
        bool uffd;         /* CRIU here restores lazily (asked at the pre-flight, not in the downtime) */
        pid_t lazy_daemon; /* `criu lazy-pages` filling a pre-copied restore from the local images */
};

static const char *hello_str(const struct dst_run *d, const char *key)
{
        const char *s = silo_json_string(d->hello, key, NULL);
        return s ? s : "";
}

/*
 * An image container: its dir under this node's data root is either the source's very dir (two
 * roots on one machine: same boot id, device and inode), restored from in place, or made here
 * at RESTORE from this node's image and the rootfs changes of the final dump.  Any other dir of
 * that id here is busy.
 */
static int image_dir_preflight(struct dst_run *d, silo_error_t *err)
{
        const char *id = hello_str(d, "id");
        _cleanup_free_ char *dir = NULL, *spec = silo_xasprintf("%s/spec/config.json", d->tmp);
        char real[PATH_MAX], boot[40];
        struct stat st;

        if (realpath(d->data_root, real) == NULL)
                return silo_error_set(err, errno, "data root '%s'", d->data_root);
        dir = silo_xasprintf("%s/containers/%s", real, id);
        if (stat(dir, &st) == 0) {
                mig_boot_id(boot);
                if (*boot && strcmp(boot, hello_str(d, "bootId")) == 0 &&
                    strtoull(hello_str(d, "dirDev"), NULL, 10) == (unsigned long long)st.st_dev &&
                    strtoull(hello_str(d, "dirIno"), NULL, 10) == (unsigned long long)st.st_ino) {
                        d->rootfs = "shared";
                        return 0;
                }
                return silo_error_set(err, EEXIST, "container dir '%s' already exists here", dir);
        }
        if (errno != ENOENT)
                return silo_error_set(err, errno, "'%s'", dir);
        if (access(spec, F_OK) < 0)
                return silo_error_set(err, EPROTO, "migrate: the source sent no config for image container '%s'",
                                      id);
        d->rootfs = "diff";
        return 0;
}

/* Everything the destination must have before any page moves. */
static int preflight(struct dst_run *d, silo_error_t *err)
{
        yajl_val p = silo_json_get(d->hello, "proto", NULL, yajl_t_number);
        yajl_val c = silo_json_get(d->hello, "criu", NULL, yajl_t_number);
        const char *id = hello_str(d, "id"), *bundle = hello_str(d, "bundle"), *image = hello_str(d, "image");
        const char *ip = hello_str(d, "ip"), *bridge = hello_str(d, "bridge");
        _cleanup_free_ char *cpu = silo_xasprintf("%s/cpuinfo", d->tmp), *path = NULL;
        char kernel[128];
        int r, criu = 0;
        bool vm = mig_hello_vm(d->hello); /* qemu's checks in place of CRIU's (migrate-vm.c) */

        if (p == NULL || YAJL_GET_INTEGER(p) != MIG_PROTO)
                return silo_error_set(err, EPROTO,
                                      "migrate protocol %lld of the source is not %d (silo %s here)",
                                      p ? (long long)YAJL_GET_INTEGER(p) : -1LL, MIG_PROTO, SILO_VERSION);
        r = vm ? mig_vm_preflight(d->data_root, d->hello, d->tmp, err) : silo_criu_dl_load(err);
#ifdef HAVE_CRIU
        if (r == 0 && !vm)
                r = criu = mig_criu_version(err);
#endif
        if (r < 0)
                return r;
        if (c && YAJL_GET_INTEGER(c) > criu)
                return silo_error_set(err, 0, "CRIU %d here is older than CRIU %lld at the source", criu,
                                      (long long)YAJL_GET_INTEGER(c));
        mig_kernel_release(kernel, sizeof(kernel));
        if (mig_kernel_num(kernel) < mig_kernel_num(hello_str(d, "kernel")))
                return silo_error_set(err, 0, "kernel %s here is older than kernel %s at the source", kernel,
                                      hello_str(d, "kernel"));
        r = vm ? 0 : mig_criu_cpuinfo("check", cpu, err);
        if (r < 0)
                return silo_error_wrap(err, "the CPU here cannot run what the source's CPU ran");
#ifdef HAVE_CRIU
        if (!vm) { /* userfaultfd here: post-copy needs it, a pre-copy's restore uses it (dst_lazy_base) */
                struct criu_feature_check f = {.lazy_pages = true};
                r = CR(criu_local_feature_check)(NULL, &f, sizeof(f));
                d->uffd = r == 0 && f.lazy_pages;
                if (!d->uffd && silo_json_get(d->hello, "lazyPages", NULL, yajl_t_true))
                        return silo_error_set(err, r < 0 ? -r : EOPNOTSUPP,
                                              "--lazy-pages: CRIU here cannot restore lazily (%s)",
                                              r < 0 ? CR(silo_criu_last_error)() : "no userfaultfd");
        }
#endif
        path = silo_xasprintf("%s/%s", d->ctx->root, id);
        if (access(path, F_OK) == 0)
                return silo_error_set(err, EEXIST, "container '%s' already exists here (--root '%s')", id,
                                      d->ctx->root);
        if (*image) {
                struct silo_store s;
                struct silo_image_rec *v = NULL;
                size_t n = 0;
                silo_error_t e = NULL;
                bool found = silo_store_open(&s, d->data_root, false, &e) == 0 &&
                             silo_store_read_index(&s, &v, &n, &e) == 0 &&
                             silo_store_find(v, n, image, &e) >= 0;
                if (v)
                        silo_image_recs_free(v, n);
                silo_store_close(&s);
                silo_error_free(&e);
                if (!found)
                        return silo_error_set(err, ENOENT, "image '%s' is not here (data root '%s')", image,
                                              d->data_root);
        }
        d->rootfs = "bundle";
        if (*hello_str(d, "imageDir") && !vm)
                return image_dir_preflight(d, err);
        free(path);
        path = silo_xasprintf("%s/config.json", bundle);
        if (access(path, F_OK) < 0)
                return silo_error_set(err, errno, "the container's %s '%s' is not here",
                                      *image ? "container dir" : "bundle", bundle);
        if (*ip && *bridge) {
                _cleanup_free_ char *lease_root = silo_xasprintf("%s/@net", d->ctx->root), *holder = NULL;
                struct in_addr a;
                if (inet_pton(AF_INET, ip, &a) != 1 || !silo_net_ifname_valid(bridge))
                        return silo_error_set(err, EPROTO, "bad address '%s' or bridge '%s'", ip, bridge);
                r = silo_net_ip_holder(lease_root, bridge, ntohl(a.s_addr), &holder, err);
                if (r < 0)
                        return r;
                if (holder)
                        return silo_error_set(err, EADDRINUSE, "address '%s' is held by container '%s' here",
                                              ip, holder);
        }
        return 0;
}

/* "rootfs":"diff": the container dir, made here from this node's image, the config the source
 * sent and the rootfs changes in the final dir.  "made-id" in the temporary dir first: if this
 * worker dies before the container exists here, the process that forked it reclaims the dir. */
static int make_image_dir(struct dst_run *d, const char *img, char **ret, silo_error_t *err)
{
        const char *id = hello_str(d, "id");
        _cleanup_free_ char *spec = NULL;
        _cleanup_close_ int imgfd = -1;
        int r;

        r = silo_read_file_at(d->tmpfd, "spec/config.json", 16 << 20, &spec, NULL, err);
        if (r == 0)
                r = silo_write_file_atomic_at(d->tmpfd, "made-id", id, strlen(id), 0600, err);
        if (r < 0)
                return r;
        imgfd = open(img, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (imgfd < 0)
                return silo_error_set(err, errno, "'%s'", img);
        r = silo_ckpt_image_dir_make(d->data_root, d->ctx->root, hello_str(d, "image"), id, spec, imgfd, ret,
                                     err);
        return r < 0 ? silo_error_wrap(err, "migrate: the container dir here") : 0;
}

/*
 * Pre-copy: the final dump's pages are mostly in the pre-dump rounds (PE_PARENT), which CRIU
 * would read into the new process inside the downtime.  silo-criu.so makes an image dir "lazy"
 * whose top level is the first round's own pages file, patched in place with every newer copy
 * (checkpoint/criu-lazy.c); the restore then starts the tasks at once and `criu lazy-pages`
 * fills the memory from the local file while they run.  All pages are here already: the source
 * is not needed for that, so RUNNING stays the commit point.  When a dump cannot be restored
 * that way (memory freed since the first round, no userfaultfd, SILO_MIGRATE_EAGER=1 for an
 * A/B), the restore reads the final dump as before.  Returns the dir, or NULL.
 */
static char *dst_lazy_base(struct dst_run *d, const char *dir, unsigned long *ret_pages)
{
        const char *eager = getenv("SILO_MIGRATE_EAGER");
        char why[512];
        int r;

        *ret_pages = 0;
        if (!d->uffd || (eager && strcmp(eager, "1") == 0))
                return NULL;
#ifdef HAVE_CRIU
        r = CR(silo_criu_lazy_base)(d->tmpfd, dir, "lazy", ret_pages, why, sizeof(why));
#else
        r = 0;
        snprintf(why, sizeof(why), "no CRIU");
#endif
        if (r > 0) {
                if (*why)
                        silo_debug("migrate: lazy restore, but a task eagerly: %s", why);
                return silo_xasprintf("%s/lazy", d->tmp);
        }
        if (r < 0)
                silo_warn("migrate: restoring eagerly: %s", why);
        else
                silo_debug("migrate: restoring eagerly: %s", why);
        return NULL;
}

/* The lazy restore's daemon ends once every page is in.  If it fails, pages the tasks have not
 * touched yet would read as zeros (userfaultfd gone): the container is killed instead.  CRIU's
 * daemon also exits 1 after a complete run whose page count came out short (its summary, a
 * warning: memory the tasks unmapped meanwhile), so an exit status is a failure only when its
 * log has an error or it was killed. */
static void dst_lazy_wait(struct dst_run *d)
{
        _cleanup_free_ char *log = NULL;
        int status = 0;

        if (d->lazy_daemon <= 0)
                return;
        while (waitpid(d->lazy_daemon, &status, 0) < 0 && errno == EINTR)
                ;
        d->lazy_daemon = 0;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return;
        if (WIFEXITED(status) &&
            silo_read_file_at(d->tmpfd, "lazy/lazy-pages.log", 4 << 20, &log, NULL, NULL) == 0 &&
            strstr(log, "Error (") == NULL) {
                silo_warn("migrate: 'criu lazy-pages' ended with status %d but no error (see its summary)",
                          WEXITSTATUS(status));
                return;
        }
        silo_error_t e = NULL;
        fprintf(stderr,
                "silo migrate: 'criu lazy-pages' filling '%s' from the local images failed (%s %d, see "
                "its lazy-pages.log); killing the container rather than let it run with memory missing\n",
                hello_str(d, "id"), WIFEXITED(status) ? "exit status" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        if (silo_container_kill(d->ctx, hello_str(d, "id"), SIGKILL, true, &e) < 0) {
                fprintf(stderr, "silo migrate: kill '%s': %s\n", hello_str(d, "id"), e->msg);
                silo_error_free(&e);
        }
}

static int dst_restore(struct dst_run *d, const char *json, silo_error_t *err)
{
        _cleanup_free_ char *img = NULL, *reply = NULL;
        yajl_val v = NULL;
        const char *dir, *ps;
        struct silo_criu_opts co = {.status_fd = -1, .detach = true};
        _cleanup_free_ char *page_server = NULL, *made = NULL, *lazy_img = NULL, *dir_name = NULL;
        unsigned long lazy_pages = 0;
        int status = 0, saved = -1, nul, r;
        double t0 = mig_now_ms();
        char path[64];

        r = silo_json_parse("RESTORE", json, &v, err);
        if (r < 0)
                return r;
        dir = silo_json_string(v, "dir", NULL);
        if (dir == NULL || !mig_name_ok(dir, strlen(dir))) {
                yajl_tree_free(v);
                return silo_error_set(err, EPROTO, "migrate: bad RESTORE");
        }
        ps = silo_json_string(v, "pageServer", NULL);
        if (ps && !mig_lazy_addr_ok(ps)) {
                yajl_tree_free(v);
                return silo_error_set(err, EPROTO, "migrate: bad page server in RESTORE");
        }
        page_server = ps ? silo_xstrdup(ps) : NULL;
        img = silo_xasprintf("%s/%s", d->tmp, dir);
        dir_name = silo_xstrdup(dir);
        yajl_tree_free(v);
        /* post-copy: restore starts `criu lazy-pages`, which fetches the memory from there */
        co.lazy_pages = page_server != NULL;
        co.page_server = page_server;
        co.id = hello_str(d, "id");
        co.image_path = img;
        co.bundle = hello_str(d, "bundle");
        if (d->rootfs && strcmp(d->rootfs, "diff") == 0) {
                r = make_image_dir(d, img, &made, err);
                if (r < 0)
                        return r;
                co.bundle = made;
        }
        if (page_server == NULL && (lazy_img = dst_lazy_base(d, dir_name, &lazy_pages)) != NULL) {
                co.image_path = lazy_img;
                co.lazy_pages = true;
                co.lazy_daemon = &d->lazy_daemon;
        }
        co.tcp_established = silo_json_get(d->hello, "tcpEstablished", NULL, yajl_t_true) != NULL;
        /* the restored tasks get this process's stdio for their pipes (descriptors.json): never
         * the migration stream or the remote shell's stderr, which would then never close */
        nul = open("/dev/null", O_RDWR | O_CLOEXEC);
        saved = fcntl(2, F_DUPFD_CLOEXEC, 3);
        if (nul >= 0) {
                dup2(nul, 0);
                dup2(nul, 1);
                dup2(nul, 2);
                close(nul);
        }
        SILO_FAULT_POINT("migrate.before-restore"); /* images here, nothing restored yet */
        r = silo_restore(d->ctx, &co, &status, err);
        if (saved >= 0) {
                dup2(saved, 2);
                close(saved);
        }
        if (r < 0 && made) /* restore's rollback leaves an image container dir to its maker */
                silo_image_bundle_discard(made);
        if (r < 0 && d->lazy_daemon > 0) { /* not left to wait on pages nobody will ask for */
                kill(d->lazy_daemon, SIGKILL);
                waitpid(d->lazy_daemon, NULL, 0);
                d->lazy_daemon = 0;
        }
        if (r < 0)
                return r;
        d->restored = true;
        if (d->rootfs && strcmp(d->rootfs, "shared") == 0) { /* the source's dir: this root owns it now */
                silo_error_t e = NULL;
                if (silo_image_container_dir_adopt(co.bundle, d->ctx->root, &e) < 0) {
                        silo_warn("migrate: %s, ignoring", e->msg);
                        silo_error_free(&e);
                }
        }
        snprintf(path, sizeof(path), "%.0f", mig_now_ms() - t0);
        reply = silo_xasprintf("{\"restoreMs\":%s,\"lazyPages\":%lu}", path, lazy_pages);
        return mig_send_str(d->wfd, MSG_RUNNING, reply, err);
}

static int dst_file(struct dst_run *d, uint32_t type, char *p, size_t len, silo_error_t *err)
{
        char *dir, *name;
        int r;

        switch (type) {
        case MSG_MKDIR:
                if (!mig_name_ok(p, strlen(p)))
                        return silo_error_set(err, EPROTO, "migrate: refused directory name '%s'", p);
                if (mkdirat(d->tmpfd, p, 0700) < 0)
                        return silo_error_set(err, errno, "mkdir '%s/%s'", d->tmp, p);
                return 0;
        case MSG_FILE: {
                _cleanup_close_ int dfd = -1;
                if (d->file >= 0)
                        return silo_error_set(err, EPROTO, "migrate: FILE inside a file");
                r = split_rel(p, &dir, &name, err);
                if (r < 0)
                        return r;
                dfd = openat(d->tmpfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dfd >= 0)
                        d->file =
                            openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (d->file < 0)
                        return silo_error_set(err, errno, "create '%s/%s/%s'", d->tmp, dir, name);
                return 0;
        }
        case MSG_DATA:
                if (d->file < 0)
                        return silo_error_set(err, EPROTO, "migrate: DATA outside a file");
                r = silo_write_all(d->file, p, len);
                return r < 0 ? silo_error_set(err, -r, "write into '%s'", d->tmp) : 0;
        case MSG_EOF:
                if (d->file < 0)
                        return silo_error_set(err, EPROTO, "migrate: EOF outside a file");
                close(d->file);
                d->file = -1;
                return 0;
        case MSG_SYMLINK: {
                _cleanup_close_ int dfd = -1;
                const char *target = p + strlen(p) + 1;
                if ((size_t)(target - p) > len || !silo_str_has_prefix(target, "../") ||
                    !mig_name_ok(target + 3, strlen(target + 3)))
                        return silo_error_set(err, EPROTO, "migrate: refused link in '%s'", p);
                r = split_rel(p, &dir, &name, err);
                if (r < 0)
                        return r;
                dfd = openat(d->tmpfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dfd < 0 || symlinkat(target, dfd, name) < 0)
                        return silo_error_set(err, errno, "symlink '%s/%s/%s'", d->tmp, dir, name);
                return 0;
        }
        }
        return silo_error_set(err, EPROTO, "migrate: unexpected message %u", type);
}

/* The worker: one migration, from HELLO to DONE.  Exit status 0 = the container runs here. */
static int dst_worker(struct dst_run *d, silo_error_t *err)
{
        _cleanup_free_ char *hello = NULL;
        int r;

        r = mig_expect(d->rfd, MSG_HELLO, &hello, err);
        if (r == 0)
                r = silo_json_parse("HELLO", hello, &d->hello, err);
        if (r == 0 && !silo_id_valid(hello_str(d, "id")))
                r = silo_error_set(err, EPROTO, "migrate: invalid container id '%s'", hello_str(d, "id"));
        if (r < 0)
                return r;
        for (;;) {
                _cleanup_free_ char *p = NULL;
                uint32_t type;
                size_t len;

                r = mig_recv(d->rfd, &type, &p, &len, err);
                if (r < 0)
                        break;
                if (type == MSG_CHECK) {
                        _cleanup_free_ char *ready = NULL;
                        char kernel[128];
                        r = preflight(d, err);
                        if (r < 0)
                                break;
                        mig_kernel_release(kernel, sizeof(kernel));
                        ready = silo_xasprintf("{\"silo\":\"%s\",\"kernel\":\"%s\",\"rootfs\":\"%s\"}",
                                               SILO_VERSION, kernel, d->rootfs ? d->rootfs : "bundle");
                        r = mig_send_str(d->wfd, MSG_READY, ready, err);
                } else if (type == MSG_ROUND) {
                        silo_debug("migrate: round %s", p);
                } else if (type == MSG_RESTORE) {
                        r = dst_restore(d, p, err);
                } else if (type == MSG_DONE) {
                        dst_lazy_wait(d); /* the images go once the daemon is through them */
                        return d->restored ? 0 : silo_error_set(err, EPROTO, "migrate: DONE before RESTORE");
                } else {
                        r = dst_file(d, type, p, len, err);
                }
                if (r < 0)
                        break;
        }
        dst_lazy_wait(d);
        if (d->restored) { /* RUNNING was sent: the source may have committed (see the invariants) */
                silo_warn("migrate: '%s' was restored here but the source did not confirm (%s); keeping it",
                          hello_str(d, "id"), (*err)->msg);
                silo_error_free(err);
                return 0;
        }
        return r;
}

/* Fork the worker, wait for it, remove its temporary dir whatever happened to it. */
int silo_migrate_receive(const struct silo_context *ctx, const char *data_root, int rfd, int wfd,
                         silo_error_t *err)
{
        _cleanup_free_ char *tmp = NULL;
        int status = 0;
        pid_t pid;

        if (mkdir(ctx->root, 0711) < 0 && errno != EEXIST)
                return silo_error_set(err, errno, "mkdir '%s'", ctx->root);
        signal(SIGPIPE, SIG_IGN);
        pid = fork();
        if (pid < 0)
                return silo_error_set(err, errno, "fork");
        if (pid == 0) {
                struct dst_run d = {
                    .ctx = ctx, .data_root = data_root, .rfd = rfd, .wfd = wfd, .file = -1, .tmpfd = -1};
                silo_error_t e = NULL;
                int r;

                d.tmp = tmp = silo_xasprintf("%s/@migrate-in-%d", ctx->root, (int)getpid());
                r = mkdir(tmp, 0700) < 0 ? silo_error_set(&e, errno, "mkdir '%s'", tmp) : 0;
                if (r == 0) {
                        d.tmpfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        r = d.tmpfd < 0 ? silo_error_set(&e, errno, "'%s'", tmp) : dst_worker(&d, &e);
                }
                if (r < 0) {
                        silo_error_t e2 = NULL;
                        _cleanup_free_ char *text = silo_error_text(e);
                        _cleanup_free_ char *msg = silo_xasprintf("destination: %s", text);
                        mig_send_str(wfd, MSG_ERROR, msg, &e2);
                        silo_error_free(&e2);
                        fprintf(stderr, "silo migrate --receive: %s\n", text);
                        silo_error_free(&e);
                }
                if (d.file >= 0)
                        close(d.file);
                silo_rm_rf_at(AT_FDCWD, tmp);
                _exit(r < 0 ? 1 : 0);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return silo_error_set(err, errno, "waitpid");
        tmp = silo_xasprintf("%s/@migrate-in-%d", ctx->root, (int)pid);
        if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
                /* a worker that died while making an image container's dir: the dir goes unless
                 * the container exists here (then `delete --force` owns it) */
                _cleanup_free_ char *made = silo_xasprintf("%s/made-id", tmp), *id = NULL;
                if (silo_read_file_at(AT_FDCWD, made, 256, &id, NULL, NULL) == 0 && silo_id_valid(id))
                        silo_image_reclaim_orphan(data_root, ctx->root, id);
        }
        silo_rm_rf_at(AT_FDCWD, tmp);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        return silo_error_set(err, 0, "migrate: receiving failed (worker %s %d)",
                              WIFEXITED(status) ? "exit status" : "killed by signal",
                              WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

int silo_migrate_listen(const struct silo_context *ctx, const char *data_root, const char *addr, bool once,
                        silo_error_t *err)
{
        _cleanup_free_ char *h = silo_xstrdup(addr);
        char *colon = strrchr(h, ':');
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE},
                        *res = NULL;
        _cleanup_close_ int lfd = -1;
        int one = 1, r;

        if (colon == NULL || colon[1] == '\0')
                return silo_error_set(err, EINVAL, "--listen: '%s' is not ADDR:PORT", addr);
        *colon = '\0';
        r = getaddrinfo(*h ? h : NULL, colon + 1, &hints, &res);
        if (r != 0)
                return silo_error_set(err, 0, "--listen '%s': %s", addr, gai_strerror(r));
        lfd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
        if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(lfd, res->ai_addr, res->ai_addrlen) < 0 || listen(lfd, 4) < 0) {
                r = silo_error_set(err, errno, "--listen '%s'", addr);
                freeaddrinfo(res);
                return r;
        }
        freeaddrinfo(res);
        fprintf(stderr, "silo migrate: listening on %s\n", addr);
        for (;;) {
                _cleanup_close_ int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
                silo_error_t e = NULL;

                if (c < 0) {
                        if (errno == EINTR)
                                continue;
                        return silo_error_set(err, errno, "accept on '%s'", addr);
                }
                r = silo_migrate_receive(ctx, data_root, c, c, once ? err : &e);
                if (once)
                        return r;
                if (r < 0) {
                        _cleanup_free_ char *t = silo_error_text(e);
                        fprintf(stderr, "silo migrate: %s\n", t);
                        silo_error_free(&e);
                }
        }
}
