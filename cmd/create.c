/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include <stdlib.h>
#include "cmd.h"
#include "../runtime/util.h"

/* Flags shared by create and run. */
struct create_flags {
        const char *bundle, *pid_file, *console_socket, *pidfd_socket;
        const char *sandbox, *vm_kernel, *vm_accel;
        bool no_pivot, no_new_keyring, detach, keep, no_subreaper;
        int preserve_fds;
};

static int parse_create(const char *verb, int argc, char **argv, bool is_run, struct create_flags *f,
                        struct silo_create_opts *o, char **bundle_abs, char **pid_abs, char **console_abs)
{
        const struct silo_opt opts[] = {
                {"bundle", 'b', OPT_STRING, &f->bundle},
                {"pid-file", 0, OPT_STRING, &f->pid_file},
                {"console-socket", 0, OPT_STRING, &f->console_socket},
                {"pidfd-socket", 0, OPT_STRING, &f->pidfd_socket},
                {"no-pivot", 0, OPT_BOOL, &f->no_pivot},
                {"no-new-keyring", 0, OPT_BOOL, &f->no_new_keyring},
                {"preserve-fds", 0, OPT_INT, &f->preserve_fds},
                {"detach", 'd', OPT_BOOL, &f->detach},
                {"keep", 0, OPT_BOOL, &f->keep},
                {"no-subreaper", 0, OPT_BOOL, &f->no_subreaper},
                {"sandbox", 0, OPT_STRING, &f->sandbox},
                {"vm-kernel", 0, OPT_STRING, &f->vm_kernel},
                {"vm-accel", 0, OPT_STRING, &f->vm_accel},
                {NULL, 0, 0, NULL},
        };
        silo_error_t err = NULL;
        char **pos = NULL;
        int npos = 0, r;

        if (silo_parse_args(argc, argv, opts, false, &pos, &npos, &err) < 0)
                return silo_cmd_fail(&err);
        r = silo_cmd_need_id(verb, npos, pos, &o->id);
        free(pos);
        if (r)
                return r;
        if (f->preserve_fds < 0)
                return silo_cmd_usage(verb, "--preserve-fds must not be negative");
        *bundle_abs = silo_abs_path(f->bundle ? f->bundle : ".");
        *pid_abs = silo_abs_path(f->pid_file);
        *console_abs = silo_abs_path(f->console_socket);
        o->bundle = *bundle_abs;
        o->pid_file = *pid_abs;
        o->console_socket = *console_abs;
        o->pidfd_socket = f->pidfd_socket; /* silo never chdirs: relative is relative to the cwd */
        o->no_pivot = f->no_pivot;
        o->no_new_keyring = f->no_new_keyring;
        o->preserve_fds = f->preserve_fds;
        o->detach = is_run ? f->detach : true;
        o->keep = f->keep;
        o->sandbox = f->sandbox;
        o->vm_kernel = f->vm_kernel;
        o->vm_accel = f->vm_accel;
        return 0;
}

int cmd_create(struct silo_global *g, int argc, char **argv)
{
        struct create_flags f = {0};
        struct silo_create_opts o = {0};
        _cleanup_free_ char *b = NULL, *p = NULL, *c = NULL;
        silo_error_t err = NULL;
        int r;

        if (silo_cmd_wants_image(argc, argv))
                return cmd_image_run(g, argc, argv, false);
        r = parse_create("create", argc, argv, false, &f, &o, &b, &p, &c);
        if (r)
                return r;
        o.data_root = g->data_root;
        if (silo_container_create(&g->ctx, &o, &err) < 0)
                return silo_cmd_fail(&err);
        return 0;
}

int cmd_run(struct silo_global *g, int argc, char **argv)
{
        struct create_flags f = {0};
        struct silo_create_opts o = {0};
        _cleanup_free_ char *b = NULL, *p = NULL, *c = NULL;
        silo_error_t err = NULL;
        int status = 0;
        int r;

        if (silo_cmd_wants_image(argc, argv))
                return cmd_image_run(g, argc, argv, true);
        r = parse_create("run", argc, argv, true, &f, &o, &b, &p, &c);
        if (r)
                return r;
        o.data_root = g->data_root;
        if (silo_container_run(&g->ctx, &o, &status, &err) < 0)
                return silo_cmd_fail(&err);
        return status;
}
