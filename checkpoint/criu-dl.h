/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libcriu through dlopen(): only `checkpoint` and `restore` need it, and silo's create/start
 * path is measured in milliseconds, so the silo binary carries no DT_NEEDED entry for it (the
 * pattern of image/dl.h).  Every slot has the type of the real prototype (__typeof__), so calls
 * are still checked by the compiler.  silo_criu_dl_load() first; then CR(f)(...).
 */
#ifndef SILO_CRIU_DL_H
#define SILO_CRIU_DL_H
#include "config.h"
#include "../runtime/error.h"

#ifdef HAVE_CRIU
#include <criu/criu.h>

// clang-format off
#define SILO_CRIU_FUNCS(X) \
	X(criu_local_init_opts) X(criu_local_free_opts) X(criu_local_set_pid) \
	X(criu_local_set_images_dir_fd) X(criu_local_set_work_dir_fd) X(criu_local_set_parent_images) \
	X(criu_local_set_leave_running) X(criu_local_set_ext_unix_sk) X(criu_local_set_tcp_established) \
	X(criu_local_set_shell_job) X(criu_local_set_orphan_pts_master) X(criu_local_set_file_locks) \
	X(criu_local_set_track_mem) X(criu_local_set_auto_dedup) X(criu_local_set_log_level) \
	X(criu_local_set_log_file) X(criu_local_set_root) X(criu_local_set_manage_cgroups) \
	X(criu_local_set_manage_cgroups_mode) X(criu_local_add_ext_mount) X(criu_local_add_cg_root) \
	X(criu_local_add_inherit_fd) X(criu_local_add_external) X(criu_local_set_page_server_address_port) \
	X(criu_local_set_notify_cb) X(criu_notify_pid) X(criu_get_orphan_pts_master_fd) \
	X(criu_local_dump) X(criu_local_pre_dump) X(criu_local_restore_child) X(criu_local_get_version) \
	X(criu_local_feature_check) X(criu_local_set_freeze_cgroup)
// clang-format on

#define SILO_CRIU_FIELD(f) __typeof__(f) *f;
struct silo_criu_api {
        SILO_CRIU_FUNCS(SILO_CRIU_FIELD)
};
extern struct silo_criu_api silo_criu_api;
#define CR(f) (silo_criu_api.f)
#endif

/* Load libcriu (once).  Without --with-criu at build time: a clear error. */
int silo_criu_dl_load(silo_error_t *err);
/* True when this build has CRIU support and libcriu + the criu binary are installed. */
bool silo_criu_available(void);

#endif
