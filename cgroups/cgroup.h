/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgroups: one interface over three host layouts.
 *
 *   SILO_CGROUP_V2      unified hierarchy at /sys/fs/cgroup (cgroup2fs)
 *   SILO_CGROUP_V1      one hierarchy per controller under /sys/fs/cgroup/<controller>
 *   SILO_CGROUP_HYBRID  v1 controllers plus a controller-less cgroup2 at /sys/fs/cgroup/unified;
 *                       limits go to v1, the process is also placed in the unified tree (process
 *                       tracking, cgroup.kill), as systemd's hybrid mode does.  crun refuses this
 *                       layout; silo must not.
 *
 * Paths: linux.cgroupsPath "/a/b" is relative to the root of every hierarchy; a relative path is
 * taken relative to the hierarchy root too (never the caller's own cgroup: on some hosts that is
 * owned by something else).  No cgroupsPath means "/silo/<id>".  Parents silo creates are recorded
 * and removed on destroy when empty.  The cgroups root can be overridden with SILO_CGROUP_ROOT
 * (tests).
 *
 * Nothing here ever writes to, moves processes out of, or removes a cgroup silo did not create.
 */
#ifndef SILO_CGROUP_H
#define SILO_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>
#include "../runtime/error.h"
#include "../runtime/spec.h"

enum silo_cgroup_mode { SILO_CGROUP_V1, SILO_CGROUP_HYBRID, SILO_CGROUP_V2 };

struct silo_cgroup;

enum silo_cgroup_mode silo_cgroup_detect_mode(void);
const char *silo_cgroup_mode_name(enum silo_cgroup_mode m);

/* Resolve cgroupsPath/id into the path silo will use ("/silo/<id>" by default). */
char *silo_cgroup_path_for(const char *cgroups_path, const char *id);

/* Create the cgroup (every v1 hierarchy, or the v2 directory with the needed controllers
 * enabled in the parents' cgroup.subtree_control) and apply r (may be NULL).  On failure
 * nothing is left behind. */
int silo_cgroup_create(const char *path, const struct silo_resources *r, struct silo_cgroup **ret,
                       silo_error_t *err);
/* Re-open an existing cgroup from its recorded path (state), for kill/delete/pause/stats. */
int silo_cgroup_open(const char *path, struct silo_cgroup **ret, silo_error_t *err);
/* A dirfd usable with clone3(CLONE_INTO_CGROUP), or -1 (v1-only hosts). */
int silo_cgroup_dirfd(const struct silo_cgroup *cg);
/* Put pid into the cgroup in every hierarchy (the ones clone3 did not already cover). */
int silo_cgroup_enter(struct silo_cgroup *cg, pid_t pid, silo_error_t *err);
/*
 * Files through which the single-threaded container init moves ITSELF into the v1 hierarchies:
 * writing "0" to a v1 "tasks" file migrates only the calling thread, which the kernel does
 * without taking cgroup_threadgroup_rwsem for writing -- that write lock waits for an RCU grace
 * period, ~10 ms per create on this kind of host, the largest single cost of `silo run` on
 * v1/hybrid.  Opened by the parent (permission is checked against the opener's credentials,
 * so this works from inside a new user namespace too).  v2 / hybrid-unified placement is done
 * by clone3(CLONE_INTO_CGROUP) instead.  Returns up to `max` fds in fds[].
 */
int silo_cgroup_self_enter_fds(struct silo_cgroup *cg, int *fds, size_t max, size_t *ret_n, silo_error_t *err);
/* Apply (or update) resources. */
int silo_cgroup_apply(struct silo_cgroup *cg, const struct silo_resources *r, silo_error_t *err);
/* All pids in the cgroup (recursive). Caller frees *ret. */
int silo_cgroup_pids(struct silo_cgroup *cg, pid_t **ret, size_t *ret_n, silo_error_t *err);
/* Signal every process in the cgroup; SIGKILL uses cgroup.kill where available. */
int silo_cgroup_kill_all(struct silo_cgroup *cg, int sig, silo_error_t *err);
/* Freeze / thaw (v2 cgroup.freeze, v1 freezer.state); waits until the state is reached. */
int silo_cgroup_freeze(struct silo_cgroup *cg, bool frozen, silo_error_t *err);
bool silo_cgroup_is_frozen(struct silo_cgroup *cg);
/* Kill what is left, wait for it to go, remove the cgroup and the empty parents silo created.
 * A cgroup that is already gone is not an error. */
