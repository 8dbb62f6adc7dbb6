/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * silo-criu.so: a client of CRIU's RPC protocol (`criu swrk FD`), built as a small plugin that
 * only `checkpoint` and `restore` dlopen() (criu-dl.c), so the silo binary carries no DT_NEEDED
 * on libprotobuf-c.  It exports the libcriu functions silo calls, with libcriu's own prototypes
 * (criu.h is included, so the compiler checks them), plus the options libcriu 3.17 cannot set:
 * lazy_pages, status_fd, empty_ns and the last error CRIU reported.  (A page server is started
 * with the criu binary by criu-dl.c: 3.17's RPC PAGE_SERVER answer carries no pid.)
 *
 * Protocol: one socketpair(AF_UNIX, SOCK_SEQPACKET); the child end is the only descriptor that
 * loses O_CLOEXEC for the exec of `criu swrk <fd>` (plus the fds the caller made inheritable
 * itself: the namespace fds of inherit_fd).  One CriuReq is sent; CRIU answers with NOTIFY
 * messages (each acknowledged by a NOTIFY request carrying notify_success) and then the final
 * CriuResp of the request's type.  A descriptor CRIU passes (orphan-pts-master) comes as
 * SCM_RIGHTS on a message of its own and is kept for criu_get_orphan_pts_master_fd().
 *
 * Invariants: every message and string built here is owned by the criu_opts (freed by
 * criu_local_free_opts); the swrk child is always reaped before a request returns; no error is
 * printed (the caller gets the return convention of libcriu: <0 -errno, -EBADE when CRIU said
 * no, with the request name and cr_errmsg kept for silo_criu_last_error()).
 *
 * The generated rpc.pb-c.c is built from the criu.h package's own rpc.proto, so its structures
 * are the ones criu.h's rpc.pb-c.h declares.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <criu/criu.h>

#define EXPORT __attribute__((visibility("default")))

struct criu_opts {
        CriuOpts rpc;
        CriuPageServerInfo ps;
        int (*notify)(char *action, criu_notify_arg_t na);
        char errbuf[512];
};

static int orphan_pts_fd = -1;
static char last_error[512];

EXPORT int criu_local_init_opts(criu_opts **ret)
{
        criu_opts *o = calloc(1, sizeof(*o));

        if (o == NULL)
                return -ENOMEM;
        criu_opts__init(&o->rpc);
        criu_page_server_info__init(&o->ps);
        o->rpc.has_log_level = true;
        o->rpc.log_level = 2;
        *ret = o;
        return 0;
}

static void strv_free(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

EXPORT void criu_local_free_opts(criu_opts *o)
{
        CriuOpts *r;

        if (o == NULL)
                return;
        r = &o->rpc;
        free(r->log_file);
        free(r->root);
        free(r->parent_img);
        free(r->freeze_cgroup);
        free(o->ps.address);
        for (size_t i = 0; i < r->n_ext_mnt; i++) {
                free(r->ext_mnt[i]->key);
                free(r->ext_mnt[i]->val);
                free(r->ext_mnt[i]);
        }
        free(r->ext_mnt);
        for (size_t i = 0; i < r->n_cg_root; i++) {
                free(r->cg_root[i]->ctrl);
                free(r->cg_root[i]->path);
                free(r->cg_root[i]);
        }
        free(r->cg_root);
        for (size_t i = 0; i < r->n_inherit_fd; i++) {
                free(r->inherit_fd[i]->key);
                free(r->inherit_fd[i]);
        }
        free(r->inherit_fd);
        strv_free(r->external, r->n_external);
        free(o);
}

static int set_str(char **field, const char *s)
{
        char *d = s ? strdup(s) : NULL;

        if (s && d == NULL)
                return -ENOMEM;
        free(*field);
        *field = d;
        return 0;
}

/* grow a repeated field by one slot */
static int push(void ***arr, size_t *n, void *item)
{
        void **a = realloc(*arr, (*n + 1) * sizeof(void *));

        if (a == NULL)
                return -ENOMEM;
        a[(*n)++] = item;
        *arr = a;
        return 0;
}

#define SET_BOOL(name)                                                                                       \
        EXPORT void criu_local_set_##name(criu_opts *o, bool v)                                              \
        {                                                                                                    \
                o->rpc.has_##name = true;                                                                    \
                o->rpc.name = v;                                                                             \
        }
SET_BOOL(leave_running)
SET_BOOL(ext_unix_sk)
SET_BOOL(tcp_established)
SET_BOOL(shell_job)
SET_BOOL(orphan_pts_master)
SET_BOOL(file_locks)
SET_BOOL(track_mem)
SET_BOOL(auto_dedup)
SET_BOOL(manage_cgroups)
SET_BOOL(lazy_pages)

EXPORT void criu_local_set_pid(criu_opts *o, int pid)
{
        o->rpc.has_pid = true;
        o->rpc.pid = pid;
}

EXPORT void criu_local_set_images_dir_fd(criu_opts *o, int fd)
{
        o->rpc.images_dir_fd = fd;
}

EXPORT void criu_local_set_work_dir_fd(criu_opts *o, int fd)
{
        o->rpc.has_work_dir_fd = true;
        o->rpc.work_dir_fd = fd;
}

EXPORT int criu_local_set_parent_images(criu_opts *o, const char *path)
{
        return set_str(&o->rpc.parent_img, path);
}

/* CRIU freezes the tree through this freezer cgroup (a paused container stays frozen) */
EXPORT int criu_local_set_freeze_cgroup(criu_opts *o, const char *name)
{
        return set_str(&o->rpc.freeze_cgroup, name);
}

EXPORT void criu_local_set_log_level(criu_opts *o, int level)
{
        o->rpc.has_log_level = true;
        o->rpc.log_level = level;
}

EXPORT int criu_local_set_log_file(criu_opts *o, const char *f)
{
        return set_str(&o->rpc.log_file, f);
}

EXPORT int criu_local_set_root(criu_opts *o, const char *root)
{
        return set_str(&o->rpc.root, root);
}

EXPORT void criu_local_set_manage_cgroups_mode(criu_opts *o, enum criu_cg_mode mode)
{
        /* criu.h's enum and rpc.proto's CriuCgMode share their values */
        o->rpc.has_manage_cgroups_mode = true;
        o->rpc.manage_cgroups_mode = (CriuCgMode)mode;
}

EXPORT int criu_local_add_ext_mount(criu_opts *o, const char *key, const char *val)
{
        ExtMountMap *m = calloc(1, sizeof(*m));

        if (m == NULL)
                return -ENOMEM;
        ext_mount_map__init(m);
        m->key = strdup(key);
        m->val = strdup(val);
        if (m->key == NULL || m->val == NULL || push((void ***)&o->rpc.ext_mnt, &o->rpc.n_ext_mnt, m) < 0) {
                free(m->key);
                free(m->val);
                free(m);
                return -ENOMEM;
        }
        return 0;
}

EXPORT int criu_local_add_cg_root(criu_opts *o, const char *ctrl, const char *path)
{
        CgroupRoot *c = calloc(1, sizeof(*c));

        if (c == NULL)
                return -ENOMEM;
        cgroup_root__init(c);
        c->ctrl = ctrl ? strdup(ctrl) : NULL;
        c->path = strdup(path);
        if ((ctrl && c->ctrl == NULL) || c->path == NULL ||
            push((void ***)&o->rpc.cg_root, &o->rpc.n_cg_root, c) < 0) {
                free(c->ctrl);
                free(c->path);
                free(c);
                return -ENOMEM;
        }
        return 0;
}

EXPORT int criu_local_add_inherit_fd(criu_opts *o, int fd, const char *key)
{
        InheritFd *f = calloc(1, sizeof(*f));

        if (f == NULL)
                return -ENOMEM;
        inherit_fd__init(f);
        f->fd = fd;
        f->key = strdup(key);
        if (f->key == NULL || push((void ***)&o->rpc.inherit_fd, &o->rpc.n_inherit_fd, f) < 0) {
                free(f->key);
                free(f);
                return -ENOMEM;
        }
        return 0;
}

EXPORT int criu_local_add_external(criu_opts *o, const char *key)
{
        char *k = strdup(key);

        if (k == NULL || push((void ***)&o->rpc.external, &o->rpc.n_external, k) < 0) {
                free(k);
                return -ENOMEM;
        }
        return 0;
}

EXPORT int criu_local_set_page_server_address_port(criu_opts *o, const char *address, int port)
{
        if (set_str(&o->ps.address, address) < 0)
                return -ENOMEM;
        o->ps.has_port = true;
        o->ps.port = port;
        o->rpc.ps = &o->ps;
        return 0;
}

EXPORT void criu_local_set_notify_cb(criu_opts *o, int (*cb)(char *action, criu_notify_arg_t na))
{
        o->notify = cb;
        o->rpc.has_notify_scripts = cb != NULL;
        o->rpc.notify_scripts = cb != NULL;
}

EXPORT int criu_notify_pid(criu_notify_arg_t na)
{
        return na && na->has_pid ? na->pid : 0;
}

EXPORT int criu_get_orphan_pts_master_fd(void)
{
        return orphan_pts_fd;
}

/* ---- options libcriu 3.17 has no setter for (silo_ prefix: criu-dl.h declares them) ---- */

/* A descriptor of the caller, written '\0' by CRIU when its page server is ready (CRIU opens
 * it as /proc/<caller>/fd/N: it need not be inherited). */
EXPORT void silo_criu_set_status_fd(criu_opts *o, int fd)
{
        o->rpc.has_status_fd = fd >= 0;
        o->rpc.status_fd = fd;
}

/* CLONE_NEW* flags of namespaces CRIU creates empty instead of restoring (only CLONE_NEWNET). */
EXPORT void silo_criu_set_empty_ns(criu_opts *o, unsigned int flags)
{
        o->rpc.has_empty_ns = flags != 0;
        o->rpc.empty_ns = flags;
}

EXPORT void silo_criu_set_lazy_pages(criu_opts *o, bool v)
{
        criu_local_set_lazy_pages(o, v);
}

EXPORT const char *silo_criu_last_error(void)
{
        return last_error;
}

/* ---- the swrk conversation ---- */

static const char *req_name(CriuReqType t)
{
        switch (t) {
        case CRIU_REQ_TYPE__DUMP:
                return "DUMP";
        case CRIU_REQ_TYPE__PRE_DUMP:
                return "PRE_DUMP";
        case CRIU_REQ_TYPE__RESTORE:
                return "RESTORE";
        case CRIU_REQ_TYPE__PAGE_SERVER:
                return "PAGE_SERVER";
        case CRIU_REQ_TYPE__PAGE_SERVER_CHLD:
                return "PAGE_SERVER_CHLD";
        case CRIU_REQ_TYPE__FEATURE_CHECK:
                return "FEATURE_CHECK";
        case CRIU_REQ_TYPE__VERSION:
                return "VERSION";
        case CRIU_REQ_TYPE__CHECK:
                return "CHECK";
        default:
                return "?";
        }
}

static int fail(CriuReqType t, int e, const char *why)
{
        snprintf(last_error, sizeof(last_error), "CRIU request %s: %s", req_name(t), why);
        return e;
}

/* quiet: criu's stderr to /dev/null (requests without a log file, whose errors are answered) */
static pid_t swrk_start(int *ret_sk, bool quiet)
{
        pid_t parent = getpid(), pid;
        int sk[2];

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sk) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                int e = errno;
                close(sk[0]);
                close(sk[1]);
                return -e;
        }
        if (pid == 0) {
                sigset_t all;
                char num[16];

                if (quiet) {
                        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                        if (null >= 0)
                                dup3(null, 2, 0);
                }
                /* silo killed mid-request: CRIU goes too, which releases a half-dumped tree
                 * (it continues running) instead of serving or waiting forever */
                prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                if (getppid() != parent)
                        _exit(127);
                sigemptyset(&all);
                sigprocmask(SIG_SETMASK, &all, NULL);
                /* the child end is the one descriptor of ours criu swrk inherits */
                if (fcntl(sk[1], F_SETFD, 0) < 0)
                        _exit(127);
                snprintf(num, sizeof(num), "%d", sk[1]);
                execlp("criu", "criu", "swrk", num, (char *)NULL);
                _exit(127);
        }
        close(sk[1]);
        *ret_sk = sk[0];
        return pid;
}

