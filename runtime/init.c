/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Namespaces backend, child side: everything the container init does between clone3 and
 * execve(process.args).  See sync.h for the message exchange with the parent.
 *
 * Invariants while this code runs:
 *   - the process is non-dumpable (PR_SET_DUMPABLE 0) from the first line: it holds host fds
 *     (state dir, namespaces, log) while it shares namespaces with container processes that may
 *     already exist (joined namespaces), so nothing may ptrace it or open its /proc/<pid>/fd
 *     (CVE-2016-9962).  execve resets dumpability for the payload.
 *   - every host fd is O_CLOEXEC; fds above the preserved ones are marked CLOEXEC at entry
 *     (close_range), so exactly 0-2 + --preserve-fds reach the payload (CVE-2024-21626).
 *   - errors go to the parent as SYNC_ERROR and the child _exit()s; after SYNC_READY the parent
 *     is gone, so a late failure (exec) is written to stderr and exits 127.
 *   - no allocation after the seccomp filter is loaded with NoNewPrivileges (just execve).
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdlib.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "caps.h"
#include "fd.h"
#include "hooks.h"
#include "log.h"
#include "rootfs.h"
#include "sandbox.h"
#include "seccomp.h"
#include "sync.h"
#include "terminal.h"
#include "util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#define KEYCTL_JOIN_SESSION_KEYRING 1

/* the state JSON handed over with SYNC_HOOKS_DONE, kept for the startContainer hooks */
static char *start_hook_state;

static const char default_path[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

static int join_namespaces(struct silo_init_args *a, bool mount_ns, silo_error_t *err)
{
        /* the user namespace first: every other join needs its capabilities; the mount
         * namespace last: it changes the root the rest of setup sees */
        static const enum silo_ns_type order[] = {SILO_NS_USER,  SILO_NS_IPC,    SILO_NS_UTS, SILO_NS_NETWORK,
                                                  SILO_NS_PID,   SILO_NS_CGROUP, SILO_NS_TIME};
        if (mount_ns) {
                if (a->ns_fds[SILO_NS_MOUNT] >= 0 && setns(a->ns_fds[SILO_NS_MOUNT], CLONE_NEWNS) < 0)
                        return silo_error_set(err, errno, "join mount namespace");
                return 0;
        }
        for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
                int fd = a->ns_fds[order[i]];
                if (fd < 0)
                        continue;
                if (setns(fd, silo_ns_clone_flag(order[i])) < 0)
                        return silo_error_set(err, errno, "join %s namespace", silo_ns_type_name(order[i]));
        }
        return 0;
}

static int write_time_offsets(const struct silo_linux *lx, silo_error_t *err)
{
        const struct {
                const char *name;
                const struct silo_time_offset *o;
        } clocks[] = {{"monotonic", &lx->time_monotonic}, {"boottime", &lx->time_boottime}};

        for (size_t i = 0; i < ARRAY_SIZE(clocks); i++) {
                char line[96];
                if (!clocks[i].o->present)
                        continue;
                snprintf(line, sizeof(line), "%s %lld %u\n", clocks[i].name, (long long)clocks[i].o->secs,
                         clocks[i].o->nanosecs);
                if (silo_write_file_at(AT_FDCWD, "/proc/self/timens_offsets", line, strlen(line), err) < 0)
                        return silo_error_wrap(err, "/linux/timeOffsets/%s", clocks[i].name);
        }
        return 0;
}

/* Write a /proc/sys file, checking that the file opened is procfs's: whatever is mounted over
 * /proc/sys or one of its dirs (a container's own mounts, a hostile image's /proc mount point
 * games) is refused instead of written to (CVE-2019-19921-style redirects). */
static int write_proc_sys(const char *path, const char *v, silo_error_t *err)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        struct statfs sfs;
        size_t len = strlen(v);

        if (fd < 0)
                return silo_error_set(err, errno, "open '%s'", path);
        if (fstatfs(fd, &sfs) < 0)
                return silo_error_set(err, errno, "fstatfs '%s'", path);
        if (sfs.f_type != PROC_SUPER_MAGIC)
                return silo_error_set(err, EXDEV, "'%s' is not on procfs (filesystem magic 0x%lx)", path,
                                      (unsigned long)sfs.f_type);
        if (write(fd, v, len) != (ssize_t)len)
                return silo_error_set(err, errno, "write '%s'", path);
        return 0;
}

