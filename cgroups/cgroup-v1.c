/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgroup v1 driver: one directory per mounted hierarchy (also the v1 half of hybrid hosts).
 *
 * Invariants:
 *   - create makes the path in every hierarchy that has a controller; cpuset levels silo creates
 *     get cpuset.cpus/mems copied from their parent before anything can join (a fresh v1 cpuset
 *     is empty and refuses tasks with ENOSPC).
 *   - apply maps every silo_resources field v1 has a file for; a field whose controller or file
 *     is missing is an error only when that field is set, naming the field and the file.
 *   - Order of writes follows what the kernel accepts (memory before/after memsw, period and
 *     quota, burst), as runc does.
 *   - Kernel memory limits (memory.kmem.limit_in_bytes) are ignored with a warning: the kernel
 *     stopped enforcing them in 5.16.  kernelTCP is written when memory.kmem.tcp.* exists.
 *   - Device rules: "deny a", the spec's rules in order, then the default allow list every
 *     container needs (as runc appends it); only when rules are given and the hierarchy exists.
 */
#include "config.h"
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>
#include "cgroup-internal.h"
#include "../runtime/log.h"
#include "../runtime/util.h"

#define FREEZE_TIMEOUT_MS 5000

static struct silo_cgroup_hier *v1_hier(struct silo_cgroup *cg, const char *controller)
{
        for (size_t i = 0; i < cg->n_v1; i++)
                for (char **c = cg->v1[i].controllers; c && *c; c++)
                        if (strcmp(*c, controller) == 0)
                                return &cg->v1[i];
        return NULL;
}

/* The directory of controller's hierarchy, or an error naming field when it is not mounted. */
static int v1_need(struct silo_cgroup *cg, const char *controller, const char *field, const char **ret,
                   silo_error_t *err)
{
        struct silo_cgroup_hier *h = v1_hier(cg, controller);
        if (h == NULL)
                return silo_error_set(err, ENOENT,
                                      "%s: the cgroup v1 '%s' controller is not mounted under '%s'", field,
                                      controller, cg->root);
        *ret = h->dir;
        return 0;
}

static int64_t norm(int64_t v)
{
        return v == SILO_UNSET ? 0 : v;
}

/* ---------------------------------------------------------------- create / remove */

