/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `silo migrate`: live migration of a running container to another node; protocol and
 * invariants at the top of migrate.c. */
#ifndef SILO_MIGRATE_H
#define SILO_MIGRATE_H

#include <stdbool.h>
#include "../runtime/container.h"
#include "../runtime/error.h"

struct silo_migrate_opts {
        const char *id;
        const char *dest;        /* "tcp:HOST:PORT" or "[user@]host" (through rsh) */
        const char *rsh;         /* remote shell command, default $SILO_MIGRATE_RSH or "ssh" */
        const char *remote_silo; /* the silo command on the other side, default $SILO_MIGRATE_REMOTE_SILO
                                  * or "silo" (may carry global flags: "silo --root /run/x") */
        int max_rounds;          /* pre-dump rounds at most; 0 = plain stop-dump-transfer-restore */
        bool tcp_established;
        bool lazy_pages;         /* post-copy: the memory follows the restart (migrate-lazy.c) */
        const char *page_server; /* --page-server IP:PORT where the source serves it; default over
                                  * tcp: this side's address of the stream, a free port */
        bool progress;   /* per-round progress lines on stderr (a terminal) */
};

/* Source side: on success the container runs on the destination and is gone here; the report
 * (rounds, sizes, downtime) is printed on stdout.  On any failure the container runs here. */
int silo_migrate(const struct silo_context *ctx, const struct silo_migrate_opts *o, silo_error_t *err);

/* Destination side: one migration over rfd/wfd (a socket, or stdin/stdout under rsh). */
int silo_migrate_receive(const struct silo_context *ctx, const char *data_root, int rfd, int wfd,
                         silo_error_t *err);

/* `--listen ADDR:PORT`: accept migrations one at a time (once: just one), each handled by a
 * worker process whose temporary dir is removed by this process whatever happens to it. */
int silo_migrate_listen(const struct silo_context *ctx, const char *data_root, const char *addr, bool once,
                        silo_error_t *err);

#endif