static int send_msg(int sk, const CriuReq *req)
{
        size_t len = criu_req__get_packed_size(req);
        uint8_t *buf = malloc(len ? len : 1);
        ssize_t n;

        if (buf == NULL)
                return -ENOMEM;
        criu_req__pack(req, buf);
        n = send(sk, buf, len, MSG_NOSIGNAL);
        free(buf);
        return n == (ssize_t)len ? 0 : -ECOMM;
}

/* One message; a descriptor riding on it (SCM_RIGHTS) is kept as the orphan pts master. */
static int recv_msg(int sk, CriuResp **ret)
{
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } c;

        for (;;) {
                struct iovec iov;
                struct msghdr mh = {
                    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof(c.buf)};
                /* the size first (a peek without control data: no descriptor is installed) */
                ssize_t n = recv(sk, NULL, 0, MSG_PEEK | MSG_TRUNC);
                uint8_t *buf;

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n == 0 ? -ECONNRESET : -ECOMM;
                buf = malloc((size_t)n);
                if (buf == NULL)
                        return -ENOMEM;
                iov = (struct iovec){buf, (size_t)n};
                n = recvmsg(sk, &mh, MSG_CMSG_CLOEXEC);
                if (n <= 0) {
                        free(buf);
                        return n == 0 ? -ECONNRESET : -ECOMM;
                }
                for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h))
                        if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) {
                                if (orphan_pts_fd >= 0)
                                        close(orphan_pts_fd);
                                memcpy(&orphan_pts_fd, CMSG_DATA(h), sizeof(int));
                        }
                if (CMSG_FIRSTHDR(&mh) && n <= 1) { /* the descriptor's own carrier message */
                        free(buf);
                        continue;
                }
                *ret = criu_resp__unpack(NULL, (size_t)n, buf);
                free(buf);
                return *ret ? 0 : -EBADMSG;
        }
}

