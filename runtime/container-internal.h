/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the lifecycle verbs share inside runtime/: container.c (create/start/state/kill/delete/
 * run/restore/...), exec.c (exec) and foreground.c (waiting for a foreground process).  Not
 * part of the library's interface (container.h).
 */
#ifndef SILO_CONTAINER_INTERNAL_H
#define SILO_CONTAINER_INTERNAL_H

#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include "sandbox.h"

void container_init(struct silo_container *c, const struct silo_context *ctx, const char *id);
void container_free(struct silo_container *c);
#define _cleanup_container_ _cleanup_(container_free)
/* Open, lock and load an existing container (its state, saved config and cgroup). */
int container_load(struct silo_container *c, silo_error_t *err);
/* The status derived from the live system (see container.c's header). */
const char *container_status(struct silo_container *c);

static inline bool is_vm(const struct silo_container *c)
{
        return c->state && c->state->sandbox && strcmp(c->state->sandbox, "vm") == 0;
}

int silo_write_pid_file(const char *path, pid_t pid, silo_error_t *err);

/* Copy what one read() of from gives to to; *eof at end of file or a hard error. */
void silo_copy_fd(int from, int to, bool *eof);
/* Every signal a foreground run/exec forwards (all but the synchronous fault signals). */
void silo_forwarded_signals(sigset_t *mask);
/*
 * Forward the signals of mask (blocked by the caller) to c->pid, copy c->pty_master to and from
 * the caller's terminal, and reap; *ret_status is the exit code (128+N for signal N).
 */
int silo_foreground_wait(struct silo_container *c, const sigset_t *mask, int *ret_status, silo_error_t *err);

#endif
