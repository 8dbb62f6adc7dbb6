/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgroups: statistics for `silo events` and OOM notification.
 *
 * The JSON is the "data" object of a runc stats event (runc types/events.go), which containerd
 * (go-runc) decodes.  Field names, order and omission follow what Go's encoding/json makes of
 * those structs: "omitempty" on a number or a list drops it when zero or empty, but never drops a
 * nested struct; so cpu.usage.kernel/user, every memory entry's limit/failcnt, the cpuset flags
 * and the empty pids/blkio/hugetlb objects are always there.  Map keys (memory.raw, hugetlb) come
 * out sorted, as Go sorts them.  Every number is a uint64 written as digits (yajl_gen_integer is
 * signed; a v2 "max" limit is 2^64-1).
 *
 * Invariants:
 *   - Read only: nothing here writes to a cgroup except v1 cgroup.event_control (registering an
 *     eventfd, which the kernel drops when the eventfd is closed).
 *   - Each controller's numbers come from its v1 hierarchy when one is mounted, else from the
 *     unified directory.  That covers v1, hybrid (v1 controllers; a controller that only the
 *     unified half offers, such as hugetlb on some hosts, is read there) and v2 alike.
 *   - A missing file means a missing controller or kernel feature and is skipped; a missing
 *     cgroup is an error.  Malformed lines are skipped (debug log): a stats event must not fail
 *     because a newer kernel added a line format.
 *   - PSI is reported only for numbers that come from the unified tree, as runc's fs2 does.
 */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include "cgroup-internal.h"
#include "../runtime/log.h"
#include "../runtime/util.h"

#define NS_PER_SEC 1000000000ULL

/* ---------------------------------------------------------------- small containers */

struct u64vec {
        uint64_t *v;
        size_t n;
};

static void u64vec_push(struct u64vec *a, uint64_t x)
{
        a->v = silo_xrealloc(a->v, (a->n + 1) * sizeof(*a->v));
        a->v[a->n++] = x;
}

struct kv {
        char *key;
        uint64_t value;
};

struct kvvec {
        struct kv *v;
        size_t n;
};

static void kvvec_push(struct kvvec *a, const char *key, uint64_t value)
{
        a->v = silo_xrealloc(a->v, (a->n + 1) * sizeof(*a->v));
        a->v[a->n++] = (struct kv){.key = silo_xstrdup(key), .value = value};
}

static void kvvec_free(struct kvvec *a)
{
        for (size_t i = 0; i < a->n; i++)
                free(a->v[i].key);
        free(a->v);
}

static int kv_cmp(const void *a, const void *b)
{
        return strcmp(((const struct kv *)a)->key, ((const struct kv *)b)->key);
}

static const struct kv *kvvec_get(const struct kvvec *a, const char *key)
{
        for (size_t i = 0; i < a->n; i++)
                if (strcmp(a->v[i].key, key) == 0)
                        return &a->v[i];
        return NULL;
}

struct blkio_entry {
        uint64_t major, minor, value;
        char op[16];
};

struct blkio_list {
        struct blkio_entry *v;
        size_t n;
};

static void blkio_push(struct blkio_list *l, uint64_t major, uint64_t minor, const char *op, uint64_t value)
{
        l->v = silo_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
        l->v[l->n] = (struct blkio_entry){.major = major, .minor = minor, .value = value};
        snprintf(l->v[l->n].op, sizeof(l->v[l->n].op), "%s", op);
        l->n++;
}

/* One line of a PSI file; the averages are kept as the kernel's decimal text ("0.00"). */
struct psi_line {
        char avg[3][24];
        uint64_t total;
};

struct psi {
        bool present;
        struct psi_line some, full;
};

/* ---------------------------------------------------------------- the numbers */

struct mem_entry {
        uint64_t limit, usage, max, failcnt;
};

struct hugetlb_entry {
        char size[32];
        uint64_t usage, max, failcnt;
};

struct stats {
        struct {
                uint64_t total, kernel, user, periods, throttled_periods, throttled_time;
                struct u64vec percpu, percpu_kernel, percpu_user;
                struct psi psi;
        } cpu;
        struct {
                struct u64vec cpus, mems;
                uint64_t flags[8]; /* in the order of cpuset_flag_keys */
                int64_t relax_domain_level;
        } cpuset;
        struct {
                uint64_t cache;
                struct mem_entry usage, swap, kernel, kernel_tcp;
                struct kvvec raw;
                struct psi psi;
        } memory;
        struct {
                uint64_t current, limit;
        } pids;
        struct {
                struct blkio_list service_bytes, serviced;
                struct psi psi;
        } blkio;
        struct hugetlb_entry *hugetlb;
        size_t n_hugetlb;
};

static void stats_free(struct stats *s)
{
        free(s->cpu.percpu.v);
        free(s->cpu.percpu_kernel.v);
        free(s->cpu.percpu_user.v);
        free(s->cpuset.cpus.v);
        free(s->cpuset.mems.v);
        kvvec_free(&s->memory.raw);
        free(s->blkio.service_bytes.v);
        free(s->blkio.serviced.v);
        free(s->hugetlb);
}

