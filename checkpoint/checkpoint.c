/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * checkpoint / restore through CRIU's RPC (silo-criu.so, dlopen()ed: criu-dl.h).  See
 * checkpoint.h for what silo adds to CRIU; runc's libcontainer/criu_linux.go is the behaviour
 * followed.  The records kept besides CRIU's images (network.status, the --export archive and
 * --import) are in import.c; what both files share is in checkpoint-internal.h.
 *
 * Invariants:
 *   - nothing is dumped unless the container is running or paused, and the container is only
 *     destroyed (state, cgroup, network) after a successful final dump without --leave-running;
 *     a failed or interrupted dump leaves the container exactly as it was;
 *   - restore goes through silo_container_restore (create's own steps: state dir, config copy,
 *     cgroup, network lease) with CRIU as the process-creation step, so every failure is rolled
 *     back by create's rollback; the temporary criu-root bind mount and the netns holder are
 *     undone here before returning, success or not;
 *   - external mounts are keyed by their container path on both sides, so an image made by
 *     silo restores with the bundle's sources at the destination;
 *   - descriptors.json is written into the image dir as runc does (stdio of the init), and pipe
 *     entries are mapped onto silo's own stdio at restore.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "checkpoint.h"
#include "checkpoint-internal.h"
#include "tmpfs.h"
#include "criu-dl.h"
#include "../cgroups/cgroup.h"
#include "../image/image.h"
#include "../runtime/fault.h"
#include "../runtime/log.h"
#include "../runtime/network.h"
#include "../runtime/sandbox.h"
#include "../runtime/sandbox-vm-snapshot.h"
#include "../runtime/spec.h"
#include "../runtime/util.h"

/* mkdir -p with mode for the created components (image and work dirs). */
static int mkdir_p(const char *path, mode_t mode, silo_error_t *err)
{
        _cleanup_free_ char *p = silo_xstrdup(path);

        for (char *s = p + 1;; s++) {
                if (*s == '/' || *s == '\0') {
                        char c = *s;
                        *s = '\0';
                        if (mkdir(p, mode) < 0 && errno != EEXIST)
                                return silo_error_set(err, errno, "mkdir '%s'", p);
                        *s = c;
                        if (c == '\0')
                                break;
                }
        }
        return 0;
}

static int open_dir(const char *path, const char *what, bool create, silo_error_t *err)
{
        int fd;

        if (create && mkdir_p(path, 0700, err) < 0)
                return silo_error_wrap(err, "%s", what);
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return silo_error_set(err, errno, "%s: '%s'", what, path);
        return fd;
}

static bool is_bind(const struct silo_mount *m)
{
        return m->bind || (m->flags & MS_BIND) || (m->type && strcmp(m->type, "bind") == 0);
}

static bool wants_empty_netns(const struct silo_criu_opts *o)
{
        for (size_t i = 0; o->empty_ns && o->empty_ns[i]; i++)
                if (strcmp(o->empty_ns[i], "network") == 0)
                        return true;
        return false;
}

/*
 * A container's network namespace is always external to CRIU, as in runc (which passes
 * empty_ns=CLONE_NEWNET on every checkpoint and restore: "runc doesn't manage network devices
 * and their configuration"): its links, addresses, routes and firewall are not dumped, the
 * sockets inside are.  A namespace given by path is re-joined at restore; a new one is created
 * fresh with loopback up, and wired to silo's bridge again when the config asks for it.  This
 * also saves CRIU's ip/iptables save+restore commands (~3 s each way in the TCG guest).
 * --empty-ns network is thus what silo always does.
 */
static bool netns_external(const struct silo_spec *spec, const struct silo_criu_opts *o)
{
        (void)o;
        (void)wants_empty_netns;
        return silo_spec_namespace(spec, SILO_NS_NETWORK) != NULL; /* none: the host's, CRIU's own */
}

static bool netns_silo_bridge(const struct silo_spec *spec)
{
        const struct silo_namespace *ns = silo_spec_namespace(spec, SILO_NS_NETWORK);
        const char *net = silo_spec_annotation(spec, "run.silo.network");

        return ns && ns->path == NULL && net && strcmp(net, "bridge") == 0;
}

/* A private directory under the state root ("@..." is never a container id). */
char *ckpt_state_tmpdir(const struct silo_context *ctx, const char *what, const char *id, silo_error_t *err)
{
        char *t;
        int fd;

        if (mkdir_p(ctx->root, 0711, err) < 0)
                return NULL;
        t = silo_xasprintf("%s/@%s-%s-XXXXXX", ctx->root, what, id);
        if (mkdtemp(t) == NULL) {
                silo_error_set(err, errno, "mkdtemp '%s'", t);
                free(t);
                return NULL;
        }
        /* held (never closed) until this process exits: a SIGKILLed silo's dir is then unlocked
         * and `delete --force ID` removes it (silo_ckpt_reclaim_tmp) */
        fd = open(t, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || flock(fd, LOCK_EX) < 0) {
                silo_error_set(err, errno, "lock '%s'", t);
                if (fd >= 0)
                        close(fd);
                rmdir(t);
                free(t);
                return NULL;
        }
        return t;
}

#ifdef HAVE_CRIU

