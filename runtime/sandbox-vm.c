/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VM sandbox backend: the container's process runs in a qemu microvm guest (Debian's
 * kernel, silo's initramfs whose /init is vm/agent.c), the rootfs an erofs image on virtio-blk,
 * control and stdio on one virtio-serial port (vm/proto.h).
 *
 * Process model (vm/supervisor.c): create forks a supervisor (it outlives silo), which forks the
 * VMM into the container's cgroup and reports READY once the guest mounted the rootfs.  The
 * state's pid is the VMM, so "alive" means the VM runs; exec.fifo gates start exactly as for
 * the namespace backend (the supervisor blocks on it).  The supervisor's pid is kept in
 * <state>/vm.pid: `kill` signals it (it forwards to the guest process), `delete` kills the VMM
 * and then waits for the supervisor.  State dir files: rootfs.erofs, vm.log (qemu), console.log
 * (guest serial), vm.pid -- all removed with the state dir.
 *
 * Selection: create option --sandbox vm or annotation io.silo.sandbox=vm; VM knobs as options
 * or annotations: io.silo.vm.kernel, io.silo.vm.accel (kvm|tcg|auto), io.silo.vm.memory (MiB),
 * io.silo.vm.cpus, io.silo.vm.boot-timeout (ms).
 */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "../cgroups/cgroup.h"
#include <arpa/inet.h>
#include "../image/image.h"
#include "../netns/netns.h"
#include "../vm/proto.h"
#include "../vm/supervisor.h"
#include "../vm/vm.h"
#include "log.h"
#include "network.h"
#include "sandbox.h"
#include "sandbox-vm.h"
#include "container-internal.h"
#include "terminal.h"
#include "util.h"

#define VM_DEFAULT_MIB 256
#define VM_GUEST_OVERHEAD_MIB 128 /* guest kernel + agent, on top of the container's limit */
#define VM_VMM_OVERHEAD_MIB 256   /* qemu itself + the TCG translation cache (tb-size=64) */

static const char *annotation(const struct silo_spec *s, const char *key)
{
        for (size_t i = 0; i < s->n_annotations; i++)
                if (strcmp(s->annotations[i].key, key) == 0)
                        return s->annotations[i].value;
        return NULL;
}

static const char *knob(const struct silo_container *c, const char *opt, const char *key)
{
        return opt ? opt : annotation(c->spec, key);
}

int silo_sandbox_vm_wanted(const struct silo_spec *spec, const char *opt, bool *ret, silo_error_t *err)
{
        const char *v = opt;
        const char *what = "--sandbox";

        if (v == NULL) {
                for (size_t i = 0; i < spec->n_annotations; i++)
                        if (strcmp(spec->annotations[i].key, "io.silo.sandbox") == 0)
                                v = spec->annotations[i].value;
                what = "/annotations/io.silo.sandbox";
        }
        *ret = v && strcmp(v, "vm") == 0;
        if (v && !*ret && strcmp(v, "ns") != 0)
                return silo_error_set(err, 0, "%s: unknown sandbox '%s' (ns or vm)", what, v);
        return 0;
}

/* ---- sizing ------------------------------------------------------------------------------- */

static int knob_u64(const struct silo_container *c, const char *opt, const char *key, uint64_t min,
                    uint64_t max, uint64_t *ret, silo_error_t *err)
{
        const char *v = knob(c, opt, key);
        uint64_t n;

        if (v == NULL)
                return 0;
        if (silo_parse_u64(v, &n) < 0 || n < min || n > max)
                return silo_error_set(err, 0, "/annotations/%s: '%s' is not a number in %llu..%llu", key, v,
                                      (unsigned long long)min, (unsigned long long)max);
        *ret = n;
        return 0;
}

const struct silo_resources *silo_vm_resources(const struct silo_container *c)
{
        return c->spec->linux_ ? c->spec->linux_->resources : NULL;
}

int64_t silo_vm_memory_limit(const struct silo_container *c)
{
        const struct silo_resources *r = silo_vm_resources(c);
        return r && r->memory.limit != SILO_UNSET && r->memory.limit > 0 ? r->memory.limit : 0;
}

static uint64_t default_cpus(const struct silo_container *c)
{
        const struct silo_resources *r = silo_vm_resources(c);
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        if (r && r->cpu.quota != SILO_UNSET && r->cpu.quota > 0) {
                int64_t period = r->cpu.period != SILO_UNSET && r->cpu.period > 0 ? r->cpu.period : 100000;
                uint64_t want = (uint64_t)((r->cpu.quota + period - 1) / period);
                return n > 0 && want > (uint64_t)n ? (uint64_t)n : want;
        }
        return 1;
}

