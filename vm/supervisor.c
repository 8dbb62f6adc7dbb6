/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The per-container supervisor of the VM sandbox: a process forked by `silo create|run` that
 * outlives it (runc semantics: the container outlives the runtime call).  It
 *   1. forks the VMM (qemu) into the container's cgroup, its end of the agent channel as fd 3;
 *   2. sends CONFIG and waits for READY (or ERROR, the VMM's death, the boot timeout), then
 *      tells silo "R<vmm pid>" or "E<message>" on the notify pipe;
 *   3. blocks in open(exec.fifo, O_WRONLY) exactly like a namespace container's init, so
 *      `start` (container.c: release_init) works unchanged, then sends START;
 *   4. relays its stdin/stdout/stderr (the caller's, as runc's init would have them) to/from
 *      the agent, forwards every signal it receives as a SIGNAL frame (`silo kill` signals the
 *      supervisor; SIGKILL goes to the VMM instead), and on EXIT stops the VMM and exits with
 *      the container's status (a foreground `run` waits for exactly that).
 *
 * Invariants: the supervisor holds no flock (it opens its own state dir fd, never the locked
 * one) and no file in the state dir except the fifo it opens; when the VMM dies it exits, so
 * `delete` (SIGKILL to the VMM) ends both.  Before START only SIGCHLD/SIGALRM are unblocked
 * (they interrupt the fifo open so a dead VMM is noticed); afterwards signals come via signalfd.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "../cgroups/cgroup.h"
#include "../runtime/util.h"
#include "proto.h"
#include "supervisor.h"

static pid_t vmm = -1;

static void on_signal(int sig)
{
        (void)sig;
}

static int send_frame(int fd, uint32_t type, const void *data, uint32_t len)
{
        struct silo_vm_hdr h = {type, len};
        char *buf = silo_xmalloc0(sizeof(h) + len);
        int r;

        memcpy(buf, &h, sizeof(h));
        if (len)
                memcpy(buf + sizeof(h), data, len);
        r = silo_write_all(fd, buf, sizeof(h) + len);
        free(buf);
        return r;
}

static bool read_full(int fd, void *buf, size_t n)
{
        char *p = buf;
        while (n > 0) {
                ssize_t k = read(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return false;
                p += k;
                n -= (size_t)k;
        }
        return true;
}

/* One frame (payload NUL-terminated), or NULL when the channel is closed or garbled. */
static char *read_frame(int fd, struct silo_vm_hdr *h)
{
        char *buf;

        if (!read_full(fd, h, sizeof(*h)) || h->len > SILO_VM_MAX_FRAME)
                return NULL;
        buf = silo_xmalloc0(h->len + 1);
        if (!read_full(fd, buf, h->len)) {
                free(buf);
                return NULL;
        }
        return buf;
}

static __attribute__((noreturn)) void stop_vmm_and_exit(int status)
{
        if (vmm > 0) {
                kill(vmm, SIGKILL);
                while (waitpid(vmm, NULL, 0) < 0 && errno == EINTR)
                        ;
        }
        _exit(status);
}

static void notify_error(int notify, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void notify_error(int notify, const char *fmt, ...)
{
        char msg[2048];
        va_list ap;

        msg[0] = 'E';
        va_start(ap, fmt);
        vsnprintf(msg + 1, sizeof(msg) - 1, fmt, ap);
        va_end(ap);
        (void)silo_write_all(notify, msg, strlen(msg));
}

/* The last line of a file (qemu's log: its own reason for failing; else the guest console). */
static bool last_line(const char *path, char *out, size_t n)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;
        silo_error_t e = NULL;

        if (silo_read_file_at(AT_FDCWD, path, 8u << 20, &buf, &len, &e) < 0) {
                silo_error_free(&e);
                return false;
        }
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
                buf[--len] = '\0';
        char *line = strrchr(buf, '\n');
        line = line ? line + 1 : buf;
        line[strcspn(line, "\r")] = '\0';
        if (*line == '\0')
                return false;
        snprintf(out, n, "%s", line);
        return true;
}

static void vmm_reason(const struct silo_vm_super *a, char *out, size_t n)
{
        char line[900];

        if (last_line(a->log_path, line, sizeof(line)))
                snprintf(out, n, "%s", line);
        else if (last_line(a->console_path, line, sizeof(line)))
                snprintf(out, n, "guest console: %s", line);
        else
                snprintf(out, n, "no message from qemu or the guest");
}

static __attribute__((noreturn)) void exec_vmm(const struct silo_vm_super *a)
{
        sigset_t none;
        silo_error_t e = NULL;
        int log;

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        log = open(a->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (log >= 0) {
                dup2(log, STDOUT_FILENO);
                dup2(log, STDERR_FILENO);
        }
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null >= 0)
                dup2(null, STDIN_FILENO);
        if (dup2(a->vmm_fd, 3) < 0) /* dup2 clears FD_CLOEXEC */
                _exit(127);
        /* the container's limits hold for the VMM (guest RAM is sized to fit in them) */
        if (a->cgroup && silo_cgroup_enter(a->cgroup, getpid(), &e) < 0) {
                dprintf(STDERR_FILENO, "%s\n", e->msg);
                _exit(127);
        }
        execvp(a->argv[0], a->argv);
        dprintf(STDERR_FILENO, "exec '%s': %s\n", a->argv[0], strerror(errno));
        _exit(127);
}

static long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Boot: CONFIG out, READY back.  Returns 0, or -1 after telling silo why. */
static int boot(const struct silo_vm_super *a, int pidfd)
{
        long deadline = now_ms() + a->boot_timeout_ms;
        struct silo_vm_hdr h;
        char reason[1024];

        if (send_frame(a->ctl_fd, SILO_VM_CONFIG, a->config, (uint32_t)a->config_len) < 0) {
                notify_error(a->notify_fd, "vm: send the process config to the guest: %s", strerror(errno));
                return -1;
        }
        for (;;) {
                struct pollfd p[2] = {{a->ctl_fd, POLLIN, 0}, {pidfd, POLLIN, 0}};
                long left = deadline - now_ms();
                int n = left > 0 ? poll(p, 2, (int)left) : 0;
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        notify_error(a->notify_fd, "vm: the guest did not come up within %ld ms (console: '%s')",
                                     a->boot_timeout_ms, a->console_path);
                        return -1;
                }
                if (p[0].revents & POLLIN) {
                        _cleanup_free_ char *buf = read_frame(a->ctl_fd, &h);
                        if (buf == NULL)
                                goto vmm_gone;
                        if (h.type == SILO_VM_READY)
                                return 0;
                        if (h.type == SILO_VM_ERROR) {
                                notify_error(a->notify_fd, "vm: guest agent: %s", buf);
                                return -1;
                        }
                        continue;
                }
                if (p[1].revents || (p[0].revents & (POLLHUP | POLLERR)))
                        goto vmm_gone;
        }
vmm_gone:
        waitpid(vmm, NULL, 0);
        vmm = -1;
        vmm_reason(a, reason, sizeof(reason));
        notify_error(a->notify_fd, "vm: the VMM exited before the guest was ready: %s", reason);
        return -1;
}

/* The create -> start gate: blocks until `start` opens the read end, like the ns init. */
static int wait_start(const struct silo_vm_super *a)
{
        struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: open() gets EINTR */
        sigset_t unblock;
        int fd;

        sigaction(SIGCHLD, &sa, NULL);
        sigaction(SIGALRM, &sa, NULL);
        sigemptyset(&unblock);
        sigaddset(&unblock, SIGCHLD);
        sigaddset(&unblock, SIGALRM);
        sigprocmask(SIG_UNBLOCK, &unblock, NULL);
        for (;;) {
                if (waitpid(vmm, NULL, WNOHANG) == vmm) {
                        vmm = -1;
                        return -1;
                }
                alarm(1); /* closes the window between the check above and the open */
                fd = openat(a->state_dirfd, "exec.fifo", O_WRONLY | O_CLOEXEC);
                alarm(0);
                if (fd >= 0)
                        break;
                if (errno != EINTR)
                        return -1;
        }
        sigprocmask(SIG_BLOCK, &unblock, NULL);
        (void)!write(fd, "0", 1);
        close(fd);
        return 0;
}

static void relay(const struct silo_vm_super *a, int pidfd)
{
        sigset_t mask;
        int sfd, in = STDIN_FILENO;
        char buf[16384];
        struct silo_vm_hdr h;

        sigfillset(&mask);
        sigdelset(&mask, SIGCHLD);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        for (;;) {
                struct pollfd p[4] = {{a->ctl_fd, POLLIN, 0}, {pidfd, POLLIN, 0}, {sfd, POLLIN, 0}, {in, POLLIN, 0}};
                if (poll(p, 4, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p[0].revents & POLLIN) {
                        _cleanup_free_ char *f = read_frame(a->ctl_fd, &h);
                        if (f == NULL)
                                break;
                        if (h.type == SILO_VM_STDOUT)
                                (void)silo_write_all(STDOUT_FILENO, f, h.len);
                        else if (h.type == SILO_VM_STDERR)
                                (void)silo_write_all(STDERR_FILENO, f, h.len);
                        else if (h.type == SILO_VM_EXIT && h.len == 4) {
                                uint32_t st;
                                memcpy(&st, f, 4);
                                stop_vmm_and_exit((int)(st & 0xff));
                        } else if (h.type == SILO_VM_ERROR) {
                                dprintf(STDERR_FILENO, "silo: vm: guest agent: %s\n", f);
                                stop_vmm_and_exit(255);
                        }
                        continue;
                }
                if (p[1].revents || (p[0].revents & (POLLHUP | POLLERR)))
                        break;
                if (p[2].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
                                uint32_t sig = si.ssi_signo;
                                (void)send_frame(a->ctl_fd, SILO_VM_SIGNAL, &sig, sizeof(sig));
                        }
                }
                if (in >= 0 && p[3].revents) {
                        ssize_t n = read(in, buf, sizeof(buf));
                        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (n <= 0) {
                                in = -1; /* EOF: an empty STDIN frame */
                                n = 0;
                        }
                        (void)send_frame(a->ctl_fd, SILO_VM_STDIN, buf, (uint32_t)n);
                }
        }
        /* the VMM ended without an EXIT: killed (delete, kill KILL) or crashed */
        int ws = 0;
        while (waitpid(vmm, &ws, 0) < 0 && errno == EINTR)
                ;
        vmm = -1;
        _exit(WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : 255);
}

void silo_vm_supervise(const struct silo_vm_super *a)
{
        sigset_t all;
        char ok[32];
        int pidfd;

        setsid();
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL);
        signal(SIGPIPE, SIG_IGN);
        vmm = fork();
        if (vmm < 0) {
                notify_error(a->notify_fd, "vm: fork the VMM: %s", strerror(errno));
                _exit(1);
        }
        if (vmm == 0)
                exec_vmm(a);
        close(a->vmm_fd);
        pidfd = (int)syscall(SYS_pidfd_open, vmm, 0);
        if (boot(a, pidfd) < 0)
                stop_vmm_and_exit(1);
        snprintf(ok, sizeof(ok), "R%d", (int)vmm);
        (void)silo_write_all(a->notify_fd, ok, strlen(ok));
        close(a->notify_fd);
        if (wait_start(a) < 0)
                stop_vmm_and_exit(255);
        if (send_frame(a->ctl_fd, SILO_VM_START, NULL, 0) < 0)
                stop_vmm_and_exit(255);
        relay(a, pidfd);
        _exit(255);
}
