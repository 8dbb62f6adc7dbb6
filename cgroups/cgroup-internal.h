/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internals shared by cgroup.c (dispatch, discovery, path rules) and the two drivers.
 *
 * Invariants:
 *   - cg->path is normalised: absolute, no empty, "." or ".." components, never "/".
 *   - A hierarchy's dir is always <mountpoint><cg->path>; nothing outside it is ever written,
 *     except the parents' cgroup.subtree_control (v2, to enable controllers) and reading the
 *     parents' cpuset.cpus/mems (v1, to copy them down into levels silo created).
 *   - n_existed is the number of leading path components that existed before create, or -1
 *     when the cgroup was opened from a recorded path (another process created it); removal
 *     then falls back to the "/silo" rule of silo_cgroup_parent_removable().
 *
 * Each driver (v1, v2) works on its own half of struct silo_cgroup: v1 on cg->v1[], v2 on
 * cg->unified.  Hybrid hosts use both (limits on v1, process placement on both).
 */
#ifndef SILO_CGROUP_INTERNAL_H
#define SILO_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "cgroup.h"

struct silo_cgroup_hier {
        char *mountpoint;   /* "/sys/fs/cgroup/memory" */
        char **controllers; /* v1: {"cpu", "cpuacct", NULL}; unified: NULL */
        char *dir;          /* mountpoint + cg->path */
        int n_existed;      /* see above */
};

struct silo_cgroup {
        enum silo_cgroup_mode mode;
        char *path; /* normalised, "/silo/<id>" */
        char *root; /* SILO_CGROUP_ROOT or /sys/fs/cgroup */
        struct silo_cgroup_hier *v1;
        size_t n_v1;
        bool has_unified; /* v2, or the unified half of hybrid */
        struct silo_cgroup_hier unified;
        int dirfd; /* O_PATH of unified.dir, -1 when none */
        char *systemd_unit; /* the scope unit (systemd driver), NULL for cgroupfs */
};

/* A set of pids without duplicates. */
struct silo_pidset {
        pid_t *pids;
        size_t n, cap;
};

struct silo_cgroup_driver {
        const char *name;
        /* mkdir the cgroup (recording what was created); on failure nothing is left behind */
        int (*create)(struct silo_cgroup *cg, silo_error_t *err);
        int (*apply)(struct silo_cgroup *cg, const struct silo_resources *r, silo_error_t *err);
        int (*enter)(struct silo_cgroup *cg, pid_t pid, silo_error_t *err);
        /* add every pid (recursive) to set; a missing cgroup adds nothing */
        int (*pids)(struct silo_cgroup *cg, struct silo_pidset *set, silo_error_t *err);
        /* cgroup.kill (SIGKILL to everything at once): -EOPNOTSUPP when not available */
        int (*kill)(struct silo_cgroup *cg, silo_error_t *err);
        /* -EOPNOTSUPP (err set) when there is no freezer */
        int (*freeze)(struct silo_cgroup *cg, bool frozen, silo_error_t *err);
        bool (*has_freezer)(struct silo_cgroup *cg);
        int (*is_frozen)(struct silo_cgroup *cg); /* 1, 0, or -errno */
        /* rmdir the leaf (and its sub-cgroups) and the parents silo created; gone = success.
         * rollback: undo a failed create, removing only what this process created. */
        int (*remove)(struct silo_cgroup *cg, bool rollback, silo_error_t *err);
};

extern const struct silo_cgroup_driver silo_cgroup_v1_driver;
extern const struct silo_cgroup_driver silo_cgroup_v2_driver;

/* ---- helpers (cgroup.c) ---- */

#define SILO_CGROUP_DEFAULT_ROOT "/sys/fs/cgroup"
#define SILO_CGROUP2_SUPER_MAGIC 0x63677270

enum silo_cgroup_mode silo_cgroup_detect_mode_at(const char *root);

/* Normalise a cgroup path ("a//b/" -> "/a/b").  NULL when it is "/", or has "." / ".." components. */
char *silo_cgroup_normalize_path(const char *path);
/* May the ancestor of `path` with `depth` components (1 = first component) be removed when empty
 * although this process did not create it?  Only ancestors under a top-level "silo" directory
 * (including "/silo" itself) are silo's: that is where silo_cgroup_path_for puts containers. */
bool silo_cgroup_parent_removable(const char *path, int depth);

