/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * silo-vm-agent: /init of the VM sandbox's initramfs (static, glibc's libc.a, no libsilo).
 *
 * Boot: mount /proc /sys /dev, finit_module() every file listed in /modules (built by the host
 * in dependency order, uncompressed), open the virtio-serial port "silo" and read the CONFIG
 * frame (protocol: vm/proto.h), mount the container rootfs = overlay(erofs on /dev/vda, tmpfs
 * upper) with /proc /sys /dev /sys/fs/cgroup (cgroup2), move it onto / and chroot, create the
 * cgroup "ctr" with memory.max / pids.max from the config, set the hostname, send READY.
 * On START the process is forked (session 0), on EXEC another one (session n): it joins "ctr",
 * takes rlimits, the capability bounding set, groups, gid, uid, capabilities, cwd, env,
 * noNewPrivileges and the host-compiled seccomp filter (init.c's order), and execs with stdio on
 * pipes that the agent relays as STDOUT/STDERR/STDIN frames of its session; SIGNAL frames are
 * delivered to it; its wait status goes back as EXIT.  Sessions are independent; the host stops
 * the VM after EXIT of 0.
 *
 * Invariants: the agent is pid 1 and must never exit (the kernel would panic: the host sees the
 * VMM end without EXIT and reports it).  Every fatal problem is reported once as an ERROR frame
 * (or on the console when the port is not there yet) and the agent then idles until the host
 * stops the VMM.  The tmpfs upper dies with the VM: nothing is written to the erofs image.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <grp.h>
#include <net/if.h>
#include <net/route.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "agent.h"
#include "proto.h"

static int port = -1;


static void write_all(int fd, const void *buf, size_t n)
{
        const char *p = buf;
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return;
                p += k;
                n -= (size_t)k;
        }
}

static void send_frame(uint32_t type, uint32_t id, const void *data, uint32_t len)
{
        char *buf = malloc(sizeof(struct silo_vm_hdr) + len);
        struct silo_vm_hdr h = {type, id, len};

        if (buf == NULL)
                return;
        memcpy(buf, &h, sizeof(h));
        if (len)
                memcpy(buf + sizeof(h), data, len);
        write_all(port, buf, sizeof(h) + len);
        free(buf);
}

/* Report and idle: pid 1 must not exit; the host stops the VMM. */
static __attribute__((noreturn, format(printf, 1, 2))) void fatal(const char *fmt, ...)
{
        char msg[1024];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (n < 0)
                n = 0;
        if ((size_t)n >= sizeof(msg))
                n = sizeof(msg) - 1;
        if (errno && (size_t)n + 64 < sizeof(msg))
                n += snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(errno));
        if (port >= 0)
                send_frame(SILO_VM_ERROR, 0, msg, (uint32_t)n);
        else
                dprintf(2, "silo-vm-agent: %s\n", msg);
        if (port < 0)
                reboot(RB_AUTOBOOT); /* -no-reboot: the VMM exits */
        for (;;)
                pause();
}

static void mkmount(const char *src, const char *dst, const char *type, unsigned long flags, const char *data)
{
        mkdir(dst, 0755);
        errno = 0;
        if (mount(src, dst, type, flags, data) < 0)
                fatal("mount %s on '%s'", type, dst);
}

static void load_modules(const char *list)
{
        char line[256];
        FILE *f = fopen(list, "re");

        if (f == NULL)
                return;
        while (fgets(line, sizeof(line), f)) {
                char path[300];
                line[strcspn(line, "\n")] = '\0';
                if (!*line)
                        continue;
                snprintf(path, sizeof(path), "/lib/%s", line);
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                errno = 0;
                if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST))
                        fatal("load module '%s'", line);
                close(fd);
        }
        fclose(f);
}

static void sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

