/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Container lifecycle orchestration (runtime-spec runtime.md §Lifecycle).
 *
 * Status is derived, never trusted from disk alone (interfaces.md §1.10):
 *   creating  state.json says so (a create in progress, or one that was SIGKILLed)
 *   created   init alive (pid + start time match) and exec.fifo still present
 *   paused    init alive and the cgroup frozen
 *   running   init alive
 *   stopped   otherwise (pid reported as 0)
 *
 * Create order and rollback: state dir (locked) -> config copy + "creating" state -> cgroup ->
 * exec.fifo -> seccomp compiled -> backend spawns init -> "created" state -> pid file.  Any
 * failure undoes the steps already done, in reverse, so nothing is left behind.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include "../cgroups/cgroup.h"
#include "../cgroups/cgroup-systemd.h"
#include "../image/image.h"
#include "container.h"
#include "container-internal.h"
#include "fault.h"
#include "hooks.h"
#include "log.h"
#include "network.h"
#include "sandbox.h"
#include "seccomp.h"
#include "spec.h"
#include "state.h"
#include "terminal.h"
#include "util.h"
#include "validate.h"

void container_free(struct silo_container *c)
{
        if (c->dirfd >= 0)
                close(c->dirfd);
        if (c->pidfd >= 0)
                close(c->pidfd);
        if (c->pty_master >= 0)
                close(c->pty_master);
        silo_spec_free(c->spec);
        silo_state_free(c->state);
        silo_cgroup_free(c->cgroup);
        silo_seccomp_prog_free(c->seccomp);
        free(c->id);
        free(c->rootfs);
        free(c->bundle);
}

void container_init(struct silo_container *c, const struct silo_context *ctx, const char *id)
{
        memset(c, 0, sizeof(*c));
        c->ctx = ctx;
        c->id = silo_xstrdup(id);
        c->dirfd = -1;
        c->pidfd = -1;
        c->pty_master = -1;
        c->rootfs_mount_fd = -1;
}

char *silo_container_hook_state(struct silo_container *c, const char *status)
{
        return silo_state_oci_json(c->state, status, c->pid, false);
}

static int check_id(const char *id, silo_error_t *err)
{
        if (!silo_id_valid(id))
                return silo_error_set(err, 0, "invalid container ID format: '%s'", id ? id : "");
        return 0;
}

/* Open, lock and load an existing container. */
int container_load(struct silo_container *c, silo_error_t *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r;

        r = check_id(c->id, err);
        if (r < 0)
                return r;
        r = silo_state_open(c->ctx->root, c->id, &c->dirfd, err);
        if (r < 0)
                return r;
        r = silo_state_read(c->dirfd, &c->state, err);
        if (r < 0)
                return r;
        c->pid = c->state->pid;
        r = silo_read_file_at(c->dirfd, "config.json", SILO_SPEC_MAX_SIZE, &buf, &len, err);
        if (r == 0)
                r = silo_spec_parse(buf, len, &c->spec, err);
        if (r < 0)
                return silo_error_wrap(err, "container '%s': saved config", c->id);
        if (c->state->cgroup_path && *c->state->cgroup_path) {
                r = silo_cgroup_open(c->state->cgroup_path, &c->cgroup, err);
                if (r < 0)
                        return r;
                silo_cgroup_set_existed(c->cgroup, c->state->cgroup_existed1 - 1);
                if (c->state->systemd_cgroup)
                        silo_cgroup_set_systemd(c->cgroup);
        }
        return 0;
}

static bool init_alive(struct silo_container *c)
{
        return silo_proc_alive(c->state->pid, c->state->pid_start_time);
}

