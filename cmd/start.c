/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include "cmd.h"

int cmd_start(struct silo_global *g, int argc, char **argv)
{
        silo_error_t err = NULL;
        const char *id = NULL;
        char **pos = NULL;
        int npos = 0, r;

        if (silo_parse_args(argc, argv, NULL, false, &pos, &npos, &err) < 0)
                return silo_cmd_fail(&err);
        r = silo_cmd_need_id("start", npos, pos, &id);
        free(pos);
        if (r)
                return r;
        if (silo_container_start(&g->ctx, id, &err) < 0)
                return silo_cmd_fail(&err);
        return 0;
}
