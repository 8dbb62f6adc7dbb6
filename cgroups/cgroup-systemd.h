/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The systemd cgroup driver (`--systemd-cgroup`, `--cgroup-manager systemd`), as runc and crun
 * have it: linux.cgroupsPath is "slice:prefix:name" (default "system.slice:silo:<id>"), the
 * container gets a transient scope unit "<prefix>-<name>.scope" in that slice, created over
 * D-Bus around the waiting container init, with the resource properties systemd understands;
 * the cgroupfs drivers then write everything else into the scope's cgroup (Delegate=yes).
 *
 * The pure parts (path rules, property conversion) are declared here for the unit tests;
 * cgroup.h has the calls the runtime makes.
 *
 * Invariants:
 *   - libsystemd is dlopen()ed on first use only: the silo binary has no DT_NEEDED on it.
 *   - A unit silo starts is stopped again on every failure after it was started.
 */
#ifndef SILO_CGROUP_SYSTEMD_H
#define SILO_CGROUP_SYSTEMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../runtime/error.h"
#include "../runtime/spec.h"

/* systemd's "infinity" for the uint64 properties */
#define SILO_SD_INFINITY UINT64_MAX

/* "a-b.slice" -> "/a.slice/a-b.slice"; "-.slice" -> "" (the root).  EINVAL (err names
 * `field`) for names systemd would refuse. */
int silo_systemd_expand_slice(const char *slice, const char *field, char **ret, silo_error_t *err);
/* cgroupsPath ("slice:prefix:name", NULL/"" for the default) -> the scope's cgroup path,
 * "/system.slice/silo-<id>.scope". */
int silo_systemd_cgroup_path(const char *cgroups_path, const char *id, char **ret, silo_error_t *err);

/* CPUQuotaPerSecUSec for an OCI quota/period: quota*1s/period, rounded up to whole 10 ms as
 * runc does (systemd keeps CPUQuota in percent); quota <= 0 (but set): infinity. */
uint64_t silo_systemd_quota_per_sec(int64_t quota, uint64_t period);
/* "0-3,8" -> systemd's CPU/NUMA mask bytes (bit i%8 of byte i/8 is cpu i). */
int silo_systemd_cpuset_mask(const char *list, const char *field, uint8_t **ret, size_t *ret_n,
                             silo_error_t *err);

enum silo_sd_type { SILO_SD_U64 = 't', SILO_SD_STR = 's', SILO_SD_BOOL = 'b', SILO_SD_BYTES = 'y' };

struct silo_sd_prop {
        const char *name;
        enum silo_sd_type type;
        uint64_t u; /* U64, BOOL */
        char *s;    /* STR */
        uint8_t *bytes;
        size_t n_bytes;
};

struct silo_sd_props {
        struct silo_sd_prop *v;
        size_t n;
};

/* The unit properties for r (only the fields that are set), for a v2 host (MemoryMax,
 * CPUWeight, ...) or a v1/hybrid one (MemoryLimit, CPUShares, ...). */
int silo_systemd_resource_props(const struct silo_resources *r, bool v2, struct silo_sd_props *ret,
                                silo_error_t *err);
const struct silo_sd_prop *silo_sd_props_find(const struct silo_sd_props *p, const char *name);
void silo_sd_props_free(struct silo_sd_props *p);

#endif