/* ---------------------------------------------------------------- reading files */

/* 1 = read, 0 = absent (no such controller/feature: ENOENT; the cgroup removed under us: ENODEV;
 * PSI disabled: EOPNOTSUPP), < 0 = error with err set. */
static int read_cg_file(const char *dir, const char *file, char **ret, silo_error_t *err)
{
        int r;

        *ret = NULL;
        if (dir == NULL)
                return 0;
        r = silo_cg_read(dir, file, ret);
        if (r == -ENOENT || r == -ENODEV || r == -EOPNOTSUPP)
                return 0;
        if (r < 0)
                return silo_error_set(err, -r, "read '%s' in '%s'", file, dir);
        return 1;
}

/* "max" (v2 and pids.max) is 2^64-1, as runc's GetCgroupParamUint reads it. */
static int parse_u64_or_max(const char *s, uint64_t *ret)
{
        if (strcmp(s, "max") == 0) {
                *ret = UINT64_MAX;
                return 0;
        }
        return silo_parse_u64(s, ret);
}

/* Like read_cg_file, for a file holding one number.  Unparsable content counts as absent. */
static int read_u64(const char *dir, const char *file, uint64_t *ret, silo_error_t *err)
{
        _cleanup_free_ char *s = NULL;
        int r = read_cg_file(dir, file, &s, err);

        if (r <= 0)
                return r;
        if (parse_u64_or_max(s, ret) < 0) {
                silo_debug("stats: '%s/%s' holds '%s', not a number, ignoring", dir, file, s);
                return 0;
        }
        return 1;
}

/* Split "key value" (any run of blanks between them); false for a line of another shape. */
static bool split_kv(char *line, char **key, char **value)
{
        char *sep = line + strcspn(line, " \t");

        if (sep == line || *sep == '\0')
                return false;
        *sep++ = '\0';
        sep += strspn(sep, " \t");
        *key = line;
        *value = sep;
        return *sep != '\0';
}

/* Every "key number" line of a flat keyed file (memory.stat, cpu.stat, memory.events). */
static int read_kv_file(const char *dir, const char *file, struct kvvec *out, silo_error_t *err)
{
        _cleanup_free_ char *buf = NULL;
        char *p, *line, *key, *value;
        int r = read_cg_file(dir, file, &buf, err);

        if (r <= 0)
                return r;
        p = buf;
        while ((line = strsep(&p, "\n")) != NULL) {
                uint64_t v;
                if (*line == '\0')
                        continue;
                if (!split_kv(line, &key, &value) || parse_u64_or_max(value, &v) < 0) {
                        silo_debug("stats: unexpected line in '%s/%s', ignoring", dir, file);
                        continue;
                }
                kvvec_push(out, key, v);
        }
        return 1;
}

static uint64_t kv_value(const struct kvvec *a, const char *key)
{
        const struct kv *e = kvvec_get(a, key);
        return e ? e->value : 0;
}

/* Blank-separated numbers (cpuacct.usage_percpu*). */
static int read_u64_list(const char *dir, const char *file, struct u64vec *out, silo_error_t *err)
{
        _cleanup_free_ char *buf = NULL;
        char *p, *tok;
        int r = read_cg_file(dir, file, &buf, err);

        if (r <= 0)
                return r;
        p = buf;
        while ((tok = strsep(&p, " \t\n")) != NULL) {
                uint64_t v;
                if (*tok == '\0')
                        continue;
                if (silo_parse_u64(tok, &v) < 0) {
                        silo_debug("stats: '%s' in '%s/%s' is not a number, ignoring", tok, dir, file);
                        continue;
                }
                u64vec_push(out, v);
        }
        return 1;
}

/* A cpuset list ("0-3,8,10-11") expanded; stops at the first malformed element. */
static void expand_cpu_list(const char *s, struct u64vec *out)
{
        _cleanup_free_ char *copy = silo_xstrdup(s);
        char *p = copy, *tok;

        while ((tok = strsep(&p, ",\n")) != NULL) {
                char *dash;
                uint64_t a, b;

                if (*tok == '\0')
                        continue;
                dash = strchr(tok, '-');
                if (dash)
                        *dash++ = '\0';
                if (silo_parse_u64(tok, &a) < 0 || (dash ? silo_parse_u64(dash, &b) : (b = a, 0)) < 0 ||
                    b < a || b - a > 65535) {
                        silo_debug("stats: malformed cpuset list '%s', ignoring the rest", s);
                        return;
                }
                for (uint64_t i = a; i <= b; i++)
                        u64vec_push(out, i);
        }
}