static int apply_sysctl(const struct silo_linux *lx, silo_error_t *err)
{
        for (size_t i = 0; lx && i < lx->n_sysctl; i++) {
                char path[512];
                const char *k = lx->sysctl[i].key, *v = lx->sysctl[i].value;
                size_t n = (size_t)snprintf(path, sizeof(path), "/proc/sys/%s", k);
                if (n >= sizeof(path) || strstr(k, ".."))
                        return silo_error_set(err, 0, "/linux/sysctl/%s: invalid name", k);
                for (char *p = path + strlen("/proc/sys/"); *p; p++)
                        if (*p == '.')
                                *p = '/';
                if (write_proc_sys(path, v, err) < 0)
                        return silo_error_wrap(err, "/linux/sysctl/%s", k);
        }
        return 0;
}

/* runc-compatible error strings: podman maps them to exit codes 127/126 (interfaces.md §1.8). */
static int lookup_executable(const struct silo_process *p, char **ret, silo_error_t *err)
{
        const char *name = p->args[0];
        const char *path_env = NULL;
        bool denied = false;
        struct stat st;

        if (strchr(name, '/')) {
                if (stat(name, &st) < 0)
                        return silo_error_set(err, 0, "exec: \"%s\": stat %s: %s", name, name,
                                              errno == ENOENT ? "no such file or directory" : strerror(errno));
                if (S_ISDIR(st.st_mode) || faccessat(AT_FDCWD, name, X_OK, AT_EACCESS) < 0)
                        return silo_error_set(err, 0, "exec: \"%s\": permission denied", name);
                *ret = silo_xstrdup(name);
                return 0;
        }
        for (char **e = p->env; e && *e; e++)
                if (silo_str_has_prefix(*e, "PATH="))
                        path_env = *e + 5;
        if (path_env == NULL)
                path_env = default_path;
        for (const char *s = path_env;;) {
                const char *end = strchrnul(s, ':');
                _cleanup_free_ char *cand =
                        silo_xasprintf("%.*s/%s", (int)(end - s), end == s ? "." : s, name);
                if (stat(cand, &st) == 0 && !S_ISDIR(st.st_mode)) {
                        if (faccessat(AT_FDCWD, cand, X_OK, AT_EACCESS) == 0) {
                                *ret = TAKE_PTR(cand);
                                return 0;
                        }
                        denied = true;
                }
                if (*end == '\0')
                        break;
                s = end + 1;
        }
        if (denied)
                return silo_error_set(err, 0, "exec: \"%s\": permission denied", name);
        return silo_error_set(err, 0, "exec: \"%s\": executable file not found in $PATH", name);
}

/* runc and crun add HOME when the config does not set it: the user's home from the
 * container's /etc/passwd (read after pivot_root, so it is the container's file), else "/". */
static char **env_with_home(const struct silo_process *p)
{
        _cleanup_free_ char *passwd = NULL;
        char **env = silo_strv_dup(p->env);
        const char *home = "/";
        size_t len = 0;

        for (char **e = env; *e; e++)
                if (silo_str_has_prefix(*e, "HOME="))
                        return env;
        if (silo_read_file_at(AT_FDCWD, "/etc/passwd", 1u << 20, &passwd, &len, NULL) == 0) {
                for (char *line = passwd, *next; line && *line; line = next) {
                        char *f[7] = {0};
                        int n = 0;
                        next = strchr(line, '\n');
                        if (next)
                                *next++ = '\0';
                        for (char *c = line; n < 7; n++) {
                                f[n] = c;
                                c = strchr(c, ':');
                                if (!c)
                                        break;
                                *c++ = '\0';
                        }
                        uint64_t uid;
                        if (n >= 5 && f[2] && silo_parse_u64(f[2], &uid) == 0 && uid == p->user.uid && f[5] &&
                            f[5][0] == '/') {
                                home = f[5];
                                break;
                        }
                }
        }
        silo_strv_push(&env, silo_xasprintf("HOME=%s", home));
        return env;
}

