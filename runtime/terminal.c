/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Terminals and fd passing.
 *
 * Invariants:
 * - Every fd created here is O_CLOEXEC (received fds through MSG_CMSG_CLOEXEC).
 * - One sendmsg carries exactly one SCM_RIGHTS cmsg with exactly one fd and a non-empty payload;
 *   the control buffer is exactly CMSG_SPACE(sizeof(int)) because go-runc checks oobn against it.
 * - The pty peer is obtained from the master with TIOCGPTPEER (Linux 4.13) so that no path in
 *   the container's /dev/pts is ever looked up: a symlink planted there made runc bind-mount an
 *   arbitrary file over /dev/console (CVE-2025-52565).  The by-name fallback (older kernels only)
 *   opens with O_NOFOLLOW and checks that it got the pty matching the master's index.
 * - /dev/console is opened O_PATH|O_NOFOLLOW, checked to be a regular file or char device, and
 *   the bind mount goes onto that fd, so it cannot be redirected through a symlink
 *   (CVE-2026-88264 class); the source must really be a pty peer.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "terminal.h"
#include "util.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* Unix98 pty peers: majors 136..143 (UNIX98_PTY_SLAVE_MAJOR + UNIX98_PTY_MAJOR_COUNT). */
#define PTY_SLAVE_MAJOR_FIRST 136
#define PTY_SLAVE_MAJOR_LAST 143
#define FD_PAYLOAD_MAX 4096      /* what a receiver reads with the fd (go-runc requires < 4096) */
#define FD_SEND_PAYLOAD_MAX (1 << 20) /* the seccomp-notify handshake sends the state JSON */

union fd_cmsg {
        struct cmsghdr hdr;
        char buf[CMSG_SPACE(sizeof(int))];
};

int silo_send_fd(int sock, int fd, const char *name, silo_error_t *err)
{
        union fd_cmsg ctl;
        struct cmsghdr *c;
        size_t len = name ? strlen(name) : 0;
        struct iovec iov;
        struct msghdr msg = {0};
        ssize_t n;

        /* A SOCK_STREAM cmsg is only delivered together with at least one byte of data. */
        if (len == 0 || len >= FD_SEND_PAYLOAD_MAX)
                return silo_error_set(err, EINVAL, "send fd: payload must be 1..%d bytes", FD_SEND_PAYLOAD_MAX - 1);
        if (fd < 0)
                return silo_error_set(err, EBADF, "send fd: invalid fd");

        memset(&ctl, 0, sizeof(ctl));
        iov.iov_base = (void *)name;
        iov.iov_len = len;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = ctl.buf;
        msg.msg_controllen = sizeof(ctl.buf);
        c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));

        do
                n = sendmsg(sock, &msg, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return silo_error_set(err, errno, "send fd");
        /* The fd went with the first byte; finish a short write of the payload without it. */
        while ((size_t)n < len) {
                ssize_t m = send(sock, name + n, len - (size_t)n, MSG_NOSIGNAL);
                if (m < 0) {
                        if (errno == EINTR)
                                continue;
                        return silo_error_set(err, errno, "send fd");
                }
                n += m;
        }
        return 0;
}

int silo_recv_fd(int sock, int *ret_fd, silo_error_t *err)
{
        /* Room for more fds than we accept: a too-small buffer makes the kernel drop the extra
         * fds silently, and we want to see (and reject) a sender that passes several. */
        union {
                struct cmsghdr hdr;
                char buf[CMSG_SPACE(sizeof(int) * 16)];
        } ctl;
        char payload[FD_PAYLOAD_MAX];
        struct iovec iov = {.iov_base = payload, .iov_len = sizeof(payload)};
        struct msghdr msg = {0};
        int fd = -1, nfds = 0;
        ssize_t n;

        memset(&ctl, 0, sizeof(ctl));
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = ctl.buf;
        msg.msg_controllen = sizeof(ctl.buf);

        do
                n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return silo_error_set(err, errno, "receive fd");

        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                size_t cnt;

                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < cnt; i++) {
                        int got;
                        memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                        if (fd < 0)
                                fd = got;
                        else
                                close(got);
                        nfds++;
                }
        }
        if (msg.msg_flags & MSG_CTRUNC) {
                if (fd >= 0)
                        close(fd);
                return silo_error_set(err, EMSGSIZE, "receive fd: control message truncated");
        }
        if (nfds != 1) {
                if (fd >= 0)
                        close(fd);
                if (nfds == 0 && n == 0)
                        return silo_error_set(err, ECONNRESET, "receive fd: connection closed");
                return silo_error_set(err, 0, "receive fd: expected exactly one fd, got %d", nfds);
        }
        *ret_fd = fd;
        return 0;
}