/* cpu.pressure & co: "some avg10=0.00 avg60=0.00 avg300=0.00 total=0", then a "full" line. */
static int read_psi(const char *dir, const char *file, struct psi *out, silo_error_t *err)
{
        static const char *const names[] = {"avg10=", "avg60=", "avg300="};
        _cleanup_free_ char *buf = NULL;
        char *p, *line;
        int r = read_cg_file(dir, file, &buf, err);

        if (r <= 0)
                return r;
        p = buf;
        while ((line = strsep(&p, "\n")) != NULL) {
                struct psi_line *pl;
                char *tok, *q;

                if (silo_str_has_prefix(line, "some "))
                        pl = &out->some;
                else if (silo_str_has_prefix(line, "full "))
                        pl = &out->full;
                else
                        continue;
                q = line + 5;
                while ((tok = strsep(&q, " ")) != NULL) {
                        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                                const char *v = tok + strlen(names[i]);
                                /* keep only what is a plain decimal, so the JSON stays valid */
                                if (silo_str_has_prefix(tok, names[i]) && *v &&
                                    strspn(v, "0123456789.") == strlen(v) && v[0] != '.' &&
                                    strlen(v) < sizeof(pl->avg[i]))
                                        snprintf(pl->avg[i], sizeof(pl->avg[i]), "%s", v);
                        }
                        if (silo_str_has_prefix(tok, "total="))
                                (void)silo_parse_u64(tok + 6, &pl->total);
                }
        }
        out->present = true;
        return 1;
}

/* ---------------------------------------------------------------- where each controller lives */

static const char *v1_dir(struct silo_cgroup *cg, const char *controller)
{
        for (size_t i = 0; i < cg->n_v1; i++)
                for (char **c = cg->v1[i].controllers; c && *c; c++)
                        if (strcmp(*c, controller) == 0)
                                return cg->v1[i].dir;
        return NULL;
}

static const char *unified_dir(struct silo_cgroup *cg)
{
        return cg->has_unified ? cg->unified.dir : NULL;
}

static bool cgroup_exists(struct silo_cgroup *cg)
{
        for (size_t i = 0; i < cg->n_v1; i++)
                if (access(cg->v1[i].dir, F_OK) == 0)
                        return true;
        return cg->has_unified && access(cg->unified.dir, F_OK) == 0;
}

/* ---------------------------------------------------------------- collecting */

/* cpuacct.stat is in USER_HZ ticks; runc converts with *1e9/CLK_TCK.  Done in two steps so that
 * years of CPU time do not overflow. */
static uint64_t ticks_to_ns(uint64_t ticks)
{
        long hz = sysconf(_SC_CLK_TCK);
        uint64_t tck = hz > 0 ? (uint64_t)hz : 100;
        return ticks / tck * NS_PER_SEC + ticks % tck * NS_PER_SEC / tck;
}

static int stat_cpu(struct silo_cgroup *cg, struct stats *s, silo_error_t *err)
{
        const char *acct = v1_dir(cg, "cpuacct"), *cpu = v1_dir(cg, "cpu"), *u = unified_dir(cg);
        struct kvvec kv = {0};
        int r = 0;

        if (acct) {
                if ((r = read_u64(acct, "cpuacct.usage", &s->cpu.total, err)) < 0 ||
                    (r = read_u64_list(acct, "cpuacct.usage_percpu", &s->cpu.percpu, err)) < 0 ||
                    (r = read_u64_list(acct, "cpuacct.usage_percpu_user", &s->cpu.percpu_user, err)) < 0 ||
                    (r = read_u64_list(acct, "cpuacct.usage_percpu_sys", &s->cpu.percpu_kernel, err)) < 0 ||
                    (r = read_kv_file(acct, "cpuacct.stat", &kv, err)) < 0)
                        goto out;
                s->cpu.user = ticks_to_ns(kv_value(&kv, "user"));
                s->cpu.kernel = ticks_to_ns(kv_value(&kv, "system"));
        } else if (u) {
                /* cpu.stat has the usage lines in every v2 cgroup, even without the cpu controller */
                if ((r = read_kv_file(u, "cpu.stat", &kv, err)) < 0)
                        goto out;
                s->cpu.total = kv_value(&kv, "usage_usec") * 1000;
                s->cpu.user = kv_value(&kv, "user_usec") * 1000;
                s->cpu.kernel = kv_value(&kv, "system_usec") * 1000;
                if ((r = read_psi(u, "cpu.pressure", &s->cpu.psi, err)) < 0)
                        goto out;
        }
        kvvec_free(&kv);
        kv = (struct kvvec){0};

        if (cpu) {
                if ((r = read_kv_file(cpu, "cpu.stat", &kv, err)) < 0)
                        goto out;
                s->cpu.throttled_time = kv_value(&kv, "throttled_time");
        } else if (u) {
                if ((r = read_kv_file(u, "cpu.stat", &kv, err)) < 0)
                        goto out;
                s->cpu.throttled_time = kv_value(&kv, "throttled_usec") * 1000;
        }
        s->cpu.periods = kv_value(&kv, "nr_periods");
        s->cpu.throttled_periods = kv_value(&kv, "nr_throttled");
        r = 0;
out:
        kvvec_free(&kv);
        return r;
}

/* cpuset.<key>, in the order of runc's CPUSet struct */
static const char *const cpuset_flag_keys[] = {
    "cpu_exclusive",      "mem_hardwall",       "mem_exclusive",   "memory_migrate",
    "memory_spread_page", "memory_spread_slab", "memory_pressure", "sched_load_balance",
};

