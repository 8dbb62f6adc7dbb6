/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for runtime/terminal.c: SCM_RIGHTS framing, long socket paths, ptys, raw mode. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/terminal.h"
#include "runtime/util.h"
#include "tests/unit/tap.h"

static int count_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        int n = 0;

        if (!d)
                return -1;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n - 1; /* the DIR's own fd */
}

static bool same_file(int a, int b)
{
        struct stat sa, sb;
        return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino &&
               sa.st_rdev == sb.st_rdev;
}

static bool cloexec(int fd)
{
        int f = fcntl(fd, F_GETFD);
        return f >= 0 && (f & FD_CLOEXEC);
}

/* Read from fd until `want` is seen or 2 s pass; returns what was read. */
static void read_until(int fd, const char *want, char *buf, size_t n)
{
        size_t len = 0;

        buf[0] = '\0';
        while (len + 1 < n && !strstr(buf, want)) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                ssize_t r;

                if (poll(&p, 1, 2000) <= 0)
                        break;
                r = read(fd, buf + len, n - 1 - len);
                if (r <= 0)
                        break;
                len += (size_t)r;
                buf[len] = '\0';
        }
}

static void test_pty_open(void)
{
        int master = -1, peer = -1;
        silo_error_t e = NULL;
        struct winsize ws = {0};
        struct stat st;
        char buf[256];

        is_int(silo_pty_open("/dev/ptmx", 24, 80, &master, &peer, &e), 0, "pty_open on /dev/ptmx");
        ok(master >= 0 && peer >= 0, "got master %d and peer %d", master, peer);
        ok(cloexec(master) && cloexec(peer), "both are O_CLOEXEC");
        ok(fstat(peer, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) >= 136 &&
               major(st.st_rdev) <= 143,
           "peer is a pty slave device");
        ok(ioctl(peer, TIOCGWINSZ, &ws) == 0 && ws.ws_row == 24 && ws.ws_col == 80,
           "window size applied (%ux%u)", ws.ws_row, ws.ws_col);
        ok(write(peer, "hello\n", 6) == 6, "write to peer");
        read_until(master, "hello", buf, sizeof(buf));
        ok(strstr(buf, "hello") != NULL, "read it back from the master");
        close(master);
        close(peer);

        is_int(silo_pty_open("/dev/ptmx", 0, 0, &master, &peer, &e), 0, "pty_open without a size");
        close(master);
        close(peer);

        ok(silo_pty_open("/nonexistent/ptmx", 0, 0, &master, &peer, &e) < 0, "missing ptmx fails");
        ok(e && strstr(e->msg, "/nonexistent/ptmx"), "error names the path");
        silo_error_free(&e);

        ok(silo_pty_open("/dev/null", 0, 0, &master, &peer, &e) < 0, "a non-ptmx device is refused");
        silo_error_free(&e);
}

