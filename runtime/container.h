/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The container lifecycle (runtime-spec runtime.md): create, start, run, state, kill, delete,
 * list.  This is the only API cmd/ calls.  Every operation takes the per-container lock for its
 * whole duration; failures leave the environment as if the operation had not been attempted
 * (a failed create removes its cgroup, processes, mounts and state dir).
 */
#ifndef SILO_CONTAINER_H
#define SILO_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>
#include "error.h"

struct silo_container;

struct silo_context {
        const char *root; /* state root */
        bool systemd_cgroup;
        bool debug;
};

struct silo_create_opts {
        const char *id;
        const char *bundle;         /* absolute */
        const char *pid_file;       /* absolute or NULL */
        const char *console_socket; /* absolute or NULL */
        const char *pidfd_socket;   /* absolute or NULL: receives a pidfd of the init */
        bool no_pivot;
        bool no_new_keyring;
        int preserve_fds;
        int image_mount_fd; /* > 0: the detached overlay of an image container (image/ctr.c); 0 = none */
        /* or: called right before the init is cloned, to collect that overlay (built meanwhile by
         * image/ctr.c); *ret_fd = the detached mount (owned by create now), or -1 for none */
        int (*image_mount)(void *data, int *ret_fd, silo_error_t *err);
        void *image_mount_data;
        const char *sandbox;        /* "ns", "vm" or NULL (annotation io.silo.sandbox, else ns) */
        const char *vm_kernel;      /* vm sandbox: guest kernel (default: newest /boot/vmlinuz-*) */
        const char *vm_accel;       /* vm sandbox: kvm|tcg|auto */
        const char *data_root;      /* vm sandbox: asset cache under <data_root>/vm (NULL: default) */
        /* run only */
        bool detach;
        bool keep;
        /* restore (checkpoint/): replaces the sandbox's clone of the init and the network attach.
         * It must set c->pid, c->pidfd and c->state->pid_start_time; no exec.fifo is made and the
         * container is "running" once it returns. */
        int (*spawn)(struct silo_container *c, void *data, silo_error_t *err);
        void *spawn_data;
        const char *net_ip; /* bridge network: lease exactly this address (restore keeps its IP) */
};

/* exec: a process joining a running container (runc's exec flags, interfaces.md §1.4). */
struct silo_exec_opts {
        const char *id;
        const char *process_path;   /* --process FILE ("-" = stdin): replaces every flag below */
        char **args;                /* the command, when no --process */
        bool detach;
        const char *pid_file;       /* absolute or NULL */
        const char *console_socket; /* absolute or NULL */
        const char *pidfd_socket;   /* NULL or path */
        int tty;                    /* -1 = not given, else --tty value */
        const char *cwd;
        char **env;                 /* KEY=VALUE, override the config's (last one wins) */
        const char *user;           /* "uid[:gid]" */
        char **additional_gids;
        char **caps;                /* added to bounding/effective/permitted */
        int no_new_privs;           /* -1 = not given */
        const char *apparmor;
        const char *process_label;
        int preserve_fds;
        bool ignore_paused;
        const char *cgroup;         /* sub-cgroup of the container's cgroup to run in */
};

struct silo_list_entry {
        char *id;
        pid_t pid;
        char *status;
        char *bundle;
        char *created;
        char *owner;
        char *json; /* OCI state object */
};

int silo_container_create(const struct silo_context *ctx, const struct silo_create_opts *o, silo_error_t *err);
int silo_container_start(const struct silo_context *ctx, const char *id, silo_error_t *err);
/* create + start; in the foreground waits and returns the exit status (128+sig for signals). */
int silo_container_run(const struct silo_context *ctx, const struct silo_create_opts *o, int *ret_status,
                       silo_error_t *err);
int silo_container_state(const struct silo_context *ctx, const char *id, char **ret_json, silo_error_t *err);
int silo_container_kill(const struct silo_context *ctx, const char *id, int sig, bool all, silo_error_t *err);
int silo_container_delete(const struct silo_context *ctx, const char *id, bool force, silo_error_t *err);
int silo_container_list(const struct silo_context *ctx, struct silo_list_entry **ret, size_t *ret_n,
                        silo_error_t *err);
void silo_list_free(struct silo_list_entry *l, size_t n);
/* Freeze / thaw every process of a running container (cgroup freezer). */
int silo_container_pause(const struct silo_context *ctx, const char *id, silo_error_t *err);
int silo_container_resume(const struct silo_context *ctx, const char *id, silo_error_t *err);
/* Host pids of every process in the container's cgroup. */
int silo_container_pids(const struct silo_context *ctx, const char *id, pid_t **ret, size_t *ret_n,
                        silo_error_t *err);
struct silo_resources;
/* Apply new limits to a created/running/paused container. */
int silo_container_update(const struct silo_context *ctx, const char *id, const struct silo_resources *r,
                          silo_error_t *err);

/* Run a process in a running (or created) container.  Foreground: waits and returns its exit
 * status (128+sig); detached: returns once the process runs (its pid in --pid-file). */
int silo_container_exec(const struct silo_context *ctx, const struct silo_exec_opts *o, int *ret_status,
                        silo_error_t *err);
struct silo_cgroup;
/* For `events`: the cgroup and the init (pid + start time) of a container that is not stopped
 * ("container with id ID is not running" otherwise).  The container lock is not kept. */
int silo_container_watch(const struct silo_context *ctx, const char *id, struct silo_cgroup **ret_cg,
                         pid_t *ret_pid, unsigned long long *ret_start_time, silo_error_t *err);

/* restore: create (state dir, config, cgroup, network lease) with o->spawn as the process step;
 * o->detach false = wait and return the init's exit status, as run does. */
int silo_container_restore(const struct silo_context *ctx, const struct silo_create_opts *o, int *ret_status,
                           silo_error_t *err);
/* checkpoint: fn runs on the loaded, locked container with its derived status; when fn returns 1
 * the container is destroyed afterwards (cgroup, network, state; an image rootfs is kept for
 * restore). */
int silo_container_checkpoint(const struct silo_context *ctx, const char *id,
                              int (*fn)(struct silo_container *c, const char *status, void *data, silo_error_t *err),
                              void *data, silo_error_t *err);

/* Signal names and numbers: "9", "KILL", "SIGKILL", "RTMIN+3". */
int silo_parse_signal(const char *s);

#endif