/* v1 only: runc's fs2 reports no cpuset statistics. */
static int stat_cpuset(struct silo_cgroup *cg, struct stats *s, silo_error_t *err)
{
        const char *d = v1_dir(cg, "cpuset");
        _cleanup_free_ char *cpus = NULL, *mems = NULL, *level = NULL;
        int r;

        if (d == NULL)
                return 0;
        if ((r = read_cg_file(d, "cpuset.cpus", &cpus, err)) < 0 ||
            (r = read_cg_file(d, "cpuset.mems", &mems, err)) < 0 ||
            (r = read_cg_file(d, "cpuset.sched_relax_domain_level", &level, err)) < 0)
                return r;
        if (cpus)
                expand_cpu_list(cpus, &s->cpuset.cpus);
        if (mems)
                expand_cpu_list(mems, &s->cpuset.mems);
        if (level && silo_parse_i64(level, &s->cpuset.relax_domain_level) < 0)
                s->cpuset.relax_domain_level = 0;
        for (size_t i = 0; i < ARRAY_SIZE(cpuset_flag_keys); i++) {
                _cleanup_free_ char *file = silo_xasprintf("cpuset.%s", cpuset_flag_keys[i]);
                if ((r = read_u64(d, file, &s->cpuset.flags[i], err)) < 0)
                        return r;
        }
        return 0;
}