/* The VMM must fit in the container's host cgroup: raise its memory limit to guest RAM + the
 * VMM's own overhead; the container's limit proper is enforced inside the guest. */
int silo_vm_fit_host_limit(struct silo_container *c, uint64_t guest_mib, silo_error_t *err)
{
        struct silo_resources *res = NULL;
        const struct silo_resources *r = silo_vm_resources(c);
        uint64_t bytes = (guest_mib + VM_VMM_OVERHEAD_MIB) << 20;
        _cleanup_free_ char *doc = NULL;
        int rc;

        if (c->cgroup == NULL || silo_vm_memory_limit(c) == 0)
                return 0;
        if (r->memory.swap != SILO_UNSET && r->memory.swap > 0)
                doc = silo_xasprintf("{\"memory\":{\"limit\":%llu,\"swap\":%llu}}", (unsigned long long)bytes,
                                     (unsigned long long)bytes);
        else
                doc = silo_xasprintf("{\"memory\":{\"limit\":%llu}}", (unsigned long long)bytes);
        rc = silo_resources_parse(doc, strlen(doc), &res, err);
        if (rc == 0)
                rc = silo_cgroup_apply(c->cgroup, res, err);
        silo_resources_free(res);
        return rc < 0 ? silo_error_wrap(err, "vm: room for the VMM in the container's cgroup") : 0;
}

/* ---- host pieces -------------------------------------------------------------------------- */

/* Next to the silo binary (build tree: vm/silo-vm-agent), else the installed one. */
char *silo_vm_agent_path(void)
{
        const char *e = getenv("SILO_VM_AGENT");
        char self[4096];
        ssize_t n;

        if (e && *e)
                return silo_xstrdup(e);
        n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n > 0) {
                self[n] = '\0';
                char *slash = strrchr(self, '/');
                if (slash) {
                        *slash = '\0';
                        char *p = silo_xasprintf("%s/vm/silo-vm-agent", self);
                        if (access(p, R_OK) == 0)
                                return p;
                        free(p);
                }
        }
        return silo_xstrdup(SILO_LIBEXECDIR "/silo-vm-agent");
}

/* Run argv, stderr captured into the error.  For mkfs.erofs.  With attach_fd > 0, the child
 * first attaches that detached mount on attach_at in a mount namespace of its own, which dies
 * with it (nothing is mounted on the host, nothing to unmount). */
static int run_tool(char **argv, const char *pkg, int attach_fd, const char *attach_at, silo_error_t *err)
{
        int pipefd[2], ws = 0;
        char out[2048];
        size_t len = 0;
        pid_t pid;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return silo_error_set(err, errno, "pipe");
        pid = fork();
        if (pid < 0)
                return silo_error_set(err, errno, "fork");
        if (pid == 0) {
                dup2(pipefd[1], STDERR_FILENO);
                dup2(pipefd[1], STDOUT_FILENO);
                if (attach_fd > 0 &&
                    (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0 ||
                     move_mount(attach_fd, "", AT_FDCWD, attach_at, MOVE_MOUNT_F_EMPTY_PATH) < 0)) {
                        dprintf(STDERR_FILENO, "attach the image overlay on '%s': %s", attach_at,
                                strerror(errno));
                        _exit(1);
                }
                execvp(argv[0], argv);
                dprintf(STDERR_FILENO, "%s", strerror(errno));
                _exit(127);
        }
        close(pipefd[1]);
        for (ssize_t k;
             (k = read(pipefd[0], out + len, sizeof(out) - 1 - len)) > 0 || (k < 0 && errno == EINTR);)
                if (k > 0 && (len += (size_t)k) >= sizeof(out) - 1)
                        break;
        out[len] = '\0';
        close(pipefd[0]);
        while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
                ;
        out[strcspn(out, "\n")] = '\0'; /* the first line says what went wrong */
        if (WIFEXITED(ws) && WEXITSTATUS(ws) == 127)
                return silo_error_set(err, 0, "vm: run '%s' (package %s): %s", argv[0], pkg, out);
        if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
                return silo_error_set(err, 0, "vm: %s failed: %s", argv[0], out);
        return 0;
}

static bool kvm_usable(void)
{
        _cleanup_free_ char *cpu = NULL;
        size_t n;
        silo_error_t e = NULL;
        struct stat st;

        if (access("/dev/kvm", R_OK | W_OK) != 0)
                return false;
        if (stat("/sys/module/kvm_pvm", &st) == 0) /* PVM emulates guest kernel code: unusable */
                return false;
        if (silo_read_file_at(AT_FDCWD, "/proc/cpuinfo", 16u << 20, &cpu, &n, &e) < 0) {
                silo_error_free(&e);
                return false;
        }
        return strstr(cpu, " vmx") || strstr(cpu, " svm");
}

