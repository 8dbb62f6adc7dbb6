/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `silo image import|ls|inspect|rm|prune|diff` and `create/run --image` (image/image.h).
 * The data root comes from --data-root, else $SILO_DATA_ROOT, else /var/lib/silo.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>
#include "cmd.h"
#include "../image/image.h"
#include "../image/json.h"
#include "../runtime/util.h"

static const char image_usage[] =
    "usage: silo [--data-root DIR] image COMMAND\n\n"
    "commands:\n"
    "  import PATH[:TAG] [--name NAME[:TAG]] [--ref TAG]\n"
    "                                    import an OCI layout dir, OCI archive or docker-save tar\n"
    "  ls [--format table|json] [-q]     list images\n"
    "  inspect NAME                      print an image's record and config as JSON\n"
    "  rm NAME                           remove an image (layers stay until prune)\n"
    "  prune                             remove layers and blobs no image or container uses\n"
    "  diff ID [-o FILE]                 write a container's changes as an OCI layer tar\n\n"
    "containers: silo run|create --image NAME [-e K=V] [-w DIR] [-u USER] [--entrypoint CMD]\n"
    "  [--read-only] [--hostname H] [-t] [--memory 512m] [--pids-limit N] [--cpus 0.5]\n"
    "  [--net none|host|bridge|container:ID] [-p [IP:]HOSTPORT:CTRPORT[/tcp|udp]]... [--rm] [-d]\n"
    "  ID [CMD ARGS...]\n";

static const char *data_root(struct silo_global *g, char **abs)
{
        *abs = silo_abs_path(g->data_root ? g->data_root : silo_data_root_default());
        return *abs;
}

static int open_store(struct silo_global *g, struct silo_store *s, bool create)
{
        _cleanup_free_ char *root = NULL;
        silo_error_t err = NULL;

        if (silo_store_open(s, data_root(g, &root), create, &err) < 0) {
                silo_store_close(s);
                return silo_cmd_fail(&err);
        }
        return 0;
}

static int image_import(struct silo_global *g, int argc, char **argv)
{
        struct silo_import_opts o = {0};
        const struct silo_opt opts[] = {
            {"name", 'n', OPT_STRING, &o.name}, {"ref", 0, OPT_STRING, &o.ref}, {NULL, 0, 0, NULL}};
        struct silo_store s = {.dirfd = -1, .gc_lock = -1};
        _cleanup_free_ char *name = NULL, *path = NULL;
        silo_error_t err = NULL;
        char **pos = NULL;
        int npos = 0, r;

        if (silo_parse_args(argc, argv, opts, false, &pos, &npos, &err) < 0)
                return silo_cmd_fail(&err);
        if (npos != 1) {
                free(pos);
                return silo_cmd_usage("image import", "expects exactly one PATH");
        }
        path = silo_abs_path(pos[0]);
        free(pos);
        if (access(path, F_OK) < 0 && strrchr(path, ':') && !o.ref) { /* umoci style PATH:TAG */
                *strrchr(path, ':') = '\0';
                o.ref = path + strlen(path) + 1;
        }
        o.path = path;
        o.progress = isatty(STDOUT_FILENO);
        r = open_store(g, &s, true);
        if (r)
                return r;
        r = silo_image_import(&s, &o, &name, &err);
        silo_store_close(&s);
        if (r < 0)
                return silo_cmd_fail(&err);
        printf("%s\n", name);
        return 0;
}

static int load_index(struct silo_global *g, struct silo_store *s, struct silo_image_rec **v, size_t *n)
{
        silo_error_t err = NULL;
        int r = open_store(g, s, true);

        if (r)
                return r;
        if (silo_store_read_index(s, v, n, &err) < 0) {
                silo_store_close(s);
                return silo_cmd_fail(&err);
        }
        return 0;
}

static void rec_json(struct silo_buf *b, const struct silo_image_rec *x)
{
        silo_buf_puts(b, "{\"name\":");
        silo_json_str(b, x->name);
        silo_buf_puts(b, ",\"id\":");
        silo_json_str(b, x->id);
        silo_buf_puts(b, ",\"manifest\":");
        silo_json_str(b, x->manifest);
        silo_buf_puts(b, ",\"created\":");
        silo_json_str(b, x->created);
        silo_buf_printf(b, ",\"size\":%llu,\"layers\":[", (unsigned long long)x->size);
        for (size_t j = 0; x->layers[j]; j++) {
                if (j)
                        silo_buf_putc(b, ',');
                silo_json_str(b, x->layers[j]);
        }
        silo_buf_putc(b, ']');
}