/* Reap the swrk child (it exits once the request is served). */
static void swrk_reap(pid_t pid)
{
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}

/*
 * Send req on a fresh swrk, serve notifications (the caller's callback decides the ack), and
 * return the final response in *ret (the caller frees it): 0, or <0 with last_error set.
 */
static int converse(criu_opts *o, CriuReq *req, CriuResp **ret)
{
        CriuResp *resp = NULL;
        int sk = -1, r, status;
        /* quiet also for PRE_DUMP: after answering, swrk waits for the next round of an
         * iterative pre-dump in the same session and says "Can't recv request" on stderr when we
         * close instead (the request's own errors are in its log file) */
        pid_t pid = swrk_start(&sk, req->opts == NULL || req->opts->log_file == NULL ||
                                        req->type == CRIU_REQ_TYPE__PRE_DUMP);
        char why[sizeof(last_error) - 64];

        *ret = NULL;
        last_error[0] = '\0';
        if (pid < 0)
                return fail(req->type, pid, "cannot start 'criu swrk'");
        r = send_msg(sk, req);
        while (r == 0) {
                r = recv_msg(sk, &resp);
                if (r < 0 || resp->type != CRIU_REQ_TYPE__NOTIFY)
                        break;
                /* an action script: the callback may veto it (CRIU then fails the request) */
                int cb = o && o->notify && resp->notify ? o->notify(resp->notify->script, resp->notify) : 0;
                CriuReq ack = CRIU_REQ__INIT;
                ack.type = CRIU_REQ_TYPE__NOTIFY;
                ack.has_notify_success = true;
                ack.notify_success = cb == 0;
                criu_resp__free_unpacked(resp, NULL);
                resp = NULL;
                r = send_msg(sk, &ack);
        }
        close(sk);
        if (r < 0) {
                /* criu died or could not be run: its exit status says which */
                if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 127)
                        snprintf(why, sizeof(why), "cannot run 'criu swrk' (criu not in PATH?)");
                else
                        snprintf(why, sizeof(why), "no answer from 'criu swrk': %s", strerror(-r));
                return fail(req->type, r, why);
        }
        swrk_reap(pid);
        if (resp->type != req->type) {
                snprintf(why, sizeof(why), "unexpected answer of type %d", (int)resp->type);
                criu_resp__free_unpacked(resp, NULL);
                return fail(req->type, -EBADMSG, why);
        }
        if (!resp->success) {
                snprintf(why, sizeof(why), "%s (cr_errno %d)",
                         resp->cr_errmsg && *resp->cr_errmsg ? resp->cr_errmsg : "failed",
                         resp->has_cr_errno ? resp->cr_errno : 0);
                criu_resp__free_unpacked(resp, NULL);
                return fail(req->type, -EBADE, why);
        }
        *ret = resp;
        return 0;
}