/* Under TCG the guest's PIT calibration of the TSC can fail and hang the boot (vm-testing.md
 * §2): tell the kernel the TSC frequency, which under TCG is the host's. */
static unsigned long tsc_khz(void)
{
        _cleanup_free_ char *cpu = NULL;
        size_t n;
        silo_error_t e = NULL;
        const char *p;

        if (silo_read_file_at(AT_FDCWD, "/proc/cpuinfo", 16u << 20, &cpu, &n, &e) < 0) {
                silo_error_free(&e);
                return 0;
        }
        p = strstr(cpu, "cpu MHz");
        if (p == NULL || (p = strchr(p, ':')) == NULL)
                return 0;
        return (unsigned long)(strtod(p + 1, NULL) * 1000);
}

static int pick_accel(const struct silo_container *c, bool *ret_kvm, silo_error_t *err)
{
        const char *a = knob(c, c->opts ? c->opts->vm_accel : NULL, "io.silo.vm.accel");

        if (a == NULL || strcmp(a, "auto") == 0) {
                *ret_kvm = kvm_usable();
                if (!*ret_kvm && access("/dev/kvm", F_OK) == 0)
                        silo_log(SILO_LOG_INFO,
                                 "vm: /dev/kvm cannot run a stock guest here (no VT-x/AMD-V or PVM): "
                                 "using TCG emulation (slow)");
                return 0;
        }
        if (strcmp(a, "tcg") == 0) {
                *ret_kvm = false;
                return 0;
        }
        if (strcmp(a, "kvm") == 0) {
                if (!kvm_usable())
                        return silo_error_set(err, 0,
                                              "--vm-accel kvm: /dev/kvm cannot run the guest on this host "
                                              "(no VT-x/AMD-V, or PVM)");
                *ret_kvm = true;
                return 0;
        }
        return silo_error_set(err, 0, "--vm-accel: '%s' is not kvm, tcg or auto", a);
}

void silo_vm_plan_free(struct vm_plan *p)
{
        silo_vm_assets_free(&p->assets);
        free(p->dir);
        free(p->erofs);
        free(p->log);
        free(p->console);
        free(p->sock);
        free(p->qmp);
        free(p->netdev);
        silo_strv_free(p->binds);
        free(p->bind_flags);
        silo_strv_free(p->argv);
}