static int image_ls(struct silo_global *g, int argc, char **argv)
{
        const char *format = "table";
        bool quiet = false;
        const struct silo_opt opts[] = {
            {"format", 'f', OPT_STRING, &format}, {"quiet", 'q', OPT_BOOL, &quiet}, {NULL, 0, 0, NULL}};
        struct silo_store s = {.dirfd = -1, .gc_lock = -1};
        struct silo_image_rec *v = NULL;
        silo_error_t err = NULL;
        char **pos = NULL;
        size_t n = 0;
        int npos = 0, r;

        if (silo_parse_args(argc, argv, opts, false, &pos, &npos, &err) < 0)
                return silo_cmd_fail(&err);
        free(pos);
        if (npos)
                return silo_cmd_usage("image ls", "takes no arguments");
        if (strcmp(format, "table") && strcmp(format, "json"))
                return silo_cmd_usage("image ls", "--format must be table or json");
        r = load_index(g, &s, &v, &n);
        if (r)
                return r;
        if (strcmp(format, "json") == 0) {
                struct silo_buf b = {0};
                silo_buf_putc(&b, '[');
                for (size_t i = 0; i < n; i++) {
                        if (i)
                                silo_buf_putc(&b, ',');
                        rec_json(&b, &v[i]);
                        silo_buf_putc(&b, '}');
                }
                silo_buf_puts(&b, "]\n");
                fputs(b.data, stdout);
                silo_buf_free(&b);
        } else {
                if (!quiet)
                        printf("%-40s %-14s %-7s %-12s %s\n", "NAME", "ID", "LAYERS", "SIZE", "CREATED");
                for (size_t i = 0; i < n; i++) {
                        if (quiet) {
                                printf("%s\n", v[i].name);
                                continue;
                        }
                        printf("%-40s %-14.12s %-7zu %-12llu %s\n", v[i].name, v[i].id + 7,
                               silo_strv_len(v[i].layers), (unsigned long long)v[i].size, v[i].created);
                }
        }
        silo_image_recs_free(v, n);
        silo_store_close(&s);
        return 0;
}

static int image_inspect(struct silo_global *g, int argc, char **argv)
{
        struct silo_store s = {.dirfd = -1, .gc_lock = -1};
        struct silo_image_rec *v = NULL;
        silo_error_t err = NULL;
        _cleanup_free_ char *cfg = NULL;
        struct silo_buf b = {0};
        size_t n = 0, len;
        int r, i;

        if (argc != 2)
                return silo_cmd_usage("image inspect", "expects exactly one image NAME");
        r = load_index(g, &s, &v, &n);
        if (r)
                return r;
        i = silo_store_find(v, n, argv[1], &err);
        if (i >= 0 && silo_store_read_blob(&s, v[i].id, &cfg, &len, &err) < 0)
                i = -1;
        if (i < 0) {
                silo_image_recs_free(v, n);
                silo_store_close(&s);
                return silo_cmd_fail(&err);
        }
        rec_json(&b, &v[i]);
        silo_buf_printf(&b, ",\"config\":%s}\n", cfg);
        fputs(b.data, stdout);
        silo_buf_free(&b);
        silo_image_recs_free(v, n);
        silo_store_close(&s);
        return 0;
}

static int image_rm(struct silo_global *g, int argc, char **argv)
{
        struct silo_store s = {.dirfd = -1, .gc_lock = -1};
        silo_error_t err = NULL;
        int r;

        if (argc < 2)
                return silo_cmd_usage("image rm", "expects at least one image NAME");
        r = open_store(g, &s, true);
        for (int i = 1; r == 0 && i < argc; i++)
                if (silo_store_remove_image(&s, argv[i], &err) < 0)
                        r = silo_cmd_fail(&err);
        silo_store_close(&s);
        return r;
}

static int image_prune(struct silo_global *g, int argc, char **argv)
{
        struct silo_store s = {.dirfd = -1, .gc_lock = -1};
        silo_error_t err = NULL;
        uint64_t layers = 0, bytes = 0;
        int r;

        if (argc != 1)
                return silo_cmd_usage("image prune", "takes no arguments");
        r = open_store(g, &s, true);
        if (r)
                return r;
        r = silo_store_prune(&s, &layers, &bytes, &err);
        silo_store_close(&s);
        if (r < 0)
                return silo_cmd_fail(&err);
        printf("removed %llu layers, %llu bytes\n", (unsigned long long)layers, (unsigned long long)bytes);
        return 0;
}

