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
 *      the container's status (a foreground `run` waits for exactly that);
 *   5. serves `silo exec` on <state>/vm.sock: each connection is one exec session, its frames
 *      forwarded under a session id of its own (vm/proto.h).
 * Restore of a VM snapshot (runtime/sandbox-vm-snapshot.c) replaces 2 and 3: the VMM loads the
 * saved guest from fd 4 (-incoming fd:4); once qemu says the migration is in, the supervisor
 * resumes the guest through QMP (`cont`), tells silo "R<vmm pid>" and goes on with 4 and 5: the
 * guest agent never noticed, its process is already running.
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
#include <stdarg.h>
#include <signal.h>
#include <string.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "../cgroups/cgroup.h"
#include "../runtime/caps.h"
#include "../runtime/util.h"
#include "proto.h"
#include "qmp.h"
#include "supervisor.h"
#include "vm.h"

static pid_t vmm = -1;

static void on_signal(int sig)
{
        (void)sig;
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

/* tap0 in the VMM's fresh netns (silo bridges it to eth0 later: sandbox-vm-net.c), as fd 5 for
 * qemu's -netdev tap,fd=5; lo up.  Needs CAP_NET_ADMIN, i.e. runs before the caps go. */
static int make_tap(silo_error_t *err)
{
        struct ifreq ifr = {0};
        int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), s;

        if (fd < 0)
                return silo_error_set(err, errno, "open '/dev/net/tun'");
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "tap0");
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
        if (ioctl(fd, TUNSETIFF, &ifr) < 0)
                return silo_error_set(err, errno, "TUNSETIFF 'tap0'");
        if (fd == 5 ? fcntl(fd, F_SETFD, 0) < 0 : dup2(fd, 5) < 0) /* dup2 clears FD_CLOEXEC */
                return silo_error_set(err, errno, "tap fd");
        if (fd != 5)
                close(fd);
        s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return silo_error_set(err, errno, "socket");
        for (int i = 0; i < 2; i++) {
                struct ifreq up = {0};
                snprintf(up.ifr_name, sizeof(up.ifr_name), "%s", i ? "tap0" : "lo");
                if (ioctl(s, SIOCGIFFLAGS, &up) < 0 ||
                    (up.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &up) < 0)) {
                        close(s);
                        return silo_error_set(err, errno, "bring '%s' up", up.ifr_name);
                }
        }
        close(s);
        return 0;
}

/*
 * The VMM's jail: its own ipc/uts/mount (and, unless slirp must listen on the host's ports,
 * network) namespaces, no capabilities at all (it still runs as uid 0 and so owns the root-owned
 * state dir, image and caches it opens), no_new_privs; qemu adds its own seccomp filter
 * (-sandbox on, see sandbox-vm.c).
 */