static int set_user(const struct silo_process *p, silo_error_t *err)
{
        const struct silo_user *u = &p->user;

        if (setgroups(u->n_additional_gids, u->additional_gids) < 0 && errno != EPERM)
                return silo_error_set(err, errno, "/process/user/additionalGids: setgroups");
        if (setresgid(u->gid, u->gid, u->gid) < 0)
                return silo_error_set(err, errno, "/process/user/gid: setresgid(%u)", u->gid);
        if (setresuid(u->uid, u->uid, u->uid) < 0)
                return silo_error_set(err, errno, "/process/user/uid: setresuid(%u)", u->uid);
        return 0;
}

/*
 * Order, as runc's standard_init explains it: without NoNewPrivileges a seccomp filter can only
 * be loaded while we still hold CAP_SYS_ADMIN, i.e. before the uid switch and capset; with it,
 * the filter goes as close to execve as possible so it does not have to allow setup syscalls.
 */
static int apply_security(struct silo_init_args *a, const struct silo_process *p, silo_error_t *err)
{
        int r;

        if (p->caps.present) {
                if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                        return silo_error_set(err, errno, "prctl(PR_SET_KEEPCAPS)");
                r = silo_caps_drop_bounding(&p->caps, err);
                if (r < 0)
                        return silo_error_wrap(err, "/process/capabilities/bounding");
        }
        /* a notify filter is loaded here in any case: its listener fd must reach the parent,
         * which is gone after SYNC_READY (NoNewPrivileges is then set first) */
        if (a->seccomp && (!p->no_new_privileges || a->seccomp->notify)) {
                int lfd = -1;
                if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        return silo_error_set(err, errno, "/process/noNewPrivileges");
                r = silo_seccomp_load(a->seccomp, &lfd, err);
                if (r < 0)
                        return silo_error_wrap(err, "/linux/seccomp");
                if (lfd >= 0) {
                        struct silo_sync_msg m;
                        r = silo_sync_send(a->sync_fd, SYNC_SECCOMP, 0, "seccomp", 7, lfd);
                        close(lfd);
                        if (r < 0)
                                return silo_error_set(err, -r, "send seccomp listener fd");
                        r = silo_sync_expect(a->sync_fd, SYNC_SECCOMP_DONE, &m, err);
                        if (r < 0)
                                return r;
                        silo_sync_msg_clear(&m);
                }
        }
        r = set_user(p, err);
        if (r < 0)
                return r;
        if (p->caps.present) {
                r = silo_caps_apply(&p->caps, err);
                if (r < 0)
                        return silo_error_wrap(err, "/process/capabilities");
                prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
        }
        if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return silo_error_set(err, errno, "/process/noNewPrivileges");
        return 0;
}

static int apply_sched(const struct silo_process *p, silo_error_t *err)
{
        if (p->scheduler.present) {
                struct {
                        uint32_t size, policy;
                        uint64_t flags;
                        int32_t nice;
                        uint32_t priority;
                        uint64_t runtime, deadline, period;
                } attr = {
                        .size = 48,
                        .policy = (uint32_t)p->scheduler.policy,
                        .flags = p->scheduler.flags,
                        .nice = p->scheduler.nice,
                        .priority = (uint32_t)p->scheduler.priority,
                        .runtime = p->scheduler.runtime,
                        .deadline = p->scheduler.deadline,
                        .period = p->scheduler.period,
                };
                if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
                        return silo_error_set(err, errno, "/process/scheduler: sched_setattr");
        }
        if (p->io_priority.present) {
                int prio = (p->io_priority.klass << 13) | p->io_priority.priority;
                if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, prio) < 0)
                        return silo_error_set(err, errno, "/process/ioPriority: ioprio_set");
        }
        return 0;
}