static int image_diff(struct silo_global *g, int argc, char **argv)
{
        const char *out = NULL;
        const struct silo_opt opts[] = {{"output", 'o', OPT_STRING, &out}, {NULL, 0, 0, NULL}};
        _cleanup_free_ char *root = NULL, *dir = NULL;
        _cleanup_close_ int fd = -1;
        silo_error_t err = NULL;
        char **pos = NULL;
        int npos = 0, r;

        if (silo_parse_args(argc, argv, opts, false, &pos, &npos, &err) < 0)
                return silo_cmd_fail(&err);
        r = npos == 1 && silo_id_valid(pos[0]) ? 0 : -1;
        if (r == 0)
                dir = silo_xasprintf("%s/containers/%s", data_root(g, &root), pos[0]);
        free(pos);
        if (r < 0)
                return silo_cmd_usage("image diff", "expects one container ID");
        if (out && strcmp(out, "-") != 0) {
                fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0) {
                        silo_error_set(&err, errno, "image diff: create '%s'", out);
                        return silo_cmd_fail(&err);
                }
        } else if (isatty(STDOUT_FILENO))
                return silo_cmd_usage("image diff", "refusing to write a tar to a terminal: use -o FILE");
        if (silo_image_diff(dir, fd >= 0 ? fd : STDOUT_FILENO, &err) < 0) {
                if (out && strcmp(out, "-") != 0)
                        unlink(out);
                return silo_cmd_fail(&err);
        }
        return 0;
}

int cmd_image(struct silo_global *g, int argc, char **argv)
{
        static const struct {
                const char *name;
                int (*fn)(struct silo_global *g, int argc, char **argv);
        } verbs[] = {{"import", image_import},   {"ls", image_ls},      {"list", image_ls},
                     {"inspect", image_inspect}, {"rm", image_rm},      {"prune", image_prune},
                     {"diff", image_diff},       {"export", image_diff}};

        if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
                fputs(image_usage, argc < 2 ? stderr : stdout);
                return argc < 2 ? 1 : 0;
        }
        for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
                if (strcmp(argv[1], verbs[i].name) == 0) {
                        for (int j = 2; j < argc; j++)
                                if (!strcmp(argv[j], "--help") || !strcmp(argv[j], "-h")) {
                                        fputs(image_usage, stdout);
                                        return 0;
                                }
                        return verbs[i].fn(g, argc - 1, argv + 1);
                }
        return silo_cmd_usage("image", "unknown command '%s' (see silo image --help)", argv[1]);
}

/* ---- create / run --image ---- */

bool silo_cmd_wants_image(int argc, char **argv)
{
        for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
                if (!strcmp(argv[i], "--image") || !strncmp(argv[i], "--image=", 8) ||
                    !strcmp(argv[i], "-image"))
                        return true;
        return false;
}

/* --net container:ID -> /proc/<pid>/ns/net of ID's running init */
/* silo_create_opts.image_mount: the overlay that image/ctr.c built while create went on */
static int image_mount_take(void *data, int *ret_fd, silo_error_t *err)
{
        return silo_image_mount_take(data, ret_fd, err);
}

static int netns_of(struct silo_global *g, const char *id, char **ret, silo_error_t *err)
{
        _cleanup_free_ char *json = NULL;
        yajl_val v = NULL;
        int r = silo_container_state(&g->ctx, id, &json, err);

        if (r < 0)
                return silo_error_wrap(err, "--net container:%s", id);
        r = silo_json_parse("state", json, &v, err);
        if (r < 0)
                return r;
        const char *status = silo_json_string(v, "status", NULL);
        yajl_val pid = silo_json_get(v, "pid", NULL, yajl_t_number);
        if (!status || strcmp(status, "running") != 0 || !pid || YAJL_GET_INTEGER(pid) <= 0)
                r = silo_error_set(err, 0, "--net container:%s: the container is not running", id);
        else
                *ret = silo_xasprintf("/proc/%lld/ns/net", (long long)YAJL_GET_INTEGER(pid));
        yajl_tree_free(v);
        return r;
}