/* /sys/class/virtio-ports/vportNpM/name == "silo" -> /dev/vportNpM (devtmpfs makes the node) */
static int open_port(void)
{
        for (int i = 0; i < 1000; i++) {
                DIR *d = opendir("/sys/class/virtio-ports");
                struct dirent *de;
                while (d && (de = readdir(d)) != NULL) {
                        char p[300], name[64] = "";
                        if (de->d_name[0] == '.')
                                continue;
                        snprintf(p, sizeof(p), "/sys/class/virtio-ports/%s/name", de->d_name);
                        int fd = open(p, O_RDONLY | O_CLOEXEC);
                        if (fd < 0)
                                continue;
                        ssize_t n = read(fd, name, sizeof(name) - 1);
                        close(fd);
                        name[n > 0 ? n : 0] = '\0';
                        name[strcspn(name, "\n")] = '\0';
                        if (strcmp(name, SILO_VM_PORT) == 0) {
                                snprintf(p, sizeof(p), "/dev/%s", de->d_name);
                                fd = open(p, O_RDWR | O_CLOEXEC);
                                if (fd >= 0) {
                                        closedir(d);
                                        return fd;
                                }
                        }
                }
                if (d)
                        closedir(d);
                sleep_ms(10);
        }
        errno = 0;
        fatal("virtio-serial port '" SILO_VM_PORT "' did not appear");
}

/*
 * No wait on the host's port lasts longer than this.  A guest under TCG was seen asleep for good
 * after the host's START had gone into the virtqueue (the host waiting for output, nothing else
 * to wake the guest); poll() on the port checks the virtqueue itself (virtio_console's
 * port_has_data), so a lost wake-up costs at most this long instead of the container.
 */
#define PORT_REPOLL_MS 1000

static void wait_port(void)
{
        struct pollfd p = {.fd = port, .events = POLLIN};
        for (;;) {
                int r = poll(&p, 1, PORT_REPOLL_MS);
                if (r > 0 || (r < 0 && errno != EINTR))
                        return; /* readable, or the read reports the error */
        }
}