static int jail(const struct silo_vm_super *a, silo_error_t *err)
{
        struct silo_caps none = {.present = true};
        int flags = CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS | (a->keep_netns ? 0 : CLONE_NEWNET);

        if (unshare(flags) < 0)
                return silo_error_set(err, errno, "vm: unshare the VMM's namespaces");
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return silo_error_set(err, errno, "vm: make the VMM's mounts private");
        for (size_t i = 0; i < a->n_binds; i++) { /* the 9p share's sources, seen only by the VMM */
                const char *src = a->binds[2 * i], *dst = a->binds[2 * i + 1];
                struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};
                if (mount(src, dst, NULL, MS_BIND | (a->bind_flags[i] & MS_REC), NULL) < 0)
                        return silo_error_set(err, errno, "vm: bind '%s' for the guest", src);
                if ((a->bind_flags[i] & MS_RDONLY) &&
                    mount_setattr(AT_FDCWD, dst, AT_RECURSIVE, &ro, sizeof(ro)) < 0)
                        return silo_error_set(err, errno, "vm: bind '%s' read-only for the guest", src);
        }
        if (a->tap && make_tap(err) < 0)
                return silo_error_wrap(err, "vm: the guest's tap device");
        if (silo_caps_drop_bounding(&none, err) < 0 || silo_caps_apply(&none, err) < 0)
                return silo_error_wrap(err, "vm: drop the VMM's capabilities");
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return silo_error_set(err, errno, "vm: no_new_privs for the VMM");
        return 0;
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
        /* out of the way first: either may be 3 or 4 */
        int chan = fcntl(a->vmm_fd, F_DUPFD_CLOEXEC, 10);
        int in = a->incoming_fd >= 0 ? fcntl(a->incoming_fd, F_DUPFD_CLOEXEC, 10) : -1;
        if (chan < 0 || (a->incoming_fd >= 0 && in < 0))
                _exit(127);
        if (dup2(chan, 3) < 0 || (in >= 0 && dup2(in, 4) < 0)) /* dup2 clears FD_CLOEXEC */
                _exit(127);
        /* the container's limits hold for the VMM (guest RAM is sized to fit in them) */
        if ((a->cgroup && silo_cgroup_enter(a->cgroup, getpid(), &e) < 0) || jail(a, &e) < 0) {
                _cleanup_free_ char *text = silo_error_text(e);
                dprintf(STDERR_FILENO, "%s\n", text);
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

        if (silo_vm_send(a->ctl_fd, SILO_VM_CONFIG, 0, a->config, (uint32_t)a->config_len) < 0) {
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
                        notify_error(a->notify_fd,
                                     "vm: the guest did not come up within %ld ms (console: '%s')",
                                     a->boot_timeout_ms, a->console_path);
                        return -1;
                }
                if (p[0].revents & POLLIN) {
                        _cleanup_free_ char *buf = silo_vm_recv(a->ctl_fd, &h);
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

/* Restore: wait until qemu has loaded the snapshot, then resume the guest.  0, or -1 after
 * telling silo why. */
static int resume(const struct silo_vm_super *a, int pidfd)
{
        long deadline = now_ms() + a->boot_timeout_ms;
        silo_error_t e = NULL;
        char reason[1024];
        int q, r = 0;

        q = silo_qmp_connect(a->qmp_path, (int)a->boot_timeout_ms, pidfd, &e);
        if (q < 0)
                goto fail;
        for (;;) {
                yajl_val v = NULL;
                struct pollfd p = {pidfd, POLLIN, 0};
                r = silo_qmp_exec(q, "{\"execute\":\"query-status\"}", -1, 10000, &v, &e);
                if (r < 0)
                        break;
                const char *st = silo_qmp_return_str(v, "status");
                bool loading = st && strcmp(st, "inmigrate") == 0;
                bool running = st && strcmp(st, "running") == 0;
                yajl_tree_free(v);
                if (running)
                        break;
                if (!loading) { /* the snapshot was taken stopped: it comes back paused */
                        r = silo_qmp_exec(q, "{\"execute\":\"cont\"}", -1, 10000, NULL, &e);
                        break;
                }
                if (now_ms() >= deadline) {
                        r = silo_error_set(&e, ETIMEDOUT, "loading the snapshot took more than %ld ms",
                                           a->boot_timeout_ms);
                        break;
                }
                if (poll(&p, 1, 20) > 0)
                        break; /* qemu exited: its log says why */
        }
        close(q);
        if (r == 0 && waitpid(vmm, NULL, WNOHANG) == 0)
                return 0;
fail:
        /* qemu refuses a snapshot it cannot load by exiting: give it a moment to say so */
        if (poll(&(struct pollfd){pidfd, POLLIN, 0}, 1, 1000) > 0) {
                while (waitpid(vmm, NULL, 0) < 0 && errno == EINTR)
                        ;
                vmm = -1;
                vmm_reason(a, reason, sizeof(reason));
                notify_error(a->notify_fd, "vm: restore: the VMM exited while loading the snapshot: %s",
                             reason);
        } else {
                notify_error(a->notify_fd, "vm: restore: %s", e ? e->msg : "resume failed");
        }
        silo_error_free(&e);
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

/* The host pty's window size (our stdin) to the guest's pty of session 0. */
static void send_winsize(int ctl)
{
        struct winsize ws;
        uint16_t rc[2];

        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
                return;
        rc[0] = ws.ws_row;
        rc[1] = ws.ws_col;
        (void)silo_vm_send(ctl, SILO_VM_RESIZE, 0, rc, sizeof(rc));
}

/* `silo exec` connections: one exec session each (ids 1..; 0 is the container's process). */
#define MAX_CLIENTS 32
static struct {
        int fd;
        uint32_t id;
        bool detached; /* exec -d: the process outlives this connection */
} clients[MAX_CLIENTS];
static uint32_t next_id = 1;

static void client_close(int i, bool kill_process, int ctl)
{
        if (kill_process) {
                uint32_t sig = SIGKILL;
                (void)silo_vm_send(ctl, SILO_VM_SIGNAL, clients[i].id, &sig, sizeof(sig));
        }
        close(clients[i].fd);
        clients[i].fd = -1;
}

static void client_accept(int lfd)
{
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
                return;
        for (int i = 0; i < MAX_CLIENTS; i++)
                if (clients[i].fd < 0) {
                        clients[i].fd = fd;
                        clients[i].id = next_id++;
                        clients[i].detached = false;
                        return;
                }
        (void)silo_vm_send(fd, SILO_VM_ERROR, 0, "too many exec sessions", 22);
        close(fd);
}

/* A frame from an exec client: forwarded to the guest under the client's session id. */
static void client_frame(int i, int ctl)
{
        struct silo_vm_hdr h;
        _cleanup_free_ char *f = silo_vm_recv(clients[i].fd, &h);

        if (f == NULL) { /* silo exec went away: so does its process, unless it was exec -d */
                client_close(i, !clients[i].detached, ctl);
                return;
        }
        if (h.type == SILO_VM_DETACH) {
                clients[i].detached = true;
                return;
        }
        if (h.type == SILO_VM_EXEC || h.type == SILO_VM_STDIN || h.type == SILO_VM_SIGNAL ||
            h.type == SILO_VM_RESIZE)
                (void)silo_vm_send(ctl, h.type, clients[i].id, f, h.len);
}

/* A guest frame for an exec session: to its client, which is done after EXIT or ERROR. */
static void guest_frame_for_client(const struct silo_vm_hdr *h, const char *f, int ctl)
{
        for (int i = 0; i < MAX_CLIENTS; i++)
                if (clients[i].fd >= 0 && clients[i].id == h->id) {
                        (void)silo_vm_send(clients[i].fd, h->type, 0, f, h->len);
                        if (h->type == SILO_VM_EXIT || h->type == SILO_VM_ERROR)
                                client_close(i, false, ctl);
                        return;
                }
}

static void relay(const struct silo_vm_super *a, int pidfd, int lfd)
{
        struct pollfd p[5 + MAX_CLIENTS];
        int owner[5 + MAX_CLIENTS];
        sigset_t mask;
        int sfd, in = STDIN_FILENO;
        char buf[16384];
        struct silo_vm_hdr h;

        sigfillset(&mask);
        sigdelset(&mask, SIGCHLD);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        for (;;) {
                nfds_t n = 0;
                p[n++] = (struct pollfd){a->ctl_fd, POLLIN, 0};
                p[n++] = (struct pollfd){pidfd, POLLIN, 0};
                p[n++] = (struct pollfd){sfd, POLLIN, 0};
                p[n++] = (struct pollfd){in, POLLIN, 0};
                p[n++] = (struct pollfd){lfd, POLLIN, 0};
                for (int i = 0; i < MAX_CLIENTS; i++)
                        if (clients[i].fd >= 0) {
                                owner[n] = i;
                                p[n++] = (struct pollfd){clients[i].fd, POLLIN, 0};
                        }
                if (poll(p, n, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p[0].revents & POLLIN) {
                        _cleanup_free_ char *f = silo_vm_recv(a->ctl_fd, &h);
                        if (f == NULL)
                                break;
                        if (h.id != 0)
                                guest_frame_for_client(&h, f, a->ctl_fd);
                        else if (h.type == SILO_VM_STDOUT)
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
                                if (sig == SIGWINCH && a->tty_fd >= 0)
                                        send_winsize(a->ctl_fd);
                                else
                                        (void)silo_vm_send(a->ctl_fd, SILO_VM_SIGNAL, 0, &sig, sizeof(sig));
                        }
                }
                if (in >= 0 && p[3].revents) {
                        ssize_t k = read(in, buf, sizeof(buf));
                        if (k < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (k <= 0) {
                                in = -1; /* EOF: an empty STDIN frame */
                                k = 0;
                        }
                        (void)silo_vm_send(a->ctl_fd, SILO_VM_STDIN, 0, buf, (uint32_t)k);
                }
                if (p[4].revents & POLLIN)
                        client_accept(lfd);
                for (nfds_t k = 5; k < n; k++)
                        if (p[k].revents && clients[owner[k]].fd == p[k].fd)
                                client_frame(owner[k], a->ctl_fd);
        }
        /* the VMM ended without an EXIT: killed (delete, kill KILL) or crashed */
        int ws = 0;
        while (waitpid(vmm, &ws, 0) < 0 && errno == EINTR)
                ;
        vmm = -1;
        _exit(WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : 255);
}

static int listen_exec(const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -1;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

void silo_vm_supervise(const struct silo_vm_super *a)
{
        sigset_t all;
        char ok[32];
        int pidfd, lfd;

        setsid();
        prctl(PR_SET_NAME, "silo-vm", 0, 0, 0); /* ps shows what it is (argv stays silo's) */
        if (a->tty_fd >= 0) {
                /* the pty's peer is our stdio and controlling tty: a resize of the master (silo
                 * run, or whoever got it through --console-socket) reaches us as SIGWINCH */
                dup2(a->tty_fd, STDIN_FILENO);
                dup2(a->tty_fd, STDOUT_FILENO);
                dup2(a->tty_fd, STDERR_FILENO);
                if (a->tty_fd > STDERR_FILENO)
                        close(a->tty_fd);
                ioctl(STDIN_FILENO, TIOCSCTTY, 0);
        }
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
        for (int i = 0; i < MAX_CLIENTS; i++)
                clients[i].fd = -1;
        lfd = listen_exec(a->sock_path);
        if (lfd < 0) {
                notify_error(a->notify_fd, "vm: exec socket '%s': %s", a->sock_path, strerror(errno));
                stop_vmm_and_exit(1);
        }
        if (a->incoming_fd >= 0) {
                close(a->incoming_fd);
                if (resume(a, pidfd) < 0)
                        stop_vmm_and_exit(1);
        } else if (boot(a, pidfd) < 0) {
                stop_vmm_and_exit(1);
        }
        snprintf(ok, sizeof(ok), "R%d", (int)vmm);
        (void)silo_write_all(a->notify_fd, ok, strlen(ok));
        close(a->notify_fd);
        if (a->incoming_fd < 0) {
                if (wait_start(a) < 0)
                        stop_vmm_and_exit(255);
                if (silo_vm_send(a->ctl_fd, SILO_VM_START, 0, NULL, 0) < 0)
                        stop_vmm_and_exit(255);
        }
        if (a->tty_fd >= 0)
                send_winsize(a->ctl_fd);
        relay(a, pidfd, lfd);
        _exit(255);
}
