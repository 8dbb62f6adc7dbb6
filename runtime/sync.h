/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The parent <-> container-init protocol of the namespaces backend.
 *
 * One SOCK_SEQPACKET socketpair (each message is one datagram; EOF means the peer died), created
 * before clone3 and CLOEXEC on both ends.  Messages are {type, value, payload}, optionally with
 * one fd (SCM_RIGHTS).  The whole exchange, in order:
 *
 *   parent (silo)                                      child (silo:[1:INIT])
 *   clone3(new ns flags, CLONE_INTO_CGROUP) ─────────► (blocked in recv)
 *   cgroup enter (v1), prlimit, oom_score_adj,
 *   uid_map/gid_map when clone3 made the userns
 *            ──── SYNC_GO ──────────────────────────► setns() into namespaces given by path
 *                                                      [slow path: unshare() the new ones]
 *            ◄─── SYNC_IDMAP_REQ (slow path + userns)
 *   write uid_map/gid_map ── SYNC_IDMAP_DONE ───────►
 *                                                      [pid/time ns via unshare: fork the real init]
 *            ◄─── SYNC_PID {value = pid of init}       (the intermediate exits; the parent reaps it)
 *                                                      unshare(CLONE_NEWCGROUP) (now inside the cgroup)
 *                                                      mounts, devices, sysctl, hostname
 *            ◄─── SYNC_HOOKS_REQ                       (only when prestart/createRuntime hooks exist)
 *   prestart + createRuntime hooks
 *            ──── SYNC_HOOKS_DONE {state json} ─────► createContainer hooks; pivot_root; masked/ro paths
 *            ◄─── SYNC_PTY + fd (process.terminal)     pty master; the peer is /dev/console and fds 0-2
 *            ◄─── SYNC_SECCOMP + fd (notify rules)     the filter is loaded before the uid switch
 *   send {state} + fd to listenerPath
 *            ──── SYNC_SECCOMP_DONE ────────────────►
 *                                                      caps/uid/seccomp (ordering in init.c), args[0] lookup
 *            ◄─── SYNC_READY                           open exec.fifo for writing: blocks until `start`
 *   state "created", pid file, exit 0                  then startContainer hooks, execve(process.args)
 *
 *   any step:  ◄─── SYNC_ERROR {value = errno, payload = message}; the child then exits.
 *
 * Log lines written by the child go straight to the log fd (O_APPEND), not over this channel.
 */
#ifndef SILO_SYNC_H
#define SILO_SYNC_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

enum silo_sync_type {
        SYNC_GO = 1,
        SYNC_IDMAP_REQ,
        SYNC_IDMAP_DONE,
        SYNC_PID,
        SYNC_HOOKS_REQ,
        SYNC_HOOKS_DONE,
        SYNC_PTY,
        SYNC_READY,
        SYNC_ERROR,
        SYNC_SECCOMP,      /* child -> parent, with the seccomp notify listener fd */
        SYNC_SECCOMP_DONE, /* parent -> child: handed to linux.seccomp.listenerPath */
};

#define SILO_SYNC_MAX_PAYLOAD (256u * 1024u)

struct silo_sync_msg {
        uint32_t type;
        int32_t value;
        char *payload; /* NUL-terminated, may be NULL; allocated by silo_sync_recv */
        size_t len;
        int fd; /* -1 when none */
};

int silo_sync_send(int sock, uint32_t type, int32_t value, const char *payload, size_t len, int fd);
/* Receive one message; returns 0, -EPIPE on EOF, or -errno. */
int silo_sync_recv(int sock, struct silo_sync_msg *msg);
void silo_sync_msg_clear(struct silo_sync_msg *msg);
/* Child side: report err to the parent (best effort). */
void silo_sync_send_error(int sock, const silo_error_t err);
/* Receive and require a given type; a SYNC_ERROR becomes *err; EOF becomes "<who> exited". */
int silo_sync_expect(int sock, uint32_t type, struct silo_sync_msg *msg, silo_error_t *err);

#endif
