/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * OCI hooks (runtime-spec config.md, "POSIX-platform Hooks").
 *
 * Invariants:
 * - A hook runs with exactly h->args (or {path} when absent) and exactly h->env (an empty
 *   environment when absent), default signal dispositions and an empty signal mask (ignored
 *   signals and the mask survive execve and would otherwise leak silo's state into the hook),
 *   stdin = a pipe carrying the state JSON, stdout+stderr = one pipe silo reads, and no other
 *   fd: everything >= 3 is closed in the child before execve.
 * - The parent never blocks on the hook: the state is written and the output drained from a
 *   single poll() loop on non-blocking pipe ends.  A hook that neither reads stdin nor exits is
 *   bounded only by its timeout; one that exits without reading makes our write fail with EPIPE,
 *   which is not an error (SIGPIPE is ignored for the duration of the run, then restored).
 * - The hook is always reaped before we return, also on timeout and on internal errors, so no
 *   zombie is left.  Output is read only until the hook itself has exited: a background child
 *   it left behind may hold the pipe open forever and must not hang silo.
 * - Exec failures travel from the child as an errno over a CLOEXEC pipe: EOF on that pipe means
 *   execve succeeded.
 * - Only SIGKILL is sent on timeout, to the hook process itself (as runc does); its own
 *   children are its business.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hooks.h"
#include "log.h"
#include "util.h"

/* Bytes of hook output kept for the error message; the rest is read and discarded. */
#define HOOK_OUTPUT_MAX 4096
/* Upper bound on what is read after the hook exited (a leftover child may still write). */
#define HOOK_FINAL_DRAIN_MAX (256 * 1024)
/* Without a pidfd, poll wakes up this often to check whether the hook has exited. */
#define HOOK_POLL_FALLBACK_MS 50

struct hook_run {
        const char *path;
        pid_t pid;
        int pidfd;
        int in_w;  /* parent's end of the hook's stdin, -1 once done */
        int out_r; /* parent's end of the hook's stdout+stderr, -1 at EOF */
        const char *input;
        size_t input_len, input_off;
        char out[HOOK_OUTPUT_MAX];
        size_t out_len;
        bool out_truncated;
};

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

/* ---- child side (between fork and execve: no allocation, no stdio) ---- */

struct linux_dirent64_ {
        uint64_t d_ino;
        int64_t d_off;
        unsigned short d_reclen;
        unsigned char d_type;
        char d_name[];
};

static int close_fds_except(int keep)
{
        int dfd;

#ifdef SYS_close_range
        /* close_range(2): Linux 5.9. */
        if ((keep == 3 || syscall(SYS_close_range, 3U, (unsigned)keep - 1, 0U) == 0) &&
            syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0U) == 0)
                return 0;
        if (errno != ENOSYS && errno != EINVAL)
                return -1;
#endif
        /* Older kernels: walk /proc/self/fd.  The directory offset is the fd number, so closing
         * entries while iterating does not skip any. */
        dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
                char buf[4096] __attribute__((aligned(8)));
                long n;

                while ((n = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
                        for (long off = 0; off < n;) {
                                struct linux_dirent64_ *d = (struct linux_dirent64_ *)(buf + off);
                                int fd = 0;
                                bool num = d->d_name[0] != '\0';

                                for (const char *p = d->d_name; *p; p++) {
                                        if (*p < '0' || *p > '9' || fd > INT_MAX / 10 - 1) {
                                                num = false;
                                                break;
                                        }
                                        fd = fd * 10 + (*p - '0');
                                }
                                if (num && fd >= 3 && fd != keep && fd != dfd)
                                        close(fd);
                                off += d->d_reclen;
                        }
                }
                close(dfd);
                if (n == 0)
                        return 0;
        }
        /* No /proc either: brute force up to the fd limit. */
        long max = sysconf(_SC_OPEN_MAX);
        if (max < 0 || max > INT_MAX)
                max = 65536;
        for (int fd = 3; fd < max; fd++)
                if (fd != keep)
                        close(fd);
        return 0;
}

