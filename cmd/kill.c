/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include <stdlib.h>
#include "cmd.h"

/* kill [--all] ID [SIGNAL]: signal as a number (go-runc), a name (KILL, SIGKILL) or RTMIN+n. */
int cmd_kill(struct silo_global *g, int argc, char **argv)
{
        bool all = false;
        const struct silo_opt opts[] = {{"all", 'a', OPT_BOOL, &all}, {NULL, 0, 0, NULL}};
        silo_error_t err = NULL;
        char **pos = NULL;
        int npos = 0, sig;

        if (silo_parse_args(argc, argv, opts, true, &pos, &npos, &err) < 0)
                return silo_cmd_fail(&err);
        if (npos < 1 || npos > 2) {
                free(pos);
                return silo_cmd_usage("kill", "usage: silo kill [--all] <container-id> [signal]");
        }
        sig = silo_parse_signal(npos == 2 ? pos[1] : "SIGTERM");
        if (sig < 0) {
                int r = silo_cmd_usage("kill", "unknown signal '%s'", pos[1]);
                free(pos);
                return r;
        }
        const char *id = pos[0];
        free(pos);
        if (silo_container_kill(&g->ctx, id, sig, all, &err) < 0)
                return silo_cmd_fail(&err);
        return 0;
}
