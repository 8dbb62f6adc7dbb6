/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Namespaces backend, parent side.
 *
 * The plan: in the common case every namespace the container needs is new, and ONE clone3()
 * creates them all, with CLONE_INTO_CGROUP so the child is in its (v2 or hybrid-unified) cgroup
 * before it runs a single instruction; the child becomes the container init directly, so when
 * silo exits it is reparented to the caller's subreaper (containerd shim, conmon) with no silo
 * process in between (interfaces.md §1.5).
 *
 * The "slow path" is taken when ordering makes one clone3 impossible:
 *   - a user namespace joined by path (every other namespace must be created under it),
 *   - a new user namespace plus any namespace joined by path (after clone3(CLONE_NEWUSER) the child
 *     has no capability over namespaces owned by the host user namespace),
 *   - a pid namespace joined by path (setns(CLONE_NEWPID) only affects children),
 *   - a new time namespace (offsets must be written before any process enters it).
 * Then clone3 creates nothing, the child joins/unshares in the right order and forks the real
 * init; the intermediate exits and is reaped here.  CLONE_NEWCGROUP is never passed to clone3:
 * the child unshares it after SYNC_GO, i.e. after it was placed in every v1 hierarchy, so the
 * namespace root is the container's cgroup on hybrid hosts too.
 *
 * The parent stays single-threaded (no threads before clone: malloc locks).
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "../cgroups/cgroup.h"
#include "hooks.h"
#include "log.h"
#include "sandbox.h"
#include "sync.h"
#include "terminal.h"
#include "util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

struct clone_args_v2 {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
                set_tid_size, cgroup;
};