static _Noreturn void hook_child(int in_r, int out_w, int err_w, const char *path, char *const argv[],
                                 char *const envp[])
{
        struct sigaction sa = {.sa_handler = SIG_DFL};
        int in_hi, out_hi, err_hi, e;
        sigset_t none;

        sigemptyset(&sa.sa_mask);
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        sigaction(sig, &sa, NULL); /* EINVAL for glibc-reserved RT signals: fine */
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* a hook must not outlive a silo that was killed while waiting for it */
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

        /* Move every end we need above 2 first: if silo was started with 0/1/2 closed, pipe()
         * may have returned them, and a naive dup2 order would clobber one with another. */
        err_hi = fcntl(err_w, F_DUPFD_CLOEXEC, 3);
        if (err_hi < 0)
                goto fail;
        err_w = err_hi;
        in_hi = fcntl(in_r, F_DUPFD_CLOEXEC, 3);
        out_hi = fcntl(out_w, F_DUPFD_CLOEXEC, 3);
        if (in_hi < 0 || out_hi < 0)
                goto fail;
        /* dup2 to a different fd clears FD_CLOEXEC on the target. */
        if (dup2(in_hi, 0) < 0 || dup2(out_hi, 1) < 0 || dup2(out_hi, 2) < 0)
                goto fail;
        if (close_fds_except(err_w) < 0)
                goto fail;
        execve(path, argv, envp);
fail:
        e = errno;
        while (write(err_w, &e, sizeof(e)) < 0 && errno == EINTR)
                ;
        _exit(127);
}

/* ---- parent side ---- */

static void keep_output(struct hook_run *r, const char *p, size_t n)
{
        size_t room = sizeof(r->out) - r->out_len;
        size_t k = n < room ? n : room;

        memcpy(r->out + r->out_len, p, k);
        r->out_len += k;
        if (k < n)
                r->out_truncated = true;
}

/* Read up to `budget` bytes without blocking.  Returns 1 at EOF (and closes out_r), 0 when the
 * pipe is empty or the budget is used, -errno on error. */
static int read_output(struct hook_run *r, size_t budget)
{
        char tmp[4096];

        while (r->out_r >= 0 && budget > 0) {
                ssize_t n = read(r->out_r, tmp, sizeof(tmp));

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 0;
                        return -errno;
                }
                if (n == 0) {
                        close_fd(&r->out_r);
                        return 1;
                }
                keep_output(r, tmp, (size_t)n);
                budget = (size_t)n < budget ? budget - (size_t)n : 0;
        }
        return 0;
}

/* Write as much of the state as the pipe takes.  EPIPE means the hook closed its stdin (or
 * exited) without reading everything: allowed, we just stop. */
static int feed_input(struct hook_run *r)
{
        while (r->in_w >= 0 && r->input_off < r->input_len) {
                ssize_t n = write(r->in_w, r->input + r->input_off, r->input_len - r->input_off);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 0;
                        if (errno == EPIPE) {
                                close_fd(&r->in_w);
                                return 0;
                        }
                        return -errno;
                }
                r->input_off += (size_t)n;
        }
        close_fd(&r->in_w); /* EOF for the hook */
        return 0;
}

static pid_t waitpid_eintr(pid_t pid, int *status, int flags)
{
        pid_t w;

        do
                w = waitpid(pid, status, flags);
        while (w < 0 && errno == EINTR);
        return w;
}

