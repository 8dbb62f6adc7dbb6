/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * silo migrate of a vm-sandboxed container: the payload is qemu's own live migration stream
 * (pre-copy done by qemu while the guest runs), relayed into protocol v1 frames (migrate.c).
 *
 * Source (mig_vm_source, under the container's lock as `checkpoint`): HELLO with "sandbox":"vm"
 * (no "criu", no cpuinfo: the guest does not see the host CPU under TCG, and `-cpu host` under
 * KVM is the VMM's business), then the image dir "vm" the destination restores from, exactly
 * what `silo checkpoint` of a VM writes: vm.json (kernel and initramfs hashes, RAM, vCPUs, NIC,
 * address) and network.status before CHECK, so the pre-flight can compare the guest kernel and
 * initramfs; after READY rootfs.erofs (read-only for the guest, sent while it runs), then
 * vm.state: QMP `migrate fd:` into one end of a socketpair whose other end is relayed as DATA
 * frames until qemu closes it (migration completed: the guest stopped here for the last
 * dirty pages and stays stopped, "postmigrate").  RESTORE {"dir":"vm"}: the destination's
 * usual restore (dst_restore -> silo_restore -> the VM snapshot path) loads it through the
 * same supervisor/jail path as `silo restore` and answers RUNNING.
 *
 * Invariants:
 *   - until RUNNING the guest is intact here: a failure while qemu migrates cancels the
 *     migration (the guest never stopped), a failure after it completed `cont`s the paused
 *     guest (rollback in place: no restore needed, the VMM never went away);
 *   - RUNNING is the commit point: only then does the callback return 1 and the container go
 *     (the VMM stopped, cgroup, state and lease released, as after `checkpoint`);
 *   - the destination side is migrate-recv.c's (its temporary dir and cleanup), with the
 *     pre-flight's CRIU checks replaced by mig_vm_preflight.
 */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "checkpoint.h"
#include "migrate.h"
#include "migrate-internal.h"
#include "../image/image.h"
#include "../image/json.h"
#include "../runtime/log.h"
#include "../runtime/sandbox-vm-snapshot.h"
#include "../runtime/sandbox.h"
#include "../runtime/state.h"
#include "../runtime/util.h"
#include "../vm/qmp.h"

#define QMP_TIMEOUT_MS 30000
#define MIGRATE_TIMEOUT_MS (10 * 60 * 1000)

struct vm_src {
        const struct silo_context *ctx;
        const struct silo_migrate_opts *o;
        int fd; /* the stream */
        pid_t rsh;
        int q;          /* QMP */
        uint64_t disk_bytes, stream_bytes, ram_bytes, passes;
        double t_start, t_eof, t_sent, t_running, restore_ms, qemu_downtime, qemu_total;
};

/* ---- helpers ------------------------------------------------------------------------------ */

static int send_mem(int fd, const char *rel, const char *data, size_t len, silo_error_t *err)
{
        int r = mig_send_str(fd, MSG_FILE, rel, err);

        for (size_t off = 0; r == 0 && off < len; off += MIG_MAX_FRAME)
                r = mig_send(fd, MSG_DATA, data + off, len - off < MIG_MAX_FRAME ? len - off : MIG_MAX_FRAME,
                             err);
        return r == 0 ? mig_send(fd, MSG_EOF, NULL, 0, err) : r;
}

/* name in dirfd, sent as rel ("vm/<name>"); *ret_bytes: its size */
static int send_file(int fd, const char *rel, int dirfd, const char *name, uint64_t *ret_bytes,
                     silo_error_t *err)
{
        _cleanup_close_ int f = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_free_ char *buf = silo_xmalloc0(MIG_MAX_FRAME);
        int r;

        *ret_bytes = 0;
        if (f < 0)
                return silo_error_set(err, errno, "migrate: open '%s' of the container", name);
        r = mig_send_str(fd, MSG_FILE, rel, err);
        while (r == 0) {
                ssize_t n = read(f, buf, MIG_MAX_FRAME);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return silo_error_set(err, errno, "migrate: read '%s' of the container", name);
                if (n == 0)
                        return mig_send(fd, MSG_EOF, NULL, 0, err);
                r = mig_send(fd, MSG_DATA, buf, (size_t)n, err);
                *ret_bytes += (uint64_t)n;
        }
        return r;
}

static int qmp(int q, const char *cmd, yajl_val *ret, silo_error_t *err)
{
        return silo_qmp_exec(q, cmd, -1, QMP_TIMEOUT_MS, ret, err);
}

static double ret_num(yajl_val reply, const char *k1, const char *k2)
{
        const char *path[] = {"return", k1, k2, NULL};
        yajl_val v = yajl_tree_get(reply, path, yajl_t_number);
        return v ? YAJL_GET_DOUBLE(v) : 0;
}

/* query-migrate: its status (a static string: "none" when there is none); stats kept in s */
static const char *mig_status(struct vm_src *s, silo_error_t *err)
{
        static const char *known[] = {"none",           "setup",      "active",     "completed",
                                      "failed",         "cancelling", "cancelled",  "postcopy-active",
                                      "pre-switchover", "device",     "wait-unplug"};
        yajl_val v = NULL;
        const char *st, *ret = "unknown";

        if (qmp(s->q, "{\"execute\":\"query-migrate\"}", &v, err) < 0)
                return NULL;
        st = silo_qmp_return_str(v, "status");
        for (size_t i = 0; st && i < ARRAY_SIZE(known); i++)
                if (strcmp(st, known[i]) == 0)
                        ret = known[i];
        if (st == NULL)
                ret = "none";
        if (strcmp(ret, "completed") == 0) {
                s->qemu_downtime = ret_num(v, "downtime", NULL);
                s->qemu_total = ret_num(v, "total-time", NULL);
                s->ram_bytes = (uint64_t)ret_num(v, "ram", "transferred");
                s->passes = (uint64_t)ret_num(v, "ram", "dirty-sync-count");
        } else if (strcmp(ret, "failed") == 0) {
                const char *d = silo_qmp_return_str(v, "error-desc");
                silo_error_set(err, EIO, "vm: qemu's migration failed: %s", d ? d : "no reason given");
                ret = NULL;
        }
        yajl_tree_free(v);
        return ret;
}

/* ---- source ------------------------------------------------------------------------------- */

/* QMP migrate into a socketpair, its other end relayed into vm/vm.state frames until qemu
 * closes it; then qemu must say "completed" (the guest is stopped here, "postmigrate"). */
static int live_migrate(struct vm_src *s, silo_error_t *err)
{
        _cleanup_free_ char *buf = silo_xmalloc0(MIG_MAX_FRAME);
        _cleanup_close_ int rd = -1;
        int sv[2], r;

        r = qmp(s->q,
                "{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"max-bandwidth\":68719476736}}",
                NULL, err);
        if (r < 0)
                return r;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return silo_error_set(err, errno, "migrate: socketpair");
        rd = sv[0];
        r = silo_qmp_exec(s->q, "{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"silo-mig\"}}", sv[1],
                          QMP_TIMEOUT_MS, NULL, err);
        close(sv[1]);
        if (r == 0)
                r = mig_send_str(s->fd, MSG_FILE, "vm/vm.state", err);
        if (r < 0)
                return r;
        s->t_start = mig_now_ms();
        r = qmp(s->q, "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"fd:silo-mig\"}}", NULL, err);
        if (r < 0)
                return r;
        for (double last = s->t_start;;) {
                struct pollfd p = {.fd = rd, .events = POLLIN};
                int k = poll(&p, 1, 500);
                if (k < 0 && errno != EINTR)
                        return silo_error_set(err, errno, "migrate: poll");
                if (k > 0) {
                        ssize_t n = read(rd, buf, MIG_MAX_FRAME);
                        if (n < 0 && errno != EINTR && errno != EAGAIN)
                                return silo_error_set(err, errno, "migrate: read qemu's stream");
                        if (n == 0)
                                break;
                        if (n > 0) {
                                r = mig_send(s->fd, MSG_DATA, buf, (size_t)n, err);
                                if (r < 0)
                                        return r;
                                s->stream_bytes += (uint64_t)n;
                        }
                }
                if (mig_now_ms() - last >= 500) { /* a failed migration may keep the fd open */
                        const char *st = mig_status(s, err);
                        last = mig_now_ms();
                        if (st == NULL)
                                return silo_error_ret(*err);
                        if (strcmp(st, "cancelled") == 0 || strcmp(st, "none") == 0)
                                return silo_error_set(err, EIO, "vm: qemu's migration stopped (%s)", st);
                        if (last - s->t_start > MIGRATE_TIMEOUT_MS)
                                return silo_error_set(err, ETIMEDOUT, "vm: the migration took more than %d s",
                                                      MIGRATE_TIMEOUT_MS / 1000);
                        if (s->o->progress)
                                fprintf(stderr, "migrate %s: %s, %.1f MiB sent\n", s->o->id, st,
                                        s->stream_bytes / 1048576.0);
                }
        }
        s->t_eof = mig_now_ms();
        r = mig_send(s->fd, MSG_EOF, NULL, 0, err);
        /* qemu closes the fd in its cleanup, right after it set "completed" */
        for (int i = 0; r == 0 && i < 500; i++) {
                const char *st = mig_status(s, err);
                if (st == NULL)
                        return silo_error_ret(*err);
                if (strcmp(st, "completed") == 0)
                        return 0;
                if (strcmp(st, "cancelled") == 0 || strcmp(st, "none") == 0)
                        return silo_error_set(err, EIO, "vm: qemu's migration stopped (%s)", st);
                usleep(10000);
        }
        return r < 0 ? r : silo_error_set(err, ETIMEDOUT, "vm: qemu closed its stream but did not complete");
}

/* The guest goes on here: cancel a running migration, `cont` a guest that stopped for it. */
static int rollback_here(struct vm_src *s, silo_error_t *err)
{
        yajl_val v = NULL;
        const char *st;
        silo_error_t e = NULL;
        bool running;
        int r;

        st = mig_status(s, &e);
        silo_error_free(&e);
        if (st && strcmp(st, "completed") != 0 && strcmp(st, "cancelled") != 0 && strcmp(st, "none") != 0) {
                (void)qmp(s->q, "{\"execute\":\"migrate_cancel\"}", NULL, &e);
                silo_error_free(&e);
                for (int i = 0; i < 1000; i++) {
                        st = mig_status(s, &e);
                        silo_error_free(&e);
                        if (st == NULL || strcmp(st, "cancelling") != 0)
                                break;
                        usleep(10000);
                }
        }
        r = qmp(s->q, "{\"execute\":\"query-status\"}", &v, err);
        if (r < 0)
                return r;
        {
                const char *path[] = {"return", "running", NULL};
                running = YAJL_IS_TRUE(yajl_tree_get(v, path, yajl_t_true));
        }
        yajl_tree_free(v);
        return running ? 0 : qmp(s->q, "{\"execute\":\"cont\"}", NULL, err);
}

static char *vm_hello(struct silo_container *c, const char *ip, const char *bridge)
{
        struct silo_buf b = {0};
        const char *image = silo_spec_annotation(c->spec, SILO_ANNOT_IMAGE_NAME);

        silo_buf_printf(&b, "{\"proto\":%d,\"sandbox\":\"vm\",\"silo\":\"%s\",\"id\":", MIG_PROTO,
                        SILO_VERSION);
        silo_json_str(&b, c->id);
        silo_buf_puts(&b, ",\"bundle\":");
        silo_json_str(&b, c->state->bundle ? c->state->bundle : "");
        silo_buf_puts(&b, ",\"image\":");
        silo_json_str(&b, image ? image : "");
        silo_buf_puts(&b, ",\"ip\":");
        silo_json_str(&b, ip ? ip : "");
        silo_buf_puts(&b, ",\"bridge\":");
        silo_json_str(&b, bridge ? bridge : "");
        silo_buf_puts(&b, "}");
        return b.data;
}

/* ip= and bridge= of the state dir's "network" (the lease create recorded) */
static void lease_of(struct silo_container *c, char **ip, char **bridge)
{
        _cleanup_free_ char *net = NULL;
        char *save = NULL;

        if (silo_read_file_at(c->dirfd, "network", 4096, &net, NULL, NULL) < 0)
                return;
        for (char *l = strtok_r(net, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                if (silo_str_has_prefix(l, "bridge=") && l[7])
                        *bridge = silo_xstrdup(l + 7);
                else if (silo_str_has_prefix(l, "ip=") && l[3])
                        *ip = silo_xstrdup(l + 3);
}

/* Everything up to RUNNING, the container locked; 1: committed (the container goes here). */
static int vm_migrate_locked(struct silo_container *c, const char *status, void *data, silo_error_t *err)
{
        struct vm_src *s = data;
        const struct silo_migrate_opts *o = s->o;
        _cleanup_free_ char *meta = NULL, *net = NULL, *ip = NULL, *bridge = NULL, *hello = NULL,
                            *ready = NULL, *reply = NULL, *qpath = NULL;
        yajl_val v = NULL;
        int r;

        if (strcmp(status, "running") != 0)
                return silo_error_set(err, 0, "migrate: container '%s' is %s, not running", o->id, status);
        r = silo_vm_snapshot_meta(c, &meta, err);
        if (r < 0)
                return r;
        lease_of(c, &ip, &bridge);
        net = ip ? silo_ckpt_network_status(c) : NULL;
        s->fd = silo_str_has_prefix(o->dest, "tcp:") ? mig_connect_tcp(o->dest + 4, err)
                                                     : mig_spawn_rsh(o, &s->rsh, err);
        if (s->fd < 0)
                return s->fd;
        hello = vm_hello(c, ip, bridge);
        r = mig_send_str(s->fd, MSG_HELLO, hello, err);
        if (r == 0)
                r = mig_send_str(s->fd, MSG_MKDIR, "vm", err);
        if (r == 0)
                r = send_mem(s->fd, "vm/vm.json", meta, strlen(meta), err);
        if (r == 0 && net)
                r = send_mem(s->fd, "vm/network.status", net, strlen(net), err);
        if (r == 0)
                r = mig_send(s->fd, MSG_CHECK, NULL, 0, err);
        if (r == 0)
                r = mig_expect(s->fd, MSG_READY, &ready, err);
        if (r < 0)
                return silo_error_wrap(
                    err, "migrate: pre-flight on '%s' failed, the container keeps running here", o->dest);
        if (o->progress)
                fprintf(stderr, "migrate %s: destination ready: %s\n", o->id, ready);
        r = send_file(s->fd, "vm/rootfs.erofs", c->dirfd, "rootfs.erofs", &s->disk_bytes, err);
        if (r < 0)
                return silo_error_wrap(err, "migrate: the container keeps running here");
        qpath = silo_xasprintf("%s/%s/qmp.sock", c->ctx->root, c->id);
        s->q = silo_qmp_connect(qpath, 10000, -1, err);
        if (s->q < 0)
                return silo_error_wrap(err, "migrate: the VMM's monitor; the container keeps running here");
        r = live_migrate(s, err);
        if (r == 0)
                r = mig_send_str(s->fd, MSG_RESTORE, "{\"dir\":\"vm\"}", err);
        s->t_sent = mig_now_ms();
        if (r == 0)
                r = mig_expect(s->fd, MSG_RUNNING, &reply, err);
        if (r < 0) {
                silo_error_t e = NULL;
                _cleanup_free_ char *text = silo_error_text(*err);
                mig_send_str(s->fd, MSG_ERROR, text, &e); /* the destination may be gone already */
                silo_error_free(&e);
                if (rollback_here(s, &e) < 0) {
                        _cleanup_free_ char *t2 = silo_error_text(e);
                        silo_error_free(&e);
                        return silo_error_wrap(
                            err, "migrate: resuming the guest of '%s' here failed too (%s)", o->id, t2);
                }
                return silo_error_wrap(err,
                                       "migrate: the container runs here again (the guest resumed; if the "
                                       "destination reported RUNNING but the stream broke, check it)");
        }
        s->t_running = mig_now_ms();
        if (silo_json_parse("RUNNING", reply, &v, NULL) == 0) {
                yajl_val t = silo_json_get(v, "restoreMs", NULL, yajl_t_number);
                s->restore_ms = t ? YAJL_GET_DOUBLE(t) : 0;
                yajl_tree_free(v);
        }
        return 1; /* committed: stop the VMM, remove the container here */
}

static void vm_report(const struct vm_src *s)
{
        /* the guest stopped here qemu_downtime ms before qemu closed the stream; it runs again
         * at the destination when RUNNING arrives */
        double stop = s->t_eof - s->qemu_downtime, downtime = s->t_running - stop;

        printf("migrated '%s' to '%s': qemu live migration, %.1f MiB of RAM in %llu pass%s (%.1f MiB stream, "
               "%.0f ms); disk image %.1f MiB\n",
               s->o->id, s->o->dest, s->ram_bytes / 1048576.0, (unsigned long long)s->passes,
               s->passes == 1 ? "" : "es", s->stream_bytes / 1048576.0, s->qemu_total,
               s->disk_bytes / 1048576.0);
        printf("downtime %.0f ms (qemu stop-and-copy %.0f ms, restore %.0f ms, other %.0f ms)\n", downtime,
               s->qemu_downtime, s->restore_ms, downtime - s->qemu_downtime - s->restore_ms);
        fflush(stdout);
}

int mig_vm_source(const struct silo_context *ctx, const struct silo_migrate_opts *o, silo_error_t *err)
{
        _cleanup_free_ char *dir = silo_xasprintf("%s/%s", ctx->root, o->id);
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        struct vm_src s = {.ctx = ctx, .o = o, .fd = -1, .q = -1};
        struct silo_state *st = NULL;
        silo_error_t e = NULL;
        bool vm;
        int r;

        if (dfd < 0 || silo_state_read(dfd, &st, &e) < 0) {
                silo_error_free(&e);
                return 1; /* the namespace path names what is wrong */
        }
        vm = st->sandbox && strcmp(st->sandbox, "vm") == 0;
        silo_state_free(st);
        if (!vm)
                return 1;
        if (o->lazy_pages) /* qemu's postcopy-ram would be the analogue: not wired */
                return silo_error_set(err, EOPNOTSUPP,
                                      "migrate --lazy-pages: not supported for a vm container (qemu's "
                                      "pre-copy moves its memory)");
        if (o->tcp_established || o->max_rounds >= 0)
                silo_debug(
                    "migrate: --tcp-established and --rounds are CRIU's; qemu migrates the whole guest");
        signal(SIGPIPE, SIG_IGN);
        r = silo_container_checkpoint(ctx, o->id, vm_migrate_locked, &s, err);
        if (r == 0) {
                if (mig_send(s.fd, MSG_DONE, NULL, 0, &e) < 0) {
                        silo_warn("migrate: could not tell '%s' that the source is gone, ignoring", o->dest);
                        silo_error_free(&e);
                }
                vm_report(&s);
        }
        if (s.q >= 0)
                close(s.q);
        if (s.fd >= 0)
                close(s.fd);
        if (s.rsh > 0) {
                int ws = 0;
                while (waitpid(s.rsh, &ws, 0) < 0 && errno == EINTR)
                        ;
                if (r == 0 && !(WIFEXITED(ws) && WEXITSTATUS(ws) == 0))
                        silo_warn("migrate: the remote receiver exited with status %d, ignoring",
                                  WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws));
        }
        return r;
}

/* ---- destination -------------------------------------------------------------------------- */

bool mig_hello_vm(yajl_val hello)
{
        const char *s = silo_json_string(hello, "sandbox", NULL);
        return s && strcmp(s, "vm") == 0;
}

int mig_vm_preflight(const char *data_root, yajl_val hello, const char *tmp, silo_error_t *err)
{
        _cleanup_free_ char *img = silo_xasprintf("%s/vm", tmp);
        const char *bundle = silo_json_string(hello, "bundle", NULL);

        if (!silo_vm_snapshot_in(img))
                return silo_error_set(err, EPROTO, "migrate: no vm/vm.json before CHECK");
        return silo_vm_snapshot_host_check(data_root, bundle ? bundle : "", img, err);
}