static pid_t do_clone3(uint64_t flags, int cgroup_fd, int *ret_pidfd)
{
        struct clone_args_v2 args = {0};

        *ret_pidfd = -1;
        args.flags = flags | CLONE_PIDFD;
        args.pidfd = (uint64_t)(uintptr_t)ret_pidfd;
        args.exit_signal = SIGCHLD;
        if (cgroup_fd >= 0) {
                args.flags |= CLONE_INTO_CGROUP;
                args.cgroup = (uint64_t)cgroup_fd;
        }
        return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

static int write_id_map(pid_t pid, const char *file, const struct silo_id_mapping *m, size_t n,
                        const char *pointer, silo_error_t *err)
{
        struct silo_buf b = {0};
        char path[64];
        int r;

        if (n == 0)
                return 0;
        for (size_t i = 0; i < n; i++)
                silo_buf_printf(&b, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
        r = silo_write_file_at(AT_FDCWD, path, b.data, b.len, err);
        silo_buf_free(&b);
        if (r < 0)
                return silo_error_wrap(err, "%s", pointer);
        return 0;
}

static int write_id_maps(struct silo_container *c, pid_t pid, silo_error_t *err)
{
        const struct silo_linux *lx = c->spec->linux_;
        int r = write_id_map(pid, "uid_map", lx->uid_mappings, lx->n_uid_mappings, "/linux/uidMappings", err);
        if (r < 0)
                return r;
        return write_id_map(pid, "gid_map", lx->gid_mappings, lx->n_gid_mappings, "/linux/gidMappings", err);
}

/* rlimits and oom_score_adj are set from here, with the parent's privileges in the host user
 * namespace, before the child runs: inside a new user namespace it could not raise them. */
static int apply_process_limits(struct silo_container *c, pid_t pid, silo_error_t *err)
{
        const struct silo_process *p = c->spec->process;

        if (p == NULL)
                return 0;
        for (size_t i = 0; i < p->n_rlimits; i++) {
                struct rlimit rl = {.rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard};
                if (prlimit(pid, p->rlimits[i].resource, &rl, NULL) < 0)
                        return silo_error_set(err, errno, "/process/rlimits/%zu: set %s to %llu/%llu", i,
                                              p->rlimits[i].type, (unsigned long long)rl.rlim_cur,
                                              (unsigned long long)rl.rlim_max);
        }
        if (p->oom_score_adj != SILO_UNSET) {
                char path[64], val[32];
                snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
                snprintf(val, sizeof(val), "%lld", (long long)p->oom_score_adj);
                if (silo_write_file_at(AT_FDCWD, path, val, strlen(val), err) < 0)
                        return silo_error_wrap(err, "/process/oomScoreAdj");
        }
        return 0;
}

/* Kill and reap what we started; used on every failure path. */
static void kill_children(struct silo_container *c)
{
        if (c->pidfd >= 0)
                syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
        else if (c->pid > 0)
                kill(c->pid, SIGKILL);
        if (c->intermediate > 0) {
                kill(c->intermediate, SIGKILL);
                waitpid(c->intermediate, NULL, 0);
                c->intermediate = 0;
        }
        /* the init is our child unless the slow path forked it (then its parent was the
         * intermediate, and it is reparented to a subreaper, possibly us) */
        if (c->pid > 0)
                waitpid(c->pid, NULL, __WALL);
}

/* Hand the seccomp notify fd to the agent at linux.seccomp.listenerPath, as runc does: one
 * message, the ContainerProcessState JSON as payload and the fd as SCM_RIGHTS. */
static int send_seccomp_listener(struct silo_container *c, int fd, const char *status, silo_error_t *err)
{
        const struct silo_seccomp *sc = c->spec->linux_ ? c->spec->linux_->seccomp : NULL;
        _cleanup_free_ char *json = NULL;
        _cleanup_close_ int sock = -1;

        if (fd < 0 || sc == NULL || sc->listener_path == NULL)
                return silo_error_set(err, EPROTO, "/linux/seccomp/listenerPath: no listener fd or path");
        sock = silo_unix_connect(sc->listener_path, err);
        if (sock < 0)
                return silo_error_wrap(err, "/linux/seccomp/listenerPath");
        json = silo_state_process_json(c->state, status, c->state->pid ? c->state->pid : c->pid,
                                      sc->listener_metadata);
        if (silo_send_fd(sock, fd, json, err) < 0)
                return silo_error_wrap(err, "/linux/seccomp/listenerPath");
        return 0;
}

static int sync_loop(struct silo_container *c, int sock, silo_error_t *err)
{
        for (;;) {
                struct silo_sync_msg m;
                int r = silo_sync_recv(sock, &m);

                if (r == -EPIPE)
                        return silo_error_set(err, 0, "container init exited during setup");
                if (r < 0)
                        return silo_error_set(err, -r, "sync socket");
                switch (m.type) {
                case SYNC_IDMAP_REQ:
                        r = write_id_maps(c, c->pid, err);
                        if (r == 0)
                                r = silo_sync_send(sock, SYNC_IDMAP_DONE, 0, NULL, 0, -1);
                        break;
                case SYNC_PID: {
                        /* slow path: the intermediate forked the real init and is exiting */
                        c->intermediate = c->pid;
                        c->pid = m.value;
                        if (c->pidfd >= 0)
                                close(c->pidfd);
                        c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
                        waitpid(c->intermediate, NULL, 0);
                        c->intermediate = 0;
                        break;
                }
                case SYNC_HOOKS_REQ: {
                        _cleanup_free_ char *state = silo_container_hook_state(c, "created");
                        r = silo_hooks_run(c->spec, SILO_HOOK_PRESTART, state, err);
                        if (r == 0)
                                r = silo_hooks_run(c->spec, SILO_HOOK_CREATE_RUNTIME, state, err);
                        if (r == 0)
                                r = silo_sync_send(sock, SYNC_HOOKS_DONE, 0, state, strlen(state), -1);
                        break;
                }
                case SYNC_SECCOMP:
                        r = send_seccomp_listener(c, m.fd, "creating", err);
                        if (r == 0)
                                r = silo_sync_send(sock, SYNC_SECCOMP_DONE, 0, NULL, 0, -1);
                        break;
                case SYNC_PTY:
                        c->pty_master = m.fd;
                        m.fd = -1;
                        break;
                case SYNC_READY:
                        silo_sync_msg_clear(&m);
                        return 0;
                case SYNC_ERROR:
                        r = silo_error_set(err, m.value, "%s", m.payload ? m.payload : "container init failed");
                        break;
                default:
                        r = silo_error_set(err, EPROTO, "sync: unexpected message %u", m.type);
                }
                silo_sync_msg_clear(&m);
                if (r < 0) {
                        if (err && *err == NULL)
                                silo_error_set(err, -r, "sync socket");
                        return r;
                }
        }
}

int silo_sandbox_ns_create(struct silo_container *c, silo_error_t *err)
{
        const struct silo_spec *spec = c->spec;
        const struct silo_linux *lx = spec->linux_;
        struct silo_init_args a = {0};
        int sv[2] = {-1, -1};
        int flags = 0, any_join = 0, r;
        bool slow;
        pid_t pid;
        int pidfd = -1;

        a.state_dirfd = -1;
        a.rootfs_mount_fd = c->rootfs_mount_fd;
        for (size_t i = 0; i < ARRAY_SIZE(a.ns_fds); i++)
                a.ns_fds[i] = -1;
        for (size_t i = 0; lx && i < lx->n_namespaces; i++) {
                const struct silo_namespace *ns = &lx->namespaces[i];
                if (ns->path && *ns->path) {
                        int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
                        if (fd < 0) {
                                r = silo_error_set(err, errno, "/linux/namespaces/%zu/path: open '%s'", i,
                                                   ns->path);
                                goto fail;
                        }
                        a.ns_fds[ns->type] = fd;
                        any_join = 1;
                } else {
                        flags |= silo_ns_clone_flag(ns->type);
                }
        }

        a.spec = spec;
        a.id = c->id;
        a.rootfs = c->rootfs;
        a.bundle = c->bundle;
        /* a separate open file description: the init must not share the one the lock (flock)
         * is held on, or `start` could never take the lock while the init waits */
        a.state_dirfd = openat(c->dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (a.state_dirfd < 0) {
                r = silo_error_set(err, errno, "open state dir");
                goto fail;
        }
        a.seccomp = c->seccomp;
        a.no_pivot = c->opts->no_pivot;
        a.no_new_keyring = c->opts->no_new_keyring;
        a.preserve_fds = c->extra_fds + c->opts->preserve_fds;
        a.userns = (flags & CLONE_NEWUSER) || a.ns_fds[SILO_NS_USER] >= 0;
        a.new_cgroupns = flags & CLONE_NEWCGROUP;
        a.new_mntns = flags & CLONE_NEWNS;
        a.new_netns = flags & CLONE_NEWNET;
        a.foreground_tty = !c->opts->console_socket;

        slow = a.ns_fds[SILO_NS_USER] >= 0 || a.ns_fds[SILO_NS_PID] >= 0 || (flags & CLONE_NEWTIME) ||
               ((flags & CLONE_NEWUSER) && any_join);

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                r = silo_error_set(err, errno, "socketpair");
                goto fail;
        }

        uint64_t clone_flags = slow ? 0 : (uint64_t)(flags & ~(CLONE_NEWCGROUP | CLONE_NEWTIME));
        if (slow) {
                a.unshare_flags = flags & ~CLONE_NEWCGROUP;
                a.fork_init = (flags & (CLONE_NEWPID | CLONE_NEWTIME)) || a.ns_fds[SILO_NS_PID] >= 0;
                a.new_userns_unshared = flags & CLONE_NEWUSER;
        }

        if (c->cgroup) {
                r = silo_cgroup_self_enter_fds(c->cgroup, a.cg_fds, ARRAY_SIZE(a.cg_fds), &a.n_cg_fds, err);
                if (r < 0)
                        goto fail;
        }
        int cgfd = c->cgroup ? silo_cgroup_dirfd(c->cgroup) : -1;
        bool into_cgroup = cgfd >= 0;
        pid = do_clone3(clone_flags, cgfd, &pidfd);
        if (pid < 0 && cgfd >= 0 && errno != ENOSYS && errno != EPERM && errno != ENOMEM) {
                into_cgroup = false;
                /* FIXME: drop once 5.7 (CLONE_INTO_CGROUP) is the minimal baseline; the parent
                 * writes cgroup.procs below before the child is released anyway. */
                silo_debug("clone3 with CLONE_INTO_CGROUP failed (%s), retrying without", strerror(errno));
                pid = do_clone3(clone_flags, -1, &pidfd);
        }
        if (pid < 0 && errno == ENOSYS) {
                into_cgroup = false;
                /* FIXME: drop once 5.3 (clone3) is the minimal baseline: plain fork, and the
                 * child creates every namespace itself. */
                a.unshare_flags = flags & ~CLONE_NEWCGROUP;
                a.fork_init = (flags & (CLONE_NEWPID | CLONE_NEWTIME)) || a.ns_fds[SILO_NS_PID] >= 0;
                a.new_userns_unshared = flags & CLONE_NEWUSER;
                clone_flags = 0;
                pid = fork();
        }
        if (pid < 0) {
                r = silo_error_set(err, errno, "clone3 of the container init");
                goto fail;
        }
        if (pid == 0) {
                close(sv[0]);
                a.sync_fd = sv[1];
                silo_init_main(&a);
        }
        close(sv[1]);
        sv[1] = -1;
        c->pid = pid;
        c->pidfd = pidfd;

        for (size_t i = 0; i < a.n_cg_fds; i++)
                close(a.cg_fds[i]);
        a.n_cg_fds = 0;
        /* v1 hierarchies: the init moves itself (cheap, see cgroup.h); v2/unified: clone3 put it
         * there, unless that was not possible: then the slow way, from here */
        if (c->cgroup && !into_cgroup && silo_cgroup_dirfd(c->cgroup) >= 0) {
                r = silo_cgroup_enter(c->cgroup, pid, err);
                if (r < 0)
                        goto fail;
        }
        r = apply_process_limits(c, pid, err);
        if (r < 0)
                goto fail;
        if (clone_flags & CLONE_NEWUSER) {
                r = write_id_maps(c, pid, err);
                if (r < 0)
                        goto fail;
        }
        r = silo_sync_send(sv[0], SYNC_GO, 0, NULL, 0, -1);
        if (r < 0) {
                r = silo_error_set(err, -r, "sync: release container init");
                goto fail;
        }
        r = sync_loop(c, sv[0], err);
        if (r < 0)
                goto fail;
        c->state->pid_start_time = silo_proc_start_time(c->pid);
        close(sv[0]);
        close(a.state_dirfd);
        for (size_t i = 0; i < ARRAY_SIZE(a.ns_fds); i++)
                if (a.ns_fds[i] >= 0)
                        close(a.ns_fds[i]);
        return 0;

fail:
        kill_children(c);
        for (int i = 0; i < 2; i++)
                if (sv[i] >= 0)
                        close(sv[i]);
        for (size_t i = 0; i < ARRAY_SIZE(a.ns_fds); i++)
                if (a.ns_fds[i] >= 0)
                        close(a.ns_fds[i]);
        if (a.state_dirfd >= 0)
                close(a.state_dirfd);
        for (size_t i = 0; i < a.n_cg_fds; i++)
                close(a.cg_fds[i]);
        return r;
}

/* ---- exec ---------------------------------------------------------------------------------- */

static const char *const ns_proc_name[] = {
        [SILO_NS_PID] = "pid",   [SILO_NS_NETWORK] = "net", [SILO_NS_MOUNT] = "mnt",
        [SILO_NS_IPC] = "ipc",   [SILO_NS_UTS] = "uts",     [SILO_NS_USER] = "user",
        [SILO_NS_CGROUP] = "cgroup", [SILO_NS_TIME] = "time",
};

/*
 * Open every namespace of the container init that differs from ours.  The set comes from the
 * live process, not from the config: namespaces joined by path at create time, or host ones the
 * config did not list, are then handled alike.  The init's identity is checked AFTER the opens
 * (pid + start time), so a recycled pid cannot make us join a stranger's namespaces.
 */
static int open_container_ns(struct silo_container *c, int *fds, size_t n, silo_error_t *err)
{
        for (size_t t = 0; t < n && t < ARRAY_SIZE(ns_proc_name); t++) {
                char path[64];
                struct stat mine, theirs;

                fds[t] = -1;
                if (ns_proc_name[t] == NULL)
                        continue;
                snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)c->state->pid, ns_proc_name[t]);
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        if (errno == ENOENT && t != SILO_NS_MOUNT && t != SILO_NS_PID)
                                continue; /* a namespace type this kernel lacks */
                        if (!silo_proc_alive(c->state->pid, c->state->pid_start_time))
                                return silo_error_set(err, 0, "cannot exec in a stopped container");
                        return silo_error_set(err, errno, "open %s", path);
                }
                snprintf(path, sizeof(path), "/proc/self/ns/%s", ns_proc_name[t]);
                if (fstat(fd, &theirs) == 0 && stat(path, &mine) == 0 && mine.st_ino == theirs.st_ino &&
                    mine.st_dev == theirs.st_dev) {
                        close(fd);
                        continue;
                }
                fds[t] = fd;
        }
        if (!silo_proc_alive(c->state->pid, c->state->pid_start_time))
                return silo_error_set(err, 0, "cannot exec in a stopped container");
        return 0;
}