static int cg_mode(const char *s, enum criu_cg_mode *ret, silo_error_t *err)
{
        static const struct {
                const char *name;
                enum criu_cg_mode mode;
        } modes[] = {{"soft", CRIU_CG_MODE_SOFT},
                     {"full", CRIU_CG_MODE_FULL},
                     {"strict", CRIU_CG_MODE_STRICT},
                     {"ignore", CRIU_CG_MODE_IGNORE}};

        if (s == NULL || *s == '\0') {
                *ret = CRIU_CG_MODE_SOFT;
                return 0;
        }
        for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
                if (strcmp(s, modes[i].name) == 0) {
                        *ret = modes[i].mode;
                        return 0;
                }
        return silo_error_set(err, EINVAL,
                              "--manage-cgroups-mode: invalid value '%s' (soft, full, strict, ignore)", s);
}

/* --page-server ADDRESS:PORT (the address may be an IPv6 one: the port is after the last ':'). */
static int parse_page_server(const char *s, char **ret_addr, int *ret_port, silo_error_t *err)
{
        _cleanup_free_ char *addr = silo_xstrdup(s);
        char *colon = strrchr(addr, ':');
        uint64_t port;

        if (colon == NULL || colon == addr || silo_parse_u64(colon + 1, &port) < 0 || port == 0 ||
            port > 65535)
                return silo_error_set(err, EINVAL, "--page-server: '%s' is not ADDRESS:PORT", s);
        *colon = '\0';
        *ret_addr = TAKE_PTR(addr);
        *ret_port = (int)port;
        return 0;
}

/* Flags are checked before anything happens (nothing dumped, no state, no image dir). */
static int check_opts(const struct silo_criu_opts *o, silo_error_t *err)
{
        enum criu_cg_mode mode;

        if (cg_mode(o->manage_cgroups_mode, &mode, err) < 0)
                return silo_error_ret(*err);
        for (size_t i = 0; o->empty_ns && o->empty_ns[i]; i++)
                if (strcmp(o->empty_ns[i], "network") != 0)
                        return silo_error_set(
                            err, EINVAL, "--empty-ns: only 'network' is supported, not '%s'", o->empty_ns[i]);
        if (o->lazy_pages && (o->pre_dump || o->export_path || o->import_path))
                return silo_error_set(err, EINVAL, "--lazy-pages: not supported with %s",
                                      o->pre_dump      ? "--pre-dump"
                                      : o->export_path ? "--export"
                                                       : "--import");
        if (o->status_fd >= 0 && fcntl(o->status_fd, F_GETFD) < 0)
                return silo_error_set(err, errno, "--status-fd: %d is not an open descriptor", o->status_fd);
        if (o->page_server) {
                _cleanup_free_ char *addr = NULL;
                int port;
                if (parse_page_server(o->page_server, &addr, &port, err) < 0)
                        return silo_error_ret(*err);
        }
        if (o->export_path && (o->pre_dump || o->parent_path))
                return silo_error_set(err, EINVAL, "--export: %s is not supported with an archive yet",
                                      o->pre_dump ? "--pre-dump" : "--parent-path");
        if (o->parent_path && o->parent_path[0] == '/')
                return silo_error_set(err, EINVAL, "--parent-path: '%s' must be relative to --image-path",
                                      o->parent_path);
        return 0;
}

/*
 * Lazy pages need userfaultfd in the kernel and CRIU's support for it: asked of CRIU itself
 * (FEATURE_CHECK), so a missing piece is named before anything is dumped or created.
 */
static int need_lazy_pages(silo_error_t *err)
{
        struct criu_feature_check f = {.lazy_pages = true};
        int r = CR(criu_local_feature_check)(NULL, &f, sizeof(f));

        if (r < 0)
                return silo_error_set(err, -r, "--lazy-pages: %s", CR(silo_criu_last_error)());
        if (!f.lazy_pages)
                return silo_error_set(err, EOPNOTSUPP,
                                      "--lazy-pages: CRIU reports no lazy-pages support on this host "
                                      "(the kernel lacks userfaultfd)");
        return 0;
}

/* The options shared by dump and restore. */
static int common_opts(criu_opts *co, const struct silo_criu_opts *o, int imgfd, int workfd, const char *log,
                       silo_error_t *err)
{
        enum criu_cg_mode mode = CRIU_CG_MODE_SOFT;
        int r = cg_mode(o->manage_cgroups_mode, &mode, err);

        if (r < 0)
                return r;
        CR(criu_local_set_images_dir_fd)(co, imgfd);
        CR(criu_local_set_work_dir_fd)(co, workfd);
        CR(criu_local_set_log_level)(co, 4);
        if (CR(criu_local_set_log_file)(co, log) < 0)
                return silo_error_set(err, ENOMEM, "criu: log file");
        CR(criu_local_set_manage_cgroups)(co, true);
        CR(criu_local_set_manage_cgroups_mode)(co, mode);
        CR(criu_local_set_tcp_established)(co, o->tcp_established);
        CR(criu_local_set_ext_unix_sk)(co, o->ext_unix_sk);
        CR(criu_local_set_shell_job)(co, o->shell_job);
        CR(criu_local_set_file_locks)(co, o->file_locks);
        CR(criu_local_set_auto_dedup)(co, o->auto_dedup);
        /* the netns is external anyway (netns_external); CRIU gets runc's flag as well */
        if (wants_empty_netns(o))
                CR(silo_criu_set_empty_ns)(co, CLONE_NEWNET);
        if (o->lazy_pages)
                CR(silo_criu_set_lazy_pages)(co, true);
        if (o->status_fd >= 0)
                CR(silo_criu_set_status_fd)(co, o->status_fd);
        return 0;
}

