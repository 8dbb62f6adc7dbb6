/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * silo: an OCI runtime.  Global options come before the verb (runc's grammar); each verb parses
 * its own options.  See interfaces.md §1 for the contract real callers rely on.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"
#include "../runtime/fault.h"
#include "../runtime/log.h"
#include "../runtime/state.h"
#include "../runtime/util.h"

#define SILO_SPEC_VERSION "1.2.1"

static const struct {
        const char *name;
        int (*fn)(struct silo_global *g, int argc, char **argv);
        const char *help;
        const char *usage;
} commands[] = {
        {"create", cmd_create, "create a container (stopped before the user process runs)", "[--bundle DIR] [--pid-file F] [--console-socket S] [--no-pivot] [--no-new-keyring] [--preserve-fds N] <container-id>"},
        {"start", cmd_start, "run the user process of a created container", "<container-id>"},
        {"run", cmd_run, "create and start a container (from an image with --image NAME)", "[-b DIR] [-d] [--pid-file F] [--console-socket S] [--keep] [--no-pivot] [--preserve-fds N] <container-id>\n       silo run --image NAME [image options: silo image --help] <container-id> [CMD ARGS...]"},
        {"exec", cmd_exec, "run a process in a running container",
         "[--process FILE] [-d] [-t] [--pid-file F] [--console-socket S] [--cwd DIR] [-e K=V] [-u UID[:GID]] "
         "[-g GID] [--cap CAP] [--no-new-privs] [--preserve-fds N] [--ignore-paused] [--cgroup SUB] "
         "<container-id> [command args...]"},
        {"state", cmd_state, "print the state of a container as JSON", "<container-id>"},
        {"kill", cmd_kill, "send a signal to the container init (or all processes with --all)", "[--all] <container-id> [signal]"},
        {"delete", cmd_delete, "delete a container and everything it holds", "[--force] <container-id>"},
        {"list", cmd_list, "list containers", "[--format table|json] [-q]"},
        {"spec", cmd_spec, "write a default config.json", "[--bundle DIR] [--rootless]"},
        {"pause", cmd_pause, "freeze every process of a container", "<container-id>"},
        {"resume", cmd_resume, "thaw a paused container", "<container-id>"},
        {"ps", cmd_ps, "list the processes of a container", "[--format table|json] <container-id> [ps options]"},
        {"update", cmd_update, "change the resource limits of a container",
         "[-r FILE|-] [--memory N] [--memory-swap N] [--memory-reservation N] [--cpu-share N] [--cpu-quota N] "
         "[--cpu-period N] [--cpu-burst N] [--cpu-rt-period N] [--cpu-rt-runtime N] [--cpuset-cpus L] "
         "[--cpuset-mems L] [--pids-limit N] [--blkio-weight N] [--cpu-idle N] <container-id>"},
        {"events", cmd_events, "print stats and OOM events of a container as JSON lines",
         "[--stats] [--interval DUR] <container-id>"},
        {"checkpoint", cmd_checkpoint, "checkpoint a running container with CRIU",
         "[--image-path DIR] [--work-path DIR] [--leave-running] [--tcp-established] [--ext-unix-sk] "
         "[--shell-job] [--file-locks] [--pre-dump] [--parent-path DIR] [--manage-cgroups-mode soft|full|strict|ignore] "
         "[--empty-ns network] [--auto-dedup] [--page-server ADDR:PORT] [--export FILE|-] <container-id>"},
        {"restore", cmd_restore, "restore a container from a CRIU checkpoint",
         "[--image-path DIR] [--work-path DIR] [-b|--bundle DIR] [-d|--detach] [--pid-file F] [--console-socket S] [--no-pivot] "
         "[--no-subreaper] [--tcp-established] [--ext-unix-sk] [--shell-job] [--file-locks] "
         "[--manage-cgroups-mode MODE] [--empty-ns network] [--auto-dedup] [--import FILE|-] <container-id>"},
        {"migrate", cmd_migrate, "move a running container to another node (CRIU pre-copy or post-copy)",
         "[--rounds N] [--tcp-established] [--lazy-pages [--page-server IP:PORT]] [--rsh CMD] [--remote-silo CMD] "
         "<container-id> tcp:HOST:PORT|[user@]host\n"
         "       silo migrate --listen ADDR:PORT [--once] | --receive"},
        {"features", cmd_features, "print the features this runtime supports as JSON", ""},
        {"image", cmd_image, "manage images (import, ls, inspect, rm, prune, diff); run/create --image NAME",
         "COMMAND\n\n"
         "  import PATH[:TAG] [--name NAME[:TAG]] [--ref TAG]\n"
         "                                    import an OCI layout dir, OCI archive or docker-save tar\n"
         "                                    (TAG or --ref selects one image of a multi-image source)\n"
         "  ls [--format table|json] [-q]     list images\n"
         "  inspect NAME                      print an image's record and config as JSON\n"
         "  rm NAME                           remove an image (layers stay until prune)\n"
         "  prune                             remove layers and blobs no image or container uses\n"
         "  diff ID [-o FILE]                 write a container's changes as an OCI layer tar\n\n"
         "silo run|create --image NAME [-e K=V] [-w DIR] [-u USER] [--entrypoint CMD] [--read-only]\n"
         "  [--hostname H] [-t] [--memory 512m] [--pids-limit N] [--cpus 0.5] [--rm] [-d]\n"
         "  [--net none|host|bridge|container:ID] [-p [IP:]HOSTPORT:CTRPORT[/tcp|udp]]... ID [CMD ARGS...]"},
};

static void usage(FILE *f)
{
        fprintf(f, "usage: silo [global options] <command> [command options] [arguments]\n\n"
                   "global options:\n"
                   "  --root DIR             state directory (default /run/silo)\n"
                   "  --log FILE             log file (default stderr)\n"
                   "  --log-format text|json log format\n"
                   "  --debug                debug logging\n"
                   "  --systemd-cgroup       use the systemd cgroup driver (needs a running systemd)\n"
                   "  --rootless true|false|auto  accepted for runc compatibility\n"
                   "  --data-root DIR        image store (default $SILO_DATA_ROOT or /var/lib/silo)\n"
                   "  -v, --version          print the version\n\ncommands:\n");
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
}

static void version(void)
{
        printf("silo version %s\nspec: %s\n", SILO_VERSION, SILO_SPEC_VERSION);
}

int main(int argc, char **argv)
{
        struct silo_global g = {0};
        silo_error_t err = NULL;
        bool debug = false, show_version = false, help = false, systemd = false;
        const char *root = NULL, *rootless = NULL, *criu = NULL, *cgroup_manager = NULL, *log_level = NULL;
        const struct silo_opt global_opts[] = {
                {"root", 0, OPT_STRING, &root},
                {"log", 0, OPT_STRING, &g.log_path},
                {"log-format", 0, OPT_STRING, &g.log_format},
                {"log-level", 0, OPT_STRING, &log_level},
                {"debug", 0, OPT_BOOL, &debug},
                {"systemd-cgroup", 0, OPT_BOOL, &systemd},
                {"rootless", 0, OPT_OPTIONAL, &rootless},
                {"criu", 0, OPT_STRING, &criu},
                {"data-root", 0, OPT_STRING, &g.data_root},
                {"cgroup-manager", 0, OPT_STRING, &cgroup_manager},
                {"version", 'v', OPT_BOOL, &show_version},
                {"help", 'h', OPT_BOOL, &help},
                {NULL, 0, 0, NULL},
        };
        char **pos = NULL;
        int npos = 0, i, r;

        /* global options end at the first non-option: the verb */
        for (i = 1; i < argc; i++) {
                if (argv[i][0] != '-')
                        break;
                const struct silo_opt *o = NULL;
                const char *n = argv[i] + (argv[i][1] == '-' ? 2 : 1);
                size_t len = strcspn(n, "=");
                for (o = global_opts; o->name; o++)
                        if ((strlen(o->name) == len && strncmp(o->name, n, len) == 0) ||
                            (len == 1 && o->short_name == n[0]))
                                break;
                if (o->name && o->type == OPT_STRING && n[len] != '=')
                        i++;
                else if (o->name && o->type == OPT_OPTIONAL && n[len] != '=' && i + 1 < argc &&
                         (!strcmp(argv[i + 1], "true") || !strcmp(argv[i + 1], "false") ||
                          !strcmp(argv[i + 1], "auto")))
                        i++;
        }
        r = silo_parse_args(i, argv, global_opts, false, &pos, &npos, &err);
        free(pos);
        if (r < 0) {
                silo_log_error(err);
                silo_error_free(&err);
                usage(stderr);
                return 1;
        }
        if (log_level && strcmp(log_level, "debug") == 0)
                debug = true;
        if (silo_log_init(g.log_path, g.log_format, debug, &err) < 0)
                return silo_cmd_fail(&err);
        r = silo_fault_setup(&err); /* SILO_FAULT: fault injection for tests (runtime/fault.h) */
        if (r != 0)
                return r < 0 ? silo_cmd_fail(&err) : silo_fault_print(stdout);
        if (show_version) {
                version();
                return 0;
        }
        if (help || i >= argc) {
                usage(help ? stdout : stderr);
                return help ? 0 : 1;
        }
        if (criu)
                silo_warn("--criu is deprecated, ignoring");
        if (cgroup_manager && strcmp(cgroup_manager, "cgroupfs") != 0) {
                if (strcmp(cgroup_manager, "systemd") == 0)
                        systemd = true;
                else
                        return silo_cmd_usage("--cgroup-manager", "unsupported value '%s' (want cgroupfs or systemd)",
                                              cgroup_manager);
        }
        g.ctx.root = root ? root : silo_state_default_root();
        g.ctx.systemd_cgroup = systemd;
        g.ctx.debug = debug;

        for (size_t c = 0; c < ARRAY_SIZE(commands); c++) {
                if (strcmp(argv[i], commands[c].name) != 0)
                        continue;
                /* "silo VERB --help" (callers probe e.g. `checkpoint --help`): options before
                 * the first positional argument only, so `exec ID cmd --help` is untouched */
                for (int j = i + 1; j < argc && argv[j][0] == '-'; j++)
                        if (!strcmp(argv[j], "--help") || !strcmp(argv[j], "-h") || !strcmp(argv[j], "-help")) {
                                printf("usage: silo [global options] %s %s\n\n%s\n", commands[c].name,
                                       commands[c].usage, commands[c].help);
                                return 0;
                        }
                return commands[c].fn(&g, argc - i, argv + i);
        }
        if (strcmp(argv[i], "help") == 0) {
                usage(stdout);
                return 0;
        }
        return silo_cmd_usage("silo", "unknown command '%s'", argv[i]);
}