static void test_send_recv(void)
{
        int sv[2], master = -1, peer = -1, got = -1, before, after;
        silo_error_t e = NULL;
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int) * 4)];
        } ctl;
        char payload[4096];
        struct iovec iov = {.iov_base = payload, .iov_len = sizeof(payload)};
        struct msghdr msg = {0};
        struct cmsghdr *c;
        ssize_t n;
        int ncmsg = 0;

        ok(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
        is_int(silo_pty_open("/dev/ptmx", 0, 0, &master, &peer, &e), 0, "pty for passing");

        /* Receive with the same checks as go-runc's recvFd. */
        is_int(silo_send_fd(sv[0], master, "/dev/ptmx", &e), 0, "send master");
        memset(&ctl, 0, sizeof(ctl));
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = ctl.buf;
        msg.msg_controllen = sizeof(ctl.buf);
        before = count_fds();
        n = recvmsg(sv[1], &msg, MSG_CMSG_CLOEXEC);
        after = count_fds();
        ok(n > 0 && n < 4096, "payload is short and non-empty (%zd)", n);
        ok(n == 9 && memcmp(payload, "/dev/ptmx", 9) == 0, "payload is the name");
        is_int(msg.msg_controllen, CMSG_SPACE(sizeof(int)), "oobn == CMSG_SPACE(4) (go-runc)");
        for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                ncmsg++;
                ok(c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS, "cmsg is SCM_RIGHTS");
                is_int(c->cmsg_len, CMSG_LEN(sizeof(int)), "exactly one fd in the cmsg");
                memcpy(&got, CMSG_DATA(c), sizeof(int));
        }
        is_int(ncmsg, 1, "exactly one cmsg");
        is_int(after - before, 1, "exactly one fd arrived");
        ok(got >= 0 && same_file(got, master), "received fd is the pty master");
        if (got >= 0)
                close(got);
        got = -1;

        /* And with our own receiver. */
        is_int(silo_send_fd(sv[0], master, " ", &e), 0, "send master again (crun-style payload)");
        before = count_fds();
        is_int(silo_recv_fd(sv[1], &got, &e), 0, "silo_recv_fd");
        after = count_fds();
        is_int(after - before, 1, "silo_recv_fd: exactly one new fd");
        ok(got >= 0 && same_file(got, master) && cloexec(got), "received master, O_CLOEXEC");
        ok(got >= 0 && write(peer, "x\n", 2) == 2, "received master works");
        if (got >= 0) {
                char buf[64];
                read_until(got, "x", buf, sizeof(buf));
                ok(strchr(buf, 'x') != NULL, "data readable through the received master");
                close(got);
        }

        /* No fd: an error, not a bogus fd. */
        ok(write(sv[0], "plain", 5) == 5, "send data without fd");
        got = -1;
        ok(silo_recv_fd(sv[1], &got, &e) < 0 && got == -1, "recv without fd fails");
        silo_error_free(&e);

        ok(silo_send_fd(sv[0], master, "", &e) < 0, "empty payload refused");
        silo_error_free(&e);

        close(sv[0]);
        ok(silo_recv_fd(sv[1], &got, &e) < 0, "recv on closed peer fails");
        silo_error_free(&e);
        close(sv[1]);
        close(master);
        close(peer);
}

/* bind() counterpart of the long-path trick, for the test's listener. */
static int listen_at(const char *dir, const char *name)
{
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        snprintf(a.sun_path, sizeof(a.sun_path), "/proc/self/fd/%d/%s", dfd, name);
        if (dfd < 0 || s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 4) < 0) {
                perror("listen_at");
                s = -1;
        }
        if (dfd >= 0)
                close(dfd);
        return s;
}

static void test_long_socket_path(void)
{
        char base[] = "/tmp/silo-test-term.XXXXXX";
        char dir[512], path[600];
        int lsock, c, a, master = -1, peer = -1, got = -1;
        silo_error_t e = NULL;

        ok(mkdtemp(base) != NULL, "tmpdir");
        snprintf(dir, sizeof(dir), "%s/%s", base,
                 "a-rather-long-directory-name-0123456789/another-long-directory-name-0123456789");
        {
                char sub[512];
                snprintf(sub, sizeof(sub), "%s/a-rather-long-directory-name-0123456789", base);
                mkdir(sub, 0700);
                mkdir(dir, 0700);
        }
        snprintf(path, sizeof(path), "%s/console.sock", dir);
        ok(strlen(path) > 108, "socket path is %zu bytes (> sun_path)", strlen(path));
        lsock = listen_at(dir, "console.sock");
        ok(lsock >= 0, "listener bound through an O_PATH dir");

        c = silo_unix_connect(path, &e);
        ok(c >= 0, "silo_unix_connect to the long path");
        if (c < 0 && e)
                printf("# %s\n", e->msg);
        silo_error_free(&e);
        ok(c >= 0 && cloexec(c), "connected socket is O_CLOEXEC");
        a = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
        ok(a >= 0, "accepted");

        is_int(silo_pty_open("/dev/ptmx", 0, 0, &master, &peer, &e), 0, "pty");
        is_int(silo_send_fd(c, master, "/dev/ptmx", &e), 0, "send master over the console socket");
        is_int(silo_recv_fd(a, &got, &e), 0, "receive it");
        ok(same_file(got, master), "same pty master");
        close(got);
        close(master);
        close(peer);
        close(a);
        close(c);

        /* Short path still goes the direct way. */
        {
                char sp[128];
                int l2, c2;

                snprintf(sp, sizeof(sp), "%s/s", base);
                l2 = listen_at(base, "s");
                c2 = silo_unix_connect(sp, &e);
                ok(l2 >= 0 && c2 >= 0, "short path connects");
                silo_error_free(&e);
                if (c2 >= 0)
                        close(c2);
                if (l2 >= 0)
                        close(l2);
                unlink(sp);
        }
        ok(silo_unix_connect("/nonexistent-dir/x.sock", &e) < 0, "missing socket fails");
        ok(e && strstr(e->msg, "/nonexistent-dir/x.sock"), "error names the path");
        silo_error_free(&e);
        ok(silo_unix_connect("", &e) < 0, "empty path refused");
        silo_error_free(&e);

        close(lsock);
        silo_rm_rf_at(AT_FDCWD, base);
}