static int connect_eintr(int sock, const struct sockaddr_un *addr)
{
        int r = connect(sock, (const struct sockaddr *)addr, sizeof(*addr));

        if (r == 0 || errno != EINTR)
                return r;
        /* An interrupted connect keeps going in the background: wait for it. */
        for (;;) {
                struct pollfd p = {.fd = sock, .events = POLLOUT};
                int soerr = 0;
                socklen_t sl = sizeof(soerr);

                r = poll(&p, 1, -1);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -1;
                if (getsockopt(sock, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
                        return -1;
                if (soerr) {
                        errno = soerr;
                        return -1;
                }
                return 0;
        }
}

int silo_unix_connect(const char *path, silo_error_t *err)
{
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        _cleanup_close_ int sock = -1, dirfd = -1;
        _cleanup_free_ char *dir = NULL;
        const char *base;
        size_t len = path ? strlen(path) : 0;

        if (len == 0)
                return silo_error_set(err, EINVAL, "connect: empty socket path");
        sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (sock < 0)
                return silo_error_set(err, errno, "connect to '%s': socket", path);

        if (len < sizeof(addr.sun_path)) {
                memcpy(addr.sun_path, path, len + 1);
        } else {
                /* sun_path is 108 bytes: reach the socket through an O_PATH fd of its directory. */
                base = strrchr(path, '/');
                if (base == NULL) {
                        dir = silo_xstrdup(".");
                        base = path;
                } else {
                        dir = base == path ? silo_xstrdup("/") : strndup(path, (size_t)(base - path));
                        if (dir == NULL)
                                return silo_error_set(err, ENOMEM, "connect to '%s'", path);
                        base++;
                }
                if (*base == '\0')
                        return silo_error_set(err, EINVAL, "connect to '%s': not a socket path", path);
                dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (dirfd < 0)
                        return silo_error_set(err, errno, "connect to '%s': open directory '%s'", path, dir);
                int w = snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/%s", dirfd, base);
                if (w < 0 || (size_t)w >= sizeof(addr.sun_path))
                        return silo_error_set(err, ENAMETOOLONG, "connect to '%s'", path);
        }
        if (connect_eintr(sock, &addr) < 0)
                return silo_error_set(err, errno, "connect to '%s'", path);
        return TAKE_FD(sock);
}

static bool is_pty_peer(const struct stat *st)
{
        return S_ISCHR(st->st_mode) && major(st->st_rdev) >= PTY_SLAVE_MAJOR_FIRST &&
               major(st->st_rdev) <= PTY_SLAVE_MAJOR_LAST;
}

/* Pre-4.13 kernels: open the peer by name, refusing symlinks and checking it is our pty. */
static int open_peer_by_name(int master, const char *ptmx, silo_error_t *err)
{
        _cleanup_close_ int peer = -1;
        char name[64];
        unsigned index;
        struct stat st;

        if (ioctl(master, TIOCGPTN, &index) < 0)
                return silo_error_set(err, errno, "pty '%s': TIOCGPTN", ptmx);
        if (ptsname_r(master, name, sizeof(name)) != 0)
                return silo_error_set(err, errno, "pty '%s': ptsname", ptmx);
        peer = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
        if (peer < 0)
                return silo_error_set(err, errno, "pty '%s': open peer '%s'", ptmx, name);
        if (fstat(peer, &st) < 0)
                return silo_error_set(err, errno, "pty '%s': stat peer '%s'", ptmx, name);
        if (!is_pty_peer(&st) ||
            (unsigned)((major(st.st_rdev) - PTY_SLAVE_MAJOR_FIRST) * 256 + minor(st.st_rdev)) != index)
                return silo_error_set(err, 0, "pty '%s': '%s' is not the peer of the new pty", ptmx, name);
        return TAKE_FD(peer);
}

int silo_pty_open(const char *ptmx, unsigned rows, unsigned cols, int *ret_master, int *ret_peer,
                  silo_error_t *err)
{
        _cleanup_close_ int master = -1, peer = -1;
        int unlock = 0;

        if (ptmx == NULL)
                ptmx = "/dev/ptmx";
        master = open(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return silo_error_set(err, errno, "open pty multiplexer '%s'", ptmx);
        if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
                return silo_error_set(err, errno, "pty '%s': unlock", ptmx);

        peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (peer < 0) {
                if (errno != EINVAL && errno != ENOTTY)
                        return silo_error_set(err, errno, "pty '%s': TIOCGPTPEER", ptmx);
                peer = open_peer_by_name(master, ptmx, err);
                if (peer < 0)
                        return peer;
        }

        if (rows || cols) {
                struct winsize ws = {0};

                if (ioctl(master, TIOCGWINSZ, &ws) < 0)
                        memset(&ws, 0, sizeof(ws));
                if (rows)
                        ws.ws_row = rows > USHRT_MAX ? USHRT_MAX : (unsigned short)rows;
                if (cols)
                        ws.ws_col = cols > USHRT_MAX ? USHRT_MAX : (unsigned short)cols;
                if (ioctl(master, TIOCSWINSZ, &ws) < 0)
                        return silo_error_set(err, errno, "pty '%s': set window size %ux%u", ptmx, rows,
                                              cols);
        }
        *ret_master = TAKE_FD(master);
        *ret_peer = TAKE_FD(peer);
        return 0;
}

int silo_pty_bind_console(int peer, silo_error_t *err)
{
        _cleanup_close_ int console = -1;
        char src[64], dst[64];
        struct stat st;

        if (fstat(peer, &st) < 0)
                return silo_error_set(err, errno, "bind console: stat pty");
        if (!is_pty_peer(&st))
                return silo_error_set(err, 0, "bind console: console is not a pty");

        console = open("/dev/console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (console < 0)
                return silo_error_set(err, errno, "bind console: open '/dev/console'");
        if (fstat(console, &st) < 0)
                return silo_error_set(err, errno, "bind console: stat '/dev/console'");
        if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
                return silo_error_set(err, 0,
                                      "bind console: '/dev/console' is not a regular file or a "
                                      "character device");

        snprintf(src, sizeof(src), "/proc/self/fd/%d", peer);
        snprintf(dst, sizeof(dst), "/proc/self/fd/%d", console);
        if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
                return silo_error_set(err, errno, "bind console: mount pty on '/dev/console'");
        return 0;
}

int silo_pty_make_controlling(int peer, silo_error_t *err)
{
        if (setsid() < 0 && !(errno == EPERM && getsid(0) == getpid()))
                return silo_error_set(err, errno, "console: setsid");
        if (ioctl(peer, TIOCSCTTY, 0) < 0)
                return silo_error_set(err, errno, "console: TIOCSCTTY");
        for (int i = 0; i <= 2; i++) {
                int r;

                if (peer == i)
                        r = fcntl(i, F_SETFD, 0); /* keep it across exec */
                else
                        r = dup3(peer, i, 0);
                if (r < 0)
                        return silo_error_set(err, errno, "console: dup pty to fd %d", i);
        }
        if (peer > 2)
                close(peer);
        return 0;
}

static int tcsetattr_eintr(int fd, const struct termios *t)
{
        int r;

        do
                r = tcsetattr(fd, TCSANOW, t);
        while (r < 0 && errno == EINTR);
        return r < 0 ? -errno : 0;
}

int silo_tty_raw(int fd, struct termios *saved)
{
        struct termios raw;

        if (tcgetattr(fd, saved) < 0)
                return -errno;
        raw = *saved;
        /* Same as containerd/console SetRaw used by runc: full raw mode, OPOST off. */
        cfmakeraw(&raw);
        raw.c_cc[VMIN] = 1;
        raw.c_cc[VTIME] = 0;
        return tcsetattr_eintr(fd, &raw);
}

void silo_tty_restore(int fd, const struct termios *saved)
{
        (void)tcsetattr_eintr(fd, saved);
}

void silo_tty_copy_winsize(int from, int to)
{
        struct winsize ws;

        if (ioctl(from, TIOCGWINSZ, &ws) < 0)
                return;
        (void)ioctl(to, TIOCSWINSZ, &ws);
}
