/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * silo migrate --lazy-pages: post-copy.  The final dump writes every image but the memory and
 * leaves the pages in the frozen tasks; CRIU then serves them from a page server at the source
 * until the destination's `criu lazy-pages` daemon (started by restore --lazy-pages) has fetched
 * them all, on demand (userfaultfd) and in the background.  The destination runs the container
 * as soon as the small images are there: the downtime no longer holds the memory's dump,
 * transfer and restore.
 *
 * CRIU's dump call blocks while it serves, so it runs in a child process (its own process
 * group: the child and `criu swrk`), which reports "images written, page server listening"
 * with the zero byte of --status-fd and its error text on a pipe.
 *
 * Invariants (what CRIU 3.17 does, read from cr-dump.c/page-xfer.c, and relied on here):
 *   - a page-server session that ends without CRIU's close/flush command (a lazy-pages daemon
 *     killed by a failed restore, or the empty connection of mig_lazy_abort) fails the dump,
 *     and a failed dump resumes the tasks: before RUNNING the container survives here;
 *   - the dump returns 0 only after the daemon fetched every page; the tasks are then killed
 *     and silo releases the container as `checkpoint` does: after RUNNING nothing can be rolled
 *     back, and a transfer that breaks then leaves the destination's container without part of
 *     its memory (post-copy's known price, stated in the error);
 *   - CRIU does not unlock --tcp-established connections after a failed lazy dump: a rollback
 *     here keeps the container but not those connections (said in the message).
 */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "checkpoint.h"
#include "migrate-internal.h"
#include "../runtime/log.h"
#include "../runtime/util.h"

/* "ADDR:PORT" with a numeric IPv4/IPv6 address (no brackets) and a port 1-65535. */
bool mig_lazy_addr_ok(const char *s)
{
        _cleanup_free_ char *a = silo_xstrdup(s);
        char *colon = strrchr(a, ':');
        unsigned char buf[sizeof(struct in6_addr)];
        uint64_t port;

        if (colon == NULL)
                return false;
        *colon = '\0';
        return silo_parse_u64(colon + 1, &port) == 0 && port > 0 && port < 65536 &&
               (inet_pton(AF_INET, a, buf) == 1 || inet_pton(AF_INET6, a, buf) == 1);
}

/*
 * Where the page server listens.  Given: used as it is.  Else, over a tcp: stream, the address
 * this side of the stream has (the destination reaches it: it connected to us through it) with
 * a port the kernel picks now (bound, read back and closed: CRIU binds it again a moment later).
 */
int mig_lazy_addr(int stream_fd, bool tcp, const char *given, char **ret, silo_error_t *err)
{
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        char host[INET6_ADDRSTRLEN];
        _cleanup_close_ int probe = -1;
        int port;

        if (given) { /* checked by silo_migrate */
                *ret = silo_xstrdup(given);
                return 0;
        }
        if (!tcp)
                return silo_error_set(err, EINVAL, "migrate --lazy-pages: --page-server IP:PORT needed");
        if (getsockname(stream_fd, (struct sockaddr *)&ss, &len) < 0)
                return silo_error_set(err, errno, "migrate --lazy-pages: getsockname");
        if (ss.ss_family == AF_INET)
                ((struct sockaddr_in *)&ss)->sin_port = 0;
        else if (ss.ss_family == AF_INET6)
                ((struct sockaddr_in6 *)&ss)->sin6_port = 0;
        else
                return silo_error_set(err, EAFNOSUPPORT, "migrate --lazy-pages: the stream is not TCP");
        probe = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        len = ss.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
        if (probe < 0 || bind(probe, (struct sockaddr *)&ss, len) < 0 ||
            getsockname(probe, (struct sockaddr *)&ss, &len) < 0)
                return silo_error_set(err, errno, "migrate --lazy-pages: pick a port for the page server");
        if (ss.ss_family == AF_INET) {
                inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
                port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        } else {
                inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof(host));
                port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
        *ret = silo_xasprintf("%s:%d", host, port);
        return 0;
}

/* The child's end: its error text (if any) and its exit status.  Blocks until it exits. */
static int reap(struct mig_lazy *l, silo_error_t *err)
{
        struct silo_buf text = {0};
        char buf[1024];
        ssize_t n;
        int st = 0;

        while ((n = read(l->err_fd, buf, sizeof(buf))) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        break;
                silo_buf_put(&text, buf, (size_t)n);
        }
        close(l->err_fd);
        l->err_fd = -1;
        while (waitpid(l->pid, &st, 0) < 0 && errno == EINTR)
                ;
        l->pid = 0;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
                silo_buf_free(&text);
                return 0;
        }
        int r = silo_error_set(err, 0, "%s",
                               text.len ? text.data
                                        : (WIFSIGNALED(st) ? "the dump process was killed" : "the dump failed"));
        silo_buf_free(&text);
        return r;
}