static int simple_req(criu_opts *o, CriuReqType type, CriuResp **ret)
{
        CriuReq req = CRIU_REQ__INIT;

        req.type = type;
        req.opts = o ? &o->rpc : NULL;
        return converse(o, &req, ret);
}

static int simple_call(criu_opts *o, CriuReqType type)
{
        CriuResp *resp = NULL;
        int r = simple_req(o, type, &resp);

        if (resp)
                criu_resp__free_unpacked(resp, NULL);
        return r;
}

EXPORT int criu_local_dump(criu_opts *o)
{
        return simple_call(o, CRIU_REQ_TYPE__DUMP);
}

EXPORT int criu_local_pre_dump(criu_opts *o)
{
        return simple_call(o, CRIU_REQ_TYPE__PRE_DUMP);
}

/* The restored tree becomes a child of the caller (rst_sibling), as libcriu's restore_child. */
EXPORT int criu_local_restore_child(criu_opts *o)
{
        CriuResp *resp = NULL;
        int r, pid;

        o->rpc.has_rst_sibling = true;
        o->rpc.rst_sibling = true;
        r = simple_req(o, CRIU_REQ_TYPE__RESTORE, &resp);
        if (r < 0)
                return r;
        pid = resp->restore ? resp->restore->pid : 0;
        criu_resp__free_unpacked(resp, NULL);
        return pid > 0 ? pid : fail(CRIU_REQ_TYPE__RESTORE, -EBADMSG, "no pid in the answer");
}