/*
 * Bind mounts and masked files come from outside the container's mount tree: CRIU can only
 * dump/restore them as external mounts.  Key = container path on both sides; at restore the
 * value is the host source (/dev/null for a masked file).
 */
static int ext_mounts(criu_opts *co, const struct silo_container *c, bool restore, silo_error_t *err)
{
        const struct silo_spec *spec = c->spec;
        /* a loaded container (dump) has them in its state, a restoring one from create */
        const char *rootfs = c->rootfs ? c->rootfs : c->state->rootfs;
        const char *bundle = c->bundle ? c->bundle : c->state->bundle;

        for (size_t i = 0; i < spec->n_mounts; i++) {
                const struct silo_mount *m = &spec->mounts[i];
                _cleanup_free_ char *src = NULL;

                if (!is_bind(m) || m->destination == NULL)
                        continue;
                if (restore)
                        src = m->source && m->source[0] != '/' ? silo_xasprintf("%s/%s", bundle, m->source)
                                                               : silo_xstrdup(m->source);
                if (CR(criu_local_add_ext_mount)(co, m->destination, restore ? src : m->destination) < 0)
                        return silo_error_set(err, ENOMEM, "criu: external mount '%s'", m->destination);
        }
        for (size_t i = 0; spec->linux_ && spec->linux_->masked_paths && spec->linux_->masked_paths[i]; i++) {
                const char *p = spec->linux_->masked_paths[i];
                _cleanup_free_ char *inside = silo_xasprintf("%s%s", rootfs, p);
                struct stat st;

                /* directories are masked by a tmpfs, which CRIU dumps itself; only the file
                 * binds of /dev/null are external (a path missing in the rootfs is not masked) */
                if (stat(inside, &st) < 0 || S_ISDIR(st.st_mode))
                        continue;
                if (CR(criu_local_add_ext_mount)(co, p, restore ? "/dev/null" : p) < 0)
                        return silo_error_set(err, ENOMEM, "criu: external mount '%s'", p);
        }
        /* the bridge network binds /etc/{hosts,hostname,resolv.conf} from the state dir; they are
         * in the spec only in memory (network_prepare), so at dump they are named here, at
         * restore network_prepare has added them again */
        if (!restore && netns_silo_bridge(spec)) {
                static const char *const etc[] = {"/etc/hosts", "/etc/hostname", "/etc/resolv.conf"};
                for (size_t i = 0; i < 3; i++)
                        if (CR(criu_local_add_ext_mount)(co, etc[i], etc[i]) < 0)
                                return silo_error_set(err, ENOMEM, "criu: external mount '%s'", etc[i]);
        }
        return 0;
}

/* A short reason from CRIU's log: its last "Error" line. */
static char *log_reason(const char *work, const char *log)
{
        _cleanup_free_ char *path = silo_xasprintf("%s/%s", work, log), *buf = NULL;
        size_t len;
        char *last = NULL;

        if (silo_read_file_at(AT_FDCWD, path, 8 << 20, &buf, &len, NULL) < 0)
                return silo_xasprintf("see '%s'", path);
        /* the first error is the cause; the last one is "Dumping FAILED" */
        for (char *line = strtok(buf, "\n"); line && !last; line = strtok(NULL, "\n"))
                if (strstr(line, "Error (") && !strstr(line, "tun: Unable to create tun"))
                        last = line;
        return last ? silo_xasprintf("%s (log: '%s')", last, path) : silo_xasprintf("see '%s'", path);
}

static int criu_failed(int r, const char *what, const char *work, const char *log, silo_error_t *err)
{
        _cleanup_free_ char *why = log_reason(work, log);
        const char *rpc = CR(silo_criu_last_error)();

        /* -EBADE is "criu reported a failure": the RPC answer and the log have the reason */
        return silo_error_set(err, r < 0 && r > -4096 && r != -EBADE ? -r : 0, "criu %s failed: %s%s%s", what,
                              rpc, *rpc ? "; " : "", why);
}

/* descriptors.json: runc's stdio names of the init, e.g. ["/dev/null","pipe:[1234]",...]. */
static int write_descriptors(int imgfd, pid_t pid, silo_error_t *err)
{
        struct silo_buf b = {0};
        int r;

        silo_buf_putc(&b, '[');
        for (int i = 0; i < 3; i++) {
                char link[64], target[PATH_MAX];
                ssize_t n;

                snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, i);
                n = readlink(link, target, sizeof(target) - 1);
                target[n < 0 ? 0 : n] = '\0';
                silo_buf_printf(&b, "%s\"", i ? "," : "");
                for (const char *s = target; *s; s++) {
                        if (*s == '"' || *s == '\\')
                                silo_buf_putc(&b, '\\');
                        if ((unsigned char)*s >= 0x20)
                                silo_buf_putc(&b, *s);
                }
                silo_buf_putc(&b, '"');
        }
        silo_buf_putc(&b, ']');
        r = silo_write_file_atomic_at(imgfd, "descriptors.json", b.data, b.len, 0600, err);
        silo_buf_free(&b);
        return r;
}

