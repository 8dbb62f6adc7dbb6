/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include "cmd.h"

/* stdout carries only the JSON, with no trailing newline (runc), and stderr stays empty. */
int cmd_state(struct silo_global *g, int argc, char **argv)
{
        silo_error_t err = NULL;
        const char *id = NULL;
        char **pos = NULL, *json = NULL;
        int npos = 0, r;

        if (silo_parse_args(argc, argv, NULL, false, &pos, &npos, &err) < 0)
                return silo_cmd_fail(&err);
        r = silo_cmd_need_id("state", npos, pos, &id);
        free(pos);
        if (r)
                return r;
        if (silo_container_state(&g->ctx, id, &json, &err) < 0)
                return silo_cmd_fail(&err);
        fputs(json, stdout);
        free(json);
        return fflush(stdout) == 0 ? 0 : 1;
}
