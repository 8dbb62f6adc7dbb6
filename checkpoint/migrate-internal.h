/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the two sides of `silo migrate` (migrate.c: framing, helpers, source;
 * migrate-recv.c: destination).  The protocol is documented at the top of migrate.c. */
#ifndef SILO_MIGRATE_INTERNAL_H
#define SILO_MIGRATE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <yajl/yajl_tree.h>
#include "../runtime/container.h"
#include "../runtime/error.h"

#define MIG_PROTO 2 /* 2: an image container's dir is shared or re-made from its diff */
#define MIG_MAX_FRAME (1u << 20)

enum {
        MSG_HELLO = 1,
        MSG_MKDIR,
        MSG_FILE,
        MSG_DATA,
        MSG_EOF,
        MSG_SYMLINK,
        MSG_CHECK,
        MSG_READY,
        MSG_ROUND,
        MSG_RESTORE,
        MSG_RUNNING,
        MSG_DONE,
        MSG_ERROR,
};

/* One frame; an ERROR frame received becomes *err.  mig_recv's *ret is NUL-terminated. */
int mig_send(int fd, uint32_t type, const void *p, size_t len, silo_error_t *err);
int mig_send_str(int fd, uint32_t type, const char *s, silo_error_t *err);
int mig_recv(int fd, uint32_t *ret_type, char **ret, size_t *ret_len, silo_error_t *err);
int mig_expect(int fd, uint32_t want, char **ret, silo_error_t *err);

double mig_now_ms(void);
void mig_kernel_release(char *buf, size_t n);
long mig_kernel_num(const char *rel);                                       /* "6.1.0-27-amd64" -> 6001 */
int mig_criu_version(silo_error_t *err);                                    /* libcriu loaded: e.g. 31701 */
int mig_criu_cpuinfo(const char *verb, const char *dir, silo_error_t *err); /* criu cpuinfo dump|check */
bool mig_name_ok(const char *s, size_t n); /* [A-Za-z0-9._-]+, not "." or ".." */
void mig_boot_id(char buf[40]);            /* this kernel's boot id ("" if unknown) */

/* Post-copy (migrate-lazy.c): the final dump in a child process that serves the pages through
 * a relay child that owns the public port. */
struct silo_context;
struct silo_criu_opts;
struct mig_lazy {
        char *addr;    /* the public side of the page server: "IP:PORT" */
        int lfd;       /* its listening socket until the relay has it; -1 */
        pid_t pid;     /* the dump's child (its own process group), 0 once reaped */
        int err_fd;    /* its error text; EOF when it ends; -1 */
        pid_t relay;   /* the relay's child, 0 once reaped */
        int commit_fd; /* 'c' = committed, closed without = abort; -1 */
        int stream_fd; /* the migration stream (closed in the children) */
};
#define MIG_LAZY_INIT {.lfd = -1, .err_fd = -1, .commit_fd = -1, .stream_fd = -1}
bool mig_lazy_addr_ok(const char *s);
int mig_lazy_listen(struct mig_lazy *l, int stream_fd, bool tcp, const char *given, silo_error_t *err);
/* Returns once the images are written and the page server listens (or the dump failed: the
 * container then runs on, resumed by CRIU).  co->lazy_pages/page_server/status_fd are set. */
int mig_lazy_dump_start(const struct silo_context *ctx, struct silo_criu_opts *co, struct mig_lazy *l,
                        silo_error_t *err);
/* RUNNING arrived: from now on the end of the page session is its completion. */
void mig_lazy_commit(struct mig_lazy *l);
/* After the commit: until every page was fetched and the source released. */
int mig_lazy_dump_wait(struct mig_lazy *l, silo_error_t *err);
/* Before the commit: the dump fails on purpose, the container resumes here. */
void mig_lazy_abort(const struct silo_context *ctx, const char *id, struct mig_lazy *l);
/* transports (migrate.c) */
struct silo_migrate_opts;
int mig_connect_tcp(const char *hostport, silo_error_t *err);
int mig_spawn_rsh(const struct silo_migrate_opts *o, pid_t *ret_pid, silo_error_t *err);

/* migrate-vm.c: a vm container moves as qemu's own live migration stream ("sandbox":"vm" in
 * HELLO, the files of a VM snapshot in "vm/").  mig_vm_source: 1 when o->id is not a vm
 * container (the caller goes on with CRIU). */
int mig_vm_source(const struct silo_context *ctx, const struct silo_migrate_opts *o, silo_error_t *err);
bool mig_hello_vm(yajl_val hello);
/* the destination's pre-flight of a vm HELLO, in place of CRIU's (tmp: its temporary dir) */
int mig_vm_preflight(const char *data_root, yajl_val hello, const char *tmp, silo_error_t *err);

#endif