static int copy_cpuset(const char *parent, const char *dir, bool created, silo_error_t *err)
{
        static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};

        if (!created)
                return 0; /* never write into a cgroup silo did not create */
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                _cleanup_free_ char *cur = NULL, *val = NULL;
                int r;

                if (silo_cg_read(dir, files[i], &cur) == 0 && *cur)
                        continue; /* cgroup.clone_children=1 already did it */
                /* An empty parent is one a concurrent create made a moment ago and is about to fill
                 * (two containers under one new nested cgroupsPath): wait for it, up to ~1 s. */
                for (int tries = 0;; tries++) {
                        free(val);
                        val = NULL;
                        r = silo_cg_read(parent, files[i], &val);
                        if (r < 0)
                                return silo_error_set(err, -r, "read '%s' in '%s'", files[i], parent);
                        if (*val != '\0' || tries == 1000)
                                break;
                        usleep(1000);
                }
                if (*val == '\0')
                        return silo_error_set(err, ENOSPC, "'%s' of the parent cgroup '%s' is empty: no task could join",
                                              files[i], parent);
                r = silo_cg_write(dir, files[i], val, NULL, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int v1_remove(struct silo_cgroup *cg, bool rollback, silo_error_t *err)
{
        int ret = 0;

        for (size_t i = cg->n_v1; i-- > 0;) {
                int r = silo_cg_remove_path(cg, &cg->v1[i], rollback, ret < 0 ? NULL : err);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}

static int v1_create(struct silo_cgroup *cg, silo_error_t *err)
{
        if (cg->n_v1 == 0)
                return silo_error_set(err, ENOENT, "no cgroup v1 hierarchy mounted under '%s'", cg->root);
        for (size_t i = 0; i < cg->n_v1; i++) {
                struct silo_cgroup_hier *h = &cg->v1[i];
                bool cpuset = false;
                int r;

                for (char **c = h->controllers; c && *c; c++)
                        cpuset = cpuset || strcmp(*c, "cpuset") == 0;
                r = silo_cg_mkdir_path(cg, h, cpuset ? copy_cpuset : NULL, err);
                if (r < 0) {
                        /* undo the hierarchies done so far */
                        for (size_t k = i; k-- > 0;)
                                silo_cg_remove_path(cg, &cg->v1[k], true, NULL);
                        return r;
                }
        }
        return 0;
}

/* ---------------------------------------------------------------- apply */

static int apply_memory(struct silo_cgroup *cg, const struct silo_resources *r, silo_error_t *err)
{
        int64_t limit = norm(r->memory.limit), swap = norm(r->memory.swap);
        int64_t reservation = norm(r->memory.reservation);
        const char *dir = NULL;
        bool has_memsw;
        int rc;

        if (r->memory.kernel != SILO_UNSET && r->memory.kernel != 0)
                silo_warn(
                    "/linux/resources/memory/kernel: kernel memory limits are not supported by the kernel "
                    "any more (5.16+), ignoring");
        if (!limit && !swap && !reservation && r->memory.swappiness == SILO_UNSET &&
            r->memory.disable_oom_killer != 1 && !norm(r->memory.kernel_tcp))
                return 0;
        rc = v1_need(cg, "memory", "/linux/resources/memory", &dir, err);
        if (rc < 0)
                return rc;

        /* memory unlimited and swap not given: unlimited memory+swap too (runc) */
        if (limit == -1 && swap == 0)
                swap = -1;
        has_memsw = silo_cg_has(dir, "memory.memsw.limit_in_bytes");
        if (!has_memsw && swap != 0 && swap != -1)
                return silo_error_set(err, ENOENT,
                                      "/linux/resources/memory/swap: 'memory.memsw.limit_in_bytes' is not "
                                      "available in '%s' (swap accounting disabled?)",
                                      dir);
        if (!has_memsw)
                swap = 0;
        if (swap < -1)
                return silo_error_set(err, EINVAL, "/linux/resources/memory/swap: invalid value %" PRId64,
                                      swap);

        if (limit > 0 && r->memory.check_before_update == 1) {
                _cleanup_free_ char *usage = NULL;
                uint64_t u;
                if (silo_cg_read(dir, "memory.usage_in_bytes", &usage) == 0 &&
                    silo_parse_u64(usage, &u) == 0 && u > (uint64_t)limit)
                        return silo_error_set(err, EBUSY,
                                              "/linux/resources/memory/limit: %" PRId64
                                              " is lower than the current usage %" PRIu64 " of '%s'",
                                              limit, u, dir);
        }

        /* The kernel keeps memory.limit <= memsw.limit at every step: when raising, memsw goes
         * first; when lowering, the limit goes first. */
        bool swap_first = false;
        if (limit != 0 && swap != 0) {
                _cleanup_free_ char *cur = NULL;
                uint64_t c = UINT64_MAX;
                if (silo_cg_read(dir, "memory.limit_in_bytes", &cur) == 0)
                        silo_parse_u64(cur, &c);
                swap_first = swap == -1 || c < (uint64_t)swap;
        }
        for (int step = 0; step < 2; step++) {
                bool do_swap = (step == 0) == swap_first;
                if (do_swap && swap != 0)
                        rc = silo_cg_writef(dir, "memory.memsw.limit_in_bytes",
                                            "/linux/resources/memory/swap", err, "%" PRId64, swap);
                else if (!do_swap && limit != 0)
                        rc = silo_cg_writef(dir, "memory.limit_in_bytes", "/linux/resources/memory/limit",
                                            err, "%" PRId64, limit);
                if (rc < 0)
                        return rc;
        }
        if (reservation != 0) {
                rc = silo_cg_writef(dir, "memory.soft_limit_in_bytes", "/linux/resources/memory/reservation",
                                    err, "%" PRId64, reservation);
                if (rc < 0)
                        return rc;
        }
        if (r->memory.swappiness != SILO_UNSET) {
                if (r->memory.swappiness < 0 || r->memory.swappiness > 100)
                        return silo_error_set(err, EINVAL,
                                              "/linux/resources/memory/swappiness: invalid value %" PRId64
                                              " (valid range is 0-100)",
                                              r->memory.swappiness);
                rc = silo_cg_writef(dir, "memory.swappiness", "/linux/resources/memory/swappiness", err,
                                    "%" PRId64, r->memory.swappiness);
                if (rc < 0)
                        return rc;
        }
        /* memory.kmem.tcp.* is deprecated and may be compiled out: honour it where it exists */
        if (norm(r->memory.kernel_tcp)) {
                if (silo_cg_has(dir, "memory.kmem.tcp.limit_in_bytes")) {
                        rc = silo_cg_writef(dir, "memory.kmem.tcp.limit_in_bytes",
                                            "/linux/resources/memory/kernelTCP", err, "%" PRId64,
                                            r->memory.kernel_tcp);
                        if (rc < 0)
                                return rc;
                } else {
                        silo_warn(
                            "/linux/resources/memory/kernelTCP: 'memory.kmem.tcp.limit_in_bytes' is not "
                            "available, ignoring");
                }
        }
        if (r->memory.disable_oom_killer == 1) {
                rc = silo_cg_write(dir, "memory.oom_control", "1", "/linux/resources/memory/disableOOMKiller",
                                   err);
                if (rc < 0)
                        return rc;
        }
        return 0;
}

static int apply_cpu(struct silo_cgroup *cg, const struct silo_resources *r, silo_error_t *err)
{
        int64_t shares = norm(r->cpu.shares), quota = norm(r->cpu.quota), period = norm(r->cpu.period);
        int64_t rt_runtime = norm(r->cpu.realtime_runtime), rt_period = norm(r->cpu.realtime_period);
        bool period_pending = false, burst_pending = false;
        const char *dir = NULL;
        int rc;

        if (!shares && !quota && !period && !rt_runtime && !rt_period && r->cpu.burst == SILO_UNSET &&
            r->cpu.idle == SILO_UNSET)
                return 0;
        rc = v1_need(cg, "cpu", "/linux/resources/cpu", &dir, err);
        if (rc < 0)
                return rc;

        if (shares) {
                _cleanup_free_ char *got = NULL;
                int64_t v;
                rc =
                    silo_cg_writef(dir, "cpu.shares", "/linux/resources/cpu/shares", err, "%" PRId64, shares);
                if (rc < 0)
                        return rc;
                /* the kernel clamps silently to 2..262144: report it instead of running with another value */
                if (silo_cg_read(dir, "cpu.shares", &got) == 0 && silo_parse_i64(got, &v) == 0 && v != shares)
                        return silo_error_set(err, ERANGE,
                                              "/linux/resources/cpu/shares: %" PRId64
                                              " is out of range, the kernel "
                                              "set %" PRId64 " (valid range is 2-262144)",
                                              shares, v);
        }
        /* realtime: the period first, the runtime must fit in it */
        if (rt_period) {
                rc = silo_cg_writef(dir, "cpu.rt_period_us", "/linux/resources/cpu/realtimePeriod", err,
                                    "%" PRId64, rt_period);
                if (rc < 0)
                        return rc;
        }
        if (rt_runtime) {
                rc = silo_cg_writef(dir, "cpu.rt_runtime_us", "/linux/resources/cpu/realtimeRuntime", err,
                                    "%" PRId64, rt_runtime);
                if (rc < 0)
                        return rc;
        }
        /* A smaller period can be refused (EINVAL) because old_quota/new_period exceeds the parent's
         * bandwidth; a larger burst can be refused against the old quota.  Retry after the quota. */
        if (period) {
                rc = silo_cg_writef(dir, "cpu.cfs_period_us", "/linux/resources/cpu/period", err, "%" PRId64,
                                    period);
                if (rc < 0) {
                        if (rc != -EINVAL || !quota)
                                return rc;
                        silo_error_free(err);
                        period_pending = true;
                }
        }
        if (r->cpu.burst != SILO_UNSET) {
                rc = silo_cg_writef(dir, "cpu.cfs_burst_us", "/linux/resources/cpu/burst", err, "%" PRId64,
                                    r->cpu.burst);
                if (rc < 0) {
                        if (rc != -EINVAL || !quota)
                                return rc;
                        silo_error_free(err);
                        burst_pending = true;
                }
        }
        if (quota) {
                rc = silo_cg_writef(dir, "cpu.cfs_quota_us", "/linux/resources/cpu/quota", err, "%" PRId64,
                                    quota);
                if (rc < 0)
                        return rc;
        }
        if (period_pending) {
                rc = silo_cg_writef(dir, "cpu.cfs_period_us", "/linux/resources/cpu/period", err, "%" PRId64,
                                    period);
                if (rc < 0)
                        return rc;
        }
        if (burst_pending) {
                rc = silo_cg_writef(dir, "cpu.cfs_burst_us", "/linux/resources/cpu/burst", err, "%" PRId64,
                                    r->cpu.burst);
                if (rc < 0)
                        return rc;
        }
        if (r->cpu.idle != SILO_UNSET) {
                rc = silo_cg_writef(dir, "cpu.idle", "/linux/resources/cpu/idle", err, "%" PRId64,
                                    r->cpu.idle);
                if (rc < 0)
                        return rc;
        }
        return 0;
}

static int apply_cpuset(struct silo_cgroup *cg, const struct silo_resources *r, silo_error_t *err)
{
        const char *dir = NULL;
        int rc;

        if (r->cpu.cpus && *r->cpu.cpus) {
                rc = v1_need(cg, "cpuset", "/linux/resources/cpu/cpus", &dir, err);
                if (rc < 0)
                        return rc;
                rc = silo_cg_write(dir, "cpuset.cpus", r->cpu.cpus, "/linux/resources/cpu/cpus", err);
                if (rc < 0)
                        return rc;
        }
        if (r->cpu.mems && *r->cpu.mems) {
                rc = v1_need(cg, "cpuset", "/linux/resources/cpu/mems", &dir, err);
                if (rc < 0)
                        return rc;
                rc = silo_cg_write(dir, "cpuset.mems", r->cpu.mems, "/linux/resources/cpu/mems", err);
                if (rc < 0)
                        return rc;
        }
        return 0;
}

static int apply_pids(struct silo_cgroup *cg, const struct silo_resources *r, silo_error_t *err)
{
        const char *dir = NULL;
        int rc;

        if (r->pids.limit == SILO_UNSET)
                return 0;
        rc = v1_need(cg, "pids", "/linux/resources/pids/limit", &dir, err);
        if (rc < 0)
                return rc;
        if (r->pids.limit <= 0)
                return silo_cg_write(dir, "pids.max", "max", "/linux/resources/pids/limit", err);
        return silo_cg_writef(dir, "pids.max", "/linux/resources/pids/limit", err, "%" PRId64, r->pids.limit);
}

static int write_throttle(const char *dir, const char *file, const char *name,
                          const struct silo_throttle_device *t, size_t n, silo_error_t *err)
{
        for (size_t i = 0; i < n; i++) {
                char field[96];
                snprintf(field, sizeof(field), "/linux/resources/blockIO/%s/%zu", name, i);
                int rc = silo_cg_writef(dir, file, field, err, "%" PRId64 ":%" PRId64 " %" PRIu64, t[i].major,
                                        t[i].minor, t[i].rate);
                if (rc < 0)
                        return rc;
        }
        return 0;
}

static int apply_blkio(struct silo_cgroup *cg, const struct silo_resources *r, silo_error_t *err)
{
        const typeof(r->block_io) *b = &r->block_io;
        const char *dir = NULL, *weight_file, *weight_dev_file;
        int rc;

        if (!norm(b->weight) && !norm(b->leaf_weight) && !b->n_weight_device && !b->n_throttle_read_bps &&
            !b->n_throttle_write_bps && !b->n_throttle_read_iops && !b->n_throttle_write_iops)
                return 0;
        rc = v1_need(cg, "blkio", "/linux/resources/blockIO", &dir, err);
        if (rc < 0)
                return rc;
        /* With BFQ (no CFQ since 5.0) only the blkio.bfq.* weight files exist. */
        weight_file = "blkio.weight";
        weight_dev_file = "blkio.weight_device";
        if (!silo_cg_has(dir, weight_file) && silo_cg_has(dir, "blkio.bfq.weight")) {
                weight_file = "blkio.bfq.weight";
                weight_dev_file = "blkio.bfq.weight_device";
        }
        if (norm(b->weight)) {
                rc = silo_cg_writef(dir, weight_file, "/linux/resources/blockIO/weight", err, "%" PRId64,
                                    b->weight);
                if (rc < 0)
                        return rc;
        }
        if (norm(b->leaf_weight)) {
                rc = silo_cg_writef(dir, "blkio.leaf_weight", "/linux/resources/blockIO/leafWeight", err,
                                    "%" PRId64, b->leaf_weight);
                if (rc < 0)
                        return rc;
        }
        for (size_t i = 0; i < b->n_weight_device; i++) {
                const struct silo_weight_device *w = &b->weight_device[i];
                char field[96];
                if (w->weight != SILO_UNSET) {
                        snprintf(field, sizeof(field), "/linux/resources/blockIO/weightDevice/%zu/weight", i);
                        rc =
                            silo_cg_writef(dir, weight_dev_file, field, err,
                                           "%" PRId64 ":%" PRId64 " %" PRId64, w->major, w->minor, w->weight);
                        if (rc < 0)
                                return rc;
                }
                if (w->leaf_weight != SILO_UNSET) {
                        snprintf(field, sizeof(field), "/linux/resources/blockIO/weightDevice/%zu/leafWeight",
                                 i);
                        rc = silo_cg_writef(dir, "blkio.leaf_weight_device", field, err,
                                            "%" PRId64 ":%" PRId64 " %" PRId64, w->major, w->minor,
                                            w->leaf_weight);
                        if (rc < 0)
                                return rc;
                }
        }
        rc = write_throttle(dir, "blkio.throttle.read_bps_device", "throttleReadBpsDevice",
                            b->throttle_read_bps, b->n_throttle_read_bps, err);
        if (rc == 0)
                rc = write_throttle(dir, "blkio.throttle.write_bps_device", "throttleWriteBpsDevice",
                                    b->throttle_write_bps, b->n_throttle_write_bps, err);
        if (rc == 0)
                rc = write_throttle(dir, "blkio.throttle.read_iops_device", "throttleReadIOPSDevice",
                                    b->throttle_read_iops, b->n_throttle_read_iops, err);
        if (rc == 0)
                rc = write_throttle(dir, "blkio.throttle.write_iops_device", "throttleWriteIOPSDevice",
                                    b->throttle_write_iops, b->n_throttle_write_iops, err);
        return rc;
}

static int apply_hugetlb(struct silo_cgroup *cg, const struct silo_resources *r, silo_error_t *err)
{
        const char *dir = NULL;
        int rc;

        for (size_t i = 0; i < r->n_hugepage_limits; i++) {
                const struct silo_hugepage_limit *h = &r->hugepage_limits[i];
                _cleanup_free_ char *file = NULL, *rsvd = NULL;
                char field[64];

                snprintf(field, sizeof(field), "/linux/resources/hugepageLimits/%zu", i);
                if (h->page_size == NULL || *h->page_size == '\0' || strchr(h->page_size, '/'))
                        return silo_error_set(err, EINVAL, "%s/pageSize: invalid page size '%s'", field,
                                              h->page_size ? h->page_size : "");
                rc = v1_need(cg, "hugetlb", field, &dir, err);
                if (rc < 0)
                        return rc;
                file = silo_xasprintf("hugetlb.%s.limit_in_bytes", h->page_size);
                rc = silo_cg_writef(dir, file, field, err, "%" PRIu64, h->limit);
                if (rc < 0)
                        return rc;
                /* 5.7+: reservations are accounted separately; limit them the same way */
                rsvd = silo_xasprintf("hugetlb.%s.rsvd.limit_in_bytes", h->page_size);
                if (silo_cg_has(dir, rsvd)) {
                        rc = silo_cg_writef(dir, rsvd, field, err, "%" PRIu64, h->limit);
                        if (rc < 0)
                                return rc;
                }
        }
        return 0;
}

static int apply_network(struct silo_cgroup *cg, const struct silo_resources *r, silo_error_t *err)
{
        const char *dir = NULL;
        int rc;

        if (r->network.class_id != SILO_UNSET) {
                rc = v1_need(cg, "net_cls", "/linux/resources/network/classID", &dir, err);
                if (rc < 0)
                        return rc;
                rc = silo_cg_writef(dir, "net_cls.classid", "/linux/resources/network/classID", err,
                                    "%" PRId64, r->network.class_id);
                if (rc < 0)
                        return rc;
        }
        for (size_t i = 0; i < r->network.n_priorities; i++) {
                const struct silo_net_priority *p = &r->network.priorities[i];
                char field[64];
                snprintf(field, sizeof(field), "/linux/resources/network/priorities/%zu", i);
                rc = v1_need(cg, "net_prio", field, &dir, err);
                if (rc < 0)
                        return rc;
                rc = silo_cg_writef(dir, "net_prio.ifpriomap", field, err, "%s %" PRIu32,
                                    p->name ? p->name : "", p->priority);
                if (rc < 0)
                        return rc;
        }
        return 0;
}

/* What every container gets on top of its rules, as runc's and crun's default lists: mknod of
 * anything, and the standard /dev nodes (null, random, full, tty, zero, urandom, console, pts,
 * ptmx, net/tun). */
static const char *const default_device_rules[] = {
    "c *:* m",   "b *:* m",   "c 1:3 rwm", "c 1:8 rwm",   "c 1:7 rwm", "c 5:0 rwm",
    "c 1:5 rwm", "c 1:9 rwm", "c 5:1 rwm", "c 136:* rwm", "c 5:2 rwm", "c 10:200 rwm",
};

static void fmt_devnum(int64_t v, char *buf, size_t n)
{
        if (v == SILO_UNSET || v < 0)
                snprintf(buf, n, "*");
        else
                snprintf(buf, n, "%" PRId64, v);
}

static int apply_devices(struct silo_cgroup *cg, const struct silo_resources *r, silo_error_t *err)
{
        struct silo_cgroup_hier *h = v1_hier(cg, "devices");
        int rc;

        if (r->n_devices == 0)
                return 0; /* e.g. "update" without device rules: keep what is there */
        if (h == NULL) {
                silo_debug("no devices hierarchy: device rules not applied");
                return 0;
        }
        rc = silo_cg_write(h->dir, "devices.deny", "a", "/linux/resources/devices", err);
        if (rc < 0)
                return rc;
        for (size_t i = 0; i < r->n_devices; i++) {
                const struct silo_device_rule *d = &r->devices[i];
                char field[64], maj[24], min[24];
                char type = d->type ? d->type : 'a';

                snprintf(field, sizeof(field), "/linux/resources/devices/%zu", i);
                fmt_devnum(d->major, maj, sizeof(maj));
                fmt_devnum(d->minor, min, sizeof(min));
                rc = silo_cg_writef(h->dir, d->allow ? "devices.allow" : "devices.deny", field, err,
                                    "%c %s:%s %s", type, maj, min,
                                    d->access && *d->access ? d->access : "rwm");
                if (rc < 0)
                        return rc;
        }
        for (size_t i = 0; i < ARRAY_SIZE(default_device_rules); i++) {
                rc = silo_cg_write(h->dir, "devices.allow", default_device_rules[i],
                                   "/linux/resources/devices", err);
                if (rc < 0)
                        return rc;
        }
        return 0;
}

static int apply_rdma(struct silo_cgroup *cg, const struct silo_resources *r, silo_error_t *err)
{
        const char *dir = NULL;
        int rc;

        for (size_t i = 0; i < r->n_rdma; i++) {
                const struct silo_rdma_limit *l = &r->rdma[i];
                struct silo_buf b = {0};
                char field[64];

                snprintf(field, sizeof(field), "/linux/resources/rdma/%s", l->device ? l->device : "");
                if (l->hca_handles == SILO_UNSET && l->hca_objects == SILO_UNSET)
                        continue;
                rc = v1_need(cg, "rdma", field, &dir, err);
                if (rc < 0)
                        return rc;
                silo_buf_puts(&b, l->device ? l->device : "");
                if (l->hca_handles != SILO_UNSET)
                        silo_buf_printf(&b, " hca_handle=%" PRId64, l->hca_handles);
                if (l->hca_objects != SILO_UNSET)
                        silo_buf_printf(&b, " hca_object=%" PRId64, l->hca_objects);
                rc = silo_cg_write(dir, "rdma.max", b.data, field, err);
                silo_buf_free(&b);
                if (rc < 0)
                        return rc;
        }
        return 0;
}

static int v1_apply(struct silo_cgroup *cg, const struct silo_resources *r, silo_error_t *err)
{
        int (*const steps[])(struct silo_cgroup *, const struct silo_resources *, silo_error_t *) = {
            apply_cpuset, apply_devices, apply_memory,  apply_cpu,  apply_pids,
            apply_blkio,  apply_hugetlb, apply_network, apply_rdma,
        };

        /* checked before anything is written */
        if (r->n_unified > 0)
                return silo_error_set(err, EINVAL, "/linux/resources/unified: requires cgroup v2");
        for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
                int rc = steps[i](cg, r, err);
                if (rc < 0)
                        return rc;
        }
        return 0;
}

/* ---------------------------------------------------------------- processes, freezer */

static int v1_enter(struct silo_cgroup *cg, pid_t pid, silo_error_t *err)
{
        for (size_t i = 0; i < cg->n_v1; i++) {
                int r = silo_cg_enter_dir(cg->v1[i].dir, pid, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int v1_pids(struct silo_cgroup *cg, struct silo_pidset *set, silo_error_t *err)
{
        static const char *const pref[] = {"pids", "freezer", "memory"};
        struct silo_cgroup_hier *h = NULL;

        for (size_t i = 0; i < ARRAY_SIZE(pref) && h == NULL; i++)
                h = v1_hier(cg, pref[i]);
        if (h == NULL && cg->n_v1 > 0)
                h = &cg->v1[0];
        return h ? silo_cg_read_procs_recursive(h->dir, set, err) : 0;
}

static int v1_kill(struct silo_cgroup *cg, silo_error_t *err)
{
        return -EOPNOTSUPP; /* no cgroup.kill in v1 */
}

static bool v1_has_freezer(struct silo_cgroup *cg)
{
        return v1_hier(cg, "freezer") != NULL;
}

static int v1_freeze(struct silo_cgroup *cg, bool frozen, silo_error_t *err)
{
        struct silo_cgroup_hier *h = v1_hier(cg, "freezer");
        const char *want = frozen ? "FROZEN" : "THAWED";
        uint64_t deadline = silo_cg_now_ms() + FREEZE_TIMEOUT_MS;
        int rc;

        if (h == NULL)
                return silo_error_set(err, EOPNOTSUPP, "the freezer controller is not mounted under '%s'",
                                      cg->root);
        for (unsigned i = 0;; i++) {
                _cleanup_free_ char *state = NULL;

                /* FREEZING can get stuck when a task is in an uninterruptible sleep or forks in
                 * between: writing FROZEN again retries the freeze. */
                if (i % 50 == 0) {
                        rc = silo_cg_write(h->dir, "freezer.state", want, NULL, err);
                        if (rc < 0)
                                return rc;
                }
                rc = silo_cg_read(h->dir, "freezer.state", &state);
                if (rc < 0)
                        return silo_error_set(err, -rc, "read 'freezer.state' in '%s'", h->dir);
                if (strcmp(state, want) == 0)
                        return 0;
                if (silo_cg_now_ms() >= deadline) {
                        if (frozen)
                                silo_cg_write(h->dir, "freezer.state", "THAWED", NULL, NULL);
                        return silo_error_set(err, ETIMEDOUT, "%s '%s': still '%s'",
                                              frozen ? "freezing" : "thawing", h->dir, state);
                }
                silo_cg_sleep_ms(i < 10 ? 1 : 10);
        }
}

static int v1_is_frozen(struct silo_cgroup *cg)
{
        struct silo_cgroup_hier *h = v1_hier(cg, "freezer");
        _cleanup_free_ char *state = NULL;
        int rc;

        if (h == NULL)
                return -EOPNOTSUPP;
        rc = silo_cg_read(h->dir, "freezer.state", &state);
        if (rc < 0)
                return rc;
        return strcmp(state, "FROZEN") == 0;
}

const struct silo_cgroup_driver silo_cgroup_v1_driver = {
    .name = "v1",
    .create = v1_create,
    .apply = v1_apply,
    .enter = v1_enter,
    .pids = v1_pids,
    .kill = v1_kill,
    .freeze = v1_freeze,
    .has_freezer = v1_has_freezer,
    .is_frozen = v1_is_frozen,
    .remove = v1_remove,
};
