/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgroup v2 driver: the unified hierarchy (pure v2 hosts, and the controller-less unified half of
 * hybrid hosts, where only placement, cgroup.kill and process tracking are used).
 *
 * Invariants:
 *   - create enables the controllers silo needs, among those available, in every ancestor's
 *     cgroup.subtree_control from the root down (never in the leaf: it holds processes, and the
 *     "no internal processes" rule would then refuse them), and opens an O_PATH dirfd of the leaf
 *     for clone3(CLONE_INTO_CGROUP).
 *   - apply converts the v1-shaped OCI values (shares, blkio weight, memory+swap) to their v2
 *     meaning, then writes the `unified` map last so that it can override them, as runc does.
 *   - Device rules become an eBPF program attached to the leaf (cgroup-v2-devices.c), on pure v2
 *     only: on hybrid hosts the v1 devices controller enforces them.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include "cgroup-internal.h"
#include "../runtime/log.h"
#include "../runtime/util.h"

#define FREEZE_TIMEOUT_MS 5000

static const char *const wanted_controllers[] = {"cpu", "memory", "pids", "io", "cpuset", "hugetlb", "rdma"};

/* ---------------------------------------------------------------- pure conversions */

uint64_t silo_cgroup_shares_to_weight(uint64_t shares)
{
        if (shares == 0)
                return 0;
        /* v1 accepts 2..262144; clamp so that the linear map stays in 1..10000 */
        if (shares < 2)
                shares = 2;
        if (shares > 262144)
                shares = 262144;
        return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t silo_cgroup_blkio_to_io_weight(uint64_t weight)
{
        if (weight == 0)
                return 0;
        if (weight < 10)
                weight = 10;
        if (weight > 1000)
                weight = 1000;
        return 1 + ((weight - 10) * 9999) / 990;
}

int silo_cgroup_swap_to_v2(int64_t limit, int64_t swap, int64_t *ret, silo_error_t *err)
{
        int64_t l = limit == SILO_UNSET ? 0 : limit, s = swap == SILO_UNSET ? 0 : swap;

        /* as on v1: unlimited memory with no swap given means unlimited swap too */
        if (l == -1 && s == 0) {
                *ret = -1;
                return 0;
        }
        if (s == 0) {
                *ret = SILO_UNSET;
                return 0;
        }
        if (s == -1) {
                *ret = -1;
                return 0;
        }
        if (s < 0)
                return silo_error_set(err, EINVAL, "/linux/resources/memory/swap: invalid value %" PRId64, s);
        if (l == 0 || l == -1)
                return silo_error_set(
                    err, EINVAL,
                    "/linux/resources/memory/swap: a swap limit needs a memory limit on cgroup v2");
        if (l < 0)
                return silo_error_set(err, EINVAL, "/linux/resources/memory/limit: invalid value %" PRId64,
                                      l);
        if (s < l)
                return silo_error_set(err, EINVAL,
                                      "/linux/resources/memory/swap: memory+swap %" PRId64
                                      " is lower than the memory limit %" PRId64,
                                      s, l);
        *ret = s - l; /* 0 when swap == limit: no swap at all */
        return 0;
}

void silo_cgroup_fmt_limit(int64_t v, char *buf, size_t n)
{
        if (v == -1)
                snprintf(buf, n, "max");
        else
                snprintf(buf, n, "%" PRId64, v);
}

static int64_t norm(int64_t v)
{
        return v == SILO_UNSET ? 0 : v;
}

static bool word_in(const char *list, const char *word)
{
        size_t n = strlen(word);
        for (const char *p = list; p && (p = strstr(p, word)) != NULL; p += n) {
                bool start = p == list || p[-1] == ' ' || p[-1] == '\n';
                bool end = p[n] == '\0' || p[n] == ' ' || p[n] == '\n';
                if (start && end)
                        return true;
        }
        return false;
}

/* ---------------------------------------------------------------- create / remove */

/* Enable in parent what silo needs and parent offers.  Failures are not fatal here (a parent
 * with processes cannot delegate, "no internal processes" rule); apply then reports the missing
 * file with the field that needed it. */
static int enable_controllers(const char *parent, const char *dir, bool created, silo_error_t *err)
{
        _cleanup_free_ char *avail = NULL, *enabled = NULL;
        struct silo_buf b = {0};

        if (silo_cg_read(parent, "cgroup.controllers", &avail) < 0 || *avail == '\0')
                return 0;
        if (silo_cg_read(parent, "cgroup.subtree_control", &enabled) < 0)
                enabled = silo_xstrdup("");
        for (size_t i = 0; i < ARRAY_SIZE(wanted_controllers); i++)
                if (word_in(avail, wanted_controllers[i]) && !word_in(enabled, wanted_controllers[i]))
                        silo_buf_printf(&b, "%s+%s", b.len ? " " : "", wanted_controllers[i]);
        if (b.len == 0)
                return 0;
        if (silo_cg_write(parent, "cgroup.subtree_control", b.data, NULL, NULL) < 0) {
                /* one at a time, so that one refused controller does not block the others */
                for (size_t i = 0; i < ARRAY_SIZE(wanted_controllers); i++) {
                        _cleanup_free_ char *one = silo_xasprintf("+%s", wanted_controllers[i]);
                        if (!word_in(b.data, one))
                                continue;
                        if (silo_cg_write(parent, "cgroup.subtree_control", one, NULL, NULL) < 0)
                                silo_debug("cannot enable '%s' in '%s/cgroup.subtree_control'", one, parent);
                }
        }
        silo_buf_free(&b);
        return 0;
}

static int v2_create(struct silo_cgroup *cg, silo_error_t *err)
{
        int r = silo_cg_mkdir_path(cg, &cg->unified, enable_controllers, err);

        if (r < 0)
                return r;
        cg->dirfd = open(cg->unified.dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (cg->dirfd < 0) {
                r = silo_error_set(err, errno, "open '%s'", cg->unified.dir);
                silo_cg_remove_path(cg, &cg->unified, true, NULL);
                return r;
        }
        return 0;
}

static int v2_remove(struct silo_cgroup *cg, bool rollback, silo_error_t *err)
{
        return silo_cg_remove_path(cg, &cg->unified, rollback, err);
}

/* ---------------------------------------------------------------- apply */

struct v2_ctx {
        const char *dir;
        char *controllers; /* the leaf's cgroup.controllers */
};

static int need(struct v2_ctx *c, const char *controller, const char *field, silo_error_t *err)
{
        if (c->controllers && word_in(c->controllers, controller))
                return 0;
        return silo_error_set(err, ENOENT, "%s: the '%s' controller is not enabled for '%s'", field,
                              controller, c->dir);
}

static int apply_memory(struct v2_ctx *c, const struct silo_resources *r, silo_error_t *err)
{
        int64_t limit = norm(r->memory.limit), reservation = norm(r->memory.reservation), swap;
        char buf[32];
        int rc;

        if (r->memory.swappiness != SILO_UNSET)
                silo_warn("/linux/resources/memory/swappiness: not supported on cgroup v2, ignoring");
        if (r->memory.disable_oom_killer == 1)
                silo_warn("/linux/resources/memory/disableOOMKiller: not supported on cgroup v2, ignoring");
        if (norm(r->memory.kernel) || norm(r->memory.kernel_tcp))
                silo_warn(
                    "/linux/resources/memory/kernel: kernel memory limits are not supported on cgroup v2, "
                    "ignoring");
        rc = silo_cgroup_swap_to_v2(limit, r->memory.swap, &swap, err);
        if (rc < 0)
                return rc;
        if (!limit && !reservation && swap == SILO_UNSET)
                return 0;
        rc = need(c, "memory", "/linux/resources/memory", err);
        if (rc < 0)
                return rc;
        if (limit > 0 && r->memory.check_before_update == 1) {
                _cleanup_free_ char *cur = NULL;
                uint64_t u;
                if (silo_cg_read(c->dir, "memory.current", &cur) == 0 && silo_parse_u64(cur, &u) == 0 &&
                    u > (uint64_t)limit)
                        return silo_error_set(err, EBUSY,
                                              "/linux/resources/memory/limit: %" PRId64
                                              " is lower than the current usage %" PRIu64 " of '%s'",
                                              limit, u, c->dir);
        }
        /* swap.max is independent of memory.max on v2: no ordering constraint */
        if (swap != SILO_UNSET) {
                silo_cgroup_fmt_limit(swap, buf, sizeof(buf));
                if (!silo_cg_has(c->dir, "memory.swap.max")) {
                        /* no swap accounting: "unlimited" and "none" are what we have anyway */
                        if (swap != -1 && swap != 0)
                                return silo_error_set(
                                    err, ENOENT,
                                    "/linux/resources/memory/swap: 'memory.swap.max' is not "
                                    "available in '%s' (swap accounting disabled?)",
                                    c->dir);
                } else {
                        rc = silo_cg_write(c->dir, "memory.swap.max", buf, "/linux/resources/memory/swap",
                                           err);
                        if (rc < 0)
                                return rc;
                }
        }
        if (limit) {
                silo_cgroup_fmt_limit(limit, buf, sizeof(buf));
                rc = silo_cg_write(c->dir, "memory.max", buf, "/linux/resources/memory/limit", err);
                if (rc < 0)
                        return rc;
        }
        if (reservation) {
                silo_cgroup_fmt_limit(reservation, buf, sizeof(buf));
                rc = silo_cg_write(c->dir, "memory.low", buf, "/linux/resources/memory/reservation", err);
                if (rc < 0)
                        return rc;
        }
        return 0;
}

static int apply_cpu(struct v2_ctx *c, const struct silo_resources *r, silo_error_t *err)
{
        int64_t shares = norm(r->cpu.shares), quota = norm(r->cpu.quota), period = norm(r->cpu.period);
        bool burst_pending = false;
        int rc;

        if (norm(r->cpu.realtime_runtime) || norm(r->cpu.realtime_period))
                silo_warn(
                    "/linux/resources/cpu/realtimeRuntime: realtime scheduling limits are not supported "
                    "on cgroup v2, ignoring");
        if (!shares && !quota && !period && r->cpu.burst == SILO_UNSET && r->cpu.idle == SILO_UNSET)
                return 0;
        rc = need(c, "cpu", "/linux/resources/cpu", err);
        if (rc < 0)
                return rc;
        if (r->cpu.idle != SILO_UNSET) {
                rc = silo_cg_writef(c->dir, "cpu.idle", "/linux/resources/cpu/idle", err, "%" PRId64,
                                    r->cpu.idle);
                if (rc < 0)
                        return rc;
        }
        if (shares) {
                rc = silo_cg_writef(c->dir, "cpu.weight", "/linux/resources/cpu/shares", err, "%" PRIu64,
                                    silo_cgroup_shares_to_weight((uint64_t)shares));
                if (rc < 0)
                        return rc;
        }
        /* a larger burst can be refused against the old quota: retry after cpu.max */
        if (r->cpu.burst != SILO_UNSET) {
                rc = silo_cg_writef(c->dir, "cpu.max.burst", "/linux/resources/cpu/burst", err, "%" PRId64,
                                    r->cpu.burst);
                if (rc < 0) {
                        if (rc != -EINVAL || !quota)
                                return rc;
                        silo_error_free(err);
                        burst_pending = true;
                }
        }
        if (quota || period) {
                char buf[64];
                /* without a period the kernel keeps the current one (100000 on a new cgroup) */
                if (quota > 0)
                        snprintf(buf, sizeof(buf), "%" PRId64, quota);
                else
                        snprintf(buf, sizeof(buf), "max");
                if (period)
                        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " %" PRId64, period);
                rc = silo_cg_write(c->dir, "cpu.max", buf,
                                   quota ? "/linux/resources/cpu/quota" : "/linux/resources/cpu/period", err);
                if (rc < 0)
                        return rc;
        }
        if (burst_pending) {
                rc = silo_cg_writef(c->dir, "cpu.max.burst", "/linux/resources/cpu/burst", err, "%" PRId64,
                                    r->cpu.burst);
                if (rc < 0)
                        return rc;
        }
        return 0;
}

static int apply_cpuset(struct v2_ctx *c, const struct silo_resources *r, silo_error_t *err)
{
        int rc;

        if (r->cpu.cpus && *r->cpu.cpus) {
                rc = need(c, "cpuset", "/linux/resources/cpu/cpus", err);
                if (rc == 0)
                        rc = silo_cg_write(c->dir, "cpuset.cpus", r->cpu.cpus, "/linux/resources/cpu/cpus",
                                           err);
                if (rc < 0)
                        return rc;
        }
        if (r->cpu.mems && *r->cpu.mems) {
                rc = need(c, "cpuset", "/linux/resources/cpu/mems", err);
                if (rc == 0)
                        rc = silo_cg_write(c->dir, "cpuset.mems", r->cpu.mems, "/linux/resources/cpu/mems",
                                           err);
                if (rc < 0)
                        return rc;
        }
        return 0;
}

static int apply_pids(struct v2_ctx *c, const struct silo_resources *r, silo_error_t *err)
{
        int rc;

        if (r->pids.limit == SILO_UNSET)
                return 0;
        rc = need(c, "pids", "/linux/resources/pids/limit", err);
        if (rc < 0)
                return rc;
        if (r->pids.limit <= 0)
                return silo_cg_write(c->dir, "pids.max", "max", "/linux/resources/pids/limit", err);
        return silo_cg_writef(c->dir, "pids.max", "/linux/resources/pids/limit", err, "%" PRId64,
                              r->pids.limit);
}

static int write_io_max(struct v2_ctx *c, const char *key, const char *name,
                        const struct silo_throttle_device *t, size_t n, silo_error_t *err)
{
        for (size_t i = 0; i < n; i++) {
                char field[96];
                int rc;
                snprintf(field, sizeof(field), "/linux/resources/blockIO/%s/%zu", name, i);
                /* io.max refuses 0 (ERANGE): 0 means no limit, as for v1 */
                if (t[i].rate == 0)
                        rc = silo_cg_writef(c->dir, "io.max", field, err, "%" PRId64 ":%" PRId64 " %s=max",
                                            t[i].major, t[i].minor, key);
                else
                        rc = silo_cg_writef(c->dir, "io.max", field, err,
                                            "%" PRId64 ":%" PRId64 " %s=%" PRIu64, t[i].major, t[i].minor,
                                            key, t[i].rate);
                if (rc < 0)
                        return rc;
        }
        return 0;
}

static int apply_io(struct v2_ctx *c, const struct silo_resources *r, silo_error_t *err)
{
        const typeof(r->block_io) *b = &r->block_io;
        bool bfq;
        int rc;

        if (norm(b->leaf_weight))
                silo_warn("/linux/resources/blockIO/leafWeight: not supported on cgroup v2, ignoring");
        if (!norm(b->weight) && !b->n_weight_device && !b->n_throttle_read_bps && !b->n_throttle_write_bps &&
            !b->n_throttle_read_iops && !b->n_throttle_write_iops)
                return 0;
        rc = need(c, "io", "/linux/resources/blockIO", err);
        if (rc < 0)
                return rc;
        /* BFQ takes the v1 scale (1..1000) in io.bfq.weight; io.weight is 1..10000 */
        bfq = silo_cg_has(c->dir, "io.bfq.weight");
        if (norm(b->weight)) {
                if (bfq)
                        rc = silo_cg_writef(c->dir, "io.bfq.weight", "/linux/resources/blockIO/weight", err,
                                            "%" PRId64, b->weight);
                else
                        rc = silo_cg_writef(c->dir, "io.weight", "/linux/resources/blockIO/weight", err,
                                            "%" PRIu64, silo_cgroup_blkio_to_io_weight((uint64_t)b->weight));
                if (rc < 0)
                        return rc;
        }
        for (size_t i = 0; i < b->n_weight_device; i++) {
                const struct silo_weight_device *w = &b->weight_device[i];
                char field[96];
                if (w->leaf_weight != SILO_UNSET)
                        silo_warn("/linux/resources/blockIO/weightDevice/%zu/leafWeight: not supported on "
                                  "cgroup v2, ignoring",
                                  i);
                if (w->weight == SILO_UNSET)
                        continue;
                snprintf(field, sizeof(field), "/linux/resources/blockIO/weightDevice/%zu/weight", i);
                if (bfq)
                        rc =
                            silo_cg_writef(c->dir, "io.bfq.weight", field, err,
                                           "%" PRId64 ":%" PRId64 " %" PRId64, w->major, w->minor, w->weight);
                else
                        rc = silo_cg_writef(c->dir, "io.weight", field, err,
                                            "%" PRId64 ":%" PRId64 " %" PRIu64, w->major, w->minor,
                                            silo_cgroup_blkio_to_io_weight((uint64_t)w->weight));
                if (rc < 0)
                        return rc;
        }
        rc = write_io_max(c, "rbps", "throttleReadBpsDevice", b->throttle_read_bps, b->n_throttle_read_bps,
                          err);
        if (rc == 0)
                rc = write_io_max(c, "wbps", "throttleWriteBpsDevice", b->throttle_write_bps,
                                  b->n_throttle_write_bps, err);
        if (rc == 0)
                rc = write_io_max(c, "riops", "throttleReadIOPSDevice", b->throttle_read_iops,
                                  b->n_throttle_read_iops, err);
        if (rc == 0)
                rc = write_io_max(c, "wiops", "throttleWriteIOPSDevice", b->throttle_write_iops,
                                  b->n_throttle_write_iops, err);
        return rc;
}

static int apply_hugetlb(struct v2_ctx *c, const struct silo_resources *r, silo_error_t *err)
{
        for (size_t i = 0; i < r->n_hugepage_limits; i++) {
                const struct silo_hugepage_limit *h = &r->hugepage_limits[i];
                _cleanup_free_ char *file = NULL, *rsvd = NULL;
                char field[64];
                int rc;

                snprintf(field, sizeof(field), "/linux/resources/hugepageLimits/%zu", i);
                if (h->page_size == NULL || *h->page_size == '\0' || strchr(h->page_size, '/'))
                        return silo_error_set(err, EINVAL, "%s/pageSize: invalid page size '%s'", field,
                                              h->page_size ? h->page_size : "");
                rc = need(c, "hugetlb", field, err);
                if (rc < 0)
                        return rc;
                file = silo_xasprintf("hugetlb.%s.max", h->page_size);
                rc = silo_cg_writef(c->dir, file, field, err, "%" PRIu64, h->limit);
                if (rc < 0)
                        return rc;
                rsvd = silo_xasprintf("hugetlb.%s.rsvd.max", h->page_size);
                if (silo_cg_has(c->dir, rsvd)) {
                        rc = silo_cg_writef(c->dir, rsvd, field, err, "%" PRIu64, h->limit);
                        if (rc < 0)
                                return rc;
                }
        }
        return 0;
}

static int apply_rdma(struct v2_ctx *c, const struct silo_resources *r, silo_error_t *err)
{
        for (size_t i = 0; i < r->n_rdma; i++) {
                const struct silo_rdma_limit *l = &r->rdma[i];
                struct silo_buf b = {0};
                char field[64];
                int rc;

                if (l->hca_handles == SILO_UNSET && l->hca_objects == SILO_UNSET)
                        continue;
                snprintf(field, sizeof(field), "/linux/resources/rdma/%s", l->device ? l->device : "");
                rc = need(c, "rdma", field, err);
                if (rc < 0)
                        return rc;
                silo_buf_puts(&b, l->device ? l->device : "");
                if (l->hca_handles != SILO_UNSET)
                        silo_buf_printf(&b, " hca_handle=%" PRId64, l->hca_handles);
                if (l->hca_objects != SILO_UNSET)
                        silo_buf_printf(&b, " hca_object=%" PRId64, l->hca_objects);
                rc = silo_cg_write(c->dir, "rdma.max", b.data, field, err);
                silo_buf_free(&b);
                if (rc < 0)
                        return rc;
        }
        return 0;
}

/* Device rules: an eBPF program on pure v2 (cgroup-v2-devices.c).  No rules (e.g. `update`
 * without them) keeps the program that is attached, as v1 keeps its devices.list. */
static int apply_devices(struct silo_cgroup *cg, const struct silo_resources *r, silo_error_t *err)
{
        if (r->n_devices == 0 || cg->mode != SILO_CGROUP_V2)
                return 0;
        return silo_cgroup_devices_apply(cg->unified.dir, r->devices, r->n_devices, err);
}

static void warn_network(const struct silo_resources *r)
{
        if (r->network.class_id != SILO_UNSET || r->network.n_priorities)
                silo_warn("/linux/resources/network: net_cls/net_prio do not exist on cgroup v2, ignoring");
}

/* cgroup core files a container config may tune; the others (procs, threads, subtree_control,
 * kill, freeze, type) would let a config move or kill processes or change the tree. */
static const char *const allowed_core_files[] = {"cgroup.max.depth", "cgroup.max.descendants"};

static int apply_unified(struct v2_ctx *c, const struct silo_resources *r, silo_error_t *err)
{
        for (size_t i = 0; i < r->n_unified; i++) {
                const char *key = r->unified[i].key, *value = r->unified[i].value ? r->unified[i].value : "";
                const char *dot = key ? strchr(key, '.') : NULL;
                _cleanup_free_ char *ctrl = NULL, *copy = NULL;
                bool core_ok = false;

                if (dot == NULL || dot == key || dot[1] == '\0' || strchr(key, '/'))
                        return silo_error_set(err, EINVAL,
                                              "/linux/resources/unified/%s: the key must be "
                                              "'<controller>.<file>' without '/'",
                                              key ? key : "");
                ctrl = silo_xasprintf("%.*s", (int)(dot - key), key);
                if (strcmp(ctrl, "cgroup") == 0) {
                        for (size_t k = 0; k < ARRAY_SIZE(allowed_core_files); k++)
                                core_ok = core_ok || strcmp(key, allowed_core_files[k]) == 0;
                        if (!core_ok)
                                return silo_error_set(err, EPERM,
                                                      "/linux/resources/unified/%s: may not be set", key);
                } else if (c->controllers == NULL || !word_in(c->controllers, ctrl)) {
                        return silo_error_set(err, ENOENT,
                                              "/linux/resources/unified/%s: the '%s' controller is not "
                                              "enabled for '%s'",
                                              key, ctrl, c->dir);
                }
                /* multi-line values (io.max with several devices) are one write per line */
                copy = silo_xstrdup(value);
                for (char *line = copy, *next; line; line = next) {
                        _cleanup_free_ char *field = silo_xasprintf("/linux/resources/unified/%s", key);
                        next = strchr(line, '\n');
                        if (next)
                                *next++ = '\0';
                        if (*line == '\0' && (next || line != copy))
                                continue;
                        int rc = silo_cg_write(c->dir, key, line, field, err);
                        if (rc < 0)
                                return rc;
                }
        }
        return 0;
}

static int v2_apply(struct silo_cgroup *cg, const struct silo_resources *r, silo_error_t *err)
{
        int (*const steps[])(struct v2_ctx *, const struct silo_resources *, silo_error_t *) = {
            apply_cpuset, apply_memory,  apply_cpu,  apply_pids,
            apply_io,     apply_hugetlb, apply_rdma, apply_unified,
        };
        struct v2_ctx c = {.dir = cg->unified.dir};
        int rc = 0;

        if (silo_cg_read(c.dir, "cgroup.controllers", &c.controllers) < 0)
                c.controllers = NULL;
        warn_network(r);
        for (size_t i = 0; i < ARRAY_SIZE(steps) && rc == 0; i++)
                rc = steps[i](&c, r, err);
        if (rc == 0)
                rc = apply_devices(cg, r, err);
        free(c.controllers);
        return rc;
}

/* ---------------------------------------------------------------- processes, freezer */

static int v2_enter(struct silo_cgroup *cg, pid_t pid, silo_error_t *err)
{
        return silo_cg_enter_dir(cg->unified.dir, pid, err);
}

static int v2_pids(struct silo_cgroup *cg, struct silo_pidset *set, silo_error_t *err)
{
        return silo_cg_read_procs_recursive(cg->unified.dir, set, err);
}

static int v2_kill(struct silo_cgroup *cg, silo_error_t *err)
{
        /* cgroup.kill: 5.14+, and only in non-root cgroups */
        if (!silo_cg_has(cg->unified.dir, "cgroup.kill"))
                return -EOPNOTSUPP;
        return silo_cg_write(cg->unified.dir, "cgroup.kill", "1", NULL, err);
}

static bool v2_has_freezer(struct silo_cgroup *cg)
{
        return silo_cg_has(cg->unified.dir, "cgroup.freeze"); /* 5.2+ */
}

static int events_frozen(const char *dir)
{
        _cleanup_free_ char *ev = NULL;
        int rc = silo_cg_read(dir, "cgroup.events", &ev);
        const char *p;

        if (rc < 0)
                return rc;
        p = strstr(ev, "frozen ");
        return p && p[7] == '1';
}

static int v2_freeze(struct silo_cgroup *cg, bool frozen, silo_error_t *err)
{
        const char *dir = cg->unified.dir;
        uint64_t deadline = silo_cg_now_ms() + FREEZE_TIMEOUT_MS;
        int rc = silo_cg_write(dir, "cgroup.freeze", frozen ? "1" : "0", NULL, err);

        if (rc < 0)
                return rc;
        for (unsigned i = 0;; i++) {
                rc = events_frozen(dir);
                if (rc < 0)
                        return silo_error_set(err, -rc, "read 'cgroup.events' in '%s'", dir);
                if (rc == (int)frozen)
                        return 0;
                if (silo_cg_now_ms() >= deadline) {
                        if (frozen)
                                silo_cg_write(dir, "cgroup.freeze", "0", NULL, NULL);
                        return silo_error_set(err, ETIMEDOUT, "%s '%s': timed out",
                                              frozen ? "freezing" : "thawing", dir);
                }
                silo_cg_sleep_ms(i < 10 ? 1 : 10);
        }
}

static int v2_is_frozen(struct silo_cgroup *cg)
{
        _cleanup_free_ char *v = NULL;
        int rc = silo_cg_read(cg->unified.dir, "cgroup.freeze", &v);

        if (rc < 0)
                return rc;
        return strcmp(v, "1") == 0;
}

const struct silo_cgroup_driver silo_cgroup_v2_driver = {
    .name = "v2",
    .create = v2_create,
    .apply = v2_apply,
    .enter = v2_enter,
    .pids = v2_pids,
    .kill = v2_kill,
    .freeze = v2_freeze,
    .has_freezer = v2_has_freezer,
    .is_frozen = v2_is_frozen,
    .remove = v2_remove,
};