/* ---- checkpoint --------------------------------------------------------------------------- */

struct dump_ctx {
        const struct silo_criu_opts *o;
        bool dumped; /* CRIU succeeded (and, without --leave-running, the tasks are gone) */
};

static int ns_inode(pid_t pid, const char *ns, unsigned long *ret, silo_error_t *err)
{
        char p[64];
        struct stat st;

        snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)pid, ns);
        if (stat(p, &st) < 0)
                return silo_error_set(err, errno, "'%s'", p);
        *ret = (unsigned long)st.st_ino;
        return 0;
}

static int add_external_ns(criu_opts *co, pid_t pid, const char *ns, const char *key, silo_error_t *err)
{
        _cleanup_free_ char *ext = NULL;
        unsigned long ino = 0;
        int r = ns_inode(pid, ns, &ino, err);

        if (r < 0)
                return r;
        ext = silo_xasprintf("%s[%lu]:%s", ns, ino, key);
        if (CR(criu_local_add_external)(co, ext) < 0)
                return silo_error_set(err, ENOMEM, "criu: external '%s'", ext);
        return 0;
}

/* CRIU's notifications during a dump: the tmpfs archives are made at the first of
 * "network-lock" (right after the freeze) and "post-dump" (every task still frozen) */
static int dump_notify_cb(char *action, criu_notify_arg_t na)
{
        (void)na;
        silo_debug("criu notify: %s", action);
        return ckpt_tmpfs_notify(action);
}

static int dump_fn(struct silo_container *c, const char *status, void *data, silo_error_t *err)
{
        const struct silo_criu_opts *o = ((struct dump_ctx *)data)->o;
        const char *work = o->work_path ? o->work_path : o->image_path;
        const struct silo_namespace *pidns = silo_spec_namespace(c->spec, SILO_NS_PID);
        _cleanup_close_ int imgfd = -1, workfd = -1;
        _cleanup_free_ char *fcg = NULL;
        criu_opts *co = NULL;
        int r;

        if (strcmp(status, "running") != 0 && strcmp(status, "paused") != 0)
                return silo_error_set(err, 0, "Container cannot be checkpointed in %s state", status);
        if (c->state->sandbox && strcmp(c->state->sandbox, "ns") != 0)
                return silo_error_set(err, EOPNOTSUPP, "checkpoint: not supported for the '%s' sandbox",
                                      c->state->sandbox);
        imgfd = open_dir(o->image_path, "--image-path", true, err);
        if (imgfd < 0)
                return imgfd;
        workfd = open_dir(work, "--work-path", true, err);
        if (workfd < 0)
                return workfd;
        if (CR(criu_local_init_opts)(&co) < 0)
                return silo_error_set(err, ENOMEM, "criu: init options");
        r = common_opts(co, o, imgfd, workfd, o->pre_dump ? "predump.log" : "dump.log", err);
        if (r < 0)
                goto out;
        CR(criu_local_set_pid)(co, c->state->pid);
        if (CR(criu_local_set_root)(co, c->state->rootfs) < 0) {
                r = silo_error_set(err, ENOMEM, "criu: root");
                goto out;
        }
        CR(criu_local_set_leave_running)(co, o->leave_running || o->pre_dump);
        /* runc: CRIU freezes the tree through the container's freezer cgroup (not ptrace), and
         * so sees a paused container as paused: it dumps it as it is and, when it keeps running,
         * leaves it frozen afterwards */
        if (c->cgroup) {
                fcg = silo_xasprintf(silo_cgroup_mode(c->cgroup) == SILO_CGROUP_V2 ? "/sys/fs/cgroup%s"
                                                                                   : "/sys/fs/cgroup/freezer%s",
                                     silo_cgroup_path(c->cgroup));
                if (CR(criu_local_set_freeze_cgroup)(co, fcg) < 0) {
                        r = silo_error_set(err, ENOMEM, "criu: freeze cgroup");
                        goto out;
                }
        }
        /* a terminal container's pty master is outside the tree (the console socket's receiver):
         * runc passes OrphanPtsMaster on dump too */
        if (c->spec->process && c->spec->process->terminal)
                CR(criu_local_set_orphan_pts_master)(co, true);
        if (o->parent_path) {
                if (CR(criu_local_set_parent_images)(co, o->parent_path) < 0) {
                        r = silo_error_set(err, ENOMEM, "criu: parent images");
                        goto out;
                }
                CR(criu_local_set_track_mem)(co, true);
        }
        if (o->pre_dump)
                CR(criu_local_set_track_mem)(co, true);
        if (o->page_server) {
                /* with --lazy-pages CRIU listens there and serves the pages; else it sends them */
                _cleanup_free_ char *addr = NULL;
                int port = 0;
                r = parse_page_server(o->page_server, &addr, &port, err);
                if (r < 0)
                        goto out;
                if (CR(criu_local_set_page_server_address_port)(co, addr, port) < 0) {
                        r = silo_error_set(err, ENOMEM, "criu: page server");
                        goto out;
                }
        }
        r = ext_mounts(co, c, false, err);
        /* the tmpfs mounts: archived by silo while CRIU holds the tasks (tmpfs.c); not for
         * pre-dumps, which save no mounts */
        if (r == 0 && !o->pre_dump) {
                r = ckpt_tmpfs_dump_setup(co, c, imgfd, o->lazy_pages, fcg, err);
                if (r == 0)
                        CR(criu_local_set_notify_cb)(co, dump_notify_cb);
        }
        if (r == 0 && netns_external(c->spec, o))
                r = add_external_ns(co, c->state->pid, "net", "extRootNetNS", err);
        if (r == 0 && pidns && pidns->path)
                r = add_external_ns(co, c->state->pid, "pid", "extRootPidNS", err);
        if (r == 0 && !o->pre_dump)
                r = write_descriptors(imgfd, c->state->pid, err);
        if (r < 0)
                goto out;
        silo_debug("criu %s of pid %d into '%s'", o->pre_dump ? "pre-dump" : "dump", (int)c->state->pid,
                   o->image_path);
        SILO_FAULT_POINT("checkpoint.before-dump");
        r = o->pre_dump ? CR(criu_local_pre_dump)(co) : CR(criu_local_dump)(co);
        if (r < 0) {
                r = criu_failed(r, o->pre_dump ? "pre-dump" : "dump", work,
                                o->pre_dump ? "predump.log" : "dump.log", err);
                goto out;
        }
        ((struct dump_ctx *)data)->dumped = true;
        if (!o->pre_dump && netns_silo_bridge(c->spec)) {
                /* the same-node restore keeps the address from here (an archive carries its own) */
                _cleanup_free_ char *net = ckpt_network_json(c);
                if (net &&
                    (r = silo_write_file_atomic_at(imgfd, "network.status", net, strlen(net), 0600, err)) < 0)
                        goto out;
        }
        SILO_FAULT_POINT("checkpoint.after-dump"); /* images complete, state not yet removed */
        if (o->export_path) {
                r = ckpt_export_archive(c, o, err);
                if (r < 0)
                        goto out;
        }
        /* runc: a final dump without --leave-running destroys the container */
        r = (o->leave_running || o->pre_dump) ? 0 : 1;
out:
        ckpt_tmpfs_dump_end();
        CR(criu_local_free_opts)(co);
        return r;
}

