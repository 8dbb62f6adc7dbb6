/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * checkpoint [flags] ID: runc's flag set (interfaces.md §5.1).  --image-path defaults to
 * ./checkpoint, --work-path to the image path; relative paths are taken against the caller's cwd,
 * except --parent-path, which is relative to the image path (as runc and CRIU define it).
 * `checkpoint --help` exits 0 (podman and CRI-O probe it) through cmd/silo.c's generic --help.
 */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "cmd.h"
#include "../checkpoint/checkpoint.h"
#include "../image/image.h"
#include "../runtime/util.h"

/* the CRIU flags checkpoint and restore share (runc's), over locals img, work and o */
#define CRIU_COMMON_OPTS                                                                                     \
        {"image-path", 0, OPT_STRING, &img}, {"work-path", 0, OPT_STRING, &work},                          \
            {"tcp-established", 0, OPT_BOOL, &o.tcp_established},                                          \
            {"ext-unix-sk", 0, OPT_BOOL, &o.ext_unix_sk}, {"shell-job", 0, OPT_BOOL, &o.shell_job},        \
            {"file-locks", 0, OPT_BOOL, &o.file_locks},                                                    \
            {"manage-cgroups-mode", 0, OPT_STRING, &o.manage_cgroups_mode},                                \
            {"empty-ns", 0, OPT_STRV, &o.empty_ns}, {"auto-dedup", 0, OPT_BOOL, &o.auto_dedup},            \
            {"lazy-pages", 0, OPT_BOOL, &o.lazy_pages}

int cmd_checkpoint(struct silo_global *g, int argc, char **argv)
{
        struct silo_criu_opts o = {.status_fd = -1};
        const char *img = NULL, *work = NULL;
        const struct silo_opt opts[] = {
                CRIU_COMMON_OPTS,
                {"leave-running", 0, OPT_BOOL, &o.leave_running},
                {"pre-dump", 0, OPT_BOOL, &o.pre_dump},
                {"parent-path", 0, OPT_STRING, &o.parent_path},
                {"page-server", 0, OPT_STRING, &o.page_server},
                {"status-fd", 0, OPT_INT, &o.status_fd},
                {"export", 0, OPT_STRING, &o.export_path},
                {NULL, 0, 0, NULL},
        };
        _cleanup_free_ char *img_abs = NULL, *work_abs = NULL, *export_abs = NULL;
        silo_error_t err = NULL;
        char **pos = NULL;
        int npos = 0, r;

        if (silo_parse_args(argc, argv, opts, false, &pos, &npos, &err) < 0)
                return silo_cmd_fail(&err);
        r = silo_cmd_need_id("checkpoint", npos, pos, &o.id);
        free(pos);
        if (r) {
                silo_strv_free(o.empty_ns);
                return r;
        }
        /* --export alone dumps into a temporary dir; --image-path keeps the images too */
        img_abs = img || !o.export_path ? silo_abs_path(img ? img : "checkpoint") : NULL;
        work_abs = silo_abs_path(work);
        if (o.export_path && strcmp(o.export_path, "-") != 0)
                o.export_path = export_abs = silo_abs_path(o.export_path);
        o.image_path = img_abs;
        o.work_path = work_abs;
        r = silo_checkpoint(&g->ctx, &o, &err);
        silo_strv_free(o.empty_ns);
        return r < 0 ? silo_cmd_fail(&err) : 0;
}

int cmd_restore(struct silo_global *g, int argc, char **argv)
{
        struct silo_criu_opts o = {.status_fd = -1};
        const char *img = NULL, *work = NULL, *bundle = NULL, *pid_file = NULL, *console = NULL;
        const char *lsm_profile = NULL, *lsm_mount = NULL;
        bool tcp_close = false;
        const struct silo_opt opts[] = {
                CRIU_COMMON_OPTS,
                {"bundle", 'b', OPT_STRING, &bundle},
                {"detach", 'd', OPT_BOOL, &o.detach},
                {"pid-file", 0, OPT_STRING, &pid_file},
                {"console-socket", 0, OPT_STRING, &console},
                {"no-pivot", 0, OPT_BOOL, &o.no_pivot},
                {"no-subreaper", 0, OPT_BOOL, &o.no_subreaper},
                {"tcp-close", 0, OPT_BOOL, &tcp_close},
                {"lsm-profile", 0, OPT_STRING, &lsm_profile},
                {"lsm-mount-context", 0, OPT_STRING, &lsm_mount},
                {"import", 0, OPT_STRING, &o.import_path},
                {"page-server", 0, OPT_STRING, &o.page_server}, /* silo: --lazy-pages' source */
                {"ignore-static-ip", 0, OPT_BOOL, &o.ignore_static_ip},
                {NULL, 0, 0, NULL},
        };
        _cleanup_free_ char *img_abs = NULL, *work_abs = NULL, *bundle_abs = NULL, *pid_abs = NULL,
                            *console_abs = NULL, *import_abs = NULL, *data_abs = NULL;
        silo_error_t err = NULL;
        char **pos = NULL;
        int npos = 0, status = 0, r;

        if (silo_parse_args(argc, argv, opts, false, &pos, &npos, &err) < 0)
                return silo_cmd_fail(&err);
        r = silo_cmd_need_id("restore", npos, pos, &o.id);
        free(pos);
        if (r) {
                silo_strv_free(o.empty_ns);
                return r;
        }
        /* no LSM on this host's builds (features says apparmor/selinux disabled): refuse, as exec does */
        if ((lsm_profile && *lsm_profile) || (lsm_mount && *lsm_mount) || tcp_close) {
                const char *flag = tcp_close     ? "--tcp-close"
                                   : lsm_profile ? "--lsm-profile"
                                                 : "--lsm-mount-context";
                silo_strv_free(o.empty_ns);
                return silo_cmd_usage("restore", "%s is not supported", flag);
        }
        img_abs = silo_abs_path(img ? img : "checkpoint");
        work_abs = silo_abs_path(work);
        if (o.import_path && strcmp(o.import_path, "-") != 0)
                o.import_path = import_abs = silo_abs_path(o.import_path);
        bundle_abs = silo_abs_path(bundle ? bundle : ".");
        pid_abs = silo_abs_path(pid_file);
        console_abs = silo_abs_path(console);
        o.image_path = img_abs;
        o.work_path = work_abs;
        o.bundle = bundle_abs;
        o.pid_file = pid_abs;
        o.console_socket = console_abs;
        o.data_root = data_abs = silo_abs_path(g->data_root ? g->data_root : silo_data_root_default());
        r = silo_restore(&g->ctx, &o, &status, &err);
        silo_strv_free(o.empty_ns);
        return r < 0 ? silo_cmd_fail(&err) : status;
}
