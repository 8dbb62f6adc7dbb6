/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "cmd.h"
#include "../runtime/util.h"

/*
 * ps [--format table|json] ID [ps(1) options]: json = the host pids of the container's cgroup
 * (go-runc decodes []int); table = ps(1) run with the given options (default -ef), keeping the
 * header and the rows whose PID column is one of the container's (runc's behaviour, and
 * go-runc's ParsePSOutput needs that PID column).
 */
static bool has_pid(const pid_t *pids, size_t n, long p)
{
        for (size_t i = 0; i < n; i++)
                if (pids[i] == p)
                        return true;
        return false;
}

static int ps_table(pid_t *pids, size_t n, int nargs, char **args)
{
        _cleanup_free_ char *cmd = NULL;
        struct silo_buf b = {0};
        char line[8192];
        int pid_col = -1, st;
        FILE *f;

        silo_buf_puts(&b, "exec ps");
        if (nargs == 0)
                silo_buf_puts(&b, " -ef");
        for (int i = 0; i < nargs; i++) {
                silo_buf_puts(&b, " '");
                for (const char *p = args[i]; *p; p++)
                        *p == '\'' ? silo_buf_puts(&b, "'\\''") : silo_buf_putc(&b, *p);
                silo_buf_putc(&b, '\'');
        }
        f = popen(b.data, "re");
        silo_buf_free(&b);
        if (f == NULL)
                return silo_cmd_usage("ps", "run ps(1): %s", strerror(errno));
        for (bool header = true; fgets(line, sizeof(line), f); header = false) {
                char copy[sizeof(line)], *save = NULL, *tok;
                int col = 0;
                long p = -1;

                memcpy(copy, line, sizeof(line));
                for (tok = strtok_r(copy, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save), col++) {
                        if (header && strcmp(tok, "PID") == 0)
                                pid_col = col;
                        else if (!header && col == pid_col)
                                p = strtol(tok, NULL, 10);
                }
                if (header) {
                        if (pid_col < 0) {
                                pclose(f);
                                return silo_cmd_usage("ps", "could not find the PID column in the ps output");
                        }
                        fputs(line, stdout);
                } else if (has_pid(pids, n, p)) {
                        fputs(line, stdout);
                }
        }
        st = pclose(f);
        if (st != 0)
                return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
        return 0;
}

int cmd_ps(struct silo_global *g, int argc, char **argv)
{
        const char *format = "table";
        const struct silo_opt opts[] = {{"format", 'f', OPT_STRING, &format}, {NULL, 0, 0, NULL}};
        silo_error_t err = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        char **pos = NULL;
        size_t n = 0;
        int npos = 0, r;

        if (silo_parse_args(argc, argv, opts, true, &pos, &npos, &err) < 0)
                return silo_cmd_fail(&err);
        if (npos < 1) {
                free(pos);
                return silo_cmd_usage("ps", "requires a container id");
        }
        if (strcmp(format, "json") != 0 && strcmp(format, "table") != 0) {
                free(pos);
                return silo_cmd_usage("ps", "invalid format '%s' (want table or json)", format);
        }
        if (silo_container_pids(&g->ctx, pos[0], &pids, &n, &err) < 0) {
                free(pos);
                return silo_cmd_fail(&err);
        }
        if (strcmp(format, "json") == 0) {
                if (npos > 1) {
                        free(pos);
                        return silo_cmd_usage("ps", "ps options cannot be used with --format json");
                }
                putchar('[');
                for (size_t i = 0; i < n; i++)
                        printf("%s%d", i ? "," : "", (int)pids[i]);
                puts("]");
                free(pos);
                return fflush(stdout) == 0 ? 0 : 1;
        }
        r = ps_table(pids, n, npos - 1, pos + 1);
        free(pos);
        return r;
}