int silo_cgroup_destroy(struct silo_cgroup *cg, silo_error_t *err);
/* How many leading components of the path existed before create (the largest number over the
 * hierarchies, so that only levels created in all of them count as silo's), -1 after open.
 * Recorded in the state and restored with silo_cgroup_set_existed after open, so that destroy
 * from another process also removes the empty parents create made. */
int silo_cgroup_existed(const struct silo_cgroup *cg);
/* n < 0: unknown (only the "/silo" parents rule applies, see cgroup-internal.h). */
void silo_cgroup_set_existed(struct silo_cgroup *cg, int n);
/* The path as given to create/open, to record in the state. */
const char *silo_cgroup_path(const struct silo_cgroup *cg);
enum silo_cgroup_mode silo_cgroup_mode(const struct silo_cgroup *cg);
void silo_cgroup_free(struct silo_cgroup *cg);

/* ---- systemd driver (cgroup-systemd.c; libsystemd is dlopen()ed on first use) ---- */

/* Is systemd the init (/run/systemd/system exists)? */
bool silo_cgroup_systemd_running(void);
/* Start the transient scope unit for `path` (from silo_systemd_cgroup_path, cgroup-systemd.h)
 * with pid in it and r's properties, wait for systemd's job, then create/apply/enter through
 * the cgroupfs drivers.  On failure the unit is stopped again. */
int silo_cgroup_systemd_create(const char *path, pid_t pid, const struct silo_resources *r,
                               struct silo_cgroup **ret, silo_error_t *err);
/* Mark an opened cgroup as a systemd scope (its basename is the unit): apply then also sets
 * the unit's properties, destroy also stops the unit. */
void silo_cgroup_set_systemd(struct silo_cgroup *cg);

/* ---- statistics and OOM events (cgroup-stats.c), for `silo events` ---- */

/* The "data" object of a runc stats event ({"cpu":{...},"cpuset":{...},"memory":{...},"pids":{...},
 * "blkio":{...},"hugetlb":{...},...}, runc types/events.go) as one JSON object string without a
 * trailing newline.  Missing controllers/files are left out; a missing cgroup is an error
 * ("cgroup '<path>' does not exist"). */
int silo_cgroup_stats_json(struct silo_cgroup *cg, char **ret_json, silo_error_t *err);
/* An O_CLOEXEC|O_NONBLOCK fd that becomes readable (POLLIN) when the cgroup hits an OOM: v1 = an
 * eventfd registered through cgroup.event_control on memory.oom_control; v2 = inotify on
 * memory.events.  -EOPNOTSUPP (err set) when there is no memory controller. */
int silo_cgroup_oom_fd(struct silo_cgroup *cg, int *ret_fd, silo_error_t *err);
/* After the fd became readable: consume the event and tell whether OOM kills happened since the
 * last call (v2: memory.events oom_kill compared with *last, which is updated; v1: any eventfd
 * count is an OOM, *last untouched).  1 = yes, 0 = no (e.g. another memory.events counter
 * moved).  Never blocks: call it once right after silo_cgroup_oom_fd, ignoring the result, to
 * record the current count in *last.  -ENOENT (err set) once the cgroup is gone (both kinds of fd
 * fire on removal): stop watching then. */
int silo_cgroup_oom_check(struct silo_cgroup *cg, int fd, uint64_t *last, silo_error_t *err);

#endif