int silo_checkpoint(const struct silo_context *ctx, const struct silo_criu_opts *o, silo_error_t *err)
{
        struct silo_criu_opts oo = *o;
        struct dump_ctx d = {&oo};
        _cleanup_free_ char *tmp = NULL;
        int r = check_opts(o, err);

        if (r < 0)
                return r;
        r = silo_vm_checkpoint(ctx, o, err); /* vm sandbox: the VMM's snapshot; 1 = not a vm */
        if (r != 1)
                return r;
        r = 0;
        if (o->lazy_pages && o->page_server == NULL)
                r = silo_error_set(err, EINVAL,
                                   "--lazy-pages: needs --page-server ADDRESS:PORT (where the restoring "
                                   "side's 'criu lazy-pages' fetches the memory)");
        if (r == 0)
                r = silo_criu_dl_load(err);
        if (r == 0 && o->lazy_pages)
                r = need_lazy_pages(err);
        if (r < 0)
                return r;
        if (oo.image_path == NULL) { /* --export alone: the images only live until archived */
                if (!silo_id_valid(o->id))
                        return silo_error_set(err, 0, "invalid container ID format: '%s'",
                                              o->id ? o->id : "");
                tmp = ckpt_state_tmpdir(ctx, "ckpt", o->id, err);
                if (tmp == NULL)
                        return silo_error_ret(*err);
                oo.image_path = tmp;
        }
        r = silo_container_checkpoint(ctx, o->id, dump_fn, &d, err);
        if (tmp) {
                /* dumped but not archived: the container is gone, so keep its images */
                if (r < 0 && d.dumped && !o->leave_running)
                        return silo_error_wrap(err, "the CRIU images are kept in '%s'", tmp);
                silo_rm_rf_at(AT_FDCWD, tmp);
        }
        return r;
}

/* ---- restore ------------------------------------------------------------------------------ */

struct restore_ctx {
        const struct silo_criu_opts *o;
        struct silo_create_opts create;
};

/* CRIU reports progress through notify callbacks; the orphaned pty master (a terminal
 * container) is fetched with criu_get_orphan_pts_master_fd() after the restore returns. */
static int notify_cb(char *action, criu_notify_arg_t na)
{
        (void)na;
        silo_debug("criu notify: %s", action);
        return 0;
}

/*
 * A fresh network namespace for the restored tree, held by a short-lived child until its fd is
 * open.  Silo's bridge wiring (network_attach) needs a pid in that namespace: the holder is it.
 */
static int netns_holder(pid_t *ret_pid, int *ret_fd, silo_error_t *err)
{
        int p[2];
        char b = 0;
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return silo_error_set(err, errno, "pipe");
        pid = fork();
        if (pid < 0) {
                close(p[0]);
                close(p[1]);
                return silo_error_set(err, errno, "fork");
        }
        if (pid == 0) {
                close(p[0]);
                prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                /* lo up: what create's init does for a new netns */
                b = unshare(CLONE_NEWNET) == 0 && silo_loopback_up() == 0 ? 'y' : 'n';
                (void)!write(p[1], &b, 1);
                for (;;)
                        pause();
        }
        close(p[1]);
        if (read(p[0], &b, 1) != 1 || b != 'y') {
                close(p[0]);
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                return silo_error_set(err, EPERM, "restore: cannot create a network namespace");
        }
        close(p[0]);
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
        *ret_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (*ret_fd < 0) {
                int e = errno;
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                return silo_error_set(err, e, "'%s'", path);
        }
        *ret_pid = pid;
        return 0;
}

