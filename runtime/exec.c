/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * exec: a new process in a running container, as runc builds it (runc's flags and error
 * strings).  The process is the container's own with the command line and flags applied, or
 * --process FILE; the container's seccomp filter is compiled here for both backends; then the
 * backend starts it (sandbox-ns.c: one clone3 into the container's namespaces and cgroup;
 * sandbox-vm.c: an EXEC session with the guest agent).  The container lock is not held while
 * the process runs, so state/kill/delete keep working.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../cgroups/cgroup.h"
#include "caps.h"
#include "container-internal.h"
#include "fault.h"
#include "seccomp.h"
#include "terminal.h"
#include "util.h"
#include "validate.h"

/* KEY=VALUE entries of add replace same-key entries of *env (last one wins), or are appended. */
static void env_merge(char ***env, char *const *add)
{
        for (; add && *add; add++) {
                const char *eq = strchr(*add, '=');
                size_t klen = eq ? (size_t)(eq - *add) : strlen(*add);
                bool done = false;
                for (char **e = *env; e && *e; e++)
                        if (strncmp(*e, *add, klen) == 0 && ((*e)[klen] == '=' || (*e)[klen] == '\0')) {
                                free(*e);
                                *e = silo_xstrdup(*add);
                                done = true;
                                break;
                        }
                if (!done)
                        silo_strv_push(env, silo_xstrdup(*add));
        }
}

static int parse_id_u32(const char *s, const char *what, uint32_t *ret, silo_error_t *err)
{
        uint64_t v;
        if (silo_parse_u64(s, &v) < 0 || v > UINT32_MAX)
                return silo_error_set(err, 0, "%s: invalid id '%s'", what, s);
        *ret = (uint32_t)v;
        return 0;
}

/*
 * The process to exec, as runc builds it: --process FILE alone, or the container's own process
 * with the command line and flags applied (terminal only with --tty).
 */
static int exec_process(struct silo_container *c, const struct silo_exec_opts *o, struct silo_process **ret,
                        silo_error_t *err)
{
        struct silo_process *p;
        int r;

        if (o->process_path) {
                _cleanup_free_ char *buf = NULL;
                size_t len;
                r = silo_read_file_at(AT_FDCWD, strcmp(o->process_path, "-") ? o->process_path : "/dev/stdin",
                                      SILO_SPEC_MAX_SIZE, &buf, &len, err);
                if (r < 0)
                        return silo_error_wrap(err, "--process");
                r = silo_process_parse(buf, len, &p, err);
                if (r < 0)
                        return r;
        } else {
                if (c->spec->process == NULL)
                        return silo_error_set(err, 0, "container '%s' has no process in its config", c->id);
                p = TAKE_PTR(c->spec->process);
                silo_strv_free(p->args);
                p->args = silo_strv_dup(o->args);
                if (o->cwd) {
                        free(p->cwd);
                        p->cwd = silo_xstrdup(o->cwd);
                }
                if (o->apparmor && *o->apparmor) {
                        free(p->apparmor_profile);
                        p->apparmor_profile = silo_xstrdup(o->apparmor);
                }
                if (o->process_label && *o->process_label) {
                        free(p->selinux_label);
                        p->selinux_label = silo_xstrdup(o->process_label);
                }
                for (char **cap = o->caps; cap && *cap; cap++) {
                        int n = silo_cap_from_name(*cap);
                        if (n < 0) {
                                silo_process_free(p);
                                return silo_error_set(err, 0, "--cap: unknown capability '%s'", *cap);
                        }
                        p->caps.present = true;
                        p->caps.bounding |= 1ULL << n;
                        p->caps.effective |= 1ULL << n;
                        p->caps.permitted |= 1ULL << n;
                        /* ambient needs inheritable, which --cap does not add (runc, CVE-2022-29162) */
                        if (p->caps.inheritable & (1ULL << n))
                                p->caps.ambient |= 1ULL << n;
                }
                env_merge(&p->env, o->env);
                p->terminal = o->tty > 0;
                if (o->no_new_privs >= 0)
                        p->no_new_privileges = o->no_new_privs;
                if (o->user && *o->user) {
                        const char *colon = strchr(o->user, ':');
                        _cleanup_free_ char *uid = silo_xasprintf("%.*s", colon ? (int)(colon - o->user)
                                                                                    : (int)strlen(o->user),
                                                                          o->user);
                        r = parse_id_u32(uid, "--user", &p->user.uid, err);
                        if (r == 0 && colon)
                                r = parse_id_u32(colon + 1, "--user", &p->user.gid, err);
                        if (r < 0) {
                                silo_process_free(p);
                                return r;
                        }
                }
                for (char **g = o->additional_gids; g && *g; g++) {
                        uint32_t gid = 0;
                        r = parse_id_u32(*g, "--additional-gids", &gid, err);
                        if (r < 0) {
                                silo_process_free(p);
                                return r;
                        }
                        p->user.additional_gids = silo_xrealloc(p->user.additional_gids,
                                                                (p->user.n_additional_gids + 1) * sizeof(gid));
                        p->user.additional_gids[p->user.n_additional_gids++] = gid;
                }
        }
        if (p->args == NULL || p->args[0] == NULL) {
                silo_process_free(p);
                return silo_error_set(err, 0, "process args cannot be empty");
        }
        r = silo_process_validate(p, "process", err);
        if (r == 0 && p->apparmor_profile && *p->apparmor_profile && access("/sys/kernel/security/apparmor", F_OK) < 0)
                r = silo_error_set(err, 0, "apparmor profile '%s' given but AppArmor is not enabled on this host",
                                   p->apparmor_profile);
        if (r == 0 && p->selinux_label && *p->selinux_label && access("/sys/fs/selinux/enforce", F_OK) < 0)
                r = silo_error_set(err, 0, "SELinux label '%s' given but SELinux is not enabled on this host",
                                   p->selinux_label);
        if (r < 0) {
                silo_process_free(p);
                return r;
        }
        *ret = p;
        return 0;
}

