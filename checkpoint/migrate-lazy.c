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

/* An IPv4/IPv6 socket address and its "IP:PORT" text. */
static char *addr_text(const struct sockaddr_storage *ss)
{
        char host[INET6_ADDRSTRLEN] = "";
        int port;

        if (ss->ss_family == AF_INET6) {
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, host, sizeof(host));
                port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
        } else {
                inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, host, sizeof(host));
                port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
        }
        return silo_xasprintf("%s:%d", host, port);
}

/* A listening socket on ss (port 0: the kernel picks one, read back into ss). */
static int listen_on(struct sockaddr_storage *ss, silo_error_t *err)
{
        socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
        int one = 1, fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(fd, (struct sockaddr *)ss, len) < 0 || listen(fd, 1) < 0 ||
            getsockname(fd, (struct sockaddr *)ss, &len) < 0) {
                int e = errno;
                if (fd >= 0)
                        close(fd);
                _cleanup_free_ char *t = addr_text(ss);
                return silo_error_set(err, e, "migrate --lazy-pages: listen on '%s'", t);
        }
        return fd;
}

/*
 * The page server's public side, listened on now (so the port is ours): given --page-server
 * IP:PORT as it is; else, over a tcp: stream, the address this side of the stream has (the
 * destination reached us through it) with a port the kernel picks.
 */
int mig_lazy_listen(struct mig_lazy *l, int stream_fd, bool tcp, const char *given, silo_error_t *err)
{
        struct sockaddr_storage ss = {0};
        socklen_t len = sizeof(ss);
        int fd;

        if (given) { /* checked by silo_migrate: a numeric address */
                _cleanup_free_ char *h = silo_xstrdup(given);
                char *colon = strrchr(h, ':');
                struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
                                         .ai_socktype = SOCK_STREAM},
                                *res = NULL;
                *colon = '\0';
                if (getaddrinfo(h, colon + 1, &hints, &res) != 0)
                        return silo_error_set(err, EINVAL, "--page-server: '%s' is not IP:PORT", given);
                memcpy(&ss, res->ai_addr, res->ai_addrlen);
                freeaddrinfo(res);
        } else if (!tcp) {
                return silo_error_set(err, EINVAL, "migrate --lazy-pages: --page-server IP:PORT needed");
        } else if (getsockname(stream_fd, (struct sockaddr *)&ss, &len) < 0) {
                return silo_error_set(err, errno, "migrate --lazy-pages: getsockname");
        } else if (ss.ss_family == AF_INET) {
                ((struct sockaddr_in *)&ss)->sin_port = 0;
        } else if (ss.ss_family == AF_INET6) {
                ((struct sockaddr_in6 *)&ss)->sin6_port = 0;
        } else {
                return silo_error_set(err, EAFNOSUPPORT, "migrate --lazy-pages: the stream is not TCP");
        }
        fd = listen_on(&ss, err);
        if (fd < 0)
                return fd;
        l->lfd = fd;
        l->stream_fd = stream_fd;
        l->addr = addr_text(&ss);
        return 0;
}

/* A child's end: its error text (if any, from fd; may be -1) and its exit status.  Blocks. */
static int reap(pid_t *pid, int *fd, const char *what, silo_error_t *err)
{
        struct silo_buf text = {0};
        char buf[1024];
        ssize_t n;
        int st = 0, r = 0;

        while (*fd >= 0 && (n = read(*fd, buf, sizeof(buf))) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        break;
                silo_buf_put(&text, buf, (size_t)n);
        }
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
        if (*pid <= 0)
                return 0;
        while (waitpid(*pid, &st, 0) < 0 && errno == EINTR)
                ;
        *pid = 0;
        if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0) && text.len)
                r = silo_error_set(err, 0, "%s", text.data);
        else if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
                r = silo_error_set(err, 0, "the %s %s", what, WIFSIGNALED(st) ? "was killed" : "failed");
        silo_buf_free(&text);
        return r;
}

