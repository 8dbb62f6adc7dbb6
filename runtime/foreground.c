/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Foreground processes and signals: what `run`, `restore` (without --detach) and `exec` share
 * once the process exists - forward every signal to it, copy its terminal, reap it and turn its
 * wait status into the exit code runc gives (128+N for a signal) - and the signal names that
 * `kill` accepts.
 */
#include "config.h"
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include "container-internal.h"
#include "terminal.h"
#include "util.h"

static int exit_status(int wstatus)
{
        if (WIFEXITED(wstatus))
                return WEXITSTATUS(wstatus);
        if (WIFSIGNALED(wstatus))
                return 128 + WTERMSIG(wstatus);
        return 255;
}

/* Every signal a foreground run/exec forwards (all but the synchronous fault signals). */
void silo_forwarded_signals(sigset_t *mask)
{
        sigfillset(mask);
        sigdelset(mask, SIGSEGV);
        sigdelset(mask, SIGBUS);
        sigdelset(mask, SIGILL);
        sigdelset(mask, SIGFPE);
}

void silo_copy_fd(int from, int to, bool *eof)
{
        char buf[8192];
        ssize_t n = read(from, buf, sizeof(buf));
        if (n <= 0) {
                if (n == 0 || (errno != EINTR && errno != EAGAIN))
                        *eof = true;
                return;
        }
        (void)silo_write_all(to, buf, (size_t)n);
}

/*
 * Foreground: forward signals to the init, copy terminal I/O, and reap.  We are a subreaper, so
 * the init is our child even when the slow path forked it from an intermediate.
 */
int silo_foreground_wait(struct silo_container *c, const sigset_t *mask, int *ret_status, silo_error_t *err)
{
        _cleanup_close_ int sfd = signalfd(-1, mask, SFD_CLOEXEC);
        struct termios saved;
        bool raw = false, in_eof = false, out_eof = false;
        int status = -1;

        if (sfd < 0)
                return silo_error_set(err, errno, "signalfd");
        if (c->pty_master >= 0) {
                raw = isatty(STDIN_FILENO) && silo_tty_raw(STDIN_FILENO, &saved) == 0;
                silo_tty_copy_winsize(STDIN_FILENO, c->pty_master);
        }
        while (status < 0) {
                struct pollfd pfd[3] = {{sfd, POLLIN, 0}, {c->pty_master, POLLIN, 0},
                                        {in_eof ? -1 : STDIN_FILENO, POLLIN, 0}};
                nfds_t nfds = c->pty_master >= 0 ? 3 : 1;

                if (poll(pfd, nfds, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (pfd[0].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
                                if (si.ssi_signo == SIGCHLD) {
                                        int ws;
                                        pid_t p;
                                        /* as a subreaper we may also reap orphans: only the
                                         * init's status counts */
                                        while ((p = waitpid(-1, &ws, WNOHANG)) > 0)
                                                if (p == c->pid)
                                                        status = exit_status(ws);
                                } else if (si.ssi_signo == SIGWINCH) {
                                        if (c->pty_master >= 0)
                                                silo_tty_copy_winsize(STDIN_FILENO, c->pty_master);
                                } else {
                                        kill(c->pid, (int)si.ssi_signo);
                                }
                        }
                }
                if (nfds > 1 && (pfd[1].revents & (POLLIN | POLLHUP)) && !out_eof)
                        silo_copy_fd(c->pty_master, STDOUT_FILENO, &out_eof);
                if (nfds > 2 && (pfd[2].revents & (POLLIN | POLLHUP)))
                        silo_copy_fd(STDIN_FILENO, c->pty_master, &in_eof);
        }
        /* the init is gone: drain what it (or its children) left in the pty */
        while (c->pty_master >= 0 && !out_eof) {
                struct pollfd pfd = {c->pty_master, POLLIN, 0};
                if (poll(&pfd, 1, 100) <= 0)
                        break;
                silo_copy_fd(c->pty_master, STDOUT_FILENO, &out_eof);
        }
        if (raw)
                silo_tty_restore(STDIN_FILENO, &saved);
        *ret_status = status < 0 ? 255 : status;
        return 0;
}

/* ---- signals ----------------------------------------------------------------------------- */

int silo_parse_signal(const char *s)
{
        uint64_t n;
        char up[32];
        size_t i;

        if (s == NULL || *s == '\0')
                return SIGTERM;
        if (silo_parse_u64(s, &n) == 0)
                return n > 0 && n < (uint64_t)_NSIG ? (int)n : -1;
        for (i = 0; s[i] && i < sizeof(up) - 1; i++)
                up[i] = (char)((s[i] >= 'a' && s[i] <= 'z') ? s[i] - 32 : s[i]);
        up[i] = '\0';
        const char *name = silo_str_has_prefix(up, "SIG") ? up + 3 : up;
        if (silo_str_has_prefix(name, "RTMIN") || silo_str_has_prefix(name, "RTMAX")) {
                int64_t off = 0;
                const char *rest = name + 5;
                if (*rest && (silo_parse_i64(rest, &off) < 0))
                        return -1;
                int sig = name[4] == 'N' ? SIGRTMIN + (int)off : SIGRTMAX + (int)off;
                return sig >= SIGRTMIN && sig <= SIGRTMAX ? sig : -1;
        }
        for (int sig = 1; sig < SIGRTMIN; sig++) {
                const char *abbrev = sigabbrev_np(sig);
                if (abbrev && strcmp(abbrev, name) == 0)
                        return sig;
        }
        return -1;
}