/* Write value to dir/file.  The error reads "<field>: write '<file>' in '<dir>'" (field may be NULL). */
int silo_cg_write(const char *dir, const char *file, const char *value, const char *field, silo_error_t *err);
int silo_cg_writef(const char *dir, const char *file, const char *field, silo_error_t *err, const char *fmt,
                   ...) __attribute__((format(printf, 5, 6)));
/* Read dir/file with the trailing newline removed; -errno on failure (no error object). */
int silo_cg_read(const char *dir, const char *file, char **ret);
bool silo_cg_has(const char *dir, const char *file);

/* mkdir -p <mountpoint><path>, recording in h->n_existed how many leading components already
 * existed.  on_level runs for every level from the top down (parent dir, dir, whether silo just
 * created it).  On failure what was created is removed again. */
typedef int (*silo_cg_level_fn)(const char *parent, const char *dir, bool created, silo_error_t *err);
int silo_cg_mkdir_path(struct silo_cgroup *cg, struct silo_cgroup_hier *h, silo_cg_level_fn on_level,
                       silo_error_t *err);
/* Remove h->dir with its sub-cgroups (retrying on EBUSY for a short while), then the empty parents
 * silo created (h->n_existed) and, unless rolling back, those silo_cgroup_parent_removable allows.
 * rollback: leave a leaf that existed before alone.  A missing directory is not an error. */
int silo_cg_remove_path(struct silo_cgroup *cg, struct silo_cgroup_hier *h, bool rollback, silo_error_t *err);
/* Read <dir>/cgroup.procs and those of every sub-cgroup into set. */
int silo_cg_read_procs_recursive(const char *dir, struct silo_pidset *set, silo_error_t *err);
int silo_cg_enter_dir(const char *dir, pid_t pid, silo_error_t *err);

void silo_pidset_add(struct silo_pidset *set, pid_t pid);
void silo_pidset_free(struct silo_pidset *set);

/* Sleep helper for the bounded polling loops (milliseconds). */
void silo_cg_sleep_ms(unsigned ms);
uint64_t silo_cg_now_ms(void);

/* ---- pure conversions (cgroup-v2.c), unit tested ---- */

/* cpu.shares (v1, 2..262144) -> cpu.weight (v2, 1..10000); 0 means unset and returns 0. */
uint64_t silo_cgroup_shares_to_weight(uint64_t shares);
/* blkio.weight (10..1000) -> io.weight (1..10000); 0 means unset and returns 0. */
uint64_t silo_cgroup_blkio_to_io_weight(uint64_t weight);
/* OCI memory.swap is memory+swap; memory.swap.max is swap alone.  limit/swap use SILO_UNSET or
 * 0 for unset, -1 for unlimited.  *ret is SILO_UNSET (do not write), -1 ("max") or the value. */
int silo_cgroup_swap_to_v2(int64_t limit, int64_t swap, int64_t *ret, silo_error_t *err);
/* "max" for -1, decimal otherwise. */
void silo_cgroup_fmt_limit(int64_t v, char *buf, size_t n);

/* ---- systemd driver (cgroup-systemd.c) ---- */

int silo_systemd_set_properties(struct silo_cgroup *cg, const struct silo_resources *r, silo_error_t *err);
/* StopUnit and wait for the job; a unit that is gone already is not an error. */
int silo_systemd_stop(struct silo_cgroup *cg, silo_error_t *err);

/* ---- v2 device control (cgroup-v2-devices.c) ---- */

struct bpf_insn;
/* The BPF_PROG_TYPE_CGROUP_DEVICE program for rules (plus the standard allow list, default
 * deny, last match wins).  Caller frees *ret. */
int silo_cgroup_devices_prog(const struct silo_device_rule *rules, size_t n, struct bpf_insn **ret,
                             size_t *ret_n, silo_error_t *err);
size_t silo_cgroup_devices_default_count(void);
/* Load the program for rules and attach it to the cgroup directory dir, replacing (after the
 * new one is attached) every device program attached there before. */
int silo_cgroup_devices_apply(const char *dir, const struct silo_device_rule *rules, size_t n,
                              silo_error_t *err);
/* Ids of the device programs attached to dir (*n: capacity in, count out). */
int silo_cgroup_devices_query(const char *dir, uint32_t *ids, uint32_t *n, silo_error_t *err);

#endif
