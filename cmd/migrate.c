/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * migrate: move a running container to another node (checkpoint/migrate.c has the protocol).
 *
 *   silo migrate [--rounds N] [--tcp-established] [--lazy-pages [--page-server IP:PORT]]
 *                [--rsh CMD] [--remote-silo CMD] ID DEST
 *   silo migrate --listen ADDR:PORT [--once]      receiver for DEST = tcp:HOST:PORT
 *   silo migrate --receive                        receiver on stdin/stdout (what DEST = host runs)
 *
 * The receivers use the global --root and --data-root of their own command line.
 */
#include "config.h"
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmd.h"
#include "../checkpoint/migrate.h"
#include "../image/image.h"
#include "../runtime/util.h"

int cmd_migrate(struct silo_global *g, int argc, char **argv)
{
        struct silo_migrate_opts o = {.max_rounds = -1};
        const char *listen_addr = NULL;
        bool receive = false, once = false;
        const struct silo_opt opts[] = {
            {"rounds", 0, OPT_INT, &o.max_rounds},
            {"tcp-established", 0, OPT_BOOL, &o.tcp_established},
            {"rsh", 0, OPT_STRING, &o.rsh},
            {"remote-silo", 0, OPT_STRING, &o.remote_silo},
            {"lazy-pages", 0, OPT_BOOL, &o.lazy_pages},
            {"page-server", 0, OPT_STRING, &o.page_server},
            {"listen", 0, OPT_STRING, &listen_addr},
            {"once", 0, OPT_BOOL, &once},
            {"receive", 0, OPT_BOOL, &receive},
            {NULL, 0, 0, NULL},
        };
        _cleanup_free_ char *data_abs = NULL;
        silo_error_t err = NULL;
        char **pos = NULL;
        int npos = 0, r;

        if (silo_parse_args(argc, argv, opts, false, &pos, &npos, &err) < 0)
                return silo_cmd_fail(&err);
        data_abs = silo_abs_path(g->data_root ? g->data_root : silo_data_root_default());
        if (receive || listen_addr) {
                free(pos);
                if (npos != 0)
                        return silo_cmd_usage("migrate", "--receive and --listen take no arguments");
                if (receive && listen_addr)
                        return silo_cmd_usage("migrate", "--receive and --listen exclude each other");
                if (listen_addr)
                        r = silo_migrate_listen(&g->ctx, data_abs, listen_addr, once, &err);
                else {
                        /* the stream moves off stdin/stdout: nothing else may write into it */
                        int rfd = fcntl(0, F_DUPFD_CLOEXEC, 3), wfd = fcntl(1, F_DUPFD_CLOEXEC, 3);
                        int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
                        if (nul >= 0) {
                                dup2(nul, 0);
                                dup2(nul, 1);
                                close(nul);
                        }
                        r = silo_migrate_receive(&g->ctx, data_abs, rfd, wfd, &err);
                }
                return r < 0 ? silo_cmd_fail(&err) : 0;
        }
        if (npos != 2) {
                free(pos);
                return silo_cmd_usage("migrate", "expects a container id and a destination (tcp:HOST:PORT or "
                                                 "[user@]host)");
        }
        o.id = pos[0];
        o.dest = pos[1];
        free(pos);
        o.progress = isatty(2);
        r = silo_migrate(&g->ctx, &o, &err);
        return r < 0 ? silo_cmd_fail(&err) : 0;
}