static int setup_terminal(struct silo_init_args *a, const struct silo_process *p, silo_error_t *err)
{
        _cleanup_close_ int master = -1, peer = -1;
        int r;

        r = silo_pty_open("/dev/pts/ptmx", p->has_console_size ? p->console_height : 0,
                          p->has_console_size ? p->console_width : 0, &master, &peer, err);
        if (r < 0)
                return silo_error_wrap(err, "/process/terminal");
        /* the init's terminal is also the container's /dev/console; an exec'd one is not */
        r = a->exec ? 0 : silo_pty_bind_console(peer, err);
        if (r < 0)
                return silo_error_wrap(err, "/process/terminal");
        r = silo_sync_send(a->sync_fd, SYNC_PTY, 0, "pty", 3, master);
        if (r < 0)
                return silo_error_set(err, -r, "send pty master");
        r = silo_pty_make_controlling(peer, err);
        if (r < 0)
                return r;
        if (peer <= 2)
                peer = -1; /* now one of our stdio fds */
        return 0;
}

static int cmp_int(const void *x, const void *y)
{
        return *(const int *)x - *(const int *)y;
}

/*
 * Close every fd the init does not need: clone3 copied the parent's whole table (the locked
 * state dir, the console socket, ...) and O_CLOEXEC only acts at execve; a copy kept until
 * then would hold the state lock or a caller's socket while the init waits for `start`.
 * Kept: 0-2, the preserved fds, the sync socket, the state dir O_PATH fd, namespace fds, the
 * log.  The kept ones are CLOEXEC; preserved ones are made inheritable just before execve.
 */
static void close_inherited_fds(struct silo_init_args *a)
{
        int keep[16], n = 0, from = 3 + a->preserve_fds;

        keep[n++] = a->sync_fd;
        keep[n++] = a->state_dirfd;
        keep[n++] = a->rootfs_mount_fd;
        keep[n++] = silo_log_fd();
        for (size_t i = 0; i < ARRAY_SIZE(a->ns_fds); i++)
                keep[n++] = a->ns_fds[i];
        qsort(keep, (size_t)n, sizeof(int), cmp_int);
        for (int i = 0; i <= n; i++) {
                int to = i < n ? keep[i] - 1 : INT_MAX;
                if (i < n && keep[i] < from)
                        continue;
                if (to >= from && syscall(SYS_close_range, from, (unsigned)to, 0) < 0)
                        for (int fd = from; fd <= to && fd < 65536; fd++)
                                close(fd);
                if (i < n)
                        from = keep[i] + 1;
        }
}

/* First thing in a new child: into the v1 cgroups (writing "0" to the tasks fds the parent
 * opened, see cgroup.h), then drop every inherited fd we do not need.  Exits on failure. */
static void enter_cgroups_and_close_fds(struct silo_init_args *a)
{
        silo_error_t err = NULL;

        for (size_t i = 0; i < a->n_cg_fds; i++) {
                if (write(a->cg_fds[i], "0", 1) != 1) {
                        silo_error_set(&err, errno, "join cgroup (v1 tasks file)");
                        silo_sync_send_error(a->sync_fd, err);
                        _exit(1);
                }
                close(a->cg_fds[i]);
        }
        close_inherited_fds(a);
}