/* The cgroup to run in: the container's, or --cgroup SUB below it. */
static int exec_cgroup(struct silo_container *c, const char *sub, struct silo_cgroup **ret, silo_error_t *err)
{
        _cleanup_free_ char *path = NULL;

        *ret = NULL;
        if (sub == NULL || *sub == '\0')
                return 0;
        if (c->cgroup == NULL)
                return silo_error_set(err, 0, "--cgroup: the container has no cgroup");
        if (strchr(sub, ':'))
                return silo_error_set(err, 0, "--cgroup '%s': per-controller paths are not supported, "
                                                      "give one path below the container's cgroup", sub);
        if (sub[0] == '/' || strcmp(sub, "..") == 0 || silo_str_has_prefix(sub, "../") || strstr(sub, "/../") ||
            (strlen(sub) >= 3 && strcmp(sub + strlen(sub) - 3, "/..") == 0))
                return silo_error_set(err, 0, "--cgroup '%s': must be a relative path below the container's "
                                                   "cgroup", sub);
        path = silo_xasprintf("%s/%s", c->state->cgroup_path, sub);
        if (silo_cgroup_open(path, ret, err) < 0)
                return silo_error_wrap(err, "--cgroup '%s'", sub);
        return 0;
}

int silo_container_exec(const struct silo_context *ctx, const struct silo_exec_opts *o, int *ret_status,
                        silo_error_t *err)
{
        _cleanup_container_ struct silo_container c;
        struct silo_create_opts copts = {0};
        struct silo_process *p = NULL;
        struct silo_cgroup *sub = NULL;
        _cleanup_close_ int console = -1;
        sigset_t mask, old;
        const char *status;
        int r;

        *ret_status = 0;
        container_init(&c, ctx, o->id);
        r = container_load(&c, err);
        if (r < 0)
                return r == -ENOENT ? silo_error_set(err, ENOENT, "container does not exist") : r;
        status = container_status(&c);
        if (strcmp(status, "stopped") == 0 || strcmp(status, "creating") == 0)
                return silo_error_set(err, 0, "cannot exec in a %s container", status);
        if (is_vm(&c) && strcmp(status, "running") != 0)
                return silo_error_set(err, 0, "cannot exec in a %s vm container", status);
        if (strcmp(status, "paused") == 0 && !o->ignore_paused)
                return silo_error_set(err, 0, "cannot exec in a paused container (use --ignore-paused to override)");
        r = exec_process(&c, o, &p, err);
        if (r == 0 && c.spec->linux_ && c.spec->linux_->seccomp) /* the container's, for both backends */
                r = silo_seccomp_compile(c.spec->linux_->seccomp, &c.seccomp, err);
        if (r < 0) {
                silo_process_free(p);
                return r;
        }
        if (is_vm(&c)) {
                r = silo_sandbox_vm_exec(&c, o, p, ret_status, err);
                silo_process_free(p);
                return r;
        }
        copts.console_socket = o->console_socket;
        c.opts = &copts;
        if (p->terminal && !o->console_socket && o->detach)
                r = silo_error_set(err, 0, "cannot allocate tty if silo will detach without setting console socket");
        else if (o->console_socket && !p->terminal)
                r = silo_error_set(err, 0, "cannot use console socket if silo will not detach or allocate tty");
        if (r == 0 && o->console_socket) {
                console = silo_unix_connect(o->console_socket, err);
                if (console < 0)
                        r = silo_error_wrap(err, "--console-socket");
        }
        if (r == 0)
                r = exec_cgroup(&c, o->cgroup, &sub, err);
        if (r < 0)
                goto out;
        /* we do not hold the container lock while the process runs: state/kill/delete must work */
        flock(c.dirfd, LOCK_UN);
        silo_forwarded_signals(&mask);
        if (!o->detach)
                sigprocmask(SIG_BLOCK, &mask, &old);
        r = silo_sandbox_ns_exec(&c, p, sub ? sub : c.cgroup, o->preserve_fds, strcmp(status, "paused") == 0, err);
        if (r == 0 && o->pid_file)
                r = silo_write_pid_file(o->pid_file, c.pid, err);
        if (r == 0 && o->pidfd_socket) {
                _cleanup_close_ int sock = silo_unix_connect(o->pidfd_socket, err);
                r = sock < 0 ? sock : silo_send_fd(sock, c.pidfd, "pidfd", err);
                if (r < 0)
                        silo_error_wrap(err, "--pidfd-socket");
        }
        if (r == 0 && console >= 0 && c.pty_master >= 0) {
                r = silo_send_fd(console, c.pty_master, "/dev/ptmx", err);
                if (r < 0)
                        silo_error_wrap(err, "--console-socket");
                close(c.pty_master);
                c.pty_master = -1;
        }
        SILO_FAULT_POINT("exec.before-wait");
        if (r < 0 && c.pid > 0) {
                if (c.pidfd >= 0)
                        syscall(SYS_pidfd_send_signal, c.pidfd, SIGKILL, NULL, 0);
                waitpid(c.pid, NULL, 0);
        }
        if (r == 0 && !o->detach)
                r = silo_foreground_wait(&c, &mask, ret_status, err);
        if (!o->detach)
                sigprocmask(SIG_SETMASK, &old, NULL);
out:
        silo_process_free(p);
        silo_cgroup_free(sub);
        return r;
}
