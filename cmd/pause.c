/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include <stdlib.h>
#include "cmd.h"

static int pause_or_resume(struct silo_global *g, int argc, char **argv, const char *verb,
                           int (*fn)(const struct silo_context *, const char *, silo_error_t *))
{
        silo_error_t err = NULL;
        const char *id = NULL;
        char **pos = NULL;
        int npos = 0, r;

        if (silo_parse_args(argc, argv, NULL, false, &pos, &npos, &err) < 0)
                return silo_cmd_fail(&err);
        r = silo_cmd_need_id(verb, npos, pos, &id);
        free(pos);
        if (r)
                return r;
        if (fn(&g->ctx, id, &err) < 0)
                return silo_cmd_fail(&err);
        return 0;
}

int cmd_pause(struct silo_global *g, int argc, char **argv)
{
        return pause_or_resume(g, argc, argv, "pause", silo_container_pause);
}

int cmd_resume(struct silo_global *g, int argc, char **argv)
{
        return pause_or_resume(g, argc, argv, "resume", silo_container_resume);
}