static int init_setup(struct silo_init_args *a, char **ret_exe, silo_error_t *err)
{
        const struct silo_spec *spec = a->spec;
        const struct silo_linux *lx = spec->linux_;
        const struct silo_process *p = spec->process;
        struct silo_sync_msg m;
        int r;

        r = silo_sync_expect(a->sync_fd, SYNC_GO, &m, err);
        if (r < 0)
                return r;
        silo_sync_msg_clear(&m);

        r = join_namespaces(a, false, err);
        if (r < 0)
                return r;
        if (a->unshare_flags) {
                if (unshare(a->unshare_flags) < 0)
                        return silo_error_set(err, errno, "unshare namespaces (flags 0x%x)", a->unshare_flags);
                if (a->new_userns_unshared) {
                        r = silo_sync_send(a->sync_fd, SYNC_IDMAP_REQ, 0, NULL, 0, -1);
                        if (r < 0)
                                return silo_error_set(err, -r, "sync: request id maps");
                        r = silo_sync_expect(a->sync_fd, SYNC_IDMAP_DONE, &m, err);
                        if (r < 0)
                                return r;
                        silo_sync_msg_clear(&m);
                }
                if ((a->unshare_flags & CLONE_NEWTIME) && lx) {
                        r = write_time_offsets(lx, err);
                        if (r < 0)
                                return r;
                }
        }
        r = join_namespaces(a, true, err);
        if (r < 0)
                return r;
        if (a->fork_init) {
                pid_t pid = fork();
                if (pid < 0)
                        return silo_error_set(err, errno, "fork container init");
                if (pid > 0) {
                        /* the intermediate: report the init and go; the parent reaps us */
                        silo_sync_send(a->sync_fd, SYNC_PID, pid, NULL, 0, -1);
                        _exit(0);
                }
        }
        if (a->userns) {
                /* become root of the user namespace (the parent wrote the maps) */
                if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                        return silo_error_set(err, errno, "/linux/uidMappings: become root in the user namespace "
                                                          "(is container id 0 mapped?)");
                (void)setgroups(0, NULL);
        }

        if (spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0)
                return silo_error_set(err, errno, "/hostname: sethostname('%s')", spec->hostname);
        if (spec->domainname && setdomainname(spec->domainname, strlen(spec->domainname)) < 0)
                return silo_error_set(err, errno, "/domainname: setdomainname('%s')", spec->domainname);
        if (!a->no_new_keyring) {
                /* a fresh session keyring so the container cannot read the host's keys; not
                 * available in every user namespace, which is fine */
                _cleanup_free_ char *kname = silo_xasprintf("_ses.%.100s", a->id);
                if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, kname) < 0 && errno != ENOSYS &&
                    errno != EPERM && errno != EACCES && errno != EDQUOT)
                        return silo_error_set(err, errno, "join session keyring");
        }

        struct silo_rootfs_opts ro = {
                .rootfs = a->rootfs,
                .bundle = a->bundle,
                .in_userns = a->userns,
                .new_netns = a->new_netns,
                .no_pivot = a->no_pivot,
                .mount_fd = a->rootfs_mount_fd,
        };
        /* The cgroup namespace is unshared after joining the cgroups (first thing at entry), so
         * its root is the container's cgroup.  On a pure v2 host, before the rootfs: a cgroup2
         * mount made inside the namespace shows the container's cgroup as its root.  On v1 and
         * hybrid hosts, after it: the cgroup mount binds our own cgroup dirs, found through the
         * host view of /proc/self/cgroup. */
        struct statfs cgfs;
        bool v2_host = statfs("/sys/fs/cgroup", &cgfs) == 0 && cgfs.f_type == CGROUP2_SUPER_MAGIC;
        if (a->new_cgroupns && v2_host && unshare(CLONE_NEWCGROUP) < 0)
                return silo_error_set(err, errno, "unshare cgroup namespace");
        r = silo_rootfs_prepare(spec, &ro, err);
        if (r < 0)
                return r;
        if (a->new_cgroupns && !v2_host && unshare(CLONE_NEWCGROUP) < 0)
                return silo_error_set(err, errno, "unshare cgroup namespace");
        r = apply_sysctl(lx, err);
        if (r < 0)
                return r;

        if (spec->n_hooks[SILO_HOOK_PRESTART] || spec->n_hooks[SILO_HOOK_CREATE_RUNTIME] ||
            spec->n_hooks[SILO_HOOK_CREATE_CONTAINER] || spec->n_hooks[SILO_HOOK_START_CONTAINER]) {
                r = silo_sync_send(a->sync_fd, SYNC_HOOKS_REQ, 0, NULL, 0, -1);
                if (r < 0)
                        return silo_error_set(err, -r, "sync: request hooks");
                r = silo_sync_expect(a->sync_fd, SYNC_HOOKS_DONE, &m, err);
                if (r < 0)
                        return r;
                /* createContainer: in the container namespaces, before pivot_root, path
                 * resolved in the runtime namespace (config.md) */
                r = silo_hooks_run(spec, SILO_HOOK_CREATE_CONTAINER, m.payload ? m.payload : "{}", err);
                start_hook_state = TAKE_PTR(m.payload); /* for startContainer, after `start` */
                silo_sync_msg_clear(&m);
                if (r < 0)
                        return r;
        }

        if (p && p->cwd) {
                /* runc creates a missing cwd (before the root may become read-only) */
                _cleanup_close_ int rootfd = open(a->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
                int cwdfd = rootfd < 0 ? -1 : silo_mkdir_in_root(rootfd, p->cwd, 0755, err);
                if (cwdfd < 0)
                        return rootfd < 0 ? silo_error_set(err, errno, "open rootfs") : silo_error_wrap(err, "/process/cwd");
                close(cwdfd);
        }
        r = silo_rootfs_pivot(&ro, err);
        if (r < 0)
                return r;
        r = silo_rootfs_finalize(spec, err);
        if (r < 0)
                return r;

        if (lx && lx->has_personality && personality(lx->personality_domain) < 0)
                return silo_error_set(err, errno, "/linux/personality");
        if (p == NULL)
                return 0; /* no process: create succeeds, start will refuse */
        return silo_process_finalize(a, p, ret_exe, err);
}