void silo_vm_plan_argv(struct vm_plan *p)
{
        char **v = NULL;
        unsigned long khz = p->kvm ? 0 : tsc_khz();
        char *append;

        silo_strv_free(p->argv);
        p->argv = NULL;
        append = silo_xstrdup("console=ttyS0 quiet loglevel=4 reboot=t panic=-1 pci=off rdinit=/init");

        if (khz) {
                char *a2 = silo_xasprintf("%s tsc_early_khz=%lu", append, khz);
                free(append);
                append = a2;
        }
#define A(s) silo_strv_push(&v, silo_xstrdup(s))
#define AF(...) silo_strv_push(&v, silo_xasprintf(__VA_ARGS__))
        A("qemu-system-x86_64");
        A("-M");
        A("microvm");
        A("-accel");
        A(p->kvm ? "kvm" : (p->cpus > 1 ? "tcg,thread=multi,tb-size=64" : "tcg,tb-size=64"));
        A("-cpu");
        A(p->kvm ? "host" : "max");
        A("-smp");
        AF("%llu", (unsigned long long)p->cpus);
        A("-m");
        AF("%llu", (unsigned long long)p->mib);
        A("-nodefaults");
        A("-no-user-config");
        A("-display");
        A("none");
        A("-no-reboot");
        A("-sandbox"); /* qemu's own seccomp filter */
        A("on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
        A("-kernel");
        A(p->assets.vmlinux);
        A("-initrd");
        A(p->assets.initrd);
        A("-append");
        silo_strv_push(&v, append);
        A("-chardev");
        AF("file,id=con,path=%s", p->console);
        A("-serial");
        A("chardev:con");
        A("-drive");
        AF("file=%s,if=none,id=root,format=raw,readonly=on", p->erofs);
        A("-device");
        A("virtio-blk-device,drive=root");
        A("-device");
        A("virtio-serial-device,max_ports=2");
        if (p->netdev) {
                A("-netdev");
                A(p->netdev);
                A("-device");
                if (p->tap) /* one MAC per lease: guests share the silo bridge */
                        AF("virtio-net-device,netdev=n0,mac=52:54:%02x:%02x:%02x:%02x", p->ip >> 24,
                           (p->ip >> 16) & 0xff, (p->ip >> 8) & 0xff, p->ip & 0xff);
                else
                        A("virtio-net-device,netdev=n0");
        }
        if (p->n_binds) { /* one share for all (microvm has 8 virtio-mmio slots); the VMM has no
                           * CAP_CHOWN: security_model=none */
                A("-fsdev");
                AF("local,id=binds,path=%s/binds,security_model=none,multidevs=remap", p->dir);
                A("-device");
                A("virtio-9p-device,fsdev=binds,mount_tag=binds");
        }
        A("-chardev");
        A("socket,id=ctl,fd=3");
        A("-device");
        A("virtserialport,chardev=ctl,name=silo");
        /* QMP for whole-VM snapshots (sandbox-vm-snapshot.c); qemu binds it before the guest runs */
        A("-chardev");
        AF("socket,id=qmp,path=%s,server=on,wait=off", p->qmp);
        A("-mon");
        A("chardev=qmp,mode=control");
        if (p->incoming) {
                A("-incoming");
                A("fd:4");
        }
#undef A
#undef AF
        p->argv = v;
}

/*
 * Networking (run.silo.network=bridge, as for the namespace backend): with a lease (a new netns
 * in the spec), the container's IP on a tap (sandbox-vm-net.c); otherwise a user-mode (slirp) NIC
 * with restrict=on -- the guest reaches nothing outside, no host link, route or firewall rule
 * is touched -- and each published port (run.silo.ports) as a hostfwd, listening in the
 * caller's network namespace.
 */
static int plan_net(const struct silo_container *c, struct vm_plan *p, silo_error_t *err)
{
        const char *net = annotation(c->spec, "run.silo.network");
        _cleanup_free_ struct silo_net_port *ports = NULL;
        struct silo_buf b = {0};
        size_t n = 0;
        int r;

        if (net == NULL || strcmp(net, "bridge") != 0)
                return 0;
        r = silo_vm_plan_tap(c, p, err); /* a bridge lease: the guest gets the container's IP */
        if (r != 0)
                return r < 0 ? r : 0;
        r = silo_net_parse_ports(annotation(c->spec, "run.silo.ports"), &ports, &n, err);
        if (r < 0)
                return silo_error_wrap(err, "/annotations/run.silo.ports");
        silo_buf_puts(&b, "user,id=n0,restrict=on,net=10.0.2.0/24,host=10.0.2.2");
        for (size_t i = 0; i < n; i++) {
                char ip[INET_ADDRSTRLEN] = "";
                struct in_addr a = {htonl(ports[i].host_ip)};
                if (ports[i].host_ip)
                        inet_ntop(AF_INET, &a, ip, sizeof(ip));
                silo_buf_printf(&b, ",hostfwd=%s:%s:%u-:%u", ports[i].udp ? "udp" : "tcp", ip,
                                ports[i].host_port, ports[i].ctr_port);
        }
        p->netdev = b.data;
        return 0;
}

int silo_vm_plan(struct silo_container *c, struct vm_plan *p, silo_error_t *err)
{
        const struct silo_create_opts *o = c->opts;
        _cleanup_free_ char *agent = silo_vm_agent_path();
        const char *data_root = o && o->data_root ? o->data_root : silo_data_root_default();
        int r;

        memset(p, 0, sizeof(*p));
        p->mib = VM_DEFAULT_MIB;
        if (silo_vm_memory_limit(c)) {
                uint64_t want = ((uint64_t)silo_vm_memory_limit(c) >> 20) + VM_GUEST_OVERHEAD_MIB;
                p->mib = want > p->mib ? want : p->mib;
        }
        p->cpus = default_cpus(c);
        p->boot_timeout_ms = 60000;
        r = knob_u64(c, NULL, "io.silo.vm.memory", 64, 1u << 20, &p->mib, err);
        if (r == 0)
                r = knob_u64(c, NULL, "io.silo.vm.cpus", 1, 64, &p->cpus, err);
        if (r == 0)
                r = knob_u64(c, NULL, "io.silo.vm.boot-timeout", 100, 3600000, &p->boot_timeout_ms, err);
        if (r == 0)
                r = pick_accel(c, &p->kvm, err);
        if (r < 0)
                return r;
        r = silo_vm_assets(data_root, knob(c, o ? o->vm_kernel : NULL, "io.silo.vm.kernel"), agent,
                           &p->assets, err);
        if (r < 0)
                return r;
        p->dir = silo_xasprintf("%s/%s", c->ctx->root, c->id);
        p->erofs = silo_xasprintf("%s/rootfs.erofs", p->dir);
        p->log = silo_xasprintf("%s/vm.log", p->dir);
        p->console = silo_xasprintf("%s/console.log", p->dir);
        p->sock = silo_xasprintf("%s/vm.sock", p->dir);
        p->qmp = silo_xasprintf("%s/qmp.sock", p->dir);
        r = plan_net(c, p, err);
        if (r < 0)
                return r;
        silo_vm_plan_argv(p);
        return 0;
}

static int make_rootfs_image(struct silo_container *c, struct vm_plan *p, silo_error_t *err)
{
        /* an image container's overlay is a detached mount (image/ctr.c), not visible at c->rootfs */
        char *argv[] = {"mkfs.erofs", "--quiet", p->erofs, c->rootfs, NULL};
        return run_tool(argv, "erofs-utils", c->rootfs_mount_fd, c->rootfs, err);
}

/* Read the supervisor's verdict: "R<vmm pid>" or "E<message>" (EOF: it died). */
int silo_vm_read_verdict(int fd, pid_t *ret_vmm, silo_error_t *err)
{
        char buf[2048];
        size_t len = 0;
        ssize_t k;

        while (len < sizeof(buf) - 1 &&
               ((k = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0 || (k < 0 && errno == EINTR)))
                if (k > 0)
                        len += (size_t)k;
        buf[len] = '\0';
        if (len > 1 && buf[0] == 'R') {
                *ret_vmm = (pid_t)atoi(buf + 1);
                return 0;
        }
        if (len > 1 && buf[0] == 'E')
                return silo_error_set(err, 0, "%s", buf + 1);
        return silo_error_set(err, 0, "vm: the supervisor died while the guest booted");
}

/* The supervisor outlives silo: it must not keep its caller's pipes and sockets open (a
 * `$(silo restore ...)`, or the stream and stderr of `migrate --receive`, would never see EOF).
 * Only those go: the directories and files it was given (cgroup, state) stay. */
static void close_callers_streams(const int *keep, size_t n)
{
        _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
        struct dirent *de;

        if (d == NULL)
                return;
        while ((de = readdir(d)) != NULL) {
                struct stat st;
                int fd = atoi(de->d_name);
                bool kept = fd < 3 || fd == dirfd(d);
                for (size_t i = 0; i < n && !kept; i++)
                        kept = keep[i] == fd;
                if (!kept && fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
                        close(fd);
        }
}

/*
 * Fork the supervisor for plan p and wait for its verdict: the VM is up (booted and READY, or a
 * snapshot loaded and resumed when incoming_fd >= 0).  Sets c->pid (the VMM), c->pidfd,
 * c->vm_supervisor and writes <state>/vm.pid.
 */
int silo_vm_launch(struct silo_container *c, struct vm_plan *p, const struct silo_buf *config,
                   int incoming_fd, silo_error_t *err)
{
        int sv[2] = {-1, -1}, notify[2] = {-1, -1}, r = 0;
        _cleanup_close_ int tty_peer = -1;
        _cleanup_close_ int state_fd = -1;
        pid_t sup, vmm = 0;

        if (c->spec->process->terminal && incoming_fd < 0) {
                /* a host pty: its master goes where the namespace backend's goes (console
                 * socket, or the foreground run), its raw peer is the supervisor's stdio; the
                 * line discipline that matters is the guest's */
                const struct silo_process *pr = c->spec->process;
                struct termios saved;
                r = silo_pty_open("/dev/ptmx", pr->has_console_size ? pr->console_height : 0,
                                  pr->has_console_size ? pr->console_width : 0, &c->pty_master, &tty_peer,
                                  err);
                if (r < 0)
                        goto out;
                silo_tty_raw(tty_peer, &saved);
        }
        state_fd = open(p->dir, O_PATH | O_DIRECTORY | O_CLOEXEC); /* unlocked: a new open file */
        if (state_fd < 0) {
                r = silo_error_set(err, errno, "open '%s'", p->dir);
                goto out;
        }
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || pipe2(notify, O_CLOEXEC) < 0) {
                r = silo_error_set(err, errno, "vm: agent channel");
                goto out;
        }
        silo_debug("vm: %s, %llu MiB, %llu vCPU, kernel %s%s", p->kvm ? "kvm" : "tcg",
                   (unsigned long long)p->mib, (unsigned long long)p->cpus, p->assets.kver,
                   incoming_fd >= 0 ? ", from a snapshot" : "");
        sup = fork();
        if (sup < 0) {
                r = silo_error_set(err, errno, "vm: fork the supervisor");
                goto out;
        }
        if (sup == 0) {
                struct silo_vm_super a = {
                    .argv = p->argv,
                    .vmm_fd = sv[1],
                    .ctl_fd = sv[0],
                    .notify_fd = notify[1],
                    .state_dirfd = state_fd,
                    .cgroup = c->cgroup,
                    .log_path = p->log,
                    .console_path = p->console,
                    .sock_path = p->sock,
                    .config = config ? config->data : NULL,
                    .config_len = config ? config->len : 0,
                    .boot_timeout_ms = (long)p->boot_timeout_ms,
                    .keep_netns = p->netdev != NULL && !p->tap,
                    .tap = p->tap,
                    .tty_fd = tty_peer,
                    .incoming_fd = incoming_fd,
                    .qmp_path = p->qmp,
                    .binds = p->binds,
                    .bind_flags = p->bind_flags,
                    .n_binds = p->n_binds,
                };
                close(notify[0]);
                close(c->dirfd); /* the parent keeps the lock (same open file: ours must go) */
                if (c->pty_master >= 0)
                        close(c->pty_master);
                int keep[] = {sv[0], sv[1], notify[1], state_fd, tty_peer, incoming_fd};
                close_callers_streams(keep, ARRAY_SIZE(keep));
                silo_vm_supervise(&a);
        }
        close(sv[0]);
        close(sv[1]);
        close(notify[1]);
        sv[0] = sv[1] = notify[1] = -1;
        r = silo_vm_read_verdict(notify[0], &vmm, err);
        if (r < 0) {
                while (waitpid(sup, NULL, 0) < 0 && errno == EINTR)
                        ;
                goto out;
        }
        c->pid = vmm;
        c->pidfd = (int)syscall(SYS_pidfd_open, vmm, 0);
        c->state->pid_start_time = silo_proc_start_time(vmm);
        c->vm_supervisor = sup;
        {
                char buf[64];
                int n = snprintf(buf, sizeof(buf), "%d %llu", (int)sup, silo_proc_start_time(sup));
                r = silo_write_file_atomic_at(c->dirfd, "vm.pid", buf, (size_t)n, 0600, err);
        }
out:
        for (int i = 0; i < 2; i++) {
                if (sv[i] >= 0)
                        close(sv[i]);
                if (notify[i] >= 0)
                        close(notify[i]);
        }
        return r;
}

int silo_vm_network_prepare(struct silo_container *c, silo_error_t *err)
{
        const char *net = annotation(c->spec, "run.silo.network");
        const struct silo_namespace *ns = silo_spec_namespace(c->spec, SILO_NS_NETWORK);

        if (net && strcmp(net, "none") != 0 && strcmp(net, "bridge") != 0)
                return silo_error_set(err, 0,
                                      "/annotations/run.silo.network: '%s' is not supported by the vm "
                                      "sandbox (bridge or none)",
                                      net);
        /* bridge with a netns of its own: a lease as for a namespace container (the guest gets
         * that IP: sandbox-vm-net.c; restore/migrate ask for the recorded one, opts->net_ip); a
         * netns by path keeps slirp */
        if (net && strcmp(net, "bridge") == 0 && ns && !(ns->path && *ns->path))
                return silo_network_prepare(c, err);
        return 0;
}

int silo_sandbox_vm_create(struct silo_container *c, silo_error_t *err)
{
        struct vm_plan p;
        struct silo_buf config = {0};
        int r;

        if (c->spec->process == NULL)
                return silo_error_set(err, 0, "/process: required by the vm sandbox");
        r = silo_vm_network_prepare(c, err);
        if (r < 0)
                return r;
        r = silo_vm_plan(c, &p, err);
        if (r < 0)
                goto out;
        r = silo_vm_guest_config(c, &p, &config, err); /* sandbox-vm-config.c */
        if (r < 0)
                goto out;
        silo_vm_plan_argv(&p); /* with the binds' share */
        r = silo_vm_fit_host_limit(c, p.mib, err);
        if (r < 0)
                goto out;
        r = make_rootfs_image(c, &p, err);
        if (r < 0)
                goto out;
        r = silo_vm_launch(c, &p, &config, -1, err);
        if (r == 0 && p.tap)
                r = silo_sandbox_vm_network_attach(c, &p, err);
out:
        silo_buf_free(&config);
        silo_vm_plan_free(&p);
        return r;
}

/* The supervisor recorded at create, if it is still that process. */
static pid_t supervisor(struct silo_container *c)
{
        _cleanup_free_ char *buf = NULL;
        size_t n;
        silo_error_t e = NULL;
        int pid = 0;
        unsigned long long start = 0;

        if (silo_read_file_at(c->dirfd, "vm.pid", 128, &buf, &n, &e) < 0) {
                silo_error_free(&e);
                return 0;
        }
        if (sscanf(buf, "%d %llu", &pid, &start) != 2 || pid <= 0 || !silo_proc_alive(pid, start))
                return 0;
        return pid;
}

int silo_sandbox_vm_kill(struct silo_container *c, int sig, bool started, silo_error_t *err)
{
        pid_t sup = supervisor(c);
        pid_t target = sig == SIGKILL || !started || sup == 0 ? c->state->pid : sup;
        _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, target, 0);

        /* SIGKILL cannot be caught and forwarded, and before start the guest has no process:
         * both stop the VM (the guest process dies with it) */
        if (target == c->state->pid)
                sig = SIGKILL;
        if (pidfd < 0 || syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
                return silo_error_set(err, 0, "container not running");
        return 0;
}

void silo_sandbox_vm_stop(struct silo_container *c)
{
        pid_t sup = supervisor(c);
        if (sup == 0)
                return;
        /* it exits once the VMM is gone; give it a moment, then make sure */
        _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, sup, 0);
        if (pidfd < 0)
                return;
        struct pollfd pfd = {pidfd, POLLIN, 0};
        if (poll(&pfd, 1, 2000) <= 0) {
                syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                poll(&pfd, 1, 2000);
        }
}

/* Foreground run: wait for the supervisor (its exit status is the container's), forward signals
 * to it, and with a terminal copy between our stdio and the host pty (raw mode meanwhile). */
int silo_sandbox_vm_wait(struct silo_container *c, const sigset_t *mask, int *ret_status, silo_error_t *err)
{
        _cleanup_close_ int sfd = signalfd(-1, mask, SFD_CLOEXEC);
        struct termios saved;
        bool raw = false, in_eof = false, out_eof = false;
        int status = -1, pty = c->pty_master;

        if (sfd < 0)
                return silo_error_set(err, errno, "signalfd");
        if (pty >= 0) {
                raw = isatty(STDIN_FILENO) && silo_tty_raw(STDIN_FILENO, &saved) == 0;
                silo_tty_copy_winsize(STDIN_FILENO, pty);
        }
        while (status < 0) {
                struct pollfd pfd[3] = {{sfd, POLLIN, 0},
                                        {out_eof ? -1 : pty, POLLIN, 0},
                                        {in_eof ? -1 : STDIN_FILENO, POLLIN, 0}};
                if (poll(pfd, pty >= 0 ? 3 : 1, -1) < 0)
                        continue;
                if (pfd[0].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof(si)) != sizeof(si))
                                continue;
                        if (si.ssi_signo == SIGCHLD) {
                                int ws;
                                pid_t w;
                                while ((w = waitpid(-1, &ws, WNOHANG)) > 0)
                                        if (w == c->vm_supervisor)
                                                status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
                        } else if (si.ssi_signo == SIGWINCH) {
                                if (pty >= 0) /* the supervisor, the peer's session leader, gets it */
                                        silo_tty_copy_winsize(STDIN_FILENO, pty);
                        } else {
                                kill(c->vm_supervisor, (int)si.ssi_signo);
                        }
                }
                if (pty >= 0 && (pfd[1].revents & (POLLIN | POLLHUP)))
                        silo_copy_fd(pty, STDOUT_FILENO, &out_eof);
                if (pty >= 0 && (pfd[2].revents & (POLLIN | POLLHUP)))
                        silo_copy_fd(STDIN_FILENO, pty, &in_eof);
        }
        while (pty >= 0 && !out_eof) { /* what is left in the pty */
                struct pollfd pfd = {pty, POLLIN, 0};
                if (poll(&pfd, 1, 100) <= 0)
                        break;
                silo_copy_fd(pty, STDOUT_FILENO, &out_eof);
        }
        if (raw)
                silo_tty_restore(STDIN_FILENO, &saved);
        *ret_status = status;
        return 0;
}