static void test_raw_restore(void)
{
        int master = -1, peer = -1, m2 = -1, p2 = -1, pp[2];
        silo_error_t e = NULL;
        struct termios saved, now, after;
        struct winsize ws = {0};

        is_int(silo_pty_open("/dev/ptmx", 30, 100, &master, &peer, &e), 0, "pty for raw mode");
        ok(tcgetattr(peer, &now) == 0 && (now.c_lflag & ICANON) && (now.c_lflag & ECHO), "starts cooked");
        is_int(silo_tty_raw(peer, &saved), 0, "raw mode");
        ok(tcgetattr(peer, &now) == 0, "tcgetattr");
        ok(!(now.c_lflag & (ICANON | ECHO | ISIG)) && !(now.c_oflag & OPOST) && !(now.c_iflag & ICRNL),
           "raw: no ICANON/ECHO/ISIG/OPOST/ICRNL");
        ok((now.c_cflag & CSIZE) == CS8 && now.c_cc[VMIN] == 1 && now.c_cc[VTIME] == 0, "raw: CS8, VMIN 1");
        silo_tty_restore(peer, &saved);
        ok(tcgetattr(peer, &after) == 0 && after.c_lflag == saved.c_lflag && after.c_iflag == saved.c_iflag &&
               after.c_oflag == saved.c_oflag && after.c_cflag == saved.c_cflag,
           "restore gives back the saved settings");
        ok(silo_tty_raw(-1, &saved) < 0, "raw on a bad fd fails");

        /* Window size copy (SIGWINCH forwarding). */
        is_int(silo_pty_open("/dev/ptmx", 0, 0, &m2, &p2, &e), 0, "second pty");
        silo_tty_copy_winsize(peer, m2);
        ok(ioctl(p2, TIOCGWINSZ, &ws) == 0 && ws.ws_row == 30 && ws.ws_col == 100, "winsize copied (%ux%u)",
           ws.ws_row, ws.ws_col);
        ok(pipe2(pp, O_CLOEXEC) == 0, "pipe");
        silo_tty_copy_winsize(pp[0], m2); /* not a tty: ignored */
        ok(ioctl(p2, TIOCGWINSZ, &ws) == 0 && ws.ws_row == 30, "non-tty source ignored");
        close(pp[0]);
        close(pp[1]);
        close(m2);
        close(p2);
        close(master);
        close(peer);
}

