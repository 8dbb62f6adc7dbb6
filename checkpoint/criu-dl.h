/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CRIU through silo-criu.so (checkpoint/criu-rpc.c: a client of CRIU's RPC protocol, `criu
 * swrk`), dlopen()ed: only `checkpoint` and `restore` need it, and silo's create/start path is
 * measured in milliseconds, so the silo binary carries no DT_NEEDED entry for it or for
 * libprotobuf-c (the pattern of image/dl.h).  The plugin implements libcriu's functions with
 * libcriu's prototypes (criu.h) plus the silo_criu_* ones below; libcriu itself is not used.
 * Every slot has the type of the prototype (__typeof__), so calls are still checked by the
 * compiler.  silo_criu_dl_load() first; then CR(f)(...).
 */
#ifndef SILO_CRIU_DL_H
#define SILO_CRIU_DL_H
#include "config.h"
#include <stdbool.h>
#include <sys/types.h>
#include "../runtime/error.h"

#ifdef HAVE_CRIU
#include <criu/criu.h>

/* What libcriu 3.17 has no setter for (implemented by silo-criu.so only). */
void silo_criu_set_status_fd(criu_opts *opts, int fd);
void silo_criu_set_empty_ns(criu_opts *opts, unsigned int clone_flags);
void silo_criu_set_lazy_pages(criu_opts *opts, bool lazy);
/* checkpoint/criu-lazy.c: a pre-copied dump made restorable lazily from its first round (see
 * there).  1 = dir out is ready, 0 = not this dump (why), <0 = -errno (why). */
int silo_criu_lazy_base(int dirfd, const char *final, const char *out, unsigned long *ret_lazy, char *why,
                        size_t whylen);
/* "CRIU request DUMP: <cr_errmsg> (cr_errno N)" of the last failed request, or "". */
const char *silo_criu_last_error(void);

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
	X(criu_local_feature_check) X(silo_criu_set_status_fd) X(silo_criu_set_empty_ns) \
	X(silo_criu_set_lazy_pages) X(silo_criu_last_error) X(silo_criu_lazy_base) \
	X(criu_local_set_freeze_cgroup)
// clang-format on

#define SILO_CRIU_FIELD(f) __typeof__(f) *f;
struct silo_criu_api {
        SILO_CRIU_FUNCS(SILO_CRIU_FIELD)
};
extern struct silo_criu_api silo_criu_api;
/* Where silo-criu.so is: NULL = next to the binary, else pkglibdir (a seam for unit tests). */
extern const char *silo_criu_plugin_path;
#define CR(f) (silo_criu_api.f)
#endif

/* Load silo-criu.so (once).  Without --with-criu at build time: a clear error. */
int silo_criu_dl_load(silo_error_t *err);
/* True when this build has CRIU support, its plugin is found and the criu binary is installed. */
bool silo_criu_available(void);
/*
 * CRIU's page server as a daemon (`criu page-server -d`), receiving a dump's memory into
 * image_path (created if missing; work_path NULL = image_path, its log "page-server.log"): the
 * target side of a pre-copy or of `checkpoint --page-server`.  address NULL = any; port 1-65535.
 * Returns once it listens, with its pid (*ret_port = port); it exits after serving one dump.
 */
int silo_criu_page_server_start(const char *image_path, const char *work_path, const char *address, int port,
                                pid_t *ret_pid, int *ret_port, silo_error_t *err);

/*
 * What checkpoint/restore can do here, for `features` ("" without CRIU): the RPC options always
 * ("page-server,status-fd,empty-ns"), "lazy-pages" too when the kernel has userfaultfd.  Cheap
 * (no criu run): the verbs check CRIU's own answer (FEATURE_CHECK) before a lazy operation.
 */
const char *silo_criu_features(void);

#endif
