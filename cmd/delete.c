/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include <stdlib.h>
#include "cmd.h"
#include "../checkpoint/archive.h"
#include "../image/image.h"
#include "../runtime/util.h"

int cmd_delete(struct silo_global *g, int argc, char **argv)
{
        bool force = false;
        const struct silo_opt opts[] = {{"force", 'f', OPT_BOOL, &force}, {NULL, 0, 0, NULL}};
        silo_error_t err = NULL;
        const char *id = NULL;
        char **pos = NULL;
        int npos = 0, r;

        if (silo_parse_args(argc, argv, opts, false, &pos, &npos, &err) < 0)
                return silo_cmd_fail(&err);
        r = silo_cmd_need_id("delete", npos, pos, &id);
        free(pos);
        if (r)
                return r;
        if (force) { /* an image container dir a killed `run --image` left without state */
                _cleanup_free_ char *root = silo_abs_path(g->ctx.root),
                                    *data = silo_abs_path(g->data_root ? g->data_root : silo_data_root_default());
                silo_image_reclaim_orphan(data, root, id);
                silo_ckpt_reclaim_tmp(root, id); /* and what a killed checkpoint/restore left */
        }
        if (silo_container_delete(&g->ctx, id, force, &err) < 0)
                return silo_cmd_fail(&err);
        return 0;
}