int cmd_image_run(struct silo_global *g, int argc, char **argv, bool is_run)
{
        struct silo_image_run_opts io = {0};
        struct silo_create_opts co = {0};
        const char *pid_file = NULL, *console = NULL, *pidfd = NULL, *pids = NULL;
        const char *sandbox = NULL, *vm_kernel = NULL, *vm_accel = NULL;
        bool rm = false, detach = false, no_pivot = false, keep = false, no_new_keyring = false;
        int preserve_fds = 0;
        struct silo_image_mount mnt = {.fd = -1, .sock = -1};
        _cleanup_strv_free_ char **env = NULL, **publish = NULL;
        const struct silo_opt opts[] = {
            {"image", 0, OPT_STRING, &io.image},
            {"env", 'e', OPT_STRV, &env},
            {"workdir", 'w', OPT_STRING, &io.workdir},
            {"user", 'u', OPT_STRING, &io.user},
            {"entrypoint", 0, OPT_STRING, &io.entrypoint},
            {"read-only", 0, OPT_BOOL, &io.read_only},
            {"hostname", 0, OPT_STRING, &io.hostname},
            {"tty", 't', OPT_BOOL, &io.tty},
            {"memory", 'm', OPT_STRING, &io.memory},
            {"pids-limit", 0, OPT_STRING, &pids},
            {"cpus", 0, OPT_STRING, &io.cpus},
            {"net", 0, OPT_STRING, &io.net},
            {"network", 0, OPT_STRING, &io.net},
            {"publish", 'p', OPT_STRV, &publish},
            {"rm", 0, OPT_BOOL, &rm},
            {"detach", 'd', OPT_BOOL, &detach},
            {"pid-file", 0, OPT_STRING, &pid_file},
            {"console-socket", 0, OPT_STRING, &console},
            {"pidfd-socket", 0, OPT_STRING, &pidfd},
            {"no-pivot", 0, OPT_BOOL, &no_pivot},
            {"keep", 0, OPT_BOOL, &keep},
            {"no-new-keyring", 0, OPT_BOOL, &no_new_keyring},
            {"preserve-fds", 0, OPT_INT, &preserve_fds},
            {"sandbox", 0, OPT_STRING, &sandbox},
            {"vm-kernel", 0, OPT_STRING, &vm_kernel},
            {"vm-accel", 0, OPT_STRING, &vm_accel},
            {NULL, 0, 0, NULL},
        };
        const char *verb = is_run ? "run" : "create";
        struct silo_store s = {.dirfd = -1, .gc_lock = -1};
        _cleanup_free_ char *dir = NULL, *netns = NULL, *pid_abs = NULL, *console_abs = NULL,
                            *state_root = silo_abs_path(g->ctx.root);
        silo_error_t err = NULL;
        char **pos = NULL;
        int npos = 0, r, status = 0;

        if (silo_parse_args(argc, argv, opts, true, &pos, &npos, &err) < 0)
                return silo_cmd_fail(&err);
        if (npos < 1) {
                free(pos);
                return silo_cmd_usage(
                    verb, "requires a container id (\"silo %s --image NAME [options] ID [CMD...]\")", verb);
        }
        io.id = pos[0];
        io.args = npos > 1 ? pos + 1 : NULL;
        io.env = env;
        io.publish = publish;
        if (pids) {
                if (silo_parse_i64(pids, &io.pids_limit) < 0 || io.pids_limit < -1 || io.pids_limit == 0) {
                        free(pos);
                        return silo_cmd_usage(verb, "--pids-limit '%s': want a positive number or -1", pids);
                }
        }
        if (rm && (!is_run || detach)) {
                free(pos);
                return silo_cmd_usage(verb, "--rm needs a foreground run");
        }
        if (!io.net) { /* vm sandbox: a (user-mode) network only to publish ports */
                bool vm_quiet = sandbox && strcmp(sandbox, "vm") == 0 && !(publish && publish[0]);
                io.net = vm_quiet ? "none" : "bridge";
        }
        if (silo_str_has_prefix(io.net, "container:") && netns_of(g, io.net + 10, &netns, &err) < 0) {
                free(pos);
                return silo_cmd_fail(&err);
        }
        io.netns_path = netns;
        io.state_root = state_root;
        io.ephemeral = rm;
        r = open_store(g, &s, true);
        if (r) {
                free(pos);
                return r;
        }
        r = silo_image_bundle_create(&s, &io, &dir, &mnt, &err);
        silo_store_close(&s);
        if (r < 0) {
                free(pos);
                return silo_cmd_fail(&err);
        }
        pid_abs = silo_abs_path(pid_file);
        console_abs = silo_abs_path(console);
        co.id = io.id;
        co.bundle = dir;
        co.pid_file = pid_abs;
        co.console_socket = console_abs;
        co.pidfd_socket = pidfd;
        co.no_pivot = no_pivot;
        co.no_new_keyring = no_new_keyring;
        co.preserve_fds = preserve_fds;
        co.image_mount = image_mount_take;
        co.image_mount_data = &mnt;
        co.sandbox = sandbox;
        co.vm_kernel = vm_kernel;
        co.vm_accel = vm_accel;
        co.data_root = g->data_root;
        co.detach = is_run ? detach : true;
        co.keep = !rm; /* like docker: a stopped image container stays until `delete` unless --rm */
        r = is_run ? silo_container_run(&g->ctx, &co, &status, &err)
                   : silo_container_create(&g->ctx, &co, &err);
        free(pos);
        if (r < 0) {
                silo_error_t e = NULL;
                silo_image_mount_release(&mnt);
                if (silo_image_bundle_remove(dir, &e) < 0)
                        silo_error_free(&e);
                return silo_cmd_fail(&err);
        }
        silo_image_mount_release(&mnt);
        (void)keep;
        return status;
}