int silo_process_finalize(struct silo_init_args *a, const struct silo_process *p, char **ret_exe, silo_error_t *err)
{
        int r;

        if (p->terminal) {
                r = setup_terminal(a, p, err);
                if (r < 0)
                        return r;
        } else {
                /* a session of its own, as runc's nsexec does for every process: CRIU refuses to
                 * dump a tree whose session leader is outside the container's pid namespace */
                (void)setsid();
        }
        if (p->cwd && chdir(p->cwd) < 0)
                return silo_error_set(err, errno, "/process/cwd: chdir '%s'", p->cwd);
        r = apply_sched(p, err);
        if (r < 0)
                return r;
        r = apply_security(a, p, err);
        if (r < 0)
                return r;
        /* after the uid switch, so "permission denied" is judged as the container user */
        return lookup_executable(p, ret_exe, err);
}

__attribute__((noreturn)) void silo_process_exec(struct silo_init_args *a, const struct silo_process *p,
                                                 const char *exe)
{
        silo_error_t err = NULL;
        char **exec_env = env_with_home(p);

        if (p->user.umask != SILO_UNSET)
                umask((mode_t)p->user.umask);
        for (int fd = 3; fd < 3 + a->preserve_fds; fd++)
                fcntl(fd, F_SETFD, 0);
        if (a->seccomp && p->no_new_privileges && !a->seccomp->notify) {
                int lfd = -1;
                if (silo_seccomp_load(a->seccomp, &lfd, &err) < 0) {
                        if (a->exec)
                                silo_sync_send_error(a->sync_fd, err);
                        else
                                silo_log_error(err);
                        _exit(127);
                }
        }
        execve(exe, p->args, exec_env);
        if (a->exec) {
                /* exec: the parent is still listening and reports the error itself */
                silo_error_set(&err, errno, "exec: \"%s\"", p->args[0]);
                silo_sync_send_error(a->sync_fd, err);
        } else {
                silo_log(SILO_LOG_ERROR, "exec '%s': %s", exe, strerror(errno));
        }
        _exit(127);
}

/*
 * exec, child side.  clone3 put us in the container's cgroup (v2/unified) and in its pid and time
 * namespaces (the parent setns()ed into those for its children); we join the v1 cgroups, then
 * the other namespaces (user first, mount last: the mount namespace switch also moves our root
 * and cwd to the container's root), and share the init's tail: terminal, cwd, scheduler, user,
 * caps, seccomp, execve.  Same invariants as the init: non-dumpable, host fds closed or CLOEXEC.
 */