/* Printable, single-line rendering of the captured output for an error message. */
static char *format_output(const char *p, size_t len, bool truncated)
{
        struct silo_buf b = {0};
        bool pending_nl = false;
        size_t i = 0;

        while (len > 0 && isspace((unsigned char)p[len - 1]))
                len--;
        while (i < len && isspace((unsigned char)p[i]))
                i++;
        for (; i < len; i++) {
                unsigned char c = (unsigned char)p[i];

                if (c == '\n' || c == '\r') {
                        pending_nl = true;
                        continue;
                }
                if (pending_nl) {
                        silo_buf_puts(&b, "; ");
                        pending_nl = false;
                }
                silo_buf_putc(&b, (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c);
        }
        if (truncated)
                silo_buf_puts(&b, "...");
        if (b.data == NULL)
                b.data = silo_xstrdup("");
        return b.data;
}

/* Make sure waitpid() can see our child: with SIGCHLD ignored (or SA_NOCLDWAIT) the kernel
 * reaps it itself and waitpid fails with ECHILD. */
static bool sigchld_fixup(struct sigaction *old)
{
        struct sigaction dfl = {.sa_handler = SIG_DFL};

        if (sigaction(SIGCHLD, NULL, old) < 0)
                return false;
        if (old->sa_handler != SIG_IGN && !(old->sa_flags & SA_NOCLDWAIT))
                return false;
        sigemptyset(&dfl.sa_mask);
        sigaction(SIGCHLD, &dfl, NULL);
        return true;
}

int silo_hook_run(const struct silo_hook *h, const char *state_json, silo_error_t *err)
{
        char *default_argv[2] = {NULL, NULL};
        char *empty_env[1] = {NULL};
        char *const *argv, *const *envp;
        _cleanup_close_ int in_r = -1, out_w = -1, err_r = -1, err_w = -1;
        struct sigaction old_pipe, old_chld, ign = {.sa_handler = SIG_IGN};
        _cleanup_free_ struct hook_run *r = NULL;
        _cleanup_free_ char *text = NULL;
        bool exited = false, timed_out = false, chld_fixed;
        int p[2], status = 0, loop_err = 0, exec_errno = 0;
        const char *loop_what = NULL;
        int64_t deadline = 0;
        ssize_t n;

        if (h == NULL || h->path == NULL || h->path[0] == '\0')
                return silo_error_set(err, EINVAL, "hook: missing 'path'");

        argv = h->args && h->args[0] ? h->args : default_argv;
        default_argv[0] = h->path;
        envp = h->env ? h->env : empty_env;

        r = silo_xmalloc0(sizeof(*r));
        r->path = h->path;
        r->pid = -1;
        r->pidfd = r->in_w = r->out_r = -1;
        r->input = state_json ? state_json : "";
        r->input_len = strlen(r->input);

        if (pipe2(p, O_CLOEXEC) < 0)
                return silo_error_set(err, errno, "hook '%s': pipe", h->path);
        in_r = p[0];
        r->in_w = p[1];
        if (pipe2(p, O_CLOEXEC) < 0) {
                close_fd(&r->in_w);
                return silo_error_set(err, errno, "hook '%s': pipe", h->path);
        }
        r->out_r = p[0];
        out_w = p[1];
        if (pipe2(p, O_CLOEXEC) < 0) {
                close_fd(&r->in_w);
                close_fd(&r->out_r);
                return silo_error_set(err, errno, "hook '%s': pipe", h->path);
        }
        err_r = p[0];
        err_w = p[1];
        /* O_NONBLOCK is per open file description: only the parent's ends get it. */
        if (fcntl(r->in_w, F_SETFL, O_NONBLOCK) < 0 || fcntl(r->out_r, F_SETFL, O_NONBLOCK) < 0 ||
            fcntl(err_r, F_SETFL, O_NONBLOCK) < 0) {
                close_fd(&r->in_w);
                close_fd(&r->out_r);
                return silo_error_set(err, errno, "hook '%s': fcntl", h->path);
        }

        chld_fixed = sigchld_fixup(&old_chld);
        r->pid = fork();
        if (r->pid < 0) {
                int e = errno;
                if (chld_fixed)
                        sigaction(SIGCHLD, &old_chld, NULL);
                close_fd(&r->in_w);
                close_fd(&r->out_r);
                return silo_error_set(err, e, "hook '%s': fork", h->path);
        }
        if (r->pid == 0)
                hook_child(in_r, out_w, err_w, h->path, argv, envp);

        close_fd(&in_r);
        close_fd(&out_w);
        close_fd(&err_w);

        sigemptyset(&ign.sa_mask);
        sigaction(SIGPIPE, &ign, &old_pipe);

#ifdef SYS_pidfd_open
        /* pidfd (Linux 5.3) lets poll() wake up exactly when the hook exits. */
        r->pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
#endif
        if (h->timeout != SILO_UNSET && h->timeout > 0) {
                int64_t t = h->timeout > INT32_MAX ? INT32_MAX : h->timeout;
                deadline = now_ms() + t * 1000;
        }
        if (r->input_len == 0)
                close_fd(&r->in_w);

        for (;;) {
                struct pollfd pfd[3];
                int np = 0, i_out = -1, i_in = -1, timeout_ms = -1, k;
                pid_t w = waitpid_eintr(r->pid, &status, WNOHANG);

                if (w == r->pid) {
                        exited = true;
                        break;
                }
                if (w < 0) {
                        loop_err = errno;
                        loop_what = "waitpid";
                        break;
                }
                if (deadline) {
                        int64_t left = deadline - now_ms();
                        if (left <= 0) {
                                timed_out = true;
                                break;
                        }
                        timeout_ms = left > INT_MAX ? INT_MAX : (int)left;
                }
                if (r->out_r >= 0) {
                        i_out = np;
                        pfd[np++] = (struct pollfd){.fd = r->out_r, .events = POLLIN};
                }
                if (r->in_w >= 0) {
                        i_in = np;
                        pfd[np++] = (struct pollfd){.fd = r->in_w, .events = POLLOUT};
                }
                if (r->pidfd >= 0)
                        pfd[np++] = (struct pollfd){.fd = r->pidfd, .events = POLLIN};
                else if (timeout_ms < 0 || timeout_ms > HOOK_POLL_FALLBACK_MS)
                        timeout_ms = HOOK_POLL_FALLBACK_MS;

                k = poll(pfd, (nfds_t)np, timeout_ms);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        loop_err = errno;
                        loop_what = "poll";
                        break;
                }
                if (i_out >= 0 && pfd[i_out].revents) {
                        /* One chunk per wakeup so a flood of output cannot starve the deadline. */
                        k = read_output(r, sizeof(r->out));
                        if (k < 0) {
                                loop_err = -k;
                                loop_what = "read output";
                                break;
                        }
                }
                if (i_in >= 0 && pfd[i_in].revents) {
                        k = feed_input(r);
                        if (k < 0) {
                                loop_err = -k;
                                loop_what = "write state";
                                break;
                        }
                }
        }

        if (!exited) {
                /* Timeout or internal error: never leave the hook running or unreaped. */
                kill(r->pid, SIGKILL);
                if (waitpid_eintr(r->pid, &status, 0) == r->pid)
                        exited = true;
        }
        if (r->out_r >= 0)
                (void)read_output(r, HOOK_FINAL_DRAIN_MAX);

        sigaction(SIGPIPE, &old_pipe, NULL);
        if (chld_fixed)
                sigaction(SIGCHLD, &old_chld, NULL);
        close_fd(&r->in_w);
        close_fd(&r->out_r);
        close_fd(&r->pidfd);

        do
                n = read(err_r, &exec_errno, sizeof(exec_errno));
        while (n < 0 && errno == EINTR);
        if (n != (ssize_t)sizeof(exec_errno))
                exec_errno = 0;

        if (exec_errno != 0)
                return silo_error_set(err, exec_errno, "hook '%s': exec", h->path);
        if (loop_what)
                return silo_error_set(err, loop_err, "hook '%s': %s", h->path, loop_what);

        text = format_output(r->out, r->out_len, r->out_truncated);
        if (timed_out)
                return silo_error_set(err, 0, "hook '%s': timed out after %llds%s%s", h->path,
                                      (long long)h->timeout, *text ? ": " : "", text);
        if (!exited)
                return silo_error_set(err, ECHILD, "hook '%s': waitpid", h->path);
        if (WIFSIGNALED(status))
                return silo_error_set(err, 0, "hook '%s': killed by signal %d%s%s", h->path, WTERMSIG(status),
                                      *text ? ": " : "", text);
        if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
                return silo_error_set(err, 0, "hook '%s': exited with status %d%s%s", h->path,
                                      WEXITSTATUS(status), *text ? ": " : "", text);
        if (*text)
                silo_debug("hook '%s' output: %s", h->path, text);
        return 0;
}

int silo_hooks_run(const struct silo_spec *spec, enum silo_hook_kind kind, const char *state_json,
                   silo_error_t *err)
{
        if (spec == NULL)
                return 0;
        if ((int)kind < 0 || kind >= _SILO_HOOK_MAX)
                return silo_error_set(err, EINVAL, "unknown hook kind %d", (int)kind);
        for (size_t i = 0; i < spec->n_hooks[kind]; i++) {
                int r = silo_hook_run(&spec->hooks[kind][i], state_json, err);
                if (r < 0)
                        return silo_error_wrap(err, "%s hook #%zu", silo_hook_kind_name(kind), i);
        }
        return 0;
}