/* Close a connection with a reset after one stray byte: whatever CRIU's page server was reading,
 * its recv() comes back short or with ECONNRESET, never as the clean end of the session. */
static void reset(int fd)
{
        struct linger lg = {1, 0};

        (void)!send(fd, "", 1, MSG_NOSIGNAL);
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(fd);
}

static int connect_criu(const struct sockaddr_in *sa)
{
        for (int i = 0; i < 100; i++) {
                int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd >= 0 && connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
                        return fd;
                if (fd >= 0)
                        close(fd);
                usleep(100000);
        }
        return -1;
}

/* Copy what is there from one side to the other; false at EOF or error. */
static bool pump(int from, int to)
{
        char buf[65536];
        ssize_t n = read(from, buf, sizeof(buf));

        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return true;
        return n > 0 && silo_write_all(to, buf, (size_t)n) == 0;
}

/*
 * The relay (a child process): the destination's `criu lazy-pages` connects to the public
 * socket, CRIU's page server listens on the loopback; bytes go both ways unchanged.  It exists
 * for one decision CRIU cannot make: in lazy mode a session that simply ends counts as complete
 * (the tasks are then killed), so a destination that dies before the commit must not end it
 * cleanly.  The commit pipe says which: 'c' = committed (an end is passed on as an end);
 * EOF without 'c' = abort (CRIU's side is reset, the dump fails, CRIU resumes the tasks).
 */
static __attribute__((noreturn)) void relay(int lfd, const struct sockaddr_in *criu, int commit)
{
        int dfd = -1, cfd = -1;
        bool committed = false, d_open = true, c_open = true;

        signal(SIGPIPE, SIG_IGN);
        for (;;) { /* the destination's daemon, or the verdict first */
                struct pollfd p[2] = {{lfd, POLLIN, 0}, {commit, POLLIN, 0}};
                char c;
                if (poll(p, 2, -1) < 0)
                        continue;
                if (p[1].revents) {
                        if (read(commit, &c, 1) == 1 && c == 'c') {
                                committed = true; /* (no client yet: nothing to pass on) */
                                continue;
                        }
                        if (!committed && (cfd = connect_criu(criu)) >= 0)
                                reset(cfd);
                        _exit(0);
                }
                if (p[0].revents) {
                        dfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
                        if (dfd >= 0)
                                break;
                }
        }
        close(lfd);
        cfd = connect_criu(criu);
        if (cfd < 0)
                _exit(1);
        while (d_open || c_open) {
                struct pollfd p[3] = {{d_open ? dfd : -1, POLLIN, 0}, {c_open ? cfd : -1, POLLIN, 0},
                                      {commit, POLLIN, 0}};
                char c;
                if (poll(p, 3, -1) < 0)
                        continue;
                if (p[2].revents) {
                        ssize_t n = read(commit, &c, 1);
                        if (n == 1 && c == 'c') {
                                committed = true;
                        } else if (!committed) {
                                reset(cfd);
                                _exit(0);
                        } else {
                                commit = -1; /* closed after the commit: nothing more to hear */
                        }
                }
                if (p[0].revents && !pump(dfd, cfd)) {
                        if (!committed) {
                                reset(cfd);
                                _exit(0);
                        }
                        shutdown(cfd, SHUT_WR);
                        d_open = false;
                }
                if (p[1].revents && !pump(cfd, dfd)) {
                        shutdown(dfd, SHUT_WR);
                        c_open = false;
                }
        }
        _exit(0);
}