/* v1 <prefix>.usage_in_bytes, .limit_in_bytes, .max_usage_in_bytes, .failcnt */
static int v1_mem_entry(const char *d, const char *prefix, struct mem_entry *e, silo_error_t *err)
{
        static const char *const suffix[] = {"usage_in_bytes", "limit_in_bytes", "max_usage_in_bytes",
                                             "failcnt"};
        uint64_t *dst[] = {&e->usage, &e->limit, &e->max, &e->failcnt};

        for (size_t i = 0; i < ARRAY_SIZE(suffix); i++) {
                _cleanup_free_ char *file = silo_xasprintf("%s.%s", prefix, suffix[i]);
                int r = read_u64(d, file, dst[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* v2 <prefix>.current, .max, .peak (memory.peak: 5.19, memory.swap.peak: 6.5) */
static int v2_mem_entry(const char *d, const char *prefix, struct mem_entry *e, silo_error_t *err)
{
        _cleanup_free_ char *cur = silo_xasprintf("%s.current", prefix);
        _cleanup_free_ char *max = silo_xasprintf("%s.max", prefix);
        _cleanup_free_ char *peak = silo_xasprintf("%s.peak", prefix);
        int r;

        if ((r = read_u64(d, cur, &e->usage, err)) <= 0)
                return r; /* no such controller, or no swap accounting */
        if ((r = read_u64(d, max, &e->limit, err)) < 0 || (r = read_u64(d, peak, &e->max, err)) < 0)
                return r;
        return 1;
}

static int stat_memory(struct silo_cgroup *cg, struct stats *s, silo_error_t *err)
{
        const char *d = v1_dir(cg, "memory"), *u = unified_dir(cg);
        struct mem_entry swap_only = {0};
        int r;

        if (d) {
                if ((r = read_kv_file(d, "memory.stat", &s->memory.raw, err)) < 0 ||
                    (r = v1_mem_entry(d, "memory", &s->memory.usage, err)) < 0 ||
                    (r = v1_mem_entry(d, "memory.memsw", &s->memory.swap, err)) < 0 ||
                    (r = v1_mem_entry(d, "memory.kmem", &s->memory.kernel, err)) < 0 ||
                    (r = v1_mem_entry(d, "memory.kmem.tcp", &s->memory.kernel_tcp, err)) < 0)
                        return r;
                s->memory.cache = kv_value(&s->memory.raw, "cache");
                return 0;
        }
        if (u == NULL || !silo_cg_has(u, "memory.current"))
                return 0; /* no memory controller in the unified tree (or the root cgroup) */
        if ((r = read_kv_file(u, "memory.stat", &s->memory.raw, err)) < 0 ||
            (r = v2_mem_entry(u, "memory", &s->memory.usage, err)) < 0 ||
            (r = v2_mem_entry(u, "memory.swap", &swap_only, err)) < 0 ||
            (r = read_psi(u, "memory.pressure", &s->memory.psi, err)) < 0)
                return r;
        s->memory.cache = kv_value(&s->memory.raw, "file");
        /* v1 compatibility (runc fs2): swap is reported as memory+swap, its peak not at all */
        s->memory.swap.usage = swap_only.usage + s->memory.usage.usage;
        s->memory.swap.limit = swap_only.limit;
        if (swap_only.limit != UINT64_MAX)
                s->memory.swap.limit = swap_only.limit > UINT64_MAX - s->memory.usage.limit
                                           ? UINT64_MAX
                                           : swap_only.limit + s->memory.usage.limit;
        return 0;
}

static int stat_pids(struct silo_cgroup *cg, struct stats *s, silo_error_t *err)
{
        const char *d = v1_dir(cg, "pids");
        int r;

        if (d == NULL)
                d = unified_dir(cg);
        if ((r = read_u64(d, "pids.current", &s->pids.current, err)) < 0 ||
            (r = read_u64(d, "pids.max", &s->pids.limit, err)) < 0)
                return r;
        if (s->pids.limit == UINT64_MAX)
                s->pids.limit = 0; /* runc: "no limit" is 0 */
        return 0;
}

/* v1 blkio file: "8:0 Read 4096" lines and a final "Total 4096". 1 when it had entries. */
static int read_blkio_v1(const char *d, const char *file, struct blkio_list *out, silo_error_t *err)
{
        _cleanup_free_ char *buf = NULL;
        char *p, *line;
        int r = read_cg_file(d, file, &buf, err);

        if (r <= 0)
                return r;
        p = buf;
        while ((line = strsep(&p, "\n")) != NULL) {
                unsigned long long major, minor, value;
                char op[16];

                if (*line == '\0' || silo_str_has_prefix(line, "Total "))
                        continue;
                if (sscanf(line, "%llu:%llu %15s %llu", &major, &minor, op, &value) != 4) {
                        silo_debug("stats: unexpected line '%s' in '%s/%s', ignoring", line, d, file);
                        continue;
                }
                blkio_push(out, major, minor, op, value);
        }
        return out->n > 0;
}

static int stat_blkio_v1(const char *d, struct stats *s, silo_error_t *err)
{
        /* BFQ's own counters when the device uses BFQ, else the throttle layer's, which sees
         * every bio; the recursive files when the kernel has them (runc's order, minus CFQ,
         * which is gone since 5.0). */
        static const char *const pairs[][2] = {
            {"blkio.bfq.io_service_bytes_recursive", "blkio.bfq.io_serviced_recursive"},
            {"blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_serviced_recursive"},
            {"blkio.throttle.io_service_bytes", "blkio.throttle.io_serviced"},
        };

        for (size_t i = 0; i < ARRAY_SIZE(pairs); i++) {
                int r1, r2;

                r1 = read_blkio_v1(d, pairs[i][0], &s->blkio.service_bytes, err);
                if (r1 < 0)
                        return r1;
                r2 = read_blkio_v1(d, pairs[i][1], &s->blkio.serviced, err);
                if (r2 < 0)
                        return r2;
                if (r1 > 0 || r2 > 0)
                        return 0;
        }
        return 0;
}

/* v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" */
static int stat_io_v2(const char *u, struct stats *s, silo_error_t *err)
{
        _cleanup_free_ char *buf = NULL;
        char *p, *line;
        int r = read_cg_file(u, "io.stat", &buf, err);

        if (r <= 0)
                return r;
        p = buf;
        while ((line = strsep(&p, "\n")) != NULL) {
                unsigned long long major, minor;
                char *tok, *q = line;
                int n = 0;

                if (*line == '\0')
                        continue;
                if (sscanf(line, "%llu:%llu%n", &major, &minor, &n) != 2 || n == 0) {
                        silo_debug("stats: unexpected line '%s' in '%s/io.stat', ignoring", line, u);
                        continue;
                }
                q = line + n;
                while ((tok = strsep(&q, " ")) != NULL) {
                        char *eq = strchr(tok, '=');
                        uint64_t v;

                        if (eq == NULL)
                                continue;
                        *eq = '\0';
                        if (silo_parse_u64(eq + 1, &v) < 0)
                                continue;
                        if (strcmp(tok, "rbytes") == 0)
                                blkio_push(&s->blkio.service_bytes, major, minor, "Read", v);
                        else if (strcmp(tok, "wbytes") == 0)
                                blkio_push(&s->blkio.service_bytes, major, minor, "Write", v);
                        else if (strcmp(tok, "rios") == 0)
                                blkio_push(&s->blkio.serviced, major, minor, "Read", v);
                        else if (strcmp(tok, "wios") == 0)
                                blkio_push(&s->blkio.serviced, major, minor, "Write", v);
                }
        }
        return read_psi(u, "io.pressure", &s->blkio.psi, err);
}

static int stat_blkio(struct silo_cgroup *cg, struct stats *s, silo_error_t *err)
{
        const char *d = v1_dir(cg, "blkio"), *u = unified_dir(cg);

        if (d)
                return stat_blkio_v1(d, s, err);
        if (u && silo_cg_has(u, "io.stat"))
                return stat_io_v2(u, s, err);
        return 0;
}

static int hugetlb_cmp(const void *a, const void *b)
{
        return strcmp(((const struct hugetlb_entry *)a)->size, ((const struct hugetlb_entry *)b)->size);
}

/* The sizes are taken from the directory ("hugetlb.2MB.usage_in_bytes" / "hugetlb.2MB.current"):
 * exactly what this kernel accounts, in its own naming. */
static int stat_hugetlb(struct silo_cgroup *cg, struct stats *s, silo_error_t *err)
{
        const char *d = v1_dir(cg, "hugetlb");
        bool v1 = d != NULL;
        const char *marker = v1 ? "usage_in_bytes" : "current";
        _cleanup_closedir_ DIR *dir = NULL;
        struct dirent *de;

        if (d == NULL)
                d = unified_dir(cg);
        if (d == NULL || (dir = opendir(d)) == NULL)
                return 0;
        while ((de = readdir(dir)) != NULL) {
                const char *size = de->d_name + strlen("hugetlb."), *dot;
                struct hugetlb_entry e = {0};
                int r;

                if (!silo_str_has_prefix(de->d_name, "hugetlb.") || (dot = strchr(size, '.')) == NULL ||
                    strcmp(dot + 1, marker) != 0 || (size_t)(dot - size) >= sizeof(e.size))
                        continue;
                snprintf(e.size, sizeof(e.size), "%.*s", (int)(dot - size), size);
                /* runc prefers the reservation counters (5.7+), which also count reserved pages */
                if (v1) {
                        static const char *const sfx[] = {"usage_in_bytes", "max_usage_in_bytes", "failcnt"};
                        uint64_t *dst[] = {&e.usage, &e.max, &e.failcnt};
                        for (size_t i = 0; i < ARRAY_SIZE(sfx); i++) {
                                _cleanup_free_ char *rsvd =
                                    silo_xasprintf("hugetlb.%s.rsvd.%s", e.size, sfx[i]);
                                _cleanup_free_ char *plain = silo_xasprintf("hugetlb.%s.%s", e.size, sfx[i]);
                                r = read_u64(d, rsvd, dst[i], err);
                                if (r == 0)
                                        r = read_u64(d, plain, dst[i], err);
                                if (r < 0)
                                        return r;
                        }
                } else {
                        _cleanup_free_ char *rsvd = silo_xasprintf("hugetlb.%s.rsvd.current", e.size);
                        _cleanup_free_ char *plain = silo_xasprintf("hugetlb.%s.current", e.size);
                        _cleanup_free_ char *events = silo_xasprintf("hugetlb.%s.events", e.size);
                        struct kvvec ev = {0};

                        r = read_u64(d, rsvd, &e.usage, err);
                        if (r == 0)
                                r = read_u64(d, plain, &e.usage, err);
                        if (r >= 0)
                                r = read_kv_file(d, events, &ev, err);
                        e.failcnt = kv_value(&ev, "max"); /* allocations refused by hugetlb.<size>.max */
                        kvvec_free(&ev);
                        if (r < 0)
                                return r;
                }
                s->hugetlb = silo_xrealloc(s->hugetlb, (s->n_hugetlb + 1) * sizeof(*s->hugetlb));
                s->hugetlb[s->n_hugetlb++] = e;
        }
        if (s->n_hugetlb > 1)
                qsort(s->hugetlb, s->n_hugetlb, sizeof(*s->hugetlb), hugetlb_cmp);
        return 0;
}

/* ---------------------------------------------------------------- JSON */

static void gen_str(yajl_gen g, const char *s)
{
        yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void gen_key(yajl_gen g, const char *k)
{
        gen_str(g, k);
}

static void gen_u64(yajl_gen g, uint64_t v)
{
        char buf[24];
        int n = snprintf(buf, sizeof(buf), "%" PRIu64, v);
        yajl_gen_number(g, buf, (size_t)n);
}

static void gen_kv(yajl_gen g, const char *k, uint64_t v)
{
        gen_key(g, k);
        gen_u64(g, v);
}

/* Go's omitempty on a number */
static void gen_kv_nz(yajl_gen g, const char *k, uint64_t v)
{
        if (v != 0)
                gen_kv(g, k, v);
}

static void gen_u64vec_nz(yajl_gen g, const char *k, const struct u64vec *a)
{
        if (a->n == 0)
                return;
        gen_key(g, k);
        yajl_gen_array_open(g);
        for (size_t i = 0; i < a->n; i++)
                gen_u64(g, a->v[i]);
        yajl_gen_array_close(g);
}

static void gen_psi_line(yajl_gen g, const char *k, const struct psi_line *l)
{
        static const char *const names[] = {"avg10", "avg60", "avg300"};

        gen_key(g, k);
        yajl_gen_map_open(g);
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                gen_key(g, names[i]);
                if (l->avg[i][0])
                        yajl_gen_number(g, l->avg[i], strlen(l->avg[i]));
                else
                        yajl_gen_integer(g, 0);
        }
        gen_kv(g, "total", l->total);
        yajl_gen_map_close(g);
}

static void gen_psi(yajl_gen g, const struct psi *p)
{
        if (!p->present)
                return;
        gen_key(g, "psi");
        yajl_gen_map_open(g);
        gen_psi_line(g, "some", &p->some);
        gen_psi_line(g, "full", &p->full);
        yajl_gen_map_close(g);
}

static void gen_mem_entry(yajl_gen g, const char *k, const struct mem_entry *e)
{
        gen_key(g, k);
        yajl_gen_map_open(g);
        gen_kv(g, "limit", e->limit);
        gen_kv_nz(g, "usage", e->usage);
        gen_kv_nz(g, "max", e->max);
        gen_kv(g, "failcnt", e->failcnt);
        yajl_gen_map_close(g);
}

static void gen_blkio_list(yajl_gen g, const char *k, const struct blkio_list *l)
{
        if (l->n == 0)
                return;
        gen_key(g, k);
        yajl_gen_array_open(g);
        for (size_t i = 0; i < l->n; i++) {
                yajl_gen_map_open(g);
                gen_kv_nz(g, "major", l->v[i].major);
                gen_kv_nz(g, "minor", l->v[i].minor);
                if (l->v[i].op[0]) {
                        gen_key(g, "op");
                        gen_str(g, l->v[i].op);
                }
                gen_kv_nz(g, "value", l->v[i].value);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
}

static void gen_stats(yajl_gen g, struct stats *s)
{
        yajl_gen_map_open(g);

        gen_key(g, "cpu");
        yajl_gen_map_open(g);
        gen_key(g, "usage");
        yajl_gen_map_open(g);
        gen_kv_nz(g, "total", s->cpu.total);
        gen_u64vec_nz(g, "percpu", &s->cpu.percpu);
        gen_u64vec_nz(g, "percpu_kernel", &s->cpu.percpu_kernel);
        gen_u64vec_nz(g, "percpu_user", &s->cpu.percpu_user);
        gen_kv(g, "kernel", s->cpu.kernel);
        gen_kv(g, "user", s->cpu.user);
        yajl_gen_map_close(g);
        gen_key(g, "throttling");
        yajl_gen_map_open(g);
        gen_kv_nz(g, "periods", s->cpu.periods);
        gen_kv_nz(g, "throttledPeriods", s->cpu.throttled_periods);
        gen_kv_nz(g, "throttledTime", s->cpu.throttled_time);
        yajl_gen_map_close(g);
        gen_psi(g, &s->cpu.psi);
        yajl_gen_map_close(g);

        gen_key(g, "cpuset");
        yajl_gen_map_open(g);
        gen_u64vec_nz(g, "cpus", &s->cpuset.cpus);
        gen_kv(g, cpuset_flag_keys[0], s->cpuset.flags[0]);
        gen_u64vec_nz(g, "mems", &s->cpuset.mems);
        for (size_t i = 1; i < ARRAY_SIZE(cpuset_flag_keys); i++)
                gen_kv(g, cpuset_flag_keys[i], s->cpuset.flags[i]);
        gen_key(g, "sched_relax_domain_level");
        yajl_gen_integer(g, s->cpuset.relax_domain_level);
        yajl_gen_map_close(g);

        gen_key(g, "memory");
        yajl_gen_map_open(g);
        gen_kv_nz(g, "cache", s->memory.cache);
        gen_mem_entry(g, "usage", &s->memory.usage);
        gen_mem_entry(g, "swap", &s->memory.swap);
        gen_mem_entry(g, "kernel", &s->memory.kernel);
        gen_mem_entry(g, "kernelTCP", &s->memory.kernel_tcp);
        if (s->memory.raw.n > 0) {
                qsort(s->memory.raw.v, s->memory.raw.n, sizeof(*s->memory.raw.v), kv_cmp);
                gen_key(g, "raw");
                yajl_gen_map_open(g);
                for (size_t i = 0; i < s->memory.raw.n; i++)
                        gen_kv(g, s->memory.raw.v[i].key, s->memory.raw.v[i].value);
                yajl_gen_map_close(g);
        }
        gen_psi(g, &s->memory.psi);
        yajl_gen_map_close(g);

        gen_key(g, "pids");
        yajl_gen_map_open(g);
        gen_kv_nz(g, "current", s->pids.current);
        gen_kv_nz(g, "limit", s->pids.limit);
        yajl_gen_map_close(g);

        gen_key(g, "blkio");
        yajl_gen_map_open(g);
        gen_blkio_list(g, "ioServiceBytesRecursive", &s->blkio.service_bytes);
        gen_blkio_list(g, "ioServicedRecursive", &s->blkio.serviced);
        gen_psi(g, &s->blkio.psi);
        yajl_gen_map_close(g);

        gen_key(g, "hugetlb");
        yajl_gen_map_open(g);
        for (size_t i = 0; i < s->n_hugetlb; i++) {
                gen_key(g, s->hugetlb[i].size);
                yajl_gen_map_open(g);
                gen_kv_nz(g, "usage", s->hugetlb[i].usage);
                gen_kv_nz(g, "max", s->hugetlb[i].max);
                gen_kv(g, "failcnt", s->hugetlb[i].failcnt);
                yajl_gen_map_close(g);
        }
        yajl_gen_map_close(g);

        /* what runc always emits for an OCI container: no RDT group, no veth interfaces */
        gen_key(g, "intel_rdt");
        yajl_gen_map_open(g);
        yajl_gen_map_close(g);
        gen_key(g, "network_interfaces");
        yajl_gen_null(g);

        yajl_gen_map_close(g);
}

int silo_cgroup_stats_json(struct silo_cgroup *cg, char **ret_json, silo_error_t *err)
{
        struct stats s = {0};
        const unsigned char *buf = NULL;
        size_t len = 0;
        yajl_gen g;
        int r;

        if (!cgroup_exists(cg))
                return silo_error_set(err, ENOENT, "cgroup '%s' does not exist", cg->path);
        if ((r = stat_cpu(cg, &s, err)) < 0 || (r = stat_cpuset(cg, &s, err)) < 0 ||
            (r = stat_memory(cg, &s, err)) < 0 || (r = stat_pids(cg, &s, err)) < 0 ||
            (r = stat_blkio(cg, &s, err)) < 0 || (r = stat_hugetlb(cg, &s, err)) < 0) {
                stats_free(&s);
                return silo_error_wrap(err, "stats of cgroup '%s'", cg->path);
        }
        g = yajl_gen_alloc(NULL);
        if (g == NULL)
                abort();
        gen_stats(g, &s);
        stats_free(&s);
        if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok) {
                yajl_gen_free(g);
                return silo_error_set(err, EINVAL, "stats of cgroup '%s': cannot generate JSON", cg->path);
        }
        *ret_json = silo_xmalloc0(len + 1);
        memcpy(*ret_json, buf, len);
        yajl_gen_free(g);
        return 0;
}

/* ---------------------------------------------------------------- OOM */

int silo_cgroup_oom_fd(struct silo_cgroup *cg, int *ret_fd, silo_error_t *err)
{
        const char *d = v1_dir(cg, "memory"), *u = unified_dir(cg);
        _cleanup_close_ int fd = -1, ctl = -1;
        _cleanup_free_ char *path = NULL;

        if (!cgroup_exists(cg))
                return silo_error_set(err, ENOENT, "cgroup '%s' does not exist", cg->path);
        if (d) {
                int r;

                /* cgroup v1 notification API: "<eventfd> <fd of memory.oom_control>"; the kernel
                 * keeps the registration until the eventfd is closed or the cgroup removed */
                path = silo_xasprintf("%s/memory.oom_control", d);
                ctl = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (ctl < 0)
                        return silo_error_set(err, errno, "open '%s'", path);
                fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                if (fd < 0)
                        return silo_error_set(err, errno, "eventfd");
                r = silo_cg_writef(d, "cgroup.event_control", NULL, err, "%d %d", fd, ctl);
                if (r < 0)
                        return r;
                *ret_fd = TAKE_FD(fd);
                return 0;
        }
        if (u == NULL || !silo_cg_has(u, "memory.events"))
                return silo_error_set(err, EOPNOTSUPP, "cgroup '%s': no memory controller, no OOM events",
                                      cg->path);
        /* memory.events is modified (kernfs_notify) whenever one of its counters moves */
        path = silo_xasprintf("%s/memory.events", u);
        fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (fd < 0)
                return silo_error_set(err, errno, "inotify_init1");
        if (inotify_add_watch(fd, path, IN_MODIFY) < 0)
                return silo_error_set(err, errno, "inotify_add_watch '%s'", path);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int silo_cgroup_oom_check(struct silo_cgroup *cg, int fd, uint64_t *last, silo_error_t *err)
{
        const char *d = v1_dir(cg, "memory"), *u = unified_dir(cg);
        struct kvvec kv = {0};
        uint64_t n = 0;
        int r;

        if (d) {
                if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n)) {
                        if (errno != EAGAIN && errno != EINTR)
                                return silo_error_set(err, errno, "read OOM eventfd of cgroup '%s'",
                                                      cg->path);
                        n = 0;
                }
                /* the kernel also signals the eventfd when the cgroup is removed (after the
                 * rmdir), so a count with the directory gone is not an OOM */
                if (!silo_cg_has(d, "cgroup.event_control"))
                        return silo_error_set(err, ENOENT, "cgroup '%s' does not exist", cg->path);
                /* the notification comes as the OOM starts, before the kill: memory.oom_control's
                 * oom_kill counter may not have moved yet, so *last is not used here */
                return n > 0;
        }
        if (u == NULL)
                return silo_error_set(err, EOPNOTSUPP, "cgroup '%s': no memory controller, no OOM events",
                                      cg->path);
        /* drain the inotify queue; the events themselves carry no information */
        for (;;) {
                char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
                ssize_t k = read(fd, buf, sizeof(buf));
                if (k > 0)
                        continue;
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno != EAGAIN)
                        return silo_error_set(err, errno, "read OOM inotify fd of cgroup '%s'", cg->path);
                break;
        }
        r = read_kv_file(u, "memory.events", &kv, err);
        if (r < 0)
                return r;
        if (r == 0) {
                kvvec_free(&kv);
                return silo_error_set(err, ENOENT, "cgroup '%s' does not exist", cg->path);
        }
        n = kv_value(&kv, "oom_kill");
        kvvec_free(&kv);
        r = n > *last;
        *last = n;
        return r;
}