/* major * 10000 + minor * 100 + sublevel, as libcriu */
EXPORT int criu_local_get_version(criu_opts *o)
{
        CriuResp *resp = NULL;
        CriuReq req = CRIU_REQ__INIT;
        int r;

        (void)o;
        req.type = CRIU_REQ_TYPE__VERSION;
        r = converse(NULL, &req, &resp);
        if (r < 0)
                return r;
        r = resp->version ? resp->version->major_number * 10000 + resp->version->minor_number * 100 +
                                (resp->version->has_sublevel ? resp->version->sublevel : 0)
                          : -EBADMSG;
        criu_resp__free_unpacked(resp, NULL);
        return r;
}

EXPORT int criu_local_feature_check(criu_opts *o, struct criu_feature_check *f, size_t size)
{
        CriuFeatures want = CRIU_FEATURES__INIT;
        CriuReq req = CRIU_REQ__INIT;
        CriuResp *resp = NULL;
        struct criu_feature_check got = {0};
        int r;

        (void)o;
        if (size < sizeof(*f))
                return -EINVAL;
        want.has_mem_track = f->mem_track;
        want.mem_track = f->mem_track;
        want.has_lazy_pages = f->lazy_pages;
        want.lazy_pages = f->lazy_pages;
        want.has_pidfd_store = f->pidfd_store;
        want.pidfd_store = f->pidfd_store;
        req.type = CRIU_REQ_TYPE__FEATURE_CHECK;
        req.features = &want;
        r = converse(NULL, &req, &resp);
        if (r < 0)
                return r;
        if (resp->features) {
                got.mem_track = resp->features->has_mem_track && resp->features->mem_track;
                got.lazy_pages = resp->features->has_lazy_pages && resp->features->lazy_pages;
                got.pidfd_store = resp->features->has_pidfd_store && resp->features->pidfd_store;
        }
        criu_resp__free_unpacked(resp, NULL);
        *f = got;
        return 0;
}