static void holder_end(pid_t *pid)
{
        if (*pid > 0) {
                kill(*pid, SIGKILL);
                waitpid(*pid, NULL, 0);
                *pid = 0;
        }
}

/*
 * restore --lazy-pages --page-server ADDR:PORT: `criu lazy-pages` fetching the memory from the
 * dumping side's page server, started here (runc leaves that to its caller; without
 * --page-server silo does too, unless its caller asked for the daemon: o->lazy_daemon, which
 * then serves the pages from the local images).  The restore connects to the daemon's
 * lazy-pages.socket in the work dir, so the daemon is waited for until that socket exists.  The
 * daemon ends by itself once every page is in; on a failed restore it is killed.
 */
static int lazy_daemon_start(const struct silo_criu_opts *o, const char *work, pid_t *ret_pid,
                             silo_error_t *err)
{
        _cleanup_free_ char *addr = NULL, *sock = silo_xasprintf("%s/lazy-pages.socket", work);
        char port_s[16];
        int port = 0, r = o->page_server ? parse_page_server(o->page_server, &addr, &port, err) : 0;
        pid_t pid;

        if (r < 0)
                return r;
        snprintf(port_s, sizeof(port_s), "%d", port);
        if (unlink(sock) < 0 && errno != ENOENT) /* a stale one would be taken for the new daemon's */
                return silo_error_set(err, errno, "restore --lazy-pages: unlink '%s'", sock);
        pid = fork();
        if (pid < 0)
                return silo_error_set(err, errno, "restore --lazy-pages: fork");
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR); /* stdio only: not CLOEXEC on purpose */
                setsid();
                if (null >= 0) {
                        dup2(null, 0);
                        dup2(null, 1);
                        dup2(null, 2);
                }
                if (o->page_server)
                        execlp("criu", "criu", "lazy-pages", "--page-server", "--address", addr, "--port",
                               port_s, "-D", o->image_path, "-W", work, "-o", "lazy-pages.log", "-v4",
                               (char *)NULL);
                else /* local images: -v2, a debug line per page would slow the fill down */
                        execlp("criu", "criu", "lazy-pages", "-D", o->image_path, "-W", work, "-o",
                               "lazy-pages.log", "-v2", (char *)NULL);
                _exit(127);
        }
        /* up to 30 s: CRIU under TCG is slow to start */
        for (int i = 0; i < 3000; i++) {
                int status;
                if (access(sock, F_OK) == 0) {
                        *ret_pid = pid;
                        return 0;
                }
                if (waitpid(pid, &status, WNOHANG) == pid) {
                        _cleanup_free_ char *why = log_reason(work, "lazy-pages.log");
                        return silo_error_set(
                            err, 0,
                            "restore --lazy-pages: 'criu lazy-pages' from '%s' exited "
                            "(status %d): %s",
                            o->page_server ? o->page_server : o->image_path,
                            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), why);
                }
                usleep(10000);
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return silo_error_set(err, ETIMEDOUT, "restore --lazy-pages: 'criu lazy-pages' made no '%s'", sock);
}

/* Pipes among the dumped stdio (descriptors.json) are mapped onto silo's own stdio, as runc. */
static int inherit_stdio(criu_opts *co, int imgfd, silo_error_t *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;
        char *s;
        int i = 0;

        if (silo_read_file_at(imgfd, "descriptors.json", 1 << 16, &buf, &len, NULL) < 0)
                return 0; /* not made by silo or runc: nothing to map */
        for (s = buf; (s = strchr(s, '"')) && i < 3; i++) {
                char *end = strchr(++s, '"');
                if (end == NULL)
                        break;
                *end = '\0';
                if (silo_str_has_prefix(s, "pipe:") && CR(criu_local_add_inherit_fd)(co, i, s) < 0)
                        return silo_error_set(err, ENOMEM, "criu: inherit fd");
                s = end + 1;
        }
        return 0;
}