int mig_lazy_dump_start(const struct silo_context *ctx, struct silo_criu_opts *co, struct mig_lazy *l,
                        silo_error_t *err)
{
        int st[2], ep[2];
        char byte;
        ssize_t n;
        pid_t pid;

        if (pipe2(st, O_CLOEXEC) < 0)
                return silo_error_set(err, errno, "migrate --lazy-pages: pipe");
        if (pipe2(ep, O_CLOEXEC) < 0) {
                close(st[0]);
                close(st[1]);
                return silo_error_set(err, errno, "migrate --lazy-pages: pipe");
        }
        fflush(NULL);
        pid = fork();
        if (pid < 0) {
                close(st[0]);
                close(st[1]);
                close(ep[0]);
                close(ep[1]);
                return silo_error_set(err, errno, "migrate --lazy-pages: fork");
        }
        if (pid == 0) {
                silo_error_t e = NULL;
                (void)setpgid(0, 0);
                close(st[0]);
                close(ep[0]);
                co->lazy_pages = true;
                co->page_server = l->addr;
                co->status_fd = st[1];
                if (silo_checkpoint(ctx, co, &e) < 0) {
                        _cleanup_free_ char *t = silo_error_text(e);
                        (void)silo_write_all(ep[1], t, strlen(t));
                        _exit(1);
                }
                _exit(0);
        }
        (void)setpgid(pid, pid); /* both sides: no window where a kill(-pid) misses it */
        close(st[1]);
        close(ep[1]);
        l->pid = pid;
        l->err_fd = ep[0];
        while ((n = read(st[0], &byte, 1)) < 0 && errno == EINTR)
                ;
        close(st[0]);
        if (n == 1 && byte == '\0')
                return 0;
        /* no "ready": the dump failed before serving, CRIU resumed the tasks */
        return reap(l, err);
}

int mig_lazy_dump_wait(struct mig_lazy *l, silo_error_t *err)
{
        return l->pid > 0 ? reap(l, err) : 0;
}

/*
 * Before the commit point: make the page server fail so that CRIU resumes the tasks.  An empty
 * connection does it if nobody fetched yet; if the destination's daemon is connected, its end
 * (the failed restore kills it) does.  A dump that still serves after 60 s is killed with its
 * process group and the container thawed (CRIU froze it through its freezer cgroup).
 */
void mig_lazy_abort(const struct silo_context *ctx, const char *id, struct mig_lazy *l)
{
        _cleanup_free_ char *h = NULL;
        struct addrinfo hints = {.ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_STREAM}, *res = NULL;
        char *colon;

        if (l->pid <= 0)
                return;
        h = silo_xstrdup(l->addr);
        colon = strrchr(h, ':');
        *colon = '\0';
        if (getaddrinfo(h, colon + 1, &hints, &res) == 0) {
                int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) < 0)
                        silo_debug("migrate: page server %s: %m (its client is connected)", l->addr);
                if (fd >= 0)
                        close(fd);
                freeaddrinfo(res);
        }
        for (int i = 0; i < 600; i++) {
                struct pollfd p = {l->err_fd, POLLIN, 0};
                if (poll(&p, 1, 100) > 0) /* error text or EOF: the child is ending */
                        break;
        }
        siginfo_t si = {0};
        if (waitid(P_PID, (id_t)l->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == 0) {
                silo_error_t e = NULL;
                struct pollfd p = {l->err_fd, POLLIN, 0};
                if (poll(&p, 1, 0) == 0) {
                        silo_warn("migrate: the lazy dump of '%s' did not end, killing it", id);
                        kill(-l->pid, SIGKILL);
                        if (silo_container_resume(ctx, id, &e) < 0) {
                                silo_warn("migrate: thaw '%s': %s", id, e->msg);
                                silo_error_free(&e);
                        }
                }
        }
        {
                silo_error_t e = NULL;
                if (reap(l, &e) < 0) {
                        silo_debug("migrate: the aborted lazy dump: %s", e->msg);
                        silo_error_free(&e);
                }
        }
}
