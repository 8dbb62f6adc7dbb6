/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include <stdlib.h>
#include <unistd.h>
#include "cmd.h"
#include "../runtime/events.h"

/* events [--stats] [--interval DUR] ID: runc's stats/OOM stream (runtime/events.h). */
int cmd_events(struct silo_global *g, int argc, char **argv)
{
        silo_error_t err = NULL;
        const char *id = NULL, *interval = NULL;
        struct silo_events_opts o = {.interval_ms = 5000};
        const struct silo_opt opts[] = {
            {"stats", 0, OPT_BOOL, &o.stats_once},
            {"interval", 0, OPT_STRING, &interval},
            {NULL, 0, 0, NULL},
        };
        char **pos = NULL;
        int npos = 0, r;

        if (silo_parse_args(argc, argv, opts, false, &pos, &npos, &err) < 0)
                return silo_cmd_fail(&err);
        r = silo_cmd_need_id("events", npos, pos, &id);
        free(pos);
        if (r)
                return r;
        if (interval && silo_parse_duration_ms(interval, &o.interval_ms, &err) < 0) {
                silo_error_wrap(&err, "--interval");
                return silo_cmd_fail(&err);
        }
        if (silo_container_events(&g->ctx, id, &o, STDOUT_FILENO, &err) < 0)
                return silo_cmd_fail(&err);
        return 0;
}