static int exec_setup(struct silo_init_args *a, const struct silo_process *p, char **ret_exe, silo_error_t *err)
{
        int r;

        /* rlimits and oom_score_adj while we still hold the host's privileges */
        for (size_t i = 0; i < p->n_rlimits; i++) {
                struct rlimit rl = {.rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard};
                if (setrlimit(p->rlimits[i].resource, &rl) < 0)
                        return silo_error_set(err, errno, "/process/rlimits/%zu: set %s to %llu/%llu", i,
                                              p->rlimits[i].type, (unsigned long long)rl.rlim_cur,
                                              (unsigned long long)rl.rlim_max);
        }
        if (p->oom_score_adj != SILO_UNSET) {
                char val[32];
                snprintf(val, sizeof(val), "%lld", (long long)p->oom_score_adj);
                if (silo_write_file_at(AT_FDCWD, "/proc/self/oom_score_adj", val, strlen(val), err) < 0)
                        return silo_error_wrap(err, "/process/oomScoreAdj");
        }
        r = join_namespaces(a, false, err);
        if (r == 0)
                r = join_namespaces(a, true, err);
        if (r < 0)
                return r;
        return silo_process_finalize(a, p, ret_exe, err);
}

__attribute__((noreturn)) void silo_exec_child_main(struct silo_init_args *a, const struct silo_process *p)
{
        silo_error_t err = NULL;
        _cleanup_free_ char *exe = NULL;
        sigset_t all;

        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        silo_log_set_tag("silo:[2:EXEC]");
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        enter_cgroups_and_close_fds(a);
        if (exec_setup(a, p, &exe, &err) < 0) {
                silo_sync_send_error(a->sync_fd, err);
                _exit(1);
        }
        if (a->exec_late_cgroup) {
                struct silo_sync_msg m;
                /* we get frozen in the recv below and silo exits: no death signal then (a silo
                 * dying before SYNC_GO closes the socket, and we exit on that EOF) */
                prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
                if (silo_sync_send(a->sync_fd, SYNC_READY, 0, NULL, 0, -1) < 0 ||
                    silo_sync_expect(a->sync_fd, SYNC_GO, &m, &err) < 0)
                        _exit(1);
                silo_sync_msg_clear(&m);
                /* frozen from here until resume: nobody listens for an execve error any more */
                a->exec = false;
        }
        /* from here the process belongs to the caller, whatever happens to silo */
        prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
        silo_process_exec(a, p, exe);
}

__attribute__((noreturn)) void silo_init_main(struct silo_init_args *a)
{
        silo_error_t err = NULL;
        _cleanup_free_ char *exe = NULL;
        const struct silo_process *p = a->spec->process;
        int fifo, r;

        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        silo_log_set_tag("silo:[1:INIT]");
        /* the parent may die during setup: then so do we (cleared before SYNC_READY) */
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        {
                sigset_t all;
                sigemptyset(&all);
                sigprocmask(SIG_SETMASK, &all, NULL);
        }
        /* into the v1 cgroups first, before anything else runs */
        enter_cgroups_and_close_fds(a);

        r = init_setup(a, &exe, &err);
        if (r < 0) {
                silo_sync_send_error(a->sync_fd, err);
                _exit(1);
        }
        prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
        silo_sync_send(a->sync_fd, SYNC_READY, 0, NULL, 0, -1);
        close(a->sync_fd);

        /* the create -> start gate: opening the fifo for writing blocks until `start` opens it
         * for reading.  Opened relative to the state dir fd we inherited, so it works after
         * pivot_root without a path into the host. */
        fifo = openat(a->state_dirfd, "exec.fifo", O_WRONLY | O_CLOEXEC);
        if (fifo < 0) {
                silo_log(SILO_LOG_ERROR, "open exec.fifo: %s", strerror(errno));
                _exit(1);
        }
        close(a->state_dirfd);
        /* `start` is now reading: run startContainer hooks (in the container, path resolved in
         * the container) and report through the fifo: "0" = go, "E<message>" = failed, so that
         * `start` itself fails instead of a silently dead container */
        if (p && a->spec->n_hooks[SILO_HOOK_START_CONTAINER] &&
            silo_hooks_run(a->spec, SILO_HOOK_START_CONTAINER, start_hook_state ? start_hook_state : "{}",
                           &err) < 0) {
                char msg[4096];
                int n = snprintf(msg, sizeof(msg), "E%s", err->msg);
                (void)silo_write_all(fifo, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
                _exit(1);
        }
        if (p == NULL || write(fifo, "0", 1) != 1)
                _exit(1);
        close(fifo);

        silo_process_exec(a, p, exe);
}