/*
 * exec: one session on the supervisor's socket; exit status as the guest reports it (a command
 * that cannot be run: 127/126 with the reason on stderr).  The process lives in the guest:
 * there is no host pid for --pid-file / --pidfd-socket.  exec -d (exec_detached) returns once
 * the guest has execve()d the process, whose stdio is /dev/null there.
 */
/* exec -t: our terminal's size to the session's pty in the guest (the supervisor adds the id) */
static void send_exec_winsize(int sock)
{
        struct winsize ws;
        uint16_t rc[2];

        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
                return;
        rc[0] = ws.ws_row;
        rc[1] = ws.ws_col;
        (void)silo_vm_send(sock, SILO_VM_RESIZE, 0, rc, sizeof(rc));
}

/*
 * exec -d: wait for the guest's word on the process (STARTED, or ERROR with the reason), then
 * tell the supervisor to keep the session when we hang up.  No lock is held meanwhile; a VM
 * that stops first is an error.
 */
static int exec_detached(int sock, int *ret_status, silo_error_t *err)
{
        for (;;) {
                struct silo_vm_hdr h;
                _cleanup_free_ char *f = silo_vm_recv(sock, &h);
                if (f == NULL)
                        return silo_error_set(err, 0, "exec failed: the VM stopped");
                if (h.type == SILO_VM_ERROR)
                        return silo_error_set(err, 0, "exec failed: %.*s", (int)h.len, f);
                if (h.type == SILO_VM_EXIT) /* an agent that does not know "detach" */
                        return silo_error_set(err, 0, "exec failed: the process ended before it was detached");
                if (h.type != SILO_VM_STARTED)
                        continue;
                int r = silo_vm_send(sock, SILO_VM_DETACH, 0, NULL, 0);
                if (r < 0)
                        return silo_error_set(err, -r, "exec: send to the VM's supervisor");
                *ret_status = 0;
                return 0;
        }
}

