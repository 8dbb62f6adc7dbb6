/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * exec [flags] ID [CMD ARGS...]: runc's flags and behaviour.  Errors exit 255 with "exec failed:
 * <reason>" (runc; podman maps "executable file not found" to 127 and "permission denied" to 126);
 * a foreground exec exits with the process's status.
 */
#include "config.h"
#include <stdlib.h>
#include "cmd.h"
#include "../runtime/log.h"
#include "../runtime/util.h"

static int exec_fail(silo_error_t *err)
{
        silo_error_wrap(err, "exec failed");
        silo_cmd_fail(err);
        return 255;
}

int cmd_exec(struct silo_global *g, int argc, char **argv)
{
        struct silo_exec_opts o = {.tty = -1, .no_new_privs = -1};
        const char *pid_file = NULL, *console = NULL;
        const struct silo_opt opts[] = {
                {"process", 'p', OPT_STRING, &o.process_path},
                {"detach", 'd', OPT_BOOL, &o.detach},
                {"pid-file", 0, OPT_STRING, &pid_file},
                {"console-socket", 0, OPT_STRING, &console},
                {"pidfd-socket", 0, OPT_STRING, &o.pidfd_socket},
                {"tty", 't', OPT_TRISTATE, &o.tty},
                {"cwd", 0, OPT_STRING, &o.cwd},
                {"env", 'e', OPT_STRV, &o.env},
                {"user", 'u', OPT_STRING, &o.user},
                {"additional-gids", 'g', OPT_STRV, &o.additional_gids},
                {"cap", 'c', OPT_STRV, &o.caps},
                {"no-new-privs", 0, OPT_TRISTATE, &o.no_new_privs},
                {"apparmor", 0, OPT_STRING, &o.apparmor},
                {"process-label", 0, OPT_STRING, &o.process_label},
                {"preserve-fds", 0, OPT_INT, &o.preserve_fds},
                {"ignore-paused", 0, OPT_BOOL, &o.ignore_paused},
                {"cgroup", 0, OPT_STRING, &o.cgroup},
                {NULL, 0, 0, NULL},
        };
        _cleanup_free_ char *pid_abs = NULL, *console_abs = NULL;
        silo_error_t err = NULL;
        char **pos = NULL;
        int npos = 0, status = 0, r;

        if (silo_parse_args(argc, argv, opts, true, &pos, &npos, &err) < 0)
                return silo_cmd_fail(&err);
        if (npos < 1) { /* no command: "process args cannot be empty" (255), as runc */
                free(pos);
                return silo_cmd_usage("exec", "usage: silo exec [options] <container-id> <command> [args...]");
        }
        if (o.preserve_fds < 0) {
                free(pos);
                return silo_cmd_usage("exec", "--preserve-fds must not be negative");
        }
        o.id = pos[0];
        o.args = pos + 1;
        pid_abs = silo_abs_path(pid_file);
        console_abs = silo_abs_path(console);
        o.pid_file = pid_abs;
        o.console_socket = console_abs;
        r = silo_container_exec(&g->ctx, &o, &status, &err);
        free(pos);
        silo_strv_free(o.env);
        silo_strv_free(o.additional_gids);
        silo_strv_free(o.caps);
        if (r < 0)
                return exec_fail(&err);
        return status;
}