const char *container_status(struct silo_container *c)
{
        if (strcmp(c->state->status, "creating") == 0)
                return "creating";
        if (!init_alive(c))
                return "stopped";
        if (faccessat(c->dirfd, "exec.fifo", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return "created";
        if (c->cgroup && silo_cgroup_is_frozen(c->cgroup))
                return "paused";
        return "running";
}

static pid_t status_pid(struct silo_container *c, const char *status)
{
        return strcmp(status, "stopped") == 0 ? 0 : c->state->pid;
}

/* ---- create ---------------------------------------------------------------------------- */

static int resolve_rootfs(struct silo_container *c, silo_error_t *err)
{
        const char *p = c->spec->root.path;
        _cleanup_free_ char *joined = NULL;
        char real[PATH_MAX];
        struct stat st;

        if (p == NULL)
                return silo_error_set(err, 0, "/root/path: missing");
        if (p[0] != '/')
                p = joined = silo_xasprintf("%s/%s", c->bundle, p);
        if (realpath(p, real) == NULL)
                return silo_error_set(err, errno, "/root/path: '%s'", p);
        if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
                return silo_error_set(err, ENOTDIR, "/root/path: '%s'", real);
        c->rootfs = silo_xstrdup(real);
        return 0;
}

int silo_write_pid_file(const char *path, pid_t pid, silo_error_t *err)
{
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%d", (int)pid); /* no newline: callers Atoi the file */
        if (silo_write_file_atomic(path, buf, (size_t)n, 0644, err) < 0)
                return silo_error_wrap(err, "--pid-file");
        return 0;
}

static void copy_annotations(struct silo_state *s, const struct silo_spec *spec)
{
        s->annotations = silo_xmalloc0((spec->n_annotations + 1) * sizeof(*s->annotations));
        for (size_t i = 0; i < spec->n_annotations; i++) {
                s->annotations[i].key = silo_xstrdup(spec->annotations[i].key);
                s->annotations[i].value = silo_xstrdup(spec->annotations[i].value);
        }
        s->n_annotations = spec->n_annotations;
}

/*
 * systemd socket activation (runc docs/terminals.md "Other File Descriptors"): when silo itself
 * was given LISTEN_FDS for its own pid, those fds (3..3+n-1) are passed on in front of the
 * --preserve-fds ones and the process sees LISTEN_FDS=n, LISTEN_PID=1.
 */
static void add_listen_fds(struct silo_container *c)
{
        const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
        uint64_t n, p;

        if (!fds || !pid || silo_parse_u64(fds, &n) < 0 || silo_parse_u64(pid, &p) < 0 || n == 0 || n > 1024 ||
            p != (uint64_t)getpid() || c->spec->process == NULL)
                return;
        c->extra_fds = (int)n;
        silo_strv_push(&c->spec->process->env, silo_xasprintf("LISTEN_FDS=%d", (int)n));
        silo_strv_push(&c->spec->process->env, silo_xstrdup("LISTEN_PID=1"));
}

/* Undo a create that got as far as `c` shows.  Best effort, errors only logged at debug. */
static void create_rollback(struct silo_container *c)
{
        silo_error_t e = NULL;

        if (c->pidfd >= 0)
                syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
        if (c->cgroup && silo_cgroup_destroy(c->cgroup, &e) < 0) {
                silo_debug("rollback: %s", e->msg);
                silo_error_free(&e);
        }
        if (silo_network_release(c->ctx->root, c->dirfd, c->id, &e) < 0) {
                silo_warn("rollback: %s, ignoring", e->msg);
                silo_error_free(&e);
        }
        if (silo_state_remove(c->ctx->root, c->id, &e) < 0) {
                silo_debug("rollback: %s", e->msg);
                silo_error_free(&e);
        }
}

static int do_create(struct silo_container *c, const struct silo_create_opts *o, bool foreground, silo_error_t *err)
{
        _cleanup_free_ char *config_path = NULL, *buf = NULL, *cgpath = NULL;
        _cleanup_close_ int console = -1, own_mount_fd = -1;
        const struct silo_process *p;
        size_t len;
        char created[64];
        bool vm = false;
        int r;

        c->opts = o;
        r = check_id(o->id, err);
        if (r < 0)
                return r;
        c->bundle = silo_xstrdup(o->bundle);
        config_path = silo_xasprintf("%s/config.json", o->bundle);
        r = silo_read_file_at(AT_FDCWD, config_path, SILO_SPEC_MAX_SIZE, &buf, &len, err);
        if (r < 0)
                return r;
        r = silo_spec_parse(buf, len, &c->spec, err);
        if (r < 0)
                return r;
        r = silo_spec_validate(c->spec, err);
        if (r < 0)
                return r;
        add_listen_fds(c);
        r = silo_sandbox_vm_wanted(c->spec, o->sandbox, &vm, err);
        if (r < 0)
                return r;
        /* the rootfs is set up (mounts, pivot_root) in the container's own mount namespace;
         * without one that would happen in silo's, i.e. on the host */
        if (!vm && silo_spec_namespace(c->spec, SILO_NS_MOUNT) == NULL)
                return silo_error_set(err, 0, "/linux/namespaces: a mount namespace is required");
        p = c->spec->process;
        if (p && p->terminal && !o->console_socket && !foreground)
                return silo_error_set(err, 0, "cannot allocate tty if silo will detach without setting console socket");
        if (o->console_socket && !(p && p->terminal))
                return silo_error_set(err, 0, "cannot use console socket if silo will not detach or allocate tty");
        if (c->ctx->systemd_cgroup && vm) /* the supervisor puts qemu into a cgroup that exists before it */
                return silo_error_set(err, 0, "--systemd-cgroup: not supported with the vm sandbox yet");
        if (c->ctx->systemd_cgroup) {
                if (!silo_cgroup_systemd_running())
                        return silo_error_set(err, 0, "--systemd-cgroup: systemd is not running on this host "
                                                      "(no /run/systemd/system); use the cgroupfs driver");
                /* the scope is started around the init by the sandbox (cgroup-systemd.c) */
                r = silo_systemd_cgroup_path(c->spec->linux_ ? c->spec->linux_->cgroups_path : NULL, o->id,
                                             &cgpath, err);
                if (r < 0)
                        return r;
        }
        r = resolve_rootfs(c, err);
        if (r < 0)
                return r;
        if (o->console_socket) {
                console = silo_unix_connect(o->console_socket, err);
                if (console < 0)
                        return silo_error_wrap(err, "--console-socket");
        }

        r = silo_state_create(c->ctx->root, o->id, &c->dirfd, err);
        if (r < 0)
                return r;
        SILO_FAULT_POINT("create.after-state-dir");
        /* from here on, failures roll back */
        r = silo_write_file_atomic_at(c->dirfd, "config.json", buf, len, 0600, err);
        if (r < 0)
                goto fail;
        c->state = silo_xmalloc0(sizeof(*c->state));
        silo_rfc3339_now(created, sizeof(created));
        c->state->oci_version = silo_xstrdup(c->spec->oci_version);
        c->state->id = silo_xstrdup(o->id);
        c->state->status = silo_xstrdup("creating");
        c->state->bundle = silo_xstrdup(o->bundle);
        c->state->rootfs = silo_xstrdup(c->rootfs);
        c->state->created = silo_xstrdup(created);
        c->state->owner = silo_xstrdup("");
        c->state->sandbox = silo_xstrdup(vm ? "vm" : "ns");
        if (cgpath == NULL)
                cgpath = silo_cgroup_path_for(c->spec->linux_ ? c->spec->linux_->cgroups_path : NULL, o->id);
        c->state->cgroup_path = silo_xstrdup(cgpath);
        c->state->systemd_cgroup = c->ctx->systemd_cgroup;
        copy_annotations(c->state, c->spec);
        r = silo_state_write(c->dirfd, c->state, err);
        if (r < 0)
                goto fail;

        if (!c->state->systemd_cgroup) {
                r = silo_cgroup_create(cgpath, c->spec->linux_ ? c->spec->linux_->resources : NULL, &c->cgroup,
                                       err);
                if (r < 0)
                        goto fail;
                c->state->cgroup_existed1 = silo_cgroup_existed(c->cgroup) + 1;
        }
        SILO_FAULT_POINT("create.after-cgroup");
        /* 0622 regardless of umask: the init opens it after switching to the container user
         * (possibly an unmapped uid from the host's point of view) */
        if (!o->spawn && /* restore: the init runs already, no start gate */
            (mkfifoat(c->dirfd, "exec.fifo", 0622) < 0 || fchmodat(c->dirfd, "exec.fifo", 0622, 0) < 0)) {
                r = silo_error_set(err, errno, "create exec.fifo");
                goto fail;
        }
        SILO_FAULT_POINT("create.after-fifo");
        if (c->spec->linux_ && c->spec->linux_->seccomp) {
                r = silo_seccomp_compile(c->spec->linux_->seccomp, &c->seccomp, err);
                if (r < 0)
                        goto fail;
        }

        r = vm ? 0 : silo_network_prepare(c, err); /* vm: the guest has no network yet */
        if (r < 0)
                goto fail;
        SILO_FAULT_POINT("create.after-network-prepare");
        /* image containers: the overlay is attached by the init, in its own mount namespace */
        if (o->image_mount_fd > 0) {
                c->rootfs_mount_fd = o->image_mount_fd;
        } else if (o->image_mount) {
                r = o->image_mount(o->image_mount_data, &own_mount_fd, err);
                if (r < 0)
                        goto fail;
                c->rootfs_mount_fd = own_mount_fd;
        } else {
                r = silo_image_container_mount_fd(c->spec, c->id, &own_mount_fd, err);
                if (r < 0)
                        goto fail;
                c->rootfs_mount_fd = own_mount_fd;
        }

        if (o->spawn) { /* restore: the spawn step wires the network itself */
                r = vm && o->spawn != silo_sandbox_vm_restore_spawn
                        ? silo_error_set(err, EOPNOTSUPP, "restore: not a VM snapshot, but the bundle asks for "
                                                          "the vm sandbox")
                       : c->state->systemd_cgroup
                           ? silo_error_set(err, EOPNOTSUPP, "restore: not supported with --systemd-cgroup yet")
                           : o->spawn(c, o->spawn_data, err);
        } else {
                r = vm ? silo_sandbox_vm_create(c, err) : silo_sandbox_ns_create(c, err);
                SILO_FAULT_POINT("create.after-clone");
                if (r == 0 && !vm)
                        r = silo_network_attach(c, err);
        }
        if (r < 0)
                goto fail;
        SILO_FAULT_POINT("create.after-network-attach");

        free(c->state->status);
        c->state->status = silo_xstrdup(o->spawn ? "running" : "created");
        c->state->pid = c->pid;
        SILO_FAULT_POINT("create.before-created");
        r = silo_state_write(c->dirfd, c->state, err);
        if (r < 0)
                goto fail;
        if (o->pid_file) {
                r = silo_write_pid_file(o->pid_file, c->pid, err);
                if (r < 0)
                        goto fail;
        }
        if (o->pidfd_socket) {
                /* runc >= 1.2: the same framing as the console socket, carrying a pidfd */
                _cleanup_close_ int sock = silo_unix_connect(o->pidfd_socket, err);
                r = sock < 0 ? sock : silo_send_fd(sock, c->pidfd, "pidfd", err);
                if (r < 0) {
                        silo_error_wrap(err, "--pidfd-socket");
                        goto fail;
                }
        }
        if (console >= 0 && c->pty_master >= 0) {
                r = silo_send_fd(console, c->pty_master, "/dev/ptmx", err);
                if (r < 0) {
                        silo_error_wrap(err, "--console-socket");
                        goto fail;
                }
                close(c->pty_master);
                c->pty_master = -1;
        }
        SILO_FAULT_POINT("create.done");
        return 0;
fail:
        create_rollback(c);
        return r;
}

int silo_container_create(const struct silo_context *ctx, const struct silo_create_opts *o, silo_error_t *err)
{
        _cleanup_container_ struct silo_container c;

        container_init(&c, ctx, o->id);
        return do_create(&c, o, false, err);
}

/* ---- start ------------------------------------------------------------------------------- */

/* Open the fifo's read end: the init, blocked in open(O_WRONLY), wakes up, writes one byte and
 * goes on to execve.  Watch the init's pidfd meanwhile so a dead init cannot hang `start`. */
static int release_init(struct silo_container *c, silo_error_t *err)
{
        _cleanup_close_ int fifo = -1, pidfd = -1;
        char b;

        fifo = openat(c->dirfd, "exec.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fifo < 0)
                return silo_error_set(err, errno, "open exec.fifo");
        pidfd = (int)syscall(SYS_pidfd_open, c->state->pid, 0);
        for (;;) {
                struct pollfd pfd[2] = {{fifo, POLLIN, 0}, {pidfd, POLLIN, 0}};
                int n = poll(pfd, pidfd >= 0 ? 2 : 1, pidfd >= 0 ? -1 : 100);
                if (n < 0 && errno != EINTR)
                        return silo_error_set(err, errno, "poll exec.fifo");
                if (n > 0 && (pfd[0].revents & POLLIN)) {
                        if (read(fifo, &b, 1) == 1) {
                                if (b == '0')
                                        break;
                                /* "E<message>": a startContainer hook failed in the init */
                                char msg[4096];
                                ssize_t m = 0, k;
                                while (m < (ssize_t)sizeof(msg) - 1 &&
                                       ((k = read(fifo, msg + m, sizeof(msg) - 1 - (size_t)m)) > 0 ||
                                        (k < 0 && (errno == EAGAIN || errno == EINTR)))) {
                                        if (k > 0)
                                                m += k;
                                        else
                                                poll(&pfd[0], 1, 100);
                                }
                                msg[m] = '\0';
                                unlinkat(c->dirfd, "exec.fifo", 0);
                                return silo_error_set(err, 0, "%s", msg);
                        }
                }
                if ((pidfd >= 0 && n > 0 && pfd[1].revents) || !init_alive(c))
                        return silo_error_set(err, 0, "container init exited before start");
        }
        if (unlinkat(c->dirfd, "exec.fifo", 0) < 0)
                return silo_error_set(err, errno, "remove exec.fifo");
        return 0;
}

static int do_start(struct silo_container *c, silo_error_t *err)
{
        const char *status = container_status(c);
        _cleanup_free_ char *state = NULL;
        int r;

        if (strcmp(status, "created") != 0)
                return silo_error_set(err, 0, "cannot start a container in the %s state", status);
        if (c->spec->process == NULL)
                return silo_error_set(err, 0, "/process: not set: nothing to start");
        SILO_FAULT_POINT("start.before-release");
        r = release_init(c, err);
        if (r < 0)
                return r;
        SILO_FAULT_POINT("start.after-release");
        state = silo_container_hook_state(c, "running");
        r = silo_hooks_run(c->spec, SILO_HOOK_POSTSTART, state, err);
        if (r < 0) {
                /* runtime-spec 1.3 / runc: a failed poststart hook is an error and stops the container */
                if (c->cgroup)
                        silo_cgroup_kill_all(c->cgroup, SIGKILL, NULL);
                else
                        kill(c->state->pid, SIGKILL);
                return r;
        }
        return 0;
}

int silo_container_start(const struct silo_context *ctx, const char *id, silo_error_t *err)
{
        _cleanup_container_ struct silo_container c;
        int r;

        container_init(&c, ctx, id);
        r = container_load(&c, err);
        if (r < 0)
                return r;
        return do_start(&c, err);
}

/* ---- delete ------------------------------------------------------------------------------ */

static void wait_pid_gone(pid_t pid, unsigned long long start, int timeout_ms)
{
        _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd >= 0) {
                struct pollfd pfd = {pidfd, POLLIN, 0};
                poll(&pfd, 1, timeout_ms);
                return;
        }
        for (int i = 0; i < timeout_ms / 10 && silo_proc_alive(pid, start); i++)
                usleep(10000);
}

/* Tear down: kill what is left, remove the cgroup, run poststop hooks, remove the state. */
static int destroy(struct silo_container *c, silo_error_t *err)
{
        silo_error_t e = NULL;
        int r;

        if (c->state && c->state->pid > 0 && init_alive(c)) {
                kill(c->state->pid, SIGKILL);
                wait_pid_gone(c->state->pid, c->state->pid_start_time, 5000);
        }
        SILO_FAULT_POINT("delete.after-kill");
        if (is_vm(c))
                silo_sandbox_vm_stop(c);
        if (c->cgroup) {
                r = silo_cgroup_destroy(c->cgroup, err);
                if (r < 0)
                        return r;
        }
        SILO_FAULT_POINT("delete.after-cgroup");
        if (c->spec && c->state) {
                _cleanup_free_ char *state = silo_state_oci_json(c->state, "stopped", 0, false);
                if (silo_hooks_run(c->spec, SILO_HOOK_POSTSTOP, state, &e) < 0) {
                        silo_warn("%s, ignoring", e->msg);
                        silo_error_free(&e);
                }
        }
        r = silo_network_release(c->ctx->root, c->dirfd, c->id, err);
        if (r < 0)
                return r;
        SILO_FAULT_POINT("delete.after-network");
        if (!c->keep_rootfs)
                silo_image_container_cleanup(c->spec, c->id); /* image bundles: unmount + remove the dir */
        SILO_FAULT_POINT("delete.before-state-remove");
        return silo_state_remove(c->ctx->root, c->id, err);
}

/* A create that was SIGKILLed may have left a state dir without (valid) state.json. */
static int delete_broken(struct silo_container *c, silo_error_t *err)
{
        _cleanup_free_ char *buf = NULL, *cgpath = NULL;
        size_t len;
        silo_error_t e = NULL;

        if (silo_read_file_at(c->dirfd, "config.json", SILO_SPEC_MAX_SIZE, &buf, &len, &e) == 0 &&
            silo_spec_parse(buf, len, &c->spec, &e) == 0) {
                cgpath = silo_cgroup_path_for(c->spec->linux_ ? c->spec->linux_->cgroups_path : NULL, c->id);
                if (silo_cgroup_open(cgpath, &c->cgroup, &e) == 0 && silo_cgroup_destroy(c->cgroup, &e) < 0) {
                        silo_error_free(err);
                        *err = TAKE_PTR(e);
                        return silo_error_ret(*err);
                }
        }
        silo_error_free(&e);
        if (silo_network_release(c->ctx->root, c->dirfd, c->id, err) < 0)
                return silo_error_ret(*err);
        silo_image_container_cleanup(c->spec, c->id);
        return silo_state_remove(c->ctx->root, c->id, err);
}

int silo_container_delete(const struct silo_context *ctx, const char *id, bool force, silo_error_t *err)
{
        _cleanup_container_ struct silo_container c;
        const char *status;
        int r;

        container_init(&c, ctx, id);
        r = container_load(&c, err);
        if (r == -ENOENT && c.dirfd < 0) {
                if (force) { /* runc: deleting an unknown id with --force succeeds */
                        silo_error_free(err);
                        return 0;
                }
                return r;
        }
        if (r < 0) {
                if (c.dirfd < 0 || !force)
                        return r;
                silo_error_free(err);
                return delete_broken(&c, err);
        }
        status = container_status(&c);
        if (!force && strcmp(status, "stopped") != 0 && strcmp(status, "created") != 0)
                return silo_error_set(err, 0, "cannot delete container %s that is not stopped: %s", id, status);
        if (c.cgroup && strcmp(status, "paused") == 0)
                silo_cgroup_freeze(c.cgroup, false, NULL);
        return destroy(&c, err);
}

/* ---- state / kill / list ----------------------------------------------------------------- */

int silo_container_state(const struct silo_context *ctx, const char *id, char **ret_json, silo_error_t *err)
{
        _cleanup_container_ struct silo_container c;
        const char *status;
        int r;

        container_init(&c, ctx, id);
        r = container_load(&c, err);
        if (r < 0)
                return r;
        status = container_status(&c);
        *ret_json = silo_state_oci_json(c.state, status, status_pid(&c, status), true);
        return 0;
}

int silo_container_kill(const struct silo_context *ctx, const char *id, int sig, bool all, silo_error_t *err)
{
        _cleanup_container_ struct silo_container c;
        _cleanup_close_ int pidfd = -1;
        const char *status;
        int r;

        container_init(&c, ctx, id);
        r = container_load(&c, err);
        if (r < 0)
                return r;
        status = container_status(&c);
        if (strcmp(status, "stopped") == 0 || strcmp(status, "creating") == 0) {
                if (all)
                        return 0; /* runc: --all on a stopped container is not an error */
                return silo_error_set(err, 0, "container not running");
        }
        if (is_vm(&c))
                return silo_sandbox_vm_kill(&c, sig, strcmp(status, "created") != 0, err);
        if (all && c.cgroup)
                return silo_cgroup_kill_all(c.cgroup, sig, err);
        /* pidfd: the pid cannot be recycled between the liveness check and the signal */
        pidfd = (int)syscall(SYS_pidfd_open, c.state->pid, 0);
        if (pidfd < 0 || !init_alive(&c))
                return silo_error_set(err, 0, "container not running");
        if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0) {
                if (errno == ESRCH)
                        return silo_error_set(err, 0, "container not running: no such process");
                return silo_error_set(err, errno, "kill container init");
        }
        return 0;
}

int silo_container_list(const struct silo_context *ctx, struct silo_list_entry **ret, size_t *ret_n,
                        silo_error_t *err)
{
        _cleanup_closedir_ DIR *d = opendir(ctx->root);
        struct silo_list_entry *l = NULL;
        size_t n = 0;
        struct dirent *de;

        *ret = NULL;
        *ret_n = 0;
        if (d == NULL)
                return errno == ENOENT ? 0 : silo_error_set(err, errno, "open state root '%s'", ctx->root);
        while ((de = readdir(d)) != NULL) {
                struct silo_container c;
                silo_error_t e = NULL;
                const char *status;

                if (de->d_name[0] == '.' || !silo_id_valid(de->d_name))
                        continue;
                container_init(&c, ctx, de->d_name);
                if (container_load(&c, &e) < 0) {
                        silo_error_free(&e);
                        container_free(&c);
                        continue;
                }
                status = container_status(&c);
                l = silo_xrealloc(l, (n + 1) * sizeof(*l));
                l[n].id = silo_xstrdup(c.id);
                l[n].pid = status_pid(&c, status);
                l[n].status = silo_xstrdup(status);
                l[n].bundle = silo_xstrdup(c.state->bundle);
                l[n].created = silo_xstrdup(c.state->created);
                l[n].owner = silo_xstrdup(c.state->owner);
                l[n].json = silo_state_oci_json(c.state, status, l[n].pid, false);
                n++;
                container_free(&c);
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

void silo_list_free(struct silo_list_entry *l, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(l[i].id);
                free(l[i].status);
                free(l[i].bundle);
                free(l[i].created);
                free(l[i].owner);
                free(l[i].json);
        }
        free(l);
}

/* ---- pause / resume / ps / update ------------------------------------------------------- */

/* Load a container that must have a live init and a cgroup; `verb` names the operation. */
static int load_live(struct silo_container *c, const char **ret_status, silo_error_t *err)
{
        int r = container_load(c, err);
        if (r < 0)
                return r;
        *ret_status = container_status(c);
        if (strcmp(*ret_status, "stopped") == 0 || strcmp(*ret_status, "creating") == 0)
                return silo_error_set(err, 0, "container not running");
        if (c->cgroup == NULL)
                return silo_error_set(err, 0, "container '%s' has no cgroup", c->id);
        return 0;
}

/* pause (freeze) or resume (thaw): the same load and checks, opposite freezer states */
static int set_frozen(const struct silo_context *ctx, const char *id, bool frozen, silo_error_t *err)
{
        _cleanup_container_ struct silo_container c;
        const char *status;
        int r;

        container_init(&c, ctx, id);
        r = load_live(&c, &status, err);
        if (r < 0)
                return r;
        if (frozen && strcmp(status, "paused") == 0)
                return silo_error_set(err, 0, "container already paused");
        if (!frozen && strcmp(status, "paused") != 0)
                return silo_error_set(err, 0, "container not paused");
        return silo_cgroup_freeze(c.cgroup, frozen, err);
}

int silo_container_pause(const struct silo_context *ctx, const char *id, silo_error_t *err)
{
        return set_frozen(ctx, id, true, err);
}

int silo_container_resume(const struct silo_context *ctx, const char *id, silo_error_t *err)
{
        return set_frozen(ctx, id, false, err);
}

int silo_container_pids(const struct silo_context *ctx, const char *id, pid_t **ret, size_t *ret_n,
                        silo_error_t *err)
{
        _cleanup_container_ struct silo_container c;
        int r;

        *ret = NULL;
        *ret_n = 0;
        container_init(&c, ctx, id);
        r = container_load(&c, err);
        if (r < 0)
                return r;
        if (c.cgroup == NULL)
                return 0;
        return silo_cgroup_pids(c.cgroup, ret, ret_n, err);
}

int silo_container_update(const struct silo_context *ctx, const char *id, const struct silo_resources *res,
                          silo_error_t *err)
{
        _cleanup_container_ struct silo_container c;
        const char *status;
        int r;

        container_init(&c, ctx, id);
        r = load_live(&c, &status, err);
        if (r < 0)
                return r;
        /* FIXME: the saved config.json keeps the create-time limits (checkpoint/restore will want
         * the updated ones) */
        return silo_cgroup_apply(c.cgroup, res, err);
}

int silo_container_watch(const struct silo_context *ctx, const char *id, struct silo_cgroup **ret_cg,
                         pid_t *ret_pid, unsigned long long *ret_start_time, silo_error_t *err)
{
        _cleanup_container_ struct silo_container c;
        int r;

        container_init(&c, ctx, id);
        r = container_load(&c, err);
        if (r < 0)
                return r;
        if (strcmp(container_status(&c), "stopped") == 0)
                return silo_error_set(err, 0, "container with id %s is not running", id);
        if (c.cgroup == NULL)
                return silo_error_set(err, 0, "container '%s' has no cgroup", id);
        *ret_pid = c.state->pid;
        *ret_start_time = c.state->pid_start_time;
        *ret_cg = TAKE_PTR(c.cgroup);
        return 0; /* the lock goes with c: a watcher must not block other verbs */
}

/* ---- run --------------------------------------------------------------------------------- */

/*
 * The rest of a foreground run or restore: wait for the init without holding the container lock
 * (state/kill/delete must work meanwhile), put the signal mask back, then delete the container
 * unless asked to keep it or somebody deleted it meanwhile.
 */
static int foreground_run_end(struct silo_container *c, const sigset_t *mask, const sigset_t *old, bool keep,
                              int *ret_status, silo_error_t *err)
{
        struct stat st;
        int r;

        flock(c->dirfd, LOCK_UN);
        r = is_vm(c) ? silo_sandbox_vm_wait(c, mask, ret_status, err)
                     : silo_foreground_wait(c, mask, ret_status, err);
        sigprocmask(SIG_SETMASK, old, NULL);
        if (r < 0 || keep)
                return r;
        while (flock(c->dirfd, LOCK_EX) < 0 && errno == EINTR)
                ;
        if (fstat(c->dirfd, &st) == 0 && st.st_nlink == 0)
                return 0;
        return destroy(c, err);
}

int silo_container_run(const struct silo_context *ctx, const struct silo_create_opts *o, int *ret_status,
                       silo_error_t *err)
{
        _cleanup_container_ struct silo_container c;
        sigset_t mask, old;
        int r;

        *ret_status = 0;
        container_init(&c, ctx, o->id);
        if (!o->detach)
                prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        r = do_create(&c, o, !o->detach, err);
        if (r < 0)
                return r;
        /* block the signals we forward before the payload can run, so none is lost */
        silo_forwarded_signals(&mask);
        if (!o->detach)
                sigprocmask(SIG_BLOCK, &mask, &old);
        r = do_start(&c, err);
        if (r < 0) {
                silo_error_t e = NULL;
                if (destroy(&c, &e) < 0)
                        silo_error_free(&e);
                return r;
        }
        if (o->detach)
                return 0;
        return foreground_run_end(&c, &mask, &old, o->keep, ret_status, err);
}

/* ---- checkpoint / restore (the CRIU work is in checkpoint/) ------------------------------- */

int silo_container_restore(const struct silo_context *ctx, const struct silo_create_opts *o, int *ret_status,
                           silo_error_t *err)
{
        _cleanup_container_ struct silo_container c;
        sigset_t mask, old;
        int r;

        *ret_status = 0;
        container_init(&c, ctx, o->id);
        if (!o->detach)
                prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        silo_forwarded_signals(&mask);
        if (!o->detach) /* the restored init runs as soon as CRIU lets it go */
                sigprocmask(SIG_BLOCK, &mask, &old);
        r = do_create(&c, o, !o->detach, err);
        if (r < 0 || o->detach) {
                if (!o->detach)
                        sigprocmask(SIG_SETMASK, &old, NULL);
                return r;
        }
        return foreground_run_end(&c, &mask, &old, false, ret_status, err);
}

int silo_container_checkpoint(const struct silo_context *ctx, const char *id,
                              int (*fn)(struct silo_container *c, const char *status, void *data, silo_error_t *err),
                              void *data, silo_error_t *err)
{
        _cleanup_container_ struct silo_container c;
        int r;

        container_init(&c, ctx, id);
        r = container_load(&c, err);
        if (r < 0)
                return r;
        r = fn(&c, container_status(&c), data, err);
        if (r <= 0)
                return r;
        c.keep_rootfs = true;
        return destroy(&c, err);
}