static void test_make_controlling(void)
{
        int master = -1, peer = -1, status = 0;
        silo_error_t e = NULL;
        pid_t pid;

        is_int(silo_pty_open("/dev/ptmx", 0, 0, &master, &peer, &e), 0, "pty for controlling terminal");
        pid = fork();
        if (pid == 0) {
                struct stat s0, s1, s2, sp;
                int fl;

                fstat(peer, &sp);
                if (silo_pty_make_controlling(peer, &e) < 0)
                        _exit(10);
                if (fcntl(peer, F_GETFD) >= 0)
                        _exit(11); /* original peer (> 2) must be closed */
                if (fstat(0, &s0) < 0 || fstat(1, &s1) < 0 || fstat(2, &s2) < 0)
                        _exit(12);
                if (s0.st_rdev != sp.st_rdev || s1.st_rdev != sp.st_rdev || s2.st_rdev != sp.st_rdev)
                        _exit(13);
                if (tcgetsid(0) != getpid() || getsid(0) != getpid())
                        _exit(14);
                fl = fcntl(1, F_GETFD);
                if (fl < 0 || (fl & FD_CLOEXEC))
                        _exit(15);
                _exit(0);
        }
        ok(pid > 0, "fork");
        waitpid(pid, &status, 0);
        ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "child: session leader, pty is the controlling tty and fds 0-2 (status %d)",
           WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        close(master);
        close(peer);
}

/* Runs in a private mount namespace (forked child): tmpfs on /dev with a console placeholder. */
static int bind_console_child(bool symlink_console)
{
        silo_error_t e = NULL;
        struct stat st, sp;
        int r, master = -1, peer = -1;

        if (unshare(CLONE_NEWNS) < 0)
                return 77;
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return 20;
        /* Open the pty after unshare: a bind mount source must be a mount of our namespace,
         * as it is in the container (the pty comes from its own /dev/pts/ptmx). */
        if (silo_pty_open("/dev/ptmx", 0, 0, &master, &peer, &e) < 0)
                return 19;
        if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID, "mode=755") < 0)
                return 21;
        if (symlink_console) {
                int fd = open("/dev/target", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
                close(fd);
                if (symlink("/dev/target", "/dev/console") < 0)
                        return 22;
                r = silo_pty_bind_console(peer, &e);
                silo_error_free(&e);
                if (r >= 0)
                        return 23;
                /* target must be untouched: still a regular file */
                if (stat("/dev/target", &st) < 0 || !S_ISREG(st.st_mode))
                        return 24;
                return 0;
        }
        int fd = open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0)
                return 25;
        close(fd);
        r = silo_pty_bind_console(peer, &e);
        if (r < 0) {
                printf("# %s\n", e->msg);
                fflush(stdout); /* the child leaves with _exit() */
                return 26;
        }
        if (stat("/dev/console", &st) < 0 || fstat(peer, &sp) < 0)
                return 27;
        if (!S_ISCHR(st.st_mode) || st.st_rdev != sp.st_rdev)
                return 28;
        return 0;
}

static void test_bind_console(void)
{
        int master = -1, peer = -1, pp[2];
        silo_error_t e = NULL;

        is_int(silo_pty_open("/dev/ptmx", 0, 0, &master, &peer, &e), 0, "pty for /dev/console");
        fflush(stdout);
        for (int sym = 0; sym <= 1; sym++) {
                int status = 0;
                pid_t pid = fork();

                if (pid == 0)
                        _exit(bind_console_child(sym));
                waitpid(pid, &status, 0);
                if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
                        ok(1, "# SKIP cannot unshare a mount namespace");
                        continue;
                }
                ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s (status %d)",
                   sym ? "symlinked /dev/console is refused and its target untouched"
                       : "pty peer bind-mounted on /dev/console",
                   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        }
        /* Only a pty peer may become the console. */
        ok(pipe2(pp, O_CLOEXEC) == 0, "pipe");
        ok(silo_pty_bind_console(pp[0], &e) < 0 && e && strstr(e->msg, "not a pty"), "non-pty refused");
        silo_error_free(&e);
        close(pp[0]);
        close(pp[1]);
        close(master);
        close(peer);
}

int main(void)
{
        signal(SIGPIPE, SIG_IGN);
        if (access("/dev/ptmx", R_OK | W_OK) < 0)
                skip_all("no /dev/ptmx");
        test_pty_open();
        test_send_recv();
        test_long_socket_path();
        test_raw_restore();
        test_make_controlling();
        test_bind_console();
        return done();
}
