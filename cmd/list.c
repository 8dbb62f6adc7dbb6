/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"

/* list [--format table|json] [-q]: runc's columns; JSON is an array of state objects, "null"
 * when empty (go-runc accepts it; runc prints null too). */
int cmd_list(struct silo_global *g, int argc, char **argv)
{
        const char *format = "table";
        bool quiet = false;
        const struct silo_opt opts[] = {{"format", 'f', OPT_STRING, &format},
                                        {"quiet", 'q', OPT_BOOL, &quiet},
                                        {NULL, 0, 0, NULL}};
        struct silo_list_entry *l = NULL;
        silo_error_t err = NULL;
        char **pos = NULL;
        size_t n = 0;
        int npos = 0;

        if (silo_parse_args(argc, argv, opts, false, &pos, &npos, &err) < 0)
                return silo_cmd_fail(&err);
        free(pos);
        if (npos > 0)
                return silo_cmd_usage("list", "takes no arguments");
        if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
                return silo_cmd_usage("list", "invalid format '%s' (want table or json)", format);
        if (silo_container_list(&g->ctx, &l, &n, &err) < 0)
                return silo_cmd_fail(&err);
        if (quiet) {
                for (size_t i = 0; i < n; i++)
                        printf("%s\n", l[i].id);
        } else if (strcmp(format, "json") == 0) {
                if (n == 0)
                        fputs("null", stdout);
                else {
                        putchar('[');
                        for (size_t i = 0; i < n; i++)
                                printf("%s%s", i ? "," : "", l[i].json);
                        putchar(']');
                }
                putchar('\n');
        } else {
                printf("%-12s %-8s %-10s %-40s %-31s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
                for (size_t i = 0; i < n; i++)
                        printf("%-12s %-8d %-10s %-40s %-31s %s\n", l[i].id, (int)l[i].pid, l[i].status,
                               l[i].bundle, l[i].created, *l[i].owner ? l[i].owner : "root");
        }
        silo_list_free(l, n);
        return fflush(stdout) == 0 ? 0 : 1;
}