static int restore_spawn(struct silo_container *c, void *data, silo_error_t *err)
{
        struct restore_ctx *rc = data;
        const struct silo_criu_opts *o = rc->o;
        const char *work = o->work_path ? o->work_path : o->image_path;
        const struct silo_namespace *netns = silo_spec_namespace(c->spec, SILO_NS_NETWORK);
        const struct silo_namespace *pidns = silo_spec_namespace(c->spec, SILO_NS_PID);
        _cleanup_close_ int imgfd = -1, workfd = -1, netfd = -1, pidfd = -1;
        _cleanup_free_ char *root = NULL, *tmpfs_base = NULL;
        criu_opts *co = NULL;
        bool mounted = false;
        pid_t holder = 0, lazy = 0;
        int r;

        /* A mount namespace of silo's own, which CRIU inherits, for the criu-root mount below: a
         * SIGKILLed restore cannot leave that mount (or the image overlay attached there) on the
         * host, where delete's rm -rf of the state dir would descend into it.  First, before any
         * dir fd is opened: CRIU chdirs to the work dir fd, and a mount in a cwd of another
         * namespace is EINVAL. */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return silo_error_set(err, errno, "restore: private mount namespace");
        imgfd = open_dir(o->image_path, "--image-path", false, err);
        if (imgfd < 0)
                return imgfd;
        if (faccessat(imgfd, "inventory.img", F_OK, 0) < 0)
                return silo_error_set(err, errno, "--image-path: '%s' holds no checkpoint (no inventory.img)",
                                      o->image_path);
        workfd = open_dir(work, "--work-path", true, err);
        if (workfd < 0)
                return workfd;
        if (CR(criu_local_init_opts)(&co) < 0)
                return silo_error_set(err, ENOMEM, "criu: init options");
        r = common_opts(co, o, imgfd, workfd, "restore.log", err);
        if (r < 0)
                goto out;

        /* CRIU wants the root of the new mount namespace as a mount point of its own (runc's
         * criu-root): a recursive bind of the rootfs, next to the state */
        root = silo_xasprintf("%s/%s/criu-root", c->ctx->root, c->id);
        if (mkdir(root, 0700) < 0 && errno != EEXIST) {
                r = silo_error_set(err, errno, "mkdir '%s'", root);
                goto out;
        }
        if (c->rootfs_mount_fd >= 0) {
                /* an image container: its overlay is a detached mount (never in the host's mount
                 * table while the container runs); CRIU needs it attached as the root */
                if (move_mount(c->rootfs_mount_fd, "", AT_FDCWD, root, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
                        r = silo_error_set(err, errno, "attach the image overlay on '%s'", root);
                        goto out;
                }
        } else if (mount(c->rootfs, root, NULL, MS_BIND | MS_REC, NULL) < 0) {
                r = silo_error_set(err, errno, "bind '%s' on '%s'", c->rootfs, root);
                goto out;
        }
        mounted = true;
        if (CR(criu_local_set_root)(co, root) < 0 || CR(criu_local_set_notify_cb) == NULL) {
                r = silo_error_set(err, ENOMEM, "criu: root");
                goto out;
        }
        CR(criu_local_set_notify_cb)(co, notify_cb);
        if (c->spec->process && c->spec->process->terminal)
                CR(criu_local_set_orphan_pts_master)(co, true);
        if (c->cgroup && c->state->cgroup_path &&
            CR(criu_local_add_cg_root)(co, NULL, c->state->cgroup_path) < 0) {
                r = silo_error_set(err, ENOMEM, "criu: cgroup root");
                goto out;
        }
        r = ext_mounts(co, c, true, err);
        if (r == 0) { /* the tmpfs mounts silo archived at the dump, rebuilt next to criu-root */
                tmpfs_base = silo_xasprintf("%s/%s", c->ctx->root, c->id);
                r = ckpt_tmpfs_restore_setup(co, c->spec, imgfd, tmpfs_base, err);
        }
        if (r == 0)
                r = inherit_stdio(co, imgfd, err);
        if (r < 0)
                goto out;

        if (netns && netns->path) {
                netfd = open(netns->path, O_RDONLY | O_CLOEXEC);
                if (netfd < 0) {
                        r = silo_error_set(err, errno, "/linux/namespaces: network path '%s'", netns->path);
                        goto out;
                }
        } else if (netns_external(c->spec, o)) {
                r = netns_holder(&holder, &netfd, err);
                if (r < 0)
                        goto out;
                if (netns_silo_bridge(c->spec)) {
                        c->pid = holder;
                        c->state->pid_start_time = silo_proc_start_time(holder);
                        r = silo_network_attach(c, err);
                        c->pid = 0;
                        if (r < 0)
                                goto out;
                }
                holder_end(&holder);
        }
        if (netfd >= 0 && CR(criu_local_add_inherit_fd)(co, netfd, "extRootNetNS") < 0) {
                r = silo_error_set(err, ENOMEM, "criu: inherit fd");
                goto out;
        }
        if (pidns && pidns->path) {
                pidfd = open(pidns->path, O_RDONLY | O_CLOEXEC);
                if (pidfd < 0) {
                        r = silo_error_set(err, errno, "/linux/namespaces: pid path '%s'", pidns->path);
                        goto out;
                }
                if (CR(criu_local_add_inherit_fd)(co, pidfd, "extRootPidNS") < 0) {
                        r = silo_error_set(err, ENOMEM, "criu: inherit fd");
                        goto out;
                }
        }

        /* before the namespace fds lose O_CLOEXEC: the daemon must not inherit them */
        if (o->lazy_pages && (o->page_server || o->lazy_daemon)) {
                r = lazy_daemon_start(o, work, &lazy, err);
                if (r < 0)
                        goto out;
        }
        /* the plugin execs criu (swrk): inherited namespace fds must survive that exec, and only
         * that one (silo exits or waits right after; the restored tasks get only what CRIU
         * hands them) */
        if ((netfd >= 0 && fcntl(netfd, F_SETFD, 0) < 0) || (pidfd >= 0 && fcntl(pidfd, F_SETFD, 0) < 0)) {
                r = silo_error_set(err, errno, "restore: namespace fd");
                goto out;
        }
        SILO_FAULT_POINT("restore.after-cgroup"); /* state dir, cgroup, network lease exist */
        silo_debug("criu restore of '%s' from '%s'", c->id, o->image_path);
        r = CR(criu_local_restore_child)(co);
        if (r <= 0) {
                holder_end(&lazy); /* the daemon of a failed restore would wait forever */
                r = criu_failed(r < 0 ? r : -EIO, "restore", work, "restore.log", err);
                goto out;
        }
        c->pid = r;
        if (o->lazy_daemon) { /* the caller's now: it outlives neither the images nor the caller */
                *o->lazy_daemon = lazy;
                lazy = 0;
        }
        SILO_FAULT_POINT("restore.after-criu"); /* the tree runs, state.json has no pid yet */
        c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
        c->state->pid_start_time = silo_proc_start_time(c->pid);
        if (c->spec->process && c->spec->process->terminal)
                c->pty_master = CR(criu_get_orphan_pts_master_fd)();
        /* CRIU 3.17 re-creates cgroup v2 directories but not their limits: write them again */
        r = 0;
        if (c->cgroup && c->spec->linux_ && c->spec->linux_->resources)
                r = silo_cgroup_apply(c->cgroup, c->spec->linux_->resources, err);
        if (r < 0)
                silo_error_wrap(err, "restore: re-apply /linux/resources");
out:
        holder_end(&holder);
        if (r < 0) /* a restore that failed (or is rolled back) leaves no daemon behind */
                holder_end(&lazy);
        if (tmpfs_base) /* the container's binds of them keep them */
                ckpt_tmpfs_restore_end(tmpfs_base);
        if (mounted && umount2(root, MNT_DETACH) < 0)
                silo_warn("umount '%s': %m, ignoring", root);
        if (root)
                rmdir(root);
        CR(criu_local_free_opts)(co);
        return r < 0 ? r : 0;
}

int silo_restore(const struct silo_context *ctx, const struct silo_criu_opts *o, int *ret_status,
                 silo_error_t *err)
{
        struct silo_criu_opts oo = *o;
        struct restore_ctx rc = {.o = &oo};
        _cleanup_free_ char *tmp = NULL, *bundle = NULL, *img = NULL, *ip = NULL;
        bool made = false;
        int r = check_opts(o, err);

        *ret_status = 0;
        if (r == 0 && !o->import_path && silo_vm_snapshot_in(o->image_path)) /* vm sandbox, its address */
                return o->ignore_static_ip || (r = ckpt_recorded_ip(o->image_path, &ip, err)) == 0
                           ? silo_vm_restore(ctx, o, ip, ret_status, err)
                           : r;
        if (r == 0)
                r = silo_criu_dl_load(err);
        if (r == 0 && o->lazy_pages && !o->lazy_daemon) /* (a caller asking for the daemon asked CRIU) */
                r = need_lazy_pages(err);
        if (r == 0 && o->import_path) {
                r = ckpt_import_archive(ctx, o, &tmp, &bundle, &made, err);
                if (r == 0) {
                        oo.image_path = img = silo_xasprintf("%s/checkpoint", tmp);
                        if (oo.work_path == NULL)
                                oo.work_path = tmp;
                        if (bundle)
                                oo.bundle = bundle;
                }
        }
        if (r == 0 && silo_vm_snapshot_in(oo.image_path)) { /* an imported VM snapshot */
                if (o->ignore_static_ip || (r = ckpt_recorded_ip(tmp ? tmp : oo.image_path, &ip, err)) == 0)
                        r = silo_vm_restore(ctx, &oo, ip, ret_status, err);
                if (tmp)
                        silo_rm_rf_at(AT_FDCWD, tmp);
                return r;
        }
        if (r == 0 && !o->ignore_static_ip)
                r = ckpt_recorded_ip(tmp ? tmp : oo.image_path, &ip, err);
        if (r < 0) {
                if (tmp)
                        silo_rm_rf_at(AT_FDCWD, tmp);
                return r;
        }
        rc.create = (struct silo_create_opts){
            .id = o->id,
            .bundle = oo.bundle,
            .pid_file = o->pid_file,
            .console_socket = o->console_socket,
            .no_pivot = o->no_pivot,
            .detach = o->detach,
            .spawn = restore_spawn,
            .spawn_data = &rc,
            .net_ip = ip,
        };
        r = silo_container_restore(ctx, &rc.create, ret_status, err);
        if (r < 0 && made) /* create's rollback leaves image container dirs to their maker */
                silo_image_bundle_discard(bundle);
        if (tmp) /* restored (or failed): the unpacked images are not needed any more */
                silo_rm_rf_at(AT_FDCWD, tmp);
        return r;
}

#else /* !HAVE_CRIU */

int silo_checkpoint(const struct silo_context *ctx, const struct silo_criu_opts *o, silo_error_t *err)
{
        (void)ctx;
        (void)o;
        (void)netns_external;
        (void)netns_silo_bridge;
        (void)open_dir;
        (void)is_bind;
        return silo_criu_dl_load(err);
}

int silo_restore(const struct silo_context *ctx, const struct silo_criu_opts *o, int *ret_status,
                 silo_error_t *err)
{
        (void)ctx;
        (void)o;
        *ret_status = 0;
        return silo_criu_dl_load(err);
}
#endif