int silo_sandbox_vm_exec(struct silo_container *c, const struct silo_exec_opts *o,
                         const struct silo_process *p, int *ret_status, silo_error_t *err)
{
        _cleanup_free_ char *path = silo_xasprintf("%s/%s/vm.sock", c->ctx->root, c->id);
        _cleanup_close_ int sock = -1, sfd = -1;
        struct silo_buf config = {0};
        sigset_t mask, old;
        struct termios saved;
        bool raw = false;
        int in = STDIN_FILENO, status = -1, r = 0;
        char buf[16384];

        if (o->pid_file || o->pidfd_socket)
                return silo_error_set(err, 0,
                                      "exec: --pid-file and --pidfd-socket are not supported by the vm "
                                      "sandbox (the process has no host pid)");
        if (p->terminal && o->console_socket)
                return silo_error_set(err, EOPNOTSUPP,
                                      "exec: --console-socket is not supported by the vm sandbox yet (a "
                                      "terminal on silo's own stdio is)");
        if (p->terminal && o->detach) /* runc's words */
                return silo_error_set(err, 0, "cannot allocate tty if silo will detach without setting console socket");
        sock = silo_unix_connect(path, err);
        if (sock < 0)
                return silo_error_wrap(err, "exec: the VM's supervisor");
        r = silo_vm_exec_config(p, c->seccomp, o->detach, &config, err);
        if (r == 0 && (r = silo_vm_send(sock, SILO_VM_EXEC, 0, config.data, (uint32_t)config.len)) < 0)
                silo_error_set(err, -r, "exec: send to the VM's supervisor");
        silo_buf_free(&config);
        if (r < 0)
                return r;
        if (o->detach)
                return exec_detached(sock, ret_status, err);
        /* -t: the guest's pty does the line discipline, ours passes bytes; its size follows ours */
        if (p->terminal && isatty(STDIN_FILENO))
                raw = silo_tty_raw(STDIN_FILENO, &saved) == 0;
        if (p->terminal)
                send_exec_winsize(sock);
        /* the process runs: state/kill/delete must work meanwhile */
        flock(c->dirfd, LOCK_UN);
        silo_forwarded_signals(&mask);
        sigdelset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, &old);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        while (status < 0 && r == 0) {
                struct pollfd pfd[3] = {{sock, POLLIN, 0}, {sfd, POLLIN, 0}, {in, POLLIN, 0}};
                struct silo_vm_hdr h;

                if (poll(pfd, 3, -1) < 0) {
                        if (errno != EINTR)
                                r = silo_error_set(err, errno, "exec: poll");
                        continue;
                }
                if (pfd[0].revents) {
                        _cleanup_free_ char *f = silo_vm_recv(sock, &h);
                        if (f == NULL)
                                r = silo_error_set(err, 0, "exec failed: the VM stopped");
                        else if (h.type == SILO_VM_STDOUT)
                                (void)silo_write_all(STDOUT_FILENO, f, h.len);
                        else if (h.type == SILO_VM_STDERR)
                                (void)silo_write_all(STDERR_FILENO, f, h.len);
                        else if (h.type == SILO_VM_EXIT && h.len == 4)
                                status = (int)(*(uint32_t *)f & 0xff);
                        else if (h.type == SILO_VM_ERROR)
                                r = silo_error_set(err, 0, "exec failed: %s", f);
                        continue;
                }
                if (pfd[1].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo == SIGWINCH &&
                            p->terminal) {
                                send_exec_winsize(sock);
                        } else if (si.ssi_signo) {
                                uint32_t sig = si.ssi_signo;
                                (void)silo_vm_send(sock, SILO_VM_SIGNAL, 0, &sig, sizeof(sig));
                        }
                }
                if (in >= 0 && pfd[2].revents) {
                        ssize_t n = read(in, buf, sizeof(buf));
                        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (n <= 0) {
                                in = -1;
                                n = 0;
                        }
                        (void)silo_vm_send(sock, SILO_VM_STDIN, 0, buf, (uint32_t)n);
                }
        }
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (raw)
                silo_tty_restore(STDIN_FILENO, &saved);
        if (r < 0)
                return r;
        *ret_status = status;
        return 0;
}
