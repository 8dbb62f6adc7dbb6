/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Sandbox backends.  A backend owns the process model of a container: how the payload is
 * created (namespaces + clone3 here; a VMM later) up to the point where it waits for `start`.
 * container.c owns everything backend-independent: state, cgroup, hooks, fifo gate.
 *
 * The namespaces backend is split in two files:
 *   sandbox-ns.c  parent side: namespace plan, clone3, id maps, rlimits, the sync loop
 *   init.c        child side: everything between clone3 and execve
 */
#ifndef SILO_SANDBOX_H
#define SILO_SANDBOX_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>
#include "container.h"
#include "seccomp.h"
#include "spec.h"
#include "state.h"

struct silo_cgroup;

/* One container being operated on (parent side). */
struct silo_container {
        const struct silo_context *ctx;
        const struct silo_create_opts *opts; /* create/run only */
        char *id;
        int dirfd; /* locked state dir */
        struct silo_spec *spec;
        struct silo_state *state;
        struct silo_cgroup *cgroup;
        char *rootfs;
        char *bundle;
        struct silo_seccomp_prog *seccomp;
        /* set by the backend's create */
        pid_t pid;
        int pidfd;
        int pty_master;      /* foreground terminal (run), else sent to the console socket */
        pid_t intermediate;  /* slow path: the first child, already reaped */
        int extra_fds;       /* socket-activation fds passed before --preserve-fds ones */
        bool keep_rootfs;    /* destroy after a checkpoint: keep an image rootfs for restore */
        int rootfs_mount_fd; /* -1, or a detached overlay mount the init attaches as its rootfs */
        pid_t vm_supervisor; /* vm sandbox: the supervisor forked by this create (run waits for it) */
};

/* What the container init needs; filled by the parent, inherited by clone (copy of memory). */
struct silo_init_args {
        const struct silo_spec *spec;
        const char *id;
        const char *rootfs;
        const char *bundle;
        int sync_fd;
        int state_dirfd; /* for exec.fifo; CLOEXEC, so gone at execve */
        int rootfs_mount_fd; /* -1, or a detached overlay to attach as the rootfs (image containers) */
        const struct silo_seccomp_prog *seccomp;
        bool no_pivot;
        bool no_new_keyring;
        int preserve_fds;
        int ns_fds[8];      /* namespaces to join (opened by the parent), -1 = none; index silo_ns_type */
        int cg_fds[16];     /* v1 "tasks" files the init writes "0" to (silo_cgroup_self_enter_fds) */
        size_t n_cg_fds;
        int unshare_flags;  /* slow path: namespaces the child creates itself */
        bool fork_init;     /* slow path: fork after unshare (new or joined pid/time ns) */
        bool userns;        /* the container has its own (new or joined) user namespace */
        bool new_userns_unshared; /* slow path created the userns: ask the parent for id maps */
        bool new_cgroupns;
        bool new_mntns;
        bool new_netns;
        bool foreground_tty;
        bool exec;          /* an exec'd process: errors up to execve go over sync_fd */
        bool exec_late_cgroup; /* exec into a paused container: SYNC_READY, parent moves us, SYNC_GO */
};

int silo_sandbox_ns_create(struct silo_container *c, silo_error_t *err);
/*
 * exec: start process p in the namespaces of the running container c (c->state->pid), in cgroup cg
 * (the container's or a sub-cgroup; NULL = none).  Sets c->pid, c->pidfd and, with p->terminal,
 * c->pty_master.  Returns once p has been execve()d (or with the error that prevented it).  When
 * the container is paused (exec --ignore-paused), the process is set up outside the frozen cgroup
 * and moved in just before execve: it then runs when the container is resumed.
 */
int silo_sandbox_ns_exec(struct silo_container *c, const struct silo_process *p, struct silo_cgroup *cg,
                         int preserve_fds, bool paused, silo_error_t *err);
__attribute__((noreturn)) void silo_exec_child_main(struct silo_init_args *a, const struct silo_process *p);

/* The steps shared by the container init and `exec`, once inside the container's namespaces:
 * terminal, cwd, scheduler, user/caps/seccomp, args[0] lookup; then the final execve. */
int silo_process_finalize(struct silo_init_args *a, const struct silo_process *p, char **ret_exe,
                          silo_error_t *err);
__attribute__((noreturn)) void silo_process_exec(struct silo_init_args *a, const struct silo_process *p,
                                                 const char *exe);
__attribute__((noreturn)) void silo_init_main(struct silo_init_args *a);

/* The VM sandbox (sandbox-vm.c): --sandbox / io.silo.sandbox selection, create (boots the guest;
 * the process starts at `start`), kill (signal forwarded to the guest process), stop (delete:
 * after the VMM is killed, wait for the supervisor), foreground wait (run). */
int silo_sandbox_vm_wanted(const struct silo_spec *spec, const char *opt, bool *ret, silo_error_t *err);
int silo_sandbox_vm_create(struct silo_container *c, silo_error_t *err);
/* restore of a VM snapshot: the spawn hook of silo_create_opts (sandbox-vm-snapshot.c) */
int silo_sandbox_vm_restore_spawn(struct silo_container *c, void *data, silo_error_t *err);
int silo_sandbox_vm_kill(struct silo_container *c, int sig, bool started, silo_error_t *err);
void silo_sandbox_vm_stop(struct silo_container *c);
int silo_sandbox_vm_wait(struct silo_container *c, const sigset_t *mask, int *ret_status, silo_error_t *err);
int silo_sandbox_vm_exec(struct silo_container *c, const struct silo_exec_opts *o, const struct silo_process *p,
                         int *ret_status, silo_error_t *err);

/* Hook state JSON for the container in its current phase. */
char *silo_container_hook_state(struct silo_container *c, const char *status);

#endif