static bool read_full(int fd, void *buf, size_t n)
{
        char *p = buf;
        while (n > 0) {
                if (fd == port)
                        wait_port();
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

/* Blocking read of one frame; the payload is NUL-terminated for convenience. */
static char *read_frame(struct silo_vm_hdr *h)
{
        char *buf;

        if (!read_full(port, h, sizeof(*h)))
                fatal("read from the host");
        if (h->len > SILO_VM_MAX_FRAME) {
                errno = 0;
                fatal("frame of %u bytes from the host", h->len);
        }
        buf = calloc(1, h->len + 1);
        if (buf == NULL || !read_full(port, buf, h->len))
                fatal("read from the host");
        return buf;
}

static void strv_push(char ***v, char *s)
{
        size_t n = 0;
        while (*v && (*v)[n])
                n++;
        *v = realloc(*v, (n + 2) * sizeof(char *));
        if (*v == NULL)
                fatal("out of memory");
        (*v)[n] = s;
        (*v)[n + 1] = NULL;
}

static void parse_config(char *buf, size_t len, struct config *c)
{
        char *end = buf + len;

        memset(c, 0, sizeof(*c));
        c->cwd = "/";
        while (buf < end) {
                char *key = buf, *val = buf + strlen(buf) + 1;
                if (val >= end)
                        break;
                buf = val + strlen(val) + 1;
                if (strcmp(key, "arg") == 0) {
                        strv_push(&c->args, val);
                } else if (strcmp(key, "env") == 0) {
                        strv_push(&c->env, val);
                } else if (strcmp(key, "cwd") == 0) {
                        c->cwd = val;
                } else if (strcmp(key, "hostname") == 0) {
                        c->hostname = val;
                } else if (strcmp(key, "uid") == 0) {
                        c->uid = (uid_t)strtoul(val, NULL, 10);
                } else if (strcmp(key, "gid") == 0) {
                        c->gid = (gid_t)strtoul(val, NULL, 10);
                } else if (strcmp(key, "gid+") == 0 && c->n_gids < 64) {
                        c->gids[c->n_gids++] = (gid_t)strtoul(val, NULL, 10);
                } else if (strcmp(key, "rlimit") == 0 && c->n_rlimits < 32) {
                        long long res, soft, hard;
                        if (sscanf(val, "%lld %lld %lld", &res, &soft, &hard) == 3) {
                                c->rlimits[c->n_rlimits].res = (int)res;
                                c->rlimits[c->n_rlimits].rl.rlim_cur =
                                    soft < 0 ? RLIM_INFINITY : (rlim_t)soft;
                                c->rlimits[c->n_rlimits].rl.rlim_max =
                                    hard < 0 ? RLIM_INFINITY : (rlim_t)hard;
                                c->n_rlimits++;
                        }
                } else if (strcmp(key, "memory") == 0) {
                        c->memory = val;
                } else if (strcmp(key, "pids") == 0) {
                        c->pids = val;
                } else if (strcmp(key, "net") == 0) {
                        c->net = val;
                } else if (strcmp(key, "readonly") == 0) {
                        c->readonly = strcmp(val, "1") == 0;
                } else if (strcmp(key, "terminal") == 0) {
                        c->terminal = strcmp(val, "1") == 0;
                } else if (strcmp(key, "detach") == 0) {
                        c->detach = strcmp(val, "1") == 0;
                } else if (strcmp(key, "caps") == 0) {
                        unsigned long long v[5] = {0};
                        /* fails closed: a set that does not parse is an empty one */
                        if (sscanf(val, "%llx %llx %llx %llx %llx", &v[0], &v[1], &v[2], &v[3], &v[4]) != 5)
                                memset(v, 0, sizeof(v));
                        c->caps = true;
                        c->cap_bnd = v[0], c->cap_eff = v[1], c->cap_inh = v[2], c->cap_prm = v[3],
                        c->cap_amb = v[4];
                } else if (strcmp(key, "nnp") == 0) {
                        c->nnp = strcmp(val, "1") == 0;
                } else if (strcmp(key, "bind") == 0 && c->n_binds < 64) {
                        char *flags = strchr(val, ' '), *dest = flags ? strchr(flags + 1, ' ') : NULL;
                        if (dest && dest[1] == '/') {
                                *flags = *dest = '\0';
                                c->binds[c->n_binds].name = val;
                                c->binds[c->n_binds].ro = strcmp(flags + 1, "ro") == 0;
                                c->binds[c->n_binds++].dest = dest + 1;
                        }
                } else if (strcmp(key, "tmpfs") == 0 && c->n_tmpfs < 32) {
                        char *data = strchr(val, ' '), *dest = data ? strchr(data + 1, ' ') : NULL;
                        if (dest && dest[1] == '/') {
                                *data = *dest = '\0';
                                c->tmpfs[c->n_tmpfs].flags = strtoul(val, NULL, 10);
                                c->tmpfs[c->n_tmpfs].data = strcmp(data + 1, "-") ? data + 1 : NULL;
                                c->tmpfs[c->n_tmpfs++].dest = dest + 1;
                        }
                } else if (strcmp(key, "seccomp") == 0) {
                        char *hex = strchr(val, ' ');
                        c->seccomp_flags = (unsigned)strtoul(val, NULL, 10);
                        c->seccomp = hex ? hex + 1 : NULL;
                }
        }
        if (c->args == NULL) {
                errno = 0;
                fatal("config: no process args");
        }
}

static void write_str(const char *path, const char *s)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        errno = 0;
        if (fd < 0 || write(fd, s, strlen(s)) < 0)
                fatal("write '%s' to '%s'", s, path);
        close(fd);
}

/* the config's mounts in the rootfs, in its order within each kind: tmpfs ones first, then the
 * host bind mounts, the 9p share "binds" at /binds whose entry <i> is bound onto the destination
 * (runtime/sandbox-vm.c plan_binds) */
static void setup_mounts(const struct config *c)
{
        char proc[64];
        int rootfd;

        if (c->n_binds == 0 && c->n_tmpfs == 0)
                return;
        rootfd = open("/newroot", O_PATH | O_DIRECTORY | O_CLOEXEC);
        errno = 0;
        if (rootfd < 0)
                fatal("open /newroot");
        for (int i = 0; i < c->n_tmpfs; i++) {
                int fd = agent_mount_point(rootfd, c->tmpfs[i].dest, true);
                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
                if (fd < 0 || mount("tmpfs", proc, "tmpfs", c->tmpfs[i].flags, c->tmpfs[i].data) < 0)
                        fatal("tmpfs on '%s'", c->tmpfs[i].dest);
                close(fd);
        }
        if (c->n_binds) {
                load_modules("/modules.9p");
                mkmount("binds", "/binds", "9p", 0, "trans=virtio,version=9p2000.L,msize=262144,cache=none");
        }
        for (int i = 0; i < c->n_binds; i++) {
                char src[96];
                struct stat st;
                int fd;

                snprintf(src, sizeof(src), "/binds/%s", c->binds[i].name);
                errno = 0;
                if (strchr(c->binds[i].name, '/') || stat(src, &st) < 0 ||
                    (fd = agent_mount_point(rootfd, c->binds[i].dest, S_ISDIR(st.st_mode))) < 0)
                        fatal("the mount point '%s'", c->binds[i].dest);
                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
                if (mount(src, proc, NULL, MS_BIND | MS_REC, NULL) < 0)
                        fatal("bind '%s'", c->binds[i].dest);
                close(fd);
                if (c->binds[i].ro) { /* the new mount itself: the destination opened again */
                        fd = agent_open_in_root(rootfd, c->binds[i].dest, O_PATH);
                        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
                        if (fd < 0 || mount(NULL, proc, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
                                fatal("read-only '%s'", c->binds[i].dest);
                        close(fd);
                }
        }
        close(rootfd);
}

static void setup_rootfs(const struct config *c)
{
        struct stat st;
        int i;

        for (i = 0; i < 1000 && stat("/dev/vda", &st) < 0; i++)
                sleep_ms(5);
        /* a read-only root is the image itself when it has the mount points (/proc, /sys, /dev:
         * every real image does); otherwise, or writable, overlay(image, tmpfs) */
        if (c->readonly) {
                mkmount("/dev/vda", "/newroot", "erofs", MS_RDONLY, NULL);
                if (stat("/newroot/proc", &st) == 0 && stat("/newroot/sys", &st) == 0 &&
                    stat("/newroot/dev", &st) == 0)
                        goto mounted;
                umount2("/newroot", 0);
        }
        load_modules("/modules.rw");
        mkmount("/dev/vda", "/lower", "erofs", MS_RDONLY, NULL);
        mkmount("tmpfs", "/rw", "tmpfs", 0, "mode=0755");
        mkdir("/rw/upper", 0755);
        mkdir("/rw/work", 0755);
        mkmount("overlay", "/newroot", "overlay", 0, "lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work");
mounted:
        mkmount("proc", "/newroot/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
        mkmount("sysfs", "/newroot/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
        mkdir("/newroot/dev", 0755);
        errno = 0;
        if (mount("/dev", "/newroot/dev", NULL, MS_MOVE, NULL) < 0)
                fatal("move /dev");
        mkmount("cgroup2", "/newroot/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
        mkmount("devpts", "/newroot/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666");
        mkmount("shm", "/newroot/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
        setup_mounts(c);
        umount2("/proc", MNT_DETACH);
        umount2("/sys", MNT_DETACH);
        errno = 0;
        if (chdir("/newroot") < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
            chdir("/") < 0)
                fatal("switch to the container rootfs");
}

static void if_up(int fd, const char *name, const char *addr, const char *mask)
{
        struct ifreq ifr;
        struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

        memset(&ifr, 0, sizeof(ifr));
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
        errno = 0;
        if (addr) {
                sin->sin_family = AF_INET;
                if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1 || ioctl(fd, SIOCSIFADDR, &ifr) < 0)
                        fatal("address '%s' on %s", addr, name);
                if (inet_pton(AF_INET, mask, &sin->sin_addr) != 1 || ioctl(fd, SIOCSIFNETMASK, &ifr) < 0)
                        fatal("netmask '%s' on %s", mask, name);
        }
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                fatal("flags of %s", name);
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                fatal("bring %s up", name);
}

/* lo up; with a network (virtio_net loaded): the NIC = the user-mode (slirp) one of the host. */
static void setup_net(const struct config *c)
{
        char addr[32], mask[32], gw[32];
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        errno = 0;
        if (fd < 0)
                fatal("socket");
        if_up(fd, "lo", NULL, NULL);
        if (c->net == NULL) {
                close(fd);
                return;
        }
        if (sscanf(c->net, "%31s %31s %31s", addr, mask, gw) != 3)
                fatal("config: net '%s'", c->net);
        char nic[IFNAMSIZ] = "";
        for (int i = 0; i < 400 && !*nic; i++) { /* the NIC: the first interface besides lo */
                DIR *d = opendir("/sys/class/net");
                struct dirent *de;
                while (d && (de = readdir(d)) != NULL)
                        if (de->d_name[0] != '.' && strcmp(de->d_name, "lo") != 0)
                                snprintf(nic, sizeof(nic), "%.15s", de->d_name);
                if (d)
                        closedir(d);
                if (!*nic)
                        sleep_ms(5);
        }
        errno = 0;
        if (!*nic)
                fatal("no network interface appeared");
        if_up(fd, nic, addr, mask);
        struct rtentry rt;
        memset(&rt, 0, sizeof(rt));
        ((struct sockaddr_in *)&rt.rt_dst)->sin_family = AF_INET;
        ((struct sockaddr_in *)&rt.rt_genmask)->sin_family = AF_INET;
        ((struct sockaddr_in *)&rt.rt_gateway)->sin_family = AF_INET;
        errno = 0;
        if (inet_pton(AF_INET, gw, &((struct sockaddr_in *)&rt.rt_gateway)->sin_addr) != 1)
                fatal("gateway '%s'", gw);
        rt.rt_flags = RTF_UP | RTF_GATEWAY;
        if (ioctl(fd, SIOCADDRT, &rt) < 0)
                fatal("default route via %s", gw);
        close(fd);
}

static void setup_cgroup(const struct config *c)
{
        write_str("/sys/fs/cgroup/cgroup.subtree_control", "+memory +pids");
        errno = 0;
        if (mkdir("/sys/fs/cgroup/ctr", 0755) < 0 && errno != EEXIST)
                fatal("mkdir cgroup 'ctr'");
        if (c->memory) {
                write_str("/sys/fs/cgroup/ctr/memory.max", c->memory);
                write_str("/sys/fs/cgroup/ctr/memory.swap.max", "0");
        }
        if (c->pids)
                write_str("/sys/fs/cgroup/ctr/pids.max", c->pids);
}

/*
 * The process: stdio pipes in, settings applied, exec.  Errors go to its stderr, exit 127/126;
 * and to ack (-1: none), a close-on-exec pipe that sees EOF alone once execve succeeded.
 */
static __attribute__((noreturn)) void child(const struct config *c, int in, int out, int errfd, int ack)
{
        const char *what = "setsid";
        sigset_t none;

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (c->terminal) { /* `in` is the pty master: its peer becomes our controlling tty */
                int peer;
                what = "open the pty";
                if (setsid() < 0 || (peer = ioctl(in, TIOCGPTPEER, O_RDWR)) < 0 ||
                    ioctl(peer, TIOCSCTTY, 0) < 0 || dup2(peer, 0) < 0 || dup2(peer, 1) < 0 ||
                    dup2(peer, 2) < 0)
                        goto fail;
                if (peer > 2)
                        close(peer);
        } else if (setsid() < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0) {
                goto fail;
        }
        what = "join cgroup";
        int fd = open("/sys/fs/cgroup/ctr/cgroup.procs", O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "0", 1) < 0)
                goto fail;
        close(fd);
        what = "setrlimit";
        for (int i = 0; i < c->n_rlimits; i++)
                if (setrlimit(c->rlimits[i].res, &c->rlimits[i].rl) < 0)
                        goto fail;
        /* privileges in runtime/init.c's order (runc's): without noNewPrivileges the filter
         * needs CAP_SYS_ADMIN, so it goes before the uid switch; with it, right before exec */
        what = "/process/capabilities/bounding";
        if (c->caps && !agent_caps_bound(c))
                goto fail;
        what = "/linux/seccomp";
        if (c->seccomp && !c->nnp && !agent_seccomp_load(c))
                goto fail;
        what = "setgroups";
        if (setgroups((size_t)c->n_gids, c->gids) < 0)
                goto fail;
        what = "setgid";
        if (setgid(c->gid) < 0)
                goto fail;
        what = "setuid";
        if (setuid(c->uid) < 0)
                goto fail;
        what = "/process/capabilities";
        if (c->caps && !agent_caps_set(c))
                goto fail;
        what = "chdir to cwd";
        if (chdir(c->cwd) < 0)
                goto fail;
        clearenv();
        for (char **e = c->env; e && *e; e++)
                putenv(*e);
        if (getenv("PATH") == NULL)
                setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
        what = "/process/noNewPrivileges";
        if (c->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                goto fail;
        what = "/linux/seccomp";
        if (c->seccomp && c->nnp && !agent_seccomp_load(c))
                goto fail;
        execvp(c->args[0], c->args);
        int e = errno;
        dprintf(2, "exec '%s': %s\n", c->args[0], strerror(e));
        if (ack >= 0)
                dprintf(ack, "exec '%s': %s", c->args[0], strerror(e));
        _exit(e == ENOENT ? 127 : 126);
fail:
        e = errno;
        dprintf(2, "%s: %s\n", what, strerror(e));
        if (ack >= 0)
                dprintf(ack, "%s: %s", what, strerror(e));
        _exit(127);
}

/* One process being run: the container's (id 0) or an exec'd one. */
struct session {
        uint32_t id;
        pid_t pid;
        int in, out, err; /* -1 once closed */
        int status;       /* -1 while running */
        struct timespec exited;
        char *config_buf; /* the strings of cfg point into it */
        struct config cfg;
};

#define MAX_SESSIONS 64
static struct session *sessions[MAX_SESSIONS];

/* Relay one pipe read as a frame; false at EOF. */
static bool relay(int fd, uint32_t type, uint32_t id)
{
        char buf[16384];
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return true;
        if (n <= 0)
                return false;
        send_frame(type, id, buf, (uint32_t)n);
        return true;
}

static struct session *find(uint32_t id)
{
        for (int i = 0; i < MAX_SESSIONS; i++)
                if (sessions[i] && sessions[i]->id == id)
                        return sessions[i];
        return NULL;
}

static void spawn(uint32_t id, char *config_buf, const struct config *cfg)
{
        int in[2], out[2], errp[2], ack[2] = {-1, -1}, slot = -1;
        struct session *s;

        for (int i = 0; i < MAX_SESSIONS && slot < 0; i++)
                if (sessions[i] == NULL)
                        slot = i;
        if (slot < 0 || find(id)) {
                const char *m = slot < 0 ? "too many exec sessions" : "session id in use";
                send_frame(SILO_VM_ERROR, id, m, (uint32_t)strlen(m));
                free(config_buf);
                return;
        }
        if (cfg->detach && id != 0) { /* exec -d: nobody reads its output or writes its input */
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null < 0 || pipe2(ack, O_CLOEXEC) < 0) {
                        const char *m = null < 0 ? "exec -d: open /dev/null" : "exec -d: pipe";
                        send_frame(SILO_VM_ERROR, id, m, (uint32_t)strlen(m));
                        if (null >= 0)
                                close(null);
                        free(config_buf);
                        return;
                }
                in[0] = out[1] = errp[1] = null;
                in[1] = out[0] = errp[0] = -1;
        } else if (cfg->terminal) {
                int m = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC), unlock = 0;
                if (m < 0 || ioctl(m, TIOCSPTLCK, &unlock) < 0) {
                        if (id == 0)
                                fatal("open /dev/pts/ptmx");
                        send_frame(SILO_VM_ERROR, id, "open /dev/pts/ptmx", 18);
                        free(config_buf);
                        return;
                }
                in[0] = in[1] = out[0] = out[1] = m;
                errp[0] = errp[1] = -1;
        } else if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
                if (id == 0)
                        fatal("pipes");
                send_frame(SILO_VM_ERROR, id, "pipes", 5);
                free(config_buf);
                return;
        }
        s = calloc(1, sizeof(*s));
        if (s == NULL)
                fatal("out of memory");
        s->id = id;
        s->status = -1;
        s->config_buf = config_buf;
        s->cfg = *cfg;
        s->pid = fork();
        if (s->pid < 0)
                fatal("fork");
        if (s->pid == 0)
                child(&s->cfg, in[0], out[1], errp[1], ack[1]);
        if (ack[0] >= 0) { /* detached: /dev/null once, and whether execve succeeded */
                char msg[512];
                size_t got = 0;
                ssize_t r;
                close(in[0]);
                close(ack[1]);
                while (got < sizeof(msg) - 1 &&
                       ((r = read(ack[0], msg + got, sizeof(msg) - 1 - got)) > 0 || (r < 0 && errno == EINTR)))
                        got += r > 0 ? (size_t)r : 0;
                close(ack[0]);
                if (got > 0)
                        send_frame(SILO_VM_ERROR, id, msg, (uint32_t)got);
                else
                        send_frame(SILO_VM_STARTED, id, NULL, 0);
        } else if (!cfg->terminal) {
                close(in[0]);
                close(out[1]);
                close(errp[1]);
        }
        s->in = in[1]; /* with a terminal: in == out == the pty master */
        s->out = out[0];
        s->err = errp[0];
        sessions[slot] = s;
}

static long ms_since(const struct timespec *t)
{
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

static void session_end(int slot)
{
        struct session *s = sessions[slot];
        uint32_t st = (uint32_t)s->status;

        send_frame(SILO_VM_EXIT, s->id, &st, sizeof(st));
        if (s->in >= 0 && s->in != s->out)
                close(s->in);
        if (s->out >= 0)
                close(s->out);
        if (s->err >= 0)
                close(s->err);
        free(s->cfg.args);
        free(s->cfg.env);
        free(s->config_buf);
        free(s);
        sessions[slot] = NULL;
}

/* A frame from the host while sessions run. */
static void host_frame(void)
{
        struct silo_vm_hdr h;
        char *buf = read_frame(&h);
        struct session *s = find(h.id);

        if (h.type == SILO_VM_EXEC && h.id != 0) {
                struct config cfg;
                struct session *main_s = find(0);
                if (main_s == NULL || main_s->status >= 0) {
                        const char *m = "the container's process has exited";
                        send_frame(SILO_VM_ERROR, h.id, m, (uint32_t)strlen(m));
                        free(buf);
                        return;
                }
                parse_config(buf, h.len, &cfg);
                spawn(h.id, buf, &cfg);
                return;
        }
        if (h.type == SILO_VM_SIGNAL && h.len == 4 && s && s->status < 0) {
                uint32_t sig;
                memcpy(&sig, buf, 4);
                kill(s->pid, (int)sig);
        } else if (h.type == SILO_VM_STDIN && s && s->in >= 0) {
                if (h.len == 0) {
                        if (s->in != s->out) /* a pty has no EOF to pass on: keep it open */
                                close(s->in);
                        s->in = -1;
                } else {
                        write_all(s->in, buf, h.len);
                }
        } else if (h.type == SILO_VM_RESIZE && s && s->cfg.terminal && h.len == 4) {
                uint16_t rc[2];
                memcpy(rc, buf, 4);
                struct winsize ws = {.ws_row = rc[0], .ws_col = rc[1]};
                ioctl(s->out, TIOCSWINSZ, &ws);
        }
        free(buf);
}

/* Other sessions than the one in slot self still open? */
static bool others_running(int self)
{
        for (int i = 0; i < MAX_SESSIONS; i++)
                if (i != self && sessions[i])
                        return true;
        return false;
}

/*
 * The container's process ended while exec'd ones still run: they die with it, as the
 * processes of a pid namespace die with its init (runc: exec then reports 128+9).  cgroup.kill
 * takes every process in "ctr", also the ones the exec'd processes forked; kill() per session
 * covers a process that had not joined the cgroup yet.  Their EXIT frames go out before the
 * container's, which makes the host stop the VM: every exec client gets its status.
 */
static void stop_the_rest(void)
{
        static bool done;
        int fd;

        if (done)
                return;
        done = true;
        fd = open("/sys/fs/cgroup/ctr/cgroup.kill", O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
                (void)!write(fd, "1", 1);
                close(fd);
        }
        for (int i = 0; i < MAX_SESSIONS; i++)
                if (sessions[i] && sessions[i]->id != 0 && sessions[i]->status < 0)
                        kill(sessions[i]->pid, SIGKILL);
}

/*
 * The main loop: every session's pipes, SIGCHLD, the host.  After a process exits, its children
 * may still hold the pipes: they are relayed until both are closed, but at most 200 ms longer,
 * then EXIT goes out.
 */
static __attribute__((noreturn)) void serve(char *config_buf, const struct config *c)
{
        struct pollfd p[2 + 2 * MAX_SESSIONS];
        int owner[2 + 2 * MAX_SESSIONS];
        sigset_t mask;
        int sfd;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        errno = 0;
        if (sfd < 0)
                fatal("signalfd");
        spawn(0, config_buf, c);
        for (;;) {
                int n = 0, timeout = -1;
                p[n++] = (struct pollfd){sfd, POLLIN, 0};
                p[n++] = (struct pollfd){port, POLLIN, 0};
                for (int i = 0; i < MAX_SESSIONS; i++) {
                        struct session *s = sessions[i];
                        if (s == NULL)
                                continue;
                        if (s->status >= 0) {
                                long left = 200 - ms_since(&s->exited);
                                if ((s->out < 0 && s->err < 0) || left <= 0) {
                                        if (s->id == 0 && others_running(i) && left > -2000) {
                                                stop_the_rest(); /* their EXIT first, 2 s at most */
                                                if (timeout < 0 || timeout > 50)
                                                        timeout = 50;
                                                continue;
                                        }
                                        session_end(i);
                                        continue;
                                }
                                if (timeout < 0 || left < timeout)
                                        timeout = (int)left;
                        }
                        if (s->out >= 0) {
                                owner[n] = i;
                                p[n++] = (struct pollfd){s->out, POLLIN, 0};
                        }
                        if (s->err >= 0) {
                                owner[n] = i;
                                p[n++] = (struct pollfd){s->err, POLLIN, 0};
                        }
                }
                if (timeout < 0 || timeout > PORT_REPOLL_MS)
                        timeout = PORT_REPOLL_MS; /* see wait_port */
                if (poll(p, (nfds_t)n, timeout) < 0)
                        continue;
                if (p[0].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        int ws;
                        pid_t w;
                        (void)!read(sfd, &si, sizeof(si));
                        while ((w = waitpid(-1, &ws, WNOHANG)) > 0)
                                for (int i = 0; i < MAX_SESSIONS; i++)
                                        if (sessions[i] && sessions[i]->pid == w && sessions[i]->status < 0) {
                                                sessions[i]->status =
                                                    WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
                                                clock_gettime(CLOCK_MONOTONIC, &sessions[i]->exited);
                                        }
                }
                for (int k = 2; k < n; k++) {
                        struct session *s = sessions[owner[k]];
                        if (s == NULL || !p[k].revents)
                                continue;
                        bool is_out = p[k].fd == s->out;
                        if (!relay(p[k].fd, is_out ? SILO_VM_STDOUT : SILO_VM_STDERR, s->id)) {
                                close(p[k].fd); /* a pty master: EIO once every peer is closed */
                                if (is_out) {
                                        if (s->in == s->out)
                                                s->in = -1;
                                        s->out = -1;
                                } else {
                                        s->err = -1;
                                }
                        }
                }
                if (p[1].revents & POLLIN)
                        host_frame();
        }
}

int main(void)
{
        struct silo_vm_hdr h;
        struct config c;
        char *buf;

        mkdir("/proc", 0755);
        mkdir("/sys", 0755);
        mkdir("/dev", 0755);
        mount("proc", "/proc", "proc", 0, NULL);
        mount("sysfs", "/sys", "sysfs", 0, NULL);
        mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
        load_modules("/modules");
        port = open_port();
        buf = read_frame(&h);
        if (h.type != SILO_VM_CONFIG) {
                errno = 0;
                fatal("expected CONFIG, got frame type %u", h.type);
        }
        parse_config(buf, h.len, &c); /* c points into buf: kept for the whole VM */
        if (c.net)
                load_modules("/modules.net"); /* from the initramfs: before the switch */
        setup_rootfs(&c);
        setup_net(&c);
        setup_cgroup(&c);
        errno = 0;
        if (c.hostname && sethostname(c.hostname, strlen(c.hostname)) < 0)
                fatal("sethostname '%s'", c.hostname);
        signal(SIGPIPE, SIG_IGN);
        send_frame(SILO_VM_READY, 0, NULL, 0);
        for (;;) {
                char *b = read_frame(&h);
                free(b);
                if (h.type == SILO_VM_START)
                        break;
        }
        serve(buf, &c);
}