int mig_lazy_dump_start(const struct silo_context *ctx, struct silo_criu_opts *co, struct mig_lazy *l,
                        silo_error_t *err)
{
        struct sockaddr_in crit = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        _cleanup_free_ char *crit_addr = NULL;
        int st[2], ep[2], cm[2], probe;
        char byte;
        ssize_t n;
        pid_t pid;

        /* CRIU's own listening port, on the loopback (it binds it itself a moment later) */
        probe = listen_on((struct sockaddr_storage *)&crit, err);
        if (probe < 0)
                return probe;
        close(probe);
        crit_addr = silo_xasprintf("127.0.0.1:%d", ntohs(crit.sin_port));
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
                close(l->lfd);
                close(l->stream_fd); /* the destination sees the stream end with us, not with it */
                co->lazy_pages = true;
                co->page_server = crit_addr;
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
        if (n != 1 || byte != '\0') /* the dump failed before serving: CRIU resumed the tasks */
                return reap(&l->pid, &l->err_fd, "dump", err);
        if (pipe2(cm, O_CLOEXEC) < 0) {
                silo_error_set(err, errno, "migrate --lazy-pages: pipe");
                goto abort;
        }
        l->relay = fork();
        if (l->relay < 0) {
                close(cm[0]);
                close(cm[1]);
                l->relay = 0;
                silo_error_set(err, errno, "migrate --lazy-pages: fork");
                goto abort;
        }
        if (l->relay == 0) {
                close(cm[1]);
                close(l->err_fd);
                close(l->stream_fd);
                relay(l->lfd, &crit, cm[0]);
        }
        close(cm[0]);
        close(l->lfd);
        l->lfd = -1;
        l->commit_fd = cm[1];
        return 0;
abort: { /* no relay: reset CRIU's session ourselves */
        int fd = connect_criu(&crit);
        if (fd >= 0)
                reset(fd);
        silo_error_t e = NULL;
        if (reap(&l->pid, &l->err_fd, "dump", &e) < 0)
                silo_error_free(&e);
        return silo_error_ret(*err);
}
}

void mig_lazy_commit(struct mig_lazy *l)
{
        if (l->commit_fd >= 0)
                (void)!write(l->commit_fd, "c", 1);
}

int mig_lazy_dump_wait(struct mig_lazy *l, silo_error_t *err)
{
        int none = -1, r = reap(&l->pid, &l->err_fd, "dump", err);

        if (l->commit_fd >= 0)
                close(l->commit_fd);
        l->commit_fd = -1;
        if (l->relay > 0) {
                silo_error_t e = NULL;
                siginfo_t si = {0};
                /* CRIU ended its side: the relay ends when the daemon closes; 10 s at most */
                for (int i = 0; i < 100; i++) {
                        si.si_pid = 0;
                        if (waitid(P_PID, (id_t)l->relay, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid)
                                break;
                        usleep(100000);
                }
                if (si.si_pid == 0)
                        kill(l->relay, SIGKILL);
                if (reap(&l->relay, &none, "page relay", &e) < 0 && r == 0 && si.si_pid)
                        r = silo_error_set(err, 0, "%s", e->msg);
                silo_error_free(&e);
        }
        return r;
}

/*
 * Before the commit point: the relay resets CRIU's session (the dump fails, CRIU resumes the
 * tasks).  A dump that still serves after 60 s is killed with its process group and the
 * container thawed (CRIU froze it through its freezer cgroup).
 */
void mig_lazy_abort(const struct silo_context *ctx, const char *id, struct mig_lazy *l)
{
        silo_error_t e = NULL;
        siginfo_t si = {0};
        int none = -1;

        if (l->lfd >= 0)
                close(l->lfd);
        l->lfd = -1;
        if (l->commit_fd >= 0)
                close(l->commit_fd); /* EOF without 'c': abort */
        l->commit_fd = -1;
        for (int i = 0; l->pid > 0 && i < 600; i++) {
                struct pollfd p = {l->err_fd, POLLIN, 0};
                if (poll(&p, 1, 100) > 0) /* error text or EOF: the child is ending */
                        break;
        }
        if (l->pid > 0 && waitid(P_PID, (id_t)l->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == 0) {
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
        if (reap(&l->pid, &l->err_fd, "dump", &e) < 0) {
                silo_debug("migrate: the aborted lazy dump: %s", e->msg);
                silo_error_free(&e);
        }
        if (l->relay > 0) {
                kill(l->relay, SIGKILL);
                if (reap(&l->relay, &none, "page relay", &e) < 0)
                        silo_error_free(&e);
        }
}
