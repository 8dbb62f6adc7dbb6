/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A minimal QMP client: the VM sandbox drives qemu's migration through it to save and load the
 * whole guest (runtime/sandbox-vm-snapshot.c: `silo checkpoint`, and vm/supervisor.c: resume
 * after an incoming migration).  qemu listens on <state>/qmp.sock (one client at a time).
 *
 * Invariants: one command in flight per connection; replies and events are one JSON object per
 * line, so a reply is read byte-wise up to its newline (nothing read ahead is ever lost between
 * calls); every wait is bounded by a timeout; fds are passed only with `getfd`.
 */
#include "config.h"
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "../runtime/util.h"
#include "qmp.h"

#define QMP_MAX_LINE (1u << 20)

static long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One line (without the newline), NUL-terminated; caller frees. */
static int read_line(int fd, long deadline, char **ret, silo_error_t *err)
{
        struct silo_buf b = {0};

        for (;;) {
                struct pollfd p = {fd, POLLIN, 0};
                long left = deadline - now_ms();
                char c;
                ssize_t n;

                if (left <= 0 || poll(&p, 1, (int)left) == 0) {
                        silo_buf_free(&b);
                        return silo_error_set(err, ETIMEDOUT, "qmp: no reply from qemu");
                }
                n = read(fd, &c, 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        silo_buf_free(&b);
                        return silo_error_set(err, n < 0 ? errno : ECONNRESET,
                                              "qmp: qemu closed the monitor");
                }
                if (c == '\n')
                        break;
                if (b.len >= QMP_MAX_LINE) {
                        silo_buf_free(&b);
                        return silo_error_set(err, EMSGSIZE, "qmp: reply too long");
                }
                silo_buf_putc(&b, c);
        }
        silo_buf_putc(&b, '\0');
        *ret = b.data;
        return 0;
}

static int send_cmd(int fd, const char *cmd, int pass_fd, silo_error_t *err)
{
        struct iovec iov = {(void *)cmd, strlen(cmd)};
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } ctl;
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

        if (pass_fd >= 0) {
                memset(&ctl, 0, sizeof(ctl));
                msg.msg_control = ctl.buf;
                msg.msg_controllen = sizeof(ctl.buf);
                struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
        }
        /* the fd travels with the first byte; the rest is ordinary data */
        ssize_t n;
        while ((n = sendmsg(fd, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
                ;
        if (n < 0)
                return silo_error_set(err, errno, "qmp: send");
        if ((size_t)n < iov.iov_len && silo_write_all(fd, cmd + n, iov.iov_len - (size_t)n) < 0)
                return silo_error_set(err, errno, "qmp: send");
        return 0;
}

int silo_qmp_exec(int fd, const char *cmd, int pass_fd, int timeout_ms, yajl_val *ret, silo_error_t *err)
{
        long deadline = now_ms() + timeout_ms;
        int r = send_cmd(fd, cmd, pass_fd, err);

        while (r == 0) {
                _cleanup_free_ char *line = NULL;
                char ebuf[256];
                yajl_val v;

                r = read_line(fd, deadline, &line, err);
                if (r < 0)
                        break;
                v = yajl_tree_parse(line, ebuf, sizeof(ebuf));
                if (v == NULL || !YAJL_IS_OBJECT(v)) {
                        yajl_tree_free(v);
                        return silo_error_set(err, EPROTO, "qmp: unparsable reply '%.200s'", line);
                }
                const char *ev[] = {"event", NULL}, *er[] = {"error", "desc", NULL}, *rt[] = {"return", NULL};
                if (yajl_tree_get(v, ev, yajl_t_any)) {
                        yajl_tree_free(v);
                        continue;
                }
                if (yajl_tree_get(v, rt, yajl_t_any)) {
                        if (ret)
                                *ret = v;
                        else
                                yajl_tree_free(v);
                        return 0;
                }
                yajl_val desc = yajl_tree_get(v, er, yajl_t_string);
                r = silo_error_set(err, 0, "qmp: '%.100s' failed: %s", cmd,
                                   desc ? YAJL_GET_STRING(desc) : "unexpected reply");
                yajl_tree_free(v);
        }
        return r;
}

const char *silo_qmp_return_str(yajl_val reply, const char *key)
{
        const char *path[] = {"return", key, NULL};
        yajl_val v = reply ? yajl_tree_get(reply, path, yajl_t_string) : NULL;
        return v ? YAJL_GET_STRING(v) : NULL;
}

int silo_qmp_connect(const char *path, int timeout_ms, int pidfd, silo_error_t *err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        long deadline = now_ms() + timeout_ms;
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *greeting = NULL;
        int r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return silo_error_set(err, ENAMETOOLONG, "qmp: socket path '%s' too long", path);
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return silo_error_set(err, errno, "qmp: socket");
        while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                struct pollfd p = {pidfd, POLLIN, 0};
                if ((errno != ENOENT && errno != ECONNREFUSED && errno != EINTR) || now_ms() >= deadline)
                        return silo_error_set(err, errno, "qmp: connect to '%s'", path);
                if (pidfd >= 0 ? poll(&p, 1, 10) > 0 : usleep(10000) < 0)
                        return silo_error_set(err, ESRCH, "qmp: qemu exited");
        }
        r = read_line(fd, deadline, &greeting, err);
        if (r == 0 && strstr(greeting, "\"QMP\"") == NULL)
                r = silo_error_set(err, EPROTO, "qmp: '%s' is not a QMP monitor", path);
        if (r == 0)
                r = silo_qmp_exec(fd, "{\"execute\":\"qmp_capabilities\"}", -1, timeout_ms, NULL, err);
        return r < 0 ? r : TAKE_FD(fd);
}