int silo_sandbox_ns_exec(struct silo_container *c, const struct silo_process *p, struct silo_cgroup *cg,
                         int preserve_fds, bool paused, silo_error_t *err)
{
        struct silo_init_args a = {0};
        int sv[2] = {-1, -1};
        int pidfd = -1, r;
        pid_t pid;

        a.state_dirfd = -1;
        a.rootfs_mount_fd = -1;
        a.sync_fd = -1;
        a.exec = true;
        a.spec = c->spec;
        a.id = c->id;
        a.seccomp = c->seccomp;
        a.preserve_fds = preserve_fds;
        a.foreground_tty = !c->opts || !c->opts->console_socket;
        a.exec_late_cgroup = paused && cg;
        r = open_container_ns(c, a.ns_fds, ARRAY_SIZE(a.ns_fds), err);
        if (r < 0)
                goto out;
        a.userns = a.ns_fds[SILO_NS_USER] >= 0;
        /* pid and time namespaces apply to children only: enter them here, so clone3 creates the
         * process inside them and no intermediate fork is needed.  silo itself stays where it is
         * (and forks nothing else afterwards). */
        static const enum silo_ns_type for_children[] = {SILO_NS_PID, SILO_NS_TIME};
        for (size_t i = 0; i < ARRAY_SIZE(for_children); i++) {
                int *fd = &a.ns_fds[for_children[i]];
                if (*fd < 0)
                        continue;
                if (setns(*fd, silo_ns_clone_flag(for_children[i])) < 0) {
                        r = silo_error_set(err, errno, "join the container's %s namespace",
                                           silo_ns_type_name(for_children[i]));
                        goto out;
                }
                close(*fd);
                *fd = -1;
        }
        if (cg && !a.exec_late_cgroup) {
                r = silo_cgroup_self_enter_fds(cg, a.cg_fds, ARRAY_SIZE(a.cg_fds), &a.n_cg_fds, err);
                if (r < 0)
                        goto out;
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                r = silo_error_set(err, errno, "socketpair");
                goto out;
        }
        int cgfd = cg && !a.exec_late_cgroup ? silo_cgroup_dirfd(cg) : -1;
        bool into_cgroup = cgfd >= 0;
        pid = do_clone3(0, cgfd, &pidfd);
        if (pid < 0 && cgfd >= 0 && errno == EBUSY) {
                /* v2 "no internal processes": the container made sub-cgroups with controllers */
                r = silo_error_set(err, errno, "join the container's cgroup (it has sub-cgroups with "
                                               "controllers enabled: choose one with --cgroup)");
                goto out;
        }
        if (pid < 0 && cgfd >= 0 && errno != ENOSYS && errno != EPERM && errno != ENOMEM) {
                into_cgroup = false; /* FIXME: drop with the 5.7 baseline, as in create */
                pid = do_clone3(0, -1, &pidfd);
        }
        if (pid < 0 && errno == ENOSYS) {
                into_cgroup = false;
                pid = fork();
        }
        if (pid < 0) {
                r = silo_error_set(err, errno, errno == ENOMEM ? "start process: the container's pid namespace "
                                                                  "is gone (container not running)"
                                                                : "start process");
                goto out;
        }
        if (pid == 0) {
                close(sv[0]);
                a.sync_fd = sv[1];
                silo_exec_child_main(&a, p);
        }
        close(sv[1]);
        sv[1] = -1;
        c->pid = pid;
        c->pidfd = pidfd;
        if (cg && !into_cgroup && !a.exec_late_cgroup && silo_cgroup_dirfd(cg) >= 0) {
                r = silo_cgroup_enter(cg, pid, err);
                if (r < 0)
                        goto out;
        }
        /* until execve closes the (CLOEXEC) socket: a pty, a seccomp listener, or an error */
        for (;;) {
                struct silo_sync_msg m;
                r = silo_sync_recv(sv[0], &m);
                if (r == -EPIPE) {
                        r = 0;
                        break;
                }
                if (r < 0) {
                        r = silo_error_set(err, -r, "sync socket");
                        goto out;
                }
                if (m.type == SYNC_PTY) {
                        c->pty_master = m.fd;
                        m.fd = -1;
                } else if (m.type == SYNC_SECCOMP) {
                        r = send_seccomp_listener(c, m.fd, "running", err);
                        if (r == 0)
                                r = silo_sync_send(sv[0], SYNC_SECCOMP_DONE, 0, NULL, 0, -1);
                } else if (m.type == SYNC_READY && a.exec_late_cgroup) {
                        /* into every hierarchy, frozen with the rest; do not wait for execve */
                        r = silo_cgroup_enter(cg, pid, err);
                        if (r == 0)
                                r = silo_sync_send(sv[0], SYNC_GO, 0, NULL, 0, -1);
                        if (r == 0) {
                                silo_sync_msg_clear(&m);
                                break;
                        }
                } else if (m.type == SYNC_ERROR) {
                        r = silo_error_set(err, m.value, "%s", m.payload ? m.payload : "exec failed");
                } else {
                        r = silo_error_set(err, EPROTO, "sync: unexpected message %u", m.type);
                }
                silo_sync_msg_clear(&m);
                if (r < 0)
                        goto out;
        }
out:
        if (r < 0 && err && *err == NULL)
                silo_error_set(err, -r, "sync socket");
        if (r < 0 && c->pid > 0) {
                kill_children(c);
                c->pid = 0;
        }
        for (int i = 0; i < 2; i++)
                if (sv[i] >= 0)
                        close(sv[i]);
        for (size_t i = 0; i < ARRAY_SIZE(a.ns_fds); i++)
                if (a.ns_fds[i] >= 0)
                        close(a.ns_fds[i]);
        for (size_t i = 0; i < a.n_cg_fds; i++)
                close(a.cg_fds[i]);
        return r;
}
